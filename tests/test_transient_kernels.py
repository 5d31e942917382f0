"""The compiled transient kernels against the physics functions, a numpy statement of the equations, scipy's LU and
each other (gasgrid.transient.{gas,friction}_kernels, kernels, sweep, linear, fastpath)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from gasgrid import EOS, Gas, Network
from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.physics.compressor import station_power
from gasgrid.physics.friction import darcy_friction
from gasgrid.transient import (
    BDF2,
    BoundaryConditions,
    ExplicitStaggered,
    ImplicitEuler,
    StationTrip,
    Theta,
    TimeSeries,
    ValveClose,
    ValveOpen,
    simulate,
    sweep,
)
from gasgrid.transient import kernels as K
from gasgrid.transient._jit import refresh_stale_caches
from gasgrid.transient.bc import ControlSchedule
from gasgrid.transient.friction_kernels import face_parameters, law_lambda
from gasgrid.transient.gas_kernels import GasKernel, StationKernel
from gasgrid.transient.grid import build_grid
from gasgrid.transient.initial import steady_vector
from gasgrid.transient.linear import PipeElimination, PipeEliminationLU, SparseLU
from gasgrid.transient.stepper import Stepper, _friction_close
from gasgrid.transient.system import Q_SCALE, ArcMode, Controls, System
from gasgrid.units import M_AIR, R_UNIVERSAL

RTOL_EXACT = 1e-13  # same formulas, different summation order or per-element iteration stops
RTOL_TABLE = 1e-10  # the isentropic exponent from its spline (KAPPA_TOL), against the exact AGA8 value
RTOL_SOLVE = 1e-11  # a linear solve, relative to the solution's size, on a well-conditioned system

COMPOSITION = {"methane": 0.93, "ethane": 0.04, "propane": 0.01, "nitrogen": 0.015, "carbon dioxide": 0.005}


def gases() -> list[Gas]:
    return [Gas(eos=EOS.IDEAL), Gas(eos=EOS.PAPAY), Gas(eos=EOS.CNGA),
            Gas.from_composition(COMPOSITION, eos=EOS.AGA8)]


@pytest.mark.parametrize("gas", gases(), ids=lambda g: g.eos.value)
def test_density_kernel_is_the_gas_model(gas: Gas) -> None:
    T = np.array([275.15, 288.15])
    gk = GasKernel(gas, T, 12e6)
    p = np.concatenate([np.linspace(-2e5, 12e6, 41), [0.0, 35e6]])  # below zero, and beyond the first table
    for ti in (0, 1):
        rho, drho = np.empty(p.size), np.empty(p.size)
        gk.densities(p, np.arange(p.size), np.full(p.size, ti), rho, drho)
        z, dz = gas.z_and_dz_dp(p, np.full(p.size, T[ti]))
        rt = gas.R_specific * T[ti]
        np.testing.assert_allclose(rho, p / (z * rt), rtol=RTOL_EXACT, atol=1e-12)
        np.testing.assert_allclose(drho, (1.0 - p * dz / z) / (z * rt), rtol=RTOL_EXACT)


def test_friction_laws_are_the_physics_functions() -> None:
    n_laws = len(FRICTION_LAWS)
    law = np.repeat(np.arange(n_laws, dtype=np.int64), 9)
    D = np.full(law.size, 0.8)
    k = np.where(law == FRICTION_LAWS.index("nikuradse"), 0.0, 2e-5)  # a smooth wall where it matters (lambda 0)
    k[::9] = 5e-5
    lam_fixed = np.where(law == FRICTION_LAWS.index("fixed"), 0.011, np.nan)
    q = np.tile([0.0, 1e-6, 1e-3, 0.05, 1.0, 30.0, 300.0, 3000.0, 20000.0], n_laws)
    mu, G = 1.1e-5, 0.6
    fp = face_parameters(law, D, k, lam_fixed, mu, G)
    lam, dln = darcy_friction(law, np.maximum(q, 1e-9), D, k, mu, lam_fixed, relative_density=G)
    xfac = R_UNIVERSAL / (G * M_AIR)
    got = np.array([law_lambda(law[i], q[i], fp[0, i], fp[1, i], fp[6, i], fp[2, i], fp[3, i], fp[4, i], fp[5, i],
                               xfac, 0.0) for i in range(law.size)])
    np.testing.assert_allclose(got[:, 0], lam, rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], dln, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("composition", [None, COMPOSITION], ids=["constant-kappa", "aga8-kappa"])
def test_station_kernel_is_station_power(composition) -> None:
    gas = Gas(eos=EOS.PAPAY) if composition is None else Gas.from_composition(composition, eos=EOS.AGA8)
    T = np.array([281.15, 288.15, 281.15])
    gk = GasKernel(gas, np.unique(T), 10e6)
    eff, poly, elec, drv = np.array([0.8, 0.85, 0.75]), np.array([False, True, False]), \
        np.array([False, False, True]), np.array([0.33, 0.35, 0.95])
    sk = StationKernel(gk, T, eff, poly, elec, drv, 10e6)
    q, ps, pd = np.array([250.0, -10.0, 80.0]), np.array([6e6, 7e6, 8e6]), np.array([9e6, 8.5e6, 7e6])
    got = sk.evaluate(q, ps, pd)
    st = station_power(q, ps, pd, T_suction=T, efficiency=eff, polytropic=poly, electric=elec, driver_efficiency=drv,
                       gas=gas)
    for row, ref in enumerate((st.power_shaft, st.fuel, st.dP_dq, st.dP_dpi_from, st.dP_dpi_to)):
        np.testing.assert_allclose(got[row], ref, rtol=RTOL_TABLE, atol=1e-300)
    fwd = sk.evaluate(q, ps, pd, forward_only=True)  # only the first compresses forward (q > 0, ps < pd)
    np.testing.assert_allclose(fwd[:, 0], got[:, 0])
    assert np.all(fwd[:, 1:] == 0.0)


# --- the equations ----------------------------------------------------------------------------------------------
def every_kind_network(gas: Gas) -> Network:
    """Pipes with several laws, 1-cell and many-cell pipes, an elevation, a compressor, valve, fixed-drop and drag
    resistors, a regulator, a check valve, pressure and flow supplies, nodes without pipes."""
    net = Network("kinds", gas=gas, temperature_K=285.0)
    for n, z in [("s", 0.0), ("a", 50.0), ("b", 50.0), ("c", 120.0), ("d", 120.0), ("e", 100.0), ("f", 90.0),
                 ("g", 90.0), ("h", 80.0), ("k", 80.0), ("m", 80.0)]:
        net.add_node(n, elevation_m=z)
    net.add_supply("s0", "s", mode="pressure", p_set_bar=65.0)
    net.add_pipe("p1", "s", "a", length_km=23.0, diameter_mm=700.0)
    net.add_compressor("cs", "a", "b", mode="discharge", p_set_bar=72.0)
    net.add_pipe("p2", "b", "c", length_km=0.6, diameter_mm=700.0, friction="swamee_jain")  # one cell
    net.add_valve("v", "c", "d")
    net.add_resistor("r1", "d", "e", drag_factor=4.0, diameter_mm=700.0)
    net.add_pipe("p3", "e", "f", length_km=17.0, diameter_mm=500.0, friction="weymouth")
    net.add_resistor("r2", "f", "g", pressure_drop_bar=0.3)
    net.add_pipe("p4", "g", "h", length_km=9.5, diameter_mm=500.0, friction="fixed", lambda_fixed=0.012,
                 temperature_K=278.15)
    net.add_control_valve("cv", "h", "k", mode="set_point", p_set_bar=40.0)
    net.add_check_valve("ck", "k", "m")
    net.add_demand("dk", "m", flow_kg_s=60.0)
    net.add_supply("inj", "f", mode="flow", flow_kg_s=8.0)
    return net


def states(system: System, x0: np.ndarray, n: int, seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    g = system.grid
    out = []
    for _ in range(n):
        x = x0.copy()
        x[: g.n_pressure] *= 1.0 + 0.01 * rng.standard_normal(g.n_pressure)
        x[g.n_pressure :] += 5.0 * rng.standard_normal(g.n - g.n_pressure)
        out.append(x)
    return out


@pytest.fixture(scope="module", params=["papay", "aga8"])
def case(request):
    gas = Gas(eos=EOS.PAPAY) if request.param == "papay" else Gas.from_composition(COMPOSITION, eos=EOS.AGA8)
    net = every_kind_network(gas).compile()
    g = build_grid(net, 2000.0)
    system = System(g)
    u = ControlSchedule(g, BoundaryConditions()).at(0.0)
    x0 = steady_vector(system, u)
    return system, u, x0


def numpy_residual(system: System, x: np.ndarray, u: Controls, c: float, hist: np.ndarray) -> np.ndarray:
    """R = c M - F - hist, written out in numpy from the equations of gasgrid.transient.system (law friction)."""
    g = system.grid
    net = g.net
    gas = net.gas
    rho_of = lambda p, T: p / (gas.z_and_dz_dp(p, np.broadcast_to(T, np.shape(p)))[0] * gas.R_specific * T)  # noqa: E731
    n, of, oo, ops = g.n, g.off_face, g.off_other, g.off_psupply
    M = np.bincount(g.atom_var, weights=g.atom_volume * rho_of(x[g.atom_var], g.atom_T), minlength=n)
    q = x[of:oo]
    fp = g.face_pipe
    pb = net.pipe
    T = pb.temperature[fp]
    rbar = 0.5 * (rho_of(x[g.face_left], T) + rho_of(x[g.face_right], T))
    lam, _ = darcy_friction(pb.law[fp], np.maximum(np.abs(q), 1e-9), pb.diameter[fp], pb.roughness[fp],
                            gas.viscosity, np.where(pb.law[fp] == FRICTION_LAWS.index("fixed"), pb.lambda_fixed[fp], 0.0),
                            relative_density=gas.relative_density)
    A = g.area[fp]
    lam_q = np.maximum(lam * np.abs(q), 64.0 * gas.viscosity * A / pb.diameter[fp])
    Kf = g.h[fp] / (2.0 * pb.diameter[fp] * A**2 * pb.efficiency[fp] ** 2)
    G = x[g.face_right] - x[g.face_left] + Kf * lam_q * q / rbar + rbar * 9.80665 * g.face_dz
    M[of:oo] = system.inertia * g.h[fp] / A * q
    F = np.bincount(g.face_right, weights=q, minlength=n) - np.bincount(g.face_left, weights=q, minlength=n)
    F[of:oo] = -G
    qa = x[oo:ops]
    for j, a in enumerate(g.other_arcs):
        pf, pt = x[net.arc_from[a]], x[net.arc_to[a]]
        mode, v = u.arc_mode[j], u.arc_value[j]
        if mode == ArcMode.LINK:
            Ga = pf - pt
        elif mode == ArcMode.P_TO:
            Ga = pt - v
        elif mode == ArcMode.RESISTOR:
            k = list(net.resistor.arc).index(a)
            if np.isfinite(net.resistor.dp_fixed[k]):
                Ga = pf - pt - net.resistor.dp_fixed[k] * qa[j] / math.sqrt(qa[j] ** 2 + 0.01)
            else:
                area = 0.25 * math.pi * net.resistor.diameter[k] ** 2
                rb = 0.5 * (rho_of(pf, net.temperature) + rho_of(pt, net.temperature))
                Ga = pf - pt - net.resistor.drag[k] / (2 * area**2) * qa[j] * math.sqrt(qa[j] ** 2 + 1e-6) / rb
        elif mode in (ArcMode.REGULATOR, ArcMode.CHECK):
            target = pf if (mode == ArcMode.CHECK or pf <= v) else v
            Ga = min(Q_SCALE * qa[j], pt - target)
        else:
            raise AssertionError(f"mode {mode} not in this network")
        F[oo + j] = -Ga
        F[net.arc_to[a]] += qa[j]
        F[net.arc_from[a]] -= qa[j]
    s = x[ops:]
    node = net.supply.node[g.psupply]
    F[ops:] = -(x[node] - u.supply_p[g.psupply])
    inj = np.where(u.supply_on & ~net.supply.fixed_pressure, u.supply_flow, 0.0)
    F[: g.n_nodes] += (np.bincount(net.supply.node, weights=inj, minlength=g.n_nodes)
                       - np.bincount(net.demand.node, weights=u.demand_flow, minlength=g.n_nodes)
                       + np.bincount(node, weights=s, minlength=g.n_nodes))
    return c * M - F - hist


def test_residual_kernel_is_the_equations(case) -> None:
    system, u, x0 = case
    rng = np.random.default_rng(5)
    for x in states(system, x0, 3):
        hist = rng.standard_normal(system.n)
        R = system.residual(x, u, 1.0 / 60.0, hist)  # no friction reference: the laws themselves
        ref = numpy_residual(system, x, u, 1.0 / 60.0, hist)
        scale = np.abs(ref) + np.abs(hist) + 1e-3 * np.max(np.abs(ref))
        np.testing.assert_allclose(R / scale, ref / scale, rtol=0, atol=1e-12)


def test_jacobian_kernel_matches_finite_differences(case) -> None:
    system, u, x0 = case
    x = states(system, x0, 1)[0]
    ref = system.friction_reference(x[system.grid.off_face : system.grid.off_other])
    c = 1.0 / 120.0
    J = system.jacobian(x, u, c, friction=ref).toarray()
    hist = np.zeros(system.n)
    R0 = system.residual(x, u, c, hist, friction=ref)
    for k in range(0, system.n, 7):
        step = 1e-6 * max(abs(x[k]), 1.0)
        xp = x.copy()
        xp[k] += step
        col = (system.residual(xp, u, c, hist, friction=ref) - R0) / step
        np.testing.assert_allclose(J[:, k], col, rtol=1e-4, atol=1e-6 * np.max(np.abs(J[:, k])) + 1e-9)


@pytest.mark.parametrize("face_flux", [True, False])
def test_pipe_sweeps_equal_the_generic_kernels(case, face_flux: bool) -> None:
    system, u, x0 = case
    g = system.grid
    rng = np.random.default_rng(11)
    for x in states(system, x0, 3):
        ref = system.friction_reference(x0[g.off_face : g.off_other] * 1.0005)
        hist = rng.standard_normal(system.n)
        M, F, R = np.empty(system.n), np.empty(system.n), np.empty(system.n)
        system._run(K.evaluate, x, system.lay, system.fi, system.fk, system.fp, *system._friction_args(ref), g.atom_var,
                    system.atom_dp, g.atom_volume, system.ai, system.ap, system.ps_sup, system.ps_node,
                    system.sup_node, system.sup_fixed, system.dem_node, *system._controls(x, u), system.inertia,
                    face_flux, 0.01, hist, True, M, F, R)
        np.testing.assert_array_equal(system.residual(x, u, 0.01, hist, friction=ref, face_flux=face_flux), R)
        M2 = np.empty(system.n)
        system._run(K.storage, x, system.lay, system.fk, g.atom_var, system.atom_dp, g.atom_volume, system.inertia,
                    M2)
        np.testing.assert_array_equal(system.storage(x), M2)
        M3 = np.empty(system.n)
        over, close, p_min, p_abs, q_abs = sweep.accept(x, *system.sweep_gas_args(x), *system.storage_args(), True,
                                                        ref.inv_q, ref.q_turbulent, 1e-3, M3)
        np.testing.assert_array_equal(M3, M2)
        assert over == 0.0 and close == _friction_close(x[g.off_face : g.off_other], ref, 1e-3)
        assert p_min == np.min(x[: g.n_pressure]) and p_abs == np.max(np.abs(x[: g.n_pressure]))
        assert q_abs == np.max(np.abs(x[g.n_pressure :]))


# --- the linear solver -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("c", [1.0 / 60.0, 1.0 / 3600.0, 0.0], ids=["60s", "1h", "steady"])
def test_pipe_elimination_solves_like_superlu(case, c: float) -> None:
    system, u, x0 = case
    g = system.grid
    rng = np.random.default_rng(7)
    for x in states(system, x0, 2):
        ref = system.friction_reference(x[g.off_face : g.off_other])
        J = system.jacobian(x, u, c, friction=ref)
        lu = system.linear_solver.factor(J)
        assert isinstance(lu, PipeEliminationLU)
        b = rng.standard_normal(system.n) * np.abs(J).max(axis=1).toarray().ravel()
        x_pe, x_lu = lu.solve(b), splu(J).solve(b)
        tol = RTOL_SOLVE if c else 1e-7  # the steady Jacobian has no storage: worse conditioned
        np.testing.assert_allclose(x_pe, x_lu, rtol=0, atol=tol * np.max(np.abs(x_lu)))
        assert np.linalg.norm(J @ x_pe - b) <= 10 * np.linalg.norm(J @ x_lu - b) + 1e-12 * np.linalg.norm(b)


def test_pipe_elimination_on_random_blocks_and_its_fallback() -> None:
    """Random values on a grid's pattern (diagonally dominant flow rows as the equations have), and a matrix whose
    block pivot is unsafe: it falls back to SuperLU and still solves."""
    net = every_kind_network(Gas(eos=EOS.IDEAL)).compile()
    g = build_grid(net, 3000.0)
    pat = g.pattern
    rng = np.random.default_rng(2)
    data = rng.uniform(-1.0, 1.0, pat.nnz)
    cols = np.repeat(np.arange(pat.n), np.diff(pat.indptr))
    diag = pat.indices == cols
    data[diag] = rng.uniform(3.0, 5.0, int(diag.sum()))
    J = sp.csc_matrix((data, pat.indices, pat.indptr), shape=(pat.n, pat.n))
    plan = PipeElimination(g)
    b = rng.standard_normal(pat.n)
    lu = plan.factor(J)
    assert isinstance(lu, PipeEliminationLU)
    np.testing.assert_allclose(lu.solve(b), splu(J).solve(b), rtol=0, atol=RTOL_SOLVE * np.max(np.abs(splu(J).solve(b))))
    bad = data.copy()
    first_face = g.off_face + g.face_start[1]
    bad[(pat.indices == first_face) & (cols == first_face)] = -4.0  # a negative flow pivot
    J_bad = sp.csc_matrix((bad, pat.indices, pat.indptr), shape=(pat.n, pat.n))
    lu_bad = plan.factor(J_bad)
    assert not isinstance(lu_bad, PipeEliminationLU)
    np.testing.assert_allclose(lu_bad.solve(b), splu(J_bad).solve(b))
    assert SparseLU().factor(sp.csc_matrix((pat.n, pat.n))) is None  # singular


# --- the step ----------------------------------------------------------------------------------------------------
def run(net: Network, bc: BoundaryConditions, scheme, **kw):
    return simulate(net, bc, scheme=scheme, dt=kw.pop("dt", 120.0), t_end=kw.pop("t_end", 3 * 3600.0),
                    dx=kw.pop("dx", 2000.0), saveat=600.0, **kw)


SCHEMES = [ImplicitEuler(), BDF2(), Theta(), ExplicitStaggered()]


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.name)
def test_fast_path_gives_the_general_paths_results(monkeypatch, scheme) -> None:
    """The compiled step (fastpath.chord_step) and the general path give identical runs, with events, a station
    trip, valve closures and a demand swing."""
    net = every_kind_network(Gas.from_composition(COMPOSITION, eos=EOS.AGA8))
    t = np.arange(0.0, 4 * 3600.0 + 1, 900.0)
    bc = BoundaryConditions(demand_flow_kg_s={"dk": TimeSeries(t, 60.0 + 10.0 * np.sin(t / 3000.0))},
                            events=(StationTrip(3600.0, "cs", bypass=True), ValveClose(5400.0, "v"),
                                    ValveOpen(6000.0, "v")))
    explicit = isinstance(scheme, ExplicitStaggered)  # CFL: dt <= 1.7 s in the 600 m pipe
    kw = dict(dt=1.5, t_end=1200.0) if explicit else dict(dt=120.0, t_end=3 * 3600.0)
    if explicit:  # the events lie beyond this short horizon
        bc = BoundaryConditions(demand_flow_kg_s=bc.demand_flow_kg_s)
    fast = run(net, bc, scheme, **kw)
    monkeypatch.setattr(Stepper, "_fast_step", lambda self, *a: None)
    general = run(net, bc, scheme, **kw)
    assert fast.ok and general.ok
    assert fast.stats["fast_steps"] > 0 and general.stats["fast_steps"] == 0
    for v in fast.dataset.data_vars:
        np.testing.assert_array_equal(fast.dataset[v].to_numpy(), general.dataset[v].to_numpy(), err_msg=v)
    np.testing.assert_array_equal(fast.final_state, general.final_state)
    assert fast.stats["newton_iterations"] == general.stats["newton_iterations"]


def test_stale_kernel_caches_are_dropped(tmp_path) -> None:
    """The cache guard deletes every kernel module's numba cache once any kernel source changed."""
    import gasgrid.transient._jit as jit

    folder = tmp_path / "pkg"
    (folder / "__pycache__").mkdir(parents=True)
    for m in jit.KERNEL_MODULES:
        (folder / f"{m}.py").write_text(f"# {m}\n")
        (folder / "__pycache__" / f"{m}.f-1.py311.nbi").write_text("x")
        (folder / "__pycache__" / f"{m}.f-1.py311.1.nbc").write_text("x")
    (folder / "__pycache__" / "other.cpython-311.pyc").write_text("x")
    assert refresh_stale_caches(folder)  # no stamp yet: drop and stamp
    assert not list((folder / "__pycache__").glob("*.nb*"))
    assert (folder / "__pycache__" / "other.cpython-311.pyc").exists()
    (folder / "__pycache__" / "sweep.f-1.py311.nbi").write_text("x")
    assert not refresh_stale_caches(folder)  # unchanged sources: keep
    (folder / "friction_kernels.py").write_text("# changed\n")
    assert refresh_stale_caches(folder)
    assert not (folder / "__pycache__" / "sweep.f-1.py311.nbi").exists()


def test_every_kernel_module_is_guarded() -> None:
    """Each transient module with numba kernels is in the cache guard's list (else its cache could go stale)."""
    import gasgrid.transient._jit as jit

    folder = Path(jit.__file__).parent
    with_kernels = {f.stem for f in folder.glob("*.py") if "numba.njit" in f.read_text(encoding="utf-8")}
    assert with_kernels <= set(jit.KERNEL_MODULES)
