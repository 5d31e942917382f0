"""Demands (exits): a fixed withdrawal. Negative values are injections (GasLib does that)."""

from __future__ import annotations

from gasgrid.components._common import IN_SERVICE, NAME, SOURCE
from gasgrid.model.schema import REQUIRED, Column, Schema

SCHEMA = Schema(
    kind="demand",
    description="exit point with a fixed withdrawal",
    columns=(
        Column("node", "str", default=REQUIRED, description="node id", ref="node"),
        Column("flow_kg_s", "float", "kg/s", 1.0, REQUIRED, "withdrawal (negative = injection)", -1e6, 1e6),
        Column("priority", "int", "-", None, 1, "curtailment priority: higher is protected longer", 0, 100),
        IN_SERVICE,
        NAME,
        Column("group", "str", default=None, description="region/province for reports"),
        SOURCE,
    ),
)
