"""Time-integration schemes as small frozen strategy objects.

Contract: a scheme turns ``d/dt M(x) = F(x, t)`` into one nonlinear system per step,

    M(x_{n+1}) - sum_k alpha_k M(x_{n-k}) = dt (beta0 F(x_{n+1}) + sum_k beta_k F(x_{n-k}))

(:class:`Coefficients`), applied to the differential rows; algebraic rows are always enforced at t_{n+1}.
Every scheme declares its order of convergence, and the tests check it. Multistep schemes start with
the lower-order member of their family. The scheme object holds no state: the history lives in the stepper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from gasgrid.errors import InputError


@dataclass(frozen=True)
class Coefficients:
    """Weights of one step: ``alpha`` on past M, ``beta0`` on F at t_{n+1}, ``beta`` on past F."""

    alpha: tuple[float, ...]
    beta0: float
    beta: tuple[float, ...]
    explicit_storage: bool = False  # mass balances take the pipe-face flows of t_n (explicit schemes)


class Scheme(Protocol):
    """What :func:`gasgrid.transient.simulate` needs from an implicit scheme."""

    name: ClassVar[str]
    implicit: ClassVar[bool]

    @property
    def order(self) -> int: ...

    def coefficients(self, dts: tuple[float, ...]) -> Coefficients:
        """Weights for the step ``dts[0]`` given previous step sizes ``dts[1:]`` (most recent first)."""
        ...


@dataclass(frozen=True)
class ImplicitEuler:
    """Backward Euler: first order, L-stable; damps the fast acoustic waves strongly."""

    name: ClassVar[str] = "implicit_euler"
    implicit: ClassVar[bool] = True

    @property
    def order(self) -> int:
        return 1

    def coefficients(self, dts: tuple[float, ...]) -> Coefficients:
        return Coefficients(alpha=(1.0,), beta0=1.0, beta=(0.0,))


@dataclass(frozen=True)
class BDF2:
    """Second-order backward differentiation formula (variable step), started with one backward-Euler step.

    A-stable and stiffly accurate, so the algebraic rows (compressor set points, zero-volume nodes) are safe.
    """

    name: ClassVar[str] = "bdf2"
    implicit: ClassVar[bool] = True

    @property
    def order(self) -> int:
        return 2

    def coefficients(self, dts: tuple[float, ...]) -> Coefficients:
        if len(dts) < 2:
            return ImplicitEuler().coefficients(dts)
        w = dts[0] / dts[1]
        d = 1.0 + 2.0 * w
        return Coefficients(alpha=((1.0 + w) ** 2 / d, -(w * w) / d), beta0=(1.0 + w) / d, beta=(0.0, 0.0))


@dataclass(frozen=True)
class Theta:
    """The theta method on the differential rows: theta = 0.5 is Crank–Nicolson (second order, not damping
    the acoustic waves), theta = 1 is backward Euler; 0.5 < theta < 1 trades accuracy for damping."""

    theta: float = 0.5
    name: ClassVar[str] = "theta"
    implicit: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not (0.5 <= self.theta <= 1.0):
            raise InputError(f"theta must be in [0.5, 1] for stability, got {self.theta!r}", kind="scheme",
                             field="theta")

    @property
    def order(self) -> int:
        return 2 if self.theta == 0.5 else 1

    def coefficients(self, dts: tuple[float, ...]) -> Coefficients:
        return Coefficients(alpha=(1.0,), beta0=self.theta, beta=(1.0 - self.theta,))


@dataclass(frozen=True)
class ExplicitStaggered:
    """Explicit staggered scheme for fast transients (forward-backward Euler, as in Gyrya & Zlotnik 2019):
    every mass balance takes the pipe-face flows of t_n (so pressures inside pipes advance explicitly), then
    the momentum balances (with implicit friction), the non-pipe arcs, supplies and demands are solved at
    t_{n+1}; each flow enters every balance at one time level, so mass is conserved exactly. First order;
    stable only for dt <= courant * h / c in every pipe (checked before the run, :class:`InputError`
    otherwise). Needs ``inertia=True``."""

    courant: float = 0.9
    name: ClassVar[str] = "explicit_staggered"
    implicit: ClassVar[bool] = True  # runs on the same Newton machinery (the explicit rows are diagonal)
    explicit: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not (0.0 < self.courant <= 1.0):
            raise InputError(f"courant must be in (0, 1], got {self.courant!r}", kind="scheme", field="courant")

    @property
    def order(self) -> int:
        return 1

    def coefficients(self, dts: tuple[float, ...]) -> Coefficients:
        return Coefficients(alpha=(1.0,), beta0=1.0, beta=(0.0,), explicit_storage=True)


SCHEMES: dict[str, type] = {"implicit_euler": ImplicitEuler, "bdf2": BDF2, "theta": Theta,
                            "explicit_staggered": ExplicitStaggered}
