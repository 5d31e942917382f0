"""Check valves: one-directional arcs without pressure loss; they close when the flow would reverse."""

from __future__ import annotations

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import Schema

SCHEMA = Schema(
    kind="check_valve",
    description="non-return valve: open for flow from -> to, closed against reverse flow",
    is_arc=True,
    columns=(FROM, TO, IN_SERVICE, NAME, SOURCE),
)
