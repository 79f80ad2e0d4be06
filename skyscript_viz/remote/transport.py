"""Range reads and stats of remote files through fsspec, and the one-line RemoteError for every failure.

Owns the HTTP(S)/S3 clients (timeouts, no https downgrade, replies longer than asked refused unread)
and the translation of any transport exception into the package's error tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import settings
from ..errors import (
    RemoteChangedError,
    RemoteError,
    RemoteForbiddenError,
    RemoteInterruptedError,
    RemoteNotFoundError,
    RemoteTimeoutError,
    RemoteUnreachableError,
)
from .location import host_of, normalize_url

DEFAULT_TIMEOUT = 30.0  # seconds without data before a read gives up
CONNECT_TIMEOUT = 10.0
# Every read also has an overall deadline, timeout + its length at this rate: a server sending a byte
# now and then never trips the idle timeout, and must not keep a read alive for hours.
MIN_RATE = 64 * 1024  # bytes per second


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
            data = sync(self.fs.loop, self._range, url, start, end)
        if len(data) != end - start:
            raise RemoteChangedError(
                f"{url} is shorter than expected: bytes {start:,}-{end:,} of {size:,} "
                f"gave {len(data):,}; it was truncated or changed on the server"
            )
        return bytes(data)

    async def _range(self, url: str, start: int, end: int) -> bytes:
        """One ranged GET (HTTP or S3), read up to the length asked and never further (a reply longer than
        asked is refused unread), within the read's deadline in all."""
        want = end - start
        got = bytearray()
        t0 = time.monotonic()
        try:
            async with asyncio.timeout(self.deadline(want)):
                if self.scheme == "s3":
                    await self._s3_into(url, start, end, got)
                elif not await self._http_into(url, start, end, got):
                    return b""
        except TimeoutError:
            if time.monotonic() - t0 < self.deadline(want) * 0.99:
                raise  # the idle timeout: explained as "no answer within ..."
            raise RemoteTimeoutError(
                f"{host_of(url)} sent {url} too slowly: {len(got):,} of {want:,} bytes within "
                f"{self.deadline(want):.0f} s; the server is slow or stalling (raise the limit with --timeout "
                "or SKYSCRIPT_REMOTE_TIMEOUT)"
            ) from None
        return bytes(got[:want])

    async def _http_into(self, url: str, start: int, end: int, got: bytearray) -> bool:
        """Bytes of one ranged GET into ``got``; False when the range starts past the end (416). A server
        ignoring Range is refused past byte 0 (its 200 is cut after the bytes asked)."""
        want = end - start
        session = await self.fs.set_session()
        async with session.get(
            self.fs.encode_url(url), headers={"Range": f"bytes={start}-{end - 1}"}, **self.fs.kwargs
        ) as r:
            if r.status == 416:
                return False
            r.raise_for_status()
            if r.status != 206 and start > 0:
                raise RemoteError(
                    f"{host_of(url)} does not support HTTP range requests, which reading a remote root needs ({url})"
                )
            length = r.headers.get("Content-Length")
            if r.status == 206 and length is not None and length.isdigit() and int(length) > want:
                r.close()
                raise _too_long(url, want, int(length))
            await _read_capped(r.content.read, want, got)
            if r.status == 206 and len(got) > want:
                r.close()
                raise _too_long(url, want, None)
            if len(got) > want or not r.content.at_eof():
                r.close()  # a 200 for the whole file: the start of it was enough
        return True

    async def _s3_into(self, url: str, start: int, end: int, got: bytearray) -> None:
        """Bytes of one ranged S3 GetObject into ``got``, refused unread when the reply is longer."""
        want = end - start
        bucket, key, _version = self.fs.split_path(self._path(url))
        reply = await self.fs._call_s3("get_object", Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        body = reply["Body"]
        try:
            length = reply.get("ContentLength")
            if isinstance(length, int) and length > want:
                raise _too_long(url, want, length)
            await _read_capped(body.read, want, got)
            if len(got) > want:
                raise _too_long(url, want, None)
        finally:
            body.close()

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


async def _read_capped(read: Any, want: int, got: bytearray) -> None:
    """Blocks from ``read(n)`` into ``got`` until it holds one byte more than ``want`` or the reply ends
    (that one byte says the reply is longer than asked, without reading the rest)."""
    while len(got) <= want and (block := await read(min(1 << 20, want + 1 - len(got)))):
        got += block


def _too_long(url: str, want: int, length: int | None) -> RemoteError:
    said = f" ({length:,} bytes)" if length is not None else ""
    return RemoteError(
        f"{host_of(url)} answered a request for {want:,} bytes of {url} with a longer reply{said}; "
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
    """A RemoteError with a one-line message for any transport exception (its causes looked at too)."""
    chain = _chain(exc)
    for e in chain:  # our own verdicts (a refused redirect) may arrive wrapped by fsspec
        if isinstance(e, RemoteError):
            return e
    for explain in (_by_status, _by_connection, _by_timeout, _by_dropped):
        for e in chain:
            found = explain(e, url, timeout)
            if found is not None:
                return found
    for e in chain:
        if isinstance(e, FileNotFoundError):  # fsspec's HTTP info() turns a failed GET into this
            return RemoteNotFoundError(f"not found on the server (HTTP 404): {url}")
    return RemoteError(f"reading {url} failed: {type(exc).__name__}: {str(exc)[:200]}")


def _aiohttp() -> Any:
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiohttp comes with the requirements
        return None
    return aiohttp


def _by_status(e: BaseException, url: str, _timeout: float) -> RemoteError | None:
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
    return None


def _by_connection(e: BaseException, url: str, _timeout: float) -> RemoteError | None:
    aiohttp = _aiohttp()
    if (
        isinstance(e, ConnectionRefusedError | socket.gaierror)
        or type(e).__name__ == "EndpointConnectionError"
        or (aiohttp is not None and isinstance(e, aiohttp.ClientConnectorError))
    ):
        return RemoteUnreachableError(
            f"cannot reach {host_of(url)} ({_connect_reason(e)}) for {url}; files and images already cached still open"
        )
    return None


def _by_timeout(e: BaseException, url: str, timeout: float) -> RemoteError | None:
    if isinstance(e, TimeoutError) or "Timeout" in type(e).__name__:
        return RemoteTimeoutError(
            f"no answer from {host_of(url)} within {timeout:g} s for {url}; the server is "
            "slow or down (raise the limit with --timeout or SKYSCRIPT_REMOTE_TIMEOUT)"
        )
    return None


def _by_dropped(e: BaseException, url: str, _timeout: float) -> RemoteError | None:
    aiohttp = _aiohttp()
    if (
        aiohttp is not None
        and isinstance(e, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)
    ) or isinstance(e, ConnectionError):
        return RemoteInterruptedError(f"the connection to {host_of(url)} dropped while reading {url}")
    if isinstance(e, ValueError) and "range requests" in str(e):
        return RemoteError(
            f"{host_of(url)} does not support HTTP range requests, which reading a remote root needs ({url})"
        )
    return None


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


def shared_transport(url: str, timeout: float | None = None) -> Transport:
    """A shared Transport per (scheme, host, timeout)."""
    url = normalize_url(url)
    t = timeout_from_env(timeout)
    key = (url.split("://", 1)[0], host_of(url), t, settings.current().s3_endpoint)
    with _TRANSPORTS_LOCK:
        tr = _TRANSPORTS.get(key)
        if tr is None:
            tr = _TRANSPORTS[key] = Transport(url, timeout=t)
        return tr
