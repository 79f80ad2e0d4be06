"""Offline map assets: local Leaflet instead of CDNs, and an offline base tile layer.

``make assets`` (``scripts/fetch_assets.py``) puts Leaflet, jQuery, leaflet.fullscreen and
pre-rendered world tiles into the git-ignored ``static/vendor/``. Streamlit serves ``static/``
next to the main script at ``/app/static/...`` when ``[server] enableStaticServing = true``.

Why this matters: ``folium.Map.default_js``/``default_css`` list Leaflet, jQuery, Bootstrap,
awesome-markers, Font Awesome and glyphicons from five different CDNs. streamlit-folium loads every
listed script in its iframe one after another and never creates the map if any one fails, so
without internet the map stays blank. :func:`configure_folium_assets` swaps that list for the local
files on one map instance (never on the class: folium keeps these lists as class attributes).

What the local set supports: ``Map``, ``TileLayer``, ``FeatureGroup``, ``LayerControl``,
``Rectangle``/``Polygon``/``PolyLine``/``Circle``/``CircleMarker``, ``GeoJson`` (+ tooltip/popup),
``ImageOverlay``, ``Tooltip``, ``Popup`` (its template calls jQuery's ``$()``, hence jQuery),
``Marker`` with Leaflet's default icon, and ``plugins.Fullscreen``. Not supported offline:
``folium.Icon`` (needs awesome-markers + Bootstrap + Font Awesome), other plugins (MarkerCluster,
Draw, MiniMap, MousePosition, ...) and branca colormaps (streamlit-folium then adds d3 from a CDN).
:func:`external_asset_urls` lists what a finished map would still fetch from the internet.

No streamlit import here: pages show the notice from :data:`MISSING_ASSETS_NOTICE` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # folium is imported lazily so that importing this module stays cheap
    import folium

__all__ = [
    "FULLSCREEN_CSS_URL",
    "FULLSCREEN_JS_URL",
    "JQUERY_URL",
    "LEAFLET_CSS_URL",
    "LEAFLET_JS_URL",
    "MISSING_ASSETS_NOTICE",
    "OFFLINE_LAYER_NAME",
    "OFFLINE_MAX_NATIVE_ZOOM",
    "OFFLINE_TILES_URL",
    "OSM_LAYER_NAME",
    "SATELLITE_LAYER_NAME",
    "STATIC_DIR",
    "STATIC_URL_PREFIX",
    "assets_available",
    "base_layers",
    "configure_folium_assets",
    "external_asset_urls",
    "leaflet_urls",
    "localize_plugin_assets",
    "make_map",
]

#: ``static/`` next to ``app.py`` (the repository root)
STATIC_DIR: Path = Path(__file__).resolve().parent.parent / "static"
#: where Streamlit serves ``STATIC_DIR`` (``[server] enableStaticServing = true``)
STATIC_URL_PREFIX = "/app/static"

LEAFLET_JS_URL = f"{STATIC_URL_PREFIX}/vendor/leaflet/leaflet.js"
LEAFLET_CSS_URL = f"{STATIC_URL_PREFIX}/vendor/leaflet/leaflet.css"
JQUERY_URL = f"{STATIC_URL_PREFIX}/vendor/jquery/jquery.min.js"
FULLSCREEN_JS_URL = f"{STATIC_URL_PREFIX}/vendor/leaflet.fullscreen/Control.FullScreen.js"
FULLSCREEN_CSS_URL = f"{STATIC_URL_PREFIX}/vendor/leaflet.fullscreen/Control.FullScreen.css"

OFFLINE_TILES_URL = f"{STATIC_URL_PREFIX}/vendor/tiles/{{z}}/{{x}}/{{y}}.png"
OFFLINE_MAX_NATIVE_ZOOM = 6
MAX_ZOOM = 22

OFFLINE_LAYER_NAME = "Offline (no internet)"
OSM_LAYER_NAME = "OpenStreetMap"
SATELLITE_LAYER_NAME = "Satellite (Esri World Imagery)"

MISSING_ASSETS_NOTICE = (
    "Offline map assets missing: run `make assets`. The map loads Leaflet from public CDNs "
    "and needs internet access until then."
)

OFFLINE_ATTRIBUTION = "Offline base map from Natural Earth (public domain) via world-atlas"
OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
ESRI_TILES_URL = "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}"
ESRI_ATTRIBUTION = "Tiles &copy; Esri &mdash; Source: Esri, Maxar, Earthstar Geographics, and the GIS User Community"

# files (relative to STATIC_DIR) that must exist for the local set to work
_REQUIRED_FILES = (
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/images/layers.png",
    "vendor/jquery/jquery.min.js",
    "vendor/tiles/0/0/0.png",
    f"vendor/tiles/{OFFLINE_MAX_NATIVE_ZOOM}/0/0.png",
)


def _rel(url: str) -> str:
    return url.removeprefix(STATIC_URL_PREFIX + "/")


def assets_available(static_dir: Path | None = None) -> bool:
    """True when ``make assets`` has put Leaflet, jQuery and the offline tiles in place."""
    root = STATIC_DIR if static_dir is None else static_dir
    return all((root / rel).is_file() for rel in _REQUIRED_FILES)


def leaflet_urls() -> tuple[str, str]:
    """``(leaflet.js URL, leaflet.css URL)`` as served by Streamlit."""
    return LEAFLET_JS_URL, LEAFLET_CSS_URL


def _local_js() -> list[tuple[str, str]]:
    return [("leaflet", LEAFLET_JS_URL), ("jquery", JQUERY_URL)]


def _local_css() -> list[tuple[str, str]]:
    return [("leaflet_css", LEAFLET_CSS_URL)]


def configure_folium_assets(m: folium.Map) -> bool:
    """Make ``m`` load only the local Leaflet (+ jQuery) instead of folium's CDN list.

    Sets ``default_js``/``default_css`` on this instance only; ``folium.Map``'s class lists stay
    untouched. Returns False, leaving folium's CDN defaults, when the assets are not there (the
    app was started without ``make``); pages should then show :data:`MISSING_ASSETS_NOTICE`.
    """
    if not assets_available():
        return False
    m.default_js = _local_js()
    m.default_css = _local_css()
    return True


def _local_plugin_links(element: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]] | None:
    from folium.plugins import Fullscreen

    if isinstance(element, Fullscreen):
        return [("Control.Fullscreen.js", FULLSCREEN_JS_URL)], [("Control.FullScreen.css", FULLSCREEN_CSS_URL)]
    return None


def localize_plugin_assets(m: folium.Map) -> bool:
    """Point vendored plugins in ``m``'s tree (currently ``plugins.Fullscreen``) at local files.

    Call it after all children were added, right before ``st_folium``. Returns False when the
    assets are missing (nothing changed).
    """
    if not assets_available():
        return False
    for element in _walk(m):
        links = _local_plugin_links(element)
        if links is not None and (STATIC_DIR / _rel(links[0][0][1])).is_file():
            element.default_js, element.default_css = links
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
    external = [u for u in urls if not u.startswith(STATIC_URL_PREFIX + "/")]
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

    ``default_layer`` defaults to the offline layer when the assets are available and to
    OpenStreetMap otherwise (the offline tile URLs would 404). Add a ``folium.LayerControl``
    after your overlays so it lists them too.
    """
    import folium as _folium

    kwargs.setdefault("max_zoom", MAX_ZOOM)
    kwargs.setdefault("control_scale", True)
    m = _folium.Map(location=list(location), zoom_start=zoom_start, tiles=None, **kwargs)
    offline_ok = configure_folium_assets(m)
    if default_layer is None:
        default_layer = OFFLINE_LAYER_NAME if offline_ok else OSM_LAYER_NAME
    for layer in base_layers(default_layer):
        layer.add_to(m)
    return m, offline_ok
