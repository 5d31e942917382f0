"""The user-facing :class:`Network`: one table per component kind, in the units its schema declares.

Users build and edit named tables; solvers never see them. :meth:`Network.compile` validates everything
and produces the immutable SI arrays (:class:`gasgrid.model.compiled.CompiledNetwork`) the solvers use.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gasgrid.components import ARC_KINDS, KINDS
from gasgrid.errors import InputError
from gasgrid.gas import Gas
from gasgrid.model.schema import TableArrays, positions
from gasgrid.units import Reference

if TYPE_CHECKING:
    from gasgrid.model.compiled import CompiledNetwork


class Network:
    """A gas network as named tables.

    Args:
        name: case name.
        gas: the gas (properties, equation of state).
        temperature_K: gas temperature of the isothermal models, K.
        crs: coordinate reference of node x/y ("EPSG:4326" for lon/lat, or None for plain metres).
    """

    def __init__(
        self,
        name: str = "network",
        *,
        gas: Gas | None = None,
        temperature_K: float = 288.15,
        crs: str | None = None,
    ) -> None:
        if not (150.0 <= temperature_K <= 400.0):
            raise InputError(f"must be in [150, 400] K, got {temperature_K!r}", kind="network",
                             field="temperature_K")
        self.name = name
        self.gas = gas if gas is not None else Gas()
        self.temperature_K = float(temperature_K)
        self.crs = crs
        self.meta: dict[str, Any] = {}
        self._frames: dict[str, pd.DataFrame] = {k: s.empty_frame() for k, s in KINDS.items()}
        self._pending: dict[str, tuple[list[str], list[dict[str, Any]]]] = {k: ([], []) for k in KINDS}

    # --- tables ------------------------------------------------------------------------------------
    def table(self, kind: str) -> pd.DataFrame:
        """The live table of one component kind (edits to it are edits to the network)."""
        self._check_kind(kind)
        ids, rows = self._pending[kind]
        if ids:
            new = KINDS[kind].frame_from_rows(ids, rows)
            frame = self._frames[kind]
            self._frames[kind] = new if frame.empty else pd.concat([frame, new])
            self._pending[kind] = ([], [])
        return self._frames[kind]

    def set_table(self, kind: str, frame: pd.DataFrame) -> None:
        """Replace one table (columns are coerced to the schema; unknown columns are an error)."""
        self._check_kind(kind)
        self._pending[kind] = ([], [])
        self._frames[kind] = KINDS[kind].coerce(frame)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {k: self.table(k) for k in KINDS}

    nodes = property(lambda self: self.table("node"))
    pipes = property(lambda self: self.table("pipe"))
    short_pipes = property(lambda self: self.table("short_pipe"))
    valves = property(lambda self: self.table("valve"))
    resistors = property(lambda self: self.table("resistor"))
    control_valves = property(lambda self: self.table("control_valve"))
    compressors = property(lambda self: self.table("compressor"))
    check_valves = property(lambda self: self.table("check_valve"))
    pumps = property(lambda self: self.table("pump"))
    supplies = property(lambda self: self.table("supply"))
    demands = property(lambda self: self.table("demand"))

    # --- building ----------------------------------------------------------------------------------
    def add(self, kind: str, id: str, **values: Any) -> str:
        """Add one element of ``kind`` with attributes in the schema's units. Returns the id."""
        self._check_kind(kind)
        id = str(id)
        row = KINDS[kind].normalise_row(id, values)
        ids, rows = self._pending[kind]
        ids.append(id)
        rows.append(row)
        return id

    def add_node(self, id: str, **values: Any) -> str:
        return self.add("node", id, **values)

    def add_pipe(self, id: str, from_node: str, to_node: str, **values: Any) -> str:
        return self.add("pipe", id, from_node=from_node, to_node=to_node, **values)

    def add_short_pipe(self, id: str, from_node: str, to_node: str, **values: Any) -> str:
        return self.add("short_pipe", id, from_node=from_node, to_node=to_node, **values)

    def add_valve(self, id: str, from_node: str, to_node: str, **values: Any) -> str:
        return self.add("valve", id, from_node=from_node, to_node=to_node, **values)

    def add_resistor(self, id: str, from_node: str, to_node: str, **values: Any) -> str:
        return self.add("resistor", id, from_node=from_node, to_node=to_node, **values)

    def add_control_valve(self, id: str, from_node: str, to_node: str, **values: Any) -> str:
        return self.add("control_valve", id, from_node=from_node, to_node=to_node, **values)

    def add_compressor(self, id: str, from_node: str, to_node: str, **values: Any) -> str:
        return self.add("compressor", id, from_node=from_node, to_node=to_node, **values)

    def add_check_valve(self, id: str, from_node: str, to_node: str, **values: Any) -> str:
        return self.add("check_valve", id, from_node=from_node, to_node=to_node, **values)

    def add_pump(self, id: str, from_node: str, to_node: str, **values: Any) -> str:
        return self.add("pump", id, from_node=from_node, to_node=to_node, **values)

    def add_supply(self, id: str, node: str, **values: Any) -> str:
        return self.add("supply", id, node=node, **values)

    def add_demand(
        self,
        id: str,
        node: str,
        *,
        flow_kg_s: float | None = None,
        flow_m3_h: float | None = None,
        reference: Reference = Reference.NORMAL,
        **values: Any,
    ) -> str:
        """Add a demand given in kg/s, or in m^3/h at an explicit reference condition."""
        if (flow_kg_s is None) == (flow_m3_h is None):
            raise InputError("give exactly one of flow_kg_s or flow_m3_h", kind="demand", element=id)
        if flow_m3_h is not None:
            flow_kg_s = self.volumetric_to_mass(flow_m3_h / 3600.0, reference)
        return self.add("demand", id, node=node, flow_kg_s=flow_kg_s, **values)

    def volumetric_to_mass(self, q_m3_s: float, reference: Reference) -> float:
        """m^3/s at ``reference`` -> kg/s, with this network's gas."""
        return float(q_m3_s) * self.gas.reference_density(reference)

    def remove(self, kind: str, id: str) -> None:
        frame = self.table(kind)
        if id not in frame.index:
            raise InputError("no such element", kind=kind, element=id)
        self._frames[kind] = frame.drop(index=id)

    # --- inspection --------------------------------------------------------------------------------
    def arc_kind_of(self, arc_id: str) -> str:
        for kind in ARC_KINDS:
            if arc_id in self.table(kind).index:
                return kind
        raise InputError("no arc with this id", element=arc_id)

    def summary(self) -> dict[str, int]:
        return {k: len(self.table(k)) for k in KINDS}

    def copy(self) -> Network:
        for k in KINDS:
            self.table(k)
        return copy.deepcopy(self)

    def validate(self) -> None:
        """Check every table against its schema and the cross-table references. Raises InputError."""
        self._validated()

    def _validated(self) -> dict[str, TableArrays]:
        """:meth:`validate`, returning each table as arrays (with choice codes and node positions) to compile."""
        tables = {k: TableArrays(schema, self.table(k) if self._pending[k][0] else self._frames[k])
                  for k, schema in KINDS.items()}
        # nodes first (KINDS' order): their ids must be unique before references are looked up among them
        KINDS["node"].check(tables["node"])
        _resolve_references(tables, {"node": tables["node"].ids})
        for kind, schema in KINDS.items():
            if kind != "node":
                schema.check(tables[kind])
        _check_arc_ids([tables[k] for k in ARC_KINDS])
        _check_loops([tables[k] for k in ARC_KINDS if tables[k].n])
        return tables

    def save(self, path: str | Path) -> Path:
        """Write the network in gasgrid's native format (a folder of CSV tables + network.json), atomically."""
        from gasgrid.io.native import save_network

        return save_network(self, path)

    def compile(self) -> CompiledNetwork:
        """Validate and convert to the immutable SI array form the solvers use."""
        from gasgrid.model.compiled import compile_network

        return compile_network(self, self._validated())

    def _check_kind(self, kind: str) -> None:
        if kind not in KINDS:
            raise InputError(f"unknown component kind {kind!r}; allowed: {list(KINDS)}")

    def __repr__(self) -> str:
        parts = ", ".join(f"{v} {k}" for k, v in self.summary().items() if v)
        return f"<Network {self.name!r}: {parts}>"


def _resolve_references(tables: dict[str, TableArrays], known: dict[str, pd.Index]) -> None:
    """Fill ``refs`` of every reference column: one lookup per referenced kind, over all tables at once."""
    wanted: dict[str, list[tuple[TableArrays, str]]] = {}
    for t in tables.values():
        if t.n:  # (an empty table's refs are empty: TableArrays.ref)
            for col in t.schema.ref_columns:
                if col.ref in known and col.name in t.labels:
                    wanted.setdefault(col.ref, []).append((t, col.name))
    for ref, columns in wanted.items():
        values = [t.column(name) for t, name in columns]
        found = positions(known[ref], np.concatenate(values))
        complete = not np.count_nonzero(found < 0)  # then no column has anything for its text check to report
        start = 0
        for (t, name), v in zip(columns, values, strict=True):
            t.refs[name] = found[start:start + len(v)]
            start += len(v)
            if complete and t.schema.by_name[name].choices is None:
                t.found.add(name)


def _check_loops(arcs: list[TableArrays]) -> None:
    """No arc joins a node to itself (checked over all arc kinds at once; the first in kind, then row, order)."""
    if not arcs:
        return
    loop = np.concatenate([t.ref("from_node") for t in arcs]) == np.concatenate([t.ref("to_node") for t in arcs])
    if np.count_nonzero(loop):
        i = int(np.argmax(loop))
        for t in arcs:
            if i < t.n:
                raise InputError("from_node equals to_node", kind=t.schema.kind, element=t.ids[i], field="to_node")
            i -= t.n


def _check_arc_ids(arcs: list[TableArrays]) -> None:
    """Arc ids are unique across arc kinds (as text; each kind's own ids were checked by its schema)."""
    used = [t for t in arcs if t.n]
    # all ids text: text equality is hash equality, and ids unique within each kind need one look across kinds
    if all(t.ids.inferred_type == "string" for t in used):
        if len(used) < 2:
            return
        seen: set[str] = set()
        for t in used:
            seen.update(t.id_array().tolist())
        if len(seen) == sum(t.n for t in used):
            return
    arc_ids = np.concatenate([t.ids.to_numpy() for t in arcs])
    uniq, counts = np.unique(arc_ids.astype(str), return_counts=True)
    if (counts > 1).any():
        raise InputError("arc id used by two arcs (arc ids must be unique across arc kinds)",
                         element=str(uniq[counts > 1][0]))
