"""What the speed work (issue 9) changed, as a user sees it in a real browser.

* The gallery's thumbnails come by URL from the app's own ``/thumb/`` route, with a long-lived cache
  header, and they are the same JPEG bytes the app showed before (``ImageStore.thumbnail``).
* The map runs as a fragment: panning and zooming still move the view, the "in view" line and the link;
  with "Only images in the map view" on, a zoom still refilters the whole page.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from skyscript_viz import BBox, Filters, ImageIndex
from skyscript_viz.images import ImageStore
from tests.e2e import test_pages_e2e

pytestmark = pytest.mark.e2e
e2e_demo = test_pages_e2e.e2e_demo  # the same small generated root, indexed

IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
TIMEOUT = 60_000


@pytest.fixture
def app_url(e2e_demo: tuple[Path, ImageIndex], streamlit_server: Callable[..., str], tmp_path: Path) -> str:
    root, _ = e2e_demo
    return streamlit_server("app.py", env={"SKYSCRIPT_ROOT": str(root), "XDG_CACHE_HOME": str(tmp_path / "cache")})


def wait_idle(page: Any) -> None:
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return a && a.getAttribute('data-test-script-state') === 'notRunning'; }""",
        timeout=TIMEOUT,
    )


def query(page: Any) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def headline(page: Any) -> int:
    text = page.locator("h4", has_text="images match").first.inner_text()
    return int(re.sub(r"\D", "", text.split("images")[0]))


def test_gallery_thumbnails_come_by_url_with_a_cache_header(
    e2e_demo: tuple[Path, ImageIndex], app_url: str, page: Any, screenshot_path: Callable[[str], Path]
) -> None:
    root, idx = e2e_demo
    thumbs: dict[int, Any] = {}

    def on_response(resp: Any) -> None:
        m = re.search(r"/thumb/[^/]+/(\d+)\.jpg$", resp.url)
        if m:
            thumbs[int(m.group(1))] = resp

    page.on("response", on_response)
    page.goto(f"{app_url}/gallery?sort=id&size=12", wait_until="domcontentloaded")
    opens = page.locator("[class*='st-key-g_open_'] button")
    opens.first.wait_for(timeout=TIMEOUT)
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('[data-testid=\"stImage\"] img')];"
        " return imgs.length === 12 && imgs.every(i => i.complete && i.naturalWidth > 0); }",
        timeout=TIMEOUT,
    )
    srcs = page.locator('[data-testid="stImage"] img').evaluate_all("els => els.map(e => e.src)")
    assert all(re.search(r"/thumb/[^/]+/\d+\.jpg$", s) for s in srcs), srcs  # by URL, not through the session
    rows = idx.page(Filters(), order="id", limit=12).rows.to_dict("records")
    assert sorted(thumbs) == sorted(int(r["id"]) for r in rows)
    store = ImageStore(root)  # no disk cache: computes the thumbnail afresh
    for row in rows:
        resp = thumbs[int(row["id"])]
        assert resp.status == 200
        expected = store.thumbnail(row)
        assert resp.headers["content-type"] == expected.mime
        if expected.ok:
            assert "immutable" in resp.headers["cache-control"], resp.headers
            assert resp.body() == expected.data  # the same picture as before the route existed
        else:  # an unreadable image: its placeholder, which the browser must ask for again
            assert resp.headers["cache-control"] == "no-cache"
    page.screenshot(path=str(screenshot_path("gallery")), full_page=True)

    # the route answers nothing but thumbnails of known images
    gen = re.search(r"/thumb/([^/]+)/", srcs[0]).group(1)  # type: ignore[union-attr]
    for bad in (
        f"/thumb/{gen}/999999999.jpg",
        f"/thumb/{gen}/x.jpg",
        "/thumb/nogeneration/1.jpg",
        f"/thumb/{gen}/..%2f..%2fmeta2.zip",
    ):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(app_url + bad, timeout=10)
        assert err.value.code in (400, 404), bad  # 400: Streamlit's own path check got there first

    # back to the map and to the gallery: the pictures are there again
    page.locator("[data-testid='stSidebarNav'] a", has_text="Map").first.click()
    page.locator("h4", has_text="images match").first.wait_for(timeout=TIMEOUT)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Gallery").first.click()
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('[data-testid=\"stImage\"] img')];"
        " return imgs.length === 12 && imgs.every(i => i.complete && i.naturalWidth > 0); }",
        timeout=TIMEOUT,
    )
    assert not [e for e in page.console_errors if e.startswith("pageerror")], page.console_errors


def _drag_map(page: Any, dx: int, dy: int) -> None:
    box = page.locator(IFRAME).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x + dx * i / 10, y + dy * i / 10)
    page.mouse.up()


def test_pan_and_zoom_in_the_map_fragment(
    e2e_demo: tuple[Path, ImageIndex], app_url: str, page: Any, screenshot_path: Callable[[str], Path]
) -> None:
    _, idx = e2e_demo
    page.goto(app_url, wait_until="domcontentloaded")
    frame = page.frame_locator(IFRAME)
    frame.locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=TIMEOUT)
    page.wait_for_function("() => new URLSearchParams(location.search).has('lat')", timeout=TIMEOUT)
    wait_idle(page)
    before = query(page)

    # a pan moves the view: the link follows and the map still draws the matches
    _drag_map(page, -160, -90)
    page.wait_for_function(
        "(lon) => new URLSearchParams(location.search).get('lon') !== lon", arg=before["lon"], timeout=TIMEOUT
    )
    wait_idle(page)
    assert page.locator(IFRAME).count() == 1
    page.get_by_text(re.compile(r"in view")).first.wait_for()
    frame.locator(".leaflet-container").wait_for(state="visible")

    # one zoom step: the link's zoom follows
    z = int(query(page)["z"])
    frame.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(
        "(z) => new URLSearchParams(location.search).get('z') === String(z)", arg=z + 1, timeout=TIMEOUT
    )
    wait_idle(page)

    # with "Only images in the map view", a zoom refilters the page (not only the map)
    page.locator('[data-testid="stCheckbox"]', has_text="Only images in the map view").locator("label").click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('bbox')", timeout=TIMEOUT)
    wait_idle(page)
    old_box = query(page)["bbox"]
    frame.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(
        "(b) => new URLSearchParams(location.search).get('bbox') !== b", arg=old_box, timeout=TIMEOUT
    )
    wait_idle(page)
    box = BBox.parse(query(page)["bbox"])
    expected = idx.count(Filters(bbox=box))
    page.locator("h4", has_text=re.compile(rf"^\s*{expected:,}\s+images match")).first.wait_for(timeout=TIMEOUT)
    assert headline(page) == expected
    page.screenshot(path=str(screenshot_path("zoomed-in-view")), full_page=True)
    assert not [e for e in page.console_errors if e.startswith("pageerror")], page.console_errors
