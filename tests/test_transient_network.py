"""Transients on a network with every arc kind, events, outputs, line pack and survival time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from gasgrid import EOS, Gas, InfeasibleError, Network
from gasgrid.transient import (
    BDF2,
    BoundaryConditions,
    DemandStep,
    ImplicitEuler,
    StationTrip,
    SupplyCut,
    TimeSeries,
    ValveClose,
    ValveOpen,
    load_events,
    simulate,
    survival_time,
)


def mixed_network() -> Network:
    """src -p1- a =cs=> b -p2- c -v- d -r- e -p3- f -cv-> g; pressure supply at src, flow supply at e."""
    net = Network("mixed", gas=Gas(eos=EOS.PAPAY), temperature_K=288.15)
    for n in ["src", "a", "b", "c", "d", "e", "f", "g"]:
        net.add_node(n, p_min_bar=30.0)
    net.add_supply("s", "src", mode="pressure", p_set_bar=60.0)
    net.add_pipe("p1", "src", "a", length_km=50.0, diameter_mm=800.0)
    net.add_compressor("cs", "a", "b", mode="discharge", p_set_bar=70.0)
    net.add_pipe("p2", "b", "c", length_km=80.0, diameter_mm=800.0)
    net.add_valve("v", "c", "d")
    net.add_resistor("r", "d", "e", drag_factor=5.0, diameter_mm=800.0)
    net.add_pipe("p3", "e", "f", length_km=40.0, diameter_mm=600.0)
    net.add_control_valve("cv", "f", "g", mode="set_point", p_set_bar=40.0)
    net.add_demand("dem", "g", flow_kg_s=150.0)
    net.add_supply("inj", "e", mode="flow", flow_kg_s=20.0)
    return net


def test_a_node_isolated_by_closures_keeps_its_pressure() -> None:
    net = Network("iso", gas=Gas(eos=EOS.PAPAY))
    for n in "samce":
        net.add_node(n)
    net.add_supply("s0", "s", mode="pressure", p_set_bar=60.0)
    net.add_pipe("p1", "s", "a", length_km=20.0, diameter_mm=500.0)
    net.add_valve("v", "a", "m")
    net.add_compressor("cs", "m", "c", mode="ratio", ratio=1.2)
    net.add_pipe("p2", "c", "e", length_km=30.0, diameter_mm=500.0)
    net.add_demand("d", "e", flow_kg_s=10.0)
    bc = BoundaryConditions(events=(ValveClose(600.0, "v"), StationTrip(600.0, "cs")))
    res = simulate(net, bc, dt=60.0, t_end=1800.0, dx=5000.0, saveat=600.0)
    p_m = res.dataset["p_Pa"].sel(node="m").to_numpy()
    np.testing.assert_allclose(p_m[1:], p_m[1], rtol=1e-9)  # no flow in or out after the closures
    assert res.mass_balance_error()[1] <= 1e-9


EVENTS = (StationTrip(3600.0, "cs"), ValveClose(7200.0, "v"), ValveOpen(9000.0, "v"),
          DemandStep(9000.0, "dem", flow_kg_s=50.0), SupplyCut(1800.0, "inj", until_s=5400.0))


@pytest.fixture(scope="module")
def mixed_run():
    return simulate(mixed_network(), BoundaryConditions(events=EVENTS), scheme=BDF2(), dt=60.0, t_end=4 * 3600.0,
                    dx=5000.0, saveat=600.0)


def test_every_arc_kind_behaves_and_mass_is_conserved(mixed_run) -> None:
    res = mixed_run
    assert res.ok, res.message
    ds = res.dataset
    p = ds["p_Pa"].to_pandas() / 1e5
    q = ds["arc_flow_kg_s"].to_pandas()
    sup = ds["supply_kg_s"].to_pandas()
    before_trip = p.index <= 3600.0
    np.testing.assert_allclose(p.loc[before_trip, "b"], 70.0, rtol=1e-9)  # discharge set point
    np.testing.assert_allclose(p.loc[before_trip, "g"], 40.0, rtol=1e-9)  # regulator outlet set point
    np.testing.assert_allclose(p["src"], 60.0, rtol=1e-12)  # pressure supply
    assert np.all(q.loc[p.index > 3600.0, "cs"].abs() < 1e-6)  # tripped station: no flow
    closed = (p.index > 7200.0) & (p.index <= 9000.0)
    assert np.all(q.loc[closed, "v"].abs() < 1e-6)  # closed valve
    is_open = p.index <= 7200.0
    np.testing.assert_allclose(p.loc[is_open, "c"], p.loc[is_open, "d"], rtol=1e-10)  # open valve: no loss
    assert np.all(p.loc[is_open, "d"] > p.loc[is_open, "e"])  # resistor drop in the flow direction
    cut = (p.index > 1800.0) & (p.index <= 5400.0)
    assert np.all(sup.loc[cut, "inj"] == 0.0) and np.all(sup.loc[~cut, "inj"] == 20.0)
    dem = ds["demand_kg_s"].to_pandas()["dem"]
    assert np.all(dem[dem.index > 9000.0] == 50.0) and np.all(dem[dem.index <= 9000.0] == 150.0)
    # once the regulator's inlet falls below its set point it is wide open (outlet = inlet)
    wide = p["f"] < 40.0
    assert wide.any()
    np.testing.assert_allclose(p.loc[wide, "g"], p.loc[wide, "f"], rtol=1e-9)
    _, rel = res.mass_balance_error()
    assert rel <= 1e-9


def test_station_power_is_reported(mixed_run) -> None:
    from gasgrid.physics.compressor import station_power

    ds = mixed_run.dataset
    pw = ds["compressor_power_W"].sel(compressor="cs").to_pandas()
    t = 1800.0
    q = float(ds["arc_flow_kg_s"].sel(arc="cs", time=t))
    ps, pd = (float(ds["p_Pa"].sel(node=n, time=t)) for n in ("a", "b"))
    cb = mixed_network().compile().compressor
    ref = station_power(np.array([q]), np.array([ps]), np.array([pd]), T_suction=np.array([288.15]),
                        efficiency=cb.efficiency, polytropic=cb.polytropic, electric=cb.electric,
                        driver_efficiency=cb.driver_efficiency, gas=mixed_network().gas).power_shaft[0]
    assert pw[t] == pytest.approx(ref, rel=1e-12) and 1e6 < ref < 1e8
    assert np.all(pw[pw.index > 3600.0] == 0.0)  # tripped


def test_line_pack_is_the_sum_over_pipes_and_volume_uses_the_reference(mixed_run) -> None:
    ds = mixed_run.dataset
    net = mixed_network()
    # nodes no pipe reaches (d between valve and resistor, g after the regulator) hold 1 m^3 each by default
    bare = ds["p_Pa"].sel(node=["d", "g"])
    in_nodes = (1.0 * net.gas.density(bare.to_numpy(), 288.15)).sum(axis=1)
    np.testing.assert_allclose(ds["linepack_pipe_kg"].sum("pipe") + in_nodes, ds["linepack_kg"], rtol=1e-12)
    rho_n = net.gas.reference_density()
    np.testing.assert_allclose(ds["linepack_m3"], ds["linepack_kg"] / rho_n, rtol=1e-12)
    assert ds["linepack_m3"].attrs["reference"].startswith("normal")
    # line pack of one pipe at rest equals its volume times the density at its pressure
    lp0 = float(ds["linepack_pipe_kg"].sel(pipe="p1", time=0.0))
    vol = np.pi / 4 * 0.8**2 * 50e3
    p_mean = float(ds["p_Pa"].sel(node=["src", "a"], time=0.0).mean())
    assert lp0 == pytest.approx(vol * float(net.gas.density(p_mean, 288.15)), rel=2e-3)


def test_survival_time_after_the_trip(mixed_run) -> None:
    st = mixed_run.survival_time(after_s=3600.0)
    assert list(st.index) == ["g"]
    p_g = mixed_run.dataset["p_Pa"].sel(node="g")
    t_cross = 3600.0 + st["g"]
    assert 3600.0 < t_cross < 4 * 3600.0
    assert float(p_g.interp(time=t_cross)) == pytest.approx(30e5, rel=1e-3)
    never = survival_time(mixed_run.dataset, nodes=["src"], p_min_Pa=10e5)
    assert never["src"] == np.inf


def test_outputs_round_trip_netcdf_and_parquet(mixed_run, tmp_path: Path) -> None:
    nc = mixed_run.to_netcdf(tmp_path / "run.nc")
    with xr.open_dataset(nc) as back:
        np.testing.assert_allclose(back["p_Pa"], mixed_run.dataset["p_Pa"])
    pq = mixed_run.to_parquet(tmp_path / "run.parquet")
    import pandas as pd

    table = pd.read_parquet(pq)
    assert {"time_s", "variable", "element", "value"} <= set(table.columns)
    assert set(table["variable"]) >= {"p_Pa", "linepack_kg", "pipe_inflow_kg_s"}


def test_events_file_yaml_and_toml_give_the_same_run(tmp_path: Path) -> None:
    (tmp_path / "ev.yaml").write_text(
        "series:\n"
        "  - {kind: demand, element: dem, quantity: flow_kg_s, t_h: [0, 1, 2], value: [150, 120, 150]}\n"
        "events:\n"
        "  - {type: station_trip, element: cs, t_min: 30}\n"
        "  - {type: supply_cut, element: inj, t_h: 0.5, until_h: 1.5}\n", encoding="utf-8")
    (tmp_path / "ev.toml").write_text(
        "[[series]]\nkind = 'demand'\nelement = 'dem'\nquantity = 'flow_kg_s'\nt_s = [0, 3600, 7200]\n"
        "value = [150, 120, 150]\n"
        "[[events]]\ntype = 'station_trip'\nelement = 'cs'\nt_s = 1800\n"
        "[[events]]\ntype = 'supply_cut'\nelement = 'inj'\nt_s = 1800\nuntil_s = 5400\n", encoding="utf-8")
    a, b = load_events(tmp_path / "ev.yaml"), load_events(tmp_path / "ev.toml")
    assert a == b
    assert a.events == (StationTrip(1800.0, "cs"), SupplyCut(1800.0, "inj", until_s=5400.0))
    res = simulate(mixed_network(), a, dt=120.0, t_end=7200.0, dx=10_000.0, saveat=1800.0)
    assert res.ok and res.mass_balance_error()[1] <= 1e-9
    assert float(res.dataset["demand_kg_s"].sel(demand="dem", time=3600.0)) == pytest.approx(120.0)


def test_pressure_collapse_is_reported_with_the_place() -> None:
    net = mixed_network()
    bc = BoundaryConditions(events=(StationTrip(600.0, "cs"), ValveClose(600.0, "v")))
    with pytest.raises(InfeasibleError, match=r"node '[fg]'|pipe 'p3'"):
        simulate(net, bc, scheme=ImplicitEuler(), dt=120.0, t_end=12 * 3600.0, dx=5000.0, saveat=3600.0)
    res = simulate(net, bc, scheme=ImplicitEuler(), dt=120.0, t_end=12 * 3600.0, dx=5000.0, saveat=3600.0,
                   throw=False)
    assert not res.ok and "reduce withdrawals" in res.message


def test_supply_pressure_series_and_progress_bar() -> None:
    net = mixed_network()
    bc = BoundaryConditions(supply_pressure_Pa={"s": TimeSeries([0, 3600], [60e5, 55e5])})
    res = simulate(net, bc, dt=300.0, t_end=3600.0, dx=10_000.0, progress=True)
    assert res.mass_balance_error()[1] <= 1e-9
    assert float(res.dataset["p_Pa"].sel(node="src").isel(time=-1)) == pytest.approx(55e5)
    assert float(res.dataset["p_Pa"].sel(node="src", time=1800.0)) == pytest.approx(57.5e5)
