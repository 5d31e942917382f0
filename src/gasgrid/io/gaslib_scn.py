"""GasLib nominations (``.scn``): parse them and turn them into supplies, demands and pressure bounds.

Contract: :func:`apply_scenario` replaces every supply and demand of a network read by
:func:`gasgrid.io.gaslib.read_gaslib` with those of one nomination, overrides node pressure bounds where the
nomination states them (restoring the ``.net`` bounds of a previously applied nomination first) and records
what it did in ``net.meta["gaslib_scenario"]``. It never changes the network's gas.

Flows in GasLib nominations are volumes per time at **normal conditions, 0 °C and 1.01325 bar**
(``1000m_cube_per_hour`` = 1000 Nm^3/h); they become kg/s with the network gas's normal density
(``gas.reference_density(Reference.NORMAL)``, which is GasLib's ``normDensity`` when the file gives it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from gasgrid.components import KINDS
from gasgrid.errors import InputError
from gasgrid.io.gaslib_xml import PathLike, load_xml, local, source_name, to_si
from gasgrid.units import Reference

if TYPE_CHECKING:
    from gasgrid.model.network import Network


class SlackRule(StrEnum):
    """Which entries become pressure references (slack supplies) when a nomination is applied.

    LARGEST_ENTRY: the entry with the largest nominated inflow (first in file order on ties) is held at its
        maximal pressure (the nomination's upper pressure bound, else the node's ``pressureMax``); every other
        entry injects its nominated flow.
    HIGHEST_PRESSURE: the entry with the highest maximal pressure (largest nominated inflow on ties) is held
        at that pressure; every other entry injects its nominated flow. This is the rule that gives the network
        the most pressure to work with, so it is the one to use when judging hydraulic feasibility.
    ALL_ENTRIES: every entry is held at its maximal pressure; flows follow from the network.
    """

    LARGEST_ENTRY = "largest_entry"
    HIGHEST_PRESSURE = "highest_pressure"
    ALL_ENTRIES = "all_entries"


SlackSpec = SlackRule | str | Sequence[tuple[str, float]]


@dataclass(frozen=True)
class NodeNomination:
    """One ``<node>`` of a nomination, SI: flows in Nm^3/s (normal conditions), pressures in Pa absolute."""

    id: str
    type: str  # "entry" or "exit"
    flow: float  # nominated flow (bound="both", or lower == upper)
    flow_lower: float
    flow_upper: float
    p_lower: float = math.nan
    p_upper: float = math.nan
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ScenarioData:
    """A parsed nomination: its nodes in file order plus everything else it states (raw, for round trips)."""

    id: str
    source: str
    nodes: tuple[NodeNomination, ...]
    extras: dict[str, Any] = field(default_factory=dict, compare=False)


def read_gaslib_scn(path: PathLike) -> ScenarioData:
    """Parse a GasLib ``.scn`` file (plain or ``.gz``) holding exactly one ``<scenario>``. Raises InputError."""
    src = source_name(path)
    root = load_xml(path)
    if local(root.tag) != "boundaryValue":
        raise InputError(f"expected a <boundaryValue> document, got <{local(root.tag)}>", source=src)
    scenarios = [e for e in root if local(e.tag) == "scenario"]
    if len(scenarios) != 1:
        raise InputError(f"expected exactly one <scenario>, found {len(scenarios)}", source=src)
    sc = scenarios[0]
    nodes: list[NodeNomination] = []
    seen: set[str] = set()
    extras: dict[str, Any] = {}
    for e in sc:
        tag = local(e.tag)
        if not tag:
            continue
        if tag != "node":
            extras.setdefault(tag, []).append({"attrib": dict(e.attrib), "values": {
                local(c.tag): (c.get("value"), c.get("unit")) for c in e if local(c.tag)}})
            continue
        nid = e.get("id")
        if not nid:
            raise InputError("has no id attribute", kind="scenario node", source=src)
        if nid in seen:
            raise InputError("duplicate id", kind="scenario node", element=nid, source=src)
        seen.add(nid)
        nodes.append(_node(e, nid, src))
    return ScenarioData(sc.get("id") or "", src, tuple(nodes), extras)


def _node(e: Any, nid: str, src: str) -> NodeNomination:
    ntype = e.get("type")
    if ntype not in ("entry", "exit"):
        raise InputError(f"type must be 'entry' or 'exit', got {ntype!r}", kind="scenario node", element=nid,
                         field="type", source=src)
    flows: dict[str, float] = {}
    press: dict[str, float] = {}
    raw: dict[str, Any] = {}
    for c in e:
        tag = local(c.tag)
        if not tag:
            continue
        bound = c.get("bound")
        if tag in ("flow", "pressure"):
            target, dim = (flows, "normal_flow") if tag == "flow" else (press, "pressure")
            if bound not in ("lower", "upper", "both"):
                raise InputError(f"bound must be lower/upper/both, got {bound!r}", kind="scenario node",
                                 element=nid, field=tag, source=src)
            if bound in target:
                raise InputError(f"bound {bound!r} given twice", kind="scenario node", element=nid, field=tag,
                                 source=src)
            target[bound] = to_si(c.get("value"), c.get("unit"), dim, kind="scenario node", element=nid, field=tag,
                                  source=src)
        raw.setdefault(tag, []).append({k: v for k, v in c.attrib.items()})
    if "both" in flows:
        lo = hi = flows["both"]
    elif "lower" in flows and "upper" in flows:
        lo, hi = flows["lower"], flows["upper"]
        if lo != hi:
            raise InputError(f"flow bounds differ (lower {lo}, upper {hi} Nm^3/s): a nomination needs one value",
                             kind="scenario node", element=nid, field="flow", source=src)
    else:
        raise InputError("no nominated flow (need bound='both' or equal lower and upper)", kind="scenario node",
                         element=nid, field="flow", source=src)
    p_lo = press.get("both", press.get("lower", math.nan))
    p_hi = press.get("both", press.get("upper", math.nan))
    return NodeNomination(nid, ntype, lo, lo, hi, p_lo, p_hi, raw)


def apply_scenario(
    net: Network,
    scn_path: PathLike | ScenarioData,
    scale: float = 1.0,
    slack: SlackSpec = SlackRule.HIGHEST_PRESSURE,
) -> Network:
    """Apply one GasLib nomination to ``net`` in place (and return it).

    Args:
        net: a network from :func:`gasgrid.io.gaslib.read_gaslib`.
        scn_path: the ``.scn`` file (plain or ``.gz``) or an already parsed :class:`ScenarioData`.
        scale: factor on every nominated flow and flow bound (e.g. 0.98 for 98 % load); >= 0.
        slack: a :class:`SlackRule`, or an explicit list of ``(node_id, p_bar)`` pressure references (bar
            absolute). Listed entries become pressure supplies; a listed node that is no entry gets an extra
            pressure supply ``"slack_<node>"``. All other entries inject their nominated flow.

    Exits become demands with id = node id (negative nominations are injections and stay negative). Entries
    become supplies with id = node id; fixed-flow supplies carry the nomination's flow bounds, pressure supplies
    carry their nominated flow in ``flow_kg_s`` (informational) and the ``.net`` flowMin/flowMax (the entry's
    capacity, unscaled) as bounds. Pressure bounds stated by the nomination replace the node's bounds.

    Raises:
        InputError: unknown node, bad ``scale`` or ``slack``, or a slack entry without a maximal pressure.
    """
    data = scn_path if isinstance(scn_path, ScenarioData) else read_gaslib_scn(scn_path)
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale >= 0.0):
        raise InputError(f"must be a finite number >= 0, got {scale!r}", kind="scenario", field="scale")
    nodes = net.table("node")
    known = set(nodes.index)
    for nom in data.nodes:
        if nom.id not in known:
            raise InputError("references a node that is not in the network", kind="scenario node", element=nom.id,
                             field="id", source=data.source)
    _restore_bounds(net)
    net.set_table("supply", KINDS["supply"].empty_frame())
    net.set_table("demand", KINDS["demand"].empty_frame())
    nodes = net.table("node")
    overridden: dict[str, tuple[float, float]] = {}
    for nom in data.nodes:
        if not (math.isnan(nom.p_lower) and math.isnan(nom.p_upper)):
            overridden[nom.id] = (float(nodes.at[nom.id, "p_min_bar"]), float(nodes.at[nom.id, "p_max_bar"]))
            if not math.isnan(nom.p_lower):
                nodes.at[nom.id, "p_min_bar"] = nom.p_lower / 1e5
            if not math.isnan(nom.p_upper):
                nodes.at[nom.id, "p_max_bar"] = nom.p_upper / 1e5
    rho_n = net.gas.reference_density(Reference.NORMAL)  # kg/Nm^3 at 0 °C, 1.01325 bar
    kg = rho_n * scale  # Nm^3/s (normal conditions) -> kg/s, scaled
    entries = [n for n in data.nodes if n.type == "entry"]
    pressure_refs = _slack_nodes(net, entries, slack, known, data.source)
    capacity = net.meta.get("gaslib", {}).get("entry_capacity_Nm3_s", {})
    for nom in entries:
        if nom.id in pressure_refs:
            lo, hi = capacity.get(nom.id, (-math.inf, math.inf))
            net.add_supply(nom.id, nom.id, mode="pressure", p_set_bar=pressure_refs[nom.id],
                           flow_kg_s=nom.flow * kg, flow_min_kg_s=lo * rho_n, flow_max_kg_s=hi * rho_n,
                           source=_base(data.source))
        else:
            net.add_supply(nom.id, nom.id, mode="flow", flow_kg_s=nom.flow * kg, flow_min_kg_s=nom.flow_lower * kg,
                           flow_max_kg_s=nom.flow_upper * kg, source=_base(data.source))
    entry_ids = {n.id for n in entries}
    for nid, p_bar in pressure_refs.items():
        if nid not in entry_ids:
            net.add_supply(f"slack_{nid}", nid, mode="pressure", p_set_bar=p_bar, source="slack")
    for nom in data.nodes:
        if nom.type == "exit":
            net.add_demand(nom.id, nom.id, flow_kg_s=nom.flow * kg, source=_base(data.source))
    supplied = math.fsum(n.flow for n in entries) * kg
    demanded = math.fsum(n.flow for n in data.nodes if n.type == "exit") * kg
    net.meta["gaslib_scenario"] = {
        "id": data.id,
        "file": data.source,
        "scale": float(scale),
        "slack": [(k, v) for k, v in pressure_refs.items()],
        "slack_rule": str(slack) if isinstance(slack, str) else "explicit",
        "normal_density_kg_m3": rho_n,
        "reference": "normal conditions 0 °C, 1.01325 bar",
        "nominations": {n.id: {"type": n.type, "flow_kg_s": n.flow * kg, "flow_1000m3_h": n.flow * 3.6 * scale,
                               "p_min_bar": n.p_lower / 1e5, "p_max_bar": n.p_upper / 1e5, "raw": n.raw}
                        for n in data.nodes},
        "supply_kg_s": supplied,
        "demand_kg_s": demanded,
        "imbalance_kg_s": supplied - demanded,
        "overridden_bounds": overridden,
        "extras": data.extras,
    }
    return net


def _slack_nodes(net: Network, entries: list[NodeNomination], slack: SlackSpec, known: set[str],
                 src: str) -> dict[str, float]:
    """Pressure references as {node: p_bar}."""
    if isinstance(slack, str):
        try:
            rule = SlackRule(slack)
        except ValueError:
            raise InputError(f"unknown slack rule {slack!r}; allowed: {[r.value for r in SlackRule]} or a list of "
                             "(node, p_bar)", kind="scenario", field="slack") from None
        if not entries:
            raise InputError("the nomination has no entry to act as pressure reference; pass slack=[(node, p_bar)]",
                             kind="scenario", field="slack", source=src)
        p_max = net.table("node")["p_max_bar"]
        if rule is SlackRule.ALL_ENTRIES:
            chosen = entries
        elif rule is SlackRule.HIGHEST_PRESSURE:
            chosen = [max(entries, key=lambda n: (float(p_max[n.id]), n.flow))]
        else:
            chosen = [max(entries, key=lambda n: n.flow)]
        out = {}
        for nom in chosen:
            p = float(p_max[nom.id])
            if not np.isfinite(p):
                raise InputError("has no finite maximal pressure to serve as slack pressure; pass slack=[(node, "
                                 "p_bar)]", kind="node", element=nom.id, field="p_max_bar", source=src)
            out[nom.id] = p
        return out
    out = {}
    try:
        pairs = [(str(n), float(p)) for n, p in slack]
    except (TypeError, ValueError):
        raise InputError(f"must be a SlackRule or a list of (node, p_bar), got {slack!r}", kind="scenario",
                         field="slack") from None
    if not pairs:
        raise InputError("the list of pressure references is empty", kind="scenario", field="slack")
    for n, p in pairs:
        if n not in known:
            raise InputError("slack node is not in the network", kind="scenario", element=n, field="slack")
        if not (math.isfinite(p) and p > 0.0):
            raise InputError(f"slack pressure must be > 0 bar, got {p!r}", kind="scenario", element=n, field="slack")
        if n in out:
            raise InputError("slack node listed twice", kind="scenario", element=n, field="slack")
        out[n] = p
    return out


def _restore_bounds(net: Network) -> None:
    prev = net.meta.get("gaslib_scenario")
    if not prev:
        return
    nodes = net.table("node")
    for nid, (lo, hi) in prev.get("overridden_bounds", {}).items():
        if nid in nodes.index:
            nodes.at[nid, "p_min_bar"] = lo
            nodes.at[nid, "p_max_bar"] = hi


def _base(src: str) -> str:
    return src.replace("\\", "/").rsplit("/", 1)[-1]


__all__ = ["NodeNomination", "ScenarioData", "SlackRule", "apply_scenario", "read_gaslib_scn"]

