"""Compiled (numba) versions of the steady pipe and resistor kernels, for the solver's inner loop.

Same equations as :func:`gasgrid.physics.pipe.pipe_residual`, :func:`gasgrid.physics.friction.darcy_friction`
(roughness laws and fixed λ) and :func:`gasgrid.physics.resistor.resistor_residual`, evaluated element by
element in one pass instead of ~100 numpy calls: on networks of a few hundred pipes the numpy versions are
dominated by call overhead. The numpy versions stay the reference (tests compare both to 1e-12 relative);
laws without a compiled form (the classic equations, AGA) are evaluated by numpy and passed in.

Units: squared pressures Pa^2, flows kg/s, lengths m, temperatures K, viscosity Pa s.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numba import njit
from numpy.typing import NDArray

from gasgrid._jit import refresh_stale_caches
from gasgrid.physics.friction import (
    COLEBROOK,
    COLEBROOK_RTOL,
    FIXED,
    HOFER,
    NIKURADSE,
    RE_FLOOR,
    SWAMEE_JAIN,
)
from gasgrid.physics.pipe import PI_FLOOR
from gasgrid.units import G_ACCEL, PSI

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_HERE = Path(__file__).resolve().parent
refresh_stale_caches(_HERE, ("kernels",), "physics-kernels.sha1",
                     (_HERE / "friction.py", _HERE / "pipe.py", _HERE.parent / "units.py"))

COMPILED_LAWS = (COLEBROOK, NIKURADSE, HOFER, SWAMEE_JAIN, FIXED)
"""Friction-law codes evaluated inside :func:`pipe_kernel`; other codes take λ from the caller."""

_LN10 = math.log(10.0)


@njit(cache=True, nogil=True, error_model="numpy")
def colebrook_kernel(re: float, rel: float, x0: float) -> tuple[float, float, float]:
    """Colebrook–White λ, d ln λ / d ln Re and x = 1/√λ at Re > 0 and relative roughness k/D, to
    ``COLEBROOK_RTOL`` (see :func:`gasgrid.physics.friction.colebrook`). Newton on x from ``x0`` if > 0 (a
    previous value: one or two steps), else from Swamee–Jain. Shared by the steady and transient kernels."""
    a = rel / 3.71
    b = 2.51 / re
    x = x0 if x0 > 0.0 else max(-0.5 * math.log10(rel / 3.7 + 5.74 / re**0.9), 0.1)
    for _ in range(50):
        s = a + b * x
        g = x + 2.0 * math.log10(s)
        dg = 1.0 + 2.0 * b / (_LN10 * s)
        step = g / dg
        x = x - step
        if abs(step) <= COLEBROOK_RTOL * abs(x):
            break
    s = a + b * x
    dg = 1.0 + 2.0 * b / (_LN10 * s)
    dx_dlnre = (2.0 * b * x / (_LN10 * s)) / dg
    return x**-2, -2.0 * dx_dlnre / x, x


@njit(cache=True, nogil=True, error_model="numpy")
def _friction(law: int, q_abs: float, D: float, k: float, mu: float, lam_fixed: float,
              x0: float = 0.0) -> tuple[float, float, float]:
    """λ, d ln λ / d ln q and (Colebrook) 1/√λ of one pipe (see :func:`gasgrid.physics.friction.darcy_friction`).

    ``x0`` > 0 starts Colebrook's Newton iteration from a previous 1/√λ instead of Swamee–Jain (same
    converged value to ``COLEBROOK_RTOL``, in one or two steps when the flow changed little)."""
    if law == FIXED:
        return lam_fixed, 0.0, 0.0
    re_raw = 4.0 * q_abs / (math.pi * D * mu)
    frozen = re_raw < RE_FLOOR
    re = max(re_raw, RE_FLOOR)
    rel = k / D
    if law == NIKURADSE:
        lam_lam = 64.0 / re
        if rel > 0.0:
            x = 2.0 * math.log10(3.71 / rel)
            lam = 1.0 / (x * x) + lam_lam
        else:
            lam = lam_lam
        return lam, 0.0 if frozen else -lam_lam / lam, 0.0
    if law == COLEBROOK:
        lam, dln, x = colebrook_kernel(re, rel, x0)
        return lam, 0.0 if frozen else dln, x
    if law == HOFER:
        lg = math.log10(re / 7.0)
        u = 4.518 * lg / re + rel / 3.71
        du = 4.518 / re * (1.0 / _LN10 - lg)
        x = -2.0 * math.log10(u)
        dx = -2.0 / (_LN10 * u) * du
        return x**-2, 0.0 if frozen else -2.0 * dx / x, 0.0
    # SWAMEE_JAIN
    t = 5.74 * re**-0.9
    u = rel / 3.7 + t
    lg = math.log10(u)
    return 0.25 / (lg * lg), 0.0 if frozen else 2.0 * 0.9 * t / (_LN10 * u * lg), 0.0


EOS_GIVEN, EOS_IDEAL, EOS_PAPAY, EOS_CNGA = -1, 0, 1, 2
"""``eos`` codes of the kernels: Z passed in by the caller (reference equations), or evaluated inside."""


@njit(cache=True, nogil=True, error_model="numpy")
def _z(eos: int, p: float, T: float, pc: float, Tc: float, G: float) -> tuple[float, float]:
    """Z and dZ/dp [1/Pa] for the correlations of :class:`gasgrid.gas.Gas` (ideal, Papay, CNGA)."""
    if eos == EOS_IDEAL:
        return 1.0, 0.0
    if eos == EOS_PAPAY:
        pr = p / pc
        Tr = T / Tc
        a = 3.52 * math.exp(-2.26 * Tr)
        b = 0.274 * math.exp(-1.878 * Tr)
        return 1.0 - a * pr + b * pr * pr, (-a + 2.0 * b * pr) / pc
    # CNGA (gauge psi, degrees Rankine)
    pg_psi = (p - 101_325.0) / PSI
    T_R = T * 1.8
    c = 344_400.0 * 10.0 ** (1.785 * G) / T_R**3.825
    denom = 1.0 + c * pg_psi
    return 1.0 / denom, -c / PSI / (denom * denom)


@njit(cache=True, nogil=True, error_model="numpy")
def mean_pressure_kernel(pi_from: F64, pi_to: F64, pm: F64) -> None:
    """Isothermal mean pressure 2/3 (p_i + p_j - p_i p_j / (p_i + p_j)) [Pa] from squared end pressures."""
    for e in range(pi_from.shape[0]):
        p_i = math.sqrt(max(pi_from[e], PI_FLOOR))
        p_j = math.sqrt(max(pi_to[e], PI_FLOOR))
        s = p_i + p_j
        pm[e] = 2.0 / 3.0 * (s - p_i * p_j / s)


@njit(cache=True, nogil=True, error_model="numpy")
def pipe_kernel(
    pi_from: F64, pi_to: F64, q: F64, law: I64, diameter: F64, roughness: F64, mu: F64, lam_in: F64,
    dln_in: F64, length: F64, dh: F64, temperature: F64, efficiency: F64, z: F64, dz: F64, R: float,
    eos: int, pc: float, Tc: float, G: float, picard_q: F64, use_picard: bool,
    F: F64, d_from: F64, d_to: F64, d_q: F64, x_state: F64,
) -> None:
    """Pipe residual [Pa^2] and derivatives, written into F, d_from, d_to, d_q.

    With ``eos`` = ``EOS_GIVEN``, ``z``, ``dz`` [1/Pa] are Z and dZ/dp at the mean pressure of
    :func:`mean_pressure_kernel`; otherwise Z is evaluated here (pc [Pa], Tc [K], G [-]). For laws not in
    :data:`COMPILED_LAWS` (and for ``fixed``), λ and d ln λ / d ln q come from ``lam_in``/``dln_in``.
    ``x_state`` (per pipe, 0 initially) carries Colebrook's 1/√λ from call to call as a starting value."""
    for e in range(q.shape[0]):
        D = diameter[e]
        area = math.pi * D * D / 4.0
        p_i = math.sqrt(max(pi_from[e], PI_FLOOR))
        p_j = math.sqrt(max(pi_to[e], PI_FLOOR))
        s_ = p_i + p_j
        dpm_i = 2.0 / 3.0 * (1.0 - (p_j / s_) ** 2)
        dpm_j = 2.0 / 3.0 * (1.0 - (p_i / s_) ** 2)
        T = temperature[e]
        if eos == EOS_GIVEN:
            ze, dze = z[e], dz[e]
        else:
            ze, dze = _z(eos, 2.0 / 3.0 * (s_ - p_i * p_j / s_), T, pc, Tc, G)
        c2 = ze * R * T
        s = 2.0 * G_ACCEL * dh[e] / c2
        if abs(s) < 1e-8:
            phi = 1.0 + s / 2.0
            dphi = 0.5 + s / 3.0
            es = math.exp(s)
        else:
            em1 = math.expm1(s)
            es = em1 + 1.0
            phi = em1 / s
            dphi = (s * es - em1) / (s * s)
        Le = length[e] * phi
        qe = q[e]
        qa = abs(qe)
        code = law[e]
        if code in (COLEBROOK, NIKURADSE, HOFER, SWAMEE_JAIN):
            lam, dln, x_state[e] = _friction(code, qa, D, roughness[e], mu[e], 0.0, x_state[e])
        else:
            lam, dln = lam_in[e], dln_in[e]
        lam_e = lam / (efficiency[e] * efficiency[e])
        k_lam = 64.0 * area * mu[e] / D
        if use_picard:
            slope = max(k_lam, lam_e * picard_q[e])
            h = qe * slope
            dh_dq = slope
        else:
            b = lam_e * qa
            k2, b2 = k_lam * k_lam, b * b
            m = math.sqrt(math.sqrt(k2 * k2 + b2 * b2))
            h = qe * m
            dh_dq = m + qa * (b / m) ** 3 * lam_e * (1.0 + dln)
        geo = 1.0 / (D * area * area)
        cle = c2 * Le
        F[e] = pi_from[e] - es * pi_to[e] - geo * cle * h
        d_q[e] = -geo * cle * dh_dq
        if use_picard:
            d_from[e] = 1.0
            d_to[e] = -es
            continue
        dG_dc2 = Le - s * length[e] * dphi
        dF_dc2 = pi_to[e] * es * s / c2 - geo * h * dG_dc2
        common = dF_dc2 * dze * R * T
        d_from[e] = 1.0 + (common * dpm_i / (2.0 * p_i) if pi_from[e] > PI_FLOOR else 0.0)
        d_to[e] = -es + (common * dpm_j / (2.0 * p_j) if pi_to[e] > PI_FLOOR else 0.0)


@njit(cache=True, nogil=True, error_model="numpy")
def resistor_kernel(
    pi_from: F64, pi_to: F64, q: F64, drag: F64, diameter: F64, dp_fixed: F64, z: F64, R: float, T: float,
    eos: int, pc: float, Tc: float, G: float, picard_q: F64, use_picard: bool, q_reg: float, q_reg_drag: float,
    F: F64, d_from: F64, d_to: F64, d_q: F64,
) -> None:
    """Resistor residual [Pa^2] and derivatives (see :func:`gasgrid.physics.resistor.resistor_residual`);
    ``z`` is Z at the arithmetic mean pressure (p_i + p_j)/2 (used with ``eos`` = ``EOS_GIVEN``)."""
    for e in range(q.shape[0]):
        p_i = math.sqrt(max(pi_from[e], PI_FLOOR))
        p_j = math.sqrt(max(pi_to[e], PI_FLOOR))
        ze = z[e] if eos == EOS_GIVEN else _z(eos, 0.5 * (p_i + p_j), T, pc, Tc, G)[0]
        c2 = ze * R * T
        is_drag = math.isfinite(drag[e])
        if is_drag:
            area = math.pi * diameter[e] ** 2 / 4.0
            k = drag[e] * c2 / (area * area)
            dpf = 0.0
        else:
            k = 0.0
            dpf = dp_fixed[e]
        qe = q[e]
        if use_picard:
            dh = max(picard_q[e], q_reg_drag)
            h = qe * dh
        else:
            root = math.sqrt(qe * qe + q_reg_drag * q_reg_drag)
            h = qe * root
            dh = root + qe * qe / root
        rq = math.sqrt(qe * qe + q_reg * q_reg)
        th = qe / rq
        F[e] = pi_from[e] - pi_to[e] - k * h - (p_i + p_j) * dpf * th
        d_q[e] = -k * dh - (p_i + p_j) * dpf * q_reg * q_reg / rq**3
        d_from[e] = 1.0 - (dpf * th / (2.0 * p_i) if pi_from[e] > PI_FLOOR else 0.0)
        d_to[e] = -1.0 - (dpf * th / (2.0 * p_j) if pi_to[e] > PI_FLOOR else 0.0)
