"""Thumbnail grids (gallery page, same-object strip) and the export buttons."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from .. import export
from ..index import ImageRecord
from ..query import Filters
from ..sources import source_info
from ..state import PAGE_SIZES
from ..text import md_code, md_text
from ..vocab import SORT_ORDERS
from . import keys, review
from .data import Dataset, cached_count
from .thumbroute import thumb_source

IMAGE_PAGE = "app_pages/image.py"
GRID_COLUMNS = ("source", "year", "title")  # what a tile shows, beside what reading its image needs


def _text(value: object) -> str | None:
    """A row's text value, None when missing (a NULL arrives from pandas as NaN or NA, which are truthy)."""
    return None if value is None or pd.isna(value) else str(value)


def _open(filepath: str) -> None:
    st.session_state[keys.SELECTED] = filepath


def thumb_grid(
    ds: Dataset,
    rows: pd.DataFrame,
    *,
    columns: int = 6,
    key_prefix: str = "g",
    show_resolution: bool = False,
    review_tiles: bool = False,
) -> None:
    """Thumbnails with source, year and a short caption; "Open" goes to the image page."""
    if rows.empty:
        return
    records = rows.to_dict("records")
    for start in range(0, len(records), columns):
        cols = st.columns(columns)
        for col, row in zip(cols, records[start : start + columns], strict=False):
            thumb = thumb_source(ds, row)  # a URL the browser fetches and caches, when the route is served
            src = source_info(_text(row.get("source")) or "??")
            year = "" if pd.isna(row.get("year")) else f" · {int(row['year'])}"
            res = f" · {src.resolution_label}" if show_resolution and src.known else ""
            cap = _text(row.get("title")) or "no caption"
            cap = cap if len(cap) <= 60 else cap[:59] + "…"
            with col:
                st.image(thumb, width="stretch")
                st.markdown(f"**{md_text(src.code)}{year}{res}**  \n{md_text(cap)}")
                # a wrapping row: in a narrow tile the buttons go one under the other instead of
                # being squeezed to unreadable "O…" / "V…" halves
                buttons = st.container(horizontal=True, gap="small")
                if buttons.button(
                    "Open",
                    key=f"{key_prefix}_open_{row['id']}",
                    on_click=_open,
                    args=(str(row["filepath"]),),
                    width="content",
                ):
                    st.switch_page(IMAGE_PAGE)
                if review_tiles:
                    with buttons.popover("Verdict", width="content"):
                        # the form needs only the file path: no index lookup per tile (48 per run)
                        rec = ImageRecord(dict(row), {}, [], [])
                        review.verdict_form(ds, rec, key=f"{key_prefix}_v_{row['id']}", compact=True)


def gallery(ds: Dataset, f: Filters) -> None:
    """Paged, sortable thumbnail grid of the matches of ``f``."""
    ss = st.session_state
    total = cached_count(ds, f)
    c1, c2, c3, c4 = st.columns([2, 2, 1, 1])
    c1.markdown(f"#### {total:,} images match")
    c2.selectbox("Sort", list(SORT_ORDERS), key=keys.SORT, format_func=SORT_ORDERS.__getitem__)
    c3.number_input(
        "Seed",
        min_value=0,
        max_value=2**31 - 1,
        step=1,
        key=keys.SEED,
        disabled=ss.get(keys.SORT) != "random",
        help="Fixed per link: a shared URL shows the same images",
    )
    c4.selectbox("Per page", list(PAGE_SIZES), key=keys.SIZE)
    size = int(ss.get(keys.SIZE, 48))
    pages = max(1, -(-total // size))
    ss[keys.PAGE] = max(1, min(int(ss.get(keys.PAGE, 1)), pages))
    res = ds.index.page(
        f,
        offset=(ss[keys.PAGE] - 1) * size,
        limit=size,
        order=ss.get(keys.SORT, "random"),
        seed=int(ss.get(keys.SEED, 0)),
        columns=(*ds.index.file_columns, *GRID_COLUMNS),
    )
    thumb_grid(ds, res.rows, columns=6, review_tiles=True)
    if total == 0:
        st.info("No image matches these filters.")
    p1, p2, p3 = st.columns([1, 2, 1])
    # callbacks, not `if button: ...; st.rerun()`: a page turn is one script run instead of two
    p1.button(
        "◀ Previous page", key="g_prev", disabled=ss[keys.PAGE] <= 1, width="stretch", on_click=_turn_page, args=(-1,)
    )
    p2.markdown(
        f"<div style='text-align:center;padding-top:6px'>page {ss[keys.PAGE]:,} of {pages:,}</div>",
        unsafe_allow_html=True,
    )
    p3.button(
        "Next page ▶", key="g_next", disabled=ss[keys.PAGE] >= pages, width="stretch", on_click=_turn_page, args=(1,)
    )


def _turn_page(step: int) -> None:
    st.session_state[keys.PAGE] = max(1, int(st.session_state.get(keys.PAGE, 1)) + step)


def export_panel(ds: Dataset, f: Filters) -> None:
    """Download buttons for the current filters (generated when clicked)."""
    n = cached_count(ds, f)
    with st.sidebar.expander(f"Export these {n:,} images"):
        st.caption(
            "CSV in the SkyScript format (reads unchanged in the SkyScript training code), GeoJSON "
            "footprints, or Parquet with every indexed column. For millions of rows use "
            "`python -m skyscript_viz export ROOT --filter … -o FILE`."
        )
        too_many = n > export.BROWSER_MAX_ROWS  # a download is held in the server's memory: capped
        if too_many:
            st.info(
                f"{n:,} images are more than a browser download holds ({export.BROWSER_MAX_ROWS:,}). "
                f"Export them from a terminal: {md_code(export.cli_command(f, 'csv', ds.root))}"
            )
        for fmt, (mime, ext) in export.EXPORT_FORMATS.items():
            st.download_button(
                f"Download {fmt.upper()}",
                data=partial(export.export_download, ds.index, f, fmt=fmt),  # built on click only
                file_name=f"skyscript_export{ext}",
                mime=mime,
                key=f"export_{fmt}",
                width="stretch",
                on_click="ignore",
                disabled=too_many,
            )
