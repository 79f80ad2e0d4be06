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
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pytest

import skyscript_viz.build as build_mod
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
    """Every serving table's rows (sorted), after checking the order the ordered tables are stored in:
    sorted, or, after patches (skyscript_viz.mergepatch), in one more sorted run per part patched since
    the last full merge."""
    current = json.loads((index_dir / "CURRENT").read_text())
    con = duckdb.connect(str(index_dir / current["generation"] / "index.duckdb"), read_only=True)
    try:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            out[name] = con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
            if name in _ORDERED:
                stored = con.execute(f"SELECT {_ORDERED[name]} FROM {name}").fetchall()
                runs = 1 + sum(a > b for a, b in pairwise(stored))
                allowed = 1 + current["patched_since_full"]
                assert runs <= allowed, f"{name}: {runs} runs in ({_ORDERED[name]}) order"
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


def _merged(index_dir: Path) -> tuple[list[int], str]:
    """The parts the last merge patched into the previous database ([] for a full merge), and why not."""
    current = json.loads((index_dir / "CURRENT").read_text())
    return current["merge_patched"], current["merge_full_why"]


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
    # zz_new_key: every key of the tiny root has a bit, so a new key changes the frequent tags: no patch
    assert _merged(idx) == ([], "the most frequent tags changed")
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
    assert _merged(idx) == ([], "--force: everything made again")


@pytest.mark.parametrize("damage", ["csv_stage", "part_stage"])
def test_damaged_stages_are_made_again(
    built: tuple[Path, Path], tmp_path: Path, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    calls: list[bool] = []
    real_merge = build_mod._merge

    def counting_merge(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(args) > 5 and args[5] is not None)
        return real_merge(*args, **kwargs)

    monkeypatch.setattr(build_mod, "_merge", counting_merge)
    report = build_index(root, index_dir=idx)
    assert report.parts_read == [3]
    if damage == "csv_stage":
        assert any("could not be used" in n for n in report.notes)
        # the patch meets the damaged stage before it starts: no second merge with the stages kept
        assert calls == [True, False]
        assert _merged(idx) == ([], "a merge stage kept from an earlier build could not be used")
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
    if changed == "images3.zip":  # the pieces are one part to the patch: named after the part's folder
        assert _merged(idx) == ([3], "")
        ranges = json.loads((idx / "CURRENT").read_text())["part_ranges"]
        assert [r[1] for r in ranges] == sorted(d.name for d in (idx / "parts").iterdir())
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
    assert _merged(idx)[0] == report.parts_read  # the other parts' rows were kept as they were
    _assert_same_as_fresh(root, idx, tmp_path)


TINY_FOCUS_A102 = {"building": "church"}


def _meta_path(root: Path, stem: str) -> Path:
    return next(root.glob(f"meta*/{stem}.pickle"))


def test_a_changed_part_is_patched_into_the_previous_database(
    built: tuple[Path, Path], tinykit: Any, tmp_path: Path
) -> None:
    """Two images of part 2 swap their metas (same count, same tags): only part 2's rows are written
    again, into a copy of the previous database, and it equals a build from nothing; again after a
    second patch of the same part (the first patch's rows deleted in turn)."""
    root, idx = built
    a, b = _meta_path(root, "a100_CH_19"), _meta_path(root, "a102_CH_21")
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    _touch(root / "meta2")
    previous = json.loads((idx / "CURRENT").read_text())["generation"]
    report = build_index(root, index_dir=idx)
    assert report.parts_read == [2]
    assert _merged(idx) == ([2], "") == (report.patched, report.full_merge_why)
    assert report.generation != previous
    _assert_same_as_fresh(root, idx, tmp_path)
    ix = ImageIndex.open(root, index_dir=idx)
    try:
        rec = ix.get("images2/a100_CH_19.jpg")
        assert rec is not None and rec.row["month"] == 7  # a102's time now
        assert rec.focus_tags == TINY_FOCUS_A102
    finally:
        ix.close()
    a.write_bytes(data_a)
    b.write_bytes(data_b)
    _touch(root / "meta2")
    build_index(root, index_dir=idx)
    assert _merged(idx) == ([2], "")
    assert json.loads((idx / "CURRENT").read_text())["patched_since_full"] == 2  # two runs of part 2's rows
    _assert_same_as_fresh(root, idx, tmp_path)


def test_parts_that_grow_are_patched_and_a_new_frequent_tag_is_not(
    built: tuple[Path, Path], tinykit: Any, tmp_path: Path
) -> None:
    """A new image in the last part takes ids after all others: patched. One in a middle part moves
    the ids of the parts after it: patched too, those ids moved. A new tag: a full merge, and
    info.json says why."""
    root, idx = built
    last = 4  # the last part; its metas are a folder in the tiny root's mixed layout
    src = next((root / f"meta{last}").glob("*.pickle"))
    shutil.copyfile(src, src.with_name("w99999_CH_21.pickle"))
    _touch(root / f"meta{last}")
    report = build_index(root, index_dir=idx)
    assert report.parts_read == [last]
    assert _merged(idx) == ([last], "")
    assert report.n_images == 21
    _assert_same_as_fresh(root, idx, tmp_path)

    # a new key: every key of the tiny root has a bit, so the frequent tags change and every image's bits
    # may: no patch
    _rewrite_meta_folder(root / f"meta{last}", tinykit, add="w99997_CH_21", drop="w99999_CH_21")
    build_index(root, index_dir=idx)
    assert _merged(idx) == ([], "the most frequent tags changed")
    _assert_same_as_fresh(root, idx, tmp_path)

    copy = root / "meta2" / "w99998_CH_21.pickle"
    for grow in (True, False):  # part 2: one image more (a copy of a100's meta), then one fewer again
        if grow:
            shutil.copyfile(_meta_path(root, "a100_CH_19"), copy)
        else:
            copy.unlink()
        _touch(root / "meta2")
        report = build_index(root, index_dir=idx)
        assert _merged(idx) == ([2], ""), grow
        assert report.n_images == (22 if grow else 21)
        _assert_same_as_fresh(root, idx, tmp_path)


def test_a_patch_is_not_made_on_a_grown_or_foreign_database(tmp_path: Path) -> None:
    """plan_patch's conditions on the previous generation, without building."""
    from skyscript_viz.mergepatch import (
        GROWTH_ROOM,
        MAX_GROWTH,
        MAX_PATCH_CHAIN,
        Previous,
        merge_format,
        plan_patch,
    )

    db = tmp_path / "index.duckdb"
    db.write_bytes(b"")
    os.truncate(db, 1000 + GROWTH_ROOM)  # sparse: only its size matters
    ranges = [[2, "p2-b", 0, 10], [3, "p3-a", 10, 10]]
    info = {
        "merge_format": merge_format(),
        "merge_fragment": "frag-x",
        "part_ranges": [[2, "p2-a", 0, 10], [3, "p3-a", 10, 10]],
        "full_size": 1000,
    }
    plan, why = plan_patch(Previous(db, info), "frag-x", ranges, [2, 2, 3], 20)
    assert plan is not None and (plan.parts, plan.units, plan.old_ranges, plan.moves, why) == (
        [2],
        [0, 1],
        [(0, 10)],
        [],
        "",
    )
    shrunk = {**info, "part_ranges": [[2, "p2-a", 0, 11], [3, "p3-a", 11, 10]]}
    plan, why = plan_patch(Previous(db, shrunk), "frag-x", ranges, [2, 2, 3], 30)  # 30: not most images
    assert plan is not None and (plan.old_ranges, plan.moves, why) == ([(0, 11)], [(11, 21, -1)], "")
    for change, reason in [
        ({"merge_format": "1/duckdb-0.9.2"}, "the caption CSVs or the index format changed"),
        ({"merge_fragment": "frag-y"}, "the caption CSVs or the index format changed"),
        ({"full_size": int(1000 / MAX_GROWTH) - 1}, "the database grew by patches: written anew"),
        ({"full_size": None}, "the database grew by patches: written anew"),
        ({"part_ranges": info["part_ranges"][:1]}, "the set of parts changed"),
        ({"part_ranges": ranges}, "no part changed"),
        (
            {"part_ranges": [[2, "p2-a", 0, 10], [3, "p3-a", 10, 11]]},
            "a part kept its name but not its number of images",
        ),
    ]:
        assert plan_patch(Previous(db, {**info, **change}), "frag-x", ranges, [2, 2, 3], 20) == (None, reason)
    assert plan_patch(None, "frag-x", ranges, [2, 3], 20) == (None, "no previous generation")
    # a chain of patches ends in a full merge; info.json not as this code writes it: no patch
    chained = {**info, "patched_since_full": MAX_PATCH_CHAIN}
    assert plan_patch(Previous(db, chained), "frag-x", ranges, [2, 3], 20)[1].startswith(f"{MAX_PATCH_CHAIN} parts")
    for odd in ([[2, "p2-a", "0", 10], [3, "p3-a", 10, 10]], [[2, "p2-a", 0, -1]], [[True, "p2-a", 0, 10]], {"a": 1}):
        assert plan_patch(Previous(db, {**info, "part_ranges": odd}), "frag-x", ranges, [2, 3], 20) == (
            None,
            "the set of parts changed",
        )
    (tmp_path / "info.json").write_text("[" * 100_000 + "]" * 100_000)  # nested too deep for json
    assert Previous.of(tmp_path) is None
    big = [[2, "p2-b", 0, 15], [3, "p3-a", 15, 5]]
    grown = {**info, "part_ranges": [[2, "p2-a", 0, 15], [3, "p3-a", 15, 5]]}
    assert plan_patch(Previous(db, grown), "frag-x", big, [2, 3], 20) == (None, "most images changed")


@pytest.mark.parametrize("damage", ["cut", "gone"])
def test_a_damaged_previous_database_is_merged_in_full(built: tuple[Path, Path], tmp_path: Path, damage: str) -> None:
    """The previous generation's database cut short or removed (a full disk, a hand-made copy): the
    patch cannot start from it, so the build merges in full and says so."""
    root, idx = built
    db = idx / json.loads((idx / "CURRENT").read_text())["generation"] / "index.duckdb"
    if damage == "cut":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    else:
        db.unlink()
    _touch(root / "images3.zip")
    report = build_index(root, index_dir=idx)
    assert report.parts_read == [3]
    patched, why = _merged(idx)
    assert patched == []
    if damage == "cut":
        assert any("could not be patched" in n for n in report.notes), report.notes
        assert why == "the patch of the previous generation failed"
    else:
        assert why == "no previous generation"
    _assert_same_as_fresh(root, idx, tmp_path)


@pytest.mark.parametrize("max_runs", [64, 0])  # the moved ids as runs, or through the join
def test_tags_that_come_and_go_move_the_vocabulary_ids_in_a_patch(
    tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch, max_runs: int
) -> None:
    """A part whose images bring tags no other image has (a re-downloaded part often does): the tags
    after them in (key, value) order get new vocabulary ids, which the patch gives the other parts' tag
    rows; when the tags go again, the ids move back. Only 3 keys and pairs get bits here, as in a real
    root where a rare tag is not among the 62 most frequent."""
    import skyscript_viz.merge as merge_mod
    import skyscript_viz.mergepatch as patch_mod

    monkeypatch.setattr(merge_mod, "TAG_BITS", 3)
    monkeypatch.setattr(patch_mod, "MAX_SHIFT_RUNS", max_runs)
    root = tinykit.make_tiny_root(tmp_path / "root")
    idx = tmp_path / "idx"
    build_index(root, index_dir=idx)
    ix = ImageIndex.open(root, index_dir=idx)
    try:
        assert ix.count(Filters(tags=(TagExpr.parse("leisure=park"),))) == 5
    finally:
        ix.close()
    saved = tmp_path / "meta2-saved"
    shutil.copytree(root / "meta2", saved)
    # one new image with two new tags, one sorting before every other: the ids before the second move
    # by one, those after it by two (two runs)
    rec = {
        "box": (8.5, 47.3, 8.51, 47.31),
        "time": (2021, 6, 1, 10, 0),
        "focus": {"aa_new_key": "x", "leisure": "zz_new"},
        "surrounding": [],
    }
    (root / "meta2" / "w5555_CH_21.pickle").write_bytes(tinykit.meta_bytes(rec))
    report = build_index(root, index_dir=idx)
    assert _merged(idx) == ([2], "")
    _assert_same_as_fresh(root, idx, tmp_path)
    ix = ImageIndex.open(root, index_dir=idx)
    try:
        assert ix.count(Filters(tags=(TagExpr.parse("aa_new_key=x"),))) == 1
        assert ix.count(Filters(tags=(TagExpr.parse("leisure=park"),))) == 5  # a tag whose id moved (as before)
    finally:
        ix.close()
    assert report.n_images == 21
    shutil.rmtree(root / "meta2")
    shutil.copytree(saved, root / "meta2")
    _touch(root / "meta2")
    build_index(root, index_dir=idx)
    assert _merged(idx) == ([2], "")
    _assert_same_as_fresh(root, idx, tmp_path)
