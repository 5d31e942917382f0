"""Supplies (entries): a fixed pressure (pressure reference) or a fixed injection with bounds."""

from __future__ import annotations

import math

from gasgrid.components._common import IN_SERVICE, NAME, SOURCE
from gasgrid.model.schema import REQUIRED, Column, Schema

MODES = ("pressure", "flow")

SCHEMA = Schema(
    kind="supply",
    description="entry point: fixed pressure (reference) or fixed flow",
    columns=(
        Column("node", "str", default=REQUIRED, description="node id", ref="node"),
        Column("mode", "str", default="pressure", description="pressure: p fixed, flow follows; "
               "flow: injection fixed", choices=MODES),
        Column("p_set_bar", "float", "bar (absolute)", 1e5, math.nan, "pressure for mode='pressure'", 0.0, 1000.0,
               lo_open=True),
        Column("flow_kg_s", "float", "kg/s", 1.0, math.nan, "injection for mode='flow'", -1e6, 1e6),
        Column("flow_min_kg_s", "float", "kg/s", 1.0, -math.inf, "contract lower bound on the injection",
               -math.inf, math.inf),
        Column("flow_max_kg_s", "float", "kg/s", 1.0, math.inf, "contract upper bound on the injection",
               -math.inf, math.inf),
        IN_SERVICE,
        NAME,
        SOURCE,
    ),
)
