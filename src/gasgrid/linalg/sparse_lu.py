"""Sparse LU with static pivoting, for matrices factorised many times with one sparsity pattern (numba).

Contract. :func:`analyse` takes a CSC pattern of an n×n matrix A and an optional static row permutation P
(``row_perm[i]`` = the row of A that becomes row i of P·A) and returns an :class:`LUPattern`: a fill-reducing
symmetric ordering Q (approximate minimum degree, :mod:`gasgrid.linalg.amd`, on pattern(P·A) + pattern(P·A)ᵀ)
and the patterns of L and U of C = Qᵀ·P·A·Q = L·U computed with diagonal pivots on that symmetrised pattern.
:func:`lu_factor` then factorises any matrix with the pattern (values in the order of the pattern given to
:func:`analyse`) without pivoting: a left-looking kernel that only fills in the precomputed patterns. It does
not pivot; a pivot that is zero, non-finite or small relative to its column (see :func:`lu_factor`) is
reported, and the caller falls back to a pivoting LU (SuperLU). :func:`lu_solve` solves A x = b.

Both kernels are ``@njit(nogil=True)`` and take ``pattern.arrays`` (a tuple of int64 arrays) as their first
argument, so that compiled code can call them. They keep no state: several threads can factorise and solve
at the same time with their own ``lx``/``ux``. Storage: L is unit lower triangular, stored by columns without
its diagonal (``lnz`` values); U is stored by columns with the diagonal as the last entry of each column
(``unz`` values, of which n are diagonal), kept as its reciprocal 1/U(k, k) so that the solve multiplies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit
from numpy.typing import NDArray

from gasgrid._jit import refresh_stale_caches
from gasgrid.errors import InputError
from gasgrid.linalg.amd import minimum_degree

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_HERE = Path(__file__).resolve().parent
refresh_stale_caches(_HERE, ("sparse_lu",), "linalg-sparse_lu.sha1", (_HERE / "amd.py",))

_Q, _RQ, _AP, _AI, _AS, _LP, _LI, _UP, _UI = range(9)
"""Positions in :attr:`LUPattern.arrays`: column order q (column k of C is column q[k] of A); rq[k] =
row_perm[q[k]] (the row of A that becomes row k of C); the values of C by columns: ap (n+1), ai (C's row of
each entry), asrc (the entry's position in A's data); L by columns: lp (n+1), li (rows, ascending); U by
columns: up (n+1), ui (rows in a topological order of the elimination tree, see :func:`_symbolic`; the
diagonal last)."""

DEFAULT_PIVOT_TOL = 1e-8
"""Default relative pivot tolerance of :meth:`LUPattern.factor` (see :func:`lu_factor`): a pivot 1e8 times
smaller than the one partial pivoting would take can cost about as many digits, so such a matrix goes to the
pivoting fallback. The bundled Newton matrices pass with 1e-2."""

_ERRORS = {
    1: "indptr must have n + 1 entries, start at 0, not decrease, and end at len(indices)",
    2: "indices must lie in [0, n)",
    3: "row_perm must be a permutation of 0..n-1",
}


@njit(cache=True, nogil=True, error_model="numpy")
def _check_input(n: int, indptr: I64, indices: I64, row_perm: I64) -> int:
    """0 if the pattern and the row permutation are valid, else a key of ``_ERRORS``."""
    if indptr.shape[0] != n + 1 or indptr[0] != 0 or indptr[n] != indices.shape[0]:
        return 1
    for j in range(n):
        if indptr[j + 1] < indptr[j]:
            return 1
    for p in range(indices.shape[0]):
        if indices[p] < 0 or indices[p] >= n:
            return 2
    if row_perm.shape[0] != n:
        return 3
    seen = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        r = row_perm[i]
        if r < 0 or r >= n or seen[r]:
            return 3
        seen[r] = True
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def _symmetrised(n: int, indptr: I64, indices: I64, pinv: I64) -> tuple[I64, I64]:
    """Adjacency (xadj, adj) of pattern(P·A) + pattern(P·A)ᵀ without the diagonal and without duplicates;
    ``pinv[r]`` is the row of P·A that row r of A becomes."""
    cnt = np.zeros(n + 1, dtype=np.int64)
    for j in range(n):
        for p in range(indptr[j], indptr[j + 1]):
            i = pinv[indices[p]]
            if i != j:
                cnt[i + 1] += 1
                cnt[j + 1] += 1
    for i in range(n):
        cnt[i + 1] += cnt[i]
    raw = np.empty(cnt[n], dtype=np.int64)
    pos = cnt[:n].copy()
    for j in range(n):
        for p in range(indptr[j], indptr[j + 1]):
            i = pinv[indices[p]]
            if i != j:
                raw[pos[i]] = j
                pos[i] += 1
                raw[pos[j]] = i
                pos[j] += 1
    mark = np.full(n, -1, dtype=np.int64)
    xadj = np.empty(n + 1, dtype=np.int64)
    xadj[0] = 0
    t = 0
    for i in range(n):
        mark[i] = i
        for p in range(cnt[i], cnt[i + 1]):
            j = raw[p]
            if mark[j] != i:
                mark[j] = i
                raw[t] = j
                t += 1
        xadj[i + 1] = t
    return xadj, raw[:t].copy()


@njit(cache=True, nogil=True, error_model="numpy")
def _etree(n: int, xadj: I64, adj: I64, q: I64, qinv: I64) -> I64:
    """Elimination tree of Qᵀ S Q (Liu's algorithm with path compression); parent -1 at the roots."""
    parent = np.full(n, -1, dtype=np.int64)
    ancestor = np.full(n, -1, dtype=np.int64)
    for k in range(n):
        v = q[k]
        for p in range(xadj[v], xadj[v + 1]):
            i = qinv[adj[p]]
            while i >= 0 and i < k:
                nxt = ancestor[i]
                ancestor[i] = k
                if nxt < 0:
                    parent[i] = k
                i = nxt
    return parent


@njit(cache=True, nogil=True, error_model="numpy")
def _symbolic(n: int, xadj: I64, adj: I64, q: I64, qinv: I64) -> tuple[I64, I64, I64, I64]:
    """Patterns (lp, li, up, ui) of L and U of Qᵀ S Q = L U for the symmetric pattern S = (xadj, adj).

    Column k of U (= row k of L) is the row subtree of k: the nodes reached from the entries S(k, i < k) by
    climbing the elimination tree until a node already reached (or k). Each climb is written reversed in
    front of the previous ones, so that every node comes after its descendants: the topological order the
    left-looking kernel needs (U(j, k) is final once the columns of L below j's descendants are applied). The
    diagonal goes last. L comes out with ascending rows by transposing U column by column."""
    parent = _etree(n, xadj, adj, q, qinv)
    mark = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    up = np.empty(n + 1, dtype=np.int64)
    lp = np.zeros(n + 1, dtype=np.int64)
    ui = np.empty(max(2 * xadj[n], 16) + n, dtype=np.int64)
    up[0] = 0
    t = 0
    for k in range(n):
        mark[k] = k
        top = n
        v = q[k]
        for p in range(xadj[v], xadj[v + 1]):
            i = qinv[adj[p]]
            length = 0
            while i < k and mark[i] != k:
                mark[i] = k
                stack[length] = i
                length += 1
                i = parent[i]
            while length > 0:
                length -= 1
                top -= 1
                stack[top] = stack[length]
        if t + (n - top) + 1 > ui.shape[0]:
            grown = np.empty(2 * ui.shape[0] + n, dtype=np.int64)
            grown[:t] = ui[:t]
            ui = grown
        for s in range(top, n):
            j = stack[s]
            ui[t] = j
            t += 1
            lp[j + 1] += 1
        ui[t] = k
        t += 1
        up[k + 1] = t
    for k in range(n):
        lp[k + 1] += lp[k]
    li = np.empty(lp[n], dtype=np.int64)
    pos = lp[:n].copy()
    for k in range(n):
        for p in range(up[k], up[k + 1] - 1):
            j = ui[p]
            li[pos[j]] = k
            pos[j] += 1
    return lp, li, up, ui[:t].copy()


@njit(cache=True, nogil=True, error_model="numpy")
def _analyse_kernel(n: int, indptr: I64, indices: I64, row_perm: I64) -> tuple[int, tuple[I64, ...]]:
    """Everything :func:`analyse` computes, in one compiled call; the int is an ``_ERRORS`` key or 0."""
    empty = np.zeros(0, dtype=np.int64)
    code = _check_input(n, indptr, indices, row_perm)
    if code:
        return code, (empty, empty, empty, empty, empty, empty, empty, empty, empty)
    pinv = np.empty(n, dtype=np.int64)
    for i in range(n):
        pinv[row_perm[i]] = i
    xadj, adj = _symmetrised(n, indptr, indices, pinv)
    q = minimum_degree(n, xadj, adj)
    qinv = np.empty(n, dtype=np.int64)
    for k in range(n):
        qinv[q[k]] = k
    lp, li, up, ui = _symbolic(n, xadj, adj, q, qinv)
    nnz = indptr[n]
    ap = np.empty(n + 1, dtype=np.int64)
    ai = np.empty(nnz, dtype=np.int64)
    asrc = np.empty(nnz, dtype=np.int64)
    rq = np.empty(n, dtype=np.int64)
    ap[0] = 0
    t = 0
    for k in range(n):
        c = q[k]
        rq[k] = row_perm[c]
        for p in range(indptr[c], indptr[c + 1]):
            ai[t] = qinv[pinv[indices[p]]]
            asrc[t] = p
            t += 1
        ap[k + 1] = t
    return 0, (q, rq, ap, ai, asrc, lp, li, up, ui)


@njit(cache=True, nogil=True, error_model="numpy")
def lu_factor(arrays: tuple[I64, ...], data: F64, lx: F64, ux: F64, pivot_tol: float) -> int:
    """Factorise C = Qᵀ·P·A·Q = L·U in the patterns of ``arrays`` (:attr:`LUPattern.arrays`); returns -1 on
    success, else the failing column in A's own numbering (q[k] for the k-th pivot).

    ``data``: A's values (float64, length nnz) in the order of the pattern given to :func:`analyse`
    (duplicate entries are summed). ``lx`` (``lnz``), ``ux`` (``unz``): outputs, fully overwritten; they need
    no zeroing. On failure they hold a partial factorisation and must not be passed to :func:`lu_solve`.
    Wrong lengths raise ValueError (the kernels do not bounds-check their loops).

    Pivot test at step k: let v_i = C(i, k) - Σ_{j<k} L(i, j) U(j, k) for the rows i ≥ k of the pattern
    (the k-th column of the Schur complement, whose largest entry partial pivoting would choose); the pivot
    is v_k. Step k fails if any computed value of column k (U(:, k) and every v_i) is NaN or infinite, if
    v_k = 0, if |v_k| < ``pivot_tol`` · max_i |v_i|, or if max_i |v_i| / |v_k| (the largest entry of L's
    column, and 1/v_k itself) overflows. ``pivot_tol`` = 0 only rejects zero, non-finite and overflowing
    pivots; 1 accepts only pivots that partial pivoting would also choose (not checked here: pass a value in
    [0, 1]). So a success leaves only finite values in L and U. U(k, k) = v_k is stored as 1/v_k (see the
    module docstring)."""
    q, ap, ai, asrc = arrays[_Q], arrays[_AP], arrays[_AI], arrays[_AS]
    lp, li, up, ui = arrays[_LP], arrays[_LI], arrays[_UP], arrays[_UI]
    n = q.shape[0]
    if data.shape[0] != ai.shape[0] or lx.shape[0] != li.shape[0] or ux.shape[0] != ui.shape[0]:
        raise ValueError("lu_factor: data, lx, ux must have the lengths nnz, lnz, unz of the pattern")
    x = np.zeros(n)
    for k in range(n):
        for p in range(ap[k], ap[k + 1]):
            x[ai[p]] += data[asrc[p]]
        bad = False
        dk = up[k + 1] - 1
        for pu in range(up[k], dk):  # topological order: each x[j] is final when it is read
            j = ui[pu]
            ujk = x[j]
            x[j] = 0.0
            ux[pu] = ujk
            bad |= not np.isfinite(ujk)
            for pl in range(lp[j], lp[j + 1]):
                x[li[pl]] -= lx[pl] * ujk
        piv = x[k]
        x[k] = 0.0
        amax = abs(piv)
        bad |= not np.isfinite(piv)
        for pl in range(lp[k], lp[k + 1]):
            i = li[pl]
            v = x[i]
            x[i] = 0.0
            lx[pl] = v
            a = abs(v)
            bad |= not np.isfinite(v)
            if a > amax:
                amax = a
        r = 1.0 / piv
        if bad or piv == 0.0 or abs(piv) < pivot_tol * amax or not np.isfinite(amax * abs(r)):
            return q[k]
        ux[dk] = r
        for pl in range(lp[k], lp[k + 1]):
            lx[pl] *= r
    return -1


@njit(cache=True, nogil=True, error_model="numpy")
def lu_solve(arrays: tuple[I64, ...], lx: F64, ux: F64, b: F64, x: F64) -> None:
    """x = A⁻¹ b from a successful :func:`lu_factor`; ``b`` and ``x`` have length n. ``b`` is read completely
    before ``x`` is written: it is left unchanged, or passing one array as both solves in place. Allocates
    one work vector of length n."""
    q, rq = arrays[_Q], arrays[_RQ]
    lp, li, up, ui = arrays[_LP], arrays[_LI], arrays[_UP], arrays[_UI]
    n = q.shape[0]
    if b.shape[0] != n or x.shape[0] != n or lx.shape[0] != li.shape[0] or ux.shape[0] != ui.shape[0]:
        raise ValueError("lu_solve: b, x must have length n, lx, ux the lengths lnz, unz of the pattern")
    y = np.empty(n)
    for k in range(n):
        y[k] = b[rq[k]]
    for j in range(n):
        yj = y[j]
        for p in range(lp[j], lp[j + 1]):
            y[li[p]] -= lx[p] * yj
    for k in range(n - 1, -1, -1):
        dk = up[k + 1] - 1
        yk = y[k] * ux[dk]
        y[k] = yk
        for p in range(up[k], dk):
            y[ui[p]] -= ux[p] * yk
    for k in range(n):
        x[q[k]] = y[k]


@dataclass(frozen=True)
class LUFactors:
    """A successful factorisation: L and U values of :attr:`pattern`'s patterns."""

    pattern: LUPattern
    lx: F64
    ux: F64

    def solve(self, b: NDArray[np.floating]) -> F64:
        """x = A⁻¹ b (a new array) for a right-hand side of length n."""
        b = np.ascontiguousarray(b, dtype=np.float64)
        if b.shape != (self.pattern.n,):
            raise InputError(f"right-hand side of shape {b.shape}, expected ({self.pattern.n},)", field="b")
        x = np.empty(self.pattern.n)
        lu_solve(self.pattern.arrays, self.lx, self.ux, b, x)
        return x


@dataclass(frozen=True)
class LUPattern:
    """Symbolic analysis of one sparsity pattern (reused for every matrix with that pattern).

    ``arrays`` holds everything the kernels need (orderings, L/U patterns, scatter maps) as contiguous int64
    arrays; pass it unchanged to :func:`lu_factor` and :func:`lu_solve`. ``lnz``/``unz`` are the lengths of
    the L and U value arrays (U includes its n diagonal entries, L's unit diagonal is not stored)."""

    n: int
    arrays: tuple[I64, ...]
    lnz: int
    unz: int

    @property
    def nnz(self) -> int:
        """Number of stored entries of A (the length of ``data``)."""
        return int(self.arrays[_AI].shape[0])

    @property
    def column_order(self) -> I64:
        """The fill-reducing order Q: column k of Qᵀ·P·A·Q is column ``column_order[k]`` of A."""
        return self.arrays[_Q]

    def factor(self, data: NDArray[np.floating], pivot_tol: float = DEFAULT_PIVOT_TOL) -> LUFactors | None:
        """Factorise the matrix with values ``data`` (CSC order of the analysed pattern); None when a pivot
        fails the test of :func:`lu_factor` (then use a pivoting LU instead)."""
        if not 0.0 <= pivot_tol <= 1.0:
            raise InputError(f"pivot_tol = {pivot_tol} must lie in [0, 1]", field="pivot_tol")
        data = np.ascontiguousarray(data, dtype=np.float64)
        if data.shape != (self.nnz,):
            raise InputError(f"values of shape {data.shape}, expected ({self.nnz},)", field="data")
        lx = np.empty(self.lnz)
        ux = np.empty(self.unz)
        if lu_factor(self.arrays, data, lx, ux, float(pivot_tol)) >= 0:
            return None
        return LUFactors(self, lx, ux)


def analyse(n: int, indptr: NDArray[np.integer], indices: NDArray[np.integer],
            row_perm: NDArray[np.integer] | None = None) -> LUPattern:
    """Symbolic analysis of the n×n CSC pattern ``(indptr, indices)`` with the static row permutation
    ``row_perm`` (``row_perm[i]`` = the row of A that becomes row i of P·A; identity if None).

    Any integer dtype; indices need not be sorted within a column, and duplicates are allowed (their values
    are summed). P·A should have a structurally non-zero diagonal: a zero diagonal is not an error here, but
    unless fill makes the pivot non-zero, :func:`lu_factor` will report that column. Raises
    :class:`~gasgrid.errors.InputError` for an invalid pattern or permutation."""
    n = int(n)
    if n < 0:
        raise InputError(f"n = {n} must be ≥ 0", field="n")
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    rp = np.arange(n, dtype=np.int64) if row_perm is None else np.ascontiguousarray(row_perm, dtype=np.int64)
    if indptr.ndim != 1 or indices.ndim != 1 or rp.ndim != 1:
        raise InputError("indptr, indices and row_perm must be one-dimensional")
    code, arrays = _analyse_kernel(n, indptr, indices, rp)
    if code:
        raise InputError(_ERRORS[code], field=("indptr", "indices", "row_perm")[code - 1])
    return LUPattern(n, arrays, int(arrays[_LI].shape[0]), int(arrays[_UI].shape[0]))
