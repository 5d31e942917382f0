"""Transient scenarios from the command line: event specs, outputs, exit codes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gasgrid.cli import EXIT_OK, app
from gasgrid.errors import InputError
from gasgrid.transient import StationTrip, SupplyCut, ValveClose, ValveOpen
from gasgrid.transient.scenario import parse_event, parse_time

runner = CliRunner()


def test_parse_time_and_events() -> None:
    assert parse_time("2h") == 7200.0 and parse_time("30min") == 1800.0 and parse_time("90") == 90.0
    assert parse_time("1.5d") == 1.5 * 86400
    with pytest.raises(InputError, match="cannot read time"):
        parse_time("soon")
    cut = parse_event("supply-cut border 0h 24h")
    assert cut == [ValveClose(0.0, "border-valve"), ValveOpen(86400.0, "border-valve")]
    (sc,) = parse_event("supply-cut kovykta 1h")
    assert isinstance(sc, SupplyCut) and sc.t_s == 3600.0 and math.isinf(sc.until_s)
    assert isinstance(parse_event("station-trip cs_heihe 2h")[0], StationTrip)
    with pytest.raises(InputError, match="unknown event kind"):
        parse_event("explode cs_heihe 2h")
    with pytest.raises(InputError, match="KIND ELEMENT START"):
        parse_event("supply-cut")


def test_transient_command_on_a_gaslib_case(tmp_path: Path) -> None:
    out = tmp_path / "tr"
    r = runner.invoke(app, ["transient", "gaslib-11", "--hours", "2", "--dt", "120", "--dx-km", "5",
                            "--event", "demand-step exit01 0.5h 10", "--out", str(out)])
    assert r.exit_code == EXIT_OK, r.output
    assert "survival" in r.output and "line pack" in r.output
    for name in ("transient.nc", "transient.parquet", "survival.csv", "report.html"):
        assert (out / name).exists(), name
    r = runner.invoke(app, ["transient", "gaslib-11", "--event", "station-trip nosuch 1h", "--out", str(out)])
    assert r.exit_code == 6
