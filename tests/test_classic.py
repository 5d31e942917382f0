"""Tests of the engineers' single-pipe equations in gasgrid.physics.classic (cases from validation.md)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gasgrid.errors import InfeasibleError, InputError
from gasgrid.gas.model import EOS, Gas
from gasgrid.physics import classic
from gasgrid.physics.friction import COLEBROOK, darcy_friction
from gasgrid.units import M_AIR, PSI, R_UNIVERSAL

MILE = 1609.344  # m
INCH = 0.0254  # m
MMSCFD = 1e6 * 0.3048**3 / 86_400.0  # m³/s per million standard cubic feet per day
LB_FT_S = 0.45359237 / 0.3048  # Pa s per lb/(ft s)
T_B_US = 520.0 / 1.8  # K, 60 °F


def fahrenheit(t: float) -> float:
    return (t - 32.0) / 1.8 + 273.15


# --- published and third-party values ----------------------------------------------------------------------
# Library values [L]: fluids.compressible docstrings (CalebBell/fluids): Weymouth, Panhandle_A, Panhandle_B
# with D = 0.340 m, P1 = 90 bar, P2 = 20 bar, L = 160 km, SG = 0.693, Tavg = 277.15 K, Z = 1, E = 0.92,
# Ts = 288.7 K, Ps = 101325 Pa.
LIBRARY = dict(temperature=277.15, relative_density=0.693, efficiency=0.92, Tb=288.7, Pb=101_325.0)


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (classic.weymouth_flow, 32.07729055913029),
        (classic.panhandle_a_flow, 42.56082051195928),
        (classic.panhandle_b_flow, 42.35366178004172),
    ],
)
def test_fluids_library_values(flow: Callable[..., float], expected: float) -> None:
    assert_allclose(flow(90e5, 20e5, 160e3, 0.340, **LIBRARY), expected, rtol=1e-12)


def test_s1_menon_ex15_panhandle_a_with_cnga() -> None:
    # S1: Menon (2005) Gas Pipeline Hydraulics, ch. 2 Ex. 15. Published P2 = 968.35 psia, tolerance 0.2 psi.
    gas = Gas(molar_mass=0.6 * M_AIR, eos=EOS.CNGA)
    p2 = classic.panhandle_a_outlet_pressure(
        100.0 * MMSCFD, 1000.0 * PSI, 15.0 * MILE, 15.5 * INCH, temperature=fahrenheit(80.0),
        relative_density=0.6, z=lambda p, T: float(gas.z(p, T)), efficiency=0.92, Tb=T_B_US, Pb=14.73 * PSI,
    )
    assert_allclose(p2 / PSI, 968.35, atol=0.2, rtol=0.0)
    # the Z used is the CNGA value at the solution's own average pressure (self-consistent)
    z_avg = float(gas.z(classic.average_pressure(1000.0 * PSI, p2), fahrenheit(80.0)))
    q = classic.panhandle_a_flow(1000.0 * PSI, p2, 15.0 * MILE, 15.5 * INCH, temperature=fahrenheit(80.0),
                                 relative_density=0.6, z=z_avg, efficiency=0.92, Tb=T_B_US, Pb=14.73 * PSI)
    assert_allclose(q, 100.0 * MMSCFD, rtol=1e-10)


def test_s2_menon_ex19_igt_flow() -> None:
    # S2: Menon (2005) ch. 2 Ex. 19, IGT. Published Q = 263.1 MMSCFD, tolerance 0.2 %.
    p_atm = 14.7 * PSI
    q = classic.igt_flow(
        1000.0 * PSI + p_atm, 800.0 * PSI + p_atm, 15.0 * MILE, 15.5 * INCH, temperature=fahrenheit(80.0),
        relative_density=0.6, viscosity=8e-6 * LB_FT_S, efficiency=0.95, Tb=T_B_US, Pb=p_atm,
    )
    assert_allclose(q / MMSCFD, 263.1, rtol=2e-3)


S3 = dict(temperature=fahrenheit(40.0), relative_density=0.694, Tb=T_B_US, Pb=14.7 * PSI)
S3_PIPE = (1300.0 * PSI, 300.0 * PSI, 100.0 * MILE, 13.376 * INCH)


def test_s3_crane_ex7_18_weymouth_and_panhandle_a() -> None:
    # S3: Crane TP-410 Ex. 7-18, 14" Sch 20, 100 mi. Published Weymouth (E = 1) 105.1 and Panhandle A
    # (E = 0.92) 128.2 MMscfd; tolerance 0.5 %.
    assert_allclose(classic.weymouth_flow(*S3_PIPE, **S3) / MMSCFD, 105.1, rtol=5e-3)
    assert_allclose(classic.panhandle_a_flow(*S3_PIPE, efficiency=0.92, **S3) / MMSCFD, 128.2, rtol=5e-3)


def test_s3_crane_ex7_18_isothermal() -> None:
    # S3: Crane TP-410 Ex. 7-18, isothermal form 107.8 MMscfd; tolerance 5 % (Crane simplifies the friction
    # factor). Clean commercial steel k = 0.0018 in, μ = 1.1e-5 Pa s, Colebrook.
    q = classic.isothermal_flow(*S3_PIPE, roughness=0.0018 * INCH, viscosity=1.1e-5, **S3)
    assert_allclose(q / MMSCFD, 107.8, rtol=0.05)


# --- analytic relations ------------------------------------------------------------------------------------
BASE = dict(temperature=285.0, relative_density=0.62, Tb=288.15, Pb=101_325.0)
PIPE = (70e5, 55e5, 60e3, 0.6)


def _rho_b(G: float = 0.62, Tb: float = 288.15, Pb: float = 101_325.0) -> float:
    return Pb * G * M_AIR / (R_UNIVERSAL * Tb)


def test_general_flow_is_the_network_pipe_law() -> None:
    p1, p2, L, D = PIPE
    lam, E, z = 0.0105, 0.95, 0.88
    q = classic.general_flow(p1, p2, L, D, friction_factor=lam, z=z, efficiency=E, **BASE) * _rho_b()
    c2 = z * R_UNIVERSAL * 285.0 / (0.62 * M_AIR)
    area = math.pi * D**2 / 4
    assert_allclose(p1**2 - p2**2, lam / E**2 * c2 * L * q * q / (D * area**2), rtol=1e-13)


def test_general_flow_colebrook_is_self_consistent() -> None:
    p1, p2, L, D = PIPE
    k, mu = 2e-5, 1.1e-5
    q = classic.general_flow(p1, p2, L, D, roughness=k, viscosity=mu, **BASE) * _rho_b()
    lam, _ = darcy_friction(np.array([COLEBROOK]), q, D, k, mu, np.nan, relative_density=0.62)
    q_fixed = classic.general_flow(p1, p2, L, D, friction_factor=float(lam[0]), **BASE) * _rho_b()
    assert_allclose(q, q_fixed, rtol=1e-12)


def test_isothermal_approaches_general_flow_for_small_drops() -> None:
    p1, _, L, D = PIPE
    kw = dict(friction_factor=0.01, **BASE)
    for p2, rtol in ((0.999 * p1, 1e-5), (0.8 * p1, 1e-3)):
        iso = classic.isothermal_flow(p1, p2, L, D, **kw)
        gen = classic.general_flow(p1, p2, L, D, **kw)
        assert iso < gen
        assert_allclose(iso, gen, rtol=rtol)


def test_z_callable_is_evaluated_at_menon_average_pressure() -> None:
    p1, p2, L, D = PIPE
    seen: list[float] = []

    def z(p: float, T: float) -> float:
        seen.append(p)
        return 0.9

    q = classic.weymouth_flow(p1, p2, L, D, z=z, **BASE)
    assert_allclose(seen, [2 / 3 * (p1 + p2 - p1 * p2 / (p1 + p2))], rtol=1e-15)
    assert_allclose(q, classic.weymouth_flow(p1, p2, L, D, z=0.9, **BASE), rtol=1e-15)


OUTLET_CASES = [
    (classic.weymouth_flow, classic.weymouth_outlet_pressure, {}),
    (classic.panhandle_a_flow, classic.panhandle_a_outlet_pressure, {"efficiency": 0.92}),
    (classic.panhandle_b_flow, classic.panhandle_b_outlet_pressure, {"efficiency": 0.95}),
    (classic.igt_flow, classic.igt_outlet_pressure, {"viscosity": 1.1e-5}),
    (classic.aga_flow, classic.aga_outlet_pressure, {"roughness": 2e-5, "viscosity": 1.1e-5}),
    (classic.general_flow, classic.general_outlet_pressure, {"roughness": 2e-5, "viscosity": 1.1e-5}),
    (classic.general_flow, classic.general_outlet_pressure, {"friction_factor": 0.011}),
    (classic.isothermal_flow, classic.isothermal_outlet_pressure, {"friction_factor": 0.011}),
]


@pytest.mark.parametrize(("flow", "outlet", "extra"), OUTLET_CASES)
def test_outlet_pressure_inverts_flow(flow: Callable[..., float], outlet: Callable[..., float], extra: dict) -> None:
    p1, p2, L, D = PIPE
    kw = {**BASE, **extra, "z": lambda p, T: 1.0 - 2e-8 * p}
    q = flow(p1, p2, L, D, **kw)
    assert_allclose(outlet(q, p1, L, D, **kw), p2, rtol=1e-10)
    assert outlet(0.0, p1, L, D, **kw) == p1


@pytest.mark.parametrize(("flow", "outlet", "extra"), OUTLET_CASES)
def test_outlet_pressure_infeasible_flow(
    flow: Callable[..., float], outlet: Callable[..., float], extra: dict
) -> None:
    p1, _, L, D = PIPE
    q_big = 10.0 * flow(p1, 1e3, L, D, **BASE, **extra)
    with pytest.raises(InfeasibleError, match="exceeds"):
        outlet(q_big, p1, L, D, **BASE, **extra)


def test_isothermal_outlet_pressure_stays_on_subsonic_branch() -> None:
    p1, _, _, D = PIPE
    L_short = 200.0  # short pipe: isothermal choking matters
    kw = dict(friction_factor=0.011, **BASE)
    p2s = np.linspace(0.02, 0.98, 49) * p1
    flows = [classic.isothermal_flow(p1, p2, L_short, D, **kw) for p2 in p2s]
    i_max = int(np.argmax(flows))
    assert 0 < i_max < len(p2s) - 1  # the curve has an interior maximum (choking)
    p2 = classic.isothermal_outlet_pressure(0.5 * flows[i_max], p1, L_short, D, **kw)
    assert p2 > p2s[i_max]
    with pytest.raises(InfeasibleError):
        classic.isothermal_outlet_pressure(1.01 * flows[i_max], p1, L_short, D, **kw)


# --- validators ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((70e5, 70e5, 60e3, 0.6), {}, "p2"),
        ((70e5, 80e5, 60e3, 0.6), {}, "p2"),
        ((70e5, 0.0, 60e3, 0.6), {}, "p2"),
        ((-1.0, -2.0, 60e3, 0.6), {}, "p1"),
        ((70e5, 55e5, 0.0, 0.6), {}, "length"),
        ((70e5, 55e5, 60e3, -0.6), {}, "diameter"),
        ((70e5, 55e5, 60e3, 0.6), {"efficiency": 0.0}, "efficiency"),
        ((70e5, 55e5, 60e3, 0.6), {"efficiency": 2.0}, "efficiency"),
        ((70e5, 55e5, 60e3, 0.6), {"z": -0.9}, "z"),
        ((70e5, 55e5, 60e3, 0.6), {"z": lambda p, T: math.nan}, "z"),
        ((70e5, 55e5, 60e3, 0.6), {"temperature": 0.0}, "temperature"),
        ((70e5, 55e5, 60e3, 0.6), {"relative_density": 0.0}, "relative_density"),
        ((70e5, 55e5, 60e3, 0.6), {"Tb": -1.0}, "Tb"),
        ((70e5, 55e5, 60e3, 0.6), {"Pb": 0.0}, "Pb"),
    ],
)
def test_weymouth_rejects_bad_input(args: tuple, kwargs: dict, field: str) -> None:
    kw = {**BASE, **kwargs}
    with pytest.raises(InputError, match=f"field '{field}'.*(must|give)"):
        classic.weymouth_flow(*args, **kw)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "friction_factor"),
        ({"roughness": 1e-5}, "friction_factor"),
        ({"friction_factor": 0.01, "roughness": 1e-5}, "roughness"),
        ({"friction_factor": 0.0}, "friction_factor"),
        ({"roughness": 1.0, "viscosity": 1e-5}, "roughness"),
        ({"roughness": 1e-5, "viscosity": 0.0}, "viscosity"),
    ],
)
def test_general_flow_rejects_bad_friction_input(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError, match=f"field '{field}'"):
        classic.general_flow(*PIPE, **BASE, **kwargs)


def test_other_validators() -> None:
    with pytest.raises(InputError, match="field 'viscosity'"):
        classic.igt_flow(*PIPE, viscosity=0.0, **BASE)
    with pytest.raises(InputError, match="field 'drag_factor'"):
        classic.aga_flow(*PIPE, roughness=1e-5, viscosity=1e-5, drag_factor=1.2, **BASE)
    with pytest.raises(InputError, match="field 'roughness'"):
        classic.aga_flow(*PIPE, roughness=-1e-5, viscosity=1e-5, **BASE)
    with pytest.raises(InputError, match="field 'q'"):
        classic.weymouth_outlet_pressure(-1.0, 70e5, 60e3, 0.6, **BASE)
    with pytest.raises(InputError, match="field 'p1'"):
        classic.weymouth_outlet_pressure(1.0, 0.0, 60e3, 0.6, **BASE)
