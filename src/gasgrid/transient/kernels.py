"""Compiled (numba) residual and Jacobian of the semi-discrete transient equations of :mod:`gasgrid.transient.system`.

Contract: pure functions of arrays, no Python objects. :func:`evaluate` writes the storage ``M(x)`` and flux
``F(x; u)`` of every row (and, if asked, the time-discrete residual ``R = c M - F - history``);
:func:`jacobian` writes ``c dM/dx - dF/dx`` into the CSC ``data`` of the grid's fixed pattern through its slot map
(entries in the order of :func:`gasgrid.transient.grid._pattern`); :func:`storage` writes ``M`` alone. Densities
come in per density point (:mod:`gasgrid.transient.gas_kernels`), the friction of every face from
:mod:`gasgrid.transient.friction_kernels`. Units: pressures Pa, flows kg/s, masses kg, algebraic rows Pa.

The array bundles (built once by :class:`~gasgrid.transient.system.System`):

* ``lay``: n_nodes, n_pressure, offset of faces, offset of other arcs, offset of pressure supplies, n;
* ``fi`` (rows ``FI_*``) and ``fk`` (rows ``FK_*``): per face, pressure unknowns, density points, pipe, law, and
  the constants K = h / (2 D A^2 E^2) [m^-5], laminar floor of lambda |q| [kg/s], h / A [m^-1], g dz [m^2/s^2];
* ``ai`` / ``ap`` (rows ``AI_*`` / ``AP_*``): per non-pipe arc, end nodes, their density points (network
  temperature) and the resistor data (drag, area [m^2], fixed drop [Pa]).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from gasgrid.transient._jit import JIT
from gasgrid.transient.friction_kernels import (
    FP_D,
    FP_LAM_FIXED,
    FP_LAM_FROZEN,
    FP_MU,
    frozen,
    laminar_floor,
    law_at,
    local_model,
)
from gasgrid.transient.gas_kernels import densities

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]


Q_SCALE = 1e4  # Pa per kg/s: weight of flows in algebraic rows
RESISTOR_Q_EPS = 1e-3  # kg/s: q|q| -> q sqrt(q^2 + eps^2) keeps resistors differentiable at zero flow
FIXED_DP_Q_EPS = 0.1  # kg/s: smoothing of the flow-direction sign of fixed pressure-drop resistors
POWER_SCALE = Q_SCALE / 1e5  # Pa per W

# arc modes (gasgrid.transient.system.ArcMode)
LINK, CLOSED, RATIO, P_TO, P_FROM, FLOW, RESISTOR, REGULATOR, POWER, CHECK = range(10)

L_NODES, L_NPRES, L_OFF_FACE, L_OFF_OTHER, L_OFF_PS, L_N = range(6)
FI_LEFT, FI_RIGHT, FI_DL, FI_DR, FI_PIPE, FI_LAW = range(6)
FK_K, FK_LAM_Q_LAM, FK_H_OVER_A, FK_G_DZ = range(4)
AI_FROM, AI_TO, AI_DPF, AI_DPT, AI_CS = range(5)
AP_ZETA, AP_AREA, AP_DP_FIX = range(3)


@numba.njit(**JIT)
def faces(x: F64, rho: F64, drho: F64, of: int, fi: I64, fk: F64, fp: F64, fmode: int, xfac: float, inv_q_ref: F64,
          lam_ref: F64, dln_ref: F64, pipe_open: B, want_d: bool, G: F64, D: F64) -> None:
    """Momentum-row flux G [Pa] of every face and, with ``want_d``, dG/dp_left, dG/dp_right, dG/dq into the rows of
    D (closed pipes: G = Q_SCALE q). The friction follows ``fmode`` (friction_kernels.local_model; the reference
    flows come as reciprocals)."""
    for i in range(fi.shape[1]):
        q = x[of + i]
        if not pipe_open[fi[FI_PIPE, i]]:
            G[i] = Q_SCALE * q
            if want_d:
                D[0, i], D[1, i], D[2, i] = 0.0, 0.0, Q_SCALE
            continue
        aq = abs(q)
        if fmode == 1:
            lam, dln, far = local_model(aq, 1, 0.0, inv_q_ref[i], lam_ref[i], dln_ref[i])
        else:
            lam, dln, far = local_model(aq, fmode, fp[FP_LAM_FIXED, i], 1.0, 0.0, 0.0)
        if far:  # Newton iterates far from the reference (a valve opening, say): the law itself
            if frozen(aq, fp[FP_D, i], fp[FP_MU, i]):  # no flow (inline: a call per face would cost)
                lam, dln = fp[FP_LAM_FROZEN, i], 0.0
            else:
                lam, dln = law_at(i, fi[FI_LAW, i], aq, fp, xfac)
        lam_q, fac = laminar_floor(lam, dln, aq, fk[FK_LAM_Q_LAM, i])
        dl, dr = fi[FI_DL, i], fi[FI_DR, i]
        rbar = 0.5 * (rho[dl] + rho[dr])
        inv_rbar = 1.0 / rbar
        K = fk[FK_K, i]
        g_dz = fk[FK_G_DZ, i]
        fr = K * lam_q * q * inv_rbar
        G[i] = x[fi[FI_RIGHT, i]] - x[fi[FI_LEFT, i]] + fr + rbar * g_dz
        if want_d:
            dG_drbar = -fr * inv_rbar + g_dz
            D[0, i] = -1.0 + dG_drbar * 0.5 * drho[dl]
            D[1, i] = 1.0 + dG_drbar * 0.5 * drho[dr]
            D[2, i] = K * lam_q * fac * inv_rbar


@numba.njit(**JIT)
def _resistor(pf: float, pt: float, q: float, zeta: float, area: float, dp_fix: float, rf: float, drf: float,
              rt: float, drt: float) -> tuple[float, float, float, float]:
    """Resistor row G = p_from - p_to - drop(q) [Pa] and dG/dp_from, dG/dp_to, dG/dq."""
    if math.isfinite(dp_fix):
        sf = math.sqrt(q * q + FIXED_DP_Q_EPS**2)
        return pf - pt - dp_fix * q / sf, 1.0, -1.0, -dp_fix * FIXED_DP_Q_EPS**2 / sf**3
    rbar = 0.5 * (rf + rt)
    sq = math.sqrt(q * q + RESISTOR_Q_EPS**2)
    k = zeta / (2.0 * area * area)
    drop = k * q * sq / rbar
    ddrop_drbar = -drop / rbar
    return (pf - pt - drop, 1.0 - ddrop_drbar * 0.5 * drf, -1.0 - ddrop_drbar * 0.5 * drt,
            -(k * (sq + q * q / sq) / rbar))


@numba.njit(**JIT)
def arc_row(j: int, mode: int, v: float, x: F64, oo: int, ai: I64, ap: F64, rho: F64, drho: F64,
            pw: F64) -> tuple[float, float, float, float]:
    """Algebraic row G(p_from, p_to, q) of non-pipe arc j in ``mode`` [Pa] and its partial derivatives
    (``pw``: station power rows of :class:`~gasgrid.transient.gas_kernels.StationKernel` for POWER arcs)."""
    pf = x[ai[AI_FROM, j]]
    pt = x[ai[AI_TO, j]]
    q = x[oo + j]
    if mode == LINK:
        return pf - pt, 1.0, -1.0, 0.0
    if mode == CLOSED:
        return Q_SCALE * q, 0.0, 0.0, Q_SCALE
    if mode == FLOW:
        return Q_SCALE * (q - v), 0.0, 0.0, Q_SCALE
    if mode == RATIO:
        return pt - v * pf, -v, 1.0, 0.0
    if mode == P_TO:
        return pt - v, 0.0, 1.0, 0.0
    if mode == P_FROM:
        return pf - v, 1.0, 0.0, 0.0
    if mode == RESISTOR:
        df, dt = ai[AI_DPF, j], ai[AI_DPT, j]
        return _resistor(pf, pt, q, ap[AP_ZETA, j], ap[AP_AREA, j], ap[AP_DP_FIX, j], rho[df], drho[df], rho[dt],
                         drho[dt])
    if mode in (REGULATOR, CHECK):
        # complementarity q >= 0, p_to >= target, q (p_to - target) = 0 as a semismooth min: flowing elements
        # hold their outlet at the target, closed ones carry nothing against a higher outlet
        follows = pf <= v if mode == REGULATOR else True
        rise = pt - (pf if follows else v)
        if Q_SCALE * q <= rise:
            return Q_SCALE * q, 0.0, 0.0, Q_SCALE
        return rise, (-1.0 if follows else 0.0), 1.0, 0.0
    if mode == POWER:
        return (POWER_SCALE * (pw[0, j] - v), POWER_SCALE * 2.0 * pf * pw[3, j], POWER_SCALE * 2.0 * pt * pw[4, j],
                POWER_SCALE * pw[2, j])
    return math.nan, math.nan, math.nan, math.nan


@numba.njit(**JIT)
def evaluate(x: F64, dp_var: I64, dp_T: I64, dp_single: int, RT: F64, zkind: int, zpar: F64, zcoef: F64, zoff: I64,
             zh: F64, zdz0: F64, rho: F64, drho: F64, lay: I64, fi: I64, fk: F64, fp: F64, fmode: int, xfac: float,
             inv_q_ref: F64, lam_ref: F64, dln_ref: F64, atom_var: I64, atom_dp: I64, atom_vol: F64, ai: I64, ap: F64,
             ps_sup: I64, ps_node: I64, sup_node: I64, sup_fixed: B, dem_node: I64, supply_p: F64, supply_on: B,
             supply_flow: F64, demand_flow: F64, arc_mode: I64, arc_value: F64, pipe_open: B, fuel: F64, pw: F64,
             inertia: float, face_flux: bool, c: float, hist: F64, want_r: bool, M: F64, F: F64, R: F64) -> float:
    """Densities at the density points into rho, drho (``zkind`` < 0: given), then M(x) and F(x; u) into M, F (F
    without the pipe-face flows in the mass balances when ``face_flux`` is False: the explicit scheme's implicit
    part); with ``want_r`` also R = c M - F - hist. Returns the largest pressure beyond the gas tables (0.0: none;
    else the caller extends them and evaluates again)."""
    over = 0.0
    if zkind >= 0:
        over = densities(x, dp_var, dp_T, dp_single, RT, zkind, zpar, zcoef, zoff, zh, zdz0, rho, drho)
    n_nodes, of, oo, ops = lay[L_NODES], lay[L_OFF_FACE], lay[L_OFF_OTHER], lay[L_OFF_PS]
    M[:] = 0.0
    F[:] = 0.0
    for a in range(atom_var.size):
        M[atom_var[a]] += atom_vol[a] * rho[atom_dp[a]]
    G = np.empty(oo - of)
    faces(x, rho, drho, of, fi, fk, fp, fmode, xfac, inv_q_ref, lam_ref, dln_ref, pipe_open, False, G, G.reshape(1, -1))
    for i in range(oo - of):
        q = x[of + i]
        if face_flux:
            F[fi[FI_RIGHT, i]] += q
            F[fi[FI_LEFT, i]] -= q
        if pipe_open[fi[FI_PIPE, i]]:
            M[of + i] = inertia * fk[FK_H_OVER_A, i] * q
        F[of + i] = -G[i]
    for j in range(ops - oo):
        F[oo + j] = -arc_row(j, arc_mode[j], arc_value[j], x, oo, ai, ap, rho, drho, pw)[0]
        qa = x[oo + j]
        F[ai[AI_TO, j]] += qa
        F[ai[AI_FROM, j]] -= qa
    for k in range(ps_sup.size):
        s = x[ops + k]
        i = ps_sup[k]
        F[ops + k] = -(x[ps_node[k]] - supply_p[i] if supply_on[i] else Q_SCALE * s)
    bnd = node_boundary(x, ops, n_nodes, sup_node, supply_on, sup_fixed, supply_flow, dem_node, demand_flow, ps_sup,
                        ps_node, fuel)
    for nd in range(n_nodes):
        F[nd] += bnd[nd]
    if want_r:
        for r in range(M.size):
            R[r] = c * M[r] - F[r] - hist[r]
    return over


@numba.njit(**JIT)
def jacobian(x: F64, dp_var: I64, dp_T: I64, dp_single: int, RT: F64, zkind: int, zpar: F64, zcoef: F64, zoff: I64,
             zh: F64, zdz0: F64, rho: F64, drho: F64, lay: I64, fi: I64, fk: F64, fp: F64, fmode: int, xfac: float,
             inv_q_ref: F64, lam_ref: F64, dln_ref: F64, atom_dp: I64, atom_vol: F64, ai: I64, ap: F64, ps_sup: I64,
             supply_on: B, arc_mode: I64, arc_value: F64, pipe_open: B, pw: F64, inertia: float, face_flux: bool,
             c: float, slot: I64, data: F64) -> float:
    """Densities as in :func:`evaluate`, then c dM/dx - dF/dx into the CSC ``data`` (pattern entry k adds to
    data[slot[k]], see grid._pattern). Returns the largest pressure beyond the gas tables (0.0: none)."""
    over = 0.0
    if zkind >= 0:
        over = densities(x, dp_var, dp_T, dp_single, RT, zkind, zpar, zcoef, zoff, zh, zdz0, rho, drho)
    of, oo, ops = lay[L_OFF_FACE], lay[L_OFF_OTHER], lay[L_OFF_PS]
    nf, na, nps = oo - of, ops - oo, ps_sup.size
    data[:] = 0.0
    k = 0
    for a in range(atom_dp.size):
        data[slot[k]] += c * atom_vol[a] * drho[atom_dp[a]]
        k += 1
    flux = 1.0 if face_flux else 0.0
    for i in range(nf):  # face flows in the mass balance of their left (outflow) and right (inflow) points
        data[slot[k + i]] += flux
        data[slot[k + nf + i]] -= flux
    k += 2 * nf
    G = np.empty(nf)
    D = np.empty((3, nf))
    faces(x, rho, drho, of, fi, fk, fp, fmode, xfac, inv_q_ref, lam_ref, dln_ref, pipe_open, True, G, D)
    for i in range(nf):
        mom = c * inertia * fk[FK_H_OVER_A, i] if pipe_open[fi[FI_PIPE, i]] else 0.0
        data[slot[k + i]] += D[0, i]
        data[slot[k + nf + i]] += D[1, i]
        data[slot[k + 2 * nf + i]] += mom + D[2, i]
    k += 3 * nf
    for j in range(na):
        _, a, b, cq = arc_row(j, arc_mode[j], arc_value[j], x, oo, ai, ap, rho, drho, pw)
        data[slot[k + j]] += 1.0
        data[slot[k + na + j]] -= 1.0
        data[slot[k + 2 * na + j]] += a
        data[slot[k + 3 * na + j]] += b
        data[slot[k + 4 * na + j]] += cq
    k += 5 * na
    for m in range(nps):
        on = supply_on[ps_sup[m]]
        data[slot[k + m]] -= 1.0
        data[slot[k + nps + m]] += 1.0 if on else 0.0
        data[slot[k + 2 * nps + m]] += 0.0 if on else Q_SCALE
    return over


@numba.njit(**JIT)
def storage(x: F64, dp_var: I64, dp_T: I64, dp_single: int, RT: F64, zkind: int, zpar: F64, zcoef: F64, zoff: I64,
            zh: F64, zdz0: F64, rho: F64, drho: F64, lay: I64, fk: F64, atom_var: I64, atom_dp: I64, atom_vol: F64,
            inertia: float, M: F64) -> float:
    """Densities as in :func:`evaluate`, then M(x) into M: gas mass of every pressure row [kg], inertia h / A q of
    every face row (open or not). Returns the largest pressure beyond the gas tables (0.0: none)."""
    over = 0.0
    if zkind >= 0:
        over = densities(x, dp_var, dp_T, dp_single, RT, zkind, zpar, zcoef, zoff, zh, zdz0, rho, drho)
    of, oo = lay[L_OFF_FACE], lay[L_OFF_OTHER]
    M[:] = 0.0
    for a in range(atom_var.size):
        M[atom_var[a]] += atom_vol[a] * rho[atom_dp[a]]
    for i in range(oo - of):
        M[of + i] = inertia * fk[FK_H_OVER_A, i] * x[of + i]
    return over


@numba.njit(**JIT)
def below(x: F64, n: int, cap: float) -> bool:
    """Whether x[:n] < cap everywhere (False for NaN)."""
    for i in range(n):  # noqa: SIM110 (a loop: numba compiles it, all() of a generator it would not)
        if not x[i] < cap:
            return False
    return True


@numba.njit(**JIT)
def scaled_max(dx: F64, inv_scale: F64) -> float:
    """max |dx_i| inv_scale_i (NaN if any entry is NaN)."""
    out = 0.0
    for i in range(dx.size):
        v = abs(dx[i]) * inv_scale[i]
        if v > out:
            out = v
        elif v != v:
            return v
    return out


@numba.njit(**JIT)
def node_boundary(x: F64, ops: int, n_nodes: int, sup_node: I64, supply_on: B, sup_fixed: B, supply_flow: F64,
                  dem_node: I64, demand_flow: F64, ps_sup: I64, ps_node: I64, fuel: F64) -> F64:
    """Net boundary inflow per node [kg/s]: flow supplies in service, minus demands, plus the pressure supplies'
    flow unknowns (``x[ops + k]``), minus stations' fuel drawn at their inlet node."""
    bnd = np.zeros(n_nodes)
    for i in range(sup_node.size):
        if supply_on[i] and not sup_fixed[i]:
            bnd[sup_node[i]] += supply_flow[i]
    for i in range(dem_node.size):
        bnd[dem_node[i]] -= demand_flow[i]
    for k in range(ps_sup.size):
        bnd[ps_node[k]] += x[ops + k]
    for nd in range(fuel.size):
        bnd[nd] -= fuel[nd]
    return bnd


@numba.njit(**JIT)
def boundary_flows(x: F64, off_ps: int, ps_sup: I64, supply_on: B, sup_fixed: B, supply_flow: F64, demand_flow: F64,
                   fuel: F64) -> tuple[float, float]:
    """Total injection of all supplies [kg/s] (pressure supplies: their unknowns) and total withdrawal of all
    demands and station fuel, summed in supply / demand / node order."""
    inj = np.zeros(supply_on.size)
    for i in range(inj.size):
        if supply_on[i] and not sup_fixed[i]:
            inj[i] = supply_flow[i]
    for k in range(ps_sup.size):
        inj[ps_sup[k]] = x[off_ps + k]
    b_in = 0.0
    for v in inj:
        b_in += v
    b_out = 0.0
    for v in demand_flow:
        b_out += v
    fuel_sum = 0.0
    for v in fuel:
        fuel_sum += v
    return b_in, b_out + fuel_sum


@numba.njit(**JIT)
def extrapolate(x: F64, x1: F64, x2: F64, w: float, quadratic: bool, n_pressure: int, out: F64) -> bool:
    """Predictor into out: 3 (x - x1) + x2 (quadratic, equal steps) or x + w (x - x1); whether its pressures
    (the first n_pressure entries) stay positive."""
    positive = True
    for i in range(x.size):
        v = 3.0 * (x[i] - x1[i]) + x2[i] if quadratic else x[i] + w * (x[i] - x1[i])
        out[i] = v
        if i < n_pressure and v <= 0.0:
            positive = False
    return positive


__all__ = ["evaluate", "jacobian", "storage"]
