"""Nodal elimination: the Newton step solved on the pressure unknowns only.

Every arc equation involves only its own flow and its end pressures, so where ∂F_arc/∂q is non-zero (pipes,
resistors, pumps, flow-controlled stations) the flow step follows from the pressure step:

    dq_a = (b_a - c_from,a dpi_from - c_to,a dpi_to) / d_a.

Substituting into the balances leaves a weighted-Laplacian system on the free super-node pressures (plus the
flows of arcs that must stay: pressure set points, ratio and power control), about half the size of the full
system for GasLib-582 and a third for meshed lattices; its sparsity pattern is computed once per topology and
its values are scattered into place each step. Mathematically the same Newton step as the full system; if an
eliminated arc has ∂F/∂q = 0 the step falls back to the full sparse LU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit
from numpy.typing import NDArray

from gasgrid._jit import refresh_stale_caches
from gasgrid.linalg.pattern import coo_pattern
from gasgrid.steady.assemble import ArcJacobian
from gasgrid.steady.system import Behaviour, SteadySystem, member

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B8 = NDArray[np.bool_]

_HERE = Path(__file__).resolve().parent
refresh_stale_caches(_HERE, ("nodal",), "steady-nodal.sha1", (_HERE.parent / "linalg" / "pattern.py",))

ELIMINABLE = (Behaviour.PIPE, Behaviour.RESISTOR, Behaviour.PUMP, Behaviour.FLOW)


@dataclass(frozen=True)
class _Pattern:
    elim: I64  # eq-arc positions eliminated
    kept: I64  # eq-arc positions kept as unknowns
    s_elim: I64  # (len(elim), 4): slots of the entries (to,from-col) (to,to-col) (from,from-col) (from,to-col), or -1
    s_kept: I64  # (len(kept), 5): slots of (bal-to, q) (bal-from, q) (arc, from-col) (arc, to-col) (arc, q), or -1
    indices: NDArray[np.int32]
    indptr: NDArray[np.int32]
    nnz: int
    n: int  # size of the reduced system
    permc_spec: str
    row_perm: I64  # static pivoting: row i of the permuted system is row row_perm[i] (kept arcs swapped with a balance)


def _pattern(sys: SteadySystem, permc_spec: str) -> _Pattern:
    cached: _Pattern | None = sys.__dict__.get("_nodal_pattern")
    if cached is not None and cached.permc_spec == permc_spec:
        return cached
    is_e = member(sys.behaviour[sys.eq_arcs], ELIMINABLE)
    elim = np.flatnonzero(is_e)
    kept = np.flatnonzero(~is_e)
    n = sys.n_free + len(kept)
    indptr, indices, s_elim, s_kept = _pattern_kernel(n, sys.n_free, elim, kept, sys.brow_to, sys.brow_from,
                                                      sys.col_from, sys.col_to)
    pat = _Pattern(elim=elim, kept=kept, s_elim=s_elim, s_kept=s_kept, indices=indices, indptr=indptr,
                   nnz=len(indices), n=n, permc_spec=permc_spec, row_perm=_static_row_perm(sys, kept, n))
    sys.__dict__["_nodal_pattern"] = pat
    return pat


@njit(cache=True, nogil=True)
def _pattern_kernel(n: int, nf: int, elim: I64, kept: I64, brow_to: I64, brow_from: I64, col_from: I64,
                    col_to: I64) -> tuple[NDArray[np.int32], NDArray[np.int32], I64, I64]:
    """CSC pattern of the reduced system and the slots each arc writes (see :class:`_Pattern`).

    An eliminated arc couples the balances of its end super-nodes with their pressures (four entries where
    row and column are free); a kept arc adds its flow column to its balances and its own row."""
    ne, nk = elim.shape[0], kept.shape[0]
    rows = np.empty(4 * ne + 5 * nk, dtype=np.int64)
    cols = np.empty(4 * ne + 5 * nk, dtype=np.int64)
    where = np.empty(4 * ne + 5 * nk, dtype=np.int64)  # flat position in s_elim (< 4 ne) or 4 ne + in s_kept
    s_elim = np.full((ne, 4), -1, dtype=np.int64)
    s_kept = np.full((nk, 5), -1, dtype=np.int64)
    m = 0
    for i in range(ne):
        a = elim[i]
        r2 = (brow_to[a], brow_to[a], brow_from[a], brow_from[a])
        c2 = (col_from[a], col_to[a], col_from[a], col_to[a])
        for j in range(4):
            if r2[j] >= 0 and c2[j] >= 0:
                rows[m], cols[m], where[m] = r2[j], c2[j], 4 * i + j
                m += 1
    for i in range(nk):
        a = kept[i]
        kc = nf + i
        r5 = (brow_to[a], brow_from[a], kc, kc, kc)
        c5 = (kc, kc, col_from[a], col_to[a], kc)
        for j in range(5):
            if r5[j] >= 0 and c5[j] >= 0:
                rows[m], cols[m], where[m] = r5[j], c5[j], 4 * ne + 5 * i + j
                m += 1
    indptr, indices, slot = coo_pattern(n, rows[:m], cols[:m])
    for k in range(m):
        w = where[k]
        if w < 4 * ne:
            s_elim[w // 4, w % 4] = slot[k]
        else:
            w -= 4 * ne
            s_kept[w // 5, w % 5] = slot[k]
    return indptr, indices, s_elim, s_kept


def _static_row_perm(sys: SteadySystem, kept: I64, n: int) -> I64:
    """A row permutation giving the reduced system a structurally non-zero diagonal, for factorisation without
    pivoting: a kept arc's equation fixes a pressure (``p_to`` for set points on the outlet and ratio control,
    ``p_from`` on the inlet, or on ratio control when the outlet's pressure is fixed) and has no entry on its own
    flow, so it swaps rows with the balance of that super-node, whose entry on the flow is +-1/q_s. Where no
    swap is possible the static LU reports the zero pivot and the general path solves the step."""
    perm = np.arange(n, dtype=np.int64)
    nf = sys.n_free
    beh = sys.behaviour[sys.eq_arcs[kept]]
    taken = np.zeros(n, dtype=bool)
    for i in range(len(kept)):
        a = kept[i]
        if beh[i] == Behaviour.SET_TO:
            candidates = (sys.brow_to[a],)
        elif beh[i] == Behaviour.SET_FROM:
            candidates = (sys.brow_from[a],)
        elif beh[i] == Behaviour.RATIO:  # couples both ends: the outlet's balance, else the inlet's (outlet fixed)
            candidates = (sys.brow_to[a], sys.brow_from[a])
        else:
            continue
        for r in candidates:
            if r >= 0 and not taken[r]:
                taken[r] = True
                perm[nf + i], perm[r] = r, nf + i
                break
    return perm


@dataclass(frozen=True)
class NodalLU:
    """Newton-step solver by nodal elimination of arc flows, then SuperLU on the reduced system."""

    permc_spec: str = "COLAMD"

    def solve(self, J: ArcJacobian | sp.spmatrix, b: F64) -> F64:
        if not isinstance(J, ArcJacobian):
            return spla.splu(sp.csc_matrix(J), permc_spec=self.permc_spec).solve(b)
        sys = J.sys
        pat = _pattern(sys, self.permc_spec)
        e, k = pat.elim, pat.kept
        d = J.d_q[e]
        if not np.all(d != 0.0):
            return spla.splu(J.tocsc(), permc_spec=self.permc_spec).solve(b)
        nf = sys.n_free
        data = np.zeros(pat.nnz)
        rhs = np.empty(pat.n)
        _reduce(J.c_from, J.c_to, J.d_q, b, nf, J.inv_qs, e, k, sys.brow_to, sys.brow_from, pat.s_elim, pat.s_kept,
                data, rhs)
        S = sp.csc_matrix((data, pat.indices, pat.indptr), shape=(pat.n, pat.n))
        y = spla.splu(S, permc_spec=self.permc_spec).solve(rhs) if pat.n else np.zeros(0)
        x = np.empty_like(b)
        _expand(J.c_from, J.c_to, J.d_q, b, nf, e, k, sys.col_from, sys.col_to, y, x)
        return x


@njit(cache=True, nogil=True, error_model="numpy")
def _reduce(c_from: F64, c_to: F64, d_q: F64, b: F64, nf: int, w: float, elim: I64, kept: I64, brow_to: I64,
            brow_from: I64, s_elim: I64, s_kept: I64, data: F64, rhs: F64) -> None:
    """Values of the reduced matrix (scattered into CSC ``data``) and its right-hand side."""
    for i in range(nf):
        rhs[i] = b[i]
    for i in range(elim.shape[0]):
        a = elim[i]
        d = d_q[a]
        cf = c_from[a] / d
        ct = c_to[a] / d
        if s_elim[i, 0] >= 0:
            data[s_elim[i, 0]] -= w * cf
        if s_elim[i, 1] >= 0:
            data[s_elim[i, 1]] -= w * ct
        if s_elim[i, 2] >= 0:
            data[s_elim[i, 2]] += w * cf
        if s_elim[i, 3] >= 0:
            data[s_elim[i, 3]] += w * ct
        t = w * b[nf + a] / d
        if brow_to[a] >= 0:
            rhs[brow_to[a]] -= t
        if brow_from[a] >= 0:
            rhs[brow_from[a]] += t
    for i in range(kept.shape[0]):
        a = kept[i]
        if s_kept[i, 0] >= 0:
            data[s_kept[i, 0]] += w
        if s_kept[i, 1] >= 0:
            data[s_kept[i, 1]] -= w
        if s_kept[i, 2] >= 0:
            data[s_kept[i, 2]] += c_from[a]
        if s_kept[i, 3] >= 0:
            data[s_kept[i, 3]] += c_to[a]
        data[s_kept[i, 4]] += d_q[a]
        rhs[nf + i] = b[nf + a]


@njit(cache=True, nogil=True, error_model="numpy")
def _expand(c_from: F64, c_to: F64, d_q: F64, b: F64, nf: int, elim: I64, kept: I64, col_from: I64, col_to: I64,
            y: F64, x: F64) -> None:
    """The full step from the reduced solution: pressures and kept flows copied, eliminated flows recovered."""
    for i in range(nf):
        x[i] = y[i]
    for i in range(kept.shape[0]):
        x[nf + kept[i]] = y[nf + i]
    for i in range(elim.shape[0]):
        a = elim[i]
        r = b[nf + a]
        if col_from[a] >= 0:
            r -= c_from[a] * y[col_from[a]]
        if col_to[a] >= 0:
            r -= c_to[a] * y[col_to[a]]
        x[nf + a] = r / d_q[a]
