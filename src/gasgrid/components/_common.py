"""Columns shared by several component kinds."""

from __future__ import annotations

from gasgrid.model.schema import REQUIRED, Column

FROM = Column("from_node", "str", default=REQUIRED, description="upstream node id (positive flow direction)",
              ref="node")
TO = Column("to_node", "str", default=REQUIRED, description="downstream node id", ref="node")
IN_SERVICE = Column("in_service", "bool", default=True, description="False removes the element from the model")
NAME = Column("name", "str", default=None, description="free-text name for reports")
SOURCE = Column("source", "str", default=None, description="source tag of the numbers ([S..], [E], [C], file)")
