"""Compressor-station physics: real-gas head, shaft and driver power, fuel gas.

Isentropic head (per kg):   H = Z1 R T1 k/(k-1) (r^((k-1)/k) - 1),       shaft power P = q H / eta_is
Polytropic head (per kg):   H = Z1 R T1 n/(n-1) (r^((n-1)/n) - 1),  (n-1)/n = (k-1)/(k eta_p),  P = q H / eta_p
with Z1 and k (isentropic exponent) of the gas at suction. Gas-turbine drivers burn fuel taken from the
suction side: fuel = P / (eta_driver LHV); electric drivers draw P / eta_driver from the grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gasgrid.gas import Gas
from gasgrid.units import R_UNIVERSAL, Reference

F64 = NDArray[np.float64]
LHV_OVER_HHV = 0.9  # natural gas, when only the gross value is known (methane: 50.0/55.5 = 0.901)
DEFAULT_LHV = 47.0e6  # J/kg, when the gas states no calorific value at all


def lower_heating_value(gas: Gas) -> tuple[float, str]:
    """Net (lower) calorific value, J/kg, and how it was obtained."""
    if gas.composition is not None:
        h_v = gas.calorific_value(Reference.NORMAL, "net")  # J/m^3, ideal gas at 0 °C
        return h_v * R_UNIVERSAL * Reference.NORMAL.T / (Reference.NORMAL.p * gas.molar_mass), "ISO 6976 net, composition"
    if np.isfinite(gas.hhv_mass):
        return gas.hhv_mass * LHV_OVER_HHV, f"{LHV_OVER_HHV} x gross calorific value"
    return DEFAULT_LHV, "default 47 MJ/kg (no calorific value given)"


@dataclass(frozen=True)
class StationState:
    """Power and fuel of a set of stations at given suction/discharge pressures and flows (SI)."""

    head: F64  # J/kg
    power_shaft: F64  # W
    power_driver: F64  # W (fuel heat input for gas turbines, electrical input for motors)
    fuel: F64  # kg/s (0 for electric drives)
    electric: F64  # W drawn from the grid (0 for gas turbines)
    dP_dq: F64  # W per kg/s
    dP_dpi_from: F64  # W per Pa^2
    dP_dpi_to: F64  # W per Pa^2


def station_power(
    q: F64,
    p_suction: F64,
    p_discharge: F64,
    *,
    T_suction: F64,
    efficiency: F64,
    polytropic: NDArray[np.bool_],
    electric: NDArray[np.bool_],
    driver_efficiency: F64,
    gas: Gas,
) -> StationState:
    """Head, shaft power, driver power and fuel for stations compressing ``q`` [kg/s] from ``p_suction`` to
    ``p_discharge`` [Pa]. Ratios below 1 give zero head (the station is bypassed then)."""
    q = np.asarray(q, dtype=float)
    ps = np.asarray(p_suction, dtype=float)
    pd = np.asarray(p_discharge, dtype=float)
    r = np.maximum(pd / ps, 1.0)
    z1 = gas.z(ps, T_suction)
    k = gas.isentropic_exponent(ps, T_suction)
    a = (k - 1.0) / k
    a = np.where(polytropic, a / efficiency, a)
    zrt = z1 * gas.R_specific * T_suction
    ra = r**a
    head = zrt / a * (ra - 1.0)
    power = q * head / efficiency
    lhv, _ = lower_heating_value(gas)
    driver = np.abs(power) / driver_efficiency
    fuel = np.where(electric, 0.0, driver / lhv)
    elec = np.where(electric, driver, 0.0)
    # derivatives for the power-control equation, in squared pressures: r^a = (pi_t/pi_f)^(a/2)
    compressing = pd > ps
    dra_dpit = np.where(compressing, 0.5 * a * ra / pd**2, 0.0)
    dra_dpif = np.where(compressing, -0.5 * a * ra / ps**2, 0.0)
    fac = q * zrt / a / efficiency
    return StationState(
        head=head, power_shaft=power, power_driver=driver, fuel=fuel, electric=elec, dP_dq=head / efficiency,
        dP_dpi_from=fac * dra_dpif, dP_dpi_to=fac * dra_dpit,
    )
