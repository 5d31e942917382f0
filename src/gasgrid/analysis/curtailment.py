"""Least curtailment with supply redispatch: a linear flow model (HiGHS) checked by the steady solver.

Contract: :func:`curtail` returns a :class:`CurtailmentResult` whose ``network`` (served demands and
redispatched fixed-flow supplies applied) is hydraulically feasible when ``feasible`` is True: the steady
solve converges, no pressure collapses and no node is below its minimum pressure.

Model (flows kg/s, squared pressures bar^2). Variables: served withdrawal of every positive in-service demand
in [0, nominal]; injection of every in-service supply in [flow_min, flow_max] (relaxed to [0, flow_max] if
that is infeasible); flow on every in-service arc; squared pressure at every node; up/down redispatch of each
supply. Rows: mass balance at every node (station fuel gas of the last checked state included); injection -
up + down = current injection; for pipes and drag resistors the squared-pressure law p_from^2 - p_to^2 =
K q|q| linearised at the current flow q0 (tangent, K from fully rough friction at first, then the K the
steady solver's state shows); zero-loss arcs equal pressures; regulators p_from >= p_to; stations and
regulators forward only, up to their flow_max, with free lift (bounded by the outlet's p_max). Pressure bounds
(p_min + ``p_margin_bar`` everywhere; p_max at station/regulator outlets) are soft: their total violation is
minimised first. Priorities are lexicographic - the limit of weights that grow without bound with
``priority``: the highest level is served first, its total fixed, then the next. Within a level the total
curtailment is minimised, plus ``redispatch_cost`` per kg/s of redispatch.

Loop: LP -> steady solve of the network with the served demands and redispatched flow supplies -> if a node is
below p_min or collapsed, re-linearise at the solved state and, once the served totals stop moving, ask the LP
for the missing pressure at the failing nodes -> repeat. The best feasible state (lexicographically most
served) is returned; the loop stops when two feasible rounds agree or three rounds bring no improvement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.errors import GasgridError, InputError, MissingExtraError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady import solve_steady
from gasgrid.steady.options import SteadyOptions
from gasgrid.steady.result import SteadyResult
from gasgrid.steady.system import Behaviour, arc_behaviour

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
INF = np.inf
_CV_KIND = ARC_KINDS.index("control_valve")


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
    assert res.node_pi is not None and res.p_Pa is not None  # every solve's result carries its arrays
    with np.errstate(invalid="ignore"):
        collapsed = np.isfinite(res.node_pi) & (res.node_pi <= 0.0)  # what ``res.collapse`` lists
        return collapsed | (np.isfinite(res.p_Pa) & (res.p_Pa < net.p_min - tol_bar * 1e5))


def supply_overruns(res: SteadyResult, rtol: float = 1e-6) -> list[str]:
    """Supplies whose injection exceeds their flow_max (beyond ``rtol`` of it, at least 1 g/s)."""
    if not res.n_violations:
        return []
    v = res.violation_columns()
    value, bound, margin = (np.asarray(v[c], dtype=float) for c in ("value", "bound", "margin"))
    bad = (v["kind"] == "supply") & (value > bound) & (margin < -np.maximum(rtol * np.abs(bound), 1e-3))
    return [str(e) for e in v["element"][bad]]


def is_feasible(net: CompiledNetwork, res: SteadyResult) -> bool:
    """Converged, no collapse, no node below p_min, no supply above its flow_max."""
    return res.has_state and not hydraulic_failures(net, res).any() and not supply_overruns(res)


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
    law = np.isfinite(K) & (K > 0) & np.isin(b, [Behaviour.PIPE, Behaviour.RESISTOR])
    a = np.flatnonzero(law)
    f, t = net.arc_from[a], net.arc_to[a]
    fwd[a] = np.sqrt(np.maximum(p_hi[f] ** 2 - p_lo[t] ** 2, 0.0) / K[a])
    bwd[a] = np.sqrt(np.maximum(p_hi[t] ** 2 - p_lo[f] ** 2, 0.0) / K[a])
    one_way = np.isin(b, [Behaviour.SET_TO, Behaviour.SET_FROM, Behaviour.RATIO, Behaviour.FLOW, Behaviour.POWER])
    bwd[one_way] = 0.0
    cs, cv = net.compressor, net.control_valve
    fwd[cs.arc] = np.where(one_way[cs.arc], np.nan_to_num(cs.flow_max, nan=INF), fwd[cs.arc])
    fwd[cv.arc] = np.where(one_way[cv.arc], np.nan_to_num(cv.flow_max, nan=INF), fwd[cv.arc])
    bwd[net.arc_kind == ARC_KINDS.index("check_valve")] = 0.0
    removed = b == Behaviour.REMOVED
    fwd[removed] = 0.0
    bwd[removed] = 0.0
    return fwd, bwd, K


@dataclass
class _Lp:
    """Column layout of the flow model: served, injection, up, down, arc flow, squared pressure (bar^2)."""

    dem: I64  # curtailable demands (compiled index)
    sup: I64  # in-service supplies
    arcs: I64  # in-service arcs
    s0: F64  # current injection per supply in ``sup``

    def offsets(self, n_nodes: int) -> tuple[int, int, int, int, int, int]:
        nd, ns, na = len(self.dem), len(self.sup), len(self.arcs)
        o_s = nd
        o_f = nd + 3 * ns
        o_pi = o_f + na
        return o_s, o_s + ns, o_s + 2 * ns, o_f, o_pi, o_pi + 3 * n_nodes


@dataclass
class _Bounds:
    """Everything the LP needs that changes between rounds."""

    d_ub: F64  # per lay.dem, kg/s
    s_lo: F64
    s_hi: F64
    fwd: F64  # per arc, kg/s
    bwd: F64
    q0: F64  # per arc: flow the pipe law is linearised about, kg/s
    pi_lo: F64  # per node, bar^2
    pi_hi: F64
    K: F64  # per arc: squared-pressure law coefficient, bar^2 s^2/kg^2 (NaN without a law)
    fixed: NDArray[np.bool_]  # per node: pressure fixed by a reference (pi_lo == pi_hi, hard)
    fuel: F64  # per node: fuel gas drawn by stations at their inlet in the last checked state, kg/s


def _solve_lp(net: CompiledNetwork, lay: _Lp, bnd: _Bounds, beh: I64, fixed_w: F64, priority: I64,
              cost: float) -> tuple[bool, F64, F64, F64]:
    """Lexicographic LP; returns (ok, served per lay.dem, injection per lay.sup, flow per lay.arcs)."""
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a core analysis dependency
        raise MissingExtraError("highspy", "analysis", "curtailment") from exc
    nd, ns, na, nn = len(lay.dem), len(lay.sup), len(lay.arcs), net.n_nodes
    o_s, o_up, o_dn, o_f, o_pi, n_col = lay.offsets(nn)
    ar = np.arange
    fa, ta = net.arc_from[lay.arcs], net.arc_to[lay.arcs]
    rows = [ta, fa, net.supply.node[lay.sup], net.demand.node[lay.dem]]
    cols = [o_f + ar(na), o_f + ar(na), o_s + ar(ns), ar(nd)]
    vals = [np.ones(na), -np.ones(na), np.ones(ns), -np.ones(nd)]
    r0 = nn + ar(ns)
    rows += [r0, r0, r0]
    cols += [o_s + ar(ns), o_up + ar(ns), o_dn + ar(ns)]
    vals += [np.ones(ns), -np.ones(ns), np.ones(ns)]
    row_lo = [fixed_w + bnd.fuel, lay.s0]
    row_hi = [fixed_w + bnd.fuel, lay.s0]
    # pressure rows: law arcs pi_f - pi_t = K (2|q0| q - q0|q0|) (tangent at q0); zero-loss arcs pi_f = pi_t;
    # regulators pi_f >= pi_t
    b = beh[lay.arcs]
    K, q0 = bnd.K[lay.arcs], bnd.q0[lay.arcs]
    law = np.flatnonzero(np.isfinite(K) & np.isin(b, [Behaviour.PIPE, Behaviour.RESISTOR]))
    zero = np.flatnonzero(b == Behaviour.ZERO)
    reg = np.flatnonzero((b == Behaviour.SET_TO) & (net.arc_kind[lay.arcs] == _CV_KIND))
    base_row = nn + ns
    tangent = -K * q0 * np.abs(q0)
    for sel, lo, hi, with_q in ((law, tangent[law], tangent[law], True), (zero, 0.0, 0.0, False),
                                (reg, 0.0, INF, False)):
        rr = base_row + ar(len(sel))
        rows += [rr, rr]
        cols += [o_pi + fa[sel], o_pi + ta[sel]]
        vals += [np.ones(len(sel)), -np.ones(len(sel))]
        if with_q:
            rows.append(rr)
            cols.append(o_f + sel)
            vals.append(-2.0 * K[sel] * np.abs(q0[sel]))
        row_lo.append(np.broadcast_to(lo, len(sel)).astype(float))
        row_hi.append(np.broadcast_to(hi, len(sel)).astype(float))
        base_row += len(sel)
    # soft pressure bounds: pi + slack_lo >= pi_lo, pi - slack_hi <= pi_hi (slack minimised first); pressure
    # references stay hard (column bounds)
    o_lo, o_hi = o_pi + nn, o_pi + 2 * nn
    rr = base_row + ar(nn)
    rows += [rr, rr, rr + nn, rr + nn]
    cols += [o_pi + ar(nn), o_lo + ar(nn), o_pi + ar(nn), o_hi + ar(nn)]
    vals += [np.ones(nn), np.ones(nn), np.ones(nn), -np.ones(nn)]
    row_lo += [bnd.pi_lo, np.full(nn, -INF)]
    row_hi += [np.full(nn, INF), bnd.pi_hi]
    base_row += 2 * nn
    fixed_pi = bnd.fixed
    # finite boxes keep the simplex well posed: a linearised law may ask for p^2 < 0 (the slack prices it),
    # never for more than ten times the largest bound; no flow exceeds a few times the total load
    big_pi = 10.0 * float(np.nanmax(np.where(np.isfinite(bnd.pi_hi), bnd.pi_hi, bnd.pi_lo)))
    big_q = 10.0 * max(float(bnd.d_ub.sum() + np.abs(fixed_w).sum() + np.nan_to_num(lay.s0).clip(0).sum()), 1.0)
    pi_l = np.where(fixed_pi, bnd.pi_lo, -big_pi)
    pi_h = np.where(fixed_pi, bnd.pi_hi, big_pi)
    r = np.concatenate(rows).astype(np.int64)
    c = np.concatenate(cols).astype(np.int64)
    v = np.concatenate(vals)
    lo = np.concatenate([np.zeros(nd), np.maximum(bnd.s_lo, -big_q), np.zeros(2 * ns),
                         -np.minimum(bnd.bwd[lay.arcs], big_q), pi_l, np.zeros(2 * nn)])
    hi = np.concatenate([bnd.d_ub, np.minimum(bnd.s_hi, big_q), np.full(2 * ns, big_q),
                         np.minimum(bnd.fwd[lay.arcs], big_q), pi_h, np.full(2 * nn, INF)])
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    order = np.lexsort((r, c))
    r, c, v = r[order], c[order], v[order]
    cost_vec = np.zeros(n_col)
    cost_vec[o_up:o_f] = cost
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, base_row
    lp.col_lower_ = np.where(np.isfinite(lo), lo, -inf)
    lp.col_upper_ = np.where(np.isfinite(hi), hi, inf)
    rl, rh = np.concatenate(row_lo), np.concatenate(row_hi)
    lp.row_lower_ = np.where(np.isfinite(rl), rl, -inf)
    lp.row_upper_ = np.where(np.isfinite(rh), rh, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(c, ar(n_col + 1)).astype(np.int32)
    lp.a_matrix_.index_ = r.astype(np.int32)
    lp.a_matrix_.value_ = v
    lp.col_cost_ = cost_vec
    h.passModel(lp)
    x = np.zeros(n_col)
    # stage 0: pressure bounds as far as possible; then each priority level, highest first. A tiny
    # tie-break by position makes the split within a level unique (stable linearisation between rounds).
    tie = 1.0 + 1e-4 * ar(nd) / max(nd, 1)
    slack_cols = ar(o_lo, n_col)
    stages: list[tuple[NDArray[np.int64], F64, float]] = [(slack_cols, np.ones(2 * nn), 1.0)]
    for lev in sorted(set(priority[lay.dem].tolist()), reverse=True):
        cols_lev = np.flatnonzero(priority[lay.dem] == lev)
        stages.append((cols_lev, tie[cols_lev], -1.0))
    for cols_lev, w, sign in stages:
        cc = cost_vec.copy()
        cc[cols_lev] = sign * w
        h.changeColsCost(n_col, ar(n_col, dtype=np.int32), cc)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            # simplex trouble on a badly scaled round: retry once without presolve, with interior point
            h.setOptionValue("presolve", "off")
            h.setOptionValue("solver", "ipm")
            h.run()
            h.setOptionValue("presolve", "choose")
            h.setOptionValue("solver", "choose")
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False, np.zeros(nd), np.zeros(ns), np.zeros(na)
        x = np.asarray(h.getSolution().col_value)
        total = float(x[cols_lev].sum())
        # fix the stage's total (with a hair of slack, so that later stages keep a feasible start)
        tol = 1e-9 * max(1.0, abs(total))
        lo_r, hi_r = (-inf, total + tol) if sign > 0 else (total - tol, inf)
        h.addRow(lo_r, hi_r, len(cols_lev), cols_lev.astype(np.int32), np.ones(len(cols_lev)))
    return True, x[:nd], x[o_s:o_up], x[o_f:o_pi]


def _initial_bounds(net: CompiledNetwork, lay: _Lp, base: SteadyResult | None, ref: SteadyResult | None,
                    margin_bar: float) -> _Bounds:
    s, d = net.supply, net.demand
    fwd, bwd, K = arc_capacities(net, base)
    beh = arc_behaviour(net)
    law = np.isin(beh, [Behaviour.PIPE, Behaviour.RESISTOR]) & np.isfinite(K)
    fwd[law] = INF  # the pressure rows bound these
    bwd[law] = INF
    q = ref.arc_q if ref is not None and ref.arc_q is not None else np.zeros(net.n_arcs)
    q0 = np.nan_to_num(q)
    p_base = base.nodes["p_Pa"].to_numpy(float) if base is not None else np.full(net.n_nodes, np.nan)
    p_hi = np.fmax(net.p_max, p_base)
    ref_s = s.active & s.fixed_pressure
    p_hi[s.node[ref_s]] = s.p_set[ref_s]
    pi_lo = (np.maximum(net.p_min, 0.0) / 1e5 + margin_bar) ** 2
    pi_hi = np.where(np.isfinite(p_hi), (p_hi / 1e5) ** 2, INF)
    # upper pressure bounds only where a station or regulator could otherwise lift without limit (their
    # outlets); elsewhere pressure falls along the flow and p_max is not what curtailment is about
    lifted = np.zeros(net.n_nodes, dtype=bool)
    lifted[net.arc_to[net.compressor.arc]] = True
    lifted[net.arc_to[net.control_valve.arc]] = True
    pi_hi = np.where(lifted | np.isin(np.arange(net.n_nodes), s.node[ref_s]), pi_hi, INF)
    pi_lo[s.node[ref_s]] = (s.p_set[ref_s] / 1e5) ** 2
    pi_lo = np.minimum(pi_lo, pi_hi)
    sup = lay.sup
    s_lo = np.where(np.isfinite(s.flow_min[sup]), s.flow_min[sup], np.where(s.fixed_pressure[sup], -INF, 0.0))
    s_hi = np.where(np.isfinite(s.flow_max[sup]), s.flow_max[sup], INF)
    return _Bounds(d_ub=d.flow[lay.dem].copy(), s_lo=s_lo, s_hi=s_hi, fwd=fwd, bwd=bwd, q0=q0, pi_lo=pi_lo,
                   pi_hi=pi_hi, K=np.where(law, K / 1e10, np.nan),
                   fixed=np.isin(np.arange(net.n_nodes), s.node[ref_s]), fuel=_fuel(net, ref))


def curtail(
    net: CompiledNetwork,
    *,
    base: SteadyResult | None = None,
    state: SteadyResult | None = None,
    options: CurtailmentOptions | None = None,
) -> CurtailmentResult:
    """Least (priority-ordered) curtailment and redispatch that leaves a hydraulically feasible state.

    Args:
        net: the compiled network to serve (for a contingency: after the outage and island handling).
        base: a steady result of the intact network (pressure levels, flow estimates, warm start).
        state: a steady result of ``net`` itself if already computed (its flows linearise the pipe law and
            its supply injections are the reference for redispatch).
        options: see :class:`CurtailmentOptions`.
    """
    opts = options or CurtailmentOptions()
    sopts = opts.steady or SteadyOptions()
    d, s = net.demand, net.supply
    dem = np.flatnonzero(d.active & (d.flow > 0))
    sup = np.flatnonzero(s.active)
    ref = state if state is not None and state.has_state else base
    s_now = s.flow.copy()
    if ref is not None:
        s_now = np.where(s.fixed_pressure, ref.supplies["flow_kg_s"].to_numpy(float), s.flow)
    beh = arc_behaviour(net)
    arcs = np.flatnonzero(beh != Behaviour.REMOVED)
    lay = _Lp(dem=dem, sup=sup, arcs=arcs, s0=np.nan_to_num(s_now[sup]))
    bnd = _initial_bounds(net, lay, base, ref, opts.p_margin_bar)
    fixed_w = np.zeros(net.n_nodes)
    fixed = d.active & ~(d.flow > 0)
    np.add.at(fixed_w, d.node[fixed], d.flow[fixed])
    notes: list[str] = []
    prev = ref
    res: SteadyResult | None = None
    best: tuple[tuple[float, ...], CompiledNetwork, F64, F64, SteadyResult, int] | None = None
    served = bnd.d_ub.copy()
    inj = lay.s0.copy()
    cur = net
    levels = sorted(set(d.priority[dem].tolist()), reverse=True)
    last: F64 | None = None
    last_key: tuple[float, ...] | None = None
    n_stalled = 0
    for it in range(1, opts.max_iter + 1):
        ok, served, inj, flows = _solve_lp(net, lay, bnd, beh, fixed_w, d.priority, opts.redispatch_cost)
        if not ok and "supply minimums relaxed" not in notes:
            notes.append("supply minimums relaxed")
            bnd.s_lo = np.minimum(bnd.s_lo, 0.0)
            ok, served, inj, flows = _solve_lp(net, lay, bnd, beh, fixed_w, d.priority, opts.redispatch_cost)
        if not ok and best is not None:
            break
        if not ok:
            msg = ("the flow model has no solution even with every demand curtailed and supply minimums relaxed: "
                   "check the fixed injections (negative demands) and pressure bounds")
            return _result(net, net, dem, served * 0.0, lay, inj, s_now, None, False, it, msg)
        cur = _apply(net, dem, served, sup, inj)
        try:
            res = solve_steady(cur, options=sopts, initial=prev if prev is not None and prev.has_state else None)
        except GasgridError as exc:
            return _result(net, cur, dem, served, lay, inj, s_now, None, False, it, f"hydraulic check failed: {exc}")
        feasible = is_feasible(cur, res)
        if feasible:
            key = tuple(float(served[d.priority[dem] == lev].sum()) for lev in levels)
            if best is None or key > best[0]:
                best = (key, cur, served, inj, res, it)
            if last_key is not None and np.allclose(key, last_key, rtol=1e-4, atol=1e-6):
                break
            last_key = key
        if best is not None and it - best[5] >= 3:
            break  # no better feasible state in three rounds
        if res.has_state:
            prev = res
        totals = np.array([served[d.priority[dem] == lev].sum() for lev in levels])
        stalled = last is not None and np.allclose(totals, last, rtol=1e-3, atol=1e-6)
        n_stalled = n_stalled + 1 if stalled and not feasible else 0
        last = totals
        _update(cur, res, lay, bnd, flows, stalled, opts)
        if n_stalled >= 3:
            # asking for pressure does not move the flow model (it believes a station or regulator can still
            # lift): serve less where it fails - or, if nothing is drawn there, in the lowest served priority
            _shrink(cur, res, lay, bnd, served, opts)
            n_stalled = 0
    if best is not None:
        _, cur, served, inj, res, _it = best
        note = f" ({'; '.join(notes)})" if notes else ""
        msg = f"feasible after {it} round(s); {float((d.flow[dem] - served).sum()):.4g} kg/s curtailed{note}."
        return _result(net, cur, dem, served, lay, inj, s_now, res, True, it, msg)
    return _result(net, cur, dem, served, lay, inj, s_now, res, False, opts.max_iter,
                   f"no hydraulically feasible curtailment within {opts.max_iter} rounds; last check: "
                   f"{res.message if res is not None else 'none'}")


def _update(net: CompiledNetwork, res: SteadyResult, lay: _Lp, bnd: _Bounds, flows: F64, stalled: bool,
            opts: CurtailmentOptions) -> None:
    """Re-linearise the pipe law at the checked state; where the check still fails once the linearisation
    has settled (``stalled``: e.g. a station cannot follow), ask for the missing pressure."""
    q_lp = np.zeros(net.n_arcs)
    q_lp[lay.arcs] = flows
    law = np.isfinite(bnd.K)
    if res.has_state and res.arc_q is not None:
        q = res.arc_q
        pi = (res.nodes["p_Pa"].to_numpy(float) / 1e5) ** 2
        dpi = pi[net.arc_from] - pi[net.arc_to]
        with np.errstate(divide="ignore", invalid="ignore"):
            k_obs = dpi / (q * np.abs(q))
        floor = 1e-6 * max(float(np.abs(q).max()), 1e-9)
        good = law & (np.abs(q) > floor) & np.isfinite(k_obs) & (k_obs > 0)
        bnd.K = np.where(good, k_obs, bnd.K)
        bnd.q0 = np.where(law, q, bnd.q0)
    else:
        bnd.q0 = np.where(law, 0.5 * (bnd.q0 + q_lp), bnd.q0)
    if res.has_state:
        bnd.fuel = _fuel(net, res)
    converged = res.has_state or len(res.collapse)
    fail = hydraulic_failures(net, res) if converged else np.zeros(net.n_nodes, bool)
    if stalled and fail.any():
        p = res.nodes["p_Pa"].to_numpy(float) / 1e5
        target = (net.p_min / 1e5 + 2.0 * opts.p_margin_bar) ** 2
        fin = fail & np.isfinite(p)
        bnd.pi_lo[fin] += np.maximum(target[fin] - p[fin] ** 2, 0.0)
        col = fail & ~np.isfinite(p)
        p2 = np.zeros(net.n_nodes)
        if len(res.collapse):
            p2[[net.node_index(n) for n in res.collapse.index]] = res.collapse["p2_bar2"].to_numpy(float)
        # a collapsed Newton state's p^2 is no measure of the deficit: ask for at most a fifth more
        bnd.pi_lo[col] += np.clip(target[col] - p2[col], 1.0, 0.2 * target[col])
        bnd.pi_lo = np.minimum(bnd.pi_lo, bnd.pi_hi)
    if not converged:
        # no usable state (not converged): serve less everywhere it is served
        bnd.d_ub = np.maximum(bnd.d_ub * opts.shrink, 0.0)


def _shrink(net: CompiledNetwork, res: SteadyResult, lay: _Lp, bnd: _Bounds, served: F64,
            opts: CurtailmentOptions) -> None:
    """Lower the served-demand bounds (in place) at failing nodes, else in the lowest served priority level."""
    fail = hydraulic_failures(net, res) if (res.has_state or len(res.collapse)) else np.ones(net.n_nodes, bool)
    at = fail[net.demand.node[lay.dem]] & (served > 1e-9)
    if not at.any():
        prio = net.demand.priority[lay.dem]
        on = served > 1e-9
        if not on.any():
            return
        at = on & (prio == prio[on].min())
    bnd.d_ub[at] = np.minimum(bnd.d_ub[at], served[at] * opts.shrink)


def _fuel(net: CompiledNetwork, res: SteadyResult | None) -> F64:
    """Fuel gas per node (station inlets) of a steady state, kg/s (zero without stations or state)."""
    w = np.zeros(net.n_nodes)
    cs = res.compressors if res is not None else None
    if cs is None or not len(cs) or "fuel_kg_s" not in cs:
        return w
    fuel = np.nan_to_num(cs["fuel_kg_s"].reindex(net.arc_ids[net.compressor.arc]).to_numpy(float))
    np.add.at(w, net.arc_from[net.compressor.arc], fuel)
    return w


def _apply(net: CompiledNetwork, dem: I64, served: F64, sup: I64, inj: F64) -> CompiledNetwork:
    d, s = net.demand, net.supply
    flow = d.flow.copy()
    flow[dem] = np.maximum(served, 0.0)
    sflow = s.flow.copy()
    fs = ~s.fixed_pressure[sup]
    sflow[sup[fs]] = inj[fs]
    return net.with_(demand=replace(d, flow=flow), supply=replace(s, flow=sflow))


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
           "is_feasible", "supply_overruns"]
