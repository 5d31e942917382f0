"""Least curtailment with supply redispatch: a linear flow model (HiGHS) checked by the steady solver.

Contract: :func:`curtail` returns a :class:`CurtailmentResult` whose ``network`` (served demands and
redispatched fixed-flow supplies applied) is hydraulically feasible when ``feasible`` is True: the steady
solve converges, no pressure collapses and no node is below its minimum pressure.

Model (all flows kg/s). Variables: served withdrawal of every positive in-service demand in [0, nominal];
injection of every in-service supply in [flow_min, flow_max] (relaxed to [0, flow_max] if that is
infeasible); flow on every in-service arc within a capacity estimate; up/down redispatch of each supply.
Rows: mass balance at every node; injection - up + down = current injection. Priorities are lexicographic -
the limit of weights that grow without bound with ``priority``: the highest priority level is served first,
its total is fixed, then the next level. Within a level the total curtailment is minimised, plus
``redispatch_cost`` per kg/s of redispatch.

Arc capacities: pipes from the squared-pressure law p_from^2 - p_to^2 = K q|q| with K at fully rough friction,
q_max = sqrt((p_hi_from^2 - p_min_to^2) / K) each way (p_hi: set point at pressure references, else the
larger of the node's p_max and its base-case pressure); resistors alike with K = zeta Z R T / A^2; stations
and regulators forward only, up to their flow_max. The hydraulic check then tightens: for each pipe feeding a
node below p_min from a node that is not, the capacity becomes the flow that would leave exactly p_min (+
``p_margin_bar``) downstream with the pipe's observed K; where no such pipe exists the served demand in the
failing region shrinks by ``shrink``. Capacities and bounds only ever decrease, so the loop terminates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gasgrid.errors import GasgridError, InputError, MissingExtraError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady import solve_steady
from gasgrid.steady.options import SteadyOptions
from gasgrid.steady.result import SteadyResult
from gasgrid.steady.system import Behaviour, arc_behaviour

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
INF = np.inf


@dataclass(frozen=True, kw_only=True)
class CurtailmentOptions:
    """Options of :func:`curtail`.

    Attributes:
        max_iter: LP + hydraulic check rounds.
        redispatch_cost: cost per kg/s of supply redispatch, relative to 1 per kg/s of curtailment.
        p_margin_bar: pressure margin above p_min aimed for when tightening a pipe, bar.
        shrink: factor on served demand (or capacity) where the observed state gives no better rule.
        steady: options of the hydraulic check.
    """

    max_iter: int = 30
    redispatch_cost: float = 1e-4
    p_margin_bar: float = 1e-3
    shrink: float = 0.8
    steady: SteadyOptions | None = None

    def __post_init__(self) -> None:
        if self.max_iter < 1:
            raise InputError("must be >= 1", kind="CurtailmentOptions", field="max_iter")
        if not 0 < self.shrink < 1:
            raise InputError("must be in (0, 1)", kind="CurtailmentOptions", field="shrink")


@dataclass
class CurtailmentResult:
    """Outcome of :func:`curtail`. Flows kg/s; per-demand series are indexed by demand id."""

    feasible: bool
    message: str
    iterations: int
    nominal_kg_s: pd.Series
    served_kg_s: pd.Series
    demand_node: pd.Series
    priority: pd.Series
    supply_kg_s: pd.Series  # injection of each supply in the final state
    supply_change_kg_s: pd.Series  # redispatch relative to the state before curtailment
    network: CompiledNetwork
    hydraulic: SteadyResult | None

    @property
    def unserved_kg_s(self) -> pd.Series:
        return (self.nominal_kg_s - self.served_kg_s).clip(lower=0.0)

    @property
    def total_unserved_kg_s(self) -> float:
        return float(self.unserved_kg_s.sum())

    def table(self, groups: Mapping[str, str] | None = None) -> pd.DataFrame:
        """Who is short by how much: one row per demand (node, group, priority, nominal, served, unserved)."""
        t = pd.DataFrame({"node": self.demand_node, "priority": self.priority, "nominal_kg_s": self.nominal_kg_s,
                          "served_kg_s": self.served_kg_s, "unserved_kg_s": self.unserved_kg_s})
        if groups is not None:
            t.insert(1, "group", [groups.get(str(i)) for i in t.index])
        t["unserved_share"] = np.where(t["nominal_kg_s"] > 0, t["unserved_kg_s"] / t["nominal_kg_s"], 0.0)
        return t

    def by_group(self, groups: Mapping[str, str]) -> pd.DataFrame:
        """Nominal, served and unserved withdrawal summed per group (e.g. province), kg/s."""
        t = self.table(groups)
        t["group"] = t["group"].fillna("(none)")
        g = t.groupby("group")[["nominal_kg_s", "served_kg_s", "unserved_kg_s"]].sum()
        g["unserved_share"] = np.where(g["nominal_kg_s"] > 0, g["unserved_kg_s"] / g["nominal_kg_s"], 0.0)
        return g.sort_values("unserved_kg_s", ascending=False)


def hydraulic_failures(net: CompiledNetwork, res: SteadyResult, tol_bar: float = 1e-6) -> NDArray[np.bool_]:
    """Per node: pressure collapsed, or below p_min (by more than ``tol_bar``)."""
    fail = np.zeros(net.n_nodes, dtype=bool)
    if len(res.collapse):
        fail[[net.node_index(n) for n in res.collapse.index]] = True
    p = res.nodes["p_Pa"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        fail |= np.isfinite(p) & (p < net.p_min - tol_bar * 1e5)
    return fail


def is_feasible(net: CompiledNetwork, res: SteadyResult) -> bool:
    """Converged, no collapse, no node below p_min."""
    return res.has_state and not hydraulic_failures(net, res).any()


def arc_capacities(net: CompiledNetwork, base: SteadyResult | None = None) -> tuple[F64, F64, F64]:
    """Forward and backward capacity estimates per arc, kg/s, and the arcs' K (Pa^2 s^2/kg^2, NaN if none)."""
    b = arc_behaviour(net)
    n = net.n_arcs
    fwd, bwd, K = np.full(n, INF), np.full(n, INF), np.full(n, np.nan)
    p_base = base.nodes["p_Pa"].to_numpy(float) if base is not None else np.full(net.n_nodes, np.nan)
    p_hi = np.fmax(net.p_max, p_base)
    s = net.supply
    ref = s.active & s.fixed_pressure
    p_hi[s.node[ref]] = s.p_set[ref]
    p_lo = np.maximum(net.p_min, 0.0)
    p_mean = np.where(np.isfinite(p_base), p_base, np.nanmax(np.where(np.isfinite(p_hi), p_hi, np.nan)))
    gas = net.gas
    P = net.pipe
    if len(P):
        pm = 0.5 * (p_mean[net.arc_from[P.arc]] + p_mean[net.arc_to[P.arc]])
        c2 = gas.z(pm, P.temperature) * gas.R_specific * P.temperature
        rough = np.maximum(P.roughness, 1e-9)
        lam = np.where(np.isnan(P.lambda_fixed), (2.0 * np.log10(3.71 * P.diameter / rough)) ** -2, P.lambda_fixed)
        area = np.pi * P.diameter**2 / 4.0
        K[P.arc] = c2 * P.length * lam / P.efficiency**2 / (P.diameter * area**2)
    R = net.resistor
    if len(R):
        has = np.isfinite(R.drag)
        area = np.pi * np.nan_to_num(R.diameter, nan=1.0) ** 2 / 4.0
        pm = 0.5 * (p_mean[net.arc_from[R.arc]] + p_mean[net.arc_to[R.arc]])
        c2 = gas.z(pm, net.temperature) * gas.R_specific * net.temperature
        K[R.arc[has]] = (R.drag * c2 / area**2)[has]
    law = np.isfinite(K) & np.isin(b, [Behaviour.PIPE, Behaviour.RESISTOR])
    a = np.flatnonzero(law)
    f, t = net.arc_from[a], net.arc_to[a]
    fwd[a] = np.sqrt(np.maximum(p_hi[f] ** 2 - p_lo[t] ** 2, 0.0) / K[a])
    bwd[a] = np.sqrt(np.maximum(p_hi[t] ** 2 - p_lo[f] ** 2, 0.0) / K[a])
    one_way = np.isin(b, [Behaviour.SET_TO, Behaviour.SET_FROM, Behaviour.RATIO, Behaviour.FLOW, Behaviour.POWER])
    bwd[one_way] = 0.0
    cs, cv = net.compressor, net.control_valve
    fwd[cs.arc] = np.where(one_way[cs.arc], np.nan_to_num(cs.flow_max, nan=INF), fwd[cs.arc])
    fwd[cv.arc] = np.where(one_way[cv.arc], np.nan_to_num(cv.flow_max, nan=INF), fwd[cv.arc])
    from gasgrid.components import ARC_KINDS

    bwd[net.arc_kind == ARC_KINDS.index("check_valve")] = 0.0
    removed = b == Behaviour.REMOVED
    fwd[removed] = 0.0
    bwd[removed] = 0.0
    return fwd, bwd, K


@dataclass
class _Lp:
    """Column layout of the flow model."""

    dem: I64  # curtailable demands (compiled index)
    sup: I64  # in-service supplies
    arcs: I64  # in-service arcs
    s0: F64  # current injection per supply in ``sup``

    @property
    def n(self) -> int:
        return len(self.dem) + 3 * len(self.sup) + len(self.arcs)


def _solve_lp(net: CompiledNetwork, lay: _Lp, d_ub: F64, s_lo: F64, s_hi: F64, fwd: F64, bwd: F64,
              fixed_w: F64, priority: I64, cost: float) -> tuple[bool, F64, F64, F64]:
    """Lexicographic LP; returns (ok, served per lay.dem, injection per lay.sup, flow per lay.arcs)."""
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a core analysis dependency
        raise MissingExtraError("highspy", "analysis", "curtailment") from exc
    nd, ns, na = len(lay.dem), len(lay.sup), len(lay.arcs)
    o_s, o_up, o_dn, o_f = nd, nd + ns, nd + 2 * ns, nd + 3 * ns
    nn = net.n_nodes
    rows, cols, vals = [], [], []
    # node balances: inflow - outflow + injection - served = fixed withdrawal
    rows += [net.arc_to[lay.arcs], net.arc_from[lay.arcs], net.supply.node[lay.sup], net.demand.node[lay.dem]]
    cols += [o_f + np.arange(na), o_f + np.arange(na), o_s + np.arange(ns), np.arange(nd)]
    vals += [np.ones(na), -np.ones(na), np.ones(ns), -np.ones(nd)]
    # redispatch rows
    r0 = nn + np.arange(ns)
    rows += [r0, r0, r0]
    cols += [o_s + np.arange(ns), o_up + np.arange(ns), o_dn + np.arange(ns)]
    vals += [np.ones(ns), -np.ones(ns), np.ones(ns)]
    r = np.concatenate(rows).astype(np.int64)
    c = np.concatenate(cols).astype(np.int64)
    v = np.concatenate(vals)
    n_rows = nn + ns
    lo = np.concatenate([d_ub * 0.0, s_lo, np.zeros(2 * ns), -bwd[lay.arcs]])
    hi = np.concatenate([d_ub, s_hi, np.full(2 * ns, INF), fwd[lay.arcs]])
    row_lo = np.concatenate([fixed_w, lay.s0])
    row_hi = row_lo.copy()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    levels = sorted(set(priority[lay.dem].tolist()), reverse=True) or [0]
    order = np.lexsort((r, c))
    r, c, v = r[order], c[order], v[order]
    start = np.searchsorted(c, np.arange(lay.n + 1)).astype(np.int32)
    cost_vec = np.zeros(lay.n)
    cost_vec[o_up:o_f] = cost
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = lay.n, n_rows
    lp.col_lower_ = np.where(np.isfinite(lo), lo, -inf)
    lp.col_upper_ = np.where(np.isfinite(hi), hi, inf)
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = r.astype(np.int32)
    lp.a_matrix_.value_ = v
    lp.col_cost_ = cost_vec
    h.passModel(lp)
    x = np.zeros(lay.n)
    for lev in levels:
        cols_lev = np.flatnonzero(priority[lay.dem] == lev)
        cc = cost_vec.copy()
        cc[cols_lev] = -1.0
        h.changeColsCost(lay.n, np.arange(lay.n, dtype=np.int32), cc)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False, np.zeros(nd), np.zeros(ns), np.zeros(na)
        x = np.asarray(h.getSolution().col_value)
        total = float(x[cols_lev].sum())
        # fix the level's total (a hair below the optimum, so later levels keep a feasible start)
        h.addRow(total - 1e-9 * max(1.0, total), inf, len(cols_lev), cols_lev.astype(np.int32),
                 np.ones(len(cols_lev)))
    return True, x[:nd], x[o_s:o_up], x[o_f:]


def curtail(
    net: CompiledNetwork,
    *,
    base: SteadyResult | None = None,
    state: SteadyResult | None = None,
    options: CurtailmentOptions | None = None,
) -> CurtailmentResult:
    """Least (priority-weighted) curtailment and redispatch that leaves a hydraulically feasible state.

    Args:
        net: the compiled network to serve (for a contingency: after the outage and island handling).
        base: a steady result of the intact network (pressure levels for the capacity estimates, warm start).
        state: a steady result of ``net`` itself if already computed (its supply injections are the
            reference for redispatch).
        options: see :class:`CurtailmentOptions`.
    """
    opts = options or CurtailmentOptions()
    sopts = opts.steady or SteadyOptions()
    d, s = net.demand, net.supply
    dem = np.flatnonzero(d.active & (d.flow > 0))
    sup = np.flatnonzero(s.active)
    fwd, bwd, K = arc_capacities(net, base)
    arcs = np.flatnonzero((fwd > 0) | (bwd > 0))
    ref = state if state is not None and state.has_state else base
    s_now = s.flow.copy()
    if ref is not None:
        s_now = np.where(s.fixed_pressure, ref.supplies["flow_kg_s"].to_numpy(float), s.flow)
    lay = _Lp(dem=dem, sup=sup, arcs=arcs, s0=np.nan_to_num(s_now[sup]))
    fixed_w = np.zeros(net.n_nodes)
    fixed = d.active & ~(d.flow > 0)
    np.add.at(fixed_w, d.node[fixed], d.flow[fixed])
    s_lo = np.where(np.isfinite(s.flow_min[sup]), s.flow_min[sup], np.where(s.fixed_pressure[sup], -INF, 0.0))
    s_hi = np.where(np.isfinite(s.flow_max[sup]), s.flow_max[sup], INF)
    d_ub = d.flow[dem].copy()
    relaxed = False
    prev = state if state is not None and state.has_state else base
    res: SteadyResult | None = None
    cur = net
    served = d_ub.copy()
    inj = lay.s0.copy()
    for it in range(1, opts.max_iter + 1):
        ok, served, inj, flows = _solve_lp(net, lay, d_ub, s_lo, s_hi, fwd, bwd, fixed_w, d.priority, opts.redispatch_cost)
        if not ok and not relaxed:
            relaxed = True
            s_lo = np.minimum(s_lo, 0.0)
            ok, served, inj, flows = _solve_lp(net, lay, d_ub, s_lo, s_hi, fwd, bwd, fixed_w, d.priority,
                                               opts.redispatch_cost)
        if not ok:
            return _result(net, net, dem, d_ub * 0.0, lay, inj, s_now, None, False, it,
                           "the flow model has no solution even with every demand curtailed and supply "
                           "minimums relaxed: check the fixed injections (negative demands, supplies)")
        cur = _apply(net, dem, served, sup, inj)
        try:
            res = solve_steady(cur, options=sopts, initial=prev if prev is not None and prev.has_state else None)
        except GasgridError as exc:
            return _result(net, cur, dem, served, lay, inj, s_now, None, False, it, f"hydraulic check failed: {exc}")
        if is_feasible(cur, res):
            note = " (supply minimums relaxed)" if relaxed else ""
            msg = f"feasible after {it} round(s); {float((d.flow[dem] - served).sum()):.4g} kg/s curtailed{note}."
            return _result(net, cur, dem, served, lay, inj, s_now, res, True, it, msg)
        if res.has_state:
            prev = res
        _tighten(cur, res, lay, served, flows, fwd, bwd, d_ub, opts)
    return _result(net, cur, dem, served, lay, inj, s_now, res, False, opts.max_iter,
                   f"no hydraulically feasible curtailment within {opts.max_iter} rounds; last check: "
                   f"{res.message if res is not None else 'none'}")


def _apply(net: CompiledNetwork, dem: I64, served: F64, sup: I64, inj: F64) -> CompiledNetwork:
    d, s = net.demand, net.supply
    flow = d.flow.copy()
    flow[dem] = np.maximum(served, 0.0)
    sflow = s.flow.copy()
    fs = ~s.fixed_pressure[sup]
    sflow[sup[fs]] = inj[fs]
    return net.with_(demand=replace(d, flow=flow), supply=replace(s, flow=sflow))


def _tighten(net: CompiledNetwork, res: SteadyResult, lay: _Lp, served: F64, flows: F64, fwd: F64, bwd: F64,
             d_ub: F64, opts: CurtailmentOptions) -> None:
    """Lower capacities (in place) of the pipes feeding failing nodes, or the served demand there."""
    fail = hydraulic_failures(net, res) if res.has_state or len(res.collapse) else np.ones(net.n_nodes, bool)
    p = res.nodes["p_Pa"].to_numpy(float)
    q = res.arc_q if res.arc_q is not None else np.zeros(net.n_arcs)
    q_lp = np.zeros(net.n_arcs)
    q_lp[lay.arcs] = flows
    q = np.where(np.isfinite(q) & (np.abs(q) > 0), q, q_lp)
    up = np.where(q >= 0, net.arc_from, net.arc_to)
    dn = np.where(q >= 0, net.arc_to, net.arc_from)
    b = arc_behaviour(net)
    boundary = np.flatnonzero(fail[dn] & ~fail[up] & (b != Behaviour.REMOVED) & (b != Behaviour.ZERO)
                              & (np.abs(q) > 1e-9))
    target = net.p_min + opts.p_margin_bar * 1e5
    for a in boundary:
        pu, pd_ = p[up[a]], p[dn[a]]
        if b[a] in (Behaviour.PIPE, Behaviour.RESISTOR) and np.isfinite(pu) and np.isfinite(pd_) and pu > pd_:
            k_eff = (pu**2 - pd_**2) / q[a] ** 2
            new = float(np.sqrt(max(pu**2 - target[dn[a]] ** 2, 0.0) / k_eff))
        else:
            new = opts.shrink * abs(float(q[a]))
        cap = fwd if q[a] >= 0 else bwd
        cap[a] = min(cap[a], new)
    if not len(boundary):
        region = fail[net.demand.node[lay.dem]] & (served > 0)
        if not region.any():
            region = served > 0
        d_ub[region] = np.minimum(d_ub[region], served[region] * opts.shrink)


def _result(net: CompiledNetwork, cur: CompiledNetwork, dem: I64, served: F64, lay: _Lp, inj: F64, s_now: F64,
            res: SteadyResult | None, feasible: bool, it: int, msg: str) -> CurtailmentResult:
    d, s = net.demand, net.supply
    ids = pd.Index(d.ids, name="id")
    nominal = np.where(d.active, np.maximum(d.flow, 0.0), 0.0)
    served_all = nominal.copy()
    served_all[dem] = np.clip(served, 0.0, nominal[dem])
    if res is not None and res.has_state:
        final_inj = res.supplies["flow_kg_s"].to_numpy(float)
    else:
        final_inj = np.where(s.active, s.flow, 0.0)
        final_inj[lay.sup] = inj
    return CurtailmentResult(
        feasible=feasible, message=msg, iterations=it,
        nominal_kg_s=pd.Series(nominal, index=ids), served_kg_s=pd.Series(served_all, index=ids),
        demand_node=pd.Series(net.node_ids[d.node], index=ids), priority=pd.Series(d.priority, index=ids),
        supply_kg_s=pd.Series(final_inj, index=pd.Index(s.ids, name="id")),
        supply_change_kg_s=pd.Series(final_inj - np.where(s.active, np.nan_to_num(s_now), 0.0),
                                     index=pd.Index(s.ids, name="id")),
        network=cur, hydraulic=res,
    )


__all__ = ["CurtailmentOptions", "CurtailmentResult", "arc_capacities", "curtail", "hydraulic_failures",
           "is_feasible"]
