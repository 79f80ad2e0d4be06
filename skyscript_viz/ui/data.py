"""Which dataset the app shows, its opened index, and cached queries (Streamlit caching lives here)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import streamlit as st

from .. import settings
from ..build import BuildReport, build_index, current_generation, default_index_dir
from ..errors import IndexNotFoundError, SkyscriptVizError
from ..images import ImageStore
from ..index import FacetValue, ImageIndex, ImageRecord, MapView
from ..query import Filters
from ..text import md_code, md_text
from .nav import part

__all__ = [
    "Dataset",
    "cached_count",
    "cached_facets",
    "cached_map_view",
    "cached_neighbours",
    "cached_record",
    "dataset",
]


@dataclass(frozen=True)
class Dataset:
    index: ImageIndex
    images: ImageStore
    root: Path
    is_demo: bool


def _root_from_args() -> tuple[str | None, str]:
    """``--root`` after ``--`` on the streamlit command line, else SKYSCRIPT_ROOT; with where it came from."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--root")
    known, _ = parser.parse_known_args(sys.argv[1:])
    if known.root:
        return known.root, "--root"
    env = settings.current().root
    if env:
        return env, "SKYSCRIPT_ROOT"
    return None, "demo"


@st.cache_resource(show_spinner=False, max_entries=8)
def _open(root: str, demo: bool, generation: str = "") -> Dataset:
    """The opened index; ``generation`` is only part of the cache key, so a rebuilt index is opened anew."""
    idx = ImageIndex.open(root)
    thumbs = idx.index_dir / "thumbs"
    return Dataset(idx, ImageStore(idx.root, thumb_dir=thumbs), idx.root, demo or idx.is_demo)


@st.cache_resource(show_spinner=False)
def _open_demo() -> Dataset:
    from ..demo import demo_root

    demo = demo_root()
    build_index(demo)  # the demo is read through the same code path as real data
    return _open(str(demo), True)


def dataset() -> Dataset:
    """The dataset this app shows; builds the demo sample (and its index) on first use.

    For a real root without an index, shows how to build it, offers to build it here, and stops.
    """
    root, origin = _root_from_args()
    if root is None:
        with st.spinner("Preparing the built-in demo sample (first run only)…"):
            return _open_demo()
    from ..remote import is_remote

    if is_remote(root):  # a URL: the index of its local cache root (see skyscript_viz.remote)
        from .remoteui import open_remote_dataset

        return open_remote_dataset(root, origin, _open)
    try:
        path = str(Path(root).expanduser().resolve())
        return _open(path, False, current_generation(path))
    except IndexNotFoundError:
        pass
    except SkyscriptVizError as exc:
        st.error(f"Cannot open the dataset from {md_text(origin)}: {md_text(exc)}")
        st.stop()
    st.warning(
        f"The dataset at {md_code(root)} has no index yet. Build it from a terminal with "
        f"{md_code(f'python -m skyscript_viz index {root}')} (progress bar, parallel, resumable), "
        "or here:"
    )
    if st.button("Build the index now", key="build_index"):
        try:
            report = build_with_progress(root, st.progress(0.0, text="reading parts…"))
        except SkyscriptVizError as exc:
            st.error(md_text(exc))
            st.stop()
        st.success(
            f"Indexed {report.n_images:,} images in {report.seconds:.0f} s "
            f"into {md_code(default_index_dir(Path(root)))}"
        )
        st.rerun()
    st.stop()
    raise AssertionError("unreachable")


def build_with_progress(root: Path | str, bar: Any) -> BuildReport:
    """build_index of ``root`` with its progress on ``bar`` (an st.progress): whether it waits for another
    build, how far each part's reading is, then which step of the merge runs (at 5.2M images the merge
    takes minutes)."""

    def progress(part: int, done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(1, total)), text=f"part {part}: {done:,} / {total:,}")

    def merge_progress(label: str, done: int, total: int) -> None:
        bar.progress(
            min(1.0, done / max(1, total)),
            text="merged" if label == "done" else f"merging: {md_text(label)} (step {done + 1:,} of {total:,})",
        )

    def waiting(message: str) -> None:  # another session's or the CLI's build holds the index folder
        bar.progress(0.0, text=f"{md_text(message)}; this one starts when it ends")

    return build_index(root, progress=progress, merge_progress=merge_progress, on_wait=waiting)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _timed(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Log the server time of each call, cache hit or not, under the function's name (see nav.part)."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with part(fn.__name__):
            return fn(*args, **kwargs)

    return wrapper


# Query results are cached per filter value: a pan with unchanged filters reuses counts and facets.
@_timed
@st.cache_data(show_spinner=False, max_entries=256, hash_funcs={Dataset: lambda d: str(d.index.gen_dir)})
def cached_count(ds: Dataset, f: Filters) -> int:
    return ds.index.count(f)


@_timed
@st.cache_data(show_spinner=False, max_entries=128, hash_funcs={Dataset: lambda d: str(d.index.gen_dir)})
def cached_facets(ds: Dataset, f: Filters) -> dict[str, list[FacetValue]]:
    return ds.index.facets(f)


@_timed
@st.cache_data(show_spinner=False, max_entries=64, hash_funcs={Dataset: lambda d: str(d.index.gen_dir)})
def cached_map_view(ds: Dataset, f: Filters, zoom: int) -> MapView:
    return ds.index.map_view(f, zoom=zoom)


@_timed
@st.cache_data(show_spinner=False, max_entries=256, hash_funcs={Dataset: lambda d: str(d.index.gen_dir)})
def cached_record(ds: Dataset, key: str | int) -> ImageRecord | None:
    """The selected image's record: its tag lookup costs ~80 ms at 5.2M images, and every rerun of the
    map or image page with a selection asked for it again."""
    return ds.index.get(key)


@_timed
@st.cache_data(show_spinner=False, max_entries=256, hash_funcs={Dataset: lambda d: str(d.index.gen_dir)})
def cached_neighbours(ds: Dataset, f: Filters, image_id: int) -> tuple[int | None, str | None, str | None]:
    """(position, previous file path, next file path) of a selected image among the matches of ``f``:
    the map's and image page's prev/next buttons ask on every rerun with a selection."""
    pos, prev_id, next_id = ds.index.position(f, image_id)
    prev_fp = ds.index.filepath_for(prev_id) if prev_id is not None else None
    next_fp = ds.index.filepath_for(next_id) if next_id is not None else None
    return pos, prev_fp, next_fp
