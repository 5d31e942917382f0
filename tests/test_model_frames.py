"""Compiling reads pandas' storage directly (gasgrid.model.frames): the same arrays as the public calls, the fast
paths taken on the pinned pandas, nothing kept between compiles (edits in place show in the next compile), no
compiled array sharing memory with a user table, and the errors of reading a column in their old order.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gasgrid as g
from gasgrid.components import KINDS
from gasgrid.errors import InputError
from gasgrid.model.frames import block_rows, block_slice, index_lookup, read_column
from gasgrid.model.schema import REQUIRED, Column, Schema, TableArrays, _to_bool
from test_model_validation import _outcome, _reference_schema_validate, every_kind


def _frames() -> dict[str, pd.DataFrame]:
    """Frames of the layouts pandas can hand over: consolidated, one block per column, extension columns,
    duplicate and multi-level labels."""
    base = every_kind().pipes
    split = base.copy()
    for c in split.columns:
        split[c] = split[c].to_numpy().copy()  # a new block per column
    ext = base.copy()
    ext["length_km"] = ext["length_km"].astype("Float64")
    ext["name"] = ext["name"].astype("string")
    dup = base.copy()
    dup.columns = ["from_node", "from_node", *base.columns[2:]]
    multi = base.copy()
    multi.columns = pd.MultiIndex.from_tuples([(c, "") for c in base.columns])
    f32 = base.copy()
    f32["diameter_mm"] = f32["diameter_mm"].astype(np.float32)
    return {"consolidated": base, "split": split, "extension": ext, "duplicate": dup, "multi": multi,
            "float32": f32}


@pytest.mark.parametrize("layout", list(_frames()))
@pytest.mark.parametrize("dtype", [None, float, bool])
def test_read_column_is_to_numpy(layout: str, dtype: Any) -> None:
    frame = _frames()[layout]
    where = block_rows(frame)
    for name in ("length_km", "diameter_mm", "in_service", "from_node", "name", "nowhere"):
        expected = _outcome_array(lambda n=name: frame[n].to_numpy(dtype))
        for got in (_outcome_array(lambda n=name: read_column(frame, where, n, dtype)),
                    _outcome_array(lambda n=name: TableArrays(KINDS["pipe"], frame).column(n, dtype))):
            assert type(got) is type(expected)
            if isinstance(expected, np.ndarray):
                assert got.dtype == expected.dtype and got.shape == expected.shape
                assert repr(got.tolist()) == repr(expected.tolist())  # NaN and pd.NA included
            else:
                assert got == expected


def _outcome_array(fn: Any) -> Any:
    try:
        return fn()
    except (KeyError, ValueError, TypeError) as exc:
        return type(exc), str(exc)


def test_fast_paths_are_taken() -> None:
    """On the installed pandas, a table from the schema is read from its blocks, and a float block whole."""
    net = every_kind()
    for kind, schema in KINDS.items():
        frame = net.table(kind)
        where = block_rows(frame)
        assert set(where) == set(schema.names), kind
        t = TableArrays(schema, frame)
        if schema._ranges.names:
            assert t.float_block(schema._ranges.names) is not None, kind
    assert block_rows(_frames()["duplicate"]) == {}
    assert block_rows(_frames()["multi"]) == {}
    assert "length_km" not in block_rows(_frames()["extension"])


def test_block_slice_is_the_stack() -> None:
    frame = every_kind().pipes
    where = block_rows(frame)
    floats = [c.name for c in KINDS["pipe"].columns if c.dtype == "float"]
    got = block_slice(where, floats)
    assert got is not None
    np.testing.assert_array_equal(got, np.stack([frame[n].to_numpy(float) for n in floats]))
    assert block_slice(where, floats[::-1]) is None  # not consecutive rows in this order
    assert block_slice(where, ["from_node"]) is None  # not a float block
    assert block_slice(where, []) is None
    assert block_slice(block_rows(_frames()["split"]), floats) is None


def test_arrays_read_from_a_table_are_read_only() -> None:
    net = every_kind()
    t = TableArrays(KINDS["pipe"], net.pipes)
    for name, dtype in (("length_km", float), ("from_node", None), ("in_service", bool)):
        arr = t.column(name, dtype)
        assert np.shares_memory(arr, net.pipes[name].to_numpy())
        assert not arr.flags.writeable
    assert net.pipes["length_km"].to_numpy().flags.writeable  # the user's table is as it was


IDS = pd.Index(["a", "b", "c", "n1"], dtype=object)
VALUES = [
    np.array(["a", "c", "zz", None, math.nan, "b"], dtype=object),
    np.array([np.str_("a"), "n1", 1, 1.0, True, b"a"], dtype=object),
    np.array([math.nan, math.nan], dtype=object),
    np.array([1, 2], dtype=object),
    np.array(["a", "b"]),  # a numpy text array, not object
    np.array([], dtype=object),
]


@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
@pytest.mark.parametrize("ids", [IDS, pd.Index([1, 2, 3]), pd.Index(["a", 1, None], dtype=object), pd.Index([])],
                         ids=["text", "int", "mixed", "empty"])
def test_index_lookup_is_get_indexer(ids: pd.Index, values: np.ndarray) -> None:
    np.testing.assert_array_equal(index_lookup(ids, values), ids.get_indexer(values))


def test_index_lookup_asks_the_hash_table(monkeypatch: pytest.MonkeyPatch) -> None:
    def public(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the public get_indexer was called")

    values = VALUES[0]
    expected = IDS.get_indexer(values)
    monkeypatch.setattr(pd.Index, "get_indexer", public)
    np.testing.assert_array_equal(index_lookup(IDS, values), expected)


# --- nothing is kept between compiles -------------------------------------------------------------------------
def _edit_loc(net: g.Network) -> None:
    net.pipes.loc["p1", "length_km"] = 7.0


def _edit_iat_text(net: g.Network) -> None:
    net.pipes.iat[0, net.pipes.columns.get_loc("to_node")] = "d"


def _edit_bool(net: g.Network) -> None:
    net.valves.loc["v1", "open"] = False


def _edit_through_numpy(net: g.Network) -> None:
    if pd.options.mode.copy_on_write is True:  # to_numpy then hands out a read-only array: no such edit exists
        pytest.skip("pandas copy-on-write is on: a table cannot be edited through to_numpy()")
    net.pipes["diameter_mm"].to_numpy()[1] = 321.0  # a view of the block (pandas 2 without copy-on-write)


def _add_row(net: g.Network) -> None:
    net.add_pipe("p3", "e", "f", length_km=3, diameter_mm=300)


def _remove_row(net: g.Network) -> None:
    net.remove("pipe", "p1")


def _replace_table(net: g.Network) -> None:
    frame = net.pipes.copy()
    frame["roughness_mm"] = 0.05
    net.set_table("pipe", frame)


def _change_dtype(net: g.Network) -> None:
    net.pipes["length_km"] = net.pipes["length_km"].astype(np.float32) * 2


def _object_column(net: g.Network) -> None:
    net.pipes["efficiency"] = net.pipes["efficiency"].astype(object)
    net.pipes.loc["p2", "efficiency"] = 0.75


def _new_node_ids(net: g.Network) -> None:
    net.nodes.index = pd.Index(["a", "b", "c", "d", "e", "g"], dtype=object, name="id")
    net.demands.loc["d1", "node"] = "g"


def _bad_value(net: g.Network) -> None:
    net.pipes.loc["p2", "diameter_mm"] = -1.0


EDITS = [_edit_loc, _edit_iat_text, _edit_bool, _edit_through_numpy, _add_row, _remove_row, _replace_table,
         _change_dtype, _object_column, _new_node_ids, _bad_value]


@pytest.mark.parametrize("edit", EDITS, ids=[e.__name__ for e in EDITS])
def test_edits_in_place_show_in_the_next_compile(edit: Any) -> None:
    net = every_kind()
    net.compile()
    before = _compiled(net)
    edit(net)
    after = _compiled(net)
    assert after != before  # the edit changes the compiled network ...
    assert after == _compiled(net.copy())  # ... exactly as for a network never compiled


def _compiled(net: g.Network) -> Any:
    try:
        c = net.compile()
    except InputError as exc:
        return str(exc)
    return {name: (a.dtype.str, a.shape, repr(a.tolist()) if a.dtype == object else a.tobytes())
            for name, a in _arrays(c)}


def _arrays(c: Any, prefix: str = "") -> list[tuple[str, np.ndarray]]:
    out = []
    for name, v in vars(c).items():
        if isinstance(v, np.ndarray):
            out.append((prefix + name, v))
        elif hasattr(v, "__dataclass_fields__") and name != "gas":
            out.extend(_arrays(v, prefix + name + "."))
    return out


@pytest.mark.parametrize("split", [False, True])
def test_no_compiled_array_shares_memory_with_a_table(split: bool) -> None:
    net = every_kind()
    if split:
        for kind in KINDS:
            frame = net.table(kind)
            for col in frame.columns:
                frame[col] = frame[col].to_numpy().copy()
    c = net.compile()
    # (ids are taken from the tables' indexes as they are: an index is immutable, and so are its strings)
    user = [net.table(k)[col].to_numpy() for k in KINDS for col in net.table(k).columns]
    for name, a in _arrays(c):
        assert not any(np.shares_memory(a, u) for u in user), name
        assert a.flags.c_contiguous and not a.flags.writeable, name


# --- the errors of reading a column come in their old order -----------------------------------------------------
@pytest.mark.parametrize(("kind", "column"), [("pipe", "in_service"), ("valve", "in_service"), ("valve", "open"),
                                              ("check_valve", "in_service"), ("supply", "in_service"),
                                              ("demand", "in_service")])
@pytest.mark.parametrize("later", [None, ("supply", "s2", "flow_min_kg_s", 30.0), ("pipe", "p2", "friction", None),
                                   ("node", "c", "p_min_bar", 200.0)])
def test_an_unreadable_bool_fails_where_it_always_did(kind: str, column: str, later: Any) -> None:
    net = every_kind()
    frame = net.table(kind)
    frame[column] = frame[column].astype(object)
    frame.iat[1, frame.columns.get_loc(column)] = pd.NA
    if later is not None:
        net.table(later[0]).loc[later[1], later[2]] = later[3]
    # compile reads the arcs' bools before any of its checks, a supply's and a demand's after the supply checks
    # (pipe friction and supply flows here) and before the node pressures
    reported_first = kind not in ("supply", "demand") or later is None or later[0] == "node"
    if reported_first:
        assert _outcome_array(net.compile) == (TypeError, "boolean value of NA is ambiguous")
    else:
        with pytest.raises(InputError):
            net.compile()


# --- the float pass: one comparison per bound -------------------------------------------------------------------
SPECIAL = [-math.inf, -1.0, -5e-324, 0.0, 5e-324, 1.0, 2.0, math.inf, math.nan]


@settings(max_examples=300, deadline=None)
@given(lo=st.sampled_from(SPECIAL), hi=st.sampled_from(SPECIAL), lo_open=st.booleans(), required=st.booleans(),
       values=st.lists(st.sampled_from([*SPECIAL, 1.5, -0.5, 1e308]), min_size=1, max_size=6),
       split=st.booleans())
def test_range_pass_as_before(lo: float, hi: float, lo_open: bool, required: bool, values: list[float],
                              split: bool) -> None:
    schema = Schema("thing", "a test kind", (
        Column("v", "float", "m", default=REQUIRED if required else math.nan, lo=lo, hi=hi,
               lo_open=lo_open),
        Column("w", "float", default=math.nan, lo=0.0),
    ))
    frame = pd.DataFrame({"v": values, "w": 1.0}, index=pd.Index([f"e{i}" for i in range(len(values))], name="id"))
    if split:
        frame["w"] = np.ones(len(values))
    assert _outcome(lambda: schema.validate(frame)) == _outcome(lambda: _reference_schema_validate(schema, frame, {}))


# --- choice codes: the index's hash table answers as the dict (small tables) and get_indexer (large) did --------
def _reference_codes(choices: tuple[str, ...], values: np.ndarray) -> list[int]:
    if len(values) < 2000:
        position = {c: i for i, c in enumerate(choices)}
        return [position.get(v, -1) for v in values]
    return pd.Index(choices, dtype=object).get_indexer(values).tolist()


ODD = [None, math.nan, np.str_("flow"), "flow", 1, True, b"flow", np.float64("nan"), pd.NA, ("flow",), "pressure",
       pd.NaT, 0, "Flow"]


@pytest.mark.parametrize("size", [len(ODD), 2100])
def test_choice_codes_as_before(size: int) -> None:
    values = np.empty(size, dtype=object)
    values[:] = (ODD * (size // len(ODD) + 1))[:size]
    choices = KINDS["supply"].by_name["mode"].choices or ()
    assert KINDS["supply"]._choices["mode"].codes(values).tolist() == _reference_codes(choices, values)
    values[3] = ["flow"]  # unhashable
    assert _outcome_array(lambda: KINDS["supply"]._choices["mode"].codes(values)) == _outcome_array(
        lambda: _reference_codes(choices, values))


# --- coerce: the same tables as before, kept as one block per dtype and with equal text as one object -------------
def _reference_coerce(schema: Schema, frame: pd.DataFrame) -> pd.DataFrame:
    """Schema.coerce as it was (its error paths are unchanged and not repeated here)."""
    frame = frame.copy()
    for col in schema.columns:
        if col.name not in frame.columns:
            frame[col.name] = col.default
        if col.dtype == "float":
            frame[col.name] = pd.to_numeric(frame[col.name], errors="raise").astype(float)
        elif col.dtype == "int":
            frame[col.name] = pd.to_numeric(frame[col.name], errors="raise").astype(np.int64)
        elif col.dtype == "bool":
            frame[col.name] = frame[col.name].map(_to_bool).astype(bool)
        else:
            frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), None)
    frame.index = frame.index.astype(str)
    frame.index.name = "id"
    return frame[schema.names]


COERCE = [
    ("pipe", pd.DataFrame({"from_node": ["a", "b", None], "to_node": ["b", math.nan, "c"], "length_km": [1, "2", 3.5],
                           "diameter_mm": 500, "name": [1.5, None, "x"]}, index=["p1", 2, 3.0])),
    ("node", pd.DataFrame({"x": [1.0], "group": [np.str_("g")]}, index=pd.Index([np.str_("n1")]))),
    ("node", pd.DataFrame({"x": []}, index=pd.Index([], dtype=object))),
    ("supply", pd.DataFrame({"node": ["a", "a"], "mode": ["flow", None], "in_service": [1, "yes"]},
                            index=["s", "s"])),
    ("pipe", pd.DataFrame({  # text fields given as other dtypes, with their missing values
        "from_node": pd.array(["a", pd.NA, "c"], dtype="string"), "to_node": [pd.NaT, "b", pd.NA],
        "length_km": 1.0, "diameter_mm": 1.0, "friction": pd.Categorical(["fixed", None, "aga"]),
        "name": [1.5, math.nan, 3.0], "source": pd.to_datetime(["2020-01-01", None, "2021-05-06"])},
        index=pd.Index([1, 2, 3]))),
    ("demand", pd.DataFrame({"node": [True, False], "flow_kg_s": 1.0, "group": [["x"], ("y",)],
                             "name": np.array([7, 8])}, index=["d1", "d2"])),
]


@pytest.mark.parametrize("infer_string", [False, True])
@pytest.mark.parametrize(("kind", "frame"), COERCE, ids=range(len(COERCE)))
def test_coerce_as_before(kind: str, frame: pd.DataFrame, infer_string: bool) -> None:
    with pd.option_context("future.infer_string", infer_string):
        got, expected = KINDS[kind].coerce(frame), _reference_coerce(KINDS[kind], frame)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert got.index.dtype == expected.index.dtype and list(got.dtypes) == list(expected.dtypes)
        assert got.index.name == "id"
        for name in got.columns:  # None stays None, NaN NaN, and every value keeps its type
            assert [(type(v), repr(v)) for v in got[name]] == [(type(v), repr(v)) for v in expected[name]], name


def test_equal_text_is_one_object() -> None:
    """Ids and the references to them are the same objects, so that compiling matches them by identity."""
    net = every_kind()
    node = {n: n for n in net.nodes.index}
    assert all(node[v] is v for v in net.pipes["from_node"])
    assert all(node[v] is v for v in net.demands["node"])
    net.set_table("pipe", net.pipes.copy())
    assert all(node[v] is v for v in net.pipes["to_node"])
    assert all(v is sys.intern(v) for v in net.pipes["friction"])  # and so are the declared choices (literals)
