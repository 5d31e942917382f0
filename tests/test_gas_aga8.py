"""AGA8-DC92 DETAIL against the NIST reference implementation (validation case E1)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gasgrid.errors import InputError
from gasgrid.gas import EOS, Gas, aga8
from gasgrid.gas.components import parse_composition, to_vector

# E1: the 21-component test gas of the NIST AGA8 repository (github.com/usnistgov/AGA8, AGA8CODE/C/Detail.cpp,
# TEST_DETAIL). Note: validation.md lists H2 = 0.001, which makes the fractions sum to 0.997; the NIST code
# uses H2 = 0.004 (sum 1), and so do we.
E1 = {
    "CH4": 0.77824, "N2": 0.02, "CO2": 0.06, "C2H6": 0.08, "C3H8": 0.03, "iC4": 0.0015, "nC4": 0.003,
    "iC5": 0.0005, "nC5": 0.00165, "nC6": 0.00215, "nC7": 0.00088, "nC8": 0.00024, "nC9": 0.00015,
    "nC10": 0.00009, "H2": 0.004, "O2": 0.005, "CO": 0.002, "H2O": 0.0001, "H2S": 0.0025, "He": 0.007,
    "Ar": 0.001,
}  # fmt: skip

# E1 outputs printed by NIST Detail.cpp (TEST_DETAIL) at T = 400 K, p = 50 000 kPa, converted to SI.
NIST_E1 = {
    "molar_mass": 20.54333051e-3,  # kg/mol
    "rho": 12.80792403648801e3,  # mol/m^3
    "Z": 1.173801364147326,
    "dp_drho": 6971.387690924090,  # Pa/(mol/m^3)
    "d2p_drho2": 1118.803636639520e-3,
    "dp_dT": 235.6641493068212e3,  # Pa/K
    "u": -2739.134175817231,
    "h": 1164.699096269404,
    "s": -38.54882684677111,
    "cv": 39.12076154430332,
    "cp": 58.54617672380667,
    "w": 712.6393684057903,
    "g": 16584.22983497785,
    "jt": 7.432969304794577e-08,  # K/Pa
    "kappa": 2.672509225184606,
}


@pytest.fixture(scope="module")
def mix() -> aga8.DetailMixture:
    return aga8.DetailMixture.from_fractions(to_vector(parse_composition(E1)))


def test_e1_z_exact(mix: aga8.DetailMixture) -> None:
    # E1 [L], NIST AGA8 repository: DETAIL Z = 1.173801364 at 400 K, 50 MPa; tolerance 1e-8 (validation.md)
    z, _ = aga8.z_and_dz_dp(mix, 400.0, 50e6)
    assert_allclose(z, 1.173801364, rtol=1e-8)


def test_e1_all_nist_properties(mix: aga8.DetailMixture) -> None:
    # E1 [L], NIST AGA8 repository, Detail.cpp TEST_DETAIL printout: every property of PropertiesDetail
    with np.errstate(all="raise"):
        rho = aga8.density(mix, 400.0, 50e6)
        props = aga8.properties(mix, 400.0, rho)
    assert_allclose(mix.molar_mass, NIST_E1["molar_mass"], rtol=1e-12)
    assert_allclose(rho, NIST_E1["rho"], rtol=1e-10)
    assert_allclose(props.p, 50e6, rtol=1e-12)
    for name in ("Z", "dp_drho", "d2p_drho2", "dp_dT", "u", "h", "s", "cv", "cp", "w", "g", "jt", "kappa"):
        assert_allclose(getattr(props, name), NIST_E1[name], rtol=1e-10, err_msg=name)


def test_e1_through_gas(mix: aga8.DetailMixture) -> None:
    # E1 [L], NIST AGA8 repository: the same value through Gas.z (tabulated) and the caloric methods
    gas = Gas.from_composition(E1)
    assert gas.eos is EOS.AGA8
    assert_allclose(gas.molar_mass, NIST_E1["molar_mass"], rtol=1e-12)
    assert_allclose(gas.z(50e6, 400.0), 1.173801364, rtol=1e-8)
    assert_allclose(gas.isentropic_exponent(50e6, 400.0), NIST_E1["kappa"], rtol=1e-10)
    assert_allclose(gas.cp_mass(50e6, 400.0), NIST_E1["cp"] / NIST_E1["molar_mass"], rtol=1e-10)


def test_vectorised_matches_scalar(mix: aga8.DetailMixture) -> None:
    p = np.array([[1e5, 2e6], [7e6, 12e6]])
    T = np.array([[250.0, 280.0], [300.0, 330.0]])
    z, dz = aga8.z_and_dz_dp(mix, T, p)
    assert z.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            zs, dzs = aga8.z_and_dz_dp(mix, T[i, j], p[i, j])
            assert_allclose(z[i, j], zs, rtol=1e-14)
            assert_allclose(dz[i, j], dzs, rtol=1e-12)


def test_dz_dp_matches_finite_difference(mix: aga8.DetailMixture) -> None:
    p = np.array([1e4, 1e6, 5e6, 10e6, 20e6])
    dp = 1e-4 * p
    _, dz = aga8.z_and_dz_dp(mix, 288.15, p)
    fd = (aga8.z_and_dz_dp(mix, 288.15, p + dp)[0] - aga8.z_and_dz_dp(mix, 288.15, p - dp)[0]) / (2 * dp)
    assert_allclose(dz, fd, rtol=1e-6)


def test_second_virial_is_low_pressure_slope(mix: aga8.DetailMixture) -> None:
    T = 288.15
    slope0 = mix.second_virial(T) / (aga8.R_DETAIL * T)
    _, dz = aga8.z_and_dz_dp(mix, T, 1.0)
    assert_allclose(dz, slope0, rtol=1e-6)


def test_pressure_inverts_density(mix: aga8.DetailMixture) -> None:
    p = np.linspace(1e5, 20e6, 7)
    rho = aga8.density(mix, 300.0, p)
    p_back, _ = aga8.pressure(mix, 300.0, rho)
    assert_allclose(p_back, p, rtol=1e-10)


def test_ideal_cp_limit(mix: aga8.DetailMixture) -> None:
    # at very low density the real-gas cp tends to the ideal-gas cp of the DETAIL ideal part
    props = aga8.properties_tp(mix, 288.15, 1.0)
    assert_allclose(props.cp, aga8.ideal_cp(mix, 288.15), rtol=1e-6)


def test_density_rejects_non_positive_pressure(mix: aga8.DetailMixture) -> None:
    with pytest.raises(InputError, match="p > 0"):
        aga8.density(mix, 300.0, np.array([1e5, 0.0]))
    with pytest.raises(InputError, match="density > 0"):
        aga8.properties(mix, 300.0, 0.0)


def test_mixture_rejects_bad_fractions() -> None:
    with pytest.raises(InputError, match="21 non-negative"):
        aga8.DetailMixture.from_fractions(np.full(21, 0.5))
