"""The time stepper of a transient run: one step of the scheme at a time, with its histories and controllers.

Contract: :class:`Stepper` holds the state, the histories a multistep scheme needs (storage M, flux F, boundary
flows, step sizes), the kept factorisation and friction reference, and advances one step with :meth:`Stepper.step`:
first through the compiled fast path (:mod:`gasgrid.transient.fastpath`) when it applies, else -- and whenever the
fast path declines -- through the general path (Newton on :class:`~gasgrid.transient.system.System` with mode
switching of the station and regulator controllers). Both give the same result. :func:`advance` halves a step
that fails, recursively. Used by :func:`gasgrid.transient.simulate.simulate`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gasgrid.transient.bc import ControlSchedule
from gasgrid.transient.fastpath import OK as FAST_OK
from gasgrid.transient.fastpath import P_LINEAR, P_NONE, P_QUADRATIC, chord_step
from gasgrid.transient.friction_kernels import friction_close
from gasgrid.transient.kernels import boundary_flows, extrapolate
from gasgrid.transient.linear import Factorization, PipeEliminationLU
from gasgrid.transient.newton import NewtonOptions, NewtonResult, NewtonStatus, newton
from gasgrid.transient.schemes import Coefficients, Scheme
from gasgrid.transient.stations import Controller
from gasgrid.transient.sweep import levels
from gasgrid.transient.system import Controls, FrictionRef, OutOfRange, System

F64 = NDArray[np.float64]
_NO_FLOWS = np.zeros(0)


_MAX_STEP_RATIO = 2.4
MAX_HALVINGS = 6  # a failed step is retried as two half steps, recursively, down to dt / 2**6


def advance(stepper: Stepper, t_new: float, depth: int = 0) -> tuple[bool, str, Controls]:
    """One step to t_new; if Newton fails, two half steps (recursively): events such as a valve opening across
    a large pressure difference need shorter steps for a moment. Mass stays conserved (every sub-step is a
    step of the same scheme)."""
    codes = stepper.ctl.cs_code.copy(), stepper.ctl.cv_code.copy()
    ok, msg, u = stepper.step(t_new)
    if ok or depth >= MAX_HALVINGS:
        return ok, msg, u
    stepper.ctl.cs_code, stepper.ctl.cv_code = codes
    stepper.stats["step_halvings"] = stepper.stats.get("step_halvings", 0) + 1
    ok, msg, u = advance(stepper, 0.5 * (stepper.t_cur + t_new), depth + 1)
    return advance(stepper, t_new, depth + 1) if ok else (ok, msg, u)


class Stepper:
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
        ctl = self.ctl
        fwd = np.empty((5, len(ctl.cs_pos)))
        status, its, b_in, b_out, p_min, p_abs, q_abs = chord_step(
            self.x, x1, x2, predictor, w, g.n_pressure, g.off_face, fref is not None,
            fref.inv_q if fref is not None else _NO_FLOWS, fref.q_turbulent if fref is not None else 0.0, self.span,
            sysm.sweep_gas_args(self.x), res, lu.plan, 1.0 / self.levels[0], 1.0 / self.levels[1], self.opts.tol,
            self.opts.max_iter, self.opts.max_contraction, self.p_cap, sysm.storage_args(), sysm.boundary_args(u),
            ctl.station_args(), ctl.limit_args(u_cmd), x_new, M_new, fwd, self._work[0], self._work[1])
        if status != FAST_OK:
            return None
        ctl.remember_forward(x_new, fwd)  # the controllers saw no limit crossed: no mode changes
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

            out = self._newton(res, jac, x_start, lu)
            self.stats["newton_iterations"] += out.iterations
            self.stats["factorizations"] += out.factorizations
            if not out.converged and (lu is not None or x_start is not self.x):
                # retry once from the last state with a fresh Jacobian before giving up
                x_start, lu = self.x, None
                out = self._newton(res, jac, x_start, None)
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
                lu: Factorization | None) -> NewtonResult:
        """Newton from x_start; an iterate beyond the pressure cap counts as divergence (the caller retries)."""
        try:
            return newton(res, jac, x_start, scale=self.scale, options=self.opts, lu=lu,
                          linear_solver=self.system.linear_solver)
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


__all__ = ["MAX_HALVINGS", "Stepper", "advance"]
