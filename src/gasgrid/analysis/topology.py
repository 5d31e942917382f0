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
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady.system import Behaviour, arc_behaviour

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


def node_components(net: CompiledNetwork) -> tuple[int, NDArray[np.int64]]:
    """Connected pieces of the in-service topology: (count, piece index per node)."""
    b = arc_behaviour(net)
    live = np.flatnonzero(b != Behaviour.REMOVED)
    adj = sp.coo_matrix((np.ones(len(live)), (net.arc_from[live], net.arc_to[live])),
                        shape=(net.n_nodes, net.n_nodes))
    n, comp = connected_components(adj, directed=False)
    return int(n), comp.astype(np.int64)


def resolve_islands(net: CompiledNetwork, *, base_p_Pa: F64 | None = None) -> tuple[CompiledNetwork, IslandReport]:
    """Make every loaded piece solvable: promote a flow supply to reference, or cut the piece off.

    Args:
        net: compiled network after the scenario's deltas.
        base_p_Pa: node pressures of the base case, Pa (the set point of a promoted supply); without it a
            promoted supply gets the highest pressure set point of the network.
    """
    n_comp, comp = node_components(net)
    s, d = net.supply, net.demand
    has_ref = np.zeros(n_comp, dtype=bool)
    refs = s.active & s.fixed_pressure
    has_ref[comp[s.node[refs]]] = True
    d_on = d.active & (d.flow != 0)
    s_flow = s.active & ~s.fixed_pressure
    loaded = np.zeros(n_comp, dtype=bool)
    loaded[comp[d.node[d_on]]] = True
    loaded[comp[s.node[s_flow]]] = True
    orphan = np.flatnonzero(loaded & ~has_ref)
    islanded = np.zeros(len(d.ids))
    if not len(orphan):
        return net, IslandReport(islanded_kg_s=islanded)
    s_active, s_fixed, s_pset = s.active.copy(), s.fixed_pressure.copy(), s.p_set.copy()
    d_active = d.active.copy()
    p_default = float(np.nanmax(s.p_set)) if np.isfinite(s.p_set).any() else float(np.nanmax(net.p_max))
    promoted: list[str] = []
    notes: list[str] = []
    n_islands = 0
    for c in orphan:
        cand = np.flatnonzero(s_flow & (comp[s.node] == c))
        if len(cand):
            head = np.where(np.isfinite(s.flow_max[cand]), s.flow_max[cand], 1e30)
            k = int(cand[np.argmax(head)])
            p = base_p_Pa[s.node[k]] if base_p_Pa is not None else np.nan
            s_fixed[k] = True
            s_pset[k] = float(p) if np.isfinite(p) and p > 0 else p_default
            promoted.append(str(s.ids[k]))
            notes.append(f"supply {s.ids[k]!r} takes over as pressure reference at {s_pset[k] / 1e5:.2f} bar")
            continue
        n_islands += 1
        dm = d_on & (comp[d.node] == c)
        islanded[dm] = np.maximum(d.flow[dm], 0.0)
        d_active[dm] = False
        s_active[s_flow & (comp[s.node] == c)] = False
        notes.append(f"island of {int((comp == c).sum())} node(s) without supply: "
                     f"{islanded[dm].sum():.4g} kg/s unserved")
    new = net.with_(
        supply=replace(s, active=s_active, fixed_pressure=s_fixed, p_set=s_pset),
        demand=replace(d, active=d_active),
    )
    return new, IslandReport(islanded_kg_s=islanded, n_islands=n_islands, promoted=tuple(promoted),
                             notes=tuple(notes))


__all__ = ["IslandReport", "node_components", "resolve_islands"]
