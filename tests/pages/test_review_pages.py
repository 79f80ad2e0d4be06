"""Verdicts and saved views on the pages when the verdict database misbehaves or visitors collide.

Each test runs the app (AppTest) on its own copy of the small demo root, so it can damage that
root's ``reviews.sqlite`` or make its index folder read-only (tests/readonly.py) without touching
the other tests. The pages must stay up, say what is wrong, and refuse writes they cannot keep.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import Filters, ImageIndex
from skyscript_viz.reviewdb import dispose_all
from skyscript_viz.reviews import ReviewStore
from skyscript_viz.text import md_text
from tests.readonly import read_only_folder


@pytest.fixture
def page_root(demo_small: tuple[Path, Any], tmp_path: Path) -> Path:
    """A private copy of the small demo root (index included)."""
    root = tmp_path / "root"
    shutil.copytree(demo_small[0], root)
    return root


@pytest.fixture
def index_dir(page_root: Path) -> Path:
    return page_root / ".skyscript_viz"


@pytest.fixture
def a_filepath(index_small: ImageIndex) -> str:
    return str(index_small.page(Filters(), order="id", offset=3, limit=1).rows["filepath"][0])


def ok(at: Any) -> Any:
    assert not at.exception, [e.value for e in at.exception]
    return at


def warnings(at: Any) -> list[str]:
    """The sidebar's warnings as the reader sees them (the Markdown escapes of skyscript_viz.text removed)."""
    return [re.sub(r"\\(.)", r"\1", str(w.value)).replace("\u2060", "") for w in at.sidebar.warning]


def test_a_corrupt_verdict_database_leaves_the_pages_up(
    open_page: Callable[..., Any], index_dir: Path, a_filepath: str
) -> None:
    for side in ("reviews.sqlite-wal", "reviews.sqlite-shm"):  # a copied WAL would still hold a valid page 1
        (index_dir / side).unlink(missing_ok=True)
    (index_dir / "reviews.sqlite").write_bytes(b"\x00garbage, not SQLite" * 500)
    for page, params in [("image", {"sel": a_filepath}), ("overview", {}), ("gallery", {"rev": "good"})]:
        at = open_page(page, params)
        assert any("Verdicts are unavailable" in w and "reviews.sqlite" in w for w in warnings(at)), page
    at = open_page("image", {"sel": a_filepath})
    ok(at.sidebar.text_input(key="reviewer").input("Ada").run())
    assert not [b for b in at.button if (b.key or "").startswith("image_verdict_")]  # nothing to press
    assert any("cannot be given here" in str(c.value) for c in at.caption)


def test_a_read_only_index_folder_shows_verdicts_read_only(
    open_page: Callable[..., Any], index_dir: Path, a_filepath: str
) -> None:
    ReviewStore(index_dir / "reviews.sqlite").add(a_filepath, "bad_caption", reviewer="Ada", note="a pub?")
    dispose_all()  # no connection from before may keep the file open for writing
    with read_only_folder(index_dir):
        at = open_page("image", {"sel": a_filepath})
        assert any("Verdicts are read-only" in w for w in warnings(at))
        (table,) = [t.value for t in at.table if "reviewer" in t.value.columns]  # what was judged before is still shown
        assert list(table["reviewer"]) == [md_text("Ada (unverified)")] and list(table["note"]) == [md_text("a pub?")]
        assert not [b for b in at.button if (b.key or "").startswith("image_verdict_")]
        at = open_page("overview", {"src": "CH"})
        ok(at.text_input(key="view_name").input("Swiss").run())
        ok(at.button(key="save_view").click().run())
        assert any("verdicts are read" in str(e.value) for e in at.error), [e.value for e in at.error]
        dispose_all()


def test_a_saved_view_is_not_overwritten_by_another_visitor(open_page: Callable[..., Any], index_dir: Path) -> None:
    ada = open_page("overview", {"src": "CH"})
    ok(ada.sidebar.text_input(key="reviewer").input("Ada").run())
    ok(ada.text_input(key="view_name").input("Team view").run())
    ok(ada.button(key="save_view").click().run())
    store = ReviewStore(index_dir / "reviews.sqlite")
    assert store.views() == [("Team view", "src=CH")]
    bob = open_page("overview", {"src": "FI"})
    ok(bob.sidebar.text_input(key="reviewer").input("Bob").run())
    ok(bob.text_input(key="view_name").input("Team view").run())
    ok(bob.button(key="save_view").click().run())
    assert any("belongs to Ada" in str(e.value) and "unverified" in str(e.value) for e in bob.error)
    ok(bob.checkbox(key="view_replace").check().run())
    ok(bob.button(key="save_view").click().run())
    assert any("belongs to Ada" in str(e.value) for e in bob.error)
    assert store.views() == [("Team view", "src=CH")]
    # Ada herself is asked to confirm, then may replace it
    ada = open_page("overview", {"src": "ES"})
    ok(ada.sidebar.text_input(key="reviewer").input("Ada").run())
    ok(ada.text_input(key="view_name").input("Team view").run())
    ok(ada.button(key="save_view").click().run())
    assert any("confirm" in str(e.value) for e in ada.error)
    ok(ada.checkbox(key="view_replace").check().run())
    ok(ada.button(key="save_view").click().run())
    assert store.views() == [("Team view", "src=ES")]


def test_a_database_server_gone_mid_session_leaves_the_pages_up(
    open_page: Callable[..., Any], a_filepath: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pgserver import PgServer

    server = PgServer().start()  # its own server: this test stops it
    try:
        url = server.create("gone")
        monkeypatch.setenv("SKYSCRIPT_DB", url)
        ReviewStore(url).add(a_filepath, "good", reviewer="Ada")
        at = open_page("image", {"sel": a_filepath})
        assert [list(t.value["reviewer"]) for t in at.table if "reviewer" in t.value.columns] == [
            [md_text("Ada (unverified)")]
        ]
        server.stop()
        for page, params in [("image", {"sel": a_filepath}), ("overview", {}), ("gallery", {"rev": "good"})]:
            at = open_page(page, params)
            assert any("Verdicts are unavailable" in w for w in warnings(at)), (page, warnings(at))
        ok(at.sidebar.text_input(key="reviewer").input("Bob").run())
        at = open_page("image", {"sel": a_filepath})
        ok(at.sidebar.text_input(key="reviewer").input("Bob").run())
        ok(at.button(key="image_verdict_bad_image").click().run())
        assert any("verdict database" in str(e.value) for e in at.error)  # said, not swallowed
    finally:
        dispose_all()
        server.stop()


def test_the_db_option_on_the_command_line_names_the_database(
    open_page: Callable[..., Any], a_filepath: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    elsewhere = tmp_path / "team" / "verdicts.sqlite"
    monkeypatch.setenv("SKYSCRIPT_DB", str(tmp_path / "not-this.sqlite"))
    monkeypatch.setattr(sys, "argv", [sys.argv[0], "--db", f"sqlite:///{elsewhere}"])  # streamlit run app.py -- --db
    at = open_page("image", {"sel": a_filepath})
    ok(at.sidebar.text_input(key="reviewer").input("Cleo").run())
    ok(at.button(key="image_verdict_other").click().run())
    assert list(ReviewStore(elsewhere).history()["reviewer"]) == ["Cleo"]
    assert not (tmp_path / "not-this.sqlite").exists()
