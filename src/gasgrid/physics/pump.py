"""Pump kernel in squared pressure: p_to = p_from + lift(Q), Q = q / rho(p_from) the inlet volume flow.

F = pi_to - (p_from + lift)^2 with lift = max(c0 + c1 Q + c2 Q^2, 0) for Q > 0 and 0 for reverse flow (the
pump is bypassed), SI inside (Pa, m^3/s).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gasgrid.gas import Gas
from gasgrid.physics.pipe import PI_FLOOR, PipeKernelOutput

F64 = NDArray[np.float64]


def pump_lift(q: F64, p_from: F64, *, c0: F64, c1: F64, c2: F64, temperature: float, gas: Gas) -> tuple[F64, F64, F64]:
    """Lift [Pa] and its derivatives with respect to q [Pa per kg/s] and p_from [Pa/Pa] (Z frozen)."""
    rho = gas.density(p_from, temperature)
    Q = q / rho
    lift = c0 + c1 * Q + c2 * Q * Q
    on = (Q > -1e-12) & (lift > 0.0)  # shut-off head at zero flow, bypassed under reverse flow (as pandapipes)
    dlift_dQ = np.where(on, c1 + 2.0 * c2 * Q, 0.0)
    lift = np.where(on, lift, 0.0)
    return lift, dlift_dQ / rho, dlift_dQ * (-Q / p_from)


def pump_residual(pi_from: F64, pi_to: F64, q: F64, *, c0: F64, c1: F64, c2: F64, temperature: float,
                  gas: Gas) -> PipeKernelOutput:
    """Residual [Pa^2] and derivatives of the pump law."""
    p_f = np.sqrt(np.maximum(pi_from, PI_FLOOR))
    lift, dl_dq, dl_dp = pump_lift(q, p_f, c0=c0, c1=c1, c2=c2, temperature=temperature, gas=gas)
    s = p_f + lift
    F = pi_to - s * s
    dF_dq = -2.0 * s * dl_dq
    dF_dfrom = np.where(pi_from > PI_FLOOR, -2.0 * s * (1.0 + dl_dp) / (2.0 * p_f), 0.0)
    return PipeKernelOutput(F, dF_dfrom, np.ones_like(F), dF_dq)
