"""Station efficiency from machine characteristic maps (GasLib ``.cs`` data), SI throughout.

For a station operating at suction volume flow Q [m^3/s] and specific head H [J/kg], the first configuration
of the station is used: the head is shared equally by its serial stages and the flow by a stage's parallel
units. A turbo unit runs at the speed where its head curve meets the required head (bracketed between its
minimum and maximum speed); its adiabatic efficiency is read from the fitted map there. A piston unit has its
stated adiabatic efficiency. The station efficiency is H / sum(h_stage / eta_stage). Operating points
outside a map (no speed in range gives the head, or the map's efficiency there is not in (0, 1]) return NaN,
and the caller keeps the station's constant efficiency (and says so).
"""

from __future__ import annotations

import math
from typing import Any

from scipy.optimize import brentq


def map_efficiency(station: Any, volume_flow: float, head: float) -> float:
    """Station adiabatic efficiency [-] at suction volume flow [m^3/s] and head [J/kg], or NaN."""
    if not (volume_flow > 0.0 and head > 0.0) or not getattr(station, "configurations", None):
        return math.nan
    machines = {m.id: m for m in station.compressors}
    config = station.configurations[0]
    stages = config.stages
    h = head / len(stages)
    losses = 0.0
    for stage in stages:
        unit_id = stage.units[0][0]
        m = machines.get(unit_id)
        if m is None:
            return math.nan
        q = volume_flow / max(stage.parallel_units, 1)
        if hasattr(m, "head_coeffs"):
            lo, hi = m.head(m.speed_min, q) - h, m.head(m.speed_max, q) - h
            if lo * hi > 0.0:
                return math.nan
            speed = brentq(lambda n, m=m, q=q: m.head(n, q) - h, m.speed_min, m.speed_max, xtol=1e-9)
            eta = float(m.efficiency(speed, q))
        else:
            eta = float(m.adiabatic_efficiency)
        if not (0.0 < eta <= 1.0):
            return math.nan
        losses += h / eta
    return head / losses
