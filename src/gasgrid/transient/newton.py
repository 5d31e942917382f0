"""Newton's method with an optionally frozen (chord) Jacobian, for one implicit time step.

Contract: :func:`newton` is pure: it takes callables for the residual and the Jacobian, a starting point, a
linear solver (:mod:`gasgrid.transient.linear`) and an optional factorisation to reuse, and returns a
:class:`NewtonResult` (solution, iterations, history, status, and the factorisation it ended with so the caller
can pass it to the next step). Convergence is measured on the update scaled by ``scale`` (per unknown), in the
max norm.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gasgrid.errors import InputError
from gasgrid.transient.kernels import scaled_max
from gasgrid.transient.linear import Factorization, LinearSolver, SparseLU

F64 = NDArray[np.float64]


class NewtonStatus(Enum):
    CONVERGED = "converged"
    DIVERGED = "diverged"
    MAX_ITER = "max_iter"
    SINGULAR = "singular"


@dataclass(frozen=True)
class NewtonOptions:
    """Newton settings.

    Attributes:
        tol: convergence when the scaled update max |dx_i| / scale_i, or the error left after it as estimated
            from the observed contraction rate (Hairer & Wanner's rate / (1 - rate) |dx|), is below tol (scale:
            pressure level for pressures, flow level for flows).
        max_iter: iterations per step before giving up.
        chord: reuse the last LU factorisation (also across time steps) while it contracts fast enough;
            refactorise otherwise. Much faster for slow transients; same converged solution.
        max_contraction: with ``chord``, refactorise when ||dx_k|| / ||dx_{k-1}|| exceeds this.
    """

    tol: float = 1e-10
    max_iter: int = 30
    chord: bool = True
    max_contraction: float = 0.3

    def __post_init__(self) -> None:
        if not (0.0 < self.tol < 1.0):
            raise InputError(f"must be in (0, 1), got {self.tol!r}", kind="NewtonOptions", field="tol")
        if self.max_iter < 1:
            raise InputError(f"must be >= 1, got {self.max_iter!r}", kind="NewtonOptions", field="max_iter")
        if not (0.0 < self.max_contraction < 1.0):
            raise InputError(f"must be in (0, 1), got {self.max_contraction!r}", kind="NewtonOptions",
                             field="max_contraction")


_SPARSE_LU = SparseLU()


@dataclass
class NewtonResult:
    """Outcome of one Newton solve."""

    x: F64
    status: NewtonStatus
    iterations: int
    factorizations: int
    update_norms: list[float] = field(default_factory=list)
    lu: Factorization | None = None

    @property
    def converged(self) -> bool:
        return self.status is NewtonStatus.CONVERGED


def newton(
    residual: Callable[[F64], F64],
    jacobian: Callable[[F64], sp.csc_matrix],
    x0: F64,
    *,
    scale: F64,
    options: NewtonOptions = NewtonOptions(),
    lu: Factorization | None = None,
    linear_solver: LinearSolver = _SPARSE_LU,
) -> NewtonResult:
    """Solve residual(x) = 0 from x0. ``lu`` is a factorisation (by ``linear_solver``) to start with, or None."""
    x = np.array(x0, dtype=float)
    inv_scale = 1.0 / scale

    def _factor(J: sp.csc_matrix) -> tuple[Factorization | None, bool]:
        f = linear_solver.factor(J)
        return f, f is not None

    nfact = 0
    age = 0  # iterations since the factorisation was computed at the then-current x
    if lu is None or not options.chord:
        lu, ok = _factor(jacobian(x))
        nfact += 1
        if not ok:
            return NewtonResult(x, NewtonStatus.SINGULAR, 0, nfact, [], None)
    else:
        age = 1  # inherited from an earlier step
    norms: list[float] = []
    it = 0
    while it < options.max_iter:
        it += 1
        dx = lu.solve(-residual(x))
        nrm = float(scaled_max(dx, inv_scale))
        if not math.isfinite(nrm):
            return NewtonResult(x, NewtonStatus.DIVERGED, it, nfact, norms, None)
        if norms and nrm > norms[-1] and age > 0:
            lu, ok = _factor(jacobian(x))  # a stale Jacobian made things worse: refactorise, retry
            nfact += 1
            age = 0
            if not ok:
                return NewtonResult(x, NewtonStatus.SINGULAR, it, nfact, norms, None)
            continue
        x += dx
        norms.append(nrm)
        age += 1
        if nrm < options.tol:
            return NewtonResult(x, NewtonStatus.CONVERGED, it, nfact, norms, lu)
        if len(norms) > 1 and norms[-2] > 0:
            rate = nrm / norms[-2]
            if rate < 0.5 and rate / (1.0 - rate) * nrm < options.tol:  # remaining error of a contraction
                return NewtonResult(x, NewtonStatus.CONVERGED, it, nfact, norms, lu)
        slow = len(norms) > 1 and nrm > options.max_contraction * norms[-2]
        if not options.chord or slow:
            lu, ok = _factor(jacobian(x))
            nfact += 1
            age = 0
            if not ok:
                return NewtonResult(x, NewtonStatus.SINGULAR, it, nfact, norms, None)
    return NewtonResult(x, NewtonStatus.MAX_ITER, it, nfact, norms, None)

