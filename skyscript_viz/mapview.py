"""Folium layers for the map: footprints coloured by source, density cells, the draped image.

Layers are small custom elements that draw rectangles in a loop from compact JSON instead of one
folium object per rectangle, which keeps one map update far below 1 MB (about 150 bytes a
footprint). Every string that reaches the browser as HTML (tooltips) is escaped here: OSM tags and
captions are user-written.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from typing import Any

import folium
import pandas as pd
from branca.element import Figure, MacroElement
from jinja2 import Template

from . import assets
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
    """Rectangles from ``[[w, s, e, n, colour index, tooltip index], …]`` added to the parent group."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var d = {{ this.payload }};
          var g = {{ this._parent.get_name() }};
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
    ) -> None:
        super().__init__()
        self._name = "RectLayer"
        self.payload = _js_json(
            {"r": rects, "c": colors, "t": tooltips, "w": weight, "f": fill_opacity, "k": css_class}
        )


class _FocusWithoutScroll(MacroElement):
    """Keep a click on the map from scrolling the page that holds the map's iframe.

    Leaflet's keyboard handler focuses the map container on mousedown. When the map's iframe is
    partly outside the browser window, that focus scrolls the page between mousedown and mouseup,
    the two land on different elements, and the browser drops the click: the first click on a
    footprint then selects nothing. Focusing with ``preventScroll`` keeps keyboard panning and zooming
    and loses no click.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (kb) {
          if (!kb || !kb.enabled()) { return; }
          kb.disable();
          kb._onMouseDown = function () {
            if (this._focused) { return; }
            this._map._container.focus({preventScroll: true});
          };
          kb.enable();
        })({{ this._parent.get_name() }}.keyboard);
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "FocusWithoutScroll"


class _ClickThroughRedraw(MacroElement):
    """Keep a click on a footprint whose layers are redrawn while the mouse button is down.

    Every rerun that changes the data layers makes streamlit-folium remove them and draw new ones.
    When that lands between mousedown and mouseup (a press lasts ~100 ms, a rerun after a pan or
    the first report of a new map arrives at any moment), the two events hit different elements and
    the browser fires no click at all: the user's click selects nothing. When the pressed footprint
    is gone by the release and the pointer did not move, the footprint now under the pointer gets
    the click the browser dropped.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (m) {
          var box = m.getContainer(), down = null;
          function hit(t) { return t && t.classList && t.classList.contains('leaflet-interactive'); }
          box.addEventListener('pointerdown', function (e) {
            down = (e.button === 0 && hit(e.target)) ? {el: e.target, x: e.clientX, y: e.clientY} : null;
          }, true);
          box.addEventListener('pointerup', function (e) {
            var d = down;
            down = null;
            if (!d || d.el.isConnected || Math.abs(e.clientX - d.x) > 4 || Math.abs(e.clientY - d.y) > 4) { return; }
            var x = e.clientX, y = e.clientY;
            setTimeout(function () {
              var el = document.elementFromPoint(x, y);
              if (hit(el)) {
                el.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window,
                                                          clientX: x, clientY: y, button: 0}));
              }
            }, 0);
          }, true);
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "ClickThroughRedraw"


class _PromptReport(MacroElement):
    """Tell the server about a pan, a zoom or a click at once, and ignore the server's late echoes.

    streamlit-folium reports the map's state through a 250 ms debounce fixed in its build, so every pan,
    zoom and click waited a quarter of a second before the server heard of it (measured in
    ``bench/browser.py``). Leaflet fires ``moveend`` once per gesture and ``click`` once per click, so
    no debounce is needed: this sends the same value streamlit-folium would send (its keys, in its
    order, filtered by its ``returned_objects``) right after its own handlers have run, and records it
    as the component's previous value, so its debounced call finds nothing new and sends nothing. If
    a later streamlit-folium renames what this reads, nothing is sent here and its own report still
    goes out.

    A report that only moves the centre by less than a pixel (same bounds, zoom and clicks) is not sent:
    Leaflet recomputes its centre from pixels once the frame is sized, which cost every first visit a
    second run.

    Every run hands the map its view (``center``, ``zoom``), and streamlit-folium moves the map when
    they differ from the last ones it got. A run that started before the user's latest move carries
    a view the browser reported earlier; moving there would throw the user back, the map would report
    that, the next late run would throw it forward again, and so on. A render whose view is one this
    map itself reported is old news and does not move the map; views the server chose (a link, "zoom
    to results", a click on a density cell) still do.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (m) {
          var S = window.Streamlit, seen = [], render = null;
          // Same bounds, zoom and clicks, the centre moved by less than a pixel: Leaflet recomputing its
          // centre from pixels (after the frame is first sized) is not news, and would cost a run.
          function onlyRecentred(a, b) {
            if (!a.center || !b.center || a.zoom === undefined) { return false; }
            var ra = Object.assign({}, a, {center: null}), rb = Object.assign({}, b, {center: null});
            if (JSON.stringify(ra) !== JSON.stringify(rb)) { return false; }
            return m.project(L.latLng(a.center), a.zoom).distanceTo(m.project(L.latLng(b.center), a.zoom)) < 1;
          }
          function key(c, z) {
            if (!c || z === null || z === undefined) { return null; }
            var lat = Array.isArray(c) ? c[0] : c.lat, lng = Array.isArray(c) ? c[1] : c.lng;
            return [Number(lat), Number(lng), Number(z)].join(',');
          }
          if (S && S.events && S.setComponentValue && !S.__svViews) {
            S.__svViews = true;
            var send = S.setComponentValue, last = null;
            S.setComponentValue = function (v) {
              if (last && v && onlyRecentred(last, v)) { return; }
              last = v;
              var k = v && key(v.center, v.zoom);
              if (k) { seen.push(k); if (seen.length > 64) { seen.shift(); } }
              return send.apply(this, arguments);
            };
            var dispatch = S.events.dispatchEvent;
            S.events.dispatchEvent = function (e) {  // streamlit-folium moves the map inside this call
              render = (e && e.type === S.RENDER_EVENT && e.detail && e.detail.args) || null;
              try { return dispatch.apply(this, arguments); } finally { render = null; }
            };
            var setView = m.setView;
            m.setView = function () {
              if (render && seen.indexOf(key(render.center, render.zoom)) !== -1) { return this; }
              return setView.apply(this, arguments);
            };
          }
          // The value streamlit-folium would send: its keys, in its order, filtered by its returned_objects.
          // ``to``: the view a glide or a zoom animation is heading for (else where the map is now).
          function report(to) {
            var g = window.__GLOBAL_DATA__;
            if (window.map !== m || !g || !('previous_data' in g) || !S || !S.setComponentValue) { return; }
            var wrap = g.wrap_longitude;
            function w(v) { return v && wrap ? m.wrapLatLng(v) : v; }
            var b = to ? to.bounds : m.getBounds();
            var all = {
              last_clicked: w(g.lat_lng_clicked), last_object_clicked: w(g.last_object_clicked),
              last_object_clicked_count: g.last_object_clicked_count,
              last_object_clicked_tooltip: g.last_object_clicked_tooltip,
              last_object_clicked_popup: g.last_object_clicked_popup,
              all_drawings: g.all_drawings, last_active_drawing: g.last_active_drawing,
              last_geocoder_result: g.last_geocoder_result, bounds: b && wrap ? m.wrapLatLngBounds(b) : b,
              zoom: to ? to.zoom : m.getZoom(), last_circle_radius: g.last_circle_radius,
              last_circle_polygon: g.last_circle_polygon, center: w(to ? to.center : m.getCenter()),
              selected_layers: Object.values(g.selected_layers || {}), selected_tags: g.selected_tags
            };
            var keys = g.returned_objects || Object.keys(all), value = {};
            Object.keys(all).forEach(function (k) { if (keys.indexOf(k) !== -1) { value[k] = all[k]; } });
            if (JSON.stringify(g.previous_data) === JSON.stringify(value)) { return; }
            g.previous_data = value;
            window.__svPromptReports = (window.__svPromptReports || 0) + 1;
            S.setComponentValue(value);
          }
          // Where the map will be once its pane sits at ``pos`` with pixel origin ``origin`` at zoom ``z``:
          // Leaflet's own getCenter() and getBounds() arithmetic, so the view reported when the motion
          // starts is the one moveend finds (and then sends nothing).
          function viewAt(pos, origin, z, center) {
            var size = m.getSize(), tl = origin.subtract(pos), pb = L.bounds(tl, tl.add(size));
            return {
              zoom: z,
              center: pos.equals([0, 0]) && center ? center : m.unproject(size.divideBy(2).subtract(pos).add(origin), z),
              bounds: L.latLngBounds(m.unproject(pb.getBottomLeft(), z), m.unproject(pb.getTopRight(), z))
            };
          }
          var predict = typeof m._getMapPanePos === 'function' && typeof m.getPixelOrigin === 'function';
          if (predict) {
            // the glide after a drag (Leaflet's inertia): report where it will stop as it starts
            var panBy = m.panBy;
            m.panBy = function (offset, options) {
              var o = options || {}, to = null;
              if (o.animate === true && o.noMoveStart) {
                var d = L.point(offset).round();
                if (d.x || d.y) { to = viewAt(m._getMapPanePos().subtract(d).round(), m.getPixelOrigin(), m.getZoom()); }
              }
              var r = panBy.apply(this, arguments);
              if (to) { setTimeout(function () { report(to); }, 0); }
              return r;
            };
            // an animated zoom (buttons, wheel, keys): report the view it ends at as it starts
            m.on('zoomanim', function (e) {
              var pos = m._getMapPanePos();
              var origin = m.project(e.center, e.zoom)._subtract(m.getSize()._divideBy(2))._add(pos)._round();
              var to = viewAt(pos, origin, e.zoom, e.center);
              setTimeout(function () { report(to); }, 0);
            });
          }
          // after every handler of this event (streamlit-folium's, which update what is read above)
          m.on('moveend click', function () { setTimeout(report, 0); });
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "PromptReport"


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
    _FocusWithoutScroll().add_to(m)
    _ClickThroughRedraw().add_to(m)
    _PromptReport().add_to(m)
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


def footprints_layer(rows: pd.DataFrame, *, name: str = "footprints", zoom: int | None = None) -> folium.FeatureGroup:
    """Footprint rectangles coloured by source, each with an escaped tooltip naming its file.

    With ``zoom``, footprints narrower than MIN_FOOTPRINT_PX on screen are drawn as dots instead.
    """
    fg = folium.FeatureGroup(name=name)
    if rows.empty:
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
    _RectLayer(rects, colors, tips, weight=1.5, fill_opacity=0.25, css_class="sv-footprint").add_to(fg)
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


def cells_layer(cells: pd.DataFrame, *, name: str = "cells", by_source: bool = False) -> folium.FeatureGroup:
    """Aggregated cells shaded by image count (log scale), or coloured by their dominant source;
    tooltip with count and dominant source."""
    fg = folium.FeatureGroup(name=name)
    if cells.empty:
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
    _RectLayer(rects, colors, tips, weight=0.5, fill_opacity=0.55, css_class="sv-cell").add_to(fg)
    return fg


def view_layer(view: MapView, zoom: int | None = None, *, by_source: bool = False) -> folium.FeatureGroup:
    """The data layer for one map view (footprints, or cells shaded by count or ``by_source``)."""
    if view.kind == "footprints":
        return footprints_layer(view.rows, zoom=zoom)
    return cells_layer(view.rows, by_source=by_source)


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
