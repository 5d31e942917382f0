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

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit
from numpy.typing import NDArray

from gasgrid.steady.assemble import ArcJacobian
from gasgrid.steady.system import Behaviour, SteadySystem, member

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B8 = NDArray[np.bool_]

ELIMINABLE = (Behaviour.PIPE, Behaviour.RESISTOR, Behaviour.PUMP, Behaviour.FLOW)


@dataclass(frozen=True)
class _Pattern:
    elim: I64  # eq-arc positions eliminated
    kept: I64  # eq-arc positions kept as unknowns
    # masks over elim: which of the four Laplacian entries exist (balance row and pressure column free)
    e_tf: B8
    e_tt: B8
    e_ff: B8
    e_ft: B8
    e_bto: B8
    e_bfrom: B8
    k_bto: B8
    k_bfrom: B8
    k_cf: B8
    k_ct: B8
    slot: I64
    s_elim: I64  # (len(elim), 4): slots of the entries (to,from-col) (to,to-col) (from,from-col) (from,to-col), or -1
    s_kept: I64  # (len(kept), 5): slots of (bal-to, q) (bal-from, q) (arc, from-col) (arc, to-col) (arc, q), or -1
    indices: NDArray[np.int32]
    indptr: NDArray[np.int32]
    nnz: int
    n: int  # size of the reduced system
    permc_spec: str


def _pattern(sys: SteadySystem, permc_spec: str) -> _Pattern:
    cached: _Pattern | None = sys.__dict__.get("_nodal_pattern")
    if cached is not None and cached.permc_spec == permc_spec:
        return cached
    beh = sys.behaviour[sys.eq_arcs]
    is_e = member(beh, ELIMINABLE)
    elim = np.flatnonzero(is_e)
    kept = np.flatnonzero(~is_e)
    nf = sys.n_free
    n = nf + len(kept)
    kcol = nf + np.arange(len(kept))  # column (and row) of each kept arc's flow
    bt, bf, cf, ct = sys.brow_to, sys.brow_from, sys.col_from, sys.col_to
    e_bto, e_bfrom = bt[elim] >= 0, bf[elim] >= 0
    e_cf, e_ct = cf[elim] >= 0, ct[elim] >= 0
    e_tf, e_tt, e_ff, e_ft = e_bto & e_cf, e_bto & e_ct, e_bfrom & e_cf, e_bfrom & e_ct
    k_bto, k_bfrom = bt[kept] >= 0, bf[kept] >= 0
    k_cf, k_ct = cf[kept] >= 0, ct[kept] >= 0
    rows = [bt[elim][e_tf], bt[elim][e_tt], bf[elim][e_ff], bf[elim][e_ft],
            bt[kept][k_bto], bf[kept][k_bfrom], kcol[k_cf], kcol[k_ct], kcol]
    cols = [cf[elim][e_tf], ct[elim][e_tt], cf[elim][e_ff], ct[elim][e_ft],
            kcol[k_bto], kcol[k_bfrom], cf[kept][k_cf], ct[kept][k_ct], kcol]
    r = np.concatenate(rows).astype(np.int64)
    c = np.concatenate(cols).astype(np.int64)
    key = c * max(n, 1) + r
    uniq, slot = np.unique(key, return_inverse=True)
    ucol, urow = uniq // max(n, 1), uniq % max(n, 1)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, ucol + 1, 1)
    slot = slot.astype(np.int64).ravel()
    s_elim = np.full((len(elim), 4), -1, dtype=np.int64)
    s_kept = np.full((len(kept), 5), -1, dtype=np.int64)
    pos = 0
    for target, j, mask in ((s_elim, 0, e_tf), (s_elim, 1, e_tt), (s_elim, 2, e_ff), (s_elim, 3, e_ft),
                            (s_kept, 0, k_bto), (s_kept, 1, k_bfrom), (s_kept, 2, k_cf), (s_kept, 3, k_ct),
                            (s_kept, 4, np.ones(len(kept), dtype=bool))):
        cnt = int(mask.sum())
        target[mask, j] = slot[pos:pos + cnt]
        pos += cnt
    pat = _Pattern(elim=elim, kept=kept, e_tf=e_tf, e_tt=e_tt, e_ff=e_ff, e_ft=e_ft, e_bto=e_bto, e_bfrom=e_bfrom,
                   k_bto=k_bto, k_bfrom=k_bfrom, k_cf=k_cf, k_ct=k_ct, slot=slot, s_elim=s_elim, s_kept=s_kept,
                   indices=urow.astype(np.int32), indptr=np.cumsum(indptr).astype(np.int32), nnz=len(uniq), n=n,
                   permc_spec=permc_spec)
    sys.__dict__["_nodal_pattern"] = pat
    return pat


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
