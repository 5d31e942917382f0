"""Resistor kernel in squared pressure.

Drag form: Delta p = zeta q|q| / (2 rho_mean A^2) with rho_mean = p_mean / c^2 and p_mean = (p_i + p_j)/2,
so p_i^2 - p_j^2 = 2 p_mean Delta p = zeta c^2 q|q| / A^2, linear in pi = p^2 like the pipe law.
Fixed drop: p_i - p_j = dp sigma(q), sigma(q) = q / sqrt(q^2 + q_reg^2), i.e.
pi_i - pi_j = (p_i + p_j) dp sigma(q): the sign follows the flow and stays smooth through zero. q_reg is set
by the caller relative to the throughput (1e-3 of it): a steeper switch makes Newton stall when such a
resistor sits in a loop with almost no flow, and the error for |q| >> q_reg is dp q_reg^2 / (2 q^2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gasgrid.gas import Gas
from gasgrid.physics.pipe import PI_FLOOR, PipeKernelOutput

F64 = NDArray[np.float64]
Q_REG = 1e-3  # kg/s: flows below this are smoothed (keeps the Jacobian regular at zero flow)


def resistor_residual(
    pi_from: F64,
    pi_to: F64,
    q: F64,
    *,
    drag: F64,
    diameter: F64,
    dp_fixed: F64,
    temperature: float,
    gas: Gas,
    picard_q: F64 | None = None,
    q_reg: float = Q_REG,
    q_reg_drag: float = Q_REG,
) -> PipeKernelOutput:
    """Residual [Pa^2] and derivatives of resistors (drag where ``drag`` is finite, else fixed drop).

    ``q_reg`` [kg/s] smooths the sign of the fixed drop through zero flow; ``q_reg_drag`` [kg/s] keeps the
    drag law's derivative non-zero at zero flow (q|q| -> q sqrt(q^2 + q_reg_drag^2))."""
    p_i = np.sqrt(np.maximum(pi_from, PI_FLOOR))
    p_j = np.sqrt(np.maximum(pi_to, PI_FLOOR))
    pm = 0.5 * (p_i + p_j)
    c2 = gas.z(pm, temperature) * gas.R_specific * temperature
    is_drag = np.isfinite(drag)
    area = np.pi * np.where(is_drag, diameter, 1.0) ** 2 / 4.0
    k = np.where(is_drag, drag, 0.0) * c2 / area**2
    if picard_q is None:
        root = np.sqrt(q * q + q_reg_drag * q_reg_drag)
        h = q * root
        dh = root + q * q / root
    else:
        h = q * np.maximum(picard_q, q_reg_drag)
        dh = np.maximum(picard_q, q_reg_drag)
    dpf = np.where(is_drag, 0.0, dp_fixed)
    rq = np.sqrt(q * q + q_reg * q_reg)
    th = q / rq
    F = pi_from - pi_to - k * h - (p_i + p_j) * dpf * th
    dF_dq = -k * dh - (p_i + p_j) * dpf * q_reg * q_reg / rq**3
    dF_dfrom = 1.0 - np.where(pi_from > PI_FLOOR, dpf * th / (2.0 * p_i), 0.0)
    dF_dto = -1.0 - np.where(pi_to > PI_FLOOR, dpf * th / (2.0 * p_j), 0.0)
    return PipeKernelOutput(F, dF_dfrom, dF_dto, dF_dq)
