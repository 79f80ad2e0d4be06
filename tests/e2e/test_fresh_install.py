"""`pip install -r requirements.txt && streamlit run app.py` in a fresh virtualenv draws the map with
no internet: no `make assets`, no ./static, every script and tile served by the app itself.

The virtualenv is built from requirements.txt alone (no system site-packages) and kept under the
temp folder, keyed by the requirements' hash, so only the first run on a machine pays for it.
The server gets a dead proxy, so a Python download would fail; the browser aborts every request
not addressed to this machine and the test asserts there was none.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOAD_TIMEOUT = 90_000  # ms: the fresh interpreter compiles every module on its first run
OFFLINE_ENV = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
TILES_LOADED = """() => Array.from(document.querySelectorAll('img.leaflet-tile'))
                    .some(i => i.src.includes('/tiles/') && i.complete && i.naturalWidth > 0)"""


@pytest.fixture(scope="session")
def fresh_python() -> str:
    """A virtualenv with nothing but ``pip install -r requirements.txt``; its python."""
    req = (REPO_ROOT / "requirements.txt").read_bytes()
    venv = Path(tempfile.gettempdir()) / f"skyscript-fresh-venv-{hashlib.sha256(req).hexdigest()[:12]}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        stage = Path(tempfile.mkdtemp(prefix="skyscript-fresh-venv-"))
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(stage)], check=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        done = subprocess.run(
            [
                str(stage / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
                str(REPO_ROOT / "requirements.txt"),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.fail(f"pip install -r requirements.txt failed:\n{done.stderr[-4000:]}", pytrace=False)
        (stage / ".complete").touch()
        shutil.rmtree(venv, ignore_errors=True)
        # moved into place whole, so a killed install never looks complete; `bin/python` finds its
        # pyvenv.cfg next to itself wherever the folder is (only console-script shebangs would be stale,
        # and the test runs `python -m streamlit`)
        try:
            stage.rename(venv)
        except OSError:  # another session finished first: use its virtualenv
            shutil.rmtree(stage, ignore_errors=True)
    return str(python)


def test_fresh_venv_has_only_requirements(fresh_python: str) -> None:
    out = subprocess.run(
        [
            fresh_python,
            "-c",
            "import sys; print(sys.prefix != sys.base_prefix);"
            "import importlib.util as u; print(u.find_spec('pytest') is None)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    assert out.stdout.split() == ["True", "True"]  # a virtualenv, and no test tool leaked into it


def _map_drawn(page: Any) -> None:
    frame = page.frame_locator(IFRAME).first
    frame.locator(".leaflet-container").wait_for(state="visible", timeout=LOAD_TIMEOUT)
    frame.locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    inner = page.locator(IFRAME).first.element_handle(timeout=LOAD_TIMEOUT).content_frame()
    inner.wait_for_function(TILES_LOADED, timeout=LOAD_TIMEOUT)
    assert inner.evaluate("() => typeof L === 'object' && L.version") == "1.9.3"


def test_fresh_install_draws_the_map_offline(
    fresh_python: str, demo_small: tuple[Path, Any], streamlit_server, page, screenshot_path
) -> None:
    env = {"SKYSCRIPT_ROOT": str(demo_small[0]), **OFFLINE_ENV}
    base = streamlit_server("app.py", env=env, python=fresh_python)
    for path in ("map", "overview"):
        page.goto(f"{base}/{path}", wait_until="domcontentloaded")
        _map_drawn(page)
        page.screenshot(path=str(screenshot_path(path)))
        assert page.locator('[data-testid="stException"]').count() == 0
    assert page.blocked_requests == [], page.blocked_requests
