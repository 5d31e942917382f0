"""GasLib export: lossless GasLib → gasgrid → GasLib → gasgrid, edits propagate, other origins are readable."""

from __future__ import annotations

import gzip
import json
from importlib.resources import files
from pathlib import Path

import pandas.testing as pdt
import pytest

from gasgrid.components import KINDS
from gasgrid.io.convert import convert, read_network
from gasgrid.io.gaslib import read_gaslib
from gasgrid.io.gaslib_export import unrepresentable, write_gaslib
from gasgrid.io.matgas import read_matgas
from gasgrid.io.native import load_network, save_network
from gasgrid.model.network import Network

GASLIB = Path(str(files("gasgrid") / "cases" / "data" / "gaslib"))
MATGAS = Path(__file__).parent / "data" / "gasmodels"
CASES = {
    "GasLib-11": ("GasLib-11.net", "GasLib-11.scn"),
    "GasLib-24": ("GasLib-24.net", "GasLib-24.scn"),
    "GasLib-40": ("GasLib-40.net", "GasLib-40.scn"),
    "GasLib-135": ("GasLib-135.net.gz", "GasLib-135.scn"),
    "GasLib-582": ("GasLib-582-v2.net.gz", "nomination_cold_5.scn"),
}


def _paths(case: str) -> tuple[Path, Path]:
    net, scn = CASES[case]
    folder = GASLIB / case
    assert (folder / net).is_file(), f"bundled GasLib case {case} missing"
    return folder / net, folder / scn


def assert_tables_equal(a: Network, b: Network) -> None:
    for kind in KINDS:
        pdt.assert_frame_equal(a.table(kind), b.table(kind), check_exact=True)
    assert a.gas == b.gas and a.temperature_K == b.temperature_K and a.crs == b.crs and a.name == b.name


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_is_lossless(tmp_path: Path, case: str) -> None:
    net_path, scn_path = _paths(case)
    first = read_gaslib(net_path, scn_path)
    # same file names in another folder: the tables' source column names the file
    out = write_gaslib(first, tmp_path / net_path.name, scn_path=tmp_path / scn_path.name)
    second = read_gaslib(out, tmp_path / scn_path.name)
    assert_tables_equal(first, second)
    assert unrepresentable(first) == []


def test_round_trip_through_the_native_format(tmp_path: Path) -> None:
    net_path, scn_path = _paths("GasLib-582")
    first = read_gaslib(net_path, scn_path)
    stored = load_network(save_network(first, tmp_path / "g582.gasgrid"))  # meta goes through JSON
    write_gaslib(stored, tmp_path / net_path.name, scn_path=tmp_path / scn_path.name)
    assert_tables_equal(first, read_gaslib(tmp_path / net_path.name, tmp_path / scn_path.name))
    assert (tmp_path / net_path.name).read_bytes()[:2] == b"\x1f\x8b"  # .gz is gzip


def test_edits_are_written(tmp_path: Path) -> None:
    net_path, scn_path = _paths("GasLib-11")
    net = read_gaslib(net_path, scn_path)
    net.table("pipe").loc["pipe01_entry01_entry03", "length_km"] = 12.5
    net.table("node").loc["N01", "p_max_bar"] = 66.0
    net.table("node").loc["N01", "name"] = "renamed"
    net.table("demand").loc["exit01", "flow_kg_s"] = 25.0
    write_gaslib(net, tmp_path / "g11.net")  # .scn next to it by default
    back = read_gaslib(tmp_path / "g11.net", tmp_path / "g11.scn")
    assert back.pipes.loc["pipe01_entry01_entry03", "length_km"] == pytest.approx(12.5, rel=1e-15)
    assert back.nodes.loc["N01", "p_max_bar"] == pytest.approx(66.0, rel=1e-15)
    assert back.nodes.loc["N01", "name"] == "renamed"
    assert back.demands.loc["exit01", "flow_kg_s"] == pytest.approx(25.0, rel=1e-12)
    assert back.demands.loc["exit02", "flow_kg_s"] == net.demands.loc["exit02", "flow_kg_s"]
    text = (tmp_path / "g11.net").read_text(encoding="utf-8")
    assert "CC BY 3.0" in text  # attribution kept for data derived from GasLib


def test_network_from_another_format(tmp_path: Path) -> None:
    net = read_matgas(MATGAS / "case-6.m")
    losses = unrepresentable(net)
    assert any("friction" in line for line in losses) and any("ids" in line for line in losses)
    write_gaslib(net, tmp_path / "case6.net")
    back = read_gaslib(tmp_path / "case6.net", tmp_path / "case6.scn")
    pdt.assert_index_equal(back.nodes.index, net.nodes.index)
    pdt.assert_frame_equal(back.pipes[["from_node", "to_node", "length_km", "diameter_mm"]],
                           net.pipes[["from_node", "to_node", "length_km", "diameter_mm"]])
    assert back.gas.molar_mass == pytest.approx(net.gas.molar_mass, rel=1e-12)
    assert list(back.supplies["node"]) == ["1"] and back.supplies.loc["1", "mode"] == "pressure"
    assert "CC BY" not in (tmp_path / "case6.net").read_text(encoding="utf-8")


def test_convert_dispatches_gaslib(tmp_path: Path) -> None:
    net_path, scn_path = _paths("GasLib-11")
    # GasLib-11.net is read with the GasLib-11.scn beside it
    out = convert(net_path, tmp_path / "g11.gasgrid")
    assert len(load_network(out).demands) == 3
    back = convert(out, tmp_path / "GasLib-11.net")
    assert (tmp_path / "GasLib-11.scn").is_file()
    again = read_network(back)
    assert_tables_equal(read_gaslib(net_path, scn_path), again)


def test_without_scenario(tmp_path: Path) -> None:
    net_path, _ = _paths("GasLib-11")
    net = read_gaslib(net_path)
    write_gaslib(net, tmp_path / "g.net.gz", scn_path=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.net.gz"]
    doc = gzip.decompress((tmp_path / "g.net.gz").read_bytes()).decode("utf-8")
    assert doc.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    back = read_gaslib(tmp_path / "g.net.gz")
    for kind in ("node", "pipe", "compressor", "valve"):  # all but the source column, which names the file
        pdt.assert_frame_equal(net.table(kind).drop(columns="source"), back.table(kind).drop(columns="source"),
                               check_exact=True)
    assert json.loads(json.dumps(unrepresentable(net))) == []


def test_check_valves_become_valves(tmp_path: Path) -> None:
    net = Network("cv")
    net.add_node("a")
    net.add_node("b")
    net.add("check_valve", "nrv", from_node="a", to_node="b")
    assert any("check valves" in line for line in unrepresentable(net))
    write_gaslib(net, tmp_path / "cv.net", scn_path=False)
    back = read_gaslib(tmp_path / "cv.net")
    assert list(back.valves.index) == ["nrv"] and back.valves.loc["nrv", "open"]
