"""Units and reference conditions at the boundary.

Inside gasgrid everything is SI: Pa (absolute), K, m, kg/s. Volumetric gas quantities are meaningless without
their reference condition, so every conversion takes a :class:`Reference` explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike, NDArray

P_ATM = 101_325.0  # Pa, 1 atm = 1.01325 bar
R_UNIVERSAL = 8.314462618  # J/(mol K)
M_AIR = 0.0289647  # kg/mol, dry air (ISO 6976 / GPA)
G_ACCEL = 9.80665  # m/s^2
BAR = 1e5  # Pa
PSI = 6894.757293168  # Pa
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86_400.0
SECONDS_PER_YEAR = 365.0 * SECONDS_PER_DAY


@dataclass(frozen=True)
class ReferenceCondition:
    """A (temperature, pressure) pair at which a gas volume is quoted."""

    name: str
    T: float  # K
    p: float  # Pa

    def __str__(self) -> str:
        return f"{self.name} ({self.T - 273.15:g} °C, {self.p / 1e3:g} kPa)"


class Reference(Enum):
    """Reference conditions for volumes. Always say which one a figure uses."""

    NORMAL = ReferenceCondition("normal", 273.15, P_ATM)  # Nm^3: 0 °C, 1.01325 bar (GasLib, DIN 1343)
    STANDARD = ReferenceCondition("standard", 288.15, P_ATM)  # ISO 13443: 15 °C, 1.01325 bar
    GOST = ReferenceCondition("GOST/GB", 293.15, P_ATM)  # Russia and China: 20 °C, 101.325 kPa
    US = ReferenceCondition("US standard", 288.705556, 14.73 * PSI)  # 60 °F, 14.73 psia

    @property
    def T(self) -> float:
        return self.value.T

    @property
    def p(self) -> float:
        return self.value.p

    @classmethod
    def parse(cls, text: str) -> Reference:
        key = text.strip().upper().replace("-", "_")
        aliases = {"0C": "NORMAL", "15C": "STANDARD", "20C": "GOST", "GB": "GOST", "60F": "US"}
        key = aliases.get(key, key)
        try:
            return cls[key]
        except KeyError:
            allowed = ", ".join(m.name.lower() for m in cls)
            from gasgrid.errors import InputError

            raise InputError(f"unknown reference condition {text!r}; allowed: {allowed}") from None


def bar_to_pa(p_bar: ArrayLike) -> NDArray[np.float64]:
    """bar (absolute) -> Pa (absolute)."""
    return np.asarray(p_bar, dtype=float) * BAR


def pa_to_bar(p_pa: ArrayLike) -> NDArray[np.float64]:
    """Pa -> bar."""
    return np.asarray(p_pa, dtype=float) / BAR


def barg_to_pa(p_barg: ArrayLike, p_atm: float = P_ATM) -> NDArray[np.float64]:
    """bar gauge -> Pa absolute."""
    return np.asarray(p_barg, dtype=float) * BAR + p_atm


def bcm_per_year_to_m3_per_s(bcm: float) -> float:
    """10^9 m^3 per year (at whatever reference the caller states) -> m^3/s at the same reference."""
    return bcm * 1e9 / SECONDS_PER_YEAR
