"""Plotly figures of a steady result: route map, pressure profile, station power and fuel, deliveries.

Contract: every function takes the steady result (the ``SteadyResult`` contract: ``nodes``, ``arcs``,
``demands``, ``compressors`` tables, pressures absolute in bar) and the :class:`~gasgrid.model.network.Network`
it was solved on, and returns a ``plotly.graph_objects.Figure`` or ``None`` when there is nothing to draw.
No figure fetches anything at view time: the map is a plain lon/lat scatter (plotly's ``scattergeo`` would
download its topojson from a CDN), with the x axis scaled by cos(mean latitude) so that shapes are true.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from gasgrid.model.network import Network
from gasgrid.report.tables import (
    delivered_by_group,
    is_plant_group,
    station_table,
    volume_reference,
)

PRESSURE_SCALE = "Turbo"
FONT = dict(family="Inter, 'Segoe UI', Helvetica, Arial, sans-serif", size=12, color="#1f2933")
BLUE, GREY, RED, AMBER, GREEN = "#1f5fa8", "#8a96a3", "#c0392b", "#d68910", "#1e8449"
N_COLOUR_BINS = 12


def _layout(fig: go.Figure, *, height: int, **kw: Any) -> go.Figure:
    fig.update_layout(template="none", height=height, font=FONT, paper_bgcolor="white", plot_bgcolor="white",
                      margin=dict(l=60, r=30, t=40, b=50), hoverlabel=dict(font_size=12), **kw)
    return fig


# --- map ---------------------------------------------------------------------------------------------------
def map_figure(result: Any, network: Network) -> go.Figure | None:
    """Route map in lon/lat: arcs coloured by mean pressure (bar abs), stations, offtakes, supplies, labels."""
    nodes = network.nodes
    if nodes[["x", "y"]].isna().all().all():
        return None
    p = result.nodes["p_bar"].reindex(nodes.index)
    arcs = result.arcs
    p_lo, p_hi = _range(p)
    fig = go.Figure()
    # arcs in pressure bins: one trace per bin (a plotly line has one colour)
    frm, to = arcs["from_node"].astype(str), arcs["to_node"].astype(str)
    mean_p = (p.reindex(frm).to_numpy() + p.reindex(to).to_numpy()) / 2.0
    bins = np.clip(((mean_p - p_lo) / max(p_hi - p_lo, 1e-9) * N_COLOUR_BINS).astype(float), 0, N_COLOUR_BINS - 1)
    for b in range(N_COLOUR_BINS):
        sel = np.flatnonzero(np.floor(np.nan_to_num(bins, nan=-1)) == b)
        if not len(sel):
            continue
        xs, ys = _segments(nodes, frm.iloc[sel], to.iloc[sel])
        colour = _sample_scale((b + 0.5) / N_COLOUR_BINS)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=4), hoverinfo="skip",
                                 showlegend=False))
    dead = np.flatnonzero(np.isnan(mean_p))
    if len(dead):
        xs, ys = _segments(nodes, frm.iloc[dead], to.iloc[dead])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=GREY, width=2, dash="dot"),
                                 name="no pressure (collapsed or isolated)", hoverinfo="skip"))
    lost = nodes.index[p.isna().to_numpy()]
    if len(lost):
        fig.add_trace(go.Scatter(x=nodes.loc[lost, "x"], y=nodes.loc[lost, "y"], mode="markers",
                                 name="pressure collapse", hovertext=[f"<b>{_esc(n)}</b>: no pressure" for n in lost],
                                 hoverinfo="text", marker=dict(symbol="x", size=12, color=RED)))
    # nodes with pressure colour bar
    hover = [f"<b>{_esc(n)}</b><br>{_esc(nm)}<br>p = {pv:.1f} bar abs ({pv - 1.01325:.1f} bar g)"
             f"<br>margin to MAOP {mx - pv:.1f} bar, to minimum {pv - mn:.1f} bar"
             for n, nm, pv, mx, mn in zip(nodes.index, nodes["name"].fillna(""), p, nodes["p_max_bar"],
                                          nodes["p_min_bar"], strict=True)]
    fig.add_trace(go.Scatter(
        x=nodes["x"], y=nodes["y"], mode="markers", name="nodes", hovertext=hover, hoverinfo="text",
        marker=dict(size=5, color=p, colorscale=PRESSURE_SCALE, cmin=p_lo, cmax=p_hi, line=dict(width=0),
                    colorbar=dict(title=dict(text="p, bar abs"), thickness=14, len=0.75)),
        showlegend=False))
    _map_markers(fig, result, network)
    _province_labels(fig, nodes)
    lat0 = float(np.nanmean(nodes["y"]))
    _layout(fig, height=760, legend=dict(orientation="h", y=-0.06, x=0.0))
    fig.update_xaxes(title_text="longitude, °E", showgrid=True, gridcolor="#eef1f4", zeroline=False,
                     constrain="domain")
    fig.update_yaxes(title_text="latitude, °N", showgrid=True, gridcolor="#eef1f4", zeroline=False,
                     scaleanchor="x", scaleratio=1.0 / math.cos(math.radians(lat0)), constrain="domain")
    return fig


def _map_markers(fig: go.Figure, result: Any, network: Network) -> None:
    nodes = network.nodes
    cs = network.compressors
    if len(cs):
        table = station_table(result, network)
        xy = nodes.reindex(cs["from_node"])
        txt = [f"<b>{_esc(nm)}</b><br>{_station_hover(table, cid)}" for cid, nm in zip(cs.index, cs["name"],
                                                                                       strict=True)]
        bypass = cs["mode"].isin(["bypass", "off"]) | ~cs["in_service"]
        fig.add_trace(go.Scatter(x=xy["x"], y=xy["y"], mode="markers", name="compressor station",
                                 hovertext=txt, hoverinfo="text",
                                 marker=dict(symbol="triangle-up", size=13, color=np.where(bypass, GREY, "#111"),
                                             line=dict(color="white", width=1))))
    dem = network.demands
    if len(dem):
        xy = nodes.reindex(dem["node"])
        q = dem["flow_kg_s"].abs()
        size = 6 + 14 * np.sqrt(q / max(float(q.max()), 1e-9))
        txt = [f"<b>{_esc(nm or d)}</b><br>{_esc(g or '')}<br>{f:.1f} kg/s nominated"
               for d, nm, g, f in zip(dem.index, dem["name"], dem["group"], dem["flow_kg_s"], strict=True)]
        fig.add_trace(go.Scatter(x=xy["x"], y=xy["y"], mode="markers", name="offtake", hovertext=txt,
                                 hoverinfo="text", marker=dict(symbol="circle", size=size, color="rgba(0,0,0,0)",
                                                              line=dict(color="#7b2d8b", width=2))))
    sup = network.supplies
    if len(sup):
        xy = nodes.reindex(sup["node"])
        txt = [f"<b>{_esc(nm or s)}</b><br>{'in service' if on else 'out of service (optional)'}"
               for s, nm, on in zip(sup.index, sup["name"], sup["in_service"], strict=True)]
        fig.add_trace(go.Scatter(x=xy["x"], y=xy["y"], mode="markers", name="supply", hovertext=txt,
                                 hoverinfo="text",
                                 marker=dict(symbol="star", size=15, color=np.where(sup["in_service"], GREEN, GREY),
                                             line=dict(color="white", width=1))))


def _province_labels(fig: go.Figure, nodes: pd.DataFrame) -> None:
    groups = nodes.dropna(subset=["group"]).groupby("group")[["x", "y"]].mean()
    if groups.empty or len(groups) > 40:
        return
    fig.add_trace(go.Scatter(x=groups["x"] + 0.6, y=groups["y"], mode="text", text=list(groups.index),
                             textposition="middle right", textfont=dict(size=11, color="#52606d"),
                             hoverinfo="skip", showlegend=False))


def _segments(nodes: pd.DataFrame, frm: pd.Series, to: pd.Series) -> tuple[list[float | None], ...]:
    a, b = nodes.reindex(frm.to_numpy()), nodes.reindex(to.to_numpy())
    xs: list[float | None] = []
    ys: list[float | None] = []
    for x0, y0, x1, y1 in zip(a["x"], a["y"], b["x"], b["y"], strict=True):
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    return xs, ys


def _sample_scale(t: float) -> str:
    from plotly.colors import sample_colorscale

    return str(sample_colorscale(PRESSURE_SCALE, [min(max(t, 0.0), 1.0)])[0])


def _range(p: pd.Series) -> tuple[float, float]:
    finite = p[np.isfinite(p)]
    if finite.empty:
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


# --- profile -----------------------------------------------------------------------------------------------
def main_paths(network: Network, *, min_km: float = 50.0) -> list[pd.DataFrame]:
    """The longest supply -> offtake path of each connected part of the network (in service arcs).

    Returns one DataFrame per path, longest first, indexed by node id in path order with column ``km``
    (chainage from the path's start, km; zero-length arcs such as compressors add no chainage).
    """
    nodes = network.nodes
    idx = {n: i for i, n in enumerate(nodes.index)}
    rows, cols, w = [], [], []
    for kind, table in network.tables.items():
        if kind not in ("pipe", "short_pipe", "valve", "resistor", "control_valve", "compressor") or table.empty:
            continue
        on = table[table["in_service"]]
        if kind == "valve":
            on = on[on["open"]]
        if kind == "compressor":
            on = on[on["mode"] != "off"]
        length = on["length_km"].to_numpy(float) if kind == "pipe" else np.full(len(on), 1e-6)
        rows += [idx[n] for n in on["from_node"]]
        cols += [idx[n] for n in on["to_node"]]
        w += list(length)
    n = len(nodes)
    if not rows:
        return []
    shortest: dict[tuple[int, int], float] = {}
    for i, j, length in zip(rows, cols, w, strict=True):  # parallel strings count once (coo would sum them)
        key = (min(i, j), max(i, j))
        shortest[key] = min(shortest.get(key, math.inf), float(length))
    ij = np.array(list(shortest), dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((list(shortest.values()), (ij[:, 0], ij[:, 1])), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    sup_nodes = [idx[s] for s in network.supplies.loc[network.supplies["in_service"], "node"]]
    dem_nodes = sorted({idx[d] for d in network.demands["node"]})
    out = []
    for comp in np.unique(labels):
        starts = [s for s in sup_nodes if labels[s] == comp]
        ends = [d for d in dem_nodes if labels[d] == comp]
        if not starts or not ends:
            continue
        dist, pred = dijkstra(graph, directed=False, indices=starts, return_predecessors=True)
        sub = dist[:, ends]
        if not np.isfinite(sub).any():
            continue
        i, j = np.unravel_index(np.argmax(np.where(np.isfinite(sub), sub, -1.0)), sub.shape)
        if sub[i, j] < min_km:
            continue
        path = [ends[j]]
        while path[-1] != starts[i]:
            path.append(int(pred[i, path[-1]]))
        path.reverse()
        km = dist[i, path]
        out.append(pd.DataFrame({"km": np.round(km, 3)}, index=pd.Index(nodes.index[path], name="id")))
    out.sort(key=lambda f: -float(f["km"].iloc[-1]))
    return out


def profile_figure(result: Any, network: Network) -> go.Figure | None:
    """Pressure along the chainage of each main path, with MAOP and minimum-pressure lines and stations."""
    paths = main_paths(network)
    if not paths:
        return None
    nodes = network.nodes
    names = nodes["name"].fillna(pd.Series(nodes.index, index=nodes.index))
    p = result.nodes["p_bar"]
    fig = go.Figure()
    palette = [BLUE, "#0e7c7b", "#6c3483"]
    cs = network.compressors
    suction = dict(zip(cs["from_node"], cs.index, strict=True)) if len(cs) else {}
    for k, path in enumerate(paths):
        ids = path.index
        first, last = names[ids[0]], names[ids[-1]]
        label = f"{first} → {last}"
        colour = palette[k % len(palette)]
        hover = [f"<b>{_esc(names[n])}</b><br>km {c:,.1f}<br>p = {pv:.1f} bar abs" for n, c, pv in
                 zip(ids, path["km"], p.reindex(ids), strict=True)]
        fig.add_trace(go.Scatter(x=path["km"], y=p.reindex(ids), mode="lines", name=f"pressure: {label}",
                                 line=dict(color=colour, width=3), hovertext=hover, hoverinfo="text"))
        dash = "solid" if k == 0 else "dot"
        fig.add_trace(go.Scatter(x=path["km"], y=nodes.loc[ids, "p_max_bar"], mode="lines", line_shape="hv",
                                 name="MAOP" if k == 0 else f"MAOP ({first})",
                                 line=dict(color=RED, width=1.6, dash=dash), hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=path["km"], y=nodes.loc[ids, "p_min_bar"], mode="lines", line_shape="hv",
                                 name="minimum pressure" if k == 0 else f"minimum ({first})",
                                 line=dict(color=AMBER, width=1.6, dash=dash), hoverinfo="skip"))
        on_path = [n for n in ids if n in suction]
        if on_path:
            st = [suction[n] for n in on_path]
            pos = path.loc[on_path, "km"]
            txt = [_esc(str(cs.loc[s, "name"]).split(" (")[0]) for s in st]
            dis = p.reindex(cs.loc[st, "to_node"]).to_numpy()
            for x_km, t in zip(pos, txt, strict=True):  # names along the top edge, guides down to the axis
                fig.add_shape(type="line", x0=x_km, x1=x_km, y0=0, y1=1, yref="paper",
                              line=dict(color="#d5dbe1", width=1, dash="dot"), layer="below")
                fig.add_annotation(x=x_km, y=1.0, yref="paper", text=_short(t), showarrow=False, textangle=-60,
                                   xanchor="left", yanchor="bottom", font=dict(size=9, color="#52606d"))
            fig.add_trace(go.Scatter(x=pos, y=dis, mode="markers",
                                     name="compressor station" if k == 0 else f"stations ({first})",
                                     hovertext=[f"<b>{t}</b><br>km {c:,.1f}<br>discharge {d:.1f} bar abs"
                                                for t, c, d in zip(txt, pos, dis, strict=True)],
                                     hoverinfo="text",
                                     marker=dict(symbol="triangle-up", size=10, color="#111")))
    _layout(fig, height=580, legend=dict(orientation="h", y=-0.16, x=0.0))
    fig.update_layout(margin=dict(t=110))
    fig.update_xaxes(title_text="chainage, km", gridcolor="#eef1f4", zeroline=False)
    fig.update_yaxes(title_text="pressure, bar (absolute)", gridcolor="#eef1f4", zeroline=False)
    return fig


# --- stations and deliveries -------------------------------------------------------------------------------
def station_figure(result: Any, network: Network) -> go.Figure | None:
    """Shaft power against the in-service limit, and fuel gas, per compressor station."""
    table = station_table(result, network)
    if table.empty:
        return None
    from plotly.subplots import make_subplots

    ref_name = volume_reference(network)[0].value.name
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.62, 0.38])
    x = table["station"]
    hover = [f"<b>{_esc(s)}</b><br>suction {ps:.1f} → discharge {pd_:.1f} bar abs (ratio {r:.3f})"
             f"<br>shaft {pw:.1f} MW of {pm:.0f} MW<br>limit: {_esc(b)}"
             for s, ps, pd_, r, pw, pm, b in zip(x, table["p_suction_bar"], table["p_discharge_bar"],
                                                 table["ratio"], table["power_shaft_MW"], table["power_max_MW"],
                                                 table["binding_limit"], strict=True)]
    over = table["power_shaft_MW"] > table["power_max_MW"] * (1 + 1e-9)
    fig.add_trace(go.Bar(x=x, y=table["power_shaft_MW"], name="shaft power, MW", hovertext=hover,
                         hoverinfo="text", marker_color=np.where(over, RED, BLUE)), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=table["power_max_MW"], mode="markers", name="in-service limit, MW",
                             marker=dict(symbol="line-ew-open", size=22, color=RED, line=dict(width=3, color=RED))),
                  row=1, col=1)
    fig.add_trace(go.Bar(x=x, y=table["fuel_mcm_d"], name=f"fuel gas, mcm/d ({ref_name})",
                         marker_color=AMBER), row=2, col=1)
    _layout(fig, height=600, barmode="overlay", legend=dict(orientation="h", y=1.08, x=0.0))
    fig.update_layout(margin=dict(b=150))
    fig.update_yaxes(title_text="MW", row=1, col=1, gridcolor="#eef1f4")
    fig.update_yaxes(title_text="mcm/d", row=2, col=1, gridcolor="#eef1f4")
    fig.update_xaxes(tickangle=-40, automargin=True, row=2, col=1)
    return fig


def deliveries_figure(result: Any, network: Network) -> go.Figure | None:
    """Nominated against delivered volume per group (province), in bcm/yr at the case's reference."""
    table = delivered_by_group(result, network)
    table = table[~table.index.map(is_plant_group).astype(bool)] if len(table) else table
    if table.empty:
        return None
    ref_name = volume_reference(network)[0].value.name
    fig = go.Figure()
    fig.add_trace(go.Bar(x=table.index, y=table["nominated_bcm_per_year"], name="nominated", marker_color="#c5d3e3"))
    short = table["delivered_bcm_per_year"] < table["nominated_bcm_per_year"] * (1 - 1e-6)
    fig.add_trace(go.Bar(x=table.index, y=table["delivered_bcm_per_year"], name="delivered",
                         marker_color=np.where(short, RED, BLUE),
                         text=[f"{v:.2f}" for v in table["delivered_bcm_per_year"]], textposition="outside"))
    _layout(fig, height=420, barmode="group", legend=dict(orientation="h", y=1.1, x=0.0))
    fig.update_yaxes(title_text=f"bcm/yr ({ref_name})", gridcolor="#eef1f4")
    fig.update_xaxes(tickangle=-30, automargin=True)
    return fig


def _short(station_name: str) -> str:
    """'Chayanda field / Chayandinskaya CS' -> 'Chayandinskaya'."""
    return station_name.split(" / ")[-1].removesuffix(" CS").replace(" CS ", " ")


def _station_hover(table: pd.DataFrame, cid: str) -> str:
    if cid not in table.index:
        return ""
    r = table.loc[cid]
    return (f"{r['p_suction_bar']:.1f} → {r['p_discharge_bar']:.1f} bar abs, ratio {r['ratio']:.3f}"
            f"<br>{r['power_shaft_MW']:.1f} of {r['power_max_MW']:.0f} MW; fuel {r['fuel_mcm_d']:.2f} mcm/d")


def _esc(text: object) -> str:
    import html

    return html.escape(str(text), quote=False)


__all__ = ["deliveries_figure", "main_paths", "map_figure", "profile_figure", "station_figure"]
