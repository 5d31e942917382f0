"""Compressor stations (basic control: fixed ratio, outlet or inlet pressure, bypass, off)."""

from __future__ import annotations

import math

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import Column, Schema

MODES = ("ratio", "outlet", "inlet", "bypass", "off")

SCHEMA = Schema(
    kind="compressor",
    description="compressor station between suction (from) and discharge (to)",
    is_arc=True,
    columns=(
        FROM,
        TO,
        Column("mode", "str", default="bypass", description="ratio: p_out = ratio p_in; outlet: discharge "
               "pressure set; inlet: suction pressure set; bypass: no compression; off: closed", choices=MODES),
        Column("ratio", "float", "-", 1.0, math.nan, "pressure ratio set point p_out/p_in", 1.0, 10.0),
        Column("p_set_bar", "float", "bar (absolute)", 1e5, math.nan, "discharge (outlet) or suction (inlet) "
               "pressure set point", 0.0, 1000.0, lo_open=True),
        IN_SERVICE,
        NAME,
        SOURCE,
    ),
)
