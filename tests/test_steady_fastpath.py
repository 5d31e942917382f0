"""The compiled Newton path (steady/fastpath.py) gives the general path's answer: same status, iterations and
residual history, pressures and flows to rounding, on passive and controlled networks, from every start, and
hands over to the general path where it does not apply."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import gasgrid as g
from gasgrid.cases.gaslib import load_gaslib_case
from gasgrid.steady import SteadyOptions, SteadyResult, SteadyStatus, fastpath, solve_steady
from gasgrid.steady.assemble import ArcJacobian
from gasgrid.steady.nodal import NodalLU
from gasgrid.steady.options import InitialGuess

pytestmark = pytest.mark.usefixtures("strict_fp")

GENERAL = NodalLU()  # an explicit linear solver selects the general (Python) Newton loop


@pytest.fixture
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts the compiled path's outcomes: 'used' (it returned a result), 'declined' (it returned None) and
    'unsupported' (the system has equations it does not compile)."""
    calls = {"used": 0, "declined": 0, "unsupported": 0}
    real, real_supported = fastpath.fast_newton, fastpath.supported

    def counting(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        calls["used" if out is not None else "declined"] += 1
        return out

    def counting_supported(asm: Any) -> bool:
        ok = real_supported(asm)
        calls["unsupported"] += not ok
        return ok

    monkeypatch.setattr(fastpath, "fast_newton", counting)
    monkeypatch.setattr(fastpath, "supported", counting_supported)
    yield calls


def _same(a: SteadyResult, b: SteadyResult, rtol: float = 1e-10) -> None:
    assert a.status is b.status, (a.message, b.message)
    assert a.iterations == b.iterations
    assert a.control_iterations == b.control_iterations
    np.testing.assert_allclose(a.residual_history, b.residual_history, rtol=1e-6, atol=1e-13)
    np.testing.assert_allclose(a.p_Pa, b.p_Pa, rtol=rtol)
    scale = max(float(np.nanmax(np.abs(b.arc_q))), 1.0)
    np.testing.assert_allclose(a.arc_q, b.arc_q, rtol=0, atol=1e-9 * scale)
    assert a.mass_balance_error <= 1e-9


def _station(mode: str, **kw: object) -> g.Network:
    """A station between two pipes; a second source where the station's mode needs one (as test_compressor)."""
    n = g.Network("station", gas=g.Gas(molar_mass=0.01735, eos="papay", kappa=1.3, hhv_mass=52e6))
    for k in ("src", "suc", "dis", "city", "far"):
        n.add_node(k)
    n.add_pipe("up", "src", "suc", length_km=100, diameter_mm=900)
    n.add_pipe("down", "dis", "city", length_km=150, diameter_mm=900)
    n.add_pipe("tie", "far", "city", length_km=100, diameter_mm=900)
    n.add_compressor("cs", "suc", "dis", mode=mode, efficiency=0.8, driver_efficiency=0.35, **kw)
    n.add_supply("s", "src", p_set_bar=60.0)
    n.add_supply("s2", "far", p_set_bar=66.0)
    n.add_demand("d", "city", flow_kg_s=100.0)
    return n


def _regulated() -> g.Network:
    """A meshed grid fed through a regulator on outlet set point, with a resistor and a loop of short pipes."""
    n = g.Network("regulated", gas=g.Gas(molar_mass=0.0175, eos="cnga"))
    for k in ("in", "reg", "a", "b", "c", "d", "e"):
        n.add_node(k, elevation_m={"c": 120.0, "d": 40.0}.get(k, 0.0))
    n.add_supply("s", "in", p_set_bar=80.0)
    n.add_control_valve("cv", "in", "reg", mode="set_point", p_set_bar=55.0)
    n.add_pipe("p1", "reg", "a", length_km=40, diameter_mm=600, friction="colebrook")
    n.add_pipe("p2", "a", "b", length_km=30, diameter_mm=500, friction="hofer")
    n.add_pipe("p3", "a", "c", length_km=25, diameter_mm=500, friction="swamee_jain")
    n.add_pipe("p4", "b", "d", length_km=20, diameter_mm=400, friction="nikuradse")
    n.add_resistor("r", "c", "d", drag_factor=2.5, diameter_mm=400)
    n.add_short_pipe("s1", "d", "e")
    n.add_short_pipe("s2", "e", "b")
    for k, q in (("b", 20.0), ("c", 15.0), ("e", 25.0)):
        n.add_demand(f"d_{k}", k, flow_kg_s=q)
    return n


def _ratio_into_fixed_pressure() -> g.Network:
    """A station on ratio control whose outlet pressure is fixed by a supply: its equation then fixes the inlet
    (the static row swap must use the inlet's balance)."""
    n = g.Network("ratio-fixed-outlet", gas=g.Gas(molar_mass=0.01735, eos="papay", kappa=1.3, hhv_mass=52e6))
    for k in ("src", "suc", "dis", "city"):
        n.add_node(k)
    n.add_pipe("up", "src", "suc", length_km=100, diameter_mm=900)
    n.add_pipe("down", "dis", "city", length_km=150, diameter_mm=900)
    n.add_compressor("cs", "suc", "dis", mode="ratio", ratio=1.2, efficiency=0.8, driver_efficiency=0.35)
    n.add_supply("s", "dis", p_set_bar=70.0)
    n.add_supply("s0", "src", mode="flow", flow_kg_s=80.0)
    n.add_demand("d", "city", flow_kg_s=100.0)
    return n


CASES: dict[str, Callable[[], g.Network]] = {
    "gaslib-582 at 90 %": lambda: load_gaslib_case("gaslib-582", scale=0.9),
    "gaslib-40": lambda: load_gaslib_case("gaslib-40"),
    "station on discharge": lambda: _station("discharge", p_set_bar=70.0),
    "station on suction": lambda: _station("suction", p_set_bar=50.0),
    "station on ratio": lambda: _station("ratio", ratio=1.3),
    "station on throughput": lambda: _station("flow", flow_set_kg_s=40.0),
    "regulator, resistor, short-pipe loop": _regulated,
    "station on ratio into a fixed pressure": _ratio_into_fixed_pressure,
}


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_path_equals_general_path(name: str, fast_calls: dict[str, int]) -> None:
    net = CASES[name]().compile()
    fast = solve_steady(net)
    assert fast_calls["used"] >= 1 and fast_calls["declined"] == fast_calls["unsupported"] == 0, \
        "the compiled path was not taken"
    general = solve_steady(net, options=SteadyOptions(linear_solver=GENERAL))
    _same(fast, general)
    assert fast.status is not SteadyStatus.NOT_CONVERGED


@pytest.mark.parametrize("start", ["warm", "flat"])
def test_other_starts(start: str, fast_calls: dict[str, int]) -> None:
    net = load_gaslib_case("gaslib-582", scale=0.9).compile()
    if start == "warm":
        prev = solve_steady(load_gaslib_case("gaslib-582", scale=0.8))
        a = solve_steady(net, initial=prev)
        b = solve_steady(net, initial=prev, options=SteadyOptions(linear_solver=GENERAL))
        assert a.iterations < solve_steady(net).iterations  # the warm start is used
    else:
        opts = SteadyOptions(initial_guess=InitialGuess.FLAT)
        a = solve_steady(net, options=opts)
        b = solve_steady(net, options=SteadyOptions(initial_guess=InitialGuess.FLAT, linear_solver=GENERAL))
    assert fast_calls["used"] == (3 if start == "warm" else 1) and fast_calls["declined"] == 0
    _same(a, b)


def test_iteration_limit_reported_the_same_way(fast_calls: dict[str, int]) -> None:
    net = load_gaslib_case("gaslib-582", scale=0.9).compile()
    a = solve_steady(net, options=SteadyOptions(max_iter=2))
    b = solve_steady(net, options=SteadyOptions(max_iter=2, linear_solver=GENERAL))
    assert fast_calls["used"] == 1
    assert a.status is b.status is SteadyStatus.NOT_CONVERGED
    assert "max_iter" in a.message and a.iterations == b.iterations == 2
    np.testing.assert_allclose(a.residual_history, b.residual_history, rtol=1e-8)


def test_unsupported_systems_take_the_general_path(fast_calls: dict[str, int]) -> None:
    # a station on power control has no compiled equation: the general path solves it
    r = solve_steady(_station("power", power_set_MW=8.0))
    assert r.status is SteadyStatus.SOLVED, r.message
    np.testing.assert_allclose(r.compressors.loc["cs", "power_shaft_MW"], 8.0, rtol=1e-9)
    assert fast_calls["unsupported"] >= 1


def test_step_declines_an_arc_without_flow_derivative() -> None:
    # an eliminated arc with dF/dq = 0 cannot be eliminated: the step is refused (the general path then
    # factorises the full system), never divided by zero
    net = _regulated().compile()
    res = solve_steady(net)
    assert res.status is SteadyStatus.SOLVED
    from gasgrid.steady.assemble import Assembler
    from gasgrid.steady.solver import arc_set_points, node_withdrawal
    from gasgrid.steady.system import arc_behaviour, build_system

    sys_ = build_system(net, arc_behaviour(net))
    asm = Assembler(net, sys_, arc_set_points(net), node_withdrawal(net))
    x = np.zeros(sys_.n)
    x[: sys_.n_free] = 1.0
    F, J = asm(x, True)
    assert isinstance(J, ArcJacobian)
    J.d_q[asm.p_row[0]] = 0.0
    pat = fastpath._pattern(sys_, "COLAMD")
    lu = fastpath.analyse(pat.n, pat.indptr, pat.indices, pat.row_perm)
    lay_i, _ = fastpath.layout(asm, pat)
    n = sys_.n
    ok = fastpath._step(F, J.c_from, J.c_to, J.d_q, lay_i, pat.s_elim, pat.s_kept, lu.arrays, np.empty(lu.lnz),
                        np.empty(lu.unz), np.empty(pat.nnz), np.empty(pat.n), np.zeros(pat.n), np.empty(n),
                        sys_.n_free, asm.q_s, np.empty(n), 1e-12)
    assert ok is False


def test_a_failed_static_pivot_hands_over_to_the_general_path(monkeypatch: pytest.MonkeyPatch,
                                                               fast_calls: dict[str, int]) -> None:
    net = _regulated().compile()
    expected = solve_steady(net, options=SteadyOptions(linear_solver=GENERAL))
    monkeypatch.setattr(fastpath, "PIVOT_TOL", 1e300)  # every pivot is "too small"
    got = solve_steady(net)
    assert fast_calls["declined"] >= 1 and fast_calls["used"] == 0
    _same(got, expected, rtol=1e-13)
