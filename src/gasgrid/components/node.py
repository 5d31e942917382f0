"""Nodes (junctions): position, elevation and pressure bounds. Pressures are absolute."""

from __future__ import annotations

import math

from gasgrid.components._common import NAME, SOURCE
from gasgrid.model.schema import Column, Schema

SCHEMA = Schema(
    kind="node",
    description="junction where arcs meet; carries the pressure unknown",
    columns=(
        Column("x", "float", "deg or m", None, math.nan, "longitude (WGS84) or x coordinate"),
        Column("y", "float", "deg or m", None, math.nan, "latitude (WGS84) or y coordinate"),
        Column("elevation_m", "float", "m", 1.0, 0.0, "height above datum", -500.0, 9000.0),
        Column("p_min_bar", "float", "bar (absolute)", 1e5, 1.01325, "lowest allowed pressure", 0.0, 1000.0),
        Column("p_max_bar", "float", "bar (absolute)", 1e5, math.inf, "highest allowed pressure (MAOP)",
               0.0, math.inf, lo_open=True),
        NAME,
        Column("group", "str", default=None, description="region/province/section for reports"),
        SOURCE,
    ),
)
