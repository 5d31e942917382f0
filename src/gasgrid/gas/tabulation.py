"""Tabulated Z(p) at fixed temperature for expensive equations of state.

Contract: :class:`ZTable` is a cubic Hermite spline of Z over a uniform pressure grid 0, h, 2h, ... whose node
values *and* slopes come from the exact equation, so that both Z and dZ/dp come from one C1 piecewise cubic.
:func:`build_table` halves h until the spline matches the exact equation at every interval midpoint within
``tol`` (relative), which bounds the interpolation error (the Hermite error term peaks at the midpoint).
Below p = 0 the table continues linearly, Z = 1 + (dZ/dp)(0) p: not physical, but smooth and finite, so a
Newton iterate that overshoots gets an answer and the solver, not the gas model, decides what to do with it.

:class:`TableCache` keeps one table per (equation, composition, temperature) outside the :class:`Gas` value
object, so gases stay immutable and picklable; a table is built on first use and extended on demand.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gasgrid.errors import ConvergenceError

FloatArray = NDArray[np.float64]
ExactZ = Callable[[FloatArray], tuple[FloatArray, FloatArray]]  # p [Pa] > 0 -> (Z, dZ/dp [1/Pa])

DEFAULT_P_MAX = 30e6  # Pa
DEFAULT_TOL = 2e-8  # relative error of Z at the interval midpoints
INITIAL_STEP = 1e5  # Pa
MAX_HALVINGS = 8  # smallest step 1e5 / 256 = 390 Pa
P_GROWTH_CAP = 280e6  # Pa: on-demand growth beyond the pressure asked for stops here (AGA8's extended range)


@dataclass(frozen=True)
class ZTable:
    """Cubic Hermite table of Z(p) on nodes p_k = k h, k = 0..n-1, at one temperature.

    Attributes: h [Pa], z and dz (node values of Z and dZ/dp [1/Pa]), coef (4 x (n-1) per-interval
    coefficients of Z = c0 + c1 t + c2 t^2 + c3 t^3 with t = p/h - k), max_error (largest relative midpoint
    error found).
    """

    h: float
    z: FloatArray
    dz: FloatArray
    coef: FloatArray
    max_error: float

    @property
    def p_max(self) -> float:
        """Highest tabulated pressure, Pa."""
        return self.h * (self.z.size - 1)

    @classmethod
    def from_nodes(cls, h: float, z: FloatArray, dz: FloatArray, max_error: float) -> ZTable:
        z0, z1 = z[:-1], z[1:]
        d0, d1 = dz[:-1] * h, dz[1:] * h
        coef = np.vstack([z0, d0, 3.0 * (z1 - z0) - 2.0 * d0 - d1, 2.0 * (z0 - z1) + d0 + d1])
        return cls(h=h, z=z, dz=dz, coef=coef, max_error=max_error)

    def evaluate(self, p: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Z and dZ/dp [1/Pa] at p [Pa] <= p_max (linear continuation below 0, NaN stays NaN)."""
        p = np.asarray(p, dtype=float)
        finite = np.isfinite(p)
        all_finite = bool(finite.all())
        pc = p if all_finite else np.where(finite, p, 0.0)
        s = np.maximum(pc, 0.0) / self.h
        k = np.minimum(s.astype(np.intp), self.coef.shape[1] - 1)
        t = s - k
        c0, c1, c2, c3 = (np.take(row, k) for row in self.coef)  # np.take: much faster than fancy indexing
        z = c0 + t * (c1 + t * (c2 + t * c3))
        dz = (c1 + t * (2.0 * c2 + 3.0 * t * c3)) / self.h
        below = pc < 0.0
        if np.any(below):
            z = np.where(below, 1.0 + self.dz[0] * pc, z)
            dz = np.where(below, self.dz[0], dz)
        if not all_finite:
            z = np.where(finite, z, np.nan)
            dz = np.where(finite, dz, np.nan)
        return z, dz


def _midpoint_error(h: float, z: FloatArray, dz: FloatArray, z_mid: FloatArray) -> float:
    """Largest relative difference between the Hermite cubic and the exact Z at the interval midpoints."""
    hermite_mid = 0.5 * (z[:-1] + z[1:]) + 0.125 * h * (dz[:-1] - dz[1:])
    return float(np.max(np.abs(hermite_mid / z_mid - 1.0)))


def _interleave(nodes: FloatArray, mids: FloatArray) -> FloatArray:
    out = np.empty(2 * nodes.size - 1)
    out[0::2] = nodes
    out[1::2] = mids
    return out


def build_table(
    exact: ExactZ, slope0: float, p_max: float = DEFAULT_P_MAX, *, tol: float = DEFAULT_TOL, what: str = "Z(p)"
) -> ZTable:
    """Tabulate Z(p) on [0, p_max]; node 0 is Z = 1 with slope ``slope0`` = B/(R T) [1/Pa].

    Halves the step (reusing every node already computed) until the midpoint error is below ``tol``; raises
    ConvergenceError if Z(p) is not smooth enough even at the finest step (a phase boundary, typically).
    """
    h = INITIAL_STEP
    n = max(2, math.ceil(p_max / h) + 1)
    p = np.arange(1, n, dtype=np.float64) * h
    z_in, dz_in = exact(p)
    z = np.concatenate([[1.0], z_in])
    dz = np.concatenate([[slope0], dz_in])
    for _ in range(MAX_HALVINGS + 1):
        p_mid = (np.arange(z.size - 1, dtype=np.float64) + 0.5) * h
        z_mid, dz_mid = exact(p_mid)
        err = _midpoint_error(h, z, dz, z_mid)
        if err <= tol:
            return ZTable.from_nodes(h, z, dz, err)
        # refine: interleave the midpoints, which are exact nodes already
        z, dz, h = _interleave(z, z_mid), _interleave(dz, dz_mid), h / 2.0
    raise ConvergenceError(
        f"{what} could not be tabulated to {tol:g} (relative) with a step of {2 * h:g} Pa: the equation of "
        "state is not smooth in this range (two-phase region or outside its validity); use fewer/other "
        "temperatures or a cheaper equation of state"
    )


def extend_table(table: ZTable, exact: ExactZ, p_needed: float, *, tol: float = DEFAULT_TOL,
                 what: str = "Z(p)") -> ZTable | None:  # fmt: skip
    """The table extended with nodes at the same step up to at least ``p_needed`` (and 1.5 x its old range, up to
    :data:`P_GROWTH_CAP`);
    None if the new part fails the midpoint check (the caller then rebuilds with a finer step)."""
    h = table.h
    n_old = table.z.size
    p_target = max(p_needed, min(1.5 * table.p_max, P_GROWTH_CAP))
    n_new = math.ceil(p_target / h) + 1
    p = np.arange(n_old, n_new, dtype=np.float64) * h
    z_new, dz_new = exact(p)
    z = np.concatenate([table.z, z_new])
    dz = np.concatenate([table.dz, dz_new])
    p_mid = (np.arange(n_old - 1, n_new - 1, dtype=np.float64) + 0.5) * h
    z_mid, _ = exact(p_mid)
    err = _midpoint_error(h, z[n_old - 1 :], dz[n_old - 1 :], z_mid)
    if err > tol:
        return None
    return ZTable.from_nodes(h, z, dz, max(err, table.max_error))


class TableCache:
    """Thread-safe LRU of :class:`ZTable` by key (equation, composition, temperature)."""

    def __init__(self, max_tables: int = 256) -> None:
        self.max_tables = max_tables
        self._tables: OrderedDict[Hashable, ZTable] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._tables)

    def clear(self) -> None:
        """Drop every table (they are rebuilt on demand)."""
        with self._lock:
            self._tables.clear()

    def get(self, key: Hashable) -> ZTable | None:
        """The table for ``key`` if built, else None."""
        with self._lock:
            return self._tables.get(key)

    def table(self, key: Hashable, exact: ExactZ, slope0: Callable[[], float], p_needed: float,
              what: str = "Z(p)") -> ZTable:  # fmt: skip
        """The table for ``key`` covering [0, p_needed], built or extended as needed."""
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
        if table is None:
            table = build_table(exact, slope0(), max(DEFAULT_P_MAX, p_needed), what=what)
        elif p_needed > table.p_max:
            extended = extend_table(table, exact, p_needed, what=what)
            if extended is None:
                extended = build_table(exact, slope0(), max(p_needed, min(1.5 * p_needed, P_GROWTH_CAP)), what=what)
            table = extended
        with self._lock:
            self._tables[key] = table
            self._tables.move_to_end(key)
            while len(self._tables) > self.max_tables:
                self._tables.popitem(last=False)
        return table


CACHE = TableCache()
