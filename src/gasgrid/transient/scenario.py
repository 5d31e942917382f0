"""Command-line event specs and the East Route's key delivery points for transient scenarios.

An event spec reads ``KIND ELEMENT START [END|VALUE]`` with times like ``0h``, ``30min``, ``90s``, ``2d``:
``supply-cut kovykta 0h 24h``, ``station-trip cs_heihe 2h``, ``valve-close border-valve 0h 48h``,
``valve-open v1 3h``, ``demand-step baihe 1h 150`` (kg/s). The element ``border`` names the East Route's
border block valve (the Amur crossing), so ``supply-cut border 0h 24h`` cuts the route at the border.
"""

from __future__ import annotations

import math
import re

from gasgrid.errors import InputError
from gasgrid.transient.bc import DemandStep, Event, StationTrip, SupplyCut, ValveClose, ValveOpen

_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}
ALIASES = {"border": "border-valve"}

# key delivery points of the East Route for survival-time reports: label -> demand nodes
EAST_ROUTE_KEY_NODES: dict[str, tuple[str, ...]] = {
    "Beijing (Yongqing tie-in)": ("yongqing",),
    "Yangtze River Delta (Jiangsu)": ("taixing", "nantong", "changshu", "luzhi"),
    "Shanghai (Baihe)": ("baihe",),
}


def parse_time(text: str) -> float:
    """'2h' -> 7200.0 s. A bare number is seconds."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*", text.lower())
    if not m or (m.group(2) and m.group(2) not in _UNITS):
        raise InputError(f"cannot read time {text!r}; use e.g. 90s, 30min, 2h, 1d", field="--event")
    return float(m.group(1)) * _UNITS.get(m.group(2) or "s", 1.0)


def parse_event(spec: str) -> list[Event]:
    """One CLI event spec -> events (a cut with an end gives the cut and the restoration)."""
    parts = spec.split()
    if len(parts) < 3:
        raise InputError(f"expected 'KIND ELEMENT START [END|VALUE]', got {spec!r}", field="--event")
    kind, element, start = parts[0].lower(), ALIASES.get(parts[1], parts[1]), parse_time(parts[2])
    extra = parts[3] if len(parts) > 3 else None
    if kind == "supply-cut":
        if element == "border-valve":
            return _valve_cut(element, start, extra)
        return [SupplyCut(start, element, until_s=parse_time(extra) if extra else math.inf)]
    if kind in ("valve-close", "route-cut"):
        return _valve_cut(element, start, extra)
    if kind == "valve-open":
        return [ValveOpen(start, element)]
    if kind == "station-trip":
        return [StationTrip(start, element)]
    if kind == "demand-step":
        if extra is None:
            raise InputError("demand-step needs the new withdrawal in kg/s", field="--event")
        return [DemandStep(start, element, flow_kg_s=float(extra))]
    raise InputError(f"unknown event kind {kind!r}; allowed: supply-cut, valve-close, valve-open, station-trip, "
                     "demand-step", field="--event")


def _valve_cut(element: str, start: float, end: str | None) -> list[Event]:
    events: list[Event] = [ValveClose(start, element)]
    if end:
        events.append(ValveOpen(parse_time(end), element))
    return events
