"""East Route N-1: the outage list (each line section, the Amur crossing, each station, each supply), the
curtailment per province, and an HTML section for the report explaining the ranking.

Contract: :func:`east_route_scenarios` returns the single-element outages plus the common-mode outage of the
Amur crossing (its parallel strings, see :func:`amur_crossing`: both fail together when the crossing is lost,
so they count as one infrastructure). :func:`east_route_n1_section`
turns a ranked record table (:func:`gasgrid.analysis.contingency.rank_outages`) into a self-contained HTML
fragment for ``build_report(..., extra_sections=(("N-1 contingency ranking", html),))``.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd

from gasgrid.analysis.scenario import Outage, Scenario, n_minus_1_scenarios
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.model.network import Network

KINDS = ("pipe", "compressor", "control_valve", "supply")


def amur_crossing(network: Network) -> list[str]:
    """Pipe ids of the Amur crossing strings: the id mentions "amur", or the name starts with "Amur crossing"
    (pipes that merely lead to the crossing or to the Amur gas plant mention it later in their name)."""
    p = network.pipes
    ids = p.index.astype(str).str.lower()
    names = p["name"].fillna("").astype(str).str.strip().str.lower()
    hit = ids.str.contains("amur") | names.str.startswith("amur crossing")
    return [str(i) for i in p.index[hit]]


def east_route_scenarios(network: Network, compiled: CompiledNetwork | None = None) -> list[Scenario]:
    """N-1 outages of the East Route plus the Amur crossing as one common-mode outage."""
    c = compiled if compiled is not None else network.compile()
    scenarios = n_minus_1_scenarios(c, kinds=KINDS)
    crossing = [e for e in amur_crossing(network) if c.arc_active[c.arc_index(e)]]
    if len(crossing) > 1:
        scenarios.append(Scenario("common:amur-crossing", tuple(Outage("pipe", e) for e in crossing)))
    return scenarios


def node_groups(network: Network) -> dict[str, str]:
    """Node id -> demand group (province) for every node with a grouped demand."""
    d = network.table("demand")
    d = d[d["group"].notna()]
    return {str(n): str(g) for n, g in zip(d["node"], d["group"], strict=True)}


def describe_element(network: Network, kind: str, element: str) -> str:
    """Human name of an outaged element (its ``name`` column), or the id."""
    names = []
    for k, e in zip(kind.split("+"), element.split("+"), strict=False):
        tab = network.table(k) if k in network.tables else None
        if tab is not None and e in tab.index and isinstance(tab.at[e, "name"], str):
            names.append(tab.at[e, "name"])
        else:
            names.append(e)
    return "; ".join(dict.fromkeys(names))


def province_table(ranked: pd.DataFrame, groups: dict[str, str], top: int = 10) -> pd.DataFrame:
    """Unserved demand per province (kg/s) for the ``top`` ranked scenarios with unserved demand."""
    rows = []
    for _, r in ranked.head(top).iterrows():
        per = json.loads(r["unserved_by_node"] or "{}")
        out: dict[str, float | str] = {"scenario": r["scenario"]}
        for node, v in per.items():
            g = groups.get(node, "(other)")
            out[g] = float(out.get(g, 0.0)) + v  # type: ignore[arg-type]
        rows.append(out)
    frame = pd.DataFrame(rows).set_index("scenario").fillna(0.0) if rows else pd.DataFrame()
    return frame.loc[:, (frame != 0).any()] if len(frame) else frame


EAST_ROUTE_NOTE = (
    "The East Route is essentially a single line from the Yakutian and Irkutsk fields to the Amur crossing, so "
    "a line section or a station upstream of a branch point cuts or throttles everything downstream of it, "
    "while sections with a parallel string (looped sections, the two Amur strings) lose only the flow the "
    "remaining string cannot carry. The Amur crossing is also shown as a common-mode outage (both strings), "
    "the single largest infrastructure in the sense of the EU N-1 rule. A station outage means its units trip "
    "and gas flows through its bypass."
)


def east_route_n1_section(result_table: pd.DataFrame, network: Network | None = None, *, top: int = 10,
                          kg_s_to_mcm_d: float | None = None, note: str = EAST_ROUTE_NOTE) -> str:
    """HTML fragment: the ranked outage table (top ``top``), what the ranking means, and the curtailment per
    province. ``result_table`` is a ranked record table; ``network`` (optional) gives names and provinces;
    ``note`` is the case-specific reading of the ranking (the East Route's by default; "" for none)."""
    ranked = result_table if "rank" in result_table else result_table.assign(rank=np.arange(1, len(result_table) + 1))
    n = len(ranked)
    failed = int((ranked["error"].astype(str) != "").sum())
    hit = ranked[ranked["unserved_kg_s"].fillna(0) > 1e-6]
    total = ranked["unserved_kg_s"] / ranked["unserved_share"].replace(0, np.nan)
    nominal = float(total.dropna().iloc[0]) if total.notna().any() else float("nan")
    conv = kg_s_to_mcm_d
    head = ranked.head(top).copy()
    if network is not None:
        head.insert(2, "element name", [describe_element(network, k, e)
                                        for k, e in zip(head["kind"], head["element"], strict=True)])
    head["unserved %"] = 100.0 * head["unserved_share"]
    cols = ["rank", "scenario"] + (["element name"] if network is not None else []) + [
        "status", "unserved_kg_s", "unserved %", "islanded_kg_s", "p_margin_min_bar", "p_margin_node",
        "stations_at_limit", "curtailed"]
    if conv:
        head["unserved_mcm_d"] = head["unserved_kg_s"] * conv
        cols.insert(cols.index("unserved %"), "unserved_mcm_d")
    table = head[cols].to_html(index=False, float_format=lambda v: f"{v:,.2f}", classes="n1-ranking", border=0)
    parts = [
        "<div class='n1-section'>",
        f"<p>{n} single outages were solved from the design-day state (warm-started steady solves); {len(hit)} "
        f"leave demand unserved{f', {failed} could not be evaluated (listed with their error)' if failed else ''}. "
        f"Nominal offtake: {nominal:,.1f} kg/s.</p>",
        "<p><b>How the ranking is read.</b> Outages are ordered by unserved demand first: demand cut off from "
        "every supply (an island) and demand curtailed so that every remaining offtake keeps its minimum "
        "pressure (least curtailment with supply redispatch, protected customers last, checked with the "
        "hydraulic model). Outages that leave every customer served are ordered by the lowest remaining "
        f"pressure margin above p_min. {html.escape(note)}</p>",
        table,
    ]
    if network is not None:
        prov = province_table(ranked[ranked["unserved_kg_s"].fillna(0) > 1e-6], node_groups(network), top)
        if len(prov):
            parts.append("<p><b>Unserved demand per province</b> (kg/s) for the worst outages:</p>")
            parts.append(prov.to_html(float_format=lambda v: f"{v:,.2f}", classes="n1-provinces", border=0))
    parts.append("</div>")
    return "\n".join(p if p.startswith("<") else html.escape(p) for p in parts)


__all__ = ["EAST_ROUTE_NOTE", "KINDS", "amur_crossing", "describe_element", "east_route_n1_section", "east_route_scenarios",
           "node_groups", "province_table"]
