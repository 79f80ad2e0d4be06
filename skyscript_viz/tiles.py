"""Offline base map: web-mercator PNG tiles drawn on demand from Natural Earth polygons.

The polygons ship with the package (``data/world-atlas-2.0.2-countries-*.json.gz``, public domain),
so the base map needs no download and no build step: the app's ``/tiles/{z}/{x}/{y}.png`` route
(``skyscript_viz/ui/routes.py``) calls :func:`render_tile`, which draws one 256 px tile in a few
milliseconds and keeps the most recent ones in memory. The same renderer draws the coverage map of
the report (:func:`render_world`).

world-atlas is a spherical TopoJSON: rings cross the antimeridian (Fiji, Chukotka, Antarctica), so
rings are unwrapped to continuous longitudes and every shape is drawn at world offsets -1, 0, +1.
"""

from __future__ import annotations

import functools
import gzip
import io
import itertools
import json
import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MAX_ZOOM",
    "STYLE",
    "TILE_SIZE",
    "mercator",
    "render_tile",
    "render_world",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
#: which world-atlas resolution draws which zoom levels (the coarse one keeps world views fast)
DETAIL_FILES = {"110m": "world-atlas-2.0.2-countries-110m.json.gz", "50m": "world-atlas-2.0.2-countries-50m.json.gz"}
COARSE_UNTIL_ZOOM = 2
#: highest zoom drawn natively; Leaflet scales the z10 tiles beyond that
MAX_ZOOM = 10
TILE_SIZE = 256
MAX_LAT = 85.0511287798066  # web mercator limit
STYLE = {
    "sea": (201, 222, 234),
    "land": (243, 241, 236),
    "coast": (143, 176, 196),
    "border": (160, 150, 170),
}
_PALETTE_INDEX = {"sea": 0, "land": 1, "coast": 2, "border": 3}


# ---- TopoJSON ----------------------------------------------------------------------------------


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Arcs as lists of (lon, lat); quantized topologies store deltas after the first position."""
    transform = topology.get("transform")
    arcs: list[list[tuple[float, float]]] = []
    if not transform:
        return [[(float(p[0]), float(p[1])) for p in arc] for arc in topology["arcs"]]
    sx, sy = transform["scale"]
    tx, ty = transform["translate"]
    for arc in topology["arcs"]:
        x = y = 0
        pts: list[tuple[float, float]] = []
        for pos in arc:
            x += pos[0]
            y += pos[1]
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs


def ring_coords(arc_ids: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Stitch a ring from arc indices; a negative index ~i means arc i reversed."""
    ring: list[tuple[float, float]] = []
    for k, idx in enumerate(arc_ids):
        pts = arcs[idx] if idx >= 0 else arcs[~idx][::-1]
        ring.extend(pts if k == 0 else pts[1:])
    return ring


def polygons_of(geometry: dict[str, Any]) -> list[list[list[int]]]:
    """The polygons (each a list of rings of arc indices) of a (Multi)Polygon or collection."""
    gtype = geometry.get("type")
    if gtype == "Polygon":
        return [geometry["arcs"]]
    if gtype == "MultiPolygon":
        return list(geometry["arcs"])
    if gtype == "GeometryCollection":
        return [p for g in geometry.get("geometries", []) for p in polygons_of(g)]
    return []


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) -> web mercator world coordinates in [0, 1] x [0, 1], y downwards."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    s = math.sin(math.radians(lat))
    return (lon + 180.0) / 360.0, 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def ring_area(ring: list[tuple[float, float]]) -> float:
    a = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        a += x0 * y1 - x1 * y0
    return abs(a) / 2


def unwrap(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Make longitudes continuous (a step over 180 degrees crosses the antimeridian)."""
    if not pts:
        return []
    out = [pts[0]]
    offset = 0.0
    prev_lon = pts[0][0]
    for lon, lat in pts[1:]:
        d = lon - prev_lon
        if d > 180:
            offset -= 360
        elif d < -180:
            offset += 360
        prev_lon = lon
        out.append((lon + offset, lat))
    return out


def close_ring(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Unwrap a ring; a ring around a pole (net 360 degrees of longitude) is closed via that pole."""
    u = unwrap(ring)
    if len(u) >= 2 and abs(u[-1][0] - u[0][0]) > 180:
        pole = -90.0 if sum(p[1] for p in u) / len(u) < 0 else 90.0
        u = [*u, (u[-1][0], pole), (u[0][0], pole)]
    return u


def split_lines(pts: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Split a polyline at edges along the south pole (they close Antarctica, no coast), unwrap each piece."""
    out: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for a, b in itertools.pairwise(pts):
        if a[1] <= -89.9 and b[1] <= -89.9:
            if len(cur) >= 2:
                out.append(cur)
            cur = []
            continue
        if not cur:
            cur.append(a)
        cur.append(b)
    if len(cur) >= 2:
        out.append(cur)
    return [unwrap(seg) for seg in out]


# ---- projected geometry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """Projected points (world = unit square, y down; x may leave [0, 1]) and their extent."""

    xy: np.ndarray
    x0: float
    y0: float
    x1: float
    y1: float


def _shape(pts: list[tuple[float, float]]) -> Shape:
    xy = np.array([mercator(lon, lat) for lon, lat in pts], dtype=np.float64)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return Shape(xy, float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


@dataclass(frozen=True)
class MapData:
    """One level of detail: land polygons (exterior, holes; largest first), coast and border lines."""

    land: list[tuple[Shape, list[Shape]]]
    coast: list[Shape]
    borders: list[Shape]


def parse_topology(topo: dict[str, Any]) -> MapData:
    """Land, coastlines and land borders of a world-atlas ``countries`` topology."""
    arcs = decode_arcs(topo)
    land: list[tuple[float, tuple[Shape, list[Shape]]]] = []
    coast_arcs: set[int] = set()
    for poly in polygons_of(topo["objects"]["land"]):
        rings = [ring_coords(r, arcs) for r in poly]
        if not rings or len(rings[0]) < 3:
            continue
        exterior = close_ring(rings[0])
        holes = [_shape(close_ring(r)) for r in rings[1:] if len(r) >= 3]
        land.append((ring_area(exterior), (_shape(exterior), holes)))
        for r in poly:
            coast_arcs.update(i if i >= 0 else ~i for i in r)
    land.sort(key=lambda item: item[0], reverse=True)  # islands in lakes are drawn after the lake
    uses: Counter[int] = Counter()  # an arc used by two country rings is a land border
    for poly in polygons_of(topo["objects"]["countries"]):
        for r in poly:
            uses.update(i if i >= 0 else ~i for i in r)
    coast = [_shape(seg) for i in sorted(coast_arcs) for seg in split_lines(arcs[i])]
    borders = [_shape(seg) for i in sorted(i for i, n in uses.items() if n >= 2) for seg in split_lines(arcs[i])]
    return MapData(land=[shape for _, shape in land], coast=coast, borders=borders)


_load_lock = threading.Lock()


@functools.cache
def _map_data_unlocked(detail: str) -> MapData:
    with gzip.open(DATA_DIR / DETAIL_FILES[detail], "rt", encoding="utf-8") as fh:
        return parse_topology(json.load(fh))


def map_data(detail: str) -> MapData:
    """The parsed polygons of one detail level ("110m" or "50m"), loaded once per process."""
    with _load_lock:  # parallel tile requests at start-up must not parse the file twice
        return _map_data_unlocked(detail)


# ---- drawing ----------------------------------------------------------------------------------


def _palette() -> list[int]:
    pal: list[int] = []
    for name in sorted(_PALETTE_INDEX, key=_PALETTE_INDEX.__getitem__):
        pal.extend(STYLE[name])
    return pal + [0, 0, 0] * (256 - len(_PALETTE_INDEX))


def _draw(data: MapData, *, scale: float, ox: float, oy: float, width: int, height: int) -> Any:
    """A palette image of the world window [ox, ox+width) x [oy, oy+height) at ``scale`` px per world."""
    from PIL import Image, ImageDraw

    img = Image.new("P", (width, height), _PALETTE_INDEX["sea"])
    img.putpalette(_palette())
    draw = ImageDraw.Draw(img)
    lo_x, hi_x, lo_y, hi_y = ox / scale, (ox + width) / scale, oy / scale, (oy + height) / scale
    margin = 2 / scale

    def draw_shape(shape: Shape, fill: int, polygon: bool) -> None:
        if shape.y1 < lo_y - margin or shape.y0 > hi_y + margin:
            return
        for shift in (-1.0, 0.0, 1.0):
            if shape.x1 + shift < lo_x - margin or shape.x0 + shift > hi_x + margin:
                continue
            pts = (shape.xy + np.array((shift, 0.0))) * scale - (ox, oy)
            flat = pts.ravel().tolist()
            if polygon:
                draw.polygon(flat, fill=fill)
            else:
                draw.line(flat, fill=fill, width=1)

    for exterior, holes in data.land:
        draw_shape(exterior, _PALETTE_INDEX["land"], True)
        for hole in holes:
            draw_shape(hole, _PALETTE_INDEX["sea"], True)
    for line in data.coast:
        draw_shape(line, _PALETTE_INDEX["coast"], False)
    for line in data.borders:
        draw_shape(line, _PALETTE_INDEX["border"], False)
    return img


@functools.lru_cache(maxsize=4096)
def render_tile(z: int, x: int, y: int) -> bytes:
    """PNG bytes of tile (z, x, y); raises ValueError for a tile outside the world or above MAX_ZOOM."""
    n = 1 << z if 0 <= z <= MAX_ZOOM else 0
    if not (0 <= x < n and 0 <= y < n):
        raise ValueError(f"no tile {z}/{x}/{y}: zoom must be 0-{MAX_ZOOM} and x, y 0-{max(n - 1, 0)}")
    data = map_data("110m" if z <= COARSE_UNTIL_ZOOM else "50m")
    img = _draw(data, scale=n * TILE_SIZE, ox=x * TILE_SIZE, oy=y * TILE_SIZE, width=TILE_SIZE, height=TILE_SIZE)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def render_world(width: int) -> Any:
    """The whole web-mercator world (to ±85°) as an RGB image ``width`` px square (report maps)."""
    return _draw(
        map_data("110m" if width <= 1024 else "50m"), scale=width, ox=0, oy=0, width=width, height=width
    ).convert("RGB")
