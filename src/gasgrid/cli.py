"""Command-line interface (typer + rich). The library never configures logging; the CLI does.

Exit codes (all commands that solve):
  0  solved within all bounds
  3  solved, but with bound violations (listed)
  4  infeasible: no physical state (pressure would collapse; where is named)
  5  the solver did not converge
  6  input or topology error (bad file, bad option, island without reference...)
  2  command-line usage error (typer)
"""

from __future__ import annotations

import logging
import math
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gasgrid.errors import GasgridError

EXIT_OK, EXIT_VIOLATIONS, EXIT_INFEASIBLE, EXIT_NOT_CONVERGED, EXIT_INPUT = 0, 3, 4, 5, 6
EXIT_HELP = """Exit status: 0 solved within bounds; 3 solved with bound violations; 4 infeasible (pressure would
collapse); 5 not converged; 6 input or topology error; 2 usage error."""

app = typer.Typer(
    name="gasgrid",
    help="Simulate and stress-test natural-gas transmission networks.\n\n" + EXIT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, highlight=False)


def _exit_code(status: Any) -> int:
    return {"solved": EXIT_OK, "violations": EXIT_VIOLATIONS, "infeasible": EXIT_INFEASIBLE,
            "not_converged": EXIT_NOT_CONVERGED}[status.value]


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc}")
    return typer.Exit(EXIT_INPUT)


def parse_slack(items: list[str]) -> list[tuple[str, float]]:
    """``NODE=P_BAR`` (absolute bar) -> [(node, p_bar)]."""
    out = []
    for item in items:
        node, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out.append((node.strip(), float(value)))
        except ValueError:
            raise typer.BadParameter(f"expected NODE=P_BAR (absolute bar), got {item!r}") from None
    return out


def apply_settings(net: Any, items: list[str]) -> None:
    """Apply ``ELEMENT=MODE[:VALUE]`` overrides to compressor stations and control valves.

    Stations: discharge:P_BAR, suction:P_BAR, ratio:R, flow:KG_S, power:MW, bypass, off.
    Control valves: set_point:P_BAR, open, closed.
    """
    from gasgrid.errors import InputError

    column = {"discharge": "p_set_bar", "suction": "p_set_bar", "ratio": "ratio", "flow": "flow_set_kg_s",
              "power": "power_set_MW", "set_point": "p_set_bar"}
    for item in items:
        element, sep, spec = item.partition("=")
        mode, _, value = spec.partition(":")
        mode = mode.strip().lower()
        if not sep or not mode:
            raise InputError(f"expected ELEMENT=MODE[:VALUE], got {item!r}", field="--set")
        for kind in ("compressor", "control_valve"):
            table = net.table(kind)
            if element in table.index:
                break
        else:
            raise InputError("no compressor station or control valve with this id", element=element, field="--set")
        table.loc[element, "mode"] = mode
        if mode in column:
            try:
                table.loc[element, column[mode]] = float(value)
            except ValueError:
                raise InputError(f"mode {mode!r} needs a number, got {value!r}", kind=kind, element=element,
                                 field="--set") from None
        elif value:
            raise InputError(f"mode {mode!r} takes no value", kind=kind, element=element, field="--set")


def _load_network(network: str, scenario: Path | None, slack: list[tuple[str, float]], scale: float) -> Any:
    from gasgrid.cases import list_cases, load_case

    path = Path(network)
    kw: dict[str, Any] = {}
    if slack:
        kw["slack"] = slack
    if path.exists():
        from gasgrid.io.convert import read_network

        if path.suffix in (".net", ".gz") or path.name.endswith(".net.gz"):
            from gasgrid.io.gaslib import read_gaslib

            return read_gaslib(path, scenario, scale=scale, **kw) if scenario else read_gaslib(path)
        net = read_network(path)
        if scale != 1.0:
            net.demands["flow_kg_s"] *= scale
        return net
    if network.lower() in list_cases():
        if scenario is not None:
            kw["scenario"] = str(scenario)
        if network.lower().startswith("gaslib"):
            kw["scale"] = scale
        elif scale != 1.0:
            kw["demand_scale"] = scale
        return load_case(network, **kw)
    from gasgrid.errors import InputError

    raise InputError(f"{network!r} is neither a file nor a bundled case ({', '.join(list_cases())})")


def print_summary(result: Any, title: str) -> None:
    s = result.summary()
    colour = {"solved": "green", "violations": "yellow", "infeasible": "red", "not_converged": "red"}[s["status"]]
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_row("status", f"[bold {colour}]{s['status']}[/]")
    t.add_row("message", result.message)
    t.add_row("Newton iterations", f"{result.iterations} (control passes {result.control_iterations})")
    if "p_min_bar" in s:
        t.add_row("lowest pressure", f"{s['p_min_bar']:.3f} bar at {s['p_min_node']}")
        t.add_row("highest pressure", f"{s['p_max_bar']:.3f} bar at {s['p_max_node']}")
    t.add_row("total supply", f"{s['supply_kg_s']:.4f} kg/s")
    t.add_row("total demand", f"{s['demand_kg_s']:.4f} kg/s")
    t.add_row("mass-balance error", f"{s['mass_balance_error']:.2e} (relative)")
    t.add_row("line pack", f"{s['linepack_kg'] / 1e6:.3f} kt")
    t.add_row("bound violations", str(s["violations"]))
    console.print(t)
    if len(result.violations):
        print_summary_violations(result, limit=15)
    if len(result.collapse):
        console.print(f"[red]pressure collapses at {len(result.collapse)} node(s); worst: "
                      f"{result.collapse.index[0]}[/]")
    print_stations(result)


def print_stations(result: Any) -> None:
    cs = result.compressors
    if cs is None or cs.empty:
        return
    t = Table(title="compressor stations", title_justify="left")
    cols = [("mode", "active_mode", "{}"), ("limit", "binding_limit", "{}"), ("p_suc bar", "p_suction_bar", "{:.2f}"),
            ("p_dis bar", "p_discharge_bar", "{:.2f}"), ("ratio", "ratio", "{:.3f}"), ("flow kg/s", "flow_kg_s", "{:.2f}"),
            ("power MW", "power_shaft_MW", "{:.2f}"), ("fuel kg/s", "fuel_kg_s", "{:.3f}")]
    t.add_column("station")
    for head, _, _ in cols:
        t.add_column(head)
    for sid, row in cs.iterrows():
        cells = []
        for _, col, fmt in cols:
            val = row.get(col, "")
            cells.append("" if val is None or (isinstance(val, float) and val != val) else fmt.format(val))
        t.add_row(str(sid), *cells)
    console.print(t)


@app.command()
def solve(
    network: Annotated[str, typer.Argument(help="GasLib .net file, native .gasgrid folder, or a bundled case name")],
    scenario: Annotated[Path | None, typer.Option("--scenario", "-s", help="GasLib .scn nomination")] = None,
    slack: Annotated[list[str] | None, typer.Option(help="pressure reference NODE=P_BAR (absolute), repeatable")] = None,
    scale: Annotated[float, typer.Option(help="scale all nominated flows by this factor")] = 1.0,
    set_: Annotated[list[str] | None, typer.Option("--set", help="STATION=MODE:VALUE override, repeatable")] = None,
    out: Annotated[Path | None, typer.Option(help="write node/arc results (CSV + Parquet) to this folder")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Solve the steady state of a network and print a summary.

    Exit status: 0 solved within bounds; 3 violations; 4 infeasible; 5 not converged; 6 input error.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    from gasgrid.steady import solve_steady

    try:
        net = _load_network(network, scenario, parse_slack(slack or []), scale)
        apply_settings(net, set_ or [])
        t0 = time.perf_counter()
        result = solve_steady(net)
        dt = time.perf_counter() - t0
    except GasgridError as exc:
        raise _fail(exc) from None
    print_summary(result, f"gasgrid solve {net.name}  ({dt * 1e3:.0f} ms)")
    if out is not None and result.has_state:
        from gasgrid.io.results import write_results

        write_results(result, out)
        console.print(f"results written to {out}/")
    elif out is not None:
        console.print(f"[yellow]no physical state: nothing written to {out}/ (existing output left untouched)[/]")
    raise typer.Exit(_exit_code(result.status))


@app.command()
def run(
    case: Annotated[str, typer.Option("--case", help="bundled case (see `gasgrid cases`)")] = "east-route",
    throughput: Annotated[float | None, typer.Option("--throughput", help="export throughput, bcm/yr at 20 °C")] = None,
    demand_scale: Annotated[float, typer.Option("--demand-scale", help="scale every offtake")] = 1.0,
    station_out: Annotated[list[str] | None, typer.Option("--station-out", help="station out of service (id or "
                                                          "name), repeatable")] = None,
    out: Annotated[Path, typer.Option(help="report folder (replaced as a whole when the run completes)")] = Path(
        "gasgrid-report"),
    n_1: Annotated[bool, typer.Option("--n-1", help="also rank every single outage (N-1) and add it to the report")]
    = False,
) -> None:
    """Run a bundled case (default: the East Route design day at 38 bcm/yr), print an engineer's summary and
    write report.html, CSV/Parquet results and GeoJSON to the report folder.

    Exit status: 0 within all limits; 3 limit violations; 4 infeasible; 5 not converged; 6 input error.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    from gasgrid.cases import load_case
    from gasgrid.steady import solve_steady

    timings["imports"] = time.perf_counter() - t0
    try:
        t = time.perf_counter()
        kw: dict[str, Any] = {}
        if case.startswith("east-route"):
            kw = {"demand_scale": demand_scale, "stations_out": tuple(station_out or ())}
            if throughput is not None:
                kw["throughput_bcm"] = throughput
        elif throughput is not None or station_out:
            raise typer.BadParameter("--throughput and --station-out apply to the East Route cases")
        else:
            kw = {"scale": demand_scale}
        net = load_case(case, **kw)
        timings["load"] = time.perf_counter() - t
        t = time.perf_counter()
        result = solve_steady(net)
        timings["solve"] = time.perf_counter() - t
    except GasgridError as exc:
        raise _fail(exc) from None
    sections: tuple[tuple[str, str], ...] = ()
    if n_1:
        t = time.perf_counter()
        sections = (_n1_section(net, result),)
        timings["n-1"] = time.perf_counter() - t
    t = time.perf_counter()
    _print_run_summary(result, net)
    written = _write_run_outputs(result, net, out, case, sections)
    timings["report"] = time.perf_counter() - t
    console.print(f"wrote {', '.join(written)} in {out}/")
    console.print("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    raise typer.Exit(_exit_code(result.status))


def _print_run_summary(result: Any, net: Any) -> None:
    from gasgrid.report.tables import delivered_by_group, headline, is_plant_group, station_table

    h = headline(result, net)
    colour = {"good": "green", "warn": "yellow", "bad": "red"}.get(h.tone, "white")
    console.rule(f"[bold]{net.name}[/]")
    console.print(f"[bold {colour}]VERDICT: {h.verdict}[/]")
    console.print(result.message)
    d = delivered_by_group(result, net)
    if len(d):
        t = Table(title=f"deliveries by province (bcm/yr at {h.reference})", title_justify="left")
        for col in ("province", "nominated", "delivered", "%"):
            t.add_column(col, justify="right" if col != "province" else "left")
        for grp, row in d.iterrows():
            if is_plant_group(str(grp)):
                continue
            t.add_row(str(grp), f"{row['nominated_bcm_per_year']:.2f}", f"{row['delivered_bcm_per_year']:.2f}",
                      f"{row['delivered_pct']:.0f}")
        t.add_row("[bold]total", f"[bold]{h.nominated_bcm:.2f}", f"[bold]{h.delivered_bcm:.2f}", "")
        console.print(t)
    st = station_table(result, net)
    if len(st):
        t = Table(title="compressor stations", title_justify="left")
        for col in ("station", "mode", "limit", "suction bar", "discharge bar", "ratio", "power MW", "max MW",
                    "fuel mcm/d"):
            t.add_column(col, justify="left" if col in ("station", "mode", "limit") else "right")
        for _, row in st.iterrows():
            t.add_row(str(row["station"]), str(row["active_mode"]), str(row["binding_limit"]),
                      f"{row['p_suction_bar']:.1f}", f"{row['p_discharge_bar']:.1f}", f"{row['ratio']:.3f}",
                      f"{row['power_shaft_MW']:.1f}", f"{row['power_max_MW']:.0f}", f"{row['fuel_mcm_d']:.3f}")
        console.print(t)
    if result.has_state:
        console.print(f"lowest pressure margin: {h.lowest_margin_bar:.2f} bar above minimum at {h.lowest_margin_node}; "
                      f"smallest MAOP margin: {h.maop_margin_bar:.2f} bar at {h.maop_margin_node}")
    else:
        console.print(f"[red]no physical state: the pressure collapses at {len(result.collapse)} node(s), first at "
                      f"{result.collapse.index[0] if len(result.collapse) else '?'}[/]")
    console.print(f"line pack: {h.linepack_mcm:.0f} mcm ({h.reference}); shaft power {h.power_MW:.0f} MW; "
                  f"fuel gas {h.fuel_mcm_d:.2f} mcm/d; mass-balance error {h.mass_balance_error:.1e}")
    if len(result.violations):
        print_summary_violations(result)


def print_summary_violations(result: Any, limit: int = 10) -> None:
    """The worst ``limit`` bound violations as a table (the full list is in violations.csv)."""
    v = Table(title="bound violations (worst first)", title_justify="left")
    for col in ("kind", "element", "quantity", "value", "bound", "margin", "unit"):
        v.add_column(col)
    for _, row in result.violations.head(limit).iterrows():
        v.add_row(row["kind"], row["element"], row["quantity"], f"{row['value']:.4g}", f"{row['bound']:.4g}",
                  f"{row['margin']:.4g}", row["unit"])
    if len(result.violations) > limit:
        v.caption = f"... and {len(result.violations) - limit} more (see violations.csv)"
    console.print(v)


def _n1_section(net: Any, result: Any) -> tuple[str, str]:
    """Rank every single outage (serial sweep, warm-started from ``result``) and explain it as an HTML section."""
    from gasgrid.analysis.east_route import east_route_n1_section, east_route_scenarios
    from gasgrid.analysis.scenario import n_minus_1_scenarios
    from gasgrid.analysis.sweep import run_sweep

    compiled = net.compile()
    east = str(net.meta.get("case", "")).startswith("east-route")
    scenarios = east_route_scenarios(net, compiled) if east else n_minus_1_scenarios(compiled)
    ranked = run_sweep(compiled, scenarios, executor="serial", base_result=result).ranked()
    t = Table(title=f"worst single outages (N-1, {len(ranked)} scenarios)", title_justify="left")
    for col in ("rank", "outage", "status", "unserved kg/s", "unserved %"):
        t.add_column(col)
    for _, row in ranked.head(10).iterrows():
        t.add_row(str(row["rank"]), str(row["scenario"]), str(row["status"]), f"{row['unserved_kg_s']:.1f}",
                  f"{100 * row['unserved_share']:.1f}")
    console.print(t)
    return ("N-1 contingency ranking", east_route_n1_section(ranked, net, **({} if east else {"note": ""})))


def _write_run_outputs(result: Any, net: Any, out: Path, case: str,
                       sections: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """Everything goes to a temporary sibling folder first; the old report is replaced only at the end."""
    import json

    from gasgrid.io.atomic import atomic_dir
    from gasgrid.io.results import TABLES

    written = []
    with atomic_dir(out) as tmp:
        try:
            from gasgrid.report import build_report

            build_report(result, net, tmp / "report.html", title=f"gasgrid — {case}", extra_sections=sections)
            written.append("report.html")
        except ImportError as exc:  # plotly missing: the rest is still useful
            err.print(f"[yellow]report.html not written: {exc}[/]")
        if result.has_state:
            for name in TABLES:
                frame = getattr(result, name)
                if frame is None or frame.empty:
                    continue
                frame.to_csv(tmp / f"{name}.csv")
                frame.to_parquet(tmp / f"{name}.parquet")
            written.append("results (CSV, Parquet)")
            if net.crs:
                from gasgrid.io.geojson import write_geojson

                write_geojson(net, tmp / "network.geojson", results=result)
                written.append("network.geojson")
        summary = {**result.summary(), "message": result.message}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        written.append("summary.json")
    return written


@app.command()
def transient(
    case: Annotated[str, typer.Argument(help="bundled case name or native .gasgrid folder")] = "east-route",
    events: Annotated[Path | None, typer.Option("--events", help="YAML/TOML events file")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help="'KIND ELEMENT START [END|VALUE]', e.g. "
                                                    "'supply-cut border 0h 24h'; repeatable")] = None,
    hours: Annotated[float, typer.Option(help="simulated horizon, hours")] = 24.0,
    dt: Annotated[float, typer.Option(help="time step, s")] = 300.0,
    dx_km: Annotated[float, typer.Option("--dx-km", help="cell length, km")] = 10.0,
    scheme: Annotated[str, typer.Option(help="implicit-euler or bdf2")] = "bdf2",
    save_every_min: Annotated[float, typer.Option("--save-every-min", help="output interval, minutes")] = 60.0,
    out: Annotated[Path, typer.Option(help="output folder (NetCDF, Parquet, report)")] = Path("gasgrid-transient"),
) -> None:
    """Simulate a disruption hour by hour from the steady state; report line pack and survival times.

    Exit status: 0 completed; 4 infeasible (pressure collapsed; where is named); 6 input error.
    """
    from gasgrid.transient import BDF2, BoundaryConditions, ImplicitEuler, load_events, simulate
    from gasgrid.transient.scenario import EAST_ROUTE_KEY_NODES, parse_event

    schemes = {"bdf2": BDF2, "implicit-euler": ImplicitEuler}
    try:
        if scheme not in schemes:
            raise typer.BadParameter(f"scheme must be one of {list(schemes)}")
        net = _load_network(case, None, [], 1.0)
        bc = load_events(events) if events else BoundaryConditions()
        extra = [ev for spec in (event or []) for ev in parse_event(spec)]
        if extra:
            from dataclasses import replace

            bc = replace(bc, events=(*bc.events, *extra))
        t0 = time.perf_counter()
        res = simulate(net, bc, scheme=schemes[scheme](), dt=dt, t_end=hours * 3600.0, dx=dx_km * 1e3,
                       saveat=save_every_min * 60.0, progress=sys.stdout.isatty(), throw=False)
        wall = time.perf_counter() - t0
    except GasgridError as exc:
        raise _fail(exc) from None
    ds = res.dataset
    ok = res.status.value == "success"
    reached = float(ds["time"].to_numpy()[-1]) / 3600.0
    console.rule(f"[bold]{net.name}: transient, {hours:g} h[/]")
    colour = "green" if ok else "red"
    console.print(f"status: [bold {colour}]{res.status.value}[/] — {res.message}")
    console.print(f"simulated {reached:g} of {hours:g} h in {wall:.1f} s ({reached * 3600 / max(wall, 1e-9):,.0f}x real "
                  f"time); mass-balance error {res.mass_balance_error()[1]:.1e} (relative)")
    lp = ds["linepack_kg"].to_numpy()
    console.print(f"line pack: {lp[0] / 1e6:.2f} kt at start, {lp[-1] / 1e6:.2f} kt at end "
                  f"({(lp[-1] - lp[0]) / max(lp[0], 1e-9) * 100:+.1f} %)")
    surv = res.survival_time()
    nodes_known = set(map(str, ds["node"].to_numpy()))
    groups = EAST_ROUTE_KEY_NODES if case.startswith("east-route") else {}
    t = Table(title="survival time: until a delivery point falls below its minimum pressure", title_justify="left")
    t.add_column("delivery point")
    t.add_column("survival")
    rows = [(label, min(float(surv.get(n, math.inf)) for n in members if n in nodes_known))
            for label, members in groups.items() if any(n in nodes_known for n in members)]
    if not rows:
        rows = [(str(k), float(v)) for k, v in surv.sort_values().head(8).items()]
    for label, sec in rows:
        held = f"holds for the {'whole run' if ok else f'{reached:g} h simulated'}"
        t.add_row(label, held if not math.isfinite(sec) else f"{sec / 3600:.1f} h")
    console.print(t)
    from gasgrid.io.atomic import atomic_dir

    with atomic_dir(out) as tmp:
        res.to_netcdf(tmp / "transient.nc")
        res.to_parquet(tmp / "transient.parquet")
        surv.rename("survival_s").to_frame().to_csv(tmp / "survival.csv")
        try:
            from gasgrid.report.transient import build_transient_report

            build_transient_report(res, net, tmp / "report.html", key_nodes=groups, title=f"gasgrid transient — {case}")
        except ImportError as exc:
            err.print(f"[yellow]report.html not written: {exc}[/]")
    console.print(f"wrote transient.nc, transient.parquet, survival.csv, report.html in {out}/")
    codes = {"success": EXIT_OK, "infeasible": EXIT_INFEASIBLE}
    raise typer.Exit(codes.get(res.status.value, EXIT_NOT_CONVERGED))


@app.command()
def cases() -> None:
    """List the bundled cases with a one-line description each."""
    from gasgrid.cases import list_cases

    t = Table(show_header=True)
    t.add_column("case")
    t.add_column("description")
    for name, desc in list_cases().items():
        t.add_row(name, desc)
    console.print(t)


@app.command()
def schema(kind: Annotated[str | None, typer.Argument(help="component kind; all when omitted")] = None) -> None:
    """Print the declared columns (unit, default, range) of each component kind."""
    from gasgrid.components import KINDS

    kinds = [kind] if kind else list(KINDS)
    for k in kinds:
        if k not in KINDS:
            raise _fail(ValueError(f"unknown kind {k!r}; allowed: {list(KINDS)}"))
        frame = KINDS[k].describe()
        t = Table(title=f"{k}: {KINDS[k].description}", title_justify="left")
        for col in frame.columns:
            t.add_column(col)
        for row in frame.itertuples(index=False, name=None):  # (iterrows would cast a row of text and None)
            t.add_row(*[str(v) for v in row])
        console.print(t)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="input network file or folder")],
    target: Annotated[Path, typer.Argument(help="output file or folder")],
    from_: Annotated[str | None, typer.Option("--from", help="input format (default: by extension)")] = None,
    to: Annotated[str | None, typer.Option("--to", help="output format (default: by extension)")] = None,
) -> None:
    """Convert a network between formats (native .gasgrid, GasLib .net/.scn, MATGAS .m, GeoJSON, pandapipes)."""
    from gasgrid.io.convert import convert as do_convert

    try:
        path = do_convert(source, target, from_=from_, to=to)
    except GasgridError as exc:
        raise _fail(exc) from None
    console.print(f"wrote {path}")


def _register_analysis() -> None:
    """Security-of-supply commands live with the analysis package."""
    from gasgrid.analysis import cli as analysis_cli

    app.command("contingency")(analysis_cli.contingency)
    app.command("capacity")(analysis_cli.capacity)
    app.command("n-1")(analysis_cli.n_1)


_register_analysis()


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
