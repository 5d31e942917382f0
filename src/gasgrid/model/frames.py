"""Reading user tables into numpy without pandas' per-call bookkeeping.

``frame[name].to_numpy(dtype)`` and ``ids.get_indexer(values)`` each spend microseconds on checks and
conversions around a cheap operation; compiling a mid-size network makes about seventy such calls, and that
overhead was most of its cost. The helpers here give the same arrays by reading what pandas already holds:
the 2-D block a column is stored in, and the hash table an index keeps for lookups.

Both rely on pandas internals (``DataFrame._mgr.blocks``, ``Block.mgr_locs``, ``Index._engine``), stable
through pandas 2.x but not public. Each therefore covers only the plain layouts it understands (numpy-backed
columns under unique, flat column labels; unique all-text object indexes) and falls back to the public call
for anything else, or when the internals are missing. ``tests/test_model_frames.py`` checks that the fast
paths are taken on the installed pandas and that they agree with the public calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray


def block_rows(frame: pd.DataFrame, labels: list[Any] | None = None) -> dict[Any, tuple[np.ndarray, int]]:
    """Where each numpy-backed column of ``frame`` lives: label -> (2-D block values, row in the block).

    ``values[row]`` is what ``frame[label]`` holds (pandas takes it the same way). Columns backed by extension
    arrays are left out, and so is everything when the labels are not unique and flat (``frame[label]`` then
    follows rules of its own) or the frame's storage is not the block layout known here. ``labels`` is
    ``frame.columns.tolist()`` where the caller has it.
    """
    columns = frame.columns
    if type(columns) is not pd.Index or not columns.is_unique:
        return {}
    try:
        blocks = frame._mgr.blocks
        placed = [(blk.values, blk.mgr_locs.as_array) for blk in blocks]
    except AttributeError:  # another pandas: the public path
        return {}
    if labels is None:
        labels = columns.tolist()
    where: dict[Any, tuple[np.ndarray, int]] = {}
    for values, locs in placed:
        if type(values) is np.ndarray and values.ndim == 2 and len(values) == len(locs):
            view = values.view()  # read-only, and so is every row taken from it
            view.setflags(write=False)
            for row, loc in enumerate(locs.tolist()):
                where[labels[loc]] = (view, row)
    if len(where) > len(labels):  # cannot happen with a consistent manager; trust nothing if it does
        return {}
    return where


def read_column(frame: pd.DataFrame, where: dict[Any, tuple[np.ndarray, int]], name: str,
                dtype: Any = None) -> np.ndarray:
    """``frame[name].to_numpy(dtype)``, read from the block when ``where`` (:func:`block_rows`) has it.

    A result read from the block that shares memory with it is read-only, so that nothing downstream writes
    into user data.
    """
    hit = where.get(name)
    if hit is None:
        return frame[name].to_numpy(dtype)
    values, row = hit
    return values[row] if dtype is None else np.asarray(values[row], dtype=dtype)


def block_slice(where: dict[Any, tuple[np.ndarray, int]], names: list[str] | tuple[str, ...]) -> np.ndarray | None:
    """The float64 block rows of columns ``names``, in that order, as one 2-D read-only view; None unless they
    are consecutive rows of one block (as in a table built from a schema, whose float columns pandas keeps
    together in column order).

    Equal to ``np.stack([read_column(frame, where, name, float) for name in names])`` where it is not None.
    """
    first = where.get(names[0]) if names else None
    if first is None or first[0].dtype != np.float64:
        return None
    values, start = first
    for i, name in enumerate(names):
        hit = where.get(name)
        if hit is None or hit[0] is not values or hit[1] != start + i:
            return None
    return values[start:start + len(names)]


def index_lookup(ids: pd.Index, values: np.ndarray) -> NDArray[np.intp]:
    """``ids.get_indexer(values)`` for unique ``ids``: the position of each value, -1 where absent.

    For an object index of text and object values, the index's own hash table answers directly: the public
    call would wrap ``values`` in an index (inferring its type), find the common type (object) and ask the
    same table.
    """
    if (type(ids) is pd.Index and ids.dtype == object and isinstance(values, np.ndarray) and values.ndim == 1
            and values.dtype == object and ids.inferred_type == "string"):
        try:
            engine = ids._engine
        except AttributeError:
            pass
        else:
            return np.asarray(engine.get_indexer(values), dtype=np.intp)
    return ids.get_indexer(values)
