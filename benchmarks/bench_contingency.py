"""N-1 contingency benchmark: gasgrid sweep throughput vs a one-by-one pandapipes loop, and Dask scaling.

1. GasLib-582 (scale 0.9), every in-service arc out in turn (the full N-1): gasgrid serial sweep on the
   case as bundled (stations and regulators with their controllers, curtailment where needed), and on the
   passive ideal-gas copy that pandapipes can solve with matched physics (benchmarks/_pandapipes_net.py);
   pandapipes: the same outages one by one on its equivalent net (element out of service, pipeflow, back
   in service). Throughput = scenarios per second of wall time, every scenario counted (failures included).
2. GasLib-4197: the same sweep of pipe outages on a LocalCluster of 1 and of 2 worker processes (one thread
   each); speed-up = time(1) / time(2), cluster start-up excluded, scatter of the base network included.

Run: ``.venv/bin/python benchmarks/bench_contingency.py [--quick] [--json out.json]``. The machine should be
quiet: the ratios are wall-time ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gasgrid.analysis.contingency import ContingencyOptions
from gasgrid.analysis.scenario import OUTAGE_KINDS, Scenario, n_minus_1_scenarios
from gasgrid.analysis.sweep import run_sweep
from gasgrid.cases import load_case
from gasgrid.components import ARC_KINDS
from gasgrid.steady import solve_steady

ALL_ARCS = tuple(k for k in OUTAGE_KINDS if k in ARC_KINDS)


def gasgrid_sweep(net: Any, scenarios: list[Scenario], workers: int = 0, curtail: bool = True) -> dict[str, Any]:
    """Serial sweep (``workers=0``) or on a LocalCluster of ``workers`` processes (start-up excluded).

    ``curtail=False``: hydraulics only (what the pandapipes loop does: solve each outage and classify it);
    otherwise every infeasible outage also gets its least curtailment (HiGHS LPs + hydraulic checks)."""
    c = net.compile()
    base = solve_steady(c)
    options = ContingencyOptions(curtail=curtail)
    if workers:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
                Client(lc) as client:
            client.wait_for_workers(workers, timeout=120)
            client.run(solve_steady, c)
            t0 = time.perf_counter()
            res = run_sweep(c, scenarios, executor="dask", client=client, base_result=base, options=options)
            dt = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        res = run_sweep(c, scenarios, base_result=base, options=options)
        dt = time.perf_counter() - t0
    rec = res.records
    return {"scenarios": len(scenarios), "records": len(rec), "seconds": dt, "per_s": len(scenarios) / dt,
            "errors": int((rec["error"] != "").sum()), "curtailed": int(rec["curtailed"].sum()),
            "unserved_any": int((rec["unserved_kg_s"] > 1e-6).sum())}


def pandapipes_loop(eq: Any, scenarios: list[Scenario]) -> dict[str, Any]:
    from _pandapipes_net import run_pipeflow

    pp = eq.net
    tables = [t for t in ("pipe", "valve") if t in pp and len(pp[t])]
    where: dict[str, tuple[str, int]] = {}
    for t in tables:
        for idx, name in pp[t]["name"].items():
            where[str(name)] = (t, int(idx))
    run_pipeflow(eq)  # warm-up (and the base state pandapipes starts from)
    converged = failed = skipped = 0
    t0 = time.perf_counter()
    for s in scenarios:
        hit = where.get(s.element)
        if hit is None:
            skipped += 1  # element not in the pandapipes net (closed / passive-dropped): nothing to take out
            continue
        t, i = hit
        pp[t].at[i, "in_service"] = False
        try:
            out = run_pipeflow(eq)
        except Exception:  # a failed pandapipes run still counts as a scenario
            out = {"converged": False}
        finally:
            pp[t].at[i, "in_service"] = True
        converged += bool(out["converged"])
        failed += not out["converged"]
    dt = time.perf_counter() - t0
    n = converged + failed
    return {"scenarios": n, "skipped": skipped, "converged": converged, "failed": failed, "seconds": dt,
            "per_s": n / dt if dt > 0 else float("nan")}


def dask_scaling(n_scenarios: int) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    c = load_case("gaslib-4197").compile()
    base = solve_steady(c)
    scen = n_minus_1_scenarios(c, kinds=("pipe",))
    step = max(1, len(scen) // n_scenarios)
    scen = scen[::step][:n_scenarios]
    out: dict[str, Any] = {"scenarios": len(scen)}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
                Client(lc) as client:
            client.wait_for_workers(workers, timeout=120)
            client.run(solve_steady, c)  # import and warm every worker (numba-free, but scipy/pandas imports)
            t0 = time.perf_counter()
            res = run_sweep(c, scen, executor="dask", client=client, base_result=base,
                            chunk_size=max(1, len(scen) // (8 * workers)))
            dt = time.perf_counter() - t0
        out[f"workers_{workers}"] = {"seconds": dt, "per_s": len(scen) / dt, "records": len(res.records),
                                     "errors": int((res.records["error"] != "").sum())}
    out["speedup"] = out["workers_1"]["seconds"] / out["workers_2"]["seconds"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a subset of outages (smoke run)")
    ap.add_argument("--skip-pandapipes", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--skip-582", action="store_true", help="only the Dask scaling run")
    ap.add_argument("--skip-4197", action="store_true", help="no GasLib-4197 scaling run")
    ap.add_argument("--n4197", type=int, default=400, help="pipe outages in the GasLib-4197 scaling run")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    args = ap.parse_args()
    report: dict[str, Any] = {"cpu_count": os.cpu_count(), "loadavg_start": os.getloadavg()}

    net = load_case("gaslib-582", scale=0.9)
    scen = n_minus_1_scenarios(net.compile(), kinds=ALL_ARCS)
    if args.quick:
        scen = scen[:: max(1, len(scen) // 40)]
    if not args.skip_582:
        report["gasgrid_582_case"] = gasgrid_sweep(net, scen)
        print("gasgrid, GasLib-582 as bundled:", report["gasgrid_582_case"], flush=True)
    if not args.skip_pandapipes and not args.skip_582:
        from _pandapipes_net import matched_pair

        copy, eq = matched_pair(net)
        c2 = copy.compile()
        scen2 = [s for s in scen if c2.arc_active[c2.arc_index(s.element)]]
        report["gasgrid_582_matched"] = gasgrid_sweep(copy, scen2)
        print("gasgrid, GasLib-582 passive ideal copy (with curtailment):", report["gasgrid_582_matched"], flush=True)
        report["gasgrid_582_matched_hydraulic"] = gasgrid_sweep(copy, scen2, curtail=False)
        print("gasgrid, same copy, hydraulics only (the pandapipes loop's work):",
              report["gasgrid_582_matched_hydraulic"], flush=True)
        report["pandapipes_582_matched"] = pandapipes_loop(eq, scen2)
        print("pandapipes loop, same copy:", report["pandapipes_582_matched"], flush=True)
        pp_rate = report["pandapipes_582_matched"]["per_s"]
        if not args.skip_dask:
            report["gasgrid_582_matched_dask2"] = gasgrid_sweep(copy, scen2, workers=2)
            print("gasgrid on 2 Dask workers, same copy:", report["gasgrid_582_matched_dask2"], flush=True)
            report["gasgrid_582_matched_hydraulic_dask2"] = gasgrid_sweep(copy, scen2, workers=2, curtail=False)
            print("gasgrid on 2 Dask workers, hydraulics only:", report["gasgrid_582_matched_hydraulic_dask2"],
                  flush=True)
            report["ratio_dask2_vs_pandapipes"] = report["gasgrid_582_matched_dask2"]["per_s"] / pp_rate
            report["ratio_hydraulic_dask2_vs_pandapipes"] = (
                report["gasgrid_582_matched_hydraulic_dask2"]["per_s"] / pp_rate)
        report["ratio_vs_pandapipes"] = report["gasgrid_582_matched"]["per_s"] / pp_rate
        report["ratio_hydraulic_vs_pandapipes"] = report["gasgrid_582_matched_hydraulic"]["per_s"] / pp_rate
        report["ratio_case_vs_pandapipes"] = report["gasgrid_582_case"]["per_s"] / pp_rate
        print(f"throughput ratio gasgrid/pandapipes (serial): {report['ratio_hydraulic_vs_pandapipes']:.1f}x "
              f"hydraulics only (same work), {report['ratio_vs_pandapipes']:.1f}x with curtailment, "
              f"{report['ratio_case_vs_pandapipes']:.1f}x (bundled case with controllers vs pandapipes)", flush=True)
    if not args.skip_dask and not args.skip_4197:
        report["dask_4197"] = dask_scaling(60 if args.quick else args.n4197)
        print("Dask, GasLib-4197:", report["dask_4197"], flush=True)
    report["loadavg_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float))
    print(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
