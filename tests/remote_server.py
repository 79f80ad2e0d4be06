"""A small threaded HTTP file server for the remote-root tests, with the faults they need.

``http.server`` serves whole files only; this handler answers ``Range: bytes=a-b`` (also ``a-`` and
``-n``) with 206 + Content-Range, HEAD with the size, and sends ETag / Last-Modified (from size and
mtime, so replacing a file changes them). Knobs, all changeable while it runs:

* ``forbidden``: relative paths answered with 403; ``missing``: answered with 404 even if present;
* ``delay``: seconds to wait before answering (per path, ``"*"`` for every path) — slow servers;
* ``throttle``: seconds to sleep after each ``block`` bytes sent (per path or ``"*"``);
* ``drop_at``: path -> file offset: a response reaching that offset sends the bytes before it and
  then closes the connection — a download killed half-way;
* ``no_range``: ignore Range headers (answer 200 with the whole file);
* ``long_206``: path -> extra bytes: a 206 whose body runs that many bytes past the range asked
  (``long_206_length``: with a Content-Length saying so, else no length and the connection closed);
* ``dribble``: path -> seconds between single bytes of the body (never idle long enough to time out);
  ``slow_headers``: the same for the status line and headers;
* ``redirect``: path -> URL: answered with 302 to that URL (+ the same path);
* ``tls``: ``(certfile, keyfile)`` to serve https;
* ``stop()``: the kill switch: closes the listening socket *and* every open keep-alive connection,
  so clients see "connection refused"; ``start()`` again binds the same port.

Every request is logged (method, path, Range header, status, body bytes sent), so tests can assert
how many bytes a step fetched: ``server.mark()`` then ``server.requests_since(mark)``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import ssl
import threading
import time
import zipfile
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["RangeServer", "Request", "make_zip_root"]

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass
class Request:
    method: str
    path: str  # relative to the served root
    range: str | None
    status: int
    sent: int  # body bytes actually written
    start: int | None = None  # first byte of the file sent
    seq: int = -1  # order in which requests *arrived* (a slow one is logged when it ends)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.conn_lock:
            self.server.conns.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.conn_lock:
            self.server.conns.discard(self.connection)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _log(self, req: Request) -> None:
        req.seq = self._seq
        self.server.owner._log(req)

    def _error(self, code: int, rel: str) -> None:
        body = f"{code} {rel}\n".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(Request(self.command, rel, self.headers.get("Range"), code, 0))

    def _serve(self, *, head: bool) -> None:
        owner = self.server.owner
        if owner.stopped:
            self.close_connection = True
            return
        self._seq = owner._arrived()
        path = unquote(urlsplit(self.path).path)
        prefix = owner.prefix.rstrip("/") + "/"
        if not path.startswith(prefix):
            self._error(404, path)
            return
        rel = path[len(prefix) :]
        if rel in owner.redirect:
            self.send_response(302)
            self.send_header("Location", f"{owner.redirect[rel].rstrip('/')}/{rel}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            self._log(Request(self.command, rel, self.headers.get("Range"), 302, 0))
            return
        delay = owner.delay.get(rel, owner.delay.get("*", 0.0))
        if delay:
            time.sleep(delay)
        file = (owner.root / rel).resolve()
        if rel in owner.forbidden or any(rel.startswith(f.rstrip("/") + "/") for f in owner.forbidden):
            self._error(403, rel)
            return
        if ".." in rel.split("/") or rel in owner.missing or not file.is_file() or owner.root not in file.parents:
            self._error(404, rel)
            return
        st = file.stat()
        size = st.st_size
        etag = f'"{size:x}-{st.st_mtime_ns:x}"'
        start, end, status = 0, size, 200
        rng = self.headers.get("Range")
        if rng and not owner.no_range:
            m = _RANGE.match(rng.strip())
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(size, int(m.group(2)) + 1) if m.group(2) else size
                else:
                    start, end = max(0, size - int(m.group(2))), size
                if start >= size or start >= end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self._log(Request(self.command, rel, rng, 416, 0))
                    return
                status = 206
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "none" if owner.no_range else "bytes")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", formatdate(st.st_mtime, usegmt=True))
        extra = owner.long_206.get(rel, 0) if status == 206 and not head else 0
        if not extra or owner.long_206_length:
            self.send_header("Content-Length", str(end - start + extra))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        if rel in owner.slow_headers:
            self._headers_buffer.append(b"\r\n")
            raw, self._headers_buffer = b"".join(self._headers_buffer), []
            self._write_slowly(raw, owner.slow_headers[rel])
        else:
            self.end_headers()
        sent = 0
        if extra:
            sent = self._send_long(file, start, end, extra)
        elif rel in owner.dribble and not head:
            sent = self._send_dribble(file, start, end, owner.dribble[rel])
        elif not head:
            drop = owner.drop_at.get(rel)
            throttle = owner.throttle.get(rel, owner.throttle.get("*", 0.0))
            stop_at = min(end, drop) if drop is not None and start < drop < end else end
            try:
                with open(file, "rb") as f:
                    f.seek(start)
                    pos = start
                    while pos < stop_at and not owner.stopped:
                        block = f.read(min(owner.block, stop_at - pos))
                        if not block:
                            break
                        self.wfile.write(block)
                        sent += len(block)
                        pos += len(block)
                        if throttle:
                            self.wfile.flush()
                            time.sleep(throttle)
                self.wfile.flush()
            except OSError:
                self.close_connection = True
            if stop_at < end or owner.stopped:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
        self._log(Request(self.command, rel, rng, status, sent, start if not head else None))

    def _send_long(self, file: Path, start: int, end: int, extra: int) -> int:
        """The range asked, then ``extra`` more bytes, until the client hangs up."""
        sent = 0
        try:
            with open(file, "rb") as f:
                f.seek(start)
                self.wfile.write(f.read(end - start))
            sent = end - start
            block = b"\0" * 65536
            while sent < end - start + extra and not self.server.owner.stopped:
                n = min(len(block), end - start + extra - sent)
                self.wfile.write(block[:n])
                sent += n
        except OSError:
            pass
        self.close_connection = True
        return sent

    def _send_dribble(self, file: Path, start: int, end: int, pause: float) -> int:
        with open(file, "rb") as f:
            f.seek(start)
            return self._write_slowly(f.read(end - start), pause)

    def _write_slowly(self, data: bytes, pause: float) -> int:
        """``data`` one byte at a time, ``pause`` seconds apart; returns the bytes written."""
        sent = 0
        try:
            for i in range(len(data)):
                if self.server.owner.stopped:
                    break
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                sent += 1
                time.sleep(pause)
        except OSError:
            self.close_connection = True
        return sent


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: RangeServer
    conns: set[socket.socket]
    conn_lock: threading.Lock

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up (timeouts, killed processes) are part of the tests


class RangeServer:
    """Serves ``root`` at ``http://127.0.0.1:PORT{prefix}/``; see the module docstring."""

    def __init__(self, root: Path, *, prefix: str = "/SkyScript", port: int = 0) -> None:
        self.root = Path(root).resolve()
        self.prefix = prefix
        self.port = port
        self.forbidden: set[str] = set()
        self.missing: set[str] = set()
        self.delay: dict[str, float] = {}
        self.throttle: dict[str, float] = {}
        self.drop_at: dict[str, int] = {}
        self.no_range = False
        self.long_206: dict[str, int] = {}
        self.long_206_length = True
        self.dribble: dict[str, float] = {}
        self.slow_headers: dict[str, float] = {}
        self.redirect: dict[str, str] = {}
        self.tls: tuple[Path, Path] | None = None
        self.block = 64 * 1024
        self.stopped = True
        self.log: list[Request] = []
        self._seq = 0
        self._log_lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{self.prefix}"

    def start(self) -> RangeServer:
        httpd = _Server(("127.0.0.1", self.port), _Handler)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        httpd.owner = self
        httpd.conns = set()
        httpd.conn_lock = threading.Lock()
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self.stopped = False
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """The kill switch: no new connections, and every open one is cut."""
        self.stopped = True
        httpd = self._httpd
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with httpd.conn_lock:
            conns = list(httpd.conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> RangeServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- the request log --------------------------------------------------------------------------

    def _arrived(self) -> int:
        with self._log_lock:
            self._seq += 1
            return self._seq

    def _log(self, req: Request) -> None:
        with self._log_lock:
            self.log.append(req)

    def mark(self) -> int:
        """A point in time: requests arriving after it are ``requests_since(mark)``."""
        with self._log_lock:
            return self._seq + 1

    def requests_since(self, mark: int, path: str | None = None) -> list[Request]:
        """Finished requests that arrived after ``mark``, in arrival order."""
        with self._log_lock:
            reqs = [r for r in self.log if r.seq >= mark]
        return sorted((r for r in reqs if path is None or r.path == path), key=lambda r: r.seq)

    def bytes_since(self, mark: int, path: str | None = None) -> int:
        return sum(r.sent for r in self.requests_since(mark, path))

    def reset(self) -> None:
        """All faults off."""
        self.forbidden.clear()
        self.missing.clear()
        self.delay.clear()
        self.throttle.clear()
        self.drop_at.clear()
        self.no_range = False
        self.long_206.clear()
        self.long_206_length = True
        self.dribble.clear()
        self.slow_headers.clear()
        self.redirect.clear()


def make_zip_root(src: Path, dest: Path) -> Path:
    """Copy a SkyScript root (e.g. the demo, which mixes folders and zips) as the public files are laid
    out: ``images{k}.zip`` (members ``images{k}/…``; deflated for even parts, stored for odd ones),
    ``meta{k}.zip`` (members ``meta{k}/…``) and ``dataframe/*.csv``. Returns ``dest``."""
    from skyscript_viz.discovery import discover

    layout = discover(src)
    dest.mkdir(parents=True, exist_ok=True)
    for part in layout.parts:
        for kind, store in (("images", part.images), ("meta", part.meta)):
            if store is None:
                continue
            folder = f"{kind}{part.number}"
            method = zipfile.ZIP_DEFLATED if kind == "meta" or part.number % 2 == 0 else zipfile.ZIP_STORED
            with zipfile.ZipFile(dest / f"{folder}.zip", "w", method) as out:
                if store.kind == "folder":
                    for name in sorted(os.listdir(store.path)):
                        if (store.path / name).is_file():
                            out.write(store.path / name, f"{folder}/{name}")
                else:
                    with zipfile.ZipFile(store.path) as zin:
                        for info in zin.infolist():
                            if info.is_dir():
                                continue
                            name = info.filename
                            if name.startswith(folder + "/"):
                                name = name[len(folder) + 1 :]
                            out.writestr(f"{folder}/{name}", zin.read(info))
    (dest / "dataframe").mkdir(exist_ok=True)
    for c in layout.csvs:
        shutil.copyfile(c.path, dest / "dataframe" / c.path.name)
    return dest
