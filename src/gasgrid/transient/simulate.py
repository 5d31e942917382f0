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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gasgrid.errors import ConvergenceError, InfeasibleError, InputError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.model.network import Network
from gasgrid.transient.bc import BoundaryConditions, ControlSchedule, validate_bc
from gasgrid.transient.grid import Grid, build_grid
from gasgrid.transient.initial import InitialState, interpolate_state, steady_vector
from gasgrid.transient.newton import NewtonOptions
from gasgrid.transient.output import TransientResult, TransientStatus
from gasgrid.transient.record import Recorder
from gasgrid.transient.schemes import ImplicitEuler, Scheme
from gasgrid.transient.stations import Controller
from gasgrid.transient.stepper import Stepper, advance
from gasgrid.transient.system import Controls, System
from gasgrid.units import Reference

F64 = NDArray[np.float64]
_DEFAULT_SCHEME = ImplicitEuler()


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
    stepper = Stepper(system, sched, scheme, options.newton, x, u0, t0, options.friction_span, ctl,
                       options.max_control_passes)
    rec.maybe_save(t0, x, u0, u_cmd0, stepper.cum_in[0], stepper.cum_out[0])
    status, message = TransientStatus.SUCCESS, f"reached t_end = {t_end:g} s"
    bar = _progress(progress, t0, t_end)
    try:
        for t_new in times[1:]:
            ok, msg, u = advance(stepper, float(t_new))
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
