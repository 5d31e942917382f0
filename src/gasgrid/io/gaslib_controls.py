"""Operating settings for GasLib's active elements (GasLib files carry limits, not set points).

The documented rule used by :func:`activate_controls` (and ``gasgrid solve --controls``):

* compressor stations: discharge-pressure control at the station's outlet bound (``pressureOutMax``, else the
  outlet node's maximum pressure), with the file's minimum suction pressure and maximum flow as limits;
* control valves: outlet set point at the smaller of the valve's ``pressureOutMax`` and the outlet node's
  maximum pressure, with the file's minimum inlet pressure and maximum flow as limits;
* valves drawn as bypasses of an active station or regulator are closed (an open bypass would short it);
* of several regulators feeding the same outlet (nodes joined without pressure loss), the one with the
  largest maximum flow regulates and the others are closed: ideal parallel regulators with one outlet
  pressure leave their flow split undetermined; of two regulators in opposite directions between the same
  two groups, the first listed regulates and the other is closed;
* a fixed-flow entry whose only outlet is a station on discharge control would have an undetermined pressure:
  it is held at its maximum pressure, with its nomination as both flow bounds (a network that cannot take
  the nomination then shows a contract violation at that entry).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gasgrid.errors import InputError
from gasgrid.model.network import Network

BAR_UNITS = {"bar": 0.0, "barg": 1.01325}


def _out_max_bar(net: Network, arc_id: str) -> float:
    rec = net.meta.get("gaslib", {}).get("arcs", {}).get(arc_id, {})
    value = rec.get("values", {}).get("pressureOutMax")
    if not value:
        return math.nan
    number, unit = value
    if unit not in BAR_UNITS:
        raise InputError(f"unit {unit!r} not understood (bar or barg)", kind="gaslib", element=arc_id,
                         field="pressureOutMax")
    return float(number) + BAR_UNITS[unit]


def activate_controls(net: Network, *, compressors: bool = True, control_valves: bool = True) -> Network:
    """Put compressor stations on discharge control at their outlet bound and control valves on outlet set
    points (see the module docstring). Works in place and returns the network."""
    nodes = net.table("node")
    if compressors:
        cs = net.table("compressor")
        for cid in cs.index:
            p_set = cs.at[cid, "p_discharge_max_bar"]
            if not np.isfinite(p_set):
                p_set = nodes.at[cs.at[cid, "to_node"], "p_max_bar"]
            if not np.isfinite(p_set):
                raise InputError("has no outlet bound to use as discharge set point", kind="compressor", element=cid,
                                 field="p_discharge_max_bar")
            cs.at[cid, "mode"] = "discharge"
            cs.at[cid, "p_set_bar"] = float(p_set)
    if control_valves:
        cv = net.table("control_valve")
        for vid in cv.index:
            p_set = np.fmin(_out_max_bar(net, vid), nodes.at[cv.at[vid, "to_node"], "p_max_bar"])
            if not np.isfinite(p_set):
                raise InputError("has no outlet bound to use as set point", kind="control_valve", element=vid,
                                 field="p_set_bar")
            cv.at[vid, "mode"] = "set_point"
            cv.at[vid, "p_set_bar"] = float(p_set)
    closed = close_bypasses(net)
    secondary = close_parallel_regulators(net) if control_valves else []
    secondary += _break_set_point_loops(net)
    entries = fix_floating_entries(net)
    net.meta.setdefault("gaslib", {})["controls"] = {
        "rule": "stations on discharge control at their outlet bound; control valves at their outlet maximum",
        "bypass_valves_closed": closed,
        "parallel_regulators_closed": secondary,
        "entries_held_at_p_max": entries,
    }
    return net


def _zero_loss_graph(net: Network) -> dict[str, list[tuple[str, str, str]]]:
    """Adjacency of arcs without pressure loss in the current settings: node -> [(neighbour, kind, arc id)]."""
    adj: dict[str, list[tuple[str, str, str]]] = {}

    def link(kind: str, frame: object, mask: object) -> None:
        for aid, row in frame[mask].iterrows():  # type: ignore[index]
            adj.setdefault(row["from_node"], []).append((row["to_node"], kind, aid))
            adj.setdefault(row["to_node"], []).append((row["from_node"], kind, aid))

    sp = net.table("short_pipe")
    link("short_pipe", sp, sp["in_service"])
    va = net.table("valve")
    link("valve", va, va["in_service"] & va["open"])
    cv = net.table("control_valve")
    link("control_valve", cv, cv["in_service"] & (cv["mode"] == "open"))
    cs = net.table("compressor")
    link("compressor", cs, cs["in_service"] & (cs["mode"] == "bypass"))
    return adj


def _zero_loss_path(adj: dict[str, list[tuple[str, str, str]]], a: str, b: str) -> list[tuple[str, str]] | None:
    """Arcs (kind, id) of a zero-loss path from a to b, or None."""
    from collections import deque

    prev: dict[str, tuple[str, str, str] | None] = {a: None}
    todo = deque([a])
    while todo:
        u = todo.popleft()
        if u == b:
            path = []
            while prev[u] is not None:
                v, kind, aid = prev[u]  # type: ignore[misc]
                path.append((kind, aid))
                u = v
            return path
        for v, kind, aid in adj.get(u, []):
            if v not in prev:
                prev[v] = (u, kind, aid)
                todo.append(v)
    return None


def close_bypasses(net: Network) -> list[str]:
    """Close the valves that bridge an active station or regulator without pressure loss (GasLib draws bypass
    valves in parallel with them; a regulating element with an open bypass cannot hold its set point).
    Returns the ids of the valves closed. Raises InputError when a bridge has no valve to close."""
    closed: list[str] = []
    active = []
    cs = net.table("compressor")
    active += [("compressor", i, r) for i, r in cs.iterrows() if r["in_service"] and r["mode"] not in ("bypass", "off")]
    cv = net.table("control_valve")
    active += [("control_valve", i, r) for i, r in cv.iterrows() if r["in_service"] and r["mode"] == "set_point"]
    valves = net.table("valve")
    for kind, aid, row in active:
        for _ in range(100):
            path = _zero_loss_path(_zero_loss_graph(net), row["from_node"], row["to_node"])
            if path is None:
                break
            candidates = [a for k, a in path if k == "valve"]
            if not candidates:
                raise InputError("is bridged by short pipes or bypassed elements without a valve to close",
                                 kind=kind, element=aid)
            valves.at[candidates[0], "open"] = False
            closed.append(candidates[0])
    return closed


def fix_floating_entries(net: Network) -> list[str]:
    """Regions whose pressure level nothing fixes (fixed-flow entries feeding only stations on discharge
    control or regulators) get their largest entry held at its maximum pressure, with its nomination as both
    flow bounds (a network that cannot take the nomination then shows a contract violation there).
    Returns the supplies changed."""
    sup = net.table("supply")
    nodes = net.table("node")

    def fix(exc: Exception) -> str | None:
        region = set(getattr(exc, "floating_nodes", []))
        cands = sup[sup["in_service"] & (sup["mode"] == "flow") & sup["node"].isin(region)]
        if not len(region) or not len(cands):
            return None  # another topology problem: the solver reports it
        sid = cands["flow_kg_s"].idxmax()
        nomination = float(sup.at[sid, "flow_kg_s"])
        sup.at[sid, "mode"] = "pressure"
        sup.at[sid, "p_set_bar"] = float(nodes.at[sup.at[sid, "node"], "p_max_bar"])
        sup.at[sid, "flow_min_kg_s"] = nomination
        sup.at[sid, "flow_max_kg_s"] = nomination
        return str(sid)

    return _repair_until_solvable(net, fix, limit=len(sup))

def close_parallel_regulators(net: Network) -> list[str]:
    """Close all but one of the set-point regulators that feed the same zero-loss outlet group (see module
    docstring). Returns the ids closed."""
    adj = _zero_loss_graph(net)
    label: dict[str, str] = {}
    for start in adj:
        if start in label:
            continue
        stack = [start]
        label[start] = start
        while stack:
            u = stack.pop()
            for v, _, _ in adj.get(u, []):
                if v not in label:
                    label[v] = start
                    stack.append(v)
    cv = net.table("control_valve")
    active = cv[cv["in_service"] & (cv["mode"] == "set_point")]
    closed: list[str] = []
    groups: dict[str, list[str]] = {}
    for vid, row in active.iterrows():
        groups.setdefault(label.get(row["to_node"], row["to_node"]), []).append(str(vid))
    # regulators in opposite directions between the same two groups form a loop of set points whose
    # circulating flow is undetermined: the one listed first regulates, the other is closed
    pairs: dict[frozenset[str], str] = {}
    for vid, row in active.iterrows():
        key = frozenset((label.get(row["from_node"], row["from_node"]), label.get(row["to_node"], row["to_node"])))
        if key in pairs and cv.at[pairs[key], "from_node"] != row["from_node"]:
            cv.at[vid, "mode"] = "closed"
            closed.append(str(vid))
            groups[label.get(row["to_node"], row["to_node"])].remove(str(vid))
        else:
            pairs.setdefault(key, str(vid))
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = max(members, key=lambda v: (np.nan_to_num(cv.at[v, "flow_max_kg_s"], nan=np.inf), v))
        for v in members:
            if v != keep:
                cv.at[v, "mode"] = "closed"
                closed.append(v)
    return closed


def _break_set_point_loops(net: Network) -> list[str]:
    """Close one regulator of every loop made only of set-point elements (the solver names such loops)."""
    cv = net.table("control_valve")

    def fix(exc: Exception) -> str | None:
        names = [n for n in getattr(exc, "elements", []) if n in cv.index and cv.at[n, "mode"] == "set_point"]
        if not names:
            return None  # another topology problem: the solver reports it
        cv.at[names[-1], "mode"] = "closed"
        return str(names[-1])

    return _repair_until_solvable(net, fix, limit=len(cv))


def _repair_until_solvable(net: Network, fix: Callable[[Exception], str | None], *, limit: int) -> list[str]:
    """Build the solver's topology; on a TopologyError let ``fix`` change one element and try again. Returns the
    elements changed; stops when the topology builds, ``fix`` cannot help, or after ``limit`` + 1 attempts."""
    from gasgrid.errors import TopologyError
    from gasgrid.steady.system import build_system

    changed: list[str] = []
    for _ in range(limit + 1):
        try:
            build_system(net.compile())
            return changed
        except TopologyError as exc:
            element = fix(exc)
            if element is None:
                return changed
            changed.append(element)
    return changed
