"""The bundled East Route case: data completeness, stated facts against the reference, volume conversion."""

from __future__ import annotations

import csv
import math
from importlib.resources import files

import pytest
from numpy.testing import assert_allclose

from gasgrid.cases.east_route import (
    CASES,
    VARIANTS,
    assumptions,
    case_gas,
    case_info,
    china_length_km,
    list_east_route_cases,
    load_east_route,
    nominations,
    section_lengths,
)
from gasgrid.components import KINDS
from gasgrid.errors import InputError
from gasgrid.units import R_UNIVERSAL, SECONDS_PER_YEAR, Reference

NINE = {"Heilongjiang", "Jilin", "Inner Mongolia", "Liaoning", "Hebei", "Tianjin", "Shandong", "Jiangsu", "Shanghai"}
TAG = r"\[(?:S\d|E|C)"
MAOP_POS_ABS = 98.0 + 1.01325  # 9.8 MPa gauge [S24]
MAOP_CN_ABS = 120.0 + 1.01325  # 12 MPa gauge [S4][S5]


@pytest.fixture(scope="module")
def net():
    return load_east_route()


@pytest.fixture(scope="module")
def pos2():
    return load_east_route("east-route-pos2")


def test_loads_validates_and_compiles(net, pos2) -> None:
    assert net.compile().n_nodes == len(net.nodes)
    assert pos2.compile().n_nodes == len(pos2.nodes) > len(net.nodes)
    assert net.crs == "EPSG:4326"
    assert net.meta["volume_reference"] is Reference.GOST


@pytest.mark.parametrize("variant", VARIANTS)
def test_csv_columns_are_exactly_the_schema_names(variant: str) -> None:
    folder = files("gasgrid.cases") / "data" / variant
    found = 0
    for kind, schema in KINDS.items():
        f = folder / f"{kind}.csv"
        if not f.is_file():
            continue
        found += 1
        with f.open(encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert header[0] == "id"
        assert set(header[1:]) <= set(schema.names), (kind, set(header[1:]) - set(schema.names))
    assert found >= 3


@pytest.mark.parametrize("kind", ["node", "pipe", "short_pipe", "control_valve", "compressor", "supply", "demand"])
def test_every_row_carries_a_source_tag(net, pos2, kind: str) -> None:
    for n in (net, pos2):
        table = n.table(kind)
        assert len(table)
        tagged = table["source"].fillna("").str.contains(TAG, regex=True)
        assert tagged.all(), list(table.index[~tagged])


def test_estimates_are_flagged(net) -> None:
    # the Chinese station powers and the offtake split are estimates, not sourced
    assert net.compressors.loc["cs_heihe", "source"].count("[E") >= 1
    assert net.demands["source"].str.contains(r"\[E", regex=True).all()
    assert "[S22]" in net.compressors.loc["cs_zeyskaya", "source"]


def test_power_of_siberia_length(net) -> None:
    lengths = section_lengths(net)
    assert_allclose(lengths.loc["RU-KC", "modelled_km"], 804.0, rtol=1e-4)  # [S26]
    assert_allclose(lengths.loc["RU-P1", "modelled_km"], 2156.1, rtol=1e-4)  # [S22]
    pos = lengths.loc[["RU-KC", "RU-P1"], "modelled_km"].sum()
    assert 2900.0 <= pos <= 3050.0  # "about 3,000 km" [S35]


def test_china_length_matches_5111_km(net) -> None:
    china = china_length_km(net)
    assert china["official_km"] == 5111.0
    assert abs(china["total_km"] / 5111.0 - 1.0) <= 0.02
    lengths = section_lengths(net)
    assert_allclose(lengths.loc["CN-N", "modelled_km"], 715.0, rtol=1e-6)  # [C]
    assert_allclose(lengths.loc["CN-M", "modelled_km"], 1110.0, rtol=1e-6)  # [S8]
    assert_allclose(lengths.loc["CN-SR", "modelled_km"], 266.0, rtol=1e-6)  # [S11]
    assert_allclose(lengths.loc["CN-S", "modelled_km"], 1243.0, rtol=0.02)  # [S12]
    south = lengths.loc[["CN-S", "CN-SR"], "modelled_km"].sum()
    assert_allclose(south, 1509.0, rtol=0.02)  # [S11][S14]


def test_amur_crossing_is_two_strings(net) -> None:
    crossing = net.pipes[net.pipes.index.str.startswith("X-AMUR")]
    assert len(crossing) == 2
    assert_allclose(crossing["length_km"], 1.139)


def test_pipe_pieces_are_short_enough_for_a_smooth_profile(net, pos2) -> None:
    assert net.pipes["length_km"].max() <= 200.0
    assert pos2.pipes["length_km"].max() <= 200.0


def test_inner_diameters_and_maop(net) -> None:
    pipes = net.pipes
    assert_allclose(pipes.loc["RU-P1-01", "diameter_mm"], 1420 - 2 * 21.7)
    assert_allclose(pipes.loc["CN-N-01", "diameter_mm"], 1422 - 2 * 21.4)
    assert_allclose(pipes.loc["RU-P1-01", "p_max_bar"], MAOP_POS_ABS)
    assert_allclose(pipes.loc["CN-M-01", "p_max_bar"], MAOP_CN_ABS)
    assert (net.nodes["p_max_bar"] <= MAOP_CN_ABS + 1e-9).all()
    ru = net.nodes["group"].str.endswith("(RU)")
    assert (net.nodes.loc[ru, "p_max_bar"] <= MAOP_POS_ABS + 1e-9).all()


def test_station_set_points_within_maop(net) -> None:
    cs = net.compressors
    assert (cs["mode"] == "discharge").all()
    assert (cs["p_set_bar"] <= cs["p_discharge_max_bar"]).all()
    p_max_out = net.nodes.loc[cs["to_node"], "p_max_bar"].to_numpy()
    assert (cs["p_set_bar"].to_numpy() <= p_max_out).all()
    assert (cs["power_max_MW"] > 0).all() and (cs["ratio_max"] >= 1.5).all()
    assert_allclose(cs.loc["cs_zeyskaya", "power_max_MW"], 128.0 * 0.75)  # 128 MW [S22], 3 of 4 units


def test_nine_provinces_served(net) -> None:
    deliveries = net.meta["nominations"].query("kind == 'delivery'")
    assert set(deliveries["group"]) == NINE
    assert set(net.meta["provinces"]) == NINE
    assert set(net.demands["group"]) == NINE | {"Amur GPP (RU)"}


def test_design_split_by_province() -> None:
    noms = nominations()
    by = noms.query("kind == 'delivery'").groupby("group")["bcm_per_year"].sum()
    expected = {"Heilongjiang": 2.5, "Jilin": 2.0, "Inner Mongolia": 0.5, "Liaoning": 3.0, "Hebei": 7.5,
                "Tianjin": 2.5, "Shandong": 2.5, "Jiangsu": 12.0, "Shanghai": 5.5}  # ref §3 [E]
    assert_allclose(by.reindex(list(expected)).to_numpy(), list(expected.values()))
    assert_allclose(by.sum(), 38.0)


def _rho_gost(net) -> float:
    """Density at 20 °C, 101.325 kPa computed here from the gas's M and Z: p M / (Z R T)."""
    ref = Reference.GOST
    z = float(net.gas.z(ref.p, ref.T))
    return ref.p * net.gas.molar_mass / (z * R_UNIVERSAL * ref.T)


@pytest.mark.parametrize("throughput", [38.0, 44.0, 20.0])
def test_deliveries_equal_requested_throughput_converted_at_gost(throughput: float) -> None:
    net = load_east_route(throughput_bcm=throughput)
    noms = net.meta["nominations"]
    deliveries = noms[noms["kind"] == "delivery"]
    assert_allclose(deliveries["bcm_per_year"].sum(), throughput, rtol=1e-12)
    rho = _rho_gost(net)
    assert 0.67 < rho < 0.69  # composition A at 20 °C
    expected_kg_s = throughput * 1e9 / SECONDS_PER_YEAR * rho
    delivered_kg_s = net.demands.loc[deliveries.index, "flow_kg_s"].sum()
    assert_allclose(delivered_kg_s, expected_kg_s, rtol=1e-12)
    # Amur GPP withdrawal scales with the export: 42 bcm/yr feed for 38 bcm/yr [S30][S31]
    assert_allclose(noms.loc["amur_gpp_products", "bcm_per_year"], throughput * 4.0 / 38.0)
    # Chayanda injects half the feed
    feed_kg_s = net.demands["flow_kg_s"].sum()
    assert_allclose(net.supplies.loc["chayanda", "flow_kg_s"], 0.5 * feed_kg_s, rtol=1e-12)


def test_demand_scale_multiplies_every_offtake() -> None:
    base = load_east_route()
    peak = load_east_route(demand_scale=1.1)
    assert_allclose(peak.demands["flow_kg_s"], 1.1 * base.demands["flow_kg_s"], rtol=1e-12)


@pytest.mark.parametrize("key", ["A", "B", "C"])
def test_composition_matches_the_reference_table(key: str) -> None:
    spec = case_info()["gas"][key]
    gas = case_gas(key)
    assert_allclose(gas.molar_mass, spec["molar_mass_kg_mol"], rtol=0.005)  # ref §4 M, g/mol
    hhv_20C = gas.hhv_mass * gas.reference_density(Reference.GOST) / 1e6  # MJ/m3 at 20 °C
    assert_allclose(hhv_20C, spec["hhv_MJ_m3_20C"], rtol=0.01)


def test_composition_changes_the_mass_flow() -> None:
    a, b = load_east_route(composition="A"), load_east_route(composition="b")
    rho_a, rho_b = (g.gas.reference_density(Reference.GOST) for g in (a, b))
    assert rho_b > rho_a
    # same volumes, heavier gas: more kg/s
    assert_allclose(b.demands["flow_kg_s"].sum() / a.demands["flow_kg_s"].sum(), rho_b / rho_a)


def test_stations_out_are_bypassed() -> None:
    net = load_east_route(stations_out=("heihe", "cs_Shenyang", "Zeyskaya CS"))
    modes = net.compressors["mode"]
    assert set(modes[modes == "bypass"].index) == {"cs_heihe", "cs_shenyang", "cs_zeyskaya"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"throughput_bcm": 0.0}, "throughput_bcm"),
        ({"throughput_bcm": math.nan}, "throughput_bcm"),
        ({"demand_scale": -1.0}, "demand_scale"),
        ({"composition": "Z"}, "composition"),
        ({"stations_out": ("nowhere",)}, "stations_out"),
    ],
)
def test_bad_arguments_are_input_errors(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError, match=field):
        load_east_route(**kwargs)


def test_unknown_variant() -> None:
    with pytest.raises(InputError, match="bundled"):
        load_east_route("east-route-3")


def test_optional_supplies_out_of_service(net) -> None:
    sup = net.supplies
    assert not sup.loc[["shuangtaizi_ugs", "dalian_lng", "tangshan_lng"], "in_service"].any()
    assert sup.loc[["kovykta", "chayanda"], "in_service"].all()
    assert (sup["mode"] == "pressure").sum() == 1


def test_pos2_variant(pos2) -> None:
    noms = pos2.meta["nominations"]
    assert_allclose(noms.loc["erenhot_pos2", "bcm_per_year"], 50.0)
    assert_allclose(noms.query("kind == 'delivery'")["bcm_per_year"].sum(), 88.0)
    assert_allclose(section_lengths(pos2).loc["MN-SV", "modelled_km"], 962.9, rtol=1e-6)  # [S51]
    scaled = load_east_route("east-route-pos2", throughput_bcm=44.0)
    assert_allclose(scaled.meta["nominations"].loc["erenhot_pos2", "bcm_per_year"], 50.0)
    topics = set(assumptions("east-route-pos2")["topic"])
    assert {"PoS-2 volume", "Chinese side of PoS-2", "Volumes"} <= topics


def test_registry_entries() -> None:
    assert set(CASES) == set(VARIANTS) == set(list_east_route_cases())
    description, loader = CASES["east-route"]
    assert "38 bcm/yr" in description
    assert loader(throughput_bcm=44.0).meta["throughput_bcm"] == 44.0


def test_assumptions_state_reference_and_sources() -> None:
    table = assumptions()
    assert list(table.columns) == ["topic", "assumption", "source"]
    assert table["assumption"].str.contains("20 °C, 101.325 kPa").any()
    assert len(table) >= 15
    info = case_info()
    assert info["volume_reference"] == "GOST"


@pytest.mark.slow
def test_design_day_is_deliverable(net, strict_fp) -> None:
    import gasgrid.steady as steady
    result = steady.solve_steady(net)
    assert result.status.value == "solved", result.message
    assert result.mass_balance_error <= 1e-9
    nodes = result.nodes
    assert (nodes["p_bar"] <= nodes["p_max_bar"] + 1e-6).all()
    assert (nodes["p_bar"] >= nodes["p_min_bar"] - 1e-6).all()
    delivered = result.demands["flow_kg_s"].sum()
    assert_allclose(delivered, net.demands["flow_kg_s"].sum(), rtol=1e-9)
    if len(result.compressors):  # station control (power, ratio) is wired in
        # the limits as given in the network's station table (add_suffix: join's rsuffix is deprecated in pandas 3)
        cs = result.compressors.join(net.compressors[["ratio_max", "power_max_MW"]].add_suffix("_lim"))
        assert cs["ratio_max_lim"].notna().all() and cs["power_max_MW_lim"].notna().all()
        assert (cs["ratio"] <= cs["ratio_max_lim"] + 1e-9).all()
        assert (cs["power_shaft_MW"] <= cs["power_max_MW_lim"] + 1e-9).all()


@pytest.mark.slow
@pytest.mark.parametrize("throughput", [44.0, 50.0])
def test_above_capacity_is_reported_not_crashed(throughput: float) -> None:
    # 44 bcm/yr needs the 510 km of loops approved in 2026 [S29], which the case does not have
    import gasgrid.steady as steady
    net = load_east_route(throughput_bcm=throughput)
    result = steady.solve_steady(net)
    assert result.status.value in ("violations", "infeasible"), result.message
    p = result.nodes["p_bar"]
    assert not (p <= 0).any()
    if result.status.value == "violations":
        named = set(result.violations["element"])
        assert named & (set(net.compressors.index) | set(net.pipes.index) | set(net.nodes.index))
        assert str(result.violations["element"].iloc[0]) in result.message
    else:
        assert len(result.collapse) and str(result.collapse.index[0]) in result.message
