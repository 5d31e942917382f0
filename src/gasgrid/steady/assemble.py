"""Residual and Jacobian of the steady system, vectorised per arc behaviour.

Unknowns x = [pi of free super-nodes / pi_scale, arc flows in kg/s]. Rows: mass balance of free super-nodes
(kg/s / q_scale) and one equation per arc (Pa^2 / pi_scale, or kg/s / q_scale for throughput control).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gasgrid.gas import EOS
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.physics.friction import FIXED, darcy_friction
from gasgrid.physics.kernels import (
    COMPILED_LAWS,
    EOS_CNGA,
    EOS_GIVEN,
    EOS_IDEAL,
    EOS_PAPAY,
    mean_pressure_kernel,
    pipe_kernel,
    resistor_kernel,
)
from gasgrid.physics.pipe import PI_FLOOR
from gasgrid.steady.system import Behaviour, SteadySystem, member

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class ArcSetPoints:
    """Per-arc set points used by the equations (NaN where not applicable)."""

    pi_set: F64  # Pa^2 for SET_TO / SET_FROM
    ratio2: F64  # ratio^2 for RATIO
    q_set: F64  # kg/s for FLOW
    power_set: F64  # W (shaft) for POWER


_BEHAVIOURS = [(beh, int(beh)) for beh in Behaviour]
_BEHAVIOUR_EDGES = np.arange(len(Behaviour) + 1)


class Assembler:
    """Evaluates F(x) and J(x) for one :class:`SteadySystem` (pure given its inputs)."""

    def __init__(self, net: CompiledNetwork, sys: SteadySystem, sets: ArcSetPoints, withdrawal: F64) -> None:
        self.net = net
        self.sys = sys
        eq = sys.eq_arcs
        b = sys.behaviour[eq]
        self.beh = b
        self.pi_fixed_groups = np.where(np.isnan(sys.group_fixed_pi), 0.0, sys.group_fixed_pi)
        # fmax ignores NaN (groups without a reference, arcs without a set point)
        self.pi_s = float(max(np.fmax.reduce(sys.group_fixed_pi, initial=1e10),
                              np.fmax.reduce(sets.pi_set, initial=1e10)))
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
        order = np.argsort(b, kind="stable")
        bounds = np.searchsorted(b[order], _BEHAVIOUR_EDGES)
        self.rows = {beh: order[bounds[k]:bounds[k + 1]] for beh, k in _BEHAVIOURS}
        tw = np.flatnonzero(sys.twin_of >= 0)
        for field, vals in (("set point", sets.pi_set), ("ratio", sets.ratio2)) if len(tw) else ():
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
        self.pw_rows = self.rows[Behaviour.POWER]
        self.pw_cs = np.zeros(0, dtype=np.int64)
        self.p_s = 1e6
        if len(self.pw_rows):
            cs_of_arc = np.full(net.n_arcs, -1, dtype=np.int64)
            cs_of_arc[net.compressor.arc] = np.arange(len(net.compressor))
            self.pw_cs = cs_of_arc[eq[self.pw_rows]]
            self.p_s = float(max(np.nanmax(self.power_set[self.pw_rows], initial=0.0), 1e6))
        self._prepare_kernels()

    def _prepare_kernels(self) -> None:
        """Contiguous per-element inputs of the compiled pipe and resistor kernels, and index maps."""
        net, sys = self.net, self.sys
        P, s = net.pipe, self.p_sel
        n = len(s)
        self.k_law = np.ascontiguousarray(P.law[s], dtype=np.int64)
        self.k_D = np.ascontiguousarray(P.diameter[s], dtype=float)
        self.k_rough = np.ascontiguousarray(P.roughness[s], dtype=float)
        self.k_mu = np.full(n, float(net.gas.viscosity))
        self.k_len = np.ascontiguousarray(P.length[s], dtype=float)
        self.k_dh = np.ascontiguousarray(self.p_dh, dtype=float)
        self.k_T = np.ascontiguousarray(P.temperature[s], dtype=float)
        self.k_eff = np.ascontiguousarray(P.efficiency[s], dtype=float)
        self.k_lam = np.zeros(n)
        self.k_dln = np.zeros(n)
        self.k_x = np.zeros(n)  # Colebrook 1/sqrt(lambda) of the last evaluation (warm start)
        fixed = self.k_law == FIXED
        self.k_lam[fixed] = P.lambda_fixed[s][fixed]
        # classic equations and AGA: λ by numpy, passed in (fixed λ is passed in as given)
        self.k_numpy_laws = np.flatnonzero(~member(self.k_law, COMPILED_LAWS))
        R = net.resistor
        self.k_r_drag = np.ascontiguousarray(R.drag[self.r_sel], dtype=float)
        self.k_r_D = np.ascontiguousarray(R.diameter[self.r_sel], dtype=float)
        self.k_r_dp = np.ascontiguousarray(R.dp_fixed[self.r_sel], dtype=float)
        self.eos_code = {EOS.IDEAL: EOS_IDEAL, EOS.PAPAY: EOS_PAPAY, EOS.CNGA: EOS_CNGA}.get(net.gas.eos, EOS_GIVEN)
        gas = net.gas
        self.eos_args = (self.eos_code, float(gas.pc), float(gas.Tc), float(gas.relative_density))
        self._none = np.zeros(0)
        # balances and Jacobian value order
        free = np.flatnonzero(sys.free_col >= 0)
        self.free_groups = free
        self.free_cols = sys.free_col[free]
        self.active_rows = [beh for beh in (Behaviour.SET_TO, Behaviour.SET_FROM, Behaviour.RATIO, Behaviour.FLOW)
                            if len(self.rows[beh])]

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
    def __call__(self, x: F64, jacobian: bool = True, picard_q: F64 | None = None) -> tuple[F64, ArcJacobian | None]:
        sys, net = self.sys, self.net
        pi = self.pi_fixed_groups.copy()
        pi[self.free_groups] = x[self.free_cols] * self.pi_s
        q = x[sys.n_free :]
        pf = pi[sys.g_from]
        pt = pi[sys.g_to]
        m = len(q)
        Fa = np.zeros(m)
        d_from = np.zeros(m)
        d_to = np.zeros(m)
        d_q = np.zeros(m)
        row_scale = np.full(m, 1.0 / self.pi_s)
        use_picard = picard_q is not None
        gas = net.gas

        r = self.p_row
        if len(r):
            pfr, ptr, qr = pf[r], pt[r], q[r]
            if self.eos_code == EOS_GIVEN:
                pm = np.empty(len(r))
                mean_pressure_kernel(pfr, ptr, pm)
                z, dz = gas.z_and_dz_dp(pm, self.k_T)
                z, dz = np.ascontiguousarray(z, dtype=float), np.ascontiguousarray(dz, dtype=float)
            else:
                z = dz = self._none
            if len(self.k_numpy_laws):
                k = self.k_numpy_laws
                P, s = net.pipe, self.p_sel[k]
                self.k_lam[k], self.k_dln[k] = darcy_friction(
                    P.law[s], np.abs(qr[k]), P.diameter[s], P.roughness[s], gas.viscosity, P.lambda_fixed[s],
                    relative_density=gas.relative_density, temperature=P.temperature[s],
                )
            pq = picard_q[r] if use_picard else qr
            F_, df, dt, dq = np.empty(len(r)), np.empty(len(r)), np.empty(len(r)), np.empty(len(r))
            pipe_kernel(pfr, ptr, qr, self.k_law, self.k_D, self.k_rough, self.k_mu, self.k_lam, self.k_dln,
                        self.k_len, self.k_dh, self.k_T, self.k_eff, z, dz, gas.R_specific, *self.eos_args, pq,
                        use_picard, F_, df, dt, dq, self.k_x)
            Fa[r], d_from[r], d_to[r], d_q[r] = F_, df, dt, dq
        r = self.r_row
        if len(r):
            pfr, ptr, qr = pf[r], pt[r], q[r]
            if self.eos_code == EOS_GIVEN:
                pmr = 0.5 * (np.sqrt(np.maximum(pfr, PI_FLOOR)) + np.sqrt(np.maximum(ptr, PI_FLOOR)))
                z = np.ascontiguousarray(gas.z(pmr, net.temperature), dtype=float)
            else:
                z = self._none
            pq = picard_q[r] if use_picard else qr
            F_, df, dt, dq = np.empty(len(r)), np.empty(len(r)), np.empty(len(r)), np.empty(len(r))
            resistor_kernel(pfr, ptr, qr, self.k_r_drag, self.k_r_D, self.k_r_dp, z, gas.R_specific,
                            float(net.temperature), *self.eos_args, pq, use_picard, 1e-3 * self.q_s, 1e-6 * self.q_s,
                            F_, df, dt, dq)
            Fa[r], d_from[r], d_to[r], d_q[r] = F_, df, dt, dq
        r = self.u_row
        if len(r):
            from gasgrid.physics.pump import pump_residual

            U, s = net.pump, self.u_sel
            out = pump_residual(pf[r], pt[r], q[r], c0=U.c0[s], c1=U.c1[s], c2=U.c2[s], temperature=net.temperature,
                                gas=gas)
            Fa[r], d_from[r], d_to[r], d_q[r] = out.F, out.dF_dpi_from, out.dF_dpi_to, out.dF_dq
        for beh in self.active_rows:
            r = self.rows[beh]
            if beh == Behaviour.SET_TO:
                Fa[r] = pt[r] - self.pi_set[r]
                d_to[r] = 1.0
            elif beh == Behaviour.SET_FROM:
                Fa[r] = pf[r] - self.pi_set[r]
                d_from[r] = 1.0
            elif beh == Behaviour.RATIO:
                Fa[r] = pt[r] - self.ratio2[r] * pf[r]
                d_to[r] = 1.0
                d_from[r] = -self.ratio2[r]
            else:  # FLOW
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
                electric=C.electric[k], driver_efficiency=C.driver_efficiency[k], gas=gas,
            )
            Fa[r] = st.power_shaft - self.power_set[r]
            d_q[r] = st.dP_dq
            d_from[r] = st.dP_dpi_from
            d_to[r] = st.dP_dpi_to
            row_scale[r] = 1.0 / self.p_s

        # balances of free groups: inflow - outflow - withdrawal
        ng = sys.n_groups
        bal = -self.w_group
        if m:
            bal = bal + np.bincount(sys.g_to, weights=q, minlength=ng) - np.bincount(sys.g_from, weights=q, minlength=ng)
        F = np.empty(sys.n)
        F[self.free_cols] = bal[self.free_groups] / self.q_s
        F[sys.n_free :] = Fa * row_scale
        if not jacobian:
            return F, None
        return F, ArcJacobian(self, d_from * row_scale * self.pi_s, d_to * row_scale * self.pi_s, d_q * row_scale)


@dataclass(frozen=True)
class ArcJacobian:
    """The Jacobian of the steady system in structured form.

    Balance rows hold +-1/q_s for the arcs entering/leaving a free super-node; each arc row holds ``c_from``
    and ``c_to`` (derivatives with respect to the scaled end pressures, where those are unknowns) and ``d_q``
    (with respect to its own flow). :meth:`tocsc` gives the assembled sparse matrix for general solvers;
    :class:`gasgrid.steady.nodal.NodalLU` uses the structure directly."""

    asm: Assembler
    c_from: F64
    c_to: F64
    d_q: F64

    @property
    def sys(self) -> SteadySystem:
        return self.asm.sys

    @property
    def inv_qs(self) -> float:
        return 1.0 / self.asm.q_s

    @property
    def shape(self) -> tuple[int, int]:
        return (self.sys.n, self.sys.n)

    def tocsc(self) -> sp.csc_matrix:
        """The assembled Jacobian (CSC, fixed sparsity pattern of the system)."""
        sys = self.sys
        vals = np.concatenate(
            [
                np.full(int(np.count_nonzero(sys.brow_to >= 0)), self.inv_qs),
                np.full(int(np.count_nonzero(sys.brow_from >= 0)), -self.inv_qs),
                self.c_from[sys.col_from >= 0],
                self.c_to[sys.col_to >= 0],
                self.d_q,
            ]
        )
        return sys.matrix(vals)
