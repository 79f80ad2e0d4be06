"""HTTP routes the app serves next to Streamlit's own: map scripts and offline base tiles.

``app.py`` hands :func:`routes` to ``st.App``; ``streamlit run app.py`` then serves them. Bytes the
browser fetches and caches itself (scripts, tiles) go through here, never through a CDN or the
``./static`` folder. Add a route by appending to the list :func:`routes` returns.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .. import assets, tiles
from .thumbroute import thumb_routes

__all__ = ["routes"]

_TILE_CACHE = "public, max-age=604800"  # a week: tiles only change with the renderer


async def _tile(request: Request) -> Response:
    """One offline base-map tile, drawn on first request (a few ms) and kept in memory."""
    z, x, y = (int(request.path_params[k]) for k in ("z", "x", "y"))
    try:
        png = await run_in_threadpool(tiles.render_tile, z, x, y)
    except ValueError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": _TILE_CACHE})


def routes() -> list[BaseRoute]:
    """The app's extra routes: ``/vendor/<lib>-<version>/...`` (pip-installed XStatic files) and tiles."""
    table: list[BaseRoute] = [
        Mount(prefix, app=StaticFiles(directory=str(directory), check_dir=False), name=prefix.strip("/"))
        for prefix, directory in assets.vendor_dirs().items()
    ]
    table.append(Route(assets.TILE_ROUTE, _tile, methods=["GET"]))
    table.extend(thumb_routes())
    return table
