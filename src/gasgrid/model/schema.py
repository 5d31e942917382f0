"""Declarative component schemas: one :class:`Schema` per component kind, declared once as data.

A column carries its dtype, the unit used in the user table (in its name where not SI), the factor to SI,
a default, whether it is required, an allowed range and a description. Validation, documentation and I/O
all read these declarations.

Validation works on numpy arrays taken from each table once (:class:`TableArrays`); the compile step reads
the same arrays, with the positions of choice values and referenced ids found during validation.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gasgrid.errors import InputError
from gasgrid.model.frames import block_rows, block_slice, index_lookup


@dataclass(frozen=True)
class Column:
    """One attribute of a component kind.

    Attributes:
        name: column name in the user table (carries the unit where not SI, e.g. ``length_km``).
        dtype: "str", "float", "bool" or "int".
        unit: human-readable unit of the user table column ("" for dimensionless or text).
        si: factor to SI (user value * si = SI value); None for non-numeric.
        default: value when the user gives none; ``REQUIRED`` marks a mandatory column.
        lo, hi: allowed closed range for numeric values (NaN always allowed where the default is NaN).
        lo_open: the lower bound is exclusive (e.g. length > 0).
        choices: allowed values for categorical text columns.
        ref: the component kind this column references by id ("node") or None.
    """

    name: str
    dtype: str
    unit: str = ""
    si: float | None = None
    default: Any = None
    description: str = ""
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    choices: tuple[str, ...] | None = None
    ref: str | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Schema:
    """The declared attributes of one component kind."""

    kind: str
    description: str
    columns: tuple[Column, ...]
    is_arc: bool = False
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)
    ref_columns: tuple[Column, ...] = field(init=False, repr=False, compare=False)
    _names: list[str] = field(init=False, repr=False, compare=False)
    _checked: tuple[Column, ...] = field(init=False, repr=False, compare=False)
    _checked_str: tuple[Column, ...] = field(init=False, repr=False, compare=False)
    _choices: dict[str, _Choices] = field(init=False, repr=False, compare=False)
    _ranges: _Ranges = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})
        object.__setattr__(self, "ref_columns", tuple(c for c in self.columns if c.ref is not None))
        object.__setattr__(self, "_names", [c.name for c in self.columns])
        # the columns validate reads: every float column (converting one can fail), text columns with a rule
        checked = tuple(c for c in self.columns if c.dtype == "float" or (
            c.dtype == "str" and (c.required or c.choices is not None or c.ref is not None)))
        object.__setattr__(self, "_checked", checked)
        object.__setattr__(self, "_checked_str", tuple(c for c in checked if c.dtype == "str"))
        object.__setattr__(self, "_choices", {c.name: _Choices(c.choices) for c in self.columns if c.choices is not None})
        object.__setattr__(self, "_ranges", _Ranges(tuple(c for c in checked if c.dtype == "float")))

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def empty_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({c.name: pd.Series(dtype=_pandas_dtype(c.dtype)) for c in self.columns})
        frame.index = pd.Index([], dtype=object, name="id")
        return frame

    def normalise_row(self, element: str, values: dict[str, Any]) -> dict[str, Any]:
        """Fill defaults, reject unknown or missing fields. Range checks happen in :meth:`validate`."""
        unknown = set(values) - set(self.by_name)
        if unknown:
            raise InputError(
                f"unknown field(s) {sorted(unknown)}; allowed: {self.names}", kind=self.kind, element=element
            )
        row: dict[str, Any] = {}
        for col in self.columns:
            if col.name in values and values[col.name] is not None:
                row[col.name] = values[col.name]
            elif col.required:
                raise InputError("is required", kind=self.kind, element=element, field=col.name)
            else:
                row[col.name] = col.default
        return row

    def frame_from_rows(self, ids: list[str], rows: list[dict[str, Any]]) -> pd.DataFrame:
        data = {c.name: [r[c.name] for r in rows] for c in self.columns}
        frame = pd.DataFrame(data, index=pd.Index(ids, dtype=object, name="id"))
        return self.coerce(frame)

    def coerce(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Cast columns to their declared dtypes; add missing optional columns with defaults.

        Ids, references and choice values are interned (equal text, one object) and the result keeps one block
        per dtype: both only make compiling faster, the values are those the casts give.
        """
        frame = frame.copy()
        for col in self.columns:
            if col.name not in frame.columns:
                if col.required:
                    raise InputError("column is missing", kind=self.kind, field=col.name)
                frame[col.name] = col.default
            try:
                if col.dtype == "float":
                    frame[col.name] = pd.to_numeric(frame[col.name], errors="raise").astype(float)
                elif col.dtype == "int":
                    frame[col.name] = pd.to_numeric(frame[col.name], errors="raise").astype(np.int64)
                elif col.dtype == "bool":
                    frame[col.name] = frame[col.name].map(_to_bool).astype(bool)
                else:
                    frame[col.name] = self._text(frame[col.name], col)
            except (ValueError, TypeError) as exc:
                bad = _first_bad(frame[col.name], col.dtype)
                raise InputError(
                    f"expected {col.dtype}, got {bad!r}", kind=self.kind, element=_id_of(frame, bad, col.name),
                    field=col.name,
                ) from exc
        extra = [c for c in frame.columns if c not in self.by_name]
        if extra:
            raise InputError(f"unknown column(s) {extra}; allowed: {self.names}", kind=self.kind)
        index = frame.index.astype(str)
        if index.dtype == object:
            index = pd.Index(_INTERN(index.to_numpy()), dtype=object)
        frame.index = index
        frame.index.name = "id"
        # the copy keeps columns of one dtype in one 2-D block, in column order (pandas consolidates a deep copy),
        # which lets validation read all float columns at once (TableArrays.float_block)
        return frame[self.names].copy()

    @staticmethod
    def _text(series: pd.Series, col: Column) -> pd.Series:
        """A text column as objects, None where missing (``astype(object).where(notna(), None)``, in numpy).

        The values looked up when compiling (references and choices) are interned: see :data:`_INTERN`.
        """
        values = series.to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        if col.ref is not None or col.choices is not None:
            values = _INTERN(values)
        return pd.Series(values, index=series.index, dtype=object)

    def validate(self, frame: pd.DataFrame, known: Mapping[str, pd.Index] | None = None) -> None:
        """Check ids, required values, ranges, choices and references. Raises :class:`InputError`.

        ``known`` maps a referenced kind ("node") to its ids; references to kinds not in it are not checked.
        """
        table = TableArrays(self, frame)
        if known is not None and table.n:
            for col in self.ref_columns:
                ids = known.get(col.ref or "")
                if ids is not None and col.name in frame.columns:
                    table.refs[col.name] = positions(ids, table.column(col.name))
        self.check(table)

    def check(self, table: TableArrays) -> None:
        """:meth:`validate` on a table's arrays, the references already in ``table.refs``.

        Reports the first problem in column order, then row order. Fills ``table.codes`` (position of each
        value in its column's choices) for the compile step.
        """
        ids = table.ids
        if not ids.is_unique:
            dup = ids[ids.duplicated()][0]
            raise InputError("duplicate id", kind=self.kind, element=dup)
        # with exactly the schema's columns, read only those with a rule; otherwise read every one in order,
        # so that a missing column is a KeyError where reading it used to be
        complete = table.labels == self._names
        if not table.n:
            missing = [] if complete else [n for n in self._names if n not in table.labels]
            if missing:
                raise KeyError(missing[0])
            return
        met = self._ranges.met(table) if complete else frozenset()
        found = table.found
        if complete and met == self._ranges.every:  # every float column read and within its rule: text is left
            for col in self._checked_str:
                if col.name not in found:
                    self._check_str(col, table.column(col.name), table)
            return
        for col in self._checked if complete else self.columns:
            values = table.column(col.name, float if col.dtype == "float" else None)
            if col.dtype == "float":
                if col.name not in met:
                    self._check_float(col, values, ids)
            elif col.dtype == "str" and col.name not in found:
                self._check_str(col, values, table)

    def _check_float(self, col: Column, arr: NDArray[np.float64], ids: pd.Index) -> None:
        bounded = _bounded(col)
        if not (col.required or bounded):
            return
        inside = ((arr > col.lo) if col.lo_open else (arr >= col.lo)) & (arr <= col.hi)
        nan = np.isnan(arr)
        if col.required and nan.any():
            raise InputError("is required (got NaN)", kind=self.kind, element=ids[np.argmax(nan)], field=col.name)
        ok = nan | inside
        if bounded and not ok.all():
            i = int(np.argmin(ok))
            lo = "(" if col.lo_open else "["
            raise InputError(
                f"must be in {lo}{col.lo:g}, {col.hi:g}] {col.unit}, got {arr[i]!r}",
                kind=self.kind, element=ids[i], field=col.name,
            )

    def _check_str(self, col: Column, values: np.ndarray, table: TableArrays) -> None:
        codes = None
        if col.choices is not None:
            codes = table.codes[col.name] = self._choices[col.name].codes(values)
        refs = table.refs.get(col.name)
        # a value found among the choices or referenced ids is not missing (positions() sees to the ids)
        if (codes is not None or refs is not None) and (codes is None or not np.count_nonzero(codes < 0)) and (
                refs is None or not np.count_nonzero(refs < 0)):
            return
        missing = pd.isna(values)
        ids = table.ids
        if col.required and missing.any():
            raise InputError("is required", kind=self.kind, element=ids[np.argmax(missing)], field=col.name)
        if codes is not None:
            bad = ~missing & (codes < 0)
            if bad.any():
                i = int(np.argmax(bad))
                raise InputError(f"must be one of {list(col.choices or ())}, got {values[i]!r}",
                                 kind=self.kind, element=ids[i], field=col.name)
        if refs is not None:
            bad = ~missing & (refs < 0)
            if bad.any():
                i = int(np.argmax(bad))
                raise InputError(f"references unknown {col.ref} {values[i]!r}",
                                 kind=self.kind, element=ids[i], field=col.name)

    def describe(self) -> pd.DataFrame:
        """The schema as a table (for documentation and ``gasgrid schema``)."""
        return pd.DataFrame(
            [
                {
                    "column": c.name,
                    "dtype": c.dtype,
                    "unit": c.unit,
                    "default": "required" if c.required else c.default,
                    "range": _range_text(c),
                    "description": c.description,
                }
                for c in self.columns
            ]
        )


class TableArrays:
    """One user table's columns as numpy arrays, each taken from the frame at most once.

    Validation fills ``codes`` (per choice column: the position of each value in ``Column.choices``) and
    ``refs`` (per reference column: the position of each id in the referenced table); -1 where a value is
    missing or unknown. Arrays from :meth:`column` may share memory with the frame: copy what is kept.
    ``found`` names the reference columns known to have no -1, whose text checks have nothing left to find.
    """

    __slots__ = ("_cache", "_ids", "_labels", "_where", "codes", "found", "frame", "ids", "n", "refs", "schema")

    def __init__(self, schema: Schema, frame: pd.DataFrame) -> None:
        self.schema = schema
        self.frame = frame
        self.ids: pd.Index = frame.index
        self.n = len(frame.index)
        self.codes: dict[str, NDArray[np.int64]] = {}
        self.refs: dict[str, NDArray[np.int64]] = {}
        self.found: set[str] = set()  # reference columns (without choices) whose every value was found
        self._cache: dict[tuple[str, Any], np.ndarray] = {}
        self._ids: NDArray[np.object_] | None = None
        self._where: dict[Any, tuple[np.ndarray, int]] | None = None
        self._labels: list[Any] | None = None

    def id_array(self) -> NDArray[np.object_]:
        """``ids.to_numpy(dtype=object)``, taken once."""
        if self._ids is None:
            self._ids = self.ids.to_numpy(dtype=object)
        return self._ids

    @property
    def labels(self) -> list[Any]:
        """The frame's column labels, in order."""
        if self._labels is None:
            self._labels = self.frame.columns.tolist()
        return self._labels

    def column(self, name: str, dtype: Any = None) -> np.ndarray:
        """``frame[name].to_numpy(dtype)``, taken once (an empty table gives an empty array of ``dtype``).

        Read straight from pandas' storage where it can be (:mod:`gasgrid.model.frames`); such an array is
        read-only.
        """
        key = (name, dtype)
        arr = self._cache.get(key)
        if arr is None:
            if self.n:
                where = self._where
                if where is None:
                    where = self._where = block_rows(self.frame, self.labels)
                hit = where.get(name)  # read_column, inlined: this runs about a hundred times per compile
                if hit is None:
                    arr = self.frame[name].to_numpy(dtype)
                else:
                    arr = hit[0][hit[1]] if dtype is None else np.asarray(hit[0][hit[1]], dtype=dtype)
            else:
                arr = np.empty(0, dtype=object if dtype is None else dtype)
            self._cache[key] = arr
        return arr

    def float_block(self, names: tuple[str, ...]) -> NDArray[np.float64] | None:
        """``np.stack([self.column(n, float) for n in names])`` as a view of the table's float block, where the
        columns are consecutive rows of one (:func:`gasgrid.model.frames.block_slice`); else None."""
        if not self.n:
            return None
        if self._where is None:
            self._where = block_rows(self.frame, self.labels)
        return block_slice(self._where, names)

    def code(self, name: str) -> NDArray[np.int64]:
        """The choice positions of a validated column (empty for an empty table)."""
        return self.codes[name] if self.n else np.empty(0, dtype=np.int64)

    def ref(self, name: str) -> NDArray[np.int64]:
        """The referenced positions of a validated column (empty for an empty table)."""
        return self.refs[name] if self.n else np.empty(0, dtype=np.int64)


class _Ranges:
    """The float columns, checked together in one pass over a table against their rules (required, range)."""

    def __init__(self, columns: tuple[Column, ...]) -> None:
        self.columns = columns
        self.names = tuple(c.name for c in columns)
        self.every = frozenset(self.names)
        bounds = [_closed_bounds(c) for c in columns]
        self.lo = np.array([[lo] for lo, _ in bounds], dtype=float)
        self.hi = np.array([[hi] for _, hi in bounds], dtype=float)
        self.required = np.array([[c.required] for c in columns], dtype=bool)
        self.any_required = bool(self.required.any())

    def met(self, table: TableArrays) -> frozenset[str]:
        """Names of the columns whose every value meets its rule (the others are checked one by one).

        All of them is :attr:`every`. NaN compares false, so it breaks no bound and only a required column
        rejects it.
        """
        if not self.columns:
            return self.every
        block = table.float_block(self.names)
        if block is None:
            try:
                block = np.stack([table.column(c.name, float) for c in self.columns])
            except (ValueError, TypeError):  # a column that is not numeric: the one-by-one pass reports it in order
                return frozenset()
        bad = block < self.lo
        bad |= block > self.hi
        if self.any_required:
            bad |= np.isnan(block) & self.required
        if not np.count_nonzero(bad):
            return self.every
        wrong = np.count_nonzero(bad, axis=1)
        return frozenset(c.name for c, w in zip(self.columns, wrong.tolist(), strict=True) if not w)


def _closed_bounds(col: Column) -> tuple[float, float]:
    """(lo, hi) such that a number x is allowed exactly when not (x < lo or x > hi).

    An open lower bound lo becomes the next float above it. A range no number meets (a NaN bound, or above
    +inf) becomes (+inf, -inf).
    """
    if math.isnan(col.lo) or math.isnan(col.hi) or (col.lo_open and col.lo == math.inf):
        return math.inf, -math.inf
    return (float(np.nextafter(col.lo, math.inf)) if col.lo_open else col.lo), col.hi


def _bounded(col: Column) -> bool:
    return col.lo_open or col.lo != -math.inf or col.hi != math.inf


class _Choices:
    """The allowed values of a categorical column, for looking up many values at once."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.index = pd.Index(choices, dtype=object)

    def codes(self, values: np.ndarray) -> NDArray[np.int64]:
        """Position of each value among the choices, -1 for others (missing values included)."""
        # the index's own hash table (index_lookup): a dict lookup per value in Python costs several times more
        return np.asarray(index_lookup(self.index, values), dtype=np.int64)


def positions(ids: pd.Index, values: np.ndarray) -> NDArray[np.int64]:
    """Position of each value in ``ids`` (its first occurrence); -1 where absent or missing."""
    if not len(values):
        return np.empty(0, dtype=np.int64)
    if ids.is_unique:
        pos = index_lookup(ids, values)
    else:
        first = ~ids.duplicated()
        p = ids[first].get_indexer(values)
        pos = np.where(p >= 0, np.flatnonzero(first)[p], -1)
    if ids.hasnans:  # a missing value must not count as found
        pos = np.where(pd.isna(values), -1, pos)
    return np.asarray(pos, dtype=np.int64)


def _intern(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


# Equal text becomes one object (ids, the references to them, choice values and the declared choices, which are
# literals): the hash lookups of every compile then match by identity, without comparing the characters.
_INTERN = np.frompyfunc(_intern, 1, 1)


def _range_text(c: Column) -> str:
    if c.choices:
        return "|".join(c.choices)
    if c.dtype not in ("float", "int") or (c.lo == -math.inf and c.hi == math.inf):
        return ""
    return f"{'(' if c.lo_open else '['}{c.lo:g}, {c.hi:g}]"


def _pandas_dtype(dtype: str) -> Any:
    return {"float": float, "int": np.int64, "bool": bool, "str": object}[dtype]


def _to_bool(v: Any) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in ("true", "1", "yes", "open", "false", "0", "no", "closed"):
        return v.strip().lower() in ("true", "1", "yes", "open")
    raise ValueError(f"not a boolean: {v!r}")


def _first_bad(series: pd.Series, dtype: str) -> Any:
    for v in series:
        try:
            if dtype in ("float", "int"):
                float(v)
            elif dtype == "bool":
                _to_bool(v)
        except (ValueError, TypeError):
            return v
    return None


def _id_of(frame: pd.DataFrame, value: Any, column: str) -> str | None:
    hits = frame.index[frame[column].astype(object) == value] if value is not None else []
    return str(hits[0]) if len(hits) else None
