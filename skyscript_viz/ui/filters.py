"""The filter sidebar shared by every page: widgets -> Filters, each option with live counts."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ..errors import InvalidFilterError
from ..naming import OBJECT_TYPES
from ..query import BBox, Filters, TagExpr
from ..sources import source_label
from . import keys, review
from .data import Dataset, cached_count, cached_facets
from .gallery import export_panel

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ROLES = {"any": "focus or surrounding", "focus": "focus object", "surrounding": "surrounding object"}


def _reset() -> None:
    ss = st.session_state
    ss[keys.SOURCES] = []
    ss[keys.YEARS] = (None, None)
    ss[keys.MONTHS] = []
    ss[keys.TYPES] = []
    ss[keys.TAGS] = []
    ss[keys.TAG_QUERY] = ""
    ss[keys.TAG_MODE] = "all"
    ss[keys.CAPTION] = ""
    ss[keys.SUBSETS] = []
    ss[keys.IN_VIEW] = False
    ss[keys.PROBLEMS_ONLY] = False
    ss[keys.PROBLEM_KINDS] = []
    ss[review.VERDICT_FILTER] = []
    ss[keys.PAGE] = 1
    ss.pop(_YEAR_SLIDER, None)


_YEAR_SLIDER = "f_years_slider"


def _years_changed(lo: int, hi: int) -> None:
    picked = st.session_state[_YEAR_SLIDER]
    st.session_state[keys.YEARS] = (None if picked[0] == lo else picked[0], None if picked[1] == hi else picked[1])


def _add_tag() -> None:
    ss = st.session_state
    pick = ss.get(keys.TAG_PICK)
    if not pick:
        return
    role = ss.get(keys.TAG_ROLE, "any")
    text = str(TagExpr.parse(pick if role == "any" else f"{role}:{pick}"))
    if text not in ss.get(keys.TAGS, []):
        ss[keys.TAGS] = [*ss.get(keys.TAGS, []), text]
    ss[keys.TAG_QUERY] = ""
    ss[keys.PAGE] = 1


def filters_from_state(bbox: BBox | None = None) -> Filters:
    """The Filters the widgets currently say (``bbox`` applies when "only the map view" is on)."""
    ss = st.session_state
    ymin, ymax = ss.get(keys.YEARS) or (None, None)
    tags: list[TagExpr] = []
    for t in ss.get(keys.TAGS, []):
        try:
            tags.append(TagExpr.parse(t))
        except InvalidFilterError:
            continue
    return Filters(
        sources=tuple(ss.get(keys.SOURCES, [])),
        year_min=ymin,
        year_max=ymax,
        months=tuple(int(m) for m in ss.get(keys.MONTHS, [])),
        obj_types=tuple(ss.get(keys.TYPES, [])),
        tags=tuple(tags),
        tag_mode=ss.get(keys.TAG_MODE, "all"),
        caption=ss.get(keys.CAPTION, "") or "",
        subsets=tuple(ss.get(keys.SUBSETS, [])),
        bbox=bbox if ss.get(keys.IN_VIEW) else None,
        problems=(tuple(ss.get(keys.PROBLEM_KINDS) or ()) or ("any",)) if ss.get(keys.PROBLEMS_ONLY) else (),
    )


def _counts(values: list[Any]) -> dict[Any, int]:
    return {v.value: v.count for v in values}


def sidebar(ds: Dataset, bbox: BBox | None = None) -> Filters:
    """Draw the filter widgets in the sidebar and return the Filters they describe."""
    ss = st.session_state
    f = review.apply_verdicts(ds, filters_from_state(bbox))
    facets = cached_facets(ds, f)
    all_facets = cached_facets(ds, Filters())
    sb = st.sidebar
    sb.header("Filters")
    n = cached_count(ds, f)
    sb.markdown(f"**{n:,}** of {ds.index.n_images:,} images match")
    sb.button("Reset all filters", on_click=_reset, key="reset_filters", width="stretch")

    src_counts = _counts(facets["source"])
    src_options = [str(v.value) for v in all_facets["source"] if v.value is not None]
    ss[keys.SOURCES] = [s for s in ss.get(keys.SOURCES, []) if s in src_options]
    sb.multiselect(
        "Source",
        src_options,
        key=keys.SOURCES,
        format_func=lambda c: f"{source_label(c)} ({src_counts.get(c, 0):,})",
        help="Earth Engine collection the image comes from; counts are under the other filters.",
    )

    _year_widgets(facets, all_facets)

    mc = _counts(facets["month"])
    sb.multiselect(
        "Month", list(range(1, 13)), key=keys.MONTHS, format_func=lambda m: f"{_MONTHS[m - 1]} ({mc.get(m, 0):,})"
    )
    tc = _counts(facets["obj_type"])
    sb.multiselect(
        "Object type", list(OBJECT_TYPES), key=keys.TYPES, format_func=lambda t: f"{OBJECT_TYPES[t]} ({tc.get(t, 0):,})"
    )

    _tag_widgets(ds)

    _caption_and_subset_widgets(ds, facets)
    sb.subheader("Review")
    review.reviewer_box()
    review.store_notice(ds)
    review.verdict_widget()
    final = review.apply_verdicts(ds, filters_from_state(bbox))
    export_panel(ds, final)  # every page with filters can take its matches away
    return final


def _year_widgets(facets: dict[str, Any], all_facets: dict[str, Any]) -> None:
    """The year range slider over the dataset's years, a warning for a range outside them, counts per year."""
    ss = st.session_state
    sb = st.sidebar
    years = [int(v.value) for v in all_facets["year"] if v.value is not None]
    if years:
        lo, hi = min(years), max(years)
        cur = ss.get(keys.YEARS) or (None, None)
        value = (cur[0] if cur[0] is not None else lo, cur[1] if cur[1] is not None else hi)
        value = (max(lo, min(hi, value[0])), max(lo, min(hi, value[1])))
        if lo < hi:
            if _YEAR_SLIDER not in ss:
                ss[_YEAR_SLIDER] = value
            sb.slider("Year", lo, hi, key=_YEAR_SLIDER, on_change=_years_changed, args=(lo, hi))
        want = (cur[0] if cur[0] is not None else lo, cur[1] if cur[1] is not None else hi)
        if want[0] > hi or want[1] < lo:  # e.g. a link's y=2000-2010: the slider cannot show it
            sb.warning(
                f"Year filter {want[0]}–{want[1]} is outside this dataset's years ({lo}–{hi}): "
                "no image matches it. Move the slider to change it."
            )
        yc = _counts(facets["year"])
        sb.caption(" · ".join(f"{y}: {yc.get(y, 0):,}" for y in range(lo, hi + 1)))


def _tag_widgets(ds: Dataset) -> None:
    """Tag autocomplete, the role picker, and the tag filters in force with their all/any mode."""
    ss = st.session_state
    sb = st.sidebar
    sb.subheader("OSM tags")
    query = sb.text_input(
        "Find a tag",
        key=keys.TAG_QUERY,
        placeholder="e.g. tennis, building=, leisure",
        help="Type the start of a key or value; `key=` lists that key's values.",
    )
    if query.strip():
        sugg = ds.index.autocomplete(query, limit=25)
        if sugg:
            labels = {s.text: f"{s.text} ({s.n_images:,}; focus {s.n_focus:,})" for s in sugg}
            sb.selectbox("Matching tags", list(labels), key=keys.TAG_PICK, format_func=labels.__getitem__)
            sb.radio("on", list(_ROLES), key=keys.TAG_ROLE, format_func=_ROLES.__getitem__, horizontal=True)
            sb.button("Add tag filter", on_click=_add_tag, key="add_tag", width="stretch")
        else:
            sb.caption("No tag starts with that.")
    if ss.get(keys.TAGS):
        sb.multiselect("Tag filters (remove with ×)", list(ss[keys.TAGS]), key=keys.TAGS)
        sb.radio(
            "Images must match",
            ["all", "any"],
            key=keys.TAG_MODE,
            horizontal=True,
            format_func=lambda m: "all tags" if m == "all" else "any tag",
        )


def _caption_and_subset_widgets(ds: Dataset, facets: dict[str, Any]) -> None:
    """Caption search, the subsets (official CSVs) with counts, the view and problem switches."""
    ss = st.session_state
    sb = st.sidebar
    sb.subheader("Captions and subsets")
    sb.text_input("Caption contains", key=keys.CAPTION)
    if ds.index.subsets:
        sc = _counts(facets["subset"])
        labels = {s.slug: s.label for s in ds.index.subsets}
        sb.multiselect(
            "Subset (caption CSV)",
            list(labels),
            key=keys.SUBSETS,
            format_func=lambda s: f"{labels[s]} ({sc.get(s, 0):,})",
            help="Images listed in any of the chosen official CSVs.",
        )
    sb.checkbox("Only images in the map view", key=keys.IN_VIEW)
    sb.checkbox("Only images with problems", key=keys.PROBLEMS_ONLY)
    if ss.get(keys.PROBLEMS_ONLY):
        kinds = sorted(set(ds.index.problem_counts()) | set(ss.get(keys.PROBLEM_KINDS) or []))
        sb.multiselect("Problem kinds (none picked: any)", kinds, key=keys.PROBLEM_KINDS)
