"""Command functions for ``gasgrid contingency``, ``gasgrid capacity`` and ``gasgrid n-1`` (typer-annotated;
registered on the main app in :mod:`gasgrid.cli`). The library never configures logging; the CLI does.

Exit status: 0 done; 3 some scenarios could not be evaluated (listed with their error) / the capacity
search found no limit; 6 input or topology error; 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gasgrid.errors import GasgridError

EXIT_OK, EXIT_PARTIAL, EXIT_INPUT = 0, 3, 6
console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, highlight=False)


def _load(case: str, scale: float) -> Any:
    """A bundled case by name (``scale`` scales its demand), or a file/folder the main CLI can read."""
    from gasgrid.cases import list_cases, load_case

    key = case.strip().lower()
    if key in list_cases():
        if key.startswith("east-route"):
            return load_case(key, demand_scale=scale)
        return load_case(key, scale=scale)
    if Path(case).exists():
        from gasgrid.cli import _load_network

        return _load_network(case, None, [], scale)
    from gasgrid.errors import InputError

    raise InputError(f"{case!r} is neither a bundled case ({', '.join(list_cases())}) nor a file")


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc}")
    return typer.Exit(EXIT_INPUT)


def _frame_table(frame: Any, title: str, floats: str = "{:,.2f}") -> Table:
    t = Table(title=title, title_justify="left")
    for c in frame.columns:
        t.add_column(str(c), justify="right" if frame[c].dtype.kind in "fiu" else "left")
    for _, row in frame.iterrows():
        t.add_row(*[floats.format(v) if isinstance(v, float) else str(v) for v in row])
    return t


def contingency(
    case: Annotated[str, typer.Argument(help="bundled case name (see `gasgrid cases`) or a network file/folder")],
    elements: Annotated[list[str] | None, typer.Option("--elements", help="element kind(s) to take out in turn: "
                                                       "pipe, compressor, control_valve, supply, valve, "
                                                       "short_pipe, resistor (repeatable)")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="restrict to these element ids (repeatable)")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="address of a running Dask scheduler")] = None,
    workers: Annotated[int, typer.Option("--workers", help="worker processes of the local Dask cluster; "
                                         "0 runs serially in this process")] = 2,
    out: Annotated[Path | None, typer.Option("--out", help="Parquet dataset folder (incremental; a rerun "
                                             "resumes where it stopped)")] = None,
    scale: Annotated[float, typer.Option("--scale", help="scale the case's demand")] = 1.0,
    top: Annotated[int, typer.Option("--top", help="rows of the ranked table")] = 15,
    curtail: Annotated[bool, typer.Option("--curtail/--no-curtail", help="least curtailment (HiGHS) for outages "
                                          "the hydraulics cannot serve; --no-curtail: hydraulics only, unserved "
                                          "demand then counts islands only")] = True,
) -> None:
    """N-1 contingency sweep: each element out in turn, ranked by unserved demand, then pressure margin.

    Exit status: 0 every scenario evaluated; 3 some failed (recorded with their error); 6 input error.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from gasgrid.analysis.contingency import ContingencyOptions
    from gasgrid.analysis.east_route import east_route_n1_section, east_route_scenarios, node_groups
    from gasgrid.analysis.scenario import n_minus_1_scenarios
    from gasgrid.analysis.sweep import run_sweep
    from gasgrid.io.atomic import atomic_path, atomic_write_text

    try:
        net = _load(case, scale)
        compiled = net.compile()
        kinds = tuple(elements) if elements else ("pipe", "compressor", "control_valve", "supply")
        if case.lower().startswith("east-route") and not elements and not only:
            scenarios = east_route_scenarios(net, compiled)
        else:
            scenarios = n_minus_1_scenarios(compiled, kinds=kinds, elements=tuple(only) if only else None)
        with Progress(TextColumn("[bold]N-1[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err, transient=True) as bar:
            task = bar.add_task(net.name, total=len(scenarios))
            result = run_sweep(
                compiled, scenarios, executor="serial" if workers == 0 and scheduler is None else "dask",
                n_workers=max(workers, 1), scheduler=scheduler, out=out, options=ContingencyOptions(curtail=curtail),
                progress=lambda done, total: bar.update(task, completed=done + len(scenarios) - total),
            )
    except GasgridError as exc:
        raise _fail(exc) from None
    ranked = result.ranked()
    show = ranked[["rank", "scenario", "status", "unserved_kg_s", "unserved_share", "p_margin_min_bar",
                   "p_margin_node", "stations_at_limit", "error"]].head(top).copy()
    show["unserved_share"] = (100 * show["unserved_share"]).map("{:.1f} %".format)
    show["error"] = show["error"].str.slice(0, 60)
    console.print(_frame_table(show, f"N-1 {net.name}: {len(ranked)} scenarios, worst first"))
    console.print(f"{result.evaluated} evaluated, {result.skipped} already in {out}, "
                  f"{result.scenarios_per_s:.1f} scenarios/s")
    groups = node_groups(net)
    if groups:
        from gasgrid.analysis.east_route import province_table

        prov = province_table(ranked[ranked["unserved_kg_s"].fillna(0) > 1e-6], groups, top)
        if len(prov):
            console.print(_frame_table(prov.reset_index(), "unserved demand per group (kg/s)"))
    if out is not None:
        section = east_route_n1_section(ranked, net, **({} if case.lower().startswith("east-route") else {"note": ""}))
        atomic_write_text(out / "n1_section.html", section)
        with atomic_path(out / "ranking.csv") as tmp:
            ranked.to_csv(tmp, index=False)
        console.print(f"ranking.csv and n1_section.html written to {out}/")
    failed = int((ranked["error"] != "").sum())
    if failed:
        err.print(f"[yellow]{failed} scenario(s) could not be evaluated; their error is in the table[/]")
    raise typer.Exit(EXIT_PARTIAL if failed else EXIT_OK)


def capacity(
    case: Annotated[str, typer.Argument(help="bundled case name or a network file/folder")],
    path: Annotated[str | None, typer.Option("--path", help="SUPPLY:DEMAND route instead of scaling every "
                                             "demand")] = None,
    tol: Annotated[float, typer.Option("--tol", help="relative bracket width of the bisection")] = 1e-3,
    scale: Annotated[float, typer.Option("--scale", help="scale the case's demand first")] = 1.0,
) -> None:
    """Largest throughput (demand scale, or extra flow on a route) with a feasible steady state, and the
    constraint that binds there.

    Exit status: 0 limit found; 3 no limit within the search range; 6 input error.
    """
    from gasgrid.analysis.capacity_search import capacity as run_capacity

    try:
        net = _load(case, scale)
        if path:
            sup, sep, dem = path.partition(":")
            if not sep:
                raise typer.BadParameter(f"expected SUPPLY:DEMAND, got {path!r}")
            res = run_capacity(net, mode="path", path=(sup, dem), tol=tol)
        else:
            res = run_capacity(net, tol=tol)
    except GasgridError as exc:
        raise _fail(exc) from None
    what = f"+{res.factor:.4g} kg/s on {path}" if path else f"demand x {res.factor:.4g}"
    console.print(f"[bold]{net.name}[/] capacity: {what} ({res.throughput_kg_s:,.2f} kg/s total withdrawal)")
    console.print(f"binding: {res.binding}")
    if res.preexisting:
        console.print(f"({len(res.preexisting)} bound violation(s) already present at zero load are not counted)")
    raise typer.Exit(EXIT_OK if res.beyond is not None else EXIT_PARTIAL)


def n_1(
    case: Annotated[str, typer.Argument(help="bundled case name or a network file/folder")],
    area: Annotated[list[str] | None, typer.Option("--area", help="a demand group (province) or node ids "
                                                   "(repeatable); default: the whole network")] = None,
    d_max: Annotated[float | None, typer.Option("--d-max", help="peak-day demand D_max, mcm/d (default: the "
                                                "case's demand in the area)")] = None,
    d_eff: Annotated[float, typer.Option("--d-eff", help="demand-side measures D_eff, mcm/d")] = 0.0,
    category: Annotated[list[str] | None, typer.Option("--category", help="SUPPLY=EP|P|S|LNG override "
                                                       "(repeatable)")] = None,
    include_out_of_service: Annotated[bool, typer.Option("--include-out-of-service", help="count supplies that "
                                                         "are out of service in the case")] = False,
) -> None:
    """EU N-1 infrastructure indicator (Reg. (EU) 2017/1938 Annex II) with every term and its source.
    Volumes in mcm/d at normal conditions (0 °C, 1.01325 bar).

    Exit status: 0 computed (pass or fail is printed); 6 input error.
    """
    from gasgrid.analysis.n1 import n_minus_1_from_network
    from gasgrid.units import Reference

    try:
        net = _load(case, 1.0)
        cats = {}
        for item in category or []:
            k, sep, v = item.partition("=")
            if not sep:
                raise typer.BadParameter(f"expected SUPPLY=CATEGORY, got {item!r}")
            cats[k] = v.upper()
        the_area: Any = None if not area else (area[0] if len(area) == 1 else area)
        rho = net.gas.reference_density(Reference.NORMAL)
        to_kg_s = 1e6 / 86_400.0 * rho
        res = n_minus_1_from_network(
            net, area=the_area, categories=cats, include_out_of_service=include_out_of_service,
            D_max_kg_s=None if d_max is None else d_max * to_kg_s, D_eff_kg_s=d_eff * to_kg_s,
        )
    except GasgridError as exc:
        raise _fail(exc) from None
    console.print(_frame_table(res.table[["term", "value", "unit", "source"]], f"N-1 {net.name}", "{:,.3f}"))
    verdict = "meets" if res.passes else "does not meet"
    console.print(f"N-1 = {res.value_percent:.1f} % (demand side {res.demand_side_percent:.1f} %): {verdict} the "
                  f"100 % standard; largest infrastructure: {res.largest_infrastructure}")
    raise typer.Exit(EXIT_OK)


__all__ = ["capacity", "contingency", "n_1"]
