"""A globalised Newton method on sparse systems, as a pure function returning a result object.

Contract: ``newton(fun, x0, options=..., linear_solver=...)`` where ``fun(x, jacobian=True)`` returns
``(F, J)`` (J whatever the linear solver takes: a scipy sparse matrix, or a structured Jacobian) and
``fun(x, jacobian=False)`` returns ``(F, None)``. Residuals are expected to be scaled so that
``max|F| <= tol`` means converged. Linear solvers are injected strategies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

F64 = NDArray[np.float64]
Fun = Callable[[F64, bool], tuple[F64, Any]]


class LinearSolver(Protocol):
    """Strategy solving J x = b for one Newton step (J as returned by the residual function)."""

    def solve(self, J: Any, b: F64) -> F64: ...


class NewtonStatus(StrEnum):
    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    SINGULAR = "singular"
    STALLED = "stalled"


@dataclass(frozen=True)
class SuperLU:
    """Sparse LU (SuperLU through scipy) with a fill-reducing column ordering."""

    permc_spec: str = "COLAMD"

    def solve(self, J: Any, b: F64) -> F64:
        """Solve J x = b; J is a scipy sparse matrix or anything with ``tocsc()``."""
        lu = spla.splu(sp.csc_matrix(J.tocsc()), permc_spec=self.permc_spec)
        return lu.solve(b)


@dataclass(frozen=True)
class NewtonOptions:
    tol: float = 1e-11
    max_iter: int = 60
    line_search: bool = True
    armijo: float = 1e-4
    min_step: float = 1.0 / 1024.0


@dataclass
class NewtonResult:
    x: F64
    status: NewtonStatus
    iterations: int
    residual_history: list[float] = field(default_factory=list)
    message: str = ""

    @property
    def converged(self) -> bool:
        return self.status is NewtonStatus.CONVERGED


def newton(
    fun: Fun,
    x0: F64,
    *,
    options: NewtonOptions = NewtonOptions(),
    linear_solver: LinearSolver = SuperLU(),
) -> NewtonResult:
    """Newton's method with backtracking (Armijo) line search on 0.5 ||F||^2."""
    x = np.array(x0, dtype=float)
    F, J = fun(x, True)
    history = [float(np.max(np.abs(F))) if F.size else 0.0]
    for it in range(1, options.max_iter + 1):
        if history[-1] <= options.tol:
            return NewtonResult(x, NewtonStatus.CONVERGED, it - 1, history)
        assert J is not None
        try:
            with np.errstate(all="ignore"):
                dx = linear_solver.solve(J, -F)
        except RuntimeError as exc:  # "Factor is exactly singular"
            return NewtonResult(x, NewtonStatus.SINGULAR, it - 1, history, str(exc))
        if not np.all(np.isfinite(dx)):
            return NewtonResult(x, NewtonStatus.SINGULAR, it - 1, history, "non-finite Newton step")
        f0 = 0.5 * float(F @ F)
        t = 1.0
        while True:
            x_new = x + t * dx
            # the full step is accepted almost always: evaluate its Jacobian with it (costs little extra)
            F_new, J_new = fun(x_new, t == 1.0)
            f_new = 0.5 * float(F_new @ F_new)
            if not options.line_search or f_new <= (1.0 - 2.0 * options.armijo * t) * f0 or t <= options.min_step:
                break
            t *= 0.5
        x = x_new
        F, J = (F_new, J_new) if J_new is not None else fun(x, True)
        history.append(float(np.max(np.abs(F))))
        if t <= options.min_step and history[-1] >= history[-2] * (1 - 1e-12) and it > 5:
            return NewtonResult(x, NewtonStatus.STALLED, it, history, "line search could not reduce the residual")
    status = NewtonStatus.CONVERGED if history[-1] <= options.tol else NewtonStatus.MAX_ITER
    return NewtonResult(x, status, options.max_iter, history)
