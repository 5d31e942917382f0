"""Resistors: a quadratic drag (Delta p = zeta rho v^2 / 2) or a fixed pressure drop."""

from __future__ import annotations

import math

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import Column, Schema

SCHEMA = Schema(
    kind="resistor",
    description="local resistance (filter, meter, fittings)",
    is_arc=True,
    columns=(
        FROM,
        TO,
        Column("drag_factor", "float", "-", 1.0, math.nan, "zeta in Delta p = zeta rho v^2/2 (with diameter_mm)",
               0.0, 1e9),
        Column("diameter_mm", "float", "mm", 1e-3, math.nan, "reference diameter for drag_factor", 0.0, 1e4,
               lo_open=True),
        Column("pressure_drop_bar", "float", "bar", 1e5, math.nan,
               "fixed pressure drop in flow direction (instead of drag_factor)", 0.0, 200.0),
        IN_SERVICE,
        NAME,
        SOURCE,
    ),
)
