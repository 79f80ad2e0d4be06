"""The map page in a real browser: `streamlit run app.py` on the built-in default demo, no internet.

The default demo (what a user gets without SKYSCRIPT_ROOT) is generated once per module into a
temporary XDG_CACHE_HOME, which every server here gets, so the user's cache is never touched.
Every request that is not addressed to this machine is aborted (the harness's ``page`` fixture, and
``_blocked_context`` for the second browser context of the shared-link test).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from skyscript_viz import Filters, ImageIndex, assets, build_index, mapview
from skyscript_viz.demo import demo_root, read_manifest

pytestmark = pytest.mark.e2e

IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
HEADLINE = re.compile(r"^([\d,]+) images match$")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SHOTS = {"1366x768": {"width": 1366, "height": 768}, "1920x1080": {"width": 1920, "height": 1080}}
LOAD_TIMEOUT = 60_000  # ms: the first run opens the index and renders the map on two slow cores


@dataclass
class DefaultDemo:
    env: dict[str, str]
    root: Path
    index: ImageIndex
    manifest: Any


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DefaultDemo]:
    """The default demo in a private cache, generated and indexed the way the app does it."""
    if not assets.assets_available():
        pytest.fail("map scripts missing: run `pip install -r requirements.txt`", pytrace=False)
    xdg = tmp_path_factory.mktemp("xdg-cache")
    root = demo_root(cache_dir=xdg / "skyscript_viz")  # = platformdirs' cache dir under XDG_CACHE_HOME
    build_index(root)
    idx = ImageIndex.open(root)
    try:
        # SKYSCRIPT_ROOT="" counts as unset: the app opens the default demo even if the caller set one
        yield DefaultDemo({"XDG_CACHE_HOME": str(xdg), "SKYSCRIPT_ROOT": ""}, root, idx, read_manifest(root))
    finally:
        idx.close()


# ---- helpers ----------------------------------------------------------------------------------


def wait_idle(page: Any) -> None:
    """Until the app's script is not running (Streamlit marks it on the app's root element)."""
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return a && a.getAttribute('data-test-script-state') === 'notRunning'; }""",
        timeout=LOAD_TIMEOUT,
    )


def assert_no_exception(page: Any) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()


def headline(page: Any) -> int:
    text = page.locator("h4", has_text="images match").first.inner_text().strip()
    m = HEADLINE.match(" ".join(text.split()))
    assert m, text
    return int(m.group(1).replace(",", ""))


def wait_headline(page: Any, n: int) -> None:
    page.locator("h4", has_text=re.compile(rf"^\s*{n:,}\s+images match")).first.wait_for(timeout=LOAD_TIMEOUT)


def map_frame(page: Any) -> Any:
    return page.frame_locator(IFRAME)


def inner_frame(page: Any) -> Any:
    handle = page.locator(IFRAME).element_handle(timeout=LOAD_TIMEOUT)
    frame = handle.content_frame()
    assert frame is not None
    return frame


def open_app(page: Any, url: str) -> None:
    """Load ``url`` and wait until the map has drawn footprints or cells."""
    page.goto(url, wait_until="domcontentloaded")
    page.locator("h4", has_text="images match").first.wait_for(timeout=LOAD_TIMEOUT)
    map_frame(page).locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    assert_no_exception(page)


def view_url(base: str, row: dict[str, Any], **extra: str) -> str:
    """A link centred on a footprint, zoomed so that it fills a good part of the map."""
    _, _, z = mapview.zoom_for_bbox(row["west"], row["south"], row["east"], row["north"], width_px=300, height_px=300)
    params = {"lat": f"{row['cy']:.6f}", "lon": f"{row['cx']:.6f}", "z": str(z), **extra}
    return f"{base}/?{urlencode(params)}"


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def map_center(page: Any) -> tuple[float, float]:
    """The map iframe scrolled into view; the page coordinates of its centre."""
    iframe = page.locator(IFRAME)
    iframe.scroll_into_view_if_needed()
    box = iframe.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def shot(page: Any, screenshot_path: Any, name: str) -> list[Path]:
    """Screenshots of the current page at 1366×768 and 1920×1080."""
    paths = []
    for size, viewport in SHOTS.items():
        page.set_viewport_size(viewport)
        map_frame(page).locator(".leaflet-container").wait_for(state="visible")
        path = screenshot_path(f"{name}-{size}")
        page.screenshot(path=str(path))
        paths.append(path)
    return paths


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = (parts.hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


def _blocked_context(browser: Any) -> Any:
    """A fresh browser context (no cookies, no session) that aborts every non-local request."""
    ctx = browser.new_context(viewport=SHOTS["1366x768"], service_workers="block")
    ctx.route("**/*", lambda r: r.continue_() if _is_local(r.request.url) else r.abort("internetdisconnected"))
    return ctx


def pick_target(idx: ImageIndex, manifest: Any) -> dict[str, Any]:
    """A captioned CH image with a footprint and no planted fault."""
    faulty = {p for paths in manifest.faults.values() for p in paths}
    rows = idx.page(Filters(sources=("CH",)), limit=50).rows
    for row in rows.to_dict("records"):
        if row["filepath"] not in faulty and row["title"] and row["cx"] is not None and not row["n_problems"]:
            return row
    pytest.fail("no clean CH image in the default demo")


def hover_footprint_at_center(page: Any) -> tuple[float, float, str]:
    """Hover the map's centre until a footprint's tooltip shows; (x, y, its file path).

    Hovering again is fine: a rerun may redraw the layers under a resting pointer, which hides
    the tooltip without anything being lost.
    """
    tooltip = map_frame(page).locator(".leaflet-tooltip")
    for _ in range(3):
        x, y = map_center(page)
        page.mouse.move(x - 5, y - 5)
        page.mouse.move(x, y)
        try:
            tooltip.first.wait_for(state="visible", timeout=10_000)
        except Exception:  # noqa: BLE001 - the layers were redrawn under the pointer: hover again
            continue
        text = tooltip.first.inner_text()
        fp = mapview.filepath_from_tooltip(text)
        assert fp, text
        return x, y, fp
    pytest.fail("no footprint tooltip under the map's centre")


def wait_selected(page: Any, fp: str | None = None) -> str:
    """Until the link says an image is selected (``fp`` if given); returns the selected path."""
    page.wait_for_function(
        "(fp) => { const s = new URLSearchParams(location.search).get('sel'); return s && (!fp || s === fp); }",
        arg=fp,
        timeout=LOAD_TIMEOUT,
    )
    return query(page.url)["sel"]


def click_footprint_at_center(page: Any) -> str:
    """Hover the map's centre, read the file path from the footprint's tooltip, click it once.

    Returns the path once the page has selected it (the link says ``sel=<path>``). The click is
    not repeated: one click must select, or the test fails.
    """
    x, y, fp = hover_footprint_at_center(page)
    page.mouse.click(x, y)
    return wait_selected(page, fp)


def expect_selected(page: Any, idx: ImageIndex, fp: str) -> None:
    """The right column shows ``fp``: its picture, file path and caption."""
    rec = idx.get(fp)
    assert rec is not None, fp
    page.get_by_text(fp, exact=True).first.wait_for(timeout=LOAD_TIMEOUT)  # **File:** `fp`
    if rec.row.get("title"):
        page.get_by_text(str(rec.row["title"]), exact=False).first.wait_for(timeout=LOAD_TIMEOUT)
    img = page.locator('[data-testid="stImage"] img').first
    img.wait_for(state="visible", timeout=LOAD_TIMEOUT)
    page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle())
    # the picture is in the right-hand column, beside the map
    map_box, img_box = page.locator(IFRAME).bounding_box(), img.bounding_box()
    assert map_box and img_box and img_box["x"] >= map_box["x"] + map_box["width"], (map_box, img_box)
    # and the map outlines the selection
    map_frame(page).locator("path.sv-selected").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)


def choose(page: Any, combobox: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``combobox`` (re-opened if a rerun closed it)."""
    box = page.get_by_role("combobox", name=combobox)
    item = page.get_by_role("option", name=option, exact=True)
    for _ in range(8):
        wait_idle(page)
        box.click()
        try:
            item.wait_for(state="visible", timeout=3_000)
            item.click(timeout=3_000)
        except Exception:  # noqa: BLE001 - a rerun re-rendered the list (closed or detached): open it again
            page.keyboard.press("Escape")
            continue
        return
    pytest.fail(f"option {option!r} of {combobox!r} never showed")


def poll(cond: Any, page: Any, message: str, timeout_ms: int = 15_000) -> None:
    """Wait for a condition on test-side state (short polls, the page keeps running meanwhile)."""
    for _ in range(timeout_ms // 100):
        if cond():
            return
        page.wait_for_timeout(100)
    assert cond(), message


def console_problems(page: Any) -> list[str]:
    """Console errors other than the aborted internet requests the test provoked on purpose."""
    return [
        e for e in page.console_errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to load resource" not in e
    ]


# ---- tests --------------------------------------------------------------------------------------


def test_default_demo_click_select_and_share(default_demo, streamlit_server, page, browser, screenshot_path) -> None:
    d = default_demo
    base = streamlit_server("app.py", env=d.env)
    page.set_viewport_size(SHOTS["1366x768"])

    # the whole demo at first: the headline counts every image, the map draws cells or footprints
    open_app(page, base)
    assert headline(page) == d.index.n_images
    page.get_by_text("Synthetic demo data.").first.wait_for()
    assert map_frame(page).locator("path.sv-cell, path.sv-footprint").count() > 0
    shot(page, screenshot_path, "overview")

    # a link to a footprint's place: footprints are drawn there
    target = pick_target(d.index, d.manifest)
    page.set_viewport_size(SHOTS["1366x768"])
    open_app(page, view_url(base, target))
    map_frame(page).locator("path.sv-footprint").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    wait_idle(page)

    # click the footprint under the map's centre: its picture and caption appear on the right
    fp = click_footprint_at_center(page)
    expect_selected(page, d.index, fp)
    assert_no_exception(page)
    shared = page.url
    shot(page, screenshot_path, "selected")

    # the page's link in a new browser context (a different user): the same selection and view
    ctx = _blocked_context(browser)
    try:
        other = ctx.new_page()
        open_app(other, shared)
        expect_selected(other, d.index, fp)
        wait_idle(other)
        q1, q2 = query(shared), query(other.url)
        assert q2["sel"] == q1["sel"] == fp
        assert q2["z"] == q1["z"]
        assert float(q2["lat"]) == pytest.approx(float(q1["lat"]), abs=1e-3)
        assert float(q2["lon"]) == pytest.approx(float(q1["lon"]), abs=1e-3)
        assert other.locator('[data-testid="stException"]').count() == 0
    finally:
        ctx.close()
    assert console_problems(page) == []


def test_selecting_leaves_the_footprints_in_view_alone(default_demo, streamlit_server, page) -> None:
    """A click that selects a footprint draws its outline; the footprints in view are not rebuilt.

    streamlit-folium re-evaluates every dynamic layer when one changes: before the view layer kept its
    rectangles between reruns, each selection removed and rebuilt every footprint in view (0.2-0.35 s of
    the browser's main thread for ~1,900 of them).
    """
    d = default_demo
    base = streamlit_server("app.py", env=d.env)
    page.set_viewport_size(SHOTS["1366x768"])
    open_app(page, view_url(base, pick_target(d.index, d.manifest)))
    footprints = map_frame(page).locator("path.sv-footprint")
    footprints.first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    wait_idle(page)
    frame = inner_frame(page)
    marked = frame.evaluate(
        """() => { const els = document.querySelectorAll('path.sv-footprint');
                   els.forEach((el) => el.setAttribute('data-sv-kept', '1')); return els.length; }"""
    )
    assert marked > 0

    fp = click_footprint_at_center(page)
    expect_selected(page, d.index, fp)
    wait_idle(page)
    # the outline is new; every footprint drawn before the click is the same element, and no other was added
    assert map_frame(page).locator("path.sv-selected").count() == 1
    assert map_frame(page).locator("path.sv-footprint[data-sv-kept]").count() == marked
    assert footprints.count() == marked
    assert_no_exception(page)


def steps_to_more_footprints(idx: ImageIndex, view: dict[str, str], box: dict[str, float]) -> int:
    """How far to zoom out of ``view`` (a map of ``box``'s size) until more footprints are in view."""
    lat, lon, z = float(view["lat"]), float(view["lon"]), int(view["z"])

    def footprints(zoom: int) -> int:
        bbox = mapview.view_bounds(lat, lon, zoom, width_px=int(box["width"]), height_px=int(box["height"]))
        mv = idx.map_view(Filters(bbox=bbox), zoom=zoom)
        return mv.total if mv.kind == "footprints" else -1

    here = footprints(z)
    for dz in range(1, z):
        if footprints(z - dz) > here:
            return dz
    pytest.fail(f"no zoom out of {view} shows more footprints")


def test_a_click_survives_a_redraw_during_the_press(default_demo, streamlit_server, page, screenshot_path) -> None:
    """Press on a footprint, let a rerun redraw the layers under the pointer, release: it is selected.

    Every rerun that changes the data layers replaces them; a press and release that land on two
    different elements make the browser drop the click (a user's press lasts ~100 ms, a rerun comes
    whenever the map reports a move). Here the map zooms out around its centre while the button is down
    (the pressed point stays under the pointer) far enough to rerun the map with more footprints.
    """
    d = default_demo
    base = streamlit_server("app.py", env=d.env)
    page.set_viewport_size(SHOTS["1366x768"])
    target = pick_target(d.index, d.manifest)
    url = view_url(base, target)
    open_app(page, url)
    map_frame(page).locator("path.sv-footprint").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    wait_idle(page)
    x, y, _ = hover_footprint_at_center(page)
    frame = inner_frame(page)
    box = page.locator(IFRAME).bounding_box()
    assert box is not None
    zoom_out = steps_to_more_footprints(d.index, query(url), box)
    pressed = frame.evaluate(
        """([x, y]) => { const el = document.elementFromPoint(x, y);
                         if (!el || !el.classList.contains('sv-footprint')) { return null; }
                         el.setAttribute('data-sv-pressed', '1'); return el.tagName; }""",
        [x - box["x"], y - box["y"]],
    )
    assert pressed, "no footprint under the map's centre"

    page.mouse.down()
    frame.evaluate("(dz) => window.map.setZoom(window.map.getZoom() - dz, {animate: false})", zoom_out)
    # the app reruns with the new view and streamlit-folium replaces the layers: the pressed one is gone
    frame.wait_for_function("() => !document.querySelector('[data-sv-pressed]')", timeout=LOAD_TIMEOUT)
    assert map_frame(page).locator("path.sv-footprint").count() > 0
    page.mouse.up()

    fp = wait_selected(page)
    expect_selected(page, d.index, fp)
    assert_no_exception(page)
    shot(page, screenshot_path, "selected-through-redraw")


def test_source_filter_changes_the_map(default_demo, streamlit_server, page, screenshot_path) -> None:
    d = default_demo
    base = streamlit_server("app.py", env=d.env)
    open_app(page, base)
    wait_idle(page)
    frame = map_frame(page)
    total = headline(page)
    assert total == d.index.n_images
    # the whole demo is too much for footprints at world scale: density cells
    n_cells = frame.locator("path.sv-cell").count()
    assert n_cells > 0 and frame.locator("path.sv-footprint").count() == 0

    source = "P5"  # a small source: few enough for footprints
    expected = d.index.count(Filters(sources=(source,)))
    assert 0 < expected < total
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Source")
    box.locator("input").click()
    page.keyboard.type(source)
    page.get_by_role("option", name=re.compile(rf"^{source} · ")).first.click()
    page.keyboard.press("Escape")

    wait_headline(page, expected)
    frame.locator("path.sv-footprint").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    page.wait_for_function("(src) => new URLSearchParams(location.search).get('src') === src", arg=source)
    wait_idle(page)
    assert frame.locator("path.sv-cell").count() == 0
    assert 0 < frame.locator("path.sv-footprint").count() <= expected
    assert_no_exception(page)
    shot(page, screenshot_path, "filtered")


def test_hostile_text_fires_no_dialog(default_demo, streamlit_server, page, screenshot_path) -> None:
    d = default_demo
    base = streamlit_server("app.py", env=d.env)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    hostile = d.manifest.faults["hostile_text"][0]
    rec = d.index.get(hostile)
    assert rec is not None and rec.row["cx"] is not None
    page.set_viewport_size(SHOTS["1366x768"])
    open_app(page, view_url(base, rec.row, sel=hostile))
    wait_idle(page)

    # the panel shows the caption's markup as text
    page.get_by_text(hostile, exact=True).first.wait_for()
    page.get_by_text("<script>alert(2)</script>", exact=False).first.wait_for()

    # hover the hostile footprint (brought to the front, so it is the one under the pointer); a rerun
    # that redraws the layers under a still pointer shows no tooltip, so only the hover is tried again
    frame = inner_frame(page)
    tooltip = map_frame(page).locator(".leaflet-tooltip", has_text=hostile)
    for _ in range(3):
        wait_idle(page)
        marked = frame.evaluate(
            """(fp) => { let n = 0;
                 Object.values(window.map._layers).forEach(l => {
                   const t = l.getTooltip && l.getTooltip(); const el = l.getElement && l.getElement();
                   if (t && el && el.classList.contains('sv-footprint') && String(t.getContent()).includes(fp)) {
                     l.bringToFront(); el.setAttribute('data-test', 'hostile'); n++; } });
                 return n; }""",
            hostile,
        )
        assert marked == 1
        page.locator(IFRAME).scroll_into_view_if_needed()
        page.mouse.move(1, 1)
        map_frame(page).locator('path[data-test="hostile"]').hover(force=True)
        try:
            tooltip.wait_for(state="visible", timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - the layers were redrawn under the pointer: hover again
            continue
    tooltip.wait_for(state="visible", timeout=5_000)
    assert "<script>alert(2)</script>" in tooltip.inner_text()  # shown as text, not run

    # nothing from the data became an element, nothing ran
    for f in (page.main_frame, frame):
        assert f.evaluate("() => document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
        assert (
            f.evaluate("() => Array.from(document.scripts).filter(s => s.textContent.includes('alert(2)')).length") == 0
        )
    shot(page, screenshot_path, "hostile")
    assert dialogs == []
    assert [e for e in page.console_errors if "alert" in e] == []


def test_drape_and_satellite_offline(default_demo, streamlit_server, page, screenshot_path) -> None:
    d = default_demo
    base = streamlit_server("app.py", env=d.env)
    target = pick_target(d.index, d.manifest)
    page.set_viewport_size(SHOTS["1366x768"])
    open_app(page, view_url(base, target, sel=target["filepath"]))
    expect_selected(page, d.index, target["filepath"])
    wait_idle(page)
    frame = map_frame(page)
    assert frame.locator("img.leaflet-image-layer").count() == 0

    # "Drape on map" lays the picture on the map
    page.locator('[data-testid="stCheckbox"]', has_text="Drape on map").locator("label").first.click()
    overlay = frame.locator("img.leaflet-image-layer")
    overlay.first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    assert (overlay.first.get_attribute("src") or "").startswith("data:image/")
    page.wait_for_function("() => new URLSearchParams(location.search).get('drape') === '1'")
    wait_idle(page)
    shot(page, screenshot_path, "drape")

    # the satellite base layer needs the internet, which is blocked: the map still works
    page.set_viewport_size(SHOTS["1366x768"])
    wait_idle(page)
    # mark the map's iframe: switching the base layer must keep it (a new map iframe mounted next to
    # the old one is how the map used to vanish)
    page.locator(IFRAME).evaluate("el => { el.dataset.svMark = 'kept'; }")
    choose(page, "Base map", "Satellite (Esri)")
    page.wait_for_function("() => new URLSearchParams(location.search).get('base') === 'satellite'")
    frame.locator("path.sv-footprint").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    frame.locator("img.leaflet-image-layer").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    # the browser did ask for satellite tiles, and they were refused
    poll(lambda: any("arcgisonline" in u for u in page.blocked_requests), page, "no satellite tile requested")
    wait_idle(page)
    poll(
        lambda: (
            frame.locator('img.leaflet-tile[src*="arcgisonline"]').count() > 0
            and frame.locator('img.leaflet-tile[src*="/tiles/"]').count() == 0
        ),
        page,
        "the satellite layer did not replace the offline one",
    )
    assert page.locator(IFRAME).count() == 1
    assert page.locator(IFRAME).get_attribute("data-sv-mark") == "kept", "the map was rebuilt in a new iframe"
    assert page.locator(IFRAME).is_visible()
    assert frame.locator(".leaflet-container").is_visible()
    assert_no_exception(page)
    page.get_by_text(target["filepath"], exact=True).first.wait_for()
    shot(page, screenshot_path, "satellite-offline")


_SPY_SENDS = """() => {
  // what the map sends to the server (and whether our prompt reporter sent it), its moves and its renders
  const S = window.Streamlit, now = () => Math.round(performance.now());
  if (!S.__svSpy) {
    const send = S.setComponentValue;
    S.__svSends = [];
    S.__svLog = [];
    S.setComponentValue = function (v) {
      S.__svSends.push({prompt: window.__svPromptReports || 0, value: JSON.stringify(v), t: now()});
      return send.apply(this, arguments);
    };
    window.map.on('moveend', () => S.__svLog.push(['moveend', now(), JSON.stringify(window.map.getCenter())]));
    S.events.addEventListener(S.RENDER_EVENT, (e) => S.__svLog.push(['render', now(), JSON.stringify(e.detail.args.center)]));
    S.__svSpy = true;
  }
  S.__svSends.length = 0;
  S.__svLog.length = 0;
}"""

# the map's first report has gone out: streamlit-folium's starting value has no click count (null)
_MAP_REPORTED = """() => { const g = window.map && window.__GLOBAL_DATA__;
                         return !!g && typeof (g.previous_data || {}).last_object_clicked_count === 'number'; }"""


def _spy(page: Any, frame: Any) -> None:
    """Reset the spy once the map has made its first report, the app has answered it, and the map has
    sent nothing for 800 ms while nobody touched it (its frame may still be sized under load, a move
    the map reports before the gesture under test)."""
    frame.wait_for_function(_MAP_REPORTED, timeout=LOAD_TIMEOUT)
    for _ in range(20):
        wait_idle(page)
        frame.evaluate(_SPY_SENDS)
        page.wait_for_timeout(800)
        if not _sends(frame)[0]:
            return
    pytest.fail(f"the map kept reporting while nobody touched it: {_sends(frame)}")


def _sends(frame: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """What the map sent since the spy was (re)set, and its moves and renders (for failure messages)."""
    return frame.evaluate("() => window.Streamlit.__svSends.slice()"), frame.evaluate(
        "() => window.Streamlit.__svLog.slice()"
    )


def _reported_at_once(frame: Any, what: str) -> dict[str, Any]:
    """The gesture reached the server by the map's own report, not streamlit-folium's debounced one, and
    the map settled: no late run threw it back to an earlier view (each such jump is reported again,
    and the old code ping-ponged 5-7 times here). A second report is allowed: the map's frame may
    change size under it when the page's layout moves."""
    sends, log = _sends(frame)
    assert sends, f"{what}: nothing reported; {log}"
    assert sends[0]["prompt"] >= 1, f"{what}: reported by the debounced path: {sends} {log}"
    assert len(sends) <= 2, f"{what}: the map kept moving: {sends} {log}"
    return sends[0]


def test_a_pan_and_a_click_reach_the_server_at_once_and_once(default_demo, streamlit_server, page) -> None:
    """streamlit-folium waits 250 ms (a debounce) before it reports a move or a click; the map reports
    each gesture itself, at once (a drag's glide and a zoom as they start, with the view they end at),
    and the debounced report then finds nothing new to send. The map settles after each gesture: late
    runs do not throw it back to an earlier view."""
    d = default_demo
    base = streamlit_server("app.py", env=d.env)
    page.set_viewport_size(SHOTS["1366x768"])
    target = pick_target(d.index, d.manifest)
    open_app(page, view_url(base, target))
    map_frame(page).locator("path.sv-footprint").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    wait_idle(page)
    frame = inner_frame(page)

    # a drag and its glide
    _spy(page, frame)
    before = query(page.url)
    x, y = map_center(page)
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x - 12 * i, y - 6 * i)
    page.mouse.up()
    page.wait_for_function(
        "(lon) => new URLSearchParams(location.search).get('lon') !== lon", arg=before["lon"], timeout=LOAD_TIMEOUT
    )
    wait_idle(page)
    page.wait_for_timeout(800)  # past streamlit-folium's debounce: its report would be in by now
    first = _reported_at_once(frame, "a drag")
    assert '"bounds"' in first["value"]

    # one zoom step, reported as the animation starts with the zoom it ends at
    _spy(page, frame)
    z = int(query(page.url)["z"])
    map_frame(page).locator(".leaflet-control-zoom-out").click()
    page.wait_for_function(
        "(z) => new URLSearchParams(location.search).get('z') === String(z)", arg=z - 1, timeout=LOAD_TIMEOUT
    )
    wait_idle(page)
    page.wait_for_timeout(800)
    first = _reported_at_once(frame, "a zoom")
    assert f'"zoom":{z - 1}' in first["value"]

    # a click on a footprint selects it, reported once, by the map's own report
    open_app(page, view_url(base, target))
    map_frame(page).locator("path.sv-footprint").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    wait_idle(page)
    frame = inner_frame(page)
    _spy(page, frame)
    fp = click_footprint_at_center(page)
    expect_selected(page, d.index, fp)
    wait_idle(page)
    page.wait_for_timeout(800)
    first = _reported_at_once(frame, "a click")
    assert '"last_object_clicked_count":0' not in first["value"], first
    assert_no_exception(page)


_PROBE_FROM_START = """(() => {
  // every value a map frame sends, from its first: wrapped before the map's own script runs
  const iv = setInterval(() => {
    const S = window.Streamlit;
    if (!S || !S.setComponentValue) { return; }
    clearInterval(iv);
    const send = S.setComponentValue;
    window.__svAll = [];
    S.setComponentValue = function (v) { window.__svAll.push(JSON.stringify(v)); return send.apply(this, arguments); };
  }, 1);
})();"""


def test_a_link_opens_the_map_with_one_report(default_demo, streamlit_server, page) -> None:
    """A link's view reaches the server once: the map's first report, and no second one when Leaflet
    recomputes its centre from pixels (sub-pixel, same bounds) once its frame is sized; every report
    costs a run that sends the map's layers again."""
    d = default_demo
    base = streamlit_server("app.py", env=d.env)
    page.set_viewport_size(SHOTS["1366x768"])
    page.add_init_script(_PROBE_FROM_START)
    open_app(page, view_url(base, pick_target(d.index, d.manifest)))
    map_frame(page).locator("path.sv-footprint").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    frame = inner_frame(page)
    frame.wait_for_function(_MAP_REPORTED, timeout=LOAD_TIMEOUT)
    wait_idle(page)
    page.wait_for_timeout(1500)
    wait_idle(page)
    sent = frame.evaluate("() => window.__svAll")
    assert len(sent) == 1, sent
    assert_no_exception(page)
