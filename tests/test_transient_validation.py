"""Transient cross-checks against published results and invariants (validation.md, "Transients").

T1 and T1b: Gyrya & Zlotnik (2019) §5.2/§5.3 through the GasTranSim inputs in tests/data/lanl/gastransim.
Steady stays steady: GasTranSim model-30 from its ic.json. Every run also checks mass conservation.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gasgrid.io.gastransim import read_gastransim
from gasgrid.transient import BDF2, InitialState, NewtonOptions, TransientOptions

LANL = Path(__file__).parent / "data" / "lanl" / "gastransim"
MASS_RTOL = 1e-9  # inflow - outflow - d(line pack), relative to the boundary throughput

# T1: outlet pressure of GasTranSim [L], validation.md
T1_TIMES = [600, 660, 720, 780, 900, 1200, 1500, 1740, 1800, 1860, 1980, 2100, 2280, 2400, 3600]
T1_P_MPA = [6.3182, 5.3500, 4.8946, 4.5686, 4.0909, 3.3844, 3.0108, 2.8329, 2.9630, 4.5139, 5.6064, 6.2159,
            6.4840, 6.4696, 6.4723]
T1_INFLOW = {780: 506.16, 1140: 686.85, 1500: 741.88}  # kg/s [L]


def assert_mass_conserved(res: object) -> float:
    _, rel = res.mass_balance_error()  # type: ignore[attr-defined]
    assert rel <= MASS_RTOL, f"mass balance error {rel:.3g} of the throughput"
    return rel


@pytest.fixture(scope="module")
def t1_result():
    case = read_gastransim(LANL / "1-pipe-fast-transients")
    # GasTranSim's own grid: dx = c dt / Courant = 338.2 m/s * 1 s / 0.9 = 376 m; dt = 1 s as in params.json
    saves = sorted(set(T1_TIMES) | set(T1_INFLOW))
    return case.simulate(scheme=BDF2(), dt=1.0, dx=376.0, saveat=saves, t_end=3600.0,
                         options=TransientOptions(newton=NewtonOptions(tol=1e-8)))


def test_t1_outlet_pressure_matches_published_series(t1_result) -> None:
    ds = t1_result.dataset
    p = ds["p_Pa"].sel(node="2", time=T1_TIMES).to_numpy() / 1e6
    ref = np.array(T1_P_MPA)
    rel = np.abs(p - ref) / ref
    t = np.array(T1_TIMES)
    in_window = ((t >= 600) & (t <= 1200)) | ((t >= 1800) & (t <= 2400))
    assert np.all(rel[in_window] <= 0.05), dict(zip(t[in_window], rel[in_window], strict=True))
    assert np.all(rel[~in_window] <= 0.01), dict(zip(t[~in_window], rel[~in_window], strict=True))
    assert rel[-1] <= 1e-4


def test_t1_end_state_is_the_analytic_steady_state(t1_result) -> None:
    # sqrt(p1^2 - lambda L c^2 phi^2 / D) with GasTranSim's constants [C]
    c2 = 8.314 * 239.11 / (0.02896 * 0.6)
    phi = 78.76 / (math.pi / 4 * 0.9144**2)
    exact = math.sqrt(6.5e6**2 - 0.01 * 20_000 * c2 * phi**2 / 0.9144)
    p_end = float(t1_result.dataset["p_Pa"].sel(node="2", time=3600.0))
    assert p_end == pytest.approx(exact, rel=1e-4)


def test_t1_inlet_flow_follows_published_values(t1_result) -> None:
    q = t1_result.dataset["pipe_inflow_kg_s"].sel(pipe="p1")
    for t, ref in T1_INFLOW.items():
        assert float(q.sel(time=t)) == pytest.approx(ref, rel=0.05)


def test_t1_conserves_mass(t1_result) -> None:
    assert_mass_conserved(t1_result)


def test_t1b_slow_transient_runs_to_its_horizon() -> None:
    case = read_gastransim(LANL / "1-pipe-slow-transients")
    assert case.t_end_s == 43_200.0
    # ic.json states 6.5 MPa at both ends with 157.6 kg/s flowing, which is not a steady state; start from the
    # discrete steady state instead, whose outlet pressure is the closed-form 6.2167 MPa [C]
    res = case.simulate(scheme=BDF2(), dt=30.0, dx=1000.0, saveat=3600.0, initial="steady")
    assert res.ok
    ds = res.dataset
    assert float(ds["time"][-1]) == 43_200.0
    assert float(ds["p_Pa"].sel(node="2", time=0.0)) == pytest.approx(6.2167e6, rel=1e-4)
    p_out = ds["p_Pa"].sel(node="2").to_numpy()
    assert np.all(p_out > 3e6) and np.all(p_out < 8.2e6)
    assert_mass_conserved(res)


@pytest.mark.parametrize("project", [True, False])
def test_model30_steady_state_stays_steady_for_24_hours(project: bool) -> None:
    case = read_gastransim(LANL / "model-30")
    assert case.initial is not None
    init = InitialState(case.initial.p_node_Pa, case.initial.q_arc_kg_s, project=project)
    # GasTranSim runs its compressors on their controls, without gasgrid's station limits (model-30's stations
    # would sit on power_max) or fuel gas; its ic.json is that state
    res = case.simulate(scheme=BDF2(), dt=600.0, dx=5000.0, saveat=3600.0, initial=init, t_end=86_400.0,
                        options=TransientOptions(station_limits=False, fuel_gas=False))
    assert res.ok
    p = res.dataset["p_Pa"].to_numpy()
    p_ic = np.array([case.initial.p_node_Pa[n] for n in res.dataset["node"].to_numpy()])
    drift = np.max(np.abs(p - p[0]) / p[0])
    if project:
        # the discrete steady state of these inputs does not move
        assert drift <= 1e-6
        q = res.dataset["pipe_inflow_kg_s"].to_numpy()
        np.testing.assert_allclose(q, np.broadcast_to(q[0], q.shape), rtol=1e-6, atol=1e-6)
    else:
        # ic.json as given: its pipe flows are 1.4e-5 below the withdrawals of bc.json (16.999758 vs 17 kg/s),
        # so it relaxes to the steady state of bc.json, which lies within 2e-5 of ic.json
        assert drift <= 2e-5
    assert np.max(np.abs(p - p_ic) / p_ic) <= 2e-5
    assert_mass_conserved(res)


def test_initial_steady_state_converges_to_the_steady_solver() -> None:
    """Cross-check with gasgrid.steady on a meshed ideal-gas network with elevation: the transient grid's
    steady state approaches the steady solver's exact pipe law at second order in dx."""
    from gasgrid import EOS, Gas, Network
    from gasgrid.steady import solve_steady
    from gasgrid.transient import simulate

    net = Network("loop", gas=Gas(eos=EOS.IDEAL), temperature_K=283.15)
    for n, z in [("a", 0.0), ("b", 100.0), ("c", 50.0), ("d", 200.0)]:
        net.add_node(n, elevation_m=z)
    net.add_supply("s", "a", mode="pressure", p_set_bar=70.0)
    net.add_pipe("ab", "a", "b", length_km=60.0, diameter_mm=700.0)
    net.add_pipe("ac", "a", "c", length_km=40.0, diameter_mm=500.0)
    net.add_pipe("bc", "b", "c", length_km=30.0, diameter_mm=400.0)
    net.add_pipe("cd", "c", "d", length_km=50.0, diameter_mm=600.0)
    net.add_demand("d1", "d", flow_kg_s=120.0)
    net.add_demand("d2", "b", flow_kg_s=40.0)
    ps = solve_steady(net).nodes["p_Pa"]
    errs = []
    for dx in (4000.0, 1000.0):
        res = simulate(net, dt=60.0, t_end=60.0, dx=dx)
        p = res.dataset["p_Pa"].isel(time=0).to_series()
        errs.append(float((np.abs(p - ps[p.index]) / ps[p.index]).max()))
        assert_mass_conserved(res)
    assert errs[1] <= 1e-6
    assert errs[0] / errs[1] >= 10.0  # second order: 16 expected
