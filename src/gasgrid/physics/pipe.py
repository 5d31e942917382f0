"""Steady isothermal pipe kernel in squared pressure, vectorised over all pipes.

For isothermal flow of a real gas with c^2 = Z(p_mean) R T, friction and elevation, the momentum equation
integrates exactly (for constant c^2) to

    p_i^2 - p_j^2 e^s = lambda_eff c^2 L_e q|q| / (D A^2),   s = 2 g (h_j - h_i) / c^2,  L_e = L (e^s - 1)/s

with lambda_eff = smooth-max(lambda_law / E^2, 64/Re): the laminar floor keeps the law linear and its derivative
non-zero at zero flow, which is what makes Newton robust on meshed networks with stagnant pipes. The
residual is linear in pi = p^2, so a converged pi <= 0 is a certificate that no physical state exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gasgrid.gas import Gas
from gasgrid.units import G_ACCEL

F64 = NDArray[np.float64]
PI_FLOOR = 1e6  # Pa^2 = (1 kPa)^2: pressures below this are only used to evaluate Z, never reported


@dataclass(frozen=True)
class PipeKernelOutput:
    """Residual F [Pa^2] and its partial derivatives (Pa^2 per Pa^2, Pa^2 per kg/s)."""

    F: F64
    dF_dpi_from: F64
    dF_dpi_to: F64
    dF_dq: F64


def mean_pressure(p_i: F64, p_j: F64) -> tuple[F64, F64, F64]:
    """Length-averaged pressure of an isothermal pipe, 2/3 (p_i + p_j - p_i p_j / (p_i + p_j)), and its
    derivatives with respect to p_i and p_j."""
    s = p_i + p_j
    pm = 2.0 / 3.0 * (s - p_i * p_j / s)
    d_i = 2.0 / 3.0 * (1.0 - (p_j / s) ** 2)
    d_j = 2.0 / 3.0 * (1.0 - (p_i / s) ** 2)
    return pm, d_i, d_j


def _phi(s: F64) -> tuple[F64, F64]:
    """phi(s) = (e^s - 1)/s and phi'(s), stable at s = 0."""
    small = np.abs(s) < 1e-8
    s_safe = np.where(small, 1.0, s)
    phi = np.where(small, 1.0 + s / 2.0, np.expm1(s_safe) / s_safe)
    dphi = np.where(small, 0.5 + s / 3.0, (s_safe * np.exp(s_safe) - np.expm1(s_safe)) / s_safe**2)
    return phi, dphi


def pipe_residual(
    pi_from: F64,
    pi_to: F64,
    q: F64,
    *,
    length: F64,
    diameter: F64,
    dh: F64,
    temperature: F64,
    lam: F64,
    dlnlam: F64,
    efficiency: F64,
    gas: Gas,
    picard_q: F64 | None = None,
) -> PipeKernelOutput:
    """Residual of the pipe law and its Jacobian entries.

    Args:
        pi_from, pi_to: squared pressures at the ends, Pa^2 (may be negative during iterations).
        q: mass flow from -> to, kg/s.
        length, diameter: m. dh: elevation of the to end minus the from end, m. temperature: K.
        lam, dlnlam: Darcy friction factor of the law (without efficiency) and d ln(lambda)/d ln(q).
        efficiency: pipeline efficiency E.
        picard_q: if given, the friction term is linearised about this flow magnitude [kg/s] and the
            Z(p) dependence is frozen (used to build the initial guess).
    """
    area = np.pi * diameter**2 / 4.0
    p_i = np.sqrt(np.maximum(pi_from, PI_FLOOR))
    p_j = np.sqrt(np.maximum(pi_to, PI_FLOOR))
    pm, dpm_i, dpm_j = mean_pressure(p_i, p_j)
    z, dz = gas.z_and_dz_dp(pm, temperature)
    R = gas.R_specific
    c2 = z * R * temperature
    s = 2.0 * G_ACCEL * dh / c2
    phi, dphi = _phi(s)
    es = np.exp(s)
    Le = length * phi
    lam_e = lam / efficiency**2
    k_lam = 64.0 * area * gas.viscosity / diameter  # laminar: lambda q|q| = k_lam q
    if picard_q is None:
        # smooth maximum (a^4 + b^4)^(1/4) of the laminar and turbulent slopes: differentiable through the
        # transition (a kinked max makes Newton cycle on networks with many low-Reynolds pipes); its
        # relative effect on lambda is (64/(Re lambda))^4 / 4, below 1e-6 for Re > 1e5.
        qa = np.abs(q)
        b = lam_e * qa
        m = (k_lam**4 + b**4) ** 0.25
        h = q * m
        dh_dq = m + qa * (b / m) ** 3 * lam_e * (1.0 + dlnlam)
    else:
        slope = np.maximum(k_lam, lam_e * picard_q)
        h = q * slope
        dh_dq = slope
    geo = 1.0 / (diameter * area**2)
    G = c2 * Le
    F = pi_from - es * pi_to - geo * G * h
    dF_dq = -geo * G * dh_dq
    if picard_q is not None:
        return PipeKernelOutput(F, np.ones_like(F), -es, dF_dq)
    # derivative through c^2(p_mean): dG/dc2 = L_e - s L phi'(s); d e^s/dc2 = -s e^s / c2
    dG_dc2 = Le - s * length * dphi
    dF_dc2 = pi_to * es * s / c2 - geo * h * dG_dc2
    dc2_dpm = dz * R * temperature
    live_i = pi_from > PI_FLOOR
    live_j = pi_to > PI_FLOOR
    common = dF_dc2 * dc2_dpm
    dF_dpi_from = 1.0 + np.where(live_i, common * dpm_i / (2.0 * p_i), 0.0)
    dF_dpi_to = -es + np.where(live_j, common * dpm_j / (2.0 * p_j), 0.0)
    return PipeKernelOutput(F, dF_dpi_from, dF_dpi_to, dF_dq)


def pipe_linepack(p_from: F64, p_to: F64, *, length: F64, diameter: F64, temperature: F64, gas: Gas) -> F64:
    """Gas mass in each pipe, kg, from the mean pressure of the isothermal profile."""
    pm, _, _ = mean_pressure(p_from, p_to)
    rho = gas.density(pm, temperature)
    return rho * np.pi * diameter**2 / 4.0 * length
