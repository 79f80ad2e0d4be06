"""The app on a URL root: `SKYSCRIPT_ROOT=http://127.0.0.1:PORT/SkyScript streamlit run app.py`.

The dataset (the small demo in the public layout, every part zipped) is served by the tests' own
range-capable HTTP server and indexed from its URL first; the browser then sees footprints on the map,
clicks one, and the image (fetched from the image zip with one range request) and its caption appear.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import assets, cli, remote
from tests.e2e.test_map_e2e import wait_idle, wait_selected
from tests.remote_server import RangeServer, make_zip_root

pytestmark = pytest.mark.e2e

IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture
def served(
    demo_small: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[RangeServer, Path]]:
    if not assets.assets_available():
        pytest.fail("map scripts missing: run `pip install -r requirements.txt`", pytrace=False)
    pub = make_zip_root(demo_small[0], tmp_path / "pub" / "SkyScript")
    cache = tmp_path / "cache"
    monkeypatch.setenv("SKYSCRIPT_CACHE", str(cache))
    with RangeServer(pub) as srv:
        assert (
            cli.main(
                ["index", srv.url, "--workers", "1", "--parts", "2-7", "--csv", "SkyScript_train_unfiltered_5M.csv"]
            )
            == 0
        )
        yield srv, cache


def test_map_and_image_from_a_url_root(
    served: tuple[RangeServer, Path], streamlit_server: Any, page: Any, tmp_path: Path, screenshot_path: Any
) -> None:
    srv, cache = served
    base = streamlit_server(
        "app.py",
        env={"SKYSCRIPT_ROOT": srv.url, "SKYSCRIPT_CACHE": str(cache), "XDG_CACHE_HOME": str(tmp_path / "xdg")},
    )
    page.goto(base, wait_until="domcontentloaded")
    page.get_by_text("images match").first.wait_for(timeout=60_000)
    frame = page.frame_locator(IFRAME)
    frame.locator(".leaflet-container").wait_for(state="visible", timeout=30_000)
    footprints = frame.locator("path.leaflet-interactive")
    footprints.first.wait_for(state="attached", timeout=30_000)
    assert footprints.count() > 10

    # the map's first reports (its real size, the fitted view) rerun it: click once they are done, so
    # this test is about the remote root; a click during a rerun is test_map_e2e's subject
    wait_idle(page)
    mark = srv.mark()
    footprints.nth(footprints.count() // 2).click(force=True)
    wait_selected(page)  # one click selects (never clicked again)
    caption = page.get_by_text("Caption:").first
    caption.wait_for(timeout=30_000)
    img = page.locator("img[src*='/media/']").first
    img.wait_for(state="visible", timeout=30_000)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll(\"img[src*='/media/']\"))"
        ".some(i => i.complete && i.naturalWidth > 32)",
        timeout=30_000,
    )
    assert page.get_by_text("Image not shown").count() == 0
    page.screenshot(path=str(screenshot_path("selected")), full_page=True)

    # the image came from the server as one range request into an image zip (not the whole zip)
    gets = [r for r in srv.requests_since(mark) if r.method == "GET"]
    assert gets and all(r.path.startswith("images") and r.status == 206 for r in gets), gets
    for r in gets:
        zip_size = (srv.root / r.path).stat().st_size
        assert r.sent < zip_size / 3, (r, zip_size)
    assert (remote.cache_root(srv.url) / "objects").is_dir()
