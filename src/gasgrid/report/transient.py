"""Offline HTML report of a transient run: pressures at key delivery points and line pack against time,
survival times. One self-contained file (plotly.js inline), written atomically."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from gasgrid.io.atomic import atomic_write_text
from gasgrid.report.style import CSS


def build_transient_report(
    result: Any, network: Any, path: str | Path, *, key_nodes: dict[str, tuple[str, ...]] | None = None,
    title: str = "gasgrid transient",
) -> Path:
    """Write ``report.html`` for a :class:`gasgrid.transient.TransientResult` (pressures in bar absolute)."""
    ds = result.dataset
    hours = ds["time"].to_numpy() / 3600.0
    nodes = list(map(str, ds["node"].to_numpy()))
    surv = result.survival_time()
    groups = {k: v for k, v in (key_nodes or {}).items() if any(n in nodes for n in v)}
    if not groups:  # the eight nodes that drop first
        groups = {n: (n,) for n in surv.sort_values().head(8).index.astype(str)}
    fig_p = go.Figure()
    for label, members in groups.items():
        for n in members:
            if n in nodes:
                p = ds["p_Pa"].sel(node=n).to_numpy() / 1e5
                fig_p.add_trace(go.Scatter(x=hours, y=p, mode="lines", name=f"{label}: {n}"))
    pmin = ds["p_min_Pa"].to_numpy() / 1e5 if "p_min_Pa" in ds else np.array([])
    if pmin.size:
        fig_p.add_hline(y=float(np.nanmax([pmin[nodes.index(n)] for m in groups.values() for n in m if n in nodes])),
                        line_dash="dash", line_color="#b03a2e", annotation_text="minimum delivery pressure")
    fig_p.update_layout(xaxis_title="time, h", yaxis_title="pressure, bar (absolute)", height=440,
                        margin={"l": 60, "r": 20, "t": 20, "b": 50}, template="plotly_white")
    fig_l = go.Figure(go.Scatter(x=hours, y=ds["linepack_kg"].to_numpy() / 1e6, mode="lines", name="line pack",
                                 line={"color": "#1f5fa8"}))
    fig_l.update_layout(xaxis_title="time, h", yaxis_title="line pack, kt", height=320,
                        margin={"l": 60, "r": 20, "t": 20, "b": 50}, template="plotly_white")
    rows = []
    for label, members in groups.items():
        sec = min(float(surv.get(n, math.inf)) for n in members if n in nodes)
        rows.append(f"<tr><td>{html.escape(label)}</td><td>{'whole run' if not math.isfinite(sec) else f'{sec / 3600:.1f} h'}"
                    "</td></tr>")
    status = getattr(result.status, "value", str(result.status))
    div_p = fig_p.to_html(full_html=False, include_plotlyjs=True, div_id="pressures")
    div_l = fig_l.to_html(full_html=False, include_plotlyjs=False, div_id="linepack")
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{CSS}</style></head><body><main>
<header><h1>{html.escape(title)}</h1><p class="subtitle">{html.escape(str(network.name))}: {hours[-1]:g} h simulated;
status {html.escape(status)} — {html.escape(result.message)}</p></header>
<section><h2>Pressure at key delivery points</h2>{div_p}</section>
<section><h2>Line pack</h2>{div_l}</section>
<section><h2>Survival time</h2><p class="caption">Time until the delivery point first falls below its minimum
pressure.</p><table class="data"><tr><th>delivery point</th><th>survival</th></tr>{''.join(rows)}</table></section>
</main></body></html>"""
    atomic_write_text(path, body)
    return Path(path)
