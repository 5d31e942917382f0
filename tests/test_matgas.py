"""MATGAS (GasModels.jl) import: syntax, units, mapping, conventions, errors, and GasModels' own case-6 solution."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas.testing as pdt
import pytest

from gasgrid.components import KINDS
from gasgrid.errors import InputError
from gasgrid.gas import EOS
from gasgrid.io.matgas import INCH, MILE, parse_matgas, read_matgas

DATA = Path(__file__).parent / "data" / "gasmodels"
CASES = ["case-6", "A1", "A2", "A3", "24-pipe-benchmark", "gaslib-40-E", "gaslib-582-G", "distribution_54"]


@pytest.mark.parametrize("case", CASES)
def test_every_bundled_case_imports_and_compiles(case: str) -> None:
    net = read_matgas(DATA / f"{case}.m")
    compiled = net.compile()
    assert compiled.n_nodes == len(net.nodes) > 0
    assert net.meta["matgas"]["file"] == f"{case}.m"
    assert (net.pipes["friction"] == "fixed").all()


def test_case6_mapping() -> None:
    net = read_matgas(DATA / "case-6.m")
    assert net.name == "model6_new_format" and net.temperature_K == 288.706 and net.crs == "EPSG:4326"
    assert list(net.nodes.index) == ["1", "2", "3", "4", "5", "6"]
    assert net.nodes.loc["3", "p_min_bar"] == 30.0 and net.nodes.loc["3", "p_max_bar"] == 60.0
    assert (net.nodes.loc["3", "x"], net.nodes.loc["3", "y"]) == (0.5, 0.64)
    p = net.pipes.loc["pipe_4"]
    assert (p["from_node"], p["to_node"], p["length_km"], p["diameter_mm"], p["lambda_fixed"]) == ("3", "4", 80.0,
                                                                                                  300.0, 0.01)
    # junction 1 is the slack (junction_type 1): the receipt there becomes its pressure supply
    s = net.supplies.loc["receipt_1"]
    assert (s["mode"], s["p_set_bar"], s["flow_min_kg_s"], s["flow_max_kg_s"]) == ("pressure", 40.0, 0.0, 1000.0)
    c = net.compressors.loc["compressor_1"]
    assert (c["mode"], c["ratio"], c["ratio_max"], c["power_max_MW"], c["flow_max_kg_s"]) == ("bypass", 1.0, 1.4,
                                                                                             3.0, 1000.0)
    assert net.demands.loc["transfer_4", "name"] == "PP_A"
    assert net.meta["matgas"]["unmapped_tables"] == ["sources"]
    assert net.meta["matgas"]["tables"]["compressor"]["columns"][13:15] == ["operating_cost", "directionality"]


def test_gasmodels_conventions_reproduce_its_sound_speed() -> None:
    net = read_matgas(DATA / "A1.m")
    gas = net.gas
    assert gas.eos is EOS.IDEAL
    np.testing.assert_allclose(gas.R_specific * net.temperature_K, 317.353652234**2, rtol=1e-14)
    other = read_matgas(DATA / "A1.m", conventions="gasgrid")
    assert other.gas.eos is EOS.PAPAY and other.gas.molar_mass == 0.0186
    pdt.assert_frame_equal(net.pipes, other.pipes)


def test_unknown_conventions() -> None:
    with pytest.raises(InputError, match="unknown conventions 'pandapipes'"):
        read_matgas(DATA / "case-6.m", conventions="pandapipes")


def test_extension_tables_are_merged() -> None:
    mf = parse_matgas(DATA / "A1.m")
    assert mf.columns["pipe"][-3:] == ["flow_direction", "flow_min", "flow_max"]
    assert mf.tables["pipe"][0]["flow_direction"] == 1.0 and "pipe_data" not in mf.tables
    net = read_matgas(DATA / "A1.m")
    assert net.meta["matgas"]["unmapped_tables"] == ["ne_pipe"]


def test_statements_of_other_structs_are_ignored_and_listed() -> None:
    net = read_matgas(DATA / "24-pipe-benchmark.m")  # has a typo 'mgg.base_flow = 100' that GasModels ignores
    assert net.meta["matgas"]["ignored_statements"] == ["line 14: mgg.base_flow                    = 100"]
    assert any("read as 'no limit'" in n for n in net.meta["matgas"]["notes"])


def test_slack_option() -> None:
    net = read_matgas(DATA / "A1.m", slack={"8": 66.2})
    s = net.supplies.loc["receipt_8"]
    assert (s["mode"], s["p_set_bar"]) == ("pressure", 66.2)
    with pytest.raises(InputError, match="slack= names an unknown junction"):
        read_matgas(DATA / "A1.m", slack={"nope": 50.0})


HEADER = """function mgc = tiny
mgc.gas_specific_gravity = 0.6;
mgc.specific_heat_capacity_ratio = 1.4;
mgc.temperature = 288.706;
mgc.compressibility_factor = 1;
mgc.sound_speed = 371.6643;
mgc.R = 8.314;
mgc.units = '{units}';
mgc.is_per_unit = {pu};
mgc.base_pressure = {bp};
mgc.base_length = {bl};
mgc.base_flow = {bf};
"""

BODY = """
mgc.junction = [
1 {p1} {p2} {p2} 1 1 'line' 'j1' 0 0
2 {p1} {p2} {p1} 0 1 'line' 'j2' 0 0
3 {p1} {p2} {p1} 0 1 'line' 'j3' 0 0
4 {p1} {p2} {p1} 0 1 'line' 'j4' 0 0
5 {p1} {p2} {p1} 0 0 'line' 'j5' 0 0
];
% id fr_junction to_junction diameter length friction_factor p_min p_max status
mgc.pipe = [
1 1 2 {d} {L} 0.01 {p1} {p2} 1
];
mgc.resistor = [
2 2 3 4.5 {d} 1 1 'line'
];
%column_names% id fr_junction to_junction p_loss status
mgc.loss_resistor = [
3 3 4 {dp} 1
];
mgc.regulator = [
4 4 2 0 1 0 {q} 1 0 0.9 0 0 {p1} 'line'
];
mgc.valve = [5 1 3 1 0.5 'line'; 6 2 4 0 0.5 'line'];
mgc.short_pipe = [
7 4 5 1 1 'line'
];
mgc.compressor = [
8 2 4 1.2 1.5 {pw} 0 {q} {p1} {p2} {p1} {p2} 1 10 0
];
mgc.delivery = [
1 3 0 {q} {q} 0 1 0
];
mgc.transfer = [
2 4 {mq} {q} {mq} 1 1 1 1 'X'
];
mgc.receipt = [
3 2 0 {q} {q} 0 1 0
];
mgc.storage = [
1 3 0.3 1000 0.01 {p2} 1 1 0.5 1 1.2 1 0 {q} 0 {q}
];
"""


def tiny(units: str = "si", per_unit: bool = False) -> str:
    """The same small network in SI, US customary or per-unit numbers."""
    si = {"p1": 3e6, "p2": 6e6, "d": 0.6, "L": 50_000.0, "dp": 0.5e5, "q": 20.0, "mq": -5.0, "pw": 2e6}
    if units == "usc":
        T, R, G = 288.706, 8.314, 0.6
        mmscfd = 1000.0 * 0.02832 / 86400.0 * (101.325 / (R * T) * 1e6) * G * 0.02896
        f = {"p1": 6894.75729, "p2": 6894.75729, "d": INCH, "L": MILE, "dp": 6894.75729, "q": mmscfd,
             "mq": mmscfd, "pw": 745.7}
    else:
        f = dict.fromkeys(si, 1.0)
    base = {"bp": 3e6, "bl": 5000.0, "bf": 100.0} if per_unit else {"bp": 1.0, "bl": 1.0, "bf": 1.0}
    if per_unit:
        for k in ("p1", "p2", "dp"):
            f[k] *= base["bp"]
        f["L"] *= base["bl"]
        for k in ("q", "mq", "pw"):
            f[k] *= base["bf"]
    values = {k: repr(v / f[k]) for k, v in si.items()}
    return HEADER.format(units=units, pu=int(per_unit), **base) + BODY.format(**values)


def test_every_table_maps(tmp_path: Path) -> None:
    path = tmp_path / "tiny.m"
    path.write_text(tiny())
    net = read_matgas(path)
    assert {k: v for k, v in net.summary().items() if v} == {
        "node": 5, "pipe": 1, "short_pipe": 1, "valve": 2, "resistor": 2, "control_valve": 1, "compressor": 1,
        "supply": 2, "demand": 2}
    r = net.resistors
    assert (r.loc["resistor_2", "drag_factor"], r.loc["resistor_2", "diameter_mm"]) == (4.5, 600.0)
    assert r.loc["loss_resistor_3", "pressure_drop_bar"] == 0.5
    assert net.valves.loc["valve_6", "in_service"] == np.False_ and net.valves.loc["valve_5", "open"]
    assert not net.short_pipes.loc["short_pipe_7", "in_service"]  # junction 5 is out of service
    cv = net.control_valves.loc["regulator_4"]
    assert (cv["mode"], cv["p_set_bar"], cv["flow_max_kg_s"]) == ("open", 30.0, 20.0)
    c = net.compressors.loc["compressor_8"]
    assert (c["mode"], c["ratio"], c["ratio_min"]) == ("ratio", 1.2, 1.2)
    assert net.supplies.loc["slack_1", "p_set_bar"] == 60.0
    assert (net.supplies.loc["receipt_3", "mode"], net.supplies.loc["receipt_3", "flow_kg_s"]) == ("flow", 20.0)
    assert net.demands.loc["transfer_2", "flow_kg_s"] == -5.0
    assert net.meta["matgas"]["unmapped_tables"] == ["storage"]
    assert net.meta["matgas"]["tables"]["regulator"]["columns"][8] == "directionality"
    net.compile()


@pytest.mark.parametrize(("units", "per_unit"), [("usc", False), ("si", True), ("usc", True)])
def test_units_and_per_unit_give_the_same_network(tmp_path: Path, units: str, per_unit: bool) -> None:
    for folder, text in (("si", tiny()), ("other", tiny(units, per_unit))):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "tiny.m").write_text(text)
    a, b = read_matgas(tmp_path / "si" / "tiny.m"), read_matgas(tmp_path / "other" / "tiny.m")
    for kind in KINDS:
        pdt.assert_frame_equal(a.table(kind), b.table(kind), check_exact=False, rtol=1e-12)
    assert b.meta["matgas"]["units"] == units and b.meta["matgas"]["per_unit"] == per_unit


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("mgc.junction = [\n1 0 1 1 1 1\n", r"x\.m:3.*not closed"),
        ("mgc.junction = [\n1 0 abc 1 0 1\n];\n", r"x\.m:3.*cannot read value 'abc'"),
        ("mgc.junction = [\n1 0 1 1 0 1 'a' 'b' 0 0 7\n];\n", r"x\.m:3.*11 values but only 10 columns"),
        ("x = 3;\n", r"x\.m:2.*expected 'mgc.<name> = ...'"),
        ("mgc.units = 'imperial';\nmgc.junction = [1 0 1 1 0 1];\n", r"units must be 'si' or 'usc'"),
        ("mgc.junction = [1 0 1 1 0 1];\nmgc.loss_resistor = [1 1 1 0.5 1];\n",
         r"x\.m:3.*loss_resistor needs a %column_names%"),
        ("mgc.junction = [1 0 1 1 0 1; 2 0 1 1 0 1];\n%column_names% flow_direction\nmgc.junction_data = [1];\n",
         r"x\.m:4.*junction_data has 1 rows but mgc.junction has 2"),
        ("mgc.junction = [1 0 1e6 1 0 1; 2 0 1e6 1 0 1];\n% id fr_junction to_junction diameter length "
         "friction_factor\nmgc.pipe = [\n1 1 9 0.5 1000 0.01\n];\n", r"x\.m:5.*references unknown node '9'"),
        ("mgc.junction = [1 0 1e6 1 0 1; 2 0 1e6 1 0 1];\nmgc.pipe = [\n1 1 2 -0.5 1000 0.01\n];\n",
         r"x\.m:4.*diameter_mm.*must be in"),
        ("mgc.pipe = [];\n", r"no mgc.junction table"),
        ("mgc.junction = [1 0 1e6 1 0 1];\n%column_names% a b\nmgc.foo_data = [1 2];\n", None),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, pattern: str | None) -> None:
    path = tmp_path / "x.m"
    path.write_text("mgc.temperature = 288;\n" + text)
    if pattern is None:  # an extension of an unknown table is kept, not an error
        read_matgas(path)
        return
    with pytest.raises(InputError, match=pattern):
        read_matgas(path)


@pytest.mark.parametrize("line", ["mgc.sound_speed = 0;", "mgc.gas_specific_gravity = 'light';", "mgc.R = -1;"])
def test_bad_scalars(tmp_path: Path, line: str) -> None:
    path = tmp_path / "x.m"
    path.write_text(f"mgc.temperature = 288;\n{line}\nmgc.junction = [1 0 1 1 0 1];\n")
    with pytest.raises(InputError, match=r"x\.m: mgc\.\w+ must be a positive number"):
        read_matgas(path)


def test_missing_temperature(tmp_path: Path) -> None:
    path = tmp_path / "x.m"
    path.write_text("mgc.junction = [1 0 1 1 0 1];\n")
    with pytest.raises(InputError, match=r"mgc.temperature is required"):
        read_matgas(path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_matgas(tmp_path / "missing.m")


# --- acceptance: GasModels' stored steady state of case-6 --------------------------------------------------
# GasModels.jl, test/data/transient/case6_base_solution.json (WPGasModel, Ipopt, SI units): the transfers'
# withdrawals and the compressor ratios are decisions of GasModels' optimisation; we fix them to the stored
# values (ratios 0.9999999975 and 0.9999999966, i.e. 1: bypass) and compare pressures and flows.
CASE6_TRANSFER_KG_S = {"transfer_1": 10.880382209170214, "transfer_2": 29.798501949875682,
                       "transfer_3": 20.000075369246517, "transfer_4": -7.433841340600288e-5,
                       "transfer_5": -3.534737688213564e-5}
CASE6_P_PA = {"1": 4.0e6, "2": 3.2708345007188334e6, "3": 3.000000144253689e6, "4": 3.0849144970522793e6,
              "5": 3.999999990097076e6, "6": 3.2708344895128473e6}
CASE6_FLOW_KG_S = {"pipe_1": 60.678849842502125, "pipe_2": 27.151055590997302, "pipe_3": 22.64741204233461,
                   "pipe_4": -2.647372020464977, "compressor_1": 60.678849842502125,
                   "compressor_2": 22.64741204233461}
CASE6_RECEIPT_KG_S = 60.678849842502125


def test_case6_reproduces_gasmodels_solution() -> None:
    import gasgrid.steady as steady
    net = read_matgas(DATA / "case-6.m", conventions="gasmodels")
    demands = net.table("demand")
    for did, flow in CASE6_TRANSFER_KG_S.items():
        demands.loc[did, "flow_kg_s"] = flow
    result = steady.solve_steady(net)
    assert result.ok, result.message
    p = result.nodes["p_Pa"]
    # Ipopt's tolerance: the stored ratios differ from 1 by 2.5e-9 and 3.4e-9 (p5 = 3.99999999e6 Pa)
    np.testing.assert_allclose([p[n] for n in CASE6_P_PA], list(CASE6_P_PA.values()), rtol=5e-8)
    q = result.arcs["q_kg_s"]
    np.testing.assert_allclose([q[a] for a in CASE6_FLOW_KG_S], list(CASE6_FLOW_KG_S.values()), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_allclose(result.supplies.loc["receipt_1", "flow_kg_s"], CASE6_RECEIPT_KG_S, rtol=1e-6)
    assert math.isclose(p["3"] / 1e5, 30.0, abs_tol=1e-4)  # the binding lower bound of junction 3


@pytest.mark.parametrize("case", ["A1", "A2", "A3", "24-pipe-benchmark", "gaslib-582-G"])
def test_benchmarks_solve_or_report_why(case: str) -> None:
    import gasgrid.steady as steady
    net = read_matgas(DATA / f"{case}.m")
    if not (net.supplies["mode"] == "pressure").any():
        # GasModels' optimisation cases have no slack: hold the largest receipt at its junction's p_max
        big = net.supplies["flow_max_kg_s"].idxmax()
        node = net.supplies.loc[big, "node"]
        net = read_matgas(DATA / f"{case}.m", slack={node: float(net.nodes.loc[node, "p_max_bar"])})
    result = steady.solve_steady(net)
    assert result.status.value in ("solved", "violations", "infeasible"), result.message
    assert result.message
    if result.status.value == "violations":
        assert len(result.violations) > 0
