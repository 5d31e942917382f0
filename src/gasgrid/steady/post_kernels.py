"""Compiled (numba) passes of the steady post-processing: pressures, mass balance, line pack and bound checks.

Each replaces a dozen numpy calls on arrays of a few hundred entries, where call overhead dominates; the
arithmetic is the same, operation for operation (sums are sequential instead of pairwise, a difference of
rounding only). Units: squared pressures Pa^2, pressures Pa (values, bounds and margins of violations in
bar), flows kg/s, masses kg.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numba import njit
from numpy.typing import NDArray

from gasgrid._jit import refresh_stale_caches

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B8 = NDArray[np.bool_]

refresh_stale_caches(Path(__file__).resolve().parent, ("post_kernels",), "steady-post-kernels.sha1")

NODE_LOW, NODE_HIGH, PIPE_HIGH, SUPPLY_LOW, SUPPLY_HIGH = 0, 1, 2, 3, 4
"""Sources of the violations found by :func:`bound_violations` (node below p_min, above p_max, pipe above its
MAOP, pressure supply below its contract minimum, above its maximum)."""


@njit(cache=True, nogil=True, error_model="numpy")
def node_state(g_pi: F64, group: I64, dead_groups: B8) -> tuple[F64, F64, int, int]:
    """Squared pressure [Pa^2] (NaN in dead super-nodes) and absolute pressure [Pa] per node, NaN where
    undefined or collapsed (p^2 <= 0); the numbers of collapsed and of dead nodes."""
    n = group.shape[0]
    node_pi = np.empty(n)
    p = np.empty(n)
    n_collapsed = 0
    n_dead = 0
    for i in range(n):
        g = group[i]
        if dead_groups[g]:
            pi = np.nan
            n_dead += 1
        else:
            pi = g_pi[g]
        node_pi[i] = pi
        if 0.0 < pi < np.inf:
            p[i] = math.sqrt(pi)
        else:
            p[i] = np.nan
            if -np.inf < pi <= 0.0:
                n_collapsed += 1
    return node_pi, p, n_collapsed, n_dead


@njit(cache=True, nogil=True, error_model="numpy")
def mass_balance(n: int, arc_from: I64, arc_to: I64, q: F64, ref_node: I64, ref_flow: F64,
                 withdrawal: F64) -> tuple[float, float]:
    """Largest absolute node imbalance [kg/s] from the flows on every arc, the injections ``ref_flow`` of the
    pressure supplies at ``ref_node`` and the withdrawals; and the throughput, half the total absolute
    withdrawal plus half the total absolute injection (floored at 1 g/s, so that a network without load is
    judged absolutely)."""
    inflow = np.zeros(n)
    outflow = np.zeros(n)
    for a in range(q.shape[0]):
        inflow[arc_to[a]] += q[a]
        outflow[arc_from[a]] += q[a]
    injected = np.zeros(n)
    supplied = 0.0
    for k in range(ref_node.shape[0]):
        injected[ref_node[k]] += ref_flow[k]
        supplied += abs(ref_flow[k])
    worst = 0.0
    withdrawn = 0.0
    for i in range(n):
        imbalance = abs(inflow[i] - outflow[i] + injected[i] - withdrawal[i])
        if imbalance > worst or np.isnan(imbalance):  # once NaN, stays NaN (as numpy's max)
            worst = imbalance
        withdrawn += abs(withdrawal[i])
    return worst, max(withdrawn / 2.0 + supplied / 2.0, 1e-3)


@njit(cache=True, nogil=True, error_model="numpy")
def pipe_mean_pressure(p: F64, arc_from: I64, arc_to: I64, pipe_arc: I64) -> F64:
    """Isothermal mean pressure of each pipe [Pa], 2/3 (p_i + p_j - p_i p_j / (p_i + p_j)), with end pressures
    below 1 Pa or undefined taken as 1 Pa (see :func:`gasgrid.physics.pipe.mean_pressure`)."""
    pm = np.empty(pipe_arc.shape[0])
    for e in range(pipe_arc.shape[0]):
        p_i = p[arc_from[pipe_arc[e]]]
        p_j = p[arc_to[pipe_arc[e]]]
        p_i = p_i if p_i >= 1.0 else 1.0
        p_j = p_j if p_j >= 1.0 else 1.0
        s = p_i + p_j
        pm[e] = 2.0 / 3.0 * (s - p_i * p_j / s)
    return pm


@njit(cache=True, nogil=True, error_model="numpy")
def pipe_linepack(p: F64, arc_from: I64, arc_to: I64, pipe_arc: I64, behaviour: I64, removed: int, pm: F64,
                  z: F64, r_specific: float, temperature: F64, diameter: F64, length: F64) -> tuple[F64, float]:
    """Gas mass per pipe [kg] at mean pressure ``pm`` [Pa] with compressibility ``z`` (NaN for pipes out of
    service, behaviour ``removed``, or with an undefined end pressure), and the total over the pipes in service
    (an undefined end counted at 1 Pa)."""
    lp = np.empty(pipe_arc.shape[0])
    total = 0.0
    for e in range(pipe_arc.shape[0]):
        rho = pm[e] / (z[e] * r_specific * temperature[e])
        mass = rho * np.pi * (diameter[e] * diameter[e]) / 4.0 * length[e]
        a = pipe_arc[e]
        if behaviour[a] != removed:
            if not np.isnan(mass):
                total += mass
            lp[e] = mass if p[arc_from[a]] > 0.0 and p[arc_to[a]] > 0.0 else np.nan
        else:
            lp[e] = np.nan
    return lp, total


@njit(cache=True, nogil=True, error_model="numpy")
def bound_violations(p: F64, p_min: F64, p_max: F64, tol: float, arc_from: I64, arc_to: I64, pipe_arc: I64,
                     pipe_p_max: F64, behaviour: I64, removed: int, supply_flow: F64, ref: I64, flow_min: F64,
                     flow_max: F64, flow_tol: float) -> tuple[I64, I64, F64, F64, F64]:
    """Nodes below p_min or above p_max and pipes in service (behaviour not ``removed``) above their MAOP (at
    the higher end pressure), by more than ``tol`` [Pa]; pressure supplies ``ref`` injecting less than their
    contract minimum or more than their maximum, by more than ``flow_tol`` [kg/s].

    Returns per violation its source (``NODE_LOW`` ...), index (node, pipe in ``pipe_arc`` or supply), value,
    bound and margin [bar or kg/s], listed by source (nodes low, nodes high, pipes, then per supply low and
    high) and index, then sorted by margin (stable)."""
    n = p.shape[0]
    m = pipe_arc.shape[0]
    low = np.zeros(n, dtype=np.bool_)
    high = np.zeros(n, dtype=np.bool_)
    pipe_p = np.empty(m)
    over = np.zeros(m, dtype=np.bool_)
    count = 0
    for i in range(n):
        low[i] = p[i] < p_min[i] - tol
        high[i] = p[i] > p_max[i] + tol
        count += low[i] + high[i]
    for e in range(m):
        a, b = p[arc_from[pipe_arc[e]]], p[arc_to[pipe_arc[e]]]
        pipe_p[e] = b if np.isnan(a) else (a if np.isnan(b) or a >= b else b)  # numpy's fmax
        over[e] = behaviour[pipe_arc[e]] != removed and pipe_p[e] > pipe_p_max[e] + tol
        count += over[e]
    for k in ref:
        count += (supply_flow[k] < flow_min[k] - flow_tol) + (supply_flow[k] > flow_max[k] + flow_tol)
    source = np.empty(count, dtype=np.int64)
    index = np.empty(count, dtype=np.int64)
    value = np.empty(count)
    bound = np.empty(count)
    margin = np.empty(count)
    j = 0
    for i in range(n):
        if low[i]:
            source[j], index[j] = NODE_LOW, i
            value[j], bound[j], margin[j] = p[i] / 1e5, p_min[i] / 1e5, (p[i] - p_min[i]) / 1e5
            j += 1
    for i in range(n):
        if high[i]:
            source[j], index[j] = NODE_HIGH, i
            value[j], bound[j], margin[j] = p[i] / 1e5, p_max[i] / 1e5, (p_max[i] - p[i]) / 1e5
            j += 1
    for e in range(m):
        if over[e]:
            source[j], index[j] = PIPE_HIGH, e
            value[j], bound[j], margin[j] = pipe_p[e] / 1e5, pipe_p_max[e] / 1e5, (pipe_p_max[e] - pipe_p[e]) / 1e5
            j += 1
    for k in ref:
        f = supply_flow[k]
        if f < flow_min[k] - flow_tol:
            source[j], index[j] = SUPPLY_LOW, k
            value[j], bound[j], margin[j] = f, flow_min[k], f - flow_min[k]
            j += 1
        if f > flow_max[k] + flow_tol:
            source[j], index[j] = SUPPLY_HIGH, k
            value[j], bound[j], margin[j] = f, flow_max[k], flow_max[k] - f
            j += 1
    order = np.argsort(margin, kind="mergesort")
    return source[order], index[order], value[order], bound[order], margin[order]
