"""One image from a plan: the style -> painter table, background, painters in z-order, grain,
resampling to the source's raster, and the planted image faults (blank, low contrast).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageFilter

from skyscript_viz.sources import SOURCES

from .canvas import _Canvas, _clip_runs, _fpt, _jit, _rect, _Textures
from .osm import _Img, _Obj, _Placed
from .paint_built import (
    _paint_allotments,
    _paint_building,
    _paint_builtup,
    _paint_cemetery,
    _paint_crossing,
    _paint_golf,
    _paint_pier,
    _paint_pitch,
    _paint_playground,
    _paint_plaza,
    _paint_poi,
    _paint_pool,
    _paint_street_point,
)
from .paint_infra import (
    _paint_barrier,
    _paint_parking,
    _paint_path,
    _paint_platform,
    _paint_rail,
    _paint_road,
    _paint_runway,
    _paint_solar,
    _paint_tank,
    _paint_wastewater,
    _paint_wind,
)
from .paint_nature import (
    _paint_coast,
    _paint_farmland,
    _paint_forest,
    _paint_grass,
    _paint_greenhouse,
    _paint_orchard,
    _paint_river,
    _paint_scrub,
    _paint_stream,
    _paint_tree,
    _paint_tree_row,
    _paint_water,
    _simple_fill,
)
from .places import SOURCE_RASTER


def _paint_default(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) >= 3:
        cv.d.polygon(pts, fill=_jit((150, 145, 130), cv.rng, 10))
    elif len(pts) == 2:
        cv.d.line(pts, fill=(110, 108, 104), width=cv.w(1.0))
    elif focus:
        x, y = pts[0]
        r = max(1.0, cv.m(1.0))
        cv.d.ellipse([x - r, y - r, x + r, y + r], fill=(80, 80, 80))


_PAINTERS: dict[str, Callable[[_Canvas, _Obj, list[tuple[float, float]], bool], None]] = {
    "building": _paint_building,
    "pitch": _paint_pitch,
    "pool": _paint_pool,
    "golf": _paint_golf,
    "playground": _paint_playground,
    "snow": _simple_fill((238, 240, 245), 300, (205, 212, 225)),
    "river": _paint_river,
    "stream": _paint_stream,
    "water": _paint_water,
    "coast": _paint_coast,
    "forest": _paint_forest,
    "scrub": _paint_scrub,
    "tree": _paint_tree,
    "tree_row": _paint_tree_row,
    "farmland": _paint_farmland,
    "orchard": _paint_orchard,
    "greenhouse": _paint_greenhouse,
    "sand": _simple_fill((218, 203, 162), 40, (200, 185, 145)),
    "rock": _simple_fill((150, 146, 140), 30, (120, 115, 110)),
    "dirt": _simple_fill((165, 135, 100), 60, (140, 115, 85)),
    "runway": _paint_runway,
    "solar": _paint_solar,
    "wind": _paint_wind,
    "tank": _paint_tank,
    "wastewater": _paint_wastewater,
    "pier": _paint_pier,
    "parking": _paint_parking,
    "grass": _paint_grass,
    "cemetery": _paint_cemetery,
    "allotments": _paint_allotments,
    "builtup": _paint_builtup,
    "plaza": _paint_plaza,
    "road": _paint_road,
    "path": _paint_path,
    "crossing": _paint_crossing,
    "platform": _paint_platform,
    "rail": _paint_rail,
    "barrier": _paint_barrier,
    "street_point": _paint_street_point,
    "poi": _paint_poi,
    "default": _paint_default,
}


_Z = {
    "snow": 0,
    "water": 1,
    "coast": 1,
    "farmland": 1,
    "forest": 2,
    "builtup": 1,
    "grass": 2,
    "scrub": 2,
    "orchard": 2,
    "golf": 2,
    "cemetery": 2,
    "allotments": 2,
    "dirt": 2,
    "sand": 2,
    "rock": 2,
    "solar": 3,
    "greenhouse": 3,
    "plaza": 3,
    "parking": 3,
    "default": 3,
    "river": 4,
    "stream": 4,
    "runway": 4,
    "pitch": 4,
    "playground": 4,
    "pool": 4,
    "wastewater": 4,
    "road": 5,
    "path": 6,
    "rail": 6,
    "platform": 6,
    "pier": 6,
    "crossing": 7,
    "building": 8,
    "tank": 8,
    "barrier": 9,
    "tree_row": 9,
    "tree": 10,
    "street_point": 11,
    "wind": 12,
    "poi": 12,
}


def _background(cv: _Canvas, setting: str) -> None:
    rng = cv.rng
    n = cv.n
    if setting == "urban":
        cv.img.paste(_jit((142, 139, 132), rng, 8), (0, 0, n, n))
    else:
        cv.img.paste(_jit((104, 132, 76), rng, 8), (0, 0, n, n))
    if cv.mpp < 1.5:
        return
    # coarse: a patchwork of blocks (urban) or fields and woods (rural) beyond the mapped objects
    cell = max(5.0, (70.0 if setting == "urban" else 260.0) / cv.mpp)
    ang = rng.random() * math.pi / 2
    fr = (n / 2, n / 2, math.cos(ang), math.sin(ang))
    span = n * 0.75 + cell
    a = -span
    urban_cols = [
        (120, 115, 110),
        (150, 145, 140),
        (150, 112, 98),
        (100, 118, 85),
        (135, 135, 140),
        (128, 124, 122),
    ]
    rural_cols = [
        (150, 128, 92),
        (125, 150, 82),
        (190, 172, 105),
        (95, 125, 70),
        (40, 70, 42),
        (110, 140, 75),
    ]
    while a < span:
        da = cell * rng.uniform(0.6, 1.4)
        b = -span
        while b < span:
            db = cell * rng.uniform(0.6, 1.4)
            colour = rng.choice(urban_cols if setting == "urban" else rural_cols)
            cv.d.polygon(_rect(fr, a, b, a + da - 1, b + db - 1), fill=_jit(colour, rng, 8))
            b += db
        a += da
    if setting == "urban":
        for k in range(-6, 7):
            off = k * cell * 1.3
            cv.d.line([_fpt(fr, -span, off), _fpt(fr, span, off)], fill=(95, 95, 98), width=1)
            cv.d.line([_fpt(fr, off, -span), _fpt(fr, off, span)], fill=(95, 95, 98), width=1)


def _render(img: _Img, tex: _Textures, seed: int) -> bytes:
    """Draw one image and return its JPEG bytes."""
    src = img.raster if img.raster in SOURCE_RASTER else "CH"
    native, up = SOURCE_RASTER[src]
    res = SOURCES[src].resolution_m
    rng = random.Random(f"{seed}/{img.stem}/{img.variant}")
    cv = _Canvas(native, res, rng, src)
    _background(cv, img.site.setting)
    half = native * res / 2
    todo: list[tuple[int, int, _Placed, bool]] = []
    site = img.site
    for i, p in enumerate(site.around):
        todo.append((_Z.get(p.obj.style, 3), i, p, False))
    todo.append((_Z.get(site.focus.style, 3), len(site.around), _Placed(site.focus, 0.0, 0.0), True))
    todo.sort(key=lambda t: (t[0], t[3], -t[2].obj.shape.size, t[1]))
    for _z, _i, p, focus in todo:
        ox, oy = p.dx - img.cx, p.dy - img.cy
        reach = p.obj.shape.size / 2 + half * 1.5 + 60
        if abs(ox) > reach or abs(oy) > reach:
            continue
        pts = [cv.px(ox + x, oy + y) for x, y in p.obj.shape.pts]
        painter = _PAINTERS.get(p.obj.style, _paint_default)
        if p.obj.shape.kind == "line" and len(pts) > 2:
            for run in _clip_runs(pts, native, cv.m(80) + 20):
                painter(cv, p.obj, run, focus)
        else:
            painter(cv, p.obj, pts, focus)
    out = ImageChops.add(cv.img, tex.tile(native, rng), 1.0, -15)
    if up > 1:
        out = out.filter(ImageFilter.GaussianBlur(0.55 if src in ("S2", "P5") else 0.75))
        if src in ("L8", "L9"):
            out = Image.blend(out, Image.new("RGB", out.size, (165, 172, 185)), 0.12)
        out = out.resize((native * up, native * up), Image.Resampling.NEAREST)
    if img.fault == "blank_image":
        out = Image.new("RGB", out.size, (0, 0, 0))
    elif img.fault == "low_contrast":
        out = Image.blend(out, Image.new("RGB", out.size, (206, 208, 212)), 0.9)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=80)
    return buf.getvalue()
