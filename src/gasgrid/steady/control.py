"""Station and regulator controllers: an outer active-set loop around the fixed-mode Newton solve.

Contract: each compressor station runs on its set point (discharge or suction pressure, ratio, throughput,
shaft power) unless a limit binds (max/min ratio, max discharge pressure, min suction pressure, max power,
max throughput): then it runs on that limit (override), as a station controller's min/max selector does.
A station that cannot lift (its set point is below its suction pressure) or would see reverse flow is
bypassed automatically. Regulators hold their outlet set point unless their inlet is below it (wide open),
their minimum inlet pressure or maximum flow binds, or the flow would reverse (they close, and the result
says so). Check valves close against reverse flow. Fuel gas of gas-turbine drivers is withdrawn at the
suction node and iterated to a fixed point, so it closes the mass balance.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.components.compressor import MODES as CS_MODES
from gasgrid.components.control_valve import MODES as CV_MODES
from gasgrid.errors import TopologyError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.physics.compressor import lower_heating_value, station_power
from gasgrid.steady.assemble import ArcSetPoints
from gasgrid.steady.options import SteadyOptions
from gasgrid.steady.result import SteadyResult, SteadyStatus
from gasgrid.steady.system import Behaviour, arc_behaviour
from gasgrid.units import Reference

F64 = NDArray[np.float64]
TOL = 1e-9  # relative tolerance of limit checks

_BEH = {"discharge": Behaviour.SET_TO, "suction": Behaviour.SET_FROM, "ratio": Behaviour.RATIO,
        "flow": Behaviour.FLOW, "power": Behaviour.POWER, "bypass": Behaviour.ZERO, "off": Behaviour.REMOVED}


@dataclass
class _Station:
    mode: str  # active controlled quantity (or bypass/off)
    value: float  # its target, SI
    limit: str = ""  # binding limit ("" = set point governs), or the reason for bypass
    override: str = ""  # "cap" or "floor" when a limit governs
    frozen: str = ""  # a limit that could not be enforced (reported as a violation)


@dataclass
class _Valve:
    state: str  # regulating, wide_open, closed_reverse, inlet_limit, flow_limit, open, closed
    frozen: bool = False  # a limit that could not be enforced (reported as a violation)


@dataclass
class _Loop:
    stations: list[_Station]
    valves: list[_Valve]
    check_open: NDArray[np.bool_]
    fuel: F64 = field(default_factory=lambda: np.zeros(0))
    ids_cs: tuple[str, ...] = ()
    ids_cv: tuple[str, ...] = ()
    eff: F64 = field(default_factory=lambda: np.zeros(0))  # station efficiency used (constant or from maps)
    eff_source: tuple[str, ...] = ()


def solve_with_controllers(net: CompiledNetwork, opts: SteadyOptions, initial: SteadyResult | None) -> SteadyResult:
    from gasgrid.steady.solver import arc_set_points, solve_fixed_modes

    cs, cv = net.compressor, net.control_valve
    loop = _Loop(
        stations=[_initial_station(net, k) for k in range(len(cs))],
        valves=[_Valve("regulating" if CV_MODES[m] == "set_point" else CV_MODES[m]) for m in cv.mode],
        check_open=np.ones(net.n_arcs, dtype=bool),
        fuel=np.zeros(len(cs)),
        ids_cs=tuple(str(i) for i in net.arc_ids[cs.arc]),
        ids_cv=tuple(str(i) for i in net.arc_ids[cv.arc]),
        eff=cs.efficiency.copy(),
        eff_source=tuple("constant" for _ in range(len(cs))),
    )
    base_sets = arc_set_points(net)
    base = net
    result: SteadyResult | None = None
    prev = initial
    seen: set[tuple[object, ...]] = set()
    newton_total = 0
    notes: list[str] = []
    good: tuple[_Loop, SteadyResult] | None = None  # last converged (modes, result) pair
    for it in range(1, opts.max_control_iter + 1):
        used = copy.deepcopy(loop)
        net = _with_efficiency(base, used)
        b, sets = _behaviour_and_sets(net, used, base_sets)
        extra = np.zeros(net.n_nodes)
        np.add.at(extra, net.arc_from[cs.arc], used.fuel)
        try:
            result = solve_fixed_modes(net, opts, prev, behaviour=b, sets=sets, extra_withdrawal=extra)
        except TopologyError:
            if good is None:
                raise
            # the last switch cut off part of the network (e.g. a regulator closing against reverse flow
            # isolates an entry): keep the previous modes for what changed and report the limits as violated
            loop = _freeze_changes(good[0], used, notes)
            result = good[1]
            continue
        newton_total += result.iterations
        result.control_iterations = it
        if result.status is SteadyStatus.NOT_CONVERGED:
            if good is None:
                loop = used
                break
            # the last mode change made the problem unsolvable (e.g. a suction limit in a chain with fixed
            # demand): keep the previous modes for the elements that changed and report their limits as violated
            loop = _freeze_changes(good[0], used, notes)
            result = good[1]
            continue
        if result.status is SteadyStatus.INFEASIBLE:
            # limits only ever take compression away, so only switches that give pressure back can restore a
            # state: bypassing stations whose set point is below their suction, opening starved regulators
            if not _relieve(net, loop, result):
                loop = used
                break
            prev = None
            continue
        prev = result
        good = (used, result)
        changed = _update_valves(net, loop, result) | _update_stations(net, loop, result, opts)
        fuel_new = _station_table(net, loop, result).fuel_kg_s.to_numpy()
        fuel_moved = np.max(np.abs(fuel_new - loop.fuel), initial=0.0) > 1e-13 * max(result.throughput_kg_s, 1.0)
        loop.fuel = fuel_new
        eff_new, loop.eff_source = _map_efficiencies(base, loop, result)
        fuel_moved |= bool(np.max(np.abs(eff_new - loop.eff), initial=0.0) > 1e-12)
        loop.eff = eff_new
        if not changed and not fuel_moved:
            loop = used
            loop.fuel = fuel_new
            break
        key = _signature(loop)
        if changed and key in seen:
            notes.append("controller modes cycled; the last consistent set of modes is reported")
            loop = used
            break
        seen.add(key)
    else:
        notes.append(f"control modes still changing after {opts.max_control_iter} passes")
        if good is not None:
            loop, result = good
    assert result is not None
    net = _with_efficiency(base, loop)
    # the reported modes are the ones the reported state was solved with
    loop.fuel = _station_table(net, loop, result).fuel_kg_s.to_numpy() if good is not None else loop.fuel
    result.iterations = newton_total
    result.compressors = _station_table(net, loop, result)
    result.control_valves = _valve_table(net, loop, result)
    _limit_violations(net, loop, result, opts)
    _annotate(result, notes)
    return result


def _with_efficiency(net: CompiledNetwork, loop: _Loop) -> CompiledNetwork:
    """The network with the station efficiencies of this pass (from maps where available)."""
    if net.station_maps is None or np.array_equal(loop.eff, net.compressor.efficiency):
        return net
    from dataclasses import replace

    return net.with_(compressor=replace(net.compressor, efficiency=loop.eff.copy()))


def _map_efficiencies(net: CompiledNetwork, loop: _Loop, result: SteadyResult) -> tuple[F64, tuple[str, ...]]:
    """Adiabatic efficiency from the stations' characteristic maps at their operating point (suction volume
    flow, isentropic head), where the data has maps and the point lies on them; the constant otherwise."""
    cs = net.compressor
    eff = cs.efficiency.copy()
    if net.station_maps is None or len(cs) == 0:
        return eff, loop.eff_source
    from gasgrid.physics.compressor_maps import map_efficiency

    ps, pd, q = _ends(net, result, cs.arc)
    source = []
    for k, sid in enumerate(loop.ids_cs):
        data = net.station_maps.get(sid)
        st = loop.stations[k]
        if data is None:
            source.append("constant")
            continue
        if st.mode in ("bypass", "off") or not (q[k] > 0 and 0 < ps[k] < pd[k]):
            source.append("map (idle)")
            continue
        T = cs.suction_temperature[k]
        head = station_power(np.array([q[k]]), np.array([ps[k]]), np.array([pd[k]]), T_suction=np.array([T]),
                             efficiency=np.array([1.0]), polytropic=np.array([False]), electric=np.array([True]),
                             driver_efficiency=np.array([1.0]), gas=net.gas).head[0]
        eta = map_efficiency(data, float(q[k] / net.gas.density(ps[k], T)), float(head))
        if np.isfinite(eta):
            eff[k] = eta
            source.append("map")
        else:
            source.append("constant (operating point outside the map)")
    return eff, tuple(source)


def _freeze_changes(before: _Loop, after: _Loop, notes: list[str]) -> _Loop:
    """Return ``before`` with every element that changed in ``after`` frozen in its old mode."""
    out = copy.deepcopy(before)
    for k, (a, b) in enumerate(zip(before.stations, after.stations, strict=True)):
        if (a.mode, a.limit) != (b.mode, b.limit):
            out.stations[k].frozen = b.limit or b.mode
            notes.append(f"station {out.ids_cs[k]!r} could not switch to {b.mode} ({b.limit or 'set point'}): "
                         "the switch leaves the network without a solution; the breach is listed as a violation")
    for k, (a, b) in enumerate(zip(before.valves, after.valves, strict=True)):
        if a.state != b.state:
            out.valves[k].frozen = True
            notes.append(f"regulator {out.ids_cv[k]!r} could not switch to {b.state}: the switch leaves the network "
                         "without a solution; the breach is listed as a violation")
    return out


def _initial_station(net: CompiledNetwork, k: int) -> _Station:
    cs = net.compressor
    mode = CS_MODES[cs.mode[k]]
    value = {"discharge": cs.p_set[k], "suction": cs.p_set[k], "ratio": cs.ratio[k], "flow": cs.flow_set[k],
             "power": cs.power_set[k]}.get(mode, np.nan)
    return _Station(mode, float(value))


def _behaviour_and_sets(net: CompiledNetwork, loop: _Loop, base: ArcSetPoints) -> tuple[NDArray[np.int64], ArcSetPoints]:
    b = arc_behaviour(net).copy()
    pi_set, ratio2, q_set, power_set = (base.pi_set.copy(), base.ratio2.copy(), base.q_set.copy(),
                                        base.power_set.copy())
    cs = net.compressor
    for k, st in enumerate(loop.stations):
        a = cs.arc[k]
        if b[a] == Behaviour.REMOVED and not net.arc_active[a]:
            continue
        b[a] = _BEH[st.mode]
        if st.mode in ("discharge", "suction"):
            pi_set[a] = st.value**2
        elif st.mode == "ratio":
            ratio2[a] = st.value**2
        elif st.mode == "flow":
            q_set[a] = st.value
        elif st.mode == "power":
            power_set[a] = st.value
    cv = net.control_valve
    for k, v in enumerate(loop.valves):
        a = cv.arc[k]
        if not net.arc_active[a]:
            continue
        if v.state in ("regulating",):
            b[a] = Behaviour.SET_TO
        elif v.state in ("wide_open", "open"):
            b[a] = Behaviour.ZERO
        elif v.state in ("closed_reverse", "closed"):
            b[a] = Behaviour.REMOVED
        elif v.state == "inlet_limit":
            b[a] = Behaviour.SET_FROM
            pi_set[a] = cv.p_in_min[k] ** 2
        elif v.state == "flow_limit":
            b[a] = Behaviour.FLOW
            q_set[a] = cv.flow_max[k]
    is_check = net.arc_kind == ARC_KINDS.index("check_valve")
    b[is_check & ~loop.check_open & net.arc_active] = Behaviour.REMOVED
    return b, ArcSetPoints(pi_set=pi_set, ratio2=ratio2, q_set=q_set, power_set=power_set)


def _ends(net: CompiledNetwork, result: SteadyResult, arcs: NDArray[np.int64]) -> tuple[F64, F64, F64]:
    pi = result.node_pi if result.node_pi is not None else np.full(net.n_nodes, np.nan)
    p_from = np.sqrt(np.maximum(pi[net.arc_from[arcs]], 0.0))
    p_to = np.sqrt(np.maximum(pi[net.arc_to[arcs]], 0.0))
    q = result.arc_q[arcs] if result.arc_q is not None else np.zeros(len(arcs))
    return p_from, p_to, q


def _relieve(net: CompiledNetwork, loop: _Loop, result: SteadyResult) -> bool:
    """On an infeasible pass: bypass stations that act as pressure reducers and open regulators whose inlet is
    below their set point. Returns whether anything changed."""
    changed = False
    cs, cv = net.compressor, net.control_valve
    ps, pd, _ = _ends(net, result, cs.arc)
    for k, st in enumerate(loop.stations):
        if st.mode not in ("bypass", "off") and not st.frozen and ps[k] > 0 and pd[k] > 0 and pd[k] < ps[k] * (1 - TOL):
            loop.stations[k] = _Station("bypass", np.nan, "cannot lift: set point below suction pressure")
            changed = True
    pin, _, _ = _ends(net, result, cv.arc)
    for k, v in enumerate(loop.valves):
        if v.state == "regulating" and not v.frozen and 0 < pin[k] < cv.p_set[k] * (1 - TOL):
            v.state = "wide_open"
            changed = True
    return changed


def _update_valves(net: CompiledNetwork, loop: _Loop, result: SteadyResult) -> bool:
    changed = False
    cv = net.control_valve
    pin, pout, q = _ends(net, result, cv.arc)
    ftol = 1e-9 * max(result.throughput_kg_s, 1e-3)
    for k, v in enumerate(loop.valves):
        if CV_MODES[cv.mode[k]] != "set_point" or not net.arc_active[cv.arc[k]] or v.frozen:
            continue
        p_set = cv.p_set[k]
        new = v.state
        if v.state == "regulating":
            if q[k] < -ftol:
                new = "closed_reverse"
            elif pin[k] < p_set * (1 - TOL):
                new = "wide_open"
            elif np.isfinite(cv.p_in_min[k]) and pin[k] < cv.p_in_min[k] * (1 - TOL):
                new = "inlet_limit"
            elif np.isfinite(cv.flow_max[k]) and q[k] > cv.flow_max[k] * (1 + TOL):
                new = "flow_limit"
        elif v.state == "wide_open":
            if q[k] < -ftol:
                new = "closed_reverse"
            elif pout[k] > p_set * (1 + TOL):
                new = "regulating"
        elif v.state == "closed_reverse":
            # a pressure-reducing regulator reopens only when its outlet needs gas and its inlet can give it
            if pout[k] < p_set * (1 - TOL) and pin[k] > pout[k] * (1 + TOL):
                new = "regulating"
        elif v.state in ("inlet_limit", "flow_limit") and pout[k] > p_set * (1 + TOL):
            new = "regulating"
        if new != v.state:
            v.state = new
            changed = True
    # check valves
    is_check = np.flatnonzero((net.arc_kind == ARC_KINDS.index("check_valve")) & net.arc_active)
    if len(is_check):
        pf, pt, qc = _ends(net, result, is_check)
        for j, a in enumerate(is_check):
            if loop.check_open[a] and qc[j] < -ftol:
                loop.check_open[a] = False
                changed = True
            elif not loop.check_open[a] and pf[j] > pt[j] * (1 + TOL):
                loop.check_open[a] = True
                changed = True
    return changed


def _update_stations(net: CompiledNetwork, loop: _Loop, result: SteadyResult, opts: SteadyOptions) -> bool:
    cs = net.compressor
    ps, pd, q = _ends(net, result, cs.arc)
    table = _station_table(net, loop, result)
    power = table["power_shaft_MW"].to_numpy() * 1e6
    ftol = 1e-9 * max(result.throughput_kg_s, 1e-3)
    changed = False
    for k, st in enumerate(loop.stations):
        set_mode = CS_MODES[cs.mode[k]]
        if set_mode in ("bypass", "off") or not net.arc_active[cs.arc[k]] or st.frozen:
            continue
        set_value = _initial_station(net, k).value
        before = (st.mode, st.value, st.limit)
        if st.mode == "bypass":
            # re-engage when the set point asks for compression
            wants = {"discharge": ps[k] < set_value * (1 - TOL), "suction": ps[k] > set_value * (1 + TOL)}
            starved = np.isfinite(cs.p_suction_min[k]) and ps[k] < cs.p_suction_min[k] * (1 - TOL)
            if starved:
                # compressing would pull the suction further below its minimum: stay bypassed
                if st.limit != "p_suction_min":
                    loop.stations[k] = st = _Station("bypass", np.nan, "p_suction_min")
            elif wants.get(set_mode, q[k] > ftol):
                loop.stations[k] = st = _Station(set_mode, set_value)
        else:
            r = pd[k] / ps[k] if ps[k] > 0 else np.inf
            if q[k] < -ftol:
                loop.stations[k] = _Station("bypass", np.nan, "reverse flow")
            elif r < 1.0 - TOL:
                loop.stations[k] = _Station("bypass", np.nan, "cannot lift: set point below suction pressure")
            else:
                caps = []
                if np.isfinite(cs.ratio_max[k]):
                    caps.append((r / cs.ratio_max[k] - 1, "ratio_max", "ratio", cs.ratio_max[k]))
                if np.isfinite(cs.p_discharge_max[k]):
                    caps.append((pd[k] / cs.p_discharge_max[k] - 1, "p_discharge_max", "discharge",
                                 cs.p_discharge_max[k]))
                if np.isfinite(cs.p_suction_min[k]) and ps[k] > 0:
                    caps.append((cs.p_suction_min[k] / ps[k] - 1, "p_suction_min", "suction", cs.p_suction_min[k]))
                if np.isfinite(cs.power_max[k]):
                    caps.append((power[k] / cs.power_max[k] - 1, "power_max", "power", cs.power_max[k]))
                if np.isfinite(cs.flow_max[k]):
                    caps.append((q[k] / cs.flow_max[k] - 1, "flow_max", "flow", cs.flow_max[k]))
                worst = max(caps, default=None, key=lambda c: c[0])
                if worst is not None and worst[0] > TOL and worst[1] != st.limit:
                    loop.stations[k] = _Station(worst[2], float(worst[3]), worst[1], "cap")
                elif np.isfinite(cs.ratio_min[k]) and r < cs.ratio_min[k] * (1 - TOL) and st.limit != "ratio_min":
                    loop.stations[k] = _Station("ratio", float(cs.ratio_min[k]), "ratio_min", "floor")
                elif st.override:
                    # release the override once the set point asks for less (cap) or more (floor) effort
                    effort = {"discharge": pd[k] / set_value - 1, "suction": set_value / max(ps[k], 1.0) - 1,
                              "ratio": r / set_value - 1, "flow": q[k] / set_value - 1,
                              "power": power[k] / set_value - 1}[set_mode]
                    if (st.override == "cap" and effort > TOL) or (st.override == "floor" and effort < -TOL):
                        loop.stations[k] = _Station(set_mode, set_value)
        st = loop.stations[k]
        changed |= (st.mode, st.value, st.limit) != before and not (
            np.isnan(st.value) and np.isnan(before[1]) and st.mode == before[0] and st.limit == before[2])
    return changed


def _limit_violations(net: CompiledNetwork, loop: _Loop, result: SteadyResult, opts: SteadyOptions) -> None:
    """Station and regulator limits that the state breaks are bound violations (listed, never hidden)."""
    from gasgrid.steady.result import VIOLATION_COLUMNS, _v

    rows = []
    cs = result.compressors
    C = net.compressor
    for k, (sid, row) in enumerate(cs.iterrows()):
        if row["state"] == "bypass" and row["binding_limit"] == "p_suction_min":
            rows.append(_v("compressor", sid, "suction pressure", row["p_suction_bar"], C.p_suction_min[k] / 1e5,
                           row["p_suction_bar"] - C.p_suction_min[k] / 1e5, "bar",
                           "below minimum even without compression (station bypassed)"))
        if row["state"] != "active":
            continue
        if row["ratio"] < 1.0 - TOL:
            rows.append(_v("compressor", sid, "ratio", row["ratio"], 1.0, row["ratio"] - 1.0, "-",
                           "discharge below suction: the station cannot lift and cannot be bypassed here"))
        checks = [
            ("ratio", row["ratio"], C.ratio_max[k], 1, "-", "above maximum ratio"),
            ("discharge pressure", row["p_discharge_bar"], C.p_discharge_max[k] / 1e5, 1, "bar", "above maximum"),
            ("suction pressure", row["p_suction_bar"], C.p_suction_min[k] / 1e5, -1, "bar", "below minimum"),
            ("shaft power", row["power_shaft_MW"], C.power_max[k] / 1e6, 1, "MW", "above maximum"),
            ("throughput", row["flow_kg_s"], C.flow_max[k], 1, "kg/s", "above maximum"),
        ]
        for quantity, value, bound, sign, unit, text in checks:
            if np.isfinite(bound) and sign * (value - bound) > TOL * max(abs(bound), 1.0):
                rows.append(_v("compressor", sid, quantity, value, bound, -sign * (value - bound), unit, text))
    cv = result.control_valves
    V = net.control_valve
    for k, (vid, row) in enumerate(cv.iterrows()):
        if row["state"] in ("closed", "closed_reverse", "open"):
            continue
        if np.isfinite(V.p_in_min[k]) and row["p_in_bar"] < V.p_in_min[k] / 1e5 * (1 - TOL):
            rows.append(_v("control_valve", vid, "inlet pressure", row["p_in_bar"], V.p_in_min[k] / 1e5,
                           row["p_in_bar"] - V.p_in_min[k] / 1e5, "bar", "below minimum inlet pressure"))
        if np.isfinite(V.flow_max[k]) and row["flow_kg_s"] > V.flow_max[k] * (1 + TOL):
            rows.append(_v("control_valve", vid, "flow", row["flow_kg_s"], V.flow_max[k],
                           V.flow_max[k] - row["flow_kg_s"], "kg/s", "above maximum flow"))
    if rows:
        new = pd.DataFrame(rows, columns=VIOLATION_COLUMNS)
        frame = pd.concat([result.violations, new], ignore_index=True) if len(result.violations) else new
        result.violations = frame.sort_values("margin", kind="stable").reset_index(drop=True)
        if result.status in (SteadyStatus.SOLVED, SteadyStatus.VIOLATIONS):
            result.status = SteadyStatus.VIOLATIONS
            top = result.violations.iloc[0]
            result.message = (f"solved with {len(result.violations)} bound violation(s); worst: {top['kind']} "
                              f"{top['element']!r} {top['quantity']} {top['value']:.4g} {top['unit']} vs bound "
                              f"{top['bound']:.4g}.")


def _station_table(net: CompiledNetwork, loop: _Loop, result: SteadyResult) -> pd.DataFrame:
    cs = net.compressor
    ps, pd_, q = _ends(net, result, cs.arc)
    gas = net.gas
    compressing = np.array([s.mode not in ("bypass", "off") for s in loop.stations], dtype=bool) & net.arc_active[cs.arc]
    ok = compressing & (ps > 0) & (pd_ > 0)
    ps_safe = np.where(ok, ps, 1e5)
    pd_safe = np.where(ok, np.maximum(pd_, ps_safe), 1e5)
    st = station_power(
        np.where(ok, q, 0.0), ps_safe, pd_safe, T_suction=cs.suction_temperature, efficiency=cs.efficiency,
        polytropic=cs.polytropic, electric=cs.electric, driver_efficiency=cs.driver_efficiency, gas=gas,
    ) if len(cs) else None
    rho_n = gas.reference_density(Reference.NORMAL)
    z = np.zeros(len(cs))
    frame = pd.DataFrame(
        {
            "mode": [CS_MODES[m] for m in cs.mode],
            "active_mode": [s.mode for s in loop.stations],
            "binding_limit": [s.limit for s in loop.stations],
            "state": ["off" if (s.mode == "off" or not net.arc_active[cs.arc[k]]) else
                      "bypass" if s.mode == "bypass" else "active" for k, s in enumerate(loop.stations)],
            "p_suction_bar": ps / 1e5,
            "p_discharge_bar": pd_ / 1e5,
            "ratio": np.where(ps > 0, pd_ / np.where(ps > 0, ps, 1.0), np.nan),
            "flow_kg_s": q,
            "flow_Nm3_h": q / rho_n * 3600.0,
            "head_kJ_kg": st.head / 1e3 if st is not None else z,
            "efficiency": cs.efficiency,
            "efficiency_source": list(loop.eff_source) if len(loop.eff_source) == len(cs) else "constant",
            "power_shaft_MW": np.where(ok, st.power_shaft, 0.0) / 1e6 if st is not None else z,
            "power_driver_MW": np.where(ok, st.power_driver, 0.0) / 1e6 if st is not None else z,
            "electric_MW": np.where(ok, st.electric, 0.0) / 1e6 if st is not None else z,
            "fuel_kg_s": np.where(ok, st.fuel, 0.0) if st is not None else z,
            "power_max_MW": cs.power_max / 1e6,
            "driver": np.where(cs.electric, "electric", "gas_turbine"),
        },
        index=pd.Index(net.arc_ids[cs.arc], name="id"),
    )
    frame["fuel_Nm3_d"] = frame["fuel_kg_s"] / rho_n * 86_400.0
    frame.attrs["lhv_J_kg"], frame.attrs["lhv_source"] = lower_heating_value(gas)
    return frame


def _valve_table(net: CompiledNetwork, loop: _Loop, result: SteadyResult) -> pd.DataFrame:
    cv = net.control_valve
    pin, pout, q = _ends(net, result, cv.arc)
    return pd.DataFrame(
        {
            "mode": [CV_MODES[m] for m in cv.mode],
            "state": [v.state for v in loop.valves],
            "p_set_bar": cv.p_set / 1e5,
            "p_in_bar": pin / 1e5,
            "p_out_bar": pout / 1e5,
            "flow_kg_s": q,
        },
        index=pd.Index(net.arc_ids[cv.arc], name="id"),
    )


def _signature(loop: _Loop) -> tuple[object, ...]:
    return (tuple((s.mode, round(s.value, 6) if np.isfinite(s.value) else None, s.limit) for s in loop.stations),
            tuple(v.state for v in loop.valves), loop.check_open.tobytes())


def _annotate(result: SteadyResult, notes: list[str]) -> None:
    cs, cv = result.compressors, result.control_valves
    extra = []
    binding = cs[cs["binding_limit"] != ""] if len(cs) else cs
    if len(binding):
        items = ", ".join(f"{i} ({r.binding_limit})" for i, r in binding.head(5).iterrows())
        extra.append(f"stations at a limit or bypassed: {items}")
    if len(cv):
        rev = cv[cv["state"] == "closed_reverse"]
        if len(rev):
            extra.append(f"regulators closed against reverse flow: {', '.join(rev.index[:5])}")
    extra.extend(notes)
    if extra:
        result.message = result.message + " " + "; ".join(extra) + "."
    if notes and result.status in (SteadyStatus.SOLVED, SteadyStatus.VIOLATIONS):
        result.extra["control_notes"] = notes
