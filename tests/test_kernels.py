"""The compiled pipe/resistor kernels agree with the numpy reference kernels (physics/pipe.py, friction.py,
resistor.py) to 1e-12 relative, for every friction law, with elevation, near zero flow and in Picard mode."""

from __future__ import annotations

import numpy as np
import pytest

from gasgrid import EOS, Gas
from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.physics.friction import FIXED, darcy_friction
from gasgrid.physics.kernels import (
    COMPILED_LAWS,
    EOS_CNGA,
    EOS_GIVEN,
    EOS_IDEAL,
    EOS_PAPAY,
    mean_pressure_kernel,
    pipe_kernel,
    resistor_kernel,
)
from gasgrid.physics.pipe import mean_pressure, pipe_residual
from gasgrid.physics.resistor import resistor_residual


def _gas(eos: EOS) -> Gas:
    if eos is EOS.AGA8:  # a reference equation: Z comes from the caller
        return Gas.from_composition({"methane": 0.9, "ethane": 0.06, "nitrogen": 0.04}, eos=eos)
    return Gas(eos=eos)


def _close(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * max(1.0, float(np.max(np.abs(b)))))


@pytest.mark.parametrize("law", [FRICTION_LAWS.index(n) for n in ("colebrook", "nikuradse", "hofer", "swamee_jain",
                                                                   "fixed")])
@pytest.mark.parametrize("picard", [False, True])
@pytest.mark.parametrize("eos", [EOS.PAPAY, EOS.CNGA, EOS.IDEAL, EOS.AGA8])
def test_pipe_kernel_matches_numpy(law: int, picard: bool, eos: EOS) -> None:
    rng = np.random.default_rng(law)
    n = 200
    gas = _gas(eos)
    pi_f = rng.uniform(20e5, 90e5, n) ** 2
    pi_t = rng.uniform(20e5, 90e5, n) ** 2
    pi_t[:3] = -1e10  # below the floor: derivatives through Z vanish there
    q = rng.normal(0.0, 100.0, n)
    q[3:6] = [0.0, 1e-9, -1e-4]  # zero and laminar flows
    D = rng.uniform(0.2, 1.4, n)
    k = rng.uniform(0.0, 5e-5, n)
    k[6] = 0.0  # smooth wall
    L = rng.uniform(1e2, 1e5, n)
    dh = rng.uniform(-300.0, 300.0, n)
    dh[7] = 0.0
    T = rng.uniform(275.0, 300.0, n)
    E = rng.uniform(0.85, 1.0, n)
    lam_fixed = np.full(n, 0.011)
    laws = np.full(n, law, dtype=np.int64)
    mu = np.full(n, gas.viscosity)
    lam, dln = darcy_friction(laws, np.abs(q), D, k, gas.viscosity, lam_fixed, relative_density=gas.relative_density,
                              temperature=T)
    pm_ref, _, _ = mean_pressure(np.sqrt(np.maximum(pi_f, 1e6)), np.sqrt(np.maximum(pi_t, 1e6)))
    pm = np.empty(n)
    mean_pressure_kernel(pi_f, pi_t, pm)
    _close(pm, pm_ref)
    z, dz = gas.z_and_dz_dp(pm, T)
    picard_q = np.abs(q) + 1.0
    ref = pipe_residual(pi_f, pi_t, q, length=L, diameter=D, dh=dh, temperature=T, lam=lam, dlnlam=dln,
                        efficiency=E, gas=gas, picard_q=picard_q if picard else None)
    lam_in = np.where(laws == FIXED, lam_fixed, 0.0)
    out = [np.empty(n) for _ in range(4)]
    code = {EOS.PAPAY: EOS_PAPAY, EOS.CNGA: EOS_CNGA, EOS.IDEAL: EOS_IDEAL}.get(eos, EOS_GIVEN)
    pipe_kernel(pi_f, pi_t, q, laws, D, k, mu, lam_in, np.zeros(n), L, dh, T, E, z, dz, gas.R_specific, code, gas.pc,
                gas.Tc, gas.relative_density, picard_q, picard, *out, x_state := np.zeros(n))
    for got, want in zip(out, (ref.F, ref.dF_dpi_from, ref.dF_dpi_to, ref.dF_dq), strict=True):
        _close(got, want)
    # warm-started Colebrook (from the state of another flow) converges to the same values
    x_state *= 1.1
    pipe_kernel(pi_f, pi_t, q, laws, D, k, mu, lam_in, np.zeros(n), L, dh, T, E, z, dz, gas.R_specific, code, gas.pc,
                gas.Tc, gas.relative_density, picard_q, picard, *out, x_state)
    for got, want in zip(out, (ref.F, ref.dF_dpi_from, ref.dF_dpi_to, ref.dF_dq), strict=True):
        _close(got, want)
    assert law in COMPILED_LAWS


@pytest.mark.parametrize("picard", [False, True])
@pytest.mark.parametrize("eos", [EOS.PAPAY, EOS.AGA8])
def test_resistor_kernel_matches_numpy(picard: bool, eos: EOS) -> None:
    rng = np.random.default_rng(3)
    n = 50
    gas = _gas(eos)
    pi_f = rng.uniform(20e5, 90e5, n) ** 2
    pi_t = rng.uniform(20e5, 90e5, n) ** 2
    pi_f[0] = -1.0
    q = rng.normal(0.0, 50.0, n)
    q[1] = 0.0
    drag = np.where(rng.random(n) < 0.5, rng.uniform(0.5, 20.0, n), np.nan)
    D = rng.uniform(0.3, 1.2, n)
    dp = np.where(np.isnan(drag), rng.uniform(0.1e5, 2e5, n), np.nan)
    T = 283.15
    picard_q = np.abs(q) + 0.5
    ref = resistor_residual(pi_f, pi_t, q, drag=drag, diameter=D, dp_fixed=dp, temperature=T, gas=gas,
                            picard_q=picard_q if picard else None, q_reg=0.3, q_reg_drag=0.01)
    pm = 0.5 * (np.sqrt(np.maximum(pi_f, 1e6)) + np.sqrt(np.maximum(pi_t, 1e6)))
    z = gas.z(pm, T)
    out = [np.empty(n) for _ in range(4)]
    code = EOS_PAPAY if eos is EOS.PAPAY else EOS_GIVEN
    resistor_kernel(pi_f, pi_t, q, drag, D, dp, z, gas.R_specific, T, code, gas.pc, gas.Tc, gas.relative_density,
                    picard_q, picard, 0.3, 0.01, *out)
    for got, want in zip(out, (ref.F, ref.dF_dpi_from, ref.dF_dpi_to, ref.dF_dq), strict=True):
        _close(got, want)


def test_stale_cache_guard_follows_dependencies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Editing a file whose constants a kernel compiles in drops that kernel's numba cache."""
    from gasgrid._jit import refresh_stale_caches

    (tmp_path / "kern.py").write_text("X = 1\n")
    dep = tmp_path / "dep.py"
    dep.write_text("RE_FLOOR = 100.0\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    cached = cache / "kern.f-10.py311.nbi"
    cached.write_text("")
    assert refresh_stale_caches(tmp_path, ("kern",), "k.sha1", (dep,))  # first time: stamp, drop
    assert not cached.exists()
    cached.write_text("")
    assert not refresh_stale_caches(tmp_path, ("kern",), "k.sha1", (dep,))  # nothing changed: keep
    assert cached.exists()
    dep.write_text("RE_FLOOR = 200.0\n")
    assert refresh_stale_caches(tmp_path, ("kern",), "k.sha1", (dep,))  # a dependency changed: drop
    assert not cached.exists()


@pytest.mark.parametrize("case", ["gaslib-582", "east-route"])
def test_nodal_step_equals_full_lu(case: str) -> None:
    """The nodal elimination (default Newton linear solver) gives the step of a full sparse LU of the same
    Jacobian, also with kept arcs (stations on discharge control, regulators: east-route)."""
    import scipy.sparse.linalg as spla

    from gasgrid.cases import load_case
    from gasgrid.steady.assemble import Assembler
    from gasgrid.steady.nodal import NodalLU, _pattern
    from gasgrid.steady.solver import _system_for, arc_set_points, node_withdrawal
    from gasgrid.steady.system import arc_behaviour

    c = load_case(case).compile()
    sys_ = _system_for(c, arc_behaviour(c))
    asm = Assembler(c, sys_, arc_set_points(c), node_withdrawal(c))
    rng = np.random.default_rng(1)
    x = np.concatenate([np.full(sys_.n_free, 0.8), rng.normal(0.0, 50.0, sys_.n - sys_.n_free)])
    F, J = asm(x, True)
    if case == "east-route":  # stations and regulators keep their flow unknowns in the reduced system
        assert len(_pattern(sys_, "COLAMD").kept) > 0
    want = spla.splu(J.tocsc()).solve(-F)
    got = NodalLU().solve(J, -F)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10 * np.max(np.abs(want)))
