"""Declarative component schemas: one :class:`Schema` per component kind, declared once as data.

A column carries its dtype, the unit used in the user table (in its name where not SI), the factor to SI,
a default, whether it is required, an allowed range and a description. Validation, documentation and I/O
all read these declarations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gasgrid.errors import InputError


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

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
        """Cast columns to their declared dtypes; add missing optional columns with defaults."""
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
                    frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), None)
            except (ValueError, TypeError) as exc:
                bad = _first_bad(frame[col.name], col.dtype)
                raise InputError(
                    f"expected {col.dtype}, got {bad!r}", kind=self.kind, element=_id_of(frame, bad, col.name),
                    field=col.name,
                ) from exc
        extra = [c for c in frame.columns if c not in self.by_name]
        if extra:
            raise InputError(f"unknown column(s) {extra}; allowed: {self.names}", kind=self.kind)
        frame.index = frame.index.astype(str)
        frame.index.name = "id"
        return frame[self.names]

    def validate(self, frame: pd.DataFrame, known: dict[str, pd.Index] | None = None) -> None:
        """Check ids, required values, ranges, choices and references. Raises :class:`InputError`."""
        if frame.index.has_duplicates:
            dup = frame.index[frame.index.duplicated()][0]
            raise InputError("duplicate id", kind=self.kind, element=dup)
        for col in self.columns:
            values = frame[col.name]
            if col.dtype == "float":
                arr = values.to_numpy(dtype=float)
                nan = np.isnan(arr)
                if col.required and nan.any():
                    raise InputError("is required (got NaN)", kind=self.kind,
                                     element=frame.index[np.argmax(nan)], field=col.name)
                ok = nan | ((arr > col.lo) if col.lo_open else (arr >= col.lo)) & (arr <= col.hi)
                if not ok.all():
                    i = int(np.argmin(ok))
                    lo = "(" if col.lo_open else "["
                    raise InputError(
                        f"must be in {lo}{col.lo:g}, {col.hi:g}] {col.unit}, got {arr[i]!r}",
                        kind=self.kind, element=frame.index[i], field=col.name,
                    )
            elif col.dtype == "str":
                missing = values.isna()
                if col.required and missing.any():
                    raise InputError("is required", kind=self.kind, element=frame.index[missing.argmax()],
                                     field=col.name)
                if col.choices is not None:
                    bad = ~values.isna() & ~values.isin(col.choices)
                    if bad.any():
                        i = int(np.argmax(bad.to_numpy()))
                        raise InputError(
                            f"must be one of {list(col.choices)}, got {values.iloc[i]!r}",
                            kind=self.kind, element=frame.index[i], field=col.name,
                        )
                if col.ref is not None and known is not None:
                    refs = known.get(col.ref)
                    if refs is not None:
                        bad = ~values.isna() & ~values.isin(refs)
                        if bad.any():
                            i = int(np.argmax(bad.to_numpy()))
                            raise InputError(
                                f"references unknown {col.ref} {values.iloc[i]!r}",
                                kind=self.kind, element=frame.index[i], field=col.name,
                            )

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
