"""An incremental build gives the same serving database as a build from nothing.

The merge keeps what it derived from the caption CSVs, and from each part joined with them, and reuses
it when neither changed: these tests change one part, one CSV, or both, and compare every serving table
(rows and row order) with a forced build of the same root into a fresh index folder.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from skyscript_viz import Filters, ImageIndex, TagExpr, build_index
from skyscript_viz.demo import generate

# Tables whose row order is part of the format: queries rely on it (zone maps, id order).
_ORDERED = {
    "images": "id",
    "tags": "kv_id, image_id",
    "image_tags": "image_id",
    "vocab": "kv_id",
    "keys": "key",
    "caption_words": "word, kind, cap_id",
}


def _tables(index_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every serving table's rows (sorted), plus the order the ordered tables are stored in."""
    current = json.loads((index_dir / "CURRENT").read_text())
    con = duckdb.connect(str(index_dir / current["generation"] / "index.duckdb"), read_only=True)
    try:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            out[name] = con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
            if name in _ORDERED:
                stored = con.execute(f"SELECT {_ORDERED[name]} FROM {name}").fetchall()
                assert stored == sorted(stored), f"{name} is not stored in ({_ORDERED[name]}) order"
        return out
    finally:
        con.close()


def _assert_same_as_fresh(root: Path, index_dir: Path, tmp: Path) -> None:
    fresh = tmp / f"fresh-{len(list(tmp.iterdir()))}"
    build_index(root, index_dir=fresh, force=True)
    got, want = _tables(index_dir), _tables(fresh)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], f"table {name} differs from a build from nothing"


def _reused(index_dir: Path) -> dict[str, Any]:
    """What the last merge took from earlier builds: the CSV stage (bool) and how many part stages."""
    current = json.loads((index_dir / "CURRENT").read_text())
    reused: dict[str, Any] = current["merge_reused"]
    return reused


def _touch(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))


def _rewrite_meta_folder(folder: Path, tinykit: Any, add: str, drop: str) -> None:
    """One meta gone, one new one with a tag pair and a key no other image has."""
    (folder / f"{drop}.pickle").unlink()
    rec = {
        "box": (8.5, 47.3, 8.51, 47.31),
        "time": (2021, 6, 1, 10, 0),
        "focus": {"craft": "brewery", "zz_new_key": "α"},
        "surrounding": [{"building": "yes"}],
    }
    (folder / f"{add}.pickle").write_bytes(tinykit.meta_bytes(rec))


@pytest.fixture
def built(tmp_path: Path, tinykit: Any) -> tuple[Path, Path]:
    root = tinykit.make_tiny_root(tmp_path / "root")
    idx = tmp_path / "idx"
    build_index(root, index_dir=idx)
    return root, idx


def test_one_changed_part_gives_the_same_index_as_a_full_build(
    built: tuple[Path, Path], tinykit: Any, tmp_path: Path
) -> None:
    root, idx = built
    # meta2/ is a folder in the mixed layout: an image leaves, one with new tags comes in
    _rewrite_meta_folder(root / "meta2", tinykit, add="w5555_CH_21", drop="a100_CH_19")
    report = build_index(root, index_dir=idx)
    assert (report.parts_read, report.parts_reused) == ([2], [3, 4])
    assert _reused(idx) == {"csv": True, "parts": 2}
    _assert_same_as_fresh(root, idx, tmp_path)
    ix = ImageIndex.open(root, index_dir=idx)
    try:
        assert ix.count(Filters(tags=(TagExpr.parse("craft=brewery"),))) == 1
        assert ix.count(Filters(tags=(TagExpr.parse("zz_new_key"),))) == 1
    finally:
        ix.close()


def test_changed_caption_csv_gives_the_same_index_as_a_full_build(built: tuple[Path, Path], tmp_path: Path) -> None:
    root, idx = built
    path = root / "SkyScript_train_unfiltered_5M.csv"
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    rows[1][1] = "a renamed school"  # a caption changes
    rows.append(["images3/zz_missing_CH_20.jpg", "nothing", "nothing here"])  # a row without an image
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    (root / "extra.csv").write_text("filepath,title,title_multi_objects\nimages2/a100_CH_19.jpg,a school,x\n")
    report = build_index(root, index_dir=idx)
    assert report.parts_read == []
    assert _reused(idx) == {"csv": False, "parts": 0}
    _assert_same_as_fresh(root, idx, tmp_path)
    # what was derived from the old CSVs is gone: one CSV stage, one part stage per part
    assert len(list((idx / "captions").iterdir())) == 1
    for part in (idx / "parts").iterdir():
        assert len([d for d in part.iterdir() if d.name.startswith("frag-")]) == 1


def test_part_and_csv_changed_together_and_back_again(built: tuple[Path, Path], tinykit: Any, tmp_path: Path) -> None:
    root, idx = built
    saved = tmp_path / "meta2-saved"
    shutil.copytree(root / "meta2", saved)
    _rewrite_meta_folder(root / "meta2", tinykit, add="w5555_CH_21", drop="a100_CH_19")
    (root / "extra.csv").write_text("filepath,title,title_multi_objects\nimages2/w5555_CH_21.jpg,a brewery,x\n")
    build_index(root, index_dir=idx)
    _assert_same_as_fresh(root, idx, tmp_path)
    # back to the first state: everything derived from it may be reused, and must still be right
    shutil.rmtree(root / "meta2")
    shutil.copytree(saved, root / "meta2")
    (root / "extra.csv").unlink()
    _touch(root / "meta2")
    build_index(root, index_dir=idx)
    _assert_same_as_fresh(root, idx, tmp_path)


def test_force_rebuilds_the_merge_stages_too(built: tuple[Path, Path]) -> None:
    root, idx = built
    build_index(root, index_dir=idx, force=True)
    assert _reused(idx) == {"csv": False, "parts": 0}


@pytest.mark.parametrize("damage", ["csv_stage", "part_stage"])
def test_damaged_stages_are_made_again(built: tuple[Path, Path], tmp_path: Path, damage: str) -> None:
    """A stage file cut short (a full disk, a partial copy of the index folder) or gone: the build
    says so and makes the stages again, and the index is still right."""
    root, idx = built
    if damage == "csv_stage":
        victim = next((idx / "captions").glob("csv-*/caps.parquet"))
        victim.write_bytes(victim.read_bytes()[:40])
    else:
        next((idx / "parts").glob("p3-*/frag-*/images.parquet")).unlink()
        next((idx / "parts").glob("p4-*/frag-*/tags.parquet")).unlink()
    _touch(root / "images3.zip")
    report = build_index(root, index_dir=idx)
    assert report.parts_read == [3]
    if damage == "csv_stage":
        assert any("could not be used" in n for n in report.notes)
    _assert_same_as_fresh(root, idx, tmp_path)


@pytest.mark.parametrize("changed", ["images3.zip", "meta2"])
def test_a_lone_changed_part_is_read_in_pieces(tmp_path: Path, tinykit: Any, changed: str) -> None:
    """With more workers than parts to read, each part is read in pieces at once (every worker busy);
    the index is the same as a build from nothing, listing problems included (reported once)."""
    from tests.test_build import _write_faults

    root = tinykit.make_tiny_root(tmp_path / "root")
    _write_faults(root, tinykit, tmp_path / "pwned")
    idx = tmp_path / "idx"
    build_index(root, index_dir=idx, workers=2)
    if changed == "meta2":
        _rewrite_meta_folder(root / "meta2", tinykit, add="w5555_CH_21", drop="a100_CH_19")
    else:
        _touch(root / changed)
    seen: list[tuple[int, int, int]] = []
    report = build_index(root, index_dir=idx, workers=2, progress=lambda *a: seen.append(a))
    assert len(report.parts_read) == 1
    part_dir = next((idx / "parts").glob(f"p{report.parts_read[0]}-*"))
    assert sorted(d.name for d in part_dir.iterdir()) == ["s0", "s1"]
    assert seen[-1][1] == seen[-1][2] > 0  # progress: the pieces summed up to the whole part
    _assert_same_as_fresh(root, idx, tmp_path)


def test_demo_root_rebuilt_after_one_part_changed(tmp_path: Path) -> None:
    """The demo holds every planted fault (path escapes, bad CSV rows, conflicts…): all of them must
    come out of an incremental merge exactly as out of a full one."""
    root = tmp_path / "demo"
    generate(root, n_objects=40, seed=3)
    idx = tmp_path / "idx"
    build_index(root, index_dir=idx)
    _touch(root / "meta3.zip")
    report = build_index(root, index_dir=idx)
    assert len(report.parts_read) == 1
    assert _reused(idx) == {"csv": True, "parts": len(report.parts_reused)}
    _assert_same_as_fresh(root, idx, tmp_path)
