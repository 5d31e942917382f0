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
from gasgrid.transient.initial import InitialState, _scale, interpolate_state, steady_vector
from gasgrid.transient.newton import NewtonOptions, newton
from gasgrid.transient.output import TransientResult, TransientStatus
from gasgrid.transient.schemes import ImplicitEuler, Scheme
from gasgrid.transient.system import Controls, FrictionRef, System
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
    """

    inertia: bool = True
    newton: NewtonOptions = field(default_factory=NewtonOptions)
    reference: Reference = Reference.NORMAL
    friction_span: float = 1e-3
    node_volume_m3: float = 1.0

    def __post_init__(self) -> None:
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
    u0 = sched.at(t0)
    explicit = getattr(scheme, "explicit", False)
    if explicit and not options.inertia:
        raise InputError("the explicit scheme needs inertia=True (the parabolic model is stiff)", field="scheme")
    x = _initial(system, u0, initial)
    if explicit:  # the bound depends on the sound speed, hence on the initial pressures
        check_cfl(system, x, float(np.max(np.diff(times))), scheme.courant)  # type: ignore[attr-defined]
    t_setup = time.perf_counter() - t_wall
    rec = _Recorder(system, save_times, options.reference)
    stepper = _Stepper(system, sched, scheme, options.newton, x, u0, t0, options.friction_span)
    rec.maybe_save(t0, x, u0, stepper.cum_in[0], stepper.cum_out[0])
    status, message = TransientStatus.SUCCESS, f"reached t_end = {t_end:g} s"
    bar = _progress(progress, t0, t_end)
    try:
        for t_new in times[1:]:
            ok, msg, u = stepper.step(float(t_new))
            if not ok:
                status, message = TransientStatus.NEWTON_FAILED, msg
                break
            low = np.flatnonzero(stepper.x[: grid.n_pressure] <= 0.0)
            if low.size:
                status = TransientStatus.INFEASIBLE
                message = (f"pressure fell to zero at t = {t_new:g} s at {_where(grid, int(low[0]))}: the network "
                           "cannot deliver the demands there; reduce withdrawals or add supply")
                break
            rec.maybe_save(float(t_new), stepper.x, u, stepper.cum_in[0], stepper.cum_out[0])
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


def _initial(system: System, u0: Controls, initial: InitialState | str | ArrayLike) -> F64:
    if isinstance(initial, str):
        if initial != "steady":
            raise InputError(f"initial must be 'steady', an InitialState or a state vector, got {initial!r}")
        return steady_vector(system, u0)
    if isinstance(initial, InitialState):
        x = interpolate_state(system, u0, initial)
        return steady_vector(system, u0, x) if initial.project else x
    x = np.asarray(initial, dtype=float)
    if x.shape != (system.grid.n,):
        raise InputError(f"initial state vector has shape {x.shape}, the grid needs ({system.grid.n},)")
    return x.copy()


class _Stepper:
    """Holds the history a multistep scheme needs; advances one step at a time."""

    def __init__(self, system: System, sched: ControlSchedule, scheme: Scheme, opts: NewtonOptions, x0: F64,
                 u0: Controls, t0: float, span: float) -> None:
        self.system, self.sched, self.scheme, self.opts = system, sched, scheme, opts
        self.x = x0.copy()
        self.x_prev: F64 | None = None
        self.x_prev2: F64 | None = None
        ev = system.evaluate(x0, u0, jacobian=False)
        g = system.grid
        self.explicit = scheme.coefficients((1.0,)).explicit_storage
        n_atoms = len(g.atom_var)
        self.face_entries = np.zeros(g.pattern.rows.shape, dtype=bool)  # face flows in mass balances
        self.face_entries[n_atoms : n_atoms + 2 * g.n_faces] = True
        b_in, b_out = _boundary(system, x0, u0)
        self.M = [ev.M]
        self.F = [ev.F]
        self.B_in, self.B_out = [b_in], [b_out]
        self.cum_in, self.cum_out = [0.0], [0.0]
        self.dts: list[float] = []
        self.t_cur = t0
        self.lu: object | None = None
        self.c_lu = math.nan
        self.diff = system.differential_rows
        self.stats = {"newton_iterations": 0, "factorizations": 0, "friction_evaluations": 0}
        self.fref: FrictionRef | None = None
        self.events = sorted(sched.event_times())
        self.span = span

    def _predict(self, h: float) -> F64:
        t_back = self.t_cur - sum(self.dts[-2:])
        if any(t_back - 1e-9 <= te < self.t_cur + h for te in self.events):
            return self.x  # inputs jump in the stencil: extrapolation would be wrong
        x_pred = _extrapolate(self.x, self.x_prev, self.x_prev2, self.dts, h)
        if np.any(x_pred[: self.system.grid.n_pressure] <= 0.0):
            return self.x
        return x_pred

    def step(self, t_new: float) -> tuple[bool, str, Controls]:
        sysm = self.system
        h = t_new - self.t_cur
        co = self.scheme.coefficients((h, *self.dts[::-1][:2]))
        u = self.sched.at(t_new)
        c = 1.0 / (co.beta0 * h)
        hist = np.zeros(sysm.n)
        for a, M in zip(co.alpha, self.M, strict=False):
            hist += (c * a) * M
        for b, F in zip(co.beta, self.F, strict=False):
            if b:
                hist += np.where(self.diff, (b / co.beta0) * F, 0.0)
        explicit = self.explicit
        if explicit:  # pipe-face flows of t_n in every mass balance (conservative: one time level per flow)
            hist += sysm.face_flux(self.x)

        x_pred = self._predict(h)
        g = sysm.grid
        x_start = x_pred
        lu = self.lu if (self.opts.chord and c == self.c_lu) else None
        fref = self.fref
        if fref is not None and not _friction_close(x_start[g.off_face : g.off_other], fref, self.span):
            fref = None
        for _ in range(3):
            if fref is None:
                fref = sysm.friction_reference(x_start[g.off_face : g.off_other])
                self.stats["friction_evaluations"] += fref is not None

            def res(y: F64, fref: FrictionRef | None = fref) -> F64:
                ev = sysm.evaluate(y, u, jacobian=False, friction=fref)
                return c * ev.M - (ev.F - sysm.face_flux(y) if explicit else ev.F) - hist

            def jac(y: F64, fref: FrictionRef | None = fref):
                ev = sysm.evaluate(y, u, jacobian=True, friction=fref)
                assert ev.dM is not None and ev.dF is not None
                dF = np.where(self.face_entries, 0.0, ev.dF) if explicit else ev.dF
                return sysm.matrix(c * ev.dM - dF)

            out = newton(res, jac, x_start, scale=_scale(sysm, self.x), options=self.opts, lu=lu)
            self.stats["newton_iterations"] += out.iterations
            self.stats["factorizations"] += out.factorizations
            if not out.converged and (lu is not None or x_start is not self.x):
                # retry once from the last state with a fresh Jacobian before giving up
                x_start, lu = self.x, None
                out = newton(res, jac, x_start, scale=_scale(sysm, self.x), options=self.opts, lu=None)
                self.stats["newton_iterations"] += out.iterations
                self.stats["factorizations"] += out.factorizations
                self.stats["newton_retries"] = self.stats.get("newton_retries", 0) + 1
            if not out.converged:
                return False, (f"Newton {out.status.value} at t = {t_new:g} s after {out.iterations} iterations "
                               f"(last scaled updates {out.update_norms[-3:]}); reduce dt or check the inputs"), u
            lu = out.lu
            if fref is None or _friction_close(out.x[g.off_face : g.off_other], fref, self.span):
                break
            x_start = out.x  # the flows moved too far for the local friction model: re-linearise there
            fref = None
        self.fref = fref
        self.lu, self.c_lu = out.lu, c
        x = out.x
        # F at t_{n+1} is only needed by schemes that reuse past fluxes (theta); others keep a placeholder
        ev_F = sysm.evaluate(x, u, jacobian=False, friction=fref).F if any(co.beta) else self.F[0]
        M_new = sysm.storage(x)
        b_in, b_out = _boundary(sysm, x, u)
        cin = sum(a * v for a, v in zip(co.alpha, self.cum_in, strict=False))
        cout = sum(a * v for a, v in zip(co.alpha, self.cum_out, strict=False))
        cin += h * (co.beta0 * b_in + sum(b * v for b, v in zip(co.beta, self.B_in, strict=False)))
        cout += h * (co.beta0 * b_out + sum(b * v for b, v in zip(co.beta, self.B_out, strict=False)))
        keep = 2
        self.M = [M_new, *self.M][:keep]
        self.F = [ev_F, *self.F][:keep]
        self.B_in, self.B_out = [b_in, *self.B_in][:keep], [b_out, *self.B_out][:keep]
        self.cum_in, self.cum_out = [cin, *self.cum_in][:keep], [cout, *self.cum_out][:keep]
        self.dts.append(h)
        self.x_prev2, self.x_prev, self.x = self.x_prev, self.x, x
        self.t_cur = t_new
        return True, "", u


def _extrapolate(x: F64, x1: F64 | None, x2: F64 | None, dts: list[float], h: float) -> F64:
    """Predictor: quadratic extrapolation through the last three states (equal steps), else linear."""
    if x1 is None or not dts:
        return x
    if x2 is not None and len(dts) > 1 and abs(dts[-1] - h) <= 1e-9 * h and abs(dts[-2] - h) <= 1e-9 * h:
        return 3.0 * (x - x1) + x2
    return x + (h / dts[-1]) * (x - x1)


def _friction_close(q: F64, ref: FrictionRef, span: float) -> bool:
    """Whether flows q stay where the local friction model is accurate: |ln(|q| / |q_ref|)| <= span wherever
    the flow is turbulent (its lambda error is about span^2 / 2 times the curvature of ln lambda(ln q))."""
    aq = np.abs(q)
    big = aq > 10.0 * ref.q_abs.min()
    if not big.any():
        return True
    return bool(np.max(np.abs(np.log(np.maximum(aq[big], 1e-12) / ref.q_abs[big]))) <= span)


def _boundary(system: System, x: F64, u: Controls) -> tuple[float, float]:
    """Total injection of all supplies and total withdrawal of all demands, kg/s."""
    g = system.grid
    net = g.net
    inj = np.where(u.supply_on & ~net.supply.fixed_pressure, u.supply_flow, 0.0)
    inj[g.psupply] = x[g.off_psupply :]
    return float(np.sum(inj)), float(np.sum(u.demand_flow))


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


class _Recorder:
    """Collects the saved quantities and builds the Dataset."""

    def __init__(self, system: System, save_times: F64, reference: Reference) -> None:
        self.system = system
        self.save_times = save_times
        self.reference = reference
        self.rows: dict[str, list] = {k: [] for k in ("t", "p", "qin", "qout", "qa", "sup", "dem", "lp", "lp_total", "cin",
                                                      "cout", "pw")}

    def maybe_save(self, t: float, x: F64, u: Controls, cin: float, cout: float) -> None:
        st = self.save_times
        if st.size and not np.any(np.abs(st - t) <= 1e-6 * max(1.0, abs(t))):
            return
        g = self.system.grid
        net = g.net
        r = self.rows
        r["t"].append(t)
        r["p"].append(x[: g.n_nodes].copy())
        r["qin"].append(x[g.off_face + g.pipe_first_face()].copy())
        r["qout"].append(x[g.off_face + g.pipe_last_face()].copy())
        r["qa"].append(x[g.off_other : g.off_psupply].copy())
        sup = np.where(u.supply_on, u.supply_flow, 0.0)
        sup[g.psupply] = x[g.off_psupply :]
        r["sup"].append(sup)
        r["dem"].append(u.demand_flow.copy())
        lp = np.bincount(g.atom_pipe, weights=self.system.masses(x), minlength=len(net.pipe) + 1)
        r["lp"].append(lp[: len(net.pipe)])
        r["lp_total"].append(float(lp.sum()))
        r["pw"].append(self._station_power(x))
        r["cin"].append(cin)
        r["cout"].append(cout)

    def _station_power(self, x: F64) -> F64:
        """Shaft power [W] of every compressor from its flow and pressures (zero when not compressing)."""
        g = self.system.grid
        cb = g.net.compressor
        if not len(cb):
            return np.zeros(0)
        from gasgrid.physics.compressor import station_power

        pos = np.searchsorted(g.other_arcs, cb.arc)
        q = x[g.off_other + pos]
        ps, pd = x[g.net.arc_from[cb.arc]], x[g.net.arc_to[cb.arc]]
        T = np.where(np.isfinite(cb.suction_temperature), cb.suction_temperature, g.net.temperature)
        st = station_power(q, ps, pd, T_suction=T, efficiency=cb.efficiency, polytropic=cb.polytropic,
                           electric=cb.electric, driver_efficiency=cb.driver_efficiency, gas=g.net.gas)
        return np.where(q > 0.0, st.power_shaft, 0.0)

    def dataset(self, scheme: Scheme, dt: float, dx: float, options: TransientOptions, stats: dict):
        import xarray as xr

        g = self.system.grid
        net = g.net
        r = self.rows
        t = np.asarray(r["t"])
        lp = np.asarray(r["lp"]).reshape(len(t), len(net.pipe))
        total = np.asarray(r["lp_total"])
        rho_ref = net.gas.reference_density(options.reference)
        pipe_ids = [str(a) for a in net.arc_ids[net.pipe.arc]]
        other_ids = [str(a) for a in net.arc_ids[g.other_arcs]]
        ds = xr.Dataset(
            {
                "p_Pa": (("time", "node"), np.asarray(r["p"]).reshape(len(t), g.n_nodes), {"units": "Pa"}),
                "p_min_Pa": (("node",), np.asarray(net.p_min, float), {"units": "Pa"}),
                "pipe_inflow_kg_s": (("time", "pipe"), np.asarray(r["qin"]).reshape(len(t), -1), {"units": "kg/s"}),
                "pipe_outflow_kg_s": (("time", "pipe"), np.asarray(r["qout"]).reshape(len(t), -1),
                                      {"units": "kg/s"}),
                "arc_flow_kg_s": (("time", "arc"), np.asarray(r["qa"]).reshape(len(t), -1), {"units": "kg/s"}),
                "supply_kg_s": (("time", "supply"), np.asarray(r["sup"]).reshape(len(t), -1), {"units": "kg/s"}),
                "demand_kg_s": (("time", "demand"), np.asarray(r["dem"]).reshape(len(t), -1), {"units": "kg/s"}),
                "compressor_power_W": (("time", "compressor"), np.asarray(r["pw"]).reshape(len(t), -1),
                                       {"units": "W", "what": "shaft power (fuel gas is not withdrawn)"}),
                "linepack_pipe_kg": (("time", "pipe"), lp, {"units": "kg"}),
                "linepack_kg": (("time",), total, {"units": "kg"}),
                "linepack_m3": (("time",), total / rho_ref,
                                {"units": "m3", "reference": str(options.reference.value)}),
                "cum_inflow_kg": (("time",), np.asarray(r["cin"]), {"units": "kg"}),
                "cum_outflow_kg": (("time",), np.asarray(r["cout"]), {"units": "kg"}),
            },
            coords={
                "time": ("time", t, {"units": "s"}),
                "node": [str(n) for n in net.node_ids],
                "pipe": pipe_ids,
                "arc": other_ids,
                "supply": [str(s) for s in net.supply.ids],
                "compressor": [str(a) for a in net.arc_ids[net.compressor.arc]],
                "demand": [str(d) for d in net.demand.ids],
            },
            attrs={
                "network": net.name,
                "scheme": scheme.name,
                "scheme_order": scheme.order,
                "dt_s": float(dt),
                "dx_m": float(dx),
                "inertia": int(options.inertia),
                "reference": str(options.reference.value),
                "demand_nodes": ",".join(str(net.node_ids[i]) for i in np.unique(net.demand.node)),
                "wall_s": float(stats.get("wall_s", math.nan)),
            },
        )
        return ds


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
