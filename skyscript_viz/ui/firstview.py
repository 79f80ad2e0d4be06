"""The map's size and first view, shared by the map page and the server's warm-up (which must not import
the map widget): the warm-up computes the first visitor's queries under the very keys the page asks for."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .. import mapview
from ..build import current_generation
from ..query import BBox, Filters
from .data import Dataset, _open, _root_from_args, cached_count, cached_facets, cached_map_view

__all__ = ["ASSUMED_WIDTH", "FIT_WIDTH", "MAP_HEIGHT", "bounds_for", "fitted", "warm_first_visit"]

MAP_HEIGHT = 560
ASSUMED_WIDTH = 900  # px, only until the browser reports the real bounds
FIT_WIDTH = 440  # px: the map column of a laptop screen, until the browser reports the map's size


def bounds_for(lat: float, lon: float, zoom: int, width: int = ASSUMED_WIDTH, height: int = MAP_HEIGHT) -> BBox:
    """Approximate bounds of the map until the browser reports the real ones."""
    return mapview.view_bounds(lat, lon, zoom, width_px=width, height_px=height)


def fitted(ext: BBox, width: int, height: int) -> tuple[float, float, int]:
    """Centre and zoom at which a map of ``width`` x ``height`` px shows all of ``ext``."""
    return mapview.zoom_for_bbox(ext.west, ext.south, ext.east, ext.north, width_px=width, height_px=height)


def warm(ds: Dataset) -> None:
    """Run what a link without filters or place asks first: facets, count, and the map fitted to every match."""
    f = Filters()
    cached_facets(ds, f)
    cached_count(ds, f)
    ext = ds.index.extent(f)
    if ext is not None:
        lat, lon, zoom = fitted(ext, FIT_WIDTH, MAP_HEIGHT)
        cached_map_view(ds, replace(f, bbox=bounds_for(lat, lon, zoom)), zoom)


def warm_first_visit() -> None:
    """At server start, open a local root's built index and warm the first visit's queries (nothing for the
    demo, a remote root or a root without an index: their first run builds or downloads, and says so)."""
    from ..remote import is_remote

    root, _ = _root_from_args()
    if root is None or is_remote(root):
        return
    path = str(Path(root).expanduser().resolve())
    generation = current_generation(path)
    if not generation:
        return
    warm(_open(path, False, generation))
