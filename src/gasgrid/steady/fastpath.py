"""The steady Newton solve in one compiled call, for the usual systems.

Contract: :func:`fast_newton` takes an :class:`~gasgrid.steady.assemble.Assembler` and the solver options and
returns the :class:`~gasgrid.steady.newton.NewtonResult` that :func:`~gasgrid.steady.solver.solve_fixed_modes`
would get from its Picard start and :func:`~gasgrid.steady.newton.newton` with
:class:`~gasgrid.steady.nodal.NodalLU`: the same equations (the same compiled pipe and resistor kernels), the
same start, the same Armijo line search and stopping rules, the same nodal elimination of arc flows. Only the
reduced linear system is factorised differently: by the static-pivot sparse LU of
:mod:`gasgrid.linalg.sparse_lu` (symbolic analysis once per topology, no Python between iterations) instead of
SuperLU, so iterates agree to rounding.

It returns None when the system has something it does not compile (reference equations of state, friction laws
evaluated by numpy, pumps, stations on power control) or when a step cannot be taken with static pivots (a
pivot too small, an eliminated arc without flow derivative, a non-finite step): the caller then runs the general
path from the start, which decides (SuperLU with partial pivoting, its own singular/non-finite handling).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numba import njit
from numpy.typing import NDArray

from gasgrid._jit import refresh_stale_caches
from gasgrid.linalg.sparse_lu import DEFAULT_PIVOT_TOL, analyse, lu_factor, lu_solve
from gasgrid.linalg.vector import abs_max
from gasgrid.physics.kernels import EOS_GIVEN, pipe_kernel, resistor_kernel
from gasgrid.steady.assemble import Assembler
from gasgrid.steady.newton import NewtonOptions, NewtonResult, NewtonStatus
from gasgrid.steady.nodal import _expand, _Pattern, _pattern, _reduce
from gasgrid.steady.system import Behaviour

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_HERE = Path(__file__).resolve().parent
refresh_stale_caches(_HERE, ("fastpath",), "steady-fastpath.sha1",
                     (_HERE / "nodal.py", _HERE.parent / "physics" / "kernels.py", _HERE.parent / "physics" / "pipe.py",
                      _HERE.parent / "physics" / "friction.py", _HERE.parent / "units.py",
                      _HERE.parent / "linalg" / "sparse_lu.py", _HERE.parent / "linalg" / "vector.py"))

PICARD_STEPS = 2
"""Linearised (Picard) solves from flat pressures before Newton, as :func:`gasgrid.steady.solver._initial_state`."""
PIVOT_TOL = DEFAULT_PIVOT_TOL
"""Smallest pivot relative to its column accepted by the static-pivot LU; below it the general path decides."""

# kernel outcome codes
_CONVERGED, _MAX_ITER, _STALLED, _FALLBACK = 0, 1, 2, 3
_STATUS = {_CONVERGED: NewtonStatus.CONVERGED, _MAX_ITER: NewtonStatus.MAX_ITER, _STALLED: NewtonStatus.STALLED}


def supported(asm: Assembler) -> bool:
    """Whether :func:`fast_newton` compiles every equation of this system."""
    return (
        asm.eos_code != EOS_GIVEN
        and len(asm.k_numpy_laws) == 0
        and len(asm.u_row) == 0
        and len(asm.pw_rows) == 0
        and asm.sys.n > 0
    )


def fast_newton(asm: Assembler, options: NewtonOptions, x0: F64 | None) -> NewtonResult | None:
    """Newton's method on the steady system in one compiled call (see the module docstring).

    ``x0`` is the starting state (unknowns as in :class:`Assembler`), or None for the Picard start from flat
    pressures (:data:`PICARD_STEPS` linearised solves). Returns None when the general path has to decide
    (unsupported system, static pivots fail, a non-finite step)."""
    if not supported(asm):
        return None
    sys = asm.sys
    pat = _pattern(sys, "COLAMD")
    lu = sys.__dict__.get("_static_lu")
    if lu is None:
        lu = analyse(pat.n, pat.indptr, pat.indices, pat.row_perm)
        sys.__dict__["_static_lu"] = lu
    picard = x0 is None
    x = np.zeros(sys.n)
    if x0 is None:
        x[: sys.n_free] = 1.0
    else:
        x[:] = x0
    lay_i, lay_f = layout(asm, pat)
    net = asm.net
    eos, pc, Tc, G = asm.eos_args
    history = np.empty(options.max_iter + 1)
    code, iterations, n_hist = _newton_kernel(
        x, PICARD_STEPS if picard else 0, lay_i, lay_f, pat.s_elim, pat.s_kept, lu.arrays, lu.lnz, lu.unz, pat.nnz, pat.n,
        sys.n_free, sys.n_groups, asm.pi_s, asm.q_s, float(net.gas.R_specific), int(eos), float(pc), float(Tc),
        float(G), float(net.temperature), options.tol, options.max_iter, options.line_search, options.armijo,
        options.min_step, PIVOT_TOL, history,
    )
    if code == _FALLBACK:
        return None
    status = _STATUS[code]
    message = "line search could not reduce the residual" if status is NewtonStatus.STALLED else ""
    return NewtonResult(x, status, int(iterations), [float(h) for h in history[:n_hist]], message)


def layout(asm: Assembler, pat: _Pattern) -> tuple[tuple[I64, ...], tuple[F64, ...]]:
    """The kernels' inputs: integer arrays (unknown layout, element rows, nodal pattern) and float arrays (fixed
    pressures [Pa^2], withdrawals [kg/s], pipe and resistor data in SI, Colebrook warm starts, set points)."""
    sys, rows = asm.sys, asm.rows
    lay_i = (asm.free_groups, asm.free_cols, sys.g_from, sys.g_to, asm.p_row, asm.k_law, asm.r_row,
             rows[Behaviour.SET_TO], rows[Behaviour.SET_FROM], rows[Behaviour.RATIO], rows[Behaviour.FLOW],
             pat.elim, pat.kept, sys.brow_to, sys.brow_from, sys.col_from, sys.col_to)
    lay_f = (asm.pi_fixed_groups, asm.w_group, asm.k_D, asm.k_rough, asm.k_mu, asm.k_lam, asm.k_dln, asm.k_len,
             asm.k_dh, asm.k_T, asm.k_eff, asm.k_x, asm.k_r_drag, asm.k_r_D, asm.k_r_dp, asm.pi_set, asm.ratio2,
             asm.q_set)
    return lay_i, lay_f


@njit(cache=True, nogil=True, error_model="numpy")
def _evaluate(x: F64, use_picard: bool, picard_q: F64, lay_i: tuple[I64, ...], lay_f: tuple[F64, ...], nf: int,
              pi_s: float, q_s: float,
              R: float, eos: int, pc: float, Tc: float, G: float, T_net: float, pi: F64, bal: F64, wp: F64,
              wr: F64, F: F64, c_from: F64, c_to: F64, d_q: F64) -> float:
    """Scaled residual F and structured Jacobian (c_from, c_to, d_q) as :class:`Assembler` computes them;
    returns max|F|. Arc rows are in Pa^2 / pi_s (flow set points in kg/s / q_s), balances in kg/s / q_s; c_from
    and c_to are derivatives with respect to the scaled pressures x = pi / pi_s, so a pipe's dF/dpi carries over
    unchanged. ``wp``/``wr``: (9, pipes)/(9, resistors) work arrays."""
    free_groups, free_cols, g_from, g_to, p_row, law, r_row = lay_i[0], lay_i[1], lay_i[2], lay_i[3], lay_i[4], \
        lay_i[5], lay_i[6]
    set_to, set_from, ratio, flow = lay_i[7], lay_i[8], lay_i[9], lay_i[10]
    pi_fixed, w_group = lay_f[0], lay_f[1]
    pi_set, ratio2, q_set = lay_f[15], lay_f[16], lay_f[17]
    m = g_from.shape[0]
    for g in range(pi.shape[0]):
        pi[g] = pi_fixed[g]
    for i in range(free_groups.shape[0]):
        pi[free_groups[i]] = x[free_cols[i]] * pi_s
    inv_pis = 1.0 / pi_s
    for a in range(m):
        F[nf + a] = 0.0
        c_from[a] = 0.0
        c_to[a] = 0.0
        d_q[a] = 0.0
    if p_row.shape[0]:
        _gather(p_row, g_from, g_to, pi, x, nf, use_picard, picard_q, wp)
        pipe_kernel(wp[0], wp[1], wp[2], law, lay_f[2], lay_f[3], lay_f[4], lay_f[5], lay_f[6], lay_f[7], lay_f[8],
                    lay_f[9], lay_f[10], wp[8], wp[8], R, eos, pc, Tc, G, wp[3], use_picard, wp[4], wp[5], wp[6], wp[7],
                    lay_f[11])
        _scatter(p_row, wp, nf, inv_pis, F, c_from, c_to, d_q)
    if r_row.shape[0]:
        _gather(r_row, g_from, g_to, pi, x, nf, use_picard, picard_q, wr)
        resistor_kernel(wr[0], wr[1], wr[2], lay_f[12], lay_f[13], lay_f[14], wr[8], R, T_net, eos, pc, Tc, G, wr[3],
                        use_picard, 1e-3 * q_s, 1e-6 * q_s, wr[4], wr[5], wr[6], wr[7])
        _scatter(r_row, wr, nf, inv_pis, F, c_from, c_to, d_q)
    for i in range(set_to.shape[0]):
        a = set_to[i]
        F[nf + a] = (pi[g_to[a]] - pi_set[a]) * inv_pis
        c_to[a] = 1.0
    for i in range(set_from.shape[0]):
        a = set_from[i]
        F[nf + a] = (pi[g_from[a]] - pi_set[a]) * inv_pis
        c_from[a] = 1.0
    for i in range(ratio.shape[0]):
        a = ratio[i]
        F[nf + a] = (pi[g_to[a]] - ratio2[a] * pi[g_from[a]]) * inv_pis
        c_to[a] = 1.0
        c_from[a] = -ratio2[a]
    for i in range(flow.shape[0]):
        a = flow[i]
        F[nf + a] = (x[nf + a] - q_set[a]) / q_s
        d_q[a] = 1.0 / q_s
    # balances of free groups [kg/s]: inflow - outflow - withdrawal, scaled by q_s
    for g in range(bal.shape[0]):
        bal[g] = -w_group[g]
    for a in range(m):
        q = x[nf + a]
        bal[g_to[a]] += q
        bal[g_from[a]] -= q
    for i in range(free_groups.shape[0]):
        F[free_cols[i]] = bal[free_groups[i]] / q_s
    return abs_max(F, 0, F.shape[0])


@njit(cache=True, nogil=True, error_model="numpy")
def _gather(rows: I64, g_from: I64, g_to: I64, pi: F64, x: F64, nf: int, use_picard: bool, picard_q: F64,
            w: F64) -> None:
    """Inputs of an element kernel for the arcs ``rows``: w[0], w[1] squared end pressures, w[2] flows, w[3] the
    flows the friction or drag is evaluated at (Picard) or the flows again."""
    for e in range(rows.shape[0]):
        a = rows[e]
        w[0, e] = pi[g_from[a]]
        w[1, e] = pi[g_to[a]]
        w[2, e] = x[nf + a]
        w[3, e] = picard_q[a] if use_picard else w[2, e]


@njit(cache=True, nogil=True, error_model="numpy")
def _scatter(rows: I64, w: F64, nf: int, inv_pis: float, F: F64, c_from: F64, c_to: F64, d_q: F64) -> None:
    """An element kernel's outputs (w[4] residual in Pa^2, w[5], w[6], w[7] derivatives) into the scaled system."""
    for e in range(rows.shape[0]):
        a = rows[e]
        F[nf + a] = w[4, e] * inv_pis
        c_from[a] = w[5, e]
        c_to[a] = w[6, e]
        d_q[a] = w[7, e] * inv_pis


@njit(cache=True, nogil=True, error_model="numpy")
def _step(F: F64, c_from: F64, c_to: F64, d_q: F64, lay_i: tuple[I64, ...], s_elim: I64, s_kept: I64,
          lu_arrays: tuple[I64, ...],
          lx: F64, ux: F64, data: F64, rhs: F64, y: F64, b: F64, nf: int, q_s: float, dx: F64,
          pivot_tol: float) -> bool:
    """Newton step dx = -J^-1 F by nodal elimination and the static-pivot LU; False if it cannot be taken."""
    elim, kept = lay_i[11], lay_i[12]
    brow_to, brow_from, col_from, col_to = lay_i[13], lay_i[14], lay_i[15], lay_i[16]
    for i in range(elim.shape[0]):
        if d_q[elim[i]] == 0.0:
            return False
    for i in range(F.shape[0]):
        b[i] = -F[i]
    data[:] = 0.0
    _reduce(c_from, c_to, d_q, b, nf, 1.0 / q_s, elim, kept, brow_to, brow_from, s_elim, s_kept, data, rhs)
    if rhs.shape[0]:
        if lu_factor(lu_arrays, data, lx, ux, pivot_tol) >= 0:
            return False
        lu_solve(lu_arrays, lx, ux, rhs, y)
    _expand(c_from, c_to, d_q, b, nf, elim, kept, col_from, col_to, y, dx)
    for i in range(dx.shape[0]):  # noqa: SIM110 (a generator in all() does not compile in numba)
        if not math.isfinite(dx[i]):
            return False
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _newton_kernel(x: F64, picard_steps: int, lay_i: tuple[I64, ...], lay_f: tuple[F64, ...], s_elim: I64,
                   s_kept: I64, lu_arrays: tuple[I64, ...], lnz: int, unz: int,
                   nnz: int, n_red: int, nf: int, n_groups: int, pi_s: float, q_s: float, R: float, eos: int,
                   pc: float, Tc: float, G: float, T_net: float, tol: float, max_iter: int, line_search: bool,
                   armijo: float, min_step: float, pivot_tol: float, history: F64) -> tuple[int, int, int]:
    """Picard start (optional) and globalised Newton; x is updated in place. Returns (code, iterations,
    entries of history written)."""
    n = x.shape[0]
    m = n - nf
    n_p = lay_i[4].shape[0]
    n_r = lay_i[6].shape[0]
    pi = np.empty(n_groups)
    bal = np.empty(n_groups)
    wp = np.zeros((9, n_p))
    wr = np.zeros((9, n_r))
    F = np.empty(n)
    cf = np.empty(m)
    ct = np.empty(m)
    dq = np.empty(m)
    F2 = np.empty(n)
    cf2 = np.empty(m)
    ct2 = np.empty(m)
    dq2 = np.empty(m)
    lx = np.empty(lnz)
    ux = np.empty(unz)
    data = np.empty(nnz)
    rhs = np.empty(n_red)
    y = np.zeros(n_red)
    b = np.empty(n)
    dx = np.empty(n)
    x_new = np.empty(n)
    pq = np.empty(m)
    if picard_steps:
        q_typ = q_s / 10.0
        for a in range(m):
            pq[a] = q_typ
        for _ in range(picard_steps):
            _evaluate(x, True, pq, lay_i, lay_f, nf, pi_s, q_s, R, eos, pc, Tc, G, T_net, pi, bal, wp, wr, F, cf, ct, dq)
            if not _step(F, cf, ct, dq, lay_i, s_elim, s_kept, lu_arrays, lx, ux, data, rhs, y, b, nf, q_s, dx, pivot_tol):
                return _FALLBACK, 0, 0
            for i in range(n):
                x[i] += dx[i]
            for a in range(m):
                pq[a] = max(abs(x[nf + a]), 1e-3 * q_typ)
    fmax = _evaluate(x, False, pq, lay_i, lay_f, nf, pi_s, q_s, R, eos, pc, Tc, G, T_net, pi, bal, wp, wr, F, cf, ct, dq)
    history[0] = fmax
    n_hist = 1
    for it in range(1, max_iter + 1):
        if history[n_hist - 1] <= tol:
            return _CONVERGED, it - 1, n_hist
        if not _step(F, cf, ct, dq, lay_i, s_elim, s_kept, lu_arrays, lx, ux, data, rhs, y, b, nf, q_s, dx, pivot_tol):
            return _FALLBACK, it - 1, n_hist
        f0 = 0.0
        for i in range(n):
            f0 += F[i] * F[i]
        f0 *= 0.5
        t = 1.0
        while True:
            for i in range(n):
                x_new[i] = x[i] + t * dx[i]
            fmax_new = _evaluate(x_new, False, pq, lay_i, lay_f, nf, pi_s, q_s, R, eos, pc, Tc, G, T_net, pi, bal, wp, wr,
                                 F2, cf2, ct2, dq2)
            f_new = 0.0
            for i in range(n):
                f_new += F2[i] * F2[i]
            f_new *= 0.5
            if not line_search or f_new <= (1.0 - 2.0 * armijo * t) * f0 or t <= min_step:
                break
            t *= 0.5
        x[:] = x_new
        F, F2 = F2, F
        cf, cf2 = cf2, cf
        ct, ct2 = ct2, ct
        dq, dq2 = dq2, dq
        history[n_hist] = fmax_new
        n_hist += 1
        if t <= min_step and history[n_hist - 1] >= history[n_hist - 2] * (1 - 1e-12) and it > 5:
            return _STALLED, it, n_hist
    code = _CONVERGED if history[n_hist - 1] <= tol else _MAX_ITER
    return code, max_iter, n_hist
