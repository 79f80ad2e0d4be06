"""The app's pages, and the navigation that runs them.

``app.py`` calls :func:`run_app` on every script run; ``st.navigation`` then runs the page the URL
names. The page files live in ``app_pages/``, not ``pages/``: Streamlit treats a ``pages/`` folder next
to the entrypoint as its legacy multipage mode until some session has called ``st.navigation`` (see
"Overview of multipage apps" in Streamlit's docs), so a shared link opened first on a fresh server
would run the page file alone, without the app's layout and navigation.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from .. import settings

PAGES: tuple[tuple[str, str, str], ...] = (
    ("app_pages/map.py", "Map", "map"),
    ("app_pages/gallery.py", "Gallery", "gallery"),
    ("app_pages/image.py", "Image", "image"),
    ("app_pages/overview.py", "Overview", "overview"),
    ("app_pages/quality.py", "Quality", "quality"),
    ("app_pages/audit.py", "Audit", "audit"),
    ("app_pages/benchmarks.py", "Benchmarks", "benchmarks"),
)


def run_app() -> None:
    """Page config and navigation; runs the page the URL names (the map by default)."""
    st.set_page_config(page_title="SkyScript Explorer", layout="wide")
    pages = [st.Page(path, title=title, url_path=url, default=(i == 0)) for i, (path, title, url) in enumerate(PAGES)]
    page = st.navigation(pages)
    with timed(f"page {page.url_path or 'map'}"):
        page.run()


@contextmanager
def timed(label: str) -> Iterator[None]:
    """With SKYSCRIPT_VIZ_TIMINGS set, log a script run's server time (bench/browser.py reads it)."""
    if not settings.current().timings:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        print(f"[timing] {label} script_ms={(time.perf_counter() - t0) * 1000:.0f}", file=sys.stderr, flush=True)


@contextmanager
def part(label: str) -> Iterator[None]:
    """With SKYSCRIPT_VIZ_TIMINGS set, log the server time of one part of a run (bench/browser.py sums them);
    outside a script run (the server's warm-up) the label says so."""
    if not settings.current().timings:
        yield
        return
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        label = f"warm-up {label}"
    t0 = time.perf_counter()
    try:
        yield
    finally:
        print(f"[part] {label} ms={(time.perf_counter() - t0) * 1000:.1f}", file=sys.stderr, flush=True)
