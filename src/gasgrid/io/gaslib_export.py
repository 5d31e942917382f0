"""GasLib export: a :class:`Network` as a ``.net`` network and a ``.scn`` nomination that
:func:`gasgrid.io.gaslib.read_gaslib` reads back into the same tables.

Contract: for an element read from GasLib, the verbatim element kept by the reader in ``net.meta["gaslib"]``
(tag, attributes and every ``value``/``unit`` child, mapped or not) is written back; a child whose table value
was edited is replaced by the table value (bar, m, km, mm, 1000 m^3/h at normal conditions). A value is
"unchanged" when converting the kept string exactly as the reader does gives the table value bit for bit, so a
GasLib → gasgrid → GasLib → gasgrid round trip is lossless. Elements without kept data (networks from other
formats or added by the user) are written from their table rows, sources with the network gas's properties.
Nominations use ``net.meta["gaslib_scenario"]`` the same way. Files ending in ``.gz`` are gzip-compressed.
Writing is atomic.

Not representable in GasLib (listed by :func:`unrepresentable`): check valves (written as open valves),
valve positions, control-valve and
compressor modes and set points (GasLib's reader options decide them), ``in_service = False``, fixed friction
factors and pipe efficiencies, pipe temperatures, demand priorities and groups, supply pressure set points
(the reader's slack rule decides them) and supplies not at an entry node.
"""

from __future__ import annotations

import gzip
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gasgrid.components import ARC_KINDS
from gasgrid.errors import InputError
from gasgrid.io.atomic import atomic_write_bytes
from gasgrid.io.gaslib_xml import UNITS
from gasgrid.model.network import Network
from gasgrid.units import Reference

__all__ = ["unrepresentable", "write_gaslib"]

GAS_NS = "http://gaslib.zib.de/Gas"
FW_NS = "http://gaslib.zib.de/Framework"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
TAG_OF = {"pipe": "pipe", "short_pipe": "shortPipe", "valve": "valve", "control_valve": "controlValve",
          "compressor": "compressorStation", "resistor": "resistor",
          "check_valve": "valve"}  # GasLib has no check valve: written as an (open) valve, listed as a loss
ATTRIBUTION = (" Derived from GasLib (gaslib.zib.de), (C) 2013 FAU Erlangen-Nuremberg, HU Berlin, LU Hannover, "
               "TU Darmstadt, University Duisburg-Essen, WIAS Berlin, Zuse Institute Berlin; licensed CC BY 3.0. "
               "Written by gasgrid from its tables (values edited in gasgrid replace the original ones). ")

# (GasLib child, table column, dimension, SI -> table, table -> (text, unit))
Field = tuple[str, str, str, Callable[[float, float], float], Callable[[float, float], tuple[str, str]]]


def _bar(x: float, rho: float) -> tuple[str, str]:
    return repr(x), "bar"


_NODE_FIELDS: tuple[Field, ...] = (
    ("height", "elevation_m", "length", lambda si, rho: si, lambda v, rho: (repr(v), "m")),
    ("pressureMin", "p_min_bar", "pressure", lambda si, rho: si / 1e5, _bar),
    ("pressureMax", "p_max_bar", "pressure", lambda si, rho: si / 1e5, _bar),
)
_FLOW_MAX: Field = ("flowMax", "flow_max_kg_s", "normal_flow", lambda si, rho: si * rho,
                    lambda v, rho: (repr(v / rho * 3.6), "1000m_cube_per_hour"))
_ARC_FIELDS: dict[str, tuple[Field, ...]] = {
    "pipe": (
        ("length", "length_km", "length", lambda si, rho: si / 1e3, lambda v, rho: (repr(v), "km")),
        ("diameter", "diameter_mm", "length", lambda si, rho: si * 1e3, lambda v, rho: (repr(v), "mm")),
        ("roughness", "roughness_mm", "length", lambda si, rho: si * 1e3, lambda v, rho: (repr(v), "mm")),
        ("pressureMax", "p_max_bar", "pressure", lambda si, rho: si / 1e5, _bar),
        ("heatTransferCoefficient", "heat_transfer_W_m2K", "heat_transfer", lambda si, rho: si,
         lambda v, rho: (repr(v), "W_per_m_square_per_K")),
    ),
    "controlValve": (("pressureInMin", "p_in_min_bar", "pressure", lambda si, rho: si / 1e5, _bar), _FLOW_MAX),
    "compressorStation": (
        ("pressureInMin", "p_suction_min_bar", "pressure", lambda si, rho: si / 1e5, _bar),
        ("pressureOutMax", "p_discharge_max_bar", "pressure", lambda si, rho: si / 1e5, _bar),
        _FLOW_MAX,
    ),
    "resistor": (
        ("pressureLoss", "pressure_drop_bar", "pressure_difference", lambda si, rho: si / 1e5, _bar),
        ("dragFactor", "drag_factor", "dimensionless", lambda si, rho: si, lambda v, rho: (repr(v), "")),
        ("diameter", "diameter_mm", "length", lambda si, rho: si * 1e3, lambda v, rho: (repr(v), "mm")),
    ),
    "shortPipe": (),
    "valve": (),
}


def write_gaslib(net: Network, path: str | Path, *, scn_path: str | Path | bool | None = None) -> Path:
    """Write ``net`` as a GasLib ``.net`` (and its supplies/demands as a ``.scn``). Returns the ``.net`` path.

    Args:
        net: the network.
        path: the ``.net`` file (``.net.gz`` for gzip).
        scn_path: the nomination file; ``None`` (default) writes ``<stem>.scn`` next to the ``.net`` when the
            network has supplies or demands; ``False`` writes none.
    """
    target = Path(path)
    net_doc = _net_document(net)
    if scn_path is None:
        has_flows = len(net.table("supply")) + len(net.table("demand")) > 0
        stem = target.name.removesuffix(".gz").removesuffix(".net")
        scn: Path | None = target.with_name(f"{stem}.scn") if has_flows else None
    elif scn_path is False:
        scn = None
    elif scn_path is True:
        scn = target.with_name(f"{target.name.removesuffix('.gz').removesuffix('.net')}.scn")
    else:
        scn = Path(scn_path)
    scn_doc = _scn_document(net) if scn is not None else None
    note = ATTRIBUTION if "gaslib" in net.meta else " Written by gasgrid in the GasLib format. "
    _write_xml(net_doc, target, note)
    if scn is not None and scn_doc is not None:
        _write_xml(scn_doc, scn, note)
    return target


def unrepresentable(net: Network) -> list[str]:
    """What of ``net`` a GasLib export cannot carry (one line per kind of loss; empty if nothing)."""
    out = []
    t = net.tables
    checks = [
        ("valve", t["valve"]["open"] != True, "valve positions (closed valves)"),  # noqa: E712
        ("control_valve", t["control_valve"]["mode"] != "open", "control-valve modes/set points"),
        ("compressor", t["compressor"]["mode"] != "bypass", "compressor modes/set points"),
        ("pipe", t["pipe"]["friction"] != "colebrook", "friction laws other than colebrook (GasLib gives roughness)"),
        ("pipe", t["pipe"]["efficiency"] != 1.0, "pipe efficiencies"),
        ("pipe", t["pipe"]["temperature_K"].notna(), "pipe temperatures"),
        ("demand", t["demand"]["priority"] != 1, "demand priorities"),
        ("demand", t["demand"]["group"].notna(), "demand groups"),
    ]
    for kind, mask, what in checks:
        if mask.any():
            out.append(f"{what}: {int(mask.sum())} {kind}(s), e.g. {t[kind].index[mask.to_numpy()][0]!r}")
    if "check_valve" in t and len(t["check_valve"]):
        out.append(f"check valves: {len(t['check_valve'])}, written as open valves")
    for kind in (*ARC_KINDS, "supply", "demand"):
        off = ~t[kind]["in_service"]
        if off.any():
            out.append(f"in_service=False: {int(off.sum())} {kind}(s), written as in service")
    sup = t["supply"]
    pressure = sup[sup["mode"] == "pressure"]
    p_max = t["node"]["p_max_bar"].reindex(pressure["node"]).to_numpy()
    if (pressure["p_set_bar"].to_numpy() != p_max).any():
        out.append("supply pressure set points other than the node's p_max (the GasLib reader's slack rule holds "
                   "the largest entry at its p_max)")
    ids_ok = (t["demand"].index == t["demand"]["node"]).all() and (t["supply"].index == t["supply"]["node"]).all()
    if not ids_ok:
        out.append("supply/demand ids other than their node id (GasLib nominations are per node)")
    return out


# --- .net --------------------------------------------------------------------------------------------------
def _net_document(net: Network) -> ET.Element:
    meta = net.meta.get("gaslib", {}) if isinstance(net.meta.get("gaslib"), dict) else {}
    kept_nodes, kept_arcs = meta.get("nodes", {}), meta.get("arcs", {})
    overridden = net.meta.get("gaslib_scenario", {}).get("overridden_bounds", {}) or {}
    rho = net.gas.reference_density(Reference.NORMAL)
    root = ET.Element(f"{{{GAS_NS}}}network", {f"{{{XSI_NS}}}schemaLocation": f"{GAS_NS} Gas.xsd"})
    info = ET.SubElement(root, f"{{{FW_NS}}}information")
    information = dict(meta.get("information") or {})
    information.setdefault("title", net.name)
    information.setdefault("type", "gas")
    for key, text in information.items():
        ET.SubElement(info, f"{{{FW_NS}}}{key}").text = str(text)
    nodes_el = ET.SubElement(root, f"{{{FW_NS}}}nodes")
    nodes = net.table("node")
    supplied, demanded = set(net.table("supply")["node"]), set(net.table("demand")["node"])
    geo = (net.crs or "").upper() in ("EPSG:4326", "OGC:CRS84", "WGS84")
    for nid, row in nodes.iterrows():
        kept = kept_nodes.get(nid)
        tag = kept["tag"] if kept else ("source" if nid in supplied else "sink" if nid in demanded else "innode")
        values = dict(row)
        if nid in overridden:  # the .net keeps the bounds the nomination replaced
            values["p_min_bar"], values["p_max_bar"] = overridden[nid]
        el = _element(nodes_el, tag, str(nid), kept, values, _NODE_FIELDS, rho, tag)
        _coordinates(el, kept, row, geo)
        if tag == "source" and not kept:
            _gas_children(el, net)
    arcs_el = ET.SubElement(root, f"{{{FW_NS}}}connections")
    for kind in ARC_KINDS:
        if kind not in TAG_OF and len(net.table(kind)):
            raise InputError(f"GasLib has no element for {kind} arcs", kind=kind, element=net.table(kind).index[0])
        for aid, row in net.table(kind).iterrows():
            kept = kept_arcs.get(aid)
            tag = kept["tag"] if kept else TAG_OF[kind]
            if tag != TAG_OF[kind]:
                kept = None  # the element changed kind in gasgrid: its kept GasLib data no longer applies
                tag = TAG_OF[kind]
            el = _element(arcs_el, tag, str(aid), kept, dict(row), _ARC_FIELDS[tag], rho, tag)
            el.set("from", str(row["from_node"]))
            el.set("to", str(row["to_node"]))
    return root


def _element(parent: ET.Element, tag: str, eid: str, kept: dict[str, Any] | None, row: dict[str, Any],
             fields: tuple[Field, ...], rho: float, kind: str) -> ET.Element:
    attrib = {"id": eid, **{k: str(v) for k, v in (kept or {}).get("attrib", {}).items()}}
    name = row.get("name")
    if (attrib.get("alias") or None) != name:
        attrib["alias"] = "" if name is None else str(name)
    el = ET.SubElement(parent, f"{{{GAS_NS}}}{tag}", attrib)
    children: dict[str, tuple[str | None, str | None]] = {
        k: (v[0], v[1]) for k, v in (kept or {}).get("values", {}).items()}
    for child, column, dim, to_table, from_table in fields:
        value = row.get(column)
        value = math.nan if value is None else float(value)
        if child in children and _same(children[child], dim, to_table, rho, value):
            continue
        if child in children and kept is not None:
            del children[child]
        if math.isfinite(value) and not _default(kind, column, value):
            children[child] = from_table(value, rho)
    for child, (text, unit) in children.items():
        sub = ET.SubElement(el, f"{{{GAS_NS}}}{child}")
        if text is not None:
            sub.set("value", text)
        if unit:
            sub.set("unit", unit)
    return el


def _default(kind: str, column: str, value: float) -> bool:
    """Values the reader produces when the child is absent: writing them would add children."""
    return kind in ("source", "sink", "innode") and column == "elevation_m" and value == 0.0


def _same(raw: tuple[str | None, str | None], dim: str, to_table: Callable[[float, float], float], rho: float,
          value: float) -> bool:
    text, unit = raw
    table = UNITS[dim]
    unit_key = unit.strip() if unit is not None else None
    if unit_key is None and dim == "length":
        unit_key = "m"  # the reader's one assumed unit (GasLib-24 heights)
    if text is None or unit_key not in table:
        return False
    try:
        x = float(text)
    except ValueError:
        return False
    factor, offset = table[unit_key]
    derived = to_table(x * factor + offset, rho)
    return derived == value or (math.isnan(derived) and math.isnan(value))


def _coordinates(el: ET.Element, kept: dict[str, Any] | None, row: Any, geo: bool) -> None:
    keys = ("geoWGS84Long", "geoWGS84Lat") if geo else ("x", "y")
    for col, attr in zip(("x", "y"), keys, strict=True):
        value = float(row[col])
        old = el.get(attr)
        if old is not None:
            try:
                if float(old) == value:
                    continue
            except ValueError:
                pass
        if math.isfinite(value):
            el.set(attr, repr(value))
        elif old is not None:
            del el.attrib[attr]


def _gas_children(el: ET.Element, net: Network) -> None:
    gas = net.gas
    rho = gas.reference_density(Reference.NORMAL)
    values = [("gasTemperature", net.temperature_K, "K"), ("normDensity", rho, "kg_per_m_cube"),
              ("molarMass", gas.molar_mass * 1e3, "kg_per_kmol"), ("pseudocriticalPressure", gas.pc / 1e5, "bar"),
              ("pseudocriticalTemperature", gas.Tc, "K")]
    if math.isfinite(gas.hhv_mass):
        values.append(("calorificValue", gas.hhv_mass * rho / 1e6, "MJ_per_m_cube"))
    for tag, value, unit in values:
        ET.SubElement(el, f"{{{GAS_NS}}}{tag}", {"value": repr(float(value)), "unit": unit})


# --- .scn --------------------------------------------------------------------------------------------------
def _scn_document(net: Network) -> ET.Element:
    scen_meta = net.meta.get("gaslib_scenario", {}) if isinstance(net.meta.get("gaslib_scenario"), dict) else {}
    kept = scen_meta.get("nominations", {}) or {}
    rho = net.gas.reference_density(Reference.NORMAL)
    root = ET.Element(f"{{{GAS_NS}}}boundaryValue", {f"{{{XSI_NS}}}schemaLocation": f"{GAS_NS} Scenario.xsd"})
    sc = ET.SubElement(root, f"{{{GAS_NS}}}scenario", {"id": str(scen_meta.get("id") or f"{net.name}_scenario")})
    nodes = net.table("node")
    flows: dict[str, list[float]] = {}
    for s in net.table("supply").itertuples():
        if s.source == "slack" and not math.isfinite(s.flow_kg_s):
            continue  # a pressure reference the GasLib reader added at a non-entry node: not a nomination
        flows.setdefault(str(s.node), [0.0, 0.0, 0.0])[0] += s.flow_kg_s if math.isfinite(s.flow_kg_s) else 0.0
        flows[str(s.node)][2] += 1
    for d in net.table("demand").itertuples():
        flows.setdefault(str(d.node), [0.0, 0.0, 0.0])[1] += d.flow_kg_s
    for nid, (supplied, demanded, n_supplies) in flows.items():
        entry = n_supplies > 0
        flow = supplied - demanded if entry else demanded
        node_el = ET.SubElement(sc, f"{{{GAS_NS}}}node", {"type": "entry" if entry else "exit", "id": nid})
        raw = (kept.get(nid) or {}).get("raw") or {}
        raw_flow = raw.get("flow", [])
        first = next((r for r in raw_flow if r.get("bound") in ("both", "lower")), None)
        if first is not None and _same((first.get("value"), first.get("unit")), "normal_flow",
                                       lambda si, r: si * r, rho, flow):
            for r in raw_flow:
                ET.SubElement(node_el, f"{{{GAS_NS}}}flow", {k: str(v) for k, v in r.items()})
        else:
            value = repr(flow / rho * 3.6)
            for bound in ("lower", "upper"):
                ET.SubElement(node_el, f"{{{GAS_NS}}}flow",
                              {"bound": bound, "value": value, "unit": "1000m_cube_per_hour"})
        _pressure_bounds(node_el, raw.get("pressure", []), nodes.loc[nid] if nid in nodes.index else None,
                         nid in (scen_meta.get("overridden_bounds") or {}))
    return root


def _pressure_bounds(node_el: ET.Element, raw: list[dict[str, Any]], node: Any, overridden: bool) -> None:
    """Pressure bounds a nomination stated (they replaced the node's bounds on import)."""
    if not overridden or node is None:
        return
    lo, hi = float(node["p_min_bar"]), float(node["p_max_bar"])
    stated = {r.get("bound"): r for r in raw}
    expect = {"lower": lo, "upper": hi, "both": lo}
    if stated and all(_same((r.get("value"), r.get("unit")), "pressure", lambda si, rho: si / 1e5, 1.0,
                            expect.get(str(b), math.nan)) for b, r in stated.items()):
        for r in raw:
            ET.SubElement(node_el, f"{{{GAS_NS}}}pressure", {k: str(v) for k, v in r.items()})
        return
    for bound, value in (("lower", lo), ("upper", hi)):
        if math.isfinite(value):
            ET.SubElement(node_el, f"{{{GAS_NS}}}pressure", {"bound": bound, "value": repr(value), "unit": "bar"})


# --- output ------------------------------------------------------------------------------------------------
def _write_xml(root: ET.Element, path: Path, note: str) -> None:
    ET.register_namespace("", GAS_NS)
    ET.register_namespace("framework", FW_NS)
    ET.register_namespace("xsi", XSI_NS)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<!--{note}-->\n{body}\n'
    data = text.encode("utf-8")
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise InputError(f"cannot write: {exc}", source=str(path)) from exc
