"""Painters for transport and utilities: runways, roads, paths, rails, barriers, tanks and solar farms."""

from __future__ import annotations

import math
import random

from .canvas import (
    RGB,
    _bbox,
    _Canvas,
    _centre,
    _dashes,
    _fpt,
    _frame,
    _frame_range,
    _jit,
    _joint,
    _offset_line,
    _rect,
    _sample_along,
)
from .osm import _Obj
from .paint_nature import _paint_area_fill
from .styles import _PATHS, _ROADS


def _paint_runway(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 2:
        return
    width = o.shape.width or 45.0
    cv.d.line(pts, fill=_jit((78, 78, 80), cv.rng, 4), width=cv.w(width))
    if cv.mpp < 5:
        for seg in _dashes(pts, cv.m(30), cv.m(20)):
            cv.d.line(seg, fill=(235, 235, 235), width=cv.w(0.9))
        for side in (-0.42, 0.42):
            cv.d.line(_offset_line(pts, cv.m(width * side)), fill=(225, 225, 225), width=cv.w(0.9))


def _paint_solar(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((110, 130, 85), cv.rng, 6), 40 if focus else 0)
    if not got:
        return
    lay, ld = cv.layer(_jit((110, 130, 85), cv.rng, 4))
    fr = _frame(got)
    step = max(2.0, cv.m(7))
    _a0, _a1, a, a1 = _frame_range(cv, fr, step)
    while a < a1:
        ld.line([_fpt(fr, -cv.n * 2, a), _fpt(fr, cv.n * 2, a)], fill=(38, 48, 78), width=max(1, int(step * 0.6)))
        a += step
    cv.masked(got, lay)


def _paint_wind(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    x, y = _centre(pts)
    L = cv.m(90)
    cv.d.line([(x, y), (x + L * 0.5, y + L)], fill=(60, 62, 60), width=cv.w(3))
    r = cv.m(45)
    a0 = cv.rng.random() * math.tau
    for k in range(3):
        a = a0 + k * math.tau / 3
        cv.d.line([(x, y), (x + r * math.cos(a), y + r * math.sin(a))], fill=(235, 235, 235), width=cv.w(2))
    s = max(1.0, cv.m(3))
    cv.d.ellipse([x - s, y - s, x + s, y + s], fill=(245, 245, 245))


def _paint_tank(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) >= 3:
        x, y = _centre(pts)
        b = _bbox(pts)
        r = max(1.0, min(b[2] - b[0], b[3] - b[1]) / 2)
    else:
        x, y = pts[0]
        r = cv.m(6)
    s = r * 0.5
    cv.d.ellipse([x - r + s, y - r + s, x + r + s, y + r + s], fill=(50, 50, 52))
    cv.d.ellipse([x - r, y - r, x + r, y + r], fill=_jit((200, 200, 198), cv.rng, 8))
    if r > 3:
        cv.d.ellipse([x - r * 0.75, y - r * 0.75, x + r * 0.75, y + r * 0.75], outline=(170, 170, 168))


def _paint_wastewater(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((165, 162, 155), cv.rng, 6), 80 if focus else 0)
    if not got:
        return
    cx, cy = _centre(got)
    r = cv.m(14)
    for dx, dy in ((-1.2, -1.2), (1.2, -1.2), (-1.2, 1.2), (1.2, 1.2)):
        x, y = cx + dx * r * 1.3, cy + dy * r * 1.3
        cv.d.ellipse([x - r, y - r, x + r, y + r], fill=(215, 215, 210))
        cv.d.ellipse([x - r * 0.85, y - r * 0.85, x + r * 0.85, y + r * 0.85], fill=(60, 85, 80))


def _paint_parking(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((92, 92, 95), cv.rng, 6), 20 if focus else 0)
    if not got or cv.mpp > 2:
        return
    fr = _frame(got)
    lay, ld = cv.layer((92, 92, 95))
    lay.paste(cv.img)
    stall, row = cv.m(2.6), cv.m(5.0)
    rng = cv.rng
    a0, a1, b0, b1 = _frame_range(cv, fr, row * 2)
    b = b0
    while b < b1:
        a = a0
        while a < a1:
            ld.line([_fpt(fr, a, b), _fpt(fr, a, b + row)], fill=(225, 225, 225), width=1)
            if rng.random() < 0.6:
                car = rng.choice([(200, 200, 205), (30, 30, 35), (150, 30, 30), (60, 70, 120), (160, 160, 160)])
                ld.polygon(_rect(fr, a + stall * 0.15, b + row * 0.1, a + stall * 0.85, b + row * 0.9), fill=car)
            a += stall
        b += row * 1.6 + cv.m(6)
    cv.masked(got, lay)


def _road_colour(tags: dict[str, str], rng: random.Random) -> RGB:
    surf = tags.get("surface", "")
    if surf in ("cobblestone", "sett", "unhewn_cobblestone", "paving_stones"):
        return _jit((125, 115, 105), rng, 5)
    if surf in ("gravel", "fine_gravel", "compacted", "unpaved", "dirt", "ground"):
        return _jit((165, 150, 120), rng, 6)
    if surf == "concrete":
        return _jit((170, 170, 165), rng, 5)
    return _jit((88, 88, 92), rng, 5)


def _paint_road(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 2:
        return
    width = o.shape.width or _ROADS.get(o.tags.get("highway", ""), 6.0)
    if o.tags.get("tunnel") == "yes" and not focus:
        return
    cv.d.line(pts, fill=_jit((160, 156, 150), cv.rng, 5), width=cv.w(width + 4), joint=_joint(pts))
    cv.d.line(pts, fill=_road_colour(o.tags, cv.rng), width=cv.w(width), joint=_joint(pts))
    if cv.m(width) >= 6:
        for seg in _dashes(pts, cv.m(3), cv.m(6)):
            cv.d.line(seg, fill=(230, 230, 225), width=cv.w(0.15))
    if o.tags.get("embedded_rails") or "tram" in o.tags.get("railway", ""):
        for side in (-0.75, 0.75):
            cv.d.line(_offset_line(pts, cv.m(side)), fill=(50, 50, 50), width=1)


def _paint_path(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 2:
        return
    hw = o.tags.get("highway", "")
    width = o.shape.width or _PATHS.get(hw, 2.0)
    if o.tags.get("tunnel") == "yes" and not focus:
        return
    colour = (175, 95, 85) if hw == "cycleway" else (185, 178, 162)
    if o.tags.get("surface") in ("asphalt", "paved"):
        colour = (118, 116, 115)
    cv.d.line(pts, fill=_jit(colour, cv.rng, 6), width=cv.w(width), joint=_joint(pts))
    if hw == "steps" and cv.mpp < 0.6:
        for p in _sample_along(pts, cv.m(0.35)):
            cv.d.point(p, fill=(90, 90, 90))


def _paint_rail(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 2:
        return
    if (o.tags.get("tunnel") == "yes" or o.tags.get("railway") == "subway") and not focus:
        return
    tram = o.tags.get("railway") == "tram"
    if cv.mpp > 2:
        if not tram:
            cv.d.line(pts, fill=_jit((118, 110, 102), cv.rng, 4), width=cv.w(4.0))
        return
    if not tram:
        cv.d.line(pts, fill=_jit((125, 115, 105), cv.rng, 5), width=cv.w(4.0), joint=_joint(pts))
        if cv.mpp < 0.7:
            left = _sample_along(_offset_line(pts, cv.m(-1.2)), cv.m(0.6))
            right = _sample_along(_offset_line(pts, cv.m(1.2)), cv.m(0.6))
            for p0, p1 in zip(left, right, strict=False):
                cv.d.line([p0, p1], fill=(95, 80, 65), width=1)
    for side in (-0.72, 0.72):
        cv.d.line(_offset_line(pts, cv.m(side)), fill=(55, 52, 50), width=max(1, cv.w(0.12)))


def _paint_platform(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) >= 3:
        cv.d.polygon(pts, fill=_jit((178, 175, 168), cv.rng, 5))
    elif len(pts) == 2:
        cv.d.line(pts, fill=_jit((178, 175, 168), cv.rng, 5), width=cv.w(5))
    elif focus:
        x, y = pts[0]
        fr = (x, y, 1.0, 0.0)
        cv.d.polygon(_rect(fr, -cv.m(12), -cv.m(2.5), cv.m(12), cv.m(2.5)), fill=(178, 175, 168))


def _paint_barrier(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 2:
        return
    kind = o.tags.get("barrier", "") or "line"
    colour, width = {
        "hedge": ((50, 85, 45), 1.2),
        "wall": ((175, 170, 160), 0.5),
        "retaining_wall": ((160, 155, 150), 0.6),
        "kerb": ((200, 200, 195), 0.2),
        "guard_rail": ((200, 200, 205), 0.15),
        "fence": ((70, 70, 72), 0.1),
        "city_wall": ((150, 140, 125), 2.0),
    }.get(kind, ((60, 60, 62), 0.1))
    if o.tags.get("power"):
        colour, width = (40, 40, 40), 0.05
    if cv.mpp > 1.5 and width < cv.mpp / 3:
        return  # too thin to show at this resolution
    cv.d.line(pts, fill=colour, width=max(1, cv.w(width)))
