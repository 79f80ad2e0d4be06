"""Folium layers for the map: footprints coloured by source, density cells, the draped image.

Layers are small custom elements that draw rectangles in a loop from compact JSON instead of one
folium object per rectangle, which keeps one map update far below 1 MB (about 150 bytes a
footprint). Every string that reaches the browser as HTML (tooltips) is escaped here: OSM tags and
captions are user-written.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from typing import Any

import folium
import pandas as pd
from branca.element import Figure, MacroElement
from jinja2 import Template

from . import assets, mapscripts
from .index import MapView
from .query import BBox
from .sources import source_info, source_label

__all__ = [
    "BASE_LAYER_NAMES",
    "DENSITY_COLORS",
    "base_map",
    "base_switch_layer",
    "cells_layer",
    "density_legend",
    "density_level",
    "drape_layer",
    "filepath_from_tooltip",
    "footprints_layer",
    "legend_items",
    "selection_layer",
    "view_bounds",
    "view_layer",
    "zoom_for_bbox",
]

BASE_LAYER_NAMES = {
    "offline": assets.OFFLINE_LAYER_NAME,
    "osm": assets.OSM_LAYER_NAME,
    "satellite": assets.SATELLITE_LAYER_NAME,
}
# light to dark: few images to many
DENSITY_COLORS = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
_FILEPATH = re.compile(r"\b(\S+?\.jpg)\b")


def _js_json(value: Any) -> str:
    """JSON safe to embed in a script: no ``</script>`` can close the tag early."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


class _RectLayer(MacroElement):
    """Rectangles from ``[[w, s, e, n, colour index, tooltip index], …]`` added to the parent group.

    With a ``slot`` the rectangles go into a group of their own that stays on the map between reruns:
    a rerun whose rectangles are the same (same ``key``, a hash of the payload) draws nothing, one whose
    rectangles changed replaces them. streamlit-folium removes and re-evaluates every dynamic layer when
    any of them changes, so without this a selected footprint (a new outline) rebuilt every footprint in
    view: 1,859 of them took 0.2-0.35 s of the browser's main thread (measured in headless Chromium).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var g = {{ this._parent.get_name() }};
          {%- if this.slot %}
          var keep = window.__svKeep = window.__svKeep || {};
          var map = {{ this._parent._parent.get_name() }};
          var old = keep[{{ this.slot }}];
          if (old && old.key === {{ this.key }} && map.hasLayer(old.layer)) { return; }
          if (old) { map.removeLayer(old.layer); }
          g = L.featureGroup();
          keep[{{ this.slot }}] = {key: {{ this.key }}, layer: g};
          {%- endif %}
          var d = {{ this.payload }};
          for (var i = 0; i < d.r.length; i++) {
            var r = d.r[i];
            var c = d.c[r[4]];
            var opts = {color: c, weight: d.w, opacity: 0.9, fillColor: c, fillOpacity: d.f, className: d.k};
            // r[5]: the footprint would be a few pixels at this zoom; draw a dot that can be seen and clicked
            var shape = r[5] ? L.circleMarker([(r[1] + r[3]) / 2, (r[0] + r[2]) / 2],
                                              Object.assign({}, opts, {radius: 5, fillOpacity: 0.7}))
                             : L.rectangle([[r[1], r[0]], [r[3], r[2]]], opts);
            shape.bindTooltip(d.t[i], {sticky: true}).addTo(g);
          }
          {%- if this.slot %}
          g.addTo(map);
          {%- endif %}
        })();
        {% endmacro %}
    """)

    def __init__(
        self,
        rects: list[list[Any]],
        colors: list[str],
        tooltips: list[str],
        *,
        weight: float,
        fill_opacity: float,
        css_class: str,
        slot: str | None = None,
    ) -> None:
        super().__init__()
        self._name = "RectLayer"
        self.payload = _js_json(
            {"r": rects, "c": colors, "t": tooltips, "w": weight, "f": fill_opacity, "k": css_class}
        )
        self.slot = _js_json(slot) if slot else ""
        self.key = _js_json(hashlib.sha1(self.payload.encode()).hexdigest()[:16]) if slot else ""


def _figure(m: folium.Map) -> Figure:
    """The page a map is drawn in (folium gives every map one when it is made)."""
    root = m.get_root()
    if not isinstance(root, Figure):
        raise TypeError(f"the map's root is a {type(root).__name__}, not a branca Figure")
    return root


def base_map(*, lat: float, lon: float, zoom: int, base: str) -> tuple[folium.Map, bool]:
    """The map without data layers: local Leaflet assets and the chosen base layer.

    Returns ``(map, offline_assets_ok)``. Built anew each run from the same arguments, so
    streamlit-folium sees the same map and only swaps the data layers.
    """
    name = BASE_LAYER_NAMES.get(base, assets.OFFLINE_LAYER_NAME)
    m, ok = assets.make_map(location=(lat, lon), zoom_start=zoom, default_layer=name)
    mapscripts.add_to(m)
    # Leaflet sizes controls in rem, and the component's iframe has a large root font: keep them small.
    _figure(m).header.add_child(
        folium.Element(
            "<style>.leaflet-control-attribution,.leaflet-control-scale-line{font-size:11px!important;"
            "line-height:1.4}.leaflet-tooltip{font-size:12px}</style>"
        ),
        name="sv_style",
    )
    return m, ok


class _BaseSwitch(MacroElement):
    """Shows one base tile layer and hides the others, in the map that is already on the page.

    Changing the base layer in the map's own script would give streamlit-folium a new map, which
    it mounts as a new iframe next to the old one (and, racing a rerun, could leave none). This
    element travels with the dynamic layers instead, so the iframe, its view and its layers stay.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var m = window.map, d = {{ this.payload }};
          if (!m) { return; }
          var cache = window.__svBaseLayers = window.__svBaseLayers || {};
          m.eachLayer(function (l) {
            if (l instanceof L.TileLayer && d.specs[l._url] && !cache[l._url]) { cache[l._url] = l; }
          });
          Object.keys(d.specs).forEach(function (u) {
            var l = cache[u];
            if (u === d.want) {
              if (!l) { l = cache[u] = L.tileLayer(u, d.specs[u]); }
              if (!m.hasLayer(l)) { m.addLayer(l); l.bringToBack(); }
            } else if (l && m.hasLayer(l)) {
              m.removeLayer(l);
            }
          });
        })();
        {% endmacro %}
    """)

    def __init__(self, want: str, specs: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self._name = "BaseSwitch"
        self.payload = _js_json({"want": want, "specs": specs})


def _leaflet_options(options: dict[str, Any]) -> dict[str, Any]:
    """folium's snake_case tile options as Leaflet's camelCase."""
    return {re.sub(r"_([a-z])", lambda mt: mt.group(1).upper(), k): v for k, v in options.items()}


def base_switch_layer(base: str) -> folium.FeatureGroup:
    """A dynamic layer that switches the base map to ``base`` without rebuilding the map."""
    name = BASE_LAYER_NAMES.get(base, assets.OFFLINE_LAYER_NAME)
    if name == assets.OFFLINE_LAYER_NAME and not assets.assets_available():
        name = assets.OSM_LAYER_NAME
    layers = assets.base_layers(name)
    specs = {str(layer.tiles): _leaflet_options(dict(layer.options)) for layer in layers}
    want = next(str(layer.tiles) for layer in layers if layer.layer_name == name)
    fg = folium.FeatureGroup(name="base")
    _BaseSwitch(want, specs).add_to(fg)
    return fg


def _round(x: float) -> float:
    return round(float(x), 6)


MIN_FOOTPRINT_PX = 6  # below this width on screen a footprint is drawn as a dot
_FOOTPRINT_STYLE: dict[str, Any] = {"weight": 1.5, "fill_opacity": 0.25, "css_class": "sv-footprint"}
_CELL_STYLE: dict[str, Any] = {"weight": 0.5, "fill_opacity": 0.55, "css_class": "sv-cell"}


def footprints_layer(
    rows: pd.DataFrame, *, name: str = "footprints", zoom: int | None = None, slot: str | None = None
) -> folium.FeatureGroup:
    """Footprint rectangles coloured by source, each with an escaped tooltip naming its file.

    With ``zoom``, footprints narrower than MIN_FOOTPRINT_PX on screen are drawn as dots instead. With
    ``slot``, the rectangles stay on the map until a rerun draws different ones (see _RectLayer).
    """
    fg = folium.FeatureGroup(name=name)
    if rows.empty:
        if slot:  # an empty view must still clear what the slot holds
            _RectLayer([], [], [], **_FOOTPRINT_STYLE, slot=slot).add_to(fg)
        return fg
    codes = sorted({str(s) for s in rows["source"].fillna("??")})
    colors = [source_info(c).color for c in codes]
    index = {c: i for i, c in enumerate(codes)}
    rects: list[list[Any]] = []
    tips: list[str] = []
    for w, s, e, n, src, year, fp, title in zip(
        rows["west"],
        rows["south"],
        rows["east"],
        rows["north"],
        rows["source"].fillna("??"),
        rows["year"],
        rows["filepath"],
        rows["title"],
        strict=True,
    ):
        px = (e - w) * 256 * 2**zoom / 360 if zoom is not None else MIN_FOOTPRINT_PX
        rects.append([_round(w), _round(s), _round(e), _round(n), index[str(src)], int(px < MIN_FOOTPRINT_PX)])
        cap = "" if title is None or (isinstance(title, float) and math.isnan(title)) else str(title)
        cap = cap if len(cap) <= 70 else cap[:69] + "…"
        yr = "" if pd.isna(year) else f" · {int(year)}"
        # the newlines keep the file path on a line of its own in the tooltip's text content, which
        # streamlit-folium returns for a click (it drops the <br>s): see filepath_from_tooltip
        tips.append(
            f"<b>{html.escape(source_label(str(src)))}{yr}</b><br>\n{html.escape(str(fp))}\n"
            + (f"<br><i>{html.escape(cap)}</i>" if cap else "")
        )
    _RectLayer(rects, colors, tips, **_FOOTPRINT_STYLE, slot=slot).add_to(fg)
    return fg


def density_level(count: int, top: int) -> int:
    """Shade index in DENSITY_COLORS of a cell with ``count`` images when the busiest has ``top`` (log scale)."""
    if top <= 1:
        return 0
    n = len(DENSITY_COLORS)
    return min(n - 1, int(math.log(max(1, count)) / math.log(top) * n))


def density_legend(top: int) -> list[tuple[str, str]]:
    """(colour, "lo–hi") image counts for each shade that cells with at most ``top`` images get."""
    top = max(1, int(top))

    def first(level: int) -> int:  # the smallest count with at least this shade (binary search)
        lo, hi = 1, top + 1
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if density_level(mid, top) < level else (lo, mid)
        return lo

    starts = [first(level) for level in range(len(DENSITY_COLORS))] + [top + 1]
    return [
        (color, f"{lo:,}" if lo == nxt - 1 else f"{lo:,}–{nxt - 1:,}")
        for color, lo, nxt in zip(DENSITY_COLORS, starts, starts[1:], strict=False)
        if lo < nxt
    ]


def cells_layer(
    cells: pd.DataFrame, *, name: str = "cells", by_source: bool = False, slot: str | None = None
) -> folium.FeatureGroup:
    """Aggregated cells shaded by image count (log scale), or coloured by their dominant source;
    tooltip with count and dominant source. ``slot`` as in footprints_layer."""
    fg = folium.FeatureGroup(name=name)
    if cells.empty:
        if slot:
            _RectLayer([], [], [], **_CELL_STYLE, slot=slot).add_to(fg)
        return fg
    top = max(1, int(cells["count"].max()))
    codes = sorted({str(c) for c in cells["dominant_source"].fillna("??")}) if by_source else []
    colors = [source_info(c).color for c in codes] if by_source else list(DENSITY_COLORS)
    rects: list[list[Any]] = []
    tips: list[str] = []
    for w, s, e, n, cnt, dom, dcnt, nsrc in zip(
        cells["west"],
        cells["south"],
        cells["east"],
        cells["north"],
        cells["count"],
        cells["dominant_source"],
        cells["dominant_count"],
        cells["n_sources"],
        strict=True,
    ):
        color = codes.index(str(dom) if dom is not None else "??") if by_source else density_level(int(cnt), top)
        rects.append([_round(w), _round(s), _round(e), _round(n), color])
        share = 100.0 * float(dcnt) / max(1, int(cnt))
        tips.append(
            f"<b>{int(cnt):,} images</b><br>mostly {html.escape(source_label(str(dom)))} "
            f"({share:.0f}%), {int(nsrc)} source{'s' if nsrc != 1 else ''}<br>click to zoom in"
        )
    _RectLayer(rects, colors, tips, **_CELL_STYLE, slot=slot).add_to(fg)
    return fg


def view_layer(view: MapView, zoom: int | None = None, *, by_source: bool = False) -> folium.FeatureGroup:
    """The data layer for one map view (footprints, or cells shaded by count or ``by_source``), drawn
    into the map's one "view" slot: a rerun that only changes another layer leaves it alone."""
    if view.kind == "footprints":
        return footprints_layer(view.rows, zoom=zoom, slot="view")
    return cells_layer(view.rows, by_source=by_source, slot="view")


def selection_layer(row: dict[str, Any] | None) -> folium.FeatureGroup:
    """A thick outline around the selected footprint."""
    fg = folium.FeatureGroup(name="selection")
    if row and row.get("cx") is not None:
        folium.Rectangle(
            [[row["south"], row["west"]], [row["north"], row["east"]]],
            color="#f59e0b",
            weight=4,
            fill=False,
            dash_array="6 4",
            class_name="sv-selected",
        ).add_to(fg)
    return fg


def drape_layer(
    row: dict[str, Any] | None, image: bytes | None, mime: str = "image/jpeg", *, opacity: float = 0.8
) -> folium.FeatureGroup:
    """The selected image laid on the map at its footprint (Leaflet image overlay)."""
    fg = folium.FeatureGroup(name="drape")
    if row and image and row.get("cx") is not None:
        url = f"data:{mime};base64," + base64.b64encode(image).decode("ascii")
        folium.raster_layers.ImageOverlay(
            url,
            bounds=[[row["south"], row["west"]], [row["north"], row["east"]]],
            opacity=max(0.0, min(1.0, opacity)),
            interactive=False,
            zindex=400,
            class_name="sv-drape",
        ).add_to(fg)
    return fg


def legend_items(codes: list[str]) -> list[tuple[str, str, str]]:
    """(code, label, colour) for a legend of the given source codes."""
    return [(c, source_label(c), source_info(c).color) for c in codes]


def filepath_from_tooltip(text: str | None) -> str | None:
    """The image file path a clicked footprint's tooltip names (tooltips list it on line 2).

    ``text`` is the tooltip's text content as streamlit-folium reports it: the HTML's ``<br>``s are
    gone, but the newlines written next to them are kept, so the path is a line of its own and the
    source label and year before it, or the caption after it, are never glued to it.
    """
    if not text:
        return None
    lines = [ln.strip() for ln in text.splitlines()]
    if len(lines) >= 2 and lines[1].lower().endswith(".jpg"):
        return lines[1]
    m = _FILEPATH.search(text)
    return m.group(1) if m else None


def view_bounds(lat: float, lon: float, zoom: int, *, width_px: int, height_px: int) -> BBox:
    """The lon/lat box a web-mercator map of ``width_px`` x ``height_px`` centred on (lat, lon) shows."""
    deg_per_px = 360.0 / (256 * 2**zoom)
    half_w = width_px / 2 * deg_per_px
    y = math.degrees(math.log(math.tan(math.pi / 4 + math.radians(max(-85, min(85, lat))) / 2)))
    half_h = height_px / 2 * deg_per_px

    def lat_of(my: float) -> float:
        return math.degrees(math.atan(math.sinh(math.radians(my))))

    return BBox.from_view(lon - half_w, lat_of(y - half_h), lon + half_w, lat_of(y + half_h))


def zoom_for_bbox(
    west: float, south: float, east: float, north: float, *, width_px: int = 800, height_px: int = 550
) -> tuple[float, float, int]:
    """Centre and the largest zoom that shows the whole box in a map of the given size."""
    lat = (south + north) / 2
    lon = (west + east) / 2

    def merc(y: float) -> float:
        y = max(-85.0, min(85.0, y))
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(y) / 2)))

    span_x = max(east - west, 1e-6)
    span_y = max(merc(north) - merc(south), 1e-6)
    zx = math.log2(360.0 * width_px / 256.0 / span_x)
    zy = math.log2(360.0 * height_px / 256.0 / span_y)
    return lat, lon, int(max(1, min(18, math.floor(min(zx, zy)))))
