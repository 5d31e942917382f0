"""Darcy friction factor λ of a pipe, vectorised over all pipes, with its log-derivative in the flow.

Contract: :func:`darcy_friction` returns λ *without* pipeline efficiency and *without* the laminar floor
(the solver forms λ_eff = max(λ / E², 64 / Re)), together with d ln λ / d ln q, for the pipe law

    p_i² − p_j² e^s = λ_eff c² L_e q|q| / (D A²),   c² = Z R_s T,   A = π D² / 4,   Re = |q| D / (A μ).

The classic flow equations (Weymouth, Panhandle A/B, IGT) are power laws in the standard volume flow; here
each is rewritten as the λ that makes the pipe law above reproduce it exactly for equal Z, T and G. With
Q = q / ρ_b and ρ_b = P_b / (R_s T_b) (ideal gas at base conditions, R_s = R / (G M_air)), a classic equation

    Q = C E (T_b/P_b)^a [(p1² − p2²) / (G^g T L Z μ^m)]^n D^d            (SI: Pa, K, m, Pa s, m³/s)

is equivalent to

    λ = R π² D^5 / (16 M_air) · G^(g−1) μ^m · X^(1/n − 2) · ((P_b/T_b)^(a−1) / (C D^d))^(1/n),
    X = q R / (G M_air) = Q P_b / T_b,

so T and Z cancel and only Panhandle A/B (a ≠ 1) depend on the base conditions. The constants C are the SI
forms of Menon (2005), *Gas Pipeline Hydraulics*, ch. 2 (the same as ``fluids.compressible``); IGT is
Menon's US form (constant 136.9, μ in lb/(ft s)) converted exactly to SI.

Re-dependent laws are evaluated at max(Re, RE_FLOOR) and report a zero derivative below the floor, so the
kernel stays finite at q = 0; the solver's laminar floor 64/Re lies far above them there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.errors import InputError
from gasgrid.units import M_AIR, PSI, R_UNIVERSAL

FloatArray = NDArray[np.float64]

RE_FLOOR = 100.0
"""Reynolds number below which Re-dependent laws are frozen (derivative 0); 64/RE_FLOOR ≫ any λ there."""

COLEBROOK_RTOL = 1e-13
"""Relative convergence of 1/sqrt(λ) in the Colebrook–White Newton iteration."""

_LN10 = math.log(10.0)

# Integer codes of the laws, in the order of gasgrid.components.pipe.FRICTION_LAWS.
LAW: dict[str, int] = {name: i for i, name in enumerate(FRICTION_LAWS)}
COLEBROOK = LAW["colebrook"]
NIKURADSE = LAW["nikuradse"]
HOFER = LAW["hofer"]
SWAMEE_JAIN = LAW["swamee_jain"]
FIXED = LAW["fixed"]
WEYMOUTH = LAW["weymouth"]
PANHANDLE_A = LAW["panhandle_a"]
PANHANDLE_B = LAW["panhandle_b"]
IGT = LAW["igt"]
AGA = LAW["aga"]

AGA_DRAG_FACTOR = 0.96
"""Default AGA drag factor D_f (Menon 2005 §2: 0.90–0.99 depending on the bend index)."""


@dataclass(frozen=True)
class ClassicEquation:
    """SI constants of a classic power-law flow equation (see the module docstring for the form).

    Attributes:
        name: law name as in ``FRICTION_LAWS``.
        C: leading constant for Q [m³/s], Tb [K], Pb, p [Pa], L [m], D [m], μ [Pa s].
        a: exponent of T_b/P_b.
        g: exponent of G inside the bracket.
        n: exponent of the bracket.
        d: exponent of D.
        m: exponent of μ inside the bracket (0 where the equation has no viscosity).
    """

    name: str
    C: float
    a: float
    g: float
    n: float
    d: float
    m: float = 0.0


def _menon_si(c_menon: float, a: float, n: float, d: float) -> float:
    """Menon's SI constant (Q m³/day, T_b K, P_b kPa, p kPa, L km, D mm) -> base SI (m³/s, Pa, m)."""
    return c_menon / 86_400.0 * 1e3**a * 1e-3**n * 1e3**d


def _menon_us_igt(c_us: float, n: float, d: float, m: float) -> float:
    """Menon's US IGT constant (Q ft³/day, °R, psia, mi, in, μ lb/(ft s)) -> base SI."""
    ft3_per_day = 0.3048**3 / 86_400.0
    lb_ft_s = 0.45359237 / 0.3048  # Pa s
    bracket = 1609.344 / (PSI**2 * 1.8) * lb_ft_s**m
    return c_us * ft3_per_day * (1.8 * PSI) * bracket**n * 0.0254 ** (-d)


CLASSIC_EQUATIONS: dict[int, ClassicEquation] = {
    WEYMOUTH: ClassicEquation("weymouth", _menon_si(3.7435e-3, 1.0, 0.5, 2.667), 1.0, 1.0, 0.5, 2.667),
    PANHANDLE_A: ClassicEquation(
        "panhandle_a", _menon_si(4.5965e-3, 1.0788, 0.5394, 2.6182), 1.0788, 0.8539, 0.5394, 2.6182
    ),
    PANHANDLE_B: ClassicEquation("panhandle_b", _menon_si(1.002e-2, 1.02, 0.51, 2.53), 1.02, 0.961, 0.51, 2.53),
    IGT: ClassicEquation("igt", _menon_us_igt(136.9, 0.555, 2.667, 0.2), 1.0, 0.8, 0.555, 2.667, 0.2),
}


def classic_lambda(
    eq: ClassicEquation,
    q_abs: FloatArray,
    diameter: FloatArray,
    viscosity: FloatArray,
    *,
    relative_density: float,
    base_temperature: float,
    base_pressure: float,
) -> FloatArray:
    """Darcy λ equivalent to a classic equation at mass flow ``q_abs`` [kg/s] > 0 (E = 1; see module doc)."""
    G = relative_density
    X = q_abs * (R_UNIVERSAL / (G * M_AIR))
    log_lam = (
        math.log(R_UNIVERSAL * math.pi**2 / (16.0 * M_AIR))
        + 5.0 * np.log(diameter)
        + (eq.g - 1.0) * math.log(G)
        + (1.0 / eq.n - 2.0) * np.log(X)
        + ((eq.a - 1.0) * math.log(base_pressure / base_temperature) - math.log(eq.C)) / eq.n
        - (eq.d / eq.n) * np.log(diameter)
    )
    if eq.m:
        log_lam = log_lam + eq.m * np.log(viscosity)
    return np.exp(log_lam)


def colebrook(re: FloatArray, rel_roughness: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Colebrook–White λ and d ln λ / d ln Re, solved to ``COLEBROOK_RTOL``.

    1/√λ = −2 log10(k/(3.71 D) + 2.51/(Re √λ)), with k/D = ``rel_roughness``; Re > 0.
    Newton on x = 1/√λ from the Swamee–Jain value; the derivative by implicit differentiation.
    """
    a = rel_roughness / 3.71
    b = 2.51 / re
    x = -0.5 * np.log10(rel_roughness / 3.7 + 5.74 / re**0.9)  # Swamee–Jain: x = 1/√λ
    x = np.maximum(x, 0.1)
    for _ in range(50):
        s = a + b * x
        g = x + 2.0 * np.log10(s)
        dg = 1.0 + 2.0 * b / (_LN10 * s)
        step = g / dg
        x = x - step
        if np.all(np.abs(step) <= COLEBROOK_RTOL * np.abs(x)):
            break
    s = a + b * x
    dg = 1.0 + 2.0 * b / (_LN10 * s)
    dx_dlnre = (2.0 * b * x / (_LN10 * s)) / dg
    return x**-2, -2.0 * dx_dlnre / x


def _nikuradse(rel_roughness: FloatArray) -> FloatArray:
    """Fully rough law 1/√λ = 2 log10(3.71 D/k); λ = 0 for a smooth wall (the laminar floor then governs)."""
    with np.errstate(divide="ignore"):
        x = 2.0 * np.log10(3.71 / rel_roughness)
    return np.where(np.isfinite(x), 1.0 / (x * x), 0.0)


def _hofer(re: FloatArray, rel_roughness: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Hofer (1973): 1/√λ = −2 log10(4.518 log10(Re/7)/Re + k/(3.71 D)); needs Re > 7."""
    lg = np.log10(re / 7.0)
    u = 4.518 * lg / re + rel_roughness / 3.71
    du = 4.518 / re * (1.0 / _LN10 - lg)  # du / d ln Re
    x = -2.0 * np.log10(u)
    dx = -2.0 / (_LN10 * u) * du
    return x**-2, -2.0 * dx / x


def _swamee_jain(re: FloatArray, rel_roughness: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Swamee & Jain (1976): λ = 0.25 / log10(k/(3.7 D) + 5.74 / Re^0.9)²."""
    t = 5.74 * re**-0.9
    u = rel_roughness / 3.7 + t
    lg = np.log10(u)
    return 0.25 / (lg * lg), 2.0 * 0.9 * t / (_LN10 * u * lg)


def _aga(re: FloatArray, rel_roughness: FloatArray, drag_factor: float) -> tuple[FloatArray, FloatArray]:
    """AGA (Menon 2005 §2): F = min(4 log10(3.7 D/k), 4 D_f log10(Re/F_t)), F_t = 4 log10(Re/F_t) − 0.6.

    λ = 4/F². The smooth-pipe factor F_t is solved by Newton (from F_t = 4 log10(Re) − 6); on the partially
    turbulent branch 4 log10(Re/F_t) = F_t + 0.6.
    """
    ft = np.maximum(4.0 * np.log10(re) - 6.0, 1.0)
    for _ in range(50):
        g = ft - 4.0 * np.log10(re / ft) + 0.6
        dg = 1.0 + 4.0 / (_LN10 * ft)
        step = g / dg
        ft = ft - step
        if np.all(np.abs(step) <= COLEBROOK_RTOL * ft):
            break
    dft = (4.0 / _LN10) / (1.0 + 4.0 / (_LN10 * ft))  # dF_t / d ln Re
    f_partial = drag_factor * (ft + 0.6)
    with np.errstate(divide="ignore"):
        f_rough = 4.0 * np.log10(3.7 / rel_roughness)
    partial = f_partial < f_rough
    f = np.where(partial, f_partial, f_rough)
    dlnf = np.where(partial, drag_factor * dft / f_partial, 0.0)
    return 4.0 / (f * f), -2.0 * dlnf


def darcy_friction(
    law: NDArray[np.int64],
    q_abs: ArrayLike,
    diameter: ArrayLike,
    roughness: ArrayLike,
    viscosity: ArrayLike,
    lambda_fixed: ArrayLike,
    *,
    relative_density: float,
    temperature: ArrayLike | None = None,
    efficiency: ArrayLike | None = None,
    base_temperature: float = 288.15,
    base_pressure: float = 101_325.0,
    aga_drag_factor: float = AGA_DRAG_FACTOR,
) -> tuple[FloatArray, FloatArray]:
    """Darcy friction factor λ and d ln λ / d ln q for every pipe (no efficiency, no laminar floor).

    Args:
        law: index into ``gasgrid.components.pipe.FRICTION_LAWS`` per pipe.
        q_abs: |mass flow| [kg/s], ≥ 0.
        diameter: inner diameter D [m].
        roughness: equivalent sand roughness k [m] (Colebrook, Nikuradse, Hofer, Swamee–Jain, AGA).
        viscosity: dynamic viscosity μ [Pa s], scalar or per pipe.
        lambda_fixed: λ [-] used where law == "fixed" (ignored elsewhere, may be NaN there).
        relative_density: G = M / M_air [-] (classic laws convert q to standard volume with it).
        temperature: gas temperature [K]. Accepted for interface stability; no law depends on it, since
            the classic equations are linear in T just like the pipe law.
        efficiency: pipeline efficiency E [-] the solver divides λ by. If given, Panhandle A/B and IGT are
            evaluated at q/E, which makes λ/E² reproduce the classic equation's Q ∝ E exactly; if None
            they are evaluated at q (exact only for E = 1: Δp² is then off by E^(2 − 1/n), e.g. 1.2 % at
            E = 0.92 for Panhandle A). Weymouth and the roughness laws do not depend on it.
        base_temperature, base_pressure: T_b [K], P_b [Pa] at which the classic equations' standard volume
            is quoted (only Panhandle A/B depend on them, through (T_b/P_b)^(a−1)).
        aga_drag_factor: AGA drag factor D_f [-] of the partially turbulent branch.

    Returns:
        (λ [-], d ln λ / d ln q [-]), float arrays of the broadcast shape; finite for q_abs = 0.
        Re-dependent laws use Re = max(|q| D/(A μ), RE_FLOOR) and a derivative 0 below the floor.
    """
    law = np.asarray(law, dtype=np.int64)
    inputs = [np.asarray(v, dtype=float) for v in (q_abs, diameter, roughness, viscosity, lambda_fixed)]
    E_in = np.asarray(1.0 if efficiency is None else efficiency, dtype=float)
    shape = np.broadcast_shapes(law.shape, E_in.shape, *(v.shape for v in inputs))
    law = np.broadcast_to(law, shape)
    E = np.broadcast_to(E_in, shape)
    q, D, k, mu, lam_fixed = (np.broadcast_to(v, shape) for v in inputs)

    lam = np.full(shape, np.nan)
    dlam = np.zeros(shape)
    re_raw = 4.0 * q / (math.pi * D * mu)
    frozen = re_raw < RE_FLOOR
    re = np.maximum(re_raw, RE_FLOOR)
    rel = k / D
    for code in np.unique(law):
        sel = law == code
        if code == FIXED:
            lam[sel] = lam_fixed[sel]
        elif code == NIKURADSE:
            # STANET and pandapipes define "Nikuradse" as the fully rough law plus the laminar term 64/Re;
            # matching them is what makes their published results reproducible
            lam_lam = 64.0 / re[sel]
            lam[sel] = _nikuradse(rel[sel]) + lam_lam
            dlam[sel] = np.where(frozen[sel], 0.0, -lam_lam / lam[sel])
        elif code == WEYMOUTH:
            eq = CLASSIC_EQUATIONS[WEYMOUTH]
            lam[sel] = classic_lambda(
                eq, np.ones(int(sel.sum())), D[sel], mu[sel], relative_density=relative_density,
                base_temperature=base_temperature, base_pressure=base_pressure,
            )
        elif code in (COLEBROOK, HOFER, SWAMEE_JAIN, AGA):
            if code == COLEBROOK:
                lam[sel], dlam[sel] = colebrook(re[sel], rel[sel])
            elif code == HOFER:
                lam[sel], dlam[sel] = _hofer(re[sel], rel[sel])
            elif code == SWAMEE_JAIN:
                lam[sel], dlam[sel] = _swamee_jain(re[sel], rel[sel])
            else:
                lam[sel], dlam[sel] = _aga(re[sel], rel[sel], aga_drag_factor)
        elif code in CLASSIC_EQUATIONS:
            eq = CLASSIC_EQUATIONS[int(code)]
            q_floor = RE_FLOOR * math.pi * D[sel] * mu[sel] / 4.0
            q_eff = np.maximum(q[sel] / E[sel], q_floor)
            lam[sel] = classic_lambda(
                eq, q_eff, D[sel], mu[sel], relative_density=relative_density,
                base_temperature=base_temperature, base_pressure=base_pressure,
            )
            dlam[sel] = np.where(q[sel] / E[sel] < q_floor, 0.0, 1.0 / eq.n - 2.0)
        else:
            raise InputError(
                f"unknown friction law code {int(code)}; allowed 0..{len(FRICTION_LAWS) - 1} ({FRICTION_LAWS})",
                kind="pipe", field="friction",
            )
    dlam = np.where(frozen & np.isin(law, (COLEBROOK, HOFER, SWAMEE_JAIN, AGA)), 0.0, dlam)
    return lam, dlam
