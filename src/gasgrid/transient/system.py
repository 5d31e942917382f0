"""Residual and Jacobian of the semi-discrete transient equations, vectorised over all elements.

Contract: the semi-discrete system is ``d/dt M(x) = F(x, u(t))`` where rows with ``M = 0`` are algebraic.
:class:`System` evaluates ``M``, ``F`` and the Jacobian of the time-discrete residual

    R(x) = c M(x) - F(x) - history,    c = 1 / (beta0 dt),

in the CSC storage fixed by :class:`~gasgrid.transient.grid.Pattern`. Rows, in the grid's layout:

* mass balance at every pressure point [kg/s]: storage ``sum V rho(p)``, flux = inflow - outflow;
* momentum at every pipe face [Pa]: storage ``inertia h/A q``, flux
  ``-(p_r - p_l + h lambda q|q| / (2 D A^2 E^2 rho_face) + rho_face g dz)`` with
  ``rho_face = (rho_l + rho_r) / 2`` -- this makes the discrete steady state exact for an ideal gas on level
  pipes (second order in h otherwise); lambda comes from the pipe's law (see :meth:`System.friction`);
* one algebraic row per non-pipe arc, chosen by its current mode (``ArcMode``) [Pa]; the station and
  regulator controllers (:mod:`gasgrid.transient.stations`) switch modes between Newton solves, and every mode
  writes the same three entries (p_from, p_to, q), so the sparsity pattern never changes;
* one algebraic row per pressure-controlled supply [Pa].

Flows appear in algebraic rows multiplied by ``Q_SCALE`` so that all algebraic rows are in pascals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.transient.grid import Grid
from gasgrid.units import G_ACCEL

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

Q_SCALE = 1e4  # Pa per kg/s: weight of flows in algebraic rows
RESISTOR_Q_EPS = 1e-3  # kg/s: q|q| -> q sqrt(q^2 + eps^2) keeps resistors differentiable at zero flow
FIXED_DP_Q_EPS = 0.1  # kg/s: smoothing of the flow-direction sign of fixed pressure-drop resistors
_FIXED = FRICTION_LAWS.index("fixed")


class ArcMode(IntEnum):
    """What the algebraic row of a non-pipe arc enforces. New control modes plug in here."""

    LINK = 0  # p_from = p_to (open valve, short pipe, bypass)
    CLOSED = 1  # q = 0
    RATIO = 2  # p_to = value * p_from
    P_TO = 3  # p_to = value (discharge / outlet set point)
    P_FROM = 4  # p_from = value (suction set point)
    FLOW = 5  # q = value
    RESISTOR = 6  # p_from - p_to = zeta q|q| / (2 rho A^2)  (or a fixed drop)
    REGULATOR = 7  # min(q, p_to - min(value, p_from)) = 0: outlet set point, wide open below it, no reverse flow
    POWER = 8  # shaft power P(q, p_from, p_to) = value [W] (gasgrid.physics.compressor.station_power)
    CHECK = 9  # min(q, p_to - p_from) = 0: open without loss for forward flow, closed against reverse flow


_LINK, _CLOSED, _RATIO, _P_TO, _P_FROM, _FLOW, _RESISTOR, _REGULATOR, _POWER, _CHECK = (int(m) for m in ArcMode)
POWER_SCALE = Q_SCALE / 1e5  # Pa per W: power rows weigh like flow rows at a head of about 100 kJ/kg


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
    groups: tuple[tuple[int, NDArray[np.intp]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes = np.unique(self.arc_mode).tolist()
        object.__setattr__(self, "groups", tuple((c, np.flatnonzero(self.arc_mode == c)) for c in codes))


_Q_REF_FLOOR = 1e-3  # kg/s: reference flows of the local friction model are at least this
_LOCAL_SPAN = 2.0  # the local friction model is used for 1/2 <= |q| / |q_ref| <= 2 only (the law beyond)
_ALL = slice(None)


@dataclass(frozen=True)
class FrictionRef:
    """The friction law evaluated once per step: |q_ref| [kg/s], lambda and d ln(lambda)/d ln(q) per face."""

    q_abs: F64
    lam: F64
    dln: F64


@dataclass(frozen=True)
class Evaluation:
    """M(x), F(x) and, when requested, the pieces of the Jacobian (in pattern order)."""

    M: F64
    F: F64
    dM: F64 | None  # values of dM/dx in pattern order
    dF: F64 | None  # values of dF/dx in pattern order


class System:
    """The semi-discrete equations on a :class:`Grid` (see module docstring). Stateless after construction."""

    def __init__(self, grid: Grid, *, inertia: bool = True) -> None:
        self.grid = grid
        self.inertia = 1.0 if inertia else 0.0
        net = grid.net
        g = grid
        self.R = net.gas.R_specific
        pb = net.pipe
        fp = g.face_pipe
        A = g.area[fp]
        self._fixed_lambda = pb.law[fp] == _FIXED
        self._lam_fixed = np.where(self._fixed_lambda, pb.lambda_fixed[fp], 0.0)
        self._K = g.h[fp] / (2.0 * pb.diameter[fp] * A**2 * pb.efficiency[fp] ** 2)  # m^-5 (times lambda q|q|/rho)
        self._lam_q_lam = 64.0 * net.gas.viscosity * A / pb.diameter[fp]  # laminar floor of lambda |q|, kg/s
        self._h_over_A = g.h[fp] / A
        self._face_T = pb.temperature[fp]
        self._face_D = pb.diameter[fp]
        self._face_A = A
        self._face_rough = pb.roughness[fp]
        self._g_dz = G_ACCEL * g.face_dz
        self.n = g.n
        from gasgrid.gas import EOS

        self._ideal = net.gas.eos is EOS.IDEAL
        Ts = np.unique(np.concatenate([g.atom_T, self._face_T]))
        self._uniform_T = float(Ts[0]) if len(Ts) == 1 else None
        self._all_open = True
        oa = g.other_arcs
        self._arc_from = net.arc_from[oa]
        self._arc_to = net.arc_to[oa]
        # resistor parameters per non-pipe arc (NaN where not a resistor)
        rb = net.resistor
        zeta = np.full(len(oa), np.nan)
        area_r = np.full(len(oa), np.nan)
        dp_fix = np.full(len(oa), np.nan)
        pos = {int(a): i for i, a in enumerate(oa)}
        for k, a in enumerate(rb.arc):
            i = pos[int(a)]
            zeta[i] = rb.drag[k]
            area_r[i] = 0.25 * math.pi * rb.diameter[k] ** 2
            dp_fix[i] = rb.dp_fixed[k]
        self._zeta, self._area_r, self._dp_fix = zeta, area_r, dp_fix
        self._psup_node = net.supply.node[g.psupply]
        self._cs_at = np.full(len(oa), -1, dtype=np.int64)  # compressor index of every non-pipe arc (or -1)
        for k, a in enumerate(net.compressor.arc):
            self._cs_at[pos[int(a)]] = k
        self._diff_rows = np.zeros(self.n, dtype=bool)
        self._diff_rows[: g.n_pressure] = True
        if inertia:
            self._diff_rows[g.off_face : g.off_other] = True

    @property
    def differential_rows(self) -> B:
        """Rows with a time derivative (the rest are algebraic)."""
        return self._diff_rows

    # --- gas ---------------------------------------------------------------------------------------
    def density(self, p: F64, T: F64 | float) -> tuple[F64, F64]:
        """rho [kg/m^3] and d rho / d p [s^2/m^2] at pressures p [Pa] and temperatures T [K]."""
        if self._ideal:
            rt = self.R * np.asarray(T, dtype=float)
            return p / rt, np.broadcast_to(1.0 / rt, np.shape(p)) if np.ndim(rt) == 0 else 1.0 / rt
        z, dz = self.grid.net.gas.z_and_dz_dp(p, T)
        rt = self.R * np.asarray(T, dtype=float)
        rho = p / (z * rt)
        drho = (1.0 - p * dz / z) / (z * rt)
        return rho, drho

    def _point_density(self, x: F64) -> tuple[F64, F64, F64, F64, F64, F64]:
        """Densities (and derivatives) at the storage atoms and at the left/right points of every face."""
        g = self.grid
        if self._uniform_T is not None:
            rho, drho = self.density(x[: g.n_pressure], self._uniform_T)
            drho = np.broadcast_to(drho, rho.shape)
            return (rho[g.atom_var], drho[g.atom_var], rho[g.face_left], drho[g.face_left], rho[g.face_right],
                    drho[g.face_right])
        ra, dra = self.density(x[g.atom_var], g.atom_T)
        rl, drl = self.density(x[g.face_left], self._face_T)
        rr, drr = self.density(x[g.face_right], self._face_T)
        return ra, dra, rl, drl, rr, drr

    def storage(self, x: F64) -> F64:
        """M(x) alone (gas mass of every pressure row [kg], inertia of every face row), cheaper than evaluate."""
        g = self.grid
        rho, _ = self.density(x[g.atom_var], g.atom_T)
        M = np.bincount(g.atom_var, weights=g.atom_volume * rho, minlength=self.n)
        M[g.off_face : g.off_other] = self.inertia * self._h_over_A * x[g.off_face : g.off_other]
        return M

    def masses(self, x: F64) -> F64:
        """Gas mass held by every storage atom, kg."""
        g = self.grid
        rho, _ = self.density(x[g.atom_var], g.atom_T)
        return g.atom_volume * rho

    @property
    def constant_friction(self) -> bool:
        """True when every pipe has a fixed friction factor (no law to evaluate)."""
        return bool(self._fixed_lambda.all())

    def friction_reference(self, q: F64) -> FrictionRef | None:
        """Evaluate the friction law once at flows q [kg/s] for a local linear model (None if all fixed)."""
        if self.constant_friction:
            return None
        aq = np.maximum(np.abs(q), _Q_REF_FLOOR)
        lam, dln = self._law_lambda(aq)
        return FrictionRef(aq, lam, dln)

    def friction(self, q: F64, ref: FrictionRef | None = None) -> tuple[F64, F64]:
        """lambda |q| [kg/s] per face and d(lambda q|q|)/dq / (lambda |q|) (2 turbulent, 1 laminar).

        With ``ref``, lambda follows the local model lambda_ref (1 + dln lambda/dln q (|q| / |q_ref| - 1)),
        accurate to second order in |q| / |q_ref| - 1; the stepper keeps that ratio within ``friction_span``.
        Newton iterates beyond a factor 2 from q_ref (a valve opening onto an empty pipe) use the law itself:
        the linear model would give a negative lambda there.
        """
        aq = np.abs(q)
        if self.constant_friction:
            lam = self._lam_fixed
            dln = np.zeros_like(q)
        elif ref is not None:
            dln = ref.dln
            ratio = aq / ref.q_abs
            lam = ref.lam * (1.0 + dln * (ratio - 1.0))
            far = (ratio > _LOCAL_SPAN) | (ratio * _LOCAL_SPAN < 1.0)
            if far.any():  # Newton iterates far from the reference (a valve opening, say): the law itself
                lam_f, dln_f = self._law_lambda(aq[far], far)
                lam, dln = lam.copy(), dln.copy()
                lam[far], dln[far] = lam_f, dln_f
        else:
            lam, dln = self._law_lambda(aq)
        lam_q = lam * aq
        laminar = lam_q < self._lam_q_lam
        lam_q = np.where(laminar, self._lam_q_lam, lam_q)
        factor = np.where(laminar, 1.0, 2.0 + dln)
        return lam_q, factor

    def _law_lambda(self, aq: F64, faces: B | slice = _ALL) -> tuple[F64, F64]:
        """lambda and d ln(lambda)/d ln(q) of the pipes' laws at |q| = aq [kg/s] on the given faces."""
        from gasgrid.physics.friction import darcy_friction

        net = self.grid.net
        lam, dln = darcy_friction(
            net.pipe.law[self.grid.face_pipe][faces], np.maximum(aq, 1e-9), self._face_D[faces],
            self._face_rough[faces], net.gas.viscosity, self._lam_fixed[faces],
            relative_density=net.gas.relative_density, temperature=self._face_T[faces],
        )
        return np.asarray(lam, dtype=float), np.asarray(dln, dtype=float)

    # --- evaluation --------------------------------------------------------------------------------
    def evaluate(self, x: F64, u: Controls, *, jacobian: bool, friction: FrictionRef | None = None) -> Evaluation:
        """M(x), F(x; u) and optionally their derivatives in pattern order."""
        g = self.grid
        n = self.n
        of, oo, os_ = g.off_face, g.off_other, g.off_psupply
        # storage of pressure points
        rho_a, drho_a, rl, drl, rr, drr = self._point_density(x)
        M = np.bincount(g.atom_var, weights=g.atom_volume * rho_a, minlength=n)
        # faces
        q = x[of:oo]
        pl, pr = x[g.face_left], x[g.face_right]
        rbar = 0.5 * (rl + rr)
        lam_q, fac = self.friction(q, friction)
        fr = self._K * lam_q * q / rbar
        G = pr - pl + fr + rbar * self._g_dz
        all_open = bool(u.pipe_open.all())
        open_ = np.ones(len(q), dtype=bool) if all_open else u.pipe_open[g.face_pipe]
        if not all_open:
            G = np.where(open_, G, Q_SCALE * q)
        M[of:oo] = self.inertia * self._h_over_A * q * open_
        F = np.bincount(g.face_right, weights=q, minlength=n) - np.bincount(g.face_left, weights=q, minlength=n)
        F[of:oo] = -G
        # non-pipe arcs
        qa = x[oo:os_]
        if len(qa):
            Ga, dGa_pf, dGa_pt, dGa_q = self._arc_rows(x, qa, u)
            F[oo:os_] = -Ga
            F += np.bincount(self._arc_to, weights=qa, minlength=n) - np.bincount(self._arc_from, weights=qa,
                                                                                 minlength=n)
        # supplies and demands
        net = g.net
        s = x[os_:]
        ps_idx = g.psupply
        on_ps = u.supply_on[ps_idx]
        Gs = np.where(on_ps, x[self._psup_node] - u.supply_p[ps_idx], Q_SCALE * s)
        F[os_:] = -Gs
        inj = np.where(u.supply_on & ~net.supply.fixed_pressure, u.supply_flow, 0.0)
        bnd = (np.bincount(net.supply.node, weights=inj, minlength=g.n_nodes)
               - np.bincount(net.demand.node, weights=u.demand_flow, minlength=g.n_nodes))
        if len(s):
            bnd += np.bincount(self._psup_node, weights=s, minlength=g.n_nodes)
        if u.fuel is not None:
            bnd -= u.fuel
        F[: g.n_nodes] += bnd
        if not jacobian:
            return Evaluation(M, F, None, None)
        # --- derivatives in pattern order (see grid._pattern) ---
        nf = g.n_faces
        dG_drbar = -fr / rbar + self._g_dz
        dG_dpl = np.where(open_, -1.0 + dG_drbar * 0.5 * drl, 0.0)
        dG_dpr = np.where(open_, 1.0 + dG_drbar * 0.5 * drr, 0.0)
        dG_dq = np.where(open_, self._K * lam_q * fac / rbar, Q_SCALE)
        dM_mom = self.inertia * self._h_over_A * open_
        ones_f = np.ones(nf)
        ones_a = np.ones(len(qa))
        if not len(qa):
            dGa_pf = dGa_pt = dGa_q = ones_a
        nps = len(ps_idx)
        dM = np.concatenate([
            g.atom_volume * drho_a,
            np.zeros(2 * nf), np.zeros(2 * nf), dM_mom,
            np.zeros(5 * len(qa)),
            np.zeros(3 * nps),
            np.zeros(n),
        ])
        dF = np.concatenate([
            np.zeros(len(rho_a)),
            -ones_f, ones_f,
            -dG_dpl, -dG_dpr, -dG_dq,
            -ones_a, ones_a, -dGa_pf, -dGa_pt, -dGa_q,
            np.ones(nps), -np.where(on_ps, 1.0, 0.0), -np.where(on_ps, 0.0, Q_SCALE),
            np.zeros(n),
        ])
        return Evaluation(M, F, dM, dF)

    def face_flux(self, x: F64) -> F64:
        """The pipe-face part of the mass balances (inflow - outflow through faces) [kg/s], 0 on other rows."""
        g = self.grid
        q = x[g.off_face : g.off_other]
        return (np.bincount(g.face_right, weights=q, minlength=self.n)
                - np.bincount(g.face_left, weights=q, minlength=self.n))

    def _arc_rows(self, x: F64, q: F64, u: Controls) -> tuple[F64, F64, F64, F64]:
        """Algebraic rows G(p_from, p_to, q) of the non-pipe arcs and their partial derivatives."""
        pf = x[self._arc_from]
        pt = x[self._arc_to]
        v = u.arc_value
        G = np.empty_like(q)
        a = np.zeros_like(q)  # dG/dpf
        b = np.zeros_like(q)  # dG/dpt
        c = np.zeros_like(q)  # dG/dq
        for code, m in u.groups:
            if code == _LINK:
                G[m], a[m], b[m] = pf[m] - pt[m], 1.0, -1.0
            elif code == _CLOSED:
                G[m], c[m] = Q_SCALE * q[m], Q_SCALE
            elif code == _FLOW:
                G[m], c[m] = Q_SCALE * (q[m] - v[m]), Q_SCALE
            elif code == _RATIO:
                G[m], a[m], b[m] = pt[m] - v[m] * pf[m], -v[m], 1.0
            elif code == _P_TO:
                G[m], b[m] = pt[m] - v[m], 1.0
            elif code == _P_FROM:
                G[m], a[m] = pf[m] - v[m], 1.0
            elif code == _RESISTOR:
                G[m], a[m], b[m], c[m] = self._resistor(pf[m], pt[m], q[m], m)
            elif code in (_REGULATOR, _CHECK):
                # complementarity q >= 0, p_to >= target, q (p_to - target) = 0 as a semismooth min: flowing
                # elements hold their outlet at the target, closed ones carry nothing against a higher outlet
                follows = (pf[m] <= v[m]) if code == _REGULATOR else np.ones(len(m), dtype=bool)
                target = np.where(follows, pf[m], v[m])
                rise = pt[m] - target
                closed = Q_SCALE * q[m] <= rise
                G[m] = np.where(closed, Q_SCALE * q[m], rise)
                c[m] = np.where(closed, Q_SCALE, 0.0)
                a[m] = np.where(closed | ~follows, 0.0, -1.0)
                b[m] = np.where(closed, 0.0, 1.0)
            elif code == _POWER:
                G[m], a[m], b[m], c[m] = self._power(pf[m], pt[m], q[m], v[m], m)
            else:
                raise AssertionError(f"unknown arc mode {code}")
        return G, a, b, c

    def _power(self, pf: F64, pt: F64, q: F64, v: F64, m: NDArray[np.intp]) -> tuple[F64, F64, F64, F64]:
        """Power row POWER_SCALE (P(q, p_from, p_to) - value) [Pa] and its derivatives; the head's dependence on
        Z and kappa at suction is left out of the Jacobian (a chord term: Newton still converges to the row)."""
        from gasgrid.physics.compressor import station_power

        net = self.grid.net
        cs = net.compressor
        k = self._cs_at[m]
        T = np.where(np.isfinite(cs.suction_temperature[k]), cs.suction_temperature[k], net.temperature)
        st = station_power(q, pf, pt, T_suction=T, efficiency=cs.efficiency[k], polytropic=cs.polytropic[k],
                           electric=cs.electric[k], driver_efficiency=cs.driver_efficiency[k], gas=net.gas)
        G = POWER_SCALE * (st.power_shaft - v)
        return G, POWER_SCALE * 2.0 * pf * st.dP_dpi_from, POWER_SCALE * 2.0 * pt * st.dP_dpi_to, POWER_SCALE * st.dP_dq

    def _resistor(self, pf: F64, pt: F64, q: F64, m: B) -> tuple[F64, F64, F64, F64]:
        T = self.grid.net.temperature
        dp_fix = self._dp_fix[m]
        fixed = np.isfinite(dp_fix)
        rf, drf = self.density(pf, np.full_like(pf, T))
        rt, drt = self.density(pt, np.full_like(pt, T))
        rbar = 0.5 * (rf + rt)
        zeta = np.where(fixed, 0.0, self._zeta[m])
        A = np.where(fixed, 1.0, self._area_r[m])
        sq = np.sqrt(q * q + RESISTOR_Q_EPS**2)
        k = zeta / (2.0 * A * A)
        drop = k * q * sq / rbar
        ddrop_dq = k * (sq + q * q / sq) / rbar
        ddrop_drbar = -drop / rbar
        sf = np.sqrt(q * q + FIXED_DP_Q_EPS**2)
        dp = np.nan_to_num(dp_fix)
        G = np.where(fixed, pf - pt - dp * q / sf, pf - pt - drop)
        a = np.where(fixed, 1.0, 1.0 - ddrop_drbar * 0.5 * drf)
        b = np.where(fixed, -1.0, -1.0 - ddrop_drbar * 0.5 * drt)
        c = np.where(fixed, -dp * FIXED_DP_Q_EPS**2 / sf**3, -ddrop_dq)
        return G, a, b, c

    def matrix(self, values: F64) -> sp.csc_matrix:
        """CSC matrix from values in pattern order (repeated entries are summed)."""
        pat = self.grid.pattern
        data = np.bincount(pat.slot, weights=values, minlength=pat.nnz)
        return sp.csc_matrix((data, pat.indices, pat.indptr), shape=(pat.n, pat.n))
