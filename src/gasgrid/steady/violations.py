"""Bound violations of a steady state, worst (smallest margin) first.

Contract: :func:`find_violations` lists every violation of the node pressure bounds, the pipes' MAOP and the
pressure supplies' contract flows (and rows left on the compiled network as ``_extra_violations``), in the
order: nodes below p_min, nodes above p_max, pipes, supplies (below, then above, per supply), added rows,
each by index; then sorts them by margin (stable). The numbers (value, bound, margin) come out at once, so the
count and the worst violation are known without building any string; :meth:`Violations.columns` builds the
table's columns on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gasgrid.steady.post_kernels import NODE_HIGH, NODE_LOW, PIPE_HIGH, SUPPLY_HIGH, SUPPLY_LOW, bound_violations

if TYPE_CHECKING:
    from gasgrid.model.compiled import CompiledNetwork
    from gasgrid.steady.options import SteadyOptions

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

VIOLATION_COLUMNS = ["kind", "element", "quantity", "value", "bound", "margin", "unit", "message"]

_LABELS = {  # source -> kind, quantity, unit, message
    NODE_LOW: ("node", "pressure", "bar", "below minimum pressure"),
    NODE_HIGH: ("node", "pressure", "bar", "above maximum pressure"),
    PIPE_HIGH: ("pipe", "pressure", "bar", "above pipe MAOP"),
    SUPPLY_LOW: ("supply", "flow", "kg/s", "injection below contract minimum"),
    SUPPLY_HIGH: ("supply", "flow", "kg/s", "injection above contract maximum"),
}
_TEXT = {c: np.array([_LABELS[src][i] for src in sorted(_LABELS)], dtype=object)
         for i, c in enumerate(("kind", "quantity", "unit", "message"))}  # per column: the text of each source
_LISTED = -1  # source of a row given as a dict (``_extra_violations``)


@dataclass(frozen=True)
class Violations:
    """Violations as rows sorted by margin: where each comes from, and its numbers (bar or kg/s)."""

    source: I64  # NODE_LOW ... SUPPLY_HIGH (see post_kernels), or _LISTED
    index: I64  # node, pipe (position in net.pipe), supply or position in ``rows``
    value: F64
    bound: F64
    margin: F64  # signed distance inside the bound (negative: outside)
    rows: tuple[dict[str, Any], ...]  # listed rows: kind, element, quantity, value, bound, margin, unit, message

    def __len__(self) -> int:
        return len(self.margin)

    def labels(self, net: CompiledNetwork, k: int) -> tuple[str, Any, str, str, str]:
        """Kind, element, quantity, unit and message of row ``k``."""
        src, i = int(self.source[k]), int(self.index[k])
        if src == _LISTED:
            r = self.rows[i]
            return r["kind"], r["element"], r["quantity"], r["unit"], r["message"]
        kind, quantity, unit, message = _LABELS[src]
        if src in (NODE_LOW, NODE_HIGH):
            element = net.node_ids[i]
        elif src == PIPE_HIGH:
            element = net.arc_ids[net.pipe.arc[i]]
        else:
            element = str(net.supply.ids[i])
        return kind, element, quantity, unit, message

    def columns(self, net: CompiledNetwork) -> dict[str, NDArray[Any]]:
        """The table's columns (``VIOLATION_COLUMNS``): strings as object arrays, numbers as floats."""
        listed = np.flatnonzero(self.source == _LISTED) if self.rows else np.zeros(0, dtype=np.int64)
        code = self.source.copy()
        code[listed] = 0
        index = self.index.copy()
        index[listed] = 0
        text = {c: table[code] for c, table in _TEXT.items()}
        # one table of names: nodes, then pipes, then supplies; each source indexes from its offset
        n_nodes, n_pipes = len(net.node_ids), len(net.pipe.arc)
        names = np.concatenate([net.node_ids, net.arc_ids[net.pipe.arc],
                                np.array([str(i) for i in net.supply.ids], dtype=object)])
        offset = np.array([0, 0, n_nodes, n_nodes + n_pipes, n_nodes + n_pipes], dtype=np.int64)
        element = names[offset[code] + index]
        for k in listed:
            r = self.rows[int(self.index[k])]
            element[k] = r["element"]
            for c in text:
                text[c][k] = r[c]
        return {"kind": text["kind"], "element": element, "quantity": text["quantity"], "value": self.value,
                "bound": self.bound, "margin": self.margin, "unit": text["unit"], "message": text["message"]}


def find_violations(net: CompiledNetwork, p: F64, supply_flow: F64, opts: SteadyOptions, behaviour: I64,
                    removed: int, ref: I64) -> Violations:
    """Every violation at node pressures ``p`` [Pa] and supply injections ``supply_flow`` [kg/s], with the
    tolerances of ``opts``; ``behaviour``: per arc, ``removed`` its code for arcs out of service; ``ref``: the
    pressure supplies in service."""
    s = net.supply
    source, index, value, bound, margin = bound_violations(
        p, net.p_min, net.p_max, opts.bound_tol_bar * 1e5, net.arc_from, net.arc_to, net.pipe.arc, net.pipe.p_max,
        behaviour, removed, supply_flow, ref, s.flow_min, s.flow_max, opts.flow_tol_kg_s)
    rows = net.__dict__.get("_extra_violations") or ()
    if rows:  # sorted again with the rows after the others (a stable sort of the whole list)
        source = np.concatenate([source, np.full(len(rows), _LISTED, dtype=np.int64)])
        index = np.concatenate([index, np.arange(len(rows), dtype=np.int64)])
        value, bound, margin = (np.concatenate([a, np.array([r[c] for r in rows], dtype=float)])
                                for a, c in ((value, "value"), (bound, "bound"), (margin, "margin")))
        order = np.argsort(margin, kind="stable")
        source, index, value, bound, margin = source[order], index[order], value[order], bound[order], margin[order]
    return Violations(source=source, index=index, value=value, bound=bound, margin=margin, rows=tuple(rows))


def violation_row(kind: str, element: Any, quantity: str, value: float, bound: float, margin: float, unit: str,
                  message: str) -> dict[str, Any]:
    """One violation as a row (the element's name as a string, numbers as floats)."""
    return {"kind": kind, "element": str(element), "quantity": quantity, "value": float(value),
            "bound": float(bound), "margin": float(margin), "unit": unit, "message": message}
