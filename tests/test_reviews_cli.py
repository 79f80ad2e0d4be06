"""``python -m skyscript_viz reviews export|import``: verdicts move SQLite -> PostgreSQL -> SQLite intact.

Runs the real command line (skyscript_viz.cli.main) against a SQLite file and a database on the test
PostgreSQL server (fixture ``pg``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from skyscript_viz.cli import main
from skyscript_viz.reviews import ReviewStore

SAME = ["filepath", "reviewer", "verified", "verdict", "note", "audit", "created"]


def seeded(path: Path) -> ReviewStore:
    store = ReviewStore(path)
    store.add("images2/a1_CH_19.jpg", "good", reviewer="Ada")
    store.add(
        "images2/a1_CH_19.jpg",
        "bad_caption",
        reviewer="grace@example.org",
        verified=True,
        note='=HYPERLINK("http://evil.example","x")\nsecond line, "quoted"',
        audit="audit-1",
    )
    store.add("images3/ünï_FI_20.jpg", "wrong_place", reviewer="Ada", note="🙂")
    store.save_view("tennis", "src=CH&tag=sport%3Dtennis", owner="Ada")
    store.save_view("mine", "src=FI", owner="grace@example.org", verified=True)
    return store


def rows(store: ReviewStore) -> pd.DataFrame:
    return store.history()[SAME].reset_index(drop=True)


def test_sqlite_to_postgresql_and_back(tmp_path: Path, pg: object, capsys: pytest.CaptureFixture[str]) -> None:
    src = seeded(tmp_path / "a" / "reviews.sqlite")
    dump = tmp_path / "v.jsonl"
    assert main(["reviews", "export", "--db", str(tmp_path / "a" / "reviews.sqlite"), "-o", str(dump)]) == 0
    url = pg.create("cli_target")  # type: ignore[attr-defined]
    assert main(["reviews", "import", str(dump), "--db", url]) == 0
    assert "imported 3 verdicts (0 were already there), 2 saved views" in capsys.readouterr().out
    target = ReviewStore(url)
    pd.testing.assert_frame_equal(rows(target), rows(src))
    assert target.views() == src.views() and target.view_owners() == src.view_owners()
    # the same import again doubles nothing
    assert main(["reviews", "import", str(dump), "--db", url]) == 0
    assert "imported 0 verdicts (3 were already there), 0 saved views (2 already there)" in capsys.readouterr().out
    assert len(target.history()) == 3
    # and back into a new SQLite file
    back = tmp_path / "back.jsonl"
    assert main(["reviews", "export", "--db", url, "-o", str(back)]) == 0
    assert main(["reviews", "import", str(back), "--db", str(tmp_path / "b" / "reviews.sqlite")]) == 0
    pd.testing.assert_frame_equal(rows(ReviewStore(tmp_path / "b" / "reviews.sqlite")), rows(src))


def test_import_reports_bad_lines_and_keeps_a_different_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = ReviewStore(tmp_path / "t.sqlite")
    target.save_view("tennis", "src=ES", owner="Bob")
    good = {
        "kind": "verdict",
        "uid": "u1",
        "filepath": "a.jpg",
        "reviewer": "Ada",
        "verified": False,
        "verdict": "good",
        "note": "",
        "audit": None,
        "created": 1.0,
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "uid": "u2", "verdict": "great"}),
        json.dumps({**good, "uid": "u3", "reviewer": "  "}),
        json.dumps({"kind": "table"}),
        json.dumps({"kind": "view", "name": "tennis", "query": "src=CH", "created": 2.0, "owner": "Ada"}),
        "",
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines))
    assert main(["reviews", "import", str(tmp_path / "in.jsonl"), "--db", str(tmp_path / "t.sqlite")]) == 1
    out = capsys.readouterr().out
    assert "imported 1 verdicts" in out
    assert "a different view named 'tennis' was already there (not replaced)" in out
    for n in (2, 3, 4, 5):
        assert f"skipped line {n}:" in out
    assert list(target.history()["reviewer"]) == ["Ada"]
    assert target.views() == [("tennis", "src=ES")]


def test_reviews_command_needs_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SKYSCRIPT_DB", raising=False)
    assert main(["reviews", "export", "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "--db URL" in capsys.readouterr().err
