"""The map widget: view state, clicks, and the dynamic layers handed to streamlit-folium."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from .. import mapview, tiles
from ..assets import MISSING_ASSETS_NOTICE
from ..errors import InvalidFilterError
from ..index import FOOTPRINT_ZOOM, MapView
from ..query import BBox, Filters
from ..state import safe_view
from ..text import html_text
from . import keys
from .data import Dataset, cached_map_view
from .firstview import ASSUMED_WIDTH as _ASSUMED_WIDTH
from .firstview import FIT_WIDTH as _FIT_WIDTH
from .firstview import MAP_HEIGHT, fitted
from .firstview import bounds_for as _bounds_for
from .nav import part, timed

_RETURNED = [
    "bounds",
    "zoom",
    "center",
    "last_object_clicked",
    "last_object_clicked_tooltip",
    "last_object_clicked_count",
]


def set_view(lat: float, lon: float, zoom: int) -> None:
    """Move the map (programmatically: zoom to results, a click on a cell)."""
    st.session_state[keys.VIEW] = (lat, lon, int(zoom))
    st.session_state["m_bounds"] = _bounds_for(lat, lon, int(zoom))


_SIZE = "m_size"


def map_size() -> tuple[int, int]:
    """The map's size in pixels as the browser last reported it (a small laptop map until then)."""
    return st.session_state.get(_SIZE) or (_FIT_WIDTH, MAP_HEIGHT)


def zoom_to_results(ds: Dataset, f: Filters) -> None:
    """Fit the map to the footprints matching ``f`` (the view filter itself is ignored)."""
    ext = ds.index.extent(replace(f, bbox=None))
    if ext is not None:
        width, height = map_size()
        set_view(*fitted(ext, width, height))
        st.session_state[_FITTED] = True


def view_for_box(
    west: float, south: float, east: float, north: float, *, fraction: float = 1.0
) -> tuple[float, float, int]:
    """Centre and zoom at which a lon/lat box fills ``fraction`` of the map (a box may cross the antimeridian)."""
    if west > east:
        east += 360.0
    lat, lon, z = mapview.zoom_for_bbox(
        west,
        south,
        east,
        north,
        width_px=max(1, int(_ASSUMED_WIDTH * fraction)),
        height_px=max(1, int(MAP_HEIGHT * fraction)),
    )
    return lat, ((lon + 180) % 360) - 180, z


def ensure_view(ds: Dataset) -> None:
    """Start where the URL says: its view (lat, lon, z), else its bbox, else its selected image's
    footprint, else the dataset's extent."""
    ss = st.session_state
    if ss.get(keys.VIEW) is None:
        box: BBox | None = ss.get("m_bounds")  # only set by now when the link had a bbox
        sel = ds.index.row(ss[keys.SELECTED]) if ss.get(keys.SELECTED) else None
        if box is not None:
            ss[keys.VIEW] = view_for_box(box.west, box.south, box.east, box.north)  # the box stays the bounds
        elif sel is not None and sel.get("cx") is not None:
            r = sel
            set_view(*view_for_box(r["west"], r["south"], r["east"], r["north"], fraction=1 / 3))
        elif (ext := ds.index.extent(Filters())) is None:
            set_view(20.0, 0.0, 2)
        else:  # provisional: follow_filters fits the matches once the sidebar has read the link's filters
            set_view(*view_for_box(ext.west, ext.south, ext.east, ext.north))
            ss[_FIT_PENDING] = True
    elif "m_bounds" not in ss:
        set_view(*ss[keys.VIEW])


_FIT_PENDING = "m_fit_pending"  # the first view still has to be fitted to the matches
_FITTED = "m_fitted"  # the view is an automatic fit the user has not moved away from
_LAST_FILTERS = "m_last_filters"


def follow_filters(ds: Dataset, f: Filters) -> None:
    """Keep the matches in sight: fit the first view to them, and refit after a filter change when
    the view was an untouched automatic fit or shows none of the new matches."""
    ss = st.session_state
    key = replace(f, bbox=None)
    prev = ss.get(_LAST_FILTERS)
    ss[_LAST_FILTERS] = key
    if ss.pop(_FIT_PENDING, False) or (
        prev is not None and prev != key and (ss.get(_FITTED) or _in_view(ds, key) == 0)
    ):
        zoom_to_results(ds, f)


def _in_view(ds: Dataset, f: Filters) -> int:
    """Matches of ``f`` in the current view, from the map view the map is about to draw (one query, cached)."""
    return cached_map_view(ds, replace(f, bbox=view_bbox()), st.session_state[keys.VIEW][2]).total


def _user_moved(lat: float, lon: float, zoom: int) -> bool:
    """A reported view differs from the one the app set (not just rounded by the browser)."""
    old: tuple[float, float, int] | None = st.session_state.get(keys.VIEW)
    if old is None or int(zoom) != int(old[2]):
        return True
    tol: float = 360.0 / 2 ** int(zoom) * 0.05  # 5 % of a 256 px tile
    return abs(lat - old[0]) > tol or abs(((lon - old[1] + 180) % 360) - 180) > tol


def absorb_map_return() -> str | None:
    """Take the browser's last report (pan, zoom, click) into session state; returns a clicked file path."""
    ret: dict[str, Any] | None = st.session_state.get(keys.MAP)
    if not ret or not isinstance(ret, dict):
        return None
    ss = st.session_state
    center, zoom, bounds = ret.get("center"), ret.get("zoom"), ret.get("bounds")
    # the browser's report is anyone's input: numbers are checked and clamped (2 ** zoom is computed)
    view = safe_view(center.get("lat"), center.get("lng"), zoom) if isinstance(center, dict) else None
    if (
        view is not None
        and isinstance(bounds, dict)
        and isinstance(bounds.get("_southWest"), dict)
        and isinstance(bounds.get("_northEast"), dict)
        and view != ss.get("m_last_ret")
    ):  # the view moved
        ss["m_last_ret"] = view
        if _user_moved(*view):
            ss[_FITTED] = False
        ss[keys.VIEW] = view
        sw, ne = bounds["_southWest"], bounds["_northEast"]
        _remember_size(sw, ne, view[2])
        try:
            ss["m_bounds"] = BBox.from_view(float(sw["lng"]), float(sw["lat"]), float(ne["lng"]), float(ne["lat"]))
        except (TypeError, ValueError, KeyError, InvalidFilterError):
            ss["m_bounds"] = _bounds_for(*ss[keys.VIEW])
    click = (
        ret.get("last_object_clicked_count"),
        ret.get("last_object_clicked_tooltip"),
        str(ret.get("last_object_clicked")),
    )
    if ret.get("last_object_clicked") is None or click == ss.get(keys.LAST_CLICK):
        return None
    ss[keys.LAST_CLICK] = click
    tip = str(ret.get("last_object_clicked_tooltip") or "")
    fp = mapview.filepath_from_tooltip(tip)
    if fp:
        return fp
    pt = ret["last_object_clicked"]
    if "click to zoom in" in tip and isinstance(pt, dict):
        z = ss[keys.VIEW][2]
        if (to := safe_view(pt.get("lat"), pt.get("lng"), min(FOOTPRINT_ZOOM, z + 2))) is not None:
            set_view(*to)
    return None


def _remember_size(sw: dict[str, Any], ne: dict[str, Any], zoom: int) -> None:
    """The map's pixel size from the bounds and zoom the browser reported (for fitting views)."""
    try:
        world = 256 * 2**zoom
        y0, y1 = (tiles.mercator(0.0, float(p["lat"]))[1] for p in (ne, sw))
        width = (float(ne["lng"]) - float(sw["lng"])) / 360.0 * world
        height = (y1 - y0) * world
    except (KeyError, TypeError, ValueError):
        return
    if 100 <= width <= 10_000 and 100 <= height <= 10_000:
        st.session_state[_SIZE] = (int(width), int(height))


def view_bbox() -> BBox:
    return st.session_state.get("m_bounds") or _bounds_for(*st.session_state[keys.VIEW])


def draw_map(
    ds: Dataset, f: Filters, *, selected_row: dict[str, Any] | None, drape: tuple[bytes, str] | None
) -> MapView:
    """Render the map for filters ``f`` in the current view; returns what it drew."""
    ss = st.session_state
    lat, lon, zoom = ss[keys.VIEW]
    base = ss.get(keys.BASE, "offline")
    init = ss.get(keys.MAP_INIT)
    if init is None:
        # the map's own script never changes after this, so streamlit-folium keeps its iframe; the
        # base layer is switched by a dynamic layer (a new script would mount a second iframe)
        init = ss[keys.MAP_INIT] = (lat, lon, zoom, base)
    m, offline_ok = mapview.base_map(lat=init[0], lon=init[1], zoom=init[2], base=init[3])
    view_f = replace(f, bbox=view_bbox())
    view = cached_map_view(ds, view_f, zoom)
    with part("map layers"):
        groups = [
            mapview.view_layer(view, zoom, by_source=bool(ss.get(keys.CELLS_BY_SOURCE))),
            mapview.selection_layer(selected_row),
            mapview.base_switch_layer(base),
        ]
        if drape is not None:
            groups.append(
                mapview.drape_layer(selected_row, drape[0], drape[1], opacity=float(ss.get(keys.OPACITY, 0.8)))
            )
    with part("map widget"):
        ret = st_folium(
            m,
            key=keys.MAP,
            height=MAP_HEIGHT,
            use_container_width=True,
            returned_objects=_RETURNED,
            feature_group_to_add=groups,
            center=(lat, lon),
            zoom=zoom,
        )
    if isinstance(ret, dict) and ret != ss.get(keys.MAP):
        # the widget's own value is the truth: Streamlit skips the change callback that copies it
        # to keys.MAP for a widget the previous run did not draw
        ss[keys.MAP] = ret
    if not offline_ok:
        st.caption(MISSING_ASSETS_NOTICE)
    return view


@st.fragment
def map_panel(
    ds: Dataset,
    f: Filters,
    *,
    selected_row: dict[str, Any] | None,
    drape: tuple[bytes, str] | None,
    legend_codes: list[str],
    write_url: Callable[[], None],
) -> None:
    """The map, its "in view" line and its legend as a fragment: a pan or zoom reruns only this, not the page.

    A click that selects an image, or a move while "only images in the map view" filters the page,
    changes what the rest of the page shows, so those rerun the whole app.
    """
    ss = st.session_state
    before = ss.get("m_bounds")
    clicked = absorb_map_return()
    if clicked:
        ss[keys.SELECTED] = clicked
    alone = _in_fragment_run()
    if alone and (clicked or (ss.get(keys.IN_VIEW) and ss.get("m_bounds") != before)):
        st.rerun(scope="app")
    with timed("fragment map") if alone else nullcontext():
        view = draw_map(ds, f, selected_row=selected_row, drape=drape)
    if late := absorb_map_return():  # a click only the drawn widget's value held
        ss[keys.SELECTED] = late
        st.rerun(scope="app")
    in_view, shown = view.total, len(view.rows)
    if view.kind == "cells":
        st.caption(f"{in_view:,} matches in view, shown as density cells; zoom in or click a cell to see footprints.")
    elif shown < in_view:
        st.caption(f"The first {shown:,} of {in_view:,} footprints in view. Hover for details, click to select.")
    else:
        st.caption(f"{in_view:,} footprint{'' if in_view == 1 else 's'} in view. Hover for details, click to select.")
    map_legend(ds, view, legend_codes)
    write_url()  # the link follows the view on fragment reruns too


def _in_fragment_run() -> bool:
    """True when only a fragment is rerunning (the rest of the page is not being redrawn)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)


def _swatches(items: list[tuple[str, str]], title: str = "") -> None:
    """(colour, label) pairs as a one-line legend (our own labels, escaped anyway)."""
    spans = "".join(
        f'<span class="sv-legend-item" style="white-space:nowrap;margin-right:14px"><span style="display:'
        f"inline-block;width:12px;height:12px;background:{html_text(color)};opacity:.8;border-radius:2px;"
        f'margin-right:4px;vertical-align:-1px"></span>{html_text(label)}</span>'
        for color, label in items
    )
    head = f"<b>{html_text(title)}</b> " if title else ""
    st.markdown(
        f'<div class="sv-legend" style="font-size:0.8rem;line-height:1.9">{head}{spans}</div>', unsafe_allow_html=True
    )


def legend(ds: Dataset, codes: list[str]) -> None:
    """Source colours as a one-line legend."""
    _swatches([(color, label) for _, label, color in mapview.legend_items(codes)])


def cells_legend(cells: Any, *, by_source: bool) -> None:
    """What a density cell's colour means: its image count (shades), or its dominant source."""
    if cells is None or cells.empty:
        return
    if by_source:
        codes = sorted({str(c) for c in cells["dominant_source"].fillna("??")})
        _swatches([(color, label) for _, label, color in mapview.legend_items(codes)], "Most images from:")
    else:
        _swatches(mapview.density_legend(int(cells["count"].max())), "Images per cell:")


def map_legend(ds: Dataset, view: MapView, codes: list[str]) -> None:
    """The legend under the map: source colours for footprints; for cells, a count legend and the
    option to colour them by dominant source."""
    if view.kind != "cells":
        legend(ds, codes)
        return
    cells_key(view.rows)


def cells_key(cells: Any) -> None:
    """Legend of density cells, and the switch between count shades and dominant-source colours."""
    cells_legend(cells, by_source=bool(st.session_state.get(keys.CELLS_BY_SOURCE)))
    st.toggle(
        "Colour cells by dominant source",
        key=keys.CELLS_BY_SOURCE,
        help="Instead of shading by image count, colour each cell by the source most of its images come from",
    )
