#!/usr/bin/env python3
"""Fetch the offline map assets into ``static/vendor/`` and render the offline base tiles.

Everything this script writes is git-ignored and rebuilt on demand (``make assets``):

* ``static/vendor/leaflet/``            Leaflet 1.9.4 (``leaflet.js``, ``leaflet.css``, ``images/``)
* ``static/vendor/jquery/``             jQuery 3.7.1 (folium's ``Popup`` template calls ``$(...)``)
* ``static/vendor/leaflet.fullscreen/`` leaflet.fullscreen 3.0.0 (folium's ``plugins.Fullscreen``)
* ``static/vendor/world-atlas/``        Natural Earth country polygons as TopoJSON (public domain)
* ``static/vendor/tiles/{z}/{x}/{y}.png`` web-mercator 256 px tiles z0..6 drawn from those polygons

Streamlit serves ``./static/`` next to the main script at ``/app/static/...`` when
``[server] enableStaticServing = true`` (see ``.streamlit/config.toml``).

Packages come from the npm registry: through the machine's ``npm pack`` when npm is installed,
otherwise straight from the registry's tarball URL with urllib. Every tarball is checked against
the pinned sha512 integrity below. Re-running is cheap: a package whose stamp file and file hashes
match is not fetched again, and tiles whose stamp matches the renderer settings and source data
are not rendered again.

The download part is standard library only (any python3); rendering tiles needs Pillow, so the
Makefile runs this script with ``.venv/bin/python``. ``--no-tiles`` skips the rendering.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATIC_DIR = REPO_ROOT / "static"
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
STAMP_NAME = ".package.json"
TILES_STAMP_NAME = ".tiles.json"


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    integrity: str  # sha512-<base64>, as `npm view NAME@VERSION dist.integrity` prints it
    dest: str  # folder under static/vendor/
    files: dict[str, str] = field(default_factory=dict)  # member path in the tarball -> path under dest

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball_name(self) -> str:
        return f"{self.name.split('/')[-1]}-{self.version}.tgz"


PACKAGES: tuple[NpmPackage, ...] = (
    NpmPackage(
        name="leaflet",
        version="1.9.4",
        integrity="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        dest="leaflet",
        files={
            "package/dist/leaflet.js": "leaflet.js",
            "package/dist/leaflet.css": "leaflet.css",
            "package/dist/images/layers.png": "images/layers.png",
            "package/dist/images/layers-2x.png": "images/layers-2x.png",
            "package/dist/images/marker-icon.png": "images/marker-icon.png",
            "package/dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "package/dist/images/marker-shadow.png": "images/marker-shadow.png",
            "package/LICENSE": "LICENSE",
        },
    ),
    NpmPackage(
        name="jquery",
        version="3.7.1",
        integrity="sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        dest="jquery",
        files={
            "package/dist/jquery.min.js": "jquery.min.js",
            "package/LICENSE.txt": "LICENSE.txt",
        },
    ),
    NpmPackage(
        name="leaflet.fullscreen",
        version="3.0.0",
        integrity="sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
        dest="leaflet.fullscreen",
        files={
            "package/Control.FullScreen.js": "Control.FullScreen.js",
            "package/Control.FullScreen.css": "Control.FullScreen.css",
            "package/icon-fullscreen.svg": "icon-fullscreen.svg",
            "package/LICENSE": "LICENSE",
        },
    ),
    NpmPackage(
        name="world-atlas",
        version="2.0.2",
        integrity="sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ==",
        dest="world-atlas",
        files={
            "package/countries-110m.json": "countries-110m.json",
            "package/countries-50m.json": "countries-50m.json",
            "package/LICENSE": "LICENSE",
        },
    ),
)


def log(msg: str) -> None:
    print(f"[fetch_assets] {msg}", flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_integrity(data: bytes, integrity: str) -> None:
    algo, _, expected_b64 = integrity.partition("-")
    if algo not in ("sha512", "sha384", "sha256", "sha1"):
        raise ValueError(f"unsupported integrity algorithm {algo!r}")
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != expected_b64:
        raise ValueError(f"integrity mismatch: expected {integrity}, got {algo}-{got}")


# --------------------------------------------------------------------------------------------
# npm packages
# --------------------------------------------------------------------------------------------


def package_is_current(pkg: NpmPackage, vendor_dir: Path) -> bool:
    dest = vendor_dir / pkg.dest
    stamp_path = dest / STAMP_NAME
    try:
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("spec") != pkg.spec or stamp.get("integrity") != pkg.integrity:
        return False
    hashes = stamp.get("sha256", {})
    if set(hashes) != set(pkg.files.values()):
        return False
    for rel, digest in hashes.items():
        path = dest / rel
        if not path.is_file() or sha256_file(path) != digest:
            return False
    return True


def _npm_executable() -> str | None:
    return shutil.which("npm")


def _registry_url() -> str:
    env = os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry")
    if env:
        return env if env.endswith("/") else env + "/"
    npm = _npm_executable()
    if npm:
        try:
            out = subprocess.run(
                [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=60, check=True
            ).stdout.strip()
            if out.startswith("http"):
                return out if out.endswith("/") else out + "/"
        except (OSError, subprocess.SubprocessError):
            pass
    return DEFAULT_REGISTRY


def download_tarball(pkg: NpmPackage, workdir: Path) -> bytes:
    """Return the package tarball's bytes, via `npm pack` if possible, else urllib."""
    errors: list[str] = []
    npm = _npm_executable()
    if npm:
        try:
            subprocess.run(
                [npm, "pack", pkg.spec, "--pack-destination", str(workdir), "--silent"],
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
                cwd=workdir,
            )
            path = workdir / pkg.tarball_name
            if path.is_file():
                return path.read_bytes()
            errors.append(f"npm pack wrote no {pkg.tarball_name}")
        except subprocess.CalledProcessError as exc:
            errors.append(f"npm pack failed ({exc.returncode}): {exc.stderr.strip()[-500:]}")
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append(f"npm pack failed: {exc}")
    url = f"{_registry_url()}{pkg.name}/-/{pkg.tarball_name}"
    last: Exception | None = None
    for attempt in range(3):
        try:
            with urllib.request.urlopen(url, timeout=120) as resp:  # noqa: S310 (fixed https registry URL)
                return resp.read()
        except OSError as exc:
            last = exc
            time.sleep(1.5 * (attempt + 1))
    errors.append(f"GET {url}: {last}")
    raise RuntimeError(f"could not download {pkg.spec}: " + "; ".join(errors))


def install_package(pkg: NpmPackage, vendor_dir: Path) -> None:
    dest = vendor_dir / pkg.dest
    with tempfile.TemporaryDirectory(prefix="fetch_assets_") as tmp:
        data = download_tarball(pkg, Path(tmp))
        check_integrity(data, pkg.integrity)
        staging = vendor_dir / f".{pkg.dest}.tmp-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        hashes: dict[str, str] = {}
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member_name, rel in pkg.files.items():
                try:
                    member = tar.getmember(member_name)
                except KeyError:
                    raise RuntimeError(f"{pkg.spec}: tarball has no {member_name}") from None
                fh = tar.extractfile(member)
                if fh is None:
                    raise RuntimeError(f"{pkg.spec}: {member_name} is not a regular file")
                content = fh.read()
                out = staging / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(content)
                hashes[rel] = hashlib.sha256(content).hexdigest()
        stamp = {"spec": pkg.spec, "integrity": pkg.integrity, "sha256": hashes}
        (staging / STAMP_NAME).write_text(json.dumps(stamp, indent=1, sort_keys=True), encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)


def fetch_packages(vendor_dir: Path, force: bool = False) -> None:
    vendor_dir.mkdir(parents=True, exist_ok=True)
    for pkg in PACKAGES:
        if not force and package_is_current(pkg, vendor_dir):
            log(f"{pkg.spec}: present")
            continue
        t0 = time.monotonic()
        install_package(pkg, vendor_dir)
        log(f"{pkg.spec}: installed into {vendor_dir / pkg.dest} ({time.monotonic() - t0:.1f}s)")


# --------------------------------------------------------------------------------------------
# TopoJSON decoding (pure Python)
# --------------------------------------------------------------------------------------------

MAX_LAT = 85.0511287798066  # web mercator limit


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Decode a topology's arcs to lists of (lon, lat).

    Quantized topologies (with a ``transform``) store each arc's first position as an absolute
    integer and every later position as a delta to the previous one.
    """
    transform = topology.get("transform")
    arcs: list[list[tuple[float, float]]] = []
    if transform:
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
    else:
        for arc in topology["arcs"]:
            arcs.append([(float(p[0]), float(p[1])) for p in arc])
    return arcs


def ring_coords(arc_ids: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Stitch a ring from arc indices; a negative index ~i means arc i reversed."""
    ring: list[tuple[float, float]] = []
    for k, idx in enumerate(arc_ids):
        pts = arcs[idx] if idx >= 0 else arcs[~idx][::-1]
        ring.extend(pts if k == 0 else pts[1:])
    return ring


def polygons_of(geometry: dict[str, Any]) -> list[list[list[int]]]:
    """The polygons (each a list of rings of arc indices) of a Polygon or MultiPolygon geometry."""
    gtype = geometry.get("type")
    if gtype == "Polygon":
        return [geometry["arcs"]]
    if gtype == "MultiPolygon":
        return list(geometry["arcs"])
    if gtype == "GeometryCollection":
        out: list[list[list[int]]] = []
        for g in geometry.get("geometries", []):
            out.extend(polygons_of(g))
        return out
    return []


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) -> web mercator world coordinates in [0, 1] x [0, 1], y downwards."""
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = (lon + 180.0) / 360.0
    s = math.sin(math.radians(lat))
    y = 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
    return x, y


def ring_area(ring: list[tuple[float, float]]) -> float:
    a = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        a += x0 * y1 - x1 * y0
    return abs(a) / 2


def _is_pole_edge(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """An edge along the south pole closes Antarctica's ring: a data artefact, not a coastline."""
    return a[1] <= -89.9 and b[1] <= -89.9


def unwrap(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Make longitudes continuous: a step of more than 180 degrees crosses the antimeridian.

    world-atlas is a spherical topology, so rings and arcs cross the antimeridian (Fiji, Chukotka,
    Antarctica). Unwrapped coordinates may leave [-180, 180]; the renderer draws every shape at
    x offsets of -360, 0 and +360 degrees, so both halves show.
    """
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


def split_lines(pts: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Split a (lon, lat) polyline at pole edges, then unwrap each piece."""
    out: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for a, b in zip(pts, pts[1:], strict=False):
        if _is_pole_edge(a, b):
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


def close_ring(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Unwrap a ring; a ring around a pole (net 360 degrees of longitude) is closed via that pole."""
    u = unwrap(ring)
    if len(u) >= 2 and abs(u[-1][0] - u[0][0]) > 180:
        pole = -90.0 if sum(p[1] for p in u) / len(u) < 0 else 90.0
        u = u + [(u[-1][0], pole), (u[0][0], pole)]
    return u


Shape = tuple[list[tuple[float, float]], float, float]  # projected points, min x, max x


def _shape(pts: list[tuple[float, float]]) -> Shape:
    projected = [mercator(lon, lat) for lon, lat in pts]
    xs = [p[0] for p in projected]
    return projected, min(xs), max(xs)


@dataclass
class MapData:
    """Projected geometry for one level of detail: web mercator, world = unit square, y down.

    x may leave [0, 1] where a shape crosses the antimeridian.
    """

    land: list[tuple[Shape, list[Shape]]]  # (exterior, holes), largest first
    coast: list[Shape]
    borders: list[Shape]


def load_map_data(path: Path) -> MapData:
    topo = json.loads(path.read_text(encoding="utf-8"))
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
    # larger polygons first, so that islands inside lakes (holes) are drawn after the lake
    land.sort(key=lambda item: item[0], reverse=True)

    # an arc used by two country rings (or twice by one) is a land border
    uses: Counter[int] = Counter()
    for poly in polygons_of(topo["objects"]["countries"]):
        for r in poly:
            uses.update(i if i >= 0 else ~i for i in r)
    border_arcs = sorted(i for i, n in uses.items() if n >= 2)

    coast = [_shape(seg) for i in sorted(coast_arcs) for seg in split_lines(arcs[i])]
    borders = [_shape(seg) for i in border_arcs for seg in split_lines(arcs[i])]
    return MapData(land=[shape for _, shape in land], coast=coast, borders=borders)


# --------------------------------------------------------------------------------------------
# Tile rendering
# --------------------------------------------------------------------------------------------

# Bump RENDERER_VERSION (or change the style) to have `make assets` re-render the tiles.
RENDERER_VERSION = 2
TILE_SIZE = 256
STYLE = {
    "sea": (201, 222, 234),
    "land": (243, 241, 236),
    "coast": (143, 176, 196),
    "border": (160, 150, 170),
}
PALETTE_INDEX = {"sea": 0, "land": 1, "coast": 2, "border": 3}
# which world-atlas resolution draws which zoom levels
DETAIL_FOR_ZOOM = {0: "countries-110m.json", 1: "countries-110m.json", 2: "countries-110m.json"}
DEFAULT_DETAIL = "countries-50m.json"
DEFAULT_MAX_ZOOM = 6


def _palette() -> list[int]:
    pal: list[int] = []
    for name in sorted(PALETTE_INDEX, key=PALETTE_INDEX.__getitem__):
        pal.extend(STYLE[name])
    return pal + [0, 0, 0] * (256 - len(PALETTE_INDEX))


_WORKER_DATA: dict[str, MapData] = {}


def _render_band(task: tuple[str, int, int, int, str]) -> int:
    """Render tile columns [x0, x1) of zoom z into out_dir; returns the number of tiles written."""
    from PIL import Image, ImageDraw

    data_path, z, x0, x1, out_dir = task
    data = _WORKER_DATA.get(data_path)
    if data is None:
        data = _WORKER_DATA[data_path] = load_map_data(Path(data_path))
    n = 1 << z
    scale = n * TILE_SIZE
    ox = x0 * TILE_SIZE
    width = (x1 - x0) * TILE_SIZE
    height = n * TILE_SIZE
    img = Image.new("P", (width, height), PALETTE_INDEX["sea"])
    img.putpalette(_palette())
    draw = ImageDraw.Draw(img)

    # cull by x extent; draw every shape at world offsets -1, 0, +1 (antimeridian crossings)
    lo, hi = ox / scale, (ox + width) / scale
    margin = 2 / scale

    def draw_shape(shape: Shape, fill: int, polygon: bool) -> None:
        pts, min_x, max_x = shape
        for shift in (-1.0, 0.0, 1.0):
            if max_x + shift < lo - margin or min_x + shift > hi + margin:
                continue
            xy = [((x + shift) * scale - ox, y * scale) for x, y in pts]
            if polygon:
                draw.polygon(xy, fill=fill)
            else:
                draw.line(xy, fill=fill, width=1)

    for exterior, holes in data.land:
        draw_shape(exterior, PALETTE_INDEX["land"], polygon=True)
        for hole in holes:
            draw_shape(hole, PALETTE_INDEX["sea"], polygon=True)
    for line in data.coast:
        draw_shape(line, PALETTE_INDEX["coast"], polygon=False)
    for line in data.borders:
        draw_shape(line, PALETTE_INDEX["border"], polygon=False)

    sea_png: bytes | None = None
    written = 0
    for tx in range(x0, x1):
        col_dir = Path(out_dir) / str(z) / str(tx)
        col_dir.mkdir(parents=True, exist_ok=True)
        left = (tx - x0) * TILE_SIZE
        for ty in range(n):
            tile = img.crop((left, ty * TILE_SIZE, left + TILE_SIZE, (ty + 1) * TILE_SIZE))
            lo_px, hi_px = tile.getextrema()
            if lo_px == hi_px == PALETTE_INDEX["sea"]:
                if sea_png is None:
                    buf = io.BytesIO()
                    tile.save(buf, format="PNG")
                    sea_png = buf.getvalue()
                (col_dir / f"{ty}.png").write_bytes(sea_png)
            else:
                tile.save(col_dir / f"{ty}.png", format="PNG", compress_level=6)
            written += 1
    return written


def _tasks(atlas_dir: Path, out_dir: Path, max_zoom: int) -> list[tuple[str, int, int, int, str]]:
    tasks: list[tuple[str, int, int, int, str]] = []
    for z in range(max_zoom + 1):
        data_path = str(atlas_dir / DETAIL_FOR_ZOOM.get(z, DEFAULT_DETAIL))
        n = 1 << z
        # bands of at most 8 tile columns keep each worker's canvas <= 2048 x 16384 px at z6
        step = min(n, 8)
        for x0 in range(0, n, step):
            tasks.append((data_path, z, x0, min(n, x0 + step), str(out_dir)))
    # biggest bands first for better load balancing
    tasks.sort(key=lambda t: -((t[3] - t[2]) * (1 << t[1])))
    return tasks


def expected_tile_count(max_zoom: int) -> int:
    return sum(4**z for z in range(max_zoom + 1))


def tiles_stamp(atlas_dir: Path, max_zoom: int) -> dict[str, Any]:
    sources = sorted({DETAIL_FOR_ZOOM.get(z, DEFAULT_DETAIL) for z in range(max_zoom + 1)})
    return {
        "renderer_version": RENDERER_VERSION,
        "tile_size": TILE_SIZE,
        "style": {k: list(v) for k, v in STYLE.items()},
        "max_zoom": max_zoom,
        "tile_count": expected_tile_count(max_zoom),
        "sources": {s: sha256_file(atlas_dir / s) for s in sources},
        "detail_for_zoom": {str(z): DETAIL_FOR_ZOOM.get(z, DEFAULT_DETAIL) for z in range(max_zoom + 1)},
    }


def tiles_are_current(tiles_dir: Path, stamp: dict[str, Any]) -> bool:
    try:
        old = json.loads((tiles_dir / TILES_STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if old != stamp:
        return False
    for z in range(stamp["max_zoom"] + 1):
        n = 1 << z
        zdir = tiles_dir / str(z)
        for x in range(n):
            col = zdir / str(x)
            try:
                names = set(os.listdir(col))
            except OSError:
                return False
            if any(f"{y}.png" not in names for y in range(n)):
                return False
    return True


def render_tiles(vendor_dir: Path, max_zoom: int, jobs: int, force: bool = False) -> None:
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise SystemExit(
            "[fetch_assets] Pillow is needed to render the offline tiles; run this script with "
            ".venv/bin/python (make assets) or pass --no-tiles"
        ) from None
    atlas_dir = vendor_dir / "world-atlas"
    tiles_dir = vendor_dir / "tiles"
    stamp = tiles_stamp(atlas_dir, max_zoom)
    if not force and tiles_are_current(tiles_dir, stamp):
        log(f"tiles z0-{max_zoom}: present ({stamp['tile_count']} tiles)")
        return
    t0 = time.monotonic()
    staging = vendor_dir / f".tiles.tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    tasks = _tasks(atlas_dir, staging, max_zoom)
    try:
        if jobs > 1:
            import multiprocessing

            ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            with ctx.Pool(jobs) as pool:
                written = sum(pool.imap_unordered(_render_band, tasks))
        else:
            written = sum(_render_band(t) for t in tasks)
        if written != stamp["tile_count"]:
            raise RuntimeError(f"rendered {written} tiles, expected {stamp['tile_count']}")
        (staging / TILES_STAMP_NAME).write_text(json.dumps(stamp, indent=1, sort_keys=True), encoding="utf-8")
        if tiles_dir.exists():
            shutil.rmtree(tiles_dir)
        staging.rename(tiles_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log(f"tiles z0-{max_zoom}: rendered {written} tiles with {jobs} process(es) in {time.monotonic() - t0:.1f}s")


# --------------------------------------------------------------------------------------------


def check(vendor_dir: Path, max_zoom: int, tiles: bool) -> list[str]:
    problems = [f"{p.spec} missing or modified" for p in PACKAGES if not package_is_current(p, vendor_dir)]
    if tiles and not problems:
        stamp = tiles_stamp(vendor_dir / "world-atlas", max_zoom)
        if not tiles_are_current(vendor_dir / "tiles", stamp):
            problems.append(f"tiles z0-{max_zoom} missing or outdated")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--static-dir", type=Path, default=DEFAULT_STATIC_DIR, help="default: %(default)s")
    ap.add_argument("--max-zoom", type=int, default=DEFAULT_MAX_ZOOM, help="highest tile zoom (default 6)")
    ap.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4), help="rendering processes")
    ap.add_argument("--force", action="store_true", help="fetch and render again even if present")
    ap.add_argument("--no-tiles", action="store_true", help="only fetch the npm packages")
    ap.add_argument("--check", action="store_true", help="only verify; exit 1 if anything is missing")
    args = ap.parse_args(argv)
    if not 0 <= args.max_zoom <= 8:
        ap.error("--max-zoom must be between 0 and 8")

    vendor_dir = args.static_dir.resolve() / "vendor"
    if args.check:
        problems = check(vendor_dir, args.max_zoom, tiles=not args.no_tiles)
        for p in problems:
            log(p)
        if not problems:
            log("all offline assets present")
        return 1 if problems else 0

    t0 = time.monotonic()
    fetch_packages(vendor_dir, force=args.force)
    if not args.no_tiles:
        render_tiles(vendor_dir, args.max_zoom, max(1, args.jobs), force=args.force)
    log(f"done in {time.monotonic() - t0:.1f}s -> {vendor_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
