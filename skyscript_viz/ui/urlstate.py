"""Seeding widgets from the URL once per session, and writing the view back to the URL each run."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from ..query import Filters
from ..state import ViewState, parse_params, to_params
from ..text import md_text
from . import keys
from .data import Dataset, cached_facets


def _params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params}


def seed_from_url(ds: Dataset) -> None:
    """On a session's first run, put the URL's view into session state (widgets read it from there).

    On later runs, re-store the shared widget values: Streamlit forgets the state of widgets a page
    does not draw, and the filters must survive a switch from the map to the gallery and back.
    """
    if st.session_state.get(keys.SEEDED):
        for k in keys.PERSISTENT:
            if k in st.session_state:
                st.session_state[k] = st.session_state[k]
        return
    known_sources = [str(v.value) for v in cached_facets(ds, Filters())["source"] if v.value is not None]
    state, notices = parse_params(
        _params(), known_sources=known_sources, known_subsets=[s.slug for s in ds.index.subsets]
    )
    ss = st.session_state
    f = state.filters
    ss[keys.SOURCES] = list(f.sources)
    ss[keys.YEARS] = (f.year_min, f.year_max)
    ss[keys.MONTHS] = list(f.months)
    ss[keys.TYPES] = list(f.obj_types)
    ss[keys.TAGS] = [str(t) for t in f.tags]
    ss[keys.TAG_MODE] = f.tag_mode
    ss[keys.CAPTION] = f.caption
    ss[keys.SUBSETS] = list(f.subsets)
    ss[keys.IN_VIEW] = state.in_view
    ss[keys.PROBLEMS_ONLY] = bool(f.problems)
    ss[keys.PROBLEM_KINDS] = [k for k in f.problems if k != "any"]
    ss[keys.BASE] = state.base
    ss[keys.DRAPE] = state.drape
    ss[keys.OPACITY] = state.opacity
    ss[keys.SORT] = state.sort
    ss[keys.SEED] = state.seed
    ss[keys.PAGE] = state.page
    ss[keys.SIZE] = state.size
    ss[keys.VERDICTS] = list(state.verdicts)
    if state.lat is not None and state.lon is not None and state.zoom is not None:
        ss[keys.VIEW] = (state.lat, state.lon, state.zoom)
    elif state.zoom is not None:
        ss[keys.VIEW] = (20.0, 0.0, state.zoom)
    if f.bbox is not None:
        ss["m_bounds"] = f.bbox  # the link's box filters until the map reports its own bounds
    ss[keys.SELECTED] = state.selected
    ss[keys.NOTICES] = notices
    ss[keys.SEEDED] = True


def show_notices() -> None:
    """A small notice for URL values that were ignored."""
    notices = st.session_state.get(keys.NOTICES) or []
    if notices:
        more = f"; and {len(notices) - 10:,} more" if len(notices) > 10 else ""
        st.info("Some link parameters were ignored: " + "; ".join(md_text(n) for n in notices[:10]) + more)


def current_view(filters: Filters) -> ViewState:
    """The view as it stands after this run's widgets."""
    ss = st.session_state
    lat, lon, zoom = ss.get(keys.VIEW) or (None, None, None)
    return replace(
        ViewState(),
        filters=filters,
        lat=lat,
        lon=lon,
        zoom=zoom,
        base=ss.get(keys.BASE, "offline"),
        selected=ss.get(keys.SELECTED),
        drape=bool(ss.get(keys.DRAPE)),
        opacity=float(ss.get(keys.OPACITY, 0.8)),
        in_view=bool(ss.get(keys.IN_VIEW)),
        sort=ss.get(keys.SORT, "random"),
        seed=int(ss.get(keys.SEED, 0)),
        page=int(ss.get(keys.PAGE, 1)),
        size=int(ss.get(keys.SIZE, 48)),
        verdicts=tuple(ss.get(keys.VERDICTS) or ()),
    )


def write_url(view: ViewState) -> None:
    """Replace the query string with ``view`` (only when it changed, to avoid needless history)."""
    wanted = to_params(view)
    if _params() != {k: (v if isinstance(v, list) else [v]) for k, v in wanted.items()}:
        st.query_params.from_dict(wanted)
