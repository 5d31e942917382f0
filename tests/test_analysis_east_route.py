"""East Route N-1: the Amur crossing and stations in the ranking, the report section, and the CLI commands."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from gasgrid.analysis.cli import capacity, contingency, n_1
from gasgrid.analysis.contingency import rank_outages
from gasgrid.analysis.east_route import amur_crossing, east_route_n1_section, east_route_scenarios
from gasgrid.analysis.sweep import run_sweep
from gasgrid.cases import load_case


@pytest.fixture(scope="module")
def east_route():  # type: ignore[no-untyped-def]
    return load_case("east-route")


def test_amur_crossing_is_found_and_ranked(east_route) -> None:  # type: ignore[no-untyped-def]
    crossing = amur_crossing(east_route)
    assert crossing == ["X-AMUR-1", "X-AMUR-2"]
    c = east_route.compile()
    scen = {s.name: s for s in east_route_scenarios(east_route, c)}
    assert "common:amur-crossing" in scen and "compressor:cs_skovorodinskaya" in scen
    pick = [scen[n] for n in ("pipe:X-AMUR-1", "common:amur-crossing", "compressor:cs_skovorodinskaya")]
    res = run_sweep(c, pick)
    ranked = rank_outages(res.records)
    assert (ranked["error"] == "").all()
    top = ranked.iloc[0]
    # losing both strings cuts China off: every Chinese offtake is unserved (islanded)
    assert top["scenario"] == "common:amur-crossing"
    assert top["islanded_kg_s"] > 0.5 * top["unserved_kg_s"] > 0
    one = ranked.set_index("scenario").loc["pipe:X-AMUR-1"]
    assert one["unserved_kg_s"] < top["unserved_kg_s"]
    html = east_route_n1_section(ranked, east_route)
    assert "<table" in html and "common:amur-crossing" in html and "How the ranking is read" in html


def test_cli_commands(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("contingency")(contingency)
    app.command("capacity")(capacity)
    app.command("n-1")(n_1)
    runner = CliRunner()
    r = runner.invoke(app, ["n-1", "east-route"])
    assert r.exit_code == 0, r.output
    assert "N-1 =" in r.output and "kovykta" in r.output
    r = runner.invoke(app, ["capacity", "gaslib-11", "--tol", "0.02"])
    assert r.exit_code == 0, r.output
    assert "binding:" in r.output
    out = tmp_path / "n1"
    r = runner.invoke(app, ["contingency", "gaslib-11", "--workers", "0", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "ranking.csv").exists() and (out / "n1_section.html").exists()
    assert not list(out.glob("*.tmp"))  # written through temporary files, none left behind
    # hydraulics only (what a pandapipes loop does): same scenarios, nothing curtailed
    out2 = tmp_path / "n1-hydraulic"
    r = runner.invoke(app, ["contingency", "gaslib-11", "--workers", "0", "--no-curtail", "--out", str(out2)])
    assert r.exit_code == 0, r.output
    full, hyd = pd.read_csv(out / "ranking.csv"), pd.read_csv(out2 / "ranking.csv")
    assert sorted(full["scenario"]) == sorted(hyd["scenario"])
    assert not hyd["curtailed"].any()
    r = runner.invoke(app, ["n-1", "no-such-case"])
    assert r.exit_code == 6
