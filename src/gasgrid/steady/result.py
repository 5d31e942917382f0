"""Steady results as data: status, message, tables, violations and the mass-balance check.

Contract: a :class:`SteadyResult` never reports success for a state that breaks a bound (status
``violations`` with every violation listed) or has a pressure at or below zero (status ``infeasible``,
with the nodes where the pressure collapses; their pressures are NaN, never <= 0).
"""

from __future__ import annotations

from collections.abc import Callable
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
    """Outcome of a steady solve. Pressures are absolute; ``p_barg`` is gauge against 1.01325 bar.

    The tables (``nodes``, ``arcs``, ``supplies``, ``demands``, ``violations``, ``collapse``) are built from
    the result's arrays on first access (sweeps that read only the headline figures never pay for them);
    ``n_violations`` and the arrays ``p_Pa``, ``node_pi`` and ``arc_q`` are available without building any.
    """

    status: SteadyStatus
    message: str
    iterations: int
    residual_history: list[float]
    mass_balance_error: float  # max |node imbalance| / throughput
    linepack_kg: float
    control_iterations: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    node_pi: F64 | None = field(default=None, repr=False)  # Pa^2 per node (warm starts)
    arc_q: F64 | None = field(default=None, repr=False)  # kg/s per arc (warm starts)
    p_Pa: F64 | None = field(default=None, repr=False)  # absolute pressure per node, Pa (NaN: undefined)
    throughput_kg_s: float = 0.0
    normal_density: float = float("nan")  # kg/m^3 at 0 °C, 1.01325 bar (for the Nm^3 columns)
    extra: dict[str, Any] = field(default_factory=dict)
    n_violations: int = 0
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _violation_data: dict[str, NDArray[Any]] | None = field(default=None, repr=False)
    _builders: dict[str, Callable[[], pd.DataFrame]] = field(default_factory=dict, repr=False)

    def _table(self, name: str) -> pd.DataFrame:
        table = self._tables.get(name)
        if table is None:
            table = self._builders[name]() if name in self._builders else pd.DataFrame()
            self._tables[name] = table
        return table

    def __getstate__(self) -> dict[str, Any]:
        """Pickle with every table built (the builders close over solver internals)."""
        for name in list(self._builders):
            self._table(name)
        state = dict(self.__dict__)
        state["_builders"] = {}
        return state

    def has_table(self, name: str) -> bool:
        """Whether this result has (or can build) the table ``name`` (e.g. ``compressors`` only after a solve
        with controllers), without building it."""
        return name in self._tables or name in self._builders

    def violation_columns(self) -> dict[str, NDArray[Any]]:
        """The violation table's columns as arrays, without building the table when it has not been."""
        if "violations" in self._tables or self._violation_data is None:
            v = self.violations
            return {c: v[c].to_numpy() for c in VIOLATION_COLUMNS}
        return self._violation_data

    def _set_table(self, name: str, value: pd.DataFrame) -> None:
        self._tables[name] = value
        if name == "violations":
            self.n_violations = len(value)

    nodes = property(lambda self: self._table("nodes"), lambda self, v: self._set_table("nodes", v),
                     doc="Per node: p_Pa, p_bar, p_barg, z, rho_kg_m3, p_min_bar, p_max_bar, withdrawal_kg_s, elevation_m.")
    arcs = property(lambda self: self._table("arcs"), lambda self, v: self._set_table("arcs", v),
                    doc="Per arc: kind, ends, active, q_kg_s, q_Nm3_h, end pressures (bar), velocities, linepack_kg.")
    supplies = property(lambda self: self._table("supplies"), lambda self, v: self._set_table("supplies", v),
                        doc="Per supply: node, mode, flow_kg_s, p_bar, in_service, flow_Nm3_h.")
    demands = property(lambda self: self._table("demands"), lambda self, v: self._set_table("demands", v),
                       doc="Per demand: node, flow_kg_s, p_bar, p_min_bar, in_service, flow_Nm3_h.")
    violations = property(lambda self: self._table("violations"), lambda self, v: self._set_table("violations", v),
                          doc="Every bound violation, worst (smallest margin) first.")
    collapse = property(lambda self: self._table("collapse"), lambda self, v: self._set_table("collapse", v),
                        doc="Nodes whose squared pressure is <= 0 (infeasible), most negative first.")
    compressors = property(lambda self: self._table("compressors"), lambda self, v: self._set_table("compressors", v),
                           doc="Per compressor station (solves with controllers): state, pressures, power, fuel, limits.")
    control_valves = property(lambda self: self._table("control_valves"),
                              lambda self, v: self._set_table("control_valves", v),
                              doc="Per regulator (solves with controllers): state, pressures, flow.")

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
    n = net.n_nodes
    s = net.supply
    ref = s.active & s.fixed_pressure
    imbalance = (_bincount(net.arc_to, q_arc, n) - _bincount(net.arc_from, q_arc, n)
                 + _bincount(s.node[ref], supply_flow[ref], n) - withdrawal)
    # relative to the throughput, with a floor of 1 g/s so that a network without load is judged absolutely
    throughput = float(max(np.abs(withdrawal).sum() / 2.0 + np.abs(supply_flow[ref]).sum() / 2.0, 1e-3))
    mb = float(np.max(np.abs(imbalance)) / throughput) if len(imbalance) else 0.0

    rho_n = gas.reference_density(Reference.NORMAL)
    P = net.pipe
    lp_pipe = np.full(len(P.arc), np.nan)
    if len(P):
        pf = np.nan_to_num(p[net.arc_from[P.arc]], nan=0.0)
        pt = np.nan_to_num(p[net.arc_to[P.arc]], nan=0.0)
        lp = pipe_linepack(np.maximum(pf, 1.0), np.maximum(pt, 1.0), length=P.length, diameter=P.diameter,
                           temperature=P.temperature, gas=gas)
        active_pipe = sys.behaviour[P.arc] != Behaviour.REMOVED
        lp_pipe = np.where(active_pipe & (pf > 0) & (pt > 0), lp, np.nan)
        linepack = float(np.nansum(lp[active_pipe]))
    else:
        linepack = 0.0

    coll_idx = np.flatnonzero(collapsed)
    coll_idx = coll_idx[np.argsort(node_pi[coll_idx], kind="stable")]
    viol = _violation_arrays(net, sys, p, q_arc, supply_flow, opts)
    n_viol = len(viol["margin"])

    if not nres.converged:
        status = SteadyStatus.NOT_CONVERGED
        message = (
            f"Newton did not converge ({nres.status.value} after {nres.iterations} iterations, residual "
            f"{nres.residual_history[-1]:.2e}). {nres.message} Check the pressure references and active-element "
            "settings, or raise max_iter; the partial state is not a solution."
        )
    elif len(coll_idx):
        status = SteadyStatus.INFEASIBLE
        worst = str(net.node_ids[coll_idx[0]])
        refs = ", ".join(f"{s.ids[k]} at {s.p_set[k] / 1e5:.2f} bar" for k in np.flatnonzero(ref)[:3])
        message = (
            f"infeasible: the pressure collapses at node {worst!r} (p^2 would be {node_pi[coll_idx[0]] / 1e10:.1f} "
            f"bar^2) and at {len(coll_idx) - 1} other node(s). The pressure references ({refs}) cannot push the "
            "demand through the network: reduce the demand, raise the supply pressure, or activate compression."
        )
    elif n_viol:
        status = SteadyStatus.VIOLATIONS
        message = (
            f"solved with {n_viol} bound violation(s); worst: {viol['kind'][0]} {viol['element'][0]!r} "
            f"{viol['quantity'][0]} {viol['value'][0]:.4g} {viol['unit'][0]} vs bound {viol['bound'][0]:.4g} "
            f"(margin {viol['margin'][0]:.4g})."
        )
    else:
        status = SteadyStatus.SOLVED
        message = "solved within all bounds."
    n_dead = int(sys.dead_groups[sys.group].sum())
    if n_dead:
        message += f" {n_dead} node(s) are isolated without load or reference; their pressure is undefined (NaN)."

    def nodes() -> pd.DataFrame:
        T_nodes = np.full(net.n_nodes, net.temperature)
        z_nodes = np.where(np.isfinite(p), gas.z(np.nan_to_num(p, nan=1e5), T_nodes), np.nan)
        return pd.DataFrame(
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

    def arcs() -> pd.DataFrame:
        table = _arc_table(net, sys, q_arc, p, rho_n)
        if len(P):
            col = table["linepack_kg"].to_numpy(copy=True)
            col[P.arc] = lp_pipe
            table["linepack_kg"] = col
        return table

    def supplies() -> pd.DataFrame:
        flow = np.where(s.active, np.where(s.fixed_pressure, supply_flow, s.flow), 0.0)
        return pd.DataFrame(
            {
                "node": net.node_ids[s.node],
                "mode": np.where(s.fixed_pressure, "pressure", "flow"),
                "flow_kg_s": flow,
                "p_bar": p[s.node] / 1e5,
                "in_service": s.active,
                "flow_Nm3_h": flow / rho_n * 3600.0,
            },
            index=pd.Index(s.ids, name="id"),
        )

    def demands() -> pd.DataFrame:
        d = net.demand
        flow = np.where(d.active, d.flow, 0.0)
        return pd.DataFrame(
            {
                "node": net.node_ids[d.node],
                "flow_kg_s": flow,
                "p_bar": p[d.node] / 1e5,
                "p_min_bar": net.p_min[d.node] / 1e5,
                "in_service": d.active,
                "flow_Nm3_h": flow / rho_n * 3600.0,
            },
            index=pd.Index(d.ids, name="id"),
        )

    def collapse() -> pd.DataFrame:
        return pd.DataFrame({"p2_bar2": node_pi[coll_idx] / 1e10}, index=pd.Index(net.node_ids[coll_idx], name="id"))

    def violations() -> pd.DataFrame:
        return pd.DataFrame(viol, columns=VIOLATION_COLUMNS)

    return SteadyResult(
        status=status, message=message, iterations=nres.iterations, residual_history=nres.residual_history,
        mass_balance_error=mb, linepack_kg=linepack, node_pi=node_pi, arc_q=q_arc, p_Pa=p,
        throughput_kg_s=throughput, normal_density=rho_n, n_violations=n_viol, _violation_data=viol,
        _builders={"nodes": nodes, "arcs": arcs, "supplies": supplies, "demands": demands, "collapse": collapse,
                   "violations": violations},
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


@dataclass(frozen=True)
class _ZeroFlowTopology:
    """What :func:`_recover_zero_flows` needs that depends only on the topology (cached on the system)."""

    ref: NDArray[np.int64]  # pressure supplies in service
    grounds: NDArray[np.int64]  # super-nodes holding them
    ground_of_node: NDArray[np.int64]  # per node: index into grounds, or -1
    a_from: NDArray[np.int64]
    a_to: NDArray[np.int64]
    keep: NDArray[np.bool_]  # unknown potentials (one node of each connected piece is grounded)
    lu: Any  # SuperLU of the reduced Laplacian, or None
    diag: F64 | None  # 1x1 systems


_LAPLACIAN_CACHE: dict[tuple[int, bytes, bytes, bytes], tuple[NDArray[np.bool_], Any, F64 | None]] = {}
"""Factorised zero-arc Laplacians by topology (bounded; the factors are only read, never changed)."""


def _zero_flow_topology(net: CompiledNetwork, sys: SteadySystem) -> _ZeroFlowTopology:
    cached = sys.__dict__.get("_zero_flow_topology")
    if cached is not None:
        return cached
    n = net.n_nodes
    s = net.supply
    ref = np.flatnonzero(s.active & s.fixed_pressure)
    grounds = np.unique(sys.group[s.node[ref]])
    gidx = np.full(sys.n_groups, -1, dtype=np.int64)
    gidx[grounds] = np.arange(len(grounds))
    n_tot = n + len(grounds)
    za = sys.zero_arcs
    a_from = np.concatenate([net.arc_from[za], n + gidx[sys.group[s.node[ref]]]]).astype(np.int64)
    a_to = np.concatenate([net.arc_to[za], s.node[ref]]).astype(np.int64)
    m = len(a_from)
    keep = np.zeros(n_tot, dtype=bool)
    lu = diag = None
    key = (n_tot, a_from.tobytes(), a_to.tobytes(), sys.group.tobytes())
    hit = _LAPLACIAN_CACHE.get(key)
    if hit is not None:  # outage sweeps: most scenarios leave the zero-loss arcs as they were
        keep, lu, diag = hit
    elif m:
        # the pieces joined by zero arcs are the super-nodes (a ground joins its own): fix one node of each
        keep[:] = True
        keep[np.unique(sys.group, return_index=True)[1]] = False
        red = np.full(n_tot, -1, dtype=np.int64)
        red[keep] = np.arange(int(keep.sum()))
        f, t = red[a_from], red[a_to]
        rows = np.concatenate([f, t, f, t])
        cols = np.concatenate([f, t, t, f])
        vals = np.concatenate([np.ones(2 * m), -np.ones(2 * m)])
        ok = (rows >= 0) & (cols >= 0)
        nk = int(keep.sum())
        Lr = sp.csc_matrix((vals[ok], (rows[ok], cols[ok])), shape=(nk, nk))
        if nk > 1:
            lu = spla.splu(Lr)
        elif nk == 1:
            diag = Lr.toarray().ravel()
    if hit is None:
        if len(_LAPLACIAN_CACHE) >= 16:
            _LAPLACIAN_CACHE.pop(next(iter(_LAPLACIAN_CACHE)))
        _LAPLACIAN_CACHE[key] = (keep, lu, diag)
    topo = _ZeroFlowTopology(ref=ref, grounds=grounds, ground_of_node=gidx[sys.group], a_from=a_from, a_to=a_to,
                             keep=keep, lu=lu, diag=diag)
    sys.__dict__["_zero_flow_topology"] = topo
    return topo


def _recover_zero_flows(
    net: CompiledNetwork, sys: SteadySystem, q_arc: F64, withdrawal: F64
) -> tuple[F64, F64]:
    """Minimum-norm flows on contracted arcs, and the injections of pressure supplies.

    Each pressure-fixed super-node gets a virtual ground node joined to its pressure supplies, so the
    supplies' injections are recovered with the zero-loss flows (equal split where several supplies share
    one super-node).
    """
    n = net.n_nodes
    topo = _zero_flow_topology(net, sys)
    supply_flow = np.zeros(len(net.supply.ids))
    if len(topo.a_from) == 0:
        return np.zeros(0), supply_flow
    # required net outflow through zero arcs (and supply arcs) at each node
    b_nodes = _bincount(net.arc_to, q_arc, n) - _bincount(net.arc_from, q_arc, n) - withdrawal
    # the ground balances the rest of its super-node
    g = topo.ground_of_node
    in_ground = g >= 0
    b_ground = -_bincount(g[in_ground], b_nodes[in_ground], len(topo.grounds))
    b = np.concatenate([b_nodes, b_ground])
    phi = np.zeros(len(b))
    keep = topo.keep
    if topo.lu is not None:
        phi[keep] = topo.lu.solve(b[keep])
    elif topo.diag is not None:
        phi[keep] = b[keep] / topo.diag
    flows = phi[topo.a_from] - phi[topo.a_to]
    nz = len(sys.zero_arcs)
    supply_flow[topo.ref] = flows[nz:]
    return flows[:nz], supply_flow


def _bincount(index: NDArray[np.int64], weights: F64, n: int) -> F64:
    """Sum of ``weights`` per index in 0..n-1, as floats (also for empty input)."""
    return np.bincount(index, weights=weights, minlength=n).astype(float, copy=False)


def _violation_arrays(
    net: CompiledNetwork, sys: SteadySystem, p: F64, q: F64, supply_flow: F64, opts: SteadyOptions
) -> dict[str, NDArray[Any]]:
    """Every bound violation as columns (``VIOLATION_COLUMNS``), worst (smallest margin) first."""
    tol = opts.bound_tol_bar * 1e5
    parts: list[dict[str, Any]] = []

    def add(kind: str, element: NDArray[Any], quantity: str, value: F64, bound: F64, margin: F64, unit: str,
            message: str) -> None:
        if len(value):
            parts.append({"kind": kind, "element": np.asarray(element, dtype=object), "quantity": quantity, "value": value,
                          "bound": bound, "margin": margin, "unit": unit, "message": message, "n": len(value)})

    live = np.isfinite(p)
    with np.errstate(invalid="ignore"):
        lo = np.flatnonzero(live & (p < net.p_min - tol))
        hi = np.flatnonzero(live & (p > net.p_max + tol))
    add("node", net.node_ids[lo], "pressure", p[lo] / 1e5, net.p_min[lo] / 1e5, (p[lo] - net.p_min[lo]) / 1e5, "bar",
        "below minimum pressure")
    add("node", net.node_ids[hi], "pressure", p[hi] / 1e5, net.p_max[hi] / 1e5, (net.p_max[hi] - p[hi]) / 1e5, "bar",
        "above maximum pressure")
    P = net.pipe
    if len(P):
        pmax_arc = np.fmax(p[net.arc_from[P.arc]], p[net.arc_to[P.arc]])
        with np.errstate(invalid="ignore"):
            k = np.flatnonzero((sys.behaviour[P.arc] != Behaviour.REMOVED) & (pmax_arc > P.p_max + tol))
        add("pipe", net.arc_ids[P.arc[k]], "pressure", pmax_arc[k] / 1e5, P.p_max[k] / 1e5,
            (P.p_max[k] - pmax_arc[k]) / 1e5, "bar", "above pipe MAOP")
    rows: list[dict[str, Any]] = []
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
    for r in rows:
        parts.append({"kind": r["kind"], "element": np.array([r["element"]], dtype=object), "quantity": r["quantity"],
                      "value": np.array([r["value"]], dtype=float), "bound": np.array([r["bound"]], dtype=float),
                      "margin": np.array([r["margin"]], dtype=float), "unit": r["unit"], "message": r["message"],
                      "n": 1})
    out: dict[str, NDArray[Any]] = {}
    counts = [pt["n"] for pt in parts]
    for c in VIOLATION_COLUMNS:
        if not parts:
            out[c] = np.zeros(0) if c in ("value", "bound", "margin") else np.zeros(0, dtype=object)
        elif c in ("value", "bound", "margin"):
            out[c] = np.concatenate([np.asarray(pt[c], dtype=float) for pt in parts])
        elif c == "element":
            out[c] = np.concatenate([pt[c] for pt in parts])
        else:  # one value per part
            per_part = np.empty(len(parts), dtype=object)
            per_part[:] = [pt[c] for pt in parts]
            out[c] = np.repeat(per_part, counts)
    order = np.argsort(out["margin"], kind="stable")
    return {c: v[order] for c, v in out.items()}


def _v(kind: str, element: Any, quantity: str, value: float, bound: float, margin: float, unit: str,
       message: str) -> dict[str, Any]:
    return {"kind": kind, "element": str(element), "quantity": quantity, "value": float(value),
            "bound": float(bound), "margin": float(margin), "unit": unit, "message": message}
