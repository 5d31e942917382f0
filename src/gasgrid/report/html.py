"""The self-contained HTML engineering report of a steady result.

Contract: :func:`build_report` writes ONE HTML file that works offline: plotly.js is embedded inline once in
``<head>``, figures are plain SVG plots (no map tiles, no topojson, no web fonts, no CDN), and the file is
written atomically (temporary sibling + :func:`os.replace`). Pressures are shown absolute in bar; volumes at
the network's reference condition (``network.meta["volume_reference"]``), stated on the page.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gasgrid.errors import InputError, MissingExtraError
from gasgrid.io.atomic import atomic_write_text
from gasgrid.model.network import Network
from gasgrid.report.style import CSS

FIGURE_IDS = ("fig-map", "fig-profile", "fig-stations", "fig-deliveries")
_PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def build_report(
    result: Any,
    network: Network,
    path: str | os.PathLike[str],
    *,
    title: str,
    assumptions_df: pd.DataFrame | None = None,
    extra_sections: Iterable[tuple[str, str | pd.DataFrame]] = (),
) -> Path:
    """Write the HTML report of a steady ``result`` on ``network`` to ``path``; return the path.

    Args:
        result: a steady result (``status``, ``message``, ``nodes``, ``arcs``, ``demands``, ``compressors``,
            ``violations``, ``linepack_kg``, ``mass_balance_error``, ``iterations``).
        network: the network that was solved (coordinates, names, groups, limits, source tags).
        path: output file (``.html``); parent folders are created.
        title: page title.
        assumptions_df: table with columns topic, assumption, source; defaults to
            ``network.meta["assumptions"]`` when present.
        extra_sections: ``(heading, content)`` pairs appended at the end; content is an HTML fragment
            (trusted) or a DataFrame.

    Raises:
        MissingExtraError: plotly is not installed (``pip install 'gasgrid[report]'``).
        InputError: the result has no ``nodes`` table.
    """
    try:
        import plotly  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingExtraError("plotly", "report", "the HTML report") from exc
    from plotly.offline import get_plotlyjs

    from gasgrid.report import figures
    from gasgrid.report.tables import delivered_by_group, headline, provenance, station_table, volume_reference

    if not isinstance(getattr(result, "nodes", None), pd.DataFrame):
        raise InputError("result has no 'nodes' table; pass a steady result", kind="report")
    if assumptions_df is None:
        assumptions_df = network.meta.get("assumptions")
    head = headline(result, network)
    ref, _ = volume_reference(network)

    # an infeasible result still carries the partial state that shows where the pressure collapses
    status = str(getattr(result.status, "value", result.status))
    has_state = status != "not_converged" and bool(result.nodes.get("p_bar", pd.Series(dtype=float)).notna().any())
    blocks = [_header(title, network, head)]
    figs = [
        ("fig-map", "Route map", "Pipes coloured by mean pressure (bar abs); ▲ compressor stations, ○ offtakes "
         "(size ∝ nomination), ★ supplies (grey: optional, out of service). Plain lon/lat projection, no map "
         "tiles.", figures.map_figure),
        ("fig-profile", "Pressure profile", "Pressure along the chainage of the longest supply-to-offtake path "
         "of each part of the network, with the MAOP (red) and the minimum pressure (amber) of each node.",
         figures.profile_figure),
        ("fig-stations", "Compressor stations", "Shaft power against the in-service power limit (red mark) and "
         f"fuel gas per station; volumes at {ref.value}.", figures.station_figure),
        ("fig-deliveries", "Deliveries by province", f"Nominated against delivered, bcm/yr at {ref.value}.",
         figures.deliveries_figure),
    ]
    for div_id, heading, caption, make in figs:
        fig = make(result, network) if has_state else None
        if fig is None:
            body = '<p class="muted">No solved state to draw.</p>'
        else:
            body = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_PLOT_CONFIG)
        extra = ""
        if div_id == "fig-stations" and has_state:
            extra = _table(_station_display(station_table(result, network)), "stations")
        if div_id == "fig-deliveries" and has_state:
            extra = _deliveries_html(delivered_by_group(result, network))
        blocks.append(_section(heading, f'<p class="caption">{html.escape(caption)}</p>{body}{extra}'))
    blocks.append(_section("Limit violations", _violations_html(result)))
    blocks.append(_section("Assumptions and sources", _assumptions_html(assumptions_df, provenance(network))))
    for heading, content in extra_sections:
        inner = _table(content, "extra") if isinstance(content, pd.DataFrame) else str(content)
        blocks.append(_section(str(heading), inner))
    blocks.append(_footer(network, ref))

    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n</head>\n<body>\n<main>\n"
        + "\n".join(blocks)
        + "\n</main>\n</body>\n</html>\n"
    )
    atomic_write_text(path, page)  # a failed write never clobbers the previous report
    return Path(path)


# --- blocks ------------------------------------------------------------------------------------------------
def _header(title: str, network: Network, h: Any) -> str:
    meta = network.meta
    sub = [html.escape(str(meta.get("description") or network.name))]
    if "throughput_bcm" in meta:
        sub.append(f"case <b>{html.escape(str(meta.get('case', network.name)))}</b>, throughput "
                   f"{meta['throughput_bcm']:.1f} bcm/yr × demand scale {meta.get('demand_scale', 1.0):g}")
    kpis = [
        ("Delivered / nominated", f"{_num(h.delivered_bcm, '{:.2f}')} / {h.nominated_bcm:.2f}", "bcm/yr"),
        ("Lowest pressure margin", _num(h.lowest_margin_bar, "{:+.1f}"), f"bar at {h.lowest_margin_node}"),
        ("Smallest MAOP headroom", _num(h.maop_margin_bar, "{:+.1f}"), f"bar at {h.maop_margin_node}"),
        ("Compression", f"{h.power_MW:,.0f}", f"MW shaft; fuel {h.fuel_mcm_d:.2f} mcm/d"),
        ("Line pack", _num(h.linepack_mcm, "{:,.0f}"), "mcm"),
        ("Mass balance", _num(h.mass_balance_error, "{:.1e}"), f"relative; {h.iterations} iterations"),
    ]
    cards = "".join(f'<div class="kpi"><div class="kpi-label">{html.escape(a)}</div>'
                    f'<div class="kpi-value">{html.escape(b)}</div><div class="kpi-unit">{html.escape(c)}</div></div>'
                    for a, b, c in kpis)
    return (
        f'<header><h1>{html.escape(title)}</h1><p class="subtitle">{" · ".join(sub)}</p>'
        f'<div class="verdict {h.tone}" id="verdict"><div class="verdict-title">{html.escape(h.verdict)}</div>'
        f'<div class="verdict-msg">{html.escape(h.message)}</div></div>'
        f'<div class="kpis">{cards}</div>'
        f'<p class="muted small">Volumes at {html.escape(h.reference)}; pressures absolute (bar); '
        "bar g = bar abs − 1.01325.</p></header>"
    )


def _section(heading: str, inner: str) -> str:
    anchor = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
    return f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>{inner}</section>'


def _violations_html(result: Any) -> str:
    v = getattr(result, "violations", None)
    if not isinstance(v, pd.DataFrame) or v.empty:
        return '<p class="ok-text">No pressure, ratio, power or flow limit is violated.</p>'
    cols = [c for c in ("kind", "element", "quantity", "value", "bound", "margin", "unit", "message") if c in v]
    return _table(v[cols], "violations")


def _assumptions_html(assumptions: pd.DataFrame | None, prov: pd.DataFrame) -> str:
    parts = ['<p class="caption">Source tags: <span class="tag tag-s">S</span> sourced (key in the reference), '
             '<span class="tag tag-e">E</span> estimate (method stated), <span class="tag tag-c">C</span> '
             "community data (unverified). Every table row of the case carries its tag.</p>"]
    if isinstance(assumptions, pd.DataFrame) and not assumptions.empty:
        rows = []
        for _, r in assumptions.iterrows():
            rows.append(f"<tr><td class=\"topic\">{html.escape(str(r.get('topic', '')))}</td>"
                        f"<td>{html.escape(str(r.get('assumption', '')))}</td>"
                        f"<td class=\"src\">{_tags(str(r.get('source', '')))}</td></tr>")
        parts.append('<table class="data assumptions"><thead><tr><th>Topic</th><th>Assumption</th>'
                     f"<th>Source</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    else:
        parts.append('<p class="muted">No assumptions table was given.</p>')
    if not prov.empty:
        parts.append("<h3>Provenance of the network tables (rows citing each kind of source)</h3>")
        parts.append(_table(prov.reset_index(), "provenance"))
    return "".join(parts)


def _tags(text: str) -> str:
    out = html.escape(text)

    def badge(m: re.Match[str]) -> str:
        kind = m.group(1)[0].lower()
        return f'<span class="tag tag-{kind}">{m.group(0)}</span>'

    return re.sub(r"\[(S\d*[a-z]?|E|C)\b[^\]]*\]", badge, out)


def _footer(network: Network, ref: Any) -> str:
    from gasgrid import __version__

    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<footer>gasgrid {html.escape(__version__)} · {html.escape(network.name)} · generated {stamp} · '
            f"volumes at {html.escape(str(ref.value))} · self-contained file, works offline</footer>")


def _station_display(t: pd.DataFrame) -> pd.DataFrame:
    if t.empty:
        return t
    return pd.DataFrame({
        "station": t["station"], "mode": t["active_mode"], "suction, bar": t["p_suction_bar"].round(1),
        "discharge, bar": t["p_discharge_bar"].round(1), "ratio": t["ratio"].round(3),
        "ratio max": t["ratio_max"], "shaft, MW": t["power_shaft_MW"].round(1),
        "limit, MW": t["power_max_MW"], "fuel, mcm/d": t["fuel_mcm_d"].round(3), "binding": t["binding_limit"],
    })


def _deliveries_html(t: pd.DataFrame) -> str:
    from gasgrid.report.tables import is_plant_group

    if t.empty:
        return _table(t, "deliveries")
    plant = t.index.map(is_plant_group).astype(bool)
    out = _table(_delivery_display(t[~plant]), "deliveries")
    if plant.any():
        items = ", ".join(f"{html.escape(str(g))}: {v:.2f} bcm/yr" for g, v in
                          t.loc[plant, "delivered_bcm_per_year"].items())
        out += f'<p class="muted small">Processing-plant withdrawals are not deliveries and are not shown: {items}.</p>'
    return out


def _delivery_display(t: pd.DataFrame) -> pd.DataFrame:
    if t.empty:
        return t
    return pd.DataFrame({
        "nominated, bcm/yr": t["nominated_bcm_per_year"].round(3),
        "delivered, bcm/yr": t["delivered_bcm_per_year"].round(3),
        "delivered, mcm/d": t["delivered_mcm_per_day"].round(2),
        "nominated, kg/s": t["nominated_kg_s"].round(2),
        "delivered, %": t["delivered_pct"].round(1),
    }).reset_index()


def _table(frame: pd.DataFrame, cls: str) -> str:
    if frame.empty:
        return '<p class="muted">(empty)</p>'
    return frame.to_html(index=False, classes=f"data {cls}", border=0, na_rep="–",
                         float_format=lambda v: f"{v:,.4g}")


def _num(value: float, fmt: str) -> str:
    return "–" if value is None or not np.isfinite(value) else fmt.format(value)
