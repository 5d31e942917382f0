"""Import of GasTranSim.jl / GasSteadySim.jl JSON cases (LANL): network, params, ic, bc, disruptions.

Contract: :func:`read_gastransim` reads a case folder and returns a :class:`GasTranSimCase` holding a
:class:`~gasgrid.Network`, :class:`~gasgrid.transient.BoundaryConditions`, an
:class:`~gasgrid.transient.InitialState` (when ``ic.json`` exists) and the horizon; nothing is solved.
Only SI files (``units = 0``) are accepted. Mapping:

* nodes keep their ids; ``min_pressure``/``max_pressure`` [Pa] become node bounds;
* pipes become ``p<id>`` with ``friction='fixed'`` and the file's friction factor (used as given);
* compressors ``c<id>``, short pipes ``sp<id>``, valves ``v<id>``, resistors ``r<id>``;
* slack nodes get a pressure supply ``s<node>`` (``boundary_pslack``), other boundary flows a demand
  ``d<node>`` (``boundary_nonslack_flow``: positive = withdrawal, as in GasTranSim);
* ``boundary_compressor`` control types 0/1/2 = ratio / discharge pressure / flow;
* the gas is ideal (GasTranSim's default) with GasTranSim's own constants: R = 8.314 J/(mol K) and
  M = 0.02896 G kg/mol. gasgrid uses R = 8.314462618, so the molar mass is scaled by the ratio of the two to
  keep R/M -- and thus the sound speed and every density -- identical to GasTranSim's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gasgrid.errors import InputError
from gasgrid.gas import EOS, Gas
from gasgrid.model.network import Network
from gasgrid.transient.bc import BoundaryConditions, CompressorControl, TimeSeries
from gasgrid.transient.initial import InitialState
from gasgrid.units import R_UNIVERSAL

GASTRANSIM_R = 8.314  # J/(mol K), GasTranSim's value
GASTRANSIM_M_AIR = 0.02896  # kg/mol
_CONTROL = {0: "ratio", 1: "discharge", 2: "flow"}


@dataclass(frozen=True)
class GasTranSimCase:
    """A GasTranSim case as gasgrid objects (SI)."""

    network: Network
    bc: BoundaryConditions
    initial: InitialState | None
    t0_s: float
    t_end_s: float
    dt_s: float
    save_dt_s: float
    courant: float
    params: Mapping[str, Any] = field(default_factory=dict)
    disruptions: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def simulate(self, **kwargs: Any) -> Any:
        """Run :func:`gasgrid.transient.simulate` with this case's network, inputs, horizon, time step and
        initial state (all overridable by keyword)."""
        from gasgrid.transient import TransientOptions, simulate

        kw: dict[str, Any] = {"dt": self.dt_s, "t_end": self.t_end_s, "t0": self.t0_s}
        if self.initial is not None:
            kw["initial"] = self.initial
        # GasTranSim applies neither station limits nor fuel gas: reproduce its physics unless asked otherwise
        kw["options"] = TransientOptions(station_limits=False, fuel_gas=False)
        kw.update(kwargs)
        return simulate(self.network, self.bc, **kw)


def read_gastransim(
    folder: str | Path,
    *,
    params: str = "params.json",
    ic: str | None = "ic.json",
    bc: str = "bc.json",
    eos: EOS | str = EOS.IDEAL,
    name: str | None = None,
) -> GasTranSimCase:
    """Read a GasTranSim (or GasSteadySim: no ``ic.json``, scalar ``bc.json``) case folder.

    Args:
        folder: the case folder (holding ``network.json``).
        params, ic, bc: file names inside the folder (e.g. ``bc="bc_ramp.json"``); ``ic=None`` to skip.
        eos: equation of state of the gas (GasTranSim's default is the ideal gas).
        name: network name (default: the folder name).
    """
    root = Path(folder)
    if not (root / "network.json").is_file():
        raise InputError("no network.json in the case folder", source=str(root))
    net_data = _load(root / "network.json")
    par = _params(_load(root / params), str(root / params))
    bc_data = _load(root / bc)
    ic_path = root / ic if ic is not None else None
    ic_data = _load(ic_path) if ic_path is not None and ic_path.is_file() else None
    dis_path = root / "disruptions.json"
    disruptions = _load(dis_path) if dis_path.is_file() else {}
    G = par["G"]
    gas = Gas(molar_mass=GASTRANSIM_M_AIR * G * R_UNIVERSAL / GASTRANSIM_R,
              eos=EOS.parse(eos) if isinstance(eos, str) else eos, name=f"GasTranSim gas G={G:g}")
    net = Network(name or root.name, gas=gas, temperature_K=par["T"])
    net.meta["source"] = f"GasTranSim case {root.name}"
    t0 = par["t0"]
    _add_nodes(net, net_data, str(root))
    _add_arcs(net, net_data, str(root))
    bcs = _boundary(net, net_data, bc_data, t0, str(root / bc))
    initial = _initial(ic_data, str(ic_path)) if ic_data is not None else None
    return GasTranSimCase(network=net, bc=bcs, initial=initial, t0_s=t0, t_end_s=par["t_end"], dt_s=par["dt"],
                          save_dt_s=par["save_dt"], courant=par["courant"], params=par, disruptions=disruptions,
                          source=str(root))


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc}", source=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=str(path))
    return data


def _params(data: dict[str, Any], where: str) -> dict[str, float]:
    """GasTranSim matches parameter names by substring; so do we."""
    sp = data.get("simulation_params", data.get("params"))
    if not isinstance(sp, dict):
        raise InputError("missing 'simulation_params' (or 'params')", source=where)
    keys = {"T": ("Temperature", 288.706), "G": ("Gas specific gravity", 0.6), "units": ("units", 0.0),
            "t0": ("Initial time", 0.0), "t_end": ("Final time", 3600.0), "dt": ("Discretization", 1.0),
            "courant": ("Courant", 0.95), "save_dt": ("Output dt", 3600.0)}
    out: dict[str, float] = {}
    for k, (sub, default) in keys.items():
        found = [v for name, v in sp.items() if sub.lower() in name.lower()]
        out[k] = float(found[0]) if found else float(default)
    if out["units"] != 0:
        raise InputError("only SI GasTranSim files (units = 0) are supported", source=where, field="units")
    return out


def _get(d: Mapping[str, Any], *names: str, where: str) -> Any:
    for n in names:
        if n in d:
            return d[n]
    raise InputError(f"missing field {names[0]!r}", source=where)


def _add_nodes(net: Network, data: dict[str, Any], where: str) -> None:
    nodes = data.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise InputError("network.json has no nodes", source=where)
    for key, nd in nodes.items():
        nid = str(_get(nd, "node_id", "id", where=f"{where}: node {key}"))
        vals: dict[str, Any] = {"x": nd.get("x_coord"), "y": nd.get("y_coord"),
                                "elevation_m": nd.get("elevation", 0.0), "name": nd.get("node_name", nd.get("name"))}
        if "min_pressure" in nd:
            vals["p_min_bar"] = float(nd["min_pressure"]) / 1e5
        if "max_pressure" in nd:
            vals["p_max_bar"] = float(nd["max_pressure"]) / 1e5
        net.add_node(nid, source="GasTranSim", **vals)


def _ends(d: Mapping[str, Any], where: str) -> tuple[str, str]:
    return str(_get(d, "from_node", "fr_node", where=where)), str(_get(d, "to_node", where=where))


def _add_arcs(net: Network, data: dict[str, Any], where: str) -> None:
    for key, p in (data.get("pipes") or {}).items():
        w = f"{where}: pipe {key}"
        f, t = _ends(p, w)
        pid = str(_get(p, "pipe_id", "id", where=w))
        net.add_pipe(f"p{pid}", f, t, length_km=float(_get(p, "length", where=w)) / 1e3,
                     diameter_mm=float(_get(p, "diameter", where=w)) * 1e3, friction="fixed",
                     lambda_fixed=float(_get(p, "friction_factor", where=w)),
                     name=p.get("pipe_name", p.get("name")), source="GasTranSim")
    for key, c in (data.get("compressors") or {}).items():
        w = f"{where}: compressor {key}"
        f, t = _ends(c, w)
        cid = str(_get(c, "comp_id", "id", where=w))
        extra: dict[str, Any] = {}
        if "c_max" in c:
            extra["ratio_max"] = float(c["c_max"])
        if "c_min" in c:
            extra["ratio_min"] = max(1.0, float(c["c_min"]))
        if "max_flow" in c:
            extra["flow_max_kg_s"] = float(c["max_flow"])
        if "max_power" in c:
            extra["power_max_MW"] = float(c["max_power"]) / 1e6
        net.add_compressor(f"c{cid}", f, t, mode="bypass", name=c.get("comp_name", c.get("name")),
                           source="GasTranSim", **extra)
    for key, s in (data.get("short_pipes") or {}).items():
        w = f"{where}: short pipe {key}"
        f, t = _ends(s, w)
        net.add_short_pipe(f"sp{_get(s, 'short_pipe_id', 'id', where=w)}", f, t, source="GasTranSim")
    for key, v in (data.get("valves") or {}).items():
        w = f"{where}: valve {key}"
        f, t = _ends(v, w)
        net.add_valve(f"v{_get(v, 'valve_id', 'id', where=w)}", f, t, source="GasTranSim")
    for key, r in (data.get("resistors") or {}).items():
        w = f"{where}: resistor {key}"
        f, t = _ends(r, w)
        net.add_resistor(f"r{_get(r, 'resistor_id', 'id', where=w)}", f, t, drag_factor=float(_get(r, "drag",
                         where=w)), diameter_mm=float(_get(r, "diameter", where=w)) * 1e3, source="GasTranSim")
    unsupported = [k for k in ("regulators", "control_valves", "loss_resistors") if data.get(k)]
    if unsupported:
        raise InputError(f"component lists {unsupported} are not supported by the importer yet", source=where)


def _series(entry: Any, where: str) -> tuple[TimeSeries, float]:
    """A GasTranSim boundary entry (scalar or {time, value}) as a series and its value at the first time."""
    if isinstance(entry, int | float):
        return TimeSeries([0.0], [float(entry)]), float(entry)
    if not isinstance(entry, dict):
        raise InputError("boundary entry must be a number or {time, value}", source=where)
    ts = TimeSeries(_get(entry, "time", where=where), _get(entry, "value", where=where))
    return ts, ts.value[0]


def _boundary(net: Network, net_data: dict[str, Any], data: dict[str, Any], t0: float,
              where: str) -> BoundaryConditions:
    known = {str(_get(nd, "node_id", "id", where=where)) for nd in net_data["nodes"].values()}
    sp: dict[str, TimeSeries] = {}
    dem: dict[str, TimeSeries] = {}
    comp: dict[str, Any] = {}
    for node, entry in (data.get("boundary_pslack") or {}).items():
        if str(node) not in known:
            raise InputError("boundary_pslack at an unknown node", element=str(node), source=where)
        ts, _ = _series(entry, f"{where}: boundary_pslack {node}")
        net.add_supply(f"s{node}", str(node), mode="pressure", p_set_bar=ts(t0) / 1e5, source="GasTranSim")
        sp[f"s{node}"] = ts
    for node, entry in (data.get("boundary_nonslack_flow") or {}).items():
        if str(node) not in known:
            raise InputError("boundary_nonslack_flow at an unknown node", element=str(node), source=where)
        ts, _ = _series(entry, f"{where}: boundary_nonslack_flow {node}")
        net.add_demand(f"d{node}", str(node), flow_kg_s=ts(t0), source="GasTranSim")
        dem[f"d{node}"] = ts
    comps = net.table("compressor")
    for cid, entry in (data.get("boundary_compressor") or {}).items():
        w = f"{where}: boundary_compressor {cid}"
        arc = f"c{cid}"
        if arc not in comps.index:
            raise InputError("boundary_compressor for an unknown compressor", element=str(cid), source=where)
        ctype = _get(entry, "control_type", where=w)
        times = entry.get("time", [0.0])
        values = entry["value"] if isinstance(entry.get("value"), list) else [entry.get("value")]
        types = ctype if isinstance(ctype, list) else [ctype] * len(values)
        if not (len(times) == len(values) == len(types)):
            raise InputError("time, value and control_type must have equal lengths", source=w)
        bad = [c for c in types if int(c) not in _CONTROL]
        if bad:
            raise InputError(f"unknown control_type {bad[0]!r}; allowed: 0 (ratio), 1 (discharge), 2 (flow)",
                             source=w)
        segments: list[tuple[float, CompressorControl]] = []
        k = 0
        while k < len(values):
            j = k
            while j + 1 < len(values) and int(types[j + 1]) == int(types[k]):
                j += 1
            seg_t, seg_v = times[k : j + 1], values[k : j + 1]
            segments.append((float(times[k]), CompressorControl(_CONTROL[int(types[k])], TimeSeries(seg_t, seg_v))))
            k = j + 1
        first = segments[0][1]
        v0 = first.value(t0) if isinstance(first.value, TimeSeries) else float(first.value)
        cols = {"ratio": "ratio", "discharge": "p_set_bar", "flow": "flow_set_kg_s"}
        comps.loc[arc, "mode"] = first.mode
        comps.loc[arc, cols[first.mode]] = v0 / 1e5 if first.mode == "discharge" else v0
        if first.mode == "ratio" and v0 < 1.0:
            raise InputError(f"compression ratio {v0:g} < 1 at t0", kind="compressor", element=arc, source=w)
        comp[arc] = segments if len(segments) > 1 else first
    return BoundaryConditions(supply_pressure_Pa=sp, demand_flow_kg_s=dem, compressor=comp)


def _initial(data: dict[str, Any], where: str) -> InitialState:
    p = data.get("initial_nodal_pressure", data.get("nodal_pressure"))
    if not isinstance(p, dict):
        raise InputError("ic.json has no initial_nodal_pressure", source=where)
    q: dict[str, float] = {}
    for k, v in (data.get("initial_pipe_flow", data.get("pipe_flow")) or {}).items():
        q[f"p{k}"] = float(v)
    for k, v in (data.get("initial_compressor_flow", data.get("compressor_flow")) or {}).items():
        q[f"c{k}"] = float(v)
    bad = [k for k, v in p.items() if not (isinstance(v, int | float) and math.isfinite(v) and v > 0)]
    if bad:
        raise InputError("initial pressure must be a positive number", element=str(bad[0]), source=where)
    return InitialState(p_node_Pa={str(k): float(v) for k, v in p.items()}, q_arc_kg_s=q)
