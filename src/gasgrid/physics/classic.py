"""Engineers' single-pipe flow equations in SI, with explicit base conditions.

Contract: every function takes absolute pressures [Pa], lengths and diameters [m], temperatures [K] and
viscosity [Pa s], and returns either the standard volume flow Q [m³/s at (Tb, Pb)] or an outlet pressure
[Pa]. Flow is steady, isothermal and horizontal. ``z`` is a constant compressibility factor or a callable
``z(p [Pa], T [K]) -> Z`` evaluated at Menon's average pressure P_avg = 2/3 (P1 + P2 − P1 P2 / (P1 + P2)),
consistently with the unknown outlet pressure in the ``*_outlet_pressure`` solvers. Bad inputs raise
:class:`gasgrid.errors.InputError` naming the argument and its allowed range; a flow the pipe cannot carry
even with p2 → 0 raises :class:`gasgrid.errors.InfeasibleError`.

The power-law equations (Weymouth, Panhandle A/B, IGT) share their SI constants with the friction kernel
(:data:`gasgrid.physics.friction.CLASSIC_EQUATIONS`), so a network pipe with the same law reproduces them.
Source: Menon (2005), *Gas Pipeline Hydraulics*, ch. 2. Gas is ideal at base conditions: ρ_b = P_b M / (R T_b).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from gasgrid.errors import InfeasibleError, InputError
from gasgrid.physics.friction import (
    AGA,
    AGA_DRAG_FACTOR,
    CLASSIC_EQUATIONS,
    COLEBROOK,
    IGT,
    PANHANDLE_A,
    PANHANDLE_B,
    WEYMOUTH,
    ClassicEquation,
    darcy_friction,
)
from gasgrid.units import M_AIR, R_UNIVERSAL

ZFunction = Callable[[float, float], float]
"""Compressibility z(p [Pa], T [K]) -> Z [-]."""
ZSpec = float | ZFunction

_FIXED_POINT_RTOL = 1e-14


def average_pressure(p1: float, p2: float) -> float:
    """Menon's average pressure of a gas pipe, 2/3 (p1 + p2 − p1 p2 / (p1 + p2)) [Pa] from p1, p2 [Pa]."""
    return 2.0 / 3.0 * (p1 + p2 - p1 * p2 / (p1 + p2))


# --- validation -------------------------------------------------------------------------------------------
def _positive(name: str, value: float, upper: float = math.inf) -> float:
    value = float(value)
    if not (0.0 < value <= upper):
        rng = f"(0, {upper:g}]" if math.isfinite(upper) else "(0, inf)"
        raise InputError(f"must lie in {rng}; got {value!r}", field=name)
    return value


def _pressures(p1: float, p2: float) -> tuple[float, float]:
    p1 = _positive("p1", p1)
    p2 = float(p2)
    if not (0.0 < p2 < p1):
        raise InputError(f"must satisfy 0 < p2 < p1 = {p1:g} Pa; got {p2!r}", field="p2")
    return p1, p2


def _z(z: ZSpec, p1: float, p2: float, T: float) -> float:
    if callable(z):
        value = float(z(average_pressure(p1, p2), T))
        if not (value > 0.0 and math.isfinite(value)):
            raise InputError(f"z(p_avg, T) must be positive and finite; got {value!r}", field="z")
        return value
    return _positive("z", z, 5.0)


def _common(temperature: float, relative_density: float, efficiency: float, Tb: float, Pb: float) -> None:
    _positive("temperature", temperature, 1000.0)
    _positive("relative_density", relative_density, 10.0)
    _positive("efficiency", efficiency, 1.5)
    _positive("Tb", Tb, 1000.0)
    _positive("Pb", Pb)


def _geometry(length: float, diameter: float) -> None:
    _positive("length", length)
    _positive("diameter", diameter, 10.0)


def _base_density(G: float, Tb: float, Pb: float) -> float:
    """Ideal-gas density at base conditions [kg/m³]."""
    return Pb * G * M_AIR / (R_UNIVERSAL * Tb)


# --- the power-law equations ------------------------------------------------------------------------------
def _power_law(
    eq: ClassicEquation, p1: float, p2: float, L: float, D: float, T: float, G: float, zz: float, E: float,
    Tb: float, Pb: float, mu: float = 1.0,
) -> float:
    bracket = (p1 * p1 - p2 * p2) / (G**eq.g * T * L * zz * mu**eq.m)
    return eq.C * E * (Tb / Pb) ** eq.a * bracket**eq.n * D**eq.d


def _classic_flow(
    code: int, p1: float, p2: float, length: float, diameter: float, temperature: float,
    relative_density: float, z: ZSpec, efficiency: float, Tb: float, Pb: float, viscosity: float = 1.0,
) -> float:
    p1, p2 = _pressures(p1, p2)
    _geometry(length, diameter)
    _common(temperature, relative_density, efficiency, Tb, Pb)
    zz = _z(z, p1, p2, temperature)
    return _power_law(CLASSIC_EQUATIONS[code], p1, p2, length, diameter, temperature, relative_density, zz,
                      efficiency, Tb, Pb, viscosity)


def weymouth_flow(
    p1: float, p2: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Weymouth: Q = 137.3296 E (Tb/Pb) [(p1² − p2²)/(G T L Z)]^0.5 D^2.667.

    Args: p1, p2 [Pa abs], length [m], diameter [m], temperature T [K], relative_density G [-], z Z [-] or
    z(p [Pa], T [K]), efficiency E [-], Tb [K], Pb [Pa]. Returns Q [m³/s at Tb, Pb].
    """
    return _classic_flow(WEYMOUTH, p1, p2, length, diameter, temperature, relative_density, z, efficiency, Tb, Pb)


def panhandle_a_flow(
    p1: float, p2: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Panhandle A: Q = 158.0205 E (Tb/Pb)^1.0788 [(p1² − p2²)/(G^0.8539 T L Z)]^0.5394 D^2.6182.

    Units as in :func:`weymouth_flow`: Pa, m, K; returns Q [m³/s at Tb, Pb].
    """
    return _classic_flow(PANHANDLE_A, p1, p2, length, diameter, temperature, relative_density, z, efficiency,
                         Tb, Pb)


def panhandle_b_flow(
    p1: float, p2: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Panhandle B: Q = 152.8812 E (Tb/Pb)^1.02 [(p1² − p2²)/(G^0.961 T L Z)]^0.51 D^2.53.

    Units as in :func:`weymouth_flow`: Pa, m, K; returns Q [m³/s at Tb, Pb].
    """
    return _classic_flow(PANHANDLE_B, p1, p2, length, diameter, temperature, relative_density, z, efficiency,
                         Tb, Pb)


def igt_flow(
    p1: float, p2: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    viscosity: float, z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """IGT: Q = C E (Tb/Pb) [(p1² − p2²)/(G^0.8 T L Z μ^0.2)]^0.555 D^2.667, C = 24.9148 (SI).

    Menon's US form (136.9, μ in lb/(ft s)) converted exactly. Menon's IGT has no Z; z = 1 reproduces it,
    another z divides p1² − p2² as in the other equations (and as the network pipe law does).
    Units: Pa, m, K, viscosity μ [Pa s]; returns Q [m³/s at Tb, Pb].
    """
    _positive("viscosity", viscosity, 1.0)
    return _classic_flow(IGT, p1, p2, length, diameter, temperature, relative_density, z, efficiency, Tb, Pb,
                         viscosity)


# --- Darcy-λ based equations ------------------------------------------------------------------------------
LambdaOfQ = Callable[[float], float]
"""λ [-] as a function of the mass flow [kg/s]."""


def _lambda_law(
    diameter: float, friction_factor: float | None, roughness: float | None, viscosity: float | None,
) -> LambdaOfQ:
    if friction_factor is not None:
        if roughness is not None:
            raise InputError("give either friction_factor or roughness (Colebrook), not both", field="roughness")
        lam = _positive("friction_factor", friction_factor, 1.0)
        return lambda q: lam
    if roughness is None or viscosity is None:
        raise InputError("give friction_factor, or roughness [m] and viscosity [Pa s] for Colebrook",
                         field="friction_factor")
    k = float(roughness)
    if not (0.0 <= k < diameter):
        raise InputError(f"must lie in [0, diameter = {diameter:g} m); got {k!r}", field="roughness")
    mu = _positive("viscosity", viscosity, 1.0)

    law = np.array([COLEBROOK])

    def lam_colebrook(q: float) -> float:
        lam, _ = darcy_friction(law, q, diameter, k, mu, np.nan, relative_density=1.0)
        return float(lam[0])

    return lam_colebrook


def _lambda_flow(
    p1: float, p2: float, length: float, diameter: float, temperature: float, G: float, zz: float, E: float,
    lam_of_q: LambdaOfQ, acceleration: bool,
) -> float:
    """Mass flow [kg/s] of Δp² = (q/A)² Z R_s T (λ(q) L/(E² D) [+ 2 ln(p1/p2)]) by fixed-point iteration.

    |d ln λ / d ln q| ≤ 0.25 for all laws used here, so the iteration contracts by at least 8×.
    """
    area = math.pi * diameter**2 / 4.0
    c2 = zz * R_UNIVERSAL * temperature / (G * M_AIR)
    acc = 2.0 * math.log(p1 / p2) if acceleration else 0.0
    dp2 = p1 * p1 - p2 * p2
    q = area * math.sqrt(dp2 / (c2 * (0.01 * length / (E * E * diameter) + acc)))
    for _ in range(200):
        lam = lam_of_q(q)
        q_new = area * math.sqrt(dp2 / (c2 * (lam * length / (E * E * diameter) + acc)))
        if abs(q_new - q) <= _FIXED_POINT_RTOL * q_new:
            return q_new
        q = q_new
    return q


def general_flow(
    p1: float, p2: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    friction_factor: float | None = None, roughness: float | None = None, viscosity: float | None = None,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """General flow equation (Darcy–Weisbach, isothermal, kinetic term neglected) — the network pipe law.

    p1² − p2² = λ Z R_s T L q² / (E² D A²), Q = q / ρ_b; equivalently
    Q = (π/4) √(R/M_air) E (Tb/Pb) √((p1² − p2²) D⁵ / (λ G T L Z)).
    Give either ``friction_factor`` (Darcy λ [-]) or ``roughness`` k [m] and ``viscosity`` μ [Pa s]
    (Colebrook–White, solved together with the flow). Units: Pa, m, K; returns Q [m³/s at Tb, Pb].
    """
    return _darcy_family(p1, p2, length, diameter, temperature, relative_density, friction_factor, roughness,
                         viscosity, z, efficiency, Tb, Pb, acceleration=False)


def isothermal_flow(
    p1: float, p2: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    friction_factor: float | None = None, roughness: float | None = None, viscosity: float | None = None,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Isothermal Darcy–Weisbach gas flow with the acceleration term.

    p1² − p2² = (q/A)² Z R_s T (λ L/(E² D) + 2 ln(p1/p2)), Q = q / ρ_b. Friction as in :func:`general_flow`.
    Units: Pa, m, K; returns Q [m³/s at Tb, Pb].
    """
    return _darcy_family(p1, p2, length, diameter, temperature, relative_density, friction_factor, roughness,
                         viscosity, z, efficiency, Tb, Pb, acceleration=True)


def _darcy_family(
    p1: float, p2: float, length: float, diameter: float, temperature: float, G: float,
    friction_factor: float | None, roughness: float | None, viscosity: float | None, z: ZSpec, E: float,
    Tb: float, Pb: float, *, acceleration: bool,
) -> float:
    p1, p2 = _pressures(p1, p2)
    _geometry(length, diameter)
    _common(temperature, G, E, Tb, Pb)
    lam_of_q = _lambda_law(diameter, friction_factor, roughness, viscosity)
    zz = _z(z, p1, p2, temperature)
    q = _lambda_flow(p1, p2, length, diameter, temperature, G, zz, E, lam_of_q, acceleration)
    return q / _base_density(G, Tb, Pb)


def aga_flow(
    p1: float, p2: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    roughness: float, viscosity: float, drag_factor: float = AGA_DRAG_FACTOR, z: ZSpec = 1.0,
    efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """AGA equation: general flow with F = 2/√λ = min(4 log10(3.7 D/k), 4 D_f log10(Re/F_t)).

    F_t = 4 log10(Re/F_t) − 0.6 (smooth pipe), Re = 4 q/(π D μ). Menon's AGA has no efficiency (the drag
    factor D_f plays that role); E ≠ 1 multiplies Q like in the network. Units: Pa, m, K, roughness k [m],
    viscosity μ [Pa s]; returns Q [m³/s at Tb, Pb].
    """
    p1, p2 = _pressures(p1, p2)
    _geometry(length, diameter)
    _common(temperature, relative_density, efficiency, Tb, Pb)
    mu = _positive("viscosity", viscosity, 1.0)
    k = float(roughness)
    if not (0.0 <= k < diameter):
        raise InputError(f"must lie in [0, diameter = {diameter:g} m); got {k!r}", field="roughness")
    df = _positive("drag_factor", drag_factor, 1.0)
    law = np.array([AGA])

    def lam_of_q(q: float) -> float:
        lam, _ = darcy_friction(law, q, diameter, k, mu, np.nan, relative_density=relative_density,
                                aga_drag_factor=df)
        return float(lam[0])

    zz = _z(z, p1, p2, temperature)
    q = _lambda_flow(p1, p2, length, diameter, temperature, relative_density, zz, efficiency, lam_of_q, False)
    return q / _base_density(relative_density, Tb, Pb)


# --- outlet pressures -------------------------------------------------------------------------------------
def _outlet_pressure(flow: Callable[[float], float], q: float, p1: float, *, choking: bool = False) -> float:
    """p2 [Pa] with flow(p2) = q by brentq; flow decreases in p2 on (p_lo, p1).

    p_lo is 1e-9 p1, or with ``choking`` the p2 of maximum flow (isothermal choking), found first.
    """
    q = float(q)
    if not (q >= 0.0 and math.isfinite(q)):
        raise InputError(f"must be a finite flow ≥ 0 m³/s; got {q!r}", field="q")
    p1 = _positive("p1", p1)
    if q == 0.0:
        return p1
    p_lo = 1e-9 * p1
    if choking:
        res = minimize_scalar(lambda r: -flow(r * p1), bounds=(1e-9, 1.0 - 1e-9), method="bounded",
                              options={"xatol": 1e-12})
        p_lo = float(res.x) * p1
    q_max = flow(p_lo)
    if q > q_max:
        raise InfeasibleError(
            f"flow {q:.6g} m³/s exceeds what the pipe carries from p1 = {p1:g} Pa even with p2 → 0 "
            f"({q_max:.6g} m³/s): lower the flow or raise p1"
        )
    p_hi = p1 * (1.0 - 1e-15)
    return float(brentq(lambda p2: flow(p2) - q, p_lo, p_hi, xtol=1e-12 * p1, rtol=1e-14, maxiter=200))


def weymouth_outlet_pressure(
    q: float, p1: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Outlet pressure p2 [Pa] of :func:`weymouth_flow` for Q = ``q`` [m³/s at Tb, Pb] and p1 [Pa]."""
    return _outlet_pressure(lambda p2: weymouth_flow(
        p1, p2, length, diameter, temperature=temperature, relative_density=relative_density, z=z,
        efficiency=efficiency, Tb=Tb, Pb=Pb), q, p1)


def panhandle_a_outlet_pressure(
    q: float, p1: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Outlet pressure p2 [Pa] of :func:`panhandle_a_flow` for Q = ``q`` [m³/s at Tb, Pb] and p1 [Pa].

    With a callable ``z`` the compressibility is evaluated at the average pressure of the p2 being solved
    for, so the result is self-consistent (Menon's iterate-until-consistent procedure, done by brentq).
    """
    return _outlet_pressure(lambda p2: panhandle_a_flow(
        p1, p2, length, diameter, temperature=temperature, relative_density=relative_density, z=z,
        efficiency=efficiency, Tb=Tb, Pb=Pb), q, p1)


def panhandle_b_outlet_pressure(
    q: float, p1: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Outlet pressure p2 [Pa] of :func:`panhandle_b_flow` for Q = ``q`` [m³/s at Tb, Pb] and p1 [Pa]."""
    return _outlet_pressure(lambda p2: panhandle_b_flow(
        p1, p2, length, diameter, temperature=temperature, relative_density=relative_density, z=z,
        efficiency=efficiency, Tb=Tb, Pb=Pb), q, p1)


def igt_outlet_pressure(
    q: float, p1: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    viscosity: float, z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Outlet pressure p2 [Pa] of :func:`igt_flow` for Q = ``q`` [m³/s at Tb, Pb], p1 [Pa], μ [Pa s]."""
    return _outlet_pressure(lambda p2: igt_flow(
        p1, p2, length, diameter, temperature=temperature, relative_density=relative_density,
        viscosity=viscosity, z=z, efficiency=efficiency, Tb=Tb, Pb=Pb), q, p1)


def aga_outlet_pressure(
    q: float, p1: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    roughness: float, viscosity: float, drag_factor: float = AGA_DRAG_FACTOR, z: ZSpec = 1.0,
    efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Outlet pressure p2 [Pa] of :func:`aga_flow` for Q = ``q`` [m³/s at Tb, Pb]; k [m], μ [Pa s]."""
    return _outlet_pressure(lambda p2: aga_flow(
        p1, p2, length, diameter, temperature=temperature, relative_density=relative_density,
        roughness=roughness, viscosity=viscosity, drag_factor=drag_factor, z=z, efficiency=efficiency,
        Tb=Tb, Pb=Pb), q, p1)


def general_outlet_pressure(
    q: float, p1: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    friction_factor: float | None = None, roughness: float | None = None, viscosity: float | None = None,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Outlet pressure p2 [Pa] of :func:`general_flow` for Q = ``q`` [m³/s at Tb, Pb] and p1 [Pa]."""
    return _outlet_pressure(lambda p2: general_flow(
        p1, p2, length, diameter, temperature=temperature, relative_density=relative_density,
        friction_factor=friction_factor, roughness=roughness, viscosity=viscosity, z=z, efficiency=efficiency,
        Tb=Tb, Pb=Pb), q, p1)


def isothermal_outlet_pressure(
    q: float, p1: float, length: float, diameter: float, *, temperature: float, relative_density: float,
    friction_factor: float | None = None, roughness: float | None = None, viscosity: float | None = None,
    z: ZSpec = 1.0, efficiency: float = 1.0, Tb: float = 288.15, Pb: float = 101_325.0,
) -> float:
    """Outlet pressure p2 [Pa] of :func:`isothermal_flow` for Q = ``q`` [m³/s at Tb, Pb] and p1 [Pa].

    The isothermal flow has a maximum (choking) as p2 falls; this returns the upper, subsonic branch and
    raises InfeasibleError when q exceeds that maximum.
    """
    return _outlet_pressure(lambda p2: isothermal_flow(
        p1, p2, length, diameter, temperature=temperature, relative_density=relative_density,
        friction_factor=friction_factor, roughness=roughness, viscosity=viscosity, z=z, efficiency=efficiency,
        Tb=Tb, Pb=Pb), q, p1, choking=True)
