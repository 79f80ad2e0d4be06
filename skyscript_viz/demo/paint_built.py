"""Painters for buildings (roofs, ridges, shadows), sports grounds, urban land use, piers, crossings and POIs.

Every painter has the signature ``(canvas, obj, pixel points, focus)``; ``render._PAINTERS`` maps styles to them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .canvas import RGB, _bbox, _Canvas, _centre, _clip_half, _fpt, _frame, _frame_range, _jit, _rect, _shade
from .osm import _Obj
from .paint_nature import _paint_area_fill

_ROOFS: list[RGB] = [
    (128, 128, 132),
    (150, 148, 145),
    (105, 105, 110),
    (168, 80, 62),
    (150, 70, 55),
    (185, 105, 75),
    (112, 86, 66),
    (82, 82, 88),
    (190, 188, 180),
    (95, 110, 100),
]


_ROOF_COLOURS: dict[str, RGB] = {
    "red": (165, 70, 55),
    "grey": (130, 130, 135),
    "gray": (130, 130, 135),
    "black": (60, 60, 65),
    "brown": (120, 85, 60),
    "green": (90, 120, 95),
    "white": (215, 215, 210),
    "silver": (175, 178, 182),
}


def _paint_building(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    """A roof: footprint (or a made-up one for a node), roof shape and colour from the tags, ridge, shadow.

    One function because every step uses the previous one's geometry, and the random draws must keep
    their order (the demo's bytes are pinned by its manifest version); reordering them in a split is
    the easy mistake this avoids.
    """
    rng = cv.rng
    if len(pts) < 3:
        if not focus and o.t == "n":
            return
        c = pts[0]
        fr = (c[0], c[1], math.cos(rng.random() * 3.14), math.sin(rng.random() * 3.14))
        L, W = cv.m(rng.uniform(6, 12)), cv.m(rng.uniform(4, 8))
        pts = _rect(fr, -L, -W, L, W)
    colour = _ROOF_COLOURS.get(o.tags.get("roof:colour", "").lower())
    if colour is None:
        colour = _ROOFS[rng.randrange(len(_ROOFS))]
        if cv.src in ("ES", "CH", "DE") and rng.random() < 0.4:
            colour = (170, 82, 60)
        if o.tags.get("building") == "greenhouse":
            colour = (212, 218, 218)
    colour = _jit(colour, rng, 8)
    levels = o.tags.get("building:levels", "")
    h = 3.0 * (int(levels) if levels.isdigit() and int(levels) < 40 else rng.randint(1, 4))
    s = min(cv.m(h * 0.25), cv.n / 10)
    if s >= 1:
        cv.d.polygon([(x + s, y + s * 0.8) for x, y in pts], fill=(55, 55, 58))
    cv.d.polygon(pts, fill=colour)
    if cv.mpp > 3:
        return
    shape = o.tags.get("roof:shape", "")
    if not shape:
        shape = rng.choice(["flat", "flat", "gabled", "hipped"]) if len(pts) <= 6 else "flat"
    cx, cy, ux, uy, hl, hw = _frame(pts)
    light, dark = _shade(colour, 1.12), _shade(colour, 0.8)
    if shape in ("gabled", "skillion", "gambrel", "saltbox", "half-hipped"):
        half = _clip_half(pts, (cx, cy), -uy, ux)
        if len(half) >= 3:
            cv.d.polygon(half, fill=dark if shape != "skillion" else _shade(colour, 0.92))
        if shape != "skillion":
            cv.d.line([_fpt((cx, cy, ux, uy), -hl, 0), _fpt((cx, cy, ux, uy), hl, 0)], fill=light, width=1)
    elif shape in ("hipped", "pyramidal"):
        r0 = hl - hw if shape == "hipped" else 0.0
        a, b = _fpt((cx, cy, ux, uy), -max(r0, 0), 0), _fpt((cx, cy, ux, uy), max(r0, 0), 0)
        half = _clip_half(pts, (cx, cy), -uy, ux)
        if len(half) >= 3:
            cv.d.polygon(half, fill=dark)
        for p in pts:
            end = a if (p[0] - cx) * ux + (p[1] - cy) * uy < 0 else b
            cv.d.line([p, end], fill=light, width=1)
        cv.d.line([a, b], fill=light, width=1)
    elif shape in ("dome", "round", "onion"):
        r = min(hl, hw) * 0.8
        for k, f in ((1.0, 0.9), (0.7, 1.05), (0.4, 1.2)):
            cv.d.ellipse([cx - r * k, cy - r * k, cx + r * k, cy + r * k], fill=_shade(colour, f))
    else:
        inner = [(cx + (x - cx) * 0.9, cy + (y - cy) * 0.9) for x, y in pts]
        cv.d.polygon(inner, outline=light)
        if cv.mpp < 0.7 and hl > 6:
            for _ in range(rng.randint(1, 3)):
                p = _fpt((cx, cy, ux, uy), rng.uniform(-hl, hl) * 0.6, rng.uniform(-hw, hw) * 0.6)
                r = cv.m(0.8)
                cv.d.rectangle([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=(90, 90, 95))


def _court_lines(
    cv: _Canvas,
    fr: tuple[float, ...],
    segs: Iterable[tuple[float, float, float, float]],
    colour: RGB = (240, 240, 240),
) -> None:
    k = 1 / cv.mpp
    lw = max(1, round(0.08 / cv.mpp))
    for a0, b0, a1, b1 in segs:
        cv.d.line([_fpt(fr, a0 * k, b0 * k), _fpt(fr, a1 * k, b1 * k)], fill=colour, width=lw)


def _paint_pitch(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    sport = o.tags.get("sport", "").split(";")[0]
    surf = o.tags.get("surface", "")
    dims = {
        "tennis": (36.0, 18.0),
        "soccer": (105.0, 68.0),
        "basketball": (30.0, 17.0),
        "baseball": (115.0, 115.0),
        "beachvolleyball": (16.0, 8.0),
    }
    if len(pts) < 3:
        c = pts[0]
        ang = cv.rng.random() * math.pi
        L, W = dims.get(sport, (40.0, 25.0))
        fr0 = (c[0], c[1], math.cos(ang), math.sin(ang))
        pts = _rect(fr0, -cv.m(L / 2), -cv.m(W / 2), cv.m(L / 2), cv.m(W / 2))
    fr = _frame(pts)
    painter = _PITCHES.get(sport, _pitch_sand if surf == "sand" else None)
    if painter is not None:
        painter(cv, fr, pts, surf)
    else:
        _pitch_field(cv, fr, pts, surf, soccer=sport == "soccer")


def _pitch_tennis(cv: _Canvas, fr: tuple[float, ...], pts: list[tuple[float, float]], surf: str) -> None:
    """A tennis court: surround and court by surface, its lines and the net."""
    base = (185, 95, 62) if surf == "clay" else (62, 105, 150) if surf != "grass" else (90, 150, 80)
    cv.d.polygon(pts, fill=_jit((60, 120, 85) if surf != "clay" else (190, 100, 65), cv.rng, 6))
    cv.d.polygon(_rect(fr, -cv.m(11.9), -cv.m(5.5), cv.m(11.9), cv.m(5.5)), fill=_jit(base, cv.rng, 6))
    segs = [
        (-11.885, -5.485, 11.885, -5.485),
        (-11.885, 5.485, 11.885, 5.485),
        (-11.885, -5.485, -11.885, 5.485),
        (11.885, -5.485, 11.885, 5.485),
        (-11.885, -4.115, 11.885, -4.115),
        (-11.885, 4.115, 11.885, 4.115),
        (-6.4, -4.115, -6.4, 4.115),
        (6.4, -4.115, 6.4, 4.115),
        (-6.4, 0, 6.4, 0),
    ]
    _court_lines(cv, fr, segs)
    _court_lines(cv, fr, [(0, -6.4, 0, 6.4)], (40, 40, 40))


def _pitch_basketball(cv: _Canvas, fr: tuple[float, ...], pts: list[tuple[float, float]], surf: str) -> None:
    """A basketball court and its lines."""
    cv.d.polygon(pts, fill=_jit((150, 120, 95), cv.rng, 8))
    segs = [
        (-14, -7.5, 14, -7.5),
        (-14, 7.5, 14, 7.5),
        (-14, -7.5, -14, 7.5),
        (14, -7.5, 14, 7.5),
        (0, -7.5, 0, 7.5),
        (-14, -2.45, -8.2, -2.45),
        (-14, 2.45, -8.2, 2.45),
        (-8.2, -2.45, -8.2, 2.45),
        (14, -2.45, 8.2, -2.45),
        (14, 2.45, 8.2, 2.45),
        (8.2, -2.45, 8.2, 2.45),
    ]
    _court_lines(cv, fr, segs)


def _pitch_baseball(cv: _Canvas, fr: tuple[float, ...], pts: list[tuple[float, float]], surf: str) -> None:
    """A baseball field: grass and the dirt diamond from home plate."""
    hl = fr[4] * cv.mpp  # metres
    cv.d.polygon(pts, fill=_jit((85, 140, 70), cv.rng, 6))
    k = 1 / cv.mpp
    home = _fpt(fr, -hl * k * 0.7, 0)
    d = 27.4 * k
    ang = math.atan2(fr[3], fr[2])
    diamond = [home]
    for t in (-45, 0, 45):
        r = d if t else d * math.sqrt(2)
        a = ang + math.radians(t)
        diamond.append((home[0] + r * math.cos(a), home[1] + r * math.sin(a)))
    dirt = [diamond[0], diamond[1], diamond[2], diamond[3]]
    cv.d.polygon([(x, y) for x, y in dirt], fill=(170, 125, 85))
    cv.d.line([diamond[0], diamond[1]], fill=(240, 240, 240), width=1)
    cv.d.line([diamond[0], diamond[3]], fill=(240, 240, 240), width=1)


def _pitch_sand(cv: _Canvas, fr: tuple[float, ...], pts: list[tuple[float, float]], surf: str) -> None:
    """A beach volleyball court (or any sand pitch)."""
    cv.d.polygon(pts, fill=_jit((215, 195, 150), cv.rng, 6))
    _court_lines(cv, fr, [(-8, -4, 8, -4), (-8, 4, 8, 4), (-8, -4, -8, 4), (8, -4, 8, 4), (0, -4.5, 0, 4.5)])


def _pitch_field(
    cv: _Canvas, fr: tuple[float, ...], pts: list[tuple[float, float]], surf: str, *, soccer: bool
) -> None:
    """A soccer or generic pitch: mown stripes and the touch lines (a soccer pitch adds its boxes and circle)."""
    hl, hw = fr[4] * cv.mpp, fr[5] * cv.mpp  # metres
    green = (70, 135, 70) if surf != "artificial_turf" else (60, 145, 75)
    cv.d.polygon(pts, fill=_jit(green, cv.rng, 5))
    lay, ld = cv.layer(_shade(green, 1.1))
    stripe = max(2.0, cv.m(hl / 6))
    for i in range(-8, 9, 2):
        a0, a1 = i * stripe, (i + 1) * stripe
        ld.polygon(_rect((*fr[:4],), a0, -cv.n, a1, cv.n), fill=_shade(green, 0.92))
    cv.masked(pts, lay)
    L, W = max(hl - 3, 5), max(hw - 3, 4)
    segs = [(-L, -W, L, -W), (-L, W, L, W), (-L, -W, -L, W), (L, -W, L, W), (0, -W, 0, W)]
    if soccer:
        segs += [
            (-L, -20.15, -L + 16.5, -20.15),
            (-L, 20.15, -L + 16.5, 20.15),
            (-L + 16.5, -20.15, -L + 16.5, 20.15),
            (L, -20.15, L - 16.5, -20.15),
            (L, 20.15, L - 16.5, 20.15),
            (L - 16.5, -20.15, L - 16.5, 20.15),
        ]
    _court_lines(cv, fr, segs)
    if soccer:
        c = _fpt(fr, 0, 0)
        r = cv.m(9.15)
        cv.d.ellipse(
            [c[0] - r, c[1] - r, c[0] + r, c[1] + r],
            outline=(240, 240, 240),
            width=max(1, round(0.12 / cv.mpp)),
        )


_PITCHES = {
    "tennis": _pitch_tennis,
    "basketball": _pitch_basketball,
    "baseball": _pitch_baseball,
    "beachvolleyball": _pitch_sand,
}


def _paint_plaza(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((182, 176, 166), cv.rng, 6), 20 if focus else 0)
    if got and cv.mpp < 0.6:
        lay, ld = cv.layer(_jit((182, 176, 166), cv.rng, 3))
        step = cv.m(1.0)
        v = 0.0
        while v < cv.n:
            ld.line([(v, 0), (v, cv.n)], fill=(170, 165, 156), width=1)
            ld.line([(0, v), (cv.n, v)], fill=(170, 165, 156), width=1)
            v += step
        cv.masked(got, lay)


def _paint_builtup(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    lu = o.tags.get("landuse", "")
    base = {
        "residential": (150, 150, 135),
        "commercial": (165, 160, 155),
        "retail": (165, 158, 150),
        "industrial": (150, 150, 155),
        "farmyard": (150, 135, 110),
    }.get(lu, (155, 150, 142))
    got = _paint_area_fill(cv, pts, _jit(base, cv.rng, 6), 60 if focus else 0)
    if not got or cv.mpp > 12:
        return
    lay, ld = cv.layer(_jit(base, cv.rng, 4))
    fr = _frame(got)
    rng = cv.rng
    size = 30.0 if lu in ("industrial", "commercial", "retail") else 14.0
    step = max(1.5, cv.m(size * 1.8))
    a0, a1, b0, b1 = _frame_range(cv, fr, step)
    b = b0
    count = 0
    while b < b1 and count < 300:
        a = a0
        while a < a1 and count < 300:
            if rng.random() < 0.8:
                L, W = cv.m(size * rng.uniform(0.4, 0.6)), cv.m(size * rng.uniform(0.3, 0.5))
                ld.polygon(_rect(fr, a - L, b - W, a + L, b + W), fill=_jit(rng.choice(_ROOFS), rng, 8))
            count += 1
            a += step
        b += step
    cv.masked(got, lay)


def _paint_cemetery(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((100, 135, 80), cv.rng, 6), 40 if focus else 0)
    if not got or cv.mpp > 2:
        return
    lay, ld = cv.layer(_jit((100, 135, 80), cv.rng, 3))
    fr = _frame(got)
    step = max(1.0, cv.m(2.5))
    a0, a1, b0, b1 = _frame_range(cv, fr, step)
    b = b0
    while b < b1:
        a = a0
        while a < a1:
            p = _fpt(fr, a, b)
            ld.rectangle([p[0], p[1], p[0] + max(1, cv.m(0.8)), p[1] + max(1, cv.m(0.4))], fill=(190, 188, 182))
            a += step
        b += step * 1.5
    cv.masked(got, lay)


def _paint_allotments(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((110, 135, 80), cv.rng, 6), 40 if focus else 0)
    if not got or cv.mpp > 3:
        return
    lay, ld = cv.layer((110, 135, 80))
    fr = _frame(got)
    step = max(2.0, cv.m(12))
    a0, a1, b0, b1 = _frame_range(cv, fr, step)
    b = b0
    while b < b1:
        a = a0
        while a < a1:
            ld.polygon(
                _rect(fr, a, b, a + step * 0.9, b + step * 0.9),
                fill=_jit(cv.rng.choice([(120, 150, 80), (140, 120, 90), (90, 130, 70)]), cv.rng, 10),
            )
            a += step
        b += step
    cv.masked(got, lay)


def _paint_playground(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((205, 185, 140), cv.rng, 6), 10 if focus or len(pts) < 3 else 0)
    if not got:
        return
    b = _bbox(got)
    for _ in range(6):
        x, y = cv.rng.uniform(b[0], b[2]), cv.rng.uniform(b[1], b[3])
        r = max(1.0, cv.m(0.8))
        cv.d.ellipse(
            [x - r, y - r, x + r, y + r],
            fill=cv.rng.choice([(200, 40, 40), (40, 90, 190), (230, 200, 40), (40, 150, 60)]),
        )


def _paint_golf(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    got = _paint_area_fill(cv, pts, _jit((80, 125, 65), cv.rng, 6), 300 if focus else 0)
    if not got:
        return
    lay, ld = cv.layer(_jit((80, 125, 65), cv.rng, 3))
    b = _bbox(got)
    rng = cv.rng
    for _ in range(5):
        x0, y0 = rng.uniform(b[0], b[2]), rng.uniform(b[1], b[3])
        x1, y1 = x0 + rng.uniform(-1, 1) * cv.m(250), y0 + rng.uniform(-1, 1) * cv.m(250)
        ld.line([(x0, y0), (x1, y1)], fill=(120, 170, 85), width=cv.w(35))
        r = cv.m(12)
        ld.ellipse([x1 - r, y1 - r, x1 + r, y1 + r], fill=(140, 190, 100))
        r = cv.m(6)
        ld.ellipse([x1 + r, y1 + r, x1 + 3 * r, y1 + 2.5 * r], fill=(225, 210, 165))
    cv.masked(got, lay)


def _paint_pool(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) < 3:
        x, y = pts[0]
        pts = _rect((x, y, 1.0, 0.0), -cv.m(5), -cv.m(2.5), cv.m(5), cv.m(2.5))
    cv.d.polygon(pts, fill=(235, 235, 230))
    cx, cy = _centre(pts)
    inner = [(cx + (x - cx) * 0.9, cy + (y - cy) * 0.85) for x, y in pts]
    cv.d.polygon(inner, fill=_jit((70, 170, 205), cv.rng, 8))
    if o.tags.get("sport") == "swimming" and cv.mpp < 0.7:
        fr = _frame(inner)
        for k in range(-3, 4):
            b = k * fr[5] / 4
            cv.d.line([_fpt(fr, -fr[4] * 0.9, b), _fpt(fr, fr[4] * 0.9, b)], fill=(40, 90, 150), width=1)


def _paint_pier(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if len(pts) >= 3:
        cv.d.polygon(pts, fill=_jit((150, 125, 95), cv.rng, 6))
    elif len(pts) == 2:
        cv.d.line(pts, fill=_jit((150, 125, 95), cv.rng, 6), width=cv.w(4))


def _paint_crossing(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    x, y = _centre(pts)
    if focus:
        cv.d.line([(x - cv.m(15), y), (x + cv.m(15), y)], fill=(88, 88, 92), width=cv.w(8))
    if cv.mpp > 1.5:
        return
    for k in range(-3, 4):
        xx = x + k * cv.m(1.0)
        cv.d.line([(xx, y - cv.m(3)), (xx, y + cv.m(3))], fill=(235, 235, 230), width=cv.w(0.5))


def _paint_street_point(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    x, y = _centre(pts)
    if focus:
        cv.d.ellipse([x - cv.m(6), y - cv.m(6), x + cv.m(6), y + cv.m(6)], fill=_jit((150, 146, 140), cv.rng, 5))
    r = cv.m(0.5 if not o.tags.get("natural") else 1.0)
    if r < 0.5 and not focus:
        return
    r = max(r, 0.8)
    cv.d.line([(x, y), (x + r * 3, y + r * 2.4)], fill=(50, 50, 50), width=max(1, int(r)))
    cv.d.ellipse([x - r, y - r, x + r, y + r], fill=_jit((70, 70, 75), cv.rng, 15))


def _paint_poi(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if focus:
        _paint_building(cv, o, pts, True)
