"""Quality checks: the pixel pass and every check flag exactly the faults the demo generator planted.

The demo generator (skyscript_viz.demo) lists each planted fault in its manifest. With 200 focus
objects it plants three of each kind (more than one variant of each), in about 3 s; the default
size would take 20 s for no extra kind. The pixel pass runs once with two worker processes
(the path ``python -m skyscript_viz index ROOT --pixels`` takes) and is then run again to show it
reuses its results.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from skyscript_viz import Filters, ImageIndex, build_index
from skyscript_viz.cli import main as cli_main
from skyscript_viz.problems import PROBLEM_HELP
from skyscript_viz.quality import BLANK_SHARE, CHECKS, LOW_CONTRAST_STD, PIXELS_FILE, image_stats, run_pixel_pass

PIXEL_KINDS = ("blank_image", "low_contrast", "duplicate_content", "corrupt_image")
# manifest kinds whose path is the meta pickle; the index reports them on the image path
META_PATH_KINDS = ("missing_image", "corrupt_meta", "unsafe_meta")
NOT_A_PROBLEM = ("hostile_text",)  # planted to test escaping: valid data, no problem row


@pytest.fixture(scope="module")
def quality_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, Any], dict[str, Any]]:
    """(root, manifest, first pixel-pass stats, second pixel-pass stats) of a 200-object demo root."""
    from skyscript_viz.demo import generate

    root = tmp_path_factory.mktemp("quality") / "root"
    manifest = generate(root, n_objects=200, seed=0)
    build_index(root)
    idx = ImageIndex.open(root)
    assert not idx.has_pixel_checks
    first = run_pixel_pass(idx, workers=2, chunk=120)  # 3 chunks over 2 spawned processes
    second = run_pixel_pass(idx, workers=2, chunk=120)
    idx.close()
    return root, manifest, first, second


@pytest.fixture(scope="module")
def qindex(quality_demo: tuple[Path, Any, dict[str, Any], dict[str, Any]]) -> Iterator[ImageIndex]:
    idx = ImageIndex.open(quality_demo[0])
    yield idx
    idx.close()


def _expected(manifest: Any) -> dict[str, set[str]]:
    """Planted faults as the index reports them: kind -> file paths."""
    out: dict[str, set[str]] = {}
    for kind, paths in manifest.faults.items():
        if kind in NOT_A_PROBLEM:
            continue
        if kind in META_PATH_KINDS:
            paths = [re.sub(r"^meta(\d)/(.+)\.pickle$", r"images\1/\2.jpg", p) for p in paths]
        out[kind] = set(paths)
    return out


def _flagged(index: ImageIndex, kind: str) -> list[str]:
    return list(index.problems(kind=kind, limit=100_000)["filepath"])


def test_demo_plants_several_of_every_kind(quality_demo: tuple[Path, Any, dict[str, Any], dict[str, Any]]) -> None:
    _, manifest, _, _ = quality_demo
    for kind in (*PIXEL_KINDS, "caption_misses_tag"):
        assert len(manifest.faults[kind]) >= 3, (kind, manifest.faults[kind])


@pytest.mark.parametrize("kind", [*PIXEL_KINDS, "caption_misses_tag"])
def test_each_check_flags_exactly_the_planted_faults(
    quality_demo: tuple[Path, Any, dict[str, Any], dict[str, Any]], qindex: ImageIndex, kind: str
) -> None:
    _, manifest, _, _ = quality_demo
    flagged = _flagged(qindex, kind)
    assert len(flagged) == len(set(flagged)), f"{kind}: an image flagged twice: {flagged}"
    assert set(flagged) == set(manifest.faults[kind])


def test_no_problem_beyond_the_planted_ones(
    quality_demo: tuple[Path, Any, dict[str, Any], dict[str, Any]], qindex: ImageIndex
) -> None:
    _, manifest, _, _ = quality_demo
    want = _expected(manifest)
    assert qindex.problem_counts() == {k: len(v) for k, v in want.items()}
    for kind, paths in want.items():
        assert set(_flagged(qindex, kind)) == paths, kind
    # every check and index kind the UI lists is explained
    assert set(want) <= set(PROBLEM_HELP)
    assert set(PIXEL_KINDS) | {"caption_misses_tag"} <= set(CHECKS)
    assert all(title and why.endswith(".") for title, why in CHECKS.values())


def test_problem_filters_count_the_pixel_checks(
    quality_demo: tuple[Path, Any, dict[str, Any], dict[str, Any]], qindex: ImageIndex
) -> None:
    _, manifest, _, _ = quality_demo
    for kind in PIXEL_KINDS:
        f = Filters(problems=(kind,))
        assert qindex.count(f) == len(manifest.faults[kind]), kind
        assert set(qindex.page(f, limit=100).rows["filepath"]) == set(manifest.faults[kind])
    # "any problem" includes the pixel checks
    ids = set(qindex.problems(limit=100_000)["id"].dropna().astype(int))
    assert qindex.count(Filters(problems=("any",))) == len(ids)


def test_problem_details_say_what_was_measured(qindex: ImageIndex, quality_demo: Any) -> None:
    _, manifest, _, _ = quality_demo
    blank = qindex.problems(kind="blank_image")
    assert all(re.match(r"\d+% pure black/white pixels, luminance std [\d.]+", d) for d in blank["detail"])
    dups = qindex.problems(kind="duplicate_content")
    pairs = list(
        zip(manifest.faults["duplicate_content"][::2], manifest.faults["duplicate_content"][1::2], strict=True)
    )
    for a, b in pairs:  # each names its twin
        da = dups.loc[dups["filepath"] == a, "detail"].item()
        assert "same bytes as 1 other image(s)" in da and b in da
    corrupt = qindex.problems(kind="corrupt_image")
    assert all(d for d in corrupt["detail"])


def test_pixel_pass_is_incremental(
    quality_demo: tuple[Path, Any, dict[str, Any], dict[str, Any]], qindex: ImageIndex
) -> None:
    _, _, first, second = quality_demo
    n_files = len(qindex.image_locations())
    assert first["images"] == first["computed"] == n_files
    assert second["images"] == n_files and second["computed"] == 0
    assert qindex.has_pixel_checks and (qindex.index_dir / PIXELS_FILE).is_file()


def test_pixel_pass_computes_only_new_images(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "folder")
    build_index(root)
    idx = ImageIndex.open(root)
    assert run_pixel_pass(idx, workers=1)["computed"] == 20
    assert run_pixel_pass(idx, workers=1)["computed"] == 0
    idx.close()
    idx = ImageIndex.open(root)
    low_before = set(_flagged(idx, "low_contrast"))
    assert low_before == {
        f"images{r['part']}/{r['stem']}.jpg"
        for i, r in enumerate(tinykit.records)
        if image_stats(tinykit.jpeg_bytes(i))["std"] < LOW_CONTRAST_STD
    }
    idx.close()
    # one new image (a copy of another's bytes: also a duplicate) and one blank image
    (root / "images2" / "a1400_CH_20.jpg").write_bytes((root / "images2" / "a100_CH_19.jpg").read_bytes())
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 0, 0)).save(buf, "JPEG")
    (root / "images2" / "a1402_CH_20.jpg").write_bytes(buf.getvalue())
    for stem in ("a1400_CH_20", "a1402_CH_20"):
        rec = {
            "box": (8.6, 47.4, 8.61, 47.41),
            "time": (2020, 5, 5, 10, 0),
            "focus": {"building": "yes"},
            "surrounding": [],
        }
        (root / "meta2" / f"{stem}.pickle").write_bytes(tinykit.meta_bytes(rec))
    build_index(root)
    idx = ImageIndex.open(root)
    stats = run_pixel_pass(idx, workers=1)
    assert (stats["images"], stats["computed"]) == (22, 2)
    idx.close()
    idx = ImageIndex.open(root)
    assert sorted(_flagged(idx, "duplicate_content")) == ["images2/a100_CH_19.jpg", "images2/a1400_CH_20.jpg"]
    assert _flagged(idx, "blank_image") == ["images2/a1402_CH_20.jpg"]
    # the tiny root's 16-pixel flat-colour pictures are low contrast; the reused results still say so
    assert set(_flagged(idx, "low_contrast")) == low_before
    assert _flagged(idx, "corrupt_image") == []
    idx.close()


def test_cli_index_pixels(tmp_path: Path, tinykit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "mixed")
    assert cli_main(["index", str(root), "--pixels", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"pixel pass: 20 images decoded in [\d.]+ s .*; 0 reused", out), out
    idx = ImageIndex.open(root)
    counts = idx.problem_counts()  # the tiny root is clean but for flat 16-pixel pictures: low contrast
    idx.close()
    assert set(counts) == {"low_contrast"}
    printed = dict(re.findall(r"^  (\w+)\s+([\d,]+)$", out.split("problems by kind", 1)[1], re.M))
    assert {k: int(v) for k, v in printed.items()} == counts
    assert cli_main(["index", str(root), "--pixels", "--workers", "1"]) == 0
    assert "pixel pass: 0 images decoded" in capsys.readouterr().out


# ---- image statistics on made-up pictures ------------------------------------------------------------


def _jpeg(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def _classify(st: dict[str, Any]) -> str:
    """What the checks make of one image's statistics (the SQL in quality.pixel_problems_sql)."""
    if st["error"]:
        return "corrupt_image"
    if st["dark_share"] + st["bright_share"] >= BLANK_SHARE:
        return "blank_image"
    if st["std"] < LOW_CONTRAST_STD:
        return "low_contrast"
    return "ok"


def _band(width: int) -> np.ndarray:
    a = np.zeros((128, 128))
    a[:, :width] = 120
    return a


rng = np.random.default_rng(0)
GRADIENT = np.tile(np.linspace(20, 235, 128), (128, 1))
BLACK_WITH_SPOT = np.zeros((128, 128))
BLACK_WITH_SPOT[60:64, 60:64] = 255
PICTURES = {
    "black": (np.zeros((128, 128)), "blank_image"),
    "white": (np.full((128, 128), 255), "blank_image"),
    "black no-data with a small white spot": (BLACK_WITH_SPOT, "blank_image"),
    "no-data fill beside a 3-pixel strip of content": (_band(3), "blank_image"),
    "no-data fill beside a 16-pixel strip of content": (_band(16), "ok"),
    "flat grey haze": (np.full((128, 128), 180), "low_contrast"),
    "haze with faint noise": (180 + rng.normal(0, 1.0, (128, 128)), "low_contrast"),
    "gradient field": (GRADIENT, "ok"),
    "calm water (std ~6)": (60 + rng.normal(0, 6, (128, 128)), "ok"),
    "half black, half content": (np.hstack([np.zeros((128, 64)), GRADIENT[:, :64]]), "ok"),
}


@pytest.mark.parametrize("name", list(PICTURES))
def test_image_stats_classify_made_up_pictures(name: str) -> None:
    arr, want = PICTURES[name]
    st = image_stats(_jpeg(arr))
    assert st["error"] is None and (st["width"], st["height"]) == (128, 128)
    assert _classify(st) == want, st


def test_image_stats_report_undecodable_bytes_and_hash_content() -> None:
    good = _jpeg(GRADIENT)
    truncated = image_stats(good[: len(good) // 3])
    assert _classify(truncated) == "corrupt_image" and truncated["sha1"]
    garbage = image_stats(b"not an image at all")
    assert garbage["error"] and garbage["mean"] is None
    assert image_stats(good)["sha1"] == image_stats(bytes(good))["sha1"] != truncated["sha1"]
