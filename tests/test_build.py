"""Building the index: reports, every problem kind, nothing dropped, incremental and interrupted builds."""

from __future__ import annotations

import json
import math
import os
import pickle
import signal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import skyscript_viz.build as build_mod
from skyscript_viz import (
    PROBLEM_HELP,
    Filters,
    ImageIndex,
    IndexBuildError,
    IndexNotFoundError,
    ProblemKind,
    build_index,
    default_index_dir,
)

REPO = Path(__file__).resolve().parents[1]

TINY_PER_SOURCE_YEAR = [
    ("CH", 2019, 3),
    ("CH", 2020, 1),
    ("CH", 2021, 1),
    ("CH", 2022, 1),
    ("DE", 2020, 2),
    ("DE", 2021, 1),
    ("ES", 2022, 1),
    ("FI", 2019, 1),
    ("L8", 2016, 1),
    ("S2", 2017, 2),
    ("S2", 2021, 1),
    ("US", 2016, 1),
    ("US", 2018, 2),
    ("US", 2020, 1),
    ("US", 2022, 1),
]


def _meta(box: Any = (8.0, 47.0, 8.01, 47.01), time: Any = (2019, 1, 1, 0, 0), **extra: Any) -> bytes:
    return pickle.dumps(
        {"box": box, "time": time, "center_tags": {"building": "yes"}, "surrounding_tags": [], **extra}, protocol=4
    )


def _problem_set(idx: ImageIndex) -> set[tuple[str | None, str]]:
    df = idx.problems(limit=10_000)
    return {
        (None if not isinstance(fp, str) else fp, kind) for fp, kind in zip(df["filepath"], df["kind"], strict=True)
    }


def _open(root: Path) -> ImageIndex:
    return ImageIndex.open(root)


# --------------------------------------------------------------------------------------------------
# A clean root


def test_clean_root_report(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    seen: list[tuple[int, int, int]] = []
    report = build_index(root, progress=lambda *a: seen.append(a))
    assert report.index_dir == root.resolve() / ".skyscript_viz"
    assert not report.up_to_date
    assert report.parts_read == [2, 3, 4]
    assert report.parts_reused == []
    assert report.n_images == 20
    assert report.per_source_year == TINY_PER_SOURCE_YEAR
    assert report.problems_by_kind == {}
    assert report.notes == []
    assert report.rate > 0
    assert {(p, d, t) for p, d, t in seen if d == t} == {(2, 6, 6), (3, 8, 8), (4, 6, 6)}
    info = json.loads((report.index_dir / "CURRENT").read_text())
    assert info["generation"] == report.generation
    assert info["n_images"] == 20
    assert (report.index_dir / report.generation / "index.duckdb").is_file()


def test_opening_before_building(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    with pytest.raises(IndexNotFoundError, match="python -m skyscript_viz index"):
        ImageIndex.open(root)


# --------------------------------------------------------------------------------------------------
# Every problem kind


CSV_HEADER = "filepath,title,title_multi_objects\n"
FAULTS_A = [
    "images2/a5000_CH_19.jpg,a building,a building alone",  # missing_meta, but captioned
    "images2/a5002_CH_19.jpg,a building,x",
    "images2/a5003_CH_19.jpg,a building,x",
    "images2/badname.jpg,a building,x",
    "images2/a5004_XX_19.jpg,a building,x",
    "images2/a5005_CH_19.jpg,a building,x",
    "images2/a5006_CH_19.jpg,a building,x",
    "images2/a5008_CH_19.jpg,a building,first caption",
    "images2/a5999_CH_19.jpg,a building,x",  # csv_row_without_image
    "../outside.jpg,a building,x",  # path_escape
    "/etc/passwd,a building,x",  # path_escape (absolute)
    "images2/../../escape.jpg,a building,x",  # path_escape (.. in the middle)
    "images2/a5000_CH_19.jpg,only two",  # bad_csv_row: 2 columns (line 14)
    ",a building,empty path",  # bad_csv_row: empty file path
    "images2/a5000_CH_19.jpg,a,b,c,d",  # bad_csv_row: 5 columns (line 16)
    "./images2/a5007_CH_19.jpg,,",  # "./" is normalised: a5007 *is* captioned (empty caption)
    "images2/a5010_CH_19.jpg,a lake,a lake in the hills",  # caption_misses_tag: focus is building=yes
]
FAULTS_B = ["images2/a5008_CH_19.jpg,a building,second caption"]  # duplicate_caption_conflict


def _write_faults(root: Path, tinykit: Any, trap: Path) -> None:
    i2, m2 = root / "images2", root / "meta2"
    jpg = tinykit.jpeg_bytes
    (i2 / "a5000_CH_19.jpg").write_bytes(jpg(100))  # missing_meta
    (m2 / "a5001_CH_19.pickle").write_bytes(_meta())  # missing_image
    (i2 / "a5002_CH_19.jpg").write_bytes(jpg(102))
    (m2 / "a5002_CH_19.pickle").write_bytes(b"\x80\x04garbage")  # corrupt_meta
    (i2 / "a5003_CH_19.jpg").write_bytes(jpg(103))
    (m2 / "a5003_CH_19.pickle").write_bytes(f"cos\nsystem\n(Vtouch {trap}\ntR.".encode())  # unsafe_meta
    (i2 / "badname.jpg").write_bytes(jpg(104))
    (m2 / "badname.pickle").write_bytes(_meta())  # bad_name
    (i2 / "a5004_XX_19.jpg").write_bytes(jpg(105))
    (m2 / "a5004_XX_19.pickle").write_bytes(_meta())  # unknown_source
    (i2 / "a5005_CH_19.jpg").write_bytes(jpg(106))
    (m2 / "a5005_CH_19.pickle").write_bytes(_meta(box=(10.0, 50.0, 5.0, 40.0)))  # invalid_box
    (i2 / "a5006_CH_19.jpg").write_bytes(jpg(107))
    (m2 / "a5006_CH_19.pickle").write_bytes(_meta(time=(2020, 1, 1, 0, 0)))  # year_mismatch
    (i2 / "a5007_CH_19.jpg").write_bytes(jpg(108))
    (m2 / "a5007_CH_19.pickle").write_bytes(_meta())
    (i2 / "a5009_CH_19.jpg").write_bytes(jpg(109))  # image_without_csv_row
    (m2 / "a5009_CH_19.pickle").write_bytes(_meta())
    (i2 / "a5008_CH_19.jpg").write_bytes(jpg(110))
    (m2 / "a5008_CH_19.pickle").write_bytes(_meta())
    (i2 / "a5010_CH_19.jpg").write_bytes(jpg(112))
    (m2 / "a5010_CH_19.pickle").write_bytes(_meta())
    (i2 / "readme.txt").write_text("x")  # unexpected_file
    (m2 / "notes.md").write_text("x")  # unexpected_file
    (i2 / ".DS_Store").write_bytes(b"x")  # hidden files are not reported
    with zipfile.ZipFile(root / "images3.zip", "a") as zf:
        zf.writestr("a400_US_18.jpg", jpg(111))  # duplicate_file: also present as images3/a400_US_18.jpg
        zf.writestr("images3/info.txt", "x")  # unexpected_file inside a zip
    (root / "faults_a.csv").write_text(CSV_HEADER + "\n".join(FAULTS_A) + "\n")
    (root / "faults_b.csv").write_text(CSV_HEADER + "\n".join(FAULTS_B) + "\n")


EXPECTED_PROBLEMS = {
    ("images2/a5000_CH_19.jpg", "missing_meta"),
    ("images2/a5001_CH_19.jpg", "missing_image"),
    ("images2/a5002_CH_19.jpg", "corrupt_meta"),
    ("images2/a5003_CH_19.jpg", "unsafe_meta"),
    ("images2/badname.jpg", "bad_name"),
    ("images2/a5004_XX_19.jpg", "unknown_source"),
    ("images2/a5005_CH_19.jpg", "invalid_box"),
    ("images2/a5006_CH_19.jpg", "year_mismatch"),
    ("images2/a5999_CH_19.jpg", "csv_row_without_image"),
    ("images2/a5009_CH_19.jpg", "image_without_csv_row"),
    ("../outside.jpg", "path_escape"),
    ("/etc/passwd", "path_escape"),
    ("images2/../../escape.jpg", "path_escape"),
    ("images2/a5008_CH_19.jpg", "duplicate_caption_conflict"),
    ("images2/a5010_CH_19.jpg", "caption_misses_tag"),
    (None, "bad_csv_row"),  # two rows with the wrong column count (no trustworthy file path)
    ("", "bad_csv_row"),  # the empty file path
    ("images3/a400_US_18.jpg", "duplicate_file"),
    ("images2/readme.txt", "unexpected_file"),
    ("meta2/notes.md", "unexpected_file"),
    ("images3.zip/images3/info.txt", "unexpected_file"),
}


@pytest.fixture(scope="module")
def faulty_root(tmp_path_factory: pytest.TempPathFactory, tinykit: Any) -> tuple[Path, Path, Any]:
    """(root, trap file, report) of the tiny root with one planted fault of every kind, built."""
    base = tmp_path_factory.mktemp("faulty")
    root = tinykit.make_tiny_root(base / "root", "mixed")
    trap = base / "pwned"
    _write_faults(root, tinykit, trap)
    report = build_index(root)
    return root, trap, report


def test_every_problem_kind_is_flagged_exactly(faulty_root: tuple[Path, Path, Any]) -> None:
    root, trap, report = faulty_root
    idx = _open(root)
    try:
        assert _problem_set(idx) == EXPECTED_PROBLEMS
        assert report.problems_by_kind == {
            "bad_csv_row": 3,
            "bad_name": 1,
            "caption_misses_tag": 1,
            "corrupt_meta": 1,
            "csv_row_without_image": 1,
            "duplicate_caption_conflict": 1,
            "duplicate_file": 1,
            "image_without_csv_row": 1,
            "invalid_box": 1,
            "missing_image": 1,
            "missing_meta": 1,
            "path_escape": 3,
            "unexpected_file": 3,
            "unknown_source": 1,
            "unsafe_meta": 1,
            "year_mismatch": 1,
        }
        assert idx.problem_counts() == report.problems_by_kind
        bad_rows = idx.problems(kind="bad_csv_row")
        details = sorted(bad_rows["detail"])
        assert details[0].startswith("faults_a.csv line 14: Expected Number of Columns: 3 Found: 2")
        assert details[1].startswith("faults_a.csv line 16: Expected Number of Columns: 3 Found: 5")
        assert details[2] == "faults_a.csv: empty filepath"
        assert not trap.exists()
    finally:
        idx.close()


def test_every_kind_has_help_and_only_known_kinds_are_stored(faulty_root: tuple[Path, Path, Any]) -> None:
    assert set(PROBLEM_HELP) == {k.value for k in ProblemKind}
    assert all(text.endswith(".") for text in PROBLEM_HELP.values())
    idx = _open(faulty_root[0])
    try:
        assert set(idx.problem_counts()) <= set(PROBLEM_HELP)
    finally:
        idx.close()


def test_problem_rows_point_to_their_images(faulty_root: tuple[Path, Path, Any]) -> None:
    root, _, _ = faulty_root
    idx = _open(root)
    try:
        probs = idx.problems(limit=1000)
        with_image = probs[probs["id"].notna()]
        for image_id, fp in zip(with_image["id"], with_image["filepath"], strict=True):
            assert idx.get(int(image_id)).filepath == fp  # type: ignore[union-attr]
        # paths that are not images of the dataset have no id and no images row
        for fp in ("../outside.jpg", "/etc/passwd", "images2/a5999_CH_19.jpg", "images2/readme.txt"):
            assert idx.get(fp) is None
        rec = idx.get("images2/a5006_CH_19.jpg")
        assert rec is not None and [p["kind"] for p in rec.problems] == ["year_mismatch"]
        assert rec.row["year"] == 2020 and rec.row["name_year"] == 2019 and rec.row["n_problems"] == 1
        assert idx.count(Filters(problems=("any",))) == 12  # 11 in images2/, a400_US_18 duplicated
        assert idx.count(Filters(problems=("missing_meta", "missing_image"))) == 2
        # the caption CSV listing "./images2/a5007_CH_19.jpg" does caption a5007
        assert idx.get("images2/a5007_CH_19.jpg").row["subsets"] != 0  # type: ignore[union-attr]
        # the first CSV in priority order gives the caption of a conflicting image
        conflict = idx.get("images2/a5008_CH_19.jpg")
        assert conflict is not None and conflict.row["title_multi_objects"] == "first caption"
    finally:
        idx.close()


def test_records_with_problems_keep_what_is_known(faulty_root: tuple[Path, Path, Any]) -> None:
    root, _, _ = faulty_root
    idx = _open(root)
    try:
        missing_meta = idx.get("images2/a5000_CH_19.jpg")
        assert missing_meta is not None
        row = missing_meta.row
        assert (row["has_image"], row["has_meta"], row["year"], row["source"], row["cx"]) == (
            True,
            False,
            2019,
            "CH",
            None,
        )
        missing_image = idx.get("images2/a5001_CH_19.jpg")
        assert missing_image is not None
        assert (missing_image.row["has_image"], missing_image.row["has_meta"]) == (False, True)
        assert missing_image.focus_tags == {"building": "yes"}
        assert missing_image.row["cx"] == pytest.approx(8.005)
        bad_box = idx.get("images2/a5005_CH_19.jpg")
        assert bad_box is not None and bad_box.row["box_valid"] is False and bad_box.row["cx"] is None
        bad_name = idx.get("images2/badname.jpg")
        assert bad_name is not None and bad_name.row["source"] is None and bad_name.row["osm_id"] is None
    finally:
        idx.close()


def test_nothing_is_dropped(faulty_root: tuple[Path, Path, Any]) -> None:
    """Every .jpg/.pickle of every part is an images row; every other visible file is a problem row."""
    root, _, _ = faulty_root
    idx = _open(root)
    try:
        rows = set(idx.page(Filters(), limit=10_000).rows["filepath"])
        problems = _problem_set(idx)
    finally:
        idx.close()
    expected_rows: set[str] = set()
    others: set[str] = set()
    for store in sorted(root.iterdir()):
        if store.name.startswith(("images", "meta")) and store.name[-1:].isdigit():
            names = [p.name for p in store.iterdir() if not p.name.startswith(".")]
            label = store.name
        elif store.suffix == ".zip":
            names = [n for n in zipfile.ZipFile(store).namelist() if not n.endswith("/")]
            label = store.name
        else:
            continue
        part = "".join(c for c in store.name.split(".")[0] if c.isdigit())
        for name in names:
            base = name.rsplit("/", 1)[-1]
            if base.endswith((".jpg", ".pickle")):
                expected_rows.add(f"images{part}/{base.rsplit('.', 1)[0]}.jpg")
            else:
                others.add(f"{label}/{name}" if label.endswith(".zip") else f"{label}/{base}")
    assert rows == expected_rows
    assert len(rows) == 20 + 12
    assert others == {fp for fp, kind in problems if kind == "unexpected_file"}


def test_hostile_meta_values_never_stop_the_build(tmp_path: Path, tinykit: Any) -> None:
    deep: list[Any] = []
    for _ in range(100):
        deep = [deep, deep]  # 2**100 paths: a full repr() would never finish
    loop: list[Any] = []
    loop.append(loop)
    metas = {
        "a1_CH_19": _meta(time=(2019, 300, 1, 0, 0)),  # month does not fit
        "a2_CH_19": _meta(time=(99999, 1, 1, 0, 0)),
        "a3_CH_19": _meta(time=(2019, 13, 40, 25, 61)),
        "a4_CH_19": _meta(box=(10**400, 47, 8.01, 47.01)),  # too large for a float
        "a5_CH_19": _meta(box=(10**5000, 47, 8.01, 47.01)),  # too large even for repr()
        "a6_CH_19": _meta(center_tags={"k": 10**5000, 7: deep, "loop": loop}),
        "a7_CH_19": _meta(surrounding_tags=[{"a": "b"}] * 40_000),  # more objects than int16
        "a8_CH_19": _meta(center_tags=["not", "a", "dict"], surrounding_tags={"not": "a list"}),
        "a9_CH_19": _meta(box=(math.nan, 47, 8.01, 47.01), time=[2019]),
        "a10_CH_19": pickle.dumps([1, 2, 3]),
        "a11_CH_19": pickle.dumps({"box": (8.0, 47.0, 8.01, 47.01), "time": (True, 1, 1, 0, 0)}),
    }
    root = tmp_path / "root"
    images = {f"{s}.jpg": tinykit.jpeg_bytes(i) for i, s in enumerate(metas)}
    tinykit.write_store(root / "images2", "folder", images)
    tinykit.write_store(root / "meta2", "folder", {f"{s}.pickle": b for s, b in metas.items()})
    report = build_index(root)
    assert report.n_images == len(metas)
    idx = _open(root)
    try:
        kinds = {(fp.split("/")[1].split(".")[0], kind) for fp, kind in _problem_set(idx)}
        assert kinds == {
            ("a1_CH_19", "corrupt_meta"),
            ("a2_CH_19", "corrupt_meta"),
            ("a3_CH_19", "corrupt_meta"),
            ("a4_CH_19", "invalid_box"),
            ("a5_CH_19", "invalid_box"),
            ("a8_CH_19", "corrupt_meta"),
            ("a9_CH_19", "invalid_box"),
            ("a10_CH_19", "corrupt_meta"),
            ("a11_CH_19", "corrupt_meta"),
        }
        r1 = idx.get("images2/a1_CH_19.jpg")
        assert r1 is not None and r1.row["year"] == 2019 and r1.row["month"] is None  # year from the name
        r6 = idx.get("images2/a6_CH_19.jpg")
        assert r6 is not None
        assert r6.focus_tags["k"] == "<int>"
        assert r6.focus_tags["7"].startswith("[[[") and len(r6.focus_tags["7"]) < 200
        assert r6.focus_tags["loop"].startswith("[[") and r6.focus_tags["loop"].endswith("...]]]]")
        r7 = idx.get("images2/a7_CH_19.jpg")
        assert r7 is not None and r7.row["n_surrounding"] == 40_000 and len(r7.surrounding) == 40_000
        r9 = idx.get("images2/a9_CH_19.jpg")
        assert r9 is not None and r9.row["year"] == 2019 and r9.row["month"] is None
    finally:
        idx.close()


# --------------------------------------------------------------------------------------------------
# Incremental builds


def _count_part_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = build_mod._read_part

    def counting(part: Any, out_dir: Path, progress: Any, piece: tuple[int, int] = (0, 1)) -> Any:
        calls.append(part.number)
        return real(part, out_dir, progress, piece)

    monkeypatch.setattr(build_mod, "_read_part", counting)
    return calls


def _touch(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))


def test_second_run_is_up_to_date_and_reads_nothing(
    tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    first = build_index(root)
    calls = _count_part_reads(monkeypatch)
    second = build_index(root)
    assert calls == []
    assert second.up_to_date
    assert second.generation == first.generation
    assert (second.parts_read, second.parts_reused) == ([], [2, 3, 4])
    assert second.n_images == 20
    assert second.per_source_year == first.per_source_year


def test_touching_one_zip_rereads_only_that_part(tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    first = build_index(root)
    calls = _count_part_reads(monkeypatch)
    _touch(root / "images3.zip")
    second = build_index(root)
    assert calls == [3]
    assert not second.up_to_date
    assert (second.parts_read, second.parts_reused) == ([3], [2, 4])
    assert second.generation != first.generation
    assert second.n_images == 20
    # the superseded part folder is gone, the previous generation is kept for open readers
    assert len(list((first.index_dir / "parts").iterdir())) == 3
    assert (first.index_dir / first.generation).is_dir()


def test_changed_folder_part_and_csv(tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    build_index(root)
    calls = _count_part_reads(monkeypatch)
    (root / "meta4" / "a1002_ES_22.pickle").unlink()  # meta4/ is a folder in the mixed layout
    report = build_index(root)
    assert calls == [4]
    assert report.problems_by_kind == {"missing_meta": 1}
    (root / "extra.csv").write_text(CSV_HEADER + "images2/a100_CH_19.jpg,a school,x\n")
    report = build_index(root)
    assert calls == [4]  # a new caption CSV only needs a merge
    assert (report.parts_read, report.parts_reused, report.up_to_date) == ([], [2, 3, 4], False)
    forced = build_index(root, force=True)
    assert calls == [4, 2, 3, 4]
    assert forced.parts_read == [2, 3, 4]


# --------------------------------------------------------------------------------------------------
# Interrupted builds


def test_interrupted_merge_keeps_previous_index(tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    first = build_index(root)
    (root / "meta2" / "a100_CH_19.pickle").unlink()
    second = build_index(root)  # two builds within one second get distinct generations
    assert second.generation != first.generation
    first = second
    (root / "meta2" / "a102_CH_21.pickle").unlink()

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(build_mod, "_merge", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_index(root)
    monkeypatch.undo()

    idx = _open(root)
    try:
        assert idx.gen_dir.name == first.generation
        assert idx.count(Filters()) == 20
        assert idx.count(Filters(sources=("CH",))) == 6
        assert idx.problem_counts() == {"missing_meta": 1}
    finally:
        idx.close()
    assert not [p for p in first.index_dir.iterdir() if p.name.startswith(".tmp-")]

    calls = _count_part_reads(monkeypatch)
    report = build_index(root)
    assert calls == []  # part 2 finished before the interruption
    assert (report.parts_read, report.parts_reused) == ([], [2, 3, 4])
    assert report.problems_by_kind == {"missing_meta": 2}


_KILLER = """
import os, signal, sys
import skyscript_viz.build as b
from pathlib import Path
where = sys.argv[2]
if where == "merge":
    b._merge = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
else:
    real = b._read_part
    def read(part, out_dir, progress, piece=(0, 1)):
        if part.number == int(where):
            (Path(out_dir) / "half-written.parquet").write_bytes(b"x")
            os.kill(os.getpid(), signal.SIGKILL)
        return real(part, out_dir, progress, piece)
    b._read_part = read
b.build_index(sys.argv[1], workers=1)
"""


def _killed_build(root: Path, where: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(root), where],
        cwd=REPO,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()


def test_build_killed_with_sigkill(tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    first = build_index(root)
    idx_dir = first.index_dir
    (root / "meta2" / "a100_CH_19.pickle").unlink()
    _touch(root / "images3.zip")

    _killed_build(root, "3")  # killed while reading part 3, after part 2 finished
    leftovers = [p.name for p in (idx_dir / "parts").iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".tmp-p3-")
    _killed_build(root, "merge")  # killed while merging, after every part finished
    assert [p.name for p in idx_dir.iterdir() if p.name.startswith(".tmp-gen-")]

    idx = _open(root)  # the first generation still answers
    try:
        assert idx.gen_dir.name == first.generation
        assert idx.count(Filters()) == 20
        assert idx.problem_counts() == {}
    finally:
        idx.close()

    calls = _count_part_reads(monkeypatch)
    report = build_index(root)
    assert calls == []  # every part finished in the killed runs
    assert report.parts_reused == [2, 3, 4]
    assert report.problems_by_kind == {"missing_meta": 1}
    # temporary folders of the killed runs are cleaned up
    assert not [p for p in idx_dir.iterdir() if p.name.startswith(".tmp-")]
    assert not [p for p in (idx_dir / "parts").iterdir() if p.name.startswith(".tmp-")]
    idx = _open(root)
    try:
        assert idx.count(Filters()) == 20
        assert idx.problem_counts() == {"missing_meta": 1}
    finally:
        idx.close()


def test_temporary_folders_of_live_runs_are_kept(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    first = build_index(root)
    live = first.index_dir / "parts" / f".tmp-p9-v1-abc-{os.getppid()}"
    live.mkdir()
    _touch(root / "images3.zip")
    build_index(root)
    assert live.is_dir()


# --------------------------------------------------------------------------------------------------
# Where the index goes


def test_index_dir_falls_back_to_user_cache_for_read_only_root(
    tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert default_index_dir(root) == root.resolve() / ".skyscript_viz"
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if Path(p).is_relative_to(root) else real_access(p, mode, **kw)
    )
    d = default_index_dir(root)
    assert d.is_relative_to(cache / "skyscript_viz")
    assert d.name.startswith("root-")
    report = build_index(root)
    assert report.index_dir == d
    assert not (root / ".skyscript_viz").exists()
    idx = ImageIndex.open(root)
    try:
        assert idx.count(Filters()) == 20
    finally:
        idx.close()


def test_existing_read_only_index_dir_falls_back_too(
    tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    (root / ".skyscript_viz").mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if Path(p).name == ".skyscript_viz" else real_access(p, mode, **kw)
    )
    assert default_index_dir(root).is_relative_to(tmp_path / "cache")


def test_a_read_only_root_with_a_built_index_is_read_in_place(
    tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a shared, read-only folder that several app servers open: its index is used, not a cache copy
    root = tinykit.make_tiny_root(tmp_path / "root")
    build_index(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if Path(p).is_relative_to(root) else real_access(p, mode, **kw)
    )
    assert default_index_dir(root) == root.resolve() / ".skyscript_viz"
    idx = ImageIndex.open(root)
    try:
        assert idx.count(Filters()) == 20
    finally:
        idx.close()


def test_unwritable_index_dir_is_a_build_error(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(IndexBuildError, match="--index-dir") as info:
        build_index(root, index_dir=blocker / "index")
    assert "\n" not in str(info.value)


def test_explicit_index_dir(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    report = build_index(root, index_dir=tmp_path / "elsewhere")
    assert report.index_dir == tmp_path / "elsewhere"
    assert not (root / ".skyscript_viz").exists()
    with pytest.raises(IndexNotFoundError):
        ImageIndex.open(root)
    idx = ImageIndex.open(root, index_dir=tmp_path / "elsewhere")
    try:
        assert idx.n_images == 20
    finally:
        idx.close()


# --------------------------------------------------------------------------------------------------
# The generated demo root


BUILD_KINDS = (
    "missing_meta",
    "missing_image",
    "corrupt_meta",
    "unsafe_meta",
    "bad_name",
    "invalid_box",
    "year_mismatch",
    "csv_row_without_image",
    "image_without_csv_row",
    "path_escape",
    "duplicate_caption_conflict",
    "unknown_source",
    "caption_misses_tag",
)


def _as_image_path(fp: str) -> str:
    """meta3/x.pickle -> images3/x.jpg (the build files meta problems under the image path)."""
    if fp.startswith("meta") and fp.endswith(".pickle"):
        folder, name = fp.split("/", 1)
        return f"images{folder[4:]}/{name[: -len('.pickle')]}.jpg"
    return fp


def test_demo_faults_are_all_flagged(demo_small: tuple[Path, Any], index_small: ImageIndex) -> None:
    _, manifest = demo_small
    problems = index_small.problems(limit=100_000)
    for kind in BUILD_KINDS:
        planted = {_as_image_path(fp) for fp in manifest.faults.get(kind, [])}
        assert planted, f"the demo plants no {kind}"
        flagged = set(problems.loc[problems["kind"] == kind, "filepath"])
        assert flagged == planted, kind


def test_demo_hostile_text_is_stored_verbatim(demo_small: tuple[Path, Any], index_small: ImageIndex) -> None:
    _, manifest = demo_small
    for fp in manifest.faults["hostile_text"]:
        rec = index_small.get(fp)
        assert rec is not None
        text = json.dumps([rec.focus_tags, rec.surrounding, rec.row["title"], rec.row["title_multi_objects"]])
        assert "<" in text or "&" in text or "javascript:" in text.lower()


def test_macos_metadata_files_are_reported_not_indexed(tmp_path: Path, tinykit: Any) -> None:
    """AppleDouble files (``._x.jpg``) and ``__MACOSX/`` zip members are not images: listed, never read."""
    root = tinykit.make_tiny_root(tmp_path / "root", layout="mixed")
    (root / "images2" / "._w1_CH_19.jpg").write_bytes(b"\x00\x05\x16\x07 not a jpeg")
    with zipfile.ZipFile(root / "images3.zip", "a") as zf:
        zf.writestr("__MACOSX/images3/._n5_US_18.jpg", b"\x00\x05\x16\x07")
    report = build_index(root)
    assert report.n_images == 20
    assert "bad_name" not in report.problems_by_kind
    idx = ImageIndex.open(root)
    unexpected = set(idx.problems(kind="unexpected_file")["filepath"])
    assert unexpected == {"images2/._w1_CH_19.jpg", "images3.zip/__MACOSX/images3/._n5_US_18.jpg"}
    idx.close()
