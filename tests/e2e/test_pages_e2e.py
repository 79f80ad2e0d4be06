"""Gallery, image and benchmarks pages in a real browser (Debian's Chromium via Playwright).

The app runs with ``streamlit run app.py`` on a small generated demo root with its index built
(every request off this machine is blocked by the ``page`` fixture of tests/e2e/conftest.py).
Screenshots of each step are kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from skyscript_viz import Filters, ImageIndex, build_index
from skyscript_viz.text import md_text

pytestmark = pytest.mark.e2e

PAGE_SIZE = 12
NAV_TITLES = ["Map", "Gallery", "Image", "Overview", "Quality", "Audit", "Benchmarks"]
LOCAL = re.compile(r"^(https?://(127\.0\.0\.1|localhost)(:\d+)?/|data:|blob:|about:)")


@pytest.fixture(scope="module")
def e2e_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ImageIndex]]:
    from skyscript_viz.demo import generate

    root = tmp_path_factory.mktemp("pages_e2e") / "root"
    generate(root, n_objects=40, seed=0)
    build_index(root)
    idx = ImageIndex.open(root)
    yield root, idx
    idx.close()


def _local_only_context(browser: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    ctx.route("**/*", lambda r: r.continue_() if LOCAL.match(r.request.url) else r.abort("internetdisconnected"))
    return ctx


def _server(e2e_demo: tuple[Path, ImageIndex], streamlit_server: Callable[..., str], tmp_path: Path) -> str:
    root, _ = e2e_demo
    return streamlit_server("app.py", env={"SKYSCRIPT_ROOT": str(root), "XDG_CACHE_HOME": str(tmp_path / "cache")})


@pytest.fixture
def app_url(
    e2e_demo: tuple[Path, ImageIndex], streamlit_server: Callable[..., str], tmp_path: Path, browser: Any
) -> str:
    """A running app that has served its home page once (see test_deep_link_on_a_fresh_server)."""
    base = _server(e2e_demo, streamlit_server, tmp_path)
    ctx = _local_only_context(browser)
    try:
        home = ctx.new_page()
        home.goto(base, wait_until="domcontentloaded")
        home.get_by_text("images match").first.wait_for(timeout=60_000)
    finally:
        ctx.close()
    return base


def _with_same_object(idx: ImageIndex) -> tuple[int, dict[str, Any], list[int]]:
    """(position in id order, row, ids of the same object's other images) of an image with a caption
    whose OSM object was imaged more than once."""
    rows = idx.page(Filters(), order="id", limit=10_000).rows
    for pos, row in enumerate(rows.to_dict("records")):
        same = idx.same_object(int(row["id"]))
        if len(same) and isinstance(row["title"], str):
            return pos, row, [int(i) for i in same["id"]]
    pytest.fail("the demo has no object imaged twice")


def _wait_idle(page: Any) -> None:
    """Until Streamlit has finished the current run (no running indicator)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=30_000,
    )


def test_gallery_open_lands_on_the_image_page(
    e2e_demo: tuple[Path, ImageIndex], app_url: str, page: Any, screenshot_path: Callable[[str], Path]
) -> None:
    _, idx = e2e_demo
    pos, row, same = _with_same_object(idx)
    n_pages = -(-idx.n_images // PAGE_SIZE)
    page_no = pos // PAGE_SIZE + 1
    page.goto(f"{app_url}/gallery?sort=id&size={PAGE_SIZE}&page={page_no}", wait_until="domcontentloaded")
    page.get_by_text(f"page {page_no} of {n_pages}").wait_for(timeout=60_000)
    page.get_by_text(f"{idx.n_images} images match").first.wait_for()
    nav = page.locator("[data-testid='stSidebarNav']")
    assert [t.strip() for t in nav.inner_text().split("\n") if t.strip()] == NAV_TITLES  # the app's own pages
    opens = page.locator("[class*='st-key-g_open_'] button")
    opens.first.wait_for()
    assert opens.count() == min(PAGE_SIZE, idx.n_images - (page_no - 1) * PAGE_SIZE)
    page.screenshot(path=str(screenshot_path("gallery")), full_page=True)

    page.locator(f".st-key-g_open_{row['id']} button").click()
    page.wait_for_url(re.compile(r"/image\?(.*&)?sel="), timeout=30_000)
    assert f"sel={quote(row['filepath'], safe='')}" in page.url
    heading = page.get_by_text(f"Same OSM object, other images ({len(same)})")
    heading.wait_for(timeout=30_000)
    # that image: its file path and its caption
    page.locator("code", has_text=row["filepath"]).first.wait_for()
    page.get_by_text(row["title"], exact=False).first.wait_for()
    # the strip holds the object's other images, each with its own "Open"
    strip = page.locator("[class*='st-key-same_open_'] button")
    strip.first.wait_for()
    assert (
        sorted(
            int(re.search(r"st-key-same_open_(\d+)", c).group(1))  # type: ignore[union-attr]
            for c in page.locator("[class*='st-key-same_open_']").evaluate_all("els => els.map(e => e.className)")
        )
        == sorted(same[:12])
    )
    heading.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_path("image")), full_page=True)
    assert not [e for e in page.console_errors if e.startswith("pageerror")], page.console_errors


def test_verdict_given_in_one_session_is_seen_in_another(
    e2e_demo: tuple[Path, ImageIndex], app_url: str, page: Any, browser: Any, screenshot_path: Callable[[str], Path]
) -> None:
    _, idx = e2e_demo
    _, row, _ = _with_same_object(idx)
    fp = row["filepath"]
    url = f"{app_url}/image?sel={quote(fp, safe='')}"
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_text("No verdict yet.").wait_for(timeout=60_000)
    bad_caption = page.locator(".st-key-image_verdict_bad_caption button")
    assert bad_caption.is_disabled()  # no name yet
    name = page.get_by_label("Your name (for verdicts)")
    name.fill("Eve from e2e")
    name.press("Enter")
    page.wait_for_function(
        "() => { const b = document.querySelector('.st-key-image_verdict_bad_caption button');"
        " return b && !b.disabled; }",
        timeout=30_000,
    )
    bad_caption.click()
    page.get_by_text(f"Saved: Bad caption for {md_text(fp)}".replace("\\", "")).first.wait_for(timeout=30_000)
    _wait_idle(page)
    page.screenshot(path=str(screenshot_path("verdict-given")), full_page=True)

    # a second, fresh browser session (another reviewer's machine) reads it from the history table
    ctx = _local_only_context(browser)
    try:
        other = ctx.new_page()
        other.set_default_timeout(30_000)
        other.goto(url, wait_until="domcontentloaded")
        history = other.locator("table", has_text="Eve from e2e")
        history.wait_for(timeout=60_000)
        row_text = history.locator("tr", has_text="Eve from e2e").inner_text()
        assert "Bad caption" in row_text, row_text
        # this session has no name yet: its own verdict buttons wait for one
        assert other.locator(".st-key-image_verdict_good button").is_disabled()
        history.scroll_into_view_if_needed()
        other.screenshot(path=str(screenshot_path("verdict-seen-elsewhere")), full_page=True)
    finally:
        ctx.close()


def test_benchmarks_page_shows_the_demo_sets(app_url: str, page: Any, screenshot_path: Callable[[str], Path]) -> None:
    page.goto(f"{app_url}/benchmarks", wait_until="domcontentloaded")
    for label in (
        "roof_shape — Fine-grained: roof shape (classification)",
        "surface — Fine-grained: road surface material (classification)",
        "ucmcaptions — UCM-Captions cross-modal retrieval (retrieval)",
    ):
        page.get_by_text(label).wait_for(timeout=60_000)
    for caption in ("24 images, 6 classes", "20 images, 5 classes", "8 images, 24 captions"):
        page.get_by_text(caption).wait_for()
    page.get_by_text("Not downloaded").wait_for()
    # benchmark thumbnails are served by the app itself, and they load
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-testid=\"stImage\"] img'))"
        ".filter(i => i.complete && i.naturalWidth > 0).length >= 16",
        timeout=30_000,
    )
    page.screenshot(path=str(screenshot_path("benchmarks")), full_page=True)
    assert not [e for e in page.console_errors if e.startswith("pageerror")], page.console_errors


def test_deep_link_on_a_fresh_server(
    e2e_demo: tuple[Path, ImageIndex], streamlit_server: Callable[..., str], tmp_path: Path, page: Any
) -> None:
    base = _server(e2e_demo, streamlit_server, tmp_path)
    page.goto(f"{base}/gallery?sort=id", wait_until="domcontentloaded")
    page.get_by_text("images match").first.wait_for(timeout=60_000)
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.wait_for()
    assert [t.strip() for t in nav.inner_text().split("\n") if t.strip()] == NAV_TITLES
