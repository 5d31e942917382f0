"""Boundary conditions and events of a transient run: time series, typed events, and their validation.

Contract: :class:`BoundaryConditions` is an immutable description in SI (s, Pa, kg/s) keyed by element ids.
:func:`validate_bc` checks it against a compiled network and a horizon before anything runs (unknown
elements, times outside the horizon, wrong modes -> :class:`~gasgrid.errors.InputError`).
:class:`ControlSchedule` turns it into the :class:`~gasgrid.transient.system.Controls` at any time t:
time series are interpolated (linear, or ``previous`` for steps), events act strictly after their time.
:func:`load_events` reads the same description from a YAML or TOML file.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.components.compressor import MODES as CS_MODES
from gasgrid.components.control_valve import MODES as CV_MODES
from gasgrid.errors import InputError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.transient.grid import Grid
from gasgrid.transient.system import ArcMode, Controls

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class TimeSeries:
    """Values at times; ``interp`` is "linear" or "previous" (piecewise constant). Held constant outside."""

    t_s: tuple[float, ...]
    value: tuple[float, ...]
    interp: str = "linear"

    def __init__(self, t_s: ArrayLike, value: ArrayLike, interp: str = "linear") -> None:
        t = tuple(float(v) for v in np.atleast_1d(np.asarray(t_s, dtype=float)))
        v = tuple(float(x) for x in np.atleast_1d(np.asarray(value, dtype=float)))
        if len(t) != len(v) or not t:
            raise InputError(f"time series needs equally many times and values, got {len(t)} and {len(v)}")
        if any(b < a for a, b in itertools.pairwise(t)):
            raise InputError("time series times must be non-decreasing")
        if not all(math.isfinite(x) for x in t + v):
            raise InputError("time series contains NaN or infinite values")
        if interp not in ("linear", "previous"):
            raise InputError(f"interp must be 'linear' or 'previous', got {interp!r}")
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "value", v)
        object.__setattr__(self, "interp", interp)

    def __call__(self, t: float) -> float:
        arrays = self.__dict__.get("_arrays")
        if arrays is None:
            arrays = (np.asarray(self.t_s), np.asarray(self.value))
            object.__setattr__(self, "_arrays", arrays)
        ts, vs = arrays
        if len(ts) == 1:
            return float(vs[0])
        if self.interp == "linear":
            return float(np.interp(t, ts, vs))
        k = int(np.searchsorted(ts, t, side="right")) - 1
        return float(vs[max(k, 0)])


Series = TimeSeries | float


def _series(v: Series) -> TimeSeries:
    return v if isinstance(v, TimeSeries) else TimeSeries([0.0], [float(v)])


@dataclass(frozen=True)
class CompressorControl:
    """A compressor's control over time: ``mode`` (ratio, discharge, suction, flow, power, bypass, off) and
    the set point series (ratio [-], pressure [Pa], flow [kg/s] or shaft power [W]). The station's limits
    (network table) override the set point while they bind (see :mod:`gasgrid.transient.stations`)."""

    mode: str
    value: Series = math.nan

    def __post_init__(self) -> None:
        if self.mode not in ("ratio", "discharge", "suction", "flow", "power", "bypass", "off"):
            raise InputError(f"unknown compressor control mode {self.mode!r}; allowed: ratio, discharge, "
                             "suction, flow, power, bypass, off")


# --- events ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """Something that happens to one element at ``t_s`` (and acts strictly after it)."""

    t_s: float
    element: str

    kind: str = field(init=False, default="")


@dataclass(frozen=True)
class StationTrip(Event):
    """Compressor station stops: no flow through it (``bypass=True``: gas passes without compression)."""

    bypass: bool = False
    kind: str = field(init=False, default="compressor")


@dataclass(frozen=True)
class ValveClose(Event):
    kind: str = field(init=False, default="valve")


@dataclass(frozen=True)
class ValveOpen(Event):
    kind: str = field(init=False, default="valve")


@dataclass(frozen=True)
class SupplyCut(Event):
    """Supply stops injecting (a pressure supply loses its pressure too) until ``until_s`` (default: never)."""

    until_s: float = math.inf
    kind: str = field(init=False, default="supply")


@dataclass(frozen=True)
class DemandStep(Event):
    """Demand jumps to ``flow_kg_s`` (withdrawal) and stays there."""

    flow_kg_s: float = 0.0
    kind: str = field(init=False, default="demand")


EVENT_TYPES: dict[str, type[Event]] = {
    "station_trip": StationTrip,
    "valve_close": ValveClose,
    "valve_open": ValveOpen,
    "supply_cut": SupplyCut,
    "demand_step": DemandStep,
}


@dataclass(frozen=True)
class BoundaryConditions:
    """Time-dependent inputs of a transient run (SI), keyed by element id. Unset inputs keep the network's
    values. ``supply_pressure_Pa`` applies to pressure supplies, ``supply_flow_kg_s`` to flow supplies."""

    supply_pressure_Pa: Mapping[str, Series] = field(default_factory=dict)
    supply_flow_kg_s: Mapping[str, Series] = field(default_factory=dict)
    demand_flow_kg_s: Mapping[str, Series] = field(default_factory=dict)
    compressor: Mapping[str, CompressorControl | Sequence[tuple[float, CompressorControl]]] = field(
        default_factory=dict)
    control_valve_p_set_Pa: Mapping[str, Series] = field(default_factory=dict)
    events: tuple[Event, ...] = ()

    def with_events(self, *events: Event) -> BoundaryConditions:
        """A copy with more events."""
        from dataclasses import replace

        return replace(self, events=tuple(self.events) + tuple(events))


def validate_bc(bc: BoundaryConditions, net: CompiledNetwork, t0: float, t_end: float) -> None:
    """Raise :class:`InputError` for unknown elements, wrong element modes or times outside [t0, t_end]."""
    sup = {str(s): i for i, s in enumerate(net.supply.ids)}
    dem = {str(d): i for i, d in enumerate(net.demand.ids)}
    kind_of = {str(a): ARC_KINDS[int(k)] for a, k in zip(net.arc_ids, net.arc_kind, strict=True)}

    def need(table: Mapping[str, Any], ids: Mapping[str, Any] | None, kind: str, what: str) -> None:
        for e in table:
            if (ids is not None and str(e) not in ids) or (ids is None and kind_of.get(str(e)) != kind):
                raise InputError(f"{what}: no {kind} with this id", kind=kind, element=str(e), source="boundary")

    need(bc.supply_pressure_Pa, sup, "supply", "supply_pressure_Pa")
    need(bc.supply_flow_kg_s, sup, "supply", "supply_flow_kg_s")
    need(bc.demand_flow_kg_s, dem, "demand", "demand_flow_kg_s")
    need(bc.compressor, None, "compressor", "compressor")
    need(bc.control_valve_p_set_Pa, None, "control_valve", "control_valve_p_set_Pa")
    for e in bc.supply_pressure_Pa:
        if not net.supply.fixed_pressure[sup[str(e)]]:
            raise InputError("supply_pressure_Pa given for a flow supply", kind="supply", element=str(e))
    for e in bc.supply_flow_kg_s:
        if net.supply.fixed_pressure[sup[str(e)]]:
            raise InputError("supply_flow_kg_s given for a pressure supply", kind="supply", element=str(e))
    for ev in bc.events:
        ids: Mapping[str, Any] | None = {"supply": sup, "demand": dem}.get(ev.kind)
        if (ids is not None and str(ev.element) not in ids) or (ids is None and kind_of.get(str(ev.element))
                                                                   != ev.kind):
            raise InputError(f"{type(ev).__name__} event at an unknown {ev.kind}", kind=ev.kind,
                             element=str(ev.element), source="events")
        if not (math.isfinite(ev.t_s) and t0 <= ev.t_s <= t_end):
            raise InputError(f"{type(ev).__name__} at t = {ev.t_s:g} s is outside the horizon "
                             f"[{t0:g}, {t_end:g}] s", kind=ev.kind, element=str(ev.element), source="events")


def _schedule_of(
    c: CompressorControl | Sequence[tuple[float, CompressorControl]],
) -> list[tuple[float, CompressorControl]]:
    if isinstance(c, CompressorControl):
        return [(-math.inf, c)]
    out = sorted(((float(t), cc) for t, cc in c), key=lambda tc: tc[0])
    if not out:
        raise InputError("empty compressor schedule", kind="compressor")
    return [(-math.inf, out[0][1]), *out[1:]]


class _SeriesBank:
    """Many time series evaluated at once (padded arrays instead of one np.interp call per series)."""

    def __init__(self, items: list[tuple[int, TimeSeries]]) -> None:
        self.idx = np.array([i for i, _ in items], dtype=np.int64)
        self.series = [ts for _, ts in items]
        n = len(items)
        width = max((len(ts.t_s) for _, ts in items), default=1)
        self.T = np.full((n, width), np.inf)
        self.V = np.zeros((n, width))
        self.last = np.array([len(ts.t_s) - 1 for _, ts in items], dtype=np.int64)
        self.linear = np.array([ts.interp == "linear" for _, ts in items], dtype=bool)
        for r, (_, ts) in enumerate(items):
            m = len(ts.t_s)
            self.T[r, :m] = ts.t_s
            self.V[r, :m] = ts.value
            self.V[r, m:] = ts.value[-1]
        self.rows = np.arange(n)

    def __call__(self, t: float) -> F64:
        """Values at t: linear between points (or the previous point), held constant outside."""
        k = np.sum(t >= self.T, axis=1) - 1
        before = k < 0
        k0 = np.clip(k, 0, self.last)
        k1 = np.minimum(k0 + 1, self.last)
        t0, t1 = self.T[self.rows, k0], self.T[self.rows, k1]
        v0, v1 = self.V[self.rows, k0], self.V[self.rows, k1]
        span = t1 - t0
        w = np.where(self.linear & (span > 0), (t - t0) / np.where(span > 0, span, 1.0), 0.0)
        out = v0 + np.clip(w, 0.0, 1.0) * (v1 - v0)
        return np.where(before, self.V[:, 0], out)


class ControlSchedule:
    """The :class:`Controls` of a grid at any time, from the network's own values plus boundary conditions."""

    def __init__(self, grid: Grid, bc: BoundaryConditions) -> None:
        net = grid.net
        self.grid = grid
        self.bc = bc
        self._arc_pos = {int(a): i for i, a in enumerate(grid.other_arcs)}
        self._sup = {str(s): i for i, s in enumerate(net.supply.ids)}
        self._dem = {str(d): i for i, d in enumerate(net.demand.ids)}
        self._base_mode, self._base_value = _base_modes(net, grid)
        self._comp = {net.arc_index(str(k)): _schedule_of(v) for k, v in bc.compressor.items()}
        self._cv = {net.arc_index(str(k)): _series(v) for k, v in bc.control_valve_p_set_Pa.items()}
        for a, sched in self._comp.items():
            for _, cc in sched:
                if cc.mode in ("ratio", "discharge", "suction", "flow", "power") and isinstance(cc.value, float) \
                        and not math.isfinite(cc.value):
                    raise InputError(f"mode {cc.mode!r} needs a set-point value", kind="compressor",
                                     element=str(net.arc_ids[a]))
        self._bank_sp = _SeriesBank([(self._sup[str(k)], _series(v)) for k, v in bc.supply_pressure_Pa.items()])
        self._bank_sf = _SeriesBank([(self._sup[str(k)], _series(v)) for k, v in bc.supply_flow_kg_s.items()])
        self._bank_d = _SeriesBank([(self._dem[str(k)], _series(v)) for k, v in bc.demand_flow_kg_s.items()])
        series = [ts for bank in (self._bank_sp, self._bank_sf, self._bank_d) for ts in bank.series]
        series += list(self._cv.values())
        series += [_series(cc.value) for sched in self._comp.values() for _, cc in sched
                   if not (isinstance(cc.value, float) and math.isnan(cc.value))]
        self._static = all(len(ts.t_s) == 1 for ts in series)  # inputs change only at events
        self._memo: dict[tuple[bool, ...], Controls] = {}
        bad = np.isnan(self._base_value) & np.isin(self._base_mode, [ArcMode.FLOW, ArcMode.POWER])
        for i in np.flatnonzero(bad):
            a = int(grid.other_arcs[i])
            if a not in self._comp:
                raise InputError("mode 'flow' or 'power' without its set point (flow_set_kg_s, power_set_MW) needs "
                                 "a CompressorControl in the boundary conditions", kind="compressor",
                                 element=str(net.arc_ids[a]))

    def at(self, t: float) -> Controls:
        """Controls in force at time t [s] (events strictly before t have acted). Between event times the
        controls of inputs without time series are the same object (computed once)."""
        if not self._static:
            return self._build(t)
        eps = 1e-9 * max(1.0, abs(t))
        key = (tuple(ev.t_s < t - eps for ev in self.bc.events)
               + tuple(t <= ev.until_s + eps for ev in self.bc.events if isinstance(ev, SupplyCut))
               + tuple(ts <= t for sched in self._comp.values() for ts, _ in sched))
        u = self._memo.get(key)
        if u is None:
            if len(self._memo) > 256:
                self._memo.clear()
            u = self._memo[key] = self._build(t)
        return u

    def _build(self, t: float) -> Controls:
        net = self.grid.net
        bc = self.bc
        supply_p = np.array(net.supply.p_set, dtype=float)
        supply_flow = np.array(net.supply.flow, dtype=float)
        supply_on = np.array(net.supply.active, dtype=bool)
        demand = np.where(net.demand.active, net.demand.flow, 0.0)
        mode = self._base_mode.copy()
        value = self._base_value.copy()
        pipe_open = np.array(net.arc_active[net.pipe.arc], dtype=bool)
        for target, bank in ((supply_p, self._bank_sp), (supply_flow, self._bank_sf), (demand, self._bank_d)):
            if bank.idx.size:
                target[bank.idx] = bank(t)
        for a, sched in self._comp.items():
            cc = sched[0][1]
            for ts, c in sched:
                if ts <= t:
                    cc = c
            i = self._arc_pos[a]
            mode[i], value[i] = _compressor_mode(cc, t)
        for a, s in self._cv.items():
            i = self._arc_pos[a]
            if mode[i] == ArcMode.REGULATOR:
                value[i] = s(t)
        eps = 1e-9 * max(1.0, abs(t))
        for ev in sorted(bc.events, key=lambda e: e.t_s):
            if not ev.t_s < t - eps:
                continue
            if isinstance(ev, StationTrip):
                i = self._arc_pos[net.arc_index(ev.element)]
                mode[i], value[i] = (ArcMode.LINK if ev.bypass else ArcMode.CLOSED), math.nan
            elif isinstance(ev, ValveClose | ValveOpen):
                i = self._arc_pos[net.arc_index(ev.element)]
                mode[i] = ArcMode.CLOSED if isinstance(ev, ValveClose) else ArcMode.LINK
            elif isinstance(ev, SupplyCut):
                if t <= ev.until_s + eps:
                    supply_on[self._sup[ev.element]] = False
            elif isinstance(ev, DemandStep):
                demand[self._dem[ev.element]] = ev.flow_kg_s
        return Controls(supply_p=supply_p, supply_on=supply_on, supply_flow=supply_flow, demand_flow=demand,
                        arc_mode=mode, arc_value=value, pipe_open=pipe_open)

    def event_times(self) -> list[float]:
        """Times where inputs change abruptly (events, starts and ends of supply cuts)."""
        out = [ev.t_s for ev in self.bc.events]
        out += [ev.until_s for ev in self.bc.events if isinstance(ev, SupplyCut) and math.isfinite(ev.until_s)]
        return out


def _compressor_mode(cc: CompressorControl, t: float) -> tuple[int, float]:
    v = _series(cc.value)(t) if not (isinstance(cc.value, float) and math.isnan(cc.value)) else math.nan
    return {
        "ratio": (ArcMode.RATIO, v),
        "discharge": (ArcMode.P_TO, v),
        "suction": (ArcMode.P_FROM, v),
        "flow": (ArcMode.FLOW, v),
        "power": (ArcMode.POWER, v),
        "bypass": (ArcMode.LINK, math.nan),
        "off": (ArcMode.CLOSED, math.nan),
    }[cc.mode]


def _base_modes(net: CompiledNetwork, grid: Grid) -> tuple[NDArray[np.int64], F64]:
    """The mode and set point of every non-pipe arc as the network states them."""
    oa = grid.other_arcs
    mode = np.full(len(oa), ArcMode.LINK, dtype=np.int64)
    value = np.full(len(oa), math.nan)
    pos = {int(a): i for i, a in enumerate(oa)}
    for a in net.resistor.arc:
        mode[pos[int(a)]] = ArcMode.RESISTOR
    cvb = net.control_valve
    for k, a in enumerate(cvb.arc):
        m = CV_MODES[int(cvb.mode[k])]
        i = pos[int(a)]
        if m == "set_point":
            mode[i], value[i] = ArcMode.REGULATOR, cvb.p_set[k]
        elif m == "closed":
            mode[i] = ArcMode.CLOSED
    csb = net.compressor
    for k, a in enumerate(csb.arc):
        m = CS_MODES[int(csb.mode[k])]
        i = pos[int(a)]
        if m == "flow":
            mode[i], value[i] = ArcMode.FLOW, float(csb.flow_set[k])
        elif m == "power":
            mode[i], value[i] = ArcMode.POWER, float(csb.power_set[k])
        else:
            mode[i], value[i] = _compressor_mode(
                CompressorControl(m, float(csb.ratio[k] if m == "ratio" else csb.p_set[k])), 0.0)
    mode[net.arc_kind[oa] == ARC_KINDS.index("check_valve")] = ArcMode.CHECK
    closed = ~net.arc_active[oa] | ~net.valve_open[oa]
    mode[closed] = ArcMode.CLOSED
    return mode, value


# --- files ------------------------------------------------------------------------------------------
_TIME_KEYS = {"t_s": 1.0, "t_min": 60.0, "t_h": 3600.0}


def _time(d: Mapping[str, Any], where: str, prefix: str = "t") -> float:
    keys = {f"{prefix}_s": 1.0, f"{prefix}_min": 60.0, f"{prefix}_h": 3600.0}
    found = [(k, f) for k, f in keys.items() if k in d]
    if len(found) != 1:
        raise InputError(f"give exactly one of {sorted(keys)}", source=where)
    k, f = found[0]
    return float(d[k]) * f


def load_events(path: str | Path) -> BoundaryConditions:
    """Read boundary conditions and events from a YAML (``.yaml``/``.yml``) or TOML (``.toml``) file.

    Layout (SI unless the key says otherwise)::

        series:
          - {kind: demand, element: d1, quantity: flow_kg_s, t_h: [0, 6, 12], value: [10, 30, 10]}
          - {kind: supply, element: s1, quantity: pressure_bar, t_s: [0, 3600], value: [70, 65]}
        events:
          - {type: station_trip, element: cs1, t_h: 2}
          - {type: supply_cut, element: border, t_h: 0, until_h: 24}
          - {type: demand_step, element: d1, t_min: 30, flow_kg_s: 50}
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text) or {}
    elif p.suffix.lower() == ".toml":
        import tomllib

        data = tomllib.loads(text)
    else:
        raise InputError(f"events file must be .yaml, .yml or .toml, got {p.suffix!r}", source=str(p))
    return bc_from_dict(data, source=str(p))


def bc_from_dict(data: Mapping[str, Any], *, source: str = "events") -> BoundaryConditions:
    """Boundary conditions from plain data (the layout of :func:`load_events`)."""
    unknown = set(data) - {"series", "events"}
    if unknown:
        raise InputError(f"unknown top-level key(s) {sorted(unknown)}; allowed: series, events", source=source)
    sp_: dict[str, Series] = {}
    sf: dict[str, Series] = {}
    df: dict[str, Series] = {}
    cv: dict[str, Series] = {}
    quantities = {("supply", "pressure_Pa"): (sp_, 1.0), ("supply", "pressure_bar"): (sp_, 1e5),
                  ("supply", "flow_kg_s"): (sf, 1.0), ("demand", "flow_kg_s"): (df, 1.0),
                  ("control_valve", "p_set_Pa"): (cv, 1.0), ("control_valve", "p_set_bar"): (cv, 1e5)}
    for i, s in enumerate(data.get("series", []) or []):
        where = f"{source}: series[{i}]"
        key = (s.get("kind"), s.get("quantity"))
        if key not in quantities:
            raise InputError(f"unknown series kind/quantity {key}; allowed: {sorted(quantities)}", source=where)
        tkeys = [k for k in _TIME_KEYS if k in s]
        if len(tkeys) != 1 or "value" not in s or "element" not in s:
            raise InputError("a series needs element, value and exactly one of t_s, t_min, t_h", source=where)
        target, factor = quantities[key]
        t = np.asarray(s[tkeys[0]], dtype=float) * _TIME_KEYS[tkeys[0]]
        target[str(s["element"])] = TimeSeries(t, np.asarray(s["value"], dtype=float) * factor,
                                               s.get("interp", "linear"))
    events: list[Event] = []
    for i, e in enumerate(data.get("events", []) or []):
        where = f"{source}: events[{i}]"
        typ = e.get("type")
        if typ not in EVENT_TYPES:
            raise InputError(f"unknown event type {typ!r}; allowed: {sorted(EVENT_TYPES)}", source=where)
        if "element" not in e:
            raise InputError("event needs an element", source=where)
        kw: dict[str, Any] = {"t_s": _time(e, where), "element": str(e["element"])}
        if typ == "supply_cut" and any(k.startswith("until_") for k in e):
            kw["until_s"] = _time(e, where, "until")
        if typ == "demand_step":
            if "flow_kg_s" not in e:
                raise InputError("demand_step needs flow_kg_s", source=where)
            kw["flow_kg_s"] = float(e["flow_kg_s"])
        if typ == "station_trip":
            kw["bypass"] = bool(e.get("bypass", False))
        events.append(EVENT_TYPES[typ](**kw))
    return BoundaryConditions(supply_pressure_Pa=sp_, supply_flow_kg_s=sf, demand_flow_kg_s=df,
                              control_valve_p_set_Pa=cv, events=tuple(events))
