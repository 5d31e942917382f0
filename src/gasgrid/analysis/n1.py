"""The EU N-1 infrastructure indicator, Regulation (EU) 2017/1938 Annex II.

    N-1 [%] = (EP_m + P_m + S_m + LNG_m - I_m) / D_max x 100            (required >= 100 %)
    demand-side variant: divide by (D_max - D_eff)

EP_m: technical capacity of entry points other than production, storage and LNG; P_m: maximal technical
daily production capability; S_m: maximal technical daily storage withdrawal; LNG_m: maximal technical daily
LNG send-out; I_m: technical capacity of the single largest gas infrastructure (infrastructures that cannot
be operated separately count as one); D_max: daily demand on a 1-in-20-years peak day; D_eff: demand covered
by market-based demand-side measures. All terms in one unit (mcm/d by default). No line-pack term.

Contract: :func:`n_minus_1_indicator` computes the indicator from the terms and lists every intermediate
value with its source (Annex V style) in :attr:`N1Result.table`. :func:`n_minus_1_from_network` derives the
terms from a network's supplies and demands by a documented naming convention (see there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gasgrid.errors import InputError
from gasgrid.model.network import Network
from gasgrid.units import Reference

CATEGORIES = ("EP", "P", "S", "LNG")
#: keyword (case-insensitive, in a supply's id, name or source) -> category; first match wins
KEYWORDS: tuple[tuple[str, str], ...] = (
    ("lng", "LNG"),
    ("storage", "S"),
    ("ugs", "S"),
    ("production", "P"),
    ("field", "P"),
)


@dataclass(frozen=True)
class N1Result:
    """N-1 indicator and its terms (unit in ``unit``)."""

    value_percent: float  # standard formula
    demand_side_percent: float  # with D_eff (equals value_percent when D_eff = 0)
    EP_m: float
    P_m: float
    S_m: float
    LNG_m: float
    I_m: float
    D_max: float
    D_eff: float
    unit: str
    largest_infrastructure: str
    table: pd.DataFrame  # term, value, unit, description, source

    @property
    def passes(self) -> bool:
        """The infrastructure standard holds (>= 100 %, demand-side variant if D_eff > 0)."""
        return self.demand_side_percent >= 100.0


def _check(name: str, v: float) -> float:
    v = float(v)
    if not np.isfinite(v) or v < 0:
        raise InputError(f"must be finite and >= 0, got {v!r}", kind="n_minus_1_indicator", field=name)
    return v


def n_minus_1_indicator(
    EP_m: float,
    P_m: float,
    S_m: float,
    LNG_m: float,
    I_m: float,
    D_max: float,
    D_eff: float = 0.0,
    *,
    unit: str = "mcm/d",
    largest_infrastructure: str = "",
    sources: Mapping[str, str] | None = None,
) -> N1Result:
    """N-1 [%] from its terms (all in ``unit``); ``sources`` says where each term comes from (for the table).

    Raises:
        InputError: a negative or non-finite term, D_max <= 0, or D_eff >= D_max.
    """
    terms = {k: _check(k, v) for k, v in
             {"EP_m": EP_m, "P_m": P_m, "S_m": S_m, "LNG_m": LNG_m, "I_m": I_m, "D_max": D_max, "D_eff": D_eff}.items()}
    if terms["D_max"] <= 0:
        raise InputError("must be > 0", kind="n_minus_1_indicator", field="D_max")
    if terms["D_eff"] >= terms["D_max"]:
        raise InputError("must be below D_max", kind="n_minus_1_indicator", field="D_eff")
    numerator = terms["EP_m"] + terms["P_m"] + terms["S_m"] + terms["LNG_m"] - terms["I_m"]
    value = numerator / terms["D_max"] * 100.0
    demand_side = numerator / (terms["D_max"] - terms["D_eff"]) * 100.0
    src = dict(sources or {})
    desc = {
        "EP_m": "technical capacity of entry points (other than production, storage, LNG)",
        "P_m": "maximal technical daily production capability",
        "S_m": "maximal technical daily storage withdrawal",
        "LNG_m": "maximal technical daily LNG send-out",
        "I_m": "technical capacity of the single largest infrastructure"
               + (f" ({largest_infrastructure})" if largest_infrastructure else ""),
        "D_max": "daily demand on a 1-in-20-years peak day",
        "D_eff": "demand covered by market-based demand-side measures",
    }
    rows = [{"term": k, "value": v, "unit": unit, "description": desc[k], "source": src.get(k, "given")}
            for k, v in terms.items()]
    rows.append({"term": "numerator", "value": numerator, "unit": unit,
                 "description": "EP_m + P_m + S_m + LNG_m - I_m", "source": "computed"})
    rows.append({"term": "N-1", "value": value, "unit": "%", "description": "numerator / D_max x 100",
                 "source": "Reg. (EU) 2017/1938 Annex II"})
    rows.append({"term": "N-1 (demand side)", "value": demand_side, "unit": "%",
                 "description": "numerator / (D_max - D_eff) x 100", "source": "Reg. (EU) 2017/1938 Annex II"})
    return N1Result(value_percent=value, demand_side_percent=demand_side, unit=unit,
                    largest_infrastructure=largest_infrastructure, table=pd.DataFrame(rows), **terms)


def classify_supply(supply_id: str, name: object = None, source: object = None) -> str:
    """Category of a supply by the keyword convention :data:`KEYWORDS` (default ``"EP"``)."""
    text = " ".join(str(x) for x in (supply_id, name, source) if x is not None and x == x).lower()
    for word, cat in KEYWORDS:
        if word in text:
            return cat
    return "EP"


def n_minus_1_from_network(
    network: Network,
    *,
    area: str | Iterable[str] | None = None,
    categories: Mapping[str, str] | None = None,
    infrastructure: Mapping[str, str] | None = None,
    D_max_kg_s: float | None = None,
    D_eff_kg_s: float = 0.0,
    include_out_of_service: bool = False,
    reference: Reference = Reference.NORMAL,
) -> N1Result:
    """N-1 of a calculated area from the network's supplies (entry capacities) and demands.

    Convention (documented, overridable):
    - the area is the whole network (``None``), a demand ``group`` name (province; the area's nodes are then
      the nodes of that group's demands), or an iterable of node ids;
    - the supplies at the area's nodes are its entries; their technical capacity is ``flow_max_kg_s``
      (a supply without a finite flow_max is an error: give one);
    - category per supply from ``categories`` (supply id -> EP/P/S/LNG), else by keyword in its id, name or
      source: "lng" -> LNG, "storage"/"ugs" -> S, "production"/"field" -> P, anything else EP;
    - I_m: the largest infrastructure; supplies mapped to the same name in ``infrastructure`` (supply id ->
      infrastructure name) count as one (their capacities add up);
    - D_max: ``D_max_kg_s``, or the sum of the area's positive in-service demands (the network's loading is
      taken as the design/peak day);
    - flows kg/s are converted to mcm/d at ``reference`` with the network gas's density there.
    """
    t = network.tables
    sup, dem = t["supply"], t["demand"]
    if area is None:
        nodes = set(t["node"].index.astype(str))
        area_name = "whole network"
    elif isinstance(area, str):
        groups = dem["group"].astype(str)
        if area in set(groups):
            nodes = set(dem.loc[groups == area, "node"].astype(str))
            area_name = f"group {area!r}"
        elif area in set(t["node"].index.astype(str)):
            nodes, area_name = {area}, f"node {area!r}"
        else:
            raise InputError(f"{area!r} is neither a demand group nor a node", kind="n_minus_1_from_network",
                             field="area")
    else:
        nodes = {str(n) for n in area}
        unknown = nodes - set(t["node"].index.astype(str))
        if unknown:
            raise InputError(f"unknown node(s) {sorted(unknown)[:5]}", kind="n_minus_1_from_network", field="area")
        area_name = f"{len(nodes)} node(s)"
    rho = network.gas.reference_density(reference)
    to_mcm_d = 86_400.0 / rho / 1e6
    s = sup[sup["node"].astype(str).isin(nodes)]
    if not include_out_of_service:
        s = s[s["in_service"].astype(bool)]
    cats = dict(categories or {})
    cap: dict[str, float] = {}
    cat_of: dict[str, str] = {}
    for sid, row in s.iterrows():
        fmax = float(row["flow_max_kg_s"])
        if not np.isfinite(fmax):
            raise InputError("has no finite flow_max_kg_s (its technical capacity): set one", kind="supply",
                             element=str(sid), field="flow_max_kg_s")
        c = cats.get(str(sid)) or classify_supply(str(sid), row.get("name"), row.get("source"))
        if c not in CATEGORIES:
            raise InputError(f"category must be one of {CATEGORIES}, got {c!r}", kind="supply", element=str(sid))
        cap[str(sid)] = fmax * to_mcm_d
        cat_of[str(sid)] = c
    terms = {c: sum(v for k, v in cap.items() if cat_of[k] == c) for c in CATEGORIES}
    infra: dict[str, float] = {}
    for k, v in cap.items():
        name = (infrastructure or {}).get(k, k)
        infra[name] = infra.get(name, 0.0) + v
    largest = max(infra, key=lambda k: infra[k]) if infra else ""
    if D_max_kg_s is None:
        d = dem[dem["node"].astype(str).isin(nodes) & dem["in_service"].astype(bool)]
        D_max_kg_s = float(np.maximum(d["flow_kg_s"].to_numpy(float), 0.0).sum())
        d_src = f"sum of the in-service demands of {area_name}"
    else:
        d_src = "given"

    def listing(c: str) -> str:
        items = [f"{k} {v:.3f}" for k, v in cap.items() if cat_of[k] == c]
        return ("supplies " + ", ".join(items)) if items else "none in the area"

    sources = {"EP_m": listing("EP"), "P_m": listing("P"), "S_m": listing("S"), "LNG_m": listing("LNG"),
               "I_m": f"largest of {len(infra)} infrastructure(s): {largest}", "D_max": d_src,
               "D_eff": "given"}
    unit = f"mcm/d ({reference.value})"
    return n_minus_1_indicator(terms["EP"], terms["P"], terms["S"], terms["LNG"], infra.get(largest, 0.0),
                               D_max_kg_s * to_mcm_d, D_eff_kg_s * to_mcm_d, unit=unit,
                               largest_infrastructure=largest, sources=sources)


__all__ = ["CATEGORIES", "KEYWORDS", "N1Result", "classify_supply", "n_minus_1_from_network", "n_minus_1_indicator"]
