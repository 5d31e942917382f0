"""Read GasLib instances (https://gaslib.zib.de): ``.net`` network, ``.scn`` nomination, ``.cs`` stations, ``.cdf``.

Contract: :func:`read_gaslib` returns a validated :class:`~gasgrid.model.network.Network` in the units its
schemas declare; every value is converted from the ``unit`` the file states (unknown units are errors). Nothing
is dropped silently: every GasLib element is also kept verbatim (attributes and ``(value, unit)`` strings) in
``net.meta["gaslib"]["nodes"|"arcs"][id]`` for round-trip export, and child tags the reader does not know are
listed in ``net.meta["gaslib"]["unmapped"]``. All failures are :class:`~gasgrid.errors.InputError`.

Mapping (GasLib -> gasgrid):

- ``source``/``sink``/``innode`` -> node: ``height`` -> ``elevation_m``, ``pressureMin``/``pressureMax`` ->
  ``p_min_bar``/``p_max_bar`` (absolute), ``alias`` -> ``name``; x/y = ``geoWGS84Long``/``geoWGS84Lat`` with crs
  ``"EPSG:4326"`` when every node has them, else the plain ``x``/``y`` (crs None). Source/sink
  ``flowMin``/``flowMax`` stay in meta (source capacities bound the slack supplies). A node without ``height``
  or pressure bounds gets the schema defaults (0 m, 1.01325 bar, no upper bound); none of the 7 instances lacks
  them.
- ``pipe`` -> pipe (``length``, ``diameter``, ``roughness``, ``heatTransferCoefficient``, ``pressureMax``).
- ``shortPipe`` -> short_pipe. ``valve`` -> valve, ``open`` per ``valves=`` (GasLib ``.net`` files state no
  valve position; the ``.cdf`` lists allowed combinations and is kept in ``meta["gaslib_cdf"]``).
- ``controlValve`` -> control_valve, ``mode`` per ``control_valves=``; ``pressureInMin`` -> ``p_in_min_bar``,
  ``flowMax`` -> ``flow_max_kg_s``.
- ``compressorStation`` -> compressor, ``mode`` per ``compressors=``; ``pressureInMin`` -> ``p_suction_min_bar``,
  ``pressureOutMax`` -> ``p_discharge_max_bar``, ``flowMax`` -> ``flow_max_kg_s``.
- ``resistor`` -> resistor: ``pressureLoss`` -> ``pressure_drop_bar`` if present, else ``dragFactor`` and
  ``diameter``.
- Everything without a column (flowMin/flowMax of arcs, pressureDifferentialMin/Max, pressureLossIn/Out,
  dragFactorIn/Out, diameterIn/Out, pressureOutMax of control valves, fuelGasVertex, gasCoolerExisting,
  internalBypassRequired, gasPreheaterExisting, heat-capacity coefficients, ...) -> meta only.

Gas: one :class:`~gasgrid.gas.Gas` per network from the sources' properties (``normDensity``, ``molarMass``,
``pseudocriticalPressure``/``Temperature``, ``calorificValue`` taken as gross/superior per normal m^3) and
``temperature_K`` from ``gasTemperature``. If the sources differ and a nomination is given to
:func:`read_gaslib`, properties are averaged weighted by the nominated normal-volume inflows (mixing by normal
volume: exact for the normal density and the calorific value, Kay's rule for the pseudo-critical point); otherwise
the first source in file order is used. The rule and every source's properties are in ``meta["gaslib"]["gas"]``.
The equation of state is gasgrid's default (Papay; GasLib states none): ``net.gas = net.gas.with_(eos=...)``.
"""

from __future__ import annotations

import math
import os
from typing import Any
from xml.etree.ElementTree import Element

from gasgrid.errors import InputError
from gasgrid.gas import Gas
from gasgrid.io.gaslib_cs import CompressorStationData, read_gaslib_cdf, read_gaslib_cs
from gasgrid.io.gaslib_scn import ScenarioData, SlackRule, SlackSpec, apply_scenario, read_gaslib_scn
from gasgrid.io.gaslib_xml import Children, PathLike, load_xml, local, source_name
from gasgrid.model.network import Network

NODE_TAGS = ("source", "sink", "innode")
ARC_KINDS = {"pipe": "pipe", "shortPipe": "short_pipe", "valve": "valve", "controlValve": "control_valve",
             "compressorStation": "compressor", "resistor": "resistor"}
COMPRESSOR_MODES = ("bypass", "off")
CONTROL_VALVE_MODES = ("open", "closed")
VALVE_STATES = ("open", "closed")

_FLOW = {"flowMin": "normal_flow", "flowMax": "normal_flow"}
_GAS = {"gasTemperature": "temperature", "calorificValue": "calorific_value", "normDensity": "density",
        "molarMass": "molar_mass", "pseudocriticalPressure": "pressure", "pseudocriticalTemperature": "temperature",
        "coefficient-A-heatCapacity": "dimensionless", "coefficient-B-heatCapacity": "dimensionless",
        "coefficient-C-heatCapacity": "dimensionless"}
_ACTIVE = {**_FLOW, "pressureInMin": "pressure", "pressureOutMax": "pressure", "pressureLossIn": "pressure_difference",
           "pressureLossOut": "pressure_difference", "dragFactorIn": "dimensionless", "dragFactorOut": "dimensionless",
           "diameterIn": "length", "diameterOut": "length"}
# known child tags per GasLib element and their physical dimension (all are unit-checked, mapped or not)
DIMENSIONS: dict[str, dict[str, str]] = {
    "node": {"height": "length", "pressureMin": "pressure", "pressureMax": "pressure", **_FLOW, **_GAS},
    "pipe": {"length": "length", "diameter": "length", "roughness": "length", "heatTransferCoefficient":
             "heat_transfer", "pressureMax": "pressure", "pressureMin": "pressure", **_FLOW},
    "shortPipe": dict(_FLOW),
    "valve": {**_FLOW, "pressureDifferentialMax": "pressure_difference"},
    "controlValve": {**_ACTIVE, "pressureDifferentialMin": "pressure_difference",
                     "pressureDifferentialMax": "pressure_difference"},
    "compressorStation": dict(_ACTIVE),
    "resistor": {**_FLOW, "dragFactor": "dimensionless", "diameter": "length", "pressureLoss": "pressure_difference"},
}

# GasLib-24 states node heights without a unit; every other GasLib height is in metres. This is the only
# missing unit the reader accepts, and each use is listed in meta["gaslib"]["assumed_units"].
UNIT_IF_MISSING = {"height": "m"}


def read_gaslib(
    net_path: PathLike,
    scn_path: PathLike | None = None,
    cs_path: PathLike | None = None,
    *,
    slack: SlackSpec = SlackRule.HIGHEST_PRESSURE,
    scale: float = 1.0,
    name: str | None = None,
    cdf_path: PathLike | None = None,
    compressors: str = "bypass",
    control_valves: str = "open",
    valves: str = "open",
    gas: Gas | None = None,
    temperature_K: float | None = None,
) -> Network:
    """Read a GasLib network, optionally with one nomination and the compressor-station details.

    Args:
        net_path: ``.net`` file (plain or gzip-compressed, e.g. ``GasLib-582-v2.net.gz``).
        scn_path: ``.scn`` nomination; applied with :func:`apply_scenario` (see there for ``slack``/``scale``).
        cs_path: ``.cs`` file; parsed into ``net.meta["gaslib_cs"][station_id]``
            (:class:`~gasgrid.io.gaslib_cs.CompressorStationData`, SI).
        slack: :class:`SlackRule` or a list of ``(node_id, p_bar)``; used only with ``scn_path``.
        scale: factor on all nominated flows; used only with ``scn_path``.
        name: network name; default the file's ``<framework:title>``, else the file name.
        cdf_path: ``.cdf`` combined decisions, kept in ``net.meta["gaslib_cdf"]``.
        compressors: mode of every compressor station, ``"bypass"`` (default) or ``"off"``.
        control_valves: mode of every control valve, ``"open"`` (default) or ``"closed"``.
        valves: position of every valve, ``"open"`` (default) or ``"closed"``; GasLib gives no valve state.
        gas: use this gas instead of the one derived from the sources.
        temperature_K: network gas temperature [K] instead of the sources' ``gasTemperature``.

    Set points (e.g. ``mode="discharge"`` with ``p_set_bar``) are edited in the tables afterwards.

    Raises:
        InputError: unreadable or malformed files (file and line), forbidden XML entities, unknown units or
            element types, duplicate ids, unknown node references, values out of the schema's range.
    """
    _choice("compressors", compressors, COMPRESSOR_MODES)
    _choice("control_valves", control_valves, CONTROL_VALVE_MODES)
    _choice("valves", valves, VALVE_STATES)
    if scn_path is None and (scale != 1.0 or slack != SlackRule.HIGHEST_PRESSURE):
        raise InputError("slack and scale apply to a nomination; give scn_path (or use apply_scenario)",
                         kind="read_gaslib", field="scn_path")
    src = source_name(net_path)
    root = load_xml(net_path)
    if local(root.tag) != "network":
        raise InputError(f"expected a <network> document, got <{local(root.tag)}>", source=src)
    sections = {local(e.tag): e for e in root if local(e.tag)}
    info = {local(e.tag): (e.text or "").strip() for e in sections.get("information", ()) if local(e.tag)}
    scenario = read_gaslib_scn(scn_path) if scn_path is not None else None

    meta: dict[str, Any] = {"net_file": src, "information": info, "nodes": {}, "arcs": {}, "unmapped": set(),
                            "assumed_units": {},
                            "defaults": {"compressors": compressors, "control_valves": control_valves,
                                         "valves": valves}}
    nodes = _parse_nodes(sections.get("nodes"), src, meta)
    gas_used, T, gas_meta = _gas(nodes, scenario)
    meta["gas"] = gas_meta
    if gas is not None:
        gas_used, meta["gas"]["rule"] = gas, "given by the caller"
    if temperature_K is not None:
        T, meta["gas"]["temperature_rule"] = float(temperature_K), "given by the caller"
    title = info.get("title")
    net = Network(name or title or os.path.basename(src), gas=gas_used, temperature_K=T,
                  crs="EPSG:4326" if nodes and all(n["geo"] for n in nodes) else None)
    tag = os.path.basename(src)
    for n in nodes:
        net.add_node(n["id"], **n["row"], source=tag)
    meta["entry_capacity_Nm3_s"] = {n["id"]: (n["si"].get("flowMin", -math.inf), n["si"].get("flowMax", math.inf))
                                    for n in nodes if n["tag"] == "source"}
    _add_arcs(net, sections.get("connections"), {n["id"] for n in nodes}, src, meta, compressors, control_valves,
              valves)
    meta["unmapped"] = sorted(meta["unmapped"])
    net.meta["gaslib"] = meta
    if cs_path is not None:
        net.meta["gaslib_cs"] = _stations(net, cs_path)
        meta["cs_file"] = source_name(cs_path)
    if cdf_path is not None:
        net.meta["gaslib_cdf"] = read_gaslib_cdf(cdf_path)
        meta["cdf_file"] = source_name(cdf_path)
    if scenario is not None:
        apply_scenario(net, scenario, scale=scale, slack=slack)
    try:
        net.validate()
    except InputError as exc:
        exc.add_note(f"while reading GasLib network {src}")
        raise
    return net


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"must be one of {list(allowed)}, got {value!r}", kind="read_gaslib", field=field)


def _record(elem: Element, tag: str, eid: str, ch: Children, src: str, meta: dict[str, Any]) -> dict[str, float]:
    """Unit-check every known child, keep the raw element in meta, and return the known values in SI."""
    dims = DIMENSIONS["node" if tag in NODE_TAGS else tag]
    si = {k: ch.si(k, dims[k], unit_if_missing=UNIT_IF_MISSING.get(k)) for k in ch.raw if k in dims}
    if ch.assumed:
        meta["assumed_units"].update({f"{eid}/{k}": UNIT_IF_MISSING[k] for k in ch.assumed})
    meta["unmapped"].update(f"{tag}/{k}" for k in (*ch.raw, *ch.subs) if k not in dims)
    attrib = {k: v for k, v in elem.attrib.items() if k != "id"}
    bucket = meta["nodes" if tag in NODE_TAGS else "arcs"]
    if eid in bucket:
        raise InputError("duplicate id", kind=tag, element=eid, source=src)
    bucket[eid] = {"tag": tag, "attrib": attrib, "values": dict(ch.raw)}
    return si


def _parse_nodes(section: Element | None, src: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for e in section if section is not None else ():
        tag = local(e.tag)
        if not tag:
            continue
        if tag not in NODE_TAGS:
            raise InputError(f"unknown GasLib node type <{tag}>; known: {', '.join(NODE_TAGS)}", kind=tag,
                             element=e.get("id"), source=src)
        nid = e.get("id")
        if not nid:
            raise InputError("has no id attribute", kind=tag, source=src)
        ch = Children(e, kind=tag, elem_id=nid, source=src)
        si = _record(e, tag, nid, ch, src, meta)
        geo = e.get("geoWGS84Long") is not None and e.get("geoWGS84Lat") is not None
        row: dict[str, Any] = {
            "elevation_m": si.get("height", math.nan),
            "p_min_bar": si.get("pressureMin", math.nan) / 1e5,
            "p_max_bar": si.get("pressureMax", math.nan) / 1e5,
            "name": e.get("alias") or None,
        }
        for col in ("elevation_m", "p_min_bar", "p_max_bar"):
            if math.isnan(row[col]):
                del row[col]  # schema default (0 m, 1.01325 bar, no upper bound)
        out.append({"id": nid, "tag": tag, "row": row, "si": si, "geo": geo, "elem": e})
    all_geo = bool(out) and all(n["geo"] for n in out)
    for n in out:
        e = n["elem"]
        xs, ys = ("geoWGS84Long", "geoWGS84Lat") if all_geo else ("x", "y")
        for col, attr in (("x", xs), ("y", ys)):
            text = e.get(attr)
            if text is not None:
                try:
                    n["row"][col] = float(text)
                except ValueError:
                    raise InputError(f"not a number: {text!r}", kind=n["tag"], element=n["id"], field=attr,
                                     source=src) from None
        del n["elem"]
    return out


def _add_arcs(net: Network, section: Element | None, node_ids: set[str], src: str, meta: dict[str, Any],
              compressors: str, control_valves: str, valves: str) -> None:
    tag_src = os.path.basename(src)
    for e in section if section is not None else ():
        tag = local(e.tag)
        if not tag:
            continue
        if tag not in ARC_KINDS:
            raise InputError(f"unknown GasLib arc type <{tag}>; known: {', '.join(ARC_KINDS)}", kind=tag,
                             element=e.get("id"), source=src)
        aid = e.get("id")
        if not aid:
            raise InputError("has no id attribute", kind=tag, source=src)
        ends = []
        for attr in ("from", "to"):
            ref = e.get(attr)
            if ref is None:
                raise InputError(f"has no {attr!r} attribute", kind=tag, element=aid, field=attr, source=src)
            if ref not in node_ids:
                raise InputError(f"references unknown node {ref!r}", kind=tag, element=aid, field=attr, source=src)
            ends.append(ref)
        ch = Children(e, kind=tag, elem_id=aid, source=src)
        si = _record(e, tag, aid, ch, src, meta)
        row = _arc_row(tag, aid, si, ch, net.gas, src, compressors, control_valves, valves)
        row.update(name=e.get("alias") or None, source=tag_src)
        net.add(ARC_KINDS[tag], aid, from_node=ends[0], to_node=ends[1], **row)


def _arc_row(tag: str, aid: str, si: dict[str, float], ch: Children, gas: Gas, src: str, compressors: str,
             control_valves: str, valves: str) -> dict[str, Any]:
    """Schema columns (in the schema's units) of one GasLib arc."""
    def need(key: str) -> float:
        if key not in si:
            raise InputError("is missing", kind=tag, element=aid, field=key, source=src)
        return si[key]

    rho_n = gas.reference_density()  # kg/Nm^3: GasLib flows are at 0 °C, 1.01325 bar
    flow_max = si.get("flowMax", math.nan) * rho_n
    if tag == "pipe":
        return {"length_km": need("length") / 1e3, "diameter_mm": need("diameter") * 1e3,
                "roughness_mm": need("roughness") * 1e3,
                "heat_transfer_W_m2K": si.get("heatTransferCoefficient", math.nan),
                "p_max_bar": si.get("pressureMax", math.inf) / 1e5}
    if tag == "shortPipe":
        return {}
    if tag == "valve":
        return {"open": valves == "open"}
    if tag == "controlValve":
        return {"mode": control_valves, "p_in_min_bar": si.get("pressureInMin", math.nan) / 1e5,
                "flow_max_kg_s": flow_max}
    if tag == "compressorStation":
        return {"mode": compressors, "p_suction_min_bar": si.get("pressureInMin", math.nan) / 1e5,
                "p_discharge_max_bar": si.get("pressureOutMax", math.nan) / 1e5, "flow_max_kg_s": flow_max}
    # resistor
    if "pressureLoss" in si:
        return {"pressure_drop_bar": si["pressureLoss"] / 1e5}
    return {"drag_factor": need("dragFactor"), "diameter_mm": need("diameter") * 1e3}


def _gas(nodes: list[dict[str, Any]], scenario: ScenarioData | None) -> tuple[Gas, float, dict[str, Any]]:
    """The network gas and temperature [K] from the sources (see the module docstring for the rule)."""
    keys = ("normDensity", "molarMass", "pseudocriticalPressure", "pseudocriticalTemperature", "calorificValue",
            "gasTemperature", "coefficient-A-heatCapacity", "coefficient-B-heatCapacity", "coefficient-C-heatCapacity")
    sources = {n["id"]: {k: n["si"][k] for k in keys if k in n["si"]} for n in nodes if n["tag"] == "source"}
    info: dict[str, Any] = {"sources_SI": sources, "calorific_value": "gross (superior), per Nm^3 (assumed)"}
    if not sources:
        info.update(rule="no sources: gasgrid default gas", temperature_rule="gasgrid default 288.15 K")
        return Gas(), 288.15, info
    first = next(iter(sources))
    weights = {first: 1.0}
    rule = f"first source {first!r}"
    differ = any(p != sources[first] for p in sources.values())
    if differ and scenario is not None:
        inflow = {n.id: n.flow for n in scenario.nodes if n.type == "entry" and n.id in sources and n.flow > 0}
        total = math.fsum(inflow.values())
        if total > 0:
            weights = {k: v / total for k, v in inflow.items()}
            rule = f"weighted by nominated normal-volume inflow of scenario {scenario.id!r}"
    info["rule"] = rule if differ else f"all sources equal; {rule}"
    info["weights"] = weights

    def mix(key: str) -> float | None:
        vals = [(w, sources[s].get(key)) for s, w in weights.items()]
        if any(v is None for _, v in vals):
            return None
        return math.fsum(w * float(v) for w, v in vals if v is not None)

    rho, molar, pc, Tc, hv, T = (mix(k) for k in keys[:6])
    if rho is None and molar is None:
        raise InputError("sources give neither normDensity nor molarMass", kind="source", element=first,
                         field="normDensity")
    hhv = hv / rho if hv is not None and rho is not None else math.nan
    gas = Gas.from_properties(molar_mass=molar, normal_density=rho, pc=pc, Tc=Tc, hhv_mass=hhv,
                              name="GasLib source gas")
    info["temperature_rule"] = "gasTemperature (same weights)" if T is not None else "not given: 288.15 K"
    return gas, (T if T is not None else 288.15), info


def _stations(net: Network, cs_path: PathLike) -> dict[str, CompressorStationData]:
    data = read_gaslib_cs(cs_path)
    known = set(net.table("compressor").index)
    for sid in data:
        if sid not in known:
            raise InputError("compressor station of the .cs file is not in the network", kind="compressorStation",
                             element=sid, source=source_name(cs_path))
    return data


__all__ = ["SlackRule", "apply_scenario", "read_gaslib", "read_gaslib_cdf", "read_gaslib_cs", "read_gaslib_scn"]

