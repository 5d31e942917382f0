"""Curtailment and redispatch: hand-computed answers on small networks (ideal gas, fixed friction factor,
flat terrain, so that p_from^2 - p_to^2 = K q^2 with K = lambda R T L / (D A^2) holds exactly)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gasgrid import Network
from gasgrid.analysis.contingency import evaluate_scenario
from gasgrid.analysis.curtailment import CurtailmentOptions, curtail, is_feasible
from gasgrid.analysis.scenario import Outage, Scenario
from gasgrid.errors import InputError
from gasgrid.gas import EOS, Gas
from gasgrid.steady import solve_steady

T = 288.15
LAM = 0.01


def _k_bar2(gas: Gas, length_km: float, d_mm: float) -> float:
    """K in bar^2 s^2/kg^2 for p_from^2 - p_to^2 = K q^2."""
    D = d_mm * 1e-3
    A = math.pi * D**2 / 4
    return LAM * gas.R_specific * T * length_km * 1e3 / (D * A**2) / 1e10


def _net(demands: dict[str, tuple[str, float, int]], pipes: list[tuple[str, str, str, float, float]],
         p_min: float = 40.0) -> Network:
    n = Network("hand", gas=Gas(eos=EOS.IDEAL), temperature_K=T)
    nodes = {"src"} | {a for _, a, _, _, _ in pipes} | {b for _, _, b, _, _ in pipes}
    for node in sorted(nodes):
        n.add_node(node, p_min_bar=1.0 if node == "src" else p_min, p_max_bar=100.0)
    n.add_supply("s", "src", mode="pressure", p_set_bar=70.0)
    for pid, a, b, L, D in pipes:
        n.add_pipe(pid, a, b, length_km=L, diameter_mm=D, friction="fixed", lambda_fixed=LAM)
    for did, (node, q, prio) in demands.items():
        n.add_demand(did, node, flow_kg_s=q, priority=prio)
    return n


def test_single_pipe_curtailment_is_the_weymouth_limit() -> None:
    net = _net({"d": ("b", 200.0, 1)}, [("p", "src", "b", 100.0, 500.0)])
    c = net.compile()
    base = solve_steady(c)
    assert not is_feasible(c, base)
    cr = curtail(c, state=base)
    K = _k_bar2(net.gas, 100.0, 500.0)
    q_max = math.sqrt((70.0**2 - 40.0**2) / K)  # hand value: p_b = p_min exactly
    assert cr.feasible, cr.message
    assert_allclose(cr.served_kg_s["d"], q_max, rtol=2e-4)
    assert_allclose(cr.total_unserved_kg_s, 200.0 - q_max, rtol=2e-4)
    assert cr.hydraulic is not None and cr.hydraulic.nodes.loc["b", "p_bar"] >= 40.0 - 1e-6


def test_protected_customer_downstream_is_served_first() -> None:
    # src --p1--> a (ordinary, priority 1) --p2--> b (protected, priority 5)
    net = _net({"da": ("a", 40.0, 1), "db": ("b", 30.0, 5)},
               [("p1", "src", "a", 100.0, 500.0), ("p2", "a", "b", 50.0, 400.0)])
    c = net.compile()
    base = solve_steady(c)
    assert base.nodes.loc["b", "p_bar"] < 40.0  # the nomination is not deliverable
    cr = curtail(c, state=base)
    assert cr.feasible, cr.message
    K1, K2 = _k_bar2(net.gas, 100.0, 500.0), _k_bar2(net.gas, 50.0, 400.0)
    pa2 = 40.0**2 + K2 * 30.0**2  # b at p_min with the protected demand in full
    da = math.sqrt((70.0**2 - pa2) / K1) - 30.0  # hand value
    assert_allclose(cr.served_kg_s["db"], 30.0, rtol=1e-6)
    assert_allclose(cr.served_kg_s["da"], da, rtol=1e-3)
    # the state the answer describes is hydraulically feasible
    assert is_feasible(cr.network, cr.hydraulic)
    tab = cr.table()
    assert_allclose(tab.loc["da", "unserved_kg_s"], 40.0 - da, rtol=1e-3)


def test_supply_outage_curtails_lowest_priority_by_the_missing_supply() -> None:
    n = Network("two-supplies", gas=Gas(eos=EOS.IDEAL), temperature_K=T)
    for node in ("src", "a", "b", "c"):
        n.add_node(node, p_min_bar=20.0, p_max_bar=100.0)
    n.add_supply("s1", "src", mode="pressure", p_set_bar=70.0, flow_min_kg_s=0.0, flow_max_kg_s=50.0)
    n.add_supply("s2", "c", mode="flow", flow_kg_s=20.0, flow_min_kg_s=0.0, flow_max_kg_s=20.0)
    for pid, a, b in (("p1", "src", "a"), ("p2", "a", "b"), ("p3", "c", "a")):
        n.add_pipe(pid, a, b, length_km=10.0, diameter_mm=1000.0, friction="fixed", lambda_fixed=LAM)
    n.add_demand("ordinary", "a", flow_kg_s=30.0, priority=1, group="north")
    n.add_demand("hospital", "b", flow_kg_s=40.0, priority=5, group="south")
    c = n.compile()
    base = solve_steady(c)
    assert base.ok
    rec = evaluate_scenario(c, Scenario("supply:s2", (Outage("supply", "s2"),)), base_result=base)
    assert rec["error"] == "" and rec["curtailed"] and rec["curtailment_feasible"]
    assert_allclose(rec["unserved_kg_s"], 20.0, rtol=1e-6)  # hand value: 70 nominated - 50 available
    per_node = json.loads(rec["unserved_by_node"])
    assert list(per_node) == ["a"] and abs(per_node["a"] - 20.0) < 1e-5


def test_islanded_demand_is_unserved_not_an_error() -> None:
    net = _net({"da": ("a", 10.0, 1), "db": ("b", 5.0, 1)},
               [("p1", "src", "a", 10.0, 500.0), ("p2", "a", "b", 10.0, 500.0)])
    c = net.compile()
    base = solve_steady(c)
    rec = evaluate_scenario(c, Scenario("pipe:p2", (Outage("pipe", "p2"),)), base_result=base)
    assert rec["error"] == ""
    assert_allclose([rec["unserved_kg_s"], rec["islanded_kg_s"]], [5.0, 5.0])
    assert "island" in rec["message"]


def test_failing_scenario_is_recorded_with_its_error() -> None:
    net = _net({"da": ("a", 10.0, 1)}, [("p1", "src", "a", 10.0, 500.0)])
    c = net.compile()
    rec = evaluate_scenario(c, Scenario("bad", (Outage("pipe", "no-such-pipe"),)))
    assert rec["status"] == "error" and "no-such-pipe" in rec["error"]
    assert np.isnan(rec["unserved_kg_s"])


def test_curtailment_options_validate() -> None:
    with pytest.raises(InputError, match="shrink"):
        CurtailmentOptions(shrink=1.5)
    with pytest.raises(InputError, match="max_iter"):
        CurtailmentOptions(max_iter=0)
