"""EU N-1 indicator (Reg. (EU) 2017/1938 Annex II) against hand-computed examples."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from gasgrid import Network
from gasgrid.analysis.n1 import classify_supply, n_minus_1_from_network, n_minus_1_indicator
from gasgrid.errors import InputError
from gasgrid.units import Reference


def test_indicator_hand_example() -> None:
    # (40 + 10 + 25 + 15 - 40) / 50 = 100 %
    r = n_minus_1_indicator(EP_m=40, P_m=10, S_m=25, LNG_m=15, I_m=40, D_max=50)
    assert_allclose(r.value_percent, 100.0, rtol=1e-12)
    assert r.passes
    # (30 + 5 + 10 + 0 - 20) / 40 = 62.5 %
    r = n_minus_1_indicator(30, 5, 10, 0, 20, 40)
    assert_allclose(r.value_percent, 62.5, rtol=1e-12)
    assert not r.passes
    t = r.table.set_index("term")
    assert_allclose(t.loc["numerator", "value"], 25.0)
    assert {"EP_m", "P_m", "S_m", "LNG_m", "I_m", "D_max", "D_eff", "N-1"} <= set(t.index)


def test_demand_side_variant() -> None:
    # 25 / (40 - 15) = 100 %; the standard formula stays at 62.5 %
    r = n_minus_1_indicator(30, 5, 10, 0, 20, 40, D_eff=15)
    assert_allclose(r.value_percent, 62.5, rtol=1e-12)
    assert_allclose(r.demand_side_percent, 100.0, rtol=1e-12)
    assert r.passes


@pytest.mark.parametrize(("kw", "field"), [({"D_max": 0.0}, "D_max"), ({"D_eff": 50.0}, "D_eff"),
                                           ({"EP_m": -1.0}, "EP_m"), ({"I_m": float("nan")}, "I_m")])
def test_indicator_validates(kw: dict[str, float], field: str) -> None:
    args = {"EP_m": 30, "P_m": 5, "S_m": 10, "LNG_m": 0, "I_m": 20, "D_max": 40} | kw
    with pytest.raises(InputError, match=field):
        n_minus_1_indicator(**args)


def test_classification_convention() -> None:
    assert classify_supply("x", "Dalian LNG send-out") == "LNG"
    assert classify_supply("shuangtaizi_ugs") == "S"
    assert classify_supply("s1", "Underground storage") == "S"
    assert classify_supply("kovykta", "Kovykta field") == "P"
    assert classify_supply("border_ip", "interconnector") == "EP"


def _area_net() -> Network:
    n = Network("area")
    for node in ("ip", "lng", "ugs", "field", "city", "town", "far"):
        n.add_node(node)
    n.add_supply("ip", "ip", mode="pressure", p_set_bar=70.0, flow_max_kg_s=100.0, name="border interconnector")
    n.add_supply("lng", "lng", mode="flow", flow_kg_s=10.0, flow_max_kg_s=60.0, name="LNG terminal")
    n.add_supply("ugs", "ugs", mode="flow", flow_kg_s=0.0, flow_max_kg_s=40.0, name="storage site")
    n.add_supply("field", "field", mode="flow", flow_kg_s=20.0, flow_max_kg_s=20.0, name="gas field")
    n.add_supply("far", "far", mode="flow", flow_kg_s=0.0, flow_max_kg_s=500.0, name="outside the area")
    n.add_demand("city", "city", flow_kg_s=120.0, group="A")
    n.add_demand("town", "town", flow_kg_s=30.0, group="A")
    return n


def test_from_network_hand_example() -> None:
    net = _area_net()
    area = ["ip", "lng", "ugs", "field", "city", "town"]
    r = n_minus_1_from_network(net, area=area)
    k = 86_400.0 / net.gas.reference_density(Reference.NORMAL) / 1e6  # kg/s -> mcm/d
    assert_allclose([r.EP_m, r.P_m, r.S_m, r.LNG_m], [100 * k, 20 * k, 40 * k, 60 * k], rtol=1e-12)
    assert r.largest_infrastructure == "ip"
    assert_allclose(r.I_m, 100 * k, rtol=1e-12)
    assert_allclose(r.D_max, 150 * k, rtol=1e-12)
    # hand value: (100 + 20 + 40 + 60 - 100) / 150 = 80 %
    assert_allclose(r.value_percent, 80.0, rtol=1e-12)
    # demand side with 30 kg/s of demand response: 120 / 120 = 100 %
    r2 = n_minus_1_from_network(net, area=area, D_eff_kg_s=30.0)
    assert_allclose(r2.demand_side_percent, 100.0, rtol=1e-12)
    # two entries that cannot be operated separately count as one infrastructure: I_m = 60 + 40 = 100 as well,
    # and an explicit category override moves the storage into EP
    r3 = n_minus_1_from_network(net, area=area, infrastructure={"lng": "coast", "ugs": "coast"},
                                categories={"ugs": "EP"}, D_max_kg_s=200.0)
    assert_allclose(r3.EP_m, 140 * k, rtol=1e-12)
    assert_allclose(r3.value_percent, 60.0, rtol=1e-12)  # (220 - 100) / 200


def test_from_network_by_group_and_errors() -> None:
    net = _area_net()
    r = n_minus_1_from_network(net, area="A")  # only the demand nodes: no entries inside
    assert r.value_percent == 0.0
    with pytest.raises(InputError, match="neither a demand group nor a node"):
        n_minus_1_from_network(net, area="nowhere")
    net.table("supply").loc["ip", "flow_max_kg_s"] = float("inf")
    with pytest.raises(InputError, match="flow_max_kg_s"):
        n_minus_1_from_network(net)
