"""Signed-in reviewers: with ``[auth]`` in secrets.toml the app signs reviewers in through OIDC
(Streamlit's st.login) and records the verified identity with each verdict.

The OpenID provider is ``oidc-provider-mock`` on localhost (a predefined user ``ada`` with an e-mail
claim); the app gets its ``[auth]`` section from a secrets file named with ``--secrets.files``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from skyscript_viz import Filters, ImageIndex, build_index
from skyscript_viz.reviews import ReviewStore

pytestmark = pytest.mark.e2e


@pytest.fixture
def oidc() -> Iterator[str]:
    """A local OpenID provider; the user ``ada`` signs in as ada@example.org."""
    from oidc_provider_mock import User, run_server_in_thread

    with run_server_in_thread(
        user_claims=[User(sub="ada", claims={"email": "ada@example.org", "name": "Ada"})]
    ) as server:
        yield f"http://localhost:{server.server_port}"


def test_a_signed_in_reviewer_gives_verified_verdicts(
    tmp_path: Path, oidc: str, streamlit_server: Callable[..., str], page: Any, screenshot_path: Callable[[str], Path]
) -> None:
    from skyscript_viz.demo import generate

    root = tmp_path / "root"
    generate(root, n_objects=40, seed=0)
    build_index(root)
    idx = ImageIndex.open(root)
    fp = str(idx.page(Filters(), order="id", offset=2, limit=1).rows["filepath"][0])
    idx.close()
    with socket.socket() as s:  # the redirect URI in the settings names the app's port
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a long random string for the test only"
client_id = "skyscript-explorer"
client_secret = "anything"
server_metadata_url = "{oidc}/.well-known/openid-configuration"
""")
    base = streamlit_server(
        "app.py",
        env={"SKYSCRIPT_ROOT": str(root), "XDG_CACHE_HOME": str(tmp_path / "c")},
        args=["--secrets.files", str(secrets)],
        port=port,
    )
    page.goto(f"{base}/image?sel={quote(fp, safe='')}", wait_until="domcontentloaded")
    page.get_by_text("Sign in (sidebar) to give verdicts.").wait_for(timeout=60_000)
    assert page.get_by_label("Your name (for verdicts)").count() == 0  # no typed names with sign-in
    page.locator(".st-key-login button").click()
    page.locator("button[name='sub'][value='ada']").click(timeout=30_000)  # the provider's form
    page.get_by_text("Signed in as").wait_for(timeout=60_000)
    page.locator("code", has_text="ada@example.org").first.wait_for()
    page.goto(f"{base}/image?sel={quote(fp, safe='')}", wait_until="domcontentloaded")
    page.wait_for_function(
        "() => { const b = document.querySelector('.st-key-image_verdict_good button'); return b && !b.disabled; }",
        timeout=60_000,
    )
    page.locator(".st-key-image_verdict_good button").click()
    page.get_by_text("Saved: Good").first.wait_for(timeout=30_000)
    history = page.locator("table", has_text="ada@example.org")
    history.wait_for(timeout=30_000)
    assert "unverified" not in history.inner_text()
    page.screenshot(path=str(screenshot_path("signed-in-verdict")), full_page=True)
    hist = ReviewStore(root / ".skyscript_viz" / "reviews.sqlite").history(fp)
    assert list(zip(hist["reviewer"], hist["verified"], hist["verdict"], strict=True)) == [
        ("ada@example.org", True, "good")
    ]
