"""Station efficiency from GasLib characteristic maps (issue 3: efficiency from maps where the data has them)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from gasgrid.cases import load_case
from gasgrid.io.gaslib_controls import activate_controls
from gasgrid.io.gaslib_cs import Configuration, Stage, TurboCompressor
from gasgrid.physics.compressor_maps import map_efficiency
from gasgrid.steady import solve_steady


def _turbo_station() -> object:
    data = load_case("gaslib-582").meta["gaslib_cs"]["compressorStation_5"]
    turbo = next(m for m in data.compressors if isinstance(m, TurboCompressor))
    config = Configuration("only-turbo", (Stage(1, 1, ((turbo.id, turbo.speed_min),)),))
    return replace(data, configurations=(config,)), turbo


def test_turbo_map_efficiency_at_a_point_on_the_map() -> None:
    station, turbo = _turbo_station()
    speed, q = 0.5 * (turbo.speed_min + turbo.speed_max), 1.0
    head = turbo.head(speed, q)
    assert map_efficiency(station, q, head) == pytest.approx(turbo.efficiency(speed, q), rel=1e-9)
    # two parallel units share the flow; two serial stages share the head
    par = replace(station, configurations=(Configuration("p", (Stage(1, 2, ((turbo.id, speed),)),)),))
    assert map_efficiency(par, 2 * q, head) == pytest.approx(turbo.efficiency(speed, q), rel=1e-9)
    # above the top speed's head: off the map
    assert math.isnan(map_efficiency(station, q, 10 * turbo.head(turbo.speed_max, q)))


def test_station_uses_its_map_efficiency_in_power() -> None:
    net = activate_controls(load_case("gaslib-582"))
    r = solve_steady(net)
    row = r.compressors.loc["compressorStation_5"]
    assert row["efficiency_source"] == "map"
    data = net.meta["gaslib_cs"]["compressorStation_5"]
    ps, pd_, q = row["p_suction_bar"] * 1e5, row["p_discharge_bar"] * 1e5, row["flow_kg_s"]
    T, k = net.temperature_K, net.gas.kappa
    z1 = float(net.gas.z(ps, T))
    head = z1 * net.gas.R_specific * T * k / (k - 1) * ((pd_ / ps) ** ((k - 1) / k) - 1)
    eta = map_efficiency(data, q / float(net.gas.density(ps, T)), head)
    assert row["efficiency"] == pytest.approx(eta, rel=1e-6)
    np.testing.assert_allclose(row["power_shaft_MW"], q * head / eta / 1e6, rtol=1e-6)
