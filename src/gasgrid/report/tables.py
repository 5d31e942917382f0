"""Report tables computed from a steady result and its network (no plotting, no HTML).

Contract: inputs follow the ``SteadyResult`` contract (pressures absolute in bar, flows kg/s). Volumes are
converted at the network's stated reference condition (``network.meta["volume_reference"]``, a
:class:`~gasgrid.units.Reference`; NORMAL when absent) with the gas's real-gas density there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gasgrid.model.network import Network
from gasgrid.units import SECONDS_PER_DAY, SECONDS_PER_YEAR, Reference

VERDICTS: dict[str, tuple[str, str]] = {
    "solved": ("DELIVERABLE", "ok"),
    "violations": ("NOT DELIVERABLE AS NOMINATED", "bad"),
    "infeasible": ("NOT DELIVERABLE: INFEASIBLE", "bad"),
    "not_converged": ("NO RESULT: SOLVER DID NOT CONVERGE", "bad"),
}


def volume_reference(network: Network) -> tuple[Reference, float]:
    """The reference condition for volumes and the gas density there, kg/m³."""
    ref = network.meta.get("volume_reference", Reference.NORMAL)
    if not isinstance(ref, Reference):
        ref = Reference.parse(str(ref))
    return ref, float(network.gas.reference_density(ref))


def kg_s_to_bcm_per_year(q_kg_s: Any, rho: float) -> Any:
    """kg/s -> 10⁹ m³/yr at the reference whose density is ``rho`` (kg/m³)."""
    return np.asarray(q_kg_s, dtype=float) / rho * SECONDS_PER_YEAR / 1e9


def kg_s_to_mcm_per_day(q_kg_s: Any, rho: float) -> Any:
    """kg/s -> 10⁶ m³/d at the reference whose density is ``rho`` (kg/m³)."""
    return np.asarray(q_kg_s, dtype=float) / rho * SECONDS_PER_DAY / 1e6


def _status(result: Any) -> str:
    status = getattr(result, "status", "")
    return str(getattr(status, "value", status))


def station_table(result: Any, network: Network) -> pd.DataFrame:
    """Per station: name, mode, suction/discharge (bar abs), ratio, shaft power and limit (MW), fuel (mcm/d)."""
    cs = network.compressors
    res = getattr(result, "compressors", None)
    if cs.empty:
        return pd.DataFrame()
    _, rho = volume_reference(network)
    out = pd.DataFrame(index=cs.index)
    out["station"] = [str(n).split(" (")[0] if isinstance(n, str) else i for i, n in zip(cs.index, cs["name"],
                                                                                          strict=True)]
    res = res if isinstance(res, pd.DataFrame) else pd.DataFrame()
    p = result.nodes["p_bar"] if len(result.nodes) else pd.Series(dtype=float)

    def col(name: str, default: Any) -> pd.Series:
        if name in res.columns:
            return res[name].reindex(cs.index)
        return pd.Series(default, index=cs.index)

    out["mode"] = col("mode", None).fillna(cs["mode"])
    out["active_mode"] = col("active_mode", None).fillna(cs["mode"])
    out["binding_limit"] = col("binding_limit", None).fillna("none").replace("", "none")
    out["p_suction_bar"] = col("p_suction_bar", np.nan).fillna(p.reindex(cs["from_node"]).set_axis(cs.index))
    out["p_discharge_bar"] = col("p_discharge_bar", np.nan).fillna(p.reindex(cs["to_node"]).set_axis(cs.index))
    out["ratio"] = col("ratio", np.nan).fillna(out["p_discharge_bar"] / out["p_suction_bar"])
    out["ratio_max"] = cs["ratio_max"]
    out["flow_kg_s"] = col("flow_kg_s", np.nan)
    out["power_shaft_MW"] = col("power_shaft_MW", np.nan).fillna(0.0)
    out["power_max_MW"] = cs["power_max_MW"]
    out["power_driver_MW"] = col("power_driver_MW", np.nan)
    out["fuel_kg_s"] = col("fuel_kg_s", np.nan).fillna(0.0)
    out["fuel_mcm_d"] = kg_s_to_mcm_per_day(out["fuel_kg_s"], rho)
    out["driver"] = cs["driver"]
    return out


def delivered_by_group(result: Any, network: Network) -> pd.DataFrame:
    """Nominated and delivered volume per demand group (province), bcm/yr and mcm/d at the reference.

    Groups appear in network order. Demands without a group are listed under "other".
    """
    dem = network.demands
    if dem.empty:
        return pd.DataFrame()
    _, rho = volume_reference(network)
    group = dem["group"].fillna("other")
    nominated = dem["flow_kg_s"].where(dem["in_service"], 0.0)
    res = result.demands["flow_kg_s"] if len(getattr(result, "demands", [])) else pd.Series(dtype=float)
    delivered = res.reindex(dem.index).fillna(0.0) if _status(result) in ("solved", "violations") else \
        pd.Series(0.0, index=dem.index)
    order = list(dict.fromkeys(group))
    t = pd.DataFrame({"nominated_kg_s": nominated.groupby(group).sum(),
                      "delivered_kg_s": delivered.groupby(group).sum()})
    t = t.reindex(order)
    t.index.name = "group"
    t["nominated_bcm_per_year"] = kg_s_to_bcm_per_year(t["nominated_kg_s"], rho)
    t["delivered_bcm_per_year"] = kg_s_to_bcm_per_year(t["delivered_kg_s"], rho)
    t["delivered_mcm_per_day"] = kg_s_to_mcm_per_day(t["delivered_kg_s"], rho)
    t["delivered_pct"] = np.where(t["nominated_kg_s"] > 0, 100 * t["delivered_kg_s"] / t["nominated_kg_s"], 100.0)
    return t


@dataclass(frozen=True)
class Headline:
    """The figures of the report's verdict header."""

    verdict: str
    tone: str  # "ok" or "bad"
    message: str
    delivered_bcm: float
    nominated_bcm: float
    lowest_margin_bar: float
    lowest_margin_node: str
    maop_margin_bar: float
    maop_margin_node: str
    power_MW: float
    fuel_mcm_d: float
    linepack_mcm: float
    mass_balance_error: float
    iterations: int
    n_violations: int
    reference: str


def headline(result: Any, network: Network) -> Headline:
    """Verdict, throughput, lowest pressure margins, power, fuel and line pack of a result."""
    status = _status(result)
    physical = status in ("solved", "violations")
    verdict, tone = VERDICTS.get(status, (status.upper() or "UNKNOWN", "bad"))
    ref, rho = volume_reference(network)
    nodes = result.nodes if isinstance(result.nodes, pd.DataFrame) else pd.DataFrame()
    lo_m, lo_n, hi_m, hi_n = np.nan, "-", np.nan, "-"
    if len(nodes) and nodes["p_bar"].notna().any():
        margin = (nodes["p_bar"] - nodes["p_min_bar"]).dropna()
        lo_m, lo_n = float(margin.min()), str(margin.idxmin())
        head = (nodes["p_max_bar"] - nodes["p_bar"]).replace(np.inf, np.nan).dropna()
        if len(head):
            hi_m, hi_n = float(head.min()), str(head.idxmin())
    table = delivered_by_group(result, network)
    deliveries = table.drop(index=[g for g in table.index if is_plant_group(g)]) if len(table) else table
    stations = station_table(result, network)
    violations = getattr(result, "violations", pd.DataFrame())
    n_viol = len(violations) if isinstance(violations, pd.DataFrame) else 0
    if status == "violations" and n_viol:
        verdict += f": {n_viol} LIMIT VIOLATION{'S' if n_viol > 1 else ''}"
    return Headline(
        verdict=verdict, tone=tone, message=str(getattr(result, "message", "")),
        delivered_bcm=float(deliveries["delivered_bcm_per_year"].sum()) if len(deliveries) and physical else np.nan,
        nominated_bcm=float(deliveries["nominated_bcm_per_year"].sum()) if len(deliveries) else 0.0,
        lowest_margin_bar=lo_m, lowest_margin_node=lo_n, maop_margin_bar=hi_m, maop_margin_node=hi_n,
        power_MW=float(stations["power_shaft_MW"].sum()) if len(stations) else 0.0,
        fuel_mcm_d=float(stations["fuel_mcm_d"].sum()) if len(stations) else 0.0,
        linepack_mcm=float(getattr(result, "linepack_kg", np.nan)) / rho / 1e6,
        mass_balance_error=float(getattr(result, "mass_balance_error", np.nan)),
        iterations=int(getattr(result, "iterations", 0) or 0),
        n_violations=n_viol,
        reference=str(ref.value),
    )


def is_plant_group(group: str) -> bool:
    """True for groups that are not deliveries (processing-plant withdrawals, e.g. "Amur GPP (RU)")."""
    return bool(re.search(r"\b(GPP|plant)\b", str(group), flags=re.IGNORECASE))


_TAG = re.compile(r"\[(?:S\d*|E|C)\b")


def provenance(network: Network) -> pd.DataFrame:
    """Rows per component kind whose ``source`` cites sourced [S..], estimated [E] or community [C] data.

    A row citing several kinds counts once per kind; rows without a source tag are "untagged".
    """
    records = []
    for kind, table in network.tables.items():
        if table.empty:
            continue
        tags = table["source"].fillna("").astype(str)
        records.append({
            "kind": kind,
            "rows": len(table),
            "sourced [S]": int(tags.str.contains(r"\[S\d", regex=True).sum()),
            "estimated [E]": int(tags.str.contains(r"\[E\b", regex=True).sum()),
            "community [C]": int(tags.str.contains(r"\[C\b", regex=True).sum()),
            "untagged": int((~tags.str.contains(_TAG.pattern, regex=True)).sum()),
        })
    return pd.DataFrame(records).set_index("kind") if records else pd.DataFrame()
