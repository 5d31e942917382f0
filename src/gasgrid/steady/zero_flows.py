"""Flows of every arc after a steady solve: arcs with equations, their parallel twins, contracted zero-loss
arcs, and the injections of pressure supplies.

Contract: :func:`recover_flows` returns the flow of every arc and the injection of every supply. On the
zero-loss arcs (short pipes, open valves, ...) it is the minimum-norm flow that closes every node balance
given the flows of the arcs with equations. Each pressure-fixed super-node gets a virtual ground node joined
to its supplies by virtual arcs, so the injections come out with the zero-loss flows (equal split where
supplies share one super-node). In every super-node the balance of its smallest node is left to absorb what
the solver left unbalanced (nothing, at convergence): the mass-balance check of the result sees it there.

Method: a spanning forest of the zero-loss and supply arcs (one breadth-first tree per super-node, rooted at
its smallest node). On a forest the flows are unique and follow from one leaf-to-root pass; arcs off the
forest (chords) close loops (13 independent ones in GasLib-582). Starting from the forest flows
with zero on the chords, the minimum-norm flow is that flow minus its projection on the cycle space, spanned
by the fundamental cycles Z: f = f0 - Z (ZᵀZ)⁻¹ Zᵀ f0, with ZᵀZ (one row per chord, eigenvalues >= 1)
factorised once per topology. Mathematically the solution of the zero-arc Laplacian system L φ = b,
f = Aᵀ φ, with one node of each super-node grounded; with more than ``MAX_CHORDS`` loops that sparse system
is factorised and solved instead.

Units: flows kg/s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit
from numpy.typing import NDArray

from gasgrid._jit import refresh_stale_caches

if TYPE_CHECKING:
    from gasgrid.model.compiled import CompiledNetwork
    from gasgrid.steady.system import SteadySystem

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B8 = NDArray[np.bool_]

refresh_stale_caches(Path(__file__).resolve().parent, ("zero_flows",), "steady-zero-flows.sha1")

MAX_CHORDS = 128
"""Loops of zero-loss arcs up to which the dense cycle-space projection is used (its set-up grows with the
number of loops times their total length); beyond, the grounded Laplacian is factorised (sparse LU)."""


@njit(cache=True, nogil=True, error_model="numpy")
def spanning_forest(n: int, n_tot: int, a_from: I64, a_to: I64) -> tuple[I64, I64, I64]:
    """Breadth-first spanning forest of the graph on 0..n_tot-1 with arcs (a_from[k], a_to[k]).

    Trees are rooted at the smallest vertex of each component, taken in ascending order over 0..n-1 (vertices
    n..n_tot-1, the grounds, are never roots: each hangs off one component). Returns the visiting order (roots
    before their descendants), the tree arc joining each vertex to its parent (-1 for roots and vertices
    unreached from 0..n-1) and the chords (arcs off the forest, self-loops and parallels included)."""
    m = a_from.shape[0]
    ptr = np.zeros(n_tot + 1, dtype=np.int64)
    for e in range(m):
        ptr[a_from[e] + 1] += 1
        ptr[a_to[e] + 1] += 1
    for v in range(n_tot):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    adj = np.empty(2 * m, dtype=np.int64)
    for e in range(m):
        adj[fill[a_from[e]]] = e
        fill[a_from[e]] += 1
        adj[fill[a_to[e]]] = e
        fill[a_to[e]] += 1
    seen = np.zeros(n_tot, dtype=np.bool_)
    tree = np.zeros(m, dtype=np.bool_)
    parent_arc = np.full(n_tot, -1, dtype=np.int64)
    order = np.empty(n_tot, dtype=np.int64)
    count = 0
    for r in range(n):
        if seen[r]:
            continue
        seen[r] = True
        order[count] = r
        head = count
        count += 1
        while head < count:
            v = order[head]
            head += 1
            for k in range(ptr[v], ptr[v + 1]):
                e = adj[k]
                w = a_from[e] + a_to[e] - v
                if not seen[w]:
                    seen[w] = True
                    tree[e] = True
                    parent_arc[w] = e
                    order[count] = w
                    count += 1
    n_chords = m - int(tree.sum())
    chords = np.empty(n_chords, dtype=np.int64)
    j = 0
    for e in range(m):
        if not tree[e]:
            chords[j] = e
            j += 1
    return order[:count], parent_arc, chords


@njit(cache=True, nogil=True, error_model="numpy")
def zero_topology(n: int, n_groups: int, group: I64, zero_arcs: I64, arc_from: I64, arc_to: I64,
                  supply_node: I64, supply_ref: B8, max_chords: int) -> tuple[
                      I64, I64, int, I64, I64, I64, I64, int, I64, I64, F64, F64]:
    """The graph of the zero-loss arcs plus one virtual ground per super-node holding pressure supplies
    (``supply_ref``; vertices n.., numbered in the order of their super-nodes) joined to the nodes of its
    supplies; its spanning forest (:func:`spanning_forest`) and, with at most ``max_chords`` chords, its cycle
    basis (:func:`cycle_basis`; empty otherwise).

    Returns the pressure supplies, the ground of every node's super-node (-1: none), the number of grounds,
    the arcs' tails and heads (zero-loss arcs, then one ground -> node arc per pressure supply), the visiting
    order, the tree arc to each vertex's parent, the number of chords and the cycle basis."""
    ref = np.flatnonzero(supply_ref)
    fixed = np.zeros(n_groups, dtype=np.bool_)
    for k in ref:
        fixed[group[supply_node[k]]] = True
    gidx = np.full(n_groups, -1, dtype=np.int64)
    n_grounds = 0
    for g in range(n_groups):
        if fixed[g]:
            gidx[g] = n_grounds
            n_grounds += 1
    ground_of_node = np.empty(n, dtype=np.int64)
    for v in range(n):
        ground_of_node[v] = gidx[group[v]]
    nz = zero_arcs.shape[0]
    m = nz + ref.shape[0]
    a_from = np.empty(m, dtype=np.int64)
    a_to = np.empty(m, dtype=np.int64)
    for k in range(nz):
        a_from[k] = arc_from[zero_arcs[k]]
        a_to[k] = arc_to[zero_arcs[k]]
    for k in range(ref.shape[0]):
        a_from[nz + k] = n + gidx[group[supply_node[ref[k]]]]
        a_to[nz + k] = supply_node[ref[k]]
    order, parent_arc, chords = spanning_forest(n, n + n_grounds, a_from, a_to)
    n_chords = chords.shape[0]
    cyc_ptr, cyc_arc, cyc_sign, chol = cycle_basis(order, parent_arc, chords[:0] if n_chords > max_chords else chords,
                                                   a_from, a_to)
    return ref, ground_of_node, n_grounds, a_from, a_to, order, parent_arc, n_chords, cyc_ptr, cyc_arc, cyc_sign, chol


@njit(cache=True, nogil=True, error_model="numpy")
def _walk_cycle(c: int, a_from: I64, a_to: I64, parent_arc: I64, depth: I64, arcs: I64, signs: F64) -> int:
    """Fundamental cycle of chord ``c``: the chord from its tail to its head, then the tree path back.

    Writes (arc, ±1: traversed along or against the arc) into ``arcs``/``signs`` when they are long enough
    (pass empty arrays to count); returns the cycle's length."""
    cap = arcs.shape[0]
    length = 0
    if length < cap:
        arcs[length] = c
        signs[length] = 1.0
    length += 1
    u = a_to[c]  # climbing from the head: arcs traversed child -> parent
    v = a_from[c]  # climbing from the tail: arcs traversed parent -> child
    while u != v:
        if depth[u] >= depth[v]:
            e = parent_arc[u]
            if length < cap:
                arcs[length] = e
                signs[length] = 1.0 if a_from[e] == u else -1.0
            length += 1
            u = a_from[e] + a_to[e] - u
        else:
            e = parent_arc[v]
            if length < cap:
                arcs[length] = e
                signs[length] = 1.0 if a_to[e] == v else -1.0
            length += 1
            v = a_from[e] + a_to[e] - v
    return length


@njit(cache=True, nogil=True, error_model="numpy")
def cycle_basis(order: I64, parent_arc: I64, chords: I64, a_from: I64, a_to: I64) -> tuple[I64, I64, F64, F64]:
    """Fundamental cycles of the chords (CSR: pointers, arcs, signs) and the lower Cholesky factor of their
    Gram matrix ZᵀZ (symmetric positive definite: each chord lies on its own cycle only)."""
    n_tot = parent_arc.shape[0]
    m = a_from.shape[0]
    depth = np.zeros(n_tot, dtype=np.int64)
    for v in order:
        e = parent_arc[v]
        if e >= 0:
            depth[v] = depth[a_from[e] + a_to[e] - v] + 1
    k = chords.shape[0]
    none_i = np.empty(0, dtype=np.int64)
    none_f = np.empty(0, dtype=np.float64)
    ptr = np.zeros(k + 1, dtype=np.int64)
    for i in range(k):
        ptr[i + 1] = ptr[i] + _walk_cycle(chords[i], a_from, a_to, parent_arc, depth, none_i, none_f)
    arcs = np.empty(ptr[k], dtype=np.int64)
    signs = np.empty(ptr[k], dtype=np.float64)
    for i in range(k):
        _walk_cycle(chords[i], a_from, a_to, parent_arc, depth, arcs[ptr[i]:ptr[i + 1]], signs[ptr[i]:ptr[i + 1]])
    gram = np.zeros((k, k))
    dense = np.zeros(m)
    for i in range(k):
        for t in range(ptr[i], ptr[i + 1]):
            dense[arcs[t]] += signs[t]
        for j in range(i, k):
            s = 0.0
            for t in range(ptr[j], ptr[j + 1]):
                s += signs[t] * dense[arcs[t]]
            gram[i, j] = s
            gram[j, i] = s
        for t in range(ptr[i], ptr[i + 1]):
            dense[arcs[t]] = 0.0
    chol = np.zeros((k, k))
    for j in range(k):
        d = gram[j, j]
        for t in range(j):
            d -= chol[j, t] * chol[j, t]
        d = np.sqrt(d)
        chol[j, j] = d
        for i in range(j + 1, k):
            s = gram[i, j]
            for t in range(j):
                s -= chol[i, t] * chol[j, t]
            chol[i, j] = s / d
    return ptr, arcs, signs, chol


@njit(cache=True, nogil=True, error_model="numpy")
def forest_flows(b: F64, order: I64, parent_arc: I64, a_from: I64, a_to: I64, cyc_ptr: I64, cyc_arc: I64,
                 cyc_sign: F64, chol: F64) -> F64:
    """Minimum-norm flows f with (outflow - inflow) = b at every vertex but the roots, given the forest
    (:func:`spanning_forest`) and the chords' cycle basis (:func:`cycle_basis`)."""
    m = a_from.shape[0]
    f = np.zeros(m)
    acc = b.copy()
    for i in range(order.shape[0] - 1, -1, -1):
        v = order[i]
        e = parent_arc[v]
        if e < 0:
            continue
        f[e] = acc[v] if a_from[e] == v else -acc[v]
        acc[a_from[e] + a_to[e] - v] += acc[v]
    k = cyc_ptr.shape[0] - 1
    if k > 0:  # remove the circulation: f -= Z (ZᵀZ)⁻¹ Zᵀ f
        y = np.zeros(k)
        for i in range(k):
            s = 0.0
            for t in range(cyc_ptr[i], cyc_ptr[i + 1]):
                s += cyc_sign[t] * f[cyc_arc[t]]
            for t in range(i):
                s -= chol[i, t] * y[t]
            y[i] = s / chol[i, i]
        for i in range(k - 1, -1, -1):
            s = y[i]
            for t in range(i + 1, k):
                s -= chol[t, i] * y[t]
            y[i] = s / chol[i, i]
        for i in range(k):
            for t in range(cyc_ptr[i], cyc_ptr[i + 1]):
                f[cyc_arc[t]] -= cyc_sign[t] * y[i]
    return f


@njit(cache=True, nogil=True, error_model="numpy")
def zero_arc_demand(n: int, arc_from: I64, arc_to: I64, q: F64, withdrawal: F64, ground_of_node: I64,
                    n_grounds: int) -> F64:
    """Net outflow [kg/s] the zero-loss (and supply) arcs must carry at every node and ground: inflow minus
    outflow over the arcs with equations, minus the withdrawal; a ground balances the rest of its super-node."""
    inflow = np.zeros(n)
    outflow = np.zeros(n)
    for a in range(q.shape[0]):
        inflow[arc_to[a]] += q[a]
        outflow[arc_from[a]] += q[a]
    b = np.zeros(n + n_grounds)
    ground = np.zeros(n_grounds)
    for v in range(n):
        b[v] = inflow[v] - outflow[v] - withdrawal[v]
        g = ground_of_node[v]
        if g >= 0:
            ground[g] += b[v]
    for g in range(n_grounds):
        b[n + g] = -ground[g]
    return b


@njit(cache=True, nogil=True, error_model="numpy")
def equation_arc_flows(n_arcs: int, q_eq: F64, eq_arcs: I64, twin_of: I64) -> F64:
    """Flow per arc [kg/s] from the flows of the arcs with equations; a parallel twin and its primary share
    the primary's flow equally; every other arc (zero-loss, out of service, dead) gets 0."""
    q = np.zeros(n_arcs)
    for k in range(eq_arcs.shape[0]):
        q[eq_arcs[k]] = q_eq[k]
    share = np.ones(n_arcs)
    n_twins = 0
    for a in range(n_arcs):
        if twin_of[a] >= 0:
            share[twin_of[a]] += 1.0
            n_twins += 1
    if n_twins:
        for a in range(n_arcs):
            if twin_of[a] >= 0:
                q[a] = q[twin_of[a]] / share[twin_of[a]]
        for a in range(n_arcs):
            if twin_of[a] < 0 and share[a] > 1.0:
                q[a] = q[a] / share[a]
    return q


@njit(cache=True, nogil=True, error_model="numpy")
def _scatter(q: F64, zero_arcs: I64, supply_flow: F64, ref: I64, f: F64) -> None:
    """Flows on the zero-loss arcs into ``q``, on the supply arcs into ``supply_flow``."""
    nz = zero_arcs.shape[0]
    for k in range(nz):
        q[zero_arcs[k]] = f[k]
    for k in range(ref.shape[0]):
        supply_flow[ref[k]] = f[nz + k]


@njit(cache=True, nogil=True, error_model="numpy")
def all_arc_flows(q_eq: F64, eq_arcs: I64, twin_of: I64, zero_arcs: I64, arc_from: I64, arc_to: I64,
                  withdrawal: F64, n_supplies: int, ref: I64, ground_of_node: I64, n_grounds: int, a_from: I64,
                  a_to: I64, order: I64, parent_arc: I64, cyc_ptr: I64, cyc_arc: I64, cyc_sign: F64,
                  chol: F64) -> tuple[F64, F64]:
    """Flow per arc and injection per supply [kg/s] (:func:`equation_arc_flows`, :func:`zero_arc_demand`,
    :func:`forest_flows`)."""
    q = equation_arc_flows(twin_of.shape[0], q_eq, eq_arcs, twin_of)
    supply_flow = np.zeros(n_supplies)
    if a_from.shape[0]:
        b = zero_arc_demand(ground_of_node.shape[0], arc_from, arc_to, q, withdrawal, ground_of_node, n_grounds)
        _scatter(q, zero_arcs, supply_flow, ref, forest_flows(b, order, parent_arc, a_from, a_to, cyc_ptr,
                                                              cyc_arc, cyc_sign, chol))
    return q, supply_flow


_LAPLACIAN_CACHE: dict[tuple[int, bytes, bytes, bytes], tuple[NDArray[np.bool_], Any, F64 | None]] = {}
"""Factorised zero-arc Laplacians by topology, for networks with more than ``MAX_CHORDS`` loops of zero-loss
arcs (bounded; the factors are only read, never changed): outage sweeps leave them as they were."""


class ZeroFlowTopology(NamedTuple):
    """What :func:`recover_flows` needs that depends only on the topology (cached on the system)."""

    ref: I64  # pressure supplies in service
    ground_of_node: I64  # per node: index of its super-node's ground, or -1
    n_grounds: int  # super-nodes holding pressure supplies (one virtual ground each)
    a_from: I64  # zero-loss arcs, then one virtual arc ground -> node per pressure supply
    a_to: I64
    order: I64  # spanning forest (see spanning_forest)
    parent_arc: I64
    n_chords: int
    cyc_ptr: I64  # fundamental cycles (see cycle_basis); empty with the Laplacian route
    cyc_arc: I64
    cyc_sign: F64
    chol: F64
    laplacian: tuple[NDArray[np.bool_], Any, F64 | None] | None  # (unknowns, SuperLU, 1x1 diagonal) or None


def zero_flow_topology(net: CompiledNetwork, sys: SteadySystem) -> ZeroFlowTopology:
    """The forest and cycle basis of the zero-loss and supply arcs, built once per system."""
    cached: ZeroFlowTopology | None = sys.__dict__.get("_zero_flow_topology")
    if cached is not None:
        return cached
    s = net.supply
    parts = zero_topology(net.n_nodes, sys.n_groups, sys.group, sys.zero_arcs, net.arc_from, net.arc_to, s.node,
                          s.active & s.fixed_pressure, MAX_CHORDS)
    laplacian = None
    if parts[7] > MAX_CHORDS:
        laplacian = _laplacian(net.n_nodes + parts[2], parts[3], parts[4], sys.group)
    topo = ZeroFlowTopology(*parts, laplacian)
    sys.__dict__["_zero_flow_topology"] = topo
    return topo


def recover_flows(net: CompiledNetwork, sys: SteadySystem, q_eq: F64, withdrawal: F64) -> tuple[F64, F64]:
    """Flow of every arc [kg/s] (minimum-norm on the contracted arcs) and injection of every supply (non-zero
    for pressure supplies in service), given the flows ``q_eq`` of the arcs with equations (``sys.eq_arcs``)
    and the withdrawal per node [kg/s]."""
    t = zero_flow_topology(net, sys)
    n_supplies = len(net.supply.ids)
    if t.laplacian is None:
        return all_arc_flows(q_eq, sys.eq_arcs, sys.twin_of, sys.zero_arcs, net.arc_from, net.arc_to, withdrawal,
                             n_supplies, t.ref, t.ground_of_node, t.n_grounds, t.a_from, t.a_to, t.order,
                             t.parent_arc, t.cyc_ptr, t.cyc_arc, t.cyc_sign, t.chol)
    q = equation_arc_flows(net.n_arcs, q_eq, sys.eq_arcs, sys.twin_of)
    b = zero_arc_demand(net.n_nodes, net.arc_from, net.arc_to, q, withdrawal, t.ground_of_node, t.n_grounds)
    keep, lu, diag = t.laplacian
    phi = np.zeros(len(b))
    if lu is not None:
        phi[keep] = lu.solve(b[keep])
    elif diag is not None:
        phi[keep] = b[keep] / diag
    supply_flow = np.zeros(n_supplies)
    _scatter(q, sys.zero_arcs, supply_flow, t.ref, phi[t.a_from] - phi[t.a_to])
    return q, supply_flow


def _laplacian(n_tot: int, a_from: I64, a_to: I64, group: I64) -> tuple[NDArray[np.bool_], Any, F64 | None]:
    """Sparse LU of the zero-arc Laplacian with the smallest node of each super-node grounded (cached by
    topology across systems)."""
    key = (n_tot, a_from.tobytes(), a_to.tobytes(), group.tobytes())
    hit = _LAPLACIAN_CACHE.get(key)
    if hit is not None:
        return hit
    keep = np.ones(n_tot, dtype=bool)
    keep[np.unique(group, return_index=True)[1]] = False
    red = np.full(n_tot, -1, dtype=np.int64)
    nk = int(keep.sum())
    red[keep] = np.arange(nk)
    f, t = red[a_from], red[a_to]
    m = len(a_from)
    rows = np.concatenate([f, t, f, t])
    cols = np.concatenate([f, t, t, f])
    vals = np.concatenate([np.ones(2 * m), -np.ones(2 * m)])
    ok = (rows >= 0) & (cols >= 0)
    lap = sp.csc_matrix((vals[ok], (rows[ok], cols[ok])), shape=(nk, nk))
    lu = diag = None
    if nk > 1:
        lu = spla.splu(lap)
    elif nk == 1:
        diag = lap.toarray().ravel()
    if len(_LAPLACIAN_CACHE) >= 16:
        _LAPLACIAN_CACHE.pop(next(iter(_LAPLACIAN_CACHE)))
    _LAPLACIAN_CACHE[key] = (keep, lu, diag)
    return keep, lu, diag
