"""GasTranSim / GasSteadySim JSON import (gasgrid.io.gastransim)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gasgrid import InputError
from gasgrid.io.gastransim import GASTRANSIM_M_AIR, GASTRANSIM_R, read_gastransim
from gasgrid.transient import BDF2, CompressorControl, TimeSeries

LANL = Path(__file__).parent / "data" / "lanl" / "gastransim"


def test_fast_transient_case_maps_to_network_bc_and_initial_state() -> None:
    case = read_gastransim(LANL / "1-pipe-fast-transients")
    net = case.network
    assert net.summary()["pipe"] == 1 and net.summary()["supply"] == 1 and net.summary()["demand"] == 1
    pipe = net.pipes.loc["p1"]
    assert pipe["length_km"] == 20.0 and pipe["diameter_mm"] == pytest.approx(914.4)
    assert pipe["friction"] == "fixed" and pipe["lambda_fixed"] == 0.01
    assert net.temperature_K == 239.11
    # R/M equals GasTranSim's 8.314 / (0.02896 G): the sound speed of validation.md, 338.2 m/s
    assert net.gas.R_specific == pytest.approx(GASTRANSIM_R / (GASTRANSIM_M_AIR * 0.6), rel=1e-14)
    assert math.sqrt(net.gas.R_specific * 239.11) == pytest.approx(338.2, abs=0.05)
    assert net.supplies.loc["s1", "p_set_bar"] == 65.0
    d = case.bc.demand_flow_kg_s["d2"]
    assert isinstance(d, TimeSeries)
    assert d(599.0) == 0.0 and d(600.0) == 787.63 and d(1800.0) == 78.76 and d(599.5) == pytest.approx(393.815)
    assert (case.t0_s, case.t_end_s, case.dt_s, case.courant) == (0.0, 3600.0, 1.0, 0.9)
    assert case.initial is not None and case.initial.p_node_Pa == {"1": 6.5e6, "2": 6.5e6}
    assert case.initial.q_arc_kg_s == {"p1": 0.0}
    assert case.disruptions["disruption"]["node_disruptions"]["1"]["node_id"] == 4
    net.compile()


def test_compressor_controls_become_schedules() -> None:
    case = read_gastransim(LANL / "8-node")
    comp = case.network.compressors
    assert list(comp.index) == ["c1", "c2", "c3"]
    assert set(comp["mode"]) == {"ratio"}
    assert comp.loc["c1", "ratio"] == pytest.approx(1.529)
    assert comp.loc["c1", "ratio_max"] == 1.4 and comp.loc["c1", "flow_max_kg_s"] == 275.0
    ctl = case.bc.compressor["c1"]
    assert isinstance(ctl, CompressorControl) and ctl.mode == "ratio"
    assert isinstance(ctl.value, TimeSeries) and ctl.value(3600.0) == pytest.approx(1.5237900588395985)


def test_model30_discharge_control_and_runs_briefly() -> None:
    case = read_gastransim(LANL / "model-30")
    comp = case.network.compressors
    assert set(comp["mode"]) == {"discharge"}
    assert comp.loc["c1", "p_set_bar"] == pytest.approx(41.54839726871)
    res = case.simulate(scheme=BDF2(), dt=600.0, dx=10_000.0, t_end=3600.0, saveat=3600.0)
    assert res.ok and res.mass_balance_error()[1] <= 1e-9
    np.testing.assert_allclose(res.dataset["p_Pa"].sel(node="26"), 4154839.726871, rtol=1e-12)


def _write(folder: Path, name: str, data: dict) -> None:
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


def steady_sim_case(folder: Path) -> Path:
    """A tiny GasSteadySim-style case (id/fr_node keys, scalar bc, no ic.json), written inline."""
    _write(folder, "network.json", {
        "nodes": {"1": {"id": 1, "name": "n1", "slack_bool": 1}, "2": {"id": 2, "name": "n2", "slack_bool": 0},
                  "3": {"id": 3, "name": "n3", "slack_bool": 0}},
        "pipes": {"1": {"id": 1, "fr_node": 1, "to_node": 2, "length": 30000.0, "diameter": 0.6,
                        "friction_factor": 0.012}},
        "compressors": {"1": {"id": 1, "fr_node": 2, "to_node": 3}},
    })
    _write(folder, "params.json", {"params": {"Temperature (K):": 288.706, "Gas specific gravity (G):": 0.6,
                                              "units (SI = 0, standard = 1)": 0.0}})
    _write(folder, "bc.json", {"boundary_pslack": {"1": 5e6}, "boundary_nonslack_flow": {"3": 40.0},
                               "boundary_compressor": {"1": {"control_type": 0, "value": 1.3}}})
    return folder


def test_gassteadysim_layout_is_read(tmp_path: Path) -> None:
    case = read_gastransim(steady_sim_case(tmp_path))
    assert case.initial is None
    net = case.network
    assert list(net.pipes.index) == ["p1"] and net.pipes.loc["p1", "from_node"] == "1"
    assert net.compressors.loc["c1", "ratio"] == 1.3
    res = case.simulate(dt=600.0, t_end=1800.0, dx=5000.0)
    assert res.mass_balance_error()[1] <= 1e-9
    p = res.dataset["p_Pa"].isel(time=-1).to_series()
    assert p["3"] == pytest.approx(1.3 * p["2"], rel=1e-10)
    assert p["1"] == pytest.approx(5e6)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d["bc.json"].update(boundary_pslack={"9": 5e6}), "unknown node"),
        (lambda d: d["bc.json"].update(boundary_compressor={"1": {"control_type": 7, "value": 1.0}}),
         "unknown control_type"),
        (lambda d: d["bc.json"].update(boundary_compressor={"5": {"control_type": 0, "value": 1.2}}),
         "unknown compressor"),
        (lambda d: d["params.json"]["params"].update({"units (SI = 0, standard = 1)": 1}), "only SI"),
        (lambda d: d["network.json"]["pipes"]["1"].pop("diameter"), r"missing field 'diameter'"),
        (lambda d: d["network.json"].update(regulators={"1": {}}), "not supported"),
    ],
)
def test_bad_files_raise_input_errors(tmp_path: Path, mutate, match: str) -> None:
    steady_sim_case(tmp_path)
    data = {n: json.loads((tmp_path / n).read_text()) for n in ("network.json", "params.json", "bc.json")}
    mutate(data)
    for n, d in data.items():
        _write(tmp_path, n, d)
    with pytest.raises(InputError, match=match):
        read_gastransim(tmp_path)


def test_missing_folder_or_broken_json(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no network\.json"):
        read_gastransim(tmp_path / "nowhere")
    steady_sim_case(tmp_path)
    (tmp_path / "bc.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="invalid JSON"):
        read_gastransim(tmp_path)
