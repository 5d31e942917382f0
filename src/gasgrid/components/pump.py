"""Pumps / boosters with a characteristic curve (pandapipes' pump): a pressure lift that falls with flow.

lift [bar] = c0 + c1 Q + c2 Q^2 with Q the actual volume flow at the inlet in m^3/h, clipped at zero; reverse
flow passes without lift (bypassed), as pandapipes assumes. Kernel in gasgrid.physics.pump.
"""

from __future__ import annotations

import math

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import REQUIRED, Column, Schema

SCHEMA = Schema(
    kind="pump",
    description="booster with a pressure-lift curve over the inlet volume flow",
    is_arc=True,
    columns=(
        FROM,
        TO,
        Column("lift_c0_bar", "float", "bar", 1e5, REQUIRED, "lift at zero flow", 0.0, 1000.0),
        Column("lift_c1_bar_h_m3", "float", "bar h/m3", 1e5 * 3600.0, 0.0, "linear coefficient of the lift curve",
               -math.inf, math.inf),
        Column("lift_c2_bar_h2_m6", "float", "bar h2/m6", 1e5 * 3600.0**2, 0.0,
               "quadratic coefficient of the lift curve", -math.inf, math.inf),
        IN_SERVICE,
        NAME,
        SOURCE,
    ),
)
