"""The drawing surface shared by every painter: canvas, grain textures, colour jitter and geometry."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

from PIL import Image, ImageChops, ImageDraw

RGB = tuple[int, int, int]


def _jit(c: RGB, rng: random.Random, k: int = 10) -> RGB:
    r = rng.random
    d = int(r() * (2 * k + 1)) - k
    return (
        max(0, min(255, c[0] + d + int(r() * 7) - 3)),
        max(0, min(255, c[1] + d + int(r() * 7) - 3)),
        max(0, min(255, c[2] + d + int(r() * 7) - 3)),
    )


def _shade(c: RGB, f: float) -> RGB:
    return (max(0, min(255, int(c[0] * f))), max(0, min(255, int(c[1] * f))), max(0, min(255, int(c[2] * f))))


class _Textures:
    """Deterministic grain tiles (per canvas size) added to every image."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"skyscript-demo-tex/{seed}")
        self._tiles: dict[int, list[Image.Image]] = {}

    def tile(self, n: int, rng: random.Random) -> Image.Image:
        tiles = self._tiles.get(n)
        if tiles is None:
            tiles = []
            for _ in range(3):
                m = 2 * n
                fine = Image.frombytes("L", (m, m), self._rng.randbytes(m * m)).point(lambda v: v * 14 // 255)
                s = max(2, m // 12)
                low = Image.frombytes("L", (s, s), self._rng.randbytes(s * s)).resize((m, m), Image.Resampling.BICUBIC)
                low = low.point(lambda v: v * 16 // 255)
                both = ImageChops.add(fine, low)
                tiles.append(Image.merge("RGB", (both, both, both)))
            self._tiles[n] = tiles
        t = tiles[rng.randrange(len(tiles))]
        ox, oy = rng.randrange(n), rng.randrange(n)
        return t.crop((ox, oy, ox + n, oy + n))


class _Canvas:
    """A square image of ``n`` pixels at ``mpp`` metres per pixel, centred on (0, 0) metres."""

    def __init__(self, n: int, mpp: float, rng: random.Random, src: str = "") -> None:
        self.n = n
        self.mpp = mpp
        self.rng = rng
        self.src = src
        self.img = Image.new("RGB", (n, n), (120, 120, 120))
        self.d = ImageDraw.Draw(self.img)

    def px(self, x: float, y: float) -> tuple[float, float]:
        return self.n / 2 + x / self.mpp, self.n / 2 - y / self.mpp

    def m(self, metres: float) -> float:
        return metres / self.mpp

    def w(self, metres: float) -> int:
        return max(1, round(metres / self.mpp))

    def masked(self, pts: Sequence[tuple[float, float]], layer: Image.Image) -> None:
        mask = Image.new("L", (self.n, self.n), 0)
        ImageDraw.Draw(mask).polygon(list(pts), fill=255)
        self.img.paste(layer, (0, 0), mask)

    def layer(self, color: RGB) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        lay = Image.new("RGB", (self.n, self.n), color)
        return lay, ImageDraw.Draw(lay)


def _bbox(pts: Sequence[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _centre(pts: Sequence[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def _axis(pts: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Unit direction of the longest edge of a polygon (pixel space)."""
    best, ux, uy = -1.0, 1.0, 0.0
    ring = [*pts, pts[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        L = math.hypot(x1 - x0, y1 - y0)
        if best < L and L > 0:
            best, ux, uy = L, (x1 - x0) / L, (y1 - y0) / L
    return ux, uy


def _frame(pts: Sequence[tuple[float, float]]) -> tuple[float, float, float, float, float, float]:
    """(cx, cy, ux, uy, half length, half width) of a polygon in pixel space, along its longest edge."""
    cx, cy = _centre(pts)
    ux, uy = _axis(pts)
    a = [(p[0] - cx) * ux + (p[1] - cy) * uy for p in pts]
    b = [-(p[0] - cx) * uy + (p[1] - cy) * ux for p in pts]
    return cx, cy, ux, uy, (max(a) - min(a)) / 2, (max(b) - min(b)) / 2


def _fpt(fr: tuple[float, ...], a: float, b: float) -> tuple[float, float]:
    cx, cy, ux, uy = fr[:4]
    return cx + a * ux - b * uy, cy + a * uy + b * ux


def _rect(fr: tuple[float, ...], a0: float, b0: float, a1: float, b1: float) -> list[tuple[float, float]]:
    return [_fpt(fr, a0, b0), _fpt(fr, a1, b0), _fpt(fr, a1, b1), _fpt(fr, a0, b1)]


def _clip_half(
    pts: Sequence[tuple[float, float]], p0: tuple[float, float], nx: float, ny: float
) -> list[tuple[float, float]]:
    """Part of a polygon on the side of the line through p0 where (p - p0) . n >= 0."""
    out: list[tuple[float, float]] = []
    ring = [*pts, pts[0]]
    for a, b in itertools.pairwise(ring):
        da = (a[0] - p0[0]) * nx + (a[1] - p0[1]) * ny
        db = (b[0] - p0[0]) * nx + (b[1] - p0[1]) * ny
        if da >= 0:
            out.append(a)
        if (da >= 0) != (db >= 0):
            t = da / (da - db)
            out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
    return out


def _offset_line(pts: Sequence[tuple[float, float]], off: float) -> list[tuple[float, float]]:
    """A polyline shifted sideways by ``off`` pixels."""
    out = []
    for i, (x, y) in enumerate(pts):
        a = pts[max(0, i - 1)]
        b = pts[min(len(pts) - 1, i + 1)]
        dx, dy = b[0] - a[0], b[1] - a[1]
        L = math.hypot(dx, dy) or 1.0
        out.append((x - dy / L * off, y + dx / L * off))
    return out


def _dashes(pts: Sequence[tuple[float, float]], on: float, off: float) -> list[list[tuple[float, float]]]:
    out: list[list[tuple[float, float]]] = []
    pos, drawing = 0.0, True
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        L = math.hypot(x1 - x0, y1 - y0)
        t = 0.0
        while t < L:
            span = (on if drawing else off) - pos
            t1 = min(L, t + span)
            if drawing:
                out.append(
                    [
                        (x0 + (x1 - x0) * t / L, y0 + (y1 - y0) * t / L),
                        (x0 + (x1 - x0) * t1 / L, y0 + (y1 - y0) * t1 / L),
                    ]
                )
            pos += t1 - t
            if pos >= (on if drawing else off) - 1e-9:
                pos, drawing = 0.0, not drawing
            t = t1
    return out


def _joint(pts: Sequence[tuple[float, float]]) -> str | None:
    """Round joints (costly: a pie slice per vertex) only for short polylines."""
    return "curve" if len(pts) <= 80 else None


def _clip_runs(pts: Sequence[tuple[float, float]], n: int, margin: float) -> list[list[tuple[float, float]]]:
    """The pieces of a pixel polyline whose segments come within ``margin`` of the canvas."""
    lo, hi = -margin, n + margin
    runs: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for a, b in itertools.pairwise(pts):
        if max(a[0], b[0]) < lo or min(a[0], b[0]) > hi or max(a[1], b[1]) < lo or min(a[1], b[1]) > hi:
            if len(cur) >= 2:
                runs.append(cur)
            cur = []
            continue
        if not cur:
            cur = [a]
        cur.append(b)
    if len(cur) >= 2:
        runs.append(cur)
    return runs


def _frame_range(cv: _Canvas, fr: Sequence[float], margin: float) -> tuple[float, float, float, float]:
    """The canvas (plus margin) in a frame's (along, across) pixel coordinates, cut to the frame's extent."""
    cx, cy, ux, uy, hl, hw = fr[:6]
    a_s, b_s = [], []
    for x, y in (
        (-margin, -margin),
        (cv.n + margin, -margin),
        (cv.n + margin, cv.n + margin),
        (-margin, cv.n + margin),
    ):
        a_s.append((x - cx) * ux + (y - cy) * uy)
        b_s.append(-(x - cx) * uy + (y - cy) * ux)
    return max(-hl, min(a_s)), min(hl, max(a_s)), max(-hw, min(b_s)), min(hw, max(b_s))


def _sample_along(pts: Sequence[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    out = []
    carry = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        L = math.hypot(x1 - x0, y1 - y0)
        t = carry
        while t < L:
            out.append((x0 + (x1 - x0) * t / L, y0 + (y1 - y0) * t / L))
            t += step
        carry = t - L
    return out[:400]
