"""Benchmark (not a test): transient simulation speed against real time.

Cases:

* ``east-route``: the bundled East Route case itself (all sections, its stations with limits and fuel), dx = 1 km,
  dt = 60 s, implicit Euler, 7 simulated days from its steady design day, hourly output. Issue 5's target: at least
  100,000x real time, i.e. 7 days in at most ~6.05 s.
* ``line``: a synthetic ~8000 km line of 50 sections of 160 km (DN1400, Colebrook friction, Papay Z), a compressor
  station with discharge pressure control at the start of every section after the first, an offtake at every
  station with a daily swing of +-15 %, a pressure supply at the head.

Each run reports the wall time of ``simulate`` (split into setup incl. the steady initial state, stepping and the
output Dataset), the real-time factor and the solver counts. Runs repeat in one process (the first pays numba's
cache loading and the first use of xarray: "cold"); ``--fresh N`` starts N new processes instead. The machine is
shared: quote the best and the median of several runs.

Run: .venv/bin/python benchmarks/bench_transient.py [--case east-route|line|both] [--runs 3] [--fresh N]
     [--days 7] [--dt 60] [--dx 1000] [--scheme implicit_euler|bdf2] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import subprocess
import sys
import time

import numpy as np

from gasgrid import EOS, Gas, Network
from gasgrid.transient import (
    BDF2,
    BoundaryConditions,
    ImplicitEuler,
    NewtonOptions,
    TimeSeries,
    TransientOptions,
    simulate,
)

SECTIONS = 50
SECTION_KM = 160.0
DAY = 86_400.0


def long_line() -> tuple[Network, BoundaryConditions]:
    """The ~8000 km line and its demand swing (8 days of hourly values)."""
    net = Network("long-line", gas=Gas(eos=EOS.PAPAY), temperature_K=288.15)
    net.add_node("n0")
    net.add_supply("head", "n0", mode="pressure", p_set_bar=100.0)
    total = 880.0  # kg/s entering the line
    off = total * 0.6 / SECTIONS  # offtake per station, kg/s
    t = np.arange(0.0, 8 * DAY + 1, 3600.0)
    series = {}
    for k in range(SECTIONS):
        a, b = f"n{k}" if k == 0 else f"d{k}", f"u{k + 1}"
        net.add_node(b)
        net.add_pipe(f"p{k + 1}", a, b, length_km=SECTION_KM, diameter_mm=1400.0, friction="colebrook",
                     roughness_mm=0.012)
        if k + 1 < SECTIONS:
            net.add_node(f"d{k + 1}")
            net.add_compressor(f"cs{k + 1}", b, f"d{k + 1}", mode="discharge", p_set_bar=100.0)
        net.add_demand(f"o{k + 1}", b, flow_kg_s=off if k + 1 < SECTIONS else total * 0.4 + off)
        base = off if k + 1 < SECTIONS else total * 0.4 + off
        series[f"o{k + 1}"] = TimeSeries(t, base * (1.0 + 0.15 * np.sin(2 * np.pi * t / DAY)))
    return net, BoundaryConditions(demand_flow_kg_s=series)


def east_route() -> tuple[Network, BoundaryConditions]:
    """The bundled East Route case with its own (design-day) inputs."""
    from gasgrid.cases.east_route import load_east_route

    return load_east_route(), BoundaryConditions()


CASES = {"east-route": east_route, "line": long_line}


def run_once(case: str, args: argparse.Namespace, profile: bool = False) -> dict:
    """One simulate() call: timings [s], real-time factor, counts; with ``profile`` the cProfile top list."""
    net, bc = CASES[case]()
    scheme = ImplicitEuler() if args.scheme == "implicit_euler" else BDF2()
    newton = NewtonOptions(tol=args.tol) if args.tol else NewtonOptions()
    if case == "line" and not args.tol:
        newton = NewtonOptions(tol=1e-8)  # the line's figures in the README were taken with this tolerance
    opts = TransientOptions(inertia=not args.no_inertia, newton=newton)
    t_end = args.days * DAY
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    res = simulate(net, bc, scheme=scheme, dt=args.dt, t_end=t_end, dx=args.dx, saveat=3600.0, options=opts)
    if prof:
        prof.disable()
    wall = time.perf_counter() - t0
    s = res.stats
    out = {
        "case": case, "wall_s": wall, "setup_s": s["setup_s"], "stepping_s": s["wall_s"] - s["setup_s"],
        "output_s": wall - s["wall_s"], "steps": s["steps"], "us_per_step": (s["wall_s"] - s["setup_s"]) / s["steps"] * 1e6,
        "realtime_factor": t_end / wall, "newton_iterations": s["newton_iterations"],
        "factorizations": s["factorizations"], "fast_steps": s.get("fast_steps", 0), "n_unknowns": s["n_unknowns"],
        "n_cells": s["n_cells"], "mass_balance_rel": res.mass_balance_error()[1], "status": res.status.value,
    }
    if prof:
        st = pstats.Stats(prof)
        st.sort_stats("tottime")
        rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:25]  # type: ignore[attr-defined]
        out["profile"] = [(f"{fn[0].split('/')[-1]}:{fn[2]}", cc, tt, ct) for fn, (cc, _, tt, ct, _) in rows]
    return out


def describe(r: dict) -> str:
    return (f"{r['case']}: wall {r['wall_s']:.2f} s = setup {r['setup_s']:.2f} + stepping {r['stepping_s']:.2f} "
            f"({r['us_per_step']:.0f} us/step, {r['steps']} steps) + output {r['output_s']:.2f}; "
            f"{r['realtime_factor']:,.0f}x real time; {r['newton_iterations']} Newton iterations, "
            f"{r['factorizations']} factorisations, {r['fast_steps']} compiled steps; mass balance "
            f"{r['mass_balance_rel']:.1e} (relative); {r['status']}")


def summary(case: str, runs: list[dict], label: str) -> None:
    walls = [r["wall_s"] for r in runs]
    best, med = min(walls), statistics.median(walls)
    t_sim = runs[0]["realtime_factor"] * runs[0]["wall_s"]  # simulated seconds
    print(f"  {case} {label}: best {best:.2f} s ({t_sim / best:,.0f}x), median {med:.2f} s ({t_sim / med:,.0f}x) "
          f"over {len(walls)} runs")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", choices=["east-route", "line", "both"], default="both")
    ap.add_argument("--runs", type=int, default=3, help="runs per case in this process (the first is cold)")
    ap.add_argument("--fresh", type=int, default=0, help="instead: N runs per case, each in a new process")
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--dt", type=float, default=60.0)
    ap.add_argument("--dx", type=float, default=1000.0)
    ap.add_argument("--scheme", choices=["implicit_euler", "bdf2"], default="implicit_euler")
    ap.add_argument("--no-inertia", action="store_true")
    ap.add_argument("--tol", type=float, default=0.0, help="Newton tolerance (default: the library's; line 1e-8)")
    ap.add_argument("--profile", action="store_true", help="also profile one (warm) run per case")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one run, result as JSON (for --fresh)
    args = ap.parse_args()
    cases = ["east-route", "line"] if args.case == "both" else [args.case]
    if args.json:
        print(json.dumps(run_once(cases[0], args)))
        return
    for case in cases:
        if args.fresh:
            runs = []
            for _ in range(args.fresh):
                cmd = [sys.executable, __file__, "--json", "--case", case, "--days", str(args.days), "--dt",
                       str(args.dt), "--dx", str(args.dx), "--scheme", args.scheme, "--tol", str(args.tol)]
                if args.no_inertia:
                    cmd.append("--no-inertia")
                r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
                print("fresh process, " + describe(r), flush=True)
                runs.append(r)
            summary(case, runs, "fresh processes")
            continue
        runs = []
        for k in range(args.runs):
            r = run_once(case, args)
            print(("cold, " if k == 0 else "warm, ") + describe(r), flush=True)
            runs.append(r)
        if len(runs) > 1:
            summary(case, runs[1:], "warm")
        summary(case, runs[:1], "cold")
        if args.profile:
            r = run_once(case, args, profile=True)
            print(f"profile of one warm {case} run (cProfile inflates Python-level costs), top functions by own time:")
            print(f"  {'function':45s} {'calls':>8s} {'own s':>8s} {'cum s':>8s}")
            for name, cc, tt, ct in r["profile"]:
                print(f"  {name:45s} {cc:8d} {tt:8.3f} {ct:8.3f}")


if __name__ == "__main__":
    main()
