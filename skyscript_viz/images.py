"""Reading images from folder or zip parts, thumbnails, and a placeholder for broken ones.

Paths come only from the index (part folder + member name found by listing the part), never from a
CSV, and are checked to stay inside the dataset root. A zip member is read with one positioned read at
the byte location the index recorded (skyscript_viz.zipdir), inflated no further than its declared
size; only JPEG is decoded, and only after its header says it has a sane number of pixels.
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from .errors import ImageRefusedError, RemoteError, ZipFormatError
from .safeio import NotRegularFileError
from .storage import STORAGES, Storage, storage_kind

__all__ = ["ImageResult", "ImageStore", "placeholder_image"]

# Pillow only warns above MAX_IMAGE_PIXELS (and raises above twice that); SkyScript images are a few
# hundred pixels wide, so anything over this is refused before decoding (open_image).
Image.MAX_IMAGE_PIXELS = 64_000_000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def open_image(data: bytes, formats: tuple[str, ...] = ("JPEG",)) -> Image.Image:
    """Pillow image of ``data`` with only its header read; other formats and bombs are refused.

    SkyScript images are all JPEG (a PNG is refused with its own reason); benchmark sets also hold PNG
    and TIFF, so their reader passes those formats.
    """
    if data[:8] == _PNG_MAGIC and "PNG" not in formats:
        raise ImageRefusedError("image refused: a PNG, not a JPEG like every SkyScript image")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        im = Image.open(io.BytesIO(data), formats=list(formats))
    w, h = im.size
    limit = Image.MAX_IMAGE_PIXELS  # None would mean no limit
    if limit is not None and w * h > limit:
        im.close()
        raise ImageRefusedError(
            f"image refused: {w:,} x {h:,} pixels is over the {limit:,}-pixel limit (decompression-bomb guard)"
        )
    return im


def thumbnail_jpeg(data: bytes, size: int, formats: tuple[str, ...] = ("JPEG",)) -> bytes:
    """A JPEG no larger than ``size`` px of the image in ``data`` (refused as :func:`open_image` says)."""
    with open_image(data, formats) as im:
        im.draft("RGB", (size, size))  # JPEG: decode at reduced scale, much faster
        small = im.convert("RGB")
        small.thumbnail((size, size))
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=82)
    return buf.getvalue()


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
        self._storages: dict[str, Storage] = {}
        self._storages_lock = threading.Lock()
        self._mem: OrderedDict[tuple[str, int], ImageResult] = OrderedDict()
        self._mem_lock = threading.Lock()
        self._memory_items = memory_items

    def close(self) -> None:
        with self._storages_lock:
            for s in self._storages.values():
                s.close()
            self._storages.clear()

    def _storage(self, kind: str) -> Storage:
        """The reader of storage kind ``kind`` under this root (one per kind, kept open)."""
        with self._storages_lock:
            s = self._storages.get(kind)
            if s is None:
                s = self._storages[kind] = storage_kind(kind)(self.root)
            return s

    def read_bytes(self, row: dict[str, Any]) -> bytes:
        """Raw bytes of the image for an index row (``storage``, ``container``, ``member``)."""
        kind, container, member = row.get("storage"), row.get("container"), row.get("member")
        if kind not in STORAGES or not (container and member):  # NO_FILE: the image has no file
            raise FileNotFoundError(f"{row.get('filepath')} has no image file in the dataset")
        return self._storage(str(kind)).read(str(container), str(member), row)

    def image(self, row: dict[str, Any]) -> ImageResult:
        """The full image, or a placeholder with the reason it could not be shown. Never raises."""
        try:
            data = self.read_bytes(row)
            with open_image(data) as im:
                im.load()
                w, h = im.size
            return ImageResult(data, "image/jpeg", None, w, h)
        except Exception as exc:  # noqa: BLE001 - any failure becomes a placeholder with its reason
            return ImageResult(placeholder_image(failure_reason(exc)), "image/png", failure_reason(exc))

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
        with self._mem_lock:  # failures too: a rerun must not read and refuse the same image again
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
            out = thumbnail_jpeg(self.read_bytes(row), size)
        except Exception as exc:  # noqa: BLE001
            return ImageResult(placeholder_image(failure_reason(exc), size), "image/png", failure_reason(exc))
        if disk is not None:
            try:
                disk.parent.mkdir(parents=True, exist_ok=True)
                tmp = disk.with_suffix(f".{threading.get_ident()}.tmp")
                tmp.write_bytes(out)
                tmp.replace(disk)
            except OSError:
                pass  # a read-only cache only costs speed
        return ImageResult(out, "image/jpeg")


def failure_reason(exc: BaseException) -> str:
    """Why an image could not be shown, in words for the page (never a traceback)."""
    if isinstance(exc, RemoteError):  # its message names the server, the URL and the fix
        return str(exc)
    if isinstance(exc, FileNotFoundError | KeyError):
        return "image file missing from the dataset"
    if isinstance(exc, ImageRefusedError):
        return str(exc)
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return "image refused: too many pixels (decompression-bomb guard)"
    if isinstance(exc, PermissionError):
        return f"image refused: {exc}"
    if isinstance(exc, ZipFormatError):
        return f"zip part is damaged: {exc}"
    if isinstance(exc, NotRegularFileError):
        return f"image refused: {exc}"
    return f"image cannot be decoded ({type(exc).__name__})"
