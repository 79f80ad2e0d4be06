"""The app's pages, and the navigation that runs them.

``app.py`` calls :func:`run_app`. Every page starts with :func:`ensure_navigation`: when Streamlit runs
a page file on its own (the first request of a freshly started server is a shared link such as
``/gallery?...``, and Streamlit's ``pages/`` folder mode answers it before ``app.py`` ever ran), the
page hands over to the same navigation, so the link shows the page as it would be shown after
``app.py``: wide layout, the app's page list, the same URL state.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

_inside = threading.local()

PAGES: tuple[tuple[str, str, str], ...] = (
    ("pages/map.py", "Map", "map"),
    ("pages/gallery.py", "Gallery", "gallery"),
    ("pages/image.py", "Image", "image"),
    ("pages/overview.py", "Overview", "overview"),
    ("pages/quality.py", "Quality", "quality"),
    ("pages/audit.py", "Audit", "audit"),
    ("pages/benchmarks.py", "Benchmarks", "benchmarks"),
)


def run_app() -> None:
    """Page config and navigation; runs the page the URL names (the map by default)."""
    st.set_page_config(page_title="SkyScript Explorer", layout="wide")
    pages = [st.Page(path, title=title, url_path=url, default=(i == 0))
             for i, (path, title, url) in enumerate(PAGES)]
    _inside.active = True
    try:
        page = st.navigation(pages)
        with timed(f"page {page.url_path or 'map'}"):
            page.run()
    finally:
        _inside.active = False


@contextmanager
def timed(label: str) -> Iterator[None]:
    """With SKYSCRIPT_VIZ_TIMINGS set, log a script run's server time (bench/browser.py reads it)."""
    if not os.environ.get("SKYSCRIPT_VIZ_TIMINGS"):
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        print(f"[timing] {label} script_ms={(time.perf_counter() - t0) * 1000:.0f}", file=sys.stderr, flush=True)


def ensure_navigation() -> None:
    """Called first by every page: if Streamlit ran the page without app.py, run the app instead."""
    if getattr(_inside, "active", False):
        return
    run_app()
    st.stop()
