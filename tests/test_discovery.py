"""Finding parts and caption CSVs in folder, zip and mixed layouts; clear errors for unusable roots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import DatasetRootError, PartStore, build_index, discover

SUBSETS = [
    ("unfiltered", "SkyScript_train_unfiltered_5M.csv"),
    ("top30_openai", "dataframe/SkyScript_train_top30pct_filtered_by_CLIP_openai.csv"),
    ("val", "dataframe/SkyScript_val_5K_filtered_by_CLIP_openai.csv"),
]


def _stores(layout: Any) -> dict[int, tuple[tuple[str, str] | None, tuple[str, str] | None]]:
    def one(s: PartStore | None) -> tuple[str, str] | None:
        return None if s is None else (s.kind, s.path.name)

    return {p.number: (one(p.images), one(p.meta)) for p in layout.parts}


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        (
            "folder",
            {
                2: (("folder", "images2"), ("folder", "meta2")),
                3: (("folder", "images3"), ("folder", "meta3")),
                4: (("folder", "images4"), ("folder", "meta4")),
            },
        ),
        (
            "zip",
            {
                2: (("zip", "images2.zip"), ("zip", "meta2.zip")),
                3: (("zip", "images3.zip"), ("zip", "meta3.zip")),
                4: (("zip", "images4.zip"), ("zip", "meta4.zip")),
            },
        ),
        (
            "mixed",
            {
                2: (("folder", "images2"), ("folder", "meta2")),
                3: (("zip", "images3.zip"), ("zip", "meta3.zip")),
                4: (("zip", "images4.zip"), ("folder", "meta4")),
            },
        ),
    ],
)
def test_layouts(tmp_path: Path, tinykit: Any, layout: str, expected: dict[int, Any]) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", layout)
    found = discover(root)
    assert found.root == root.resolve()
    assert _stores(found) == expected
    assert all(s.path.is_absolute() for p in found.parts for s in (p.images, p.meta) if s)
    assert [(c.subset, c.relpath) for c in found.csvs] == SUBSETS
    assert [c.priority for c in found.csvs] == sorted(c.priority for c in found.csvs)
    assert found.benchmark is None
    assert found.notes == []


@pytest.mark.parametrize("layout", ["folder", "zip", "mixed"])
def test_every_layout_indexes_to_the_same_records(tmp_path: Path, tinykit: Any, layout: str) -> None:
    from skyscript_viz import Filters, ImageIndex

    root = tinykit.make_tiny_root(tmp_path / "root", layout)
    report = build_index(root)
    assert report.n_images == 20
    assert report.problems_by_kind == {}
    idx = ImageIndex.open(root)
    try:
        rows = idx.page(Filters(), limit=100).rows
        assert list(rows["filepath"]) == sorted(f"images{r['part']}/{r['stem']}.jpg" for r in tinykit.records)
        assert rows["has_image"].all()
        assert rows["cx"].notna().all()
    finally:
        idx.close()


def test_folder_wins_over_zip_of_the_same_part(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "folder")
    tinykit.write_store(root / "images2", "zip/", {"x.jpg": b"not used"})  # images2.zip next to images2/
    found = discover(root)
    assert _stores(found)[2] == (("folder", "images2"), ("folder", "meta2"))
    assert found.notes == ["images2.zip ignored: images2 holds the same part"]


def test_csv_without_filepath_column_is_skipped_with_a_note(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "mixed")
    (root / "notes.csv").write_text("name,value\na,1\n")
    (root / "dataframe" / "labels.csv").write_text("FilePath,title\nimages2/a100_CH_19.jpg,x\n")
    found = discover(root)
    assert [c.subset for c in found.csvs] == ["unfiltered", "top30_openai", "val"]
    assert sorted(found.notes) == [
        "dataframe/labels.csv skipped: no 'filepath' column",
        "notes.csv skipped: no 'filepath' column",
    ]


def test_unofficial_csv_names_become_subsets(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "mixed")
    (root / "My Captions (v2).csv").write_text("\ufefffilepath,title\nimages2/a100_CH_19.jpg,x\n")
    (root / "dataframe" / "my-captions-v2.csv").write_text("filepath,title\n")
    found = discover(root)
    official_max = max(c.priority for c in found.csvs if c.subset in ("unfiltered", "top30_openai", "val"))
    extra = [(c.subset, c.label) for c in found.csvs if c.priority > official_max]
    # unofficial CSVs rank after every official one, in path order; clashing slugs get a suffix
    assert extra == [("my_captions_v2", "My Captions (v2)"), ("my_captions_v2_2", "my-captions-v2")]


def test_csv_only_root_and_benchmark_folder(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "benchmark" / "aid").mkdir(parents=True)
    (root / "SkyScript_val_5K_filtered_by_CLIP_openai.csv").write_text("filepath,title\n")
    found = discover(root)
    assert found.parts == []
    assert [c.subset for c in found.csvs] == ["val"]
    assert found.benchmark == (root / "benchmark").resolve()


def test_part_with_images_only_and_lookalike_names(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "images5").mkdir(parents=True)
    (root / "meta6.zip").mkdir()  # a folder named like a zip is not a part
    (root / "images7.zip").write_bytes(b"")  # a zip file: a part (its damage shows when it is read)
    (root / "images").mkdir()
    (root / "images2.tar").write_bytes(b"")
    (root / "imagesX").mkdir()
    found = discover(root)
    assert _stores(found) == {5: (("folder", "images5"), None), 7: (("zip", "images7.zip"), None)}


def test_fingerprints_change_with_content(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "mixed")
    before = {p.number: p.fingerprint() for p in discover(root).parts}
    assert before == {p.number: p.fingerprint() for p in discover(root).parts}
    (root / "meta2" / "extra.pickle").write_bytes(b"x")
    st = (root / "images3.zip").stat()
    os.utime(root / "images3.zip", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    after = {p.number: p.fingerprint() for p in discover(root).parts}
    assert [n for n in before if before[n] != after[n]] == [2, 3]


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(DatasetRootError, match="does not exist") as info:
        discover(tmp_path / "nope")
    assert "\n" not in str(info.value)
    assert "nope" in str(info.value)


def test_root_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file.zip"
    f.write_bytes(b"")
    with pytest.raises(DatasetRootError, match="is not a folder") as info:
        discover(f)
    assert "\n" not in str(info.value)


def test_root_without_parts(tmp_path: Path) -> None:
    (tmp_path / "random.txt").write_text("x")
    (tmp_path / "other.csv").write_text("a,b\n")
    with pytest.raises(DatasetRootError, match="holds no SkyScript parts") as info:
        discover(tmp_path)
    assert "\n" not in str(info.value)


def test_root_given_as_str_with_user_home(tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tinykit.make_tiny_root(tmp_path / "root", "folder")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert discover("~/root").root == (tmp_path / "root").resolve()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_root(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "folder")
    root.chmod(0)
    try:
        with pytest.raises(DatasetRootError, match="not readable") as info:
            discover(root)
        assert "\n" not in str(info.value)
    finally:
        root.chmod(0o755)
