"""The report in a real browser: headless Chromium, network disabled, every figure rendered, no console errors.

Needs the Debian packages ``chromium`` (and ``chromium-driver``) and the Python package ``playwright``; the
browser is the system Chromium (``/usr/bin/chromium``), so ``playwright install`` is never run. Saves a
full-page screenshot to ``test-artifacts/report.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("GASGRID_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
]

if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not installed at {CHROMIUM} (Debian: apt-get install chromium chromium-driver)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python not installed (pip install playwright)")
pytest.importorskip("plotly")

from gasgrid.cases.east_route import load_east_route  # noqa: E402
from gasgrid.report import FIGURE_IDS, build_report  # noqa: E402

# what has to be drawn in each figure: (CSS selector inside the figure, minimum count)
DRAWN = {
    "fig-map": ("g.scatterlayer g.trace path.js-line", 5),
    "fig-profile": ("g.scatterlayer g.trace path.js-line", 3),
    "fig-stations": ("g.barlayer g.point path", 10),
    "fig-deliveries": ("g.barlayer g.point path", 9),
}


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The design-day report of the real steady solver (the screenshot is the CI artefact)."""
    from gasgrid.steady import solve_steady

    net = load_east_route()
    result = solve_steady(net)
    assert result.status.value == "solved", result.message
    path = tmp_path_factory.mktemp("browser") / "report.html"
    return build_report(result, net, path, title="East Route design day, 38 bcm/yr")


def test_report_renders_offline_without_errors(report_path: Path) -> None:
    errors: list[str] = []
    blocked: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1300, "height": 900}, offline=True)
            page = context.new_page()

            def route(r: sync_api.Route) -> None:
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.goto(report_path.as_uri(), wait_until="load")
            page.wait_for_function(
                "ids => ids.every(id => document.querySelector('#' + id + ' .main-svg'))", arg=list(FIGURE_IDS),
                timeout=30_000,
            )
            drawn = {
                fid: page.evaluate(
                    """([id, sel]) => Array.from(document.querySelectorAll('#' + id + ' ' + sel))
                          .filter(e => (e.getAttribute('d') || '').length > 4).length""",
                    [fid, sel],
                )
                for fid, (sel, _) in DRAWN.items()
            }
            sizes = {fid: page.locator(f"#{fid}").bounding_box() for fid in FIGURE_IDS}
            verdict = page.locator("#verdict").inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert blocked == []  # the page asked for nothing outside the file
    for fid, (_, minimum) in DRAWN.items():
        assert drawn[fid] >= minimum, (fid, drawn[fid])
    for fid, box in sizes.items():
        assert box is not None and box["width"] > 300 and box["height"] > 200, (fid, box)
    assert "DELIVERABLE" in verdict
    assert (ARTIFACTS / "report.png").stat().st_size > 50_000
