"""Image bytes of a remote root: ``objects/`` when fetched before, else one checked range request.

Owns the per-root readers, the periodic check that the remote zip is unchanged, and the short
fail-fast window after the server could not be reached.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

from .. import settings, zipdir
from ..errors import (
    RemoteChangedError,
    RemoteError,
    RemoteTimeoutError,
    RemoteUnreachableError,
    ZipFormatError,
)
from .directory import DIR_NAME, ZipDirectory, entry_of
from .location import MANIFEST, is_cache_root, join_url, load_manifest
from .transport import Transport, shared_transport

DOWN_SECONDS = 15.0  # after a failed connection, image fetches fail fast for this long


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
        m = DIR_NAME.fullmatch(container)
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
        zurl = join_url(url, zname)
        zentry = manifest.get("zips", {}).get(zname)
        if not zentry:
            raise RemoteError(f"{zname} is not in the cache manifest; re-run `python -m skyscript_viz index {url}`")
        entry = directory.lookup(member)
        if entry is None:
            raise FileNotFoundError(f"{member} is not in {zname}")
        now = time.monotonic()
        if now < self._down_until and self._down_error is not None:
            raise type(self._down_error)(str(self._down_error))
        tr = shared_transport(url)
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
        entry = entry_of(e)
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


def forget_reader(root: Path) -> None:
    """Drop the reader of ``root`` (its cache was cleared: no stale directory or manifest stays open)."""
    with _READERS_LOCK:
        _READERS.pop(Path(root), None)
