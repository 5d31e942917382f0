"""Gas value object: composition input, correlations, heating values, reference densities, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gasgrid.errors import InputError
from gasgrid.gas import EOS, Gas
from gasgrid.gas.components import COMPONENTS, MOLAR_MASS, canonical_name
from gasgrid.gas.reference import reference_z_and_dz_dp
from gasgrid.units import M_AIR, R_UNIVERSAL, Reference
from test_gas_aga8 import E1

# --- composition input ---------------------------------------------------------------------------------------


def test_aliases_are_case_insensitive() -> None:
    a = Gas.from_composition({"methane": 0.9, "ETHANE": 0.05, "n2": 0.05})
    b = Gas.from_composition({"CH4": 0.9, "C2H6": 0.05, "N2": 0.05})
    assert a == b
    assert a.composition == (("CH4", 0.9), ("N2", 0.05), ("C2H6", 0.05))
    for name in ("isobutane", "iC4", "nC4", "iC5", "nC5", "nC6", "nC7", "nC8", "nC9", "nC10", "H2S", "H2",
                 "O2", "CO", "H2O", "He", "Ar", "C3H8", "CO2"):  # fmt: skip
        assert canonical_name(name) in COMPONENTS


def test_sum_must_be_one() -> None:
    with pytest.raises(InputError, match=r"sum 0\.99") as info:
        Gas.from_composition({"CH4": 0.9, "C2H6": 0.09})
    assert info.value.field == "composition"
    gas = Gas.from_composition({"CH4": 0.9, "C2H6": 0.09}, normalise=True)
    assert_allclose(sum(x for _, x in gas.composition or ()), 1.0, rtol=1e-15)
    Gas.from_composition({"CH4": 0.9 + 5e-7, "C2H6": 0.1})  # within 1e-6


def test_validation_md_e1_typo_is_rejected() -> None:
    # E1 as printed in validation.md (H2 = 0.001) sums to 0.997: the check must catch it, not rescale it
    with pytest.raises(InputError, match=r"sum 0\.997"):
        Gas.from_composition({**E1, "H2": 0.001})


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ({"CH4": 0.9, "unobtainium": 0.1}, "unknown component 'unobtainium'"),
        ({"CH4": 0.5, "methane": 0.5}, "given twice"),
        ({"CH4": 1.1, "N2": -0.1}, r"in \[0, 1\]"),
        ({"CH4": float("nan")}, r"in \[0, 1\]"),
        ({"CH4": "lots"}, "must be a number"),
        ({}, "non-empty"),
        ({"CH4": 0.0}, "sum to 0"),
    ],
)
def test_composition_errors(fractions: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Gas.from_composition(fractions)  # type: ignore[arg-type]


def test_reference_eos_needs_composition() -> None:
    with pytest.raises(InputError, match="needs a composition"):
        Gas(eos=EOS.AGA8)
    with pytest.raises(InputError, match="needs a composition"):
        Gas.from_properties(molar_mass=0.018, eos="gerg2008")
    gas = Gas()
    object.__setattr__(gas, "eos", EOS.AGA8)  # bypass the constructor check: the evaluator checks again
    with pytest.raises(InputError, match="needs a composition"):
        reference_z_and_dz_dp(gas, np.array([1e6]), np.array([288.15]))


def test_composition_given_directly_is_canonicalised() -> None:
    gas = Gas(composition=(("methane", 0.95), ("nitrogen", 0.05)), eos=EOS.PAPAY)  # type: ignore[arg-type]
    assert gas.composition == (("CH4", 0.95), ("N2", 0.05))
    with pytest.raises(InputError, match="sum"):
        Gas(composition=(("CH4", 0.5),))


def test_derived_properties_of_methane() -> None:
    gas = Gas.from_composition({"methane": 1.0})
    assert_allclose(gas.molar_mass, 16.043e-3, rtol=1e-12)
    assert_allclose(gas.Tc, 190.564, rtol=1e-6)
    assert_allclose(gas.pc, 4.5992e6, rtol=1e-6)
    # ISO 6976:2016 gross molar value at 25 °C, 890.58 kJ/mol; the textbook HHV of methane is 55.5 MJ/kg
    assert_allclose(gas.hhv_mass, 890.58e3 / 16.043e-3, rtol=1e-12)
    assert_allclose(gas.hhv_mass, 55.5e6, rtol=2e-3)
    assert 1.29 < gas.kappa < 1.32  # ideal methane at 15 °C: cp0 ~ 35.5 J/(mol K)


def test_kays_rule() -> None:
    gas = Gas.from_composition({"CH4": 0.8, "C2H6": 0.2})
    assert_allclose(gas.Tc, 0.8 * 190.564 + 0.2 * 305.322, rtol=1e-6)
    assert_allclose(gas.molar_mass, 0.8 * MOLAR_MASS[0] + 0.2 * MOLAR_MASS[3], rtol=1e-14)


def test_ideal_kappa_against_coolprop() -> None:
    # [C] ideal-gas cp of methane at 15 °C from the AGA8 ideal part vs CoolProp's reference equation
    CP = pytest.importorskip("CoolProp.CoolProp")
    cp0 = CP.PropsSI("Cp0molar", "T", 288.15, "P", 101325.0, "Methane")
    kappa = cp0 / (cp0 - R_UNIVERSAL)
    assert_allclose(Gas.from_composition({"CH4": 1.0}).kappa, kappa, rtol=2e-3)


# --- heating values ------------------------------------------------------------------------------------------


def test_calorific_value_is_ideal_gas_volumetric() -> None:
    gas = Gas.from_composition({"CH4": 0.9, "C2H6": 0.06, "N2": 0.04})
    h25 = 0.9 * 890.58e3 + 0.06 * 1560.69e3  # ISO 6976:2016, gross, 25 °C
    ref = Reference.NORMAL
    assert_allclose(gas.calorific_value(ref), h25 * ref.p / (R_UNIVERSAL * ref.T), rtol=1e-14)
    n15 = 0.9 * 802.69e3 + 0.06 * 1428.84e3  # ISO 6976:2016, net, 15 °C
    ref = Reference.STANDARD
    assert_allclose(gas.calorific_value(ref, "net", combustion_T_C=15), n15 * ref.p / (R_UNIVERSAL * ref.T),
                    rtol=1e-14)  # fmt: skip
    g20 = 0.9 * 891.05e3 + 0.06 * 1561.42e3  # ISO 6976:2016, gross, 20 °C (GOST/GB practice: 20 °C / 20 °C)
    ref = Reference.GOST
    assert_allclose(gas.calorific_value(ref, combustion_T_C=20), g20 * ref.p / (R_UNIVERSAL * ref.T), rtol=1e-14)
    ref = Reference.STANDARD
    d = gas.molar_mass / M_AIR
    assert_allclose(gas.wobbe_index(ref), gas.calorific_value(ref) / np.sqrt(d), rtol=1e-14)
    assert gas.calorific_value(ref, "net") < gas.calorific_value(ref, "gross")


def test_calorific_value_without_composition() -> None:
    gas = Gas(hhv_mass=50e6, molar_mass=0.018)
    ref = Reference.STANDARD
    assert_allclose(gas.calorific_value(ref), 50e6 * 0.018 * ref.p / (R_UNIVERSAL * ref.T), rtol=1e-14)
    with pytest.raises(InputError, match="'net' calorific value needs a composition"):
        gas.calorific_value(ref, "net")
    with pytest.raises(InputError, match="needs a composition"):
        Gas().calorific_value(ref)


def test_calorific_value_options_are_checked() -> None:
    gas = Gas.from_composition({"CH4": 1.0})
    with pytest.raises(InputError, match="basis must be 'gross' or 'net'"):
        gas.calorific_value(Reference.STANDARD, "higher")
    with pytest.raises(InputError, match="combustion temperature"):
        gas.calorific_value(Reference.STANDARD, combustion_T_C=30)


# --- correlations and reference densities --------------------------------------------------------------------


@pytest.mark.parametrize("eos", [EOS.PAPAY, EOS.CNGA])
def test_correlation_derivative_matches_finite_difference(eos: EOS) -> None:
    gas = Gas(eos=eos)
    p = np.linspace(2e5, 10e6, 9)
    dp = 1e-3 * p
    with np.errstate(all="raise"):
        fd = (gas.z(p + dp, 283.15) - gas.z(p - dp, 283.15)) / (2 * dp)
        assert_allclose(gas.dz_dp(p, 283.15), fd, rtol=1e-7)


def test_correlations_limit() -> None:
    assert_allclose(Gas(eos=EOS.PAPAY).z(0.0, 288.15), 1.0, rtol=0, atol=0)
    assert_allclose(Gas(eos=EOS.CNGA).z(101_325.0, 288.15), 1.0, rtol=0, atol=0)  # CNGA: zero gauge pressure
    assert_allclose(Gas(eos=EOS.IDEAL).z(np.array([1e5, 7e6]), 288.15), 1.0)
    z = Gas.from_composition({"CH4": 1.0}).z(np.array([0.0, 1.0]), 288.15)
    assert_allclose(z, 1.0, atol=1e-9)


def test_reference_density_scales_with_temperature_for_ideal_gas() -> None:
    gas = Gas(eos=EOS.IDEAL, molar_mass=0.018)
    rho_n = gas.reference_density(Reference.NORMAL)
    rho_s = gas.reference_density(Reference.STANDARD)
    assert_allclose(rho_n / rho_s, 288.15 / 273.15, rtol=1e-15)
    assert_allclose(rho_n, 0.018 * 101_325.0 / (R_UNIVERSAL * 273.15), rtol=1e-15)


def test_reference_density_real_gas() -> None:
    gas = Gas.from_composition({"CH4": 1.0})
    rho_n = gas.reference_density(Reference.NORMAL)
    # methane at 0 °C, 1 atm: 0.7175 kg/m^3 (Z = 0.9976)
    assert_allclose(rho_n, 0.7175, rtol=1e-3)


# --- caloric fallbacks, copies and pickling -----------------------------------------------------------------


def test_caloric_fallback_without_composition() -> None:
    gas = Gas(kappa=1.31)
    p = np.array([1e6, 5e6])
    assert_allclose(gas.isentropic_exponent(p, 288.15), [1.31, 1.31])
    assert_allclose(gas.cp_mass(p, 288.15), 1.31 / 0.31 * gas.R_specific, rtol=1e-15)


def test_real_gas_cp_exceeds_ideal_at_pipeline_pressure() -> None:
    gas = Gas.from_composition({"CH4": 0.95, "C2H6": 0.05})
    cp = gas.cp_mass(np.array([1e3, 7e6]), 288.15)
    assert cp[1] > cp[0] * 1.1


def test_with_does_not_share_extra() -> None:
    gas = Gas.from_properties(molar_mass=0.018, normal_density=0.8)
    other = gas.with_(viscosity=1.2e-5)
    other._extra["normal_density"] = 0.9
    assert gas._extra["normal_density"] == 0.8


def test_pickle_with_populated_cache() -> None:
    gas = Gas.from_composition(E1, name="E1")
    p = np.linspace(1e5, 8e6, 1000)
    z = gas.z(p, 283.15)  # builds and caches the table
    blob = pickle.dumps(gas)
    assert len(blob) < 5000  # the cache lives outside the value object
    back = pickle.loads(blob)
    assert back == gas
    assert_allclose(back.z(p, 283.15), z, rtol=0, atol=0)
    assert back.to_dict()["composition"]["CH4"] == 0.77824
