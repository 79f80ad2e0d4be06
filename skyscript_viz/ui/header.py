"""Title bar with headline numbers, and the banner that says when the data is the synthetic demo."""

from __future__ import annotations

import streamlit as st

from ..query import Filters
from ..text import md_label
from . import filters, urlstate
from .data import Dataset, dataset


@st.cache_data(show_spinner=False, hash_funcs={Dataset: lambda d: str(d.index.gen_dir)})
def _headline(ds: Dataset) -> dict[str, int]:
    return ds.index.headline()


def title_bar(ds: Dataset, page: str) -> None:
    """Dataset name, page name and headline numbers; the demo banner when it applies."""
    h = _headline(ds)
    name = "SkyScript · built-in demo sample" if ds.is_demo else f"SkyScript · {md_label(ds.root.name)}"
    st.markdown(f"### {name} — {page}")
    st.caption(
        f"{h['images']:,} images · {h['with_footprint']:,} with a footprint · {h['sources']} sources · "
        f"{h['years']} years · {h['tags']:,} distinct OSM tags · {h['problems']:,} recorded problems"
    )
    if ds.is_demo:
        st.info(
            "**Synthetic demo data.** These images are rendered by SkyScript Explorer itself and their "
            "positions outside Finland are invented; the OSM tags come from real objects "
            "(© OpenStreetMap contributors, ODbL). To open a real SkyScript download run "
            "`SKYSCRIPT_ROOT=/data/SkyScript streamlit run app.py` and build its index with "
            "`python -m skyscript_viz index /data/SkyScript`.",
        )


def page_start(page: str) -> tuple[Dataset, Filters]:
    """What every filtered page does first: open the dataset, seed the widgets from the link (once),
    draw the title bar and the link's notices, and read the filter sidebar."""
    ds = dataset()
    urlstate.seed_from_url(ds)
    title_bar(ds, page)
    urlstate.show_notices()
    return ds, filters.sidebar(ds)
