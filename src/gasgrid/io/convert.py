"""Format dispatch: read and write networks by file extension or explicit format name, and convert between them.

Contract: :func:`read_network` / :func:`write_network` pick a reader/writer from :class:`Format` (given, or
detected from the path); :func:`convert` is read + write. Format modules are imported only when used, so a
missing optional extra (pandapipes) only matters for its own format. Unknown or unsupported formats and
directions are :class:`~gasgrid.errors.InputError` listing what is possible.

- ``gasgrid``: ``*.gasgrid/`` folder (or any folder with a ``network.json`` manifest); read and write.
- ``gaslib``: ``.net`` (the ``.scn`` of the same stem is applied when it exists, or pass ``scn_path=``);
  read and write.
- ``matgas``: ``.m`` (GasModels.jl); read only.
- ``geojson``: ``.geojson``; write only.
- ``pandapipes``: ``.json`` (pandapipes' own JSON; needs the pandapipes extra); read and write.
- ``gastransim``: a folder with GasTranSim's ``network.json`` and ``params.json``; read only, through
  ``gasgrid.io.gastransim.read_gastransim`` when that module provides it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from gasgrid.errors import InputError
from gasgrid.model.network import Network

__all__ = ["Format", "convert", "detect_format", "read_network", "write_network"]


class Format(StrEnum):
    """File formats gasgrid reads or writes."""

    GASGRID = "gasgrid"
    GASLIB = "gaslib"
    MATGAS = "matgas"
    GEOJSON = "geojson"
    PANDAPIPES = "pandapipes"
    GASTRANSIM = "gastransim"


_EXTENSIONS = {".gasgrid": Format.GASGRID, ".net": Format.GASLIB, ".m": Format.MATGAS, ".geojson": Format.GEOJSON,
               ".json": Format.PANDAPIPES}
_READABLE = (Format.GASGRID, Format.GASLIB, Format.MATGAS, Format.PANDAPIPES, Format.GASTRANSIM)
_WRITABLE = (Format.GASGRID, Format.GASLIB, Format.GEOJSON, Format.PANDAPIPES)


def _parse_format(value: Format | str, what: str) -> Format:
    try:
        return Format(str(value).lower().lstrip("."))
    except ValueError:
        raise InputError(f"unknown {what} format {value!r}; allowed: {[f.value for f in Format]}") from None


def detect_format(path: str | Path, *, writing: bool = False) -> Format:
    """The format of ``path`` from its extension (folders: gasgrid or GasTranSim by their contents)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".gz":
        suffix = Path(p.stem).suffix.lower()
    if not writing and p.is_dir():
        if (p / "network.json").is_file() and (p / "params.json").is_file():
            return Format.GASTRANSIM
        if (p / "network.json").is_file():
            return Format.GASGRID
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    known = ", ".join(f"{k} ({v.value})" for k, v in _EXTENSIONS.items())
    raise InputError(f"cannot tell the format from the name; known extensions: {known}; "
                     "or give the format explicitly (from_=/to=, --from/--to)", source=str(p))


def read_network(path: str | Path, *, format: Format | str | None = None, **options: Any) -> Network:
    """Read a network from ``path``. ``options`` go to the format's reader (e.g. ``conventions=`` for MATGAS,
    ``scn_path=``/``slack=`` for GasLib)."""
    fmt = _parse_format(format, "input") if format is not None else detect_format(path)
    if fmt not in _READABLE:
        raise InputError(f"gasgrid cannot read {fmt.value} files; readable: {[f.value for f in _READABLE]}",
                         source=str(path))
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", source=str(p))
    if fmt is Format.GASGRID:
        from gasgrid.io.native import load_network

        return _call(load_network, p, options)
    if fmt is Format.MATGAS:
        from gasgrid.io.matgas import read_matgas

        return _call(read_matgas, p, options)
    if fmt is Format.GASLIB:
        from gasgrid.io.gaslib import read_gaslib

        if "scn_path" not in options:
            scn = _sibling_scenario(p)
            if scn is not None:
                options["scn_path"] = scn
        return _call(read_gaslib, p, options)
    if fmt is Format.PANDAPIPES:
        from gasgrid.io.pandapipes_io import read_pandapipes_json

        return _call(read_pandapipes_json, p, options)
    module = _optional_module("gasgrid.io.gastransim")
    reader = getattr(module, "read_gastransim", None) if module is not None else None
    if reader is None:
        raise InputError("GasTranSim import is not available in this gasgrid", source=str(p))
    case = _call(reader, p, options)
    net = getattr(case, "network", case)  # read_gastransim returns a case holding the network
    if not isinstance(net, Network):
        raise InputError("the GasTranSim reader returned no network", source=str(p))
    return net


def write_network(net: Network, path: str | Path, *, format: Format | str | None = None, **options: Any) -> Path:
    """Write ``net`` to ``path`` (atomically). ``options`` go to the format's writer (e.g. ``node_results=`` for
    GeoJSON, ``scn_path=`` for GasLib)."""
    fmt = _parse_format(format, "output") if format is not None else detect_format(path, writing=True)
    if fmt not in _WRITABLE:
        raise InputError(f"gasgrid cannot write {fmt.value} files; writable: {[f.value for f in _WRITABLE]}",
                         source=str(path))
    if fmt is Format.GASGRID:
        from gasgrid.io.native import save_network

        return _call(save_network, net, options, path)
    if fmt is Format.GEOJSON:
        from gasgrid.io.geojson import write_geojson

        return _call(write_geojson, net, options, path)
    if fmt is Format.GASLIB:
        from gasgrid.io.gaslib_export import write_gaslib

        return _call(write_gaslib, net, options, path)
    from gasgrid.io.pandapipes_io import write_pandapipes_json

    return _call(write_pandapipes_json, net, options, path)


def convert(
    in_path: str | Path,
    out_path: str | Path,
    *,
    from_: Format | str | None = None,
    to: Format | str | None = None,
    read_options: dict[str, Any] | None = None,
    write_options: dict[str, Any] | None = None,
) -> Path:
    """Read ``in_path`` and write it to ``out_path``; formats from the extensions unless given. Returns the
    written path. The output is written atomically, so a failed conversion never damages an existing file."""
    net = read_network(in_path, format=from_, **(read_options or {}))
    return write_network(net, out_path, format=to, **(write_options or {}))


def _call(fn: Callable[..., Any], first: Any, options: dict[str, Any], *rest: Any) -> Any:
    """Call a reader/writer, turning an unknown option into an InputError instead of a TypeError."""
    params = inspect.signature(fn).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        allowed = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
                   or (p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.default is not p.empty)]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise InputError(f"unknown option(s) {unknown} for {fn.__module__}.{fn.__name__}; allowed: {allowed}")
    return fn(first, *rest, **options)


def _sibling_scenario(net_path: Path) -> Path | None:
    """``GasLib-11.net`` → ``GasLib-11.scn`` if that exists (the only unambiguous pairing)."""
    stem = net_path.name[: -len(".gz")] if net_path.name.endswith(".gz") else net_path.name
    for name in (Path(stem).with_suffix(".scn").name, Path(stem).with_suffix(".scn").name + ".gz"):
        candidate = net_path.with_name(name)
        if candidate.is_file():
            return candidate
    return None


def _optional_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise
