"""Builds of one index never collide: a second build waits (or says who holds the lock), and the
previous index stays usable throughout."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import Filters, ImageIndex, IndexBuildError, build_index, default_index_dir
from skyscript_viz.buildlock import build_lock

REPO = Path(__file__).resolve().parents[1]


def test_two_cli_builds_of_one_root_at_once(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "skyscript_viz", "index", str(root), "--workers", str(w)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (1, 2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    idx = ImageIndex.open(root)
    try:
        assert idx.count(Filters()) == 20
    finally:
        idx.close()
    leftovers = [d.name for d in default_index_dir(root).rglob(".tmp-*")]
    assert leftovers == []


def test_builds_in_threads_wait_for_each_other(tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # a build sent there is seen, not left in ~
    root = tinykit.make_tiny_root(tmp_path / "root")
    reports: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(build_index(root))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r.n_images for r in reports] == [20, 20, 20]
    assert {r.index_dir for r in reports} == {root.resolve() / ".skyscript_viz"}  # one folder, one lock
    assert sum(not r.up_to_date for r in reports) == 1  # the others found the first one's index
    assert not (tmp_path / "cache").exists()


def test_an_index_folder_made_meanwhile_by_another_build_is_used(
    tmp_path: Path, tinykit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race behind a failed CI run: a second build asked where the index goes just as the first one
    # created ROOT/.skyscript_viz, was sent to the user cache dir, and built a second index there under a
    # lock of its own. Here the folder appears at the worst moment: while its existence is tested.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tinykit.make_tiny_root(tmp_path / "root").resolve()
    local = root / ".skyscript_viz"
    real_exists = Path.exists

    def made_meanwhile(self: Path, *args: Any, **kwargs: Any) -> bool:
        if self == local:
            local.mkdir(exist_ok=True)  # the other build's mkdir, just now
        return real_exists(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(Path, "exists", made_meanwhile)
        assert default_index_dir(root) == local
    report = build_index(root)
    assert report.index_dir == local
    assert not (tmp_path / "cache").exists()


def test_not_waiting_names_the_pid_holding_the_lock(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    idx_dir = default_index_dir(root)
    idx_dir.mkdir(parents=True)
    with build_lock(idx_dir), pytest.raises(IndexBuildError, match=f"already running \\(pid {os.getpid()}\\)"):
        build_index(root, wait=False)
    messages: list[str] = []
    release = threading.Timer(0.5, lambda: None)
    holder = threading.Event()

    def hold() -> None:
        with build_lock(idx_dir):
            holder.set()
            release.start()
            release.join()

    t = threading.Thread(target=hold)
    t.start()
    holder.wait()
    report = build_index(root, on_wait=messages.append)  # waits for the holder, then builds
    t.join()
    assert report.n_images == 20
    assert messages and messages[0].startswith("waiting: a build of this index is already running")


def test_previous_index_answers_while_a_new_one_is_built(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    build_index(root)
    old = ImageIndex.open(root)
    try:
        done = threading.Event()
        counts: list[int] = []

        def rebuild() -> None:
            build_index(root, force=True)
            done.set()

        t = threading.Thread(target=rebuild)
        t.start()
        while not done.is_set():
            counts.append(old.count(Filters()))
        t.join()
        counts.append(old.count(Filters()))
        assert set(counts) == {20}
    finally:
        old.close()
