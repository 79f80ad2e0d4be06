"""Opening a remote (URL) root in the app: its local cache root's index, or how to build it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from .. import remote
from ..errors import IndexNotFoundError, SkyscriptVizError
from ..text import md_code, md_text
from .data import build_with_progress

__all__ = ["open_remote_dataset"]

_D = TypeVar("_D")


def _example_command(url: str) -> str:
    return f"python -m skyscript_viz index {url} --parts 2,3 --csv SkyScript_train_top30pct_filtered_by_CLIP_openai.csv"


def open_remote_dataset(url: str, origin: str, opener: Callable[[str, bool], _D]) -> _D:
    """The dataset of a URL root, opened with ``opener(cache_root, demo)`` (no network needed once indexed).

    Not indexed yet: says which command downloads and indexes it; when an earlier ``index`` run chose the
    parts and CSVs but did not finish, offers to finish it here. Always stops the page unless it returns.
    """
    try:
        url = remote.normalize_url(url)
        root = remote.cache_root(url)
    except SkyscriptVizError as exc:
        st.error(f"Cannot open the dataset from {md_text(origin)}: {md_text(exc)}")
        st.stop()
        raise AssertionError("unreachable") from None
    try:
        return opener(str(root), False)
    except IndexNotFoundError:
        pass
    except SkyscriptVizError as exc:
        st.error(f"Cannot open the dataset from {md_text(origin)}: {md_text(exc)}")
        st.stop()
    manifest = remote.load_manifest(root)
    if not manifest or not manifest.get("parts"):
        st.warning(
            f"The remote dataset {md_code(url)} is not indexed on this machine yet. Indexing downloads the meta zips "
            "and caption CSVs of the parts you choose (the images stay on the server and are fetched one by "
            "one as you look at them). Run once from a terminal, then reload this page:\n\n"
            f"{md_code(_example_command(url))}\n\n"
            f"Cache folder: {md_code(root)} (set SKYSCRIPT_CACHE to put it elsewhere)."
        )
        st.stop()
    parts = md_text(", ".join(map(str, manifest.get("parts") or [])))
    csvs = md_text(", ".join(map(str, manifest.get("csvs") or [])) or "none")
    st.warning(
        f"The index of {md_code(url)} (parts {parts}; CSVs {csvs}) is not finished. Finish it from a terminal "
        f"with {md_code(f'python -m skyscript_viz index {url}')} (resumes interrupted downloads), or here:"
    )
    if st.button("Finish indexing now", key="build_remote_index"):
        bar = st.progress(0.0, text="downloading…")

        def dl_progress(label: str, done: int, total: int) -> None:
            bar.progress(
                min(1.0, done / max(1, total)),
                text=f"{md_text(label)}: {remote.human_bytes(done)} / {remote.human_bytes(total)}",
            )

        try:
            remote.sync(url, progress=dl_progress)
            report = build_with_progress(root, bar)
        except SkyscriptVizError as exc:
            st.error(md_text(exc))
            st.stop()
        st.success(f"Indexed {report.n_images:,} images in {report.seconds:.0f} s")
        st.rerun()
    st.stop()
    raise AssertionError("unreachable")
