"""Control valves (pressure regulators): outlet set point, open or closed."""

from __future__ import annotations

import math

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import Column, Schema

MODES = ("set_point", "open", "closed")

SCHEMA = Schema(
    kind="control_valve",
    description="pressure-reducing control valve",
    is_arc=True,
    columns=(
        FROM,
        TO,
        Column("mode", "str", default="open", description="set_point: outlet pressure controlled; "
               "open: no pressure loss; closed: no flow", choices=MODES),
        Column("p_set_bar", "float", "bar (absolute)", 1e5, math.nan, "outlet pressure set point", 0.0, 1000.0,
               lo_open=True),
        Column("p_in_min_bar", "float", "bar (absolute)", 1e5, math.nan, "minimum inlet pressure", 0.0, 1000.0),
        Column("flow_max_kg_s", "float", "kg/s", 1.0, math.nan, "maximum flow", 0.0, 1e6),
        IN_SERVICE,
        NAME,
        SOURCE,
    ),
)
