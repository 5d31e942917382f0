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
from numpy.typing import NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.errors import ConvergenceError, InfeasibleError
from gasgrid.gas.model import EOS, Gas
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady.post_kernels import mass_balance, node_state, pipe_linepack, pipe_mean_pressure
from gasgrid.steady.system import Behaviour, SteadySystem
from gasgrid.steady.violations import VIOLATION_COLUMNS, find_violations
from gasgrid.steady.violations import violation_row as _v  # noqa: F401  (control.py lists its rows with it)
from gasgrid.steady.zero_flows import (
    _LAPLACIAN_CACHE,  # noqa: F401  (benchmarks clear it for a cold solve)
    recover_flows,
    zero_flow_topology,
)
from gasgrid.units import Reference

if TYPE_CHECKING:
    from gasgrid.steady.assemble import Assembler
    from gasgrid.steady.newton import NewtonResult
    from gasgrid.steady.options import SteadyOptions

F64 = NDArray[np.float64]
_REMOVED = int(Behaviour.REMOVED)


class SteadyStatus(StrEnum):
    SOLVED = "solved"  # converged, every bound respected
    VIOLATIONS = "violations"  # a physical state exists but breaks bounds (listed)
    INFEASIBLE = "infeasible"  # no physical state: pressure would fall to zero or below
    NOT_CONVERGED = "not_converged"


@dataclass
class SteadyResult:
    """Outcome of a steady solve. Pressures are absolute; ``p_barg`` is gauge against 1.01325 bar.

    The tables (``nodes``, ``arcs``, ``supplies``, ``demands``, ``violations``, ``collapse``) and the line pack
    are computed from the result's arrays on first access (sweeps that read only the headline figures never pay
    for them; with a real-gas equation of state the line pack costs an evaluation of Z per pipe);
    ``n_violations`` and the arrays ``p_Pa``, ``node_pi`` and ``arc_q`` are available without building any.
    """

    status: SteadyStatus
    message: str
    iterations: int
    residual_history: list[float]
    mass_balance_error: float  # max |node imbalance| / throughput
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
    _violation_builder: Callable[[], dict[str, NDArray[Any]]] | None = field(default=None, repr=False)
    _linepack: tuple[F64, float] | None = field(default=None, repr=False)  # per pipe (NaN: out, undefined), total
    _linepack_builder: Callable[[], tuple[F64, float]] | None = field(default=None, repr=False)

    @property
    def linepack_kg(self) -> float:
        """Gas mass in the pipes in service, kg (an end with undefined pressure counted at 1 Pa)."""
        return self._pipe_linepack()[1]

    def _pipe_linepack(self) -> tuple[F64, float]:
        if self._linepack is None:
            self._linepack = self._linepack_builder() if self._linepack_builder is not None else (np.zeros(0), 0.0)
        return self._linepack

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
        if self._violation_builder is not None and "violations" not in self._tables:
            self.violation_columns()
        self._pipe_linepack()
        state = dict(self.__dict__)
        state["_builders"] = {}
        state["_violation_builder"] = None
        state["_linepack_builder"] = None
        return state

    def has_table(self, name: str) -> bool:
        """Whether this result has (or can build) the table ``name`` (e.g. ``compressors`` only after a solve
        with controllers), without building it."""
        return name in self._tables or name in self._builders

    def violation_columns(self) -> dict[str, NDArray[Any]]:
        """The violation table's columns as arrays, without building the table when it has not been."""
        if "violations" not in self._tables and self._violation_data is None and self._violation_builder is not None:
            self._violation_data = self._violation_builder()
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
    """The result of a Newton solve: arc flows (zero-loss arcs and supplies recovered), pressures, mass
    balance (checked on every result), line pack, violations, status and message; tables built on access."""
    gas = net.gas
    x = nres.x
    q_arc, supply_flow = recover_flows(net, sys, asm.flows(x), withdrawal)
    node_pi, p, n_collapsed, n_dead = node_state(asm.group_pi(x), sys.group, sys.dead_groups)

    # mass balance, from the final flows on every arc (independent of the solver's residual), relative to the
    # throughput
    s = net.supply
    ref = zero_flow_topology(net, sys).ref
    worst, throughput = mass_balance(net.n_nodes, net.arc_from, net.arc_to, q_arc, s.node[ref], supply_flow[ref],
                                     withdrawal)
    mb = worst / throughput if net.n_nodes else 0.0

    rho_n = _normal_density(gas)
    P = net.pipe

    coll_idx = np.zeros(0, dtype=np.int64)
    if n_collapsed:
        coll_idx = np.flatnonzero(np.isfinite(node_pi) & (node_pi <= 0.0))
        coll_idx = coll_idx[np.argsort(node_pi[coll_idx], kind="stable")]
    viol = find_violations(net, p, supply_flow, opts, sys.behaviour, _REMOVED, ref)
    n_viol = len(viol)

    if not nres.converged:
        status = SteadyStatus.NOT_CONVERGED
        message = (
            f"Newton did not converge ({nres.status.value} after {nres.iterations} iterations, residual "
            f"{nres.residual_history[-1]:.2e}). {nres.message} Check the pressure references and active-element "
            "settings, or raise max_iter; the partial state is not a solution."
        )
    elif len(coll_idx):
        status = SteadyStatus.INFEASIBLE
        worst_node = str(net.node_ids[coll_idx[0]])
        refs = ", ".join(f"{s.ids[k]} at {s.p_set[k] / 1e5:.2f} bar" for k in ref[:3])
        message = (
            f"infeasible: the pressure collapses at node {worst_node!r} (p^2 would be "
            f"{node_pi[coll_idx[0]] / 1e10:.1f} bar^2) and at {len(coll_idx) - 1} other node(s). The pressure "
            f"references ({refs}) cannot push the demand through the network: reduce the demand, raise the supply "
            "pressure, or activate compression."
        )
    elif n_viol:
        status = SteadyStatus.VIOLATIONS
        kind, element, quantity, unit, _ = viol.labels(net, 0)
        message = (
            f"solved with {n_viol} bound violation(s); worst: {kind} {element!r} {quantity} {viol.value[0]:.4g} "
            f"{unit} vs bound {viol.bound[0]:.4g} (margin {viol.margin[0]:.4g})."
        )
    else:
        status = SteadyStatus.SOLVED
        message = "solved within all bounds."
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

    pipe_mass: list[tuple[F64, float]] = []

    def linepack() -> tuple[F64, float]:
        if not pipe_mass:
            pm = pipe_mean_pressure(p, net.arc_from, net.arc_to, P.arc)
            z = np.ones(len(pm)) if gas.eos is EOS.IDEAL else np.ascontiguousarray(gas.z(pm, P.temperature), dtype=float)
            pipe_mass.append(pipe_linepack(p, net.arc_from, net.arc_to, P.arc, sys.behaviour, _REMOVED, pm, z,
                                           gas.R_specific, P.temperature, P.diameter, P.length))
        return pipe_mass[0]

    def arcs() -> pd.DataFrame:
        table = _arc_table(net, sys, q_arc, p, rho_n)
        if len(P):
            col = table["linepack_kg"].to_numpy(copy=True)
            col[P.arc] = linepack()[0]
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

    columns: list[dict[str, NDArray[Any]]] = []

    def violation_columns() -> dict[str, NDArray[Any]]:
        if not columns:
            columns.append(viol.columns(net))
        return columns[0]

    def violations() -> pd.DataFrame:
        return pd.DataFrame(violation_columns(), columns=VIOLATION_COLUMNS)

    return SteadyResult(
        status=status, message=message, iterations=nres.iterations, residual_history=nres.residual_history,
        mass_balance_error=mb, node_pi=node_pi, arc_q=q_arc, p_Pa=p,
        throughput_kg_s=throughput, normal_density=rho_n, n_violations=n_viol,
        _builders={"nodes": nodes, "arcs": arcs, "supplies": supplies, "demands": demands, "collapse": collapse,
                   "violations": violations},
        _violation_builder=violation_columns, _linepack_builder=linepack,
    )


_NORMAL_DENSITY: dict[int, tuple[Gas, float]] = {}
"""Normal density per gas (by identity; a gas is immutable): with a reference equation of state it costs
about as much as the rest of the post-processing."""


def _normal_density(gas: Gas) -> float:
    """``gas.reference_density(Reference.NORMAL)``, kg/m^3, remembered for the last few gases."""
    hit = _NORMAL_DENSITY.get(id(gas))
    if hit is not None and hit[0] is gas:
        return hit[1]
    rho = gas.reference_density(Reference.NORMAL)
    if len(_NORMAL_DENSITY) >= 16:
        _NORMAL_DENSITY.pop(next(iter(_NORMAL_DENSITY)))
    _NORMAL_DENSITY[id(gas)] = (gas, rho)
    return rho


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
