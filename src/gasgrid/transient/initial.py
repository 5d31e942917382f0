"""Initial states: a given state interpolated onto the grid, or the discrete steady state.

Contract: :func:`initial_vector` returns the grid's unknown vector at t0. ``"steady"`` solves the
time-discrete equations with the time derivative dropped (``F(x, u(t0)) = 0``) by damped Newton, started
from the given state, from the steady solver's result if available, or from flat pressures; pseudo-transient
continuation (backward-Euler steps of growing size) is the fallback. Because this is the steady state of the
*discrete* equations, a run started from it with constant inputs stays there to round-off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gasgrid.errors import ConvergenceError, InputError
from gasgrid.linalg.vector import abs_max
from gasgrid.transient.newton import NewtonOptions, newton
from gasgrid.transient.system import Q_SCALE, ArcMode, Controls, System

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class InitialState:
    """A given initial state (SI): node pressures and arc flows (pipes: uniform flow along the pipe).

    Pipe-interior pressures follow the isothermal steady profile p(x)^2 = p0^2 + (pL^2 - p0^2) x / L.
    Missing arc flows start at 0. With ``project=True`` the state is polished into the discrete steady
    state for the inputs at t0 (use when the given state is only approximately steady).
    """

    p_node_Pa: Mapping[str, float]
    q_arc_kg_s: Mapping[str, float] = field(default_factory=dict)
    project: bool = False


def interpolate_state(system: System, u: Controls, init: InitialState) -> F64:
    """Unknown vector from node pressures and arc flows (see :class:`InitialState`)."""
    g = system.grid
    net = g.net
    x = np.zeros(g.n)
    missing = [str(n) for n in net.node_ids if str(n) not in init.p_node_Pa]
    if missing:
        raise InputError(f"initial state lacks the pressure of {len(missing)} node(s), e.g. {missing[0]!r}",
                         kind="initial state")
    for k in init.p_node_Pa:
        net.node_index(str(k))
    x[: g.n_nodes] = [float(init.p_node_Pa[str(n)]) for n in net.node_ids]
    if np.any(x[: g.n_nodes] <= 0.0) or not np.all(np.isfinite(x[: g.n_nodes])):
        raise InputError("initial pressures must be positive and finite", kind="initial state")
    q_arc = np.zeros(net.n_arcs)
    for k, v in init.q_arc_kg_s.items():
        q_arc[net.arc_index(str(k))] = float(v)
    pb = net.pipe
    for j in range(len(pb)):
        a = int(pb.arc[j])
        p0, pl = x[net.arc_from[a]], x[net.arc_to[a]]
        n = int(g.n_cells[j])
        frac = np.arange(1, n) / n
        pts = g.point_var[g.point_start[j] + 1 : g.point_start[j] + n]
        x[pts] = np.sqrt(p0 * p0 + (pl * pl - p0 * p0) * frac)
        x[g.off_face + g.face_start[j] : g.off_face + g.face_start[j] + n] = q_arc[a]
    x[g.off_other : g.off_psupply] = q_arc[g.other_arcs]
    _supply_from_balance(system, x, u)
    return x


def _supply_from_balance(system: System, x: F64, u: Controls) -> None:
    """Injections of pressure supplies that close the node balances of the given flows."""
    g = system.grid
    x[g.off_psupply :] = 0.0
    F = system.evaluate(x, u).F
    nodes = system.grid.net.supply.node[g.psupply]
    for i, nd in enumerate(nodes):
        if u.supply_on[g.psupply[i]]:
            share = 1.0 / np.count_nonzero(nodes == nd)
            x[g.off_psupply + i] = -F[nd] * share


def flat_guess(system: System, u: Controls) -> F64:
    """Every pressure at the highest set pressure in the network, no flow."""
    g = system.grid
    levels = [u.supply_p[g.psupply][u.supply_on[g.psupply]]]
    m = np.isin(u.arc_mode, [ArcMode.P_TO, ArcMode.P_FROM, ArcMode.REGULATOR])
    levels.append(u.arc_value[m])
    vals = np.concatenate(levels) if levels else np.zeros(0)
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        raise InputError("no pressure reference: add a pressure supply or give an initial state",
                         kind="initial state")
    x = np.zeros(g.n)
    x[: g.n_pressure] = float(vals.max())
    return x


def _seed_from_steady_solver(system: System) -> InitialState | None:
    """Node pressures and arc flows from ``gasgrid.steady.solve_steady`` when it is available and succeeds."""
    try:
        from gasgrid.steady import solve_steady
    except ImportError:
        return None
    net = system.grid.net
    try:
        res = solve_steady(net)
        p = res.nodes["p_Pa"]
        q = res.arcs["q_kg_s"]
        if not (np.all(np.isfinite(p.to_numpy(dtype=float))) and np.all(p.to_numpy(dtype=float) > 0.0)):
            return None  # a failed steady solve: no usable seed
        init = InitialState(p_node_Pa={str(k): float(v) for k, v in p.items()},
                            q_arc_kg_s={str(k): float(v) for k, v in q.items() if math.isfinite(v)})
    except Exception:  # the seed is optional; the discrete solve below decides
        return None
    return init


def steady_vector(system: System, u: Controls, x0: F64 | None = None, *, tol: float = 1e-11) -> F64:
    """The discrete steady state for inputs u (see module docstring). Raises ConvergenceError."""
    g = system.grid
    if x0 is None:
        seed = _seed_from_steady_solver(system)
        x0 = interpolate_state(system, u, seed) if seed is not None else flat_guess(system, u)
    scale = _scale(system, x0)
    opts = NewtonOptions(tol=tol, max_iter=60, chord=False)
    zero = np.zeros(g.n)
    solver = system.linear_solver

    def res(x: F64) -> F64:
        return system.residual(x, u, 0.0, zero)

    def jac(x: F64) -> sp.csc_matrix:
        return system.jacobian(x, u, 0.0)

    out = newton(res, jac, x0, scale=scale, options=opts, linear_solver=solver)
    if out.converged and np.all(out.x[: g.n_pressure] > 0):
        return out.x
    # pseudo-transient continuation: backward-Euler steps with growing dt from the guess
    x = np.array(x0, dtype=float)
    dt = 1.0
    for _ in range(80):
        c = 1.0 / dt
        hist = c * system.evaluate(x, u).M

        def res_t(y: F64, c: float = c, hist: F64 = hist) -> F64:
            return system.residual(y, u, c, hist)

        def jac_t(y: F64, c: float = c) -> sp.csc_matrix:
            return system.jacobian(y, u, c)

        step = newton(res_t, jac_t, x, scale=scale, options=NewtonOptions(tol=1e-8, max_iter=30, chord=False),
                      linear_solver=solver)
        if step.converged and np.all(step.x[: g.n_pressure] > 0):
            x = step.x
            dt *= 3.0
            if dt > 1e8:
                break
        else:
            dt /= 4.0
            if dt < 1e-3:
                break
    out = newton(res, jac, x, scale=scale, options=opts, linear_solver=solver)
    if out.converged and np.all(out.x[: g.n_pressure] > 0):
        return out.x
    raise ConvergenceError("no steady initial state found for the inputs at t0: check that every island has a "
                           "pressure supply and that the demands can be delivered, or give an InitialState")


def _scale(system: System, x: F64) -> F64:
    """Per-unknown scale for convergence tests: the pressure level for pressures, the flow level for flows."""
    g = system.grid
    p_ref = max(abs_max(x, 0, g.n_pressure), 1e5)
    q_ref = max(abs_max(x, g.n_pressure, g.n), 1.0)
    scale = np.empty(g.n)
    scale[: g.n_pressure] = p_ref
    scale[g.n_pressure :] = q_ref
    return scale


__all__ = ["Q_SCALE", "InitialState", "flat_guess", "interpolate_state", "steady_vector"]
