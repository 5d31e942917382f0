"""Tabulated Z(p) for the reference equations: accuracy against direct evaluation, extension, edge cases."""

from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gasgrid.errors import ConvergenceError, InputError
from gasgrid.gas import Gas, aga8
from gasgrid.gas.reference import MAX_TABULATED_TEMPERATURES, detail_mixture, exact_z_and_dz_dp
from gasgrid.gas.tabulation import CACHE, build_table
from test_gas_aga8 import E1

RICH = {"CH4": 0.82, "C2H6": 0.09, "C3H8": 0.04, "nC4": 0.01, "CO2": 0.02, "N2": 0.02}


@pytest.mark.parametrize("fractions", [E1, RICH], ids=["E1", "rich"])
@pytest.mark.parametrize("T", [250.0, 273.15, 288.15, 320.0])
def test_table_matches_exact_equation(fractions: dict[str, float], T: float) -> None:
    # the tabulation must reproduce the exact DETAIL equation to better than 1e-7 (relative) on 1 kPa..30 MPa
    gas = Gas.from_composition(fractions)
    rng = np.random.default_rng(42)
    p = np.concatenate([rng.uniform(1e3, 30e6, 3000), np.geomspace(1e3, 30e6, 200)])
    with np.errstate(all="raise"):
        z, dz = gas.z_and_dz_dp(p, T)
        z_exact, dz_exact = aga8.z_and_dz_dp(detail_mixture(gas.composition), T, p)  # type: ignore[arg-type]
    assert_allclose(z, z_exact, rtol=1e-7, atol=0)
    # dZ/dp is the derivative of the spline: consistent with it, and close to the exact derivative
    scale = 1e7  # Pa: compare dZ/dp as the change of Z over 10 MPa
    assert np.max(np.abs(dz - dz_exact)) * scale < 1e-5


def test_spline_derivative_is_consistent() -> None:
    gas = Gas.from_composition(RICH)
    p = np.linspace(1e5, 12e6, 50) + 1234.5
    dp = 10.0
    fd = (gas.z(p + dp, 283.15) - gas.z(p - dp, 283.15)) / (2 * dp)
    assert_allclose(gas.dz_dp(p, 283.15), fd, rtol=1e-6, atol=1e-15)


def test_table_is_cached_and_extended_on_demand() -> None:
    gas = Gas.from_composition(RICH, name="extension test")
    T = 291.0
    gas.z(np.array([1e6, 5e6]), T)
    key = ("aga8", gas.composition, T)
    table = CACHE.get(key)
    assert table is not None and table.p_max >= 30e6
    assert gas.z(45e6, T).shape == ()
    extended = CACHE.get(key)
    assert extended is not None and extended.p_max >= 45e6
    assert_allclose(extended.z[: table.z.size], table.z, rtol=0, atol=0)  # old nodes kept
    p = np.linspace(30e6, 45e6, 301)
    assert_allclose(gas.z(p, T), aga8.z_and_dz_dp(detail_mixture(gas.composition), T, p)[0], rtol=1e-7)


def test_low_negative_and_nan_pressures() -> None:
    gas = Gas.from_composition(E1)
    T = 283.15
    slope0 = detail_mixture(gas.composition).second_virial(T) / (aga8.R_DETAIL * T)
    z, dz = gas.z_and_dz_dp(np.array([0.0, -2e5, np.nan, 50.0]), T)
    assert_allclose(z[:2], [1.0, 1.0 - 2e5 * slope0], rtol=1e-14)
    assert_allclose(dz[:2], slope0, rtol=1e-14)
    assert np.isnan(z[2]) and np.isnan(dz[2])
    assert_allclose(z[3], aga8.z_and_dz_dp(detail_mixture(gas.composition), T, 50.0)[0], rtol=1e-12)


def test_many_temperatures_fall_back_to_exact_evaluation() -> None:
    gas = Gas.from_composition(RICH)
    n = MAX_TABULATED_TEMPERATURES + 4
    T = np.linspace(270.0, 300.0, n)
    p = np.linspace(1e6, 8e6, n)
    before = len(CACHE)
    z, dz = gas.z_and_dz_dp(p, T)
    assert len(CACHE) == before  # no table per temperature
    z_exact, dz_exact = exact_z_and_dz_dp(gas, p, T)
    assert_allclose(z, z_exact, rtol=0, atol=0)
    assert_allclose(dz, dz_exact, rtol=0, atol=0)
    # a few distinct temperatures are tabulated and agree with the exact values
    T2 = np.repeat([275.0, 285.0], n // 2)
    assert_allclose(gas.z(p, T2), exact_z_and_dz_dp(gas, p, T2)[0], rtol=1e-7)


def test_range_checks() -> None:
    gas = Gas.from_composition(E1)
    with pytest.raises(InputError, match="field 'T'"):
        gas.z(1e6, 100.0)
    with pytest.raises(InputError, match="field 'p'"):
        gas.z(300e6, 300.0)


def test_unsmooth_function_is_refused() -> None:
    def step(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.where(p < 7.77e6, 0.9, 0.5), np.zeros_like(p)

    with pytest.raises(ConvergenceError, match="not smooth"):
        build_table(step, 0.0, 10e6)


def test_tabulated_evaluation_is_fast() -> None:
    # the steady solver calls this every Newton iteration on up to 10^5 pressures
    gas = Gas.from_composition(E1)
    p = np.random.default_rng(0).uniform(1e5, 8e6, 100_000)
    gas.z_and_dz_dp(p, 278.15)  # build
    start = time.perf_counter()
    for _ in range(5):
        gas.z_and_dz_dp(p, 278.15)
    per_call = (time.perf_counter() - start) / 5
    assert per_call < 0.1  # typically 3-6 ms; generous for a shared machine
