"""Station and regulator controllers in transients: limits override set points, stations bypass when they cannot
hold their suction, power limits bind, check valves and regulator limits (gasgrid.transient.stations)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gasgrid import EOS, Gas, InfeasibleError, InputError, Network
from gasgrid.transient import (
    BDF2,
    BoundaryConditions,
    DemandStep,
    ImplicitEuler,
    StationTrip,
    SupplyCut,
    TransientOptions,
    ValveClose,
    simulate,
)
from gasgrid.transient.stations import RegulatorCode, StationCode

pytestmark = pytest.mark.usefixtures("strict_fp")  # solver tests raise floating-point errors (STYLE.md 12)

CUT_S = 3600.0
MASS_RTOL = 1e-9  # mass conservation, relative to the boundary throughput
LIMIT_RTOL = 1e-6  # a binding limit holds to the controller's tolerance


def station_line(**limits: float) -> Network:
    """src -p1 (100 km)- a =cs=> b -p2 (100 km)- d; 70 bar supply at src, 5 kg/s offtake at src, 40 kg/s at d."""
    net = Network("station-line", gas=Gas(eos=EOS.PAPAY), temperature_K=283.15)
    for n in ("src", "a", "b", "d"):
        net.add_node(n, p_min_bar=40.0)
    net.add_supply("s", "src", mode="pressure", p_set_bar=70.0)
    net.add_pipe("p1", "src", "a", length_km=100.0, diameter_mm=600.0)
    net.add_compressor("cs", "a", "b", mode="discharge", p_set_bar=80.0, **limits)
    net.add_pipe("p2", "b", "d", length_km=100.0, diameter_mm=600.0)
    net.add_demand("d", "d", flow_kg_s=40.0)
    net.add_demand("up", "src", flow_kg_s=5.0)
    return net


def modes(ds, station: str = "cs") -> list[tuple[float, StationCode]]:
    """(time [s], code) at every change of a station's mode."""
    s = ds["compressor_mode"].sel(compressor=station).to_pandas()
    changed = s[s.diff().fillna(0) != 0]
    return [(float(t), StationCode(int(v))) for t, v in changed.items()]


def cut_run(*extra: object, options: TransientOptions | None = None, hours: float = 14.0, **kw: object):
    options = options or TransientOptions()
    bc = BoundaryConditions(events=(SupplyCut(CUT_S, "s"), *extra))  # type: ignore[arg-type]
    return simulate(station_line(p_suction_min_bar=45.0, ratio_max=2.0, **kw), bc, scheme=BDF2(), dt=120.0,
                    t_end=hours * 3600.0, dx=10_000.0, saveat=600.0, options=options)


@pytest.fixture(scope="module")
def limited():
    return cut_run()


def test_supply_cut_station_goes_to_suction_control_then_bypass(limited) -> None:
    res = limited
    assert res.ok, res.message
    ds = res.dataset
    seq = modes(ds)
    assert [c for _, c in seq] == [StationCode.P_SUCTION_MIN, StationCode.BYPASS_LOW_SUCTION]
    t_suction, t_bypass = seq[0][0], seq[1][0]
    assert CUT_S < t_suction < t_bypass
    p = ds["p_Pa"].to_pandas()
    on_limit = (p.index >= t_suction) & (p.index < t_bypass)
    assert on_limit.any()
    np.testing.assert_allclose(p.loc[on_limit, "a"], 45e5, rtol=LIMIT_RTOL)  # suction held at its minimum
    np.testing.assert_allclose(p.loc[p.index < t_suction, "b"], 80e5, rtol=1e-9)  # discharge set point before
    q = ds["arc_flow_kg_s"].sel(arc="cs").to_pandas()
    assert np.all(q >= -1e-6)  # the bypass is non-return: nothing flows back into the drawn-down suction pipe
    assert float(p.to_numpy().min()) > 0.0
    assert res.mass_balance_error()[1] <= MASS_RTOL
    legend = ds["compressor_mode"].attrs["legend"]
    assert "3=p_suction_min" in legend and "9=bypass_low_suction" in legend


def test_gas_turbine_fuel_is_withdrawn_at_the_suction_and_conserved(limited) -> None:
    ds = limited.dataset
    fuel = ds["compressor_fuel_kg_s"].sel(compressor="cs").to_pandas()
    power = ds["compressor_power_W"].sel(compressor="cs").to_pandas()
    from gasgrid.physics.compressor import lower_heating_value

    lhv, _ = lower_heating_value(station_line().gas)
    assert 0.0 < fuel.iloc[0] < 1.0  # a few tenths of a kg/s for some MW
    on = power > 0.0
    np.testing.assert_allclose(fuel[on], power[on] / (0.35 * lhv), rtol=1e-12)  # default driver efficiency
    bypassed = ds["compressor_mode"].sel(compressor="cs").to_pandas() == StationCode.BYPASS_LOW_SUCTION
    assert np.all(fuel[bypassed.to_numpy()] == 0.0)
    assert limited.mass_balance_error()[1] <= MASS_RTOL


def test_downstream_survives_longer_with_suction_control_than_with_the_station_bypassed(limited) -> None:
    bypassed = cut_run(StationTrip(CUT_S, "cs", bypass=True))
    assert bypassed.ok and bypassed.mass_balance_error()[1] <= MASS_RTOL
    with_cs = limited.survival_time(nodes=["d"], after_s=CUT_S)["d"]
    without = bypassed.survival_time(nodes=["d"], after_s=CUT_S)["d"]
    assert np.isfinite(with_cs) and np.isfinite(without)
    assert with_cs > without * 1.02


def test_without_limits_the_suction_collapses_and_the_message_names_node_and_time() -> None:
    with pytest.raises(InfeasibleError, match=r"t = \d+ s at (node 'a'|pipe 'p1')"):
        cut_run(options=TransientOptions(station_limits=False), hours=12.0)


def test_power_limit_binds_when_demand_steps_up_and_releases_when_it_falls() -> None:
    net = station_line(power_max_MW=2.0)  # about 1 MW at t0
    bc = BoundaryConditions(events=(DemandStep(1800.0, "d", flow_kg_s=70.0), DemandStep(4 * 3600.0, "d",
                                                                                        flow_kg_s=30.0)))
    res = simulate(net, bc, scheme=BDF2(), dt=60.0, t_end=8 * 3600.0, dx=10_000.0, saveat=300.0)
    assert res.ok, res.message
    ds = res.dataset
    seq = modes(ds)
    assert [c for _, c in seq] == [StationCode.POWER_MAX, StationCode.SET_POINT]
    t_on, t_off = seq[0][0], seq[1][0]
    assert 1800.0 < t_on < 4 * 3600.0 < t_off
    pw = ds["compressor_power_W"].sel(compressor="cs").to_pandas()
    assert pw.iloc[0] < 2e6
    on_limit = (pw.index >= t_on) & (pw.index < t_off)
    np.testing.assert_allclose(pw[on_limit], 2e6, rtol=LIMIT_RTOL)
    assert np.all(pw <= 2e6 * (1.0 + LIMIT_RTOL))
    pb = ds["p_Pa"].sel(node="b").to_pandas()
    assert np.all(pb[on_limit] < 80e5)  # less than the set point: the limit governs
    np.testing.assert_allclose(pb[pb.index >= t_off], 80e5, rtol=1e-9)  # back on the set point
    assert res.mass_balance_error()[1] <= MASS_RTOL


def test_station_limits_also_shape_the_initial_steady_state() -> None:
    """A limit binding at t0 is applied before the run starts, so constant inputs stay steady."""
    res = simulate(station_line(p_discharge_max_bar=75.0), dt=600.0, t_end=6 * 3600.0, dx=10_000.0,
                   saveat=3600.0, scheme=ImplicitEuler())
    ds = res.dataset
    assert set(ds["compressor_mode"].to_numpy().ravel()) == {StationCode.P_DISCHARGE_MAX}
    p = ds["p_Pa"].to_numpy()
    np.testing.assert_allclose(p, np.broadcast_to(p[0], p.shape), rtol=1e-9)
    np.testing.assert_allclose(ds["p_Pa"].sel(node="b"), 75e5, rtol=1e-9)


def test_check_valve_passes_forward_flow_and_closes_against_reverse_flow() -> None:
    net = Network("check", gas=Gas(eos=EOS.PAPAY), temperature_K=283.15)
    for n in ("s1", "a", "b", "s2"):
        net.add_node(n)
    net.add_supply("up", "s1", mode="pressure", p_set_bar=60.0)
    net.add_pipe("p1", "s1", "a", length_km=30.0, diameter_mm=500.0)
    net.add_check_valve("nrv", "a", "b")
    net.add_pipe("p2", "b", "s2", length_km=30.0, diameter_mm=500.0)
    net.add_demand("d", "s2", flow_kg_s=20.0)
    net.add_supply("back", "s2", mode="flow", flow_kg_s=0.0)
    from gasgrid.transient import TimeSeries

    bc = BoundaryConditions(supply_flow_kg_s={"back": TimeSeries([0.0, 3600.0, 3601.0], [0.0, 0.0, 60.0])})
    res = simulate(net, bc, scheme=BDF2(), dt=60.0, t_end=4 * 3600.0, dx=5000.0, saveat=600.0)
    assert res.ok, res.message
    ds = res.dataset
    q = ds["arc_flow_kg_s"].sel(arc="nrv").to_pandas()
    p = ds["p_Pa"].to_pandas()
    assert q.iloc[0] == pytest.approx(20.0, rel=1e-9)
    np.testing.assert_allclose(p.loc[p.index <= 3600.0, "a"], p.loc[p.index <= 3600.0, "b"], rtol=1e-9)
    late = q.index >= 3 * 3600.0  # the downstream injection exceeds the demand: the valve has closed
    assert np.all(np.abs(q[late]) < 1e-6)
    assert np.all(p.loc[late, "b"] > p.loc[late, "a"])
    assert np.all(q >= -1e-6)
    assert res.mass_balance_error()[1] <= MASS_RTOL


def regulator_net(**limits: float) -> Network:
    net = Network("reg", gas=Gas(eos=EOS.PAPAY), temperature_K=283.15)
    for n in ("s", "a", "b", "d"):
        net.add_node(n)
    net.add_supply("src", "s", mode="pressure", p_set_bar=60.0)
    net.add_pipe("p1", "s", "a", length_km=60.0, diameter_mm=500.0)
    net.add_control_valve("cv", "a", "b", mode="set_point", p_set_bar=30.0, **limits)
    net.add_pipe("p2", "b", "d", length_km=20.0, diameter_mm=500.0)
    net.add_demand("dem", "d", flow_kg_s=30.0)
    return net


def test_regulator_holds_its_minimum_inlet_pressure_when_the_supply_is_cut() -> None:
    bc = BoundaryConditions(events=(SupplyCut(1800.0, "src"),))
    res = simulate(regulator_net(p_in_min_bar=40.0), bc, scheme=BDF2(), dt=60.0, t_end=3 * 3600.0, dx=5000.0,
                   saveat=600.0)
    ds = res.dataset
    code = ds["control_valve_mode"].sel(control_valve="cv").to_pandas()
    assert code.iloc[0] == RegulatorCode.REGULATING
    limited = code == RegulatorCode.INLET_LIMIT
    assert limited.any()
    pa = ds["p_Pa"].sel(node="a").to_pandas()
    np.testing.assert_allclose(pa[limited], 40e5, rtol=LIMIT_RTOL)
    seq = [RegulatorCode(int(c)) for c in code[code.diff().fillna(1) != 0]]
    assert seq == [RegulatorCode.REGULATING, RegulatorCode.INLET_LIMIT, RegulatorCode.CLOSED_LOW_INLET]
    assert np.all(ds["arc_flow_kg_s"].sel(arc="cv") >= -1e-6)
    assert res.mass_balance_error()[1] <= MASS_RTOL


def test_regulator_flow_limit_binds_on_a_demand_step() -> None:
    bc = BoundaryConditions(events=(DemandStep(1800.0, "dem", flow_kg_s=50.0),))
    res = simulate(regulator_net(flow_max_kg_s=40.0), bc, scheme=BDF2(), dt=60.0, t_end=2 * 3600.0, dx=5000.0,
                   saveat=600.0, throw=False)
    ds = res.dataset
    code = ds["control_valve_mode"].sel(control_valve="cv").to_pandas()
    q = ds["arc_flow_kg_s"].sel(arc="cv").to_pandas()
    assert np.all(code[code.index <= 1800.0] == RegulatorCode.REGULATING)
    limited = code == RegulatorCode.FLOW_LIMIT
    assert limited.any()
    np.testing.assert_allclose(q[limited], 40.0, rtol=LIMIT_RTOL)
    assert np.all(q <= 40.0 * (1 + LIMIT_RTOL))
    assert res.mass_balance_error()[1] <= MASS_RTOL


@pytest.mark.parametrize(("field", "value"), [("limit_tol", 0.0), ("restart_margin", -0.1),
                                              ("max_control_passes", 0)])
def test_bad_controller_options_are_rejected(field: str, value: float) -> None:
    with pytest.raises(InputError, match=field):
        TransientOptions(**{field: value})


EAST_KEY = ["yongqing", "taixing", "nantong", "changshu", "luzhi", "baihe"]


def test_east_route_border_cut_runs_a_day_with_stations_protecting_their_suction() -> None:
    from gasgrid.cases import load_case

    net = load_case("east-route")
    res = simulate(net, BoundaryConditions(events=(ValveClose(0.0, "border-valve"),)), scheme=BDF2(), dt=120.0,
                   t_end=86_400.0, dx=10_000.0, saveat=3600.0, throw=False)
    assert res.ok, res.message
    ds = res.dataset
    assert float(ds["p_Pa"].min()) > 0.0
    assert res.mass_balance_error()[1] <= MASS_RTOL
    heihe = [c for _, c in modes(ds, "cs_heihe")]
    assert StationCode.BYPASS_LOW_SUCTION in heihe  # the first Chinese station protected its suction
    surv = res.survival_time(nodes=EAST_KEY)
    assert isinstance(surv, pd.Series) and list(surv.index) == EAST_KEY
    assert np.all((surv > 0.0) | np.isinf(surv))


def test_east_route_design_day_stays_steady() -> None:
    # issue 5 acceptance: a steady state stays steady (constant inputs for 24 h), stations with limits and fuel
    from gasgrid.cases import load_case
    from gasgrid.transient import BDF2, simulate

    r = simulate(load_case("east-route"), None, scheme=BDF2(), dt=1800.0, t_end=86_400.0, dx=20e3, saveat=3600.0)
    p = r.dataset["p_Pa"].to_numpy()
    assert r.status.value == "success"
    assert np.max(np.abs(p[-1] - p[0]) / p[0]) <= 1e-6
    assert r.mass_balance_error()[1] <= 1e-9
