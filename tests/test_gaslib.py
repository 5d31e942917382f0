"""GasLib reader: every bundled instance, unit conversion, nominations, slack rules, .cs data and hostile input."""

from __future__ import annotations

import gzip
import math
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gasgrid.cases.gaslib import gaslib_case_scenarios, list_gaslib_cases, load_gaslib_case
from gasgrid.errors import InputError
from gasgrid.io.gaslib import SlackRule, apply_scenario, read_gaslib
from gasgrid.io.gaslib_cs import PistonCompressor, TurboCompressor, read_gaslib_cs

DATA = Path(str(files("gasgrid.cases").joinpath("data", "gaslib")))
G11 = DATA / "GasLib-11"
REL = 1e-9  # balance tolerance of validation.md (relative)

# instance -> (nodes, sources, sinks, {kind: count}); from SOURCE.md and the files themselves
COUNTS = {
    "gaslib-11": (11, 3, 3, {"pipe": 8, "valve": 1, "compressor": 2}),
    "gaslib-24": (24, 3, 5, {"pipe": 19, "short_pipe": 1, "resistor": 1, "control_valve": 1, "compressor": 3}),
    "gaslib-40": (40, 3, 29, {"pipe": 39, "compressor": 6}),
    "gaslib-134": (134, 3, 45, {"pipe": 86, "short_pipe": 45, "control_valve": 1, "compressor": 1}),
    "gaslib-135": (135, 6, 99, {"pipe": 141, "compressor": 29}),
    "gaslib-582": (582, 31, 129, {"pipe": 278, "short_pipe": 269, "valve": 26, "control_valve": 23,
                                  "compressor": 5, "resistor": 8}),
    "gaslib-4197": (4197, 11, 1009, {"pipe": 3537, "short_pipe": 343, "valve": 426, "control_valve": 120,
                                     "compressor": 12, "resistor": 28}),
}
ARCS = {"gaslib-11": 11, "gaslib-24": 25, "gaslib-40": 45, "gaslib-134": 133, "gaslib-135": 170, "gaslib-582": 609,
        "gaslib-4197": 4466}
ARC_KINDS = ("pipe", "short_pipe", "valve", "resistor", "control_valve", "compressor")


@pytest.fixture(scope="module")
def nets() -> dict[str, object]:
    return {name: load_gaslib_case(name) for name in list_gaslib_cases()}


# --- every instance ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(COUNTS))
def test_instance_imports_compiles_and_counts_match(nets: dict, name: str) -> None:
    net = nets[name]
    n_nodes, n_src, n_sink, arcs = COUNTS[name]
    compiled = net.compile()
    assert len(compiled.node_ids) == n_nodes
    summary = net.summary()
    assert {k: summary[k] for k in ARC_KINDS if summary[k]} == arcs
    assert sum(summary[k] for k in ARC_KINDS) == ARCS[name]
    tags = [e["tag"] for e in net.meta["gaslib"]["nodes"].values()]
    assert (tags.count("source"), tags.count("sink")) == (n_src, n_sink)
    assert net.meta["gaslib"]["unmapped"] == []  # every child tag in the 7 instances has a mapping


@pytest.mark.parametrize("name,scenario", [(n, s) for n in COUNTS for s in gaslib_case_scenarios(n)])
def test_nominations_balance(name: str, scenario: str) -> None:
    net = load_gaslib_case(name, scenario)
    supplied = net.supplies["flow_kg_s"].sum()  # every supply carries its nominated flow (slack: informational)
    demanded = net.demands["flow_kg_s"].sum()
    meta = net.meta["gaslib_scenario"]
    assert_allclose(meta["imbalance_kg_s"], supplied - demanded, rtol=1e-12, atol=1e-12)
    if (name, scenario) == ("gaslib-134", "2015-02-14"):
        # upstream data: entries exceed exits by 0.037363 x 1000 m^3/h (7.9e-5 relative); kept, not corrected
        rho = net.gas.reference_density()
        assert_allclose(supplied - demanded, 0.037363 * 1000 / 3600 * rho, rtol=1e-4)
    else:
        assert abs(supplied - demanded) <= REL * demanded


def test_gaslib_4197_negative_exits_are_injections(nets: dict) -> None:
    d = nets["gaslib-4197"].demands
    assert (d["flow_kg_s"] < 0).sum() == 33
    assert len(d) == 1009


def test_read_time_gaslib_4197() -> None:
    t0 = time.perf_counter()
    load_gaslib_case("gaslib-4197")
    assert time.perf_counter() - t0 < 10.0  # coarse guard (typically ~1.1 s incl. .scn and .cs on one core)


# --- unit conversion -------------------------------------------------------------------------------------------
def test_known_values_converted_by_hand(nets: dict) -> None:
    net = nets["gaslib-11"]
    pipe = net.pipes.loc["pipe01_entry01_entry03"]
    assert (pipe.length_km, pipe.diameter_mm, pipe.roughness_mm, pipe.p_max_bar) == (55.0, 500.0, 0.1, 200.0)
    assert pipe.heat_transfer_W_m2K == 2.0
    # exit01: 100 x 1000 m^3/h at 0 °C, 1.01325 bar with normDensity 0.785 kg/m^3
    assert_allclose(net.demands.loc["exit01", "flow_kg_s"], 100.0 * 1000.0 / 3600.0 * 0.785, rtol=1e-14)
    assert_allclose(net.temperature_K, 283.15)  # gasTemperature 10 Celsius
    assert_allclose(net.gas.molar_mass, 0.0185674)  # 18.5674 kg_per_kmol
    assert_allclose(net.gas.pc, 45.9293457336e5)  # bar -> Pa
    assert_allclose(net.gas.hhv_mass, 36.4543670654e6 / 0.785)  # MJ_per_m_cube / normDensity
    cs = net.compressors.loc["CS01_entry03_N01"]
    assert (cs["mode"], cs.p_suction_min_bar, cs.p_discharge_max_bar) == ("bypass", 40.0, 70.0)
    assert_allclose(cs.flow_max_kg_s, 1100.0 / 3.6 * 0.785)
    assert bool(net.valves.loc["V01_N01_N03", "open"])


def test_metre_units_barg_and_geo_coordinates(nets: dict) -> None:
    assert nets["gaslib-24"].pipes.loc["L101", "diameter_mm"] == pytest.approx(1100.0)  # unit="m"
    assert nets["gaslib-24"].meta["gaslib"]["assumed_units"]  # heights without unit, read as metres
    net40 = nets["gaslib-40"]
    assert net40.crs == "EPSG:4326"
    assert net40.nodes.loc["source_1", "p_max_bar"] == pytest.approx(81.01325)  # 80 barg in the .scn
    assert net40.nodes.loc["source_1", "p_min_bar"] == pytest.approx(1.01325)  # 0 barg
    assert nets["gaslib-11"].crs is None


def test_unconverted_attributes_are_kept_in_meta(nets: dict) -> None:
    meta = nets["gaslib-582"].meta["gaslib"]["arcs"]
    cv = meta["controlValve_1"]
    assert cv["values"]["pressureDifferentialMax"] == ("120", "bar")
    assert cv["attrib"]["gasPreheaterExisting"] == "0"
    assert meta["compressorStation_1"]["attrib"]["fuelGasVertex"] == "innode_14"
    assert "flowMin" in meta["compressorStation_1"]["values"]
    assert len(nets["gaslib-582"].meta["gaslib_cdf"]) == 2


# --- slack rules, scale, re-application --------------------------------------------------------------------------
def _g11(**kw: object):
    return read_gaslib(G11 / "GasLib-11.net", G11 / "GasLib-11.scn", **kw)


def test_slack_largest_entry() -> None:
    s = _g11().supplies
    assert s.loc["entry01", "mode"] == "pressure" and s.loc["entry01", "p_set_bar"] == 70.0
    assert list(s.loc[["entry02", "entry03"], "mode"]) == ["flow", "flow"]
    flows = s.loc["entry02", ["flow_kg_s", "flow_min_kg_s", "flow_max_kg_s"]].to_numpy(float)
    assert_allclose(flows, 140 / 3.6 * 0.785, rtol=1e-14)


def test_slack_all_entries_and_explicit() -> None:
    s = _g11(slack=SlackRule.ALL_ENTRIES).supplies
    assert set(s["mode"]) == {"pressure"} and set(s["p_set_bar"]) == {70.0}
    net = _g11(slack=[("N01", 65.0)])
    s = net.supplies
    assert s.loc["slack_N01", "mode"] == "pressure" and s.loc["slack_N01", "p_set_bar"] == 65.0
    assert set(s.loc[["entry01", "entry02", "entry03"], "mode"]) == {"flow"}
    net.compile()


@pytest.mark.parametrize("slack,text", [("middle", "unknown slack rule"), ([("nowhere", 60.0)], "nowhere"),
                                        ([("N01", 0.0)], "slack"), ([], "empty")])
def test_bad_slack_is_an_input_error(slack: object, text: str) -> None:
    with pytest.raises(InputError, match=text):
        _g11(slack=slack)


def test_scale_and_reapplication_restore_bounds(tmp_path: Path) -> None:
    half = _g11(scale=0.5)
    assert_allclose(half.demands.loc["exit02", "flow_kg_s"], 0.5 * 120 / 3.6 * 0.785)
    # a nomination with a pressure bound overrides the node; the next one restores the .net bound
    scn = (G11 / "GasLib-11.scn").read_text()
    tight = scn.replace('<node type="exit" id="exit01">',
                        '<node type="exit" id="exit01">\n<pressure bound="upper" value="50" unit="barg"/>')
    (tmp_path / "tight.scn").write_text(tight)
    net = read_gaslib(G11 / "GasLib-11.net", tmp_path / "tight.scn")
    assert net.nodes.loc["exit01", "p_max_bar"] == pytest.approx(51.01325)
    apply_scenario(net, G11 / "GasLib-11.scn")
    assert net.nodes.loc["exit01", "p_max_bar"] == 70.0
    assert len(net.supplies) == 3 and len(net.demands) == 3


def test_case_loader_options_and_errors() -> None:
    assert set(list_gaslib_cases()) == set(COUNTS)
    net = load_gaslib_case("GasLib-134", "2015-08-30", compressors="off", control_valves="closed", valves="closed")
    assert set(net.compressors["mode"]) == {"off"} and set(net.control_valves["mode"]) == {"closed"}
    with pytest.raises(InputError, match="unknown GasLib case"):
        load_gaslib_case("gaslib-9")
    with pytest.raises(InputError, match="unknown nomination"):
        load_gaslib_case("gaslib-11", "winter")
    with pytest.raises(InputError, match="compressors"):
        load_gaslib_case("gaslib-11", compressors="discharge")


# --- compressor-station data --------------------------------------------------------------------------------------
def test_cs_files_parse_and_fits_reproduce_measurements(nets: dict) -> None:
    for name in ("gaslib-40", "gaslib-582", "gaslib-4197"):
        assert set(nets[name].meta["gaslib_cs"]) <= set(nets[name].compressors.index)
    st = read_gaslib_cs(DATA / "GasLib-582" / "GasLib-582-v2.cs.gz")["compressorStation_5"]
    turbo = next(c for c in st.compressors if isinstance(c, TurboCompressor))
    piston = next(c for c in st.compressors if isinstance(c, PistonCompressor))
    assert (turbo.speed_min, turbo.speed_max) == pytest.approx((4700 / 60, 6500 / 60))
    for p in turbo.surge_points + turbo.map_points:  # n_isoline fit, kJ/kg & 1/min -> J/kg & 1/s
        assert_allclose(turbo.head(p.speed, p.volume_flow), p.head, rtol=1e-9)
    for p in turbo.surge_points:
        assert_allclose(turbo.surge_head(p.volume_flow), p.head, rtol=1e-9)
    assert piston.operating_volume == 0.5 and piston.max_compression_ratio == 2.0
    motor = next(d for d in st.drives if d.kind == "gasDrivenMotor")
    for shaft, fuel in motor.fuel_points:
        assert_allclose(motor.fuel_power(shaft), fuel, rtol=1e-9)
    for _, n, p in motor.max_power_points:
        assert_allclose(motor.max_power(n), p, rtol=1e-9)
    # 9-coefficient gas-turbine power function with ambient temperature in °C (GasLib-4197)
    drives = [d for s in read_gaslib_cs(DATA / "GasLib-4197" / "GasLib-4197.cs.gz").values() for d in s.drives]
    points = [(d, t, n, p) for d in drives for t, n, p in d.max_power_points if np.isfinite(t)]
    assert points
    for d, t, n, p in points:
        assert abs(d.max_power(n, t) - p) <= 5e-3 * max(p, 1e6)


# --- bad input ---------------------------------------------------------------------------------------------------
def _bad_net(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = (G11 / "GasLib-11.net").read_text()
    assert old in text
    path = tmp_path / "bad.net"
    path.write_text(text.replace(old, new, count))
    return path


def test_malformed_xml_names_file_and_line(tmp_path: Path) -> None:
    path = _bad_net(tmp_path, '<innode id="N05" x="1000" y="0">', '<innode id="N05" x="1000" y="0"')
    with pytest.raises(InputError, match=r"bad\.net: malformed XML at line \d+"):
        read_gaslib(path)


def test_unknown_node_reference(tmp_path: Path) -> None:
    path = _bad_net(tmp_path, 'id="pipe02_N01_N02" to="N02"', 'id="pipe02_N01_N02" to="N99"')
    with pytest.raises(InputError, match=r"pipe 'pipe02_N01_N02' field 'to': references unknown node 'N99'"):
        read_gaslib(path)


def test_zero_length_names_pipe_and_field(tmp_path: Path) -> None:
    path = _bad_net(tmp_path, '<length unit="km" value="55"/>', '<length unit="km" value="0"/>')
    with pytest.raises(InputError, match=r"pipe 'pipe01_entry01_entry03' field 'length_km': must be in \(0"):
        read_gaslib(path)


def test_negative_diameter(tmp_path: Path) -> None:
    path = _bad_net(tmp_path, '<diameter unit="mm" value="500.0"/>', '<diameter unit="mm" value="-500.0"/>')
    with pytest.raises(InputError, match=r"'pipe01_entry01_entry03' field 'diameter_mm'"):
        read_gaslib(path)


def test_duplicate_id(tmp_path: Path) -> None:
    path = _bad_net(tmp_path, '<innode id="N05"', '<innode id="N04"')
    with pytest.raises(InputError, match=r"innode 'N04': duplicate id"):
        read_gaslib(path)


@pytest.mark.parametrize("unit,text", [('unit="furlong"', "unknown unit 'furlong'"), ("", "missing unit")])
def test_unknown_or_missing_unit(tmp_path: Path, unit: str, text: str) -> None:
    path = _bad_net(tmp_path, '<length unit="km" value="55"/>', f'<length {unit} value="55"/>')
    with pytest.raises(InputError, match=rf"pipe 'pipe01_entry01_entry03' field 'length': {text}"):
        read_gaslib(path)


def test_unknown_scenario_node(tmp_path: Path) -> None:
    (tmp_path / "x.scn").write_text((G11 / "GasLib-11.scn").read_text().replace('id="exit03"', 'id="exit99"'))
    with pytest.raises(InputError, match=r"scenario node 'exit99' field 'id'"):
        read_gaslib(G11 / "GasLib-11.net", tmp_path / "x.scn")


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE network [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<network><information><title>&lol3;</title></information></network>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE network [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<network><information><title>&xxe;</title></information></network>
"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_hostile_xml_is_refused(tmp_path: Path, doc: str) -> None:
    path = tmp_path / "evil.net"
    path.write_text(doc)
    with pytest.raises(InputError, match=r"evil\.net: forbidden XML construct"):
        read_gaslib(path)


def test_gzip_is_transparent_and_corrupt_gzip_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "g.net.gz").write_bytes(gzip.compress((G11 / "GasLib-11.net").read_bytes()))
    a = read_gaslib(tmp_path / "g.net.gz", G11 / "GasLib-11.scn")
    b = _g11()
    assert a.pipes.drop(columns="source").equals(b.pipes.drop(columns="source"))
    assert a.demands.equals(b.demands)
    (tmp_path / "c.net.gz").write_bytes(gzip.compress(b"<network/>")[:12])
    with pytest.raises(InputError, match="corrupt gzip"):
        read_gaslib(tmp_path / "c.net.gz")
    with pytest.raises(InputError, match="cannot read file"):
        read_gaslib(tmp_path / "missing.net")


def test_cs_station_not_in_network(tmp_path: Path) -> None:
    cs = (G11 / "GasLib-11.cs").read_text().replace('id="CS02_N04_N05"', 'id="CS99"')
    (tmp_path / "x.cs").write_text(cs)
    with pytest.raises(InputError, match="'CS99'"):
        read_gaslib(G11 / "GasLib-11.net", cs_path=tmp_path / "x.cs")


def test_network_without_scenario_has_no_flows() -> None:
    net = read_gaslib(G11 / "GasLib-11.net")
    assert net.supplies.empty and net.demands.empty
    assert math.isclose(net.gas.reference_density(), 0.785)


def test_overrides_and_options_without_nomination() -> None:
    from gasgrid.gas import Gas

    net = read_gaslib(G11 / "GasLib-11.net", gas=Gas(), temperature_K=290.0)
    assert net.gas == Gas() and net.temperature_K == 290.0
    assert net.meta["gaslib"]["gas"]["rule"] == "given by the caller"
    with pytest.raises(InputError, match="scn_path"):
        read_gaslib(G11 / "GasLib-11.net", slack=SlackRule.ALL_ENTRIES)


def test_gas_mixed_by_nominated_inflow_when_sources_differ(nets: dict) -> None:
    net = nets["gaslib-4197"]
    info = net.meta["gaslib"]["gas"]
    assert info["rule"].startswith("weighted by nominated normal-volume inflow")
    w = info["weights"]
    assert_allclose(sum(w.values()), 1.0, rtol=1e-12)
    rho = sum(wi * info["sources_SI"][s]["normDensity"] for s, wi in w.items())
    assert_allclose(net.gas.reference_density(), rho, rtol=1e-12)
