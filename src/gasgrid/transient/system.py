"""Residual and Jacobian of the semi-discrete transient equations, evaluated by compiled kernels.

Contract: the semi-discrete system is ``d/dt M(x) = F(x, u(t))`` where rows with ``M = 0`` are algebraic.
:class:`System` evaluates ``M``, ``F``, the time-discrete residual

    R(x) = c M(x) - F(x) - history,    c = 1 / (beta0 dt),

and its Jacobian in the CSC storage fixed by :class:`~gasgrid.transient.grid.Pattern`. Rows, in the grid's layout:

* mass balance at every pressure point [kg/s]: storage ``sum V rho(p)``, flux = inflow - outflow;
* momentum at every pipe face [Pa]: storage ``inertia h/A q``, flux
  ``-(p_r - p_l + h lambda q|q| / (2 D A^2 E^2 rho_face) + rho_face g dz)`` with
  ``rho_face = (rho_l + rho_r) / 2`` -- this makes the discrete steady state exact for an ideal gas on level
  pipes (second order in h otherwise); lambda comes from the pipe's law (see :meth:`System.friction_reference`);
* one algebraic row per non-pipe arc, chosen by its current mode (``ArcMode``) [Pa]; the station and
  regulator controllers (:mod:`gasgrid.transient.stations`) switch modes between Newton solves, and every mode
  writes the same three entries (p_from, p_to, q), so the sparsity pattern never changes;
* one algebraic row per pressure-controlled supply [Pa].

Flows appear in algebraic rows multiplied by ``Q_SCALE`` so that all algebraic rows are in pascals. The
equations themselves live in :mod:`gasgrid.transient.kernels` (numba); this class compiles the grid and the
controls into the kernels' arrays and owns the gas and station models they use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.transient import kernels as K
from gasgrid.transient import sweep
from gasgrid.transient.friction_kernels import face_parameters, reference
from gasgrid.transient.gas_kernels import Z_PYTHON, GasKernel, StationKernel
from gasgrid.transient.grid import Grid
from gasgrid.transient.linear import PipeElimination
from gasgrid.units import G_ACCEL, M_AIR, R_UNIVERSAL

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

Q_SCALE = K.Q_SCALE
RESISTOR_Q_EPS = K.RESISTOR_Q_EPS
FIXED_DP_Q_EPS = K.FIXED_DP_Q_EPS
POWER_SCALE = K.POWER_SCALE
_FIXED = FRICTION_LAWS.index("fixed")


class ArcMode(IntEnum):
    """What the algebraic row of a non-pipe arc enforces. New control modes plug in here (and in kernels.arc_row)."""

    LINK = K.LINK  # p_from = p_to (open valve, short pipe, bypass)
    CLOSED = K.CLOSED  # q = 0
    RATIO = K.RATIO  # p_to = value * p_from
    P_TO = K.P_TO  # p_to = value (discharge / outlet set point)
    P_FROM = K.P_FROM  # p_from = value (suction set point)
    FLOW = K.FLOW  # q = value
    RESISTOR = K.RESISTOR  # p_from - p_to = zeta q|q| / (2 rho A^2)  (or a fixed drop)
    REGULATOR = K.REGULATOR  # min(q, p_to - min(value, p_from)) = 0: outlet set point, wide open below, no reverse
    POWER = K.POWER  # shaft power P(q, p_from, p_to) = value [W] (gasgrid.physics.compressor.station_power)
    CHECK = K.CHECK  # min(q, p_to - p_from) = 0: open without loss for forward flow, closed against reverse flow


@dataclass(frozen=True)
class Controls:
    """Boundary values and element states at one instant (SI)."""

    supply_p: F64  # per supply: pressure set point, Pa (NaN for flow supplies)
    supply_on: B  # per supply
    supply_flow: F64  # per supply: injection of flow supplies, kg/s
    demand_flow: F64  # per demand: withdrawal, kg/s (0 when off)
    arc_mode: I64  # per non-pipe arc (grid.other_arcs order): ArcMode
    arc_value: F64  # per non-pipe arc: ratio, Pa or kg/s depending on the mode
    pipe_open: B  # per pipe
    fuel: F64 | None = None  # per node: fuel gas withdrawn by gas-turbine drivers at suction nodes, kg/s
    has_power: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_power", int(ArcMode.POWER) in self.arc_mode.tolist())


_Q_REF_FLOOR = 1e-3  # kg/s: reference flows of the local friction model are at least this
_MODE_FIXED, _MODE_LOCAL, _MODE_LAW = 0, 1, 2  # friction_kernels.face_friction modes


@dataclass(frozen=True)
class FrictionRef:
    """The friction law evaluated once per step: |q_ref| [kg/s], lambda and d ln(lambda)/d ln(q) per face."""

    q_abs: F64
    lam: F64
    dln: F64
    q_turbulent: float = field(init=False, repr=False, compare=False)  # 10 min |q_ref|: flows above are turbulent
    inv_q: F64 = field(init=False, repr=False, compare=False)  # 1 / |q_ref| (the kernels multiply)

    def __post_init__(self) -> None:
        object.__setattr__(self, "q_turbulent", 10.0 * float(self.q_abs.min()) if self.q_abs.size else np.inf)
        object.__setattr__(self, "inv_q", 1.0 / self.q_abs)


@dataclass(frozen=True)
class Evaluation:
    """M(x) [kg per pressure row, kg/m per face row] and F(x; u) [kg/s, Pa]."""

    M: F64
    F: F64


class OutOfRange(Exception):
    """A Newton iterate with a pressure beyond any the run can reach (a diverging step)."""


class System:
    """The semi-discrete equations on a :class:`Grid` (see module docstring). Apart from the gas tables that are
    extended on demand, nothing changes after construction.

    Friction: laws other than 'fixed' are evaluated once per reference (:meth:`friction_reference`) and followed
    by the local model lambda_ref (1 + d ln lambda / d ln q (|q| / |q_ref| - 1)) within a factor 2 of |q_ref|
    (the law itself beyond: a valve opening onto an empty pipe); the stepper keeps |q| / |q_ref| within
    ``friction_span``. Without a reference the law is evaluated at every call.
    """

    def __init__(self, grid: Grid, *, inertia: bool = True) -> None:
        self.grid = g = grid
        self.inertia = 1.0 if inertia else 0.0
        net = grid.net
        self.R = net.gas.R_specific
        self.n = g.n
        pb = net.pipe
        fp = g.face_pipe
        A = g.area[fp]
        self._fixed_lambda = pb.law[fp] == _FIXED
        self._constant_friction = bool(self._fixed_lambda.all())
        lam_fixed = np.where(self._fixed_lambda, pb.lambda_fixed[fp], 0.0)
        face_T = pb.temperature[fp]
        oa = g.other_arcs
        cs = net.compressor
        T_suction = np.where(np.isfinite(cs.suction_temperature), cs.suction_temperature, net.temperature)
        temps = np.unique(np.concatenate([g.atom_T, face_T, [net.temperature], T_suction]))
        p_set = net.supply.p_set[np.isfinite(net.supply.p_set)]
        p_level = float(max(np.max(p_set, initial=0.0), 1e5))  # tables cover at least this (and grow on demand)
        self.gas = GasKernel(net.gas, temps, p_level)
        self.stations = StationKernel(self.gas, T_suction, cs.efficiency, cs.polytropic, cs.electric,
                                      cs.driver_efficiency, p_level)
        self._cs_at = np.full(len(oa), -1, dtype=np.int64)  # compressor index of every non-pipe arc (or -1)
        pos = {int(a): i for i, a in enumerate(oa)}
        for k, a in enumerate(cs.arc):
            self._cs_at[pos[int(a)]] = k
        # density points: distinct (pressure unknown, temperature) pairs of atoms, face ends and arc ends
        t_net = int(np.searchsorted(temps, net.temperature))
        arc_from, arc_to = net.arc_from[oa].astype(np.int64), net.arc_to[oa].astype(np.int64)
        var = np.concatenate([g.atom_var, g.face_left, g.face_right, arc_from, arc_to]).astype(np.int64)
        t_face = np.searchsorted(temps, face_T)
        tid = np.concatenate([np.searchsorted(temps, g.atom_T), t_face, t_face, np.full(2 * len(oa), t_net)])
        key, inv = np.unique(var * len(temps) + tid.astype(np.int64), return_inverse=True)
        self.dp_var, self.dp_T = (key // len(temps)).astype(np.int64), (key % len(temps)).astype(np.int64)
        na, nf = len(g.atom_var), g.n_faces
        atom_dp, dl, dr = inv[:na], inv[na : na + nf], inv[na + nf : na + 2 * nf]
        adf, adt = inv[na + 2 * nf : na + 2 * nf + len(oa)], inv[na + 2 * nf + len(oa) :]
        self.atom_dp = atom_dp.astype(np.int64)
        self._dp_single = int(self.dp_T[0]) if len(self.dp_T) and np.all(self.dp_T == self.dp_T[0]) else -1
        self._rho, self._drho = np.empty(len(self.dp_var)), np.empty(len(self.dp_var))  # kernels' work arrays
        self.lay = np.array([g.n_nodes, g.n_pressure, g.off_face, g.off_other, g.off_psupply, g.n], dtype=np.int64)
        self.fi = np.ascontiguousarray(np.stack([g.face_left, g.face_right, dl, dr, fp, pb.law[fp]]).astype(np.int64))
        self.fk = np.ascontiguousarray(np.stack([
            g.h[fp] / (2.0 * pb.diameter[fp] * A**2 * pb.efficiency[fp] ** 2),  # m^-5 (times lambda q|q|/rho)
            64.0 * net.gas.viscosity * A / pb.diameter[fp],  # laminar floor of lambda |q|, kg/s
            g.h[fp] / A,
            G_ACCEL * g.face_dz,
        ]).reshape(4, nf))
        G = net.gas.relative_density
        self.fp = face_parameters(pb.law[fp].astype(np.int64), pb.diameter[fp], pb.roughness[fp], lam_fixed,
                                  float(net.gas.viscosity), G)
        self.xfac = R_UNIVERSAL / (G * M_AIR)
        # non-pipe arcs: ends, their density points, resistor data
        rb = net.resistor
        ap = np.full((3, len(oa)), np.nan)
        for k, a in enumerate(rb.arc):
            i = pos[int(a)]
            ap[:, i] = rb.drag[k], 0.25 * np.pi * rb.diameter[k] ** 2, rb.dp_fixed[k]
        self.ai = np.ascontiguousarray(np.stack([arc_from, arc_to, adf, adt, self._cs_at]).astype(np.int64)
                                       .reshape(5, len(oa)))
        self.ap = ap
        self.ps_sup = g.psupply.astype(np.int64)
        self.ps_node = net.supply.node[g.psupply].astype(np.int64)
        self.sup_node = net.supply.node.astype(np.int64)
        self.sup_fixed = np.asarray(net.supply.fixed_pressure, dtype=bool)
        self.dem_node = net.demand.node.astype(np.int64)
        self._no_fuel = np.zeros(0)
        self._no_power = np.zeros((5, len(oa)))
        self._empty = np.zeros(0)
        self._diff_rows = np.zeros(self.n, dtype=bool)
        self._diff_rows[: g.n_pressure] = True
        if inertia:
            self._diff_rows[g.off_face : g.off_other] = True
        self.linear_solver = PipeElimination(grid)  # the Newton steps' linear solver (a plan, no state)
        self._sweep_arrays(temps, t_net)

    def _sweep_arrays(self, temps: F64, t_net: int) -> None:
        """The pipe-major arrays of :mod:`gasgrid.transient.sweep` (see its docstring)."""
        g = self.grid
        net = g.net
        pb = net.pipe
        n_pipes = len(g.n_cells)
        A = g.area
        ti_pipe = np.searchsorted(temps, pb.temperature).astype(np.int64)
        first_point = g.point_var[g.point_start + 1] if n_pipes else np.zeros(0, np.int64)
        self.pi = np.stack([g.n_cells, g.off_face + g.face_start, np.where(g.n_cells > 1, first_point, 0),
                            net.arc_from[pb.arc], net.arc_to[pb.arc], pb.law, g.face_start, ti_pipe]).astype(np.int64)
        self.pi = np.ascontiguousarray(self.pi.reshape(8, n_pipes))
        self.pk = np.ascontiguousarray(np.stack([
            g.h / (2.0 * pb.diameter * A**2 * pb.efficiency**2),
            64.0 * net.gas.viscosity * A / pb.diameter,
            g.h / A,
            G_ACCEL * ((net.elevation[net.arc_to[pb.arc]] - net.elevation[net.arc_from[pb.arc]]) / g.n_cells),
            A * g.h * 1.0,
            A * g.h * 0.5,
        ]).reshape(6, n_pipes))
        self.int_ti = np.repeat(ti_pipe, g.n_cells - 1).astype(np.int64)
        bare = g.atom_pipe == n_pipes
        self.bare_var = g.atom_var[bare].astype(np.int64)
        self.bare_vol = g.atom_volume[bare].astype(float)
        n_arc = len(g.other_arcs)
        ends = np.stack([self.pi[3], self.pi[4]], 1).ravel()
        arc_ends = np.stack([self.ai[0], self.ai[1]], 1).ravel()
        self.small_var = np.concatenate([ends, arc_ends, self.bare_var]).astype(np.int64)
        self.small_ti = np.concatenate([np.repeat(ti_pipe, 2), np.full(2 * n_arc, t_net),
                                        np.searchsorted(temps, g.atom_T[bare])]).astype(np.int64)
        self.ai_sweep = self.ai.copy()
        self.ai_sweep[2], self.ai_sweep[3] = 2 * np.arange(n_arc), 2 * np.arange(n_arc) + 1
        self._sweep_head = (self.lay, self.pi, self.pk, self.fp)  # sweep_args around the friction and controls
        self._sweep_mid = (self.bare_var, self.bare_vol, self.ai_sweep, self.ap, self.ps_sup, self.ps_node,
                           self.sup_node, self.sup_fixed, self.dem_node)
        self._rho_i = np.empty(g.n_interior)
        self._rho_s, self._drho_s = np.empty(len(self.small_var)), np.empty(len(self.small_var))

    def sweep_gas_args(self, x: F64) -> tuple:
        """The density arguments of the sweep kernels (python densities for a gas without a compiled Z model)."""
        gk = self.gas
        kind = gk.kind
        if kind == Z_PYTHON:
            g = self.grid
            gk.python_densities(x, np.arange(g.n_nodes, g.n_pressure), self.int_ti, self._rho_i, np.empty(g.n_interior))
            gk.python_densities(x, self.small_var, self.small_ti, self._rho_s, self._drho_s)
            kind = -1
        return (self.small_var, self.small_ti, gk.RT, kind, gk.par, gk.coef, gk.off, gk.h, gk.dz0, self._rho_i,
                self._rho_s, self._drho_s)

    def _run_sweep(self, kernel: Callable[..., float], x: F64, *args: object) -> None:
        over = kernel(x, *self.sweep_gas_args(x), *args)
        if over > 0.0:
            self.gas.cover(over)
            kernel(x, *self.sweep_gas_args(x), *args)

    @property
    def differential_rows(self) -> B:
        """Rows with a time derivative (the rest are algebraic)."""
        return self._diff_rows

    # --- gas ---------------------------------------------------------------------------------------
    def density(self, p: F64, T: F64 | float) -> tuple[F64, F64]:
        """rho [kg/m^3] and d rho / d p [s^2/m^2] at pressures p [Pa] and temperatures T [K] (the gas model
        itself, for occasional use; the kernels use :meth:`densities`)."""
        rt = self.R * np.asarray(T, dtype=float)
        z, dz = self.grid.net.gas.z_and_dz_dp(p, T)
        return p / (z * rt), (1.0 - p * dz / z) / (z * rt)

    def densities(self, x: F64) -> tuple[F64, F64]:
        """rho [kg/m^3] and d rho / d p [s^2/m^2] at every density point of state x."""
        rho, drho = np.empty(len(self.dp_var)), np.empty(len(self.dp_var))
        self.gas.densities(x, self.dp_var, self.dp_T, rho, drho)
        return rho, drho

    def _gas_args(self, x: F64) -> tuple:
        """The density arguments of the kernels (into the work arrays); for a gas without a compiled Z model the
        densities are computed here and the kernels told so."""
        gk = self.gas
        kind = gk.kind
        if kind == Z_PYTHON:
            gk.python_densities(x, self.dp_var, self.dp_T, self._rho, self._drho)
            kind = -1
        return (self.dp_var, self.dp_T, self._dp_single, gk.RT, kind, gk.par, gk.coef, gk.off, gk.h, gk.dz0,
                self._rho, self._drho)

    def _run(self, kernel: Callable[..., float], x: F64, *args: object) -> None:
        """Call a kernel that evaluates the densities first; extend the gas tables and call again if a pressure
        lay beyond them."""
        over = kernel(x, *self._gas_args(x), *args)
        if over > 0.0:
            self.gas.cover(over)
            kernel(x, *self._gas_args(x), *args)

    def storage(self, x: F64) -> F64:
        """M(x) alone (gas mass of every pressure row [kg], inertia of every face row), cheaper than evaluate."""
        M = np.empty(self.n)
        self._run_sweep(sweep.storage, x, self.lay, self.pi, self.pk, self.bare_var, self.bare_vol, self.inertia, M)
        return M

    def masses(self, x: F64) -> F64:
        """Gas mass held by every storage atom, kg."""
        rho, _ = self.densities(x)
        return self.grid.atom_volume * rho[self.atom_dp]

    # --- friction ----------------------------------------------------------------------------------
    @property
    def constant_friction(self) -> bool:
        """True when every pipe has a fixed friction factor (no law to evaluate)."""
        return self._constant_friction

    def friction_reference(self, q: F64, previous: FrictionRef | None = None) -> FrictionRef | None:
        """Evaluate the friction law once at flows q [kg/s] for the local linear model (None if all fixed);
        ``previous`` only seeds iterative laws (same result to their tolerance)."""
        if self.constant_friction:
            return None
        n = len(q)
        q_ref, lam, dln = np.empty(n), np.empty(n), np.empty(n)
        reference(np.ascontiguousarray(q), self.fi[5], self.fp, self.xfac, _Q_REF_FLOOR,
                  previous.lam if previous is not None else self._empty, q_ref, lam, dln)
        return FrictionRef(q_ref, lam, dln)

    def _friction_args(self, ref: FrictionRef | None) -> tuple:
        if self.constant_friction:
            return _MODE_FIXED, self.xfac, self._empty, self._empty, self._empty
        if ref is None:
            return _MODE_LAW, self.xfac, self._empty, self._empty, self._empty
        return _MODE_LOCAL, self.xfac, ref.inv_q, ref.lam, ref.dln

    # --- evaluation --------------------------------------------------------------------------------
    def _power_rows(self, x: F64, u: Controls) -> F64:
        """Station power rows of the POWER arcs at state x (kernels.arc_row), zeros elsewhere."""
        if not u.has_power:
            return self._no_power
        g = self.grid
        pw = np.zeros_like(self._no_power)
        m = np.flatnonzero(u.arc_mode == ArcMode.POWER)
        k = self._cs_at[m]
        rows = self.stations.evaluate(x[g.off_other + m], x[self.ai[0, m]], x[self.ai[1, m]], k)
        pw[:, m] = rows
        return pw

    def _controls(self, x: F64 | None, u: Controls) -> tuple:
        """The controls as kernel arguments (the POWER arcs' rows evaluated at x; x None: no POWER arcs)."""
        fuel = u.fuel if u.fuel is not None else self._no_fuel
        pw = self._power_rows(x, u) if x is not None else self._no_power
        return (u.supply_p, u.supply_on, u.supply_flow, u.demand_flow, u.arc_mode, u.arc_value, u.pipe_open, fuel, pw)

    def evaluate(self, x: F64, u: Controls, *, friction: FrictionRef | None = None) -> Evaluation:
        """M(x) and F(x; u) (face rows of closed pipes store nothing). Through the sweep kernels: F = -R at c = 0 and
        no history, exactly (kernels.evaluate states the same equations face by face; the tests compare them)."""
        F = self.residual(x, u, 0.0, np.zeros(self.n), friction=friction)
        np.negative(F, out=F)
        M = self.storage(x)
        if not u.pipe_open.all():
            M[self.grid.off_face : self.grid.off_other][~u.pipe_open[self.grid.face_pipe]] = 0.0
        return Evaluation(M, F)

    def residual(self, x: F64, u: Controls, c: float, hist: F64, *, friction: FrictionRef | None = None,
                 face_flux: bool = True) -> F64:
        """R(x) = c M(x) - F(x; u) - hist; without ``face_flux`` the pipe-face flows are left out of the mass
        balances (the explicit scheme takes them from ``hist``)."""
        R = np.empty(self.n)
        self._run_sweep(sweep.residual, x, self.lay, self.pi, self.pk, self.fp, *self._friction_args(friction),
                        self.bare_var, self.bare_vol, self.ai_sweep, self.ap, self.ps_sup, self.ps_node, self.sup_node,
                        self.sup_fixed, self.dem_node, *self._controls(x, u), self.inertia, face_flux, c, hist, R)
        return R

    def sweep_args(self, u: Controls, c: float, hist: F64, *, friction: FrictionRef | None,
                   face_flux: bool) -> tuple | None:
        """The arguments of :func:`gasgrid.transient.sweep.residual` after the state and the gas (see
        :meth:`sweep_gas_args`) for R = c M - F - hist under these controls; None where the compiled step does not
        apply (station power rows, a gas without a compiled Z model)."""
        if u.has_power or self.gas.kind == Z_PYTHON:
            return None
        fuel = u.fuel if u.fuel is not None else self._no_fuel
        return (*self._sweep_head, *self._friction_args(friction), *self._sweep_mid, u.supply_p, u.supply_on,
                u.supply_flow, u.demand_flow, u.arc_mode, u.arc_value, u.pipe_open, fuel, self._no_power,
                self.inertia, face_flux, c, hist)

    def storage_args(self) -> tuple:
        """The arguments of :func:`gasgrid.transient.sweep.storage` after the state and the gas (without M)."""
        return self.lay, self.pi, self.pk, self.bare_var, self.bare_vol, self.inertia

    def boundary_args(self, u: Controls) -> tuple:
        """The arguments of :func:`gasgrid.transient.kernels.boundary_flows` after the state."""
        fuel = u.fuel if u.fuel is not None else self._no_fuel
        return (self.grid.off_psupply, self.ps_sup, u.supply_on, self.sup_fixed, u.supply_flow, u.demand_flow, fuel)

    def jacobian(self, x: F64, u: Controls, c: float, *, friction: FrictionRef | None = None,
                 face_flux: bool = True) -> sp.csc_matrix:
        """dR/dx = c dM/dx - dF/dx (CSC on the grid's pattern); without ``face_flux`` as in :meth:`residual`."""
        g = self.grid
        pat = g.pattern
        data = np.empty(pat.nnz)
        ctl = self._controls(x, u)
        self._run(K.jacobian, x, self.lay, self.fi, self.fk, self.fp, *self._friction_args(friction), self.atom_dp,
                  g.atom_volume, self.ai, self.ap, self.ps_sup, ctl[1], ctl[4], ctl[5], ctl[6], ctl[8], self.inertia,
                  face_flux, c, pat.slot, data)
        return sp.csc_matrix((data, pat.indices, pat.indptr), shape=(pat.n, pat.n))

    def face_flux(self, x: F64) -> F64:
        """The pipe-face part of the mass balances (inflow - outflow through faces) [kg/s], 0 on other rows."""
        g = self.grid
        q = x[g.off_face : g.off_other]
        return (np.bincount(g.face_right, weights=q, minlength=self.n)
                - np.bincount(g.face_left, weights=q, minlength=self.n))

    def below_cap(self, x: F64, cap: float) -> bool:
        """Whether every pressure of x is below cap [Pa] (False for NaN)."""
        return bool(K.below(x, self.grid.n_pressure, cap))
