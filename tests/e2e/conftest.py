"""Browser test harness: a Streamlit server per app, Debian's Chromium driven by Playwright.

* Everything under tests/e2e is marked ``e2e`` (``make test-fast`` deselects it).
* ``streamlit_server(app_path, env=..., args=..., port=None, python=None)`` starts ``python -m streamlit
  run`` on a free port (or ``port``, for an app whose settings must name it; ``python``: another
  interpreter) with the repository root as working directory (so ``.streamlit/config.toml`` applies),
  waits for ``/_stcore/health`` and returns the base URL; the server is stopped at the end of the test.
  ``streamlit_server.servers`` lists the StreamlitServer objects started so far (``.proc``, ``.port``).
* ``browser`` (session): ``/usr/bin/chromium`` with sandbox/GPU/background networking off.
  Never ``playwright install``.
* ``page``: a fresh context that aborts every request not addressed to this machine (the tests
  prove the app works without internet), collects console errors in ``page.console_errors`` and
  blocked URLs in ``page.blocked_requests``, and saves a screenshot to
  ``test-artifacts/screenshots/<test name>.png`` when the test fails. ``screenshot_path(name)``
  gives a path there for screenshots a test wants to keep.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
SCREENSHOT_DIR = ARTIFACTS_DIR / "screenshots"
CHROMIUM = os.environ.get("SKYSCRIPT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SERVER_START_TIMEOUT = 60.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

_E2E_DIR = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselection looks at the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _safe_name(nodeid_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid_name).strip("_")[:150] or "test"


# ---- Streamlit server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StreamlitServer:
    """A running ``streamlit run`` subprocess."""

    def __init__(
        self,
        app_path: Path,
        env: dict[str, str] | None,
        args: list[str],
        tmp_root: Path,
        port: int | None = None,
        python: str | None = None,
    ) -> None:
        self.app_path = app_path.resolve()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_root / f"streamlit-{self.port}.log"
        script = self.app_path
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), full_env.get("PYTHONPATH", "")) if p)
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        full_env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
        if env:
            full_env.update(env)
        cmd = [
            python or sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            *args,
        ]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def wait_healthy(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.05
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {self.proc.returncode} before it was healthy\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last = f"HTTP {resp.status}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise RuntimeError(f"streamlit not healthy after {timeout:.0f}s ({last})\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture
def streamlit_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., str]]:
    """Factory: ``base_url = streamlit_server(app_path, env=None, args=(), python=None)``.

    ``python`` runs the server with another interpreter (a virtualenv's) instead of this one.

    Servers are stopped at teardown; if the test failed, their output is printed.
    """
    servers: list[StreamlitServer] = []
    tmp_root = tmp_path_factory.mktemp("streamlit")

    def start(
        app_path: str | Path,
        env: dict[str, str] | None = None,
        args: list[str] | tuple[str, ...] = (),
        port: int | None = None,
        python: str | None = None,
    ) -> str:
        path = Path(app_path)
        if not path.is_absolute():
            path = REPO_ROOT / path
        if not path.is_file():
            raise FileNotFoundError(path)
        server = StreamlitServer(path, env, list(args), tmp_root, port, python)
        servers.append(server)
        try:
            server.wait_healthy()
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
        return server.url

    start.servers = servers  # type: ignore[attr-defined]  # for tests that kill a server on purpose
    yield start

    failed = any(getattr(getattr(request.node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))
    for server in servers:
        server.stop()
        if failed:
            print(f"\n----- streamlit output ({server.app_path.name}, port {server.port}) -----")
            print(server.output()[-20000:])


# ---- browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        msg = f"{CHROMIUM} not found: install Debian's chromium (make test does it as root)"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-error", "file"):
        return True
    host = (parts.hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    blocked: list[str] = []

    def route(r: Any) -> None:
        if _is_local(r.request.url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    console_errors: list[str] = []
    pg.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: console_errors.append(f"pageerror: {exc}"))
    pg.console_errors = console_errors
    pg.blocked_requests = blocked
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            shot = SCREENSHOT_DIR / f"{_safe_name(request.node.name)}.png"
            with contextlib.suppress(Exception):
                pg.screenshot(path=str(shot), full_page=True)
                print(f"\nscreenshot: {shot}")
            if console_errors:
                print("browser console errors:\n  " + "\n  ".join(console_errors))
            if blocked:
                print("blocked external requests:\n  " + "\n  ".join(blocked[:50]))
        context.close()


@pytest.fixture
def screenshot_path(request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``screenshot_path("map")`` -> ``test-artifacts/screenshots/<test name>-map.png``."""

    def make(suffix: str = "") -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        name = _safe_name(request.node.name) + (f"-{_safe_name(suffix)}" if suffix else "")
        return SCREENSHOT_DIR / f"{name}.png"

    return make
