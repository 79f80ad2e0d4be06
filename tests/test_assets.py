"""skyscript_viz.assets (map scripts from pip) and the app's routes, without a browser."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import pytest

from skyscript_viz import assets

REPO_ROOT = Path(__file__).resolve().parents[1]
CDN_RE = re.compile(r"https?://[^\"'\s)]*(?:cdn|jquery|bootstrap|cloudflare|fontawesome|d3js)[^\"'\s)]*", re.I)
# No package registry's host in the code: everything the app needs comes with `pip install`. The hosts are
# known here only by the first 16 hex digits of their SHA-256, so this file does not name them either.
REGISTRY_HOST_HASHES = frozenset(
    {
        "a4aa2ac280bb8d1a",
        "c899567ee9068517",
        "0dc11026ac75c015",
        "8743857e3ea00fd1",
        "3ca29e55be4befa4",
        "e2dd3580aeebec64",
    }
)
_HOST_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+", re.I)


def registry_hosts(text: str, hashes: frozenset[str] = REGISTRY_HOST_HASHES) -> set[str]:
    """Every host name in ``text`` (or a parent domain of one) whose hash is in ``hashes``."""
    found: set[str] = set()
    for m in _HOST_RE.finditer(text):
        labels = m.group(0).lower().split(".")
        for i in range(len(labels) - 1):
            host = ".".join(labels[i:])
            if hashlib.sha256(host.encode()).hexdigest()[:16] in hashes:
                found.add(host)
    return found


def test_registry_host_check_finds_a_host_and_its_subdomains() -> None:
    fake = frozenset({hashlib.sha256(b"example.invalid").hexdigest()[:16]})
    assert registry_hosts("pip --index-url https://cdn.example.invalid/simple x", fake) == {"example.invalid"}
    assert registry_hosts("example.org and examples.invalid", fake) == set()


@pytest.fixture
def folium_class_lists():
    """Snapshot folium's class-level asset lists and check they are unchanged afterwards."""
    classes: list[Any] = [folium.Map]
    before = {c: (copy.deepcopy(c.default_js), copy.deepcopy(c.default_css)) for c in classes}
    ids = {c: (id(c.default_js), id(c.default_css)) for c in classes}
    yield
    for c in classes:
        assert (c.default_js, c.default_css) == before[c], f"{c.__name__} class asset lists were mutated"
        assert (id(c.default_js), id(c.default_css)) == ids[c], f"{c.__name__} class asset lists were replaced"
    assert folium.Map.default_js is folium.folium._default_js


def _rendered_urls(m: folium.Map) -> list[str]:
    html = m.get_root().render()
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_urls_name_the_pip_installed_versions() -> None:
    js, css = assets.leaflet_urls()
    assert js == "/vendor/leaflet-1.9.3/leaflet.js"  # the Leaflet folium 0.20 asks for
    assert css == "/vendor/leaflet-1.9.3/leaflet.css"
    assert assets.JQUERY_URL == "/vendor/jquery-3.7.1/jquery.min.js"
    assert assets.OFFLINE_TILES_URL == "/tiles/{z}/{x}/{y}.png"
    assert assets.OFFLINE_MAX_NATIVE_ZOOM >= 8
    assert assets.assets_available()
    for prefix, folder in assets.vendor_dirs().items():
        assert prefix.startswith("/vendor/") and folder.is_dir(), (prefix, folder)


def test_assets_module_does_not_import_streamlit() -> None:
    source = (REPO_ROOT / "skyscript_viz" / "assets.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+streamlit", source, re.M)


def test_no_package_registry_host_and_no_fetch_step() -> None:
    """Nothing downloads at install or start: no registry host, no `make assets`, no ./static."""
    files = [
        p
        for p in REPO_ROOT.rglob("*")
        if p.is_file()
        and p.suffix in {".py", ".toml", ".txt", ".md", ""}
        and not any(
            part.startswith(".") and part not in {".streamlit", ".ci"} for part in p.relative_to(REPO_ROOT).parts
        )
        and "test-artifacts" not in p.parts
    ]
    hits = [str(p) for p in files if registry_hosts(p.read_text(encoding="utf-8", errors="replace"))]
    assert hits == []
    assert not (REPO_ROOT / "scripts" / "fetch_assets.py").exists()
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert not re.search(r"^(run|test|test-fast|test-e2e):.*\bassets\b", makefile, re.M)
    config = (REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert "enableStaticServing" not in config


def test_configure_replaces_cdn_assets(folium_class_lists) -> None:
    m = folium.Map(location=[47, 8], zoom_start=4)
    assert assets.configure_folium_assets(m) is True
    folium.Rectangle([[45.8, 5.9], [47.8, 10.5]], tooltip="CH", popup=folium.Popup("<b>x</b>")).add_to(m)
    folium.GeoJson({"type": "Point", "coordinates": [8, 47]}, tooltip="pt").add_to(m)
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    assert not CDN_RE.search(html), CDN_RE.search(html)
    urls = _rendered_urls(m)
    assert assets.LEAFLET_JS_URL in urls
    assert assets.LEAFLET_CSS_URL in urls
    assert assets.JQUERY_URL in urls  # folium's Popup template calls $()
    assert assets.external_asset_urls(m) == []
    # each local URL is answered by the app's routes
    client = _client()
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "html" not in resp.headers["content-type"], url
    # a second, unconfigured map still gets folium's defaults
    plain = folium.Map()
    assert any(u.startswith("https://") for u in _rendered_urls(plain))


def test_configure_keeps_defaults_without_assets(monkeypatch, folium_class_lists) -> None:
    monkeypatch.setattr(assets, "_LEAFLET", ("1.9.3", Path("/nonexistent")))
    assert assets.assets_available() is False
    m = folium.Map()
    assert assets.configure_folium_assets(m) is False
    assert "default_js" not in vars(m) and "default_css" not in vars(m)
    assert m.default_js == folium.Map.default_js
    assert assets.external_asset_urls(m)


def test_base_layers() -> None:
    layers = assets.base_layers()
    assert [layer.layer_name for layer in layers] == [
        assets.OFFLINE_LAYER_NAME,
        assets.OSM_LAYER_NAME,
        assets.SATELLITE_LAYER_NAME,
    ]
    assert [layer.show for layer in layers] == [True, False, False]
    offline = layers[0]
    assert offline.tiles == assets.OFFLINE_TILES_URL
    assert offline.options["max_native_zoom"] == assets.OFFLINE_MAX_NATIVE_ZOOM
    assert offline.options["max_zoom"] == 22
    for layer in layers:
        assert layer.overlay is False
        assert layer.options["attribution"]
    assert "OpenStreetMap" in str(layers[1].options["attribution"])
    assert "Esri" in str(layers[2].options["attribution"])
    sat = assets.base_layers(default=assets.SATELLITE_LAYER_NAME)
    assert [layer.show for layer in sat] == [False, False, True]
    with pytest.raises(ValueError):
        assets.base_layers(default="nope")


def test_make_map_needs_nothing_from_outside(folium_class_lists) -> None:
    m, ok = assets.make_map(location=(47, 8), zoom_start=5)
    assert ok
    folium.LayerControl().add_to(m)
    assert assets.external_asset_urls(m) == []
    # folium.Icon needs awesome-markers, which is not served: reported, not hidden
    folium.Marker([47, 8], icon=folium.Icon(color="red")).add_to(m)
    assert assets.external_asset_urls(m) == ["awesome-markers (folium.Icon)"]


@dataclass
class _Resp:
    status_code: int
    headers: dict[str, str]
    content: bytes


class _Client:
    """GET requests straight into the ASGI app of the routes (no server, no extra test package)."""

    def __init__(self) -> None:
        from starlette.applications import Starlette

        from skyscript_viz.ui.routes import routes

        self.app = Starlette(routes=routes())

    def get(self, path: str) -> _Resp:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1234),
        }
        out: dict[str, Any] = {"body": b""}
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the client hangs up only once the whole response has arrived
            return {"type": "http.disconnect"}

        async def send(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                out["status"] = msg["status"]
                out["headers"] = {k.decode().lower(): v.decode() for k, v in msg["headers"]}
            elif msg["type"] == "http.response.body":
                out["body"] += msg.get("body", b"")
                if not msg.get("more_body"):
                    done.set()

        async def run() -> None:
            nonlocal done
            done = asyncio.Event()
            await self.app(scope, receive, send)

        done: asyncio.Event
        # a thread of its own: a session-wide Playwright browser keeps an event loop running in this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run()).result()
        return _Resp(out["status"], out["headers"], out["body"])


def _client() -> _Client:
    return _Client()


def test_routes_serve_leaflet_jquery_and_tiles() -> None:
    client = _client()
    resp = client.get(assets.LEAFLET_JS_URL)
    assert resp.status_code == 200 and "javascript" in resp.headers["content-type"]
    assert b"Leaflet" in resp.content[:400] and b"1.9.3" in resp.content[:400]
    assert client.get(assets.LEAFLET_CSS_URL).headers["content-type"].startswith("text/css")
    assert client.get("/vendor/leaflet-1.9.3/images/layers.png").status_code == 200
    assert b"jQuery" in client.get(assets.JQUERY_URL).content[:300]
    tile = client.get(assets.OFFLINE_TILES_URL.format(z=8, x=136, y=82))
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    assert tile.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "max-age" in tile.headers["cache-control"]


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/3/8/0.png",
        "/tiles/2/0/-1.png",
        "/tiles/30/0/0.png",
        "/tiles/a/0/0.png",
        "/vendor/leaflet-1.9.3/../../../../etc/passwd",
        "/vendor/leaflet-1.9.3/nope.js",
    ],
)
def test_routes_refuse_what_does_not_exist(path: str) -> None:
    assert _client().get(path).status_code == 404


def test_app_py_is_an_st_app_with_the_routes() -> None:
    """`streamlit run app.py` discovers `app` (AST) and serves it with our routes."""
    from streamlit.web.server.app_discovery import discover_asgi_app

    result = discover_asgi_app(REPO_ROOT / "app.py")
    assert result.is_asgi_app and result.app_name == "app"
    # importing app.py to find the server must not declare the map component yet: a component
    # declared before the server's runtime exists is answered with 404
    code = "import sys, app; assert 'streamlit_folium' not in sys.modules; print(type(app.app).__name__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "App"
