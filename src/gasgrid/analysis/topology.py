"""Islands after an outage: which demand is cut off from every pressure reference.

Contract: :func:`resolve_islands` reads a compiled network (after a scenario's deltas), finds the connected
pieces of the in-service topology (arcs whose steady behaviour is not *removed*), and returns a network the
steady solver accepts: in a piece without a pressure reference, either the largest remaining fixed-flow
supply takes over as the reference (at its base-case pressure: it follows the load, as an entry would in
operation), or - when there is none - the piece's demands and supplies are taken out of service and its
positive demand is counted as *unserved* (islanded), never raised as a :class:`~gasgrid.errors.TopologyError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from gasgrid.graph import connected_components
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady.system import Behaviour, arc_behaviour, member

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class IslandReport:
    """What :func:`resolve_islands` changed.

    Attributes:
        islanded_kg_s: per demand (compiled order), positive withdrawal cut off, kg/s.
        n_islands: pieces with load but no reference.
        promoted: ids of flow supplies turned into pressure references.
        notes: one line per change, for the scenario record.
    """

    islanded_kg_s: F64
    n_islands: int = 0
    promoted: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def node_components(net: CompiledNetwork, *, split_set_points: bool = False) -> tuple[int, NDArray[np.int64]]:
    """Connected pieces of the in-service topology: (count, piece index per node).

    With ``split_set_points`` the arcs that fix one end's pressure (regulators, stations on discharge or
    suction control) separate pieces: each piece then has one pressure level to be determined."""
    b = arc_behaviour(net)
    keep = b != Behaviour.REMOVED
    if split_set_points:
        keep &= ~member(b, [Behaviour.SET_TO, Behaviour.SET_FROM])
    live = np.flatnonzero(keep)
    return connected_components(net.n_nodes, net.arc_from[live], net.arc_to[live])


def resolve_islands(net: CompiledNetwork, *, base_p_Pa: F64 | None = None) -> tuple[CompiledNetwork, IslandReport]:
    """Make every loaded piece solvable: promote a flow supply to reference, or cut the piece off.

    Two passes. (1) Every connected part with load needs an in-service pressure supply: else its largest
    flow supply becomes the reference, or its load is cut off (islanded, unserved). (2) Within a part, the
    pieces between set-point arcs (regulators, stations on discharge/suction control) need a determined
    pressure: a pressure supply or the fixed end of a set-point arc. A loaded piece without one is treated
    as in (1); set-point arcs whose free end sits in a piece without a determined pressure would carry no
    flow and are taken out of service.

    Args:
        net: compiled network after the scenario's deltas.
        base_p_Pa: node pressures of the base case, Pa (the set point of a promoted supply); without it a
            promoted supply gets the highest pressure set point of the network.
    """
    s, d = net.supply, net.demand
    st = _State(s.active.copy(), s.fixed_pressure.copy(), s.p_set.copy(), d.active.copy(),
                np.zeros(len(d.ids)), [], [], 0)
    p_default = float(np.nanmax(s.p_set)) if np.isfinite(s.p_set).any() else float(np.nanmax(net.p_max))
    b = arc_behaviour(net)
    set_to = np.flatnonzero(b == Behaviour.SET_TO)
    set_from = np.flatnonzero(b == Behaviour.SET_FROM)
    cut = np.zeros(0, dtype=np.int64)
    for split in (False, True):
        n_comp, comp = node_components(net, split_set_points=split)
        has_ref = np.zeros(n_comp, dtype=bool)
        has_ref[comp[s.node[st.s_active & st.s_fixed]]] = True
        if split:
            has_ref[comp[net.arc_to[set_to]]] = True
            has_ref[comp[net.arc_from[set_from]]] = True
        _serve_or_island(net, comp, has_ref, st, base_p_Pa, p_default)
        if split:
            cut = np.concatenate([set_to[~has_ref[comp[net.arc_from[set_to]]]],
                                  set_from[~has_ref[comp[net.arc_to[set_from]]]]])
    if not st.notes and not st.n_islands and not len(cut):
        return net, IslandReport(islanded_kg_s=st.islanded)
    if st.n_islands:
        st.notes.append(f"{st.n_islands} island(s) without supply: {st.islanded.sum():.4g} kg/s unserved")
    arc_active = net.arc_active.copy()
    arc_active[cut] = False
    new = net.with_(
        arc_active=arc_active,
        supply=replace(s, active=st.s_active, fixed_pressure=st.s_fixed, p_set=st.s_pset),
        demand=replace(d, active=st.d_active),
    )
    return new, IslandReport(islanded_kg_s=st.islanded, n_islands=st.n_islands, promoted=tuple(st.promoted),
                             notes=tuple(st.notes))


@dataclass
class _State:
    s_active: NDArray[np.bool_]
    s_fixed: NDArray[np.bool_]
    s_pset: F64
    d_active: NDArray[np.bool_]
    islanded: F64
    promoted: list[str]
    notes: list[str]
    n_islands: int


def _serve_or_island(net: CompiledNetwork, comp: NDArray[np.int64], has_ref: NDArray[np.bool_], st: _State,
                     base_p_Pa: F64 | None, p_default: float) -> None:
    """For each loaded piece without reference: promote its largest flow supply, or island its load (in place)."""
    s, d = net.supply, net.demand
    d_on = st.d_active & (d.flow != 0)
    s_flow = st.s_active & ~st.s_fixed
    loaded = np.zeros(len(has_ref), dtype=bool)
    loaded[comp[d.node[d_on]]] = True
    loaded[comp[s.node[s_flow]]] = True
    for c in np.flatnonzero(loaded & ~has_ref):
        cand = np.flatnonzero(s_flow & (comp[s.node] == c))
        if len(cand):
            head = np.where(np.isfinite(s.flow_max[cand]), s.flow_max[cand], 1e30)
            k = int(cand[np.argmax(head)])
            p = base_p_Pa[s.node[k]] if base_p_Pa is not None else np.nan
            st.s_fixed[k] = True
            st.s_pset[k] = float(p) if np.isfinite(p) and p > 0 else p_default
            st.promoted.append(str(s.ids[k]))
            st.notes.append(f"supply {s.ids[k]!r} takes over as pressure reference at {st.s_pset[k] / 1e5:.2f} bar")
        else:
            st.n_islands += 1
            dm = d_on & (comp[d.node] == c)
            st.islanded[dm] = np.maximum(d.flow[dm], 0.0)
            st.d_active[dm] = False
            st.s_active[s_flow & (comp[s.node] == c)] = False
        has_ref[c] = True if len(cand) else has_ref[c]


__all__ = ["IslandReport", "node_components", "resolve_islands"]
