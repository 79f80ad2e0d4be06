"""Exports of a filter's matches (skyscript_viz.export and ``python -m skyscript_viz export``).

The expected rows are written down here, not read back from the index: a small root whose captions
carry commas, quotes, newlines, tabs, HTML and non-ASCII text, plus images without a footprint (bad
box, no meta) and one image in no caption CSV. The CSV is read back the way the SkyScript training
code reads it (``pandas.read_csv`` with its defaults, ``filepath`` as the image key, ``,`` separator).

(same_object / overlapping / near are tested against hand-computed answers in tests/test_index.py.)
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import shlex
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pandas as pd
import pyarrow.parquet as pq
import pytest

from skyscript_viz import Filters, ImageIndex, InvalidFilterError, TagExpr, build_index
from skyscript_viz.build import INTERNAL_COLUMNS
from skyscript_viz.cli import main as cli_main
from skyscript_viz.export import (
    EXPORT_FORMATS,
    GEOJSON_PROPERTIES,
    ExportTooLargeError,
    cli_command,
    export,
    export_bytes,
    export_download,
    geojson_chunks,
)
from skyscript_viz.state import parse_filter_args

REPO = Path(__file__).resolve().parents[1]
HEADER = "filepath,title,title_multi_objects"

# stem -> (title, title_multi_objects) replacing the tiny root's plain captions
TRICKY: dict[str, tuple[str, str]] = {
    "a100_CH_19": ('a school, "Schulhaus" & more', "line one\nline two, with a comma"),
    "a102_CH_21": ("Zürich – café ☕, 47°N", 'she said "hi", then left'),
    "w200_CH_19": ("  leading and trailing spaces  ", "tab\there; semicolon; pipe|"),
    "n300_CH_20": ("windows\r\nline ending", "backslash \\ and <script>alert(1)</script>"),
    "n1100_CH_19": ("", "#hashtag =SUM(A1) 'single'"),
    "a402_US_20": ('""', 'a "tennis" pitch,, doubled commas'),
    "w200_CH_22": ("control\x01char\x1f and 🛰 astral", 'back\\slash "q" \\n literal, \\u0041 too'),
}
# extra CH images: (stem, box, in the caption CSV, has meta)
EXTRA = [
    ("w1400_CH_19", (8.56, 47.37, 8.55, 47.38), True, True),  # west > east: invalid box, no footprint
    ("a1500_CH_20", None, True, False),  # no meta pickle: no box at all
    ("n1600_CH_21", (8.57, 47.39, 8.58, 47.40), False, True),  # in no caption CSV: no caption
]
EXTRA_CAPTIONS = {
    "w1400_CH_19": ("a bad box, still exported", 'multi, with "quotes"'),
    "a1500_CH_20": ("no meta", "no meta at all"),
}

# A GeoJSON (RFC 7946) FeatureCollection of Polygon features, as far as a schema can say it.
POSITION = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}
GEOJSON_SCHEMA = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"const": "Feature"},
                    "id": {"type": ["string", "number"]},
                    "geometry": {
                        "type": "object",
                        "required": ["type", "coordinates"],
                        "properties": {
                            "type": {"const": "Polygon"},
                            "coordinates": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "array", "minItems": 4, "items": POSITION},
                            },
                        },
                    },
                    "properties": {"type": "object", "required": list(GEOJSON_PROPERTIES)},
                },
            },
        },
    },
}


# ---- the export root --------------------------------------------------------------------------------


def _part(stem: str, tiny: list[dict[str, Any]]) -> int:
    return next((r["part"] for r in tiny if r["stem"] == stem), 2)


@pytest.fixture(scope="module")
def export_root(tmp_path_factory: pytest.TempPathFactory, tinykit: Any) -> tuple[Path, dict[str, Any]]:
    """The tiny root (folders) with tricky captions and three CH images without footprint or caption.

    Returns (root, truth) with truth[filepath] = dict(title, multi, box, source) as written.
    """
    root = tinykit.make_tiny_root(tmp_path_factory.mktemp("export") / "root", "folder")
    truth: dict[str, dict[str, Any]] = {}
    for r in tinykit.records:
        title, multi = TRICKY.get(r["stem"], (r["title"], r["multi"]))
        truth[f"images{r['part']}/{r['stem']}.jpg"] = {
            "title": title,
            "multi": multi,
            "box": r["box"],
            "source": r["stem"].split("_")[1],
            "csvs": r["csvs"],
        }
    for i, (stem, box, in_csv, has_meta) in enumerate(EXTRA):
        (root / "images2" / f"{stem}.jpg").write_bytes(tinykit.jpeg_bytes(100 + i))
        if has_meta:
            rec = {
                "box": box,
                "time": (2000 + int(stem[-2:]), 6, 1, 10, 0),
                "focus": {"building": "yes"},
                "surrounding": [],
            }
            (root / "meta2" / f"{stem}.pickle").write_bytes(tinykit.meta_bytes(rec))
        title, multi = EXTRA_CAPTIONS.get(stem, (None, None))
        valid = has_meta and box is not None and box[0] < box[2]
        truth[f"images2/{stem}.jpg"] = {
            "title": title,
            "multi": multi,
            "box": box if valid else None,
            "source": "CH",
            "csvs": "u" if in_csv else "",
        }
    # every caption CSV carries the same (tricky) captions, so no caption conflicts arise
    for code, rel in tinykit.csvs.items():
        with (root / rel).open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER.split(","))
            for fp, t in truth.items():
                if code in t["csvs"]:
                    w.writerow([fp, t["title"], t["multi"]])
    build_index(root)
    return root, truth


@pytest.fixture(scope="module")
def xindex(export_root: tuple[Path, dict[str, Any]]) -> Iterator[ImageIndex]:
    idx = ImageIndex.open(export_root[0])
    yield idx
    idx.close()


def _id_order(index: ImageIndex, f: Filters) -> list[str]:
    return list(index.page(f, order="id", limit=100_000).rows["filepath"])


def _expected_csv(truth: dict[str, Any], filepaths: list[str]) -> pd.DataFrame:
    """What pandas should read: the written captions, an empty caption read as NaN like any CSV gap."""

    def cell(v: str | None) -> object:
        return math.nan if v is None or v == "" else v

    return pd.DataFrame(
        {
            "filepath": filepaths,
            "title": [cell(truth[fp]["title"]) for fp in filepaths],
            "title_multi_objects": [cell(truth[fp]["multi"]) for fp in filepaths],
        },
        dtype=object,
    )


def _read_like_skyscript(path: Path) -> pd.DataFrame:
    """How SkyScript's training code reads a caption CSV: pandas.read_csv with the default options."""
    df = pd.read_csv(path, sep=",")
    return df.astype(object).where(df.notna(), math.nan)


CH = Filters(sources=("CH",))
TENNIS = Filters(tags=(TagExpr("sport", "tennis"),))


def test_filter_rows_are_the_hand_computed_ones(export_root: tuple[Path, dict[str, Any]], xindex: ImageIndex) -> None:
    _, truth = export_root
    assert sorted(_id_order(xindex, CH)) == sorted(fp for fp, t in truth.items() if t["source"] == "CH")
    # sport=tennis: the pitch (focus) and the cafe with a tennis pitch among its surrounding objects
    assert sorted(_id_order(xindex, TENNIS)) == ["images3/a402_US_20.jpg", "images3/n500_US_22.jpg"]


@pytest.mark.parametrize("f", [CH, TENNIS, Filters()], ids=["src=CH", "tag=sport=tennis", "all"])
def test_csv_reads_back_in_pandas_exactly(
    export_root: tuple[Path, dict[str, Any]], xindex: ImageIndex, tmp_path: Path, f: Filters
) -> None:
    _, truth = export_root
    out = tmp_path / "out.csv"
    n = export(xindex, f, out, fmt="csv")
    order = _id_order(xindex, f)
    assert n == len(order) == xindex.count(f)
    raw = out.read_bytes()
    assert raw.split(b"\n", 1)[0] == HEADER.encode()  # exactly, no BOM, no index column, no \r
    got = _read_like_skyscript(out)
    assert list(got.columns) == HEADER.split(",")
    pd.testing.assert_frame_equal(got.reset_index(drop=True), _expected_csv(truth, order))


def test_csv_round_trips_commas_quotes_and_newlines(
    export_root: tuple[Path, dict[str, Any]], xindex: ImageIndex, tmp_path: Path
) -> None:
    _, truth = export_root
    out = tmp_path / "ch.csv"
    export(xindex, CH, out, fmt="csv")
    with out.open(newline="", encoding="utf-8") as fh:
        rows = {r["filepath"]: r for r in csv.DictReader(fh)}
    for stem, (title, multi) in TRICKY.items():
        fp = next(p for p in truth if p.endswith(f"/{stem}.jpg"))
        if truth[fp]["source"] != "CH":
            continue
        assert rows[fp]["title"] == title, stem
        assert rows[fp]["title_multi_objects"] == multi, stem
    # the image in no caption CSV is exported with empty captions, not dropped
    assert (
        rows["images2/n1600_CH_21.jpg"]["title"] == "" and rows["images2/n1600_CH_21.jpg"]["title_multi_objects"] == ""
    )


def test_empty_result_is_a_header_only_csv(xindex: ImageIndex, tmp_path: Path) -> None:
    out = tmp_path / "none.csv"
    assert export(xindex, Filters(sources=("CH",), year_min=1990, year_max=1991), out, fmt="csv") == 0
    assert out.read_text(encoding="utf-8").strip() == HEADER
    assert pd.read_csv(out).empty


def _geojson(index: ImageIndex, f: Filters, tmp_path: Path) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "out.geojson"
    n = export(index, f, out, fmt="geojson")
    text = out.read_text(encoding="utf-8")

    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    return n, json.loads(text, parse_constant=no_constants), text


def _signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


@pytest.mark.parametrize("f", [CH, Filters()], ids=["src=CH", "all"])
def test_geojson_is_valid_rfc7946(
    export_root: tuple[Path, dict[str, Any]], xindex: ImageIndex, tmp_path: Path, f: Filters
) -> None:
    _, truth = export_root
    n, doc, _ = _geojson(xindex, f, tmp_path)
    jsonschema.validate(doc, GEOJSON_SCHEMA)
    feats = doc["features"]
    with_box = [fp for fp in _id_order(xindex, f) if truth[fp]["box"] is not None]
    assert n == len(feats) == len(with_box)
    # images without a footprint (invalid box, no meta) are left out, the rest kept in id order
    assert [ft["properties"]["filepath"] for ft in feats] == with_box
    for ft in feats:
        fp = ft["properties"]["filepath"]
        w, s, e, nn = truth[fp]["box"]
        (ring,) = ft["geometry"]["coordinates"]
        assert len(ring) == 5 and ring[0] == ring[-1], ring  # closed linear ring
        assert all(len(p) == 2 for p in ring)
        # positions are [longitude, latitude]: the ring's extent is the meta box
        assert min(p[0] for p in ring) == pytest.approx(w) and max(p[0] for p in ring) == pytest.approx(e)
        assert min(p[1] for p in ring) == pytest.approx(s) and max(p[1] for p in ring) == pytest.approx(nn)
        assert all(-180 <= p[0] <= 180 and -90 <= p[1] <= 90 for p in ring)
        # RFC 7946 section 3.1.6: exterior rings are counter-clockwise (positive signed area)
        assert _signed_area(ring) > 0, (fp, ring)
        props = ft["properties"]
        assert set(props) == set(GEOJSON_PROPERTIES)
        assert props["source"] == truth[fp]["source"]
        assert props["title"] == (truth[fp]["title"] or None)
        assert props["title_multi_objects"] == (truth[fp]["multi"] or None)
        assert props["width_m"] > 0 and props["height_m"] > 0


def test_geojson_keeps_text_exact(export_root: tuple[Path, dict[str, Any]], xindex: ImageIndex, tmp_path: Path) -> None:
    _, _truth = export_root
    _, doc, text = _geojson(xindex, CH, tmp_path)
    props = {ft["properties"]["filepath"]: ft["properties"] for ft in doc["features"]}
    a100 = props["images2/a100_CH_19.jpg"]
    assert a100["title_multi_objects"] == "line one\nline two, with a comma"
    assert props["images2/n300_CH_20.jpg"]["title"] == "windows\r\nline ending"
    assert props["images2/a102_CH_21.jpg"]["title"] == "Zürich – café ☕, 47°N"
    assert "Zürich" in text  # UTF-8, not \\u escapes
    assert props["images2/a100_CH_19.jpg"]["year"] == 2019 and props["images2/a100_CH_19.jpg"]["osm_id"] == 100


def test_geojson_empty_and_chunks_agree_with_file(xindex: ImageIndex, tmp_path: Path) -> None:
    empty = Filters(sources=("CH",), year_min=1990, year_max=1991)
    _, doc, _ = _geojson(xindex, empty, tmp_path)
    assert doc == {"type": "FeatureCollection", "features": []}
    counter = [0]
    text = "".join(geojson_chunks(xindex, CH, counter))
    assert text.encode() == export_bytes(xindex, CH, fmt="geojson")
    assert counter[0] == len(json.loads(text)["features"])


def test_parquet_has_every_column_and_the_same_rows(xindex: ImageIndex, tmp_path: Path) -> None:
    out = tmp_path / "ch.parquet"
    n = export(xindex, CH, out, fmt="parquet")
    # read the index's images table through a copy of its database (DuckDB refuses a second
    # connection to a file that this process already has open with another configuration)
    db = tmp_path / "index.duckdb"
    shutil.copy(xindex.gen_dir / "index.duckdb", db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        # every column but the internal ones (tag bitmasks, caption ids), which only speed up queries
        internal = ", ".join(INTERNAL_COLUMNS)
        want = con.execute(f"SELECT * EXCLUDE ({internal}) FROM images WHERE source = 'CH' ORDER BY id").df()
        columns = [r[0] for r in con.execute("DESCRIBE images").fetchall() if r[0] not in INTERNAL_COLUMNS]
    finally:
        con.close()
    got = pq.read_table(out).to_pandas()
    assert n == len(want) == len(got) == 9
    assert list(got.columns) == columns
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_export_refuses_unknown_format_and_leaves_no_file(xindex: ImageIndex, tmp_path: Path) -> None:
    with pytest.raises(InvalidFilterError, match="xlsx"):
        export(xindex, CH, tmp_path / "x.xlsx", fmt="xlsx")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_export_bytes_match_file_export(xindex: ImageIndex, tmp_path: Path) -> None:
    for fmt in EXPORT_FORMATS:
        out = tmp_path / f"f.{fmt}"
        export(xindex, CH, out, fmt=fmt)  # type: ignore[arg-type]
        assert export_bytes(xindex, CH, fmt=fmt) == out.read_bytes(), fmt  # type: ignore[arg-type]


# ---- command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(EXPORT_FORMATS))
def test_cli_writes_the_same_bytes_as_the_api(
    export_root: tuple[Path, dict[str, Any]],
    xindex: ImageIndex,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    root, _ = export_root
    out = tmp_path / f"out{EXPORT_FORMATS[fmt][1]}"
    rc = cli_main(["export", str(root), "--filter", "src=CH", "--filter", "y=2019-2021", "-o", str(out)])
    assert rc == 0
    f = Filters(sources=("CH",), year_min=2019, year_max=2021)
    api = tmp_path / f"api{EXPORT_FORMATS[fmt][1]}"
    n = export(xindex, f, api, fmt=fmt)  # type: ignore[arg-type]
    assert out.read_bytes() == api.read_bytes()
    # a100, a102, w200 (2019), n300, n1100, caption-less n1600; the rows also hold the bad-box w1400 and
    # a1500 (no meta: its year comes from the file name), which have no footprint for GeoJSON
    assert n == (6 if fmt == "geojson" else 8)
    assert f"{n:,} rows -> {out}" in capsys.readouterr().out


def test_cli_tag_filter_in_url_grammar(export_root: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = export_root
    out = tmp_path / "tennis.csv"
    assert cli_main(["export", str(root), "--filter", "tag=sport=tennis", "-o", str(out)]) == 0
    assert sorted(pd.read_csv(out)["filepath"]) == ["images3/a402_US_20.jpg", "images3/n500_US_22.jpg"]


@pytest.mark.parametrize(
    "bad",
    [
        "src=ZZ",
        "y=2021-2018",
        "m=13",
        "type=x",
        "tags=some",
        "bogus=1",
        "src",
        "sub=nope",
        "bbox=1,2,3",
        "prob=no_such_problem",
    ],
)
def test_cli_rejects_a_bad_filter_with_exit_2_and_one_line(
    export_root: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    root, _ = export_root
    out = tmp_path / "out.csv"
    assert cli_main(["export", str(root), "--filter", bad, "-o", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert bad.partition("=")[2] in lines[0] or bad.partition("=")[0] in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_exit_status_of_a_real_process(export_root: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = export_root
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "skyscript_viz",
            "export",
            str(root),
            "--filter",
            "src=ZZ",
            "-o",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "ZZ" in proc.stderr, proc.stderr
    assert not (tmp_path / "o.csv").exists()


# ---- volume: memory stays flat ------------------------------------------------------------------------


BIG = 200_000


@pytest.fixture(scope="module")
def big_index(xindex: ImageIndex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageIndex]:
    """A copy of the export root's index whose images table is blown up to 200,000 rows.

    (Building 200k rows from a generated root takes more than a minute; the exports only read the
    images table, so its rows are replicated with new ids and file paths instead.)
    """
    dst = tmp_path_factory.mktemp("big") / "index"
    dst.mkdir()
    shutil.copy(xindex.index_dir / "CURRENT", dst / "CURRENT")
    shutil.copytree(xindex.gen_dir, dst / xindex.gen_dir.name)
    con = duckdb.connect(str(dst / xindex.gen_dir.name / "index.duckdb"))
    try:
        (n,) = con.execute("SELECT count(*) FROM images").fetchone()  # type: ignore[misc]
        con.execute(f"""CREATE OR REPLACE TABLE images AS
                        SELECT b.* EXCLUDE (k) REPLACE (r.i::INTEGER AS id,
                               regexp_replace(b.filepath, '\\.jpg$', '_' || r.i || '.jpg') AS filepath)
                        FROM range({BIG}) r(i)
                        JOIN (SELECT *, row_number() OVER (ORDER BY id) - 1 AS k FROM images) b ON b.k = r.i % {n}
                        ORDER BY r.i""")
    finally:
        con.close()
    idx = ImageIndex(dst)
    yield idx
    idx.close()


def big_index_base_cx(big: ImageIndex) -> list[bool]:
    """Which of the replicated base rows (in id order) have a footprint."""
    return list(big.page(Filters(), order="id", limit=23).rows["cx"].notna())


@pytest.mark.slow
@pytest.mark.parametrize("fmt", list(EXPORT_FORMATS))
def test_200k_export_keeps_python_memory_flat(big_index: ImageIndex, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"big.{fmt}"
    tracemalloc.start()
    try:
        n = export(big_index, Filters(), out, fmt=fmt)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = out.stat().st_size
    base = big_index_base_cx(big_index)
    with_box = sum(1 for i in range(BIG) if base[i % len(base)])
    assert n == (with_box if fmt == "geojson" else BIG)
    # the rows never pass through Python objects: the traced peak is a small fraction of the file
    assert peak < min(size / 8, 4_000_000), (
        f"peak {peak / 1e6:.2f} MB of Python memory for a {size / 1e6:.1f} MB {fmt} file"
    )
    if fmt == "csv":
        df = pd.read_csv(out, usecols=["filepath"])
        assert len(df) == BIG and df["filepath"].is_unique
    elif fmt == "parquet":
        assert pq.ParquetFile(out).metadata.num_rows == BIG
    else:
        with out.open("rb") as fh:
            head = fh.read(64)
            fh.seek(-8, 2)
            tail = fh.read()
        assert head.startswith(b'{"type":"FeatureCollection","features":[{"type":"Feature","id":')
        assert tail.endswith(b"}}]}\n")


# ---- browser downloads: capped, pointing to the CLI beyond the cap ------------------------------------


def test_browser_download_under_the_caps_is_the_export(xindex: ImageIndex, tmp_path: Path) -> None:
    for fmt in EXPORT_FORMATS:
        out = tmp_path / f"f.{fmt}"
        export(xindex, CH, out, fmt=fmt)  # type: ignore[arg-type]
        assert export_download(xindex, CH, fmt=fmt) == out.read_bytes(), fmt  # type: ignore[arg-type]


def test_browser_download_refuses_too_many_rows_with_the_cli_command(
    export_root: tuple[Path, dict[str, Any]], xindex: ImageIndex
) -> None:
    f = Filters(sources=("CH",), tags=(TagExpr.parse("focus:sport=tennis"),), caption="it's")
    n = xindex.count(Filters(sources=("CH",)))
    with pytest.raises(ExportTooLargeError) as err:
        export_download(xindex, Filters(sources=("CH",)), fmt="csv", max_rows=n - 1)
    assert f"{n:,} images match" in str(err.value) and "python -m skyscript_viz export ROOT" in str(err.value)
    # the command it gives selects the same images
    words = shlex.split(cli_command(f, "geojson", "/data/Sky Script"))
    assert words[:4] == ["python", "-m", "skyscript_viz", "export"] and words[4] == "/data/Sky Script"
    assert parse_filter_args([w for i, w in enumerate(words) if i and words[i - 1] == "--filter"]) == f
    assert words[-4:] == ["--format", "geojson", "-o", "FILE.geojson"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", list(EXPORT_FORMATS))
def test_browser_download_stops_at_the_byte_cap(
    big_index: ImageIndex, fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200,000 rows under a 200 kB cap: refused, nothing kept, memory bounded by the cap, not the rows."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    tracemalloc.start()
    try:
        with pytest.raises(ExportTooLargeError, match="over 200,000 bytes"):
            export_download(big_index, Filters(), fmt=fmt, max_bytes=200_000)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, f"peak {peak / 1e6:.2f} MB"
    assert list(tmp_path.iterdir()) == []
