"""What the map does in the browser beyond Leaflet and streamlit-folium: scripts added to every map.

* :class:`FocusWithoutScroll`: a click on the map does not scroll the page (which lost the click);
* :class:`ClickThroughRedraw`: a click whose footprint is redrawn during the press still selects it;
* :class:`PromptReport`: a pan, zoom or click reaches the server at once (no 250 ms debounce), and late
  runs that echo a view the map reported earlier do not move it back.

Each is a branca ``MacroElement`` whose script runs inside the map's iframe with the map as its
argument; ``tests/e2e/test_map_e2e.py`` drives each in Chromium.
"""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template

__all__ = ["ClickThroughRedraw", "FocusWithoutScroll", "PromptReport", "add_to"]


class FocusWithoutScroll(MacroElement):
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


class ClickThroughRedraw(MacroElement):
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


class PromptReport(MacroElement):
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


def add_to(m: folium.Map) -> None:
    """Add every script above to ``m``."""
    FocusWithoutScroll().add_to(m)
    ClickThroughRedraw().add_to(m)
    PromptReport().add_to(m)
