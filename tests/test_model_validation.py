"""Validation and compilation on arrays: the same errors, in the same order, as the pandas code they replace.

``_reference_*`` below is that pandas code (schema validation, the network-level checks and the checks made
while compiling), kept here as the behaviour to match: random edits of a network with every component kind
must fail (or pass) identically under both.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gasgrid as g
from gasgrid.components import ARC_KINDS, KINDS
from gasgrid.components.compressor import MODES as CS_MODES
from gasgrid.components.control_valve import MODES as CV_MODES
from gasgrid.components.pipe import FRICTION_LAWS
from gasgrid.errors import InputError
from gasgrid.model.schema import REQUIRED, Column, Schema, positions


def _reference_schema_validate(schema: Schema, frame: pd.DataFrame, known: dict[str, pd.Index]) -> None:
    if frame.index.has_duplicates:
        raise InputError("duplicate id", kind=schema.kind, element=frame.index[frame.index.duplicated()][0])
    for col in schema.columns:
        values = frame[col.name]
        if col.dtype == "float":
            arr = values.to_numpy(dtype=float)
            nan = np.isnan(arr)
            if col.required and nan.any():
                raise InputError("is required (got NaN)", kind=schema.kind, element=frame.index[np.argmax(nan)],
                                 field=col.name)
            ok = nan | ((arr > col.lo) if col.lo_open else (arr >= col.lo)) & (arr <= col.hi)
            if not ok.all():
                i = int(np.argmin(ok))
                lo = "(" if col.lo_open else "["
                raise InputError(f"must be in {lo}{col.lo:g}, {col.hi:g}] {col.unit}, got {arr[i]!r}",
                                 kind=schema.kind, element=frame.index[i], field=col.name)
        elif col.dtype == "str":
            missing = values.isna()
            if col.required and missing.any():
                raise InputError("is required", kind=schema.kind, element=frame.index[missing.argmax()],
                                 field=col.name)
            if col.choices is not None:
                bad = ~values.isna() & ~values.isin(col.choices)
                if bad.any():
                    i = int(np.argmax(bad.to_numpy()))
                    raise InputError(f"must be one of {list(col.choices)}, got {values.iloc[i]!r}",
                                     kind=schema.kind, element=frame.index[i], field=col.name)
            refs = known.get(col.ref) if col.ref is not None else None
            if refs is not None:
                bad = ~values.isna() & ~values.isin(refs)
                if bad.any():
                    i = int(np.argmax(bad.to_numpy()))
                    raise InputError(f"references unknown {col.ref} {values.iloc[i]!r}",
                                     kind=schema.kind, element=frame.index[i], field=col.name)


def _reference_require_where(frame: pd.DataFrame, mask: pd.Series, column: str, kind: str, when: str) -> None:
    missing = mask & frame[column].isna()
    if missing.any():
        raise InputError(f"is required when {when}", kind=kind, element=frame.index[missing.argmax()], field=column)


def _reference_validate(net: g.Network) -> None:
    """Network.validate as it was."""
    t = net.tables
    known = {"node": t["node"].index}
    for kind, schema in KINDS.items():
        _reference_schema_validate(schema, t[kind], known)
    arc_ids = np.concatenate([t[k].index.to_numpy() for k in ARC_KINDS])
    uniq, counts = np.unique(arc_ids.astype(str), return_counts=True)
    if (counts > 1).any():
        raise InputError("arc id used by two arcs (arc ids must be unique across arc kinds)",
                         element=str(uniq[counts > 1][0]))
    for kind in ARC_KINDS:
        loop = t[kind].index[t[kind]["from_node"] == t[kind]["to_node"]]
        if len(loop):
            raise InputError("from_node equals to_node", kind=kind, element=loop[0], field="to_node")


def _reference_compile_checks(net: g.Network) -> None:
    """Network.validate, then the checks compile_network made, as they were."""
    _reference_validate(net)
    t = net.tables
    p, r, cv, cs, s, nodes = (t[k] for k in ("pipe", "resistor", "control_valve", "compressor", "supply", "node"))
    [FRICTION_LAWS.index(v) for v in p["friction"]]
    _reference_require_where(p, p["friction"] == "fixed", "lambda_fixed", "pipe", "friction='fixed'")
    has_drag, has_dp = r["drag_factor"].notna(), r["pressure_drop_bar"].notna()
    both = has_drag == has_dp
    if both.any():
        raise InputError("give exactly one of drag_factor or pressure_drop_bar", kind="resistor",
                         element=r.index[both.argmax()], field="drag_factor")
    _reference_require_where(r, has_drag, "diameter_mm", "resistor", "drag_factor is given")
    [CV_MODES.index(v) for v in cv["mode"]]
    _reference_require_where(cv, cv["mode"] == "set_point", "p_set_bar", "control_valve", "mode='set_point'")
    [CS_MODES.index(v) for v in cs["mode"]]
    _reference_require_where(cs, cs["mode"] == "flow", "flow_set_kg_s", "compressor", "mode='flow'")
    _reference_require_where(cs, cs["mode"] == "power", "power_set_MW", "compressor", "mode='power'")
    _reference_require_where(cs, cs["mode"] == "ratio", "ratio", "compressor", "mode='ratio'")
    _reference_require_where(cs, cs["mode"].isin(["discharge", "suction"]), "p_set_bar", "compressor",
                             "mode=discharge/suction")
    _reference_require_where(s, s["mode"] == "pressure", "p_set_bar", "supply", "mode='pressure'")
    _reference_require_where(s, s["mode"] == "flow", "flow_kg_s", "supply", "mode='flow'")
    bad = s.index[s["flow_min_kg_s"] > s["flow_max_kg_s"]]
    if len(bad):
        raise InputError("flow_min_kg_s exceeds flow_max_kg_s", kind="supply", element=bad[0], field="flow_min_kg_s")
    bad = nodes.index[nodes["p_min_bar"] > nodes["p_max_bar"]]
    if len(bad):
        raise InputError("p_min_bar exceeds p_max_bar", kind="node", element=bad[0], field="p_min_bar")


def every_kind() -> g.Network:
    """A small network with two or more elements of every component kind."""
    n = g.Network("every kind")
    for k in "abcdef":
        n.add_node(k, p_max_bar=100.0)
    n.add_pipe("p1", "a", "b", length_km=10, diameter_mm=500)
    n.add_pipe("p2", "b", "c", length_km=5, diameter_mm=400, friction="fixed", lambda_fixed=0.01)
    n.add_short_pipe("sp1", "c", "d")
    n.add_short_pipe("sp2", "d", "c")
    n.add_valve("v1", "d", "e")
    n.add_valve("v2", "e", "d", open=False)
    n.add_resistor("r1", "e", "f", drag_factor=1.0, diameter_mm=500)
    n.add_resistor("r2", "f", "e", pressure_drop_bar=0.5)
    n.add_control_valve("cv1", "b", "d", mode="set_point", p_set_bar=40.0)
    n.add_control_valve("cv2", "d", "b")
    n.add_compressor("cs1", "a", "c", mode="discharge", p_set_bar=70.0)
    n.add_compressor("cs2", "c", "a", mode="ratio", ratio=1.2)
    n.add_check_valve("ck1", "e", "a")
    n.add_check_valve("ck2", "a", "e")
    n.add_pump("pu1", "f", "a", lift_c0_bar=2.0)
    n.add_pump("pu2", "a", "f", lift_c0_bar=1.0)
    n.add_supply("s1", "a", p_set_bar=60.0)
    n.add_supply("s2", "b", mode="flow", flow_kg_s=10.0, flow_min_kg_s=0.0, flow_max_kg_s=20.0)
    n.add_demand("d1", "f", flow_kg_s=10.0)
    n.add_demand("d2", "e", flow_kg_s=5.0)
    return n


FLOATS = (math.nan, -1.0, 0.0, 0.5, 1.0, 2.0, 50.0, 1e7, math.inf, -math.inf)
NODES = (None, math.nan, "zz", "a", "b", "f")
TEXT = (None, math.nan, "x")
EDITABLE = [(k, c.name) for k, s in KINDS.items() for c in s.columns if c.dtype in ("float", "str")]


def _outcome(fn: Any) -> tuple[type, str] | None:
    try:
        fn()
    except (InputError, ValueError, KeyError) as exc:
        return type(exc), str(exc)
    return None


def _values_for(kind: str, column: str) -> tuple[Any, ...]:
    col = KINDS[kind].by_name[column]
    if col.dtype == "float":
        return FLOATS
    if col.ref is not None:
        return NODES
    if col.choices is not None:
        return (None, math.nan, "bogus", *col.choices)
    return TEXT


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, str, int, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind, column = draw(st.sampled_from(EDITABLE))
        out.append((kind, column, draw(st.integers(0, 1)), draw(st.sampled_from(_values_for(kind, column)))))
    return out


EVERY_KIND = every_kind()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits(), st.sampled_from([None, ("pipe", "p1"), ("valve", "p2"), ("node", "b"), ("demand", "d2")]),
       st.booleans())
def test_random_edits_fail_as_before(changes: list[tuple[str, str, int, Any]], rename: Any, split: bool) -> None:
    net = EVERY_KIND.copy()
    if split:  # one pandas block per column: validation reads the columns one by one instead of a whole block
        for kind in KINDS:
            frame = net.table(kind)
            for col in frame.columns:
                frame[col] = frame[col].to_numpy().copy()
    for kind, column, row, value in changes:
        frame = net.table(kind)
        frame.iat[row, frame.columns.get_loc(column)] = value
    if rename is not None:  # a duplicate id within a kind, or across arc kinds ("p2" is a pipe's id)
        kind, new = rename
        frame = net.table(kind)
        frame.index = pd.Index([new, *frame.index[1:]], dtype=object, name="id")
    expected = _outcome(lambda: _reference_compile_checks(net))
    got = _outcome(net.compile)
    if expected is not None and expected[0] is ValueError and "not in tuple" in expected[1]:
        # a missing mode or friction law: was a bare ValueError from tuple.index, now names element and field
        assert got is not None and got[0] is InputError and "must be one of" in got[1]
        assert got[1].endswith(("got None", "got nan"))
    else:
        assert got == expected
    assert _outcome(net.validate) == _outcome(lambda: _reference_validate(net))


def long_line(n: int) -> g.Network:
    """``n`` nodes in a line joined by pipes: large enough for the hash-table paths of the lookups."""
    net = g.Network("line")
    ids = [f"n{i}" for i in range(n)]
    nodes = pd.DataFrame({"p_max_bar": 100.0}, index=pd.Index(ids, name="id"))
    net.set_table("node", nodes)
    pipes = pd.DataFrame({"from_node": ids[:-1], "to_node": ids[1:], "length_km": 1.0, "diameter_mm": 500.0},
                         index=pd.Index([f"p{i}" for i in range(n - 1)], name="id"))
    net.set_table("pipe", pipes)
    net.add_supply("s", "n0", p_set_bar=60.0)
    net.add_demand("d", ids[-1], flow_kg_s=1.0)
    return net


@pytest.mark.parametrize(("column", "value", "message"), [
    ("length_km", -3.0, r"pipe 'p2500' field 'length_km': must be in \(0, 100000\] km, got np.float64\(-3.0\)"),
    ("diameter_mm", math.nan, r"pipe 'p2500' field 'diameter_mm': is required \(got NaN\)"),
    ("friction", "bogus", r"pipe 'p2500' field 'friction': must be one of \['colebrook', .*\], got 'bogus'"),
    ("to_node", "zz", r"pipe 'p2500' field 'to_node': references unknown node 'zz'"),
    ("to_node", None, r"pipe 'p2500' field 'to_node': is required"),
    ("to_node", math.nan, r"pipe 'p2500' field 'to_node': is required"),
    ("to_node", "n2500", r"pipe 'p2500' field 'to_node': from_node equals to_node"),
])
def test_bad_value_in_a_large_table_names_the_element(column: str, value: Any, message: str) -> None:
    net = long_line(3000)
    net.compile()
    pipes = net.pipes
    pipes.iat[2500, pipes.columns.get_loc(column)] = value
    pipes.iat[2700, pipes.columns.get_loc(column)] = value  # later rows are not reported first
    with pytest.raises(InputError, match=message):
        net.compile()
    assert _outcome(net.compile) == _outcome(lambda: _reference_compile_checks(net))


def test_first_problem_in_column_order_then_row_order() -> None:
    net = long_line(100)
    net.pipes.loc["p70", "efficiency"] = 2.0  # a later column, an earlier row
    net.pipes.loc["p90", "diameter_mm"] = -1.0
    with pytest.raises(InputError, match=r"'p90' field 'diameter_mm'"):
        net.compile()
    net.pipes.loc["p95", "from_node"] = "nowhere"  # the first column of all
    with pytest.raises(InputError, match=r"'p95' field 'from_node': references unknown node 'nowhere'"):
        net.compile()


def test_missing_friction_law_is_an_input_error() -> None:
    net = every_kind()
    net.pipes.loc["p2", "friction"] = None  # passes validation (the column is optional), but has no meaning
    net.validate()
    with pytest.raises(InputError, match=r"pipe 'p2' field 'friction': must be one of .*got None"):
        net.compile()


def test_compiled_arrays_do_not_follow_later_table_edits() -> None:
    net = every_kind()
    c = net.compile()
    net.pipes["efficiency"] = 0.5
    net.nodes["elevation_m"] = 7.0
    net.demands["flow_kg_s"] = 99.0
    net.supplies["in_service"] = False
    np.testing.assert_array_equal(c.pipe.efficiency, [1.0, 1.0])
    np.testing.assert_array_equal(c.elevation, np.zeros(6))
    np.testing.assert_array_equal(c.demand.flow, [10.0, 5.0])
    np.testing.assert_array_equal(c.supply.active, [True, True])


def test_positions_first_occurrence_and_missing_values() -> None:
    ids = pd.Index(["a", "b", "a", None], dtype=object)
    got = positions(ids, np.array(["a", "b", "c", None, math.nan], dtype=object))
    np.testing.assert_array_equal(got, [0, 1, -1, -1, -1])
    assert positions(ids, np.array([], dtype=object)).dtype == np.int64


def test_schema_validate_with_known_ids_holding_duplicates() -> None:
    net = every_kind()
    known = {"node": pd.Index(["a", "a", "b", "c", "d", "e", "f"], dtype=object)}
    KINDS["pipe"].validate(net.pipes, known)  # membership is all that counts
    net.pipes.loc["p1", "from_node"] = "q"
    with pytest.raises(InputError, match=r"'p1' field 'from_node': references unknown node 'q'"):
        KINDS["pipe"].validate(net.pipes, known)
    KINDS["pipe"].validate(net.pipes)  # no known ids: references are not checked


def test_required_float_without_a_range_and_a_column_of_text() -> None:
    schema = Schema("thing", "a test kind", (
        Column("v", "float", default=REQUIRED),
        Column("w", "float", "m", default=math.nan, lo=-math.inf, lo_open=True),
        Column("t", "str", default=REQUIRED),
    ))
    frame = pd.DataFrame({"v": [1.0, math.inf], "w": [math.nan, 2.0], "t": ["x", "y"]},
                         index=pd.Index(["e1", "e2"], name="id"))
    schema.validate(frame)
    frame.loc["e2", "w"] = -math.inf
    with pytest.raises(InputError, match=r"thing 'e2' field 'w': must be in \(-inf, inf\] m"):
        schema.validate(frame)
    frame.loc["e2", "v"] = math.nan
    with pytest.raises(InputError, match=r"thing 'e2' field 'v': is required \(got NaN\)"):
        schema.validate(frame)
    frame.loc["e1", "t"] = math.nan
    with pytest.raises(InputError, match=r"thing 'e2' field 'v'"):
        schema.validate(frame)
    frame.loc["e2", ["v", "w"]] = [1.0, 2.0]
    with pytest.raises(InputError, match=r"thing 'e1' field 't': is required"):
        schema.validate(frame)


def test_text_in_a_float_column_and_a_deleted_column_fail_as_before() -> None:
    net = every_kind()
    net.pipes["roughness_mm"] = net.pipes["roughness_mm"].astype(object)
    net.pipes.loc["p2", "roughness_mm"] = "rough"
    assert _outcome(net.compile) == _outcome(lambda: _reference_compile_checks(net))
    assert _outcome(net.compile)[0] is ValueError  # type: ignore[index]
    net.pipes.loc["p1", "from_node"] = "nowhere"  # an earlier column's problem is still reported first
    with pytest.raises(InputError, match="references unknown node 'nowhere'"):
        net.compile()
    for kind, column in (("pipe", "name"), ("check_valve", "source")):
        net = every_kind()
        del net.table(kind)[column]
        assert _outcome(net.compile) == (KeyError, repr(column))
    net = g.Network("empty tables")
    net.add_node("a")
    del net.table("pump")["name"]
    assert _outcome(net.compile) == (KeyError, "'name'")


@pytest.mark.parametrize(("kind", "row", "values", "message"), [
    ("pipe", "p2", {"lambda_fixed": math.nan}, r"pipe 'p2' field 'lambda_fixed': is required when friction='fixed'"),
    ("resistor", "r2", {"drag_factor": 2.0}, r"resistor 'r2' field 'drag_factor': give exactly one of"),
    ("resistor", "r1", {"diameter_mm": math.nan}, r"resistor 'r1' field 'diameter_mm': is required when drag"),
    ("control_valve", "cv1", {"p_set_bar": math.nan}, r"'cv1' field 'p_set_bar': is required when mode='set_point'"),
    ("compressor", "cs2", {"ratio": math.nan}, r"'cs2' field 'ratio': is required when mode='ratio'"),
    ("compressor", "cs2", {"mode": "suction"}, r"'cs2' field 'p_set_bar': is required when mode=discharge/suction"),
    ("compressor", "cs2", {"mode": "flow"}, r"'cs2' field 'flow_set_kg_s': is required when mode='flow'"),
    ("compressor", "cs2", {"mode": "power"}, r"'cs2' field 'power_set_MW': is required when mode='power'"),
    ("supply", "s1", {"p_set_bar": math.nan}, r"supply 's1' field 'p_set_bar': is required when mode='pressure'"),
    ("supply", "s2", {"flow_kg_s": math.nan}, r"supply 's2' field 'flow_kg_s': is required when mode='flow'"),
    ("supply", "s2", {"flow_min_kg_s": 30.0}, r"supply 's2' field 'flow_min_kg_s': flow_min_kg_s exceeds"),
    ("supply", "s2", {"flow_min_kg_s": 20.0}, None),
    ("node", "c", {"p_min_bar": 200.0}, r"node 'c' field 'p_min_bar': p_min_bar exceeds p_max_bar"),
])
def test_compile_checks_as_before(kind: str, row: str, values: dict[str, Any], message: str | None) -> None:
    net = EVERY_KIND.copy()
    for column, value in values.items():
        net.table(kind).loc[row, column] = value
    assert _outcome(net.compile) == _outcome(lambda: _reference_compile_checks(net))
    if message is None:
        net.compile()
    else:
        with pytest.raises(InputError, match=message):
            net.compile()
