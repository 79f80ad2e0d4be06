"""The tiny benchmark sets: roof_shape and surface (classification) and ucmcaptions (retrieval)."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any, cast

from PIL import ImageChops

from .canvas import RGB, _Canvas, _rect, _shade, _Textures
from .osm import _Obj, _Shape
from .paint_built import _paint_building
from .paint_infra import _paint_road
from .places import _TEMPLATES
from .render import _PAINTERS, _background
from .styles import _style
from .writer import _write_csv


class _BenchWriter:
    """What the three benchmark sets share: the folder, one random stream (drawn in a fixed order: the
    demo's bytes depend on it) and 128-pixel canvases saved with the imagery's texture."""

    def __init__(self, root: Path, seed: int, tex: _Textures) -> None:
        self.bdir = root / "benchmark"
        self.seed = seed
        self.tex = tex
        self.rng = random.Random(f"skyscript-demo-bench/{seed}")

    def canvas(self, name: str, mpp: float, setting: str) -> _Canvas:
        cv = _Canvas(128, mpp, random.Random(f"{self.seed}/bench/{name}"), "CH")
        _background(cv, setting)
        return cv

    def save(self, cv: _Canvas, path: Path) -> None:
        out = ImageChops.add(cv.img, self.tex.tile(128, cv.rng), 1.0, -15)
        path.parent.mkdir(parents=True, exist_ok=True)
        out.save(path, "JPEG", quality=80)


def _write_benchmark(root: Path, seed: int, tex: _Textures) -> dict[str, Any]:
    """Tiny benchmark sets: roof_shape and surface (classification), ucmcaptions (retrieval)."""
    w = _BenchWriter(root, seed, tex)
    return {"roof_shape": _roof_shape(w), "surface": _surface(w), "ucmcaptions": _ucmcaptions(w)}


def _roof_shape(w: _BenchWriter) -> dict[str, Any]:
    """Classification by roof shape: four houses per class, seen from above."""
    roofs = ["flat", "gabled", "hipped", "pyramidal", "skillion", "dome"]
    rows = []
    for cls in roofs:
        for i in range(4):
            name = f"img/{cls}_{i:02d}.jpg"
            cv = w.canvas(name, 0.15, "urban" if i % 2 else "rural")
            ang = w.rng.random() * math.pi
            L, W = w.rng.uniform(9, 13), w.rng.uniform(6, 9)
            if cls in ("pyramidal", "dome"):
                W = L
            fr = (64.0, 64.0, math.cos(ang), math.sin(ang))
            pts = _rect(fr, -cv.m(L / 2), -cv.m(W / 2), cv.m(L / 2), cv.m(W / 2))
            o = _Obj("a", 0, {"building": "house", "roof:shape": cls}, _Shape("poly", [], L), "building")
            _paint_building(cv, o, pts, True)
            w.save(cv, w.bdir / "roof_shape" / name)
            rows.append((name, cls))
    w.rng.shuffle(rows)
    _write_csv(w.bdir / "roof_shape" / "img_txt_pairs_test.csv", ("filepath", "label"), rows)
    (w.bdir / "roof_shape" / "classnames.txt").write_text("\n".join(roofs) + "\n", encoding="utf-8")
    return {
        "task": "classification",
        "csv": "benchmark/roof_shape/img_txt_pairs_test.csv",
        "classnames": "benchmark/roof_shape/classnames.txt",
        "n": len(rows),
        "paths_relative_to": "benchmark/roof_shape",
    }


def _surface(w: _BenchWriter) -> dict[str, Any]:
    """Classification by road surface: four roads per class, the loose surfaces speckled."""
    surfaces = ["asphalt", "concrete", "paving_stones", "gravel", "unpaved"]
    rows = []
    for cls in surfaces:
        for i in range(4):
            name = f"img/{cls}_{i:02d}.jpg"
            cv = w.canvas(name, 0.1, "rural")
            ang = w.rng.random() * math.pi
            pts = [
                cv.px(-40 * math.cos(ang), -40 * math.sin(ang)),
                cv.px(40 * math.cos(ang), 40 * math.sin(ang)),
            ]
            o = _Obj("w", 0, {"highway": "residential", "surface": cls}, _Shape("line", [], 80, 7.0), "road")
            _paint_road(cv, o, pts, True)
            if cls in ("paving_stones", "gravel", "unpaved"):
                lay, ld = cv.layer((0, 0, 0))
                lay.paste(cv.img)
                for _ in range(900):
                    x, y = cv.rng.uniform(0, 128), cv.rng.uniform(0, 128)
                    c = cast(RGB, cv.img.getpixel((int(x), int(y))))
                    ld.point((x, y), fill=_shade(c, cv.rng.uniform(0.8, 1.2)))
                cv.img.paste(lay)
            w.save(cv, w.bdir / "surface" / name)
            rows.append((name, cls))
    w.rng.shuffle(rows)
    _write_csv(w.bdir / "surface" / "img_txt_pairs_test.csv", ("filepath", "label"), rows)
    (w.bdir / "surface" / "classnames.txt").write_text("\n".join(surfaces) + "\n", encoding="utf-8")
    return {
        "task": "classification",
        "csv": "benchmark/surface/img_txt_pairs_test.csv",
        "classnames": "benchmark/surface/classnames.txt",
        "n": len(rows),
        "paths_relative_to": "benchmark/surface",
    }


# ucmcaptions (retrieval): scenes with three captions each
_UCM_SCENES: list[tuple[str, dict[str, str], str, str, list[str]]] = [
    (
        "agricultural",
        {"landuse": "farmland", "crop": "wheat"},
        "a",
        "rural",
        [
            "There are many pieces of farmland.",
            "Some farmlands with different colours are neatly arranged.",
            "Many rectangular fields are next to each other.",
        ],
    ),
    (
        "forest",
        {"landuse": "forest", "leaf_type": "needleleaved"},
        "a",
        "rural",
        [
            "Lots of trees form a dense forest.",
            "It is a piece of dark green forest.",
            "Many green trees are close together.",
        ],
    ),
    (
        "river",
        {"waterway": "river"},
        "w",
        "rural",
        [
            "A river runs through the green land.",
            "There is a winding river with grass on both sides.",
            "The dark river curves across the image.",
        ],
    ),
    (
        "freeway",
        {"highway": "motorway", "lanes": "3"},
        "w",
        "rural",
        [
            "A straight freeway crosses the land.",
            "There is a wide road with white lines.",
            "A freeway goes through the green area.",
        ],
    ),
    (
        "parkinglot",
        {"amenity": "parking"},
        "a",
        "urban",
        [
            "Many cars are parked in the parking lot.",
            "Lots of cars are in rows in a parking lot.",
            "There are cars of different colours in the parking lot.",
        ],
    ),
    (
        "tenniscourt",
        {"leisure": "pitch", "sport": "tennis", "surface": "hard"},
        "a",
        "urban",
        [
            "There is a tennis court with white lines.",
            "A blue tennis court is surrounded by green.",
            "A tennis court is next to some buildings.",
        ],
    ),
    (
        "runway",
        {"aeroway": "runway"},
        "w",
        "rural",
        [
            "A long runway with white markings.",
            "There is a straight runway beside the grass.",
            "An airport runway crosses the image.",
        ],
    ),
    (
        "storagetanks",
        {"man_made": "storage_tank"},
        "a",
        "urban",
        [
            "There are some white storage tanks.",
            "Several round storage tanks are close together.",
            "Many circular tanks are in the industrial area.",
        ],
    ),
]


def _ucmcaptions(w: _BenchWriter) -> dict[str, Any]:
    """Retrieval: one scene per class with three captions each."""
    planner_rng = random.Random(f"{w.seed}/bench/ucm")
    rows_c = []
    for cls, tags, t, setting, caps in _UCM_SCENES:
        name = f"img/{cls}00.jpg"
        mpp = 0.3 if cls not in ("agricultural", "forest", "river", "runway", "freeway") else 1.0
        cv = w.canvas(name, mpp, setting)
        half = 64 * mpp
        tpl = next(
            (tp for tp in _TEMPLATES if tp[1].items() <= {**tags}.items() or tags.items() <= tp[1].items()),
            None,
        )
        lo_hi = tpl[2] if tpl else (20.0, 40.0)
        if t == "w":
            ang = planner_rng.random() * math.pi
            xs = [(-half * 3 + k * half / 4) for k in range(25)]
            amp = half * 0.3 if cls == "river" else 0.0
            line = [
                (
                    x * math.cos(ang) - amp * math.sin(x / half * 2.5) * math.sin(ang),
                    x * math.sin(ang) + amp * math.sin(x / half * 2.5) * math.cos(ang),
                )
                for x in xs
            ]
            shape = _Shape("line", line, half * 6, planner_rng.uniform(*lo_hi))
        else:
            size = half * 1.6 if cls != "storagetanks" else 14.0
            if cls == "tenniscourt":
                size = 36.0
            L, W = size, size * (0.5 if cls == "tenniscourt" else 0.8)
            shape = _Shape("poly", _rect((0.0, 0.0, 1.0, 0.0), -L / 2, -W / 2, L / 2, W / 2), L)
        o = _Obj(t, 0, tags, shape, _style(t, tags))
        offsets = [(0.0, 0.0)] if cls != "storagetanks" else [(-12, -10), (10, -8), (-8, 12), (14, 14), (0, 0)]
        for dx, dy in offsets:
            pts = [cv.px(dx + x, dy + y) for x, y in shape.pts]
            _PAINTERS[o.style](cv, o, pts, True)
        w.save(cv, w.bdir / "ucmcaptions" / name)
        rows_c += [(name, c) for c in caps]
    _write_csv(w.bdir / "ucmcaptions" / "img_txt_pairs_test.csv", ("filepath", "title"), rows_c)
    return {
        "task": "retrieval",
        "csv": "benchmark/ucmcaptions/img_txt_pairs_test.csv",
        "n": len(rows_c),
        "paths_relative_to": "benchmark/ucmcaptions",
    }
