"""Benchmarks page body: the classification and retrieval sets in ``benchmark/``, and the missing ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ..benchmarks import BenchmarkSet, discover_benchmarks, download_command, resolve_image
from ..benchmarks import thumbnail as bench_thumbnail
from ..text import md_label, md_text
from . import charts
from .data import Dataset


@st.cache_data(show_spinner=False, max_entries=512)
def _bench_thumb(path: str) -> tuple[bytes | None, str | None]:
    """A small JPEG of a benchmark image (cached per path), or None and why not."""
    return bench_thumbnail(Path(path))


def _bench_images(bset: BenchmarkSet, paths: list[str], captions: list[str]) -> None:
    cols = st.columns(6)
    for i, (fp, cap) in enumerate(zip(paths, captions, strict=True)):
        p = resolve_image(bset, fp)
        with cols[i % 6]:
            thumb, why = (None, "missing") if p is None else _bench_thumb(str(p))
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
