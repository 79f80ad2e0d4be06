"""Storage kinds: where a part's files live (a folder, a local zip, a remote zip), behind one interface.

Owns what differs between the kinds, and nothing else: the fingerprint that tells the index build a
part changed, the member names of a store known from a cached directory rather than by listing it,
and how one image's bytes are read for an index row. Callers look a kind up with :func:`storage_kind`
and never compare kind strings; a new kind is one class here and one entry in :data:`STORAGES`.
"""

from __future__ import annotations

import math
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from .safeio import read_regular
from .zipdir import MAX_IMAGE_BYTES, LocalZip, ZipEntry, read_directory, read_member

__all__ = ["NO_FILE", "STORAGES", "Storage", "StoreKind", "storage_kind"]

StoreKind = Literal["folder", "zip", "remote-zip"]
NO_FILE = "none"  # the storage of an index row whose image has no file
# An image's byte location in its local zip, as the index records it (format 6+).
_ZIP_FIELDS = ("zip_offset", "zip_csize", "zip_usize", "zip_method", "zip_crc", "zip_flags", "zip_nlen", "zip_xlen")


class Storage(ABC):
    """One storage kind; an instance reads the images of the parts of that kind under one dataset root."""

    kind: ClassVar[StoreKind]

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    @staticmethod
    @abstractmethod
    def fingerprint(path: Path) -> str:
        """Text that changes whenever the store at ``path`` changes (hashed into the part's fingerprint)."""

    @staticmethod
    def cached_names(path: Path) -> list[str] | None:
        """Member names known without opening the store (a remote zip's cached directory); None: list it."""
        return None

    @abstractmethod
    def read(self, container: str, member: str, row: Mapping[str, Any]) -> bytes:
        """The bytes of image ``member`` of ``container``, bounded by MAX_IMAGE_BYTES."""

    def close(self) -> None:
        """Release open files (nothing by default)."""
        return None

    def inside_root(self, rel: str) -> Path:
        """``root/rel``, refused when it leads outside the dataset root."""
        p = (self.root / rel).resolve()
        if p != self.root and self.root not in p.parents:
            raise PermissionError(f"{rel!r} leaves the dataset root")
        return p


class FolderStorage(Storage):
    """A part unpacked into a folder: one regular file per image."""

    kind = "folder"

    @staticmethod
    def fingerprint(path: Path) -> str:
        count, total, newest = 0, 0, 0
        with os.scandir(path) as it:
            for entry in it:
                st = entry.stat(follow_symlinks=False)  # a dangling link is reported, not fatal
                count += 1
                total += st.st_size
                newest = max(newest, st.st_mtime_ns)
        return f"{count}:{total}:{newest}"

    def read(self, container: str, member: str, row: Mapping[str, Any]) -> bytes:
        return read_regular(self.inside_root(f"{container}/{member}"), MAX_IMAGE_BYTES)


class ZipStorage(Storage):
    """A part as a local zip: one positioned read at the byte location the index recorded."""

    kind = "zip"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._zips: dict[str, LocalZip] = {}
        self._lock = threading.Lock()

    @staticmethod
    def fingerprint(path: Path) -> str:
        st = path.stat()
        return f"{st.st_size}:{st.st_mtime_ns}"

    def _zip(self, container: str, *, directory: bool = False) -> LocalZip:
        """An open image zip (positioned reads are thread-safe); its directory read only when asked,
        for indexes older than format 6 that do not record where each image is."""
        with self._lock:
            z = self._zips.get(container)
            if z is None:
                z = self._zips[container] = LocalZip(
                    self.inside_root(container), directory=False, max_member=MAX_IMAGE_BYTES
                )
            if directory and not len(z.directory):
                z.directory = read_directory(z.size, z.read_at, label=z.label)
            return z

    def read(self, container: str, member: str, row: Mapping[str, Any]) -> bytes:
        z = self._zip(container)
        loc = [v for v in (_int(row.get(k)) for k in _ZIP_FIELDS) if v is not None]
        if len(loc) < len(_ZIP_FIELDS):  # an older index: look the member up in the zip's own directory
            return self._zip(container, directory=True).read(member)
        off, csize, usize, method, crc, flags, nlen, xlen = loc
        entry = ZipEntry(member, off, csize, usize, method, crc, flags, nlen, xlen)
        return read_member(z.read_at, entry, size=z.size, label=z.label, max_size=MAX_IMAGE_BYTES)

    def close(self) -> None:
        with self._lock:
            for z in self._zips.values():
                z.close()
            self._zips.clear()


class RemoteZipStorage(Storage):
    """An image zip on a server (the cache root of a URL): cached bytes, else one range request.

    The container is the zip's cached central directory (``images2.zipdir.arrow``); see
    skyscript_viz.remote, imported only when a remote store is used (it brings in the network stack).
    """

    kind = "remote-zip"

    @staticmethod
    def fingerprint(path: Path) -> str:
        from .remote import store_fingerprint  # the remote zip's size and ETag when its directory was read

        return store_fingerprint(path)

    @staticmethod
    def cached_names(path: Path) -> list[str] | None:
        from .remote import zipdir_names

        return zipdir_names(path)

    def read(self, container: str, member: str, row: Mapping[str, Any]) -> bytes:
        from .remote import read_remote_member

        return read_remote_member(self.root, container, member)


STORAGES: dict[str, type[Storage]] = {s.kind: s for s in (FolderStorage, ZipStorage, RemoteZipStorage)}


def storage_kind(kind: str) -> type[Storage]:
    """The class of storage kind ``kind``; KeyError for an unknown kind (an index row without a file)."""
    return STORAGES[kind]


def _int(v: Any) -> int | None:
    """An index value as int; None for SQL NULL (None, or NaN from a pandas row)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return int(v)
