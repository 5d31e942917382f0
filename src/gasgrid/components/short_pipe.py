"""Short pipes: ideal connections without pressure loss (contracted by the solver)."""

from __future__ import annotations

from gasgrid.components._common import FROM, IN_SERVICE, NAME, SOURCE, TO
from gasgrid.model.schema import Schema

SCHEMA = Schema(
    kind="short_pipe",
    description="connection without pressure loss",
    is_arc=True,
    columns=(FROM, TO, IN_SERVICE, NAME, SOURCE),
)
