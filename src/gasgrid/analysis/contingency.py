"""One contingency scenario -> one flat record; and the ranking of a sweep's records.

Contract: :func:`evaluate_scenario` never raises for a scenario's own failure: every outcome (solved, bound
violations, infeasible, islanded, curtailed, an exception in the solver) becomes a record with the columns
of :data:`RECORD_COLUMNS`, the error text in ``error``. Islanded demand and demand curtailed to restore a
hydraulically feasible state are both *unserved*. Flows kg/s, pressures bar (absolute), times s.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gasgrid.analysis.curtailment import CurtailmentOptions, curtail, is_feasible
from gasgrid.analysis.scenario import Scenario
from gasgrid.analysis.topology import resolve_islands
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady import solve_steady
from gasgrid.steady.options import SteadyOptions
from gasgrid.steady.result import SteadyResult

RECORD_COLUMNS: dict[str, str] = {
    "scenario": "str",
    "kind": "str",
    "element": "str",
    "status": "str",
    "feasible": "bool",
    "curtailed": "bool",
    "curtailment_feasible": "bool",
    "unserved_kg_s": "float64",
    "islanded_kg_s": "float64",
    "unserved_share": "float64",
    "unserved_by_node": "str",
    "p_margin_min_bar": "float64",
    "p_margin_node": "str",
    "n_violations": "int64",
    "stations_at_limit": "int64",
    "stations_at_limit_ids": "str",
    "iterations": "int64",
    "curtail_rounds": "int64",
    "time_s": "float64",
    "error": "str",
    "message": "str",
}


@dataclass(frozen=True, kw_only=True)
class ContingencyOptions:
    """Options of a contingency evaluation.

    Attributes:
        steady: steady-solver options.
        curtail: compute the least curtailment when the outage state is infeasible or below p_min.
        curtailment: curtailment options.
        warm_start: start each solve from the base-case state.
    """

    steady: SteadyOptions | None = None
    curtail: bool = True
    curtailment: CurtailmentOptions | None = None
    warm_start: bool = True


def empty_record(scenario: Scenario) -> dict[str, Any]:
    """A record with every column at its 'nothing known' value."""
    return {"scenario": scenario.name, "kind": scenario.kind, "element": scenario.element, "status": "error",
            "feasible": False, "curtailed": False, "curtailment_feasible": False, "unserved_kg_s": np.nan,
            "islanded_kg_s": np.nan, "unserved_share": np.nan, "unserved_by_node": "{}",
            "p_margin_min_bar": np.nan, "p_margin_node": "", "n_violations": 0, "stations_at_limit": 0,
            "stations_at_limit_ids": "", "iterations": 0, "curtail_rounds": 0, "time_s": 0.0, "error": "",
            "message": ""}


def error_record(scenario: Scenario, exc: BaseException | str, time_s: float = 0.0) -> dict[str, Any]:
    """The record of a scenario whose evaluation raised (or whose worker was lost)."""
    rec = empty_record(scenario)
    rec["error"] = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    rec["message"] = "evaluation failed: " + rec["error"]
    rec["time_s"] = time_s
    return rec


def evaluate_scenario(
    base: CompiledNetwork,
    scenario: Scenario,
    *,
    base_result: SteadyResult | None = None,
    options: ContingencyOptions | None = None,
) -> dict[str, Any]:
    """Apply ``scenario`` to ``base``, solve, curtail if needed, and summarise as one record (never raises
    for the scenario's own failure; see the module contract)."""
    t0 = time.perf_counter()
    try:
        rec = _evaluate(base, scenario, base_result, options or ContingencyOptions())
    except Exception as exc:
        return error_record(scenario, exc, time.perf_counter() - t0)
    rec["time_s"] = time.perf_counter() - t0
    return rec


def _evaluate(base: CompiledNetwork, scenario: Scenario, base_result: SteadyResult | None,
              opts: ContingencyOptions) -> dict[str, Any]:
    rec = empty_record(scenario)
    net = scenario.apply(base)
    p_base = _pressures(base_result) if base_result is not None else None
    net, islands = resolve_islands(net, base_p_Pa=p_base)
    initial = base_result if opts.warm_start and base_result is not None and base_result.has_state else None
    res = solve_steady(net, options=opts.steady, initial=initial)
    nominal_total = float(np.maximum(base.demand.flow[base.demand.active], 0.0).sum())
    unserved = islands.islanded_kg_s.copy()
    feasible = bool(is_feasible(net, res))
    rec.update(status=res.status.value, feasible=feasible, iterations=int(res.iterations),
               n_violations=res.n_violations, message=res.message)
    final = res
    if not feasible and opts.curtail:
        cr = curtail(net, base=base_result, state=res, options=opts.curtailment)
        unserved += cr.unserved_kg_s.to_numpy(float)
        rec.update(curtailed=True, curtailment_feasible=bool(cr.feasible), curtail_rounds=int(cr.iterations),
                   message=f"{res.message} Curtailment: {cr.message}")
        if cr.hydraulic is not None and cr.hydraulic.has_state:
            final = cr.hydraulic
    if islands.notes:
        rec["message"] = "; ".join(islands.notes) + ". " + rec["message"]
    margin_state = res if res.has_state else final
    if margin_state.has_state:
        m = (_pressures(margin_state) - net.p_min) / 1e5
        ok = np.flatnonzero(~np.isnan(m))
        if len(ok):
            k = ok[np.argmin(m[ok])]
            rec.update(p_margin_min_bar=float(m[k]), p_margin_node=str(net.node_ids[k]))
    elif len(res.collapse):
        rec.update(p_margin_min_bar=-np.inf, p_margin_node=str(res.collapse.index[0]))
    cs = final.compressors if final.has_table("compressors") else None
    if cs is not None and len(cs) and "binding_limit" in cs:
        moving = cs["flow_kg_s"].abs() > 1e-6 if "flow_kg_s" in cs else True  # stations in a dead part don't count
        at = cs.index[(cs["binding_limit"].astype(str) != "") & (cs.get("state", "active") == "active") & moving]
        rec.update(stations_at_limit=len(at), stations_at_limit_ids=",".join(map(str, at)))
    by_node: dict[str, float] = {}
    for k in np.flatnonzero(unserved > 1e-6):
        node = str(base.node_ids[base.demand.node[k]])
        by_node[node] = by_node.get(node, 0.0) + float(unserved[k])
    total = float(unserved.sum())
    rec.update(unserved_kg_s=total, islanded_kg_s=float(islands.islanded_kg_s.sum()),
               unserved_share=total / nominal_total if nominal_total > 0 else 0.0,
               unserved_by_node=json.dumps(by_node, sort_keys=True))
    return rec


def _pressures(res: SteadyResult) -> NDArray[np.float64]:
    """Absolute node pressures of a result, Pa (NaN where undefined), without building its tables."""
    return res.p_Pa if res.p_Pa is not None else res.nodes["p_Pa"].to_numpy(float)


def records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as a DataFrame with the declared column dtypes."""
    df = pd.DataFrame.from_records(records, columns=list(RECORD_COLUMNS))
    for col, dt in RECORD_COLUMNS.items():
        if dt == "str":
            df[col] = df[col].fillna("").astype(str)
        else:
            df[col] = df[col].astype(dt)
    return df


def rank_outages(records: pd.DataFrame) -> pd.DataFrame:
    """Worst outages first: most unserved demand, then lowest pressure margin; failed evaluations last."""
    df = records.copy()
    df["_failed"] = df["error"].astype(str) != ""
    df = df.sort_values(["_failed", "unserved_kg_s", "p_margin_min_bar"], ascending=[True, False, True],
                        na_position="last", kind="stable").drop(columns="_failed")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df.reset_index(drop=True)


def unserved_by_group(records: pd.DataFrame, node_group: dict[str, str]) -> pd.DataFrame:
    """Unserved demand per scenario and group (e.g. province), kg/s: one row per scenario, one column per group."""
    rows = []
    for _, r in records.iterrows():
        per = json.loads(r["unserved_by_node"] or "{}")
        out: dict[str, Any] = {"scenario": r["scenario"]}
        for node, v in per.items():
            g = node_group.get(node, "(none)")
            out[g] = out.get(g, 0.0) + v
        rows.append(out)
    return pd.DataFrame(rows).set_index("scenario").fillna(0.0) if rows else pd.DataFrame()


__all__ = ["RECORD_COLUMNS", "ContingencyOptions", "empty_record", "error_record", "evaluate_scenario",
           "rank_outages", "records_frame", "unserved_by_group"]
