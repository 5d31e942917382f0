"""GeoJSON export: RFC 7946 structure, attributes, joined results, coordinate checks; and conversion to it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import gasgrid as gg
from gasgrid.components import ARC_KINDS, KINDS
from gasgrid.errors import InputError
from gasgrid.io.convert import convert
from gasgrid.io.geojson import to_geojson, write_geojson
from gasgrid.io.matgas import read_matgas

DATA = Path(__file__).parent / "data"


def small() -> gg.Network:
    net = gg.Network("geo", crs="EPSG:4326")
    net.add_node("a", x=127.5, y=50.25, p_max_bar=98.0, name="Blagoveshchensk")
    net.add_node("b", x=126.6, y=45.75)
    net.add_node("c")  # no coordinates
    net.add_pipe("p", "a", "b", length_km=530.0, diameter_mm=1371.6)
    net.add_compressor("k", "b", "c", mode="bypass")
    net.add_supply("s", "a", p_set_bar=98.0)
    net.add_demand("d", "b", flow_kg_s=100.0)
    return net


def check_rfc7946(doc: dict[str, Any]) -> None:
    """The structural rules of RFC 7946 that apply to what we write."""
    assert doc["type"] == "FeatureCollection" and isinstance(doc["features"], list)
    assert "crs" not in doc  # removed in RFC 7946
    for f in doc["features"]:
        assert f["type"] == "Feature" and set(f) >= {"geometry", "properties"}
        assert isinstance(f["id"], (str, int)) and isinstance(f["properties"], dict)
        g = f["geometry"]
        if g is None:
            continue
        if g["type"] == "Point":
            positions = [g["coordinates"]]
        else:
            assert g["type"] == "LineString" and len(g["coordinates"]) >= 2
            positions = g["coordinates"]
        for lon, lat in positions:
            assert -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
    if "bbox" in doc:
        w, s, e, n = doc["bbox"]
        assert w <= e and s <= n
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN/Infinity


def test_structure_and_attributes() -> None:
    doc = to_geojson(small())
    check_rfc7946(doc)
    by_id = {f["id"]: f for f in doc["features"]}
    assert set(by_id) == {"a", "b", "c", "p", "k"}
    a = by_id["a"]
    assert a["geometry"] == {"type": "Point", "coordinates": [127.5, 50.25]}
    assert a["properties"]["kind"] == "node" and a["properties"]["name"] == "Blagoveshchensk"
    assert set(KINDS["node"].names) <= set(a["properties"])
    assert by_id["c"]["geometry"] is None
    p = by_id["p"]
    assert p["geometry"] == {"type": "LineString", "coordinates": [[127.5, 50.25], [126.6, 45.75]]}
    assert p["properties"]["length_km"] == 530.0 and p["properties"]["p_max_bar"] is None  # inf -> null
    assert by_id["k"]["geometry"] is None and by_id["k"]["properties"]["kind"] == "compressor"
    assert doc["bbox"] == [126.6, 45.75, 127.5, 50.25]


def test_results_are_joined_by_id(tmp_path: Path) -> None:
    nodes = pd.DataFrame({"p_bar": [98.0, 80.5], "name": ["x", "y"]}, index=["a", "b"])
    arcs = pd.DataFrame({"q_kg_s": [100.0, math.nan]}, index=["p", "k"])
    path = write_geojson(small(), tmp_path / "out.geojson", node_results=nodes, arc_results=arcs)
    doc = json.loads(path.read_text(encoding="utf-8"))
    check_rfc7946(doc)
    by_id = {f["id"]: f["properties"] for f in doc["features"]}
    assert by_id["b"]["p_bar"] == 80.5 and by_id["b"]["result_name"] == "y" and by_id["b"]["name"] is None
    assert by_id["p"]["q_kg_s"] == 100.0 and by_id["k"]["q_kg_s"] is None
    assert "p_bar" not in by_id["c"]


def test_projected_network_is_refused_unless_allowed() -> None:
    net = small()
    net.crs = None
    with pytest.raises(InputError, match=r"RFC 7946.*crs is None"):
        to_geojson(net)
    assert to_geojson(net, allow_projected=True)["features"]


def test_out_of_range_degrees() -> None:
    net = small()
    net.table("node").loc["b", "y"] = 145.0
    with pytest.raises(InputError, match=r"node 'b'.*not a longitude/latitude"):
        to_geojson(net)


def test_bad_results_argument() -> None:
    with pytest.raises(InputError, match="node_results must be a pandas DataFrame"):
        to_geojson(small(), node_results={"a": 1})  # type: ignore[arg-type]
    dup = pd.DataFrame({"p_bar": [1.0, 2.0]}, index=["a", "a"])
    with pytest.raises(InputError, match="duplicate ids"):
        to_geojson(small(), node_results=dup)


def test_matgas_case_to_geojson_with_convert(tmp_path: Path) -> None:
    out = convert(DATA / "gasmodels" / "gaslib-40-E.m", tmp_path / "g40.geojson")
    doc = json.loads(out.read_text(encoding="utf-8"))
    check_rfc7946(doc)
    net = read_matgas(DATA / "gasmodels" / "gaslib-40-E.m")
    n_arcs = sum(len(net.table(k)) for k in ARC_KINDS)
    assert len(doc["features"]) == len(net.nodes) + n_arcs
    assert all(f["geometry"] is not None for f in doc["features"])


def test_steady_result_is_joined(tmp_path: Path) -> None:
    import gasgrid.steady as steady
    net = read_matgas(DATA / "gasmodels" / "case-6.m")
    net.table("demand").loc["transfer_1", "flow_kg_s"] = 10.0
    result = steady.solve_steady(net)
    doc = json.loads(write_geojson(net, tmp_path / "c6.geojson", results=result).read_text(encoding="utf-8"))
    check_rfc7946(doc)
    by_id = {f["id"]: f["properties"] for f in doc["features"]}
    assert by_id["2"]["p_bar"] == pytest.approx(float(result.nodes.loc["2", "p_bar"]))
    assert by_id["pipe_1"]["q_kg_s"] == pytest.approx(10.0)
