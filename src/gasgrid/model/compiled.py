"""The compiled, immutable SI form of a network that every solver reads.

Contract: all arrays are numpy, read-only, SI (Pa absolute, m, kg/s, K). Arcs of every kind share one
index space (``arc_*`` arrays); per-kind parameter blocks point into it. Out-of-service elements stay in the
arrays with ``*_active = False`` so that scenario deltas can toggle them without recompiling.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.components.compressor import MODES as CS_MODES
from gasgrid.components.control_valve import MODES as CV_MODES
from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.gas import Gas

if TYPE_CHECKING:
    from gasgrid.model.network import Network

F = NDArray[np.float64]
I = NDArray[np.int64]
B = NDArray[np.bool_]


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Block:
    """Base for per-kind parameter blocks: all fields are read-only arrays of equal length."""

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                object.__setattr__(self, f.name, _ro(v))

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))


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
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                object.__setattr__(self, f.name, _ro(v))

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_arcs(self) -> int:
        return len(self.arc_ids)

    def node_index(self, node_id: str) -> int:
        idx = self._node_index_map().get(str(node_id))
        if idx is None:
            from gasgrid.errors import InputError

            raise InputError("unknown node", element=node_id)
        return idx

    def arc_index(self, arc_id: str) -> int:
        idx = self._arc_index_map().get(str(arc_id))
        if idx is None:
            from gasgrid.errors import InputError

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
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def compile_network(net: Network) -> CompiledNetwork:
    """Convert a validated :class:`Network` to SI arrays."""
    t = net.tables
    nodes = t["node"]
    node_ids = nodes.index.to_numpy(dtype=object)
    nidx = {n: i for i, n in enumerate(node_ids)}

    def idx(series: Any) -> I:
        return np.fromiter((nidx[v] for v in series), dtype=np.int64, count=len(series))

    arc_ids, arc_kind, arc_from, arc_to, arc_active, valve_open = [], [], [], [], [], []
    offsets: dict[str, int] = {}
    n = 0
    for k, kind in enumerate(ARC_KINDS):
        tab = t[kind]
        offsets[kind] = n
        arc_ids.append(tab.index.to_numpy(dtype=object))
        arc_kind.append(np.full(len(tab), k, dtype=np.int64))
        arc_from.append(idx(tab["from_node"]))
        arc_to.append(idx(tab["to_node"]))
        arc_active.append(tab["in_service"].to_numpy(dtype=bool))
        valve_open.append(tab["open"].to_numpy(dtype=bool) if kind == "valve" else np.ones(len(tab), bool))
        n += len(tab)

    def arcs_of(kind: str) -> I:
        return np.arange(offsets[kind], offsets[kind] + len(t[kind]), dtype=np.int64)

    T_net = net.temperature_K
    p = t["pipe"]
    pipe = PipeBlock(
        arc=arcs_of("pipe"),
        length=p["length_km"].to_numpy(float) * 1e3,
        diameter=p["diameter_mm"].to_numpy(float) * 1e-3,
        roughness=p["roughness_mm"].to_numpy(float) * 1e-3,
        law=np.array([FRICTION_LAWS.index(v) for v in p["friction"]], dtype=np.int64),
        lambda_fixed=p["lambda_fixed"].to_numpy(float),
        efficiency=p["efficiency"].to_numpy(float),
        temperature=np.where(np.isnan(p["temperature_K"].to_numpy(float)), T_net, p["temperature_K"].to_numpy(float)),
        p_max=p["p_max_bar"].to_numpy(float) * 1e5,
    )
    _check_pipes(p)
    r = t["resistor"]
    resistor = ResistorBlock(
        arc=arcs_of("resistor"),
        drag=r["drag_factor"].to_numpy(float),
        diameter=r["diameter_mm"].to_numpy(float) * 1e-3,
        dp_fixed=r["pressure_drop_bar"].to_numpy(float) * 1e5,
    )
    _check_resistors(r)
    cv = t["control_valve"]
    control_valve = ControlValveBlock(
        arc=arcs_of("control_valve"),
        mode=np.array([CV_MODES.index(v) for v in cv["mode"]], dtype=np.int64),
        p_set=cv["p_set_bar"].to_numpy(float) * 1e5,
        p_in_min=cv["p_in_min_bar"].to_numpy(float) * 1e5,
        flow_max=cv["flow_max_kg_s"].to_numpy(float),
    )
    _require_where(cv, cv["mode"] == "set_point", "p_set_bar", "control_valve", "mode='set_point'")
    cs = t["compressor"]
    compressor = CompressorBlock(
        arc=arcs_of("compressor"),
        mode=np.array([CS_MODES.index(v) for v in cs["mode"]], dtype=np.int64),
        ratio=cs["ratio"].to_numpy(float),
        p_set=cs["p_set_bar"].to_numpy(float) * 1e5,
        flow_set=cs["flow_set_kg_s"].to_numpy(float),
        power_set=cs["power_set_MW"].to_numpy(float) * 1e6,
        ratio_max=cs["ratio_max"].to_numpy(float),
        ratio_min=cs["ratio_min"].to_numpy(float),
        p_discharge_max=cs["p_discharge_max_bar"].to_numpy(float) * 1e5,
        p_suction_min=cs["p_suction_min_bar"].to_numpy(float) * 1e5,
        power_max=cs["power_max_MW"].to_numpy(float) * 1e6,
        flow_max=cs["flow_max_kg_s"].to_numpy(float),
        efficiency=cs["efficiency"].to_numpy(float),
        polytropic=(cs["head"] == "polytropic").to_numpy(bool),
        electric=(cs["driver"] == "electric").to_numpy(bool),
        driver_efficiency=cs["driver_efficiency"].to_numpy(float),
        suction_temperature=np.where(cs["suction_temperature_K"].isna(), T_net, cs["suction_temperature_K"]).astype(float),
    )
    _require_where(cs, cs["mode"] == "flow", "flow_set_kg_s", "compressor", "mode='flow'")
    _require_where(cs, cs["mode"] == "power", "power_set_MW", "compressor", "mode='power'")
    _require_where(cs, cs["mode"] == "ratio", "ratio", "compressor", "mode='ratio'")
    _require_where(cs, cs["mode"].isin(["discharge", "suction"]), "p_set_bar", "compressor", "mode=discharge/suction")
    pu = t["pump"]
    pump = PumpBlock(
        arc=arcs_of("pump"),
        c0=pu["lift_c0_bar"].to_numpy(float) * 1e5,
        c1=pu["lift_c1_bar_h_m3"].to_numpy(float) * 1e5 * 3600.0,
        c2=pu["lift_c2_bar_h2_m6"].to_numpy(float) * 1e5 * 3600.0**2,
    )
    s = t["supply"]
    _require_where(s, s["mode"] == "pressure", "p_set_bar", "supply", "mode='pressure'")
    _require_where(s, s["mode"] == "flow", "flow_kg_s", "supply", "mode='flow'")
    bad = s.index[s["flow_min_kg_s"] > s["flow_max_kg_s"]]
    if len(bad):
        from gasgrid.errors import InputError

        raise InputError("flow_min_kg_s exceeds flow_max_kg_s", kind="supply", element=bad[0],
                         field="flow_min_kg_s")
    supply = SupplyBlock(
        ids=s.index.to_numpy(dtype=object),
        node=idx(s["node"]),
        fixed_pressure=(s["mode"] == "pressure").to_numpy(bool),
        p_set=s["p_set_bar"].to_numpy(float) * 1e5,
        flow=np.nan_to_num(s["flow_kg_s"].to_numpy(float)),
        flow_min=s["flow_min_kg_s"].to_numpy(float),
        flow_max=s["flow_max_kg_s"].to_numpy(float),
        active=s["in_service"].to_numpy(bool),
    )
    d = t["demand"]
    demand = DemandBlock(
        ids=d.index.to_numpy(dtype=object),
        node=idx(d["node"]),
        flow=d["flow_kg_s"].to_numpy(float),
        priority=d["priority"].to_numpy(np.int64),
        active=d["in_service"].to_numpy(bool),
    )
    nodes_pmin = nodes["p_min_bar"].to_numpy(float) * 1e5
    nodes_pmax = nodes["p_max_bar"].to_numpy(float) * 1e5
    bad_nodes = nodes.index[nodes_pmin > nodes_pmax]
    if len(bad_nodes):
        from gasgrid.errors import InputError

        raise InputError("p_min_bar exceeds p_max_bar", kind="node", element=bad_nodes[0], field="p_min_bar")
    return CompiledNetwork(
        name=net.name,
        gas=net.gas,
        temperature=T_net,
        node_ids=node_ids,
        elevation=nodes["elevation_m"].to_numpy(float),
        p_min=nodes_pmin,
        p_max=nodes_pmax,
        x=nodes["x"].to_numpy(float),
        y=nodes["y"].to_numpy(float),
        arc_ids=np.concatenate(arc_ids) if arc_ids else np.array([], dtype=object),
        arc_kind=np.concatenate(arc_kind),
        arc_from=np.concatenate(arc_from),
        arc_to=np.concatenate(arc_to),
        arc_active=np.concatenate(arc_active),
        pipe=pipe,
        resistor=resistor,
        control_valve=control_valve,
        compressor=compressor,
        valve_open=np.concatenate(valve_open),
        pump=pump,
        supply=supply,
        demand=demand,
        station_maps=dict(net.meta.get("gaslib_cs") or {}) or None,
    )


def _require_where(frame: Any, mask: Any, column: str, kind: str, when: str) -> None:
    from gasgrid.errors import InputError

    missing = mask & frame[column].isna()
    if missing.any():
        raise InputError(f"is required when {when}", kind=kind, element=frame.index[missing.argmax()], field=column)


def _check_pipes(p: Any) -> None:
    _require_where(p, p["friction"] == "fixed", "lambda_fixed", "pipe", "friction='fixed'")


def _check_resistors(r: Any) -> None:
    from gasgrid.errors import InputError

    has_drag = r["drag_factor"].notna()
    has_dp = r["pressure_drop_bar"].notna()
    both = has_drag == has_dp
    if both.any():
        raise InputError("give exactly one of drag_factor or pressure_drop_bar", kind="resistor",
                         element=r.index[both.argmax()], field="drag_factor")
    _require_where(r, has_drag, "diameter_mm", "resistor", "drag_factor is given")
