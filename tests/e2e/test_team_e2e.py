"""Two app servers on two ports share one PostgreSQL: a verdict given through one is seen through the
other, and killing the first right after it acknowledged the verdict loses nothing.

This is the deployment README's "Several servers" section describes (behind a reverse proxy with
sticky sessions, each browser session stays on one server); here each browser talks to its server
directly. The database is a fresh one on the session's test PostgreSQL (fixture ``pg``).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from skyscript_viz import Filters, ImageIndex, build_index
from skyscript_viz.reviews import ReviewStore
from skyscript_viz.text import md_text

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skyscript_viz.demo import generate

    root = tmp_path_factory.mktemp("team_e2e") / "root"
    generate(root, n_objects=40, seed=0)
    build_index(root)
    return root


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
    idx = ImageIndex.open(shared_root)
    fp = str(idx.page(Filters(), order="id", offset=7, limit=1).rows["filepath"][0])
    idx.close()
    path = f"/image?sel={quote(fp, safe='')}"

    page.goto(first + path, wait_until="domcontentloaded")
    page.get_by_text("No verdict yet.").wait_for(timeout=60_000)
    name = page.get_by_label("Your name (for verdicts)")
    name.fill("Ines on server one")
    name.press("Enter")
    page.wait_for_function(
        "() => { const b = document.querySelector('.st-key-image_verdict_wrong_place button');"
        " return b && !b.disabled; }",
        timeout=30_000,
    )
    page.locator(".st-key-image_verdict_wrong_place button").click()
    page.get_by_text(f"Saved: Wrong place for {md_text(fp)}".replace("\\", "")).first.wait_for(timeout=30_000)
    # acknowledged: now the first server dies without a chance to flush anything
    os.killpg(streamlit_server.servers[0].proc.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    streamlit_server.servers[0].proc.wait(10)  # type: ignore[attr-defined]

    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    try:
        other = ctx.new_page()
        other.goto(second + path, wait_until="domcontentloaded")
        history = other.locator("table", has_text="Ines on server one")
        history.wait_for(timeout=60_000)
        row = history.locator("tr", has_text="Ines on server one").inner_text()
        assert "Wrong place" in row and "unverified" in row, row
        other.screenshot(path=str(screenshot_path("seen-on-second-server")), full_page=True)
    finally:
        ctx.close()
    hist = ReviewStore(url).history(fp)
    assert list(zip(hist["reviewer"], hist["verdict"], strict=True)) == [("Ines on server one", "wrong_place")]
