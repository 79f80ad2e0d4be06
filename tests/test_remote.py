"""Remote dataset roots (issue 6) against a real HTTP server on 127.0.0.1 (tests/remote_server.py).

The server serves the 40-object demo converted to the public layout (every part zipped). The tests
index it from its URL, open images by range requests (and count the bytes each one cost), resume
downloads cut by a dropped connection or a killed process, stop the server mid-session, change files
on the server, and check the message of every fault.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import cli, remote
from skyscript_viz.build import build_index
from skyscript_viz.errors import IndexNotFoundError
from skyscript_viz.images import ImageStore
from skyscript_viz.index import ImageIndex
from skyscript_viz.query import Filters
from tests.remote_server import RangeServer, make_zip_root

REPO = Path(__file__).resolve().parents[1]
CSV_ARGS = ["--csv", "SkyScript_train_unfiltered_5M.csv", "--csv", "top30_openai"]


@pytest.fixture(scope="module")
def pub(demo_small: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo as the public files are laid out (read-only for the tests: copy it to change it)."""
    return make_zip_root(demo_small[0], tmp_path_factory.mktemp("pub") / "SkyScript")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache base; short timeouts."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SKYSCRIPT_CACHE", str(cache))
    monkeypatch.setenv("SKYSCRIPT_REMOTE_TIMEOUT", "5")
    monkeypatch.delenv("SKYSCRIPT_REMOTE_CHUNK", raising=False)
    monkeypatch.delenv("SKYSCRIPT_REMOTE_RECHECK", raising=False)
    return cache


@pytest.fixture
def server(pub: Path) -> Iterator[RangeServer]:
    with RangeServer(pub) as srv:
        yield srv


@pytest.fixture
def own_server(pub: Path, tmp_path: Path) -> Iterator[RangeServer]:
    """A server on a private copy of the files, for tests that change them."""
    root = tmp_path / "served" / "SkyScript"
    shutil.copytree(pub, root)
    with RangeServer(root) as srv:
        yield srv


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def index_url(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "index", url, "--workers", "1", *extra)


def image_rows(idx: ImageIndex, part: int | None = None, n: int = 100) -> list[dict[str, Any]]:
    rows = idx.page(Filters(), limit=500).rows.to_dict("records")
    rows = [r for r in rows if r["has_image"] and (part is None or r["filepath"].startswith(f"images{part}/"))]
    return rows[:n]


def local_member(pub: Path, row: dict[str, Any]) -> tuple[bytes, zipfile.ZipInfo, int]:
    """(bytes, ZipInfo, zip size) of a row's image in the served zips."""
    zname = row["filepath"].split("/", 1)[0] + ".zip"
    with zipfile.ZipFile(pub / zname) as zf:
        info = zf.getinfo(row["member"])
        return zf.read(info), info, (pub / zname).stat().st_size


# ---- helpers and the zip directory ------------------------------------------------------------


def test_url_helpers(tmp_path: Path) -> None:
    assert remote.is_remote("https://host/SkyScript") and remote.is_remote("s3://bucket/x")
    assert remote.is_remote(Path("http://127.0.0.1:8000/SkyScript"))  # Path collapses // to /
    assert not remote.is_remote("/data/SkyScript") and not remote.is_remote(Path("relative/https"))
    assert remote.normalize_url(Path("https://host/a/SkyScript/")) == "https://host/a/SkyScript"
    assert remote.normalize_url("S3://bucket/p/") == "s3://bucket/p"
    a = remote.cache_root("https://host/a/SkyScript", tmp_path)
    assert a == remote.cache_root("https://host/a/SkyScript/", tmp_path)
    assert a.parent == tmp_path.resolve() and a.name.startswith("SkyScript-") and len(a.name) == len("SkyScript-") + 12
    assert a != remote.cache_root("https://other/a/SkyScript", tmp_path)
    assert remote.parse_parts("2,3") == [2, 3] and remote.parse_parts("2-4,7") == [2, 3, 4, 7]
    assert remote.parse_parts("all") == [2, 3, 4, 5, 6, 7] and remote.parse_parts(None) is None
    with pytest.raises(remote.RemoteError, match="--parts"):
        remote.parse_parts("two")
    assert remote.csv_name("top30_openai") == "SkyScript_train_top30pct_filtered_by_CLIP_openai.csv"
    assert remote.csv_name("dataframe/My_subset") == "My_subset.csv"
    for bad in ("../x.csv", "a/b.csv", "/etc/passwd"):
        with pytest.raises(remote.RemoteError, match="--csv"):
            remote.csv_name(bad)


def _zip_variants(folder: Path) -> dict[str, Path]:
    """Zips that stress the directory reader: comment, zip64 records and extras, data prepended."""
    payloads = {f"images2/n{i}_CH_19.jpg": os.urandom(300 + 37 * i) + b"x" * (i * 50) for i in range(12)}
    payloads["images2/ü-ß_name_CH_19.jpg"] = b"unicode name"
    out: dict[str, Path] = {}
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "plain.zip"
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in payloads.items():
            zf.writestr(name, data)
        zf.writestr("images2/stored_CH_19.jpg", b"s" * 999, compress_type=zipfile.ZIP_STORED)
        zf.comment = b"a comment that sits after the end record" * 3
    out["plain"] = plain
    z64 = folder / "zip64.zip"
    limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 500  # offsets and sizes past 500 bytes are written as zip64, as in a >4 GB zip
    try:
        with zipfile.ZipFile(z64, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in payloads.items():
                zf.writestr(name, data)
    finally:
        zipfile.ZIP64_LIMIT = limit
    out["zip64"] = z64
    pre = folder / "prefixed.zip"
    pre.write_bytes(b"#!self-extracting stub\n" * 40 + plain.read_bytes())
    out["prefixed"] = pre
    return out


def test_central_directory_by_range_requests_matches_zipfile(tmp_path: Path, env: Path) -> None:
    zips = _zip_variants(tmp_path / "z" / "SkyScript")
    with RangeServer(tmp_path / "z" / "SkyScript") as srv:
        tr = remote.shared_transport(srv.url)
        for label, path in zips.items():
            url = f"{srv.url}/{path.name}"
            st = tr.stat(url)
            assert st.size == path.stat().st_size and st.etag
            cd = remote.read_central_directory(tr, url, st)
            with zipfile.ZipFile(path) as zf:
                infos = sorted(zf.infolist(), key=lambda i: i.filename)
                assert cd.columns["name"] == [i.filename for i in infos], label
                for i, info in enumerate(infos):
                    # zipfile reports offsets from the file's start too (prepended bytes included)
                    assert cd.columns["header_offset"][i] == info.header_offset, (label, info.filename)
                    assert (
                        cd.columns["compress_size"][i],
                        cd.columns["file_size"][i],
                        cd.columns["crc"][i],
                        cd.columns["compress_type"][i],
                    ) == (info.compress_size, info.file_size, info.CRC, info.compress_type), (label, info.filename)
                    entry = {k: v[i] for k, v in cd.columns.items()}
                    data = remote.RemoteImages._fetch(tr, srv.url, path.name, url, st.size, entry)
                    assert data == zf.read(info), (label, info.filename)
            if label == "zip64":
                assert any(x > 500 for x in cd.columns["header_offset"])


# ---- indexing from a URL ----------------------------------------------------------------------


def test_index_from_url_matches_local_index(
    pub: Path, server: RangeServer, env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mark = server.mark()
    rc, out, err = index_url(capsys, server.url, "--parts", "2-7", *CSV_ARGS)
    assert rc == 0, err
    root = remote.cache_root(server.url)
    assert f"cache: {root}" in out and "images per source and year" in out
    # the meta zips and CSVs were downloaded whole, the image zips only at their tails (central directory)
    for k in range(2, 8):
        assert (root / f"meta{k}.zip").read_bytes() == (pub / f"meta{k}.zip").read_bytes()
        got = server.bytes_since(mark, f"images{k}.zip")
        assert 0 < got <= 65_558 and (root / f"images{k}.zipdir.arrow").is_file()
    assert (root / "dataframe" / "SkyScript_train_unfiltered_5M.csv").is_file()
    manifest = remote.load_manifest(root)
    assert manifest is not None and manifest["parts"] == [2, 3, 4, 5, 6, 7]
    assert manifest["files"]["meta2.zip"]["etag"] and manifest["zips"]["images2.zip"]["members"] > 0

    # the same index as one built from a local copy of the same files
    local = tmp_path / "local"
    shutil.copytree(pub, local)
    for c in (local / "dataframe").glob("*.csv"):  # the remote run chose two CSVs
        if c.name not in ("SkyScript_train_unfiltered_5M.csv", "SkyScript_train_top30pct_filtered_by_CLIP_openai.csv"):
            c.unlink()
    build_index(local, index_dir=tmp_path / "local-index")
    with (
        contextlib.closing(ImageIndex.open(server.url)) as ri,
        contextlib.closing(ImageIndex.open(local, index_dir=tmp_path / "local-index")) as li,
    ):
        assert ri.headline() == li.headline()
        assert ri.problem_counts() == li.problem_counts()
        assert [s.slug for s in ri.subsets] == [s.slug for s in li.subsets] == ["unfiltered", "top30_openai"]
        assert set(ri.page(Filters(), limit=500).rows["storage"]) <= {"remote-zip", "none"}

    rc, out, err = run_cli(capsys, "info", server.url)  # the other commands take the URL too
    assert rc == 0 and "images" in out and str(root) in out

    # a second run with no choices reuses the last ones and downloads nothing
    mark = server.mark()
    rc, out, err = index_url(capsys, server.url)
    assert rc == 0, err
    assert "up to date" in out
    assert [r.method for r in server.requests_since(mark)] == ["HEAD"] * 14  # 6 meta + 2 CSVs + 6 image zips

    # fewer parts: the others are set aside (kept), and the index shrinks accordingly
    rc, out, err = index_url(capsys, server.url, "--parts", "2,3", "--csv", "top30_openai")
    assert rc == 0, err
    assert "moved to _unused/" in out and (root / "_unused" / "meta4.zip").is_file()
    with contextlib.closing(ImageIndex.open(server.url)) as ri:
        assert set(ri.facets(Filters())["source"]) and all(
            fp.split("/")[0] in ("images2", "images3") for fp in ri.page(Filters(), limit=500).rows["filepath"]
        )
        assert [s.slug for s in ri.subsets] == ["top30_openai"]


@pytest.fixture(scope="module")
def indexed(pub: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RangeServer, Path]]:
    """A server on the public files and its URL indexed (parts 2-7) into a module-wide cache."""
    cache = tmp_path_factory.mktemp("cache-mod")
    mp = pytest.MonkeyPatch()
    mp.setenv("SKYSCRIPT_CACHE", str(cache))
    with RangeServer(pub) as srv:
        assert cli.main(["index", srv.url, "--workers", "1", "--parts", "2-7", *CSV_ARGS]) == 0
        yield srv, cache
    mp.undo()


def test_images_are_read_by_one_range_request_each(
    pub: Path, indexed: tuple[RangeServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv, cache = indexed
    monkeypatch.setenv("SKYSCRIPT_CACHE", str(cache))
    with contextlib.closing(ImageIndex.open(srv.url)) as idx:
        rows = [r for k in range(2, 8) for r in image_rows(idx, k, 3)]
        assert len(rows) >= 12
        store = ImageStore(idx.root, thumb_dir=idx.index_dir / "thumbs")
        ratios = []
        for row in rows:
            expected, info, zip_size = local_member(pub, row)
            mark = srv.mark()
            res = store.image(row)
            assert res.ok, res.problem
            assert res.data == expected
            gets = [r for r in srv.requests_since(mark) if r.method == "GET"]
            assert len(gets) == 1 and gets[0].status == 206, gets
            overhead = 30 + len(info.filename.encode()) + len(info.extra) + remote.LOCAL_HEADER_SLACK
            assert info.compress_size <= gets[0].sent <= info.compress_size + overhead
            assert gets[0].sent < zip_size / 3
            ratios.append(gets[0].sent / info.compress_size)
        assert sum(ratios) / len(ratios) < 1.5

        # seen before: no network at all, for the full image and for thumbnails (also on disk)
        mark = srv.mark()
        fresh = ImageStore(idx.root, thumb_dir=idx.index_dir / "thumbs")
        for row in rows:
            assert fresh.image(row).ok and fresh.thumbnail(row).ok
        assert srv.requests_since(mark) == []
        thumbs = list((idx.index_dir / "thumbs").rglob("*.jpg"))
        assert len(thumbs) >= len(rows)
        mark = srv.mark()
        again = ImageStore(idx.root, thumb_dir=idx.index_dir / "thumbs")
        assert all(again.thumbnail(row).ok for row in rows) and srv.requests_since(mark) == []


# ---- resuming downloads -----------------------------------------------------------------------


def test_download_resumes_after_a_dropped_connection(
    own_server: RangeServer, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = own_server
    monkeypatch.setenv("SKYSCRIPT_REMOTE_CHUNK", "1024")
    size = (srv.root / "meta3.zip").stat().st_size
    srv.drop_at["meta3.zip"] = size // 2 + 100  # the server cuts every response reaching that byte
    rc, out, err = index_url(capsys, srv.url, "--parts", "2,3", "--csv", "top30_openai")
    assert rc == 2
    last = err.strip().splitlines()[-1]  # above it: the progress bars
    assert last.startswith(f"error: the connection to 127.0.0.1:{srv.port} dropped while reading {srv.url}/meta3.zip")
    assert "run the same command again to resume" in last
    root = remote.cache_root(srv.url)
    partial = root / "meta3.zip.partial"
    have = partial.stat().st_size
    assert have == (size // 2 + 100) // 1024 * 1024 and not (root / "meta3.zip").exists()
    assert (root / "meta2.zip").is_file()  # finished before the fault: kept

    srv.drop_at.clear()
    mark = srv.mark()
    rc, _out, err = index_url(capsys, srv.url)
    assert rc == 0, err
    gets = srv.requests_since(mark, "meta3.zip")
    gets = [r for r in gets if r.method == "GET"]
    assert gets[0].start == have and gets[0].range == f"bytes={have}-{have + 1023}"
    assert sum(r.sent for r in gets) == size - have  # only the remainder
    assert [r.method for r in srv.requests_since(mark, "meta2.zip")] == ["HEAD"]  # not fetched again
    assert (root / "meta3.zip").read_bytes() == (srv.root / "meta3.zip").read_bytes()
    assert not partial.exists()


def test_download_resumes_after_the_process_is_killed(
    own_server: RangeServer, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = own_server
    size = (srv.root / "meta2.zip").stat().st_size
    srv.block = 256
    srv.throttle["meta2.zip"] = 0.05  # ~1.2 s for the whole file
    root = remote.cache_root(srv.url)
    partial = root / "meta2.zip.partial"
    penv = dict(os.environ, PYTHONPATH=str(REPO), SKYSCRIPT_REMOTE_CHUNK="1024")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skyscript_viz",
            "index",
            srv.url,
            "--parts",
            "2",
            "--csv",
            "top30_openai",
            "--workers",
            "1",
        ],
        env=penv,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if partial.is_file() and partial.stat().st_size >= 2048:
                break
            assert proc.poll() is None, "the download finished before it could be killed"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    have = partial.stat().st_size
    assert 2048 <= have < size and have % 1024 == 0

    srv.throttle.clear()
    mark = srv.mark()
    os.environ["SKYSCRIPT_REMOTE_CHUNK"] = "1024"
    try:
        rc, _out, err = index_url(capsys, srv.url)
    finally:
        del os.environ["SKYSCRIPT_REMOTE_CHUNK"]
    assert rc == 0, err
    gets = [r for r in srv.requests_since(mark, "meta2.zip") if r.method == "GET"]
    assert gets[0].start == have and sum(r.sent for r in gets) == size - have
    assert (root / "meta2.zip").read_bytes() == (srv.root / "meta2.zip").read_bytes()


def test_partial_download_restarts_when_the_file_changed(
    own_server: RangeServer, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = own_server
    monkeypatch.setenv("SKYSCRIPT_REMOTE_CHUNK", "1024")
    srv.drop_at["meta2.zip"] = 3000
    assert index_url(capsys, srv.url, "--parts", "2", "--csv", "top30_openai")[0] == 2
    srv.drop_at.clear()
    with zipfile.ZipFile(srv.root / "meta2.zip", "a") as zf:  # the server's file changes meanwhile
        zf.writestr("meta2/extra.txt", b"new")
    mark = srv.mark()
    rc, out, err = index_url(capsys, srv.url)
    assert rc == 0, err
    assert "changed on the server since the interrupted download; starting again" in out
    gets = [r for r in srv.requests_since(mark, "meta2.zip") if r.method == "GET"]
    assert gets[0].start == 0
    root = remote.cache_root(srv.url)
    assert (root / "meta2.zip").read_bytes() == (srv.root / "meta2.zip").read_bytes()


# ---- faults -------------------------------------------------------------------------------------


def test_server_stopped_mid_session(own_server: RangeServer, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    srv = own_server
    assert index_url(capsys, srv.url, "--parts", "2,3", *CSV_ARGS)[0] == 0
    idx = ImageIndex.open(srv.url)
    rows = image_rows(idx, 2, 6)
    store = ImageStore(idx.root, thumb_dir=idx.index_dir / "thumbs")
    seen = rows[:3]
    for row in seen:
        assert store.image(row).ok and store.thumbnail(row).ok
    srv.stop()

    fresh = ImageStore(idx.root, thumb_dir=idx.index_dir / "thumbs")  # nothing in memory
    for row in seen:
        assert fresh.image(row).ok and fresh.thumbnail(row).ok
    res = fresh.image(rows[4])
    assert not res.ok and res.mime == "image/png"
    assert f"cannot reach 127.0.0.1:{srv.port} (connection refused)" in (res.problem or "")
    assert "already cached still open" in (res.problem or "")
    t0 = time.monotonic()
    thumb = fresh.thumbnail(rows[5])  # fails fast while the server is known to be down
    assert not thumb.ok and "cannot reach" in (thumb.problem or "") and time.monotonic() - t0 < 1.0
    # the index needs no network
    assert idx.count(Filters()) > 0 and idx.get(seen[0]["filepath"]) is not None
    idx.close()

    # re-indexing offline works from the cache and says so
    rc, out, err = index_url(capsys, srv.url)
    assert rc == 0, err
    assert "server unreachable, using the cached files" in out and "cannot reach" in out
    rc, out, err = run_cli(capsys, "cache", "info", srv.url)
    assert rc == 0 and "meta2.zip" in out and "images fetched (objects/): 3 files" in out


def test_unreachable_server_not_cached(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.e2e.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/SkyScript"
    rc, _out, err = index_url(capsys, url, "--parts", "2")
    assert rc == 2
    assert err.startswith(f"error: cannot reach 127.0.0.1:{url.split(':')[2].split('/')[0]} (connection refused)")
    assert "meta2.zip" in err


def test_changed_image_zip(
    own_server: RangeServer, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = own_server
    assert index_url(capsys, srv.url, "--parts", "2", *CSV_ARGS)[0] == 0
    idx = ImageIndex.open(srv.url)
    rows = image_rows(idx, 2, 6)
    store = ImageStore(idx.root, thumb_dir=None)
    assert store.image(rows[0]).ok

    # replace images2.zip with a re-packed one: other order, other offsets, other size and ETag
    src = srv.root / "images2.zip"
    with zipfile.ZipFile(src) as zin:
        members = [(i.filename, zin.read(i)) for i in zin.infolist()]
    tmp = src.with_suffix(".new")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zout:
        zout.writestr("images2/padding.txt", b"p" * 5000)
        for name, data in reversed(members):
            zout.writestr(name, data)
    os.replace(tmp, src)

    # the reader checked the zip a moment ago: the local header / CRC check notices the change
    res = store.image(rows[1])
    assert not res.ok and "images2.zip changed on the server since it was indexed" in (res.problem or "")
    assert f"re-run `python -m skyscript_viz index {srv.url}`" in (res.problem or "")
    # with the periodic size/ETag check due, it is the ETag/size that tells
    monkeypatch.setenv("SKYSCRIPT_REMOTE_RECHECK", "0")
    res = store.image(rows[2])
    assert not res.ok and "changed on the server since it was indexed (size" in (res.problem or "")
    assert store.image(rows[0]).ok  # cached before the change: still there
    idx.close()

    rc, out, err = index_url(capsys, srv.url)
    assert rc == 0, err
    assert "images2.zip changed on the server" in out and "its directory is read again" in out
    idx = ImageIndex.open(srv.url)
    fresh = ImageStore(idx.root, thumb_dir=None)
    for row in image_rows(idx, 2, 4):
        res = fresh.image(row)
        assert res.ok, res.problem
        assert res.data == zipfile.ZipFile(src).read(row["member"])
    idx.close()


def test_truncated_image_zip(own_server: RangeServer, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    srv = own_server
    assert index_url(capsys, srv.url, "--parts", "3", "--csv", "top30_openai")[0] == 0
    with contextlib.closing(ImageIndex.open(srv.url)) as idx:
        rows = image_rows(idx, 3)
        zpath = srv.root / "images3.zip"
        full = zpath.read_bytes()
        zpath.write_bytes(full[: len(full) // 2])  # an upload cut short
        store = ImageStore(idx.root)
        res = store.image(rows[-1])  # the first fetch from a zip checks its size and ETag
    assert not res.ok
    assert (
        f"images3.zip changed on the server since it was indexed (size {len(full):,} -> {len(full) // 2:,} "
        f"bytes); re-run `python -m skyscript_viz index {srv.url}`"
    ) == res.problem


def test_changed_meta_zip_is_downloaded_again(
    own_server: RangeServer, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = own_server
    assert index_url(capsys, srv.url, "--parts", "2", "--csv", "top30_openai")[0] == 0
    with zipfile.ZipFile(srv.root / "meta2.zip", "a") as zf:
        zf.writestr("meta2/notes.txt", b"added later")
    rc, out, err = index_url(capsys, srv.url)
    assert rc == 0, err
    assert "meta2.zip changed on the server (size" in out and "downloading it again" in out
    assert "parts read: [2]" in out  # the part's fingerprint changed: re-read


def test_not_found_and_forbidden(server: RangeServer, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = index_url(capsys, server.url, "--parts", "9")
    assert rc == 2 and err.strip() == f"error: not found on the server (HTTP 404): {server.url}/meta9.zip"
    server.forbidden.add("meta2.zip")
    rc, out, err = index_url(capsys, server.url, "--parts", "2")
    assert rc == 2 and f"access denied by the server (HTTP 403): {server.url}/meta2.zip" in err
    server.forbidden.clear()
    rc, out, err = index_url(capsys, server.url, "--parts", "2", "--csv", "no_such_subset.csv")
    assert rc == 2
    assert (
        f"caption CSV no_such_subset.csv not found on the server (HTTP 404): tried "
        f"{server.url}/dataframe/no_such_subset.csv and {server.url}/no_such_subset.csv"
    ) in err
    server.missing.add("images2.zip")
    rc, _out, err = index_url(capsys, server.url, "--parts", "2", "--csv", "top30_openai")
    assert rc == 2 and f"HTTP 404): {server.url}/images2.zip" in err


def test_slow_server_times_out_with_a_clear_message(
    own_server: RangeServer, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = own_server
    srv.delay["meta2.zip"] = 1.5
    rc, out, err = index_url(capsys, srv.url, "--parts", "2", "--csv", "top30_openai", "--timeout", "0.4")
    assert rc == 2
    assert (
        f"error: no answer from 127.0.0.1:{srv.port} within 0.4 s for {srv.url}/meta2.zip; the server is slow "
        "or down (raise the limit with --timeout or SKYSCRIPT_REMOTE_TIMEOUT)"
    ) in err
    srv.delay.clear()
    assert index_url(capsys, srv.url)[0] == 0
    # once cached, a slow server only means the cached copy is used
    srv.delay["meta2.zip"] = 1.5
    rc, out, err = index_url(capsys, srv.url, "--timeout", "0.4")
    assert rc == 0 and "using the cached files: no answer from" in out
    monkeypatch.setenv("SKYSCRIPT_REMOTE_TIMEOUT", "0.4")
    srv.delay["images2.zip"] = 1.5
    with contextlib.closing(ImageIndex.open(srv.url)) as idx:
        res = ImageStore(idx.root).image(image_rows(idx, 2, 1)[0])
    assert not res.ok and "no answer from" in (res.problem or "")


def test_server_without_range_support(own_server: RangeServer, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    own_server.no_range = True
    rc, _out, err = index_url(capsys, own_server.url, "--parts", "2", "--csv", "top30_openai")
    assert rc == 2 and "does not support HTTP range requests" in err


# ---- cache commands, s3, the app ----------------------------------------------------------------


def test_cache_info_and_clear(
    indexed: tuple[RangeServer, Path],
    tmp_path: Path,
    pub: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    srv, _ = indexed
    monkeypatch.setenv("SKYSCRIPT_CACHE", str(tmp_path / "c"))
    assert index_url(capsys, srv.url, "--parts", "2", "--csv", "top30_openai")[0] == 0
    with contextlib.closing(ImageIndex.open(srv.url)) as idx:
        assert ImageStore(idx.root).image(image_rows(idx, 2, 1)[0]).ok
    root = remote.cache_root(srv.url)
    rc, out, err = run_cli(capsys, "cache", "info", srv.url)
    assert rc == 0 and f"cache: {root}" in out
    for text in (
        "meta2.zip",
        "dataframe/SkyScript_train_top30pct_filtered_by_CLIP_openai.csv",
        "images2.zip directory",
        "images fetched (objects/): 1 files",
        "total ",
    ):
        assert text in out, text
    rc, out, err = run_cli(capsys, "cache", "info")
    assert rc == 0 and srv.url in out
    rc, out, err = run_cli(capsys, "cache", "clear", srv.url, "--images")
    assert rc == 0 and not (root / "objects").exists() and (root / "meta2.zip").is_file()
    rc, out, _err = run_cli(capsys, "cache", "clear", srv.url)
    assert rc == 0 and "cleared the cache" in out and not root.exists()
    with pytest.raises(IndexNotFoundError, match=f"python -m skyscript_viz index {srv.url}"):
        ImageIndex.open(srv.url)


def test_s3_root_anonymous(
    pub: Path, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """s3://bucket/path through s3fs (anonymous), against the local server as an S3 endpoint."""
    pytest.importorskip("s3fs")
    with RangeServer(pub, prefix="/bucket/SkyScript") as srv:
        monkeypatch.setenv("SKYSCRIPT_S3_ENDPOINT", f"http://127.0.0.1:{srv.port}")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        rc, out, err = index_url(capsys, "s3://bucket/SkyScript", "--parts", "3", "--csv", "top30_openai")
        assert rc == 0, err
        with contextlib.closing(ImageIndex.open("s3://bucket/SkyScript")) as idx:
            row = image_rows(idx, 3, 1)[0]
            mark = srv.mark()
            res = ImageStore(idx.root).image(row)
            assert res.ok, res.problem
            assert res.data == local_member(pub, row)[0]
            assert [r.method for r in srv.requests_since(mark)] in (["GET"], ["HEAD", "GET"])
        rc, _out, err = index_url(capsys, "s3://bucket/SkyScript", "--parts", "8")
        assert rc == 2 and "HTTP 404): s3://bucket/SkyScript/meta8.zip" in err


def _app(env_root: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SKYSCRIPT_ROOT", env_root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "argv", [str(REPO / "app.py")])
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    return at.run()


def test_app_on_a_url_root(indexed: tuple[RangeServer, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    srv, cache = indexed
    # not indexed on this machine: the page says which command does it
    monkeypatch.setenv("SKYSCRIPT_CACHE", str(tmp_path / "empty"))
    at = _app(srv.url, monkeypatch, tmp_path)
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "is not indexed on this machine yet" in text and f"python -m skyscript_viz index {srv.url}" in text
    # downloaded but the build did not finish (e.g. interrupted): the page offers to finish it
    monkeypatch.setenv("SKYSCRIPT_CACHE", str(tmp_path / "half"))
    remote.sync(srv.url, parts=[2], csvs=["top30_openai"])
    at = _app(srv.url, monkeypatch, tmp_path)
    assert not at.exception
    assert "is not finished" in " ".join(w.value for w in at.warning)
    at.button(key="build_remote_index").click().run()
    assert not at.exception, at.exception
    assert any("images match" in m.value for m in at.markdown)
    # indexed: the map page opens from the cache
    monkeypatch.setenv("SKYSCRIPT_CACHE", str(cache))
    with contextlib.closing(ImageIndex.open(srv.url)) as idx:
        row = image_rows(idx, 4, 1)[0]
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params["sel"] = row["filepath"]
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("images match" in m.value for m in at.markdown)


def test_image_placeholder_reason_for_remote_errors() -> None:
    from skyscript_viz.images import failure_reason

    msg = "cannot reach example.org (connection refused) for https://example.org/x/images2.zip"
    assert failure_reason(remote.RemoteUnreachableError(msg)) == msg


def test_cache_dir_option_puts_the_cache_there_without_touching_the_environment(
    env: Path, server: RangeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = os.environ.get("SKYSCRIPT_CACHE")
    chosen = tmp_path / "chosen"
    rc, out, err = index_url(capsys, server.url, "--parts", "2", "--csv", "unfiltered", "--cache-dir", str(chosen))
    assert rc == 0, err
    root = remote.cache_root(server.url, chosen)
    assert f"cache: {root}" in out and (root / "remote.json").is_file()
    assert f"SKYSCRIPT_CACHE={chosen.resolve()}" in out  # how the app finds it later
    assert not remote.cache_root(server.url).exists()  # nothing went to the default cache base
    assert os.environ.get("SKYSCRIPT_CACHE") == before
