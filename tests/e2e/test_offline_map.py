"""The map works with every non-local request blocked: local Leaflet, offline tiles, overlays."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from skyscript_viz import assets

pytestmark = pytest.mark.e2e

APP = Path(__file__).parent / "apps" / "offline_map_app.py"
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture(scope="module")
def _assets_present() -> None:
    if not assets.assets_available():
        pytest.fail("map scripts missing: run `pip install -r requirements.txt`", pytrace=False)


@pytest.mark.usefixtures("_assets_present")
def test_static_leaflet_is_served_as_javascript(streamlit_server) -> None:
    base = streamlit_server(APP)
    with urllib.request.urlopen(base + assets.LEAFLET_JS_URL, timeout=10) as resp:
        ctype = resp.headers.get("Content-Type", "")
        body = resp.read()
    # without the route Streamlit would answer any path with 200 + its index.html
    assert "javascript" in ctype, ctype
    assert not body.lstrip().lower().startswith(b"<!doctype html"), body[:80]
    assert b"Leaflet" in body[:400] and b"1.9.3" in body[:400], body[:200]
    with urllib.request.urlopen(base + assets.OFFLINE_TILES_URL.format(z=0, x=0, y=0), timeout=10) as resp:
        assert resp.headers.get("Content-Type") == "image/png"
        assert resp.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.usefixtures("_assets_present")
def test_map_renders_offline(streamlit_server, page, screenshot_path) -> None:
    base = streamlit_server(APP)
    page.goto(base, wait_until="domcontentloaded")
    page.get_by_text("offline assets: local").wait_for(timeout=30_000)

    frame = page.frame_locator(IFRAME)
    frame.locator(".leaflet-container").wait_for(state="visible", timeout=30_000)
    rects = frame.locator("path.leaflet-interactive")
    rects.first.wait_for(state="attached", timeout=15_000)
    assert rects.count() == 2

    # at least one offline tile has loaded (decoded image with a width)
    frame.locator('img.leaflet-tile[src*="/tiles/"]').first.wait_for(state="attached", timeout=15_000)
    iframe = page.locator(IFRAME).element_handle()
    assert iframe is not None
    inner = iframe.content_frame()
    assert inner is not None
    inner.wait_for_function(
        """() => Array.from(document.querySelectorAll('img.leaflet-tile'))
                  .some(img => img.src.includes('/tiles/') && img.complete && img.naturalWidth > 0)""",
        timeout=15_000,
    )
    loaded = inner.evaluate(
        """() => Array.from(document.querySelectorAll('img.leaflet-tile'))
                  .filter(img => img.complete && img.naturalWidth > 0).length"""
    )
    assert loaded >= 1

    # tooltip of the first rectangle shows on hover
    rects.first.hover(force=True)
    frame.locator(".leaflet-tooltip").first.wait_for(state="visible", timeout=10_000)

    # layer control lists the three base layers and the overlay
    control = frame.locator(".leaflet-control-layers")
    for name in (assets.OFFLINE_LAYER_NAME, assets.OSM_LAYER_NAME, assets.SATELLITE_LAYER_NAME, "Footprints"):
        assert control.get_by_text(name).count() >= 1, name

    page.screenshot(path=str(screenshot_path("map")), full_page=True)

    # nothing the map needs came from the internet: only online base layers may have been tried
    cdn = [u for u in page.blocked_requests if "tile.openstreetmap" not in u and "arcgisonline" not in u]
    assert cdn == [], cdn
    leaflet_errors = [e for e in page.console_errors if "leaflet" in e.lower() or "is not defined" in e]
    assert leaflet_errors == [], leaflet_errors
