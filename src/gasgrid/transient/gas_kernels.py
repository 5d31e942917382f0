"""Gas properties for the transient kernels: Z(p, T), density, and compressor-station power, compiled by numba.

Contract: :class:`GasKernel` evaluates density rho [kg/m^3] and d rho / d p [s^2/m^2] at many (pressure, temperature
index) points in one compiled call, with exactly the equations of :meth:`gasgrid.gas.Gas.z_and_dz_dp`: ideal gas,
Papay and CNGA in closed form, and the reference equations (AGA8 DETAIL/GROSS, GERG-2008) through the same cached
cubic-Hermite tables :func:`gasgrid.gas.reference.table_for` gives the steady solver (fetched once, extended when a
pressure exceeds them, as the Python path does). With more than ``MAX_TABULATED_TEMPERATURES`` distinct
temperatures the Python path evaluates the exact equation point by point; so does this one (no kernel then).

:class:`StationKernel` is :func:`gasgrid.physics.compressor.station_power` for many stations at once (head, shaft
power, fuel, derivatives), with the isentropic exponent of AGA8 DETAIL taken from a cubic spline in p per
suction temperature, built once per run from the exact values and accurate to ``KAPPA_TOL`` (relative): the
exact evaluation costs milliseconds per call, and the fuel is needed at every time step. The tests check both
against the physics functions.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from gasgrid.gas import EOS, Gas
from gasgrid.transient._jit import JIT
from gasgrid.units import PSI

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

Z_IDEAL, Z_PAPAY, Z_CNGA, Z_TABLE, Z_PYTHON = 0, 1, 2, 3, 4
KAPPA_TOL = 1e-10  # relative error of the isentropic-exponent spline at its interval midpoints
_KAPPA_STEP0 = 5e4  # Pa: first spline step (halved until KAPPA_TOL holds; enough for natural gas)
_KAPPA_HALVINGS = 6



# --- compiled pieces ------------------------------------------------------------------------------------
@numba.njit(**JIT)
def z_closed_form(p: float, kind: int, a: float, b: float, c: float) -> tuple[float, float]:
    """Z and dZ/dp [1/Pa] of the closed-form models: ideal; Papay (a, b: the temperature terms, c = p_c);
    CNGA (a: the temperature and gravity term)."""
    if kind == Z_IDEAL:
        return 1.0, 0.0
    if kind == Z_PAPAY:
        pr = p / c
        return 1.0 - a * pr + b * pr * pr, (-a + 2.0 * b * pr) / c
    denom = 1.0 + a * ((p - 101_325.0) / PSI)
    return 1.0 / denom, -a / PSI / (denom * denom)


@numba.njit(**JIT)
def hermite_interval(p: float, inv_h: float, n_int: int) -> tuple[int, float, bool]:
    """Interval k and local coordinate t of p >= 0 in a table of step 1 / inv_h [Pa] with n_int intervals
    (:class:`gasgrid.gas.tabulation.ZTable`), and whether p lies beyond the table."""
    s = p * inv_h
    k = min(int(s), n_int - 1)
    return k, s - k, s > n_int


@numba.njit(**JIT)
def hermite_value(t: float, inv_h: float, a0: float, a1: float, a2: float, a3: float) -> tuple[float, float]:
    """Z and dZ/dp [1/Pa] of one table interval at local coordinate t."""
    return a0 + t * (a1 + t * (a2 + t * a3)), (a1 + t * (2.0 * a2 + 3.0 * t * a3)) * inv_h


@numba.njit(**JIT)
def z_point(p: float, ti: int, kind: int, par: F64, coef: F64, off: I64, h: F64, dz0: F64) -> tuple[float, float, bool]:
    """Z, dZ/dp [1/Pa] at p [Pa] for temperature index ti, and whether p lies beyond ti's table."""
    if kind != Z_TABLE:
        z, dz = z_closed_form(p, kind, par[3 * ti], par[3 * ti + 1], par[3 * ti + 2])
        return z, dz, False
    if not math.isfinite(p):  # NaN stays NaN; the tables continue linearly below zero
        return math.nan, math.nan, False
    if p < 0.0:
        return 1.0 + dz0[ti] * p, dz0[ti], False
    inv_h = 1.0 / h[ti]
    k, t, beyond = hermite_interval(p, inv_h, off[ti + 1] - off[ti])
    j = off[ti] + k
    z, dz = hermite_value(t, inv_h, coef[0, j], coef[1, j], coef[2, j], coef[3, j])
    return z, dz, beyond


@numba.njit(**JIT)
def densities(x: F64, var: I64, tidx: I64, single: int, RT: F64, kind: int, par: F64, coef: F64, off: I64, h: F64,
              dz0: F64, rho: F64, drho: F64) -> float:
    """rho and d rho / d p at the points (x[var[i]], T index tidx[i]) into rho, drho (``single`` >= 0: every point
    has that T index); returns the largest pressure beyond its table (0.0 when the tables covered every pressure).
    The loop body repeats :func:`z_point` (array arguments to a per-point call would cost reference counting)."""
    if single >= 0 and kind == Z_TABLE:
        return _densities_one_table(x, var, RT[single], coef[0, off[single]:off[single + 1]],
                                    coef[1, off[single]:off[single + 1]], coef[2, off[single]:off[single + 1]],
                                    coef[3, off[single]:off[single + 1]], h[single], dz0[single], rho, drho)
    over = 0.0
    inv_rt = 1.0 / RT
    inv_h = 1.0 / h
    for i in range(var.size):
        p = x[var[i]]
        ti = tidx[i]
        if kind != Z_TABLE:
            z, dz = z_closed_form(p, kind, par[3 * ti], par[3 * ti + 1], par[3 * ti + 2])
        elif not math.isfinite(p):
            z, dz = math.nan, math.nan
        elif p < 0.0:
            z, dz = 1.0 + dz0[ti] * p, dz0[ti]
        else:
            k, t, beyond = hermite_interval(p, inv_h[ti], off[ti + 1] - off[ti])
            j = off[ti] + k
            z, dz = hermite_value(t, inv_h[ti], coef[0, j], coef[1, j], coef[2, j], coef[3, j])
            if beyond:
                over = max(over, p)
        inv_z = 1.0 / z
        w = inv_rt[ti] * inv_z
        rho[i] = p * w
        drho[i] = (1.0 - p * dz * inv_z) * w
    return over


@numba.njit(**JIT)
def _densities_one_table(x: F64, var: I64, RT: float, c0: F64, c1: F64, c2: F64, c3: F64, h: float, dz0: float,
                         rho: F64, drho: F64) -> float:
    """:func:`densities` for points at one temperature with a table (the usual isothermal network)."""
    over = 0.0
    inv_rt = 1.0 / RT
    inv_h = 1.0 / h
    n_int = c0.size
    for i in range(var.size):
        p = x[var[i]]
        if not math.isfinite(p):
            z, dz = math.nan, math.nan
        elif p < 0.0:
            z, dz = 1.0 + dz0 * p, dz0
        else:
            k, t, beyond = hermite_interval(p, inv_h, n_int)
            z, dz = hermite_value(t, inv_h, c0[k], c1[k], c2[k], c3[k])
            if beyond:
                over = max(over, p)
        inv_z = 1.0 / z
        w = inv_rt * inv_z
        rho[i] = p * w
        drho[i] = (1.0 - p * dz * inv_z) * w
    return over


@numba.njit(**JIT)
def spline_eval(p: float, coef: F64, off: I64, h: F64, j: int) -> tuple[float, bool]:
    """Value of spline j (uniform knots h, 2h, ...; cubic in the local offset) at p, and whether p is beyond it."""
    n_int = off[j + 1] - off[j]
    s = p / h[j] - 1.0
    k = min(max(math.floor(s), 0), n_int - 1)
    t = (s - k) * h[j]
    i = off[j] + k
    return coef[0, i] + t * (coef[1, i] + t * (coef[2, i] + t * coef[3, i])), s > n_int


@numba.njit(**JIT)
def station_power_kernel(q: F64, ps: F64, pd: F64, tidx: I64, T: F64, eff: F64, polytropic: NDArray[np.bool_],
                         electric: NDArray[np.bool_], drv_eff: F64, R: float, lhv: float, zkind: int, zpar: F64,
                         zcoef: F64, zoff: I64, zh: F64, zdz0: F64, kappa_const: float, kcoef: F64, koff: I64,
                         kh: F64, kidx: I64, forward_only: bool, out: F64) -> float:
    """:func:`gasgrid.physics.compressor.station_power` per station into ``out`` rows (power_shaft, fuel, dP_dq,
    dP_dpi_from, dP_dpi_to). ``kidx < 0``: constant kappa. With ``forward_only`` stations that are not compressing
    forward (q > 0, 0 < ps < pd) get zeros. Returns the largest pressure beyond a table (or 0)."""
    over = 0.0
    for i in range(q.size):
        if forward_only and not (q[i] > 0.0 and ps[i] > 0.0 and pd[i] > ps[i]):
            out[:, i] = 0.0
            continue
        r = max(pd[i] / ps[i], 1.0)
        z1, _, beyond = z_point(ps[i], tidx[i], zkind, zpar, zcoef, zoff, zh, zdz0)
        if kidx[i] < 0:
            k = kappa_const
        else:
            k, kb = spline_eval(ps[i], kcoef, koff, kh, kidx[i])
            beyond = beyond or kb
        if beyond:
            over = max(over, ps[i])
        a = (k - 1.0) / k
        if polytropic[i]:
            a = a / eff[i]
        zrt = z1 * R * T[i]
        ra = r**a
        head = zrt / a * (ra - 1.0)
        power = q[i] * head / eff[i]
        driver = abs(power) / drv_eff[i]
        out[0, i] = power
        out[1, i] = 0.0 if electric[i] else driver / lhv
        out[2, i] = head / eff[i]
        fac = q[i] * zrt / a / eff[i]
        compressing = pd[i] > ps[i]
        out[3, i] = fac * (-0.5 * a * ra / ps[i] ** 2) if compressing else 0.0
        out[4, i] = fac * (0.5 * a * ra / pd[i] ** 2) if compressing else 0.0
    return over


@numba.njit(**JIT)
def station_forward(x: F64, i_q: I64, i_from: I64, i_to: I64, tidx: I64, T: F64, eff: F64,
                    polytropic: NDArray[np.bool_], electric: NDArray[np.bool_], drv_eff: F64, R: float, lhv: float,
                    zkind: int, zpar: F64, zcoef: F64, zoff: I64, zh: F64, zdz0: F64, kappa_const: float, kcoef: F64,
                    koff: I64, kh: F64, kidx: I64, out: F64) -> float:
    """:func:`station_power_kernel` (forward only) with the flows and pressures gathered from state x."""
    return station_power_kernel(x[i_q], x[i_from], x[i_to], tidx, T, eff, polytropic, electric, drv_eff, R, lhv,
                                zkind, zpar, zcoef, zoff, zh, zdz0, kappa_const, kcoef, koff, kh, kidx, True, out)


# --- Python side ------------------------------------------------------------------------------------------
class GasKernel:
    """Z(p) models of one gas at a fixed list of temperatures, in the arrays the kernels take (see module doc).

    Args:
        gas: the network's gas.
        temperatures: the distinct temperatures [K] the run needs (pipes, nodes, station suction).
        p_needed: pressure [Pa] the tables must cover from the start.
    """

    def __init__(self, gas: Gas, temperatures: F64, p_needed: float) -> None:
        from gasgrid.gas.reference import MAX_TABULATED_TEMPERATURES

        self.gas = gas
        self.T = np.asarray(temperatures, dtype=float)
        self.RT = gas.R_specific * self.T
        self.par = np.zeros(3 * max(len(self.T), 1))
        self.coef = np.zeros((4, 1))
        self.off = np.zeros(len(self.T) + 1, dtype=np.int64)
        self.h = np.ones(len(self.T))
        self.dz0 = np.zeros(len(self.T))
        self.p_covered = math.inf
        eos = gas.eos
        if eos is EOS.IDEAL:
            self.kind = Z_IDEAL
        elif eos is EOS.PAPAY:
            self.kind = Z_PAPAY
            Tr = self.T / gas.Tc
            self.par[0::3] = 3.52 * np.exp(-2.26 * Tr)
            self.par[1::3] = 0.274 * np.exp(-1.878 * Tr)
            self.par[2::3] = gas.pc
        elif eos is EOS.CNGA:
            self.kind = Z_CNGA
            self.par[0::3] = 344_400.0 * 10.0 ** (1.785 * gas.relative_density) / (self.T * 1.8) ** 3.825
        elif len(self.T) <= MAX_TABULATED_TEMPERATURES:
            self.kind = Z_TABLE
            self.p_covered = 0.0
            self.cover(p_needed)
        else:
            self.kind = Z_PYTHON

    def cover(self, p_needed: float) -> None:
        """Fetch (build or extend) the tables so that they cover [0, p_needed] Pa."""
        from gasgrid.gas.reference import table_for

        if self.kind != Z_TABLE or p_needed <= self.p_covered:
            return
        assert self.gas.composition is not None
        tables = [table_for(self.gas, self.gas.composition, float(t), float(p_needed)) for t in self.T]
        self.coef = np.ascontiguousarray(np.concatenate([tb.coef for tb in tables], axis=1))
        self.off = np.concatenate([[0], np.cumsum([tb.coef.shape[1] for tb in tables])]).astype(np.int64)
        self.h = np.array([tb.h for tb in tables])
        self.dz0 = np.array([tb.dz[0] for tb in tables])
        self.p_covered = min(tb.p_max for tb in tables)

    def args(self) -> tuple:
        """(kind, par, coef, off, h, dz0): the Z model as kernel arguments."""
        return self.kind, self.par, self.coef, self.off, self.h, self.dz0

    def densities(self, x: F64, var: I64, tidx: I64, rho: F64, drho: F64) -> None:
        """rho, d rho / d p at pressures x[var] and temperatures T[tidx] into rho, drho (see :func:`densities`)."""
        if self.kind == Z_PYTHON:
            self.python_densities(x, var, tidx, rho, drho)
            return
        single = int(tidx[0]) if len(tidx) and np.all(tidx == tidx[0]) else -1
        over = densities(x, var, tidx, single, self.RT, *self.args(), rho, drho)
        if over > 0.0:  # a pressure beyond the tables: extend them (as Gas.z_and_dz_dp does) and redo
            self.cover(over)
            densities(x, var, tidx, single, self.RT, *self.args(), rho, drho)

    def python_densities(self, x: F64, var: I64, tidx: I64, rho: F64, drho: F64) -> None:
        """:meth:`densities` through :meth:`gasgrid.gas.Gas.z_and_dz_dp` (no compiled Z model for this gas)."""
        p = x[var]
        z, dz = self.gas.z_and_dz_dp(p, self.T[tidx])
        rt = self.RT[tidx]
        rho[:] = p / (z * rt)
        drho[:] = (1.0 - p * dz / z) / (z * rt)


class StationKernel:
    """Power and fuel of every compressor station of a network (:func:`station_power_kernel`).

    Args:
        gas_kernel: the run's Z models (must include every station's suction temperature).
        T_suction: per station, K.
        efficiency, polytropic, electric, driver_efficiency: per station, as in the compressor table.
        p_needed: pressure [Pa] the isentropic-exponent splines must cover from the start.
    """

    def __init__(self, gas_kernel: GasKernel, T_suction: F64, efficiency: F64, polytropic: NDArray[np.bool_],
                 electric: NDArray[np.bool_], driver_efficiency: F64, p_needed: float) -> None:
        from gasgrid.physics.compressor import lower_heating_value

        gas = gas_kernel.gas
        self.gk = gas_kernel
        self.T = np.asarray(T_suction, dtype=float)
        self.tidx = np.searchsorted(gas_kernel.T, self.T).astype(np.int64)
        if not np.array_equal(gas_kernel.T[np.minimum(self.tidx, len(gas_kernel.T) - 1)], self.T):
            raise AssertionError("the gas kernel lacks a station suction temperature")
        self.eff = np.asarray(efficiency, dtype=float)
        self.polytropic = np.asarray(polytropic, dtype=bool)
        self.electric = np.asarray(electric, dtype=bool)
        self.drv = np.asarray(driver_efficiency, dtype=float)
        self.lhv = float(lower_heating_value(gas)[0])
        self._sel = (self.tidx, self.T, self.eff, self.polytropic, self.electric, self.drv)
        self.kappa_const = float(gas.kappa)
        self.T_kappa = np.unique(self.T) if gas.composition is not None else np.zeros(0)
        self.kidx = (np.searchsorted(self.T_kappa, self.T).astype(np.int64) if len(self.T_kappa)
                     else np.full(len(self.T), -1, dtype=np.int64))
        self.kcoef = np.zeros((4, 1))
        self.koff = np.zeros(len(self.T_kappa) + 1, dtype=np.int64)
        self.kh = np.ones(len(self.T_kappa))
        self.p_covered = 0.0 if len(self.T_kappa) else math.inf
        self._cover(p_needed)

    def _cover(self, p_needed: float) -> None:
        if p_needed <= self.p_covered:
            return
        p_max = max(30e6, 1.5 * p_needed)
        splines = [kappa_spline(self.gk.gas, float(t), p_max) for t in self.T_kappa]
        self.kcoef = np.ascontiguousarray(np.concatenate([s[1] for s in splines], axis=1))
        self.koff = np.concatenate([[0], np.cumsum([s[1].shape[1] for s in splines])]).astype(np.int64)
        self.kh = np.array([s[0] for s in splines])
        self.p_covered = p_max

    def evaluate(self, q: F64, ps: F64, pd: F64, which: I64 | None = None, *, forward_only: bool = False) -> F64:
        """Rows (shaft power [W], fuel [kg/s], dP/dq [W s/kg], dP/d(p_from^2), dP/d(p_to^2) [W/Pa^2]) per station
        (or per station ``which[i]``) at flows q [kg/s], suction ps and discharge pd [Pa]; with ``forward_only``
        zeros for stations not compressing forward (q > 0, 0 < ps < pd)."""
        q, ps, pd = np.asarray(q, dtype=float), np.asarray(ps, dtype=float), np.asarray(pd, dtype=float)
        out = np.empty((5, len(q)))
        if not len(q):
            return out
        sel: tuple = self._sel
        kidx = self.kidx
        if which is not None:
            k = np.asarray(which, dtype=np.int64)
            sel, kidx = tuple(a[k] for a in sel), kidx[k]
        if self.gk.kind == Z_PYTHON:  # no compiled Z model: the physics function itself
            on = (q > 0.0) & (ps > 0.0) & (pd > ps) if forward_only else np.ones(len(q), dtype=bool)
            out = self._exact(np.where(on, q, 0.0), np.where(on, ps, 1e5), np.where(on, pd, 1e5), sel)
            return np.where(on, out, 0.0)
        for _ in range(3):
            over = station_power_kernel(q, ps, pd, *sel, self.gk.gas.R_specific, self.lhv, *self.gk.args(),
                                        self.kappa_const, self.kcoef, self.koff, self.kh, kidx, forward_only, out)
            if over <= 0.0:
                break
            self.gk.cover(over)
            self._cover(over)
        return out

    def forward_args(self) -> tuple:
        """The station model as :func:`station_forward`'s arguments after the indices (without the output)."""
        return (*self._sel, self.gk.gas.R_specific, self.lhv, *self.gk.args(), self.kappa_const, self.kcoef, self.koff,
                self.kh, self.kidx)

    def forward(self, x: F64, i_q: I64, i_from: I64, i_to: I64) -> F64:
        """:meth:`evaluate` with ``forward_only`` for every station at state x (flow x[i_q], suction x[i_from],
        discharge x[i_to]), gathered in the kernel."""
        if self.gk.kind == Z_PYTHON or not len(i_q):
            return self.evaluate(x[i_q], x[i_from], x[i_to], forward_only=True)
        out = np.empty((5, len(i_q)))
        for _ in range(3):
            over = station_forward(x, i_q, i_from, i_to, *self._sel, self.gk.gas.R_specific, self.lhv,
                                   *self.gk.args(), self.kappa_const, self.kcoef, self.koff, self.kh, self.kidx, out)
            if over <= 0.0:
                break
            self.gk.cover(over)
            self._cover(over)
        return out

    def _exact(self, q: F64, ps: F64, pd: F64, sel: tuple) -> F64:
        from gasgrid.physics.compressor import station_power

        _, T, eff, polytropic, electric, drv = sel
        st = station_power(q, ps, pd, T_suction=T, efficiency=eff, polytropic=polytropic, electric=electric,
                           driver_efficiency=drv, gas=self.gk.gas)
        return np.stack([st.power_shaft, st.fuel, st.dP_dq, st.dP_dpi_from, st.dP_dpi_to])


def kappa_spline(gas: Gas, T: float, p_max: float) -> tuple[float, F64]:
    """Cubic spline of AGA8 DETAIL's isentropic exponent in p at T [K] on knots h, 2h, ... >= p_max: (h, coef),
    coef[:, k] the polynomial in (p - (k+1) h) on interval k. The step is halved until the spline matches the
    exact value at every interval midpoint to ``KAPPA_TOL`` (relative); below h it extrapolates (smooth there).
    Cached per (composition, T, p_max)."""
    key = (gas.composition, float(T), float(p_max))
    hit = _KAPPA_CACHE.get(key)
    if hit is not None:
        return hit
    from scipy.interpolate import CubicSpline

    h = _KAPPA_STEP0
    for _ in range(_KAPPA_HALVINGS + 1):
        n = max(4, math.ceil(p_max / h))
        p = np.arange(1, n + 1, dtype=float) * h
        sp = CubicSpline(p, gas.isentropic_exponent(p, T))
        mid = p[:-1] + 0.5 * h
        err = float(np.max(np.abs(sp(mid) / gas.isentropic_exponent(mid, T) - 1.0)))
        if err <= KAPPA_TOL:
            break
        h *= 0.5
    out = (h, np.ascontiguousarray(sp.c[::-1]))
    if len(_KAPPA_CACHE) > 64:
        _KAPPA_CACHE.clear()
    _KAPPA_CACHE[key] = out
    return out


_KAPPA_CACHE: dict[tuple, tuple[float, F64]] = {}


__all__ = ["GasKernel", "StationKernel", "densities", "kappa_spline", "station_power_kernel", "z_point"]
