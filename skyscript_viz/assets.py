"""Offline map assets: Leaflet and jQuery from pip, base tiles drawn by the app.

folium's ``default_js``/``default_css`` list Leaflet, jQuery, Bootstrap, awesome-markers and Font
Awesome from five CDNs. streamlit-folium loads every listed script in its iframe one after another
and never creates the map if one fails, so without internet the map stays blank.
:func:`configure_folium_assets` swaps that list, on one map instance (folium keeps these lists as
class attributes), for Leaflet 1.9.3 and jQuery 3.7.1, the versions folium asks for. They come
with ``pip install`` (the XStatic-Leaflet and XStatic-jQuery packages) and the app serves them at
``/vendor/<lib>-<version>/...`` (``skyscript_viz/ui/routes.py``, the version is in the URL so a
browser may cache them for good). The offline base layer's tiles come from ``/tiles/{z}/{x}/{y}.png``,
drawn on demand by :mod:`skyscript_viz.tiles`.

What the local set supports: ``Map``, ``TileLayer``, ``FeatureGroup``, ``LayerControl``,
``Rectangle``/``Polygon``/``PolyLine``/``Circle``/``CircleMarker``, ``GeoJson`` (+ tooltip/popup),
``ImageOverlay``, ``Tooltip``, ``Popup`` (its template calls jQuery's ``$()``, hence jQuery) and
``Marker`` with Leaflet's default icon. Not supported offline: ``folium.Icon`` (needs
awesome-markers + Bootstrap + Font Awesome), plugins (Fullscreen, MarkerCluster, Draw, ...) and
branca colormaps (streamlit-folium then adds d3 from a CDN). :func:`external_asset_urls` lists what
a finished map would still fetch from the internet.

No streamlit import here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import tiles
from .vocab import MAX_ZOOM

if TYPE_CHECKING:  # folium is imported lazily so that importing this module stays cheap
    import folium

__all__ = [
    "JQUERY_URL",
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "MISSING_ASSETS_NOTICE",
    "OFFLINE_LAYER_NAME",
    "OFFLINE_MAX_NATIVE_ZOOM",
    "OFFLINE_TILES_URL",
    "OSM_LAYER_NAME",
    "SATELLITE_LAYER_NAME",
    "TILE_ROUTE",
    "assets_available",
    "base_layers",
    "configure_folium_assets",
    "external_asset_urls",
    "leaflet_urls",
    "make_map",
    "vendor_dirs",
]


def _xstatic(name: str) -> tuple[str, Path] | None:
    """(version, folder) of an installed XStatic package, or None when it is not installed."""
    try:
        mod = importlib.import_module(f"xstatic.pkg.{name}")
    except ImportError:
        return None
    return str(mod.VERSION), Path(mod.BASE_DIR)


_LEAFLET = _xstatic("leaflet") or ("1.9.3", Path("/nonexistent"))
_JQUERY = _xstatic("jquery") or ("3.7.1", Path("/nonexistent"))
LEAFLET_PREFIX = f"/vendor/leaflet-{_LEAFLET[0]}"
JQUERY_PREFIX = f"/vendor/jquery-{_JQUERY[0]}"

LEAFLET_JS_URL = f"{LEAFLET_PREFIX}/leaflet.js"
LEAFLET_CSS_URL = f"{LEAFLET_PREFIX}/leaflet.css"
JQUERY_URL = f"{JQUERY_PREFIX}/jquery.min.js"

#: the Starlette path of the tile route, and the URL template Leaflet fills in
TILE_ROUTE = "/tiles/{z:int}/{x:int}/{y:int}.png"
OFFLINE_TILES_URL = "/tiles/{z}/{x}/{y}.png"
OFFLINE_MAX_NATIVE_ZOOM = tiles.MAX_ZOOM

OFFLINE_LAYER_NAME = "Offline (no internet)"
OSM_LAYER_NAME = "OpenStreetMap"
SATELLITE_LAYER_NAME = "Satellite (Esri World Imagery)"

MISSING_ASSETS_NOTICE = (
    "Map scripts missing: run `pip install -r requirements.txt` (XStatic-Leaflet and XStatic-jQuery). "
    "Until then the map loads Leaflet from public CDNs and needs internet access."
)

OFFLINE_ATTRIBUTION = "Offline base map from Natural Earth (public domain) via world-atlas"
OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
ESRI_TILES_URL = "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}"
ESRI_ATTRIBUTION = "Tiles &copy; Esri &mdash; Source: Esri, Maxar, Earthstar Geographics, and the GIS User Community"


def vendor_dirs() -> dict[str, Path]:
    """URL prefix -> folder of every pip-installed script package the map uses (served by the app)."""
    return {LEAFLET_PREFIX: _LEAFLET[1], JQUERY_PREFIX: _JQUERY[1]}


def assets_available() -> bool:
    """True when Leaflet and jQuery are installed (``pip install -r requirements.txt``)."""
    return (_LEAFLET[1] / "leaflet.js").is_file() and (_JQUERY[1] / "jquery.min.js").is_file()


def leaflet_urls() -> tuple[str, str]:
    """``(leaflet.js URL, leaflet.css URL)`` as served by the app."""
    return LEAFLET_JS_URL, LEAFLET_CSS_URL


def configure_folium_assets(m: folium.Map) -> bool:
    """Make ``m`` load only the local Leaflet (+ jQuery) instead of folium's CDN list.

    Sets ``default_js``/``default_css`` on this instance only; ``folium.Map``'s class lists stay
    untouched. Returns False, leaving folium's CDN defaults, when the XStatic packages are missing.
    """
    if not assets_available():
        return False
    m.default_js = [("leaflet", LEAFLET_JS_URL), ("jquery", JQUERY_URL)]
    m.default_css = [("leaflet_css", LEAFLET_CSS_URL)]
    return True


def _walk(element: Any) -> Iterator[Any]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def external_asset_urls(m: folium.Map) -> list[str]:
    """JS/CSS URLs that ``st_folium(m)`` would load from outside this server, in load order.

    Mirrors what streamlit-folium collects: ``default_js``/``default_css`` of every element in the
    tree, plus d3 for branca colormaps. An empty list means the map works without internet.
    """
    import branca.colormap
    import folium as _folium

    urls: list[str] = []
    for element in _walk(m):
        if isinstance(element, branca.colormap.ColorMap):
            urls.append("https://d3js.org/d3.v4.min.js")
        for _, url in list(getattr(element, "default_js", [])) + list(getattr(element, "default_css", [])):
            urls.append(url)
        if isinstance(element, _folium.Icon):
            # Icon's template calls L.AwesomeMarkers, which only folium's CDN list provides
            urls.append("awesome-markers (folium.Icon)")
    external = [u for u in urls if not u.startswith("/")]
    return list(dict.fromkeys(external))


def base_layers(default: str = OFFLINE_LAYER_NAME) -> list[folium.TileLayer]:
    """The three base layers, offline first; ``default`` names the one shown initially.

    Add them all to the map (``for layer in base_layers(): layer.add_to(m)``) with
    ``folium.Map(tiles=None)``; a ``folium.LayerControl`` then offers them as radio buttons.
    Only ``default`` has ``show=True``; folium adds layers with ``show=False`` to the map only when
    the user picks them.
    """
    import folium as _folium

    specs = [
        (OFFLINE_LAYER_NAME, OFFLINE_TILES_URL, OFFLINE_ATTRIBUTION, OFFLINE_MAX_NATIVE_ZOOM),
        (OSM_LAYER_NAME, OSM_TILES_URL, OSM_ATTRIBUTION, 19),
        (SATELLITE_LAYER_NAME, ESRI_TILES_URL, ESRI_ATTRIBUTION, 19),
    ]
    names = [s[0] for s in specs]
    if default not in names:
        raise ValueError(f"unknown base layer {default!r}; choose one of {names}")
    return [
        _folium.TileLayer(
            tiles=url,
            name=name,
            attr=attr,
            max_native_zoom=native,
            max_zoom=MAX_ZOOM,
            overlay=False,
            control=True,
            show=(name == default),
        )
        for name, url, attr, native in specs
    ]


def make_map(
    location: tuple[float, float] = (20.0, 0.0),
    zoom_start: int = 2,
    default_layer: str | None = None,
    **kwargs: Any,
) -> tuple[folium.Map, bool]:
    """A ``folium.Map`` with local assets and the three base layers; returns ``(map, offline_ok)``.

    ``default_layer`` defaults to the offline layer (served by the app itself). Add a ``folium.LayerControl``
    after your overlays so it lists them too.
    """
    import folium as _folium

    kwargs.setdefault("max_zoom", MAX_ZOOM)
    kwargs.setdefault("control_scale", True)
    m = _folium.Map(location=list(location), zoom_start=zoom_start, tiles=None, **kwargs)
    offline_ok = configure_folium_assets(m)
    if default_layer is None:
        default_layer = OFFLINE_LAYER_NAME
    for layer in base_layers(default_layer):
        layer.add_to(m)
    return m, offline_ok
