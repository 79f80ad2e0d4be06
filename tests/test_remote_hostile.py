"""Files and servers that lie (skyscript_viz.remote): a local root shipping ``remote.json`` sends no request,
a reply longer than asked is not read, a dribbling server meets a deadline, https is never downgraded.

Against the fault-injecting range server in tests/remote_server.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import ImageIndex, build_index, cli, remote
from skyscript_viz.discovery import discover
from skyscript_viz.images import ImageStore
from skyscript_viz.query import Filters
from skyscript_viz.remote import transport as remote_transport
from tests import test_remote
from tests.remote_server import RangeServer

# the same fixtures as tests/test_remote.py: the demo laid out as the public files, a private cache, a server
pub, env, server = test_remote.pub, test_remote.env, test_remote.server


def _image_rows(root: Path) -> list[dict[str, Any]]:
    idx = ImageIndex.open(root)
    try:
        rows = idx.page(Filters(), limit=500).rows.to_dict("records")
    finally:
        idx.close()
    return [r for r in rows if r["has_image"]][:5]


# ---- a local root that ships remote.json ---------------------------------------------------------------


@pytest.fixture
def shipped_cache(server: RangeServer, env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A real cache root of the server's URL, copied elsewhere as if a dataset folder shipped it."""
    assert cli.main(["index", server.url, "--workers", "1", "--parts", "2"]) == 0
    capsys.readouterr()
    copy = tmp_path / "downloads" / "SkyScript"
    shutil.copytree(remote.cache_root(server.url), copy)
    shutil.rmtree(copy / "objects", ignore_errors=True)  # nothing fetched yet: every image needs the server
    return copy


def test_shipped_index_sends_no_request(shipped_cache: Path, server: RangeServer) -> None:
    """Its own index (rows stored as remote-zip) is opened as a local root: images are refused, unsent."""
    rows = _image_rows(shipped_cache)
    assert rows and {r["storage"] for r in rows} == {"remote-zip"}
    mark = server.mark()
    store = ImageStore(shipped_cache)
    results = [store.image(r) for r in rows]
    assert server.requests_since(mark) == []
    assert all(not r.ok and "not opened as a URL" in (r.problem or "") for r in results)


def test_shipped_remote_json_is_no_remote_store(shipped_cache: Path, server: RangeServer) -> None:
    shutil.rmtree(shipped_cache / ".skyscript_viz")
    layout = discover(shipped_cache)
    assert all(p.images is None or p.images.kind != "remote-zip" for p in layout.parts)
    assert any("remote.json ignored" in n for n in layout.notes)
    mark = server.mark()
    build_index(shipped_cache)
    rows = _image_rows(shipped_cache)
    for r in rows:
        ImageStore(shipped_cache).image(r)
    assert "remote-zip" not in {r["storage"] for r in rows}
    assert server.requests_since(mark) == []


def test_the_real_cache_root_still_reads_images(shipped_cache: Path, server: RangeServer) -> None:
    root = remote.cache_root(server.url)
    assert remote.is_cache_root(root) and not remote.is_cache_root(shipped_cache)
    rows = _image_rows(root)
    assert all(ImageStore(root).image(r).ok for r in rows)


# ---- the transport -------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "close-delimited"])
def test_a_reply_longer_than_asked_is_not_read(server: RangeServer, env: Path, with_length: bool) -> None:
    server.long_206["meta2.zip"] = 200 * 1024 * 1024
    server.long_206_length = with_length
    tr = remote.Transport(server.url)
    url = f"{server.url}/meta2.zip"
    size = tr.stat(url).size
    mark = server.mark()
    with pytest.raises(remote.RemoteError, match="longer reply"):
        tr.read(url, 10, 1010, size)
    # the client hung up early: far less than the 200 MB the server was ready to send
    assert server.bytes_since(mark, "meta2.zip") < 32 * 1024 * 1024


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "close-delimited"])
def test_an_s3_reply_longer_than_asked_is_not_read(
    pub: Path, env: Path, monkeypatch: pytest.MonkeyPatch, with_length: bool
) -> None:
    """The same refusal on s3:// roots (s3fs would read a whole body): the endpoint is the test server."""
    pytest.importorskip("s3fs")
    with RangeServer(pub, prefix="/bucket/SkyScript") as srv:
        monkeypatch.setenv("SKYSCRIPT_S3_ENDPOINT", f"http://127.0.0.1:{srv.port}")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        tr = remote.Transport("s3://bucket/SkyScript")
        url = "s3://bucket/SkyScript/meta2.zip"
        size = tr.stat(url).size
        assert tr.read(url, 10, 1010, size) == (pub / "meta2.zip").read_bytes()[10:1010]
        srv.long_206["meta2.zip"] = 200 * 1024 * 1024
        srv.long_206_length = with_length
        mark = srv.mark()
        with pytest.raises(remote.RemoteError, match="longer reply"):
            tr.read(url, 10, 1010, size)
        assert srv.bytes_since(mark, "meta2.zip") < 32 * 1024 * 1024


def test_a_dribbling_server_meets_the_overall_deadline(
    server: RangeServer, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte every 0.15 s never trips the 1 s idle timeout; the read's deadline ends it."""
    monkeypatch.setenv("SKYSCRIPT_REMOTE_TIMEOUT", "1")
    server.dribble["meta2.zip"] = 0.15
    tr = remote.Transport(server.url)
    url = f"{server.url}/meta2.zip"
    with pytest.raises(remote.RemoteTimeoutError, match="too slowly"):
        tr.read(url, 0, 60, tr.stat(url).size)


def test_headers_sent_a_byte_at_a_time_meet_a_deadline(
    server: RangeServer, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKYSCRIPT_REMOTE_TIMEOUT", "1")
    monkeypatch.setattr(remote_transport, "CONNECT_TIMEOUT", 1.0)
    server.slow_headers["meta2.zip"] = 0.15  # ~250 header bytes: 40 s
    tr = remote.Transport(server.url)
    with pytest.raises(remote.RemoteTimeoutError):
        tr.stat(f"{server.url}/meta2.zip")


def test_a_well_behaved_server_is_read_exactly(server: RangeServer, env: Path, pub: Path) -> None:
    tr = remote.Transport(server.url)
    url = f"{server.url}/meta2.zip"
    data = (pub / "meta2.zip").read_bytes()
    assert tr.read(url, 5, 4005, len(data)) == data[5:4005]
    server.no_range = True
    assert tr.read(url, 0, 100, len(data)) == data[:100]  # a 200 for the whole file: its start is enough
    with pytest.raises(remote.RemoteError, match="range requests"):
        tr.read(url, 100, 200, len(data))


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(d / "key.pem"),
            "-out",
            str(d / "cert.pem"),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return d / "cert.pem", d / "key.pem"


def test_no_redirect_from_https_to_http(
    pub: Path, server: RangeServer, env: Path, cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    secure = RangeServer(pub)
    secure.tls = cert
    with secure:
        tr = remote.Transport(secure.url)
        url = f"{secure.url}/meta2.zip"
        size = tr.stat(url).size
        assert tr.read(url, 0, 10, size) == (pub / "meta2.zip").read_bytes()[:10]
        secure.redirect["meta2.zip"] = server.url  # same file, but over plain http
        mark = server.mark()
        with pytest.raises(remote.RemoteError, match="leaves https"):
            tr.stat(url)
        with pytest.raises(remote.RemoteError, match="leaves https"):
            tr.read(url, 0, 10, size)
        assert server.requests_since(mark) == []
