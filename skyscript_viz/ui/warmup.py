"""Server start: import the heavy libraries and run the first visit's queries in the background, so the first
visitor does not wait for them.

The first script run after ``streamlit run`` used to import pandas, DuckDB, folium and the app's UI modules
(~1 s on an idle 2-core machine, more under load) while the first visitor waited. ``app.py`` passes
:func:`warm_up` to ``st.App`` as its lifespan; the imports then run in a thread as soon as the server is up.

Then the objects that exist by now (modules, classes, the libraries' tables: ~180,000 of them) are moved out
of the garbage collector's reach with ``gc.freeze()``. Streamlit runs a full collection after every script
run (``runner.postScriptGC``), and walking them took ~170 ms each time: a click that selects a footprint
runs the map's fragment, then the page, so the page started ~170 ms late (measured with the demo sample;
after the freeze a full collection takes 4-7 ms). They live as long as the server does; reference counting
still frees any of them that is dropped, only cycles among them would stay.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .. import settings

__all__ = ["warm_up"]

# The library and its heavy dependencies (pandas, DuckDB, pyarrow, folium, Pillow, Altair): ~1.1 s of the
# ~1.3 s; the map page's UI modules but one (the sidebar's reviews bring SQLAlchemy: ~0.13 s). Not mapui:
# it imports streamlit_folium, whose component must be declared from a script run (declared from this
# thread, its frontend files answer 404). The libraries the map's first visit needs come first, then its
# queries run (firstview), then the UI modules and the other pages' libraries.
MODULES = (
    "skyscript_viz",
    "skyscript_viz.index",
    "skyscript_viz.mapview",
    "skyscript_viz.images",
    "skyscript_viz.build",
)
LATER_MODULES = (
    "skyscript_viz.ui.filters",
    "skyscript_viz.ui.detail",
    "skyscript_viz.ui.header",
    "skyscript_viz.ui.urlstate",
    "skyscript_viz.report",
    "skyscript_viz.export",
    "altair",
    "folium.plugins",  # streamlit_folium imports every folium plugin: ~140 ms
    "streamlit.components.v1",
)


def _import(names: tuple[str, ...]) -> bool:
    """Import ``names``; a failure is left for the first page run to show (it imports them too)."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the page that needs the module reports the error to its user
            return False
    return True


def _log(what: str, t0: float) -> None:
    if settings.current().timings:
        print(f"[warm-up] {what} in {(time.perf_counter() - t0) * 1000:.0f} ms", file=sys.stderr, flush=True)


def _first_visit() -> None:
    """The first visit's queries (firstview); a failure is only a lost head start: the page reports it."""
    try:
        from .firstview import warm_first_visit

        warm_first_visit()
    except Exception:  # noqa: BLE001 - the first page run opens the index and reports what is wrong
        return


def _index_module_files() -> None:
    """Let ``inspect`` map every module loaded so far to its file, once.

    streamlit_folium declares its component when the first map page imports it, and Streamlit finds the
    declaring module with ``inspect.getmodule``, which resolves the path of every module it has not seen
    yet (~1,600 here: 95-160 ms of the first visit's run). ``inspect`` keeps what it resolved, so after
    this the declaration only looks at the modules imported since (~20 ms for the whole import).
    """
    inspect.getmodule(inspect.currentframe())


def freeze_startup_objects() -> int:
    """Collect once, then exempt every object alive now from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _warm() -> None:
    """Import MODULES, run the first visit's queries, import LATER_MODULES, freeze what exists."""
    t0 = time.perf_counter()
    if _import(MODULES):
        _log("map imports done", t0)
        _first_visit()
        _log("first visit's queries done", t0)
    if _import(LATER_MODULES):
        _log("all imports done", t0)
    _index_module_files()
    n = freeze_startup_objects()
    _log(f"{n:,} objects frozen", t0)


@asynccontextmanager
async def warm_up(app: Any) -> AsyncIterator[None]:
    """``st.App`` lifespan: start the imports and queries in a daemon thread and serve at once."""
    threading.Thread(target=_warm, name="skyscript-warm-up", daemon=True).start()
    yield None
