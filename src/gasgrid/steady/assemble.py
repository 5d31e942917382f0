"""Residual and Jacobian of the steady system, vectorised per arc behaviour.

Unknowns x = [pi of free super-nodes / pi_scale, arc flows in kg/s]. Rows: mass balance of free super-nodes
(kg/s / q_scale) and one equation per arc (Pa^2 / pi_scale, or kg/s / q_scale for throughput control).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gasgrid.model.compiled import CompiledNetwork
from gasgrid.physics.friction import darcy_friction
from gasgrid.physics.pipe import PI_FLOOR, pipe_residual
from gasgrid.physics.resistor import resistor_residual
from gasgrid.steady.system import Behaviour, SteadySystem, coo_order_values

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class ArcSetPoints:
    """Per-arc set points used by the equations (NaN where not applicable)."""

    pi_set: F64  # Pa^2 for SET_TO / SET_FROM
    ratio2: F64  # ratio^2 for RATIO
    q_set: F64  # kg/s for FLOW
    power_set: F64  # W (shaft) for POWER


class Assembler:
    """Evaluates F(x) and J(x) for one :class:`SteadySystem` (pure given its inputs)."""

    def __init__(self, net: CompiledNetwork, sys: SteadySystem, sets: ArcSetPoints, withdrawal: F64) -> None:
        self.net = net
        self.sys = sys
        eq = sys.eq_arcs
        b = sys.behaviour[eq]
        self.beh = b
        self.pi_fixed_groups = np.where(np.isnan(sys.group_fixed_pi), 0.0, sys.group_fixed_pi)
        ref_pi = np.nanmax(np.concatenate([sys.group_fixed_pi, sets.pi_set, [1e10]]))
        self.pi_s = float(ref_pi)
        # withdrawal per group (kg/s): demands minus fixed-flow supplies
        self.w_group = np.bincount(sys.group, weights=withdrawal, minlength=sys.n_groups)
        self.q_s = float(max(np.abs(withdrawal).sum() / 2.0, 1e-3))
        # pipes among eq arcs
        pos = np.full(net.n_arcs, -1, dtype=np.int64)
        pos[eq] = np.arange(len(eq))
        self.pos = pos
        P = net.pipe
        self.p_sel = np.flatnonzero(pos[P.arc] >= 0)
        self.p_row = pos[P.arc[self.p_sel]]
        arc = P.arc[self.p_sel]
        self.p_dh = net.elevation[net.arc_to[arc]] - net.elevation[net.arc_from[arc]]
        R = net.resistor
        self.r_sel = np.flatnonzero(pos[R.arc] >= 0)
        self.r_row = pos[R.arc[self.r_sel]]
        U = net.pump
        self.u_sel = np.flatnonzero(pos[U.arc] >= 0)
        self.u_row = pos[U.arc[self.u_sel]]
        self.rows = {beh: np.flatnonzero(b == beh) for beh in Behaviour}
        tw = np.flatnonzero(sys.twin_of >= 0)
        for field, vals in (("set point", sets.pi_set), ("ratio", sets.ratio2)):
            a, p = vals[tw], vals[sys.twin_of[tw]]
            bad = ~((a == p) | (np.isnan(a) & np.isnan(p)))
            if bad.any():
                from gasgrid.errors import TopologyError

                k = tw[np.argmax(bad)]
                raise TopologyError(
                    f"{net.arc_ids[k]!r} and {net.arc_ids[sys.twin_of[k]]!r} run in parallel with different {field}s; "
                    "parallel regulators or stations must share their set point (or give one another mode)"
                )
        self.pi_set = sets.pi_set[eq]
        self.ratio2 = sets.ratio2[eq]
        self.q_set = sets.q_set[eq]
        self.power_set = sets.power_set[eq]
        # stations on power control: index into the compressor block
        cs_of_arc = np.full(net.n_arcs, -1, dtype=np.int64)
        cs_of_arc[net.compressor.arc] = np.arange(len(net.compressor))
        self.pw_rows = self.rows[Behaviour.POWER]
        self.pw_cs = cs_of_arc[eq[self.pw_rows]]
        self.p_s = float(max(np.nanmax(self.power_set[self.pw_rows], initial=0.0), 1e6))

    # --- unknowns <-> physical ---------------------------------------------------------------------
    def group_pi(self, x: F64) -> F64:
        sys = self.sys
        pi = self.pi_fixed_groups.copy()
        free = sys.free_col >= 0
        pi[free] = x[sys.free_col[free]] * self.pi_s
        return pi

    def flows(self, x: F64) -> F64:
        return x[self.sys.n_free :]

    # --- residual and Jacobian ---------------------------------------------------------------------
    def __call__(self, x: F64, jacobian: bool = True, picard_q: F64 | None = None) -> tuple[F64, sp.spmatrix | None]:
        sys, net = self.sys, self.net
        pi = self.group_pi(x)
        q = self.flows(x)
        pf = pi[sys.g_from]
        pt = pi[sys.g_to]
        m = len(q)
        Fa = np.zeros(m)
        d_from = np.zeros(m)
        d_to = np.zeros(m)
        d_q = np.zeros(m)
        row_scale = np.full(m, 1.0 / self.pi_s)

        r = self.p_row
        if len(r):
            P = net.pipe
            s = self.p_sel
            qa = np.abs(q[r])
            lam, dln = darcy_friction(
                P.law[s], qa, P.diameter[s], P.roughness[s], net.gas.viscosity, P.lambda_fixed[s],
                relative_density=net.gas.relative_density, temperature=P.temperature[s],
            )
            out = pipe_residual(
                pf[r], pt[r], q[r], length=P.length[s], diameter=P.diameter[s], dh=self.p_dh,
                temperature=P.temperature[s], lam=lam, dlnlam=dln, efficiency=P.efficiency[s], gas=net.gas,
                picard_q=None if picard_q is None else picard_q[r],
            )
            Fa[r], d_from[r], d_to[r], d_q[r] = out.F, out.dF_dpi_from, out.dF_dpi_to, out.dF_dq
        r = self.r_row
        if len(r):
            R = net.resistor
            s = self.r_sel
            out = resistor_residual(
                pf[r], pt[r], q[r], drag=R.drag[s], diameter=R.diameter[s], dp_fixed=R.dp_fixed[s],
                temperature=net.temperature, gas=net.gas, picard_q=None if picard_q is None else picard_q[r],
                q_reg=1e-3 * self.q_s, q_reg_drag=1e-6 * self.q_s,
            )
            Fa[r], d_from[r], d_to[r], d_q[r] = out.F, out.dF_dpi_from, out.dF_dpi_to, out.dF_dq
        r = self.u_row
        if len(r):
            from gasgrid.physics.pump import pump_residual

            U, s = net.pump, self.u_sel
            out = pump_residual(pf[r], pt[r], q[r], c0=U.c0[s], c1=U.c1[s], c2=U.c2[s], temperature=net.temperature,
                                gas=net.gas)
            Fa[r], d_from[r], d_to[r], d_q[r] = out.F, out.dF_dpi_from, out.dF_dpi_to, out.dF_dq
        r = self.rows[Behaviour.SET_TO]
        Fa[r] = pt[r] - self.pi_set[r]
        d_to[r] = 1.0
        r = self.rows[Behaviour.SET_FROM]
        Fa[r] = pf[r] - self.pi_set[r]
        d_from[r] = 1.0
        r = self.rows[Behaviour.RATIO]
        Fa[r] = pt[r] - self.ratio2[r] * pf[r]
        d_to[r] = 1.0
        d_from[r] = -self.ratio2[r]
        r = self.rows[Behaviour.FLOW]
        Fa[r] = q[r] - self.q_set[r]
        d_q[r] = 1.0
        row_scale[r] = 1.0 / self.q_s
        r = self.pw_rows
        if len(r):
            from gasgrid.physics.compressor import station_power

            C, k = net.compressor, self.pw_cs
            st = station_power(
                q[r], np.sqrt(np.maximum(pf[r], PI_FLOOR)), np.sqrt(np.maximum(pt[r], PI_FLOOR)),
                T_suction=C.suction_temperature[k], efficiency=C.efficiency[k], polytropic=C.polytropic[k],
                electric=C.electric[k], driver_efficiency=C.driver_efficiency[k], gas=net.gas,
            )
            Fa[r] = st.power_shaft - self.power_set[r]
            d_q[r] = st.dP_dq
            d_from[r] = st.dP_dpi_from
            d_to[r] = st.dP_dpi_to
            row_scale[r] = 1.0 / self.p_s

        # balances of free groups: inflow - outflow - withdrawal
        bal = -self.w_group.copy()
        np.add.at(bal, sys.g_to, q)
        np.subtract.at(bal, sys.g_from, q)
        free = sys.free_col >= 0
        Fb = np.zeros(sys.n_free)
        Fb[sys.free_col[free]] = bal[free]
        F = np.concatenate([Fb / self.q_s, Fa * row_scale])
        if not jacobian:
            return F, None
        vals = coo_order_values(
            sys,
            np.full(m, 1.0 / self.q_s),
            np.full(m, -1.0 / self.q_s),
            d_from * row_scale * self.pi_s,
            d_to * row_scale * self.pi_s,
            d_q * row_scale,
        )
        return F, sys.matrix(vals)
