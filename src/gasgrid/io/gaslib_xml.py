"""Safe XML loading and explicit unit conversion for the GasLib readers.

Contract: :func:`load_xml` returns the root element of a GasLib file (plain or gzip-compressed) parsed with
``defusedxml`` (no entity expansion, no external entities, no DTD-driven surprises); every failure is an
:class:`~gasgrid.errors.InputError` naming the file (and line for syntax errors). :func:`to_si` converts a value
with a GasLib ``unit`` attribute to SI through a closed table per physical dimension: an unknown unit is an
error naming the element and field, never a guess.
"""

from __future__ import annotations

import gzip
import math
import os
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]

from gasgrid.errors import InputError

PathLike = str | os.PathLike[str] | Traversable

P_NORMAL_BAR = 1.01325  # bar; GasLib gauge pressures ("barg") are relative to 1.01325 bar

# dimension -> unit -> (factor, offset): SI = value * factor + offset
UNITS: dict[str, dict[str | None, tuple[float, float]]] = {
    # absolute pressure, SI = Pa
    "pressure": {"bar": (1e5, 0.0), "barg": (1e5, P_NORMAL_BAR * 1e5), "Pa": (1.0, 0.0), "kPa": (1e3, 0.0),
                 "MPa": (1e6, 0.0)},
    # pressure difference (no gauge units), SI = Pa
    "pressure_difference": {"bar": (1e5, 0.0), "Pa": (1.0, 0.0), "kPa": (1e3, 0.0), "MPa": (1e6, 0.0)},
    "length": {"m": (1.0, 0.0), "meter": (1.0, 0.0), "km": (1e3, 0.0), "cm": (1e-2, 0.0), "mm": (1e-3, 0.0)},
    # volumetric flow at normal conditions (0 °C, 1.01325 bar), SI = Nm^3/s
    "normal_flow": {"1000m_cube_per_hour": (1000.0 / 3600.0, 0.0), "m_cube_per_hour": (1.0 / 3600.0, 0.0),
                    "m_cube_per_s": (1.0, 0.0)},
    # actual volumetric flow (compressor maps, suction conditions), SI = m^3/s
    "volume_flow": {"m_cube_per_s": (1.0, 0.0), "m_cube_per_hour": (1.0 / 3600.0, 0.0)},
    "temperature": {"K": (1.0, 0.0), "Celsius": (1.0, 273.15)},
    "density": {"kg_per_m_cube": (1.0, 0.0)},
    "molar_mass": {"kg_per_kmol": (1e-3, 0.0), "g_per_mol": (1e-3, 0.0), "kg_per_mol": (1.0, 0.0)},
    # energy per normal volume, SI = J/m^3
    "calorific_value": {"MJ_per_m_cube": (1e6, 0.0), "kJ_per_m_cube": (1e3, 0.0), "kWh_per_m_cube": (3.6e6, 0.0)},
    "heat_transfer": {"W_per_m_square_per_K": (1.0, 0.0)},
    "speed": {"per_min": (1.0 / 60.0, 0.0), "per_s": (1.0, 0.0)},  # SI = revolutions per second
    "specific_energy": {"kJ_per_kg": (1e3, 0.0), "J_per_kg": (1.0, 0.0)},
    "power": {"kW": (1e3, 0.0), "MW": (1e6, 0.0), "W": (1.0, 0.0)},
    "torque": {"kNm": (1e3, 0.0), "Nm": (1.0, 0.0)},
    "volume": {"m_cube": (1.0, 0.0)},
    "dimensionless": {None: (1.0, 0.0), "": (1.0, 0.0)},
}


def local(tag: Any) -> str:
    """Tag without its XML namespace (``{http://gaslib.zib.de/Gas}pipe`` -> ``pipe``)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def source_name(path: PathLike) -> str:
    return os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)


def load_xml(path: PathLike) -> Element:
    """Read and parse a GasLib XML file; ``.gz`` (gzip magic bytes) is decompressed transparently.

    Raises:
        InputError: file missing/unreadable, not gzip though compressed-looking, malformed XML (with line and
            column), or forbidden constructs (entity declarations, external entities, DTDs with entities).
    """
    src = source_name(path)
    try:
        data = Path(path).read_bytes() if isinstance(path, (str, os.PathLike)) else path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=src) from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"corrupt gzip data: {exc}", source=src) from None
    try:
        return DET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        raise InputError(f"malformed XML at line {line}, column {col}: {exc}", source=src) from None
    except DefusedXmlException as exc:
        raise InputError(f"forbidden XML construct (entity expansion / external reference): {exc}",
                         source=src) from None


def to_si(value: str | None, unit: str | None, dimension: str, *, kind: str, element: str | None, field: str,
          source: str) -> float:
    """Convert a GasLib ``value``/``unit`` pair of a physical ``dimension`` to SI. Raises InputError."""
    table = UNITS[dimension]
    if unit is not None:
        unit = unit.strip()
    if dimension == "dimensionless" and unit not in table:
        raise InputError(f"expected a dimensionless value, got unit {unit!r}", kind=kind, element=element,
                         field=field, source=source)
    if unit not in table:
        allowed = ", ".join(str(u) for u in table)
        what = "missing unit" if unit is None else f"unknown unit {unit!r}"
        raise InputError(f"{what} for a {dimension.replace('_', ' ')}; known: {allowed}", kind=kind,
                         element=element, field=field, source=source)
    if value is None:
        raise InputError("has no value attribute", kind=kind, element=element, field=field, source=source)
    try:
        x = float(value)
    except ValueError:
        raise InputError(f"not a number: {value!r}", kind=kind, element=element, field=field,
                         source=source) from None
    if not math.isfinite(x):
        raise InputError(f"not a finite number: {value!r}", kind=kind, element=element, field=field, source=source)
    factor, offset = table[unit]
    return x * factor + offset


class Children:
    """The ``<child value=".." unit=".."/>`` entries of one GasLib element, by local tag.

    Keeps the raw (value, unit) strings for round-tripping and converts on request with :meth:`si`.
    """

    __slots__ = ("assumed", "elem_id", "kind", "raw", "source", "subs")

    def __init__(self, elem: Element, *, kind: str, elem_id: str | None, source: str) -> None:
        self.kind = kind
        self.elem_id = elem_id
        self.source = source
        self.raw: dict[str, tuple[str | None, str | None]] = {}
        self.subs: dict[str, Element] = {}
        self.assumed: list[str] = []
        for child in elem:
            tag = local(child.tag)
            if not tag:
                continue  # comments / processing instructions
            if tag in self.raw or tag in self.subs:
                raise InputError("given twice", kind=kind, element=elem_id, field=tag, source=source)
            if len(child):
                self.subs[tag] = child
            else:
                self.raw[tag] = (child.get("value"), child.get("unit"))

    def has(self, tag: str) -> bool:
        return tag in self.raw

    def si(self, tag: str, dimension: str, *, required: bool = False, unit_if_missing: str | None = None) -> float:
        """Value of child ``tag`` in SI; NaN if absent and not required.

        ``unit_if_missing`` is an explicit, caller-documented reading of a value that states no unit (recorded in
        :attr:`assumed`); without it a missing unit is an error.
        """
        if tag not in self.raw:
            if required:
                raise InputError("is missing", kind=self.kind, element=self.elem_id, field=tag, source=self.source)
            return math.nan
        value, unit = self.raw[tag]
        if unit is None and unit_if_missing is not None and dimension != "dimensionless":
            unit = unit_if_missing
            self.assumed.append(tag)
        key = (value, unit, dimension)
        hit = _SI_CACHE.get(key)
        if hit is not None:
            return hit
        x = to_si(value, unit, dimension, kind=self.kind, element=self.elem_id, field=tag, source=self.source)
        if len(_SI_CACHE) < _SI_CACHE_SIZE:
            _SI_CACHE[key] = x
        return x


# successful conversions by (value text, unit, dimension): GasLib files repeat the same few values thousands of times
_SI_CACHE: dict[tuple[str | None, str | None, str], float] = {}
_SI_CACHE_SIZE = 65_536
