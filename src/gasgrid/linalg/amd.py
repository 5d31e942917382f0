"""Approximate minimum degree ordering (numba) of a symmetric sparsity pattern, for :mod:`gasgrid.linalg.sparse_lu`.

The algorithm of Amestoy, Davis & Duff, "An approximate minimum degree ordering algorithm", SIAM J. Matrix
Anal. Appl. 17(4), 1996, written here from the paper: elimination on the quotient graph (variables and
elements) with element absorption, aggressive absorption, mass elimination, indistinguishable-variable
detection by hashing, and the approximate external degree of the paper's eq. (4). Rows denser than
``max(16, 10 sqrt(n))`` are set aside and ordered last, as in the paper.

The helpers are inlined (``inline="always"``): called once per pivot with a dozen arrays each, as calls
they cost about a quarter of the run time on networks of a few hundred nodes.

Contract: the input is an adjacency structure (CSR-like ``xadj``, ``adj``) of a symmetric pattern without
the diagonal and without duplicates; the output ``order`` is a permutation, ``order[k]`` the vertex eliminated
k-th. Deterministic: ties in the degree lists are broken last-in first-out in a fixed traversal order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

I64 = NDArray[np.int64]

_VAR, _ELEMENT, _DEAD = 0, 1, 2
"""Vertex status: uneliminated (principal) variable, live element, or gone (absorbed element, variable merged
into a supervariable or eliminated with one)."""


@njit(cache=True, nogil=True, error_model="numpy")
def _compact(iw: I64, pe: I64, ln: I64, status: I64, need: int) -> tuple[I64, int]:
    """Copy the live lists into a fresh workspace with room for ``need`` more entries; returns it and the
    first free position. Growing (instead of compressing in place) keeps the step that builds a new element
    free of relocations: it is called before that step, with an upper bound on the new element's size."""
    live = 0
    for i in range(pe.shape[0]):
        if status[i] != _DEAD:
            live += ln[i]
    out = np.empty(max(iw.shape[0], 2 * live + need), dtype=np.int64)
    p = 0
    for i in range(pe.shape[0]):
        if status[i] != _DEAD:
            start = pe[i]
            pe[i] = p
            for q in range(ln[i]):
                out[p + q] = iw[start + q]
            p += ln[i]
    return out, p


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _unlink(i: int, d: int, head: I64, nxt: I64, prv: I64) -> None:
    """Remove variable ``i`` from the degree list ``d``."""
    if prv[i] >= 0:
        nxt[prv[i]] = nxt[i]
    else:
        head[d] = nxt[i]
    if nxt[i] >= 0:
        prv[nxt[i]] = prv[i]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _link(i: int, d: int, head: I64, nxt: I64, prv: I64) -> None:
    """Put variable ``i`` at the front of the degree list ``d``."""
    j = head[d]
    nxt[i] = j
    prv[i] = -1
    if j >= 0:
        prv[j] = i
    head[d] = i


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _append_chain(i: int, j: int, cnext: I64, ctail: I64) -> None:
    """Append the members of (super)variable ``j`` to those of ``i`` (they are eliminated together)."""
    cnext[ctail[i]] = j
    ctail[i] = ctail[j]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _merge_indistinguishable(iw: I64, pe: I64, ln: I64, elen: I64, nv: I64, status: I64, w: I64, wflg: int,
                             hhead: I64, hnext: I64, buckets: I64, nbuckets: int, cnext: I64, ctail: I64) -> int:
    """Merge variables of the new element with identical quotient-graph lists (found by hash buckets) into
    one supervariable; returns the advanced marker ``wflg``. ``nv`` of these variables is negative (flagged)."""
    for b in range(nbuckets):
        h = buckets[b]
        i = hhead[h]
        hhead[h] = -1
        while i >= 0:
            wflg += 1
            for q in range(pe[i], pe[i] + ln[i]):
                w[iw[q]] = wflg
            jlast = i
            j = hnext[i]
            while j >= 0:
                same = ln[j] == ln[i] and elen[j] == elen[i]
                if same:
                    for q in range(pe[j], pe[j] + ln[j]):
                        if w[iw[q]] != wflg:
                            same = False
                            break
                if same:
                    nv[i] += nv[j]
                    nv[j] = 0
                    elen[j] = -1
                    status[j] = _DEAD
                    _append_chain(i, j, cnext, ctail)
                    hnext[jlast] = hnext[j]
                else:
                    jlast = j
                j = hnext[j]
            i = hnext[i]
    return wflg


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _scan_elements(iw: I64, pe: I64, elen: I64, nv: I64, status: I64, deg: I64, w: I64, wflg: int,
                   pme1: int, pme2: int) -> None:
    """First scan of the new element's variables: leaves ``w[e] - wflg`` = |Le \\ Lme| for every live element
    e adjacent to one of them (``deg[e]`` holds |Le|, the summed supervariable sizes)."""
    for pme in range(pme1, pme2):
        i = iw[pme]
        nvi = -nv[i]
        for q in range(pe[i], pe[i] + elen[i]):
            e = iw[q]
            if status[e] != _ELEMENT:
                continue
            we = w[e]
            w[e] = we - nvi if we >= wflg else deg[e] + wflg - nvi


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _update_lists(iw: I64, pe: I64, ln: I64, elen: I64, nv: I64, status: I64, deg: I64, w: I64, wflg: int,
                  me: int, pme1: int, pme2: int, hhead: I64, hnext: I64, buckets: I64,
                  cnext: I64, ctail: I64) -> tuple[int, int]:
    """Second scan: prune the lists of the new element's variables (absorbed elements, variables now reached
    through ``me``), add ``me``, absorb elements contained in Lme, mass-eliminate variables adjacent to ``me``
    only, bound each degree and hash the lists. Returns (size of the mass-eliminated variables, number of hash
    buckets used)."""
    n = pe.shape[0]
    nbuckets = 0
    mass = 0
    for pme in range(pme1, pme2):
        i = iw[pme]
        p1 = pe[i]
        pn = p1
        h = me
        d = 0
        for q in range(p1, p1 + elen[i]):
            e = iw[q]
            if status[e] != _ELEMENT:
                continue
            dext = w[e] - wflg
            if dext > 0:
                d += dext
                iw[pn] = e
                pn += 1
                h += e
            else:  # Le is inside Lme: aggressive absorption
                status[e] = _DEAD
                w[e] = 0
        k = pn - p1
        for q in range(p1 + elen[i], p1 + ln[i]):
            j = iw[q]
            if nv[j] > 0:
                d += nv[j]
                iw[pn] = j
                pn += 1
                h += j
        m = pn - p1 - k
        if k == 0 and m == 0:  # adjacent to me only: eliminated with the pivot
            mass += -nv[i]
            nv[i] = 0
            elen[i] = -1
            status[i] = _DEAD
            _append_chain(me, i, cnext, ctail)
            continue
        deg[i] = min(deg[i], d)
        # me goes first: at least one entry (the pivot, or an element it absorbed) was pruned, so there is room
        if m > 0:
            iw[p1 + k + m] = iw[p1 + k]
        if k > 0:
            iw[p1 + k] = iw[p1]
        iw[p1] = me
        elen[i] = k + 1
        ln[i] = k + m + 1
        h %= n
        if hhead[h] < 0:
            buckets[nbuckets] = h
            nbuckets += 1
        hnext[i] = hhead[h]
        hhead[h] = i
    return mass, nbuckets


@njit(cache=True, nogil=True, error_model="numpy")
def minimum_degree(n: int, xadj: I64, adj: I64, room: int = -1) -> I64:
    """Approximate minimum degree order of the symmetric pattern ``(xadj, adj)`` (see the module docstring).

    ``room``: spare workspace beyond the pattern for new elements (default, if negative: half the pattern
    plus 2n); when it runs out the live lists are copied into a larger workspace, which changes nothing in
    the result (tests pass 0 to exercise that path).

    One long function on purpose: moving the construction of the new element or the final degree update
    into helpers (inlined or not) made it 1.5-2x slower on GasLib-582 with numba 0.68 (same order); the
    phases are marked by comments instead."""
    order = np.empty(n, dtype=np.int64)
    if n == 0:
        return order
    dense = max(16, int(10.0 * math.sqrt(n)))
    status = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if xadj[i + 1] - xadj[i] > dense:
            status[i] = _DEAD
    ndense = 0
    for i in range(n):
        ndense += status[i] == _DEAD
    nnz = xadj[n]
    iw = np.empty(nnz + (nnz // 2 + 2 * n + 16 if room < 0 else room), dtype=np.int64)
    pe = np.empty(n, dtype=np.int64)
    ln = np.zeros(n, dtype=np.int64)
    elen = np.zeros(n, dtype=np.int64)
    nv = np.ones(n, dtype=np.int64)
    deg = np.zeros(n, dtype=np.int64)
    w = np.ones(n, dtype=np.int64)
    head = np.full(n + 1, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    prv = np.full(n, -1, dtype=np.int64)
    hhead = np.full(n, -1, dtype=np.int64)
    hnext = np.full(n, -1, dtype=np.int64)
    buckets = np.empty(n, dtype=np.int64)
    cnext = np.full(n, -1, dtype=np.int64)
    ctail = np.arange(n)
    pivots = np.empty(n, dtype=np.int64)
    pfree = 0
    for i in range(n):
        pe[i] = pfree
        if status[i] == _DEAD:
            continue
        for q in range(xadj[i], xadj[i + 1]):
            j = adj[q]
            if status[j] != _DEAD:
                iw[pfree] = j
                pfree += 1
        ln[i] = pfree - pe[i]
        deg[i] = ln[i]
    for i in range(n - 1, -1, -1):
        if status[i] == _VAR:
            _link(i, deg[i], head, nxt, prv)
    wflg = 2  # markers: w[e] >= wflg is current; each phase moves wflg past every value it can leave
    nel = 0
    npiv = 0
    mindeg = 0
    nlive = n - ndense
    while nel < nlive:
        while head[mindeg] < 0:
            mindeg += 1
        me = head[mindeg]
        _unlink(me, mindeg, head, nxt, prv)
        pivots[npiv] = me
        npiv += 1
        nvpiv = nv[me]
        nel += nvpiv
        nv[me] = -nvpiv
        # construct the new element Lme: the pivot's variables and those of its elements (absorbed into me)
        degme = 0
        if elen[me] == 0:
            pme1 = pe[me]
            p = pme1
        else:
            bound = ln[me] - elen[me]
            for q in range(pe[me], pe[me] + elen[me]):
                if status[iw[q]] == _ELEMENT:
                    bound += ln[iw[q]]
            if pfree + bound > iw.shape[0]:
                iw, pfree = _compact(iw, pe, ln, status, bound)
            pme1 = pfree
            p = pme1
            for q in range(pe[me], pe[me] + elen[me]):
                e = iw[q]
                if status[e] != _ELEMENT:
                    continue
                for r in range(pe[e], pe[e] + ln[e]):
                    i = iw[r]
                    if nv[i] > 0:
                        degme += nv[i]
                        nv[i] = -nv[i]
                        _unlink(i, deg[i], head, nxt, prv)
                        iw[p] = i
                        p += 1
                status[e] = _DEAD
                w[e] = 0
        for q in range(pe[me] + elen[me], pe[me] + ln[me]):
            i = iw[q]
            if nv[i] > 0:
                degme += nv[i]
                nv[i] = -nv[i]
                _unlink(i, deg[i], head, nxt, prv)
                iw[p] = i
                p += 1
        pme2 = p
        if elen[me] > 0:
            pfree = pme2
        status[me] = _ELEMENT
        pe[me] = pme1
        elen[me] = 0
        # degree update and supervariable detection
        wflg += n + 1
        _scan_elements(iw, pe, elen, nv, status, deg, w, wflg, pme1, pme2)
        mass, nbuckets = _update_lists(iw, pe, ln, elen, nv, status, deg, w, wflg, me, pme1, pme2,
                                       hhead, hnext, buckets, cnext, ctail)
        degme -= mass
        nvpiv += mass
        nel += mass
        wflg += n + 1
        wflg = _merge_indistinguishable(iw, pe, ln, elen, nv, status, w, wflg, hhead, hnext, buckets, nbuckets,
                                        cnext, ctail)
        # finalise: restore the sizes, approximate degrees, degree lists; keep Lme's principal variables
        nleft = nlive - nel
        p = pme1
        for pme in range(pme1, pme2):
            i = iw[pme]
            nvi = -nv[i]
            if nvi <= 0:
                continue
            nv[i] = nvi
            d = min(deg[i] + degme - nvi, nleft - nvi)
            _link(i, d, head, nxt, prv)
            deg[i] = d
            mindeg = min(mindeg, d)
            iw[p] = i
            p += 1
        nv[me] = nvpiv
        ln[me] = p - pme1
        deg[me] = degme
        if ln[me] == 0:
            status[me] = _DEAD
        wflg += n + 1
    k = 0
    for t in range(npiv):  # each pivot with the variables merged into it or eliminated with it
        i = pivots[t]
        while i >= 0:
            order[k] = i
            k += 1
            i = cnext[i]
    for i in range(n):
        if xadj[i + 1] - xadj[i] > dense:
            order[k] = i
            k += 1
    return order
