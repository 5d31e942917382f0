"""The transient entry point: ``simulate(net, bc, *, scheme=ImplicitEuler(), dt=..., t_end=..., saveat=...)``.

Contract: validates every input before stepping (:class:`~gasgrid.errors.InputError`), builds the grid and
the sparsity pattern once, starts from the discrete steady state (or a given state), steps with the scheme on
a time grid that lands exactly on save times and event times, and returns a :class:`TransientResult` whose
status says whether the run reached ``t_end``. With ``throw=True`` (default) a failed run raises
:class:`~gasgrid.errors.ConvergenceError` or :class:`~gasgrid.errors.InfeasibleError` instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from gasgrid.errors import ConvergenceError, InfeasibleError, InputError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.model.network import Network
from gasgrid.transient.bc import BoundaryConditions, ControlSchedule, validate_bc
from gasgrid.transient.fastpath import OK as FAST_OK
from gasgrid.transient.fastpath import P_LINEAR, P_NONE, P_QUADRATIC, chord_step
from gasgrid.transient.friction_kernels import friction_close
from gasgrid.transient.grid import Grid, build_grid
from gasgrid.transient.initial import InitialState, interpolate_state, steady_vector
from gasgrid.transient.kernels import boundary_flows, extrapolate
from gasgrid.transient.linear import Factorization, PipeEliminationLU
from gasgrid.transient.newton import NewtonOptions, NewtonResult, NewtonStatus, newton
from gasgrid.transient.output import TransientResult, TransientStatus
from gasgrid.transient.record import Recorder
from gasgrid.transient.schemes import Coefficients, ImplicitEuler, Scheme
from gasgrid.transient.stations import Controller
from gasgrid.transient.sweep import levels
from gasgrid.transient.system import Controls, FrictionRef, OutOfRange, System
from gasgrid.units import Reference

F64 = NDArray[np.float64]
_DEFAULT_SCHEME = ImplicitEuler()
_NO_FLOWS = np.zeros(0)


@dataclass(frozen=True)
class TransientOptions:
    """Model and solver options.

    Attributes:
        inertia: keep d(rho v)/dt in the momentum equation (False: friction-dominated "parabolic" model).
        newton: Newton settings (chord Newton with a reused LU by default).
        reference: reference condition of the line-pack volumes.
        friction_span: friction laws other than 'fixed' are evaluated at a reference flow and extended by the
            local linear model lambda_ref (1 + d ln lambda / d ln q (q / q_ref - 1)) while |ln(q / q_ref)| <= span
            on every turbulent face (re-evaluated otherwise, also within a step). The relative error in lambda
            is below span^2 (Colebrook: |d ln lambda / d ln q| < 0.25, small curvature): 1e-3 gives < 1e-6,
            far below the law's own uncertainty; the order tests run with it.
        node_volume_m3: gas volume of nodes no pipe reaches (station pipework); keeps them defined when all
            their arcs close. 0 makes such nodes algebraic (a node isolated by closures is then singular).
        station_limits: compressor stations obey their limits (override, automatic bypass) and regulators their
            minimum inlet pressure and maximum flow, as in steady state (:mod:`gasgrid.transient.stations`).
            False: every element stays on its commanded mode whatever the state.
        limit_tol: relative amount by which a limit may be crossed before the step is re-solved on it.
        restart_margin: a station bypassed for low suction or reverse flow restarts once its suction pressure
            is this fraction above its minimum (restart hysteresis).
        fuel_gas: gas-turbine stations burn fuel taken at their suction node (counted in the mass balance).
        max_control_passes: solves per time step while modes switch; a switch still pending after them takes
            effect at the next step.
    """

    inertia: bool = True
    newton: NewtonOptions = field(default_factory=NewtonOptions)
    reference: Reference = Reference.NORMAL
    friction_span: float = 1e-3
    node_volume_m3: float = 1.0
    station_limits: bool = True
    limit_tol: float = 1e-6
    restart_margin: float = 0.02
    fuel_gas: bool = True
    max_control_passes: int = 6

    def __post_init__(self) -> None:
        if not (0.0 < self.limit_tol < 0.1):
            raise InputError(f"must be in (0, 0.1), got {self.limit_tol!r}", kind="TransientOptions",
                             field="limit_tol")
        if not (0.0 <= self.restart_margin < 1.0):
            raise InputError(f"must be in [0, 1), got {self.restart_margin!r}", kind="TransientOptions",
                             field="restart_margin")
        if not (isinstance(self.max_control_passes, int) and self.max_control_passes >= 1):
            raise InputError(f"must be an integer >= 1, got {self.max_control_passes!r}", kind="TransientOptions",
                             field="max_control_passes")
        if not isinstance(self.newton, NewtonOptions):
            raise InputError("newton must be a NewtonOptions", kind="TransientOptions", field="newton")
        if not (0.0 < self.friction_span <= 0.1):
            raise InputError(f"must be in (0, 0.1], got {self.friction_span!r}", kind="TransientOptions",
                             field="friction_span")
        if not isinstance(self.reference, Reference):
            raise InputError("reference must be a gasgrid.Reference", kind="TransientOptions", field="reference")


def simulate(
    net: Network | CompiledNetwork,
    bc: BoundaryConditions | None = None,
    *,
    scheme: Scheme = _DEFAULT_SCHEME,
    dt: float,
    t_end: float,
    t0: float = 0.0,
    dx: float = 1000.0,
    saveat: float | ArrayLike | None = None,
    initial: InitialState | Literal["steady"] | ArrayLike = "steady",
    options: TransientOptions = TransientOptions(),
    progress: bool = False,
    throw: bool = True,
) -> TransientResult:
    """Simulate the isothermal Euler equations on a gas network.

    Args:
        net: the network (compiled here if needed).
        bc: time series and events (default: the network's own constant inputs).
        scheme: time-integration strategy (:class:`ImplicitEuler`, :class:`BDF2`, :class:`Theta`,
            :class:`ExplicitStaggered` -- the latter checked against its CFL bound before stepping).
        dt: time step, s. Steps also land on every save time and event time.
        t_end, t0: horizon, s.
        dx: target cell length of the pipe discretisation, m.
        saveat: None (every step), a save interval [s], or explicit save times [s] within [t0, t_end].
        initial: ``"steady"`` (discrete steady state for the inputs at t0), an :class:`InitialState`, or an
            unknown vector of this grid (e.g. ``result.final_state`` of an earlier run with the same grid).
        options: model and solver options.
        progress: show a rich progress bar.
        throw: raise on failure instead of returning a result with a failure status.
    """
    t_wall = time.perf_counter()
    cnet = net if isinstance(net, CompiledNetwork) else net.compile()
    bc = bc if bc is not None else BoundaryConditions()
    if not isinstance(bc, BoundaryConditions):
        raise InputError("bc must be a BoundaryConditions (see gasgrid.transient.load_events)")
    if not getattr(scheme, "implicit", False):
        raise InputError(f"unknown scheme {scheme!r}; use ImplicitEuler(), BDF2(), Theta() or ExplicitStaggered()",
                         field="scheme")
    if not isinstance(options, TransientOptions):
        raise InputError("options must be a TransientOptions", field="options")
    _check_times(t0, t_end, dt)
    validate_bc(bc, cnet, t0, t_end)
    grid = build_grid(cnet, dx, node_volume=options.node_volume_m3)
    system = System(grid, inertia=options.inertia)
    sched = ControlSchedule(grid, bc)
    save_times = _save_times(saveat, t0, t_end, dt)
    times = _time_grid(t0, t_end, dt, np.concatenate([save_times, np.asarray(sched.event_times(), float)]))
    u_cmd0 = sched.at(t0)
    explicit = getattr(scheme, "explicit", False)
    if explicit and not options.inertia:
        raise InputError("the explicit scheme needs inertia=True (the parabolic model is stiff)", field="scheme")
    ctl = Controller(system, enabled=options.station_limits, tol=options.limit_tol,
                     restart_margin=options.restart_margin, fuel_gas=options.fuel_gas, flow_tol=_flow_tol(cnet, u_cmd0))
    x, u0 = _initial(system, ctl, u_cmd0, initial, options.max_control_passes)
    if explicit:  # the bound depends on the sound speed, hence on the initial pressures
        check_cfl(system, x, float(np.max(np.diff(times))), scheme.courant)  # type: ignore[attr-defined]
    t_setup = time.perf_counter() - t_wall
    rec = Recorder(system, ctl, save_times, options.reference)
    stepper = _Stepper(system, sched, scheme, options.newton, x, u0, t0, options.friction_span, ctl,
                       options.max_control_passes)
    rec.maybe_save(t0, x, u0, u_cmd0, stepper.cum_in[0], stepper.cum_out[0])
    status, message = TransientStatus.SUCCESS, f"reached t_end = {t_end:g} s"
    bar = _progress(progress, t0, t_end)
    try:
        for t_new in times[1:]:
            ok, msg, u = _advance(stepper, float(t_new))
            if not ok:
                status, message = TransientStatus.NEWTON_FAILED, msg
                break
            if stepper.p_min <= 0.0:
                low = np.flatnonzero(stepper.x[: grid.n_pressure] <= 0.0)
                status = TransientStatus.INFEASIBLE
                message = (f"pressure fell to zero at t = {t_new:g} s at {_where(grid, int(low[0]))}: the network "
                           "cannot deliver the demands there; reduce withdrawals or add supply")
                break
            rec.maybe_save(float(t_new), stepper.x, u, stepper.u_cmd, stepper.cum_in[0], stepper.cum_out[0])
            if bar is not None:
                bar[0].update(bar[1], completed=float(t_new) - t0)
    finally:
        if bar is not None:
            bar[0].stop()
    stats = dict(stepper.stats, wall_s=time.perf_counter() - t_wall, setup_s=t_setup, n_unknowns=grid.n,
                 n_cells=int(grid.n_cells.sum()), nnz=grid.pattern.nnz, steps=len(stepper.dts))
    ds = rec.dataset(scheme, dt, dx, options, stats)
    result = TransientResult(ds, status, message, stats, stepper.x.copy())
    if throw and status is TransientStatus.NEWTON_FAILED:
        raise ConvergenceError(message)
    if throw and status is TransientStatus.INFEASIBLE:
        raise InfeasibleError(message)
    return result


def _where(grid: Grid, k: int) -> str:
    """Human name of pressure unknown k: a node, or a point inside a pipe."""
    net = grid.net
    if k < grid.n_nodes:
        return f"node {net.node_ids[k]!r}"
    pt = int(np.flatnonzero(grid.point_var == k)[0])
    j = int(np.searchsorted(grid.point_start, pt, side="right") - 1)
    km = (pt - int(grid.point_start[j])) * float(grid.h[j]) / 1e3
    return f"pipe {net.arc_ids[net.pipe.arc[j]]!r} at {km:g} km"


def _check_times(t0: float, t_end: float, dt: float) -> None:
    for name, v in (("t0", t0), ("t_end", t_end), ("dt", dt)):
        if not (isinstance(v, int | float) and math.isfinite(v)):
            raise InputError(f"must be a finite number of seconds, got {v!r}", field=name)
    if dt <= 0:
        raise InputError(f"must be positive, got {dt!r} s", field="dt")
    if t_end <= t0:
        raise InputError(f"t_end ({t_end:g} s) must be after t0 ({t0:g} s)", field="t_end")


def _save_times(saveat: float | ArrayLike | None, t0: float, t_end: float, dt: float) -> F64:
    if saveat is None:
        return np.zeros(0)
    if np.ndim(saveat) == 0:
        every = float(saveat)  # type: ignore[arg-type]
        if not (math.isfinite(every) and every > 0):
            raise InputError(f"save interval must be positive, got {every!r} s", field="saveat")
        n = math.floor((t_end - t0) / every + 1e-9)
        out = t0 + every * np.arange(n + 1)
        return np.unique(np.append(out, t_end))
    arr = np.unique(np.asarray(saveat, dtype=float))
    if arr.size == 0 or arr[0] < t0 - 1e-9 * dt or arr[-1] > t_end + 1e-9 * dt:
        raise InputError(f"save times must lie within [{t0:g}, {t_end:g}] s", field="saveat")
    return arr


def _time_grid(t0: float, t_end: float, dt: float, extra: F64) -> F64:
    n = max(1, math.ceil((t_end - t0) / dt - 1e-9))
    base = np.minimum(t0 + dt * np.arange(n + 1), t_end)
    extra = extra[(extra > t0) & (extra < t_end)]
    allt = np.unique(np.concatenate([base, extra]))
    keep = np.concatenate([[True], np.diff(allt) > 1e-6 * dt])
    allt = allt[keep]
    allt[-1] = t_end
    return allt


def _flow_tol(net: CompiledNetwork, u: Controls) -> float:
    """Flows below minus this [kg/s] count as reverse: 1e-6 of the network's throughput (at least 1 kg/s)."""
    thr = max(float(np.sum(np.abs(u.demand_flow))), float(np.sum(np.abs(u.supply_flow[np.isfinite(u.supply_flow)]))))
    return 1e-6 * max(thr, 1.0)


def _initial(system: System, ctl: Controller, u_cmd: Controls, initial: InitialState | str | ArrayLike,
             max_passes: int) -> tuple[F64, Controls]:
    """Initial state and the controls it holds under. A steady start is settled with the controllers: solved,
    checked against the limits, re-solved on the limits that bind and with the fuel of its own stations."""
    if isinstance(initial, str):
        if initial != "steady":
            raise InputError(f"initial must be 'steady', an InitialState or a state vector, got {initial!r}")
        u = ctl.apply(u_cmd)
        return _settle(system, ctl, u_cmd, steady_vector(system, u), u, max_passes)
    if isinstance(initial, InitialState):
        x = interpolate_state(system, u_cmd, initial)
        if initial.project:
            u = ctl.apply(u_cmd, x)
            return _settle(system, ctl, u_cmd, steady_vector(system, u, x), u, max_passes)
        return x, ctl.apply(u_cmd, x)
    x = np.asarray(initial, dtype=float)
    if x.shape != (system.grid.n,):
        raise InputError(f"initial state vector has shape {x.shape}, the grid needs ({system.grid.n},)")
    return x.copy(), ctl.apply(u_cmd, x)


def _settle(system: System, ctl: Controller, u_cmd: Controls, x: F64, u_solved: Controls,
            max_passes: int) -> tuple[F64, Controls]:
    """Steady state consistent with the controllers' modes and the stations' fuel (fixed point, few passes)."""
    tol = 1e-12 * max(float(np.sum(u_cmd.demand_flow)), 1.0)
    for _ in range(4 * max_passes):
        changed = ctl.update(x, u_cmd)
        u = ctl.apply(u_cmd, x)
        moved = u.fuel is not None and (u_solved.fuel is None or
                                        bool(np.max(np.abs(u.fuel - u_solved.fuel), initial=0.0) > tol))
        if not changed and not moved:
            return x, u
        x, u_solved = steady_vector(system, u, x), u
    return x, u_solved


_MAX_STEP_RATIO = 2.4
MAX_HALVINGS = 6  # a failed step is retried as two half steps, recursively, down to dt / 2**6


def _advance(stepper: _Stepper, t_new: float, depth: int = 0) -> tuple[bool, str, Controls]:
    """One step to t_new; if Newton fails, two half steps (recursively): events such as a valve opening across
    a large pressure difference need shorter steps for a moment. Mass stays conserved (every sub-step is a
    step of the same scheme)."""
    codes = stepper.ctl.cs_code.copy(), stepper.ctl.cv_code.copy()
    ok, msg, u = stepper.step(t_new)
    if ok or depth >= MAX_HALVINGS:
        return ok, msg, u
    stepper.ctl.cs_code, stepper.ctl.cv_code = codes
    stepper.stats["step_halvings"] = stepper.stats.get("step_halvings", 0) + 1
    ok, msg, u = _advance(stepper, 0.5 * (stepper.t_cur + t_new), depth + 1)
    return _advance(stepper, t_new, depth + 1) if ok else (ok, msg, u)


class _Stepper:
    """Holds the history a multistep scheme needs; advances one step at a time."""

    def __init__(self, system: System, sched: ControlSchedule, scheme: Scheme, opts: NewtonOptions, x0: F64,
                 u0: Controls, t0: float, span: float, ctl: Controller, max_passes: int) -> None:
        self.system, self.sched, self.scheme, self.opts = system, sched, scheme, opts
        self.ctl, self.max_passes = ctl, max_passes
        # a Newton iterate at ten times the highest pressure at t0 is diverging (and past the gas model's range)
        self.p_cap = min(10.0 * max(float(np.max(x0[: system.grid.n_pressure])), 1e5), 2.8e8)
        self.u_cmd = sched.at(t0)
        self.x = x0.copy()
        self.x_prev: F64 | None = None
        self.x_prev2: F64 | None = None
        ev = system.evaluate(x0, u0)
        self.explicit = scheme.coefficients((1.0,)).explicit_storage
        b_in, b_out = _boundary(system, x0, u0)
        self.M = [ev.M]
        self.F = [ev.F]
        self.B_in, self.B_out = [b_in], [b_out]
        self.cum_in, self.cum_out = [0.0], [0.0]
        self.dts: list[float] = []
        self.t_cur = t0
        self.lu: Factorization | None = None
        self.c_lu = math.nan
        self.diff = system.differential_rows
        self.stats = {"newton_iterations": 0, "factorizations": 0, "friction_evaluations": 0, "fast_steps": 0}
        self.fref: FrictionRef | None = None
        self.fref_seed: FrictionRef | None = None  # the last reference computed (seeds the next one)
        self.events = sorted(sched.event_times())
        self.span = span
        self.p_min = self._levels(self.x)
        self._coefficients: dict[tuple[float, ...], Coefficients] = {}  # the scheme's weights by step sizes
        self._spares: list[F64 | None] = [None, None]  # arrays dropped from the state / storage histories
        self._work = np.empty(system.n), np.empty(system.n)  # the fast path's scratch
        self._hist = np.empty(system.n)

    def _levels(self, x: F64) -> float:
        """Set the convergence scale of the next step from x; returns the lowest pressure of x."""
        return self._set_scale(x, *levels(x, self.system.grid.n_pressure))

    def _set_scale(self, x: F64, p_min: float, p_abs: float, q_abs: float) -> float:
        """The convergence scale (as initial._scale: the pressure level for pressures, the flow level for flows)
        from the levels of x; returns the lowest pressure."""
        self.levels = max(p_abs, 1e5), max(q_abs, 1.0)
        self._scale_array = None
        return float(p_min)

    @property
    def scale(self) -> F64:
        """The convergence scale per unknown (see _set_scale), built when the general path needs it."""
        if self._scale_array is None:
            n_p = self.system.grid.n_pressure
            scale = np.empty(self.system.n)
            scale[:n_p], scale[n_p:] = self.levels
            self._scale_array = scale
        return self._scale_array

    def _predict(self, h: float) -> F64:
        t_back = self.t_cur - sum(self.dts[-2:])
        if any(t_back - 1e-9 <= te < self.t_cur + h for te in self.events):
            return self.x  # inputs jump in the stencil: extrapolation would be wrong
        return _extrapolate(self.x, self.x_prev, self.x_prev2, self.dts, h, self.system.grid.n_pressure)

    def step(self, t_new: float) -> tuple[bool, str, Controls]:
        """Advance to t_new. Re-solves the step while the controller switches a station or regulator mode
        (a limit crossed by more than its tolerance), at most ``max_passes`` times; a switch still pending
        then (or a cycle of modes) takes effect at the next step. Returns (ok, message, controls used)."""
        sysm = self.system
        h = t_new - self.t_cur
        past = tuple(self.dts[-1:-3:-1])
        # variable-step BDF2 is zero-stable only for step ratios below 1 + sqrt(2): after a run of short steps
        # (a step split at an event) restart the multistep history with one single-step step
        key = (h, *past) if not past or h <= _MAX_STEP_RATIO * past[0] else (h,)
        co = self._coefficients.get(key)
        if co is None:
            co = self._coefficients[key] = self.scheme.coefficients(key)
        u_cmd = self.sched.at(t_new)
        c = 1.0 / (co.beta0 * h)
        hist = np.multiply(c * co.alpha[0], self.M[0], out=self._hist)  # a buffer: reused every step
        for a, M in zip(co.alpha[1:], self.M[1:], strict=False):
            hist += (c * a) * M
        for b, F in zip(co.beta, self.F, strict=False):
            if b:
                hist += np.where(self.diff, (b / co.beta0) * F, 0.0)
        if self.explicit:  # pipe-face flows of t_n in every mass balance (conservative: one time level per flow)
            hist += sysm.face_flux(self.x)
        fast = self._fast_step(u_cmd, co, c, h, hist, t_new)
        if fast is not None:
            return fast
        x_start = self._predict(h)
        ctl = self.ctl
        seen = {ctl.signature()}
        for k in range(self.max_passes):
            u = ctl.apply(u_cmd, self.x)
            ok, msg, out = self._solve(u, hist, c, x_start, t_new, fresh=k > 0)
            if not ok:
                return False, msg, u
            solved_with = ctl.cs_code.copy(), ctl.cv_code.copy()
            if not ctl.update(out.x, u_cmd):
                break
            self.stats["mode_switches"] = self.stats.get("mode_switches", 0) + 1
            if ctl.signature() in seen:  # modes cycle: keep the ones this state was solved with
                ctl.cs_code, ctl.cv_code = solved_with
                self.stats["mode_cycles"] = self.stats.get("mode_cycles", 0) + 1
                break
            seen.add(ctl.signature())
            if np.all(out.x[: sysm.grid.n_pressure] > 0.0):  # else start over from the prediction
                x_start = out.x
        self.u_cmd = u_cmd
        return self._accept(out, u, co, c, h, t_new)

    def _fast_step(self, u_cmd: Controls, co: Coefficients, c: float, h: float, hist: F64,
                   t_new: float) -> tuple[bool, str, Controls] | None:
        """The step in one compiled call (:mod:`gasgrid.transient.fastpath`) when it applies and nothing unusual
        happens; None otherwise (the general path then takes the step from the start, with the same result)."""
        sysm = self.system
        lu = self.lu
        if not (self.opts.chord and c == self.c_lu and isinstance(lu, PipeEliminationLU)):
            return None
        fref = self.fref
        if fref is None and not sysm.constant_friction:
            return None
        u = self.ctl.apply(u_cmd, self.x)
        res = sysm.sweep_args(u, c, hist, friction=fref, face_flux=not self.explicit)
        if res is None:
            return None
        g = sysm.grid
        predictor, w = self._predictor(h)
        x1 = self.x_prev if self.x_prev is not None else self.x
        x2 = self.x_prev2 if predictor == P_QUADRATIC else x1
        x_new, M_new = self._spare(0), self._spare(1)
        status, its, b_in, b_out, p_min, p_abs, q_abs = chord_step(
            self.x, x1, x2, predictor, w, g.n_pressure, g.off_face, fref is not None,
            fref.inv_q if fref is not None else _NO_FLOWS, fref.q_turbulent if fref is not None else 0.0, self.span,
            sysm.sweep_gas_args(self.x), res, lu.plan, 1.0 / self.levels[0], 1.0 / self.levels[1], self.opts.tol,
            self.opts.max_iter,
            self.opts.max_contraction, self.p_cap, sysm.storage_args(), sysm.boundary_args(u), x_new, M_new,
            self._work[0], self._work[1])
        if status != FAST_OK:
            return None
        ctl = self.ctl
        solved_with = ctl.cs_code.copy(), ctl.cv_code.copy()
        if ctl.update(x_new, u_cmd):  # a mode switch: the general path re-solves the step with it
            ctl.cs_code, ctl.cv_code = solved_with
            return None
        self.stats["newton_iterations"] += its
        self.stats["fast_steps"] += 1
        self.u_cmd = u_cmd
        ev_F = sysm.evaluate(x_new, u, friction=fref).F if any(co.beta) else self.F[0]
        self._commit(x_new, M_new, ev_F, float(b_in), float(b_out), co, h, t_new)
        self.p_min = self._set_scale(x_new, p_min, p_abs, q_abs)
        return True, "", u

    def _spare(self, k: int) -> F64:
        """A state-sized array for the next state (k = 0) or storage (k = 1): one dropped from the histories
        when there is one (this VM pays page faults for every fresh array; no other reference to it remains)."""
        a = self._spares[k]
        if a is None:
            return np.empty(self.system.n)
        self._spares[k] = None
        return a

    def _predictor(self, h: float) -> tuple[int, float]:
        """Which prediction :meth:`_predict` makes for a step of h (see _extrapolate), and the linear weight."""
        t_back = self.t_cur - sum(self.dts[-2:])
        if any(t_back - 1e-9 <= te < self.t_cur + h for te in self.events):
            return P_NONE, 0.0
        dts, x1, x2 = self.dts, self.x_prev, self.x_prev2
        if x1 is None or not dts:
            return P_NONE, 0.0
        if x2 is not None and len(dts) > 1 and abs(dts[-1] - h) <= 1e-9 * h and abs(dts[-2] - h) <= 1e-9 * h:
            return P_QUADRATIC, h / dts[-1]
        return P_LINEAR, h / dts[-1]

    def _solve(self, u: Controls, hist: F64, c: float, x_pred: F64, t_new: float, *,
               fresh: bool) -> tuple[bool, str, NewtonResult]:
        """Newton on the step's residual for controls u (re-linearising the friction law when flows move)."""
        sysm = self.system
        explicit = self.explicit
        g = sysm.grid
        x_start = x_pred
        lu = self.lu if (self.opts.chord and c == self.c_lu and not fresh) else None
        fref = self.fref
        if fref is not None and not _friction_close(x_start[g.off_face : g.off_other], fref, self.span):
            fref = None
        for _ in range(3):
            if fref is None:
                fref = sysm.friction_reference(x_start[g.off_face : g.off_other], self.fref_seed)
                self.fref_seed = fref
                self.stats["friction_evaluations"] += fref is not None

            def res(y: F64, fref: FrictionRef | None = fref) -> F64:
                self._guard(y)
                return sysm.residual(y, u, c, hist, friction=fref, face_flux=not explicit)

            def jac(y: F64, fref: FrictionRef | None = fref) -> sp.csc_matrix:
                self._guard(y)
                return sysm.jacobian(y, u, c, friction=fref, face_flux=not explicit)

            update = sysm.newton_update(u, c, hist, friction=fref, face_flux=not explicit, cap=self.p_cap)
            out = self._newton(res, jac, x_start, lu, update)
            self.stats["newton_iterations"] += out.iterations
            self.stats["factorizations"] += out.factorizations
            if not out.converged and (lu is not None or x_start is not self.x):
                # retry once from the last state with a fresh Jacobian before giving up
                x_start, lu = self.x, None
                out = self._newton(res, jac, x_start, None, update)
                self.stats["newton_iterations"] += out.iterations
                self.stats["factorizations"] += out.factorizations
                self.stats["newton_retries"] = self.stats.get("newton_retries", 0) + 1
            if not out.converged:
                return False, (f"Newton {out.status.value} at t = {t_new:g} s after {out.iterations} iterations "
                               f"(last scaled updates {out.update_norms[-3:]}); reduce dt or check the inputs"), out
            lu = out.lu
            if fref is None or _friction_close(out.x[g.off_face : g.off_other], fref, self.span):
                break
            x_start = out.x  # the flows moved too far for the local friction model: re-linearise there
            fref = None
        self.fref = fref
        self.lu, self.c_lu = out.lu, c
        return True, "", out

    def _guard(self, y: F64) -> None:
        """Stop a Newton iterate that left the physical range (before the gas model is asked about it)."""
        if not self.system.below_cap(y, self.p_cap):
            raise OutOfRange

    def _newton(self, res: Callable[[F64], F64], jac: Callable[[F64], sp.csc_matrix], x_start: F64,
                lu: Factorization | None, update: Callable | None) -> NewtonResult:
        """Newton from x_start; an iterate beyond the pressure cap counts as divergence (the caller retries)."""
        try:
            return newton(res, jac, x_start, scale=self.scale, options=self.opts, lu=lu,
                          linear_solver=self.system.linear_solver, update=update)
        except OutOfRange:
            return NewtonResult(x_start, NewtonStatus.DIVERGED, 1, 0, [math.inf], None)

    def _accept(self, out: NewtonResult, u: Controls, co: Coefficients, c: float, h: float,
                t_new: float) -> tuple[bool, str, Controls]:
        sysm = self.system
        x = out.x
        # F at t_{n+1} is only needed by schemes that reuse past fluxes (theta); others keep a placeholder
        ev_F = sysm.evaluate(x, u, friction=self.fref).F if any(co.beta) else self.F[0]
        b_in, b_out = _boundary(sysm, x, u)
        self._commit(x, sysm.storage(x), ev_F, b_in, b_out, co, h, t_new)
        self.p_min = self._levels(x)
        return True, "", u

    def _commit(self, x: F64, M_new: F64, ev_F: F64, b_in: float, b_out: float, co: Coefficients, h: float,
                t_new: float) -> None:
        """Take x as the state at t_new: histories, cumulative boundary mass (the scheme's quadrature)."""
        cin = _dot(co.alpha, self.cum_in)
        cout = _dot(co.alpha, self.cum_out)
        cin += h * (co.beta0 * b_in + _dot(co.beta, self.B_in))
        cout += h * (co.beta0 * b_out + _dot(co.beta, self.B_out))
        M = self.M  # histories of the last two states (most recent first)
        if len(M) == 2 and M[1] is not M_new and M[1] is not M[0]:
            self._spares[1] = M[1]  # dropped: its memory serves the next step
        self.M = [M_new, M[0]]
        self.F = [ev_F, self.F[0]]
        self.B_in, self.B_out = [b_in, self.B_in[0]], [b_out, self.B_out[0]]
        self.cum_in, self.cum_out = [cin, self.cum_in[0]], [cout, self.cum_out[0]]
        self.dts.append(h)
        old = self.x_prev2
        if old is not None and old is not x and old is not self.x and old is not self.x_prev:
            self._spares[0] = old
        self.x_prev2, self.x_prev, self.x = self.x_prev, self.x, x
        self.t_cur = t_new


def _dot(w: tuple[float, ...], v: list[float]) -> float:
    """sum(a * b for a, b in zip(w, v)), the same additions in the same order (from 0)."""
    out = 0
    for a, b in zip(w, v, strict=False):
        out = out + a * b
    return out


def _extrapolate(x: F64, x1: F64 | None, x2: F64 | None, dts: list[float], h: float, n_pressure: int) -> F64:
    """Predictor: quadratic extrapolation through the last three states (equal steps), else linear; x itself when
    there is no history or the prediction has a non-positive pressure."""
    if x1 is None or not dts:
        return x
    quadratic = x2 is not None and len(dts) > 1 and abs(dts[-1] - h) <= 1e-9 * h and abs(dts[-2] - h) <= 1e-9 * h
    out = np.empty_like(x)
    ok = extrapolate(x, x1, x2 if quadratic else x1, h / dts[-1], quadratic, n_pressure, out)  # type: ignore[arg-type]
    return out if ok else x


def _friction_close(q: F64, ref: FrictionRef, span: float) -> bool:
    """Whether flows q stay where the local friction model is accurate: |ln(|q| / |q_ref|)| <= span wherever
    the flow is turbulent, |q| > 10 min |q_ref| (its lambda error is about span^2 / 2 times the curvature of
    ln lambda(ln q))."""
    return bool(friction_close(q, ref.inv_q, ref.q_turbulent, span))


def _boundary(system: System, x: F64, u: Controls) -> tuple[float, float]:
    """Total injection of all supplies and total withdrawal of all demands and station fuel, kg/s."""
    fuel = u.fuel if u.fuel is not None else system._no_fuel
    b_in, b_out = boundary_flows(x, system.grid.off_psupply, system.ps_sup, u.supply_on, system.sup_fixed,
                                 u.supply_flow, u.demand_flow, fuel)
    return float(b_in), float(b_out)


def check_cfl(system: System, x: F64, dt: float, courant: float) -> None:
    """Raise InputError when dt exceeds courant * h / c in some pipe (c: isothermal sound speed at state x)."""
    g = system.grid
    if not g.n_faces:
        return
    _, drho = system.density(x[g.atom_var], g.atom_T)
    c_pt = 1.0 / np.sqrt(np.asarray(drho, dtype=float))
    c_pipe = np.zeros(len(g.n_cells))
    in_pipe = g.atom_pipe < len(c_pipe)
    np.maximum.at(c_pipe, g.atom_pipe[in_pipe], c_pt[in_pipe])
    bound = courant * g.h / c_pipe
    j = int(np.argmin(bound))
    if dt > bound[j] * (1.0 + 1e-12):
        net = g.net
        raise InputError(
            f"dt = {dt:g} s exceeds the CFL bound {bound[j]:.4g} s of the explicit scheme in pipe "
            f"{net.arc_ids[net.pipe.arc[j]]!r} (cell {g.h[j]:.4g} m, sound speed {c_pipe[j]:.4g} m/s, Courant "
            f"{courant:g}); use dt <= {bound[j]:.4g} s, larger cells, or an implicit scheme", field="dt")


def _progress(on: bool, t0: float, t_end: float):
    if not on:
        return None
    from rich.progress import Progress

    bar = Progress()
    task = bar.add_task("simulating", total=t_end - t0)
    bar.start()
    return bar, task


Seq = Sequence[float]
__all__ = ["Grid", "TransientOptions", "simulate"]
