"""Steady post-processing and topology: minimum-norm flows of zero-loss arcs (forest + cycle projection vs a
dense least-squares solution and vs the grounded-Laplacian route), the compiled layout vs its numpy reference,
the compiled post passes vs the numpy formulas, lazily built violations, and lossless resistors contracted
like short pipes."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gasgrid as g
from gasgrid.cases import load_case
from gasgrid.graph import connected_components
from gasgrid.physics.pipe import pipe_linepack
from gasgrid.steady import SteadyOptions, SteadyStatus, solve_steady
from gasgrid.steady import layout as layout_module
from gasgrid.steady import zero_flows as zf
from gasgrid.steady.solver import _system_for
from gasgrid.steady.system import Behaviour, arc_behaviour, build_system, build_system_reference

RTOL = 1e-12  # same solution, other rounding


def _min_norm_reference(n: int, group: np.ndarray, za_from: np.ndarray, za_to: np.ndarray, ref_node: np.ndarray,
                        b_nodes: np.ndarray) -> np.ndarray:
    """Minimum-norm flows on zero arcs and ground arcs, by dense least squares on the incidence matrix with the
    balance of each super-node's smallest node dropped (what the Laplacian with that node grounded solves)."""
    grounds = np.unique(group[ref_node])
    gidx = np.full(group.max() + 1, -1)
    gidx[grounds] = np.arange(len(grounds))
    a_from = np.concatenate([za_from, n + gidx[group[ref_node]]])
    a_to = np.concatenate([za_to, ref_node])
    m = len(a_from)
    A = np.zeros((n + len(grounds), m))
    A[a_from, np.arange(m)] += 1.0
    A[a_to, np.arange(m)] -= 1.0
    b = np.concatenate([b_nodes, np.zeros(len(grounds))])
    for gi, grp in enumerate(grounds):
        b[n + gi] = -b_nodes[group == grp].sum()
    rows = np.ones(len(b), dtype=bool)
    rows[np.unique(group, return_index=True)[1]] = False
    f, *_ = np.linalg.lstsq(A[rows], b[rows], rcond=None)
    return f


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 25).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=40),
    st.lists(st.integers(0, n - 1), max_size=4),
    st.integers(0, 2**31 - 1),
)))
def test_zero_flows_are_minimum_norm(case: tuple[int, list[tuple[int, int]], list[int], int]) -> None:
    """Random graphs of zero-loss arcs (loops, parallels and self-loops included) and pressure supplies."""
    n, edges, refs, seed = case
    za_from = np.array([e[0] for e in edges], dtype=np.int64)
    za_to = np.array([e[1] for e in edges], dtype=np.int64)
    n_groups, group = connected_components(n, za_from, za_to)
    supply_node = np.array(refs, dtype=np.int64)
    ref_mask = np.ones(len(refs), dtype=bool)
    rng = np.random.default_rng(seed)
    withdrawal = rng.normal(size=n)
    zero_arcs = np.arange(len(edges), dtype=np.int64)
    ref, gon, n_grounds, a_from, a_to, order, parent, n_chords, ptr, arcs, signs, chol = zf.zero_topology(
        n, n_groups, group, zero_arcs, za_from, za_to, supply_node, ref_mask, len(edges) + len(refs))
    assert n_chords == len(a_from) - (n + n_grounds - len(np.unique(group)))  # one chord per independent loop
    q_arc, supply_flow = zf.all_arc_flows(
        np.zeros(0), np.zeros(0, dtype=np.int64), np.full(len(edges), -1, dtype=np.int64), zero_arcs, za_from,
        za_to, withdrawal, len(refs), ref, gon, n_grounds, a_from, a_to, order, parent, ptr, arcs, signs, chol)
    expected = _min_norm_reference(n, group, za_from, za_to, supply_node, -withdrawal)
    scale = max(np.abs(expected).max(initial=0.0), 1.0)
    # lstsq's own rounding (an SVD) sets the tolerance here; the 582 test compares two exact routes at 1e-12
    np.testing.assert_allclose(np.concatenate([q_arc, supply_flow]), expected, rtol=0, atol=1e-10 * scale)


def test_zero_flows_match_the_laplacian_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """GasLib-582 has loops of zero-loss arcs: the cycle projection and the sparse Laplacian agree, on the base
    case and on outages that change the zero-loss topology."""
    from gasgrid.analysis.scenario import n_minus_1_scenarios

    base = load_case("gaslib-582", scale=0.9).compile()
    nets = [base] + [s.apply(base) for s in n_minus_1_scenarios(base, kinds=("short_pipe", "valve"))[::7]]
    checked = 0
    for c in nets:
        try:
            sys = build_system(c, arc_behaviour(c))
        except g.TopologyError:  # an outage that islands demand (the contingency analysis resolves those first)
            continue
        if zf.zero_flow_topology(c, sys).n_chords == 0:
            continue
        checked += 1
        res = solve_steady(c)
        with monkeypatch.context() as m:
            m.setattr(zf, "MAX_CHORDS", -1)
            zf._LAPLACIAN_CACHE.clear()
            lap = solve_steady(c.with_())
        assert lap.status is res.status and lap.message == res.message
        scale = np.abs(res.arc_q).max()
        np.testing.assert_allclose(lap.arc_q, res.arc_q, rtol=0, atol=RTOL * scale)
        np.testing.assert_allclose(lap.supplies["flow_kg_s"], res.supplies["flow_kg_s"], rtol=RTOL, atol=RTOL * scale)
    assert checked > 10


def _assert_same_system(a: object, b: object) -> None:
    for name, value in vars(b).items():
        other = getattr(a, name)
        if isinstance(value, np.ndarray):
            assert other.dtype == value.dtype, name
            np.testing.assert_array_equal(other, value, err_msg=name)
        else:
            assert other == value, name


def test_layout_kernel_matches_reference() -> None:
    """Same system (or the same error) as the numpy reference, on the cases, their outages, stations and
    regulators in random control modes, and random behaviours on a few arcs (set-point conflicts, bridged or
    looping set points, floating regions, islands)."""
    assert [int(x) for x in Behaviour] == [
        layout_module.REMOVED, layout_module.ZERO, layout_module.PIPE, layout_module.RESISTOR, layout_module.SET_TO,
        layout_module.SET_FROM, layout_module.RATIO, layout_module.FLOW, layout_module.POWER, layout_module.PUMP]
    from gasgrid.analysis.scenario import n_minus_1_scenarios

    rng = np.random.default_rng(3)
    outcomes: set[str] = set()
    for name in ("gaslib-40", "gaslib-582", "east-route"):
        base = load_case(name).compile()
        for c in [base] + [s.apply(base) for s in n_minus_1_scenarios(base)[::9]]:
            behaviours = [arc_behaviour(c)]
            for _ in range(2):
                cs = rng.choice(5, size=len(c.compressor.arc))  # every mode that keeps the station in
                behaviours.append(arc_behaviour(c, cs_modes=cs, cv_modes=rng.choice(2, size=len(c.control_valve.arc))))
            for _ in range(4):
                b = behaviours[0].copy()
                some = rng.choice(len(b), size=max(1, len(b) // 50), replace=False)
                b[some] = rng.integers(0, len(Behaviour), size=len(some))
                behaviours.append(b)
            for b in behaviours:
                try:
                    ref = build_system_reference(c, b)
                except g.GasgridError as exc:
                    outcomes.add(str(exc)[:20])
                    with pytest.raises(type(exc), match=re.escape(str(exc))):
                        build_system(c, b)
                    continue
                outcomes.add("ok")
                _assert_same_system(build_system(c, b), ref)
    assert len(outcomes) >= 5  # solved, and several kinds of error


def test_post_passes_match_numpy_formulas() -> None:
    c = load_case("gaslib-582", scale=0.9).compile()
    res = solve_steady(c)
    p, q = res.p_Pa, res.arc_q
    # mass balance from the arrays
    s = c.supply
    inj = np.zeros(c.n_nodes)
    ref = s.active & s.fixed_pressure  # flow supplies are in the withdrawal
    np.add.at(inj, s.node[ref], res.supplies["flow_kg_s"].to_numpy()[ref])
    w = res.nodes["withdrawal_kg_s"].to_numpy()
    imbalance = np.bincount(c.arc_to, q, c.n_nodes) - np.bincount(c.arc_from, q, c.n_nodes) + inj - w
    assert res.mass_balance_error <= 1e-9
    np.testing.assert_allclose(res.mass_balance_error, np.abs(imbalance).max() / res.throughput_kg_s, atol=1e-14)
    # line pack as physics.pipe computes it
    P = c.pipe
    pf = np.maximum(np.nan_to_num(p[c.arc_from[P.arc]], nan=0.0), 1.0)
    pt = np.maximum(np.nan_to_num(p[c.arc_to[P.arc]], nan=0.0), 1.0)
    lp = pipe_linepack(pf, pt, length=P.length, diameter=P.diameter, temperature=P.temperature, gas=c.gas)
    active = c.arc_active[P.arc]
    np.testing.assert_allclose(res.linepack_kg, lp[active].sum(), rtol=RTOL)
    np.testing.assert_allclose(res.arcs["linepack_kg"].to_numpy()[P.arc], np.where(active, lp, np.nan), rtol=RTOL)
    # bounds, as numpy lists them (nodes low, nodes high, pipes above MAOP), then stably by margin
    tol = SteadyOptions().bound_tol_bar * 1e5
    lo = np.flatnonzero(p < c.p_min - tol)
    hi = np.flatnonzero(p > c.p_max + tol)
    pm = np.fmax(p[c.arc_from[P.arc]], p[c.arc_to[P.arc]])
    k = np.flatnonzero(active & (pm > P.p_max + tol))
    element = np.concatenate([c.node_ids[lo], c.node_ids[hi], c.arc_ids[P.arc[k]]])
    margin = np.concatenate([(p[lo] - c.p_min[lo]), (c.p_max[hi] - p[hi]), (P.p_max[k] - pm[k])]) / 1e5
    order = np.argsort(margin, kind="stable")
    v = res.violations
    assert res.n_violations == len(v) == len(margin) > 0
    np.testing.assert_array_equal(v["element"].to_numpy(), element[order])
    np.testing.assert_allclose(v["margin"].to_numpy(), margin[order], rtol=RTOL)
    top = v.iloc[0]
    assert res.message.startswith(f"solved with {len(v)} bound violation(s); worst: {top['kind']} {top['element']!r}")


def test_violations_and_linepack_lazy_and_pickled_unbuilt() -> None:
    c = load_case("gaslib-582", scale=0.9).compile()
    res = solve_steady(c)
    assert "violations" not in res._tables and res._violation_data is None and res._linepack is None
    back = pickle.loads(pickle.dumps(res))  # the closures are not pickled: what they build is built first
    assert back.linepack_kg == res.linepack_kg > 0
    cols = res.violation_columns()
    assert len(cols["margin"]) == res.n_violations == back.n_violations
    for k, col in cols.items():
        np.testing.assert_array_equal(col, back.violation_columns()[k])
    assert back.violations.equals(res.violations)


def _resistor_line(kind: str) -> g.Network:
    n = g.Network("r", gas=g.Gas(molar_mass=0.018, eos="ideal", viscosity=1.1e-5), temperature_K=288.15)
    for node in ("a", "b", "c", "d"):
        n.add_node(node)
    n.add_pipe("p1", "a", "b", length_km=20, diameter_mm=500)
    if kind == "drag":
        n.add_resistor("r", "b", "c", drag_factor=0.0, diameter_mm=500.0)
    elif kind == "fixed":
        n.add_resistor("r", "b", "c", pressure_drop_bar=0.0)
    else:
        n.add_short_pipe("r", "b", "c")
    n.add_pipe("p2", "c", "d", length_km=30, diameter_mm=400)
    n.add_short_pipe("loop", "b", "c")  # a loop of zero-loss arcs with the resistor
    n.add_supply("s", "a", p_set_bar=60.0)
    n.add_demand("dem", "d", flow_kg_s=40.0)
    return n


@pytest.mark.parametrize("kind", ["drag", "fixed"])
def test_lossless_resistor_is_contracted(kind: str) -> None:
    c = _resistor_line(kind).compile()
    assert arc_behaviour(c)[c.arc_index("r")] == Behaviour.ZERO
    res = solve_steady(c)
    ref = solve_steady(_resistor_line("short_pipe"))
    assert res.status is SteadyStatus.SOLVED and res.mass_balance_error <= 1e-12
    np.testing.assert_allclose(res.nodes["p_Pa"], ref.nodes["p_Pa"], rtol=RTOL)
    assert res.nodes.loc["b", "p_Pa"] == res.nodes.loc["c", "p_Pa"]
    arcs = res.arcs
    assert arcs.loc["r", "kind"] == "resistor"
    # minimum norm: the resistor and the parallel short pipe share the flow equally
    np.testing.assert_allclose(arcs.loc[["r", "loop"], "q_kg_s"], 20.0, rtol=RTOL)
    np.testing.assert_allclose(arcs.loc[["r", "loop"], "q_kg_s"], ref.arcs.loc[["r", "loop"], "q_kg_s"], rtol=RTOL)


def test_resistor_with_drag_keeps_its_equation() -> None:
    n = _resistor_line("drag")
    n.resistors.loc["r", "drag_factor"] = 2.0
    c = n.compile()
    assert arc_behaviour(c)[c.arc_index("r")] == Behaviour.RESISTOR
    assert solve_steady(c).status is SteadyStatus.SOLVED


def test_gaslib_4197_zero_drag_resistor() -> None:
    c = load_case("gaslib-4197").compile()
    b = arc_behaviour(c)
    assert b[c.arc_index("resistor_3")] == Behaviour.ZERO
    sys = _system_for(c, b)
    assert c.arc_index("resistor_3") in sys.zero_arcs
    res = solve_steady(c)
    assert res.has_state and res.mass_balance_error <= 1e-9
    assert np.isfinite(res.arcs.loc["resistor_3", "q_kg_s"])


def test_supply_and_listed_violations_in_order() -> None:
    """A pressure supply beyond its contract flows, and rows left on the compiled network, are listed with the
    bounds, stably sorted by margin; the message names the worst."""
    from gasgrid.steady.violations import violation_row

    n = _resistor_line("short_pipe")
    n.supplies.loc["s", "flow_max_kg_s"] = 30.0  # delivers 40
    c = n.compile()
    c.__dict__["_extra_violations"] = [violation_row("compressor", "cs", "ratio", 2.0, 1.5, -0.5, "-", "above"),
                                       violation_row("compressor", "cs2", "ratio", 2.0, 1.0, -20.0, "-", "above")]
    res = solve_steady(c)
    assert res.status is SteadyStatus.VIOLATIONS and res.n_violations == 3
    v = res.violations
    assert list(v["element"]) == ["cs2", "s", "cs"]
    assert list(v["kind"]) == ["compressor", "supply", "compressor"]
    assert v.loc[1, "message"] == "injection above contract maximum" and v.loc[1, "unit"] == "kg/s"
    np.testing.assert_allclose(v["margin"], [-20.0, 30.0 - 40.0, -0.5], rtol=1e-9)
    assert "worst: compressor 'cs2' ratio 2 - vs bound 1 (margin -20)." in res.message
