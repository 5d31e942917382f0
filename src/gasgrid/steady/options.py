"""Typed, closed options of the steady solver (an unknown keyword is a TypeError)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gasgrid.steady.newton import LinearSolver


class InitialGuess(StrEnum):
    PICARD = "picard"  # two linearised solves from flat pressures (default)
    FLAT = "flat"  # reference pressure everywhere, zero flow


@dataclass(frozen=True, kw_only=True)
class SteadyOptions:
    """Options of :func:`gasgrid.steady.solve_steady`.

    Attributes:
        tol: convergence tolerance on the scaled residual (flows relative to the throughput, squared
            pressures relative to the largest reference pressure squared).
        max_iter: Newton iteration limit.
        line_search: Armijo backtracking on the residual norm.
        initial_guess: how to start when no previous state is given.
        bound_tol_bar: pressure bounds are reported as violated beyond this margin, bar.
        flow_tol_kg_s: flow bounds (contracts, regulators) are reported beyond this margin, kg/s.
        linear_solver: linear solver strategy for the Newton step, any object with ``solve(J, b)`` (None: nodal
            elimination of pipe, resistor and pump flows, then SuperLU: :class:`gasgrid.steady.nodal.NodalLU`).
        controllers: apply station/regulator limits and mode overrides (outer loop).
        max_control_iter: outer-loop limit for mode switching.
    """

    tol: float = 1e-11
    max_iter: int = 60
    line_search: bool = True
    initial_guess: InitialGuess = InitialGuess.PICARD
    bound_tol_bar: float = 1e-6
    flow_tol_kg_s: float = 1e-6
    linear_solver: LinearSolver | None = None  # None: NodalLU
    controllers: bool = True
    max_control_iter: int = 30

    def __post_init__(self) -> None:
        from gasgrid.errors import InputError

        if not (0 < self.tol < 1e-3):
            raise InputError(f"must be in (0, 1e-3), got {self.tol!r}", kind="SteadyOptions", field="tol")
        if self.max_iter < 1:
            raise InputError(f"must be >= 1, got {self.max_iter!r}", kind="SteadyOptions", field="max_iter")
        if not isinstance(self.initial_guess, InitialGuess):
            object.__setattr__(self, "initial_guess", InitialGuess(self.initial_guess))
