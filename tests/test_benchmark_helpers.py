"""The benchmark helpers cannot rot silently: the synthetic generator builds the networks it promises, and the
pandapipes translation builds the equivalent net element for element and agrees with gasgrid's pressures.

The benchmark itself (benchmarks/bench_steady.py) is not part of the test run; these checks take a few seconds.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import gasgrid as gg
from gasgrid.cases.gaslib import load_gaslib_case
from gasgrid.gas import EOS
from gasgrid.steady import solve_steady

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
# gasgrid vs pandapipes with matched physics: on flat networks the two agree to solver precision; with
# elevations they differ by the hydrostatic treatment (exact exponential vs mean density, g = 9.80665 vs 9.81),
# ~1e-5 bar per metre of climb
FLAT_MATCH_BAR = 1e-6
HILLY_MATCH_BAR = 5e-3


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"gasgrid_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


synthetic = _load("synthetic")


# --- synthetic generator -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "shape"), [(4, (2, 2)), (20, (4, 5)), (1_000, (31, 33)), (100_000, (316, 317))])
def test_lattice_shape_holds_n_nodes(n: int, shape: tuple[int, int]) -> None:
    ny, nx = synthetic.lattice_shape(n)
    assert (ny, nx) == shape
    assert ny * nx >= n > (ny - 1) * nx


def test_lattice_shape_rejects_tiny() -> None:
    with pytest.raises(ValueError, match="n_nodes"):
        synthetic.lattice_shape(3)


@pytest.mark.parametrize("n", [17, 150])
def test_synthetic_network_has_the_promised_shape(n: int) -> None:
    net = synthetic.synthetic_network(n, seed=3)
    net.validate()
    assert len(net.nodes) == n
    pipes = net.pipes
    assert pipes["length_km"].between(1.0, 30.0).all()
    assert pipes["diameter_mm"].between(200.0, 1200.0).all()
    assert (pipes["friction"] == "colebrook").all()
    # meshed: more pipes than a spanning tree, and connected
    assert len(pipes) > n - 1
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    idx = pd.Series(np.arange(n), index=net.nodes.index)
    adj = coo_matrix((np.ones(len(pipes)), (idx[pipes["from_node"]], idx[pipes["to_node"]])), shape=(n, n))
    assert connected_components(adj, directed=False)[0] == 1
    sup = net.supplies
    assert len(sup) >= 1 and (sup["mode"] == "pressure").all()
    assert 0.6 * n < len(net.demands) < n
    assert (net.demands["flow_kg_s"] > 0).all()


def test_synthetic_network_is_reproducible() -> None:
    a = synthetic.synthetic_network(60, seed=11)
    b = synthetic.synthetic_network(60, seed=11)
    c = synthetic.synthetic_network(60, seed=12)
    for kind in ("node", "pipe", "supply", "demand"):
        pd.testing.assert_frame_equal(a.table(kind), b.table(kind))
    assert not a.pipes["length_km"].equals(c.pipes["length_km"])


def test_synthetic_network_solves_feasibly() -> None:
    net = synthetic.synthetic_network(400, seed=5)
    r = solve_steady(net)
    assert r.status.value == "solved", r.message
    p = r.nodes["p_bar"]
    # sized for a lowest pressure near 45 bar from 70 bar supplies (a fixed-lambda estimate, so loosely)
    assert 30.0 < p.min() < 69.0
    assert p.max() == pytest.approx(synthetic.P_SUPPLY_BAR, abs=1e-9)


# --- pandapipes translation --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ppn() -> ModuleType:
    pytest.importorskip("pandapipes", reason="pandapipes (the 'bench' extra) is not installed")
    logging.getLogger("pandapipes").setLevel(logging.ERROR)
    return _load("_pandapipes_net")


def _pressure_gap(ppn: ModuleType, net: gg.Network, eq: object) -> float:
    out = ppn.run_pipeflow(eq)
    assert out["converged"], out["error"]
    r = solve_steady(net)
    assert r.has_state
    return float((out["p_bar"] - r.nodes["p_bar"].reindex(out["p_bar"].index)).abs().max())


def test_translation_of_a_synthetic_net_matches_element_for_element(ppn: ModuleType) -> None:
    base = synthetic.synthetic_network(120, seed=2)
    net, eq = ppn.matched_pair(base)
    assert net.gas.eos is EOS.IDEAL and base.gas.eos is not EOS.IDEAL  # the copy, not the input, is changed
    pp = eq.net
    assert len(pp.junction) == len(net.nodes)
    assert len(pp.pipe) == len(net.pipes)
    np.testing.assert_allclose(pp.pipe["length_km"].to_numpy(), net.pipes["length_km"].to_numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(pp.pipe["inner_diameter_mm"].to_numpy(), net.pipes["diameter_mm"].to_numpy(),
                               rtol=1e-15)
    np.testing.assert_allclose(pp.junction["height_m"].to_numpy(), net.nodes["elevation_m"].to_numpy(), rtol=0)
    assert len(pp.ext_grid) == len(net.supplies)
    np.testing.assert_allclose(pp.sink["mdot_kg_per_s"].sum(), net.demands["flow_kg_s"].sum(), rtol=1e-12)
    assert _pressure_gap(ppn, net, eq) < HILLY_MATCH_BAR


def test_translation_is_exact_on_a_flat_network(ppn: ModuleType) -> None:
    base = synthetic.synthetic_network(120, seed=2)
    nodes = base.nodes.copy()
    nodes["elevation_m"] = 0.0
    base.set_table("node", nodes)
    net, eq = ppn.matched_pair(base)
    assert _pressure_gap(ppn, net, eq) < FLAT_MATCH_BAR


def test_translation_of_gaslib_582_replaces_zero_loss_arcs(ppn: ModuleType) -> None:
    net, eq = ppn.matched_pair(load_gaslib_case("gaslib-582", scale=0.9))
    pp = eq.net
    zero_loss = (len(net.short_pipes) + int(net.valves["open"].sum())
                 + int((net.control_valves["mode"] == "open").sum()) + int((net.compressors["mode"] == "bypass").sum()))
    assert zero_loss > 0
    assert len(pp.pipe) == len(net.pipes) + zero_loss
    short = pp.pipe[pp.pipe["length_km"] == ppn.ZERO_LOSS_LENGTH_KM]
    assert len(short) == zero_loss and (short["inner_diameter_mm"] == ppn.ZERO_LOSS_DIAMETER_M * 1e3).all()
    assert len(pp.valve) == len(net.resistors)  # drag resistors keep their loss coefficient
    np.testing.assert_allclose(pp.valve["loss_coefficient"].to_numpy(), net.resistors["drag_factor"].to_numpy())
    # injections (negative GasLib demands) and fixed-flow supplies end up as sources: the balance is kept
    withdrawal = net.demands["flow_kg_s"].sum() - net.supplies.loc[net.supplies["mode"] == "flow", "flow_kg_s"].sum()
    pp_net = pp.sink["mdot_kg_per_s"].sum() - (pp.source["mdot_kg_per_s"].sum() if len(pp.source) else 0.0)
    np.testing.assert_allclose(pp_net, withdrawal, rtol=0, atol=1e-9 * net.demands["flow_kg_s"].abs().sum())
    assert any("zero-loss" in n for n in eq.notes)
    assert _pressure_gap(ppn, net, eq) < HILLY_MATCH_BAR


def test_translation_with_valves_for_zero_loss_arcs(ppn: ModuleType) -> None:
    net, eq = ppn.matched_pair(load_gaslib_case("gaslib-134"), zero_loss="valve")
    assert len(eq.net.valve) == len(net.short_pipes) + int((net.control_valves["mode"] == "open").sum()) + int(
        (net.compressors["mode"] == "bypass").sum())
    assert len(eq.net.pipe) == len(net.pipes)


def test_fixed_drop_resistors_become_short_pipes_in_both(ppn: ModuleType) -> None:
    net = gg.Network("t")
    for i in range(3):
        net.add_node(f"n{i}")
    net.add_supply("s", "n0", mode="pressure", p_set_bar=60.0)
    net.add_pipe("p", "n0", "n1", length_km=10.0, diameter_mm=500.0)
    net.add_resistor("r", "n1", "n2", pressure_drop_bar=1.0)
    net.add_compressor("c", "n0", "n2", mode="ratio", ratio=1.2, in_service=False)
    net.add_demand("d", "n2", flow_kg_s=20.0)
    copy, eq = ppn.matched_pair(net)
    assert "r" in copy.short_pipes.index and "r" not in copy.resistors.index
    assert copy.compressors.loc["c", "mode"] == "bypass"  # passive, and out of service: not translated
    assert len(eq.net.pipe) == 2
    assert _pressure_gap(ppn, copy, eq) < FLAT_MATCH_BAR


def test_other_friction_laws_are_refused(ppn: ModuleType) -> None:
    net = synthetic.synthetic_network(10, seed=0)
    pipes = net.pipes.copy()
    pipes.loc[pipes.index[0], "friction"] = "nikuradse"
    net.set_table("pipe", pipes)
    with pytest.raises(ValueError, match="Colebrook"):
        ppn.matched_pair(net)
