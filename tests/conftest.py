"""Shared fixtures for the library tests.

Dataset fixtures:

* ``make_tiny_root(path, layout="mixed")`` writes a 20-image SkyScript root from the hand-written
  records in ``TINY_RECORDS`` (boxes, sources, years, months, tags and caption-CSV memberships all
  chosen so that expected counts can be worked out by hand in the tests). ``layout`` is ``"folder"``
  (every part unzipped), ``"zip"`` (every part zipped) or ``"mixed"``: part 2 as folders, part 3 as
  ``images3.zip`` (members under ``images3/``) + ``meta3.zip`` (members without prefix), part 4 as
  ``images4.zip`` (members without prefix) + a ``meta4/`` folder. The root is clean: no problems.
* ``tiny_root`` / ``tiny_index`` (session): the mixed tiny root, built, and an ImageIndex on it.
  ``tinykit`` hands the builder and helpers to tests that need their own copy to damage.
* ``demo_small`` / ``index_small`` (session): ``skyscript_viz.demo.generate(n_objects=40)``, built,
  and an ImageIndex on it.

Database fixture:

* ``pg`` (session): a real PostgreSQL server (tests/pgserver.py: Debian's initdb + pg_ctl in a temp
  folder, on a free port); ``pg.create(name)`` makes a fresh database and returns its URL.
"""

from __future__ import annotations

import csv
import io
import pickle
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

# (part, stem, box, time, focus tags, surrounding objects, title, title_multi_objects, caption CSVs)
# CSVs: "u" = SkyScript_train_unfiltered_5M.csv (root), "t" = top30 OpenAI, "v" = val 5K (dataframe/).
TINY_RECORDS: list[dict[str, Any]] = [
    dict(
        part=2,
        stem="a100_CH_19",
        box=(8.54, 47.37, 8.55, 47.38),
        time=(2019, 6, 15, 10, 30),
        focus={"building": "yes", "amenity": "school"},
        surrounding=[{"highway": "residential", "name": "Bahnhofstrasse"}, {"leisure": "park"}],
        title="a school building",
        multi="a school building next to a park",
        csvs="ut",
    ),
    dict(
        part=2,
        stem="a102_CH_21",
        box=(8.545, 47.375, 8.555, 47.385),
        time=(2021, 7, 1, 11, 0),
        focus={"building": "church"},
        surrounding=[{"highway": "primary"}],
        title="a church",
        multi="a church near a primary road",
        csvs="u",
    ),
    dict(
        part=2,
        stem="w200_CH_19",
        box=(7.44, 46.94, 7.45, 46.95),
        time=(2019, 8, 2, 9, 15),
        focus={"highway": "primary", "surface": "asphalt"},
        surrounding=[],
        title="a primary road",
        multi="a primary road with asphalt surface",
        csvs="uv",
    ),
    dict(
        part=2,
        stem="n300_CH_20",
        box=(7.446, 46.946, 7.447, 46.947),
        time=(2020, 6, 3, 12, 0),
        focus={"amenity": "cafe"},
        surrounding=[{"building": "yes"}],
        title="a cafe",
        multi="a cafe among buildings",
        csvs="u",
    ),
    dict(
        part=2,
        stem="w200_CH_22",
        box=(7.44, 46.94, 7.45, 46.95),
        time=(2022, 5, 20, 10, 0),
        focus={"highway": "primary", "surface": "asphalt"},
        surrounding=[],
        title="a primary road",
        multi="a primary road seen again",
        csvs="u",
    ),
    dict(
        part=2,
        stem="n1100_CH_19",
        box=(8.548, 47.378, 8.549, 47.379),
        time=(2019, 6, 15, 10, 30),
        focus={"amenity": "cafe"},
        surrounding=[],
        title="a cafe",
        multi="a small cafe",
        csvs="u",
    ),
    dict(
        part=3,
        stem="a400_US_18",
        box=(-122.42, 37.77, -122.41, 37.78),
        time=(2018, 5, 1, 18, 0),
        focus={"leisure": "park"},
        surrounding=[{"highway": "residential"}, {"building": "yes"}, {"amenity": "cafe"}],
        title="a park",
        multi="a park with a cafe and residential roads",
        csvs="ut",
    ),
    dict(
        part=3,
        stem="a402_US_20",
        box=(-73.97, 40.77, -73.96, 40.78),
        time=(2020, 9, 9, 15, 0),
        focus={"leisure": "pitch", "sport": "tennis"},
        surrounding=[{"leisure": "park"}],
        title="a tennis pitch",
        multi="a tennis pitch beside a park",
        csvs="ut",
    ),
    dict(
        part=3,
        stem="n500_US_22",
        box=(-73.965, 40.775, -73.964, 40.776),
        time=(2022, 9, 1, 16, 0),
        focus={"amenity": "cafe", "cuisine": "coffee_shop"},
        surrounding=[{"leisure": "pitch", "sport": "tennis"}],
        title="a coffee shop",
        multi="a coffee shop next to a tennis pitch",
        csvs="u",
    ),
    dict(
        part=3,
        stem="w600_US_16",
        box=(-87.63, 41.88, -87.62, 41.89),
        time=(2016, 3, 30, 14, 0),
        focus={"highway": "residential"},
        surrounding=[],
        title="a residential road",
        multi="a residential road in a city",
        csvs="uv",
    ),
    dict(
        part=3,
        stem="w602_S2_21",
        box=(-100.0, 40.0, -99.9, 40.1),
        time=(2021, 12, 24, 17, 0),
        focus={"landuse": "farmland"},
        surrounding=[],
        title="farmland",
        multi="farmland in the plains",
        csvs="u",
    ),
    dict(
        part=3,
        stem="a700_S2_17",
        box=(179.9, -17.0, 179.99, -16.9),
        time=(2017, 1, 5, 22, 0),
        focus={"natural": "beach"},
        surrounding=[],
        title="a beach",
        multi="a beach on an island",
        csvs="u",
    ),
    dict(
        part=3,
        stem="a702_S2_17",
        box=(-179.99, -16.9, -179.9, -16.8),
        time=(2017, 2, 6, 22, 0),
        focus={"natural": "water", "water": "lake"},
        surrounding=[],
        title="a lake",
        multi="a lake near the antimeridian",
        csvs="u",
    ),
    dict(
        part=3,
        stem="a1200_US_18",
        box=(-122.415, 37.775, -122.414, 37.776),
        time=(2018, 5, 1, 18, 5),
        focus={"building": "yes"},
        surrounding=[],
        title="a building",
        multi="a building in a park",
        csvs="u",
    ),
    dict(
        part=4,
        stem="a800_DE_20",
        box=(13.4, 52.51, 13.41, 52.52),
        time=(2020, 4, 12, 10, 0),
        focus={"building": "yes", "roof:shape": "flat"},
        surrounding=[{"highway": "residential"}],
        title="a flat-roofed building",
        multi="a flat-roofed building by a road",
        csvs="ut",
    ),
    dict(
        part=4,
        stem="a802_DE_20",
        box=(13.405, 52.515, 13.415, 52.525),
        time=(2020, 4, 12, 10, 5),
        focus={"building": "apartments"},
        surrounding=[{"building": "yes"}],
        title="apartments",
        multi="apartments next to a building",
        csvs="u",
    ),
    dict(
        part=4,
        stem="n900_DE_21",
        box=(13.3, 52.4, 13.301, 52.401),
        time=(2021, 5, 5, 9, 0),
        focus={"amenity": "school"},
        surrounding=[],
        title="a school",
        multi="a school alone",
        csvs="uv",
    ),
    dict(
        part=4,
        stem="w1000_FI_19",
        box=(24.93, 60.16, 24.94, 60.17),
        time=(2019, 7, 7, 12, 0),
        focus={"building": "yes"},
        surrounding=[{"leisure": "park"}],
        title="a building",
        multi="a building near a park",
        csvs="u",
    ),
    dict(
        part=4,
        stem="a1002_ES_22",
        box=(-3.7, 40.41, -3.69, 40.42),
        time=(2022, 8, 8, 11, 0),
        focus={"leisure": "park", "name": "Retiro"},
        surrounding=[{"amenity": "cafe"}, {"highway": "primary"}],
        title="Retiro park",
        multi="Retiro park with a cafe and a primary road",
        csvs="ut",
    ),
    dict(
        part=4,
        stem="w1300_L8_16",
        box=(10.0, 0.0, 10.1, 0.1),
        time=(2016, 11, 11, 10, 0),
        focus={"natural": "water"},
        surrounding=[],
        title="water",
        multi="open water",
        csvs="u",
    ),
]

TINY_CSVS = {
    "u": "SkyScript_train_unfiltered_5M.csv",
    "t": "dataframe/SkyScript_train_top30pct_filtered_by_CLIP_openai.csv",
    "v": "dataframe/SkyScript_val_5K_filtered_by_CLIP_openai.csv",
}

# How each part is stored per layout: (images store, meta store); "zip/" = zip with "imagesN/" prefix.
_LAYOUTS = {
    "folder": {2: ("folder", "folder"), 3: ("folder", "folder"), 4: ("folder", "folder")},
    "zip": {2: ("zip/", "zip"), 3: ("zip/", "zip"), 4: ("zip", "zip/")},
    "mixed": {2: ("folder", "folder"), 3: ("zip/", "zip"), 4: ("zip", "folder")},
}


def jpeg_bytes(seed: int, size: int = 16) -> bytes:
    """A small, valid JPEG whose bytes differ per seed."""
    img = Image.new("RGB", (size, size), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    img.putpixel((seed % size, (seed // size) % size), (255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def meta_bytes(rec: dict[str, Any]) -> bytes:
    meta = {"box": rec["box"], "time": rec["time"], "center_tags": rec["focus"], "surrounding_tags": rec["surrounding"]}
    return pickle.dumps(meta, protocol=4)


def write_store(path: Path, kind: str, files: dict[str, bytes]) -> None:
    """Write ``files`` (name -> bytes) as a folder, a zip (``zip``) or a prefixed zip (``zip/``)."""
    if kind == "folder":
        path.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (path / name).write_bytes(data)
        return
    prefix = path.name + "/" if kind == "zip/" else ""
    with zipfile.ZipFile(path.with_name(path.name + ".zip"), "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(prefix + name, data)


def make_tiny_root(path: Path, layout: str = "mixed") -> Path:
    """Write the 20 TINY_RECORDS as a SkyScript root under ``path`` and return it."""
    path.mkdir(parents=True, exist_ok=True)
    for part, (img_kind, meta_kind) in _LAYOUTS[layout].items():
        recs = [(i, r) for i, r in enumerate(TINY_RECORDS) if r["part"] == part]
        write_store(path / f"images{part}", img_kind, {r["stem"] + ".jpg": jpeg_bytes(i) for i, r in recs})
        write_store(path / f"meta{part}", meta_kind, {r["stem"] + ".pickle": meta_bytes(r) for _, r in recs})
    for code, rel in TINY_CSVS.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["filepath", "title", "title_multi_objects"])
            for r in TINY_RECORDS:
                if code in r["csvs"]:
                    w.writerow([f"images{r['part']}/{r['stem']}.jpg", r["title"], r["multi"]])
    return path


@pytest.fixture(scope="session")
def tinykit() -> SimpleNamespace:
    """The tiny-root builder and its parts, for tests that write their own (damaged) roots.

    A fixture rather than ``from conftest import …``: tests/e2e has a conftest.py too.
    """
    return SimpleNamespace(
        make_tiny_root=make_tiny_root,
        jpeg_bytes=jpeg_bytes,
        meta_bytes=meta_bytes,
        write_store=write_store,
        records=TINY_RECORDS,
        csvs=TINY_CSVS,
    )


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skyscript_viz import build_index

    root = make_tiny_root(tmp_path_factory.mktemp("tiny") / "root", "mixed")
    build_index(root)
    return root


@pytest.fixture(scope="session")
def tiny_index(tiny_root: Path) -> Iterator[Any]:
    from skyscript_viz import ImageIndex

    idx = ImageIndex.open(tiny_root)
    yield idx
    idx.close()


@pytest.fixture(scope="session")
def demo_small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """(root, DemoManifest) of a 40-object generated demo root, already indexed."""
    from skyscript_viz import build_index
    from skyscript_viz.demo import generate

    root = tmp_path_factory.mktemp("demo") / "root"
    manifest = generate(root, n_objects=40, seed=0)
    build_index(root)
    return root, manifest


@pytest.fixture(scope="session")
def index_small(demo_small: tuple[Path, Any]) -> Iterator[Any]:
    from skyscript_viz import ImageIndex

    idx = ImageIndex.open(demo_small[0])
    yield idx
    idx.close()


@pytest.fixture(scope="session")
def pg() -> Iterator[Any]:
    """A PostgreSQL server for the whole session, torn down at the end."""
    import os

    from tests.pgserver import PgServer, find_bindir

    if find_bindir() is None:  # like the browser: required in CI, skipped on a laptop without it
        msg = "PostgreSQL not installed: `apt-get install postgresql` (make test does it as root)"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    server = PgServer().start()
    yield server
    from skyscript_viz.reviewdb import dispose_all

    dispose_all()  # close pooled connections before the server goes
    server.stop()
