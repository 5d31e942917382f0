"""Bundled GasLib instances by name (data: ``gasgrid/cases/data/gaslib``, CC BY 3.0, see its SOURCE.md).

Contract: :func:`load_gaslib_case` returns a fresh, validated :class:`~gasgrid.model.network.Network` read by
:func:`gasgrid.io.gaslib.read_gaslib` with the case's bundled nomination applied; :func:`list_gaslib_cases` lists
the names. Files are found with :mod:`importlib.resources`, so the cases work from an installed wheel.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from gasgrid.errors import InputError
from gasgrid.io.gaslib import read_gaslib
from gasgrid.model.network import Network


@dataclass(frozen=True)
class _Case:
    folder: str
    net: str
    scenarios: tuple[str, ...]  # paths relative to the folder, without ".scn"; the first is the default
    description: str
    cs: str | None = None
    cdf: str | None = None


_CASES: dict[str, _Case] = {
    "gaslib-11": _Case("GasLib-11", "GasLib-11.net", ("GasLib-11",),
                       "11 nodes, 8 pipes, 1 valve, 2 compressor stations; 3 entries, 3 exits", cs="GasLib-11.cs"),
    "gaslib-24": _Case("GasLib-24", "GasLib-24.net", ("GasLib-24",),
                       "24 nodes with a resistor, a control valve and 3 compressor stations", cs="GasLib-24.cs"),
    "gaslib-40": _Case("GasLib-40", "GasLib-40.net", ("GasLib-40",),
                       "40 nodes, 39 pipes, 6 compressor stations; 3 entries, 29 exits", cs="GasLib-40.cs"),
    "gaslib-134": _Case("GasLib-134", "GasLib-134-v2.net",
                        ("nominations/2015-12-22", "nominations/2015-08-30", "nominations/2015-02-14"),
                        "Greek transmission network (v2), 134 nodes; 3 of the 142 daily nominations of 2015"),
    "gaslib-135": _Case("GasLib-135", "GasLib-135.net", ("GasLib-135",),
                        "135 nodes, 141 pipes, 29 compressor stations; 6 entries, 99 exits", cs="GasLib-135.cs"),
    "gaslib-582": _Case("GasLib-582", "GasLib-582-v2.net", ("nomination_cold_5",),
                        "582 nodes (v2), all arc types, 5 compressor stations; nomination_cold_5 is at the edge of "
                        "feasibility with active elements open", cs="GasLib-582-v2.cs", cdf="GasLib-582-v2.cdf"),
    "gaslib-4197": _Case("GasLib-4197", "GasLib-4197.net", ("nomination_mild_0006",),
                         "4197 nodes, 4466 arcs, 12 compressor stations; 33 exits inject (negative flows)",
                         cs="GasLib-4197.cs"),
}


def list_gaslib_cases() -> dict[str, str]:
    """Bundled GasLib cases: ``{name: one-line description}``."""
    return {name: case.description for name, case in _CASES.items()}


def gaslib_case_scenarios(name: str) -> tuple[str, ...]:
    """Names of the nominations bundled with case ``name``; the first is the default."""
    return tuple(s.rsplit("/", 1)[-1] for s in _case(name).scenarios)


def load_gaslib_case(name: str, scenario: str | None = None, **kw: Any) -> Network:
    """Load a bundled GasLib instance with one of its nominations applied.

    Args:
        name: e.g. ``"gaslib-582"`` (case-insensitive); see :func:`list_gaslib_cases`.
        scenario: nomination name (see :func:`gaslib_case_scenarios`); default the case's first bundled one.
        **kw: passed to :func:`gasgrid.io.gaslib.read_gaslib` (``slack``, ``scale``, ``compressors``, ...).

    The compressor-station details (``.cs``) and combined decisions (``.cdf``) are read where bundled.
    """
    case = _case(name)
    available = gaslib_case_scenarios(name)
    chosen = available[0] if scenario is None else scenario
    if chosen not in available:
        raise InputError(f"unknown nomination {chosen!r}; bundled: {list(available)}", kind="gaslib case",
                         element=name, field="scenario")
    folder = files("gasgrid.cases").joinpath("data", "gaslib", case.folder)
    scn_rel = case.scenarios[available.index(chosen)] + ".scn"
    return read_gaslib(
        _file(folder, case.net),
        _file(folder, scn_rel),
        _file(folder, case.cs) if case.cs else None,
        cdf_path=_file(folder, case.cdf) if case.cdf else None,
        **kw,
    )


def _case(name: str) -> _Case:
    key = name.strip().lower()
    if key not in _CASES:
        raise InputError(f"unknown GasLib case {name!r}; bundled: {list(_CASES)}", kind="gaslib case")
    return _CASES[key]


def _file(folder: Traversable, rel: str) -> Traversable:
    """The bundled file ``rel``, or its gzip-compressed ``rel + '.gz'``."""
    node = folder.joinpath(*rel.split("/"))
    if node.is_file():
        return node
    gz = folder.joinpath(*(rel + ".gz").split("/"))
    if gz.is_file():
        return gz
    raise InputError(f"bundled file is missing: {rel}(.gz)", kind="gaslib case", source=str(folder))
