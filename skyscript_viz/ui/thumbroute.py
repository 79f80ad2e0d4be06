"""Thumbnails served by URL (``/thumb/<generation>/<id>.jpg``) so the browser fetches them in parallel and caches them.

Without this route every gallery run computed up to 48 thumbnails inside the script and pushed each one
through the session's media store again on every rerun. With it, the script only writes URLs; the browser
asks for the images itself (six at a time), keeps them (``Cache-Control: immutable``: the URL names the index
generation, so a rebuilt index gets new URLs) and a second visit costs no bytes at all.

``app.py`` passes :func:`thumb_routes` to ``st.App``; pages call :func:`thumb_url`, which falls back to the
bytes themselves when the route is not being served (AppTest, or an app started without ``st.App``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:  # not imported at runtime: app.py imports this module before Streamlit's runtime exists
    from .data import Dataset

__all__ = ["CACHE_CONTROL", "register", "thumb_routes", "thumb_source"]

CACHE_CONTROL = "public, max-age=31536000, immutable"
PREFIX = "/thumb"
_served = threading.Event()  # set once a server built its routes with thumb_routes()
_datasets: dict[str, Dataset] = {}
_lock = threading.Lock()


def _generation(ds: Dataset) -> str:
    """The index generation's folder name: changes whenever the index is rebuilt."""
    return ds.index.gen_dir.name


def register(ds: Dataset) -> str:
    """Make ``ds`` reachable by the route; returns its generation token."""
    gen = _generation(ds)
    with _lock:
        _datasets[gen] = ds
    return gen


def _thumbnail(request: Any) -> Any:
    """GET /thumb/<gen>/<id>.jpg: the thumbnail (or the placeholder saying why it is missing)."""
    from starlette.responses import Response

    gen = str(request.path_params["gen"])
    with _lock:
        ds = _datasets.get(gen)
    try:
        image_id = int(str(request.path_params["name"]).removesuffix(".jpg"))
    except ValueError:
        return Response("not a thumbnail name", status_code=404, media_type="text/plain")
    if ds is None:
        return Response("unknown index generation: reload the page", status_code=404, media_type="text/plain")
    row = ds.index.row(image_id, columns=ds.index.file_columns)  # where its bytes are: no tags, no footprint
    if row is None:
        return Response(f"no image {image_id} in this index", status_code=404, media_type="text/plain")
    thumb = ds.images.thumbnail(row)
    # a placeholder (unreadable image) is not cached for long: the file may be repaired
    cache = CACHE_CONTROL if thumb.ok else "no-cache"
    return Response(thumb.data, media_type=thumb.mime, headers={"Cache-Control": cache})


def thumb_routes() -> list[Any]:
    """The Starlette routes for ``st.App(..., routes=...)``."""
    from starlette.routing import Route

    _served.set()
    return [Route(PREFIX + "/{gen}/{name}", _thumbnail, methods=["GET"])]


def _origin() -> str | None:
    """Scheme, host and port the browser uses for this app (None outside a browser session)."""
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001 - no session context (bare mode, AppTest)
        return None
    if not url or "://" not in url:
        return None
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


def thumb_source(ds: Dataset, row: dict[str, Any]) -> str | bytes:
    """What ``st.image`` should show for a row: the thumbnail's URL when the route is served, else its bytes."""
    origin = _origin() if _served.is_set() else None
    if origin is None:
        return ds.images.thumbnail(row).data
    return f"{origin}{PREFIX}/{register(ds)}/{int(row['id'])}.jpg"
