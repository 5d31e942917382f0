"""Benchmark (not a test): a long transmission line of ~8000 km, dx = 1 km, dt = 60 s, 7 simulated days.

The line has 50 sections of 160 km (DN1400, Colebrook friction, Papay Z), a compressor station with discharge
pressure control at the start of every section after the first, an offtake at every station with a daily swing,
and a pressure supply at the head. Reported: speed-up over real time, and where the wall time goes.

Run: .venv/bin/python benchmarks/bench_transient.py [--days 7] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
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
    """The ~8000 km line and its 7-day demand swing."""
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--dt", type=float, default=60.0)
    ap.add_argument("--dx", type=float, default=1000.0)
    ap.add_argument("--scheme", choices=["implicit_euler", "bdf2"], default="implicit_euler")
    ap.add_argument("--no-inertia", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--tol", type=float, default=1e-8, help="Newton tolerance (scaled update)")
    args = ap.parse_args()
    net, bc = long_line()
    scheme = ImplicitEuler() if args.scheme == "implicit_euler" else BDF2()
    opts = TransientOptions(inertia=not args.no_inertia, newton=NewtonOptions(tol=args.tol))
    t_end = args.days * DAY
    prof = cProfile.Profile() if args.profile else None
    t0 = time.perf_counter()
    c0 = time.process_time()
    if prof:
        prof.enable()
    res = simulate(net, bc, scheme=scheme, dt=args.dt, t_end=t_end, dx=args.dx, saveat=3600.0, options=opts)
    if prof:
        prof.disable()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    s = res.stats
    abs_err, rel_err = res.mass_balance_error()
    print(f"line {SECTIONS * SECTION_KM:.0f} km, {s['n_cells']} cells, {s['n_unknowns']} unknowns, nnz {s['nnz']}")
    print(f"{args.scheme}, dt {args.dt:g} s, {args.days:g} days: {s['steps']} steps, "
          f"{s['newton_iterations']} Newton iterations, {s['factorizations']} LU factorisations")
    print(f"wall {wall:.2f} s (setup incl. steady initial state {s['setup_s']:.2f} s); "
          f"speed-up over real time {t_end / wall:,.0f}x (stepping only: {t_end / (wall - s['setup_s']):,.0f}x)")
    print(f"CPU time {cpu:.2f} s (BLAS threads may add to it); speed-up over real time by CPU time {t_end / cpu:,.0f}x")
    print(f"per step {(wall - s['setup_s']) / s['steps'] * 1e3:.2f} ms; mass balance error {abs_err:.3g} kg "
          f"({rel_err:.2g} of throughput)")
    lp = res.dataset["linepack_kg"].to_numpy()
    print(f"line pack {lp[0] / 1e6:.1f} -> {lp[-1] / 1e6:.1f} kt; "
          f"min node pressure {res.dataset['p_Pa'].min().item() / 1e5:.1f} bar")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
