"""GERG-2008 through CoolProp's multiparameter mixture model (optional extra ``gasgrid[coolprop]``).

Contract: :func:`z_and_dz_dp` takes T [K] (scalar) and p [Pa] > 0 and returns Z and dZ/dp [1/Pa]. CoolProp's
own T-p flash fails for some dense states of multicomponent gases (its density solver steps to negative
density), so the density is found here by a Newton iteration on ln(v) with CoolProp's p(rho, T) and
dp/drho, continued from one pressure to the next. CoolProp is imported inside the functions so that the
core of gasgrid does not need it.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gasgrid.errors import ConvergenceError, MissingExtraError
from gasgrid.gas.components import canonical_name

FloatArray = NDArray[np.float64]

COOLPROP_NAMES: dict[str, str] = {
    "CH4": "Methane", "N2": "Nitrogen", "CO2": "CarbonDioxide", "C2H6": "Ethane", "C3H8": "n-Propane",
    "iC4": "IsoButane", "nC4": "n-Butane", "iC5": "Isopentane", "nC5": "n-Pentane", "nC6": "n-Hexane",
    "nC7": "n-Heptane", "nC8": "n-Octane", "nC9": "n-Nonane", "nC10": "n-Decane", "H2": "Hydrogen",
    "O2": "Oxygen", "CO": "CarbonMonoxide", "H2O": "Water", "H2S": "HydrogenSulfide", "He": "Helium",
    "Ar": "Argon",
}  # fmt: skip


def _coolprop() -> Any:
    try:
        import CoolProp.CoolProp as CP
    except ImportError:
        raise MissingExtraError("CoolProp", "coolprop", "the GERG-2008 equation of state") from None
    return CP


@lru_cache(maxsize=32)
def _state(composition: tuple[tuple[str, float], ...]) -> Any:
    CP = _coolprop()
    names = [COOLPROP_NAMES[canonical_name(n)] for n, _ in composition]
    state = CP.AbstractState("HEOS", "&".join(names))
    state.set_mole_fractions([x for _, x in composition])
    # without an imposed phase every update runs a phase-stability analysis (about 1 s for 21 components)
    state.specify_phase(CP.iphase_gas)
    return state


def z_and_dz_dp(
    composition: tuple[tuple[str, float], ...], T: float, p: FloatArray, *, rtol: float = 1e-12
) -> tuple[FloatArray, FloatArray]:
    """Z and (dZ/dp)_T [1/Pa] at T [K] and each p [Pa] > 0 (ascending order is fastest)."""
    CP = _coolprop()
    state = _state(composition)
    p = np.asarray(p, dtype=float)
    flat = p.ravel()
    z = np.empty(flat.size)
    dz = np.empty(flat.size)
    R = state.gas_constant()
    rho = float("nan")
    for k in np.argsort(flat, kind="stable"):
        pk = float(flat[k])
        if not (math.isfinite(rho) and rho > 0):
            rho = pk / (R * T)
        vlog = -math.log(rho)
        for _ in range(50):
            state.update(CP.DmolarT_INPUTS, math.exp(-vlog), T)
            p2 = state.p()
            dpdrho = state.first_partial_deriv(CP.iP, CP.iDmolar, CP.iT)
            if dpdrho <= 0 or p2 <= 0:
                vlog += 0.1
                continue
            vdiff = (math.log(p2) - math.log(pk)) * p2 / (-math.exp(-vlog) * dpdrho)
            vlog -= vdiff
            if abs(vdiff) < rtol:
                break
        else:
            raise ConvergenceError(f"GERG-2008 (CoolProp) density did not converge at T = {T:g} K, p = {pk:g} Pa")
        state.update(CP.DmolarT_INPUTS, math.exp(-vlog), T)
        rho = state.rhomolar()
        dpdrho = state.first_partial_deriv(CP.iP, CP.iDmolar, CP.iT)
        zk = state.p() / (rho * R * T)
        z[k] = zk
        dz[k] = (1.0 - zk * R * T / dpdrho) / (rho * R * T)
    return z.reshape(p.shape), dz.reshape(p.shape)


def slope_at_zero(composition: tuple[tuple[str, float], ...], T: float) -> float:
    """dZ/dp [1/Pa] as p -> 0 (= B/(R T)), from the derivative at 10 Pa (difference below 1e-12 relative)."""
    return float(z_and_dz_dp(composition, T, np.array([10.0]))[1][0])
