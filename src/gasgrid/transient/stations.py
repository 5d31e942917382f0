"""Station and regulator controllers of a transient run: limits, overrides, automatic bypass, fuel gas.

Contract: the boundary conditions give every element's *commanded* mode and set point at time t
(:class:`~gasgrid.transient.bc.ControlSchedule`); :class:`Controller` turns them into the modes the equations
use (:meth:`Controller.apply`) and, after each converged solve, checks the state against the limits
(:meth:`Controller.update`), with the semantics of the steady controller (:mod:`gasgrid.steady.control`):

* a compressing station runs on its set point unless a limit binds -- maximum ratio, maximum discharge
  pressure, minimum suction pressure, maximum shaft power, maximum throughput (caps) or minimum ratio (floor);
  then it runs on the worst-violated limit (override) until the set point asks for less effort (cap) or more
  (floor) again, and returns to the set point;
* a station that cannot lift (its set point is below its suction pressure) or sees reverse flow is bypassed;
  one that sees reverse flow while holding its minimum suction pressure cannot hold it and trips to bypass
  (``bypass_low_suction``). In transients the automatic bypass is the station's non-return bypass line
  (``ArcMode.CHECK``): forward flow passes without compression, reverse flow is blocked. (The steady controller
  uses a two-way bypass; in a transient a two-way bypass would refill a drawn-down suction pipe from the
  discharge side, which real stations' check valves prevent.) A bypassed station restarts when its set point
  asks for compression again and, after a low-suction or reverse-flow trip, once its suction pressure is
  ``restart_margin`` above its minimum (restart hysteresis; without it the station would chatter);
* a regulator holds its outlet set point (wide open below it, closed against reverse flow: the ``REGULATOR``
  row does both) unless its inlet falls below ``p_in_min`` (then it holds the inlet) or its flow exceeds
  ``flow_max`` (then it holds the flow), until its outlet rises above the set point; one that would need
  reverse flow to hold its inlet closes (``closed_low_inlet``) until its inlet is ``restart_margin`` above
  the minimum.

Switching happens inside a time step: the stepper re-solves the step with the new modes while a limit is
crossed by more than ``tol`` (relative), so limits hold at every step's end, not one step late.
Commanded bypass/off (schedules, :class:`~gasgrid.transient.bc.StationTrip`) always win over the controller.

Fuel gas of gas-turbine drivers, ``station_power(...).fuel`` [kg/s], is withdrawn at the suction node. It is
evaluated at the state at the start of each step (a lag of one step, tiny next to the flow) and applied as a
fixed withdrawal through the step, so the boundary integral counts exactly what the equations took out and
mass conservation holds to round-off.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numba
import numpy as np
from numpy.typing import NDArray

from gasgrid.transient._jit import JIT
from gasgrid.transient.system import ArcMode, Controls, System

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_COMPRESSING = (int(ArcMode.RATIO), int(ArcMode.P_TO), int(ArcMode.P_FROM), int(ArcMode.FLOW), int(ArcMode.POWER))


class StationCode(IntEnum):
    """What governs a compressor station (recorded per save time as ``compressor_mode``)."""

    SET_POINT = 0
    RATIO_MAX = 1
    P_DISCHARGE_MAX = 2
    P_SUCTION_MIN = 3
    POWER_MAX = 4
    FLOW_MAX = 5
    RATIO_MIN = 6
    BYPASS_CANNOT_LIFT = 7
    BYPASS_REVERSE_FLOW = 8
    BYPASS_LOW_SUCTION = 9
    BYPASS = 10  # commanded (schedule or trip with bypass)
    OFF = 11  # commanded (schedule or trip)


class RegulatorCode(IntEnum):
    """What governs a regulator (recorded per save time as ``control_valve_mode``)."""

    REGULATING = 0
    WIDE_OPEN = 1
    CLOSED_REVERSE = 2
    INLET_LIMIT = 3
    FLOW_LIMIT = 4
    OPEN = 5  # commanded
    CLOSED = 6  # commanded
    CLOSED_LOW_INLET = 7  # could not hold its minimum inlet pressure even at zero flow


def legend(codes: type[IntEnum]) -> str:
    """'0=set_point,1=ratio_max,...' for a code enum (the Dataset's ``legend`` attribute)."""
    return ",".join(f"{int(c)}={c.name.lower()}" for c in codes)


_BYPASSED = (StationCode.BYPASS_CANNOT_LIFT, StationCode.BYPASS_REVERSE_FLOW, StationCode.BYPASS_LOW_SUCTION)
_IS_BYPASSED = np.isin(np.arange(len(StationCode)), [int(c) for c in _BYPASSED])  # lookup by StationCode
_IS_COMPRESSING = np.isin(np.arange(len(ArcMode)), _COMPRESSING)  # lookup by ArcMode
_LIMIT_MODE = {StationCode.RATIO_MAX: ArcMode.RATIO, StationCode.P_DISCHARGE_MAX: ArcMode.P_TO,
               StationCode.P_SUCTION_MIN: ArcMode.P_FROM, StationCode.POWER_MAX: ArcMode.POWER,
               StationCode.FLOW_MAX: ArcMode.FLOW, StationCode.RATIO_MIN: ArcMode.RATIO}


class Controller:
    """Mode state of every compressor station and regulator of one run (mutable; owned by the stepper).

    Args:
        system: the equations (for the grid, the network's limits and the gas).
        enabled: apply limits (False: stations and regulators stay on their commanded modes, as before).
        tol: relative tolerance of every limit check.
        restart_margin: a station bypassed for low suction or reverse flow restarts only once its suction is
            this fraction above its minimum.
        fuel_gas: withdraw gas-turbine fuel at the suction nodes.
        flow_tol: flows below -flow_tol [kg/s] count as reverse.
    """

    def __init__(self, system: System, *, enabled: bool, tol: float, restart_margin: float, fuel_gas: bool,
                 flow_tol: float) -> None:
        g = system.grid
        net = g.net
        self.system = system
        self.enabled, self.tol, self.margin, self.fuel_gas, self.ftol = enabled, tol, restart_margin, fuel_gas, flow_tol
        self.cs_pos = np.searchsorted(g.other_arcs, net.compressor.arc).astype(np.int64)
        self.cv_pos = np.searchsorted(g.other_arcs, net.control_valve.arc).astype(np.int64)
        self.cs_code = np.zeros(len(self.cs_pos), dtype=np.int64)  # SET_POINT or an override / bypass reason
        self.cv_code = np.zeros(len(self.cv_pos), dtype=np.int64)  # REGULATING or a limit state (RegulatorCode)
        self.fuel_node = np.zeros(g.n_nodes)
        cs = net.compressor
        self._cs_from, self._cs_to = net.arc_from[cs.arc].astype(np.int64), net.arc_to[cs.arc].astype(np.int64)
        self._cs_q = (g.off_other + self.cs_pos).astype(np.int64)
        cv = net.control_valve
        self._cv_from, self._cv_to = net.arc_from[cv.arc].astype(np.int64), net.arc_to[cv.arc].astype(np.int64)
        self._cv_q = (g.off_other + self.cv_pos).astype(np.int64)
        self._cv_pin_min = np.asarray(cv.p_in_min, dtype=float)
        self._cv_flow_max = np.asarray(cv.flow_max, dtype=float)
        self._limit_value = {StationCode.RATIO_MAX: cs.ratio_max, StationCode.P_DISCHARGE_MAX: cs.p_discharge_max,
                             StationCode.P_SUCTION_MIN: cs.p_suction_min, StationCode.POWER_MAX: cs.power_max,
                             StationCode.FLOW_MAX: cs.flow_max, StationCode.RATIO_MIN: cs.ratio_min}
        self._fwd: tuple[F64, F64, F64] | None = None  # (state, power, fuel) of the last _forward_state
        self._cs_limits = np.ascontiguousarray(np.stack([cs.ratio_max, cs.p_discharge_max, cs.p_suction_min, cs.power_max,
                                                         cs.flow_max, cs.ratio_min]).astype(float).reshape(6, len(cs)))

    # --- modes ---------------------------------------------------------------------------------------
    def signature(self) -> bytes:
        """The modes of every station and regulator, hashable (to detect cycles within a step)."""
        return self.cs_code.tobytes() + self.cv_code.tobytes()

    def apply(self, u: Controls, x_fuel: F64 | None = None) -> Controls:
        """The controls the equations use: commanded modes with overrides, bypasses and (with ``x_fuel``, the
        state the fuel is evaluated at) the fuel withdrawal."""
        if not any_nonzero(self.cs_code, self.cv_code):  # no override: the commanded modes as they are
            return self._with_fuel(u, u.arc_mode, u.arc_value, x_fuel)
        mode, value = u.arc_mode.copy(), u.arc_value.copy()
        cv = self.system.grid.net.control_valve
        limit_value = self._limit_value
        for k in np.flatnonzero(self.cs_code):
            i = self.cs_pos[k]
            if int(mode[i]) not in _COMPRESSING:
                continue
            code = StationCode(int(self.cs_code[k]))
            if code in _BYPASSED:
                mode[i], value[i] = ArcMode.CHECK, math.nan
            else:
                mode[i], value[i] = _LIMIT_MODE[code], float(limit_value[code][k])
        for k in np.flatnonzero(self.cv_code):
            i = self.cv_pos[k]
            if mode[i] != ArcMode.REGULATOR:
                continue
            if self.cv_code[k] == RegulatorCode.INLET_LIMIT:
                mode[i], value[i] = ArcMode.P_FROM, float(cv.p_in_min[k])
            elif self.cv_code[k] == RegulatorCode.CLOSED_LOW_INLET:
                mode[i], value[i] = ArcMode.CLOSED, math.nan
            else:
                mode[i], value[i] = ArcMode.FLOW, float(cv.flow_max[k])
        return self._with_fuel(u, mode, value, x_fuel)

    def _with_fuel(self, u: Controls, mode: I64, value: F64, x_fuel: F64 | None) -> Controls:
        fuel = None
        if self.fuel_gas and len(self.cs_pos):
            if x_fuel is not None:
                self.fuel_node = self._fuel(x_fuel, mode)
            fuel = self.fuel_node
        return Controls(u.supply_p, u.supply_on, u.supply_flow, u.demand_flow, mode, value, u.pipe_open, fuel)

    def _fuel(self, x: F64, mode: I64) -> F64:
        """Fuel withdrawal per node [kg/s] of the stations compressing in state x under the given modes."""
        return node_fuel(self._forward_state(x)[1], mode, self.cs_pos, self._cs_from, self.system.grid.n_nodes)

    def station_state(self, x: F64, mode: I64) -> tuple[F64, F64]:
        """Shaft power [W] and fuel [kg/s] of every station (zero unless compressing forward under ``mode``)."""
        power, fuel = self._forward_state(x)
        on = _IS_COMPRESSING[mode[self.cs_pos]]
        return np.where(on, power, 0.0), np.where(on, fuel, 0.0)

    def _forward_state(self, x: F64) -> tuple[F64, F64]:
        """Power [W] and fuel [kg/s] of every station compressing forward in state x (zero otherwise). Remembered for
        the last state object: a step's solution is checked against the limits and then gives the next step's fuel
        (states are not modified once solved)."""
        if self._fwd is not None and self._fwd[0] is x:
            return self._fwd[1], self._fwd[2]
        st = self.system.stations.forward(x, self._cs_q, self._cs_from, self._cs_to)
        self._fwd = (x, st[0], st[1])
        return st[0], st[1]

    # --- limit checks --------------------------------------------------------------------------------
    def update(self, x: F64, u_cmd: Controls) -> bool:
        """Check the solved state x against every limit; switch modes. Returns whether any mode changed."""
        if not self.enabled:
            return False
        changed = False
        if len(self.cs_pos):
            # shaft power under the modes in force (update_stations zeroes it where they do not compress)
            changed = update_stations(self.cs_code, u_cmd.arc_mode, u_cmd.arc_value, self.cs_pos, x, self._cs_from,
                                      self._cs_to, self._cs_q, self._forward_state(x)[0], self._cs_limits, self.tol,
                                      self.margin, self.ftol)
        if len(self.cv_pos):
            changed |= update_regulators(self.cv_code, u_cmd.arc_mode, u_cmd.arc_value, self.cv_pos, x, self._cv_from,
                                         self._cv_to, self._cv_q, self._cv_pin_min, self._cv_flow_max, self.tol,
                                         self.margin, self.ftol)
        return bool(changed)

    def limit_args(self, u_cmd: Controls) -> tuple:
        """The arguments of :func:`limits_hold` after the state and the stations' forward power (for u_cmd)."""
        return (self.enabled, self.cs_code, self.cv_code, u_cmd.arc_mode, u_cmd.arc_value, self.cs_pos, self._cs_from,
                self._cs_to, self._cs_q, self._cs_limits, self.cv_pos, self._cv_from, self._cv_to, self._cv_q,
                self._cv_pin_min, self._cv_flow_max, self.tol, self.margin, self.ftol)

    def station_args(self) -> tuple:
        """The flow, suction and discharge indices and the station model: ``gas_kernels.station_forward``'s
        arguments after the state (without the output)."""
        return (self._cs_q, self._cs_from, self._cs_to, *self.system.stations.forward_args())

    def remember_forward(self, x: F64, rows: F64) -> None:
        """Keep the stations' forward power and fuel at state x (rows 0 and 1 of ``station_forward``'s output)
        computed elsewhere (the compiled step), as :meth:`_forward_state` would have."""
        self._fwd = (x, rows[0], rows[1])

    # --- reporting -----------------------------------------------------------------------------------
    def station_codes(self, u_cmd: Controls) -> I64:
        """StationCode of every station (commanded bypass/off included)."""
        cmd = u_cmd.arc_mode[self.cs_pos]
        out = self.cs_code.copy()
        out[cmd == ArcMode.LINK] = StationCode.BYPASS
        out[cmd == ArcMode.CLOSED] = StationCode.OFF
        return out

    def regulator_codes(self, x: F64, u_cmd: Controls) -> I64:
        """RegulatorCode of every regulator in state x."""
        g = self.system.grid
        net = g.net
        cv = net.control_valve
        out = self.cv_code.copy()
        cmd = u_cmd.arc_mode[self.cv_pos]
        q = x[g.off_other + self.cv_pos]
        pin, pout = x[net.arc_from[cv.arc]], x[net.arc_to[cv.arc]]
        p_set = u_cmd.arc_value[self.cv_pos]
        reg = (cmd == ArcMode.REGULATOR) & (out == RegulatorCode.REGULATING)
        out[reg & (pin <= p_set)] = RegulatorCode.WIDE_OPEN
        out[reg & (q <= self.ftol) & (pout > np.minimum(pin, p_set) * (1.0 + self.tol))] = RegulatorCode.CLOSED_REVERSE
        out[cmd == ArcMode.LINK] = RegulatorCode.OPEN
        out[cmd == ArcMode.CLOSED] = RegulatorCode.CLOSED
        return out


# --- compiled limit checks (the min/max selector of a station controller, the regulator states) ---------------
_SET_POINT, _RATIO_MAX, _P_DISCHARGE_MAX, _P_SUCTION_MIN, _POWER_MAX, _FLOW_MAX, _RATIO_MIN = range(7)
_CANNOT_LIFT, _REVERSE_FLOW, _LOW_SUCTION = (int(c) for c in _BYPASSED)
_L_RATIO_MAX, _L_P_DISCHARGE_MAX, _L_P_SUCTION_MIN, _L_POWER_MAX, _L_FLOW_MAX, _L_RATIO_MIN = range(6)
_M_RATIO, _M_P_TO, _M_P_FROM, _M_FLOW, _M_POWER = _COMPRESSING
_REGULATOR = int(ArcMode.REGULATOR)
_R_REGULATING, _R_INLET_LIMIT, _R_FLOW_LIMIT, _R_CLOSED_LOW_INLET = (
    int(RegulatorCode.REGULATING), int(RegulatorCode.INLET_LIMIT), int(RegulatorCode.FLOW_LIMIT),
    int(RegulatorCode.CLOSED_LOW_INLET))


@numba.njit(**JIT)
def _compressing(mode: int) -> bool:
    return mode in (_M_RATIO, _M_P_TO, _M_P_FROM, _M_FLOW, _M_POWER)


@numba.njit(**JIT)
def _wants(cmd: int, v: float, ps: float, pd: float, q: float, tol: float) -> bool:
    """Whether a bypassed station's set point asks for compression again."""
    if cmd == _M_P_TO:
        return ps < v * (1.0 - tol) and pd < v * (1.0 - tol)
    if cmd == _M_P_FROM:
        return ps > v * (1.0 + tol)
    if cmd == _M_RATIO:
        return pd < v * ps * (1.0 - tol)
    if cmd == _M_FLOW:
        return q < v * (1.0 - tol)
    return True  # power: any positive set point asks for compression


@numba.njit(**JIT)
def _limits(code: int, cmd: int, v: float, ps: float, pd: float, q: float, power: float, limits: F64, k: int,
            tol: float) -> int:
    """Override selection of active station k with limits ``limits[:, k]`` (rows _L_*): the worst-violated cap,
    the ratio floor, or back to the set point once it asks for less effort (cap) or more (floor)."""
    lim = (limits[_L_RATIO_MAX, k], limits[_L_P_DISCHARGE_MAX, k], limits[_L_P_SUCTION_MIN, k],
           limits[_L_POWER_MAX, k], limits[_L_FLOW_MAX, k], limits[_L_RATIO_MIN, k])
    if ps <= 0.0:  # a pass drew the suction below zero (a restart against a weak suction side, say)
        if math.isfinite(lim[_L_P_SUCTION_MIN]) and code != _P_SUCTION_MIN:
            return _P_SUCTION_MIN
        if math.isfinite(lim[_L_RATIO_MAX]) and code != _RATIO_MAX:
            return _RATIO_MAX
        return code
    r = pd / ps
    worst, worst_code = -math.inf, -1
    for value, limit in ((r / lim[_L_RATIO_MAX] - 1.0, _RATIO_MAX), (pd / lim[_L_P_DISCHARGE_MAX] - 1.0, _P_DISCHARGE_MAX),
                         (lim[_L_P_SUCTION_MIN] / ps - 1.0, _P_SUCTION_MIN), (power / lim[_L_POWER_MAX] - 1.0, _POWER_MAX),
                         (q / lim[_L_FLOW_MAX] - 1.0, _FLOW_MAX)):
        if value == value and (worst_code < 0 or value > worst):  # NaN: no such limit; ties keep the first
            worst, worst_code = value, limit
    if worst_code >= 0 and worst > tol and worst_code != code:
        return worst_code
    if math.isfinite(lim[_L_RATIO_MIN]) and r < lim[_L_RATIO_MIN] * (1.0 - tol) and code != _RATIO_MIN:
        return _RATIO_MIN
    if code == _SET_POINT:
        return code
    if cmd == _M_P_TO:
        effort = pd / v - 1.0
    elif cmd == _M_P_FROM:
        effort = v / ps - 1.0
    elif cmd == _M_RATIO:
        effort = r / v - 1.0
    elif cmd == _M_FLOW:
        effort = q / v - 1.0
    else:
        effort = power / v - 1.0
    floor = code == _RATIO_MIN
    if (not floor and effort > tol) or (floor and effort < -tol):
        return _SET_POINT
    return code


@numba.njit(**JIT)
def limits_hold(x: F64, power_fwd: F64, enabled: bool, cs_code: I64, cv_code: I64, arc_mode: I64, arc_value: F64,
                cs_pos: I64, cs_from: I64, cs_to: I64, cs_q: I64, cs_limits: F64, cv_pos: I64, cv_from: I64,
                cv_to: I64, cv_q: I64, cv_pin_min: F64, cv_flow_max: F64, tol: float, margin: float,
                ftol: float) -> bool:
    """Whether :meth:`Controller.update` would leave every mode as it is in state x (checked on copies)."""
    if not enabled:
        return True
    if cs_code.size and update_stations(cs_code.copy(), arc_mode, arc_value, cs_pos, x, cs_from, cs_to, cs_q,
                                        power_fwd, cs_limits, tol, margin, ftol):
        return False
    return not (cv_code.size and update_regulators(cv_code.copy(), arc_mode, arc_value, cv_pos, x, cv_from, cv_to,
                                                   cv_q, cv_pin_min, cv_flow_max, tol, margin, ftol))


@numba.njit(**JIT)
def any_nonzero(a: I64, b: I64) -> bool:
    """Whether a or b has a nonzero entry (one call instead of two array reductions)."""
    for v in a:
        if v != 0:
            return True
    for v in b:  # noqa: SIM110 (numba compiles the loop)
        if v != 0:
            return True
    return False


@numba.njit(**JIT)
def node_fuel(fuel_fwd: F64, arc_mode: I64, pos: I64, suction: I64, n_nodes: int) -> F64:
    """Fuel [kg/s] per node of the stations compressing under ``arc_mode`` (their forward fuel, summed at the
    suction nodes in station order, as np.bincount)."""
    out = np.zeros(n_nodes)
    for k in range(pos.size):
        if _compressing(arc_mode[pos[k]]):
            out[suction[k]] += fuel_fwd[k]
        else:
            out[suction[k]] += 0.0
    return out


@numba.njit(**JIT)
def update_stations(code: I64, arc_mode: I64, arc_value: F64, pos: I64, x: F64, i_from: I64, i_to: I64, i_q: I64,
                    power_fwd: F64, limits: F64, tol: float, margin: float, ftol: float) -> bool:
    """New StationCode of every station (in place) from state x (its suction x[i_from], discharge x[i_to] [Pa],
    flow x[i_q] [kg/s]) under the commanded modes and set points (arc_mode/arc_value at the stations' positions
    ``pos``); ``power_fwd``: shaft power [W] if compressing forward (zeroed here where the modes in force do not
    compress); ``limits``: rows ratio_max, p_discharge_max, p_suction_min, power_max, flow_max, ratio_min (NaN:
    none). Returns whether any code changed."""
    changed = False
    for k in range(code.size):
        c = arc_mode[pos[k]]
        old = code[k]
        if not _compressing(c):
            new = _SET_POINT
        else:
            ps, pd, q = x[i_from[k]], x[i_to[k]], x[i_q[k]]
            ps_min = limits[_L_P_SUCTION_MIN, k]
            v = arc_value[pos[k]]
            if old in (_CANNOT_LIFT, _REVERSE_FLOW, _LOW_SUCTION):
                if ps < ps_min * (1.0 - tol):
                    new = _LOW_SUCTION
                elif old != _CANNOT_LIFT and ps < ps_min * (1.0 + margin):
                    new = old
                else:
                    new = _SET_POINT if _wants(c, v, ps, pd, q, tol) else old
            elif q < -ftol:
                new = _LOW_SUCTION if old == _P_SUCTION_MIN else _REVERSE_FLOW
            elif pd < ps * (1.0 - tol):
                new = _CANNOT_LIFT
            else:
                new = _limits(old, c, v, ps, pd, q, power_fwd[k], limits, k, tol)
        changed |= new != old
        code[k] = new
    return changed


@numba.njit(**JIT)
def update_regulators(code: I64, arc_mode: I64, arc_value: F64, pos: I64, x: F64, i_in: I64, i_out: I64, i_q: I64,
                      pin_min: F64, q_max: F64, tol: float, margin: float, ftol: float) -> bool:
    """New RegulatorCode of every regulator (in place) from state x (inlet x[i_in], outlet x[i_out] [Pa], flow
    x[i_q]) under the commanded modes and outlet set points. Returns whether any code changed."""
    changed = False
    for k in range(code.size):
        old = code[k]
        if arc_mode[pos[k]] != _REGULATOR:
            code[k] = _R_REGULATING
            changed |= old != _R_REGULATING
            continue
        pin, pout, q, p_set = x[i_in[k]], x[i_out[k]], x[i_q[k]], arc_value[pos[k]]
        c = old
        starved = math.isfinite(pin_min[k]) and pin < pin_min[k] * (1.0 - tol) and q > ftol
        too_much = math.isfinite(q_max[k]) and q > q_max[k] * (1.0 + tol)
        if c == _R_CLOSED_LOW_INLET:
            if pin > pin_min[k] * (1.0 + margin):  # restart hysteresis, as for stations
                c = _R_REGULATING
        elif c == _R_INLET_LIMIT and q < -ftol:
            c = _R_CLOSED_LOW_INLET  # a valve cannot push gas back to hold its inlet
        elif c != _R_REGULATING and pout > p_set * (1.0 + tol):
            c = _R_REGULATING  # the set point asks for less than the limit gives
        elif c != _R_INLET_LIMIT and starved:
            c = _R_INLET_LIMIT
        elif c != _R_FLOW_LIMIT and too_much:
            c = _R_FLOW_LIMIT
        changed |= c != old
        code[k] = c
    return changed


__all__ = ["Controller", "RegulatorCode", "StationCode", "legend"]
