"""GeoJSON export (RFC 7946) of nodes as Points and arcs as LineStrings, for QGIS and web maps.

Contract: one ``FeatureCollection``; every feature has ``id`` = element id and ``properties`` holding its
kind (``"kind"``), every column of its table (NaN and infinities become ``null``) and, optionally, the columns
of a results table joined by id (node pressures, arc flows...). Coordinates are the nodes' ``x``/``y``:
RFC 7946 requires WGS84 longitude/latitude, so a network whose ``crs`` is not EPSG:4326 is refused unless
``allow_projected=True`` (the file is then GeoJSON-shaped but not RFC 7946 conformant). Nodes without
coordinates get ``"geometry": null`` (allowed by RFC 7946 §3.2), as do arcs with an end without coordinates.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gasgrid.components import ARC_KINDS
from gasgrid.errors import InputError
from gasgrid.io.atomic import atomic_write_text
from gasgrid.model.network import Network

__all__ = ["WGS84_NAMES", "to_geojson", "write_geojson"]

WGS84_NAMES = frozenset({"EPSG:4326", "OGC:CRS84", "WGS84", "CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84"})


def to_geojson(
    net: Network,
    *,
    results: Any = None,
    node_results: pd.DataFrame | None = None,
    arc_results: pd.DataFrame | None = None,
    allow_projected: bool = False,
) -> dict[str, Any]:
    """The network as a GeoJSON ``FeatureCollection`` (a plain dict, ready for :func:`json.dumps`).

    Args:
        net: the network; node ``x``/``y`` are longitude/latitude in degrees when ``net.crs`` is EPSG:4326.
        results: a solver result with ``nodes`` and ``arcs`` tables indexed by id (e.g.
            :class:`gasgrid.steady.SteadyResult`: ``p_bar``, ``q_kg_s``, ...); shorthand for the next two.
        node_results: optional table indexed by node id (e.g. ``p_bar``); its columns are added to the node
            properties. Columns that clash with attribute names are prefixed ``result_``.
        arc_results: the same for arcs (e.g. ``flow_kg_s``), indexed by arc id.
        allow_projected: write planar coordinates of a non-WGS84 network anyway (not RFC 7946).
    """
    if results is not None:
        node_results = results.nodes if node_results is None else node_results
        arc_results = results.arcs if arc_results is None else arc_results
    crs = (net.crs or "").strip().upper()
    if crs not in WGS84_NAMES and not allow_projected:
        raise InputError(
            f"GeoJSON (RFC 7946) needs WGS84 longitude/latitude, but the network's crs is {net.crs!r}; "
            "set net.crs = 'EPSG:4326' if x/y are lon/lat, or pass allow_projected=True", kind="network",
            field="crs",
        )
    nodes = net.table("node")
    x = nodes["x"].to_numpy(float)
    y = nodes["y"].to_numpy(float)
    if crs in WGS84_NAMES:
        bad = np.isfinite(x) & np.isfinite(y) & ((np.abs(x) > 180.0) | (np.abs(y) > 90.0))
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"not a longitude/latitude: ({x[i]!r}, {y[i]!r}) with crs {net.crs!r}", kind="node",
                             element=nodes.index[i], field="x")
    coords = {n: ([float(a), float(b)] if math.isfinite(a) and math.isfinite(b) else None)
              for n, a, b in zip(nodes.index, x, y, strict=True)}
    features: list[dict[str, Any]] = []
    node_extra = _results_by_id(node_results, set(nodes.columns), "node_results")
    for i, node in enumerate(nodes.index):
        c = coords[node]
        props = _properties("node", node, nodes.iloc[i], node_extra)
        features.append(_feature(node, None if c is None else {"type": "Point", "coordinates": c}, props))
    arc_columns = set().union(*(net.table(k).columns for k in ARC_KINDS))
    arc_extra = _results_by_id(arc_results, arc_columns, "arc_results")
    for kind in ARC_KINDS:
        table = net.table(kind)
        for i, arc in enumerate(table.index):
            row = table.iloc[i]
            a, b = coords.get(row["from_node"]), coords.get(row["to_node"])
            geom = None if a is None or b is None else {"type": "LineString", "coordinates": [a, b]}
            features.append(_feature(arc, geom, _properties(kind, arc, row, arc_extra)))
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    finite = [c for c in coords.values() if c is not None]
    if finite:
        xs, ys = [c[0] for c in finite], [c[1] for c in finite]
        out["bbox"] = [min(xs), min(ys), max(xs), max(ys)]
    out["name"] = net.name  # foreign member (RFC 7946 §6.1), read by QGIS as the layer name
    return out


def write_geojson(
    net: Network,
    path: str | Path,
    *,
    results: Any = None,
    node_results: pd.DataFrame | None = None,
    arc_results: pd.DataFrame | None = None,
    allow_projected: bool = False,
) -> Path:
    """Write :func:`to_geojson` to ``path`` (atomically, UTF-8). Returns the path."""
    doc = to_geojson(net, results=results, node_results=node_results, arc_results=arc_results,
                     allow_projected=allow_projected)
    try:
        atomic_write_text(path, json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=1) + "\n")
    except OSError as exc:
        raise InputError(f"cannot write: {exc}", source=str(path)) from exc
    return Path(path)


def _feature(id: str, geometry: dict[str, Any] | None, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": str(id), "geometry": geometry, "properties": properties}


def _results_by_id(results: pd.DataFrame | None, attributes: set[str], arg: str) -> dict[str, dict[str, Any]]:
    if results is None:
        return {}
    if not isinstance(results, pd.DataFrame):
        raise InputError(f"{arg} must be a pandas DataFrame indexed by element id, got {type(results).__name__}")
    if results.index.has_duplicates:
        raise InputError(f"{arg} has duplicate ids", element=str(results.index[results.index.duplicated()][0]))
    names = {c: (f"result_{c}" if c in attributes or c in ("id", "kind") else str(c)) for c in results.columns}
    return {str(i): {names[c]: _json_value(v) for c, v in row.items()} for i, row in results.iterrows()}


def _properties(kind: str, id: str, row: pd.Series, extra: dict[str, dict[str, Any]]) -> dict[str, Any]:
    props: dict[str, Any] = {"id": str(id), "kind": kind}
    props.update({str(k): _json_value(v) for k, v in row.items()})
    props.update(extra.get(str(id), {}))
    return props


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if v is pd.NA or v is pd.NaT:
        return None
    return str(v)
