"""Remote dataset roots: a SkyScript root given as ``https://…``, ``http://…`` or ``s3://bucket/path``.

The image zips are many gigabytes each and are never downloaded whole. What indexing needs, the meta
zips and the caption CSVs of the parts the user chose, is downloaded once into a local *cache root*;
the cache root is laid out as an ordinary local SkyScript root, so discovery and the index build run
on it unchanged::

    <cache base>/<slug>-<sha1(url)[:12]>/
        remote.json                 the URL, the chosen parts and CSVs, and for every remote file the
                                    size, ETag and Last-Modified seen when it was cached
        meta2.zip, dataframe/X.csv  downloaded once (resumable: ``<file>.partial`` + ``.partial.json``)
        images2.zipdir.arrow        images2.zip's central directory (Arrow IPC, sorted by name): member
                                    -> header offset, sizes, method, CRC; read by range requests
        objects/images2/…           image bytes fetched so far (one range request per image)
        .skyscript_viz/             the index and its on-disk thumbnails, as for any local root
        _unused/                    files of parts or CSVs no longer chosen (moved back when chosen again)

Discovery turns ``images{k}.zipdir.arrow`` (next to ``remote.json``) into a :class:`PartStore` of kind
``remote-zip``; the build lists its members from the directory, and :class:`~skyscript_viz.images.
ImageStore` reads rows with ``storage == "remote-zip"`` through :func:`read_remote_member`: from
``objects/`` when seen before (no network), else by one range request covering the member's local
header and data, checked against the directory (name, size, CRC) before it is kept.

Transport is fsspec (``HTTPFileSystem`` on aiohttp, ``s3fs`` anonymous for ``s3://``): no HTTP code of
our own. Every transport failure becomes a :class:`RemoteError` with a one-line message that names the
URL and says what to do; the CLI prints it (exit 2) and the app shows it (placeholders for images).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import settings, zipdir
from .errors import (
    RemoteChangedError,
    RemoteError,
    RemoteForbiddenError,
    RemoteInterruptedError,
    RemoteNotFoundError,
    RemoteTimeoutError,
    RemoteUnreachableError,
    ZipFormatError,
)
from .subsets import OFFICIAL_CSVS

__all__ = [
    "DEFAULT_CSVS",
    "DEFAULT_PARTS",
    "MANIFEST",
    "RemoteChangedError",
    "RemoteError",
    "RemoteForbiddenError",
    "RemoteInterruptedError",
    "RemoteNotFoundError",
    "RemoteStat",
    "RemoteTimeoutError",
    "RemoteUnreachableError",
    "SyncReport",
    "cache_base",
    "cache_info",
    "cache_root",
    "clear_cache",
    "is_cache_root",
    "is_remote",
    "list_caches",
    "load_manifest",
    "normalize_url",
    "parse_parts",
    "read_central_directory",
    "read_remote_member",
    "store_fingerprint",
    "sync",
    "zipdir_names",
]

MANIFEST = "remote.json"
FORMAT = 1
DEFAULT_PARTS: tuple[int, ...] = (2, 3, 4, 5, 6, 7)
# The only official CSV that holds every training image, so every footprint gets its caption.
DEFAULT_CSVS: tuple[str, ...] = ("SkyScript_train_unfiltered_5M.csv",)
DIR_SUFFIX = ".zipdir.arrow"
DEFAULT_CHUNK = 8 * 1024 * 1024  # bytes per range request when downloading
DEFAULT_TIMEOUT = 30.0  # seconds without data before a read gives up
CONNECT_TIMEOUT = 10.0
# Every read also has an overall deadline, timeout + its length at this rate: a server sending a byte
# now and then never trips the idle timeout, and must not keep a read alive for hours.
MIN_RATE = 64 * 1024  # bytes per second
LOCAL_HEADER_SLACK = zipdir.LOCAL_HEADER_SLACK  # the local header's extra field may be longer
RECHECK_SECONDS = 300.0  # how often an image zip's size/ETag is re-checked while images are fetched
DOWN_SECONDS = 15.0  # after a failed connection, image fetches fail fast for this long
UNUSED = "_unused"
_MAX_MANIFEST = 64 * 1024 * 1024  # bytes; a real remote.json is a few kilobytes

_SCHEME = re.compile(r"^(https?|s3):/+(.*)$", re.IGNORECASE)
_DIR_NAME = re.compile(r"images([0-9]+)\.zipdir\.arrow")
_CSV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.csv")


# --------------------------------------------------------------------------------------------------
# URLs and the cache location


def is_remote(root: object) -> bool:
    """True for ``http(s)://…`` and ``s3://…`` roots (also when a Path has collapsed ``//`` to ``/``)."""
    return isinstance(root, str | os.PathLike) and bool(_SCHEME.match(str(os.fspath(root))))


def normalize_url(root: object) -> str:
    """``https://host/path`` without a trailing slash; repairs ``https:/host`` (a URL passed through Path)."""
    text = os.fspath(root)  # type: ignore[call-overload]
    m = _SCHEME.match(str(text))
    if not m:
        raise RemoteError(f"{text!r} is not an http(s):// or s3:// URL")
    rest = m.group(2).rstrip("/")
    if not rest:
        raise RemoteError(f"{text!r} names no host or bucket")
    return f"{m.group(1).lower()}://{rest}"


def cache_base(base: Path | str | None = None) -> Path:
    """Folder holding one cache root per URL: ``base``, else $SKYSCRIPT_CACHE, else the user cache dir."""
    if base is not None:
        return Path(base).expanduser()
    env = settings.current().cache
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("skyscript_viz")) / "remote"


def cache_root(url: object, base: Path | str | None = None) -> Path:
    """The local cache root of a remote root (it need not exist yet)."""
    url = normalize_url(url)
    tail = url.split("://", 1)[1].rsplit("/", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("._") or "root"
    digest = hashlib.sha1(url.encode()).hexdigest()[:12]
    return (cache_base(base) / f"{slug[:40]}-{digest}").resolve()


def _join(url: str, rel: str) -> str:
    return f"{url}/{rel}"


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def is_cache_root(root: Path | str) -> bool:
    """True only for the cache root a URL was opened into (``cache_root(url)`` of its manifest's URL).

    A dataset folder can ship its own ``remote.json`` naming any address (an internal one, say); only
    the folder this machine derived from a URL the user opened may send requests to the server named
    there. Everything else is an ordinary local root.
    """
    manifest = load_manifest(Path(root))
    try:
        url = normalize_url(manifest["url"]) if manifest else None
        return url is not None and cache_root(url) == Path(root).expanduser().resolve()
    except (RemoteError, TypeError, KeyError, OSError):
        return False


def load_manifest(root: Path) -> dict[str, Any] | None:
    """``remote.json`` of a cache root, or None when there is none (or it is unreadable)."""
    path = Path(root) / MANIFEST
    try:
        if path.stat().st_size > _MAX_MANIFEST:
            return None
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _save_manifest(root: Path, manifest: dict[str, Any]) -> None:
    tmp = root / f".{MANIFEST}.{os.getpid()}.{threading.get_ident()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, root / MANIFEST)


# --------------------------------------------------------------------------------------------------
# Transport, on fsspec


@dataclass(frozen=True)
class RemoteStat:
    """What the server says about one file."""

    size: int
    etag: str | None = None
    last_modified: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "etag": self.etag, "last_modified": self.last_modified}

    def same_as(self, entry: dict[str, Any] | None) -> bool:
        """Same file as a cached entry: equal size, and equal ETag (else Last-Modified) when both know it."""
        if not entry or entry.get("size") != self.size:
            return False
        if self.etag and entry.get("etag"):
            return bool(entry["etag"] == self.etag)
        if self.last_modified and entry.get("last_modified"):
            return bool(entry["last_modified"] == self.last_modified)
        return True

    def difference(self, entry: dict[str, Any]) -> str:
        if entry.get("size") != self.size:
            return f"size {entry.get('size'):,} -> {self.size:,} bytes"
        if self.etag and entry.get("etag") and entry["etag"] != self.etag:
            return f"ETag {entry['etag']} -> {self.etag}"
        return f"Last-Modified {entry.get('last_modified')} -> {self.last_modified}"


def timeout_from_env(timeout: float | None = None) -> float:
    if timeout is not None:
        return float(timeout)
    return settings.current().remote_timeout


class Transport:
    """Range reads and stats of the files under one remote root, through fsspec."""

    def __init__(self, url: str, *, timeout: float | None = None) -> None:
        self.url = normalize_url(url)
        self.scheme = self.url.split("://", 1)[0]
        self.timeout = timeout_from_env(timeout)
        connect = min(CONNECT_TIMEOUT, self.timeout)
        if self.scheme == "s3":
            import s3fs

            endpoint = settings.current().s3_endpoint
            client_kwargs = {"endpoint_url": endpoint} if endpoint else {}
            self.fs: Any = s3fs.S3FileSystem(
                anon=True,
                skip_instance_cache=True,
                client_kwargs=client_kwargs,
                config_kwargs={
                    "connect_timeout": connect,
                    "read_timeout": self.timeout,
                    "retries": {"max_attempts": 1},
                },
            )
            self.fs.retries = 2
        else:
            import aiohttp
            from fsspec.implementations.http import HTTPFileSystem

            # the CA store is read now (it honours SSL_CERT_FILE); every request gets it, and a
            # redirect from https to http is refused (_no_downgrade)
            tls = {"ssl": ssl.create_default_context()} if self.scheme == "https" else {}
            self.fs = HTTPFileSystem(
                skip_instance_cache=True,
                client_kwargs={
                    "timeout": aiohttp.ClientTimeout(
                        total=None, connect=connect, sock_connect=connect, sock_read=self.timeout
                    ),
                    "trace_configs": [_no_downgrade()],
                },
                **tls,
            )

    def _path(self, url: str) -> str:
        return url.split("://", 1)[1] if self.scheme == "s3" else url

    def stat(self, url: str) -> RemoteStat:
        """Size, ETag and Last-Modified of ``url``, within the timeout in all (headers sent a byte at a time
        never trip the idle timeout)."""
        from fsspec.asyn import sync

        with self.errors(url):
            info = sync(self.fs.loop, self.fs._info, self._path(url), timeout=self.deadline(0) + CONNECT_TIMEOUT)
        size = info.get("size")
        if size is None:
            raise RemoteError(f"the server gives no size for {url}; it cannot be read by range requests")
        etag = info.get("ETag") or info.get("etag")
        lm = info.get("Last-Modified") or info.get("LastModified")
        return RemoteStat(int(size), str(etag) if etag else None, str(lm) if lm else None)

    def deadline(self, length: int) -> float:
        """Seconds a read of ``length`` bytes may take in all."""
        return self.timeout + length / MIN_RATE

    def read(self, url: str, start: int, end: int, size: int) -> bytes:
        """Bytes ``[start, end)`` of a file of ``size`` bytes: one range request, within its deadline."""
        if end <= start:
            return b""
        from fsspec.asyn import sync

        with self.errors(url):
            if self.scheme == "s3":
                data = sync(
                    self.fs.loop,
                    self.fs._cat_file,
                    self._path(url),
                    start=start,
                    end=end,
                    timeout=self.deadline(end - start),
                )
            else:
                data = sync(self.fs.loop, self._http_range, url, start, end)
        if len(data) != end - start:
            raise RemoteChangedError(
                f"{url} is shorter than expected: bytes {start:,}-{end:,} of {size:,} "
                f"gave {len(data):,}; it was truncated or changed on the server"
            )
        return bytes(data)

    async def _http_range(self, url: str, start: int, end: int) -> bytes:
        """One ranged GET, read up to the length asked and never further (a reply longer than asked is
        refused unread, a server ignoring Range is refused past byte 0), within the read's deadline."""
        want, host = end - start, _host(url)
        session = await self.fs.set_session()
        got = bytearray()
        t0 = time.monotonic()
        try:
            async with asyncio.timeout(self.deadline(want)):
                async with session.get(
                    self.fs.encode_url(url), headers={"Range": f"bytes={start}-{end - 1}"}, **self.fs.kwargs
                ) as r:
                    if r.status == 416:
                        return b""
                    r.raise_for_status()
                    if r.status != 206 and start > 0:
                        raise RemoteError(
                            f"{host} does not support HTTP range requests, which reading a remote root needs ({url})"
                        )
                    length = r.headers.get("Content-Length")
                    if r.status == 206 and length is not None and length.isdigit() and int(length) > want:
                        r.close()
                        raise _too_long(url, want, int(length))
                    while len(got) <= want and (block := await r.content.read(min(1 << 20, want + 1 - len(got)))):
                        got += block
                    if r.status == 206 and len(got) > want:
                        r.close()
                        raise _too_long(url, want, None)
                    if len(got) > want or not r.content.at_eof():
                        r.close()  # a 200 for the whole file: the start of it was enough
        except TimeoutError:
            if time.monotonic() - t0 < self.deadline(want) * 0.99:
                raise  # the idle timeout: explained as "no answer within ..."
            raise RemoteTimeoutError(
                f"{host} sent {url} too slowly: {len(got):,} of {want:,} bytes within {self.deadline(want):.0f} s; "
                "the server is slow or stalling (raise the limit with --timeout or SKYSCRIPT_REMOTE_TIMEOUT)"
            ) from None
        return bytes(got[:want])

    # -- errors ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def errors(self, url: str) -> Iterator[None]:
        """Turns any transport exception inside the block into a RemoteError naming ``url``."""
        try:
            yield
        except RemoteError:
            raise
        except Exception as exc:
            raise self.explain(exc, url) from exc

    def explain(self, exc: BaseException, url: str) -> RemoteError:
        """A RemoteError with a one-line message for any transport exception."""
        return explain_error(exc, url, self.timeout)


def _too_long(url: str, want: int, length: int | None) -> RemoteError:
    said = f" ({length:,} bytes)" if length is not None else ""
    return RemoteError(
        f"{_host(url)} answered a request for {want:,} bytes of {url} with a longer reply{said}; "
        "it was not read (a broken or hostile server)"
    )


def _no_downgrade() -> Any:
    """An aiohttp trace that refuses a redirect from https to anything else (credentials, integrity)."""
    import aiohttp
    from yarl import URL

    async def on_redirect(_session: Any, _ctx: Any, params: Any) -> None:
        target = params.response.url.join(URL(params.response.headers.get("Location", "")))
        if params.url.scheme == "https" and target.scheme != "https":
            raise RemoteError(
                f"{params.url} redirects to {target}, which leaves https; the redirect was "
                "refused (use the https address the server should have kept)"
            )

    trace = aiohttp.TraceConfig()
    trace.on_request_redirect.append(on_redirect)
    return trace


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out and len(out) < 10:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def explain_error(exc: BaseException, url: str, timeout: float = DEFAULT_TIMEOUT) -> RemoteError:
    host = _host(url)
    chain = _chain(exc)
    for e in chain:  # our own verdicts (a refused redirect) may arrive wrapped by fsspec
        if isinstance(e, RemoteError):
            return e
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiohttp comes with the requirements
        aiohttp = None  # type: ignore[assignment]
    for e in chain:
        status = getattr(e, "status", None)
        response = getattr(e, "response", None)
        if status is None and isinstance(response, dict):  # botocore's ClientError
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 403 or isinstance(e, PermissionError):
            return RemoteForbiddenError(
                f"access denied by the server (HTTP 403): {url}; is the file public and the URL right?"
            )
        if status == 404:
            return RemoteNotFoundError(f"not found on the server (HTTP 404): {url}")
        if status == 416:
            return RemoteChangedError(
                f"{url} is shorter than the cached directory says (HTTP 416); it was truncated or changed on the server"
            )
        if isinstance(status, int) and status >= 400:
            return RemoteError(f"the server answered HTTP {status} for {url}")
    for e in chain:
        refused = isinstance(e, ConnectionRefusedError | socket.gaierror)
        if (
            refused
            or type(e).__name__ == "EndpointConnectionError"
            or (aiohttp is not None and isinstance(e, aiohttp.ClientConnectorError))
        ):
            return RemoteUnreachableError(
                f"cannot reach {host} ({_connect_reason(e)}) for {url}; files and images already cached still open"
            )
    for e in chain:
        name = type(e).__name__
        if isinstance(e, TimeoutError) or "Timeout" in name:
            return RemoteTimeoutError(
                f"no answer from {host} within {timeout:g} s for {url}; the server is "
                "slow or down (raise the limit with --timeout or SKYSCRIPT_REMOTE_TIMEOUT)"
            )
    for e in chain:
        if (
            aiohttp is not None
            and isinstance(e, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)
        ) or isinstance(e, ConnectionError):
            return RemoteInterruptedError(f"the connection to {host} dropped while reading {url}")
        if isinstance(e, ValueError) and "range requests" in str(e):
            return RemoteError(
                f"{host} does not support HTTP range requests, which reading a remote root needs ({url})"
            )
    for e in chain:
        if isinstance(e, FileNotFoundError):  # fsspec's HTTP info() turns a failed GET into this
            return RemoteNotFoundError(f"not found on the server (HTTP 404): {url}")
    return RemoteError(f"reading {url} failed: {type(exc).__name__}: {str(exc)[:200]}")


def _connect_reason(e: BaseException) -> str:
    for x in _chain(e):
        if isinstance(x, ConnectionRefusedError) or getattr(x, "errno", None) == 111:
            return "connection refused"
        if isinstance(x, socket.gaierror):
            return "host name not resolved"
        if getattr(x, "errno", None) in (101, 113):
            return "no route to host"
    text = str(e)
    return "connection refused" if "refused" in text.lower() else (text[:80] or type(e).__name__)


_TRANSPORTS: dict[tuple[str, str, float, str | None], Transport] = {}
_TRANSPORTS_LOCK = threading.Lock()


def transport(url: str, timeout: float | None = None) -> Transport:
    """A shared Transport per (scheme, host, timeout)."""
    url = normalize_url(url)
    t = timeout_from_env(timeout)
    key = (url.split("://", 1)[0], _host(url), t, settings.current().s3_endpoint)
    with _TRANSPORTS_LOCK:
        tr = _TRANSPORTS.get(key)
        if tr is None:
            tr = _TRANSPORTS[key] = Transport(url, timeout=t)
        return tr


# --------------------------------------------------------------------------------------------------
# Resumable downloads

ProgressFn = Callable[[str, int, int], None]  # (label, done bytes, total bytes)


def _partial_paths(dest: Path) -> tuple[Path, Path]:
    return dest.with_name(dest.name + ".partial"), dest.with_name(dest.name + ".partial.json")


def download(
    tr: Transport,
    url: str,
    dest: Path,
    st: RemoteStat,
    *,
    chunk: int = DEFAULT_CHUNK,
    progress: ProgressFn | None = None,
    label: str | None = None,
    notes: list[str] | None = None,
) -> int:
    """Download ``url`` to ``dest`` by range requests of ``chunk`` bytes; returns bytes fetched.

    Bytes go to ``dest.partial``; an interrupted download resumes from its size if the server still has
    the same file (size and ETag recorded in ``dest.partial.json``), else starts again. ``dest`` is
    replaced only when complete and of the expected size, so an older copy stays usable until then.
    """
    label = label or dest.name
    part, meta = _partial_paths(dest)
    have = 0
    if part.is_file():
        try:
            old = json.loads(meta.read_text())
        except (OSError, ValueError):
            old = None
        if st.same_as(old) and part.stat().st_size <= st.size:
            have = part.stat().st_size
        else:
            if notes is not None:
                notes.append(f"{label}: changed on the server since the interrupted download; starting again")
            part.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({**st.to_json(), "url": url}))
    fetched = 0
    if progress is not None:
        progress(label, have, st.size)
    with open(part, "ab" if have else "wb") as f:
        pos = have
        while pos < st.size:
            end = min(pos + chunk, st.size)
            for attempt in range(3):
                try:
                    data = tr.read(url, pos, end, st.size)
                    break
                except (RemoteInterruptedError, RemoteTimeoutError) as exc:
                    if attempt == 2:
                        raise type(exc)(
                            f"{exc}; download of {label} stopped at {pos:,} of {st.size:,} bytes, "
                            "run the same command again to resume"
                        ) from exc
                    time.sleep(0.2 * (attempt + 1))
            f.write(data)
            f.flush()
            fetched += len(data)
            pos = end
            if progress is not None:
                progress(label, pos, st.size)
    if part.stat().st_size != st.size:
        part.unlink()
        raise RemoteChangedError(
            f"{label}: downloaded {part.stat().st_size if part.exists() else 0:,} bytes, "
            f"the server said {st.size:,}; run the command again"
        )
    os.replace(part, dest)
    meta.unlink(missing_ok=True)
    return fetched


# --------------------------------------------------------------------------------------------------
# Zip central directory over range requests


@dataclass
class CentralDirectory:
    """A zip's central directory as columns (sorted by name), and where it sits in the zip."""

    columns: dict[str, list[Any]]
    cd_offset: int  # absolute offset of the directory in the file
    cd_size: int
    concat: int  # bytes before the zip's own offsets (prepended data), added to header offsets
    n_entries: int
    notes: list[str] = field(default_factory=list)


def read_central_directory(
    tr: Transport,
    url: str,
    st: RemoteStat,
    *,
    chunk: int = DEFAULT_CHUNK,
    progress: ProgressFn | None = None,
    label: str | None = None,
    scratch: Path | None = None,
) -> CentralDirectory:
    """Read a remote zip's central directory with range requests (tail, then the directory itself);
    parsed by skyscript_viz.zipdir like every other zip."""
    size = st.size
    label = label or url.rsplit("/", 1)[-1]

    def read_at(a: int, b: int) -> bytes:
        return tr.read(url, a, b, size)

    try:
        loc = zipdir.locate(size, read_at, label=url)
        cd_abs, cd_size = loc.cd_offset, loc.cd_size
        if cd_abs >= loc.tail_start:
            data = loc.tail[cd_abs - loc.tail_start : cd_abs - loc.tail_start + cd_size]
        elif scratch is not None:
            # a large directory (tens of MB for a million members): resumable, with a progress bar
            tmp = scratch / f".{label}.cd"
            part_stat = RemoteStat(cd_size, st.etag, st.last_modified)
            _download_range(
                tr, url, tmp, st, cd_abs, cd_size, part_stat, chunk=chunk, progress=progress, label=f"{label} directory"
            )
            data = tmp.read_bytes()
            tmp.unlink(missing_ok=True)
        else:
            data = read_at(cd_abs, cd_abs + cd_size)
        d = zipdir.parse_directory(data, shift=loc.shift, count=loc.count, label=label)
    except ZipFormatError as exc:
        raise RemoteError(str(exc)) from None
    cols: dict[str, list[Any]] = {
        "name": d.names,
        "header_offset": d.offsets,
        "compress_size": d.csizes,
        "file_size": d.usizes,
        "compress_type": d.methods,
        "crc": d.crcs,
        "flag_bits": d.flags,
        "name_len": d.name_lens,
        "extra_len": d.extra_lens,
    }
    order = sorted(range(len(d)), key=d.names.__getitem__)
    cols = {k: [v[i] for i in order] for k, v in cols.items()}
    return CentralDirectory(cols, cd_abs, cd_size, loc.shift, len(order), d.notes)


def _download_range(
    tr: Transport,
    url: str,
    dest: Path,
    st: RemoteStat,
    start: int,
    length: int,
    part_stat: RemoteStat,
    *,
    chunk: int,
    progress: ProgressFn | None,
    label: str,
) -> None:
    """Like :func:`download` for bytes ``[start, start + length)`` of ``url``."""

    class _Shifted:
        def read(self, _url: str, a: int, b: int, _size: int) -> bytes:
            return tr.read(url, start + a, start + b, st.size)

    download(_Shifted(), url, dest, part_stat, chunk=chunk, progress=progress, label=label)  # type: ignore[arg-type]


def _write_directory(path: Path, cd: CentralDirectory, st: RemoteStat, url: str) -> None:
    import pyarrow as pa

    c = cd.columns
    table = pa.table(
        {
            "name": pa.array(c["name"], pa.string()),
            "header_offset": pa.array(c["header_offset"], pa.uint64()),
            "compress_size": pa.array(c["compress_size"], pa.uint64()),
            "file_size": pa.array(c["file_size"], pa.uint64()),
            "compress_type": pa.array(c["compress_type"], pa.uint16()),
            "crc": pa.array(c["crc"], pa.uint32()),
            "flag_bits": pa.array(c["flag_bits"], pa.uint16()),
            "name_len": pa.array(c["name_len"], pa.uint16()),
            "extra_len": pa.array(c["extra_len"], pa.uint16()),
        }
    )
    table = table.replace_schema_metadata(
        {"url": url, "size": str(st.size), "etag": st.etag or "", "last_modified": st.last_modified or ""}
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


class ZipDirectory:
    """A cached central directory, memory-mapped (no copy on the heap), looked up by binary search."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa

        self.path = path
        self.mtime = path.stat().st_mtime_ns
        self._table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
        self._names = self._table.column("name")

    def __len__(self) -> int:
        n: int = self._table.num_rows  # pyarrow is untyped
        return n

    def names(self) -> list[str]:
        names: list[str] = self._names.to_pylist()
        return names

    def lookup(self, name: str) -> dict[str, Any] | None:
        names = self._names

        class _Seq:
            def __len__(self) -> int:
                return len(names)

            def __getitem__(self, i: int) -> str:
                name: str = names[i].as_py()
                return name

        i = bisect.bisect_left(_Seq(), name)
        if i >= len(names) or names[i].as_py() != name:
            return None
        return {k: self._table.column(k)[i].as_py() for k in self._table.column_names}


def zipdir_names(path: Path) -> list[str]:
    """Member names of a cached central directory (for the index build's listing)."""
    return ZipDirectory(Path(path)).names()


def store_fingerprint(path: Path) -> str:
    """Size, ETag and Last-Modified of the remote image zip whose directory is ``path``."""
    path = Path(path)
    manifest = load_manifest(path.parent) or {}
    for name, z in manifest.get("zips", {}).items():
        if z.get("directory") == path.name:
            return f"{name}:{z.get('size')}:{z.get('etag')}:{z.get('last_modified')}"
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


# --------------------------------------------------------------------------------------------------
# Sync: the cache root for a URL, parts and CSVs


@dataclass
class SyncReport:
    url: str
    root: Path
    parts: list[int]
    csvs: list[str]
    downloaded: dict[str, int] = field(default_factory=dict)  # file -> bytes fetched this run
    notes: list[str] = field(default_factory=list)
    offline: bool = False  # the server could not be reached; cached files were used

    @property
    def bytes_fetched(self) -> int:
        return sum(self.downloaded.values())


class _Notes(list[str]):
    """A list of notes that also hands each new one to ``notify`` (so the CLI prints it right away)."""

    def __init__(self, notify: Callable[[str], None] | None) -> None:
        super().__init__()
        self._notify = notify

    def append(self, text: str) -> None:
        super().append(text)
        if self._notify is not None:
            self._notify(text)

    def extend(self, items: Iterable[str]) -> None:
        for text in items:
            self.append(text)


def parse_parts(text: str | Iterable[int] | None) -> list[int] | None:
    """``"2,3"``, ``"2-4"``, ``"all"`` (2–7) -> sorted part numbers; None stays None."""
    if text is None:
        return None
    if not isinstance(text, str):
        return sorted({int(x) for x in text})
    out: set[int] = set()
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        if item.lower() == "all":
            out.update(DEFAULT_PARTS)
            continue
        m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", item)
        if not m:
            raise RemoteError(f"--parts {text!r}: use part numbers like 2,3 or a range like 2-7")
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        if a > b or b > 999:
            raise RemoteError(f"--parts {text!r}: {item} is not a valid range")
        out.update(range(a, b + 1))
    if not out:
        raise RemoteError(f"--parts {text!r} names no part")
    return sorted(out)


def csv_name(name: str) -> str:
    """A caption CSV as given by the user (file name, ``dataframe/`` name, or subset slug) -> file name."""
    n = name.strip().replace("\\", "/")
    if n.startswith("dataframe/"):
        n = n[len("dataframe/") :]
    for official, slug, _label in OFFICIAL_CSVS:
        if n in (slug, official):
            return official + ".csv"
    if not n.lower().endswith(".csv"):
        n += ".csv"
    if not _CSV_NAME.fullmatch(n):
        raise RemoteError(
            f"--csv {name!r}: give a CSV file name such as SkyScript_train_top30pct_filtered_by_CLIP_openai.csv"
        )
    return n


def _park(root: Path, keep: set[str]) -> list[str]:
    """Move files of parts/CSVs no longer chosen to ``_unused/`` (so discovery does not see them)."""
    moved: list[str] = []
    candidates = [p for p in root.iterdir() if p.is_file()]
    df = root / "dataframe"
    if df.is_dir():
        candidates += [p for p in df.iterdir() if p.is_file()]
    for p in candidates:
        rel = p.relative_to(root).as_posix()
        if rel in keep or not (
            re.fullmatch(r"meta[0-9]+\.zip", p.name) or _DIR_NAME.fullmatch(p.name) or p.suffix.lower() == ".csv"
        ):
            continue
        dest = root / UNUSED / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, dest)
        moved.append(rel)
    return moved


def _unpark(root: Path, rel: str) -> None:
    parked = root / UNUSED / rel
    if parked.is_file() and not (root / rel).exists():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(parked, root / rel)


def sync(
    url: object,
    *,
    parts: Iterable[int] | str | None = None,
    csvs: Iterable[str] | None = None,
    base: Path | str | None = None,
    timeout: float | None = None,
    chunk: int | None = None,
    progress: ProgressFn | None = None,
    notify: Callable[[str], None] | None = None,
) -> SyncReport:
    """Bring the cache root of ``url`` up to date for ``parts`` and ``csvs`` and return what was done.

    Downloads (resumably) the meta zips and CSVs that are missing or changed on the server and reads the
    central directory of every chosen image zip. Without ``parts``/``csvs`` the last run's choice is
    used, else :data:`DEFAULT_PARTS` / :data:`DEFAULT_CSVS`. If the server cannot be reached but every
    file is cached, the cached files are used (``report.offline``). Notes (defaults used, files changed
    on the server…) are collected in ``report.notes`` and also passed to ``notify`` as they arise.
    """
    url = normalize_url(url)
    root = cache_root(url, base)
    fresh = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    try:
        return _sync(url, root, parts=parts, csvs=csvs, timeout=timeout, chunk=chunk, progress=progress, notify=notify)
    except BaseException:
        if fresh and not any(root.iterdir()):
            root.rmdir()  # a first run that failed before writing anything leaves no empty folder
        raise


def _sync(
    url: str,
    root: Path,
    *,
    parts: Iterable[int] | str | None,
    csvs: Iterable[str] | None,
    timeout: float | None,
    chunk: int | None,
    progress: ProgressFn | None,
    notify: Callable[[str], None] | None,
) -> SyncReport:
    manifest = load_manifest(root) or {}
    if manifest.get("url") not in (None, url):
        raise RemoteError(f"cache folder {root} belongs to {manifest.get('url')}, not {url}")
    manifest.setdefault("format", FORMAT)
    manifest["url"] = url
    files: dict[str, Any] = manifest.setdefault("files", {})
    zips: dict[str, Any] = manifest.setdefault("zips", {})
    report = SyncReport(url, root, [], [], notes=_Notes(notify))

    chosen_parts = parse_parts(parts) if parts is not None else None
    if chosen_parts is None:
        chosen_parts = list(manifest.get("parts") or DEFAULT_PARTS)
        if not manifest.get("parts"):
            report.notes.append(
                f"no --parts given: using parts {', '.join(map(str, chosen_parts))} (choose fewer with --parts 2,3)"
            )
    if csvs is not None:
        chosen_csvs = [csv_name(c) for c in csvs]
    elif manifest.get("csvs"):
        chosen_csvs = [c.rsplit("/", 1)[-1] for c in manifest["csvs"]]
    else:
        chosen_csvs = list(DEFAULT_CSVS)
        report.notes.append(
            f"no --csv given: using {', '.join(chosen_csvs)} (captions of every training "
            "image; choose another with --csv NAME)"
        )
    chosen_csvs = list(dict.fromkeys(chosen_csvs))
    report.parts = chosen_parts
    chunk = chunk or settings.current().remote_chunk
    tr = transport(url, timeout)

    # where each CSV lives: dataframe/ (the official layout) or the root
    csv_rels: list[str] = []
    for name in chosen_csvs:
        known = [r for r in (f"dataframe/{name}", name) if r in files]
        csv_rels.append(known[0] if known else f"dataframe/{name}")
    keep = {f"meta{k}.zip" for k in chosen_parts} | {f"images{k}{DIR_SUFFIX}" for k in chosen_parts} | set(csv_rels)
    for rel in keep:
        _unpark(root, rel)

    def stat_or_cached(rel: str, cached_ok: bool) -> RemoteStat | None:
        try:
            return tr.stat(_join(url, rel))
        except (RemoteUnreachableError, RemoteTimeoutError) as exc:
            if cached_ok:
                if not report.offline:
                    report.notes.append(f"server unreachable, using the cached files: {exc}")
                report.offline = True
                return None
            raise

    def fetch_file(rel: str, st: RemoteStat) -> None:
        dest = root / rel
        entry = files.get(rel)
        if dest.is_file() and st.same_as(entry) and dest.stat().st_size == st.size:
            return
        if dest.is_file() and entry:
            report.notes.append(f"{rel} changed on the server ({st.difference(entry)}): downloading it again")
        report.downloaded[rel] = download(
            tr, _join(url, rel), dest, st, chunk=chunk, progress=progress, label=rel, notes=report.notes
        )
        files[rel] = {**st.to_json(), "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        _save_manifest(root, manifest)

    for k in chosen_parts:
        rel = f"meta{k}.zip"
        st = stat_or_cached(rel, (root / rel).is_file() and rel in files)
        if st is not None:
            fetch_file(rel, st)

    final_csvs: list[str] = []
    for name, rel in zip(chosen_csvs, csv_rels, strict=True):
        cached = (root / rel).is_file() and rel in files
        try:
            st = stat_or_cached(rel, cached)
        except RemoteNotFoundError:
            if rel != f"dataframe/{name}":
                raise
            try:
                st = stat_or_cached(name, False)
                rel = name
            except RemoteNotFoundError:
                raise RemoteNotFoundError(
                    f"caption CSV {name} not found on the server (HTTP 404): tried "
                    f"{_join(url, 'dataframe/' + name)} and {_join(url, name)}"
                ) from None
        if st is not None:
            fetch_file(rel, st)
        final_csvs.append(rel)
    report.csvs = final_csvs

    for k in chosen_parts:
        zname, dname = f"images{k}.zip", f"images{k}{DIR_SUFFIX}"
        entry = zips.get(zname)
        have = (root / dname).is_file() and entry is not None
        st = stat_or_cached(zname, have)
        if st is None or (have and st.same_as(entry)):
            continue
        if have and entry is not None:
            report.notes.append(
                f"{zname} changed on the server ({st.difference(entry)}): its directory is read "
                "again and the images cached from it are dropped"
            )
        cd = read_central_directory(
            tr, _join(url, zname), st, chunk=chunk, progress=progress, label=zname, scratch=root
        )
        report.notes.extend(cd.notes)
        if have:
            shutil.rmtree(root / "objects" / f"images{k}", ignore_errors=True)
            shutil.rmtree(root / ".skyscript_viz" / "thumbs", ignore_errors=True)
        _write_directory(root / dname, cd, st, _join(url, zname))
        report.downloaded[f"{zname} (directory)"] = cd.cd_size
        zips[zname] = {
            **st.to_json(),
            "directory": dname,
            "members": cd.n_entries,
            "cd_offset": cd.cd_offset,
            "cd_size": cd.cd_size,
            "read_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        _save_manifest(root, manifest)

    parked = _park(root, keep - set(csv_rels) | set(final_csvs))
    if parked:
        report.notes.append(f"no longer chosen, moved to {UNUSED}/ (kept for later): {', '.join(parked)}")
    manifest["parts"] = chosen_parts
    manifest["csvs"] = final_csvs
    manifest["synced_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    _save_manifest(root, manifest)
    return report


# --------------------------------------------------------------------------------------------------
# Reading images


class RemoteImages:
    """Image bytes of one cache root: ``objects/`` first, else one range request per image."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._manifest: dict[str, Any] | None = None
        self._manifest_mtime = -1
        self._dirs: dict[str, ZipDirectory] = {}
        self._checked: dict[str, float] = {}
        self._down_until = 0.0
        self._down_error: RemoteError | None = None

    def _object_path(self, zname: str, member: str) -> Path:
        h = hashlib.sha1(member.encode()).hexdigest()
        return self.root / "objects" / zname.removesuffix(".zip") / h[:2] / h

    def _current_manifest(self) -> dict[str, Any]:
        try:
            mtime = (self.root / MANIFEST).stat().st_mtime_ns
        except OSError:
            mtime = -1
        if mtime != self._manifest_mtime:
            self._manifest = load_manifest(self.root)
            self._manifest_mtime = mtime
        if self._manifest is None:
            raise RemoteError(
                f"{self.root} is not a remote cache (no {MANIFEST}); re-run `python -m skyscript_viz index URL`"
            )
        return self._manifest

    def _directory(self, container: str) -> ZipDirectory:
        path = self.root / container
        d = self._dirs.get(container)
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            raise FileNotFoundError(f"{container} is missing from the cache {self.root}") from None
        if d is None or d.mtime != mtime:
            d = self._dirs[container] = ZipDirectory(path)
        return d

    def read(self, container: str, member: str) -> bytes:
        m = _DIR_NAME.fullmatch(container)
        if not m:
            raise FileNotFoundError(f"{container!r} is not a remote image zip directory")
        zname = f"images{m.group(1)}.zip"
        obj = self._object_path(zname, member)
        try:
            return obj.read_bytes()
        except FileNotFoundError:
            pass
        with self._lock:
            manifest = self._current_manifest()
            directory = self._directory(container)
        url = manifest["url"]
        zurl = _join(url, zname)
        zentry = manifest.get("zips", {}).get(zname)
        if not zentry:
            raise RemoteError(f"{zname} is not in the cache manifest; re-run `python -m skyscript_viz index {url}`")
        entry = directory.lookup(member)
        if entry is None:
            raise FileNotFoundError(f"{member} is not in {zname}")
        now = time.monotonic()
        if now < self._down_until and self._down_error is not None:
            raise type(self._down_error)(str(self._down_error))
        tr = transport(url)
        try:
            if now - self._checked.get(zname, -1e18) >= _recheck_seconds():
                st = tr.stat(zurl)
                if not st.same_as(zentry):
                    raise RemoteChangedError(
                        f"{zname} changed on the server since it was indexed ({st.difference(zentry)}); "
                        f"re-run `python -m skyscript_viz index {url}`"
                    )
                self._checked[zname] = now
            data = self._fetch(tr, url, zname, zurl, int(zentry["size"]), entry)
        except (RemoteUnreachableError, RemoteTimeoutError) as exc:
            self._down_until, self._down_error = time.monotonic() + DOWN_SECONDS, exc
            raise
        obj.parent.mkdir(parents=True, exist_ok=True)
        tmp = obj.with_name(f".{obj.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, obj)
        return data

    @staticmethod
    def _fetch(tr: Transport, url: str, zname: str, zurl: str, size: int, e: dict[str, Any]) -> bytes:
        """One range request for the member's local header and data, a bounded inflate, a CRC check."""
        entry = zipdir.ZipEntry(
            e["name"],
            int(e["header_offset"]),
            int(e["compress_size"]),
            int(e["file_size"]),
            int(e["compress_type"]),
            int(e["crc"]),
            int(e["flag_bits"]),
            int(e["name_len"]),
            int(e["extra_len"]),
        )
        if entry.flags & 0x1 or entry.method not in (0, 8, 12):
            raise RemoteError(f"{e['name']} in {zname}: encrypted or an unsupported compression method")
        try:
            return zipdir.read_member(
                lambda a, b: tr.read(zurl, a, b, size), entry, size=size, label=zname, max_size=zipdir.MAX_IMAGE_BYTES
            )
        except ZipFormatError as exc:
            raise RemoteChangedError(
                f"{zname} changed on the server since it was indexed ({exc}); re-run "
                f"`python -m skyscript_viz index {url}`"
            ) from None


def _recheck_seconds() -> float:
    return settings.current().remote_recheck


_READERS: dict[Path, RemoteImages] = {}
_READERS_LOCK = threading.Lock()


def read_remote_member(root: Path | str, container: str, member: str) -> bytes:
    """Bytes of ``member`` of the remote image zip whose cached directory is ``container``."""
    key = Path(root)
    with _READERS_LOCK:
        reader = _READERS.get(key)
        if reader is None:
            if not is_cache_root(key):  # a local root shipping remote.json: never a request to its address
                raise RemoteError(
                    f"{key} was not opened as a URL, so its images are not fetched from the "
                    "server its remote.json names; open the dataset by its URL instead"
                )
            reader = _READERS[key] = RemoteImages(key)
    return reader.read(container, member)


# --------------------------------------------------------------------------------------------------
# Cache info and clearing


def _tree_size(path: Path) -> tuple[int, int]:
    total = count = 0
    if path.is_file():
        return path.stat().st_size, 1
    for dirpath, _dirs, names in os.walk(path):
        for n in names:
            try:
                total += os.stat(os.path.join(dirpath, n)).st_size
                count += 1
            except OSError:
                pass
    return total, count


def cache_info(url: object, base: Path | str | None = None) -> dict[str, Any]:
    """Where the cache of ``url`` is and what it holds (sizes per file); no network."""
    url = normalize_url(url)
    root = cache_root(url, base)
    manifest = load_manifest(root) if root.is_dir() else None
    rows: list[dict[str, Any]] = []
    if root.is_dir():
        for rel, e in sorted((manifest or {}).get("files", {}).items()):
            p = root / rel
            rows.append(
                {
                    "what": rel,
                    "bytes": p.stat().st_size if p.is_file() else 0,
                    "remote_bytes": e.get("size"),
                    "present": p.is_file(),
                }
            )
        for zname, z in sorted((manifest or {}).get("zips", {}).items()):
            p = root / z.get("directory", "")
            rows.append(
                {
                    "what": f"{zname} directory ({z.get('members', 0):,} members)",
                    "bytes": p.stat().st_size if p.is_file() else 0,
                    "remote_bytes": z.get("size"),
                    "present": p.is_file(),
                }
            )
        for label, sub in (
            ("images fetched (objects/)", "objects"),
            ("index and thumbnails", ".skyscript_viz"),
            ("unused files (_unused/)", UNUSED),
        ):
            b, n = _tree_size(root / sub) if (root / sub).exists() else (0, 0)
            if n:
                rows.append({"what": f"{label}: {n:,} files", "bytes": b, "remote_bytes": None, "present": True})
        partial = sorted(root.rglob("*.partial"))
        for p in partial:
            rows.append(
                {
                    "what": f"{p.relative_to(root)} (interrupted download)",
                    "bytes": p.stat().st_size,
                    "remote_bytes": None,
                    "present": True,
                }
            )
    total = _tree_size(root)[0] if root.is_dir() else 0
    return {
        "url": url,
        "root": root,
        "exists": root.is_dir(),
        "parts": (manifest or {}).get("parts"),
        "csvs": (manifest or {}).get("csvs"),
        "rows": rows,
        "total_bytes": total,
    }


def list_caches(base: Path | str | None = None) -> list[dict[str, Any]]:
    """Every remote cache under the cache base: URL, folder, size."""
    b = cache_base(base)
    out = []
    if b.is_dir():
        for d in sorted(b.iterdir()):
            m = load_manifest(d) if d.is_dir() else None
            if m and m.get("url"):
                out.append({"url": m["url"], "root": d, "total_bytes": _tree_size(d)[0]})
    return out


def clear_cache(url: object, base: Path | str | None = None, *, images_only: bool = False) -> int:
    """Delete the cache of ``url`` (or only its fetched images and thumbnails); returns bytes freed."""
    root = cache_root(url, base)
    if not root.is_dir():
        return 0
    if load_manifest(root) is None and any(root.iterdir()):
        raise RemoteError(f"{root} does not look like a remote cache (no {MANIFEST}); not deleting it")
    targets = [root / "objects", root / ".skyscript_viz" / "thumbs"] if images_only else [root]
    freed = 0
    for t in targets:
        if t.exists():
            freed += _tree_size(t)[0]
            shutil.rmtree(t)
    with _READERS_LOCK:
        _READERS.pop(root, None)
    return freed


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
