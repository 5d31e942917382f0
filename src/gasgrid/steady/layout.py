"""Compiled (numba) layout of a steady system: the work of :func:`gasgrid.steady.system.build_system` in one
pass.

Contract: :func:`layout` computes what :func:`gasgrid.steady.system.build_system_reference` computes
(super-nodes, pressure references, live components, arcs with equations, parallel twins, unknown columns),
with the same numbering, and instead of raising reports the first problem that function would raise for (a
code: ``LAYOUT_OK``, ``CONFLICTING_REFERENCES`` ...); the caller then runs the reference, whose error names
the elements. On networks of a few hundred arcs the numpy version is dominated by call overhead; it stays the
reference (tests compare both).

Units: squared pressures Pa^2, flows kg/s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit
from numpy.typing import NDArray

from gasgrid._jit import refresh_stale_caches
from gasgrid.graph import _components

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B8 = NDArray[np.bool_]

_HERE = Path(__file__).resolve().parent
refresh_stale_caches(_HERE, ("layout",), "steady-layout.sha1", (_HERE.parent / "graph.py",))

LAYOUT_OK, CONFLICTING_REFERENCES, ISLAND, SET_POINT_CONFLICT, FLOATING, SET_POINT_LOOP = 0, 1, 2, 3, 4, 5
"""Outcomes of :func:`layout`, in the order the reference checks them."""

# behaviour codes (gasgrid.steady.system.Behaviour), as plain integers for the compiled code
REMOVED, ZERO, PIPE, RESISTOR, SET_TO, SET_FROM, RATIO, FLOW, POWER, PUMP = range(10)


@njit(cache=True, nogil=True, error_model="numpy")
def _failure(outcome: int) -> tuple[int, I64, int, F64, I64, I64, B8, I64, I64, I64, I64, I64, int, I64]:
    """What :func:`layout` returns when it finds a problem: the outcome, and empty arrays."""
    i = np.empty(0, dtype=np.int64)
    return outcome, i, 0, np.empty(0), i, i, np.empty(0, dtype=np.bool_), i, i, i, i, i, 0, i


@njit(cache=True, nogil=True, error_model="numpy")
def layout(n_nodes: int, arc_from: I64, arc_to: I64, b: I64, supply_node: I64, supply_active: B8,
           supply_fixed: B8, p_set: F64, supply_flow: F64, demand_node: I64, demand_active: B8,
           demand_flow: F64) -> tuple[int, I64, int, F64, I64, I64, B8, I64, I64, I64, I64, I64, int, I64]:
    """Layout of the unknowns for arc behaviours ``b``.

    Returns (outcome, group per node, number of groups, fixed squared pressure per group (NaN: free),
    reference supply per group (-1), component per group, dead groups, arcs with equations, their from/to
    groups, twin per arc (-1), column per group (-1: fixed or dead), number of free groups, zero-loss arcs)."""
    n_arcs = b.shape[0]
    is_zero = b == ZERO
    zero = np.flatnonzero(is_zero)
    n_groups, group = _components(n_nodes, arc_from[zero], arc_to[zero])
    n_groups = int(n_groups)

    fixed_pi = np.full(n_groups, np.nan)
    ref_supply = np.full(n_groups, -1, dtype=np.int64)
    for k in range(supply_node.shape[0]):
        if not (supply_active[k] and supply_fixed[k]):
            continue
        g = group[supply_node[k]]
        pi = p_set[k] ** 2
        if ref_supply[g] >= 0:
            a = fixed_pi[g]
            if not (a == pi or abs(a - pi) <= 1e-8 + 1e-12 * abs(pi)):  # np.isclose(a, pi, rtol=1e-12)
                return _failure(CONFLICTING_REFERENCES)
        fixed_pi[g] = pi
        if ref_supply[g] < 0:
            ref_supply[g] = k

    eq = np.flatnonzero(~is_zero & (b != REMOVED))
    g_from = group[arc_from[eq]]
    g_to = group[arc_to[eq]]
    n_comp, comp = _components(n_groups, g_from, g_to)
    has_ref = np.zeros(n_comp, dtype=np.bool_)
    for g in range(n_groups):
        if ref_supply[g] >= 0:
            has_ref[comp[g]] = True
    load = np.zeros(n_groups)
    for k in range(demand_node.shape[0]):
        if demand_active[k]:
            load[group[demand_node[k]]] += abs(demand_flow[k])
    for k in range(supply_node.shape[0]):
        if supply_active[k] and not supply_fixed[k]:
            load[group[supply_node[k]]] += abs(supply_flow[k]) + 1.0  # any flow supply counts as load
    comp_load = np.zeros(n_comp)
    for g in range(n_groups):
        comp_load[comp[g]] += load[g]
    for c in range(n_comp):
        if not has_ref[c] and comp_load[c] > 0:
            return _failure(ISLAND)
    dead = ~has_ref[comp]
    live = ~dead[g_from]
    eq, g_from, g_to = eq[live], g_from[live], g_to[live]

    # parallel regulators/stations with the same control (same groups, same behaviour) are solved as one
    twin_of = np.full(n_arcs, -1, dtype=np.int64)
    be = b[eq]
    keyed = np.flatnonzero((be == SET_TO) | (be == SET_FROM) | (be == RATIO))
    if keyed.shape[0] > 1:
        key = (g_from[keyed] * n_groups + g_to[keyed]) * 16 + be[keyed]
        order = np.argsort(key, kind="mergesort")  # stable: the first of equal keys is the primary
        primary = -1
        for r in range(order.shape[0]):
            i = keyed[order[r]]
            if r == 0 or key[order[r]] != key[order[r - 1]]:
                primary = eq[i]
            else:
                twin_of[eq[i]] = primary
        keep = twin_of[eq] < 0
        eq, g_from, g_to, be = eq[keep], g_from[keep], g_to[keep], be[keep]

    # a group's pressure is fixed by at most one thing: a supply or one set-point arc (never bridged)
    owners = (ref_supply >= 0).astype(np.int64)
    for k in range(eq.shape[0]):
        if be[k] == SET_TO or be[k] == SET_FROM or be[k] == RATIO:
            if g_from[k] == g_to[k]:
                return _failure(SET_POINT_CONFLICT)
            if be[k] != RATIO:
                g = g_to[k] if be[k] == SET_TO else g_from[k]
                owners[g] += 1
                if owners[g] > 1:
                    return _failure(SET_POINT_CONFLICT)

    free = np.isnan(fixed_pi) & ~dead
    # regions joined by pipes, resistors, ratio/power stations and pumps need something fixing their pressure
    coupling = (be == PIPE) | (be == RESISTOR) | (be == RATIO) | (be == POWER) | (be == PUMP)
    n_reg, region = _components(n_groups, g_from[coupling], g_to[coupling])
    pinned = np.zeros(n_reg, dtype=np.bool_)
    for g in range(n_groups):
        if not free[g]:
            pinned[region[g]] = True
    for k in range(eq.shape[0]):
        if be[k] == SET_TO:
            pinned[region[g_to[k]]] = True
        elif be[k] == SET_FROM:
            pinned[region[g_from[k]]] = True
    for g in range(n_groups):
        if free[g] and not pinned[region[g]]:
            return _failure(FLOATING)

    # set-point arcs must not close a loop among themselves (a forest: arcs = groups touched - trees)
    sel = (be == SET_TO) | (be == SET_FROM) | (be == RATIO) | (be == FLOW)
    n_sel = int(sel.sum())
    if n_sel:
        n_trees, _ = _components(n_groups, g_from[sel], g_to[sel])
        if n_sel > n_groups - n_trees:
            return _failure(SET_POINT_LOOP)

    free_col = np.full(n_groups, -1, dtype=np.int64)
    n_free = 0
    for g in range(n_groups):
        if free[g]:
            free_col[g] = n_free
            n_free += 1
    return (LAYOUT_OK, group, n_groups, fixed_pi, ref_supply, comp, dead, eq, g_from, g_to, twin_of, free_col,
            n_free, zero)
