"""MATGAS import: the MATLAB-struct ``.m`` files of GasModels.jl (LANL), in SI, US customary or per-unit.

Contract: :func:`read_matgas` returns a :class:`Network` in gasgrid's table units and keeps everything it does
not map, unchanged and in the file's units, in ``net.meta["matgas"]``: the scalar fields, every table as
columns + rows (with the extended ``mgc.<table>_data`` columns merged in), and the list of unmapped tables.

Columns of a table come from, in order: a ``%column_names%`` line before it, a plain comment line starting with
``id`` right before it (GasModels' own files label their tables this way), or GasModels' documented column
order (``src/io/matgas.jl``), which includes the undocumented columns (resistor ``diameter``, regulator
``directionality`` ...).

GasModels describes networks for optimisation: compressor ratios, valve positions and dispatchable flows are
decisions. The importer turns them into one simulable operating point: compressors at the lowest allowed ratio
(``mode="bypass"`` when that is 1, else ``mode="ratio"``), valves open, regulators open (their
``design_outlet_pressure``, if any, is kept as ``p_set_bar``), receipts/deliveries/transfers at their nominal
values, and a pressure supply at the nominal pressure of every slack junction (``junction_type`` 1; a receipt at
that junction lends it its id and injection bounds). Files without a slack junction need ``slack=``.
Junction ``lat``/``lon`` become ``y``/``x`` with crs EPSG:4326 when all are valid degrees and not all zero.
GasModels' "unbounded" placeholders (``1e100``, or flow/power limits beyond gasgrid's ranges) become "no limit"
(NaN), each listed in ``meta["matgas"]["notes"]``; non-positive pressure limits are read as no limit.

Not mapped (kept in meta only): ``storage``, ``ne_pipe``, ``ne_compressor``, ``sources`` and any unknown table;
pipe ``p_min``, ``is_bidirectional``, ``num_spatial_discretization_points``; compressor ``flow_min``,
``inlet_p_max``, ``outlet_p_min``, ``operating_cost``, ``directionality`` and the station design data;
regulator reduction factors, ``flow_min`` and design data; valve ``flow_coefficient``; receipt, delivery and
transfer bounds, prices and dispatchability (the nominal value is used); junction ``p_nominal`` of non-slack
junctions and ``edi_id``.

Physics conventions (``conventions=``):
    ``"gasmodels"``: GasModels' pipe law ``p_i² − p_j² = λ L a² f|f| / (D A²)`` with its sound speed ``a``
        (which already contains Z) and no pressure dependence of Z. gasgrid reproduces it with an ideal gas
        whose specific gas constant makes ``R_s T = a²`` and the file's Darcy friction factors (``friction=
        "fixed"``). Elevations are zero (GasModels' steady model has none).
    ``"gasgrid"``: the file's friction factors with gasgrid's real gas (Papay) of molar mass
        ``gas_molar_mass`` (or ``0.02896 G``) at the file's temperature.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from gasgrid.errors import InputError
from gasgrid.gas import EOS, Gas
from gasgrid.model.network import Network
from gasgrid.units import R_UNIVERSAL

__all__ = ["COLUMNS", "Conventions", "MatgasFile", "parse_matgas", "read_matgas"]


class Conventions(StrEnum):
    """Which physics the imported network should reproduce (see module docstring)."""

    GASMODELS = "gasmodels"
    GASGRID = "gasgrid"


def _cols(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: GasModels' column order per table (GasModels.jl ``src/io/matgas.jl``), used when a file names none.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sources": _cols("name agreement_year description"),
    "junction": _cols("id p_min p_max p_nominal junction_type status pipeline_name edi_id lat lon"),
    "pipe": _cols("id fr_junction to_junction diameter length friction_factor p_min p_max status is_bidirectional "
                  "pipeline_name num_spatial_discretization_points"),
    "ne_pipe": _cols("id fr_junction to_junction diameter length friction_factor p_min p_max status "
                     "construction_cost is_bidirectional pipeline_name num_spatial_discretization_points"),
    "compressor": _cols(
        "id fr_junction to_junction c_ratio_min c_ratio_max power_max flow_min flow_max inlet_p_min inlet_p_max "
        "outlet_p_min outlet_p_max status operating_cost directionality compressor_station_name pipeline_name "
        "total_installed_power num_compressor_units compressor_type design_suction_pressure "
        "design_discharge_pressure max_compressed_volume design_fuel_required design_electric_power_required "
        "num_units_for_peak_service peak_year"),
    "ne_compressor": _cols(
        "id fr_junction to_junction c_ratio_min c_ratio_max power_max flow_min flow_max inlet_p_min inlet_p_max "
        "outlet_p_min outlet_p_max status construction_cost operating_cost directionality"),
    "short_pipe": _cols("id fr_junction to_junction status is_bidirectional pipeline_name"),
    "resistor": _cols("id fr_junction to_junction drag diameter status is_bidirectional pipeline_name"),
    "transfer": _cols("id junction_id withdrawal_min withdrawal_max withdrawal_nominal is_dispatchable status "
                      "bid_price offer_price exchange_point_name pipeline_name other_pipeline_name "
                      "design_pressure meter_capacity daily_scheduled_flow"),
    "receipt": _cols("id junction_id injection_min injection_max injection_nominal is_dispatchable status "
                     "offer_price name company_name daily_scheduled_flow design_capacity operating_capacity "
                     "is_firm edi_id"),
    "delivery": _cols("id junction_id withdrawal_min withdrawal_max withdrawal_nominal is_dispatchable status "
                      "bid_price name company_name daily_scheduled_flow design_capacity operating_capacity "
                      "is_firm edi_id"),
    "regulator": _cols("id fr_junction to_junction reduction_factor_min reduction_factor_max flow_min flow_max "
                       "status directionality discharge_coefficient design_flow_rate design_inlet_pressure "
                       "design_outlet_pressure pipeline_name"),
    "valve": _cols("id fr_junction to_junction status flow_coefficient pipeline_name"),
    "storage": _cols(
        "id junction_id well_diameter well_depth well_friction_factor reservoir_p_max base_gas_capacity "
        "total_field_capacity initial_field_capacity_percent reduction_factor_max c_ratio_max status "
        "flow_injection_rate_min flow_injection_rate_max flow_withdrawal_rate_min flow_withdrawal_rate_max name "
        "owner_name storage_type daily_withdrawal_max seasonal_withdrawal_max edi_id"),
}

# quantities by physical dimension, for unit conversion (GasModels' ``_params_for_unit_conversions``)
_PRESSURE = frozenset(_cols(
    "p_min p_max p_nominal inlet_p_min inlet_p_max outlet_p_min outlet_p_max design_inlet_pressure "
    "design_outlet_pressure pressure_nominal reservoir_p_max p_loss design_pressure"))
_FLOW = frozenset(_cols(
    "flow_min flow_max withdrawal_min withdrawal_max withdrawal_nominal injection_min injection_max "
    "injection_nominal design_flow_rate flow_injection_rate_min flow_injection_rate_max flow_withdrawal_rate_min "
    "flow_withdrawal_rate_max"))
_LENGTH = frozenset({"length", "well_depth"})
_DIAMETER = frozenset({"diameter", "well_diameter"})
_MAPPED = ("junction", "pipe", "compressor", "short_pipe", "resistor", "loss_resistor", "regulator", "valve",
           "receipt", "delivery", "transfer")
_HUGE = 1e30  # GasModels writes 1e100 for "unbounded"
_M_AIR_GASMODELS = 0.02896  # kg/mol, GasModels' molar mass of air
MILE = 1609.64  # m, GasModels' mile
INCH = 0.0254  # m


@dataclass
class MatgasFile:
    """The syntax-level content of a MATGAS file (values in the file's units)."""

    path: str
    name: str | None = None
    scalars: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    lines: dict[str, list[int]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # statements GasModels ignores too


# --- syntax ------------------------------------------------------------------------------------------------
_ASSIGN = re.compile(r"^(\w+)\.(\w+)\s*=\s*(.*)$")
_END = re.compile(r"^(end|endfunction)\s*;?$")
_FUNCTION = re.compile(r"^function\s+\w+\s*=\s*(\S+)")
_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|;|[^\s,;]+")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "%":
            return line[:i]
    return line


def _value(token: str, where: str) -> Any:
    if token[:1] in "'\"":
        return token[1:-1]
    try:
        return float(token)
    except ValueError:
        low = token.lower()
        if low in ("inf", "+inf", "-inf", "nan"):
            return float(low)
        raise InputError(f"cannot read value {token!r}", source=where) from None


def parse_matgas(path: str | Path) -> MatgasFile:
    """Read the MATLAB-struct syntax of a MATGAS file (no interpretation). Errors name file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", source=str(p)) from exc
    out = MatgasFile(path=str(p))
    pending: list[str] | None = None  # %column_names% for the next table
    comment: list[str] | None = None  # the plain comment line right before the next statement
    table: str | None = None
    rows: list[list[Any]] = []
    row_lines: list[int] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        where = f"{p}:{lineno}"
        if table is not None:
            if _read_rows(_strip_comment(raw), rows, row_lines, lineno, where):
                _store_table(out, table, rows, row_lines, pending, comment)
                table, pending, comment, rows, row_lines = None, None, None, [], []
            continue
        stripped = raw.strip()
        if stripped.startswith("%column_names%"):
            pending = stripped[len("%column_names%"):].split()
            continue
        if stripped.startswith("%"):
            words = stripped.lstrip("%").split()
            comment = words if words and not stripped.startswith("%%") else None
            continue
        if not stripped:
            continue
        m = _FUNCTION.match(stripped)
        if m:
            out.name = m.group(1).rstrip(";")
            continue
        if _END.match(stripped):
            continue
        m = _ASSIGN.match(stripped)
        if not m:
            raise InputError(f"expected 'mgc.<name> = ...', got {stripped[:60]!r}", source=where)
        struct, key, rhs = m.group(1), m.group(2), _strip_comment(m.group(3)).strip()
        if struct != "mgc":  # GasModels ignores fields of other structs (24-pipe-benchmark has 'mgg.base_flow')
            out.ignored.append(f"line {lineno}: {stripped}")
            continue
        if rhs.startswith(("[", "{")):
            table = key
            if _read_rows(rhs[1:], rows, row_lines, lineno, where):
                _store_table(out, table, rows, row_lines, pending, comment)
                table, pending, comment, rows, row_lines = None, None, None, [], []
            continue
        rhs = rhs.rstrip(";").strip()
        if not rhs:
            raise InputError(f"mgc.{key} has no value", source=where)
        out.scalars[key] = _value(rhs, where)
        pending = comment = None
    if table is not None:
        raise InputError(f"table mgc.{table} is not closed with ']'", source=f"{p}:{len(text.splitlines())}")
    _merge_extensions(out)
    return out


def _read_rows(body: str, rows: list[list[Any]], lines: list[int], lineno: int, where: str) -> bool:
    """Append the matrix rows on one line (rows end at ';' or the line end). True when the matrix closes."""
    end = min((i for i in (body.find("]"), body.find("}")) if i >= 0), default=-1)
    current: list[Any] = []
    for tok in _TOKEN.findall(body if end < 0 else body[:end]):
        if tok == ";":
            if current:
                rows.append(current)
                lines.append(lineno)
            current = []
        else:
            current.append(_value(tok, where))
    if current:
        rows.append(current)
        lines.append(lineno)
    return end >= 0


def _store_table(out: MatgasFile, name: str, rows: list[list[Any]], lines: list[int], pending: list[str] | None,
                 comment: list[str] | None) -> None:
    width = max((len(r) for r in rows), default=0)
    if pending is not None:
        names = pending
    elif comment and comment[0] == "id" and all(_IDENT.match(w) for w in comment) and len(comment) >= width:
        names = comment
    elif name in COLUMNS:
        names = list(COLUMNS[name])
    elif name.endswith("_data"):
        raise InputError(f"extension table mgc.{name} needs a %column_names% line", source=f"{out.path}:{lines[0]}"
                         if lines else out.path)
    else:
        names = [f"col{i + 1}" for i in range(width)]
    for row, line in zip(rows, lines, strict=True):
        if len(row) > len(names):
            raise InputError(f"mgc.{name} row has {len(row)} values but only {len(names)} columns are named "
                             f"({' '.join(names)})", source=f"{out.path}:{line}")
    out.tables[name] = [dict(zip(names, row, strict=False)) for row in rows]
    out.columns[name] = list(names)
    out.lines[name] = list(lines)


def _merge_extensions(out: MatgasFile) -> None:
    """``mgc.pipe_data`` adds columns to ``mgc.pipe`` row by row (GasModels' table-extension syntax)."""
    for name in [n for n in out.tables if n.endswith("_data")]:
        base = name[: -len("_data")]
        if base not in out.tables:
            continue
        ext, rows = out.tables.pop(name), out.tables[base]
        lines = out.lines.pop(name)
        ext_cols = out.columns.pop(name)
        if len(ext) != len(rows):
            raise InputError(f"mgc.{name} has {len(ext)} rows but mgc.{base} has {len(rows)}",
                             source=f"{out.path}:{lines[0] if lines else 0}")
        clash = set(ext_cols) & set(out.columns[base])
        if clash:
            raise InputError(f"mgc.{name} repeats column(s) {sorted(clash)} of mgc.{base}",
                             source=f"{out.path}:{lines[0]}")
        for row, extra in zip(rows, ext, strict=True):
            row.update(extra)
        out.columns[base] += ext_cols


# --- meaning -----------------------------------------------------------------------------------------------
def read_matgas(
    path: str | Path,
    *,
    conventions: Conventions | str = Conventions.GASMODELS,
    name: str | None = None,
    slack: dict[str, float] | None = None,
) -> Network:
    """Import a GasModels MATGAS ``.m`` file as a :class:`Network` (see the module docstring for the mapping).

    Args:
        path: the ``.m`` file.
        conventions: ``"gasmodels"`` (reproduce GasModels' physics) or ``"gasgrid"`` (gasgrid's real gas).
        name: case name; default: the file's ``function mgc = <name>``.
        slack: extra pressure references, junction id → pressure in bar (absolute), for files without a slack
            junction (GasModels' optimisation cases have none); overrides ``p_nominal`` of slack junctions.

    Raises:
        InputError: malformed file or values, naming the file and line.
    """
    try:
        conv = Conventions(str(conventions).lower())
    except ValueError:
        raise InputError(f"unknown conventions {conventions!r}; allowed: {[c.value for c in Conventions]}") from None
    mf = parse_matgas(path)
    return _Mapper(mf, conv, slack or {}).network(name)


class _Mapper:
    """Turns a parsed :class:`MatgasFile` into a :class:`Network`; one instance per file."""

    def __init__(self, mf: MatgasFile, conv: Conventions, slack: dict[str, float]) -> None:
        self.mf, self.conv, self.extra_slack = mf, conv, {str(k): float(v) for k, v in slack.items()}
        self.src = Path(mf.path).name
        self.line_of: dict[str, str] = {}
        self.notes: list[str] = []
        s = mf.scalars
        self.T = self._scalar("temperature")
        units = str(s.get("units", "usc" if s.get("is_english_units") == 1 else "si")).lower()
        if units not in ("si", "usc"):
            raise InputError(f"mgc.units must be 'si' or 'usc', got {units!r}", source=mf.path, field="units")
        self.units = units
        self.per_unit = bool(s.get("is_per_unit", s.get("per_unit", 0)))
        G = self._positive("gas_specific_gravity", 0.6)
        self.molar_mass = self._positive("gas_molar_mass", _M_AIR_GASMODELS * G)
        R = self._positive("R", 8.314)
        # GasModels' sound speed when the file has none: sqrt(R T / M), without Z
        self.sound_speed = self._positive("sound_speed", math.sqrt(R * self.T / self.molar_mass))
        if units == "si":
            f = {"p": 1.0, "L": 1.0, "D": 1.0, "F": 1.0, "P": 1.0}
        else:  # GasModels' unit converters (src/core/unit_converters.jl)
            mmscfd = 1000.0 * 0.02832 / 86400.0 * (101.325 / (R * self.T) * 1e6) * G * _M_AIR_GASMODELS
            f = {"p": 6894.75729, "L": MILE, "D": INCH, "F": mmscfd, "P": 745.7}
        if self.per_unit:
            base_p, base_l = self._scalar("base_pressure"), self._scalar("base_length")
            base_f = float(s.get("base_flow", base_p / self.sound_speed))  # GasModels' calc_base_flow
            # GasModels rescales power_max like a flow in per-unit data; so do we
            f.update(p=f["p"] * base_p, L=f["L"] * base_l, F=f["F"] * base_f, P=f["P"] * base_f)
        self.factor = f

    # -- helpers --
    def _scalar(self, key: str) -> float:
        v = self.mf.scalars.get(key)
        if not isinstance(v, float):
            raise InputError(f"mgc.{key} is required and must be a number, got {v!r}", source=self.mf.path)
        return v

    def _positive(self, key: str, default: float) -> float:
        v = self.mf.scalars.get(key, default)
        if not isinstance(v, float) or not (math.isfinite(v) and v > 0):
            raise InputError(f"mgc.{key} must be a positive number, got {v!r}", source=self.mf.path)
        return v

    def _rows(self, table: str) -> list[tuple[dict[str, Any], str]]:
        lines = self.mf.lines.get(table, [])
        if lines and self.mf.columns[table][:1] == ["col1"]:
            raise InputError(f"mgc.{table} needs a %column_names% line naming its columns (GasModels has no "
                             "default order for it)", source=f"{self.mf.path}:{lines[0]}")
        return [(r, f"{self.mf.path}:{ln}") for r, ln in zip(self.mf.tables.get(table, []), lines, strict=True)]

    def val(self, row: dict[str, Any], col: str, where: str, default: float = math.nan) -> float:
        """A number in SI (Pa, m, kg/s, W)."""
        raw = row.get(col)
        if raw is None:
            return default
        if not isinstance(raw, float):
            raise InputError(f"expected a number, got {raw!r}", source=where, field=col)
        if col in _PRESSURE:
            return raw * self.factor["p"]
        if col in _FLOW:
            return raw * self.factor["F"]
        if col in _LENGTH:
            return raw * self.factor["L"]
        if col in _DIAMETER:
            return raw * self.factor["D"]
        if col == "power_max":
            return raw * self.factor["P"]
        return raw

    @staticmethod
    def ident(v: Any) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    def _need(self, row: dict[str, Any], col: str, where: str, table: str) -> Any:
        if row.get(col) is None:
            raise InputError(f"mgc.{table} row has no {col!r}", source=where, field=col)
        return row[col]

    # -- mapping --
    def network(self, name: str | None) -> Network:
        try:
            gas = self._gas()
            net = Network(name or self.mf.name or Path(self.mf.path).stem, gas=gas, temperature_K=self.T)
        except InputError as exc:
            raise InputError(str(exc), source=self.mf.path) from exc
        if "junction" not in self.mf.tables:
            raise InputError("no mgc.junction table", source=self.mf.path)
        self.dead: set[str] = set()
        slack = self._junctions(net)
        self._arcs(net)
        self._injections(net, slack)
        self._meta(net)
        try:
            net.validate()
        except InputError as exc:
            raise InputError(str(exc), source=self.line_of.get(str(exc.element), self.mf.path)) from exc
        return net

    def _gas(self) -> Gas:
        kappa = self._positive("specific_heat_capacity_ratio", 1.4)
        if self.conv is Conventions.GASMODELS:
            m_eff = R_UNIVERSAL * self.T / self.sound_speed**2  # so that R_s T = a^2 exactly
            return Gas.from_properties(molar_mass=m_eff, eos=EOS.IDEAL, kappa=kappa,
                                       name=f"GasModels ideal gas (a = {self.sound_speed:g} m/s)")
        return Gas.from_properties(molar_mass=self.molar_mass, eos=EOS.PAPAY, kappa=kappa,
                                   name=f"natural gas (G = {self.molar_mass / _M_AIR_GASMODELS:.4g})")

    def _add(self, net: Network, kind: str, id: str, where: str, **values: Any) -> None:
        try:
            net.add(kind, id, source=self.src, **values)
        except InputError as exc:
            raise InputError(str(exc), source=where) from exc
        self.line_of[id] = where

    def _junctions(self, net: Network) -> dict[str, float]:
        slack: dict[str, float] = {}
        rows = self._rows("junction")
        lat = [r.get("lat") for r, _ in rows]
        lon = [r.get("lon") for r, _ in rows]
        geo = all(isinstance(a, float) and isinstance(b, float) and abs(a) <= 90 and abs(b) <= 180
                  for a, b in zip(lat, lon, strict=True)) and any(a or b for a, b in zip(lat, lon, strict=True))
        net.crs = "EPSG:4326" if geo else None
        for row, where in rows:
            jid = self.ident(self._need(row, "id", where, "junction"))
            p_max = self.val(row, "p_max", where)
            pipeline = row.get("pipeline_name")
            self._add(net, "node", jid, where,
                      x=row.get("lon") if geo else math.nan, y=row.get("lat") if geo else math.nan,
                      p_min_bar=self.val(row, "p_min", where, 0.0) / 1e5,
                      p_max_bar=math.inf if not (0 < p_max < _HUGE) else p_max / 1e5,
                      name=self.ident(row["name"]) if row.get("name") is not None else None,
                      group=pipeline if isinstance(pipeline, str) else None)
            if row.get("status", 1.0) == 0:
                self.dead.add(jid)
            if row.get("junction_type", 0.0) == 1:
                slack[jid] = self.val(row, "p_nominal", where)
        for jid, p_bar in self.extra_slack.items():
            if jid not in net.table("node").index:
                raise InputError("slack= names an unknown junction", source=self.mf.path, element=jid)
            slack[jid] = p_bar * 1e5
        return slack

    def _ends(self, row: dict[str, Any], where: str, table: str) -> tuple[str, str, bool]:
        fr = self.ident(self._need(row, "fr_junction", where, table))
        to = self.ident(self._need(row, "to_junction", where, table))
        alive = row.get("status", 1.0) != 0 and fr not in self.dead and to not in self.dead
        return fr, to, alive

    def _arcs(self, net: Network) -> None:
        for table, kind in (("pipe", "pipe"), ("compressor", "compressor"), ("short_pipe", "short_pipe"),
                            ("valve", "valve"), ("regulator", "control_valve"), ("resistor", "resistor"),
                            ("loss_resistor", "resistor")):
            for row, where in self._rows(table):
                fr, to, alive = self._ends(row, where, table)
                aid = f"{table}_{self.ident(self._need(row, 'id', where, table))}"
                values = getattr(self, f"_{table}")(row, where)
                self._add(net, kind, aid, where, from_node=fr, to_node=to, in_service=alive, **values)

    def _pipe(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        p_max = self.val(row, "p_max", where)
        return {
            "length_km": self.val(self._req(row, "length", where), "length", where) / 1e3,
            "diameter_mm": self.val(self._req(row, "diameter", where), "diameter", where) * 1e3,
            "friction": "fixed",
            "lambda_fixed": self.val(self._req(row, "friction_factor", where), "friction_factor", where),
            "p_max_bar": p_max / 1e5 if 0 < p_max < _HUGE else math.inf,
            "name": row.get("pipeline_name") if isinstance(row.get("pipeline_name"), str) else None,
        }

    def _req(self, row: dict[str, Any], col: str, where: str) -> dict[str, Any]:
        self._need(row, col, where, "pipe")
        return row

    def _compressor(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        r_min, r_max = self.val(row, "c_ratio_min", where), self.val(row, "c_ratio_max", where)
        ratio = max(1.0, r_min) if not math.isnan(r_min) else 1.0
        if not math.isnan(r_max):
            ratio = min(ratio, max(1.0, r_max))
        flow_max, power = self.val(row, "flow_max", where), self.val(row, "power_max", where)
        p_in_min, p_out_max = self.val(row, "inlet_p_min", where), self.val(row, "outlet_p_max", where)
        station = row.get("compressor_station_name")
        return {
            # ratio 1 is a bypass; ratio mode would make parallel units (A1 has two) indeterminate
            "mode": "bypass" if ratio == 1.0 else "ratio", "ratio": ratio,
            "ratio_min": r_min if r_min >= 1.0 else math.nan,
            "ratio_max": r_max if 1.0 <= r_max <= 10.0 else math.nan,
            "flow_max_kg_s": self._bound(flow_max, 1e5, where, "flow_max"),
            "power_max_MW": self._bound(power / 1e6, 1e4, where, "power_max"),
            "p_suction_min_bar": p_in_min / 1e5 if p_in_min > 0 else math.nan,
            "p_discharge_max_bar": p_out_max / 1e5 if 0 < p_out_max < _HUGE else math.nan,
            "name": station if isinstance(station, str) else None,
        }

    def _bound(self, value: float, hi: float, where: str, col: str) -> float:
        """An upper limit; GasModels' "unbounded" placeholders (above gasgrid's range) become NaN, with a note."""
        if math.isnan(value) or value <= 0:
            return math.nan
        if value > hi:
            self.notes.append(f"{where}: {col} = {value:g} (SI) read as 'no limit'")
            return math.nan
        return value

    def _short_pipe(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        return {}

    def _valve(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        return {"open": True}

    def _regulator(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        flow_max, p_out = self.val(row, "flow_max", where), self.val(row, "design_outlet_pressure", where)
        return {"mode": "open", "p_set_bar": p_out / 1e5 if p_out > 0 else math.nan,
                "flow_max_kg_s": self._bound(flow_max, 1e6, where, "flow_max")}

    def _resistor(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        return {"drag_factor": self.val(row, "drag", where), "diameter_mm": self.val(row, "diameter", where) * 1e3}

    def _loss_resistor(self, row: dict[str, Any], where: str) -> dict[str, Any]:
        if row.get("p_loss") is None:
            raise InputError("mgc.loss_resistor needs a p_loss column (name the columns with %column_names%)",
                             source=where)
        return {"pressure_drop_bar": self.val(row, "p_loss", where) / 1e5}

    def _injections(self, net: Network, slack: dict[str, float]) -> None:
        claimed: set[str] = set()
        for row, where in self._rows("receipt"):
            jid = self.ident(self._need(row, "junction_id", where, "receipt"))
            sid = f"receipt_{self.ident(self._need(row, 'id', where, 'receipt'))}"
            alive = row.get("status", 1.0) != 0 and jid not in self.dead
            lo, hi = self.val(row, "injection_min", where), self.val(row, "injection_max", where)
            bounds = {"flow_min_kg_s": -math.inf if math.isnan(lo) else lo,
                      "flow_max_kg_s": math.inf if math.isnan(hi) or hi >= _HUGE else hi}
            name = row.get("name") if isinstance(row.get("name"), str) else None
            if jid in slack and jid not in claimed:
                claimed.add(jid)  # the slack junction's pressure supply takes this receipt's bounds
                self._add(net, "supply", sid, where, node=jid, mode="pressure", p_set_bar=slack[jid] / 1e5,
                          in_service=alive, name=name, **bounds)
            else:
                self._add(net, "supply", sid, where, node=jid, mode="flow", in_service=alive, name=name,
                          flow_kg_s=self.val(row, "injection_nominal", where, 0.0), **bounds)
        for jid, p in slack.items():
            if jid not in claimed:
                self._add(net, "supply", f"slack_{jid}", self.line_of[jid], node=jid, mode="pressure",
                          p_set_bar=p / 1e5, in_service=jid not in self.dead)
        for table, label in (("delivery", "name"), ("transfer", "exchange_point_name")):
            for row, where in self._rows(table):
                jid = self.ident(self._need(row, "junction_id", where, table))
                did = f"{table}_{self.ident(self._need(row, 'id', where, table))}"
                self._add(net, "demand", did, where, node=jid,
                          flow_kg_s=self.val(row, "withdrawal_nominal", where, 0.0),
                          in_service=row.get("status", 1.0) != 0 and jid not in self.dead,
                          name=row.get(label) if isinstance(row.get(label), str) else None)

    def _meta(self, net: Network) -> None:
        mf = self.mf
        net.meta["matgas"] = {
            "file": self.src,
            "case_name": mf.name,
            "conventions": self.conv.value,
            "units": self.units,
            "per_unit": self.per_unit,
            "sound_speed_m_s": self.sound_speed,
            "scalars": dict(mf.scalars),
            "tables": {t: {"columns": mf.columns[t], "rows": [[r.get(c) for c in mf.columns[t]] for r in rows]}
                       for t, rows in mf.tables.items()},
            "unmapped_tables": sorted(t for t in mf.tables if t not in _MAPPED),
            "ignored_statements": list(mf.ignored),
            "notes": self.notes,
        }
