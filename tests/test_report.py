"""The HTML report: self-contained, offline, atomic; verdicts, tables and figures from a steady result.

The report is tested against a hand-built result with the steady-result contract (``fake_result``), so that it
does not depend on the solver's numbers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("plotly")

from gasgrid.cases.east_route import load_east_route
from gasgrid.errors import InputError
from gasgrid.model.network import Network
from gasgrid.report import FIGURE_IDS, build_report
from gasgrid.report.figures import main_paths, map_figure
from gasgrid.report.tables import (
    delivered_by_group,
    headline,
    kg_s_to_bcm_per_year,
    provenance,
    station_table,
)
from gasgrid.units import SECONDS_PER_YEAR, Reference


class Status(Enum):
    SOLVED = "solved"
    VIOLATIONS = "violations"
    INFEASIBLE = "infeasible"
    NOT_CONVERGED = "not_converged"


@dataclass
class FakeResult:
    """The steady-result contract the report consumes (pressures absolute, bar; flows kg/s)."""

    status: Status
    message: str
    iterations: int
    mass_balance_error: float
    nodes: pd.DataFrame
    arcs: pd.DataFrame
    supplies: pd.DataFrame
    demands: pd.DataFrame
    compressors: pd.DataFrame
    violations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["kind", "element", "quantity", "value", "bound", "margin", "unit"]))
    linepack_kg: float = 0.0


def fake_result(net: Network, status: Status = Status.SOLVED, *, delivered_fraction: float = 1.0) -> FakeResult:
    """A plausible state: pressures between each node's bounds, nominations delivered, stations working."""
    nodes = net.nodes
    lo = nodes["p_min_bar"].to_numpy()
    hi = np.minimum(nodes["p_max_bar"].to_numpy(), 120.0)
    wave = 0.5 + 0.4 * np.sin(np.arange(len(nodes)) / 3.0)
    p = lo + 8.0 + (hi - 2.0 - lo - 8.0) * wave
    if status is Status.NOT_CONVERGED:
        p = np.full(len(nodes), np.nan)
    node_t = pd.DataFrame({"p_bar": p, "p_barg": p - 1.01325, "p_Pa": p * 1e5, "z": 0.85,
                           "p_min_bar": lo, "p_max_bar": nodes["p_max_bar"].to_numpy()}, index=nodes.index)
    arcs = pd.concat([
        net.table(k)[["from_node", "to_node"]].assign(kind=k)
        for k in ("pipe", "short_pipe", "control_valve", "compressor")
    ])
    arcs["q_kg_s"] = 500.0
    arcs["q_Nm3_h"] = 500.0 / 0.73 * 3600
    arcs["velocity_m_s"] = 8.0
    dem = net.demands
    demands = pd.DataFrame({"node": dem["node"], "flow_kg_s": dem["flow_kg_s"] * delivered_fraction,
                            "p_bar": node_t.loc[dem["node"], "p_bar"].to_numpy()}, index=dem.index)
    sup = net.supplies
    supplies = pd.DataFrame({"node": sup["node"], "flow_kg_s": sup["flow_kg_s"].fillna(400.0),
                             "p_bar": node_t.loc[sup["node"], "p_bar"].to_numpy()}, index=sup.index)
    cs = net.compressors
    ps = node_t.loc[cs["from_node"], "p_bar"].to_numpy()
    pd_ = cs["p_set_bar"].to_numpy()
    shaft = np.linspace(20.0, 60.0, len(cs))
    fuel = shaft * 1e6 / 0.36 / 5.0e7
    compressors = pd.DataFrame({
        "mode": cs["mode"], "active_mode": cs["mode"], "binding_limit": "none", "p_suction_bar": ps,
        "p_discharge_bar": pd_, "ratio": pd_ / ps, "flow_kg_s": 800.0, "power_shaft_MW": shaft,
        "power_driver_MW": shaft / 0.36, "fuel_kg_s": fuel, "fuel_Nm3_d": fuel / 0.73 * 86400,
    }, index=cs.index)
    return FakeResult(status=status, message=f"fake {status.value}", iterations=7, mass_balance_error=3e-12,
                      nodes=node_t, arcs=arcs, supplies=supplies, demands=demands, compressors=compressors,
                      linepack_kg=0.68 * 1.2e9)


@pytest.fixture(scope="module")
def net() -> Network:
    return load_east_route()


@pytest.fixture(scope="module")
def report(net: Network, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("report") / "report.html"
    out = build_report(fake_result(net), net, path, title="East Route design day")
    assert out == path
    return path.read_text(encoding="utf-8")


def test_single_self_contained_file_with_plotly_inline_once(report: str) -> None:
    from plotly.offline import get_plotlyjs

    bundle = get_plotlyjs()
    assert report.count(bundle) == 1
    page = report.replace(bundle, "")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page)
    assert not re.search(r"<link\b", page)
    assert "@import" not in page and "url(" not in page
    # geo and tile traces would fetch topojson or tiles at view time
    assert not re.search(r'"type":\s*"(scattergeo|choropleth|scattermapbox|scattermap|densitymap)', page)
    assert "https://" not in page.split("<footer>")[0].split("</header>")[1]


def test_contains_every_figure_and_section(report: str) -> None:
    for div_id in FIGURE_IDS:
        assert f'id="{div_id}"' in report
    for heading in ("Route map", "Pressure profile", "Compressor stations", "Deliveries by province",
                    "Limit violations", "Assumptions and sources"):
        assert f">{heading}</h2>" in report
    assert 'class="verdict ok"' in report and "DELIVERABLE" in report


def test_assumptions_with_source_badges(report: str) -> None:
    assert "Amur GPP" in report and "20 °C, 101.325 kPa" in report
    assert '<span class="tag tag-s">[S24]</span>' in report
    assert '<span class="tag tag-e">[E]</span>' in report


def test_headline_figures(net: Network) -> None:
    h = headline(fake_result(net), net)
    assert h.verdict == "DELIVERABLE" and h.tone == "ok"
    assert_allclose(h.delivered_bcm, 38.0, rtol=1e-9)  # deliveries only: the Amur GPP withdrawal is excluded
    assert_allclose(h.nominated_bcm, 38.0, rtol=1e-9)
    assert h.lowest_margin_bar > 0 and h.maop_margin_bar > 0
    rho = net.gas.reference_density(Reference.GOST)
    assert_allclose(h.linepack_mcm, 0.68 * 1.2e9 / rho / 1e6)
    assert "GOST/GB" in h.reference


def test_delivered_by_province_in_bcm(net: Network) -> None:
    table = delivered_by_group(fake_result(net, delivered_fraction=0.9), net)
    assert list(table.index[:3]) == ["Heilongjiang", "Jilin", "Inner Mongolia"]
    assert_allclose(table.loc["Jiangsu", "nominated_bcm_per_year"], 12.0, rtol=1e-9)
    assert_allclose(table.loc["Jiangsu", "delivered_bcm_per_year"], 10.8, rtol=1e-9)
    assert_allclose(table["delivered_pct"], 90.0)
    rho = net.gas.reference_density(Reference.GOST)
    assert_allclose(kg_s_to_bcm_per_year(rho * 1e9 / SECONDS_PER_YEAR, rho), 1.0)


def test_station_table(net: Network) -> None:
    t = station_table(fake_result(net), net)
    assert len(t) == len(net.compressors)
    assert_allclose(t["ratio"], t["p_discharge_bar"] / t["p_suction_bar"])
    assert (t["fuel_mcm_d"] > 0).all()
    assert t.loc["cs_zeyskaya", "station"] == "Zeyskaya CS"


def test_provenance_counts_tags(net: Network) -> None:
    prov = provenance(net)
    assert prov.loc["node", "rows"] == len(net.nodes)
    assert (prov["untagged"] == 0).all()
    assert prov.loc["demand", "estimated [E]"] == len(net.demands)


def test_violation_verdict_names_the_element(net: Network, tmp_path: Path) -> None:
    res = fake_result(net, Status.VIOLATIONS, delivered_fraction=1.0)
    res.violations = pd.DataFrame([{"kind": "compressor", "element": "cs_chayanda", "quantity": "power",
                                    "value": 97.9, "bound": 75.0, "margin": -22.9, "unit": "MW"}])
    res.message = "solved with 1 bound violation(s); worst: compressor 'cs_chayanda' power"
    text = build_report(res, net, tmp_path / "r.html", title="44 bcm/yr").read_text(encoding="utf-8")
    assert 'class="verdict bad"' in text
    assert "NOT DELIVERABLE AS NOMINATED: 1 LIMIT VIOLATION" in text
    assert "cs_chayanda" in text


def test_no_state_draws_placeholders(net: Network, tmp_path: Path) -> None:
    res = fake_result(net, Status.NOT_CONVERGED)
    text = build_report(res, net, tmp_path / "r.html", title="x").read_text(encoding="utf-8")
    assert "NO RESULT" in text
    assert text.count("No solved state to draw") == len(FIGURE_IDS)


def test_infeasible_state_is_drawn_with_the_collapse(net: Network, tmp_path: Path) -> None:
    res = fake_result(net, Status.INFEASIBLE)
    res.nodes.loc["skovorodinskaya", ["p_bar", "p_barg", "p_Pa"]] = np.nan
    res.message = "infeasible: the pressure collapses at node 'skovorodinskaya'"
    h = headline(res, net)
    assert np.isnan(h.delivered_bcm) and h.verdict == "NOT DELIVERABLE: INFEASIBLE"
    text = build_report(res, net, tmp_path / "r.html", title="50 bcm/yr").read_text(encoding="utf-8")
    assert "No solved state to draw" not in text
    assert "pressure collapse" in text and "skovorodinskaya" in text
    assert "– / 38.00" in text


def test_pos2_profile_has_both_routes(tmp_path: Path) -> None:
    pos2 = load_east_route("east-route-pos2")
    paths = main_paths(pos2)
    assert [(p.index[0], p.index[-1]) for p in paths] == [("kovykta", "baihe"), ("naushki", "erenhot")]
    assert_allclose(paths[1]["km"].iloc[-1], 962.9, rtol=1e-6)
    build_report(fake_result(pos2), pos2, tmp_path / "pos2.html", title="PoS-2")


def test_main_path_counts_parallel_strings_once(net: Network) -> None:
    (path,) = main_paths(net)
    expected = 804 + 2156.1 + 1.139 + 1825 + 160 + 1061.1 + 85 + 167 + 21  # Kovykta -> Shanghai Baihe
    assert_allclose(path["km"].iloc[-1], expected, rtol=1e-4)
    assert path["km"].is_monotonic_increasing


def test_map_without_coordinates_is_skipped() -> None:
    net = Network("plain")
    net.add_node("a")
    net.add_node("b")
    net.add_pipe("p", "a", "b", length_km=10, diameter_mm=500)
    res = FakeResult(Status.SOLVED, "", 1, 0.0, pd.DataFrame({"p_bar": [50.0, 49.0], "p_min_bar": 1.0,
                                                               "p_max_bar": 70.0}, index=["a", "b"]),
                     pd.DataFrame({"kind": ["pipe"], "from_node": ["a"], "to_node": ["b"], "q_kg_s": [1.0]},
                                  index=["p"]),
                     pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    assert map_figure(res, net) is None


def test_extra_sections_and_missing_assumptions(net: Network, tmp_path: Path) -> None:
    bare = net.copy()
    bare.meta.pop("assumptions")
    extra = [("Timing", pd.DataFrame({"step": ["solve"], "seconds": [1.5]})), ("Note", "<p>hand-written</p>")]
    text = build_report(fake_result(bare), bare, tmp_path / "r.html", title="x",
                        extra_sections=extra).read_text(encoding="utf-8")
    assert "No assumptions table was given" in text
    assert ">Timing</h2>" in text and "<p>hand-written</p>" in text


def test_title_is_escaped(net: Network, tmp_path: Path) -> None:
    text = build_report(fake_result(net), net, tmp_path / "r.html", title="<b>A & B</b>").read_text(encoding="utf-8")
    assert "<title>&lt;b&gt;A &amp; B&lt;/b&gt;</title>" in text


def test_result_without_nodes_is_an_input_error(net: Network, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nodes"):
        build_report(object(), net, tmp_path / "r.html", title="x")


def test_write_is_atomic(net: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    target.write_text("previous report", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        build_report(fake_result(net), net, target, title="x")
    assert target.read_text(encoding="utf-8") == "previous report"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
    monkeypatch.undo()
    build_report(fake_result(net), net, target, title="x")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
