"""Server start: import the heavy libraries in the background, so the first visitor does not wait for them.

The first script run after ``streamlit run`` used to import pandas, DuckDB, folium and the app's UI modules
(~1 s on an idle 2-core machine, more under load) while the first visitor waited. ``app.py`` passes
:func:`warm_up` to ``st.App`` as its lifespan; the imports then run in a thread as soon as the server is up.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .. import settings

__all__ = ["warm_up"]

# The library and its heavy dependencies (pandas, DuckDB, pyarrow, folium, Pillow, Altair): ~1.1 s of the
# ~1.3 s. Not the UI modules: one of them imports streamlit_folium, whose component must be declared from
# a script run (declared from this thread, its frontend files answer 404).
MODULES = (
    "skyscript_viz",
    "skyscript_viz.index",
    "skyscript_viz.mapview",
    "skyscript_viz.images",
    "skyscript_viz.report",
    "skyscript_viz.build",
    "skyscript_viz.export",
    "altair",
)


def _import_modules() -> None:
    """Import MODULES; a failure is left for the first page run to show (it imports them too)."""
    t0 = time.perf_counter()
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the page that needs the module reports the error to its user
            return
    if settings.current().timings:
        print(f"[warm-up] imports done in {(time.perf_counter() - t0) * 1000:.0f} ms", file=sys.stderr, flush=True)


@asynccontextmanager
async def warm_up(app: Any) -> AsyncIterator[None]:
    """``st.App`` lifespan: start the imports in a daemon thread and serve at once."""
    threading.Thread(target=_import_modules, name="skyscript-warm-up", daemon=True).start()
    yield None
