"""The merge's progress: every step is told as it starts, in order, and the count ends where it said.

At 5.2M images the merge runs for minutes after the last part's bar is full; without these steps the
CLI and the app showed a finished bar and nothing else for that long.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import build_index
from skyscript_viz.cli import main
from skyscript_viz.discovery import discover
from skyscript_viz.mergesteps import MergeSteps

Step = tuple[str, int, int]


def _build(root: Path, **kwargs: Any) -> tuple[Any, list[Step]]:
    seen: list[Step] = []
    report = build_index(root, merge_progress=lambda *a: seen.append(a), **kwargs)
    return report, seen


def _check_counts(seen: list[Step]) -> list[str]:
    """The steps' labels, after checking they were counted one by one and ended with ("done", n, n)."""
    assert seen, "no merge step was reported"
    label, n, total = seen[-1]
    assert (label, n) == ("done", total) and n == len(seen) - 1
    assert [done for _, done, _ in seen[:-1]] == list(range(n))  # one step at a time, in order
    assert all(done < total for _, done, total in seen[:-1])  # never more done than planned
    return [label for label, _, _ in seen[:-1]]


def _bump(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))


def test_a_full_merge_reports_each_step_and_plans_their_number(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    report, seen = _build(root)
    labels = _check_counts(seen)
    assert {total for _, _, total in seen} == {len(labels)}  # a build from nothing knows its steps at once
    csvs = [c.relpath for c in discover(root).csvs]
    assert csvs and labels[: len(csvs)] == [f"caption CSVs: reading {c}" for c in csvs]
    assert "caption CSVs: the words of each caption" in labels and "caption CSVs: sorting the word index" in labels
    for part in report.parts_read:
        assert f"part {part}: its images joined with the captions" in labels
        assert f"images: the rows of part {part}" in labels
    assert labels[-1] == "the problems table and the counts"

    # unchanged: nothing to merge, no step
    assert _build(root)[1] == []


def test_a_patch_reports_only_its_own_steps(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    _build(root)
    _bump(root / "images3.zip")
    report, seen = _build(root)
    assert report.patched == [3]
    labels = _check_counts(seen)
    assert not any(label.startswith("caption CSVs") for label in labels)  # the CSV stage is reused
    assert "copying the previous index" in labels and "removing the changed parts' rows" in labels
    assert [la for la in labels if la.startswith("images:")] == ["images: the rows of part 3"]
    assert [la for la in labels if la.endswith("joined with the captions")] == [
        "part 3: its images joined with the captions"
    ]


def test_steps_of_a_part_read_in_pieces_name_the_piece(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    _build(root)
    _bump(root / "meta3.zip")
    _, seen = _build(root, workers=2)  # one changed part, two workers: read in two pieces
    labels = _check_counts(seen)
    assert [la for la in labels if la.startswith("images:")] == [
        "images: the rows of part 3 (piece 1)",
        "images: the rows of part 3 (piece 2)",
    ]


def test_merge_steps_plan_never_goes_below_what_started() -> None:
    seen: list[Step] = []
    steps = MergeSteps(lambda *a: seen.append(a))
    steps.plan(5)
    steps("a")
    steps("b")
    steps.plan(1)  # a plan smaller than what already started keeps the started ones
    steps("c")  # more steps than planned grow the plan
    steps.finish()
    assert seen == [("a", 0, 5), ("b", 1, 5), ("c", 2, 3), ("done", 3, 3)]


def test_cli_shows_the_merge_bar(tmp_path: Path, tinykit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    assert main(["index", str(root), "--workers", "1"]) == 0
    err = capsys.readouterr().err.replace("\r", "\n")
    assert "images: the rows of part 4" in err
    last = [ln for ln in err.splitlines() if ln.startswith("merge:")][-1].rstrip()
    assert last.startswith("merge: 100%") and last.endswith(", done"), last


class _Bar:
    """What st.progress returns, as the app uses it: the values and texts it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def progress(self, value: float, text: str) -> None:
        self.calls.append((value, text))


def test_the_app_build_shows_parts_then_merge_steps(tmp_path: Path, tinykit: Any) -> None:
    from skyscript_viz.text import md_text
    from skyscript_viz.ui.data import build_with_progress

    root = tinykit.make_tiny_root(tmp_path / "root")
    (root / "dataframe").mkdir(exist_ok=True)
    (root / "dataframe" / "a_*odd*_[name].csv").write_text("filepath,title\nimages2/x.jpg,x\n", encoding="utf-8")
    bar = _Bar()
    report = build_with_progress(root, bar)
    assert report.n_images == 20
    texts = [t for _, t in bar.calls]
    first_merge = next(i for i, t in enumerate(texts) if t.startswith("merging: "))
    assert first_merge > 0 and all(t.startswith("part ") for t in texts[:first_merge])
    assert texts[first_merge].endswith(f"(step 1 of {texts[first_merge].rsplit(' ', 1)[1]}")
    # a CSV's name is user text: Markdown in it is escaped before it reaches the bar
    odd = "merging: " + md_text("caption CSVs: reading dataframe/a_*odd*_[name].csv")
    assert "\\*odd\\*" in odd
    assert any(t.startswith(odd) for t in texts), [t for t in texts if "reading" in t]
    assert bar.calls[-1] == (1.0, "merged")
    values = [v for v, t in bar.calls[first_merge:]]
    assert values == sorted(values) and all(0.0 <= v <= 1.0 for v in values)


def test_the_build_button_builds_and_opens_the_dataset(
    tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A root without an index: the app says so, its button builds one (with the bar above), and the
    page that follows shows the dataset."""
    import sys

    from streamlit.testing.v1 import AppTest

    root = tinykit.make_tiny_root(tmp_path / "root")
    monkeypatch.setenv("SKYSCRIPT_ROOT", str(root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    app = Path(__file__).resolve().parents[1] / "app.py"
    monkeypatch.setattr(sys, "argv", [str(app)])
    at = AppTest.from_file(str(app), default_timeout=120).run()
    assert any("has no index yet" in w.value for w in at.warning), [w.value for w in at.warning]
    at.button(key="build_index").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("has no index yet" in w.value for w in at.warning)
    assert "#### 20 images match" in [m.value for m in at.markdown]


def test_the_app_build_says_it_waits_for_another_build(tmp_path: Path, tinykit: Any) -> None:
    """A second session clicking "Build the index now" while a build runs: its bar says it waits, and why."""
    import threading

    from skyscript_viz.build import default_index_dir
    from skyscript_viz.buildlock import build_lock
    from skyscript_viz.text import md_text
    from skyscript_viz.ui.data import build_with_progress

    root = tinykit.make_tiny_root(tmp_path / "root")
    idx = default_index_dir(root)
    idx.mkdir(parents=True)
    holding, release = threading.Event(), threading.Event()

    def other_build() -> None:
        with build_lock(idx):
            holding.set()
            release.wait(30)

    t = threading.Thread(target=other_build)
    t.start()
    holding.wait(30)
    bar = _Bar()
    threading.Timer(0.5, release.set).start()
    report = build_with_progress(root, bar)
    t.join()
    assert report.n_images == 20
    assert bar.calls[0][0] == 0.0
    said = md_text(f"waiting: a build of this index is already running (pid {os.getpid()})")
    assert bar.calls[0][1] == f"{said}; this one starts when it ends"
    assert bar.calls[-1] == (1.0, "merged")
