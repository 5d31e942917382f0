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
from dataclasses import replace
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

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
        self._cache: tuple[F64, F64, F64] | None = None

    # --- modes ---------------------------------------------------------------------------------------
    def signature(self) -> bytes:
        """The modes of every station and regulator, hashable (to detect cycles within a step)."""
        return self.cs_code.tobytes() + self.cv_code.tobytes()

    def apply(self, u: Controls, x_fuel: F64 | None = None) -> Controls:
        """The controls the equations use: commanded modes with overrides, bypasses and (with ``x_fuel``, the
        state the fuel is evaluated at) the fuel withdrawal."""
        mode, value = u.arc_mode.copy(), u.arc_value.copy()
        cs, cv = self.system.grid.net.compressor, self.system.grid.net.control_valve
        limit_value = {StationCode.RATIO_MAX: cs.ratio_max, StationCode.P_DISCHARGE_MAX: cs.p_discharge_max,
                       StationCode.P_SUCTION_MIN: cs.p_suction_min, StationCode.POWER_MAX: cs.power_max,
                       StationCode.FLOW_MAX: cs.flow_max, StationCode.RATIO_MIN: cs.ratio_min}
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
        fuel = None
        if self.fuel_gas and len(self.cs_pos):
            if x_fuel is not None:
                self.fuel_node = self._fuel(x_fuel, mode)
            fuel = self.fuel_node
        return replace(u, arc_mode=mode, arc_value=value, fuel=fuel)

    def _fuel(self, x: F64, mode: I64) -> F64:
        """Fuel withdrawal per node [kg/s] of the stations compressing in state x under the given modes."""
        fuel = self.station_state(x, mode)[1]
        net = self.system.grid.net
        return np.bincount(net.arc_from[net.compressor.arc], weights=fuel, minlength=net.n_nodes)

    def station_state(self, x: F64, mode: I64) -> tuple[F64, F64]:
        """Shaft power [W] and fuel [kg/s] of every station (zero unless compressing forward under ``mode``)."""
        power, fuel = self._forward_state(x)
        on = np.isin(mode[self.cs_pos], _COMPRESSING)
        return np.where(on, power, 0.0), np.where(on, fuel, 0.0)

    def _forward_state(self, x: F64) -> tuple[F64, F64]:
        """Power and fuel of every station compressing forward in state x (cached for the last state: the state a
        step ends with is the one the next step's fuel is evaluated at)."""
        g = self.system.grid
        net = g.net
        cs = net.compressor
        q = x[g.off_other + self.cs_pos]
        ps, pd = x[net.arc_from[cs.arc]], x[net.arc_to[cs.arc]]
        key = np.concatenate([q, ps, pd])
        if self._cache is not None and np.array_equal(self._cache[0], key):
            return self._cache[1], self._cache[2]
        from gasgrid.physics.compressor import station_power

        on = (q > 0.0) & (ps > 0.0) & (pd > ps)
        T = np.where(np.isfinite(cs.suction_temperature), cs.suction_temperature, net.temperature)
        st = station_power(np.where(on, q, 0.0), np.where(on, ps, 1e5), np.where(on, pd, 1e5), T_suction=T,
                           efficiency=cs.efficiency, polytropic=cs.polytropic, electric=cs.electric,
                           driver_efficiency=cs.driver_efficiency, gas=net.gas)
        power, fuel = np.where(on, st.power_shaft, 0.0), np.where(on, st.fuel, 0.0)
        self._cache = (key, power, fuel)
        return power, fuel

    # --- limit checks --------------------------------------------------------------------------------
    def update(self, x: F64, u_cmd: Controls) -> bool:
        """Check the solved state x against every limit; switch modes. Returns whether any mode changed."""
        if not self.enabled:
            return False
        before = self.signature()
        self._update_stations(x, u_cmd)
        self._update_regulators(x, u_cmd)
        return self.signature() != before

    def _update_stations(self, x: F64, u_cmd: Controls) -> None:
        g = self.system.grid
        net = g.net
        cs = net.compressor
        if not len(cs):
            return
        ps, pd = x[net.arc_from[cs.arc]], x[net.arc_to[cs.arc]]
        q = x[g.off_other + self.cs_pos]
        actual = self.apply(u_cmd).arc_mode
        power = self.station_state(x, actual)[0]
        tol = self.tol
        for k in range(len(cs)):
            i = self.cs_pos[k]
            cmd, v = int(u_cmd.arc_mode[i]), float(u_cmd.arc_value[i])
            if cmd not in _COMPRESSING:
                self.cs_code[k] = StationCode.SET_POINT
                continue
            code = StationCode(int(self.cs_code[k]))
            ps_min = float(cs.p_suction_min[k])
            if code in _BYPASSED:
                if ps[k] < ps_min * (1.0 - tol):
                    new = StationCode.BYPASS_LOW_SUCTION
                elif code is not StationCode.BYPASS_CANNOT_LIFT and ps[k] < ps_min * (1.0 + self.margin):
                    new = code
                else:
                    new = StationCode.SET_POINT if _wants(cmd, v, ps[k], pd[k], q[k], tol) else code
            elif q[k] < -self.ftol:
                new = StationCode.BYPASS_LOW_SUCTION if code is StationCode.P_SUCTION_MIN else \
                    StationCode.BYPASS_REVERSE_FLOW
            elif pd[k] < ps[k] * (1.0 - tol):
                new = StationCode.BYPASS_CANNOT_LIFT
            else:
                new = self._limits(k, code, cmd, v, ps[k], pd[k], q[k], power[k])
            self.cs_code[k] = new

    def _limits(self, k: int, code: StationCode, cmd: int, v: float, ps: float, pd: float, q: float,
                power: float) -> StationCode:
        """Override selection of an active station (the min/max selector of a station controller)."""
        cs = self.system.grid.net.compressor
        tol = self.tol
        if ps <= 0.0:  # a pass drew the suction below zero (a restart against a weak suction side, say)
            for bound, limit in ((cs.p_suction_min[k], StationCode.P_SUCTION_MIN),
                                 (cs.ratio_max[k], StationCode.RATIO_MAX)):
                if math.isfinite(bound) and limit is not code:
                    return limit
            return code
        r = pd / ps
        caps = [(r / cs.ratio_max[k] - 1.0, StationCode.RATIO_MAX),
                (pd / cs.p_discharge_max[k] - 1.0, StationCode.P_DISCHARGE_MAX),
                (cs.p_suction_min[k] / ps - 1.0, StationCode.P_SUCTION_MIN),
                (power / cs.power_max[k] - 1.0, StationCode.POWER_MAX),
                (q / cs.flow_max[k] - 1.0, StationCode.FLOW_MAX)]
        caps = [c for c in caps if not math.isnan(c[0])]  # NaN: no such limit
        worst = max(caps, default=None, key=lambda c: c[0])
        if worst is not None and worst[0] > tol and worst[1] is not code:
            return worst[1]
        if math.isfinite(cs.ratio_min[k]) and r < cs.ratio_min[k] * (1.0 - tol) and code is not StationCode.RATIO_MIN:
            return StationCode.RATIO_MIN
        if code is StationCode.SET_POINT:
            return code
        effort = {int(ArcMode.P_TO): pd / v - 1.0, int(ArcMode.P_FROM): v / ps - 1.0, int(ArcMode.RATIO): r / v - 1.0,
                  int(ArcMode.FLOW): q / v - 1.0, int(ArcMode.POWER): power / v - 1.0}[cmd]
        floor = code is StationCode.RATIO_MIN
        if (not floor and effort > tol) or (floor and effort < -tol):
            return StationCode.SET_POINT
        return code

    def _update_regulators(self, x: F64, u_cmd: Controls) -> None:
        g = self.system.grid
        net = g.net
        cv = net.control_valve
        tol = self.tol
        for k in range(len(cv)):
            i = self.cv_pos[k]
            if u_cmd.arc_mode[i] != ArcMode.REGULATOR:
                self.cv_code[k] = RegulatorCode.REGULATING
                continue
            a = cv.arc[k]
            pin, pout, q = x[net.arc_from[a]], x[net.arc_to[a]], x[g.off_other + i]
            p_set, pin_min, q_max = float(u_cmd.arc_value[i]), float(cv.p_in_min[k]), float(cv.flow_max[k])
            code = int(self.cv_code[k])
            starved = math.isfinite(pin_min) and pin < pin_min * (1.0 - tol) and q > self.ftol
            too_much = math.isfinite(q_max) and q > q_max * (1.0 + tol)
            if code == RegulatorCode.CLOSED_LOW_INLET:
                if pin > pin_min * (1.0 + self.margin):  # restart hysteresis, as for stations
                    code = RegulatorCode.REGULATING
            elif code == RegulatorCode.INLET_LIMIT and q < -self.ftol:
                code = RegulatorCode.CLOSED_LOW_INLET  # a valve cannot push gas back to hold its inlet
            elif code != RegulatorCode.REGULATING and pout > p_set * (1.0 + tol):
                code = RegulatorCode.REGULATING  # the set point asks for less than the limit gives
            elif code != RegulatorCode.INLET_LIMIT and starved:
                code = RegulatorCode.INLET_LIMIT
            elif code != RegulatorCode.FLOW_LIMIT and too_much:
                code = RegulatorCode.FLOW_LIMIT
            self.cv_code[k] = code

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


def _wants(cmd: int, v: float, ps: float, pd: float, q: float, tol: float) -> bool:
    """Whether a bypassed station's set point asks for compression again."""
    if cmd == ArcMode.P_TO:
        return ps < v * (1.0 - tol) and pd < v * (1.0 - tol)
    if cmd == ArcMode.P_FROM:
        return ps > v * (1.0 + tol)
    if cmd == ArcMode.RATIO:
        return pd < v * ps * (1.0 - tol)
    if cmd == ArcMode.FLOW:
        return q < v * (1.0 - tol)
    return True  # power: any positive set point asks for compression


__all__ = ["Controller", "RegulatorCode", "StationCode", "legend"]
