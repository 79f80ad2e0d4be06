"""Overview (statistics for stakeholders) and saved views: page bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from .. import mapview
from ..errors import SkyscriptVizError
from ..query import Filters, TagExpr
from ..report import OverviewData, build_report, overview_data
from ..state import filters_to_params
from ..text import md_link, md_table, md_text
from . import charts, keys
from .data import Dataset
from .mapui import cells_key
from .review import identity, safe_read, store


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs={Dataset: lambda d: str(d.index.gen_dir)})
def _overview_data(ds: Dataset, f: Filters) -> OverviewData:
    return overview_data(ds.index, f)


def _apply_cell(selection: Mapping[str, Any]) -> None:
    """A click on a coverage-matrix cell: filter to that source, year and focus key."""
    pts = (selection.get("selection") or {}).get("cell") or []
    if not pts:
        return
    p = pts[0]
    ss = st.session_state
    ss[keys.SOURCES] = [p["source"]]
    ss[keys.YEARS] = (int(p["year"]), int(p["year"]))
    ss.pop("f_years_slider", None)
    ss[keys.TAGS] = [str(TagExpr(p["key"], None, "focus"))]


def overview(ds: Dataset, f: Filters) -> None:
    """Headline numbers, the density map, and the charts of the matches of ``f``."""
    d = _overview_data(ds, f)
    bsy: pd.DataFrame = d["by_source_year"]
    c = st.columns(5)
    c[0].metric("Images", f"{d['count']:,}")
    c[1].metric("Distinct tags", f"{ds.index.headline()['tags']:,}")
    c[2].metric("Sources", f"{bsy['source'].nunique() if not bsy.empty else 0}")
    c[3].metric("1° cells covered", f"{d['cells_1deg']:,}", help="Distinct 1°×1° lon/lat cells with images")
    years = bsy["year"].dropna() if not bsy.empty else pd.Series(dtype=float)
    c[4].metric("Years", f"{int(years.min())}–{int(years.max())}" if len(years) else "—")
    st.download_button(
        "Download report",
        key="download_report",
        file_name="skyscript-report.html",
        mime="text/html",
        icon=":material/download:",
        data=lambda: build_report(ds.index, f, images=ds.images, data=d),  # built on click only
        help="One HTML file with these numbers, charts, a coverage map, sample images and "
        "problems; it opens without network, for people who never open the app",
    )

    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Where the images are** (density of footprints)")
        ext = d["extent"]
        lat, lon, z = (
            (25.0, 5.0, 1)
            if ext is None
            else mapview.zoom_for_bbox(  # fit the matches
                ext.west, ext.south, ext.east, ext.north, width_px=460, height_px=330
            )
        )
        m, _ = mapview.base_map(lat=lat, lon=lon, zoom=min(z, 10), base=st.session_state.get(keys.BASE, "offline"))
        by_source = bool(st.session_state.get(keys.CELLS_BY_SOURCE))
        mapview.cells_layer(d["cells"], by_source=by_source).add_to(m)
        st_folium(m, key="overview_map", height=330, use_container_width=True, returned_objects=[])
        cells_key(d["cells"])
    with right:
        st.markdown("**Images by source and year**")
        st.altair_chart(charts.by_source_year(bsy), width="stretch")

    _tag_charts(d)
    _shape_charts(d)
    _coverage_matrix(d)


def _tag_charts(d: OverviewData) -> None:
    """Top keys and key=value pairs, on the focus object and on the surrounding ones."""
    a, b = st.columns(2)
    with a:
        st.markdown("**Top tag keys: focus object**")
        st.altair_chart(
            charts.bars(d["keys_focus"], "images", "tag", title="images"),
            width="stretch",
        )
        st.markdown("**Top key=value pairs: focus object**")
        st.altair_chart(
            charts.bars(d["pairs_focus"], "images", "tag", title="images"),
            width="stretch",
        )
    with b:
        st.markdown("**Top tag keys: surrounding objects**")
        st.altair_chart(
            charts.bars(d["keys_surr"], "images", "tag", title="images", color="#6b8e9b"),
            width="stretch",
        )
        st.markdown("**Top key=value pairs: surrounding objects**")
        st.altair_chart(
            charts.bars(d["pairs_surr"], "images", "tag", title="images", color="#6b8e9b"),
            width="stretch",
        )


def _shape_charts(d: OverviewData) -> None:
    """Object types, caption lengths, and footprint sizes against each source's nominal resolution."""
    a, b = st.columns(2)
    with a:
        st.markdown("**Object types**")
        bt: pd.DataFrame = d["by_type"]
        bt = bt.assign(type=bt["obj_type"].map({"a": "area", "w": "way", "n": "node"}).fillna("unknown"))
        st.altair_chart(charts.bars(bt, "images", "type", title="images", height=140), width="stretch")
        st.markdown("**Caption length**")
        st.altair_chart(charts.caption_lengths(d["captions"]), width="stretch")
    with b:
        st.markdown("**Footprint size by source, against nominal resolution**")
        chart, table = charts.footprint_sizes(d["footprints"])
        st.altair_chart(chart, width="stretch")
        header, rows = charts.formatted_rows(table, charts.FOOTPRINT_TABLE_FORMATS)
        st.markdown(md_table(header, rows))


def _coverage_matrix(d: OverviewData) -> None:
    """Source × year × top focus key counts; a click on a cell filters to it."""
    st.markdown("**Coverage: source × year × top focus tag keys** — click a cell to filter to it")
    cov: pd.DataFrame = d["coverage"]
    if cov.empty:
        st.caption("No tagged images under these filters.")
    else:
        event = st.altair_chart(charts.coverage_matrix(cov), width="stretch", on_select="rerun", key="coverage_chart")
        if isinstance(event, dict) and (event.get("selection") or {}).get("cell"):  # a VegaLiteState
            _apply_cell(event)
            st.rerun()


def saved_views(ds: Dataset, f: Filters) -> None:
    """Named, shareable views: save the current filters under a name; list saved ones as links."""
    with st.sidebar.expander("Saved views"):
        name = st.text_input("Name this view", key="view_name", placeholder="tennis courts at 10 cm")
        confirm = st.checkbox(
            "Replace my view of this name", key="view_replace", help="A view can only be replaced by whoever saved it"
        )
        if st.button("Save view", key="save_view", disabled=not name.strip()):
            who, verified = identity()
            try:
                store(ds).save_view(
                    name, urlencode(filters_to_params(f), doseq=True), owner=who, verified=verified, replace=confirm
                )
                st.toast(f"Saved view {md_text(name)}")
            except SkyscriptVizError as exc:
                st.error(md_text(str(exc)))
        views: list[tuple[str, str]] = safe_read(ds, lambda s: s.views(), [])
        for vname, query in views:
            st.markdown(md_link(vname, f"./overview?{query}"))
