"""Reading images from folder or zip parts, thumbnails, and a placeholder for broken ones.

Paths come only from the index (part folder + member name found by listing the part), never from a
CSV, and are checked to stay inside the dataset root. Zip handles are kept open and shared between
threads behind a lock. Pillow's decompression-bomb guard stays on.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

__all__ = ["ImageResult", "ImageStore", "placeholder_image"]

# Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; SkyScript images are small, so a
# tighter limit still leaves a wide margin and refuses bombs early.
Image.MAX_IMAGE_PIXELS = 64_000_000


@dataclass(frozen=True)
class ImageResult:
    """Bytes ready to show (JPEG or PNG) and, when the real image could not be used, why."""

    data: bytes
    mime: str
    problem: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def placeholder_image(message: str, size: int = 256) -> bytes:
    """A grey PNG with a crossed frame and a short message, shown instead of a broken image."""
    img = Image.new("RGB", (size, size), (229, 231, 235))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, size - 1, size - 1], outline=(156, 163, 175), width=2)
    d.line([0, 0, size, size], fill=(209, 213, 219), width=2)
    d.line([0, size, size, 0], fill=(209, 213, 219), width=2)
    words, lines, line = message.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > 30:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    y = size // 2 - 7 * len(lines)
    for text in lines[:6]:
        d.text((10, y), text, fill=(55, 65, 81))
        y += 14
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


class ImageStore:
    """Reads image bytes for index rows; caches thumbnails in memory and on disk."""

    def __init__(self, root: Path, *, thumb_dir: Path | None = None, memory_items: int = 2048) -> None:
        self.root = Path(root).resolve()
        self.thumb_dir = thumb_dir
        self._zips: dict[str, tuple[zipfile.ZipFile, threading.Lock]] = {}
        self._zips_lock = threading.Lock()
        self._mem: OrderedDict[tuple[str, int], ImageResult] = OrderedDict()
        self._mem_lock = threading.Lock()
        self._memory_items = memory_items

    def close(self) -> None:
        with self._zips_lock:
            for zf, _ in self._zips.values():
                zf.close()
            self._zips.clear()

    def _inside_root(self, rel: str) -> Path:
        p = (self.root / rel).resolve()
        if p != self.root and self.root not in p.parents:
            raise PermissionError(f"{rel!r} leaves the dataset root")
        return p

    def _zip(self, container: str) -> tuple[zipfile.ZipFile, threading.Lock]:
        with self._zips_lock:
            entry = self._zips.get(container)
            if entry is None:
                entry = (zipfile.ZipFile(self._inside_root(container)), threading.Lock())
                self._zips[container] = entry
            return entry

    def read_bytes(self, row: dict[str, Any]) -> bytes:
        """Raw bytes of the image for an index row (``storage``, ``container``, ``member``)."""
        storage, container, member = row.get("storage"), row.get("container"), row.get("member")
        if storage == "zip" and container and member:
            zf, lock = self._zip(str(container))
            with lock:  # ZipFile shares one file handle; reads must not interleave
                return zf.read(str(member))
        if storage == "folder" and container and member:
            return self._inside_root(f"{container}/{member}").read_bytes()
        if storage == "remote-zip" and container and member:  # a remote root: cached bytes or one range request
            from .remote import read_remote_member

            return read_remote_member(self.root, str(container), str(member))
        raise FileNotFoundError(f"{row.get('filepath')} has no image file in the dataset")

    def image(self, row: dict[str, Any]) -> ImageResult:
        """The full image, or a placeholder with the reason it could not be shown. Never raises."""
        try:
            data = self.read_bytes(row)
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                w, h = im.size
                fmt = (im.format or "JPEG").lower()
            return ImageResult(data, f"image/{'jpeg' if fmt in ('jpeg', 'jpg') else fmt}", None, w, h)
        except Exception as exc:  # noqa: BLE001 - any failure becomes a placeholder with its reason
            return ImageResult(placeholder_image(_reason(exc)), "image/png", _reason(exc))

    def thumbnail(self, row: dict[str, Any], *, size: int = 192) -> ImageResult:
        """A JPEG thumbnail no larger than ``size`` px, cached in memory and (if set up) on disk."""
        fp = str(row.get("filepath"))
        key = (fp, size)
        with self._mem_lock:
            hit = self._mem.get(key)
            if hit is not None:
                self._mem.move_to_end(key)
                return hit
        result = self._thumbnail_uncached(row, fp, size)
        if result.ok:
            with self._mem_lock:
                self._mem[key] = result
                while len(self._mem) > self._memory_items:
                    self._mem.popitem(last=False)
        return result

    def _thumbnail_uncached(self, row: dict[str, Any], fp: str, size: int) -> ImageResult:
        disk: Path | None = None
        if self.thumb_dir is not None:
            digest = hashlib.sha1(f"{fp}:{row.get('container')}:{row.get('member')}".encode()).hexdigest()
            disk = self.thumb_dir / str(size) / digest[:2] / f"{digest}.jpg"
            if disk.is_file():
                return ImageResult(disk.read_bytes(), "image/jpeg")
        try:
            data = self.read_bytes(row)
            with Image.open(io.BytesIO(data)) as im:
                im.draft("RGB", (size, size))  # JPEG: decode at reduced scale, much faster
                im = im.convert("RGB")
                im.thumbnail((size, size))
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=82)
            out = buf.getvalue()
        except Exception as exc:  # noqa: BLE001
            return ImageResult(placeholder_image(_reason(exc), size), "image/png", _reason(exc))
        if disk is not None:
            try:
                disk.parent.mkdir(parents=True, exist_ok=True)
                tmp = disk.with_suffix(f".{threading.get_ident()}.tmp")
                tmp.write_bytes(out)
                tmp.replace(disk)
            except OSError:
                pass  # a read-only cache only costs speed
        return ImageResult(out, "image/jpeg")


def _reason(exc: BaseException) -> str:
    from .remote import RemoteError

    if isinstance(exc, RemoteError):  # its message names the server, the URL and the fix
        return str(exc)
    if isinstance(exc, FileNotFoundError | KeyError):
        return "image file missing from the dataset"
    if isinstance(exc, Image.DecompressionBombError):
        return "image refused: too many pixels (decompression-bomb guard)"
    if isinstance(exc, PermissionError):
        return f"image refused: {exc}"
    if isinstance(exc, zipfile.BadZipFile):
        return f"zip part is damaged: {exc}"
    return f"image cannot be decoded ({type(exc).__name__})"
