"""Page timings in a real browser: what a person waits for, page by page and click by click.

    python bench/browser.py [--n 300000 | --root DIR | --demo] [--out bench/out/pages-<name>.json]

Generates a root with bench/generate.py (or reuses ``--root`` / ``bench/out/ds<n>``), builds its index,
starts ``streamlit run app.py`` on it and drives Debian's Chromium with Playwright (every request off this
machine is aborted). For each step it prints the time until the app is idle, the bytes that came over
the websocket, the bytes of media / thumbnail / component / other requests, the server's script time
(``SKYSCRIPT_VIZ_TIMINGS`` log lines), the browser's long tasks, and the server's RSS.

*Idle* means: Streamlit's script state is ``notRunning``, the step's own "done" check passes, no
request is pending and nothing happened (websocket message, DOM mutation in any frame, finished
resource) for ``QUIET_MS``. The time reported is from the action to the *last* such event.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, _is_local  # noqa: E402

QUIET_MS = 700
STEP_TIMEOUT_S = 120.0
VIEWPORT = {"width": 1366, "height": 900}
# Every request to a host other than this machine goes to a closed local port and fails (Chromium never
# proxies loopback, and the proxy would resolve names, so nothing is looked up either).
NO_INTERNET_ARGS = ["--proxy-server=http://127.0.0.1:9"]
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

# Runs in every frame (the page and the map iframe) before any of its scripts: counts websocket bytes,
# finished resources (with their transfer size) and the main thread's long tasks, and stamps the last
# activity (message, mutation, resource) on the top window.
INSTRUMENT = r"""
(() => {
  let top; try { top = window.top; void top.location.href; } catch (e) { top = window; }
  if (window === top) {
    window.__sv = {last: Date.now(), wsIn: 0, wsOut: 0, wsMsgs: 0, res: [], longMs: 0, longN: 0, ws: []};
    const WS = window.WebSocket;
    const size = (d) => (d && (d.byteLength ?? d.size ?? d.length)) || 0;
    const Wrapped = function (url, protocols) {
      const ws = protocols === undefined ? new WS(url) : new WS(url, protocols);
      ws.addEventListener('message', (ev) => {
        const s = window.__sv; s.wsIn += size(ev.data); s.wsMsgs += 1; s.last = Date.now();
        s.ws.push([s.last, size(ev.data)]); });
      const send = ws.send.bind(ws);
      ws.send = (d) => { const s = window.__sv; s.wsOut += size(d); s.last = Date.now(); s.ws.push([s.last, -size(d)]);
        return send(d); };
      return ws;
    };
    Wrapped.prototype = WS.prototype;
    for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Wrapped[k] = WS[k];
    window.WebSocket = Wrapped;
  }
  const sv = () => top.__sv;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        sv().res.push({url: e.name, size: e.transferSize || e.encodedBodySize || 0,
                       start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.responseEnd});
        sv().last = Math.max(sv().last, Date.now());
      }
    }).observe({type: 'resource', buffered: true});
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) { sv().longMs += e.duration; sv().longN += 1; }
    }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
  new MutationObserver(() => { sv().last = Date.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""

# Init scripts did not see the map iframe's mutations: (re)attach an observer to each child frame.
OBSERVE_FRAME = """() => { if (window.__svObserved) return; window.__svObserved = true;
  new MutationObserver(() => { window.top.__sv.last = Date.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true}); }"""

SNAPSHOT = """() => { const s = window.__sv; if (!s) return null;
  const a = document.querySelector('[data-testid="stApp"]');
  return {now: Date.now(), last: s.last, wsIn: s.wsIn, wsOut: s.wsOut, wsMsgs: s.wsMsgs, nres: s.res.length,
          longMs: s.longMs, longN: s.longN, state: a ? a.getAttribute('data-test-script-state') : null}; }"""


@dataclass
class Step:
    """One measured user action."""

    name: str
    seconds: float
    ws_in: int = 0
    ws_out: int = 0
    media: int = 0
    n_media: int = 0
    thumbs: int = 0
    n_thumbs: int = 0
    component: int = 0
    static: int = 0
    other: int = 0
    script_ms: list[int] = field(default_factory=list)
    long_tasks_ms: float = 0.0
    rss_mb: float = 0.0
    load: float = 0.0
    largest: list[tuple[str, int]] = field(default_factory=list)
    parts_ms: dict[str, float] = field(default_factory=dict)
    # websocket messages after the action: (ms since the action, bytes; negative = sent by the browser)
    ws_timeline: list[tuple[int, int]] = field(default_factory=list)


def _kind(url: str) -> str:
    """Which column a request's bytes go to, by the endpoint that served it."""
    path = urlsplit(url).path
    for prefix, kind in (
        ("/media/", "media"),
        ("/thumb/", "thumbs"),
        ("/component/", "component"),
        ("/static/", "static"),
        ("/app/static/", "static"),
    ):
        if path.startswith(prefix):
            return kind
    return "other"


class Session:
    """One browser page of the app, with the instrumentation installed and pending requests tracked."""

    def __init__(self, browser: Any) -> None:
        # no context.route(): Playwright turns the HTTP cache off while routing, and warm visits must use it.
        # The network is closed by the launch arguments instead (NO_INTERNET_ARGS).
        self.ctx = browser.new_context(viewport=VIEWPORT, service_workers="block")
        self.ctx.add_init_script(INSTRUMENT)
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(60_000)
        self.pending: set[Any] = set()
        self.page.on("request", lambda r: self.pending.add(r))
        self.page.on("requestfinished", lambda r: self.pending.discard(r))
        self.page.on("requestfailed", lambda r: self._failed(r))
        self.external: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _failed(self, request: Any) -> None:
        self.pending.discard(request)
        if not _is_local(request.url):
            self.external.append(request.url)

    def snap(self) -> dict[str, Any] | None:
        try:
            return self.page.evaluate(SNAPSHOT)  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - mid-navigation: no page to ask yet
            return None

    def resources_since(self, t0_ms: float) -> list[dict[str, Any]]:
        return self.page.evaluate("(t) => window.__sv.res.filter(r => r.end >= t)", t0_ms)  # type: ignore[no-any-return]

    def observe_frames(self) -> None:
        for frame in self.page.frames[1:]:
            with contextlib.suppress(Exception):  # a frame being replaced: the next poll attaches again
                frame.evaluate(OBSERVE_FRAME)

    def idle(self, t0_ms: float, ready: Any) -> dict[str, Any] | None:
        """The snapshot if the app is idle now (see the module docstring), else None."""
        self.observe_frames()
        s = self.snap()
        if not s or s["state"] != "notRunning" or self.pending or s["now"] - s["last"] < QUIET_MS:
            return None
        if ready and not ready(self.page):
            return None
        return s


def wait_all_idle(sessions: list[Session], t0_ms: float, ready: Any, ran: Any = lambda: True) -> list[dict[str, Any]]:
    """Poll the sessions until every one is idle and ``ran()`` says the server ran the script."""
    done: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while len(done) < len(sessions) or not ran():
        if len(done) == len(sessions):
            done.clear()  # idle before the server even started: wait for the run and its output
        if time.monotonic() > deadline:
            s = sessions[len(done)] if len(done) < len(sessions) else sessions[0]
            snap = s.snap()
            why = {
                "snapshot": snap,
                "pending": [r.url for r in s.pending][:5],
                "ready": ready(s.page) if ready else None,
                "ran": ran(),
            }
            raise TimeoutError(f"not idle after {STEP_TIMEOUT_S:.0f}s: {why}")
        for i, s in enumerate(sessions):
            if i not in done:
                snap = s.idle(t0_ms, ready)
                if snap is not None:
                    done[i] = snap
        sessions[0].page.wait_for_timeout(60)
    return [done[i] for i in range(len(sessions))]


class Bench:
    """The server, the browser, and the steps run against them."""

    def __init__(self, server: StreamlitServer, browser: Any) -> None:
        self.server, self.browser = server, browser
        self.steps: list[Step] = []
        self._log_pos = 0

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.server.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _script_times(self, *, consume: bool = True) -> list[int]:
        out = self.server.output()
        new = out[self._log_pos :]
        if consume:
            self._log_pos = len(out)
        # sessions log from several threads: two lines can run together ("script_ms=1032[part] …")
        return [int(ms) for ms in re.findall(r"\[timing\][^\n]*?script_ms=(\d+)", new)]

    def _parts(self, start: int) -> dict[str, float]:
        """Server time per part (``[part]`` log lines) since log offset ``start``, summed by label."""
        out: dict[str, float] = {}
        for label, ms in re.findall(r"\[part\] ([^\n\[]+?) ms=(\d+(?:\.\d+)?)", self.server.output()[start:]):
            out[label] = round(out.get(label, 0.0) + float(ms), 1)
        return out

    def measure(
        self, name: str, sessions: list[Session], action: Any, ready: Any = None, needs_run: bool = True
    ) -> Step:
        """Run ``action`` and wait until every session is idle; record the step."""
        self._script_times()
        log_start = self._log_pos
        for sess in sessions:
            sess.observe_frames()
        before = [s.snap() or {"wsIn": 0, "wsOut": 0, "longMs": 0} for s in sessions]
        t0_ms = time.time() * 1000
        action()
        runs = len(sessions) if needs_run else 0
        try:
            snaps = wait_all_idle(sessions, t0_ms, ready, lambda: len(self._script_times(consume=False)) >= runs)
            # a step whose action changed nothing (a hover over a tooltip already shown) waited for nothing
            step = Step(name, max(0.0, max(s["last"] for s in snaps) / 1000 - t0_ms / 1000))
        except TimeoutError as exc:  # one step that never gets ready must not lose the rest of the run
            print(f"{name}: {exc}", flush=True)
            snaps = [s.snap() or {"wsIn": 0, "wsOut": 0, "longMs": 0, "last": t0_ms} for s in sessions]
            step = Step(f"{name} (NOT READY: timed out)", STEP_TIMEOUT_S)
        for sess, b, s in zip(sessions, before, snaps, strict=True):
            same_doc = s["wsIn"] >= b["wsIn"]
            step.ws_in += s["wsIn"] - (b["wsIn"] if same_doc else 0)
            step.ws_out += s["wsOut"] - (b["wsOut"] if same_doc else 0)
            step.long_tasks_ms += s["longMs"] - (b["longMs"] if same_doc else 0)
            for r in sess.resources_since(t0_ms):
                step.largest.append((r["url"].split("://", 1)[-1].split("/", 1)[-1][:90], int(r["size"])))
                kind = _kind(r["url"])
                setattr(step, kind, getattr(step, kind) + r["size"])
                if kind in ("media", "thumbs"):
                    setattr(step, f"n_{kind}", getattr(step, f"n_{kind}") + 1)
        step.largest = sorted(step.largest, key=lambda u: -u[1])[:8]
        step.ws_timeline = [
            (int(t - t0_ms), int(n))
            for t, n in sessions[0].page.evaluate(
                "(t) => (window.__sv ? window.__sv.ws : []).filter(m => m[0] >= t)", t0_ms
            )
        ]
        step.load = float(Path("/proc/loadavg").read_text().split()[0])
        step.script_ms = self._script_times()
        step.parts_ms = self._parts(log_start)
        step.rss_mb = self.rss_mb()
        self.steps.append(step)
        print(_row(step), flush=True)
        if step.parts_ms:
            print("    parts ms: " + ", ".join(f"{k} {v:.0f}" for k, v in step.parts_ms.items()), flush=True)
        if step.ws_timeline:
            print("    websocket (ms: KB, - sent): " + _timeline(step.ws_timeline), flush=True)
        return step


def map_ready(page: Any) -> bool:
    """The headline is shown and the map iframe has drawn footprints or cells."""
    return (
        page.locator("h4", has_text="images match").count() > 0
        and page.frame_locator(IFRAME).locator("path.leaflet-interactive").count() > 0
    )


def gallery_ready(page: Any) -> bool:
    """Thumbnails and their "Open" buttons are on the page and every image has loaded."""
    return page.locator("[class*='st-key-g_open_'] button").count() > 0 and page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')].every(i => i.complete)"
    )


def gallery_page_ready(number: int) -> Any:
    """gallery_ready, on page ``number``: the previous page's complete images must not pass for it."""
    return lambda page: gallery_ready(page) and page.get_by_text(f"page {number:,} of").count() > 0


def selected_ready(page: Any) -> bool:
    return "sel=" in page.url


def _nav(page: Any, title: str) -> Any:
    return lambda: page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()


def _map_box(page: Any) -> dict[str, float]:
    box = page.locator(IFRAME).bounding_box()
    assert box is not None
    return box


def _pan(page: Any) -> None:
    box = _map_box(page)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 9):
        page.mouse.move(x - 15 * i, y - 8 * i)
    page.mouse.up()


def _zoom(page: Any) -> None:
    page.frame_locator(IFRAME).locator(".leaflet-control-zoom-in").click()


def _pick_source(page: Any) -> None:
    page.get_by_role("combobox", name="Source").click()
    page.get_by_role("option").first.click()
    page.keyboard.press("Escape")


def _map_center(page: Any) -> tuple[float, float]:
    box = _map_box(page)
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _hover_center(page: Any) -> None:
    """Move the mouse onto the footprint at the map's centre and wait for its tooltip (what a user does
    before clicking: the tooltip names the image)."""
    x, y = _map_center(page)
    page.mouse.move(x - 4, y - 4)
    page.mouse.move(x, y)
    page.frame_locator(IFRAME).locator(".leaflet-tooltip").first.wait_for(state="visible", timeout=10_000)


def _click_center(page: Any) -> None:
    page.mouse.click(*_map_center(page))


def footprint_view(index_root: Path) -> tuple[str, str]:
    """A link query centred on a clean footprint in a dense place, and its file path."""
    from skyscript_viz import Filters, ImageIndex, mapview

    idx = ImageIndex.open(index_root)
    try:
        rows = idx.page(Filters(sources=("CH",)), limit=200, order="id").rows
        if rows.empty:
            rows = idx.page(Filters(), limit=200, order="id").rows
        row = next(r for r in rows.to_dict("records") if r["cx"] is not None and not r["n_problems"])
        _, _, z = mapview.zoom_for_bbox(
            row["west"], row["south"], row["east"], row["north"], width_px=300, height_px=300
        )
        return f"?lat={row['cy']:.6f}&lon={row['cx']:.6f}&z={z}", str(row["filepath"])
    finally:
        idx.close()


def run_steps(bench: Bench, root: Path | None, sessions_at_once: int) -> None:
    """The user journey of issue 9, one step at a time, then N sessions opening the map at once."""
    base = bench.server.url
    s = Session(bench.browser)
    p = s.page
    bench.measure("open the map (first visit after start)", [s], lambda: p.goto(base, wait_until="commit"), map_ready)
    bench.measure("pan the map", [s], lambda: _pan(p), map_ready)
    bench.measure("zoom in one step", [s], lambda: _zoom(p), map_ready)
    bench.measure("pick a source", [s], lambda: _pick_source(p), map_ready)
    query, _ = footprint_view(root) if root else ("", "")
    bench.measure(
        "open the map at a footprint (link)", [s], lambda: p.goto(f"{base}/{query}", wait_until="commit"), map_ready
    )
    bench.measure("hover a footprint (tooltip)", [s], lambda: _hover_center(p), None, needs_run=False)
    bench.measure("select a footprint", [s], lambda: _click_center(p), selected_ready)
    bench.measure("gallery, first visit (empty thumbnail cache)", [s], _nav(p, "Gallery"), gallery_ready)
    bench.measure("map again (warm)", [s], _nav(p, "Map"), map_ready)
    bench.measure("gallery again", [s], _nav(p, "Gallery"), gallery_ready)
    bench.measure("gallery, next page", [s], lambda: p.locator(".st-key-g_next button").click(), gallery_page_ready(2))
    bench.measure("image page", [s], _nav(p, "Image"), None)
    bench.measure("overview", [s], _nav(p, "Overview"), None)
    bench.measure("quality", [s], _nav(p, "Quality"), None)
    bench.measure("audit", [s], _nav(p, "Audit"), None)
    bench.measure("overview again (warm)", [s], _nav(p, "Overview"), None)
    rss_one = bench.rss_mb()
    many = [Session(bench.browser) for _ in range(sessions_at_once)]
    bench.measure(
        f"{sessions_at_once} new sessions open the map at once",
        many,
        lambda: [m.page.goto(base, wait_until="commit") for m in many],
        map_ready,
    )
    print(f"RSS growth per extra session: {(bench.rss_mb() - rss_one) / sessions_at_once:.1f} MB", flush=True)
    external = [u for m in [s, *many] for u in m.external]
    if external:
        print(f"requests off this machine, refused: {len(external)} (e.g. {external[0][:80]})")
    errors = [e for m in [s, *many] for e in m.errors]
    if errors:
        print("page errors:\n  " + "\n  ".join(errors[:10]))
    for m in [s, *many]:
        m.ctx.close()


def _timeline(msgs: list[tuple[int, int]]) -> str:
    """Websocket messages as "ms: KB" pairs, consecutive small messages of one direction merged."""
    out: list[list[int]] = []
    for t, n in msgs:
        if out and (out[-1][1] < 0) == (n < 0) and t - out[-1][0] < 50:
            out[-1][1] += n
        else:
            out.append([t, n])
    return " ".join(f"{t}: {n / 1024:+.1f}" for t, n in out[:24]) + (" …" if len(out) > 24 else "")


def _kb(n: int) -> str:
    return f"{n / 1024:,.0f}"


HEADER = (
    f"{'step':<46} {'idle s':>7} {'ws KB':>7} {'media KB (n)':>13} {'thumb KB (n)':>13} "
    f"{'comp KB':>8} {'static KB':>9} {'other KB':>8} {'script ms':>14} {'long ms':>8} {'RSS MB':>7} {'load':>5}"
)


def _row(s: Step) -> str:
    scripts = "+".join(str(x) for x in s.script_ms[:4]) + ("…" if len(s.script_ms) > 4 else "")
    return (
        f"{s.name:<46} {s.seconds:>7.2f} {_kb(s.ws_in):>7} {_kb(s.media) + f' ({s.n_media})':>13} "
        f"{_kb(s.thumbs) + f' ({s.n_thumbs})':>13} {_kb(s.component):>8} {_kb(s.static):>9} {_kb(s.other):>8} "
        f"{scripts:>14} {s.long_tasks_ms:>8.0f} {s.rss_mb:>7.0f} {s.load:>5.1f}"
    )


def scratch_root(root: Path, scratch: Path) -> Path:
    """A root for the app that reads ``root``'s built index and images but writes nothing there.

    ``scratch/.skyscript_viz`` holds a copy of ``root``'s CURRENT (which names the images' root) and a link
    to its live generation; thumbnails and reviews go to ``scratch``. No build runs: the index must be built.
    """
    from skyscript_viz.build import default_index_dir

    src = default_index_dir(root)
    info = json.loads((src / "CURRENT").read_text())
    idx = scratch / ".skyscript_viz"
    shutil.rmtree(idx / "thumbs", ignore_errors=True)  # the gallery's first visit: an empty thumbnail cache
    idx.mkdir(parents=True, exist_ok=True)
    gen = idx / info["generation"]
    if not gen.exists():
        gen.symlink_to(src / info["generation"], target_is_directory=True)
    (idx / "CURRENT").write_text(json.dumps(info))
    return scratch


def prepare_root(args: argparse.Namespace) -> tuple[Path | None, dict[str, str]]:
    """The dataset root (generated if needed, index built) and the server's environment."""
    if args.scratch:
        if not args.root:
            raise SystemExit("--scratch needs --root")
        return args.root, {"SKYSCRIPT_ROOT": str(scratch_root(args.root.resolve(), args.scratch.resolve()))}
    if args.demo:
        from skyscript_viz.build import build_index
        from skyscript_viz.demo import demo_root

        xdg = Path(tempfile.mkdtemp(prefix="bench-xdg-"))
        root = demo_root(cache_dir=xdg / "skyscript_viz")
        build_index(root)
        return root, {"XDG_CACHE_HOME": str(xdg), "SKYSCRIPT_ROOT": ""}
    root = args.root or ROOT / "bench" / "out" / f"ds{args.n // 1000}k"
    if not (root / "meta2.zip").exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--n", str(args.n), "--out", str(root)], check=True
        )
    from skyscript_viz.build import build_index, default_index_dir

    t = time.perf_counter()
    build_index(root)
    print(f"index ready in {time.perf_counter() - t:.1f} s", flush=True)
    thumbs = default_index_dir(root)
    for d in thumbs.rglob("thumbs"):  # the gallery's first visit is measured with an empty thumbnail cache
        shutil.rmtree(d, ignore_errors=True)
    return root, {"SKYSCRIPT_ROOT": str(root)}


def compare(before: Path, after: Path) -> str:
    """Two runs' steps side by side as a Markdown table (before → after)."""
    a = {st["name"]: st for st in json.loads(before.read_text())["steps"]}
    lines = [
        "| step | idle s | websocket KB | images KB (requests) | script ms | browser long tasks ms |",
        "|---|---|---|---|---|---|",
    ]
    for s in json.loads(after.read_text())["steps"]:
        o = a.get(s["name"])
        if o is None:
            continue
        img = [f"{(x['media'] + x['thumbs']) / 1024:,.0f} ({x['n_media'] + x['n_thumbs']})" for x in (o, s)]
        lines.append(
            f"| {s['name']} | {o['seconds']:.1f} → {s['seconds']:.1f} "
            f"| {o['ws_in'] / 1024:,.0f} → {s['ws_in'] / 1024:,.0f} | {img[0]} → {img[1]} "
            f"| {sum(o['script_ms']):,} → {sum(s['script_ms']):,} "
            f"| {o['long_tasks_ms']:,.0f} → {s['long_tasks_ms']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300_000, help="images to generate (bench/out/ds<n/1000>k)")
    ap.add_argument("--root", type=Path, help="an existing dataset root instead of a generated one")
    ap.add_argument("--demo", action="store_true", help="the built-in demo sample")
    ap.add_argument(
        "--scratch",
        type=Path,
        help="with --root: use ROOT's built index read-only; the app's thumbnails and reviews go to this folder",
    )
    ap.add_argument("--sessions", type=int, default=5, help="sessions opening the map at once")
    ap.add_argument("--label", default="", help="a name for this run in the JSON output")
    ap.add_argument("--out", type=Path, help="JSON results (default bench/out/pages-<root name>.json)")
    ap.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("BEFORE", "AFTER"),
        help="print two earlier runs' JSON side by side as a Markdown table, and stop",
    )
    args = ap.parse_args(argv)
    if args.compare:
        print(compare(*args.compare))
        return 0
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: apt-get install chromium", file=sys.stderr)
        return 2
    root, env = prepare_root(args)
    env["SKYSCRIPT_VIZ_TIMINGS"] = "1"
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    server = StreamlitServer(ROOT / "app.py", env, [], tmp)
    try:
        server.wait_healthy()
        print(f"server up, RSS {Bench(server, None).rss_mb():.0f} MB; root {root}", flush=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *NO_INTERNET_ARGS], headless=True
            )
            bench = Bench(server, browser)
            print(HEADER, flush=True)
            try:
                run_steps(bench, root, args.sessions)
            finally:
                browser.close()
    finally:
        server.stop()
    name = "demo" if args.demo else (root.name if root else "root")
    out = args.out or ROOT / "bench" / "out" / f"pages-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"root": str(root), "label": args.label, "steps": [asdict(s) for s in bench.steps]}, indent=1)
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
