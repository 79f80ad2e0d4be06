"""Fixtures for the Streamlit AppTest page tests.

The pages run in this process on a small generated demo root (``demo_small`` from tests/conftest.py:
``skyscript_viz.demo.generate(n_objects=40)`` + ``build_index``) named by ``SKYSCRIPT_ROOT``, so a test
starts in well under a second and the built-in default demo is never generated here.

* ``page_root`` / ``page_manifest`` / ``page_index``: that root, its DemoManifest, an ImageIndex on it
  (the counts the page shows are compared with ``page_index.count(Filters(...))``).
* ``app(query_params=None)``: a fresh ``AppTest`` of ``app.py`` (a new browser session), run once,
  with the given URL query parameters.
* ``open_page(page, query_params=None)``: the same, switched to ``pages/<page>.py``, run, and checked
  to have raised nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = REPO_ROOT / "app.py"
RUN_TIMEOUT = 60.0  # seconds; a run takes well under one, but CI machines have two slow cores


@pytest.fixture(scope="session")
def page_root(demo_small: tuple[Path, Any]) -> Path:
    return demo_small[0]


@pytest.fixture(scope="session")
def page_manifest(demo_small: tuple[Path, Any]) -> Any:
    return demo_small[1]


@pytest.fixture(scope="session")
def page_index(index_small: Any) -> Any:
    return index_small


@pytest.fixture
def app_env(page_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment ``streamlit run app.py`` would see with ``SKYSCRIPT_ROOT=<small demo>``."""
    monkeypatch.setenv("SKYSCRIPT_ROOT", str(page_root))
    # nothing the pages do may touch the user's cache (the default demo lives there)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    # the page reads `--root` from sys.argv; pytest's own arguments must not be taken for it
    monkeypatch.setattr(sys, "argv", [str(APP)])
    return page_root


@pytest.fixture
def app(app_env: Path) -> Iterator[Callable[..., Any]]:
    """Factory: ``at = app({"sel": "images2/x.jpg"})`` -> an AppTest of app.py after its first run."""
    from streamlit.testing.v1 import AppTest

    def start(query_params: Mapping[str, str | list[str]] | None = None) -> Any:
        at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
        for key, value in (query_params or {}).items():
            at.query_params[key] = value
        return at.run()

    return start


@pytest.fixture
def open_page(app_env: Path) -> Callable[..., Any]:
    """``at = open_page("gallery", {"src": "CH"})``: a new session opened on that page with that link."""
    from streamlit.testing.v1 import AppTest

    def start(page: str, query_params: Mapping[str, str | list[str]] | None = None) -> Any:
        at = AppTest.from_file(str(APP), default_timeout=120)
        for k, v in (query_params or {}).items():
            at.query_params[k] = v
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return start
