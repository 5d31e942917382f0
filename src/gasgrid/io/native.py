"""gasgrid's own file format: a folder of CSV tables plus a JSON manifest, readable and diffable by people.

Layout of ``name.gasgrid/``::

    network.json   manifest: format name and version, case name, temperature, crs, gas, meta,
                   and per table its file, row count and the unit of every column (from the schemas)
    node.csv       one CSV per non-empty table; first column ``id``, then the schema's columns
    pipe.csv ...

Contract: floats are written with ``repr`` (shortest round-trip form), so save → load is exact. An empty cell
means the column's default (NaN where that is the default); a NaN in a column with another default is written
``nan``. The tables may be edited by hand: row counts in the manifest are informational, rows can be added or
removed and optional columns left out. Missing
values are empty cells. Loading parses every cell itself (not with pandas' float parser) and validates every
table against its schema; every error names the file and the line. Manifests from a newer format version
are rejected; older ones are migrated step by step through :data:`MIGRATIONS`. Writing is atomic: the
folder is assembled next to the target and swapped in only when complete.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import importlib
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gasgrid.components import KINDS
from gasgrid.errors import InputError
from gasgrid.gas import EOS, Gas
from gasgrid.io.atomic import atomic_dir
from gasgrid.model.network import Network
from gasgrid.model.schema import Column

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST",
    "MIGRATIONS",
    "RawTable",
    "gas_from_dict",
    "load_network",
    "save_network",
]

FORMAT_NAME = "gasgrid"
FORMAT_VERSION = 1
MANIFEST = "network.json"


@dataclass
class RawTable:
    """One CSV table as text, before typing: what migrations operate on."""

    file: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # 1-based line number of each row in the file


Migration = Callable[[dict[str, Any], dict[str, RawTable]], tuple[dict[str, Any], dict[str, RawTable]]]


def _v0_to_v1(manifest: dict[str, Any], tables: dict[str, RawTable]) -> tuple[dict[str, Any], dict[str, RawTable]]:
    """Pre-release layout (format_version 0) → 1.

    Version 0 had ``"version": 0`` instead of ``format``/``format_version``, ``"temperature"`` instead of
    ``"temperature_K"``, listed its tables as a plain list of kinds (files ``<kind>.csv``, no units) and
    named the node pressure bounds ``pmin_bar``/``pmax_bar``.
    """
    out = {k: v for k, v in manifest.items() if k not in ("version", "temperature", "tables")}
    out["format"] = FORMAT_NAME
    out["format_version"] = 1
    if "temperature" in manifest:
        out["temperature_K"] = manifest["temperature"]
    out["tables"] = {kind: {"file": f"{kind}.csv"} for kind in manifest.get("tables", [])}
    node = tables.get("node")
    if node is not None:
        rename = {"pmin_bar": "p_min_bar", "pmax_bar": "p_max_bar"}
        node.header = [rename.get(h, h) for h in node.header]
    return out, tables


#: format_version k → function migrating a version-k dataset to version k+1.
MIGRATIONS: dict[int, Migration] = {0: _v0_to_v1}


# --- writing -----------------------------------------------------------------------------------------------
def save_network(net: Network, path: str | Path) -> Path:
    """Write ``net`` as a ``.gasgrid`` folder at ``path`` (atomically). Returns the folder path.

    An existing gasgrid folder at ``path`` is replaced; any other existing non-empty directory is refused.
    """
    target = Path(path)
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise InputError(f"refusing to replace {target}: it exists and is not a gasgrid folder (no {MANIFEST})")
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": net.name,
        "temperature_K": net.temperature_K,
        "crs": net.crs,
        "gas": net.gas.to_dict(),
        "meta": net.meta,
        "tables": {},
    }
    csv_texts: dict[str, str] = {}
    for kind, schema in KINDS.items():
        frame = net.table(kind)
        if frame.empty:
            continue
        file = f"{kind}.csv"
        manifest["tables"][kind] = {
            "file": file,
            "rows": len(frame),
            "columns": {c.name: {"dtype": c.dtype, "unit": c.unit} for c in schema.columns},
        }
        csv_texts[file] = _table_to_csv(frame, schema.columns)
    try:
        manifest_text = json.dumps(_encode(manifest), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise InputError(f"network metadata cannot be written as JSON: {exc}", kind="network",
                         field="meta") from exc
    try:
        with atomic_dir(target) as tmp:
            (tmp / MANIFEST).write_text(manifest_text, encoding="utf-8")
            for file, text in csv_texts.items():
                (tmp / file).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:  # includes a file where the folder should go
        raise InputError(f"cannot write: {exc}", source=str(target)) from exc
    return target


def _table_to_csv(frame: pd.DataFrame, columns: tuple[Column, ...]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", *(c.name for c in columns)])
    cells = [[_cell(v, c) for v in frame[c.name].tolist()] for c in columns]
    for i, element in enumerate(frame.index):
        writer.writerow([element, *(col[i] for col in cells)])
    return buf.getvalue()


def _cell(value: Any, col: Column) -> str:
    dtype = col.dtype
    if dtype == "float":
        x = float(value)
        if math.isnan(x):  # empty cells read back as the column default, so NaN is explicit where that differs
            return "" if _empty_float(col) != _empty_float(col) else "nan"
        return repr(x)
    if dtype == "int":
        return str(int(value))
    if dtype == "bool":
        return "true" if bool(value) else "false"
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _encode(obj: Any) -> Any:
    """JSON-safe form: non-finite floats become ``{"$float": "nan"}``, enum members ``{"$enum": "module:Class",
    "name": ...}`` (gasgrid's own enums come back as members), DataFrames/Series ``{"$frame": ...}`` (back as
    DataFrames, dtypes inferred), numpy scalars Python scalars, tuples and sets lists, dataclasses dicts (so
    these come back as lists and dicts)."""
    if isinstance(obj, enum.Enum):
        cls = type(obj)
        return {"$enum": f"{cls.__module__}:{cls.__qualname__}", "name": obj.name}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _encode(dataclasses.asdict(obj))
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        return {"$frame": {"columns": _encode(list(obj.columns)), "index": _encode(list(obj.index)),
                           "index_name": obj.index.name, "data": _encode(obj.to_numpy(dtype=object).tolist())}}
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, (set, frozenset)):
        return [_encode(v) for v in sorted(obj, key=str)]
    if isinstance(obj, (list, tuple)):
        return [_encode(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"$float": repr(obj)}
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"$float"}:
            return float(obj["$float"])
        if set(obj) == {"$enum", "name"}:
            return _enum(obj)
        if set(obj) == {"$frame"}:
            f = obj["$frame"]
            frame = pd.DataFrame(_decode(f["data"]), index=_decode(f["index"]), columns=_decode(f["columns"]))
            frame.index.name = f.get("index_name")
            return frame.infer_objects()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def _enum(obj: dict[str, Any]) -> Any:
    """An enum member written by :func:`_encode`; only gasgrid's own enums are imported, others stay dicts."""
    module, _, qualname = str(obj["$enum"]).partition(":")
    if not (module == "gasgrid" or module.startswith("gasgrid.")):
        return obj
    try:
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        if isinstance(cls, type) and issubclass(cls, enum.Enum):
            return cls[obj["name"]]
    except (ImportError, AttributeError, KeyError):
        pass
    return obj


# --- reading -----------------------------------------------------------------------------------------------
def load_network(path: str | Path) -> Network:
    """Read a ``.gasgrid`` folder (or its ``network.json``), migrating older format versions.

    Raises:
        InputError: naming the file and line of the first problem (unknown column, bad value, newer version).
    """
    folder = Path(path)
    if folder.is_file() and folder.name == MANIFEST:
        folder = folder.parent
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise InputError(f"not a gasgrid folder: {MANIFEST} not found", source=str(folder))
    manifest = _read_manifest(manifest_path)
    version = _version_of(manifest, manifest_path)
    tables = _read_raw_tables(folder, manifest, version, manifest_path)
    while version < FORMAT_VERSION:
        manifest, tables = MIGRATIONS[version](manifest, tables)
        version += 1
    return _build_network(folder, manifest, tables, manifest_path)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=f"{path}:{exc.lineno}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("the manifest must be a JSON object", source=str(path))
    return _decode(data)


def _version_of(manifest: dict[str, Any], path: Path) -> int:
    if "format_version" not in manifest and "version" in manifest:
        version = manifest["version"]  # format_version 0 named it "version"
    else:
        fmt = manifest.get("format")
        if fmt != FORMAT_NAME:
            raise InputError(f"format is {fmt!r}, expected {FORMAT_NAME!r}", source=str(path), field="format")
        version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise InputError(f"format_version must be a non-negative integer, got {version!r}", source=str(path),
                         field="format_version")
    if version > FORMAT_VERSION:
        raise InputError(
            f"written with format_version {version}, but this gasgrid reads format_version {FORMAT_VERSION} "
            "and older: upgrade gasgrid to read it", source=str(path), field="format_version",
        )
    if version < FORMAT_VERSION and any(v not in MIGRATIONS for v in range(version, FORMAT_VERSION)):
        raise InputError(f"no migration from format_version {version}", source=str(path), field="format_version")
    return version


def _table_files(manifest: dict[str, Any], version: int, path: Path) -> dict[str, str]:
    tables = manifest.get("tables", {} if version > 0 else [])
    if version == 0:
        if not isinstance(tables, list):
            raise InputError("tables must be a list of kinds in format_version 0", source=str(path), field="tables")
        return {str(kind): f"{kind}.csv" for kind in tables}
    if not isinstance(tables, dict):
        raise InputError("tables must be an object {kind: {file: ...}}", source=str(path), field="tables")
    files = {}
    for kind, entry in tables.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise InputError("each table needs a 'file' entry", source=str(path), kind=kind, field="tables")
        files[kind] = entry["file"]
    return files


def _read_raw_tables(folder: Path, manifest: dict[str, Any], version: int, path: Path) -> dict[str, RawTable]:
    tables: dict[str, RawTable] = {}
    for kind, file in _table_files(manifest, version, path).items():
        if kind not in KINDS:
            raise InputError(f"unknown component kind {kind!r}; allowed: {list(KINDS)}", source=str(path),
                             field="tables")
        csv_path = folder / file
        if Path(file).is_absolute() or ".." in Path(file).parts:
            raise InputError(f"table file {file!r} must be inside the folder", source=str(path), kind=kind)
        try:
            text = csv_path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise InputError(f"table file {file} is missing", source=str(path), kind=kind) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read: {exc}", source=str(csv_path)) from exc
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader)
        except StopIteration:
            raise InputError("empty file (expected a header line)", source=f"{csv_path}:1") from None
        rows, lines = [], []
        try:
            for row in reader:
                if row:
                    rows.append(row)
                    lines.append(reader.line_num)
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", source=f"{csv_path}:{reader.line_num}") from exc
        tables[kind] = RawTable(file=file, header=header, rows=rows, lines=lines)
    return tables


def _build_network(folder: Path, manifest: dict[str, Any], tables: dict[str, RawTable], path: Path) -> Network:
    gas = gas_from_dict(manifest.get("gas") or {}, source=str(path))
    temperature = manifest.get("temperature_K", 288.15)
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool):
        raise InputError(f"temperature_K must be a number, got {temperature!r}", source=str(path))
    crs = manifest.get("crs")
    if crs is not None and not isinstance(crs, str):
        raise InputError(f"crs must be a string or null, got {crs!r}", source=str(path), field="crs")
    try:
        net = Network(str(manifest.get("name", folder.stem)), gas=gas, temperature_K=float(temperature), crs=crs)
    except InputError as exc:
        raise InputError(str(exc), source=str(path)) from exc
    meta = manifest.get("meta") or {}
    if not isinstance(meta, dict):
        raise InputError("meta must be an object", source=str(path), field="meta")
    net.meta = meta
    declared = manifest.get("tables", {})
    line_of: dict[tuple[str, str], str] = {}
    for kind, raw in tables.items():
        csv_path = folder / raw.file
        _check_units(kind, declared.get(kind, {}).get("columns"), path)
        frame = _typed_frame(kind, raw, csv_path)
        try:
            net.set_table(kind, frame)
        except InputError as exc:
            raise InputError(str(exc), source=str(csv_path)) from exc
        for element, line in zip(frame.index, raw.lines, strict=True):
            line_of[(kind, str(element))] = f"{csv_path}:{line}"
    try:
        known = {"node": net.table("node").index}
        for kind, schema in KINDS.items():
            schema.validate(net.table(kind), known)
        net.validate()
    except InputError as exc:
        where = line_of.get((exc.kind or "", str(exc.element)))
        if where is None and exc.element is not None:
            where = next((v for (k, e), v in line_of.items() if e == str(exc.element)), None)
        raise InputError(str(exc), source=where or str(folder)) from exc
    return net


def _check_units(kind: str, columns: Any, path: Path) -> None:
    """A column whose declared unit differs from the schema's would be read at the wrong scale."""
    if not isinstance(columns, dict):
        return
    schema = KINDS[kind]
    for name, spec in columns.items():
        col = schema.by_name.get(name)
        unit = spec.get("unit") if isinstance(spec, dict) else None
        if col is not None and unit is not None and unit != col.unit:
            raise InputError(f"file declares unit {unit!r}, gasgrid expects {col.unit!r}", source=str(path),
                             kind=kind, field=name)


def _typed_frame(kind: str, raw: RawTable, csv_path: Path) -> pd.DataFrame:
    schema = KINDS[kind]
    header = raw.header
    if not header or header[0] != "id":
        raise InputError(f"first column must be 'id', got {header[:1]}", source=f"{csv_path}:1")
    seen: set[str] = set()
    for name in header[1:]:
        if name not in schema.by_name:
            raise InputError(f"unknown column {name!r}; allowed: {schema.names}", source=f"{csv_path}:1",
                             kind=kind, field=name)
        if name in seen:
            raise InputError("duplicate column", source=f"{csv_path}:1", kind=kind, field=name)
        seen.add(name)
    ids: list[str] = []
    data: dict[str, list[Any]] = {name: [] for name in header[1:]}
    for row, line in zip(raw.rows, raw.lines, strict=True):
        where = f"{csv_path}:{line}"
        if len(row) != len(header):
            raise InputError(f"expected {len(header)} cells, got {len(row)}", source=where, kind=kind)
        element = row[0]
        if element == "":
            raise InputError("empty id", source=where, kind=kind)
        ids.append(element)
        for name, text in zip(header[1:], row[1:], strict=True):
            try:
                data[name].append(_parse_cell(text, schema.by_name[name]))
            except ValueError as exc:
                raise InputError(f"expected {schema.by_name[name].dtype}, got {text!r}", source=where, kind=kind,
                                 element=element, field=name) from exc
    frame = pd.DataFrame(data, index=pd.Index(ids, dtype=object, name="id"))
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        line = raw.lines[ids.index(dup, ids.index(dup) + 1)]
        raise InputError("duplicate id", source=f"{csv_path}:{line}", kind=kind, element=dup)
    return frame


def _empty_float(col: Column) -> float:
    """What an empty cell of a float column means: its default (NaN for required columns)."""
    return float(col.default) if isinstance(col.default, (int, float)) and not col.required else math.nan


def _parse_cell(text: str, col: Column) -> Any:
    if col.dtype == "float":
        return _empty_float(col) if text == "" else float(text)
    if col.dtype == "int":
        if text == "":
            if col.required or col.default is None:
                raise ValueError("missing integer")
            return col.default
        return int(text)
    if col.dtype == "bool":
        low = text.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        if low == "" and isinstance(col.default, bool):
            return col.default
        raise ValueError(text)
    return None if text == "" else text


def gas_from_dict(data: dict[str, Any], *, source: str | None = None) -> Gas:
    """Inverse of :meth:`Gas.to_dict` (SI keys: ``molar_mass_kg_mol``, ``pc_Pa``, ``Tc_K``, ...)."""
    known = {"name", "molar_mass_kg_mol", "pc_Pa", "Tc_K", "eos", "viscosity_Pa_s", "kappa", "hhv_J_kg",
             "normal_density_kg_m3", "composition"}
    unknown = set(data) - known
    if unknown:
        raise InputError(f"unknown gas field(s) {sorted(unknown)}; allowed: {sorted(known)}", source=source,
                         kind="gas")
    default = Gas()
    try:
        composition = data.get("composition")
        extra = {}
        if data.get("normal_density_kg_m3") is not None:
            extra["normal_density"] = float(data["normal_density_kg_m3"])
        return Gas(
            molar_mass=float(data.get("molar_mass_kg_mol", default.molar_mass)),
            pc=float(data.get("pc_Pa", default.pc)),
            Tc=float(data.get("Tc_K", default.Tc)),
            eos=EOS.parse(str(data.get("eos", default.eos.value))),
            viscosity=float(data.get("viscosity_Pa_s", default.viscosity)),
            kappa=float(data.get("kappa", default.kappa)),
            hhv_mass=float(data.get("hhv_J_kg", default.hhv_mass)),
            composition=None if composition is None else tuple((str(k), float(v)) for k, v in composition.items()),
            name=str(data.get("name", default.name)),
            _extra=extra,
        )
    except InputError as exc:
        raise InputError(str(exc), source=source) from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"invalid gas description: {exc}", source=source, kind="gas") from exc
