"""Lee-Gonzalez-Eakin viscosity correlation."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gasgrid.errors import InputError
from gasgrid.gas import Gas
from gasgrid.gas.viscosity import lee_gonzalez_eakin

LB_FT3 = 16.018463  # kg/m^3


def test_published_example() -> None:
    # [P] T. Ahmed, Reservoir Engineering Handbook, worked example of the Lee-Gonzalez-Eakin method:
    # p = 2000 psia, T = 140 °F (600 °R), M = 20.85, rho = 8.3 lb/ft^3 -> K = 119.72, X = 5.35, Y = 1.33,
    # mu = 0.0173 cP. (Recalled from the book: no copy was found in the searchable corpora; the intermediate
    # K, X, Y reproduce to the printed digits.) Tolerance: the printed value's rounding, 0.3 %.
    T = 600.0 / 1.8
    mu = lee_gonzalez_eakin(8.3 * LB_FT3, T, 20.85e-3)
    assert_allclose(mu, 0.0173e-3, rtol=3e-3)


def test_low_density_methane_against_coolprop() -> None:
    # [C] dilute methane at 300 K: the correlation should be within its quoted few-percent accuracy
    CP = pytest.importorskip("CoolProp.CoolProp")
    gas = Gas.from_composition({"CH4": 1.0})
    rho = float(gas.density(1e5, 300.0))
    mu_ref = CP.PropsSI("V", "T", 300.0, "P", 1e5, "Methane")
    assert_allclose(lee_gonzalez_eakin(rho, 300.0, gas.molar_mass), mu_ref, rtol=0.05)


def test_vectorised_and_increasing_with_density() -> None:
    rho = np.array([1.0, 50.0, 100.0])
    mu = lee_gonzalez_eakin(rho, 288.15, 0.018)
    assert mu.shape == (3,)
    assert np.all(np.diff(mu) > 0)


def test_input_checks() -> None:
    with pytest.raises(InputError, match="field 'T'"):
        lee_gonzalez_eakin(10.0, -1.0, 0.018)
    with pytest.raises(InputError, match="field 'rho'"):
        lee_gonzalez_eakin(np.nan, 300.0, 0.018)
