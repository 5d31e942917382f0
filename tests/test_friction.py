"""Tests of the vectorised Darcy friction kernel gasgrid.physics.friction.darcy_friction."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import brentq

from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.errors import InputError
from gasgrid.physics import classic
from gasgrid.physics.friction import (
    AGA,
    COLEBROOK,
    FIXED,
    HOFER,
    IGT,
    LAW,
    NIKURADSE,
    PANHANDLE_A,
    PANHANDLE_B,
    RE_FLOOR,
    SWAMEE_JAIN,
    WEYMOUTH,
    darcy_friction,
)
from gasgrid.units import M_AIR, R_UNIVERSAL

MU = 1.1e-5  # Pa s
G = 0.6


def _reynolds(q: np.ndarray, D: np.ndarray, mu: float = MU) -> np.ndarray:
    return 4.0 * q / (math.pi * D * mu)


def _q_for_re(re: float, D: float, mu: float = MU) -> float:
    return re * math.pi * D * mu / 4.0


def _colebrook_decimal(re: float, rel: float, digits: int = 40) -> float:
    """Independent reference: Colebrook–White by bisection on 1/√λ in 40-digit decimal arithmetic."""
    getcontext().prec = digits
    a = Decimal(rel) / Decimal("3.71")
    b = Decimal("2.51") / Decimal(re)
    ln10 = Decimal(10).ln()

    def g(x: Decimal) -> Decimal:
        return x + 2 * (a + b * x).ln() / ln10

    lo, hi = Decimal("0.5"), Decimal(100)
    for _ in range(160):
        mid = (lo + hi) / 2
        if g(mid) > 0:
            hi = mid
        else:
            lo = mid
    x = (lo + hi) / 2
    return float(1 / (x * x))


def test_law_codes_follow_the_pipe_schema() -> None:
    assert [LAW[name] for name in FRICTION_LAWS] == list(range(len(FRICTION_LAWS)))


@pytest.mark.parametrize("rel", [0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 5e-2])
def test_colebrook_against_high_precision_solution(rel: float) -> None:
    res = np.array([2.3e3, 1e4, 1e5, 1e6, 1e7, 1e8])
    D = 0.5
    q = res * math.pi * D * MU / 4.0
    lam, _ = darcy_friction(np.full(res.size, COLEBROOK), q, D, rel * D, MU, np.nan, relative_density=G)
    ref = [_colebrook_decimal(float(r), rel) for r in _reynolds(q, np.full(res.size, D))]
    assert_allclose(lam, ref, rtol=1e-12, atol=0.0)


def _laws_and_points() -> list[tuple[int, float, float]]:
    """(law, q [kg/s], roughness [m]) covering each law's regimes, away from the AGA branch switch."""
    D = 0.6
    pts = []
    for law in range(len(FRICTION_LAWS)):
        for re in (5e2, 3e3, 1e5, 1e7):
            pts.append((law, _q_for_re(re, D), 2e-5))
    pts += [(AGA, _q_for_re(re, D), 1e-7) for re in (1e4, 1e6, 3e7)]  # smooth: partially turbulent branch
    pts += [(AGA, _q_for_re(re, D), 1e-3) for re in (1e6, 1e8)]  # rough: fully turbulent branch
    return pts


@pytest.mark.parametrize(("law", "q", "k"), _laws_and_points())
def test_log_derivative_matches_finite_difference(law: int, q: float, k: float) -> None:
    D, h = 0.6, 1e-6
    kw = dict(relative_density=G, temperature=288.15, efficiency=0.93)

    def lnlam(qq: float) -> float:
        lam, _ = darcy_friction(np.array([law]), qq, D, k, MU, 0.012, **kw)
        return math.log(lam[0])

    _, d = darcy_friction(np.array([law]), q, D, k, MU, 0.012, **kw)
    fd = (lnlam(q * math.exp(h)) - lnlam(q * math.exp(-h))) / (2.0 * h)
    assert_allclose(d[0], fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("k", [0.0, 1e-5])
def test_finite_at_zero_flow_with_zero_derivative(k: float) -> None:
    laws = np.arange(len(FRICTION_LAWS))
    with np.errstate(all="raise"):
        lam, d = darcy_friction(laws, np.zeros(laws.size), 0.5, k, MU, 0.01, relative_density=G,
                                temperature=np.full(laws.size, 280.0), efficiency=0.9)
    assert np.all(np.isfinite(lam)) and np.all(lam >= 0.0)
    assert_allclose(d, 0.0, atol=0.0)
    # below the floor the solver's laminar 64/Re dominates every law (E = 0.9 included), except Nikuradse,
    # which carries the laminar term itself (STANET's definition)
    others = laws != NIKURADSE
    assert np.all(lam[others] / 0.9**2 < 64.0 / RE_FLOOR)
    assert_allclose(lam[~others], 64.0 / RE_FLOOR + (2.0 * np.log10(3.71 / max(k / 0.5, 1e-300))) ** -2
                    if k > 0 else 64.0 / RE_FLOOR, rtol=1e-12)


def test_below_floor_laws_are_frozen_at_the_floor_value() -> None:
    D = 0.5
    laws = np.arange(len(FRICTION_LAWS))
    at_floor, _ = darcy_friction(laws, np.full(laws.size, _q_for_re(RE_FLOOR, D)), D, 1e-5, MU, 0.01,
                                 relative_density=G)
    below, _ = darcy_friction(laws, np.full(laws.size, _q_for_re(RE_FLOOR / 3, D)), D, 1e-5, MU, 0.01,
                              relative_density=G)
    assert_allclose(below, at_floor, rtol=1e-13)


def test_mixed_laws_vectorised_equals_one_law_at_a_time() -> None:
    rng = np.random.default_rng(7)
    n = 2000
    law = rng.integers(0, len(FRICTION_LAWS), n)
    q = rng.uniform(0.0, 400.0, n)
    D = rng.uniform(0.1, 1.4, n)
    k = rng.uniform(0.0, 1e-4, n)
    mu = rng.uniform(1.0e-5, 1.3e-5, n)
    lf = rng.uniform(0.008, 0.02, n)
    E = rng.uniform(0.85, 1.0, n)
    kw = dict(relative_density=G, efficiency=E, base_temperature=288.15, base_pressure=101_325.0)
    lam, d = darcy_friction(law, q, D, k, mu, lf, **kw)
    for code in range(len(FRICTION_LAWS)):
        s = law == code
        lam_s, d_s = darcy_friction(np.full(s.sum(), code), q[s], D[s], k[s], mu[s], lf[s],
                                    relative_density=G, efficiency=E[s])
        assert_allclose(lam[s], lam_s, rtol=1e-14)
        assert_allclose(d[s], d_s, rtol=1e-14)
    assert np.all(np.isfinite(lam)) and np.all(np.isfinite(d))


def test_fixed_law_returns_lambda_fixed() -> None:
    lam, d = darcy_friction(np.array([FIXED, FIXED]), [0.0, 50.0], 0.5, 1e-5, MU, [0.011, 0.017],
                            relative_density=G)
    assert_allclose(lam, [0.011, 0.017], rtol=0.0)
    assert_allclose(d, 0.0, atol=0.0)


def test_nikuradse_is_colebrook_at_infinite_reynolds() -> None:
    # Nikuradse = fully rough law + 64/Re (the STANET/pandapipes definition; validation.md S5)
    D, k = 0.5, np.array([1e-6, 1e-5, 1e-4, 1e-3])
    q = _q_for_re(1e14, D)
    rough, _ = darcy_friction(np.full(4, NIKURADSE), q, D, k, MU, np.nan, relative_density=G)
    cb, _ = darcy_friction(np.full(4, COLEBROOK), q, D, k, MU, np.nan, relative_density=G)
    assert_allclose(rough, cb, rtol=1e-6)
    assert_allclose(rough, (2.0 * np.log10(3.71 * D / k)) ** -2 + 64.0 / 1e14, rtol=1e-12)


@pytest.mark.parametrize(("law", "rtol"), [(HOFER, 0.015), (SWAMEE_JAIN, 0.015)])
def test_explicit_approximations_stay_close_to_colebrook(law: int, rtol: float) -> None:
    D = 0.5
    re, rel = np.meshgrid(np.logspace(4, 8, 9), [0.0, 1e-5, 1e-4, 1e-3])
    q = _q_for_re(1.0, D) * re.ravel()
    k = rel.ravel() * D
    approx, _ = darcy_friction(np.full(q.size, law), q, D, k, MU, np.nan, relative_density=G)
    exact, _ = darcy_friction(np.full(q.size, COLEBROOK), q, D, k, MU, np.nan, relative_density=G)
    assert_allclose(approx, exact, rtol=rtol)


def test_weymouth_lambda_matches_menon_transmission_factor() -> None:
    # Menon (2005) §2: Weymouth transmission factor F = 11.18 D^(1/6), D in inches, λ = 4/F². The flow
    # equation's exponent 2.667 (not 8/3) and rounded constants leave a diameter-dependent gap of < 0.4 %.
    D = np.array([0.1, 0.3, 0.6, 1.0, 1.4])
    lam, d = darcy_friction(np.full(D.size, WEYMOUTH), 10.0, D, 0.0, MU, np.nan, relative_density=G)
    assert_allclose(lam, 4.0 / (11.18 * (D / 0.0254) ** (1 / 6)) ** 2, rtol=4e-3)
    assert_allclose(d, 0.0, atol=0.0)


def test_aga_branches() -> None:
    # Menon (2005) §2, AGA: F = min(4 log10(3.7 D/k), 4 D_f log10(Re/F_t)), F_t = 4 log10(Re/F_t) − 0.6.
    D, df = 0.5, 0.96
    rough_k, smooth_k = 2e-3, 1e-7
    q = _q_for_re(1e7, D)
    lam, _ = darcy_friction(np.array([AGA]), q, D, rough_k, MU, np.nan, relative_density=G, aga_drag_factor=df)
    assert_allclose(lam, 4.0 / (4.0 * math.log10(3.7 * D / rough_k)) ** 2, rtol=1e-14)
    re = 1e6
    lam, _ = darcy_friction(np.array([AGA]), _q_for_re(re, D), D, smooth_k, MU, np.nan, relative_density=G,
                            aga_drag_factor=df)
    ft = brentq(lambda f: f - 4.0 * math.log10(re / f) + 0.6, 1.0, 100.0, xtol=1e-15)
    f = df * 4.0 * math.log10(re / ft)
    assert f < 4.0 * math.log10(3.7 * D / smooth_k)
    assert_allclose(lam, 4.0 / f**2, rtol=1e-12)


def test_unknown_law_code_is_rejected() -> None:
    with pytest.raises(InputError, match="friction"):
        darcy_friction(np.array([len(FRICTION_LAWS)]), 1.0, 0.5, 1e-5, MU, np.nan, relative_density=G)


# --- consistency with the classic single-pipe equations ----------------------------------------------------
def _network_outlet_pressure(law: int, p1: float, q: float, *, L: float, D: float, T: float, E: float,
                             mu: float, k: float, Tb: float, Pb: float) -> float:
    """p2 of the solver's pipe law p1² − p2² = λ_eff c² L q|q|/(D A²), λ_eff = max(λ/E², 64/Re), Z = 1."""
    lam, _ = darcy_friction(np.array([law]), q, D, k, mu, np.nan, relative_density=G, temperature=T,
                            efficiency=E, base_temperature=Tb, base_pressure=Pb)
    area = math.pi * D**2 / 4.0
    lam_eff = max(lam[0] / E**2, 64.0 / _reynolds(np.array(q), np.array(D), mu))
    c2 = R_UNIVERSAL * T / (G * M_AIR)
    return math.sqrt(p1**2 - lam_eff * c2 * L * q * q / (D * area**2))


@pytest.mark.parametrize("E", [1.0, 0.92])
@pytest.mark.parametrize("law", [WEYMOUTH, PANHANDLE_A, PANHANDLE_B, IGT, AGA])
def test_network_pipe_reproduces_classic_equation(law: int, E: float) -> None:
    p1, p2, L, D, T, mu, k = 70e5, 52e5, 80e3, 0.7, 283.15, 1.15e-5, 2e-5
    Tb, Pb = 288.7, 101_560.0  # deliberately not the defaults: Panhandle A/B depend on them
    base = dict(temperature=T, relative_density=G, efficiency=E, Tb=Tb, Pb=Pb)
    flows = {
        WEYMOUTH: lambda: classic.weymouth_flow(p1, p2, L, D, **base),
        PANHANDLE_A: lambda: classic.panhandle_a_flow(p1, p2, L, D, **base),
        PANHANDLE_B: lambda: classic.panhandle_b_flow(p1, p2, L, D, **base),
        IGT: lambda: classic.igt_flow(p1, p2, L, D, viscosity=mu, **base),
        AGA: lambda: classic.aga_flow(p1, p2, L, D, roughness=k, viscosity=mu, **base),
    }
    Q = flows[law]()
    q = Q * Pb * G * M_AIR / (R_UNIVERSAL * Tb)  # kg/s
    p2_net = _network_outlet_pressure(law, p1, q, L=L, D=D, T=T, E=E, mu=mu, k=k, Tb=Tb, Pb=Pb)
    assert_allclose(p2_net, p2, rtol=1e-9)


def test_without_efficiency_the_classic_power_laws_see_e_squared() -> None:
    # efficiency=None evaluates Panhandle at q: λ/E² then gives Δp² ∝ q^(1/n)/E² (Osiadacz's convention)
    # instead of Menon's (q/E)^(1/n).
    n = 0.5394
    args = (np.array([PANHANDLE_A]), 100.0, 0.6, 0.0, MU, np.nan)
    lam_none, _ = darcy_friction(*args, relative_density=G)
    lam_one, _ = darcy_friction(*args, relative_density=G, efficiency=1.0)
    lam_e, _ = darcy_friction(*args, relative_density=G, efficiency=0.9)
    assert_allclose(lam_none, lam_one, rtol=1e-15)
    assert_allclose(lam_e / lam_none, 0.9 ** (2.0 - 1.0 / n), rtol=1e-12)
