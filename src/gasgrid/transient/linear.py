"""Linear solvers for the transient Newton steps: general sparse LU, and pipe-by-pipe elimination.

Contract: a linear solver is a strategy without mutable state; ``factor(J)`` takes the Jacobian (CSC, on the
grid's pattern) and returns a factorisation with ``solve(b) -> x``, or None when J is singular.

* :class:`SparseLU`: SuperLU of the whole matrix (any pattern).
* :class:`PipeElimination`: the interior unknowns of a pipe of N cells (face flows q_0..q_{N-1}, interior
  pressures p_1..p_{N-1}) couple to the rest only through the pipe's end nodes p_0 and p_N. Every momentum row
  k involves q_k, p_k, p_{k+1} only, so the face flows are eliminated first (q_k = (r_k - a_k p_k - b_k p_{k+1})
  / d_k, d_k > 0: inertia plus friction), which leaves a tridiagonal system in the interior pressures (an
  M-matrix: storage plus 1/d couplings), factorised by Thomas' algorithm without pivoting. Its responses to the
  end pressures give each pipe's 2 x 2 contribution to the Schur complement on the junction unknowns (nodes,
  non-pipe arc flows, pressure-supply injections), which SuperLU factorises (small: no pipe interior is in it);
  the interior follows by back-substitution. A zero flow pivot or a pivot that is not safely positive makes
  :meth:`PipeElimination.factor` fall back to :class:`SparseLU`. The tests compare both on random systems.
"""

from __future__ import annotations

import math
from typing import Protocol

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

from gasgrid.transient._jit import JIT
from gasgrid.transient.grid import Grid, Pattern

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_JIT_SOLVE = dict(JIT, fastmath={"contract"})  # fused multiply-adds: shorter dependency chains in the sweeps
PIVOT_RTOL = 1e-12  # a pivot below this fraction of its row's diagonal: fall back to sparse LU
# destinations of Jacobian entries (rows of the face array ``fa`` / point array ``pa`` / pipe array ``ca``)
FA_QQ, FA_QL, FA_QR = range(3)  # momentum row of face k: d/dq_k, d/dp_k, d/dp_{k+1}
PA_PP, PA_PL, PA_PR = range(3)  # mass row of interior point k: d/dp_k, d/dq_{k-1}, d/dq_k
CA_F, CA_T = range(2)  # from-node row d/dq_0, to-node row d/dq_{N-1}
_D_FACE, _D_POINT, _D_PIPE, _D_JUNCTION = 0, 3, 6, 8


class Factorization(Protocol):
    def solve(self, b: F64) -> F64: ...


class LinearSolver(Protocol):
    def factor(self, J: sp.csc_matrix) -> Factorization | None: ...


class SparseLU:
    """SuperLU of the whole Jacobian (scipy's ``splu``, COLAMD ordering)."""

    def factor(self, J: sp.csc_matrix) -> Factorization | None:
        try:
            return splu(J)  # type: ignore[return-value]
        except RuntimeError:  # "Factor is exactly singular"
            return None


# --- compiled pieces ---------------------------------------------------------------------------------------
@numba.njit(**JIT)
def _scatter(data: F64, dest: I64, idx: I64, fa: F64, pa: F64, ca: F64, s_coo: F64) -> None:
    fa[:] = 0.0
    pa[:] = 0.0
    ca[:] = 0.0
    s_coo[:] = 0.0
    for k in range(data.size):
        d, i = dest[k], idx[k]
        if d < _D_POINT:
            fa[d, i] += data[k]
        elif d < _D_PIPE:
            pa[d - _D_POINT, i] += data[k]
        elif d < _D_JUNCTION:
            ca[d - _D_PIPE, i] += data[k]
        else:
            s_coo[i] += data[k]


@numba.njit(**JIT)
def _factor(fa: F64, pa: F64, ca: F64, ncell: I64, f0: I64, i0: I64, n_j_coo: int, inv_qq: F64, lowf: F64,
            inv_dp: F64, up: F64, Y: F64, Z: F64, cp: F64, s_coo: F64) -> bool:
    """Eliminate the flows, factorise every pipe's pressure tridiagonal (multipliers ``lowf``, reciprocal pivots
    ``inv_dp``, upper band ``up``), its responses Y = T^-1 e_1 B_f, Z = T^-1 e_last B_t, the end-node rows'
    coefficients on p_1, p_{N-1} (``cp``) and the pipe's four Schur terms (ff, ft, tf, tt) into s_coo. Indices
    f0 / i0: first face / first interior point of each pipe (0-based within faces / interior points)."""
    for f in range(inv_qq.size):
        d = fa[FA_QQ, f]
        if not (d > 0.0) or not np.isfinite(d):
            return False
        inv_qq[f] = 1.0 / d
    for p in range(ncell.size):
        n, a, s = ncell[p], f0[p], i0[p]
        cf, ct = ca[CA_F, p], ca[CA_T, p]
        k = n_j_coo + 4 * p
        last = a + n - 1
        if n == 1:
            w = inv_qq[a]
            s_coo[k] = -cf * fa[FA_QL, a] * w
            s_coo[k + 1] = -cf * fa[FA_QR, a] * w
            s_coo[k + 2] = -ct * fa[FA_QL, a] * w
            s_coo[k + 3] = -ct * fa[FA_QR, a] * w
            continue
        e = s + n - 1
        prev_up = 0.0
        prev_inv = 0.0
        for j in range(n - 1):  # interior point j + 1 between faces a + j and a + j + 1
            i = s + j
            fl, fr = a + j, a + j + 1
            lo = -pa[PA_PL, i] * fa[FA_QL, fl] * inv_qq[fl]
            di = pa[PA_PP, i] - pa[PA_PL, i] * fa[FA_QR, fl] * inv_qq[fl] - pa[PA_PR, i] * fa[FA_QL, fr] * inv_qq[fr]
            up[i] = -pa[PA_PR, i] * fa[FA_QR, fr] * inv_qq[fr]
            if j == 0:
                Y[i] = lo  # coupling to the from node (right-hand side of the response Y)
                lowf[i] = 0.0
                piv = di
            else:
                lowf[i] = lo * prev_inv
                piv = di - lowf[i] * prev_up
            if not (piv > PIVOT_RTOL * abs(di)) or not np.isfinite(piv):
                return False
            inv_dp[i] = 1.0 / piv
            prev_inv, prev_up = inv_dp[i], up[i]
        b_t = up[e - 1]  # coupling of the last interior point to the to node
        up[e - 1] = 0.0
        for i in range(s, e):  # the back substitution's multipliers: v_i = w_i / d_i - (u_i / d_i) v_{i+1}
            up[i] *= inv_dp[i]
        # Y = T^-1 e_first b_f, Z = T^-1 e_last b_t
        b_f = Y[s]
        Y[s] = b_f
        for i in range(s + 1, e):
            Y[i] = -lowf[i] * Y[i - 1]
        Z[s:e] = 0.0
        Z[e - 1] = b_t
        Y[e - 1] *= inv_dp[e - 1]
        Z[e - 1] *= inv_dp[e - 1]
        for i in range(e - 2, s - 1, -1):
            Y[i] = Y[i] * inv_dp[i] - up[i] * Y[i + 1]
            Z[i] = Z[i] * inv_dp[i] - up[i] * Z[i + 1]
        cpf = -cf * fa[FA_QR, a] * inv_qq[a]  # from-node row on p_1, after eliminating q_0
        cpt = -ct * fa[FA_QL, last] * inv_qq[last]  # to-node row on p_{N-1}, after eliminating q_{N-1}
        cp[0, p], cp[1, p] = cpf, cpt
        s_coo[k] = -cf * fa[FA_QL, a] * inv_qq[a] - cpf * Y[s]
        s_coo[k + 1] = -cpf * Z[s]
        s_coo[k + 2] = -cpt * Y[e - 1]
        s_coo[k + 3] = -ct * fa[FA_QR, last] * inv_qq[last] - cpt * Z[e - 1]
    return True


@numba.njit(**_JIT_SOLVE)
def _forward(b: F64, lay: I64, ncell: I64, f0: I64, i0: I64, pfrom: I64, pto: I64, inv_qq: F64, pa: F64, ca: F64,
             lowf: F64, inv_dp: F64, um: F64, cp: F64, x: F64, r_j: F64) -> None:
    """First half of a solve: x[q] = b_q / d, x[p interior] = T^-1 (reduced b_p), r_J = reduced junction rhs.
    (``um``: the back substitution's multipliers u / d; ``lowf`` is 0 at every pipe's first point.)"""
    n_nodes, of, oo, n = lay[0], lay[1], lay[2], lay[3]
    for j in range(n_nodes):
        r_j[j] = b[j]
    for j in range(oo, n):
        r_j[n_nodes + j - oo] = b[j]
    for p in range(ncell.size):
        nc, a, s, fp, ip = ncell[p], of + f0[p], n_nodes + i0[p], f0[p], i0[p]
        xq_prev = b[a] * inv_qq[fp]
        x[a] = xq_prev
        if nc == 1:
            r_j[pfrom[p]] -= ca[CA_F, p] * xq_prev
            r_j[pto[p]] -= ca[CA_T, p] * xq_prev
            continue
        w = 0.0
        for j in range(nc - 1):  # eliminate the flows, then forward elimination (the chain is one multiply-add)
            xq = b[a + j + 1] * inv_qq[fp + j + 1]
            x[a + j + 1] = xq
            w = (b[s + j] - pa[PA_PL, ip + j] * xq_prev - pa[PA_PR, ip + j] * xq) - lowf[ip + j] * w
            x[s + j] = w
            xq_prev = xq
        e = nc - 2
        v = x[s + e] * inv_dp[ip + e]
        x[s + e] = v
        for j in range(e - 1, -1, -1):  # back substitution
            v = x[s + j] * inv_dp[ip + j] - um[ip + j] * v
            x[s + j] = v
        r_j[pfrom[p]] -= ca[CA_F, p] * x[a] + cp[0, p] * x[s]
        r_j[pto[p]] -= ca[CA_T, p] * x[a + nc - 1] + cp[1, p] * x[s + nc - 2]


@numba.njit(**_JIT_SOLVE)
def _backward(x_j: F64, lay: I64, ncell: I64, f0: I64, i0: I64, pfrom: I64, pto: I64, inv_qq: F64, fa: F64,
              Y: F64, Z: F64, x: F64) -> None:
    """Second half: junction values into x, interior pressures p = v - Y p_from - Z p_to, then the flows."""
    n_nodes, of, oo, n = lay[0], lay[1], lay[2], lay[3]
    for j in range(n_nodes):
        x[j] = x_j[j]
    for j in range(oo, n):
        x[j] = x_j[n_nodes + j - oo]
    for p in range(ncell.size):
        nc, a, s, fp, ip = ncell[p], of + f0[p], n_nodes + i0[p], f0[p], i0[p]
        pf, pt = x_j[pfrom[p]], x_j[pto[p]]
        pl = pf
        for k in range(nc - 1):
            pr = x[s + k] - (Y[ip + k] * pf + Z[ip + k] * pt)
            x[s + k] = pr
            x[a + k] -= (fa[FA_QL, fp + k] * pl + fa[FA_QR, fp + k] * pr) * inv_qq[fp + k]
            pl = pr
        k = nc - 1
        x[a + k] -= (fa[FA_QL, fp + k] * pl + fa[FA_QR, fp + k] * pt) * inv_qq[fp + k]


@numba.njit(**JIT)
def _lu_solve(r: F64, Lp: I64, Li: I64, Lx: F64, Ld: I64, Up: I64, Ui: I64, Ux: F64, Ud: I64, perm_r: I64,
              perm_c: I64) -> F64:
    """Solve with SuperLU's factors Pr A Pc = L U (CSC; Ld, Ud: positions of the diagonal entries)."""
    n = r.size
    z = np.empty(n)
    for i in range(n):
        z[perm_r[i]] = r[i]
    for j in range(n):  # L z = Pr r
        zj = z[j] / Lx[Ld[j]]
        z[j] = zj
        for k in range(Lp[j], Lp[j + 1]):
            if k != Ld[j]:
                z[Li[k]] -= Lx[k] * zj
    for j in range(n - 1, -1, -1):  # U y = z
        yj = z[j] / Ux[Ud[j]]
        z[j] = yj
        for k in range(Up[j], Up[j + 1]):
            if k != Ud[j]:
                z[Ui[k]] -= Ux[k] * yj
    out = np.empty(n)
    for i in range(n):
        out[i] = z[perm_c[i]]
    return out


@numba.njit(**JIT)
def _solve(b: F64, lay: I64, ncell: I64, f0: I64, i0: I64, pfrom: I64, pto: I64, inv_qq: F64, fa: F64, pa: F64,
           ca: F64, lowf: F64, inv_dp: F64, up: F64, cp: F64, Y: F64, Z: F64, Lp: I64, Li: I64, Lx: F64, Ld: I64,
           Up: I64, Ui: I64, Ux: F64, Ud: I64, perm_r: I64, perm_c: I64, x: F64) -> None:
    """A whole solve in one call: :func:`_forward`, the junction system, :func:`_backward`."""
    r_j = np.empty(Ld.size)
    _forward(b, lay, ncell, f0, i0, pfrom, pto, inv_qq, pa, ca, lowf, inv_dp, up, cp, x, r_j)
    x_j = _lu_solve(r_j, Lp, Li, Lx, Ld, Up, Ui, Ux, Ud, perm_r, perm_c)
    _backward(x_j, lay, ncell, f0, i0, pfrom, pto, inv_qq, fa, Y, Z, x)


@numba.njit(**_JIT_SOLVE)
def _backward_apply(x_j: F64, lay: I64, ncell: I64, f0: I64, i0: I64, pfrom: I64, pto: I64, inv_qq: F64, fa: F64,
                    Y: F64, Z: F64, w: F64, x: F64, inv_p: float, inv_q: float) -> float:
    """:func:`_backward` with the solution d subtracted from x instead of stored (w: the first half's scratch), and
    max |d_i| / scale_i (scale 1 / inv_p on the pressures, 1 / inv_q on the flows; NaN if any d_i is NaN)."""
    n_nodes, of, oo, n = lay[0], lay[1], lay[2], lay[3]
    mp, mq = 0.0, 0.0
    nan = False
    for j in range(n_nodes):
        d = x_j[j]
        x[j] -= d
        mp = max(mp, abs(d))
        nan |= d != d
    for j in range(oo, n):
        d = x_j[n_nodes + j - oo]
        x[j] -= d
        mq = max(mq, abs(d))
        nan |= d != d
    for p in range(ncell.size):
        nc, a, s, fp, ip = ncell[p], of + f0[p], n_nodes + i0[p], f0[p], i0[p]
        pf, pt = x_j[pfrom[p]], x_j[pto[p]]
        pl = pf
        for k in range(nc):
            pr = w[s + k] - (Y[ip + k] * pf + Z[ip + k] * pt) if k < nc - 1 else pt
            dq = w[a + k] - (fa[FA_QL, fp + k] * pl + fa[FA_QR, fp + k] * pr) * inv_qq[fp + k]
            x[a + k] -= dq
            mq = max(mq, abs(dq))
            nan |= dq != dq
            if k < nc - 1:
                x[s + k] -= pr
                mp = max(mp, abs(pr))
                nan |= pr != pr
            pl = pr
    return math.nan if nan else max(mp * inv_p, mq * inv_q)


@numba.njit(**JIT)
def solve_apply(b: F64, plan: tuple, w: F64, x: F64, inv_p: float, inv_q: float) -> float:
    """Solve J d = b with a :class:`PipeEliminationLU` (``plan``: its arrays; w: scratch), x -= d, and the scaled
    max norm of d (see :func:`_backward_apply`): one pass less than solving, then updating."""
    (lay, ncell, f0, i0, pfrom, pto, inv_qq, fa, pa, ca, lowf, inv_dp, up, cp, Y, Z, Lp, Li, Lx, Ld, Up, Ui, Ux, Ud,
     perm_r, perm_c) = plan
    r_j = np.empty(Ld.size)
    _forward(b, lay, ncell, f0, i0, pfrom, pto, inv_qq, pa, ca, lowf, inv_dp, up, cp, w, r_j)
    x_j = _lu_solve(r_j, Lp, Li, Lx, Ld, Up, Ui, Ux, Ud, perm_r, perm_c)
    return _backward_apply(x_j, lay, ncell, f0, i0, pfrom, pto, inv_qq, fa, Y, Z, w, x, inv_p, inv_q)


def _factors(lu: object) -> tuple:
    """SuperLU's factors as the arrays :func:`_lu_solve` takes."""
    out: list = []
    for M in (lu.L, lu.U):  # type: ignore[attr-defined]
        M = sp.csc_matrix(M)
        M.sort_indices()
        cols = np.repeat(np.arange(M.shape[1]), np.diff(M.indptr))
        diag = np.flatnonzero(M.indices == cols)
        if len(diag) != M.shape[1]:
            raise AssertionError("a triangular factor without its full diagonal")
        out += [M.indptr.astype(np.int64), M.indices.astype(np.int64), M.data.astype(float), diag.astype(np.int64)]
    return (*out, lu.perm_r.astype(np.int64), lu.perm_c.astype(np.int64))  # type: ignore[attr-defined]


# --- the strategy -------------------------------------------------------------------------------------------
class PipeElimination:
    """Pipe-by-pipe elimination (see module docstring) for Jacobians on ``grid.pattern``.

    Everything here is computed once per grid (where each CSC entry goes); :meth:`factor` returns a new
    :class:`PipeEliminationLU` each time.
    """

    def __init__(self, grid: Grid) -> None:
        g = grid
        net = g.net
        self.n = g.n
        self.lay = np.array([g.n_nodes, g.off_face, g.off_other, g.n], dtype=np.int64)
        self.ncell = g.n_cells.astype(np.int64)
        self.f0 = g.face_start.astype(np.int64)
        self.i0 = (np.cumsum(self.ncell - 1) - (self.ncell - 1)).astype(np.int64)
        n_jn = g.n_nodes + g.n - g.off_other
        self.n_j = n_jn
        self.pfrom = net.arc_from[net.pipe.arc].astype(np.int64)  # node index = junction index
        self.pto = net.arc_to[net.pipe.arc].astype(np.int64)
        self.dest, self.idx, s_rows, s_cols = self._classify(g)
        n_pipes = len(self.ncell)
        self.n_j_coo = len(s_rows)
        s_rows = np.concatenate([s_rows, np.stack([self.pfrom, self.pfrom, self.pto, self.pto], 1).ravel()])
        s_cols = np.concatenate([s_cols, np.stack([self.pfrom, self.pto, self.pfrom, self.pto], 1).ravel()])
        self.s_pattern = Pattern.from_coo(n_jn, s_rows.astype(np.int64), s_cols.astype(np.int64))
        self.n_faces, self.n_interior, self.n_pipes = g.n_faces, g.n_interior, n_pipes

    def _classify(self, g: Grid) -> tuple[I64, I64, I64, I64]:
        """Destination of every CSC entry: a flow / point / pipe-end coefficient, or the junction matrix."""
        pat = g.pattern
        cols = np.repeat(np.arange(pat.n), np.diff(pat.indptr))
        rows = pat.indices.astype(np.int64)
        dest = np.full(len(rows), -1, dtype=np.int64)
        idx = np.zeros(len(rows), dtype=np.int64)
        of, oo = g.off_face, g.off_other
        is_face = lambda v: (v >= of) & (v < oo)  # noqa: E731
        is_point = lambda v: (v >= g.n_nodes) & (v < of)  # noqa: E731
        fr, fc = rows - of, cols - of
        fr_ok, fc_ok = np.clip(fr, 0, max(g.n_faces - 1, 0)), np.clip(fc, 0, max(g.n_faces - 1, 0))
        first = np.zeros(g.n_faces, dtype=bool)
        last = np.zeros(g.n_faces, dtype=bool)
        first[g.face_start] = True
        last[g.face_start + g.n_cells - 1] = True
        fl, frt, fpipe = g.face_left, g.face_right, g.face_pipe

        def put(sel: NDArray[np.bool_], d: int, i: I64) -> None:
            sel = sel & (dest < 0)
            dest[sel], idx[sel] = d, i[sel]

        if g.n_faces:
            rf, cf = is_face(rows), is_face(cols)
            put(rf & (rows == cols), _D_FACE + FA_QQ, fr_ok)
            put(rf & ~cf & (cols == fl[fr_ok]), _D_FACE + FA_QL, fr_ok)
            put(rf & ~cf & (cols == frt[fr_ok]), _D_FACE + FA_QR, fr_ok)
            put(is_point(rows) & cf & (rows == frt[fc_ok]), _D_POINT + PA_PL, rows - g.n_nodes)
            put(is_point(rows) & cf & (rows == fl[fc_ok]), _D_POINT + PA_PR, rows - g.n_nodes)
            junction_row = (rows < g.n_nodes) | (rows >= oo)
            put(junction_row & cf & first[fc_ok] & (rows == fl[fc_ok]), _D_PIPE + CA_F, fpipe[fc_ok])
            put(junction_row & cf & last[fc_ok] & (rows == frt[fc_ok]), _D_PIPE + CA_T, fpipe[fc_ok])
        put(is_point(rows) & (rows == cols), _D_POINT + PA_PP, rows - g.n_nodes)
        junction = ((rows < g.n_nodes) | (rows >= oo)) & ((cols < g.n_nodes) | (cols >= oo))
        put(junction, _D_JUNCTION, np.cumsum(junction) - 1)
        if np.any(dest < 0):
            raise AssertionError("the Jacobian pattern does not have the pipe-block structure")
        jmap = lambda v: np.where(v < g.n_nodes, v, v - oo + g.n_nodes)  # noqa: E731
        return dest, idx, jmap(rows[junction]), jmap(cols[junction])

    def factor(self, J: sp.csc_matrix) -> Factorization | None:
        """Factorise J (on the grid's pattern); falls back to :class:`SparseLU` if a pivot is unsafe."""
        nf, ni, npipe = self.n_faces, self.n_interior, self.n_pipes
        fa, pa, ca = np.empty((3, nf)), np.empty((3, ni)), np.empty((2, npipe))
        s_coo = np.empty(self.n_j_coo + 4 * npipe)
        _scatter(J.data, self.dest, self.idx, fa, pa, ca, s_coo)
        inv_qq, lowf, inv_dp, up, Y, Z = (np.empty(nf), np.empty(ni), np.empty(ni), np.empty(ni), np.empty(ni),
                                          np.empty(ni))
        cp = np.empty((2, npipe))
        if not _factor(fa, pa, ca, self.ncell, self.f0, self.i0, self.n_j_coo, inv_qq, lowf, inv_dp, up, Y, Z, cp,
                       s_coo):
            return SparseLU().factor(J)
        sp_ = self.s_pattern
        s_data = np.bincount(sp_.slot, weights=s_coo, minlength=sp_.nnz)
        S = sp.csc_matrix((s_data, sp_.indices, sp_.indptr), shape=(sp_.n, sp_.n))
        try:
            lu_s = splu(S)
        except RuntimeError:
            return None
        return PipeEliminationLU(self, _factors(lu_s), fa, pa, ca, inv_qq, lowf, inv_dp, up, Y, Z, cp)


class PipeEliminationLU:
    """A factorisation by :class:`PipeElimination` (immutable after construction)."""

    def __init__(self, plan: PipeElimination, junction: tuple, fa: F64, pa: F64, ca: F64, inv_qq: F64, lowf: F64,
                 inv_dp: F64, up: F64, Y: F64, Z: F64, cp: F64) -> None:
        self.n = plan.n
        self.plan = (plan.lay, plan.ncell, plan.f0, plan.i0, plan.pfrom, plan.pto, inv_qq, fa, pa, ca, lowf, inv_dp,
                     up, cp, Y, Z, *junction)  # the arrays of a solve (see solve_apply)

    def solve(self, b: F64) -> F64:
        """x with J x = b."""
        x = np.empty(self.n)
        _solve(b, *self.plan, x)
        return x


__all__ = ["Factorization", "LinearSolver", "PipeElimination", "PipeEliminationLU", "SparseLU", "solve_apply"]
