"""A running app server picks up a rebuilt index once it is complete, never a half-written one.

Several servers share one index folder: one of them (or a cron job) rebuilds, the others keep
serving. The build writes a generation folder, renames it into place, and only then names it in
CURRENT (skyscript_viz.build); the app compares CURRENT on each run (skyscript_viz.ui.data).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import build_index
from skyscript_viz.build import current_generation


@pytest.fixture
def page_root(demo_small: tuple[Path, Any], tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(demo_small[0], root)
    build_index(root, force=True)  # its own index, naming this copy as its root
    return root


def images(at: Any) -> int:
    return int(next(m.value for m in at.metric if m.label == "Images").replace(",", ""))


def test_a_server_sees_a_new_generation_only_when_it_is_complete(
    open_page: Callable[..., Any], page_root: Path
) -> None:
    before = images(open_page("overview"))
    gen = current_generation(page_root)
    idx = page_root / ".skyscript_viz"
    # a build in progress: a half-written generation (and its temp folder) that CURRENT does not name
    for name in ("gen-99990101T000000-1", ".tmp-gen-99990101T000000-2"):
        (idx / name).mkdir()
        (idx / name / "index.duckdb").write_bytes(b"half written")
    assert images(open_page("overview")) == before
    # the build completes: part 7 is gone from the root, CURRENT names the new generation
    for name in ("images7.zip", "meta7.zip"):
        (page_root / name).unlink()
    report = build_index(page_root)
    assert json.loads((idx / "CURRENT").read_text())["generation"] == report.generation != gen
    after = images(open_page("overview"))
    assert after == report.n_images < before
