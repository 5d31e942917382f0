"""Steady results as data: status, message, tables, violations and the mass-balance check.

Contract: a :class:`SteadyResult` never reports success for a state that breaks a bound (status
``violations`` with every violation listed) or has a pressure at or below zero (status ``infeasible``,
with the nodes where the pressure collapses; their pressures are NaN, never <= 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.errors import ConvergenceError, InfeasibleError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.physics.pipe import pipe_linepack
from gasgrid.steady.system import Behaviour, SteadySystem
from gasgrid.units import Reference

if TYPE_CHECKING:
    from gasgrid.steady.assemble import Assembler
    from gasgrid.steady.newton import NewtonResult
    from gasgrid.steady.options import SteadyOptions

F64 = NDArray[np.float64]

VIOLATION_COLUMNS = ["kind", "element", "quantity", "value", "bound", "margin", "unit", "message"]


class SteadyStatus(StrEnum):
    SOLVED = "solved"  # converged, every bound respected
    VIOLATIONS = "violations"  # a physical state exists but breaks bounds (listed)
    INFEASIBLE = "infeasible"  # no physical state: pressure would fall to zero or below
    NOT_CONVERGED = "not_converged"


@dataclass
class SteadyResult:
    """Outcome of a steady solve. Pressures are absolute; ``p_barg`` is gauge against 1.01325 bar."""

    status: SteadyStatus
    message: str
    iterations: int
    residual_history: list[float]
    mass_balance_error: float  # max |node imbalance| / throughput
    nodes: pd.DataFrame
    arcs: pd.DataFrame
    supplies: pd.DataFrame
    demands: pd.DataFrame
    violations: pd.DataFrame
    collapse: pd.DataFrame  # nodes whose squared pressure is <= 0 (infeasible)
    linepack_kg: float
    compressors: pd.DataFrame = field(default_factory=pd.DataFrame)
    control_valves: pd.DataFrame = field(default_factory=pd.DataFrame)
    control_iterations: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    node_pi: F64 | None = field(default=None, repr=False)  # Pa^2 per node (warm starts)
    arc_q: F64 | None = field(default=None, repr=False)  # kg/s per arc (warm starts)
    throughput_kg_s: float = 0.0
    normal_density: float = float("nan")  # kg/m^3 at 0 °C, 1.01325 bar (for the Nm^3 columns)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Solved within every bound."""
        return self.status is SteadyStatus.SOLVED

    @property
    def has_state(self) -> bool:
        """A physical state exists (solved, possibly with violations)."""
        return self.status in (SteadyStatus.SOLVED, SteadyStatus.VIOLATIONS)

    def raise_for_status(self) -> SteadyResult:
        """Raise InfeasibleError / ConvergenceError for those outcomes; return self otherwise."""
        if self.status is SteadyStatus.INFEASIBLE:
            raise InfeasibleError(self.message)
        if self.status is SteadyStatus.NOT_CONVERGED:
            raise ConvergenceError(self.message)
        return self

    def summary(self) -> dict[str, Any]:
        """Headline figures (bar absolute, kg/s)."""
        p = self.nodes["p_bar"]
        out: dict[str, Any] = {
            "status": self.status.value,
            "iterations": self.iterations,
            "mass_balance_error": self.mass_balance_error,
            "supply_kg_s": float(self.supplies["flow_kg_s"].sum()) if len(self.supplies) else 0.0,
            "demand_kg_s": float(self.demands["flow_kg_s"].sum()) if len(self.demands) else 0.0,
            "violations": len(self.violations),
            "linepack_kg": self.linepack_kg,
        }
        if p.notna().any():
            out.update(p_min_bar=float(p.min()), p_min_node=str(p.idxmin()),
                       p_max_bar=float(p.max()), p_max_node=str(p.idxmax()))
        return out


def build_result(
    net: CompiledNetwork,
    sys: SteadySystem,
    asm: Assembler,
    nres: NewtonResult,
    opts: SteadyOptions,
    withdrawal: F64,
) -> SteadyResult:
    gas = net.gas
    x = nres.x
    g_pi = asm.group_pi(x)
    g_pi[sys.dead_groups] = np.nan
    node_pi = g_pi[sys.group]
    q_arc = np.zeros(net.n_arcs)
    q_arc[sys.eq_arcs] = asm.flows(x)
    tw = np.flatnonzero(sys.twin_of >= 0)
    if len(tw):  # parallel twins share their primary's flow equally
        share = np.bincount(sys.twin_of[tw], minlength=net.n_arcs) + 1.0
        q_arc[tw] = q_arc[sys.twin_of[tw]] / share[sys.twin_of[tw]]
        prim = np.unique(sys.twin_of[tw])
        q_arc[prim] = q_arc[prim] / share[prim]
    q_zero, supply_flow = _recover_zero_flows(net, sys, q_arc, withdrawal)
    q_arc[sys.zero_arcs] = q_zero
    q_arc[sys.behaviour == Behaviour.REMOVED] = 0.0

    live = np.isfinite(node_pi)
    collapsed = live & (node_pi <= 0.0)
    p = np.where(live & ~collapsed, np.sqrt(np.where(live & ~collapsed, node_pi, 1.0)), np.nan)

    # mass balance, from the final flows on every arc (independent of the solver's residual)
    imbalance = -withdrawal.copy()
    np.add.at(imbalance, net.arc_to, q_arc)
    np.subtract.at(imbalance, net.arc_from, q_arc)
    s = net.supply
    ref = s.active & s.fixed_pressure
    np.add.at(imbalance, s.node[ref], supply_flow[ref])
    # relative to the throughput, with a floor of 1 g/s so that a network without load is judged absolutely
    throughput = float(max(np.abs(withdrawal).sum() / 2.0 + np.abs(supply_flow[ref]).sum() / 2.0, 1e-3))
    mb = float(np.max(np.abs(imbalance)) / throughput) if len(imbalance) else 0.0

    rho_n = gas.reference_density(Reference.NORMAL)
    T_nodes = np.full(net.n_nodes, net.temperature)
    z_nodes = np.where(np.isfinite(p), gas.z(np.nan_to_num(p, nan=1e5), T_nodes), np.nan)
    nodes = pd.DataFrame(
        {
            "p_Pa": p,
            "p_bar": p / 1e5,
            "p_barg": (p - 101_325.0) / 1e5,
            "z": z_nodes,
            "rho_kg_m3": p / (z_nodes * gas.R_specific * net.temperature),
            "p_min_bar": net.p_min / 1e5,
            "p_max_bar": net.p_max / 1e5,
            "withdrawal_kg_s": withdrawal,
            "elevation_m": net.elevation,
        },
        index=pd.Index(net.node_ids, name="id"),
    )
    arcs = _arc_table(net, sys, q_arc, p, rho_n)
    supplies = pd.DataFrame(
        {
            "node": net.node_ids[s.node],
            "mode": np.where(s.fixed_pressure, "pressure", "flow"),
            "flow_kg_s": np.where(s.active, np.where(s.fixed_pressure, supply_flow, s.flow), 0.0),
            "p_bar": p[s.node] / 1e5,
            "in_service": s.active,
        },
        index=pd.Index(s.ids, name="id"),
    )
    supplies["flow_Nm3_h"] = supplies["flow_kg_s"] / rho_n * 3600.0
    d = net.demand
    demands = pd.DataFrame(
        {
            "node": net.node_ids[d.node],
            "flow_kg_s": np.where(d.active, d.flow, 0.0),
            "p_bar": p[d.node] / 1e5,
            "p_min_bar": net.p_min[d.node] / 1e5,
            "in_service": d.active,
        },
        index=pd.Index(d.ids, name="id"),
    )
    demands["flow_Nm3_h"] = demands["flow_kg_s"] / rho_n * 3600.0
    P = net.pipe
    if len(P):
        pf = np.nan_to_num(p[net.arc_from[P.arc]], nan=0.0)
        pt = np.nan_to_num(p[net.arc_to[P.arc]], nan=0.0)
        lp = pipe_linepack(np.maximum(pf, 1.0), np.maximum(pt, 1.0), length=P.length, diameter=P.diameter,
                           temperature=P.temperature, gas=gas)
        active_pipe = sys.behaviour[P.arc] != Behaviour.REMOVED
        arcs.loc[net.arc_ids[P.arc], "linepack_kg"] = np.where(active_pipe & (pf > 0) & (pt > 0), lp, np.nan)
        linepack = float(np.nansum(lp[active_pipe]))
    else:
        linepack = 0.0

    collapse = pd.DataFrame(
        {"p2_bar2": node_pi[collapsed] / 1e10}, index=pd.Index(net.node_ids[collapsed], name="id")
    ).sort_values("p2_bar2")
    violations = _violations(net, sys, p, q_arc, supply_flow, opts)

    if not nres.converged:
        status = SteadyStatus.NOT_CONVERGED
        message = (
            f"Newton did not converge ({nres.status.value} after {nres.iterations} iterations, residual "
            f"{nres.residual_history[-1]:.2e}). {nres.message} Check the pressure references and active-element "
            "settings, or raise max_iter; the partial state is not a solution."
        )
    elif collapsed.any():
        status = SteadyStatus.INFEASIBLE
        worst = collapse.index[0]
        refs = ", ".join(f"{s.ids[k]} at {s.p_set[k] / 1e5:.2f} bar" for k in np.flatnonzero(ref)[:3])
        message = (
            f"infeasible: the pressure collapses at node {worst!r} (p^2 would be {collapse.iloc[0, 0]:.1f} bar^2) "
            f"and at {collapsed.sum() - 1} other node(s). The pressure references ({refs}) cannot push the demand "
            "through the network: reduce the demand, raise the supply pressure, or activate compression."
        )
    elif len(violations):
        status = SteadyStatus.VIOLATIONS
        top = violations.iloc[0]
        message = (
            f"solved with {len(violations)} bound violation(s); worst: {top['kind']} {top['element']!r} "
            f"{top['quantity']} {top['value']:.4g} {top['unit']} vs bound {top['bound']:.4g} "
            f"(margin {top['margin']:.4g})."
        )
    else:
        status = SteadyStatus.SOLVED
        message = "solved within all bounds."
    n_dead = int(sys.dead_groups[sys.group].sum())
    if n_dead:
        message += f" {n_dead} node(s) are isolated without load or reference; their pressure is undefined (NaN)."
    return SteadyResult(
        status=status, message=message, iterations=nres.iterations, residual_history=nres.residual_history,
        mass_balance_error=mb, nodes=nodes, arcs=arcs, supplies=supplies, demands=demands,
        violations=violations, collapse=collapse, linepack_kg=linepack, node_pi=node_pi, arc_q=q_arc,
        throughput_kg_s=throughput, normal_density=rho_n,
    )


def _arc_table(net: CompiledNetwork, sys: SteadySystem, q: F64, p: F64, rho_n: float) -> pd.DataFrame:
    gas = net.gas
    pf = p[net.arc_from]
    pt = p[net.arc_to]
    arcs = pd.DataFrame(
        {
            "kind": np.array(ARC_KINDS, dtype=object)[net.arc_kind],
            "from_node": net.node_ids[net.arc_from],
            "to_node": net.node_ids[net.arc_to],
            "active": sys.behaviour != Behaviour.REMOVED,
            "q_kg_s": q,
            "q_Nm3_h": q / rho_n * 3600.0,
            "p_from_bar": pf / 1e5,
            "p_to_bar": pt / 1e5,
            "dp_bar": (pf - pt) / 1e5,
            "velocity_from_m_s": np.nan,
            "velocity_to_m_s": np.nan,
            "linepack_kg": np.nan,
        },
        index=pd.Index(net.arc_ids, name="id"),
    )
    P = net.pipe
    if len(P):
        area = np.pi * P.diameter**2 / 4.0
        with np.errstate(invalid="ignore", divide="ignore"):
            rf = gas.density(np.nan_to_num(pf[P.arc], nan=1e5), P.temperature)
            rt = gas.density(np.nan_to_num(pt[P.arc], nan=1e5), P.temperature)
            ok = np.isfinite(pf[P.arc]) & np.isfinite(pt[P.arc])
            arcs.iloc[P.arc, arcs.columns.get_loc("velocity_from_m_s")] = np.where(ok, q[P.arc] / (rf * area), np.nan)
            arcs.iloc[P.arc, arcs.columns.get_loc("velocity_to_m_s")] = np.where(ok, q[P.arc] / (rt * area), np.nan)
    return arcs


def _recover_zero_flows(
    net: CompiledNetwork, sys: SteadySystem, q_arc: F64, withdrawal: F64
) -> tuple[F64, F64]:
    """Minimum-norm flows on contracted arcs, and the injections of pressure supplies.

    Each pressure-fixed super-node gets a virtual ground node joined to its pressure supplies, so the
    supplies' injections are recovered with the zero-loss flows (equal split where several supplies share
    one super-node).
    """
    n = net.n_nodes
    s = net.supply
    ref = np.flatnonzero(s.active & s.fixed_pressure)
    grounds = np.unique(sys.group[s.node[ref]])
    gidx = np.full(sys.n_groups, -1, dtype=np.int64)
    gidx[grounds] = n + np.arange(len(grounds))
    n_tot = n + len(grounds)
    # required net outflow through zero arcs (and supply arcs) at each node
    b = np.zeros(n_tot)
    b[:n] = -withdrawal
    np.add.at(b, net.arc_to, q_arc)
    np.subtract.at(b, net.arc_from, q_arc)
    za = sys.zero_arcs
    a_from = np.concatenate([net.arc_from[za], gidx[sys.group[s.node[ref]]]])
    a_to = np.concatenate([net.arc_to[za], s.node[ref]])
    # the ground balances the rest of its super-node
    for g in grounds:
        members = np.flatnonzero(sys.group == g)
        b[gidx[g]] = -b[members].sum()
    m = len(a_from)
    supply_flow = np.zeros(len(s.ids))
    if m == 0:
        return np.zeros(0), supply_flow
    A = sp.csr_matrix(
        (np.concatenate([np.ones(m), -np.ones(m)]), (np.concatenate([np.arange(m)] * 2),
                                                     np.concatenate([a_from, a_to]))),
        shape=(m, n_tot),
    )
    L = (A.T @ A).tocsr()
    # ground one node of every connected piece
    from scipy.sparse.csgraph import connected_components

    _, piece = connected_components(L, directed=False)
    first = np.unique(piece, return_index=True)[1]
    keep = np.ones(n_tot, dtype=bool)
    keep[first] = False
    phi = np.zeros(n_tot)
    if keep.any():
        Lr = L[keep][:, keep].tocsc()
        phi[keep] = spla.spsolve(Lr, b[keep]) if Lr.shape[0] > 1 else b[keep] / Lr.toarray().ravel()
    flows = phi[a_from] - phi[a_to]
    supply_flow[ref] = flows[len(za):]
    return flows[: len(za)], supply_flow


def _violations(
    net: CompiledNetwork, sys: SteadySystem, p: F64, q: F64, supply_flow: F64, opts: SteadyOptions
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    tol = opts.bound_tol_bar * 1e5
    live = np.isfinite(p)
    lo = live & (p < net.p_min - tol)
    for i in np.flatnonzero(lo):
        rows.append(_v("node", net.node_ids[i], "pressure", p[i] / 1e5, net.p_min[i] / 1e5, (p[i] - net.p_min[i]) / 1e5,
                       "bar", "below minimum pressure"))
    hi = live & (p > net.p_max + tol)
    for i in np.flatnonzero(hi):
        rows.append(_v("node", net.node_ids[i], "pressure", p[i] / 1e5, net.p_max[i] / 1e5, (net.p_max[i] - p[i]) / 1e5,
                       "bar", "above maximum pressure"))
    P = net.pipe
    if len(P):
        pmax_arc = np.fmax(p[net.arc_from[P.arc]], p[net.arc_to[P.arc]])
        bad = (sys.behaviour[P.arc] != Behaviour.REMOVED) & (pmax_arc > P.p_max + tol)
        for k in np.flatnonzero(bad):
            rows.append(_v("pipe", net.arc_ids[P.arc[k]], "pressure", pmax_arc[k] / 1e5, P.p_max[k] / 1e5,
                           (P.p_max[k] - pmax_arc[k]) / 1e5, "bar", "above pipe MAOP"))
    s = net.supply
    ftol = opts.flow_tol_kg_s
    for k in np.flatnonzero(s.active & s.fixed_pressure):
        f = supply_flow[k]
        if f < s.flow_min[k] - ftol:
            rows.append(_v("supply", s.ids[k], "flow", f, s.flow_min[k], f - s.flow_min[k], "kg/s",
                           "injection below contract minimum"))
        if f > s.flow_max[k] + ftol:
            rows.append(_v("supply", s.ids[k], "flow", f, s.flow_max[k], s.flow_max[k] - f, "kg/s",
                           "injection above contract maximum"))
    extra = net.__dict__.get("_extra_violations")
    if extra:
        rows.extend(extra)
    frame = pd.DataFrame(rows, columns=VIOLATION_COLUMNS)
    return frame.sort_values("margin", kind="stable").reset_index(drop=True)


def _v(kind: str, element: Any, quantity: str, value: float, bound: float, margin: float, unit: str,
       message: str) -> dict[str, Any]:
    return {"kind": kind, "element": str(element), "quantity": quantity, "value": float(value),
            "bound": float(bound), "margin": float(margin), "unit": unit, "message": message}
