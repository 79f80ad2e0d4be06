"""Two app servers on two ports share one PostgreSQL: a verdict given through one is seen through the
other, and killing the first right after it acknowledged the verdict loses nothing.

This is the deployment README's "Several servers" section describes (behind a reverse proxy with
sticky sessions, each browser session stays on one server); here each browser talks to its server
directly. The database is a fresh one on the session's test PostgreSQL (fixture ``pg``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from skyscript_viz import Filters, ImageIndex, build_index
from skyscript_viz.reviews import ReviewStore
from skyscript_viz.text import md_text
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skyscript_viz.demo import generate

    root = tmp_path_factory.mktemp("team_e2e") / "root"
    generate(root, n_objects=40, seed=0)
    build_index(root)
    return root


REVIEWER = "Ines on server one"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_CONF = Path(__file__).resolve().parents[2] / "docs" / "nginx.conf"
README = NGINX_CONF.parents[1] / "README.md"


def _target(root: Path) -> tuple[str, str]:
    """A file path to judge and its image-page path."""
    idx = ImageIndex.open(root)
    fp = str(idx.page(Filters(), order="id", offset=7, limit=1).rows["filepath"][0])
    idx.close()
    return fp, f"/image?sel={quote(fp, safe='')}"


def _give_verdict(page: Any, url: str, fp: str) -> None:
    """Type a reviewer name, judge the image "Wrong place" and wait for the acknowledgement."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_text("No verdict yet.").wait_for(timeout=60_000)
    name = page.get_by_label("Your name (for verdicts)")
    name.fill(REVIEWER)
    name.press("Enter")
    page.wait_for_function(
        "() => { const b = document.querySelector('.st-key-image_verdict_wrong_place button');"
        " return b && !b.disabled; }",
        timeout=30_000,
    )
    page.locator(".st-key-image_verdict_wrong_place button").click()
    page.get_by_text(f"Saved: Wrong place for {md_text(fp)}".replace("\\", "")).first.wait_for(timeout=30_000)


def _expect_seen(browser: Any, url: str, shot: Path) -> None:
    """A new browser session at ``url`` shows the verdict in the image's history."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    try:
        other = ctx.new_page()
        other.goto(url, wait_until="domcontentloaded")
        history = other.locator("table", has_text=REVIEWER)
        history.wait_for(timeout=60_000)
        row = history.locator("tr", has_text=REVIEWER).inner_text()
        assert "Wrong place" in row and "unverified" in row, row
        other.screenshot(path=str(shot), full_page=True)
    finally:
        ctx.close()


def test_a_verdict_given_on_one_server_is_seen_on_the_other(
    shared_root: Path,
    pg: Any,
    tmp_path: Path,
    streamlit_server: Callable[..., str],
    page: Any,
    browser: Any,
    screenshot_path: Callable[[str], Path],
) -> None:
    url = pg.create("team_e2e")
    env = {"SKYSCRIPT_ROOT": str(shared_root), "SKYSCRIPT_DB": url}
    first = streamlit_server("app.py", env={**env, "XDG_CACHE_HOME": str(tmp_path / "c1")})
    second = streamlit_server("app.py", env={**env, "XDG_CACHE_HOME": str(tmp_path / "c2")})
    fp, path = _target(shared_root)
    _give_verdict(page, first + path, fp)
    # acknowledged: now the first server dies without a chance to flush anything
    os.killpg(streamlit_server.servers[0].proc.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    streamlit_server.servers[0].proc.wait(10)  # type: ignore[attr-defined]
    _expect_seen(browser, second + path, screenshot_path("seen-on-second-server"))
    hist = ReviewStore(url).history(fp)
    assert list(zip(hist["reviewer"], hist["verdict"], strict=True)) == [(REVIEWER, "wrong_place")]


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[[list[int]], tuple[str, Path]]]:
    """Factory: nginx with README's configuration (docs/nginx.conf, its ports changed) in front of the
    given app ports; returns its base URL and its access log."""
    if not Path(NGINX).exists():
        msg = f"{NGINX} not found: install Debian's nginx-light (make test does it as root)"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    procs: list[subprocess.Popen[bytes]] = []

    def start(app_ports: list[int]) -> tuple[str, Path]:
        conf = NGINX_CONF.read_text()
        shown = "\n".join(ln for ln in conf.splitlines() if not ln.startswith("#")).strip()
        assert f"```nginx\n{shown}\n```" in README.read_text(), "README shows another nginx configuration"
        servers = "".join(f"    server 127.0.0.1:{p};\n" for p in app_ports)
        conf, n = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+;\n(?:    server 127\.0\.0\.1:\d+;\n)*", servers, conf)
        port = free_port()
        conf, m = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", conf)
        assert n == 1 and m == 1, "docs/nginx.conf no longer has the upstream servers and listen line"
        d = tmp_path / "nginx"
        d.mkdir()
        user = "user root root;\n" if os.geteuid() == 0 else ""  # the workers write the temp folders below
        temps = "".join(f"  {k}_temp_path {d}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (d / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n"
            f"events {{}}\nhttp {{\n  access_log {d}/access.log;\n{temps}{conf}}}\n"
        )
        procs.append(subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf"), "-e", str(d / "error.log")]))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return f"http://127.0.0.1:{port}", d / "access.log"
            assert procs[-1].poll() is None, (d / "error.log").read_text()
            time.sleep(0.1)
        pytest.fail(f"nginx did not listen on {port}: {(d / 'error.log').read_text()}")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def test_two_servers_behind_nginx_as_the_readme_says(
    shared_root: Path,
    pg: Any,
    tmp_path: Path,
    streamlit_server: Callable[..., str],
    nginx: Callable[[list[int]], tuple[str, Path]],
    page: Any,
    browser: Any,
    screenshot_path: Callable[[str], Path],
) -> None:
    """The README's nginx configuration serves the app (websocket upgraded through the proxy) from two
    servers on one PostgreSQL; when the server a client was on dies, the next session lands on the other
    and sees everything."""
    url = pg.create("team_proxy_e2e")
    env = {"SKYSCRIPT_ROOT": str(shared_root), "SKYSCRIPT_DB": url}
    for i in (1, 2):
        streamlit_server("app.py", env={**env, "XDG_CACHE_HOME": str(tmp_path / f"c{i}")})
    servers = streamlit_server.servers  # type: ignore[attr-defined]
    proxy, access_log = nginx([s.port for s in servers])
    fp, path = _target(shared_root)
    _give_verdict(page, proxy + path, fp)
    page.goto("about:blank")  # nginx logs the websocket once it closes: 101, upgraded through the proxy
    deadline = time.monotonic() + 15
    while not re.search(r'"GET /_stcore/stream HTTP/1\.1" 101 ', access_log.read_text()):
        assert time.monotonic() < deadline, access_log.read_text()[-3000:]
        time.sleep(0.2)
    # whichever server ip_hash gave this client, the first one dies: nginx sends the next session on
    os.killpg(servers[0].proc.pid, signal.SIGKILL)
    servers[0].proc.wait(10)
    _expect_seen(browser, proxy + path, screenshot_path("proxy-after-a-server-died"))
    hist = ReviewStore(url).history(fp)
    assert list(zip(hist["reviewer"], hist["verdict"], strict=True)) == [(REVIEWER, "wrong_place")]
