"""Steady solver: analytic single pipes, STANET S5, robustness (zero flow, zero-loss loops, several
references), topology errors, infeasibility and violations, mass balance."""

from __future__ import annotations

import numpy as np
import pytest

import gasgrid as g
from gasgrid.errors import InputError, TopologyError
from gasgrid.steady import SteadyOptions, SteadyStatus, solve_steady
from gasgrid.units import G_ACCEL, R_UNIVERSAL

pytestmark = pytest.mark.usefixtures("strict_fp")


def ideal_gas(M: float = 0.018, mu: float = 1.1e-5) -> g.Gas:
    return g.Gas(molar_mass=M, eos="ideal", viscosity=mu)


def one_pipe(law: str = "fixed", lam: float = 0.01, dz: float = 0.0, q: float = 50.0, **kw: float) -> g.Network:
    n = g.Network("one", gas=ideal_gas(), temperature_K=288.15)
    n.add_node("a")
    n.add_node("b", elevation_m=dz)
    n.add_pipe("p", "a", "b", length_km=kw.get("L_km", 50.0), diameter_mm=kw.get("D_mm", 600.0),
               friction=law, lambda_fixed=lam if law == "fixed" else None)
    n.add_supply("s", "a", p_set_bar=70.0)
    n.add_demand("d", "b", flow_kg_s=q)
    return n


def test_single_pipe_matches_closed_form() -> None:
    # analytic isothermal ideal-gas pipe: p2^2 = p1^2 - lambda c^2 L q^2 / (D A^2)
    n = one_pipe()
    r = solve_steady(n)
    c2 = R_UNIVERSAL / 0.018 * 288.15
    A = np.pi * 0.6**2 / 4
    p2 = np.sqrt(70e5**2 - 0.01 * c2 * 50e3 * 50.0**2 / (0.6 * A**2))
    assert r.status is SteadyStatus.SOLVED
    np.testing.assert_allclose(r.nodes.loc["b", "p_Pa"], p2, rtol=1e-12)
    assert r.mass_balance_error <= 1e-12


def test_elevation_closed_form() -> None:
    # p_i^2 - p_j^2 e^s = lambda c^2 L_e q|q| / (D A^2), s = 2 g dz / c^2
    n = one_pipe(dz=500.0)
    r = solve_steady(n)
    c2 = R_UNIVERSAL / 0.018 * 288.15
    s = 2 * G_ACCEL * 500.0 / c2
    A = np.pi * 0.6**2 / 4
    Le = 50e3 * np.expm1(s) / s
    p2 = np.sqrt((70e5**2 - 0.01 * c2 * Le * 50.0**2 / (0.6 * A**2)) / np.exp(s))
    np.testing.assert_allclose(r.nodes.loc["b", "p_Pa"], p2, rtol=1e-12)
    # static column without flow: p2 = p1 exp(-g dz / c^2)
    r0 = solve_steady(one_pipe(dz=500.0, q=0.0))
    np.testing.assert_allclose(r0.nodes.loc["b", "p_Pa"], 70e5 * np.exp(-G_ACCEL * 500 / c2), rtol=1e-12)


@pytest.mark.parametrize(("law", "expected_barg", "tol"), [("nikuradse", 85.6834, 0.02), ("colebrook", 85.6466, 0.02)])
def test_stanet_one_pipe_S5(law: str, expected_barg: float, tol: float) -> None:
    # S5: STANET single pipe (validation.md; data from pandapipes' STANET test networks, BSD-3).
    M = 0.84 * R_UNIVERSAL * 273.15 / 101_325.0  # rho_n = 0.84 kg/m^3 at 0 °C, 1.01325 bar, Z = 1
    n = g.Network("s5", gas=g.Gas(molar_mass=M, eos="ideal", viscosity=1.193e-5), temperature_K=278.15)
    n.add_node("a")
    n.add_node("b")
    n.add_pipe("p", "a", "b", length_km=8.95, diameter_mm=89.0, roughness_mm=0.2, friction=law)
    n.add_supply("s", "a", p_set_bar=100.0 + 1.01325)
    n.add_demand("d", "b", flow_kg_s=1.866667)
    r = solve_steady(n)
    assert abs(r.nodes.loc["b", "p_barg"] - expected_barg) <= tol


def meshed_with_short_pipe_loops() -> g.Network:
    n = g.Network("mesh", gas=ideal_gas())
    for i in range(8):
        n.add_node(f"n{i}")
    n.add_pipe("p01", "n0", "n1", length_km=20, diameter_mm=500)
    n.add_pipe("p12", "n1", "n2", length_km=30, diameter_mm=400)
    n.add_pipe("p03", "n0", "n3", length_km=25, diameter_mm=500)
    n.add_pipe("p32", "n3", "n2", length_km=15, diameter_mm=400)
    # a loop of zero-loss elements: short pipes and open valves n4-n5-n6-n4, hung off n2
    n.add_short_pipe("s24", "n2", "n4")
    n.add_short_pipe("s45", "n4", "n5")
    n.add_valve("v56", "n5", "n6")
    n.add_short_pipe("s64", "n6", "n4")
    n.add_pipe("p57", "n5", "n7", length_km=10, diameter_mm=300)
    n.add_supply("src", "n0", p_set_bar=60)
    n.add_demand("d7", "n7", flow_kg_s=30.0)
    n.add_demand("d6", "n6", flow_kg_s=10.0)
    n.add_demand("d1", "n1", flow_kg_s=5.0)
    return n


def test_zero_loss_loops_and_zero_flow() -> None:
    n = meshed_with_short_pipe_loops()
    r = solve_steady(n)
    assert r.status is SteadyStatus.SOLVED
    assert r.mass_balance_error <= 1e-9
    p = r.nodes["p_bar"]
    assert p["n4"] == p["n5"] == p["n6"] == p["n2"]
    # the supply delivers the total demand
    np.testing.assert_allclose(r.supplies.loc["src", "flow_kg_s"], 45.0, rtol=1e-12)
    # no flow anywhere: every pressure equals the reference
    for d in ("d7", "d6", "d1"):
        n.demands.loc[d, "flow_kg_s"] = 0.0
    r0 = solve_steady(n)
    assert r0.status is SteadyStatus.SOLVED
    np.testing.assert_allclose(r0.nodes["p_bar"], 60.0, rtol=1e-12)
    np.testing.assert_allclose(r0.arcs["q_kg_s"], 0.0, atol=1e-9)


def test_several_references_share_the_load() -> None:
    n = meshed_with_short_pipe_loops()
    n.add_supply("src2", "n7", p_set_bar=59.5)
    r = solve_steady(n)
    assert r.status is SteadyStatus.SOLVED
    total = r.supplies["flow_kg_s"].sum()
    np.testing.assert_allclose(total, 45.0, rtol=1e-12)
    assert r.supplies.loc["src2", "flow_kg_s"] > 0


def test_closed_valve_splits_and_island_errors() -> None:
    n = meshed_with_short_pipe_loops()
    n.valves.loc["v56", "open"] = False
    r = solve_steady(n)  # n6 still fed through s64
    assert r.status is SteadyStatus.SOLVED
    assert r.arcs.loc["v56", "q_kg_s"] == 0.0
    n.add_node("lonely")
    n.add_node("lonely2")
    n.add_pipe("pl", "lonely", "lonely2", length_km=1, diameter_mm=100)
    r = solve_steady(n)  # dead island without load: pressure undefined, reported
    assert np.isnan(r.nodes.loc["lonely", "p_bar"])
    assert "isolated" in r.message
    n.add_demand("dl", "lonely2", flow_kg_s=1.0)
    with pytest.raises(TopologyError, match="lonely"):
        solve_steady(n)


def test_infeasible_names_the_collapse_node() -> None:
    n = one_pipe(law="colebrook", q=2000.0)
    r = solve_steady(n)
    assert r.status is SteadyStatus.INFEASIBLE
    assert "'b'" in r.message
    assert np.isnan(r.nodes.loc["b", "p_bar"])  # never a pressure <= 0
    assert (r.nodes["p_bar"].dropna() > 0).all()
    assert list(r.collapse.index) == ["b"]
    with pytest.raises(g.InfeasibleError):
        r.raise_for_status()


def test_violations_listed_with_margin() -> None:
    n = one_pipe(law="colebrook", q=150.0)
    n.nodes.loc["b", "p_min_bar"] = 60.0
    r = solve_steady(n)
    assert r.status is SteadyStatus.VIOLATIONS
    v = r.violations.iloc[0]
    assert v["element"] == "b" and v["quantity"] == "pressure"
    np.testing.assert_allclose(v["margin"], r.nodes.loc["b", "p_bar"] - 60.0)
    assert r.has_state and not r.ok


def test_supply_contract_bounds_are_violations() -> None:
    n = one_pipe(q=50.0)
    n.supplies.loc["s", "flow_max_kg_s"] = 40.0
    r = solve_steady(n)
    assert r.status is SteadyStatus.VIOLATIONS
    assert r.violations.iloc[0]["kind"] == "supply"


def test_set_points_and_conflicts() -> None:
    n = g.Network("cv", gas=ideal_gas())
    for k in "abcd":
        n.add_node(k)
    n.add_pipe("p1", "a", "b", length_km=30, diameter_mm=500)
    n.add_control_valve("cv", "b", "c", mode="set_point", p_set_bar=40.0)
    n.add_pipe("p2", "c", "d", length_km=30, diameter_mm=500)
    n.add_supply("s", "a", p_set_bar=70)
    n.add_demand("d", "d", flow_kg_s=40)
    r = solve_steady(n, options=SteadyOptions(controllers=False))
    np.testing.assert_allclose(r.nodes.loc["c", "p_bar"], 40.0, rtol=1e-12)
    np.testing.assert_allclose(r.arcs.loc["cv", "q_kg_s"], 40.0, rtol=1e-12)
    n.add_supply("s2", "c", p_set_bar=50)
    with pytest.raises(TopologyError, match=r"both fix the pressure"):
        solve_steady(n, options=SteadyOptions(controllers=False))


def test_bad_input_names_element_and_field() -> None:
    n = g.Network("bad")
    n.add_node("a")
    n.add_node("b")
    n.add_pipe("p", "a", "b", length_km=-1.0, diameter_mm=500)
    with pytest.raises(InputError, match=r"pipe 'p'.*length_km.*\(0, 100000\]"):
        n.compile()
    n = g.Network("bad")
    n.add_node("a")
    n.add_pipe("p", "a", "zz", length_km=1.0, diameter_mm=500)
    with pytest.raises(InputError, match=r"pipe 'p'.*to_node.*unknown node 'zz'"):
        n.compile()
    n = g.Network("bad")
    n.add_node("a")
    n.add_node("a")
    with pytest.raises(InputError, match="duplicate id"):
        n.compile()
    with pytest.raises(InputError, match=r"diameter_mm.*required"):
        g.Network().add_pipe("p", "a", "b", length_km=1.0)
    with pytest.raises(InputError, match="unknown field"):
        g.Network().add_node("a", preasure=3)
    with pytest.raises(TypeError):
        SteadyOptions(tolerance=1e-9)  # type: ignore[call-arg]


def test_no_reference_is_an_error() -> None:
    n = one_pipe()
    n.supplies.loc["s", "mode"] = "flow"
    n.supplies.loc["s", "flow_kg_s"] = 50.0
    with pytest.raises(TopologyError, match="no pressure reference"):
        solve_steady(n)


def test_pump_lift_curve() -> None:
    # p_to = p_from + lift(Q), lift [bar] = c0 + c1 Q + c2 Q^2 with Q the inlet volume flow in m^3/h
    n = g.Network("pump", gas=ideal_gas())
    for k in "abc":
        n.add_node(k)
    n.add_pipe("p1", "a", "b", length_km=5, diameter_mm=200)
    n.add_pump("pu", "b", "c", lift_c0_bar=6.1, lift_c1_bar_h_m3=-0.012966, lift_c2_bar_h2_m6=-1.486e-4)
    n.add_supply("s", "a", p_set_bar=6.0)
    n.add_demand("d", "c", flow_kg_s=0.1)
    r = solve_steady(n)
    assert r.status is SteadyStatus.SOLVED
    Q = 0.1 / n.gas.density(r.nodes.loc["b", "p_Pa"], 288.15) * 3600.0
    lift = 6.1 - 0.012966 * Q - 1.486e-4 * Q * Q
    np.testing.assert_allclose(r.nodes.loc["c", "p_bar"] - r.nodes.loc["b", "p_bar"], lift, rtol=1e-10)
    n.demands.loc["d", "flow_kg_s"] = 0.0  # shut-off head at zero flow
    r = solve_steady(n)
    np.testing.assert_allclose(r.nodes.loc["c", "p_bar"], 6.0 + 6.1, rtol=1e-10)
