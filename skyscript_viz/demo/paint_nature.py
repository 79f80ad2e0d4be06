"""Painters for water, woods, grass, farmland and other natural or agricultural areas.

Also ``_paint_area_fill`` (a textured polygon), which the built-up and infrastructure painters reuse.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PIL import ImageDraw

from .canvas import (
    RGB,
    _bbox,
    _Canvas,
    _centre,
    _fpt,
    _frame,
    _frame_range,
    _jit,
    _joint,
    _offset_line,
    _sample_along,
    _shade,
)
from .osm import _Obj


def _paint_area_fill(
    cv: _Canvas, pts: list[tuple[float, float]], colour: RGB, point_r: float = 0.0
) -> list[tuple[float, float]] | None:
    if len(pts) < 3:
        if point_r <= 0:
            return None
        c = pts[0]
        r = cv.m(point_r)
        n = 10
        pts = [
            (
                c[0] + r * (0.8 + 0.3 * cv.rng.random()) * math.cos(2 * math.pi * i / n),
                c[1] + r * (0.8 + 0.3 * cv.rng.random()) * math.sin(2 * math.pi * i / n),
            )
            for i in range(n)
        ]
    cv.d.polygon(pts, fill=colour)
    return pts


def _paint_water(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((38, 72, 105), cv.rng, 8), 12.0 if focus else 0.0)
    if got and cv.mpp < 3:
        cv.d.line([*got, got[0]], fill=(70, 95, 85), width=cv.w(1.0))


def _paint_river(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 2:
        return
    width = o.shape.width or (30.0 if o.tags.get("waterway") == "river" else 15.0)
    cv.d.line(pts, fill=_jit((95, 110, 70), cv.rng, 6), width=cv.w(width + 8), joint=_joint(pts))
    cv.d.line(pts, fill=_jit((40, 72, 102), cv.rng, 6), width=cv.w(width), joint=_joint(pts))


def _paint_stream(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 2:
        return
    width = o.shape.width or 2.5
    cv.d.line(pts, fill=_jit((60, 95, 60), cv.rng, 6), width=cv.w(width + 3), joint=_joint(pts))
    cv.d.line(pts, fill=_jit((45, 80, 105), cv.rng, 6), width=cv.w(width), joint=_joint(pts))


def _paint_coast(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 2:
        return
    far = _offset_line(pts, cv.n * 3)
    cv.d.polygon([*pts, *reversed(far)], fill=_jit((35, 68, 100), cv.rng, 6))
    cv.d.line(pts, fill=(150, 145, 135), width=cv.w(3))


def _crowns(
    cv: _Canvas,
    lay_d: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    r_m: float,
    density: float,
    greens: Sequence[RGB],
) -> None:
    r = cv.m(r_m)
    if r < 0.7:
        return
    x0, y0, x1, y1 = (max(-r, box[0]), max(-r, box[1]), min(cv.n + r, box[2]), min(cv.n + r, box[3]))
    if x1 <= x0 or y1 <= y0:
        return
    count = min(350, int((x1 - x0) * (y1 - y0) / (r * r * 4) * density))
    rng = cv.rng
    for _ in range(count):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        rr = r * rng.uniform(0.7, 1.25)
        lay_d.ellipse([x - rr + rr * 0.3, y - rr + rr * 0.3, x + rr * 1.3, y + rr * 1.3], fill=(25, 40, 25))
        lay_d.ellipse([x - rr, y - rr, x + rr, y + rr], fill=_jit(rng.choice(greens), rng, 8))


def _paint_forest(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 3:
        return
    needle = o.tags.get("leaf_type") == "needleleaved"
    base = (32, 62, 38) if needle else (45, 78, 42)
    lay, ld = cv.layer(_jit(base, cv.rng, 5))
    greens = [(40, 75, 45), (30, 62, 38), (50, 85, 50)] if needle else [(60, 100, 50), (70, 110, 55), (50, 90, 45)]
    _crowns(cv, ld, _bbox(pts), 3.5 if needle else 4.5, 1.3, greens)
    cv.masked(pts, lay)


def _paint_scrub(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    wet = o.tags.get("natural") == "wetland"
    got = _paint_area_fill(cv, pts, _jit((100, 112, 70) if not wet else (85, 105, 85), cv.rng, 6), 8 if focus else 0)
    if got:
        lay, ld = cv.layer(_jit((100, 112, 70), cv.rng, 4))
        _crowns(cv, ld, _bbox(got), 1.5, 0.5, [(70, 95, 55), (85, 105, 60)])
        cv.masked(got, lay)


def _paint_grass(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    colour = (105, 148, 78) if o.tags.get("landuse") != "meadow" else (125, 150, 85)
    if o.tags.get("natural") == "grassland":
        colour = (150, 150, 95)
    got = _paint_area_fill(cv, pts, _jit(colour, cv.rng, 8), 15 if focus else 0)
    if got and o.tags.get("leisure") in ("park", "garden") and cv.mpp < 3:
        lay, ld = cv.layer(_jit(colour, cv.rng, 3))
        _crowns(cv, ld, _bbox(got), 4.0, 0.15, [(55, 95, 50), (65, 105, 55)])
        cv.masked(got, lay)


def _paint_tree(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    x, y = _centre(pts)
    r = cv.m(cv.rng.uniform(2.5, 5.0))
    if r < 0.6:
        return
    cv.d.ellipse([x - r * 0.6, y - r * 0.6, x + r * 1.5, y + r * 1.5], fill=(35, 45, 35))
    g = _jit((60, 100, 50), cv.rng, 12)
    cv.d.ellipse([x - r, y - r, x + r, y + r], fill=g)
    if r > 4:
        cv.d.ellipse([x - r * 0.6, y - r * 0.7, x + r * 0.2, y + r * 0.1], fill=_shade(g, 1.15))


def _paint_tree_row(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    for p in _sample_along(pts, max(1.0, cv.m(8))) if len(pts) >= 2 else pts:
        _paint_tree(cv, o, [p], focus)


def _paint_farmland(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    crop = o.tags.get("crop", "")
    palette = {
        "wheat": (200, 180, 110),
        "maize": (110, 145, 70),
        "soy": (100, 135, 65),
        "rice": (90, 140, 110),
    }
    colour = palette.get(crop) or cv.rng.choice([(150, 128, 92), (125, 150, 82), (190, 172, 105), (160, 150, 100)])
    got = _paint_area_fill(cv, pts, _jit(colour, cv.rng, 6), 80 if focus else 0)
    if not got or cv.mpp > 12:
        return
    lay, ld = cv.layer(_jit(colour, cv.rng, 3))
    fr = _frame(got)
    step = max(2.0, cv.m(cv.rng.uniform(3, 6)))
    dark = _shade(colour, 0.88)
    a, a1, _b0, _b1 = _frame_range(cv, fr, step)
    while a < a1:
        ld.line([_fpt(fr, a, -cv.n * 2), _fpt(fr, a, cv.n * 2)], fill=dark, width=max(1, int(step / 3)))
        a += step
    cv.masked(got, lay)


def _paint_orchard(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    vine = o.tags.get("landuse") == "vineyard"
    got = _paint_area_fill(cv, pts, _jit((150, 135, 95) if vine else (120, 130, 80), cv.rng, 6), 40 if focus else 0)
    if not got or cv.mpp > 4:
        return
    lay, ld = cv.layer(_jit((150, 135, 95) if vine else (120, 130, 80), cv.rng, 3))
    fr = _frame(got)
    row = cv.m(2.6 if vine else 6.0)
    b0, b1, a, a1 = _frame_range(cv, fr, row)
    while a < a1:
        if vine:
            ld.line(
                [_fpt(fr, -cv.n * 2, a), _fpt(fr, cv.n * 2, a)],
                fill=(70, 95, 50),
                width=max(1, int(row / 2.5)),
            )
        else:
            b = b0
            r = max(0.8, row * 0.35)
            while b < b1:
                p = _fpt(fr, b, a)
                if -r < p[0] < cv.n + r and -r < p[1] < cv.n + r:
                    ld.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=_jit((60, 95, 45), cv.rng, 8))
                b += row
        a += row
    cv.masked(got, lay)


def _paint_greenhouse(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((215, 218, 215), cv.rng, 6), 40 if focus else 0)
    if not got:
        return
    lay, ld = cv.layer(_jit((215, 218, 215), cv.rng, 4))
    fr = _frame(got)
    step = max(2.0, cv.m(4))
    _a0, _a1, a, a1 = _frame_range(cv, fr, step)
    while a < a1:
        ld.line([_fpt(fr, -cv.n * 2, a), _fpt(fr, cv.n * 2, a)], fill=(175, 180, 180), width=1)
        a += step
    cv.masked(got, lay)


def _simple_fill(colour: RGB, r: float, speckle: RGB | None = None) -> Callable[..., None]:
    def paint(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
        got = _paint_area_fill(cv, pts, _jit(colour, cv.rng, 8), r if focus else 0)
        if got and speckle and cv.mpp < 5:
            lay, ld = cv.layer(_jit(colour, cv.rng, 4))
            bx = _bbox(got)
            for _ in range(min(300, int((bx[2] - bx[0]) * (bx[3] - bx[1]) / 30) + 5)):
                x, y = cv.rng.uniform(bx[0], bx[2]), cv.rng.uniform(bx[1], bx[3])
                s = cv.rng.uniform(0.5, 2.0)
                ld.ellipse([x - s, y - s, x + s, y + s], fill=_jit(speckle, cv.rng, 10))
            cv.masked(got, lay)

    return paint
