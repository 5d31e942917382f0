"""Component kinds: each module declares its schema (and, for arcs, is paired with a kernel in physics/).

``KINDS`` is the registry in model order: nodes first, then arcs, then node attachments.
"""

from __future__ import annotations

from gasgrid.components import (
    check_valve,
    compressor,
    control_valve,
    demand,
    node,
    pipe,
    pump,
    resistor,
    short_pipe,
    supply,
    valve,
)
from gasgrid.model.schema import Schema

KINDS: dict[str, Schema] = {
    m.SCHEMA.kind: m.SCHEMA
    for m in (node, pipe, short_pipe, valve, resistor, control_valve, compressor, check_valve, pump, supply, demand)
}
ARC_KINDS: tuple[str, ...] = tuple(k for k, s in KINDS.items() if s.is_arc)

__all__ = ["ARC_KINDS", "KINDS"]
