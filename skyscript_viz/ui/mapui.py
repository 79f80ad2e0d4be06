"""The map widget: view state, clicks, and the dynamic layers handed to streamlit-folium."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from .. import mapview
from ..assets import MISSING_ASSETS_NOTICE
from ..query import BBox, Filters
from ..text import html_text
from . import keys
from .data import Dataset, cached_map_view
from .nav import timed

MAP_HEIGHT = 560
_ASSUMED_WIDTH = 900  # px, only until the browser reports the real bounds
_RETURNED = ["bounds", "zoom", "center", "last_object_clicked", "last_object_clicked_tooltip",
             "last_object_clicked_count"]


def _bounds_for(lat: float, lon: float, zoom: int, width: int = _ASSUMED_WIDTH,
                height: int = MAP_HEIGHT) -> BBox:
    """Approximate bounds of the map until the browser reports the real ones."""
    return mapview.view_bounds(lat, lon, zoom, width_px=width, height_px=height)


def set_view(lat: float, lon: float, zoom: int) -> None:
    """Move the map (programmatically: zoom to results, a click on a cell)."""
    st.session_state[keys.VIEW] = (lat, lon, int(zoom))
    st.session_state["m_bounds"] = _bounds_for(lat, lon, int(zoom))


def zoom_to_results(ds: Dataset, f: Filters) -> None:
    """Fit the map to the footprints matching ``f`` (the view filter itself is ignored)."""
    ext = ds.index.extent(replace(f, bbox=None))
    if ext is not None:
        lat, lon, z = mapview.zoom_for_bbox(ext.west, ext.south, ext.east, ext.north,
                                            width_px=_ASSUMED_WIDTH, height_px=MAP_HEIGHT)
        set_view(lat, lon, z)


def view_for_box(west: float, south: float, east: float, north: float, *,
                 fraction: float = 1.0) -> tuple[float, float, int]:
    """Centre and zoom at which a lon/lat box fills ``fraction`` of the map (a box may cross the antimeridian)."""
    if west > east:
        east += 360.0
    lat, lon, z = mapview.zoom_for_bbox(west, south, east, north, width_px=max(1, int(_ASSUMED_WIDTH * fraction)),
                                        height_px=max(1, int(MAP_HEIGHT * fraction)))
    return lat, ((lon + 180) % 360) - 180, z


def ensure_view(ds: Dataset) -> None:
    """Start where the URL says: its view (lat, lon, z), else its bbox, else its selected image's
    footprint, else the dataset's extent."""
    ss = st.session_state
    if ss.get(keys.VIEW) is None:
        box: BBox | None = ss.get("m_bounds")  # only set by now when the link had a bbox
        sel = ds.index.get(ss[keys.SELECTED]) if ss.get(keys.SELECTED) else None
        if box is not None:
            ss[keys.VIEW] = view_for_box(box.west, box.south, box.east, box.north)  # the box stays the bounds
        elif sel is not None and sel.row.get("cx") is not None:
            r = sel.row
            set_view(*view_for_box(r["west"], r["south"], r["east"], r["north"], fraction=1 / 3))
        elif (ext := ds.index.extent(Filters())) is None:
            set_view(20.0, 0.0, 2)
        else:
            set_view(*view_for_box(ext.west, ext.south, ext.east, ext.north))
    elif "m_bounds" not in ss:
        set_view(*ss[keys.VIEW])


def absorb_map_return() -> str | None:
    """Take the browser's last report (pan, zoom, click) into session state; returns a clicked file path."""
    ret: dict[str, Any] | None = st.session_state.get(keys.MAP)
    if not ret:
        return None
    ss = st.session_state
    center, zoom, bounds = ret.get("center"), ret.get("zoom"), ret.get("bounds")
    moved = (center and zoom is not None and bounds and bounds.get("_southWest")
             and (center.get("lat"), center.get("lng"), zoom) != ss.get("m_last_ret"))
    if moved:
        ss["m_last_ret"] = (center.get("lat"), center.get("lng"), zoom)
        ss[keys.VIEW] = (float(center["lat"]), ((float(center["lng"]) + 180) % 360) - 180, int(zoom))
        sw, ne = bounds["_southWest"], bounds["_northEast"]
        try:
            ss["m_bounds"] = BBox.from_view(float(sw["lng"]), float(sw["lat"]), float(ne["lng"]),
                                            float(ne["lat"]))
        except (TypeError, ValueError):
            ss["m_bounds"] = _bounds_for(*ss[keys.VIEW])
    click = (ret.get("last_object_clicked_count"), ret.get("last_object_clicked_tooltip"),
             str(ret.get("last_object_clicked")))
    if ret.get("last_object_clicked") is None or click == ss.get(keys.LAST_CLICK):
        return None
    ss[keys.LAST_CLICK] = click
    tip = ret.get("last_object_clicked_tooltip") or ""
    fp = mapview.filepath_from_tooltip(tip)
    if fp:
        return fp
    if "click to zoom in" in tip:
        pt = ret["last_object_clicked"]
        lat, lon, z = ss[keys.VIEW]
        set_view(float(pt["lat"]), float(pt["lng"]), min(18, z + 2))
    return None


def view_bbox() -> BBox:
    return st.session_state.get("m_bounds") or _bounds_for(*st.session_state[keys.VIEW])


def draw_map(ds: Dataset, f: Filters, *, selected_row: dict[str, Any] | None,
             drape: tuple[bytes, str] | None) -> tuple[str, int]:
    """Render the map for filters ``f`` in the current view; returns (kind, matches in view)."""
    ss = st.session_state
    lat, lon, zoom = ss[keys.VIEW]
    base = ss.get(keys.BASE, "offline")
    init = ss.get(keys.MAP_INIT)
    if init is None or init[3] != base:
        init = ss[keys.MAP_INIT] = (lat, lon, zoom, base)  # rebuilt only when the base layer changes
    m, offline_ok = mapview.base_map(lat=init[0], lon=init[1], zoom=init[2], base=base)
    view_f = replace(f, bbox=view_bbox())
    view = cached_map_view(ds, view_f, zoom)
    groups = [mapview.view_layer(view, zoom), mapview.selection_layer(selected_row)]
    if drape is not None:
        groups.append(mapview.drape_layer(selected_row, drape[0], drape[1],
                                          opacity=float(ss.get(keys.OPACITY, 0.8))))
    st_folium(m, key=keys.MAP, height=MAP_HEIGHT, use_container_width=True, returned_objects=_RETURNED,
              feature_group_to_add=groups, center=(lat, lon), zoom=zoom)
    if not offline_ok:
        st.caption(MISSING_ASSETS_NOTICE)
    return view.kind, view.total


@st.fragment
def map_panel(ds: Dataset, f: Filters, *, selected_row: dict[str, Any] | None,
              drape: tuple[bytes, str] | None, write_url: Callable[[], None]) -> None:
    """The map and its "in view" line as a fragment: a pan or zoom reruns only this, not the page.

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
        kind, in_view = draw_map(ds, f, selected_row=selected_row, drape=drape)
    if kind == "cells":
        st.caption(f"{in_view:,} matches in view, shown as density cells; zoom in or click a cell to see "
                   "footprints.")
    else:
        st.caption(f"{in_view:,} footprint{'' if in_view == 1 else 's'} in view. Hover for details, "
                   "click to select.")
    write_url()  # the link follows the view on fragment reruns too


def _in_fragment_run() -> bool:
    """True when only a fragment is rerunning (the rest of the page is not being redrawn)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)


def legend(ds: Dataset, codes: list[str]) -> None:
    """Source colours as a one-line legend (our own labels, escaped anyway)."""
    items = "".join(
        f'<span style="white-space:nowrap;margin-right:14px"><span style="display:inline-block;width:12px;'
        f'height:12px;background:{html_text(color)};opacity:.8;border-radius:2px;margin-right:4px;'
        f'vertical-align:-1px"></span>{html_text(label)}</span>'
        for _, label, color in mapview.legend_items(codes)
    )
    st.markdown(f'<div style="font-size:0.8rem;line-height:1.9">{items}</div>', unsafe_allow_html=True)
