"""Overview (statistics for stakeholders), quality checks and benchmarks: page bodies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from .. import mapview
from ..benchmarks import BenchmarkSet, discover_benchmarks, download_command, resolve_image
from ..benchmarks import thumbnail as bench_thumbnail
from ..errors import SkyscriptVizError
from ..problems import PROBLEM_HELP
from ..quality import CHECKS
from ..query import Filters, TagExpr
from ..report import OverviewData, build_report, overview_data
from ..state import filters_to_params
from ..text import md_code, md_label, md_link, md_text
from . import charts, keys
from .data import Dataset, cached_count
from .gallery import thumb_grid
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
        st.dataframe(table, hide_index=True, width="stretch")
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


def quality(ds: Dataset, f: Filters) -> None:
    """Every check with its count under the filters, one sentence each, and a drill-down gallery."""
    counts = ds.index.problem_counts()
    if not ds.index.has_pixel_checks:
        st.info(
            "Pixel checks (blank, low contrast, duplicates, undecodable) have not been computed. Run "
            f"{md_code(f'python -m skyscript_viz index {ds.root} --pixels')} (decodes every image once)."
        )
    rows = []
    for kind in sorted(set(counts) | set(CHECKS)):
        title, why = CHECKS.get(kind, (kind.replace("_", " ").capitalize(), PROBLEM_HELP.get(kind, "")))
        n_here = cached_count(ds, replace(f, problems=(kind,)))
        rows.append(
            {
                "check": kind,
                "title": title,
                "records": counts.get(kind, 0),
                "images matching filters": n_here,
                "what it flags and why it matters": why,
            }
        )
    table = pd.DataFrame(rows)
    st.dataframe(table, hide_index=True, width="stretch")
    kinds = [str(r["check"]) for r in rows if r["records"]]
    if not kinds:
        st.success("No problems recorded.")
        return
    kind = st.selectbox(
        "Show the affected images of", kinds, key="quality_kind", format_func=lambda k: f"{k} ({counts.get(k, 0):,})"
    )
    sub = replace(f, problems=(kind,))
    page = ds.index.page(sub, limit=24)
    if page.rows.empty:
        st.caption("The affected records have no image in the index (e.g. CSV rows without an image):")
        st.dataframe(ds.index.problems(kind=kind, limit=200), hide_index=True, width="stretch")
    else:
        thumb_grid(ds, page.rows, columns=6, key_prefix=f"q_{kind}")
        with st.expander("All records of this check"):
            st.dataframe(ds.index.problems(kind=kind, limit=1000), hide_index=True, width="stretch")


@st.cache_data(show_spinner=False, max_entries=512)
def _bench_images(bset: BenchmarkSet, paths: list[str], captions: list[str]) -> None:
    cols = st.columns(6)
    for i, (fp, cap) in enumerate(zip(paths, captions, strict=True)):
        p = resolve_image(bset, fp)
        with cols[i % 6]:
            thumb, why = (None, "missing") if p is None else bench_thumbnail(p)
            if thumb is None:
                st.caption(f"{md_text(why or 'unreadable')}: {md_text(fp)}")
            else:
                st.image(thumb, width="stretch")
                st.caption(md_text(cap))


def benchmarks(ds: Dataset) -> None:
    sets = discover_benchmarks(ds.root)
    present = [b for b in sets if b.folder is not None]
    missing = [b for b in sets if b.folder is None]
    if not present:
        st.info("No `benchmark/` folder with sets in this dataset root.")
    for b in present:
        with st.expander(md_label(f"{b.name} — {b.description} ({b.kind})"), expanded=len(present) <= 3):
            if b.problem:
                st.warning(f"{md_text(b.name)}: {md_text(b.problem)}")
                continue
            df, odd = b.load()
            if odd:
                st.warning(f"{md_text(b.csv.name if b.csv else b.name)}: {md_text('; '.join(odd))}")
            if df.empty:
                st.caption("No usable rows.")
                continue
            if b.kind == "classification":
                dist = df.groupby("label").size().reset_index(name="images")
                extra = sorted(set(dist["label"]) - set(b.classnames)) if b.classnames else []
                st.caption(
                    f"{len(df):,} images, {len(dist)} classes"
                    + (f"; labels not in classnames.txt: {md_text(', '.join(extra))}" if extra else "")
                )
                st.altair_chart(
                    charts.bars(dist, "images", "label", title="images", height=max(120, 18 * len(dist))),
                    width="stretch",
                )
                label = st.selectbox("Class", sorted(dist["label"]), key=f"bench_{b.name}_class")
                sel = df[df["label"] == label].head(12)
                _bench_images(b, list(sel["filepath"]), [label] * len(sel))
            else:
                col = b.caption_column(df)
                if col is None:
                    st.warning(f"{md_text(b.name)}: no caption column")
                    continue
                groups = df.groupby("filepath", sort=True)[col].apply(list).reset_index().head(12)
                st.caption(f"{df['filepath'].nunique():,} images, {len(df):,} captions")
                _bench_images(b, list(groups["filepath"]), [" / ".join(c[:2]) for c in groups[col]])
    if missing:
        st.markdown("**Not downloaded** (from the SkyScript README's benchmark list):")
        st.dataframe(
            pd.DataFrame(
                {
                    "set": [b.name for b in missing],
                    "kind": [b.kind for b in missing],
                    "what": [b.description for b in missing],
                    "download": [download_command(b.name) for b in missing],
                }
            ),
            hide_index=True,
            width="stretch",
        )
