"""The caption ids of the images table, whichever way the build joins them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import build_index
from tests.test_build import _write_faults


@pytest.mark.parametrize("hashed", [True, False])
def test_caption_ids_point_to_each_images_captions(
    tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch, hashed: bool
) -> None:
    """Caption ids joined by the caption's hash (the default) or by its text name the image's own captions,
    and an image without a caption gets no id."""
    import duckdb

    from skyscript_viz import mergecsv

    monkeypatch.setattr(mergecsv, "HASH_CAPTION_IDS", hashed)
    root = tinykit.make_tiny_root(tmp_path / "root", "mixed")
    _write_faults(root, tinykit, tmp_path / "pwned")
    report = build_index(root)
    con = duckdb.connect(str(report.index_dir / report.generation / "index.duckdb"), read_only=True)
    for column, cid, table in (
        ("title", "title_cid", "caption_titles"),
        ("title_multi_objects", "multi_cid", "caption_multis"),
    ):
        wrong, with_text, without = con.execute(
            f"""SELECT count(*) FILTER (WHERE c.text IS DISTINCT FROM i.{column}),
                       count(*) FILTER (WHERE i.{column} IS NOT NULL), count(*) FILTER (WHERE i.{cid} IS NULL)
                FROM images i LEFT JOIN {table} c ON c.cap_id = i.{cid}"""
        ).fetchone()
        assert (wrong, with_text > 10, without > 0) == (0, True, True), column
    con.close()
