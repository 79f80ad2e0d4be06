"""Quality page body: every check with its count under the filters, and the affected images."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from ..problems import PROBLEM_HELP
from ..quality import CHECKS
from ..query import Filters
from ..text import md_code
from .data import Dataset, cached_count
from .gallery import thumb_grid


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
