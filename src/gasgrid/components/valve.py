"""Valves: open (no pressure loss) or closed (arc removed)."""

from __future__ import annotations

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import Column, Schema

SCHEMA = Schema(
    kind="valve",
    description="on/off valve: open = no pressure loss, closed = no flow",
    is_arc=True,
    columns=(FROM, TO, Column("open", "bool", default=True, description="valve position"), IN_SERVICE, NAME, SOURCE),
)
