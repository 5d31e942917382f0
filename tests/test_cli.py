"""The CLI: documented exit codes, outputs written atomically, README examples that actually run."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from gasgrid.cli import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, EXIT_VIOLATIONS, app

runner = CliRunner()
README = Path(__file__).resolve().parents[1] / "README.md"


def test_solve_exit_codes_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "res"
    r = runner.invoke(app, ["solve", "gaslib-582", "--scale", "0.9", "--out", str(out)])
    assert r.exit_code == EXIT_VIOLATIONS, r.output
    nodes = pd.read_parquet(out / "nodes.parquet")
    assert len(nodes) == 582 and (nodes["p_bar"] > 0).all()
    assert (out / "arcs.csv").exists() and (out / "violations.csv").exists()
    # infeasible: nothing is overwritten
    before = (out / "nodes.csv").read_bytes()
    r = runner.invoke(app, ["solve", "gaslib-582", "--slack", "source_27=50.01325", "--out", str(out)])
    assert r.exit_code == EXIT_INFEASIBLE, r.output
    assert "collapses" in r.output
    assert (out / "nodes.csv").read_bytes() == before
    r = runner.invoke(app, ["solve", "gaslib-11"])
    assert r.exit_code in (EXIT_OK, EXIT_VIOLATIONS)


def test_input_errors_exit_6(tmp_path: Path) -> None:
    bad = tmp_path / "bad.net"
    bad.write_text("<network><broken>", encoding="utf-8")
    r = runner.invoke(app, ["solve", str(bad)])
    assert r.exit_code == EXIT_INPUT and "error" in r.output
    r = runner.invoke(app, ["solve", "no-such-case"])
    assert r.exit_code == EXIT_INPUT
    r = runner.invoke(app, ["solve", "gaslib-40", "--set", "nonexistent=discharge:70"])
    assert r.exit_code == EXIT_INPUT


def test_set_overrides_a_station() -> None:
    r = runner.invoke(app, ["solve", "gaslib-11", "--set", "CS02_N04_N05=ratio:1.2"])
    assert r.exit_code in (EXIT_OK, EXIT_VIOLATIONS), r.output
    assert "compressor stations" in r.output


def test_cases_and_schema() -> None:
    r = runner.invoke(app, ["cases"])
    assert r.exit_code == 0 and "east-route" in r.output and "gaslib-582" in r.output
    r = runner.invoke(app, ["schema", "pipe"])
    assert r.exit_code == 0 and "length_km" in r.output


def test_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "gasgrid-report"
    r = runner.invoke(app, ["run", "--out", str(out)])
    assert r.exit_code == EXIT_OK, r.output
    assert "DELIVERABLE" in r.output and "Jiangsu" in r.output
    for name in ("report.html", "nodes.parquet", "compressors.csv", "network.geojson", "summary.json"):
        assert (out / name).exists(), name
    r = runner.invoke(app, ["run", "--throughput", "44", "--out", str(tmp_path / "r44")])
    assert r.exit_code == EXIT_INFEASIBLE or r.exit_code == EXIT_VIOLATIONS
    assert "NOT DELIVERABLE" in r.output or "VIOLATION" in r.output


def test_readme_python_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_readme_cli_examples_parse() -> None:
    text = README.read_text(encoding="utf-8")
    commands = [line.split("#")[0].split() for line in re.findall(r"^gasgrid .*$", text, flags=re.M)]
    assert commands
    for cmd in commands:
        if cmd[1] in ("solve", "convert") and any("path/to" in c or c.endswith((".net", ".gasgrid")) for c in cmd):
            continue  # placeholders for the user's own files
        r = runner.invoke(app, [*cmd[1:2], "--help"])
        assert r.exit_code == 0, cmd
