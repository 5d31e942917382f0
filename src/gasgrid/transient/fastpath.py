"""The usual time step in one compiled call: predictor, chord Newton with the step's factorisation, storage.

Contract: :func:`chord_step` does what :class:`gasgrid.transient.stepper.Stepper` does for a step in which
nothing unusual happens -- the local friction model still holds at the prediction and at the solution, the
factorisation kept from earlier steps converges (``newton`` would not refactorise), no table must grow and no
iterate leaves the pressure range -- with the same operations in the same order, so the result is identical.
Anything else returns ``FALLBACK`` and the stepper takes its general path for the step, from the start: the
general path is deterministic, so the outcome is the same as if the fast path did not exist (the tests compare
runs with and without it). Station and regulator limits are checked at the solution as
:meth:`~gasgrid.transient.stations.Controller.update` would (a mode switch, too, sends the step down the general
path).

Outputs: the new state and its storage M (into ``x_new``, ``M_new``), the Newton iterations, the boundary flows
b_in, b_out [kg/s] and the levels (lowest pressure, largest |pressure|, largest |flow|) of the new state.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from gasgrid.transient._jit import JIT
from gasgrid.transient.friction_kernels import close_bounds, flow_close
from gasgrid.transient.gas_kernels import station_forward
from gasgrid.transient.kernels import boundary_flows
from gasgrid.transient.linear import solve_apply
from gasgrid.transient.stations import limits_hold
from gasgrid.transient.sweep import accept, residual

F64 = NDArray[np.float64]

OK, FALLBACK = 0, 1
P_NONE, P_LINEAR, P_QUADRATIC = 0, 1, 2  # predictor: x itself, linear or quadratic extrapolation


@numba.njit(**JIT)
def chord_step(x: F64, x1: F64, x2: F64, predictor: int, w: float, n_pressure: int, off_face: int,
               check_friction: bool, inv_q_ref: F64, q_turbulent: float, span: float, gas: tuple, res: tuple,
               plan: tuple, inv_p: float, inv_q: float, tol: float, max_iter: int, max_contraction: float, cap: float,
               stor: tuple, bnd: tuple, stations: tuple, limits: tuple, x_new: F64, M_new: F64, fwd: F64, dx: F64,
               R: F64) -> tuple[int, int, float, float, float, float, float]:
    """One step (see module docstring): (status, iterations, b_in, b_out, p_min, |p|max, |q|max). ``x_new`` holds
    the iterates; dx and R are work arrays (no allocation of state-sized arrays: fresh pages cost). ``stations``:
    ``gas_kernels.station_forward``'s arguments after the state, ``fwd`` its output (the stations' forward power
    and fuel at the new state); ``limits``: ``stations.limits_hold``'s arguments after the state and power."""
    nan = math.nan
    fail = (FALLBACK, 0, nan, nan, nan, nan, nan)
    xs = x_new
    if not predict(x, x1, x2, predictor, w, n_pressure, off_face, check_friction, inv_q_ref, q_turbulent, span, xs):
        return fail
    # Newton with the inherited factorisation (gasgrid.transient.newton.newton, chord, age 1 at the start)
    norms = np.empty(max_iter)
    n_norms = 0
    converged = False
    for _ in range(max_iter):
        for i in range(n_pressure):  # the stepper's pressure cap (Stepper._guard)
            if not xs[i] < cap:
                return fail
        if residual(xs, *gas, *res, R) > 0.0:
            return fail
        # J^-1 R, subtracted from xs: the update -J^-1 R (the elimination is linear: exactly the same numbers)
        nrm = solve_apply(R, plan, dx, xs, inv_p, inv_q)
        if not math.isfinite(nrm):
            return fail
        if n_norms and nrm > norms[n_norms - 1]:
            return fail  # newton would refactorise here (and not apply the update)
        norms[n_norms] = nrm
        n_norms += 1
        if nrm < tol:
            converged = True
            break
        if n_norms > 1 and norms[n_norms - 2] > 0:
            rate = nrm / norms[n_norms - 2]
            if rate < 0.5 and rate / (1.0 - rate) * nrm < tol:
                converged = True
                break
        if n_norms > 1 and nrm > max_contraction * norms[n_norms - 2]:
            return fail  # newton would refactorise here
    if not converged:
        return fail
    over, close, p_min, p_abs, q_abs = accept(xs, *gas, *stor, check_friction, inv_q_ref, q_turbulent, span, M_new)
    if over > 0.0 or not close:
        return fail
    if fwd.shape[1] and station_forward(xs, *stations, fwd) > 0.0:
        return fail
    if not limits_hold(xs, fwd[0], *limits):
        return fail  # a station or regulator would switch mode: the general path re-solves the step
    b_in, b_out = boundary_flows(xs, *bnd)
    return OK, n_norms, b_in, b_out, p_min, p_abs, q_abs


@numba.njit(**JIT)
def predict(x: F64, x1: F64, x2: F64, predictor: int, w: float, n_pressure: int, off_face: int, check: bool,
            inv_q_ref: F64, q_turbulent: float, span: float, xs: F64) -> bool:
    """The stepper's prediction (simulate._predict: ``kernels.extrapolate``, or x itself without history, with an
    event in the stencil or a non-positive predicted pressure) into xs, and whether its pipe-face flows keep the
    local friction model (``friction_kernels.friction_close``; True without ``check``), in one pass."""
    n_faces = inv_q_ref.size if check else 0
    lo, hi = close_bounds(span)
    close = True
    positive = predictor != P_NONE
    if positive:
        quadratic = predictor == P_QUADRATIC
        for i in range(x.size):
            v = 3.0 * (x[i] - x1[i]) + x2[i] if quadratic else x[i] + w * (x[i] - x1[i])
            xs[i] = v
            if i < n_pressure and v <= 0.0:
                positive = False
            k = i - off_face
            if 0 <= k < n_faces and not flow_close(abs(v), inv_q_ref[k], q_turbulent, lo, hi, span):
                close = False
    if positive:
        return close
    xs[:] = x
    for k in range(n_faces):  # noqa: SIM110 (numba compiles the loop, not all() of a generator)
        if not flow_close(abs(x[off_face + k]), inv_q_ref[k], q_turbulent, lo, hi, span):
            return False
    return True


__all__ = ["FALLBACK", "OK", "chord_step", "predict"]
