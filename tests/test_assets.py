"""skyscript_viz.assets and scripts/fetch_assets.py without a browser."""

from __future__ import annotations

import copy
import importlib.util
import re
import struct
import sys
from pathlib import Path
from typing import Any

import folium
import pytest
from folium.plugins import Fullscreen

from skyscript_viz import assets

REPO_ROOT = Path(__file__).resolve().parents[1]
CDN_RE = re.compile(r"https?://[^\"'\s)]*(?:cdn|jquery|bootstrap|cloudflare|fontawesome|d3js)[^\"'\s)]*", re.I)

needs_assets = pytest.mark.skipif(not assets.assets_available(), reason="offline assets missing: run `make assets`")


def _load_fetch_assets():
    spec = importlib.util.spec_from_file_location("fetch_assets", REPO_ROOT / "scripts" / "fetch_assets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["fetch_assets"] = module
    spec.loader.exec_module(module)
    return module


fetch_assets = _load_fetch_assets()


@pytest.fixture
def folium_class_lists():
    """Snapshot folium's class-level asset lists and check they are unchanged afterwards."""
    classes: list[Any] = [folium.Map, Fullscreen]
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


def test_urls_are_under_app_static() -> None:
    js, css = assets.leaflet_urls()
    assert js == "/app/static/vendor/leaflet/leaflet.js"
    assert css == "/app/static/vendor/leaflet/leaflet.css"
    assert assets.OFFLINE_TILES_URL == "/app/static/vendor/tiles/{z}/{x}/{y}.png"
    assert assets.OFFLINE_MAX_NATIVE_ZOOM == 6
    assert assets.STATIC_DIR == REPO_ROOT / "static"


def test_assets_module_does_not_import_streamlit() -> None:
    source = (REPO_ROOT / "skyscript_viz" / "assets.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+streamlit", source, re.M)


@needs_assets
def test_configure_replaces_cdn_assets(folium_class_lists) -> None:
    m = folium.Map(location=[47, 8], zoom_start=4)
    assert assets.configure_folium_assets(m) is True
    folium.Rectangle([[45.8, 5.9], [47.8, 10.5]], tooltip="CH", popup=folium.Popup("<b>x</b>")).add_to(m)
    folium.GeoJson({"type": "Point", "coordinates": [8, 47]}, tooltip="pt").add_to(m)
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    assert not CDN_RE.search(html), CDN_RE.search(html)
    urls = _rendered_urls(m)
    assert "/app/static/vendor/leaflet/leaflet.js" in urls
    assert "/app/static/vendor/leaflet/leaflet.css" in urls
    assert assets.JQUERY_URL in urls  # folium's Popup template calls $()
    assert assets.external_asset_urls(m) == []
    # each local URL points at a file that exists
    for url in urls:
        assert (assets.STATIC_DIR / url.removeprefix("/app/static/")).is_file(), url
    # a second, unconfigured map still gets folium's defaults
    plain = folium.Map()
    assert any(u.startswith("https://") for u in _rendered_urls(plain))


def test_configure_keeps_defaults_without_assets(tmp_path, monkeypatch, folium_class_lists) -> None:
    monkeypatch.setattr(assets, "STATIC_DIR", tmp_path)
    assert assets.assets_available() is False
    m = folium.Map()
    assert assets.configure_folium_assets(m) is False
    assert "default_js" not in vars(m) and "default_css" not in vars(m)
    assert m.default_js == folium.Map.default_js
    urls = _rendered_urls(m)
    assert any("leaflet" in u and u.startswith("https://") for u in urls)
    assert assets.external_asset_urls(m)
    # make_map falls back to OpenStreetMap as the visible base layer
    m2, ok = assets.make_map()
    assert ok is False
    shown = [c.layer_name for c in m2._children.values() if isinstance(c, folium.TileLayer) and c.show]
    assert shown == [assets.OSM_LAYER_NAME]


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
    assert offline.options["max_native_zoom"] == 6
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


@needs_assets
def test_make_map_and_fullscreen_plugin(folium_class_lists) -> None:
    m, ok = assets.make_map(location=(47, 8), zoom_start=5)
    assert ok
    Fullscreen().add_to(m)
    folium.LayerControl().add_to(m)
    assert any("leaflet.fullscreen" in u for u in assets.external_asset_urls(m))
    assert assets.localize_plugin_assets(m) is True
    assert assets.external_asset_urls(m) == []
    html = m.get_root().render()
    assert assets.FULLSCREEN_JS_URL in html
    assert not CDN_RE.search(html)
    # folium.Icon needs awesome-markers, which is not vendored: reported, not hidden
    folium.Marker([47, 8], icon=folium.Icon(color="red")).add_to(m)
    assert assets.external_asset_urls(m) == ["awesome-markers (folium.Icon)"]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


@needs_assets
@pytest.mark.parametrize(
    ("z", "x", "y"),
    [(0, 0, 0), (1, 1, 0), (3, 4, 2), (6, 0, 0), (6, 33, 22), (6, 63, 63)],
)
def test_tile_files_exist(z: int, x: int, y: int) -> None:
    path = assets.STATIC_DIR / "vendor" / "tiles" / str(z) / str(x) / f"{y}.png"
    assert path.is_file(), path
    assert _png_size(path) == (256, 256)


@needs_assets
def test_tiles_show_land_and_sea() -> None:
    pytest.importorskip("PIL")
    from PIL import Image

    style = fetch_assets.STYLE
    world = Image.open(assets.STATIC_DIR / "vendor" / "tiles" / "0" / "0" / "0.png").convert("RGB")
    world_colors = world.getcolors(maxcolors=1 << 16)
    assert world_colors is not None
    colors = {c for _, c in world_colors}
    assert style["sea"] in colors and style["land"] in colors
    # z6 tile 33/22 covers central Europe (~5.6-11.3 E, 45.1-48.9 N): mostly land
    europe = Image.open(assets.STATIC_DIR / "vendor" / "tiles" / "6" / "33" / "22.png").convert("RGB")
    europe_colors = europe.getcolors(maxcolors=1 << 16)
    assert europe_colors is not None
    counts = {c: n for n, c in europe_colors}
    assert counts.get(style["land"], 0) > 0.8 * 256 * 256
    # z6 tile 10/30 is in the middle of the North Pacific: all sea
    pacific = Image.open(assets.STATIC_DIR / "vendor" / "tiles" / "6" / "10" / "30.png").convert("RGB")
    assert pacific.getcolors() == [(256 * 256, style["sea"])]


@needs_assets
def test_fetch_assets_check_passes() -> None:
    vendor = assets.STATIC_DIR / "vendor"
    assert fetch_assets.check(vendor, fetch_assets.DEFAULT_MAX_ZOOM, tiles=True) == []


# ---- fetch_assets pure functions --------------------------------------------------------------


def test_decode_arcs_quantized_delta() -> None:
    topo = {
        "transform": {"scale": [0.5, 0.25], "translate": [-10, 20]},
        "arcs": [[[0, 0], [2, 4], [-1, 0]], [[4, 4], [0, -4]]],
    }
    arcs = fetch_assets.decode_arcs(topo)
    assert arcs[0] == [(-10.0, 20.0), (-9.0, 21.0), (-9.5, 21.0)]
    assert arcs[1] == [(-8.0, 21.0), (-8.0, 20.0)]


def test_ring_coords_reverses_negative_arcs() -> None:
    arcs = [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)], [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]]
    ring = fetch_assets.ring_coords([0, ~1], arcs)
    assert ring == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]


def test_unwrap_and_pole_ring() -> None:
    assert fetch_assets.unwrap([(179.0, 0.0), (-179.0, 1.0), (-178.0, 2.0)]) == [
        (179.0, 0.0),
        (181.0, 1.0),
        (182.0, 2.0),
    ]
    # a ring around the south pole gets closed through the pole
    ring = [(-180.0, -70.0), (0.0, -70.0), (179.0, -70.0), (-180.0, -70.0)]
    closed = fetch_assets.close_ring(ring)
    assert closed[-2:] == [(180.0, -90.0), (-180.0, -90.0)]


def test_mercator_bounds() -> None:
    assert fetch_assets.mercator(-180, 0) == (0.0, 0.5)
    x, y = fetch_assets.mercator(180, 89.9)
    assert x == 1.0 and y == pytest.approx(0.0, abs=1e-9)
    assert fetch_assets.mercator(0, -90)[1] == pytest.approx(1.0, abs=1e-9)


def test_integrity_check() -> None:
    fetch_assets.check_integrity(b"abc", "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
    with pytest.raises(ValueError):
        fetch_assets.check_integrity(b"abd", "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")


def test_expected_tile_count() -> None:
    assert fetch_assets.expected_tile_count(6) == 5461
