"""Benchmark sets under ROOT/benchmark (skyscript_viz.benchmarks): found, described, missing ones named
with their download command, and image paths never leaving the set's folder.

The generated demo root (``demo_small`` in tests/conftest.py) carries two classification sets
(roof_shape, surface) and one retrieval set (ucmcaptions); damaged variants are copies of it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from skyscript_viz.benchmarks import (
    BENCHMARK_SETS,
    BenchmarkSet,
    discover_benchmarks,
    download_command,
    resolve_image,
    thumbnail,
)

DEMO_SETS = {"roof_shape": "classification", "surface": "classification", "ucmcaptions": "retrieval"}


@pytest.fixture(scope="module")
def demo_sets(demo_small: tuple[Path, Any]) -> dict[str, BenchmarkSet]:
    return {b.name: b for b in discover_benchmarks(demo_small[0])}


@pytest.fixture
def bench_copy(demo_small: tuple[Path, Any], tmp_path: Path) -> Path:
    """A root holding a copy of the demo's benchmark/ folder, free to damage."""
    shutil.copytree(demo_small[0] / "benchmark", tmp_path / "root" / "benchmark")
    return tmp_path / "root"


def _by_name(root: Path) -> dict[str, BenchmarkSet]:
    return {b.name: b for b in discover_benchmarks(root)}


def test_demo_sets_are_found(demo_sets: dict[str, BenchmarkSet], demo_small: tuple[Path, Any]) -> None:
    present = {n: b for n, b in demo_sets.items() if b.present}
    assert {n: b.kind for n, b in present.items()} == DEMO_SETS
    for name, b in present.items():
        assert b.problem is None, (name, b.problem)
        assert b.folder == demo_small[0] / "benchmark" / name
        assert b.csv is not None and b.csv.parent == b.folder
        assert b.description == BENCHMARK_SETS[name][1]


def test_classification_sets_have_classnames_and_labels(demo_sets: dict[str, BenchmarkSet]) -> None:
    assert demo_sets["roof_shape"].classnames == ["flat", "gabled", "hipped", "pyramidal", "skillion", "dome"]
    assert demo_sets["surface"].classnames == ["asphalt", "concrete", "paving_stones", "gravel", "unpaved"]
    for name in ("roof_shape", "surface"):
        b = demo_sets[name]
        df = b.table()
        assert list(df.columns) == ["filepath", "label"]
        assert len(df) == 4 * len(b.classnames)  # four images per class
        assert set(df["label"]) == set(b.classnames)
        assert df.groupby("label").size().eq(4).all()


def test_retrieval_set_has_captions(demo_sets: dict[str, BenchmarkSet]) -> None:
    b = demo_sets["ucmcaptions"]
    df = b.table()
    assert b.caption_column(df) == "title"
    assert b.classnames == []
    assert df["filepath"].nunique() == 8 and len(df) == 24  # eight scenes, three captions each
    assert "There is a tennis court with white lines." in set(df["title"])


def test_every_benchmark_image_resolves_inside_its_folder(demo_sets: dict[str, BenchmarkSet]) -> None:
    for name in DEMO_SETS:
        b = demo_sets[name]
        assert b.folder is not None
        for fp in b.table()["filepath"]:
            p = resolve_image(b, fp)
            assert p is not None and p.is_file(), (name, fp)
            assert b.folder.resolve() in p.parents
            assert p.read_bytes()[:2] == b"\xff\xd8"  # a JPEG


def test_missing_sets_are_listed_with_a_download_command(demo_sets: dict[str, BenchmarkSet]) -> None:
    missing = {n: b for n, b in demo_sets.items() if not b.present}
    assert set(missing) == set(BENCHMARK_SETS) - set(DEMO_SETS)
    assert {
        "aid",
        "eurosat",
        "fmow",
        "millionaid",
        "nwpu",
        "patternnet",
        "rsicb256",
        "SkyScript_cls",
        "smoothness",
        "RSICD",
        "RSITMD",
    } == set(missing)
    for name, b in missing.items():
        assert b.folder is None and b.csv is None and b.kind == BENCHMARK_SETS[name][0]
        assert b.table().empty
        assert resolve_image(b, "img/x.jpg") is None
        cmd = download_command(name)
        assert f"curl -O https://opendatasharing.s3.us-west-2.amazonaws.com/SkyScript/benchmark/{name}.zip" in cmd
        assert cmd.startswith("cd ROOT/benchmark && ") and cmd.endswith(f"unzip {name}.zip")


def test_root_without_benchmark_folder(tmp_path: Path) -> None:
    sets = discover_benchmarks(tmp_path)
    assert [b.name for b in sets] == list(BENCHMARK_SETS)
    assert not any(b.present for b in sets)


@pytest.mark.parametrize(
    "path",
    [
        "../surface/img/asphalt_00.jpg",  # exists, but in another set
        "img/../../surface/img/asphalt_00.jpg",
        "../../dataframe/SkyScript_train_unfiltered_5M.csv",
        "../roof_shape/../surface/img/asphalt_00.jpg",
        "/etc/passwd",
        "/etc/hostname",
    ],
)
def test_resolve_image_refuses_paths_leaving_the_set(demo_sets: dict[str, BenchmarkSet], path: str) -> None:
    assert resolve_image(demo_sets["roof_shape"], path) is None


def test_resolve_image_accepts_harmless_spellings(demo_sets: dict[str, BenchmarkSet]) -> None:
    b = demo_sets["roof_shape"]
    assert b.folder is not None
    want = (b.folder / "img" / "flat_00.jpg").resolve()
    for path in ("img/flat_00.jpg", "img/../img/flat_00.jpg", "./img/flat_00.jpg", "roof_shape/img/flat_00.jpg"):
        assert resolve_image(b, path) == want, path
    assert resolve_image(b, "img/no_such.jpg") is None


def test_resolve_image_refuses_a_symlink_out_of_the_set(bench_copy: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8 not yours")
    (bench_copy / "benchmark" / "roof_shape" / "img" / "link.jpg").symlink_to(secret)
    b = _by_name(bench_copy)["roof_shape"]
    assert resolve_image(b, "img/link.jpg") is None


def test_damaged_and_unknown_sets_are_reported(bench_copy: Path) -> None:
    bench = bench_copy / "benchmark"
    (bench / "surface" / "classnames.txt").unlink()
    for p in (bench / "ucmcaptions").glob("*.csv"):
        p.unlink()
    extra = bench / "my_crops"
    (extra / "img").mkdir(parents=True)
    (extra / "classnames.txt").write_text("wheat\nmaize\n\n", encoding="utf-8")
    with (extra / "test.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([["filepath", "label"], ["img/a.jpg", "wheat"]])
    sets = _by_name(bench_copy)
    assert sets["surface"].problem == "classnames.txt missing" and sets["surface"].classnames == []
    assert sets["ucmcaptions"].problem == "no CSV with filepath and a caption column"
    assert not sets["ucmcaptions"].present
    assert sets["roof_shape"].problem is None
    mine = sets["my_crops"]
    assert (mine.kind, mine.description, mine.classnames, mine.problem) == (
        "classification",
        "found in benchmark/",
        ["wheat", "maize"],
        None,
    )
    assert mine.csv == extra / "test.csv"
    # unknown sets come after the known ones
    assert list(sets)[-1] == "my_crops"


def test_header_case_and_odd_rows_are_read_and_reported(bench_copy: Path) -> None:
    """``FilePath,Label`` (any case, spaces) is the same header; short, long and empty rows are skipped
    and counted instead of crashing the Benchmarks page (was ``KeyError: 'label'``)."""
    folder = bench_copy / "benchmark" / "roof_shape"
    (path,) = [p for p in folder.rglob("*.csv")]
    rows = list(csv.reader(path.open(newline="")))
    good = rows[1:]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([" FilePath ", "LABEL"])
        w.writerows(good)
        w.writerows([["only-one-field"], ["a.jpg", "gabled", "extra"], ["", "gabled"], ["b.jpg", " "], []])
    b = _by_name(bench_copy)["roof_shape"]
    assert b.present and b.problem is None
    df, odd = b.load()
    assert list(df.columns) == ["filepath", "label"]
    assert [list(r) for r in df.itertuples(index=False)] == good
    assert odd == ["2 rows with the wrong number of fields skipped", "2 rows without filepath or label skipped"]
    assert b.table().equals(df)


def test_unreadable_benchmark_csv_is_a_problem_not_a_crash(bench_copy: Path) -> None:
    folder = bench_copy / "benchmark" / "surface"
    (path,) = [p for p in folder.rglob("*.csv")]
    path.write_bytes(b"FILEPATH,label\n" + b"x\0y.jpg,a\n" + bytes(range(256)) + b'\n"unterminated,a\n')
    b = _by_name(bench_copy)["surface"]
    df, odd = b.load()
    assert list(df.columns) == ["filepath", "label"]
    assert odd  # the binary line and the unterminated quote are reported, not raised


# ---- hostile benchmark folders ------------------------------------------------------------------------


def test_a_set_folder_linking_out_of_the_root_is_reported_not_walked(bench_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    shutil.copytree(bench_copy / "benchmark" / "surface", outside)
    (bench_copy / "benchmark" / "linked").symlink_to(outside, target_is_directory=True)
    b = _by_name(bench_copy)["linked"]
    assert not b.present and b.csv is None
    assert b.problem == "a symbolic link leading outside the dataset root; not read"


def test_special_files_in_a_set_are_refused_without_blocking(bench_copy: Path) -> None:
    folder = bench_copy / "benchmark" / "roof_shape"
    (folder / "classnames.txt").unlink()
    (folder / "classnames.txt").symlink_to("/dev/zero")  # a plain read would never end
    csv_path = next(folder.rglob("*.csv"))
    csv_path.rename(csv_path.with_suffix(".bak"))
    os.mkfifo(folder / "a.csv")  # a plain open would wait for a writer forever
    b = _by_name(bench_copy)["roof_shape"]
    assert b.classnames == []
    assert b.problem == "classnames.txt: a symbolic link leading outside the dataset root; not read"
    assert b.csv is None


def test_benchmark_thumbnails_refuse_what_is_not_an_image_of_a_sane_size(tmp_path: Path) -> None:
    ok = tmp_path / "ok.tif"
    Image.new("RGB", (400, 300), (10, 200, 30)).save(ok, "TIFF")  # UCM ships TIFF: accepted
    data, why = thumbnail(ok)
    assert why is None and data is not None
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and max(im.size) == 160
    big = tmp_path / "big.png"
    Image.new("1", (9000, 9000)).save(big, "PNG")  # 81M pixels: refused before decoding
    data, why = thumbnail(big)
    assert data is None and why is not None and "pixel" in why
    text = tmp_path / "page.jpg"
    text.write_bytes(b"<html>not found</html>")
    data, why = thumbnail(text)
    assert data is None and why
    data, why = thumbnail(tmp_path / "nope.jpg")
    assert data is None and why == "image file missing from the dataset"
