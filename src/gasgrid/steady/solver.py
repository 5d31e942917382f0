"""The steady-state entry point: :func:`solve_steady`.

Pipeline: Network -> CompiledNetwork -> SteadySystem (topology, cached per behaviour set) -> Newton on the
sparse system -> post-processing into a :class:`SteadyResult` (tables, violations, mass balance).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.components.compressor import MODES as CS_MODES
from gasgrid.components.control_valve import MODES as CV_MODES
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady import fastpath
from gasgrid.steady.assemble import ArcSetPoints, Assembler
from gasgrid.steady.newton import LinearSolver, NewtonOptions, NewtonResult, newton
from gasgrid.steady.nodal import NodalLU
from gasgrid.steady.options import InitialGuess, SteadyOptions
from gasgrid.steady.result import SteadyResult, build_result
from gasgrid.steady.system import Behaviour, SteadySystem, arc_behaviour, build_system, member

if TYPE_CHECKING:
    from gasgrid.model.network import Network

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


_PASSIVE_CS = (CS_MODES.index("bypass"), CS_MODES.index("off"))
_CV_SET_POINT = CV_MODES.index("set_point")
_CHECK_VALVE = ARC_KINDS.index("check_valve")
_POWER = int(Behaviour.POWER)
_RATIO = int(Behaviour.RATIO)


def solve_steady(
    network: Network | CompiledNetwork,
    *,
    options: SteadyOptions | None = None,
    initial: SteadyResult | None = None,
) -> SteadyResult:
    """Solve the steady state of a network.

    Args:
        network: a :class:`~gasgrid.Network` (compiled here) or a compiled network.
        options: solver options.
        initial: a previous result on the same network to warm-start from.

    Returns:
        A :class:`SteadyResult`; its ``status`` says whether the state is within bounds, violates bounds
        (violations listed), is infeasible (pressure would collapse; where is named) or did not converge.
        Input and topology errors raise :class:`~gasgrid.errors.InputError` subclasses.
    """
    opts = options or SteadyOptions()
    t0 = time.perf_counter()
    net = network if isinstance(network, CompiledNetwork) else network.compile()
    t_compile = time.perf_counter() - t0
    if opts.controllers and _needs_controllers(net):
        from gasgrid.steady.control import solve_with_controllers

        result = solve_with_controllers(net, opts, initial)
    else:
        result = solve_fixed_modes(net, opts, initial)
    result.timings["compile_s"] = t_compile
    return result


def _needs_controllers(net: CompiledNetwork) -> bool:
    """Controllers matter only for stations that compress, regulators on set points and check valves."""
    cs = net.compressor
    if len(cs) and (~member(cs.mode, _PASSIVE_CS) & net.arc_active[cs.arc]).any():
        return True
    cv = net.control_valve
    if len(cv) and ((cv.mode == _CV_SET_POINT) & net.arc_active[cv.arc]).any():
        return True
    return bool(np.any(net.arc_kind == _CHECK_VALVE))


def solve_fixed_modes(
    net: CompiledNetwork,
    opts: SteadyOptions,
    initial: SteadyResult | None = None,
    *,
    behaviour: I64 | None = None,
    sets: ArcSetPoints | None = None,
    extra_withdrawal: F64 | None = None,
) -> SteadyResult:
    """One Newton solve with every arc's behaviour and set point fixed.

    ``extra_withdrawal`` [kg/s per node] is added to the demands (fuel gas of compressor stations)."""
    t0 = time.perf_counter()
    b = arc_behaviour(net) if behaviour is None else behaviour
    sets = arc_set_points(net) if sets is None else sets
    power = b == _POWER
    if initial is None and power.any():
        # the power equation has no flow derivative at ratio 1: start from a state with some compression
        b0 = np.where(power, _RATIO, b)
        ratio2 = np.where(power, 1.2**2, sets.ratio2)
        pre = solve_fixed_modes(net, opts, None, behaviour=b0, sets=replace(sets, ratio2=ratio2),
                                extra_withdrawal=extra_withdrawal)
        if pre.has_state:
            initial = pre
    sys = _system_for(net, b)
    withdrawal = node_withdrawal(net)
    if extra_withdrawal is not None:
        withdrawal = withdrawal + extra_withdrawal
    asm = Assembler(net, sys, sets, withdrawal)
    t1 = time.perf_counter()
    newton_opts = NewtonOptions(tol=opts.tol, max_iter=opts.max_iter, line_search=opts.line_search)
    nres = None
    t2 = t1
    if opts.linear_solver is None and fastpath.supported(asm):
        # the usual case in one compiled call (its Picard steps are counted in newton_s); None: the general
        # path decides (the compiled attempt's time then counts in initial_s)
        x_start = None if initial is None and opts.initial_guess is InitialGuess.PICARD else \
            _initial_state(asm, opts, initial, _linear_solver(opts, sys))
        t2 = time.perf_counter()
        nres = fastpath.fast_newton(asm, newton_opts, x_start)
    if nres is None:
        x0 = _initial_state(asm, opts, initial, _linear_solver(opts, sys))
        t2 = time.perf_counter()
        nres = newton(lambda x, jac: asm(x, jac), x0, options=newton_opts, linear_solver=_linear_solver(opts, sys))
    t3 = time.perf_counter()
    result = build_result(net, sys, asm, nres, opts, withdrawal)
    result.timings.update(
        {"system_s": t1 - t0, "initial_s": t2 - t1, "newton_s": t3 - t2, "post_s": time.perf_counter() - t3}
    )
    return result


def node_withdrawal(net: CompiledNetwork) -> F64:
    """Net withdrawal per node, kg/s: active demands minus active fixed-flow supplies."""
    w = np.zeros(net.n_nodes)
    d = net.demand
    np.add.at(w, d.node[d.active], d.flow[d.active])
    s = net.supply
    fs = s.active & ~s.fixed_pressure
    np.subtract.at(w, s.node[fs], s.flow[fs])
    return w


def arc_set_points(net: CompiledNetwork) -> ArcSetPoints:
    """Set points of regulators and stations mapped onto the arc index space."""
    n = net.n_arcs
    pi_set = np.full(n, np.nan)
    ratio2 = np.full(n, np.nan)
    q_set = np.full(n, np.nan)
    cv = net.control_valve
    pi_set[cv.arc] = cv.p_set**2
    cs = net.compressor
    is_pressure = member(cs.mode, [CS_MODES.index("discharge"), CS_MODES.index("suction")])
    pi_set[cs.arc[is_pressure]] = cs.p_set[is_pressure] ** 2
    ratio2[cs.arc] = cs.ratio**2
    q_set[cs.arc] = cs.flow_set
    power_set = np.full(n, np.nan)
    power_set[cs.arc] = cs.power_set
    return ArcSetPoints(pi_set=pi_set, ratio2=ratio2, q_set=q_set, power_set=power_set)


def _system_for(net: CompiledNetwork, b: I64) -> SteadySystem:
    """Cache the topology on the compiled network, keyed by the behaviour vector."""
    cache: dict[bytes, SteadySystem] = net.__dict__.setdefault("_steady_systems", {})
    key = b.tobytes()
    sys = cache.get(key)
    if sys is None:
        if len(cache) > 64:
            cache.clear()
        sys = build_system(net, b)
        cache[key] = sys
    return sys


def _linear_solver(opts: SteadyOptions, sys: SteadySystem) -> LinearSolver:
    """The options' solver, or (default) nodal elimination of arc flows around SuperLU (:class:`NodalLU`)."""
    if opts.linear_solver is not None:
        return opts.linear_solver
    return NodalLU()


def _initial_state(asm: Assembler, opts: SteadyOptions, initial: SteadyResult | None,
                   linear_solver: LinearSolver) -> F64:
    sys = asm.sys
    x = np.zeros(sys.n)
    pi_ref = asm.pi_s
    x[: sys.n_free] = 1.0
    if initial is not None and initial.node_pi is not None:
        g_pi = np.full(sys.n_groups, np.nan)
        g_pi[sys.group] = initial.node_pi
        free = sys.free_col >= 0
        x[sys.free_col[free]] = np.nan_to_num(g_pi[free] / pi_ref, nan=1.0)
        if initial.arc_q is not None:
            x[sys.n_free :] = np.nan_to_num(initial.arc_q[sys.eq_arcs])
        return x
    # flows on set-point arcs of pressure type start at zero; pipes start flat
    if opts.initial_guess is InitialGuess.FLAT:
        return x
    q_typ = asm.q_s / 10.0
    picard = np.full(len(sys.eq_arcs), q_typ)
    for _ in range(2):
        F, J = asm(x, True, picard_q=picard)
        try:
            with np.errstate(all="ignore"):
                dx = linear_solver.solve(J, -F)
        except RuntimeError:
            return x
        if not np.all(np.isfinite(dx)):
            return x
        x = x + dx
        picard = np.maximum(np.abs(asm.flows(x)), 1e-3 * q_typ)
    return x


__all__ = ["NewtonResult", "SteadyResult", "arc_set_points", "node_withdrawal", "solve_fixed_modes", "solve_steady"]
