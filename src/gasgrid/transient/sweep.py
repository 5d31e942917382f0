"""Pipe-major kernels for the time-stepping hot path: the step residual and the storage, in one sweep per pipe.

Contract: :func:`residual` returns exactly (operation for operation) the residual ``R = c M - F - history`` of
:func:`gasgrid.transient.kernels.evaluate`, and :func:`storage` the ``M`` of :func:`gasgrid.transient.kernels.storage`,
but walk the pipes one after the other: a pipe's faces and interior points are contiguous in the unknown vector,
its constants (K, laminar floor, h/A, g dz, cell volume, temperature) are per pipe, and each interior point's
density is computed where the sweep first needs it. No per-face index or constant arrays are read and no density
arrays written, which cuts the memory traffic that bounds these kernels on long networks. The tests check both
against the generic kernels.

Array bundles (built once by :class:`~gasgrid.transient.system.System`): ``pi`` (rows ``PI_*``: cells, first face
unknown, first interior-point unknown, from node, to node, law, first face index, temperature index) and ``pk``
(rows ``PK_*``: K, laminar floor of lambda |q|, h/A, g dz, interior cell volume, end half-cell volume) per pipe.
The "small" density points (computed before the sweep) are the pipes' end nodes (two per pipe, at the pipe's
temperature), then the non-pipe arcs' ends (network temperature), then the nodes no pipe reaches.
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
    LOCAL_SPAN,
    close_bounds,
    flow_close,
    frozen,
    laminar_floor,
    law_at,
    local_model,
)
from gasgrid.transient.gas_kernels import Z_TABLE, densities, hermite_interval, hermite_value, z_closed_form
from gasgrid.transient.kernels import (
    AI_FROM,
    AI_TO,
    L_NODES,
    L_OFF_OTHER,
    L_OFF_PS,
    Q_SCALE,
    arc_row,
    node_boundary,
)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

PI_N, PI_FACE, PI_POINT, PI_FROM, PI_TO, PI_LAW, PI_F0, PI_T = range(8)
PK_K, PK_LAM_Q_LAM, PK_H_OVER_A, PK_G_DZ, PK_VOL, PK_VOL_END = range(6)


@numba.njit(**JIT)
def _z_off_table(p: float, kind: int, a: float, b: float, c: float, dz0: float) -> float:
    """Z where no table interval applies: closed forms, NaN, the tables' linear continuation below zero."""
    if kind != Z_TABLE:
        return z_closed_form(p, kind, a, b, c)[0]
    if not math.isfinite(p):
        return math.nan
    return 1.0 + dz0 * p


@numba.njit(**JIT)
def _small_densities(x: F64, small_var: I64, small_ti: I64, RT: F64, zkind: int, zpar: F64, zcoef: F64, zoff: I64,
                     zh: F64, zdz0: F64, rho_s: F64, drho_s: F64) -> float:
    if zkind < 0:
        return 0.0
    return densities(x, small_var, small_ti, -1, RT, zkind, zpar, zcoef, zoff, zh, zdz0, rho_s, drho_s)


@numba.njit(**JIT)
def _pipe_state(x: F64, j: int, pi: I64, rho_i: F64, rho_s: F64, n_nodes: int, zkind: int, zpar: F64, zcoef: F64,
                zoff: I64, zh: F64, zdz0: F64, RT: F64, p: F64, rho: F64) -> float:
    """Pressures p[0..N] and densities rho[0..N] of pipe j's points (end nodes from the small set, interior
    points computed here, or given in rho_i when ``zkind`` < 0); returns the largest pressure beyond its table."""
    n, p0, nf, nt, ti = pi[PI_N, j], pi[PI_POINT, j], pi[PI_FROM, j], pi[PI_TO, j], pi[PI_T, j]
    p[0], rho[0], p[n], rho[n] = x[nf], rho_s[2 * j], x[nt], rho_s[2 * j + 1]
    for k in range(n - 1):
        p[k + 1] = x[p0 + k]
    over = 0.0
    if zkind < 0:
        for k in range(n - 1):
            rho[k + 1] = rho_i[p0 + k - n_nodes]
        return over
    inv_rt = 1.0 / RT[ti]
    base, n_int = zoff[ti], zoff[ti + 1] - zoff[ti]
    inv_h, dz0 = 1.0 / zh[ti], zdz0[ti]
    za, zb, zc = zpar[3 * ti], zpar[3 * ti + 1], zpar[3 * ti + 2]
    for k in range(1, n):
        pk_ = p[k]
        if zkind == Z_TABLE and 0.0 <= pk_ < math.inf:
            kk, t, beyond = hermite_interval(pk_, inv_h, n_int)
            jj = base + kk
            z = hermite_value(t, inv_h, zcoef[0, jj], zcoef[1, jj], zcoef[2, jj], zcoef[3, jj])[0]
            if beyond:
                over = max(over, pk_)
        else:
            z = _z_off_table(pk_, zkind, za, zb, zc, dz0)
        rho[k] = pk_ * (inv_rt * (1.0 / z))
    return over


@numba.njit(**JIT)
def _pipe_rows(x: F64, j: int, pi: I64, pk: F64, fp: F64, fmode: int, xfac: float, inv_q_ref: F64, lam_ref: F64,
               dln_ref: F64, is_open: bool, inertia: float, face_flux: bool, c: float, hist: F64, p: F64, rho: F64,
               R: F64) -> None:
    """Rows of pipe j's faces (momentum) and interior points (mass) from its point pressures and densities."""
    n, f0, p0 = pi[PI_N, j], pi[PI_FACE, j], pi[PI_POINT, j]
    if not is_open:
        for k in range(n):
            R[f0 + k] = c * 0.0 + Q_SCALE * x[f0 + k] - hist[f0 + k]
    elif fmode == 1 and _faces_local(x, j, pi, pk, inv_q_ref, lam_ref, dln_ref, inertia, c, hist, p, rho, R):
        pass  # every face within a factor 2 of its reference flow (the usual case): done
    else:
        _faces_general(x, j, pi, pk, fp, fmode, xfac, inv_q_ref, lam_ref, dln_ref, inertia, c, hist, p, rho, R)
    vol = pk[PK_VOL, j]
    if face_flux:  # interior point k + 1: its gas and the flows of faces k (in) and k + 1 (out)
        for k in range(n - 1):
            R[p0 + k] = c * (0.0 + vol * rho[k + 1]) - ((0.0 + x[f0 + k]) - x[f0 + k + 1]) - hist[p0 + k]
    else:
        for k in range(n - 1):
            R[p0 + k] = c * (0.0 + vol * rho[k + 1]) - 0.0 - hist[p0 + k]


@numba.njit(**JIT)
def _faces_local(x: F64, j: int, pi: I64, pk: F64, inv_q_ref: F64, lam_ref: F64, dln_ref: F64, inertia: float,
                 c: float, hist: F64, p: F64, rho: F64, R: F64) -> bool:
    """Momentum rows of open pipe j under the local friction model (friction_kernels.local_model, mode 1, with
    the laminar floor), branch-free; False if a face is beyond a factor 2 of its reference (then the caller
    redoes the pipe with :func:`_faces_general`)."""
    n, f0, i0 = pi[PI_N, j], pi[PI_FACE, j], pi[PI_F0, j]
    K, lql, h_a, g_dz = pk[PK_K, j], pk[PK_LAM_Q_LAM, j], pk[PK_H_OVER_A, j], pk[PK_G_DZ, j]
    far = False
    for k in range(n):
        i = i0 + k
        q = x[f0 + k]
        aq = abs(q)
        ratio = aq * inv_q_ref[i]
        far |= (ratio > LOCAL_SPAN) | (ratio * LOCAL_SPAN < 1.0)
        lam_q = lam_ref[i] * (1.0 + dln_ref[i] * (ratio - 1.0)) * aq
        lam_q = lql if lam_q < lql else lam_q
        rbar = 0.5 * (rho[k] + rho[k + 1])
        G = p[k + 1] - p[k] + K * lam_q * q * (1.0 / rbar) + rbar * g_dz
        R[f0 + k] = c * (inertia * h_a * q) + G - hist[f0 + k]
    return not far


@numba.njit(**JIT)
def _faces_general(x: F64, j: int, pi: I64, pk: F64, fp: F64, fmode: int, xfac: float, inv_q_ref: F64,
                   lam_ref: F64, dln_ref: F64, inertia: float, c: float, hist: F64, p: F64, rho: F64, R: F64) -> None:
    """Momentum rows of open pipe j in any friction mode (the law itself where the local model does not hold)."""
    n, f0, code, i0 = pi[PI_N, j], pi[PI_FACE, j], pi[PI_LAW, j], pi[PI_F0, j]
    K, lql, h_a, g_dz = pk[PK_K, j], pk[PK_LAM_Q_LAM, j], pk[PK_H_OVER_A, j], pk[PK_G_DZ, j]
    for k in range(n):
        i = i0 + k
        q = x[f0 + k]
        aq = abs(q)
        if fmode == 1:
            lam, dln, far = local_model(aq, 1, 0.0, inv_q_ref[i], lam_ref[i], dln_ref[i])
        else:
            lam, dln, far = local_model(aq, fmode, fp[FP_LAM_FIXED, i], 1.0, 0.0, 0.0)
        if far:
            if frozen(aq, fp[FP_D, i], fp[FP_MU, i]):  # no flow (inline: a call per face would cost)
                lam, dln = fp[FP_LAM_FROZEN, i], 0.0
            else:
                lam, dln = law_at(i, code, aq, fp, xfac)
        lam_q, _ = laminar_floor(lam, dln, aq, lql)
        rbar = 0.5 * (rho[k] + rho[k + 1])
        G = p[k + 1] - p[k] + K * lam_q * q * (1.0 / rbar) + rbar * g_dz
        R[f0 + k] = c * (inertia * h_a * q) + G - hist[f0 + k]


@numba.njit(**JIT)
def residual(x: F64, small_var: I64, small_ti: I64, RT: F64, zkind: int, zpar: F64, zcoef: F64, zoff: I64, zh: F64,
             zdz0: F64, rho_i: F64, rho_s: F64, drho_s: F64, lay: I64, pi: I64, pk: F64, fp: F64, fmode: int,
             xfac: float, inv_q_ref: F64, lam_ref: F64, dln_ref: F64, bare_var: I64, bare_vol: F64, ai: I64, ap: F64,
             ps_sup: I64, ps_node: I64, sup_node: I64, sup_fixed: B, dem_node: I64, supply_p: F64, supply_on: B,
             supply_flow: F64, demand_flow: F64, arc_mode: I64, arc_value: F64, pipe_open: B, fuel: F64, pw: F64,
             inertia: float, face_flux: bool, c: float, hist: F64, R: F64) -> float:
    """R = c M(x) - F(x; u) - hist into R (see :func:`gasgrid.transient.kernels.evaluate`; ``zkind`` < 0: the
    densities are given in rho_i, rho_s, drho_s). Returns the largest pressure beyond the gas tables."""
    n_nodes, oo, ops = lay[L_NODES], lay[L_OFF_OTHER], lay[L_OFF_PS]
    over = _small_densities(x, small_var, small_ti, RT, zkind, zpar, zcoef, zoff, zh, zdz0, rho_s, drho_s)
    n_pipes = pi.shape[1]
    Mn = np.zeros(n_nodes)
    Fn = np.zeros(n_nodes)
    width = 1 + (pi[PI_N].max() if n_pipes else 0)
    p, rho = np.empty(width), np.empty(width)
    for j in range(n_pipes):
        n, f0, nf, nt = pi[PI_N, j], pi[PI_FACE, j], pi[PI_FROM, j], pi[PI_TO, j]
        over = max(over, _pipe_state(x, j, pi, rho_i, rho_s, n_nodes, zkind, zpar, zcoef, zoff, zh, zdz0, RT, p, rho))
        Mn[nf] += pk[PK_VOL_END, j] * rho[0]
        _pipe_rows(x, j, pi, pk, fp, fmode, xfac, inv_q_ref, lam_ref, dln_ref, pipe_open[j], inertia, face_flux, c,
                   hist, p, rho, R)
        if face_flux:
            Fn[nf] -= x[f0]
            Fn[nt] += x[f0 + n - 1]
        Mn[nt] += pk[PK_VOL_END, j] * rho[n]
    nb = 2 * n_pipes + 2 * (ops - oo)
    for b in range(bare_var.size):
        Mn[bare_var[b]] += bare_vol[b] * rho_s[nb + b]
    _junction_rows(x, lay, ai, ap, rho_s, drho_s, 2 * n_pipes, ps_sup, ps_node, sup_node, sup_fixed, dem_node,
                   supply_p, supply_on, supply_flow, demand_flow, arc_mode, arc_value, fuel, pw, c, hist, Mn, Fn, R)
    return over


@numba.njit(**JIT)
def _junction_rows(x: F64, lay: I64, ai: I64, ap: F64, rho_s: F64, drho_s: F64, arc_dp0: int, ps_sup: I64,
                   ps_node: I64, sup_node: I64, sup_fixed: B, dem_node: I64, supply_p: F64, supply_on: B,
                   supply_flow: F64, demand_flow: F64, arc_mode: I64, arc_value: F64, fuel: F64, pw: F64, c: float,
                   hist: F64, Mn: F64, Fn: F64, R: F64) -> None:
    """Rows of the non-pipe arcs, pressure supplies and nodes (as kernels.evaluate orders their sums)."""
    n_nodes, oo, ops = lay[L_NODES], lay[L_OFF_OTHER], lay[L_OFF_PS]
    for j in range(ops - oo):
        # ``ai`` here has the arc ends' densities at 2 j, 2 j + 1 of the small set after its pipe ends
        G = arc_row(j, arc_mode[j], arc_value[j], x, oo, ai, ap, rho_s[arc_dp0:], drho_s[arc_dp0:], pw)[0]
        R[oo + j] = c * 0.0 + G - hist[oo + j]
        qa = x[oo + j]
        Fn[ai[AI_TO, j]] += qa
        Fn[ai[AI_FROM, j]] -= qa
    for k in range(ps_sup.size):
        s = x[ops + k]
        i = ps_sup[k]
        R[ops + k] = c * 0.0 + (x[ps_node[k]] - supply_p[i] if supply_on[i] else Q_SCALE * s) - hist[ops + k]
    bnd = node_boundary(x, ops, n_nodes, sup_node, supply_on, sup_fixed, supply_flow, dem_node, demand_flow, ps_sup,
                        ps_node, fuel)
    for nd in range(n_nodes):
        R[nd] = c * Mn[nd] - (Fn[nd] + bnd[nd]) - hist[nd]


@numba.njit(**JIT)
def storage(x: F64, small_var: I64, small_ti: I64, RT: F64, zkind: int, zpar: F64, zcoef: F64, zoff: I64, zh: F64,
            zdz0: F64, rho_i: F64, rho_s: F64, drho_s: F64, lay: I64, pi: I64, pk: F64, bare_var: I64, bare_vol: F64,
            inertia: float, M: F64) -> float:
    """M(x) into M (see :func:`gasgrid.transient.kernels.storage`). Returns the largest pressure beyond the gas
    tables."""
    n_nodes, oo, ops = lay[L_NODES], lay[L_OFF_OTHER], lay[L_OFF_PS]
    over = _small_densities(x, small_var, small_ti, RT, zkind, zpar, zcoef, zoff, zh, zdz0, rho_s, drho_s)
    M[:n_nodes] = 0.0
    M[oo:] = 0.0
    width = 1 + (pi[PI_N].max() if pi.shape[1] else 0)
    p, rho = np.empty(width), np.empty(width)
    for j in range(pi.shape[1]):
        n, f0, p0, nf, nt = pi[PI_N, j], pi[PI_FACE, j], pi[PI_POINT, j], pi[PI_FROM, j], pi[PI_TO, j]
        over = max(over, _pipe_state(x, j, pi, rho_i, rho_s, n_nodes, zkind, zpar, zcoef, zoff, zh, zdz0, RT, p, rho))
        vol, h_a = pk[PK_VOL, j], pk[PK_H_OVER_A, j]
        M[nf] += pk[PK_VOL_END, j] * rho[0]
        for k in range(n - 1):
            M[p0 + k] = 0.0 + vol * rho[k + 1]
        M[nt] += pk[PK_VOL_END, j] * rho[n]
        for k in range(n):
            M[f0 + k] = inertia * h_a * x[f0 + k]
    nb = 2 * pi.shape[1] + 2 * (ops - oo)
    for b in range(bare_var.size):
        M[bare_var[b]] += bare_vol[b] * rho_s[nb + b]
    return over


@numba.njit(**JIT)
def accept(x: F64, small_var: I64, small_ti: I64, RT: F64, zkind: int, zpar: F64, zcoef: F64, zoff: I64, zh: F64,
           zdz0: F64, rho_i: F64, rho_s: F64, drho_s: F64, lay: I64, pi: I64, pk: F64, bare_var: I64, bare_vol: F64,
           inertia: float, check: bool, inv_q_ref: F64, big: float, span: float,
           M: F64) -> tuple[float, bool, float, float, float]:
    """:func:`storage` of a solved state, in the same pass whether its flows keep the local friction model
    (``friction_kernels.friction_close``; not checked without ``check``) and its :func:`levels`:
    (over, close, lowest pressure, largest |pressure|, largest |flow|)."""
    n_nodes, oo, ops = lay[L_NODES], lay[L_OFF_OTHER], lay[L_OFF_PS]
    over = _small_densities(x, small_var, small_ti, RT, zkind, zpar, zcoef, zoff, zh, zdz0, rho_s, drho_s)
    lo, hi = close_bounds(span)
    close = True
    p_min, p_abs, q_abs = math.inf, 0.0, 0.0
    nan = False
    for i in range(n_nodes):
        v = x[i]
        p_min = min(p_min, v) if v == v else p_min
        p_abs = max(p_abs, abs(v))
        nan |= v != v
    q_nan = False
    M[:n_nodes] = 0.0
    M[oo:] = 0.0
    width = 1 + (pi[PI_N].max() if pi.shape[1] else 0)
    p, rho = np.empty(width), np.empty(width)
    for j in range(pi.shape[1]):
        n, f0, p0, nf, nt, i0 = pi[PI_N, j], pi[PI_FACE, j], pi[PI_POINT, j], pi[PI_FROM, j], pi[PI_TO, j], pi[PI_F0, j]
        over = max(over, _pipe_state(x, j, pi, rho_i, rho_s, n_nodes, zkind, zpar, zcoef, zoff, zh, zdz0, RT, p, rho))
        vol, h_a = pk[PK_VOL, j], pk[PK_H_OVER_A, j]
        M[nf] += pk[PK_VOL_END, j] * rho[0]
        for k in range(n - 1):
            M[p0 + k] = 0.0 + vol * rho[k + 1]
            v = p[k + 1]
            p_min = min(p_min, v) if v == v else p_min
            p_abs = max(p_abs, abs(v))
            nan |= v != v
        M[nt] += pk[PK_VOL_END, j] * rho[n]
        for k in range(n):
            q = x[f0 + k]
            M[f0 + k] = inertia * h_a * q
            aq = abs(q)
            q_abs = max(q_abs, aq)
            q_nan |= q != q
            if check and not flow_close(aq, inv_q_ref[i0 + k], big, lo, hi, span):
                close = False
    for i in range(oo, x.size):
        q_abs = max(q_abs, abs(x[i]))
        q_nan |= x[i] != x[i]
    nb = 2 * pi.shape[1] + 2 * (ops - oo)
    for b in range(bare_var.size):
        M[bare_var[b]] += bare_vol[b] * rho_s[nb + b]
    return over, close, p_min, (math.nan if nan else p_abs), (math.nan if q_nan else q_abs)


@numba.njit(**JIT)
def levels(x: F64, n_pressure: int) -> tuple[float, float, float]:
    """Lowest pressure (NaN ignored), largest |pressure| and largest |flow| (NaN if any is NaN, as np.max) of
    state x: what the stepper checks and scales with after a step."""
    p_min, p_abs, q_abs = math.inf, 0.0, 0.0
    p_nan, q_nan = False, False
    for i in range(n_pressure):
        v = x[i]
        p_min = min(p_min, v) if v == v else p_min
        a = abs(v)
        if a > p_abs:
            p_abs = a
        elif a != a:
            p_nan = True
    for i in range(n_pressure, x.size):
        a = abs(x[i])
        if a > q_abs:
            q_abs = a
        elif a != a:
            q_nan = True
    return p_min, (math.nan if p_nan else p_abs), (math.nan if q_nan else q_abs)


__all__ = ["accept", "levels", "residual", "storage"]
