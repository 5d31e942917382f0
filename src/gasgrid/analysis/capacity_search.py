"""Capacity: the largest throughput a network (or one supply-to-demand route) carries within its bounds.

Contract: :func:`capacity` bisects on a load factor with the steady solver as the feasibility test and
returns a :class:`CapacityResult` naming the binding constraint just beyond the limit. A state is feasible
when the solve converges, no pressure collapses, no node falls below p_min and no bound is broken that was
not already broken at the smallest load tried (pre-existing violations of the data - GasLib's exit p_max,
say - do not define the capacity; they are reported in ``preexisting``).

Modes: ``"scale_demands"`` multiplies every positive withdrawal by the factor (fixed-flow supplies keep their
injection, the pressure references take the rest); ``"path"`` adds ``factor * 1 kg/s`` at ``demand`` and the
same injection at ``supply`` (if it is a fixed-flow supply; a pressure supply follows by itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gasgrid.analysis.scenario import DemandScale
from gasgrid.errors import InputError
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady import solve_steady
from gasgrid.steady.options import SteadyOptions
from gasgrid.steady.result import SteadyResult

if TYPE_CHECKING:
    from gasgrid.model.network import Network

MODES = ("scale_demands", "path")


@dataclass
class CapacityResult:
    """Outcome of :func:`capacity`.

    Attributes:
        mode: the search mode.
        factor: largest feasible load factor found (scale of the demands, or kg/s added on the path).
        throughput_kg_s: total positive withdrawal at ``factor``, kg/s.
        binding: the constraint that breaks just beyond the limit (text).
        binding_kind / binding_element: where.
        result: steady result at the limit (feasible side).
        beyond: steady result just beyond it.
        history: every factor tried with its feasibility.
        preexisting: violations already present at the lowest load (not counted against capacity).
    """

    mode: str
    factor: float
    throughput_kg_s: float
    binding: str
    binding_kind: str
    binding_element: str
    result: SteadyResult | None
    beyond: SteadyResult | None
    history: pd.DataFrame
    preexisting: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)


def _key(v: pd.Series) -> tuple[str, str, str]:
    return (str(v["kind"]), str(v["element"]), str(v["message"]))


def _loaded(net: CompiledNetwork, mode: str, factor: float, path: tuple[str, str] | None) -> CompiledNetwork:
    if mode == "scale_demands":
        return DemandScale(factor).apply(net)
    assert path is not None
    sup, dem = path
    d = net.demand
    k = np.flatnonzero(d.ids == dem)
    flow = d.flow.copy()
    flow[k[0]] += factor
    net = net.with_(demand=replace(d, flow=flow))
    s = net.supply
    j = int(np.flatnonzero(s.ids == sup)[0])
    if not s.fixed_pressure[j]:
        sflow = s.flow.copy()
        sflow[j] += factor
        net = net.with_(supply=replace(s, flow=sflow))
    return net


def _judge(net: CompiledNetwork, res: SteadyResult, pre: frozenset[tuple[str, str, str]]) -> tuple[bool, str, str, str]:
    """(feasible, binding text, kind, element)."""
    if not res.has_state:
        if len(res.collapse):
            node = str(res.collapse.index[0])
            return False, f"pressure collapses at node {node!r}", "node", node
        return False, f"steady solve {res.status.value}: {res.message}", "solver", ""
    new = [v for _, v in res.violations.iterrows() if _key(v) not in pre]
    if new:
        v = new[0]
        text = (f"{v['kind']} {v['element']!r} {v['quantity']} {v['value']:.4g} {v['unit']} vs bound "
                f"{v['bound']:.4g} ({v['message']})")
        return False, text, str(v["kind"]), str(v["element"])
    return True, "", "", ""


def _station_at_limit(res: SteadyResult) -> str:
    cs = res.compressors
    if not len(cs) or "binding_limit" not in cs:
        return ""
    at = cs[(cs["binding_limit"].astype(str) != "") & (cs.get("state", "active") == "active")]
    return ", ".join(f"{i} ({r.binding_limit})" for i, r in at.iterrows())


def capacity(
    network: Network | CompiledNetwork,
    *,
    mode: str = "scale_demands",
    path: tuple[str, str] | None = None,
    tol: float = 1e-3,
    lo: float = 0.0,
    hi: float | None = None,
    max_solves: int = 60,
    options: SteadyOptions | None = None,
) -> CapacityResult:
    """Largest load factor with a feasible steady state (see the module contract).

    Args:
        network: the network.
        mode: ``"scale_demands"`` or ``"path"``.
        path: ``(supply_id, demand_id)`` for ``mode="path"``.
        tol: relative width of the final bracket (on the factor).
        lo: a factor known (or assumed) feasible; the pre-existing violations are those at ``lo``.
        hi: a factor known infeasible (default: found by doubling from 1, or from 1 kg/s on a path).
        max_solves: steady-solve budget.
        options: steady-solver options.
    """
    if mode not in MODES:
        raise InputError(f"must be one of {MODES}, got {mode!r}", kind="capacity", field="mode")
    base = network if isinstance(network, CompiledNetwork) else network.compile()
    if mode == "path":
        if path is None or len(path) != 2:
            raise InputError("mode='path' needs path=(supply_id, demand_id)", kind="capacity", field="path")
        if path[0] not in set(base.supply.ids) or path[1] not in set(base.demand.ids):
            raise InputError(f"unknown supply or demand in {path!r}", kind="capacity", field="path")
    history: list[dict[str, Any]] = []
    cache: dict[float, SteadyResult] = {}
    last: list[SteadyResult] = []

    def solve(f: float) -> SteadyResult:
        if f not in cache:
            init = last[-1] if last and last[-1].has_state else None
            cache[f] = solve_steady(_loaded(base, mode, f, path), options=options, initial=init)
            if cache[f].has_state:
                last.append(cache[f])
        return cache[f]

    r_lo = solve(lo)
    pre = frozenset(_key(v) for _, v in r_lo.violations.iterrows()) if r_lo.has_state else frozenset()
    ok_lo, why, _, _ = _judge(base, r_lo, pre)
    history.append({"factor": lo, "feasible": ok_lo, "binding": why})
    if not ok_lo:
        raise InputError(f"the network is not feasible at the lowest load factor {lo}: {why}", kind="capacity",
                         field="lo")
    f_hi = hi if hi is not None else 1.0
    beyond: SteadyResult | None = None
    binding = ("", "", "")
    while True:
        r = solve(f_hi)
        ok, why, kind, el = _judge(base, r, pre)
        history.append({"factor": f_hi, "feasible": ok, "binding": why})
        if not ok:
            beyond, binding = r, (why, kind, el)
            break
        lo, r_lo = f_hi, r
        if len(history) >= max_solves or f_hi > 1e6:
            break
        f_hi *= 2.0
    while beyond is not None and (f_hi - lo) > tol * max(f_hi, 1e-12) and len(history) < max_solves:
        mid = 0.5 * (lo + f_hi)
        r = solve(mid)
        ok, why, kind, el = _judge(base, r, pre)
        history.append({"factor": mid, "feasible": ok, "binding": why})
        if ok:
            lo, r_lo = mid, r
        else:
            f_hi, beyond, binding = mid, r, (why, kind, el)
    stations = _station_at_limit(beyond) if beyond is not None and beyond.has_state else ""
    text = binding[0] + (f"; stations at a limit: {stations}" if stations else "")
    loaded = _loaded(base, mode, lo, path)
    d = loaded.demand
    return CapacityResult(
        mode=mode, factor=float(lo), throughput_kg_s=float(np.maximum(d.flow[d.active], 0.0).sum()),
        binding=text or "no limit found within the search range", binding_kind=binding[1],
        binding_element=binding[2], result=r_lo, beyond=beyond, history=pd.DataFrame(history), preexisting=pre,
    )


__all__ = ["MODES", "CapacityResult", "capacity"]
