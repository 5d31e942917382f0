"""Pipes: isothermal steady flow with friction and elevation (kernel in gasgrid.physics.pipe)."""

from __future__ import annotations

import math

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import REQUIRED, Column, Schema

FRICTION_LAWS = (
    "colebrook", "nikuradse", "hofer", "swamee_jain", "fixed",
    "weymouth", "panhandle_a", "panhandle_b", "igt", "aga",
)

SCHEMA = Schema(
    kind="pipe",
    description="pipe segment with friction (Darcy-Weisbach family or a classic flow equation)",
    is_arc=True,
    columns=(
        FROM,
        TO,
        Column("length_km", "float", "km", 1e3, REQUIRED, "length along the pipe", 0.0, 1e5, lo_open=True),
        Column("diameter_mm", "float", "mm", 1e-3, REQUIRED, "inner diameter", 0.0, 1e4, lo_open=True),
        Column("roughness_mm", "float", "mm", 1e-3, 0.012, "equivalent sand roughness", 0.0, 100.0),
        Column("friction", "str", default="colebrook", description="friction law", choices=FRICTION_LAWS),
        Column("lambda_fixed", "float", "-", 1.0, math.nan, "Darcy friction factor for friction='fixed'",
               0.0, 1.0, lo_open=True),
        Column("efficiency", "float", "-", 1.0, 1.0, "pipeline efficiency E (flow multiplier)", 0.0, 1.5,
               lo_open=True),
        Column("heat_transfer_W_m2K", "float", "W/(m2 K)", 1.0, math.nan,
               "heat-transfer coefficient (informational in isothermal models)", 0.0, 1e4),
        Column("temperature_K", "float", "K", 1.0, math.nan,
               "gas temperature in this pipe; NaN = network temperature", 150.0, 400.0),
        Column("p_max_bar", "float", "bar (absolute)", 1e5, math.inf, "MAOP of the pipe", 0.0, math.inf,
               lo_open=True),
        IN_SERVICE,
        NAME,
        SOURCE,
    ),
)
