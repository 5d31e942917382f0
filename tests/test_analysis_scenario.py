"""Scenario deltas: immutable, picklable, never mutate the base network; validators raise."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gasgrid import Network
from gasgrid.analysis.capacity_search import capacity
from gasgrid.analysis.scenario import (
    DemandScale,
    Outage,
    Scenario,
    SetPoint,
    SupplyChange,
    n_minus_1_scenarios,
)
from gasgrid.analysis.topology import resolve_islands
from gasgrid.errors import InputError
from gasgrid.gas import EOS, Gas


def _net() -> Network:
    n = Network("deltas", gas=Gas(eos=EOS.IDEAL))
    for node in ("s", "a", "b", "c", "a2"):
        n.add_node(node, p_min_bar=30.0, p_max_bar=100.0)
    n.add_supply("src", "s", mode="pressure", p_set_bar=70.0)
    n.add_supply("inj", "c", mode="flow", flow_kg_s=5.0, flow_max_kg_s=8.0)
    n.add_pipe("p1", "s", "a", length_km=50, diameter_mm=600, friction="fixed", lambda_fixed=0.01)
    n.add_pipe("p2", "a", "b", length_km=50, diameter_mm=600, friction="fixed", lambda_fixed=0.01)
    n.add_pipe("p3", "c", "b", length_km=10, diameter_mm=600, friction="fixed", lambda_fixed=0.01)
    n.add_compressor("cs", "a", "a2", mode="discharge", p_set_bar=75.0)
    n.add_pipe("p4", "a2", "b", length_km=50, diameter_mm=600, friction="fixed", lambda_fixed=0.01)
    n.add_demand("da", "a", flow_kg_s=10.0)
    n.add_demand("db", "b", flow_kg_s=20.0, priority=3)
    n.add_demand("inj_exit", "b", flow_kg_s=-1.0)
    return n


def test_deltas_do_not_mutate_and_pickle() -> None:
    c = _net().compile()
    before = (c.arc_active.copy(), c.demand.flow.copy(), c.supply.flow.copy(), c.compressor.mode.copy())
    s = Scenario("all", (Outage("pipe", "p2"), DemandScale(2.0, nodes=("b",)), SupplyChange("inj", flow=7.5),
                         SetPoint("cs", "ratio", 1.3), Outage("compressor", "cs", bypass=True)))
    new = s.apply(c)
    assert_allclose(c.arc_active, before[0])
    assert_allclose(c.demand.flow, before[1])
    assert not new.arc_active[new.arc_index("p2")]
    assert_allclose(new.demand.flow, [10.0, 40.0, -1.0])  # injections are not scaled
    assert new.supply.flow[1] == 7.5 and not new.supply.fixed_pressure[1]
    assert new.compressor.mode[0] != before[3][0]
    with pytest.raises(ValueError, match="read-only"):
        new.arc_active[0] = False
    s2 = pickle.loads(pickle.dumps(s))
    assert s2 == s and s2.kind == "pipe+compressor" and s2.element == "p2+cs"
    assert_allclose(s2.apply(c).demand.flow, new.demand.flow)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Outage("heater", "x"), "kind"),
    (lambda: Outage("pipe", "p1", bypass=True), "bypass"),
    (lambda: DemandScale(-1.0), "factor"),
    (lambda: SupplyChange("inj", flow=1.0, p_bar=50.0), "not both"),
    (lambda: SupplyChange("inj", p_bar=0.0), "p_bar"),
])
def test_delta_validators(make: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        make()  # type: ignore[operator]


def test_apply_time_errors_name_the_element() -> None:
    c = _net().compile()
    with pytest.raises(InputError, match="not a compressor"):
        Outage("compressor", "p1").apply(c)
    with pytest.raises(InputError, match="unknown supply"):
        SupplyChange("nope", flow=1.0).apply(c)
    with pytest.raises(InputError, match="mode"):
        SetPoint("cs", "fast").apply(c)
    with pytest.raises(InputError, match="set points apply"):
        SetPoint("p1", "open").apply(c)


def test_n_minus_1_scenarios_lists_in_service_elements() -> None:
    c = _net().compile()
    names = [s.name for s in n_minus_1_scenarios(c)]
    assert names == ["pipe:p1", "pipe:p2", "pipe:p3", "pipe:p4", "compressor:cs", "supply:src", "supply:inj"]
    only = n_minus_1_scenarios(c, kinds=("pipe",), elements=("p3",))
    assert [s.name for s in only] == ["pipe:p3"]
    with pytest.raises(InputError, match="not found"):
        n_minus_1_scenarios(c, kinds=("pipe",), elements=("cs",))
    with pytest.raises(InputError, match="unknown kind"):
        n_minus_1_scenarios(c, kinds=("heater",))


def test_islands_promote_a_flow_supply_or_cut_the_load() -> None:
    c = _net().compile()
    # without src, the flow supply at c takes over as pressure reference at its base pressure
    net, rep = resolve_islands(Outage("supply", "src").apply(c), base_p_Pa=np.full(c.n_nodes, 60e5))
    assert rep.promoted == ("inj",) and net.supply.fixed_pressure[1] and net.supply.p_set[1] == 60e5
    # cutting p1, p3 and the station leaves a and b without any supply: their demand is islanded
    cut = Scenario("x", (Outage("pipe", "p1"), Outage("pipe", "p3"), Outage("compressor", "cs"))).apply(c)
    net, rep = resolve_islands(cut)
    assert rep.n_islands == 1
    assert_allclose(rep.islanded_kg_s, [10.0, 20.0, 0.0])


def test_capacity_of_a_single_pipe_is_the_hand_value() -> None:
    n = Network("cap", gas=Gas(eos=EOS.IDEAL), temperature_K=288.15)
    n.add_node("s", p_min_bar=1.0, p_max_bar=100.0)
    n.add_node("b", p_min_bar=40.0, p_max_bar=100.0)
    n.add_supply("src", "s", mode="pressure", p_set_bar=70.0)
    n.add_pipe("p", "s", "b", length_km=100.0, diameter_mm=500.0, friction="fixed", lambda_fixed=0.01)
    n.add_demand("d", "b", flow_kg_s=50.0)
    D, A = 0.5, math.pi * 0.25 / 4
    K = 0.01 * n.gas.R_specific * 288.15 * 100e3 / (D * A**2)
    q_max = math.sqrt((70e5**2 - 40e5**2) / K)
    res = capacity(n, tol=1e-5)
    assert_allclose(res.factor * 50.0, q_max, rtol=2e-5)
    assert res.binding_kind == "node" and res.binding_element == "b" and "below minimum" in res.binding
    path = capacity(n, mode="path", path=("src", "d"), tol=1e-5)
    assert_allclose(50.0 + path.factor, q_max, rtol=2e-5)
    with pytest.raises(InputError, match="path"):
        capacity(n, mode="path")
    with pytest.raises(InputError, match="mode"):
        capacity(n, mode="fastest")
