"""The compiled, immutable SI form of a network that every solver reads.

Contract: all arrays are numpy, read-only, SI (Pa absolute, m, kg/s, K). Arcs of every kind share one
index space (``arc_*`` arrays); per-kind parameter blocks point into it. Out-of-service elements stay in the
arrays with ``*_active = False`` so that scenario deltas can toggle them without recompiling.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.components.compressor import MODES as CS_MODES
from gasgrid.components.control_valve import MODES as CV_MODES
from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.errors import InputError
from gasgrid.gas import Gas
from gasgrid.model.schema import TableArrays

if TYPE_CHECKING:
    from gasgrid.model.network import Network

F = NDArray[np.float64]
I = NDArray[np.int64]
B = NDArray[np.bool_]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The dataclass field names of ``cls`` (``dataclasses.fields`` rebuilds the tuple on every call)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _freeze_arrays(obj: Any) -> None:
    """Make every array field of a frozen dataclass a contiguous read-only array."""
    fields_ = obj.__dict__  # (what object.__setattr__ would write to, without its cost per field)
    for name in _field_names(type(obj)):
        v = fields_[name]
        if isinstance(v, np.ndarray):
            v = fields_[name] = np.ascontiguousarray(v)
            v.setflags(write=False)


@dataclass(frozen=True)
class Block:
    """Base for per-kind parameter blocks: all fields are read-only arrays of equal length."""

    def __post_init__(self) -> None:
        _freeze_arrays(self)

    def __len__(self) -> int:
        return len(getattr(self, _field_names(type(self))[0]))


@dataclass(frozen=True)
class PipeBlock(Block):
    arc: I  # index into the arc arrays
    length: F  # m
    diameter: F  # m
    roughness: F  # m
    law: I  # index into FRICTION_LAWS
    lambda_fixed: F  # Darcy friction factor (NaN unless law == fixed)
    efficiency: F  # pipeline efficiency E
    temperature: F  # K
    p_max: F  # Pa


@dataclass(frozen=True)
class ResistorBlock(Block):
    arc: I
    drag: F  # zeta (NaN if fixed drop)
    diameter: F  # m
    dp_fixed: F  # Pa (NaN if drag)


@dataclass(frozen=True)
class ControlValveBlock(Block):
    arc: I
    mode: I  # index into CV_MODES
    p_set: F  # Pa
    p_in_min: F  # Pa
    flow_max: F  # kg/s


@dataclass(frozen=True)
class CompressorBlock(Block):
    arc: I
    mode: I  # index into CS_MODES
    ratio: F
    p_set: F  # Pa
    flow_set: F  # kg/s
    power_set: F  # W (shaft)
    ratio_max: F
    ratio_min: F
    p_discharge_max: F  # Pa
    p_suction_min: F  # Pa
    power_max: F  # W (shaft)
    flow_max: F  # kg/s
    efficiency: F  # isentropic or polytropic efficiency
    polytropic: B  # head model
    electric: B  # driver: electric motor (else gas turbine)
    driver_efficiency: F
    suction_temperature: F  # K


@dataclass(frozen=True)
class PumpBlock(Block):
    arc: I
    c0: F  # Pa
    c1: F  # Pa s/m^3
    c2: F  # Pa s^2/m^6


@dataclass(frozen=True)
class SupplyBlock(Block):
    ids: NDArray[np.object_]
    node: I
    fixed_pressure: B  # True: pressure reference; False: fixed flow
    p_set: F  # Pa
    flow: F  # kg/s (injection)
    flow_min: F
    flow_max: F
    active: B


@dataclass(frozen=True)
class DemandBlock(Block):
    ids: NDArray[np.object_]
    node: I
    flow: F  # kg/s (withdrawal)
    priority: I
    active: B


@dataclass(frozen=True)
class CompiledNetwork:
    """Immutable SI arrays of a network (see module docstring)."""

    name: str
    gas: Gas
    temperature: float  # K
    node_ids: NDArray[np.object_]
    elevation: F  # m
    p_min: F  # Pa
    p_max: F  # Pa
    x: F
    y: F
    arc_ids: NDArray[np.object_]
    arc_kind: I  # index into ARC_KINDS
    arc_from: I
    arc_to: I
    arc_active: B  # in service (valve closed / mode off handled by the kind blocks)
    pipe: PipeBlock
    resistor: ResistorBlock
    control_valve: ControlValveBlock
    compressor: CompressorBlock
    valve_open: B  # per arc: False for closed valves (True for non-valves)
    pump: PumpBlock
    supply: SupplyBlock
    demand: DemandBlock
    station_maps: dict[str, Any] | None = None  # compressor id -> machine data with characteristic maps

    def __post_init__(self) -> None:
        _freeze_arrays(self)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_arcs(self) -> int:
        return len(self.arc_ids)

    def node_index(self, node_id: str) -> int:
        idx = self._node_index_map().get(str(node_id))
        if idx is None:
            raise InputError("unknown node", element=node_id)
        return idx

    def arc_index(self, arc_id: str) -> int:
        idx = self._arc_index_map().get(str(arc_id))
        if idx is None:
            raise InputError("unknown arc", element=arc_id)
        return idx

    def _node_index_map(self) -> dict[str, int]:
        cache = self.__dict__.get("_nmap")
        if cache is None:
            cache = {str(n): i for i, n in enumerate(self.node_ids)}
            object.__setattr__(self, "_nmap", cache)
        return cache

    def _arc_index_map(self) -> dict[str, int]:
        cache = self.__dict__.get("_amap")
        if cache is None:
            cache = {str(n): i for i, n in enumerate(self.arc_ids)}
            object.__setattr__(self, "_amap", cache)
        return cache

    def with_(self, **changes: Any) -> CompiledNetwork:
        """A new compiled network with some fields replaced (used by scenario deltas)."""
        new = replace(self, **changes)
        for key in ("_nmap", "_amap"):
            new.__dict__.pop(key, None)
        return new

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_nmap", None)
        state.pop("_amap", None)
        state.pop("_steady_systems", None)  # solver caches (hold factorisations): rebuilt where unpickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def compile_network(net: Network, tables: Mapping[str, TableArrays]) -> CompiledNetwork:
    """Convert a validated :class:`Network` to SI arrays.

    ``tables`` are the network's tables as validated (``Network._validated``): their arrays, the choice codes
    and the node position of every reference. Arrays are copied where kept as they are, so that later edits
    to the user tables do not reach the compiled network.

    The checks here and the reads that can fail (a value pandas cannot turn into a bool or an integer) come
    in a fixed order, arc kinds first, so that the first problem is the one reported.
    """
    nodes = tables["node"]
    node_ids = nodes.id_array()

    counts = [tables[kind].n for kind in ARC_KINDS]
    start, n_arcs = {}, 0
    for kind, n in zip(ARC_KINDS, counts, strict=True):
        start[kind] = n_arcs
        n_arcs += n
    arcs = [tables[kind] for kind in ARC_KINDS if tables[kind].n]  # the empty tables add nothing
    arc_active = []
    valve_open = np.ones(n_arcs, dtype=bool)
    for t in arcs:
        arc_active.append(t.column("in_service", bool))
        if t.schema.kind == "valve":
            valve_open[start["valve"]:start["valve"] + t.n] = t.column("open", bool)

    T_net = net.temperature_K
    pipe = _pipes(tables["pipe"], start["pipe"], T_net)
    resistor = _resistors(tables["resistor"], start["resistor"])
    control_valve = _control_valves(tables["control_valve"], start["control_valve"])
    compressor = _compressors(tables["compressor"], start["compressor"], T_net)
    pump = _pumps(tables["pump"], start["pump"])
    supply = _supplies(tables["supply"])
    demand = _demands(tables["demand"])
    nodes_pmin = nodes.column("p_min_bar", float) * 1e5
    nodes_pmax = nodes.column("p_max_bar", float) * 1e5
    bad = nodes_pmin > nodes_pmax
    if np.count_nonzero(bad):
        raise InputError("p_min_bar exceeds p_max_bar", kind="node", element=nodes.ids[int(np.argmax(bad))],
                         field="p_min_bar")
    return CompiledNetwork(
        name=net.name,
        gas=net.gas,
        temperature=T_net,
        node_ids=node_ids,
        elevation=_own(nodes, "elevation_m"),
        p_min=nodes_pmin,
        p_max=nodes_pmax,
        x=_own(nodes, "x"),
        y=_own(nodes, "y"),
        arc_ids=_joined([t.id_array() for t in arcs], object),
        arc_kind=np.repeat(np.arange(len(ARC_KINDS), dtype=np.int64), counts),
        arc_from=_joined([t.ref("from_node") for t in arcs], np.int64),
        arc_to=_joined([t.ref("to_node") for t in arcs], np.int64),
        arc_active=_joined(arc_active, bool),
        pipe=pipe,
        resistor=resistor,
        control_valve=control_valve,
        compressor=compressor,
        valve_open=valve_open,
        pump=pump,
        supply=supply,
        demand=demand,
        station_maps=dict(net.meta.get("gaslib_cs") or {}) or None,
    )


def _arcs(start: int, n: int) -> I:
    return np.arange(start, start + n, dtype=np.int64)


def _pipes(p: TableArrays, start: int, T_net: float) -> PipeBlock:
    if not p.n:
        return _empty(PipeBlock)
    temperature = p.column("temperature_K", float)
    block = PipeBlock(
        arc=_arcs(start, p.n),
        length=p.column("length_km", float) * 1e3,
        diameter=p.column("diameter_mm", float) * 1e-3,
        roughness=p.column("roughness_mm", float) * 1e-3,
        law=_recode(p, "friction", FRICTION_LAWS),
        lambda_fixed=_own(p, "lambda_fixed"),
        efficiency=_own(p, "efficiency"),
        temperature=np.where(np.isnan(temperature), T_net, temperature),
        p_max=p.column("p_max_bar", float) * 1e5,
    )
    _require_where(p, _is(p, "friction", "fixed"), "lambda_fixed", "friction='fixed'")
    return block


def _resistors(r: TableArrays, start: int) -> ResistorBlock:
    if not r.n:
        return _empty(ResistorBlock)
    block = ResistorBlock(
        arc=_arcs(start, r.n),
        drag=_own(r, "drag_factor"),
        diameter=r.column("diameter_mm", float) * 1e-3,
        dp_fixed=r.column("pressure_drop_bar", float) * 1e5,
    )
    has_drag = ~np.isnan(r.column("drag_factor", float))
    has_dp = ~np.isnan(r.column("pressure_drop_bar", float))
    both = has_drag == has_dp
    if np.count_nonzero(both):
        raise InputError("give exactly one of drag_factor or pressure_drop_bar", kind="resistor",
                         element=r.ids[int(np.argmax(both))], field="drag_factor")
    _require_where(r, has_drag, "diameter_mm", "drag_factor is given")
    return block


def _control_valves(cv: TableArrays, start: int) -> ControlValveBlock:
    if not cv.n:
        return _empty(ControlValveBlock)
    block = ControlValveBlock(
        arc=_arcs(start, cv.n),
        mode=_recode(cv, "mode", CV_MODES),
        p_set=cv.column("p_set_bar", float) * 1e5,
        p_in_min=cv.column("p_in_min_bar", float) * 1e5,
        flow_max=_own(cv, "flow_max_kg_s"),
    )
    _require_where(cv, _is(cv, "mode", "set_point"), "p_set_bar", "mode='set_point'")
    return block


def _compressors(cs: TableArrays, start: int, T_net: float) -> CompressorBlock:
    if not cs.n:
        return _empty(CompressorBlock)
    suction_temperature = cs.column("suction_temperature_K", float)
    block = CompressorBlock(
        arc=_arcs(start, cs.n),
        mode=_recode(cs, "mode", CS_MODES),
        ratio=_own(cs, "ratio"),
        p_set=cs.column("p_set_bar", float) * 1e5,
        flow_set=_own(cs, "flow_set_kg_s"),
        power_set=cs.column("power_set_MW", float) * 1e6,
        ratio_max=_own(cs, "ratio_max"),
        ratio_min=_own(cs, "ratio_min"),
        p_discharge_max=cs.column("p_discharge_max_bar", float) * 1e5,
        p_suction_min=cs.column("p_suction_min_bar", float) * 1e5,
        power_max=cs.column("power_max_MW", float) * 1e6,
        flow_max=_own(cs, "flow_max_kg_s"),
        efficiency=_own(cs, "efficiency"),
        polytropic=_is(cs, "head", "polytropic"),
        electric=_is(cs, "driver", "electric"),
        driver_efficiency=_own(cs, "driver_efficiency"),
        suction_temperature=np.where(np.isnan(suction_temperature), T_net, suction_temperature),
    )
    _require_where(cs, _is(cs, "mode", "flow"), "flow_set_kg_s", "mode='flow'")
    _require_where(cs, _is(cs, "mode", "power"), "power_set_MW", "mode='power'")
    _require_where(cs, _is(cs, "mode", "ratio"), "ratio", "mode='ratio'")
    _require_where(cs, _is(cs, "mode", "discharge") | _is(cs, "mode", "suction"), "p_set_bar",
                   "mode=discharge/suction")
    return block


def _pumps(pu: TableArrays, start: int) -> PumpBlock:
    if not pu.n:
        return _empty(PumpBlock)
    return PumpBlock(
        arc=_arcs(start, pu.n),
        c0=pu.column("lift_c0_bar", float) * 1e5,
        c1=pu.column("lift_c1_bar_h_m3", float) * 1e5 * 3600.0,
        c2=pu.column("lift_c2_bar_h2_m6", float) * 1e5 * 3600.0**2,
    )


def _supplies(s: TableArrays) -> SupplyBlock:
    if not s.n:
        return _empty(SupplyBlock)
    _require_where(s, _is(s, "mode", "pressure"), "p_set_bar", "mode='pressure'")
    _require_where(s, _is(s, "mode", "flow"), "flow_kg_s", "mode='flow'")
    flow_min, flow_max = _own(s, "flow_min_kg_s"), _own(s, "flow_max_kg_s")
    bad = flow_min > flow_max
    if np.count_nonzero(bad):
        raise InputError("flow_min_kg_s exceeds flow_max_kg_s", kind="supply", element=s.ids[int(np.argmax(bad))],
                         field="flow_min_kg_s")
    return SupplyBlock(
        ids=s.id_array(),
        node=np.array(s.ref("node")),
        fixed_pressure=_is(s, "mode", "pressure"),
        p_set=s.column("p_set_bar", float) * 1e5,
        flow=_nan_to_num(s.column("flow_kg_s", float)),
        flow_min=flow_min,
        flow_max=flow_max,
        active=_own(s, "in_service", bool),
    )


def _demands(d: TableArrays) -> DemandBlock:
    if not d.n:
        return _empty(DemandBlock)
    return DemandBlock(
        ids=d.id_array(),
        node=np.array(d.ref("node")),
        flow=_own(d, "flow_kg_s"),
        priority=_own(d, "priority", np.int64),
        active=_own(d, "in_service", bool),
    )


BlockT = TypeVar("BlockT", bound=Block)

# the array type of each field annotation of the blocks (annotations are text: ``from __future__ import annotations``)
_EMPTY_DTYPES = {"F": np.float64, "I": np.int64, "B": np.bool_, "NDArray[np.object_]": np.object_}


_EMPTY_FIELDS: dict[type, dict[str, np.ndarray]] = {}


def _empty(cls: type[BlockT]) -> BlockT:
    """The block of a kind without elements (what the general path builds, without its dozen array steps).

    Its arrays, empty and read-only, are made once per block class and shared.
    """
    arrays = _EMPTY_FIELDS.get(cls)
    if arrays is None:
        arrays = {}
        for f in fields(cls):
            a: np.ndarray = np.empty(0, dtype=_EMPTY_DTYPES[str(f.type)])
            a.setflags(write=False)
            arrays[f.name] = a
        _EMPTY_FIELDS[cls] = arrays
    return cls(**arrays)


def _joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    """``np.concatenate(parts)`` (always a new array), or an empty array of ``dtype`` when there are none."""
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def _nan_to_num(a: F) -> F:
    """``np.nan_to_num(a)`` (a new array), skipping its several passes when every value is finite."""
    return a.copy() if np.count_nonzero(np.isfinite(a)) == len(a) else np.nan_to_num(a)


def _own(t: TableArrays, name: str, dtype: Any = float) -> np.ndarray:
    """A column as a new array (``to_numpy`` may return a view of the user's table)."""
    return t.column(name, dtype).copy()  # (already of ``dtype``)


def _is(t: TableArrays, name: str, value: str) -> B:
    """``column == value`` for a validated choice column."""
    return t.code(name) == _choice_position(t.schema.by_name[name].choices or (), value)


@functools.cache
def _choice_position(choices: tuple[str, ...], value: str) -> int:
    return choices.index(value)


def _recode(t: TableArrays, name: str, target: tuple[str, ...]) -> I:
    """Index of each value of a validated choice column in ``target`` (the kernel's tuple of that choice)."""
    codes = t.code(name)
    choices = t.schema.by_name[name].choices or ()
    if not t.n:
        return np.empty(0, dtype=np.int64)
    if np.count_nonzero(codes < 0):  # a missing value passes validation (the column is optional) but has no meaning here
        i = int(np.argmax(codes < 0))
        raise InputError(f"must be one of {list(choices)}, got {t.column(name)[i]!r}", kind=t.schema.kind,
                         element=t.ids[i], field=name)
    return _translation(choices, target)[codes]


@functools.cache
def _translation(choices: tuple[str, ...], target: tuple[str, ...]) -> I:
    """Position in ``target`` of each of ``choices`` (both are constant tuples declared by the components)."""
    table = np.array([target.index(c) for c in choices], dtype=np.int64)
    table.setflags(write=False)
    return table


def _require_where(t: TableArrays, mask: B, column: str, when: str) -> None:
    missing = mask & np.isnan(t.column(column, float))
    if np.count_nonzero(missing):
        raise InputError(f"is required when {when}", kind=t.schema.kind, element=t.ids[int(np.argmax(missing))],
                         field=column)
