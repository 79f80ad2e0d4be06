"""The committed OSM sample and the small records the planner builds from it.

Owns the data file path, its parsing (once per process) and the metre/degree helpers that place objects.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "osm_helsinki_sample.json.gz"


_M_PER_DEG = 111_320.0


@dataclass
class _Shape:
    kind: str  # "poly" | "line" | "point"
    pts: list[tuple[float, float]]  # metres east/north of the object's anchor
    size: float  # largest extent in metres (for ways from templates: the length of the line)
    width: float = 0.0  # for lines: nominal width in metres (0 = from tags)


@dataclass
class _Obj:
    t: str
    oid: int
    tags: dict[str, str]
    shape: _Shape
    style: str


@dataclass
class _Placed:
    obj: _Obj
    dx: float  # metres east of the site anchor
    dy: float  # metres north of the site anchor


@dataclass
class _Site:
    focus: _Obj
    lon: float
    lat: float
    setting: str  # "urban" | "rural"
    around: list[_Placed]
    src: str


@dataclass
class _Img:
    stem: str
    src: str
    year: int
    site: _Site
    time: tuple[int, int, int, int, int]
    cx: float  # image centre, metres east of the site anchor
    cy: float
    part: int = 2
    split: str = "train"
    fault: str | None = None
    variant: int = 0
    dup_of: _Img | None = None
    title: str = ""
    multi: str = ""
    center_tags: dict[str, str] = field(default_factory=dict)
    surrounding: list[_Placed] = field(default_factory=list)
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    s_openai: float = 0.0
    s_laion: float = 0.0
    raster: str = "CH"  # source whose resolution/footprint the image uses
    write_image: bool = True
    write_meta: bool = True
    in_csv: bool = True

    @property
    def image_path(self) -> str:
        return f"images{self.part}/{self.stem}.jpg"

    @property
    def meta_path(self) -> str:
        return f"meta{self.part}/{self.stem}.pickle"


@functools.lru_cache(maxsize=1)
def _load_osm() -> tuple[dict[str, Any], ...]:
    """The committed OSM sample (objects only), parsed once per process."""
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    return tuple(doc["objects"])


def _rec_shape(rec: dict[str, Any]) -> _Shape:
    g = rec.get("g") or []
    pts = [(g[i] / 10.0, g[i + 1] / 10.0) for i in range(0, len(g) - 1, 2)]
    size = max(float(rec.get("w", 0.0)), float(rec.get("h", 0.0)))
    if rec["t"] == "a" and len(pts) >= 3:
        return _Shape("poly", pts, size)
    if rec["t"] == "w" and len(pts) >= 2:
        return _Shape("line", pts, size)
    return _Shape("point", [(0.0, 0.0)], 0.0)


def _local(lon: float, lat: float, lon0: float, lat0: float) -> tuple[float, float]:
    return (lon - lon0) * _M_PER_DEG * math.cos(math.radians(lat0)), (lat - lat0) * _M_PER_DEG


def _offset(lon: float, lat: float, dx: float, dy: float) -> tuple[float, float]:
    return lon + dx / (_M_PER_DEG * math.cos(math.radians(lat))), lat + dy / _M_PER_DEG
