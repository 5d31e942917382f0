"""Scenarios as immutable deltas on a :class:`~gasgrid.model.compiled.CompiledNetwork`.

Contract: every delta is a small frozen, picklable dataclass with ``apply(compiled) -> CompiledNetwork``
that returns a *new* compiled network through ``with_`` (the input is never mutated). A :class:`Scenario` is
a name plus a tuple of deltas applied in order; a sweep is a list of scenarios. Deltas name elements by id,
so the same scenario can be shipped to a worker and applied to that worker's copy of the base network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from gasgrid.components import ARC_KINDS
from gasgrid.components.compressor import MODES as CS_MODES
from gasgrid.components.control_valve import MODES as CV_MODES
from gasgrid.errors import InputError
from gasgrid.model.compiled import CompiledNetwork

OUTAGE_KINDS: tuple[str, ...] = (*ARC_KINDS, "supply")


class Delta(Protocol):
    """Anything with ``apply(compiled) -> compiled``."""

    def apply(self, net: CompiledNetwork) -> CompiledNetwork: ...


def _set(a: np.ndarray, idx: object, value: object) -> np.ndarray:
    out = np.array(a, copy=True)
    out[idx] = value
    return out


def _supply_index(net: CompiledNetwork, supply: str) -> int:
    hit = np.flatnonzero(net.supply.ids == supply)
    if not len(hit):
        raise InputError("unknown supply", kind="supply", element=supply)
    return int(hit[0])


@dataclass(frozen=True)
class Outage:
    """Take one element out of service.

    Attributes:
        kind: an arc kind (``pipe``, ``short_pipe``, ``valve``, ``resistor``, ``control_valve``,
            ``compressor``, ``check_valve``) or ``supply``.
        element: the element id.
        bypass: for a compressor station: the units trip but gas flows through the station's bypass (the
            usual meaning of a station outage); otherwise the element carries no flow at all.
    """

    kind: str
    element: str
    bypass: bool = False

    def __post_init__(self) -> None:
        if self.kind not in OUTAGE_KINDS:
            raise InputError(f"kind must be one of {OUTAGE_KINDS}, got {self.kind!r}", kind="Outage",
                             field="kind")
        if self.bypass and self.kind != "compressor":
            raise InputError("bypass applies to compressor stations only", kind="Outage", field="bypass")

    def apply(self, net: CompiledNetwork) -> CompiledNetwork:
        if self.bypass:
            return SetPoint(self.element, "bypass").apply(net)
        if self.kind == "supply":
            k = _supply_index(net, self.element)
            return net.with_(supply=replace(net.supply, active=_set(net.supply.active, k, False)))
        a = net.arc_index(self.element)
        if ARC_KINDS[net.arc_kind[a]] != self.kind:
            raise InputError(f"is a {ARC_KINDS[net.arc_kind[a]]}, not a {self.kind}", kind="Outage",
                             element=self.element)
        return net.with_(arc_active=_set(net.arc_active, a, False))


@dataclass(frozen=True)
class DemandScale:
    """Scale withdrawals by ``factor`` (all demands, or those at the given node ids).

    Only positive withdrawals are scaled: negative demands (injections, as GasLib writes some entries) keep
    their value, so that scaling means "more load", not "more load and more feed-in".
    """

    factor: float
    nodes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.factor) or self.factor < 0:
            raise InputError(f"must be finite and >= 0, got {self.factor!r}", kind="DemandScale", field="factor")
        if self.nodes is not None:
            object.__setattr__(self, "nodes", tuple(str(n) for n in self.nodes))

    def apply(self, net: CompiledNetwork) -> CompiledNetwork:
        d = net.demand
        mask = d.flow > 0
        if self.nodes is not None:
            idx = [net.node_index(n) for n in self.nodes]
            mask &= np.isin(d.node, idx)
        flow = np.where(mask, d.flow * self.factor, d.flow)
        return net.with_(demand=replace(d, flow=flow))


@dataclass(frozen=True)
class SupplyChange:
    """Change one supply: a fixed injection (kg/s), a fixed pressure (bar absolute) and/or its service state.

    Giving ``flow`` makes the supply a fixed-flow entry; giving ``p_bar`` makes it a pressure reference.
    """

    supply: str
    flow: float | None = None  # kg/s
    p_bar: float | None = None  # bar (absolute)
    in_service: bool | None = None

    def __post_init__(self) -> None:
        if self.flow is not None and self.p_bar is not None:
            raise InputError("give flow or p_bar, not both", kind="SupplyChange", element=self.supply)
        if self.p_bar is not None and not self.p_bar > 0:
            raise InputError(f"must be > 0 bar, got {self.p_bar!r}", kind="SupplyChange", field="p_bar")

    def apply(self, net: CompiledNetwork) -> CompiledNetwork:
        s = net.supply
        k = _supply_index(net, self.supply)
        changes: dict[str, np.ndarray] = {}
        if self.flow is not None:
            changes["flow"] = _set(s.flow, k, float(self.flow))
            changes["fixed_pressure"] = _set(s.fixed_pressure, k, False)
        if self.p_bar is not None:
            changes["p_set"] = _set(s.p_set, k, float(self.p_bar) * 1e5)
            changes["fixed_pressure"] = _set(s.fixed_pressure, k, True)
        if self.in_service is not None:
            changes["active"] = _set(s.active, k, bool(self.in_service))
        return net.with_(supply=replace(s, **changes))


@dataclass(frozen=True)
class SetPoint:
    """Change the control mode and set point of a compressor station or regulator.

    ``value`` units by mode: discharge/suction/set_point bar (absolute), ratio -, flow kg/s, power MW (shaft);
    ignored for bypass/off/open/closed.
    """

    element: str
    mode: str
    value: float = float("nan")

    def apply(self, net: CompiledNetwork) -> CompiledNetwork:
        a = net.arc_index(self.element)
        kind = ARC_KINDS[net.arc_kind[a]]
        if kind == "compressor":
            if self.mode not in CS_MODES:
                raise InputError(f"mode must be one of {CS_MODES}", kind="SetPoint", element=self.element)
            cs = net.compressor
            k = int(np.flatnonzero(cs.arc == a)[0])
            ch: dict[str, np.ndarray] = {"mode": _set(cs.mode, k, CS_MODES.index(self.mode))}
            field = {"discharge": "p_set", "suction": "p_set", "ratio": "ratio", "flow": "flow_set",
                     "power": "power_set"}.get(self.mode)
            if field is not None:
                scale = {"p_set": 1e5, "power_set": 1e6}.get(field, 1.0)
                ch[field] = _set(getattr(cs, field), k, self.value * scale)
            return net.with_(compressor=replace(cs, **ch))
        if kind == "control_valve":
            if self.mode not in CV_MODES:
                raise InputError(f"mode must be one of {CV_MODES}", kind="SetPoint", element=self.element)
            cv = net.control_valve
            k = int(np.flatnonzero(cv.arc == a)[0])
            ch = {"mode": _set(cv.mode, k, CV_MODES.index(self.mode))}
            if self.mode == "set_point":
                ch["p_set"] = _set(cv.p_set, k, self.value * 1e5)
            return net.with_(control_valve=replace(cv, **ch))
        raise InputError(f"is a {kind}; set points apply to compressors and control valves", kind="SetPoint",
                         element=self.element)


@dataclass(frozen=True)
class Scenario:
    """A named list of deltas, applied in order.

    Attributes:
        name: unique scenario name (the key under which a sweep stores and resumes its record).
        deltas: the deltas.
    """

    name: str
    deltas: tuple[Delta, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "deltas", tuple(self.deltas))

    def apply(self, net: CompiledNetwork) -> CompiledNetwork:
        for d in self.deltas:
            net = d.apply(net)
        return net

    @property
    def kind(self) -> str:
        """Kind of the outaged element(s) ("+"-joined if several), or "" for a scenario without outages."""
        kinds = dict.fromkeys(d.kind for d in self.deltas if isinstance(d, Outage))
        return "+".join(kinds)

    @property
    def element(self) -> str:
        """Id(s) of the outaged element(s), "+"-joined."""
        return "+".join(d.element for d in self.deltas if isinstance(d, Outage))


def n_minus_1_scenarios(
    net: CompiledNetwork,
    *,
    kinds: tuple[str, ...] = ("pipe", "compressor", "control_valve", "supply"),
    elements: tuple[str, ...] | None = None,
    include_inactive: bool = False,
    station_bypass: bool = True,
) -> list[Scenario]:
    """One outage scenario per in-service element of the given kinds (or per listed element id).

    Scenario names are ``"<kind>:<id>"``. Elements already out of service are skipped unless
    ``include_inactive`` (their outage changes nothing). With ``station_bypass`` a station outage means its
    units trip and gas flows through its bypass; without, the station carries no flow.
    """
    bad = [k for k in kinds if k not in OUTAGE_KINDS]
    if bad:
        raise InputError(f"unknown kind(s) {bad}; choose from {OUTAGE_KINDS}", kind="n_minus_1_scenarios",
                         field="kinds")
    wanted = None if elements is None else {str(e) for e in elements}
    out: list[Scenario] = []
    for kind in kinds:
        if kind == "supply":
            ids, active = net.supply.ids, net.supply.active
        else:
            sel = net.arc_kind == ARC_KINDS.index(kind)
            ids, active = net.arc_ids[sel], net.arc_active[sel]
        for e, on in zip(ids, active, strict=True):
            if (wanted is not None and str(e) not in wanted) or (not on and not include_inactive):
                continue
            bypass = station_bypass and kind == "compressor"
            out.append(Scenario(f"{kind}:{e}", (Outage(kind, str(e), bypass=bypass),)))
    if wanted is not None:
        found = {s.element for s in out}
        missing = sorted(wanted - found)
        if missing:
            raise InputError(f"not found among in-service elements of kinds {kinds}: {missing[:5]}",
                             kind="n_minus_1_scenarios", field="elements")
    return out


__all__ = ["OUTAGE_KINDS", "DemandScale", "Outage", "Scenario", "SetPoint", "SupplyChange", "n_minus_1_scenarios"]
