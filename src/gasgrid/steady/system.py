"""Topology of a steady solve: arc behaviours, contraction of zero-loss arcs, unknown layout, sparsity.

Contract: :func:`build_system` reads a :class:`CompiledNetwork` and returns a :class:`SteadySystem` that is
computed once per topology (set of active arcs and their behaviour) and reused for every Newton step.

Zero-pressure-loss arcs (short pipes, open valves, open control valves, bypassed stations) are contracted:
their end nodes are merged into one super-node, so loops of such arcs (GasLib-582 has 17) never make the
Jacobian singular; their flows are recovered afterwards as the minimum-norm flow that closes the balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gasgrid.components import ARC_KINDS
from gasgrid.components.compressor import MODES as CS_MODES
from gasgrid.components.control_valve import MODES as CV_MODES
from gasgrid.errors import TopologyError
from gasgrid.graph import connected_components
from gasgrid.model.compiled import CompiledNetwork
from gasgrid.steady.layout import LAYOUT_OK, layout

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


class Behaviour(IntEnum):
    """How an arc enters the steady equations."""

    REMOVED = 0  # out of service, closed valve, closed regulator, station off
    ZERO = 1  # no pressure loss: contracted
    PIPE = 2
    RESISTOR = 3
    SET_TO = 4  # p_to = set point (regulator, station on discharge control)
    SET_FROM = 5  # p_from = set point (station on suction control)
    RATIO = 6  # p_to = ratio * p_from
    FLOW = 7  # q = set point (station on throughput control)
    POWER = 8  # shaft power = set point
    PUMP = 9  # p_to = p_from + lift(q) (characteristic curve)


KIND = {k: i for i, k in enumerate(ARC_KINDS)}
_CS_BEHAVIOUR = {
    "discharge": Behaviour.SET_TO,
    "suction": Behaviour.SET_FROM,
    "ratio": Behaviour.RATIO,
    "flow": Behaviour.FLOW,
    "power": Behaviour.POWER,
    "bypass": Behaviour.ZERO,
    "off": Behaviour.REMOVED,
}
_CV_BEHAVIOUR = {"set_point": Behaviour.SET_TO, "open": Behaviour.ZERO, "closed": Behaviour.REMOVED}


def member(codes: NDArray[np.integer], allowed: tuple[int, ...] | list[int]) -> NDArray[np.bool_]:
    """``np.isin`` for small non-negative integer codes (behaviours, modes), by table lookup."""
    table = np.zeros(max(max(allowed, default=0), int(codes.max(initial=0))) + 1, dtype=bool)
    table[list(allowed)] = True
    return table[codes]


_REMOVED, _ZERO, _PIPE = int(Behaviour.REMOVED), int(Behaviour.ZERO), int(Behaviour.PIPE)
_RESISTOR, _PUMP = int(Behaviour.RESISTOR), int(Behaviour.PUMP)
_CS_LOOKUP = np.array([_CS_BEHAVIOUR[m] for m in CS_MODES], dtype=np.int64)  # mode index -> behaviour
_CV_LOOKUP = np.array([_CV_BEHAVIOUR[m] for m in CV_MODES], dtype=np.int64)


def arc_behaviour(net: CompiledNetwork, cs_modes: I64 | None = None, cv_modes: I64 | None = None) -> I64:
    """Behaviour code of every arc (see :class:`Behaviour`). Mode overrides are indices into MODES.

    A resistor without pressure loss (drag factor 0, or a fixed drop of 0 Pa) is contracted like a short pipe:
    its equation p_from = p_to has no flow derivative, which the nodal elimination of arc flows needs."""
    b = np.full(net.n_arcs, _ZERO, dtype=np.int64)  # plain ints: numpy is slow with enum members
    b[net.pipe.arc] = _PIPE
    R = net.resistor
    if R.arc.size:
        lossless = np.where(np.isnan(R.drag), R.dp_fixed == 0.0, R.drag == 0.0)
        b[R.arc] = np.where(lossless, _ZERO, _RESISTOR)
    b[net.pump.arc] = _PUMP
    cs = net.compressor.mode if cs_modes is None else cs_modes
    b[net.compressor.arc] = _CS_LOOKUP[np.asarray(cs, dtype=np.int64)]
    cv = net.control_valve.mode if cv_modes is None else cv_modes
    b[net.control_valve.arc] = _CV_LOOKUP[np.asarray(cv, dtype=np.int64)]
    b[~net.valve_open] = _REMOVED  # check valves start open (ZERO); the controller closes them
    b[~net.arc_active] = _REMOVED
    return b


@dataclass(frozen=True)
class SteadySystem:
    """Everything about the unknown layout that depends only on topology and behaviours."""

    behaviour: I64  # per arc
    group: I64  # per node: super-node index
    n_groups: int
    group_fixed_pi: F64  # per group: fixed squared pressure (Pa^2) or NaN
    group_ref_supply: I64  # per group: index of a pressure supply fixing it, or -1
    group_component: I64  # per group: connected component
    dead_groups: NDArray[np.bool_]  # groups in components with no reference and no load (pressure undefined)
    free_col: I64  # per group: column of its pi unknown, or -1
    eq_arcs: I64  # arcs carrying an equation (not removed, not zero)
    zero_arcs: I64  # contracted arcs
    n_free: int
    n: int  # number of unknowns = n_free + len(eq_arcs)
    # per eq arc: group of from/to, column of pi_from/pi_to (-1 if fixed), row of balance (-1 if fixed)
    g_from: I64
    g_to: I64
    twin_of: I64  # per arc: the parallel arc solved in its place, or -1
    col_from: I64
    col_to: I64
    brow_from: I64
    brow_to: I64

    def _csc_pattern(self) -> tuple[I64, I64, I64, int]:
        """Sparsity pattern (CSC) of the full Jacobian and the scatter map from COO entries to its data
        slots, built on first use (the default nodal solver never needs the full matrix)."""
        cached = self.__dict__.get("_csc")
        if cached is None:
            cached = _csc_pattern(self)
            self.__dict__["_csc"] = cached
        return cached

    @property
    def indptr(self) -> I64:
        return self._csc_pattern()[0]

    @property
    def indices(self) -> I64:
        return self._csc_pattern()[1]

    @property
    def slot(self) -> I64:
        return self._csc_pattern()[2]

    @property
    def nnz(self) -> int:
        return self._csc_pattern()[3]

    def matrix(self, coo_values: F64) -> sp.csc_matrix:
        """Assemble the Jacobian from values in the fixed COO order (duplicates summed)."""
        indptr, indices, slot, nnz = self._csc_pattern()
        data = np.bincount(slot, weights=coo_values, minlength=nnz)
        return sp.csc_matrix((data, indices, indptr), shape=(self.n, self.n))


def build_system(net: CompiledNetwork, behaviour: I64 | None = None) -> SteadySystem:
    """Contract zero-loss arcs, check references, lay out unknowns and the sparsity pattern.

    Computed in one compiled pass (:func:`gasgrid.steady.layout.layout`); where it finds a problem,
    :func:`build_system_reference` raises the error that names the elements involved."""
    b = np.ascontiguousarray(arc_behaviour(net) if behaviour is None else behaviour, dtype=np.int64)
    s, d = net.supply, net.demand
    (outcome, group, n_groups, fixed_pi, ref_supply, comp, dead, eq, g_from, g_to, twin_of, free_col, n_free,
     zero) = layout(net.n_nodes, net.arc_from, net.arc_to, b, s.node, s.active, s.fixed_pressure, s.p_set, s.flow,
                    d.node, d.active, d.flow)
    if outcome != LAYOUT_OK:
        return build_system_reference(net, b)
    col_from = free_col[g_from]
    col_to = free_col[g_to]
    return SteadySystem(
        behaviour=b, group=group, n_groups=n_groups, group_fixed_pi=fixed_pi, group_ref_supply=ref_supply,
        group_component=comp, dead_groups=dead, free_col=free_col, eq_arcs=eq, zero_arcs=zero,
        n_free=n_free, n=n_free + len(eq), g_from=g_from, g_to=g_to, twin_of=twin_of, col_from=col_from,
        col_to=col_to, brow_from=col_from.copy(), brow_to=col_to.copy(),
    )


def build_system_reference(net: CompiledNetwork, behaviour: I64 | None = None) -> SteadySystem:
    """:func:`build_system` in numpy and Python, raising :class:`TopologyError` for: supplies fixing different
    pressures on one super-node, islands with load but no reference, set points that conflict or are bridged,
    regions whose pressure level nothing fixes, loops of set-point arcs."""
    b = arc_behaviour(net) if behaviour is None else behaviour
    n_nodes = net.n_nodes
    zero = np.flatnonzero(b == Behaviour.ZERO)
    n_groups, group = connected_components(n_nodes, net.arc_from[zero], net.arc_to[zero])

    # pressure references
    s = net.supply
    fixed_pi = np.full(n_groups, np.nan)
    ref_supply = np.full(n_groups, -1, dtype=np.int64)
    for k in np.flatnonzero(s.active & s.fixed_pressure):
        g = group[s.node[k]]
        pi = s.p_set[k] ** 2
        if ref_supply[g] >= 0 and not np.isclose(fixed_pi[g], pi, rtol=1e-12):
            other = s.ids[ref_supply[g]]
            raise TopologyError(
                f"supplies {other!r} and {s.ids[k]!r} fix different pressures on nodes joined without "
                "pressure loss (short pipes/open valves); open a valve between them or give one a flow"
            )
        fixed_pi[g] = pi
        if ref_supply[g] < 0:
            ref_supply[g] = k

    eq = np.flatnonzero((b != Behaviour.ZERO) & (b != Behaviour.REMOVED))
    g_from = group[net.arc_from[eq]]
    g_to = group[net.arc_to[eq]]

    # connected components over groups (arcs with equations)
    n_comp, comp = connected_components(n_groups, g_from, g_to)
    has_ref = np.zeros(n_comp, dtype=bool)
    has_ref[comp[ref_supply >= 0]] = True
    load = np.zeros(n_groups)
    d = net.demand
    np.add.at(load, group[d.node[d.active]], np.abs(d.flow[d.active]))
    fs = s.active & ~s.fixed_pressure
    np.add.at(load, group[s.node[fs]], np.abs(s.flow[fs]) + 1.0)  # any flow supply counts as load
    comp_load = np.bincount(comp, weights=load, minlength=n_comp)
    bad = np.flatnonzero(~has_ref & (comp_load > 0))
    if len(bad):
        members = np.flatnonzero(comp[group] == bad[0])
        names = [str(net.node_ids[i]) for i in members[:5]]
        more = f" and {len(members) - 5} more" if len(members) > 5 else ""
        err = TopologyError(
            f"the part of the network with nodes {names}{more} has demand or supply but no pressure reference "
            "(an island): add a supply with mode='pressure' there, connect it, or take its demand out of service"
        )
        err.floating_nodes = [str(net.node_ids[i]) for i in members]  # type: ignore[attr-defined]
        raise err
    dead = ~has_ref[comp]
    live = ~dead[g_from]
    eq, g_from, g_to = eq[live], g_from[live], g_to[live]
    # parallel regulators/stations with the same control (same groups, same behaviour) are solved as one; the
    # flow is shared equally afterwards (set points must agree: checked by the assembler)
    keyed = member(b[eq], [Behaviour.SET_TO, Behaviour.SET_FROM, Behaviour.RATIO])
    keys = np.stack([g_from, g_to, b[eq]], axis=1)
    twin_of = np.full(net.n_arcs, -1, dtype=np.int64)
    if keyed.sum() > 1:
        _, first, inverse = np.unique(keys[keyed], axis=0, return_index=True, return_inverse=True)
        arcs_k = eq[keyed]
        primary = arcs_k[first[inverse.ravel()]]
        twins = arcs_k != primary
        twin_of[arcs_k[twins]] = primary[twins]
        keep = twin_of[eq] < 0
        eq, g_from, g_to = eq[keep], g_from[keep], g_to[keep]
    _check_set_points(net, b, eq, g_from, g_to, fixed_pi, ref_supply)

    free = np.isnan(fixed_pi) & ~dead
    _check_floating(net, b, eq, g_from, g_to, free, group)
    _check_set_point_cycles(net, b, eq, g_from, g_to)
    free_col = np.full(n_groups, -1, dtype=np.int64)
    free_col[free] = np.arange(int(free.sum()))
    n_free = int(free.sum())
    n = n_free + len(eq)
    col_from = free_col[g_from]
    col_to = free_col[g_to]
    brow_from = col_from.copy()  # balance row of a free group = its column index
    brow_to = col_to.copy()

    return SteadySystem(
        behaviour=b, group=group, n_groups=n_groups, group_fixed_pi=fixed_pi, group_ref_supply=ref_supply,
        group_component=comp, dead_groups=dead, free_col=free_col, eq_arcs=eq, zero_arcs=zero,
        n_free=n_free, n=n, g_from=g_from, g_to=g_to, twin_of=twin_of, col_from=col_from, col_to=col_to,
        brow_from=brow_from, brow_to=brow_to,
    )


def _csc_pattern(sys: SteadySystem) -> tuple[I64, I64, I64, int]:
    n = sys.n
    arc_row = sys.n_free + np.arange(len(sys.eq_arcs))
    brow_to, brow_from, col_from, col_to = sys.brow_to, sys.brow_from, sys.col_from, sys.col_to
    rows: list[I64] = []
    cols: list[I64] = []
    # balance rows: +q into to-group, -q out of from-group
    m = brow_to >= 0
    rows.append(brow_to[m]); cols.append(arc_row[m])  # noqa: E702
    m = brow_from >= 0
    rows.append(brow_from[m]); cols.append(arc_row[m])  # noqa: E702
    # arc rows: d/dpi_from, d/dpi_to, d/dq
    m = col_from >= 0
    rows.append(arc_row[m]); cols.append(col_from[m])  # noqa: E702
    m = col_to >= 0
    rows.append(arc_row[m]); cols.append(col_to[m])  # noqa: E702
    rows.append(arc_row); cols.append(arc_row)  # noqa: E702
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    key = c * n + r  # column-major order
    uniq, slot = np.unique(key, return_inverse=True)
    ucol = uniq // max(n, 1)
    urow = uniq % max(n, 1)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, ucol + 1, 1)
    return np.cumsum(indptr), urow.astype(np.int64), slot.astype(np.int64).ravel(), len(uniq)


def _check_set_points(
    net: CompiledNetwork, b: I64, eq: I64, g_from: I64, g_to: I64, fixed_pi: F64, ref_supply: I64
) -> None:
    """A group's pressure may be fixed by at most one thing: a supply or one set-point arc."""
    owner: dict[int, str] = {
        int(g): f"supply {net.supply.ids[ref_supply[g]]!r}" for g in np.flatnonzero(ref_supply >= 0)
    }
    sel = member(b[eq], [Behaviour.SET_TO, Behaviour.SET_FROM, Behaviour.RATIO])  # only these can conflict
    for a, gf, gt in zip(eq[sel], g_from[sel], g_to[sel], strict=True):
        beh = b[a]
        if beh in (Behaviour.SET_TO, Behaviour.SET_FROM, Behaviour.RATIO) and gf == gt:
            raise TopologyError(
                f"{ARC_KINDS[net.arc_kind[a]]} {net.arc_ids[a]!r} is bridged by a path without pressure loss "
                "(open valve/short pipe/bypass) between its inlet and outlet: close the bypass or bypass the element"
            )
        if beh == Behaviour.SET_TO:
            g = int(gt)
        elif beh == Behaviour.SET_FROM:
            g = int(gf)
        else:
            continue
        me = f"{ARC_KINDS[net.arc_kind[a]]} {net.arc_ids[a]!r}"
        if g in owner:
            node = net.node_ids[net.arc_to[a] if beh == Behaviour.SET_TO else net.arc_from[a]]
            raise TopologyError(
                f"{me} and {owner[g]} both fix the pressure at node {node!r} (or nodes joined to it without "
                "pressure loss): give one of them another control mode"
            )
        owner[g] = me


_COUPLING = (Behaviour.PIPE, Behaviour.RESISTOR, Behaviour.RATIO, Behaviour.POWER, Behaviour.PUMP)


def _check_floating(
    net: CompiledNetwork, b: I64, eq: I64, g_from: I64, g_to: I64, free: NDArray[np.bool_], group: I64
) -> None:
    """Regions joined by pipes, resistors and ratio/power-controlled stations whose pressure level nothing
    fixes (no pressure supply, no regulator or station set point on their side) have an undetermined pressure,
    e.g. fixed-flow entries that only feed stations on discharge control: say so instead of failing on a
    singular matrix."""
    n_groups = len(free)
    beh = b[eq]
    c = member(beh, _COUPLING)
    n_reg, region = connected_components(n_groups, g_from[c], g_to[c])
    pinned = np.zeros(n_reg, dtype=bool)
    pinned[region[~free]] = True  # pressure supplies (and dead groups, which have no equations)
    pinned[region[g_to[beh == Behaviour.SET_TO]]] = True
    pinned[region[g_from[beh == Behaviour.SET_FROM]]] = True
    floating = np.flatnonzero(~pinned[region] & free)
    if len(floating):
        members = np.flatnonzero(np.isin(group, floating))
        nodes = [str(net.node_ids[i]) for i in members]
        err = TopologyError(
            f"the pressure level of the region with nodes {nodes[:6]}{' ...' if len(nodes) > 6 else ''} is not "
            "determined: no pressure supply or set point fixes it (e.g. fixed-flow entries that only feed stations "
            "on discharge control or regulators). Give one entry a pressure (supply mode='pressure') or a "
            "station a suction or ratio mode."
        )
        err.floating_nodes = nodes  # type: ignore[attr-defined]
        raise err


_SET_BEHAVIOURS = (Behaviour.SET_TO, Behaviour.SET_FROM, Behaviour.RATIO, Behaviour.FLOW)


def _check_set_point_cycles(net: CompiledNetwork, b: I64, eq: I64, g_from: I64, g_to: I64) -> None:
    """A loop made only of set-point arcs (no pipe or resistor in it) leaves its circulating flow undetermined."""
    parent = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    adjacency: dict[int, list[tuple[int, int]]] = {}
    sel = member(b[eq], _SET_BEHAVIOURS)
    for a, gf, gt in zip(eq[sel], g_from[sel], g_to[sel], strict=True):
        rf, rt = find(int(gf)), find(int(gt))
        if rf == rt:
            cycle = [int(a), *_path(adjacency, int(gf), int(gt))]
            names = [str(net.arc_ids[k]) for k in cycle]
            err = TopologyError(
                f"the set-point elements {names} form a loop without pipes or resistors, so the flow around it is "
                "undetermined: close one of them or give one another control mode"
            )
            err.elements = names  # type: ignore[attr-defined]
            raise err
        parent[rf] = rt
        adjacency.setdefault(int(gf), []).append((int(gt), int(a)))
        adjacency.setdefault(int(gt), []).append((int(gf), int(a)))


def _path(adjacency: dict[int, list[tuple[int, int]]], start: int, goal: int) -> list[int]:
    """Arcs on a path between two groups in a forest (depth-first)."""
    stack = [(start, -1, [])]
    seen = {start}
    while stack:
        node, _, arcs = stack.pop()
        if node == goal:
            return arcs
        for nxt, arc in adjacency.get(node, []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, arc, [*arcs, arc]))
    return []
