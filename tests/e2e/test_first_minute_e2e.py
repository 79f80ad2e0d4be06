# ruff: noqa: F401, F811  (the default_demo fixture imported from test_map_e2e is used as an argument)
"""The first minute in a real browser, no internet: the first view fits the matches, density cells
have a count legend and can show their dominant source, no developer chrome, and the report opens
offline with its charts and thumbnails."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from test_map_e2e import LOAD_TIMEOUT, default_demo, inner_frame, map_frame, open_app, wait_idle

from skyscript_viz import Filters, mapview
from skyscript_viz.report import write_report
from skyscript_viz.sources import source_info

pytestmark = pytest.mark.e2e

LEAFLET_VIEW = """() => { const c = window.map.getCenter(); return [c.lat, c.lng, window.map.getZoom()]; }"""
CELL_FILLS = """() => Array.from(document.querySelectorAll('path.sv-cell')).map(p => p.getAttribute('fill'))"""


def _rgb(hex_color: str) -> str:
    return hex_color.lower()


def test_first_view_fits_the_matches(default_demo, streamlit_server, page, screenshot_path) -> None:
    base = streamlit_server("app.py", env=default_demo.env)
    f = Filters(sources=("FI",))
    ext = default_demo.index.extent(f)
    open_app(page, f"{base}/?{urlencode({'src': 'FI'})}")
    lat, lon, zoom = inner_frame(page).evaluate(LEAFLET_VIEW)
    assert ext.south <= lat <= ext.north and ext.west <= lon <= ext.east, (lat, lon, ext)
    assert zoom >= 5, zoom  # Finland fills the map, not the whole world
    page.screenshot(path=str(screenshot_path("fi")))
    # a filter change that moves the data moves the map: Finland -> Switzerland
    ch = default_demo.index.extent(Filters(sources=("CH",)))
    open_app(page, f"{base}/?{urlencode({'src': 'CH'})}")
    lat, lon, zoom = inner_frame(page).evaluate(LEAFLET_VIEW)
    assert ch.south <= lat <= ch.north and ch.west <= lon <= ch.east, (lat, lon, ch)


def test_cells_legend_and_dominant_source_colours(default_demo, streamlit_server, page, screenshot_path) -> None:
    base = streamlit_server("app.py", env=default_demo.env)
    open_app(page, f"{base}/?{urlencode({'lat': '20', 'lon': '0', 'z': '1'})}")  # the world
    frame = map_frame(page)
    assert frame.locator("path.sv-cell").count() > 0
    legend = page.locator(".sv-legend").first
    assert "Images per cell:" in legend.inner_text()
    assert re.search(r"\d+–\d+", legend.inner_text())
    shades = set(inner_frame(page).evaluate(CELL_FILLS))
    assert shades and shades <= {_rgb(c) for c in mapview.DENSITY_COLORS}, shades

    page.get_by_text("Colour cells by dominant source").click()
    wait_idle(page)
    page.locator(".sv-legend", has_text="Most images from:").wait_for(timeout=LOAD_TIMEOUT)
    inner = inner_frame(page)
    inner.wait_for_function(
        f"() => ({CELL_FILLS})().some(c => !{sorted(_rgb(c) for c in mapview.DENSITY_COLORS)!r}.includes(c))",
        timeout=LOAD_TIMEOUT,
    )
    fills = set(inner.evaluate(CELL_FILLS))
    sources = {str(v.value) for v in default_demo.index.facets(Filters())["source"] if v.value}
    colours = {_rgb(source_info(s).color) for s in sources}
    assert len(fills & colours) >= 2 and fills <= colours, (fills, colours)
    page.screenshot(path=str(screenshot_path("by-source")))


def test_no_developer_chrome(default_demo, streamlit_server, page) -> None:
    base = streamlit_server("app.py", env=default_demo.env)
    open_app(page, base)
    assert page.get_by_test_id("stAppDeployButton").count() == 0
    assert page.get_by_role("button", name="Deploy").count() == 0
    menu = page.get_by_test_id("stMainMenu")
    if menu.count():
        menu.click()
        page.get_by_test_id("stMainMenuPopover").wait_for(timeout=LOAD_TIMEOUT)
        popover = page.get_by_test_id("stMainMenuPopover").inner_text()
        assert "Rerun" not in popover and "Clear cache" not in popover, popover


def test_report_opens_offline_with_charts_and_thumbnails(default_demo, page, tmp_path: Path, screenshot_path) -> None:
    out = tmp_path / "report.html"
    size = write_report(default_demo.index, Filters(), out)
    assert size < 10_000_000
    page.goto(out.as_uri(), wait_until="load")
    assert page.locator("figure.chart svg rect").count() > 20
    assert page.locator("figure.chart").count() >= 6
    thumbs: Any = page.evaluate("""() => Array.from(document.querySelectorAll('.thumb img'))
                                  .map(i => i.complete && i.naturalWidth > 0)""")
    assert len(thumbs) >= 12 and all(thumbs), thumbs
    assert page.evaluate("() => document.querySelector('img.map').naturalWidth") > 500
    page.screenshot(path=str(screenshot_path("report")), full_page=True)
    assert page.blocked_requests == [] and page.console_errors == []
