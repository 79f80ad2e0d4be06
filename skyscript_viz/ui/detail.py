"""The selected image's panel: picture, captions, tags, metadata, problems. All user text escaped."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ..images import ImageResult
from ..index import ImageRecord
from ..naming import OBJECT_TYPES, osm_url
from ..problems import PROBLEM_HELP
from ..sources import source_info
from ..text import md_code, md_table, md_text
from .data import Dataset, cached_neighbours


def _fmt_time(row: dict[str, Any]) -> str:
    parts = [row.get(k) for k in ("year", "month", "day", "hour", "minute")]
    if parts[0] is None:
        return "unknown"
    y, mo, d, h, mi = (int(p) if p is not None else None for p in parts)
    date = f"{y}" + (f"-{mo:02d}" if mo else "") + (f"-{d:02d}" if d and mo else "")
    return date + (f" {h:02d}:{mi or 0:02d} UTC" if h is not None else "")


def surrounding_rows(objects: list[dict[str, str]]) -> list[tuple[int, str, str]]:
    """(object number from 1, key, value) of every tag of the surrounding objects, as table rows."""
    return [(i, k, v) for i, obj in enumerate(objects, 1) for k, v in obj.items()]


def image_panel(ds: Dataset, rec: ImageRecord, img: ImageResult) -> None:
    """Picture with a one-line caption; a clear note when it is a placeholder."""
    row = rec.row
    src = source_info(str(row.get("source") or "??"))
    st.image(
        img.data, width="stretch", caption=f"{src.code} · {src.name} · {src.resolution_label}/px · {_fmt_time(row)}"
    )
    if not img.ok:
        st.error(f"Image not shown: {md_text(img.problem)}")


def captions_panel(rec: ImageRecord) -> None:
    row = rec.row
    title, multi = row.get("title"), row.get("title_multi_objects")
    if title is None and multi is None:
        st.caption("No caption: this image is in no caption CSV.")
        return
    st.markdown(f"**Caption:** {md_text(title) if title else '—'}")
    st.markdown(f"**Multi-object caption:** {md_text(multi) if multi else '—'}")


def metadata_panel(rec: ImageRecord) -> None:
    row = rec.row
    src = source_info(str(row.get("source") or "??"))
    otype = row.get("obj_type")
    osm_id = row.get("osm_id")
    lines = [f"**File:** {md_code(row['filepath'])}"]
    if otype and osm_id is not None:
        url, note = osm_url(str(otype), int(osm_id))
        link = f"[{OBJECT_TYPES[str(otype)]} {int(osm_id)}]({url})" if url else f"{otype}{osm_id}"
        lines.append(f"**OSM object:** {link}" + ("" if note == "exact" else f"  \n*{md_text(note)}*"))
    resolution = "unknown" if not src.known else f"{src.resolution_label} per pixel"
    lines.append(f"**Source:** {md_text(src.code)} · {md_text(src.name)} (`{src.collection}`), {resolution}")
    lines.append(f"**Acquired:** {_fmt_time(row)}")
    if row.get("cx") is not None:
        lines.append(
            f"**Box (W, S, E, N):** {row['west']:.6f}, {row['south']:.6f}, {row['east']:.6f}, "
            f"{row['north']:.6f}  \n**Footprint:** {row['width_m']:,.0f} m × {row['height_m']:,.0f} m"
        )
    elif row.get("west") is not None:
        lines.append(f"**Box (invalid):** {row['west']}, {row['south']}, {row['east']}, {row['north']}")
    else:
        lines.append("**Box:** none (no meta)")
    storage = row.get("storage")
    where = f"{row.get('container')} → {row.get('member')}" if storage != "none" else "missing"
    lines.append(f"**Stored in:** {md_text(storage)} {md_code(where)}")
    subsets = ", ".join(md_text(s.label) for s in rec.subsets) or "none"
    lines.append(f"**Subsets:** {subsets}")
    st.markdown("  \n".join(lines))


def tags_panel(rec: ImageRecord) -> None:
    """Focus and surrounding tags as Markdown tables (``text.md_table``: every cell literal).

    The selected image's tags are the first table most sessions show. st.dataframe made the browser
    fetch and start its 1.7 MB data-grid script for a dozen rows, st.table its ~0.9 MB of Arrow
    formatting scripts (measured in ``bench/browser.py`` at 5.2M images: the largest part of selecting
    a footprint once the server had answered); a Markdown table needs nothing new.
    """
    st.markdown("**Focus object tags**")
    if rec.focus_tags:
        st.markdown(md_table(["key", "value"], [[k, v] for k, v in rec.focus_tags.items()]))
    else:
        st.caption("none")
    n = len(rec.surrounding)
    with st.expander(f"Surrounding objects ({n})", expanded=n > 0 and n <= 4):
        if n:
            st.markdown(md_table(["object", "key", "value"], surrounding_rows(rec.surrounding)))
        else:
            st.caption("none")


def problems_panel(rec: ImageRecord, img: ImageResult | None = None) -> None:
    probs = list(rec.problems)
    if img is not None and not img.ok:
        probs.append({"kind": "corrupt_image", "detail": img.problem or "", "origin": "image"})
    if not probs:
        st.caption("No problems recorded for this image.")
        return
    for p in probs:
        help_ = PROBLEM_HELP.get(p["kind"], "")
        st.warning(f"**{md_text(p['kind'])}**: {md_text(help_)}  \n{md_text(p['detail'])}")


def _select(filepath: str) -> None:
    st.session_state["selected"] = filepath


def selection_nav(ds: Dataset, f: Any, rec: ImageRecord) -> None:
    """Previous / next match buttons and the position of the selected image among the matches."""
    pos, prev_fp, next_fp = cached_neighbours(ds, f, rec.id)
    c1, c2, c3 = st.columns([1, 1, 1])
    c1.button(
        "◀ Prev",
        key="sel_prev",
        help="Previous match",
        disabled=prev_fp is None,
        on_click=_select,
        args=(prev_fp,),
        width="stretch",
    )
    c2.markdown(
        f"<div style='text-align:center;padding-top:6px'>match {pos + 1:,}</div>"
        if pos is not None
        else "<div style='text-align:center;padding-top:6px'>not among the current matches</div>",
        unsafe_allow_html=True,
    )
    c3.button(
        "Next ▶",
        key="sel_next",
        help="Next match",
        disabled=next_fp is None,
        on_click=_select,
        args=(next_fp,),
        width="stretch",
    )
