"""Bad input to transients is rejected before anything runs, with a message naming what is wrong (STYLE.md 9)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gasgrid import EOS, Gas, InputError, Network
from gasgrid.transient import (
    BDF2,
    BoundaryConditions,
    CompressorControl,
    DemandStep,
    ExplicitStaggered,
    InitialState,
    NewtonOptions,
    StationTrip,
    SupplyCut,
    Theta,
    TimeSeries,
    TransientOptions,
    ValveClose,
    bc_from_dict,
    load_events,
    simulate,
)


def line() -> Network:
    net = Network("line", gas=Gas(eos=EOS.IDEAL), temperature_K=280.0)
    net.add_node("a")
    net.add_node("b")
    net.add_node("c")
    net.add_pipe("p", "a", "b", length_km=10.0, diameter_mm=500.0, friction="fixed", lambda_fixed=0.01)
    net.add_compressor("cs", "b", "c", mode="ratio", ratio=1.2)
    net.add_supply("s", "a", mode="pressure", p_set_bar=50.0)
    net.add_demand("d", "c", flow_kg_s=20.0)
    return net


def run(bc: BoundaryConditions | None = None, **kw: object) -> object:
    args: dict[str, object] = {"dt": 60.0, "t_end": 600.0, "dx": 2000.0}
    args.update(kw)
    res = simulate(line(), bc, **args)  # type: ignore[arg-type]
    assert res.mass_balance_error()[1] <= 1e-9  # invariant on every run
    return res


def test_the_line_runs() -> None:
    res = run()
    assert res.ok  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("bc", "match"),
    [
        (BoundaryConditions(demand_flow_kg_s={"nope": 1.0}), r"demand 'nope'.*no demand with this id"),
        (BoundaryConditions(supply_pressure_Pa={"d": 1.0}), r"supply 'd'"),
        (BoundaryConditions(compressor={"p": CompressorControl("ratio", 1.1)}), r"compressor 'p'"),
        (BoundaryConditions(events=(StationTrip(100.0, "p"),)), r"StationTrip event at an unknown compressor"),
        (BoundaryConditions(events=(ValveClose(100.0, "cs"),)), r"unknown valve"),
        (BoundaryConditions(events=(SupplyCut(100.0, "zz"),)), r"unknown supply"),
        (BoundaryConditions(events=(DemandStep(700.0, "d", flow_kg_s=1.0),)), r"outside the horizon \[0, 600\]"),
        (BoundaryConditions(events=(DemandStep(-1.0, "d", flow_kg_s=1.0),)), r"outside the horizon"),
    ],
)
def test_bad_boundary_conditions_are_rejected(bc: BoundaryConditions, match: str) -> None:
    with pytest.raises(InputError, match=match):
        run(bc)


def test_supply_flow_series_for_a_pressure_supply_is_rejected() -> None:
    with pytest.raises(InputError, match="supply_flow_kg_s given for a pressure supply"):
        run(BoundaryConditions(supply_flow_kg_s={"s": 3.0}))


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"dt": 0.0}, "dt"),
        ({"dt": float("nan")}, "dt"),
        ({"t_end": -5.0}, "t_end"),
        ({"dx": -1.0}, "cell length"),
        ({"saveat": [0.0, 900.0]}, "save times must lie within"),
        ({"saveat": -3.0}, "save interval"),
        ({"scheme": "bdf2"}, "unknown scheme"),
        ({"initial": "cold"}, "initial must be"),
        ({"initial": InitialState({"a": 50e5})}, "lacks the pressure of 2 node"),
        ({"initial": InitialState({"a": 50e5, "b": -1.0, "c": 50e5})}, "positive"),
        ({"initial": np.zeros(3)}, "shape"),
        ({"options": "fast"}, "TransientOptions"),
    ],
)
def test_bad_run_arguments_are_rejected(kw: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        run(**kw)


def test_explicit_scheme_dt_above_cfl_bound_is_rejected_before_running() -> None:
    # ideal gas (M = 17.37 g/mol) at 280 K: c = sqrt(R T / M) = 366 m/s; 1 km cells -> bound 0.9 km / c = 2.46 s
    with pytest.raises(InputError, match=r"dt = 5 s exceeds the CFL bound 2.4\d* s .* pipe 'p'"):
        run(scheme=ExplicitStaggered(), dt=5.0, dx=1000.0)
    with pytest.raises(InputError, match="inertia=True"):
        run(scheme=ExplicitStaggered(), dt=1.0, dx=1000.0, options=TransientOptions(inertia=False))


def test_explicit_scheme_runs_below_the_bound_and_conserves_mass() -> None:
    bc = BoundaryConditions(events=(DemandStep(60.0, "d", flow_kg_s=40.0),))
    res = run(bc, scheme=ExplicitStaggered(), dt=2.0, dx=1000.0, t_end=600.0, saveat=60.0)
    assert res.ok  # type: ignore[attr-defined]
    _, rel = res.mass_balance_error()  # type: ignore[attr-defined]
    assert rel <= 1e-9
    ref = run(bc, scheme=BDF2(), dt=2.0, dx=1000.0, t_end=600.0, saveat=60.0)
    p_e = res.dataset["p_Pa"].sel(node="c").to_numpy()  # type: ignore[attr-defined]
    p_i = ref.dataset["p_Pa"].sel(node="c").to_numpy()  # type: ignore[attr-defined]
    np.testing.assert_allclose(p_e, p_i, rtol=5e-3)


def test_option_objects_validate_themselves() -> None:
    with pytest.raises(InputError, match="theta"):
        Theta(0.3)
    with pytest.raises(InputError, match="courant"):
        ExplicitStaggered(courant=1.5)
    with pytest.raises(InputError, match="tol"):
        NewtonOptions(tol=0.0)
    with pytest.raises(InputError, match="equally many"):
        TimeSeries([0, 1], [1.0])
    with pytest.raises(InputError, match="non-decreasing"):
        TimeSeries([1, 0], [1.0, 2.0])
    with pytest.raises(InputError, match="unknown compressor control mode"):
        CompressorControl("boost", 1.0)
    with pytest.raises(InputError, match="reference"):
        TransientOptions(reference="normal")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"event": []}, "unknown top-level key"),
        ({"events": [{"type": "meteor", "element": "x", "t_s": 1}]}, "unknown event type 'meteor'"),
        ({"events": [{"type": "station_trip", "element": "cs"}]}, "exactly one of"),
        ({"events": [{"type": "station_trip", "element": "cs", "t_s": 1, "t_h": 1}]}, "exactly one of"),
        ({"events": [{"type": "demand_step", "element": "d", "t_s": 1}]}, "flow_kg_s"),
        ({"series": [{"kind": "demand", "element": "d", "quantity": "flow_m3", "t_s": [0], "value": [1]}]},
         "unknown series kind/quantity"),
    ],
)
def test_bad_events_data_is_rejected(data: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        bc_from_dict(data)


def test_events_file_with_unknown_suffix_or_element(tmp_path: Path) -> None:
    bad = tmp_path / "ev.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match=r"\.yaml, \.yml or \.toml"):
        load_events(bad)
    ev = tmp_path / "ev.yaml"
    ev.write_text("events:\n  - {type: valve_close, element: v9, t_h: 0.05}\n", encoding="utf-8")
    with pytest.raises(InputError, match="valve 'v9'"):
        run(load_events(ev))
