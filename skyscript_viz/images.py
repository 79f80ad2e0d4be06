"""Reading images from folder or zip parts, thumbnails, and a placeholder for broken ones.

Paths come only from the index (part folder + member name found by listing the part), never from a
CSV, and are checked to stay inside the dataset root. A zip member is read with one positioned read at
the byte location the index recorded (skyscript_viz.zipdir), inflated no further than its declared
size; only JPEG is decoded, and only after its header says it has a sane number of pixels.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from .errors import ImageRefusedError, ZipFormatError
from .safeio import NotRegularFileError, read_regular
from .zipdir import MAX_IMAGE_BYTES, LocalZip, ZipEntry, read_directory, read_member

__all__ = ["ImageResult", "ImageStore", "placeholder_image"]

# Pillow only warns above MAX_IMAGE_PIXELS (and raises above twice that); SkyScript images are a few
# hundred pixels wide, so anything over this is refused before decoding (open_image).
Image.MAX_IMAGE_PIXELS = 64_000_000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_ZIP_FIELDS = ("zip_offset", "zip_csize", "zip_usize", "zip_method", "zip_crc", "zip_flags", "zip_nlen", "zip_xlen")


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


def _int(v: Any) -> int | None:
    """An index value as int; None for SQL NULL (None, or NaN from a pandas row)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return int(v)


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
        self._zips: dict[str, LocalZip] = {}
        self._zips_lock = threading.Lock()
        self._mem: OrderedDict[tuple[str, int], ImageResult] = OrderedDict()
        self._mem_lock = threading.Lock()
        self._memory_items = memory_items

    def close(self) -> None:
        with self._zips_lock:
            for z in self._zips.values():
                z.close()
            self._zips.clear()

    def _inside_root(self, rel: str) -> Path:
        p = (self.root / rel).resolve()
        if p != self.root and self.root not in p.parents:
            raise PermissionError(f"{rel!r} leaves the dataset root")
        return p

    def _zip(self, container: str, *, directory: bool = False) -> LocalZip:
        """An open image zip (positioned reads are thread-safe); its directory read only when asked,
        for indexes older than format 6 that do not record where each image is."""
        with self._zips_lock:
            z = self._zips.get(container)
            if z is None:
                z = self._zips[container] = LocalZip(
                    self._inside_root(container), directory=False, max_member=MAX_IMAGE_BYTES
                )
            if directory and not len(z.directory):
                z.directory = read_directory(z.size, z.read_at, label=z.label)
            return z

    def _read_zip(self, container: str, member: str, row: dict[str, Any]) -> bytes:
        z = self._zip(container)
        loc = [v for v in (_int(row.get(k)) for k in _ZIP_FIELDS) if v is not None]
        if len(loc) < len(_ZIP_FIELDS):  # an older index: look the member up in the zip's own directory
            return self._zip(container, directory=True).read(member)
        off, csize, usize, method, crc, flags, nlen, xlen = loc
        entry = ZipEntry(member, off, csize, usize, method, crc, flags, nlen, xlen)
        return read_member(z.read_at, entry, size=z.size, label=z.label, max_size=MAX_IMAGE_BYTES)

    def read_bytes(self, row: dict[str, Any]) -> bytes:
        """Raw bytes of the image for an index row (``storage``, ``container``, ``member``)."""
        storage, container, member = row.get("storage"), row.get("container"), row.get("member")
        if storage == "zip" and container and member:
            return self._read_zip(str(container), str(member), row)
        if storage == "folder" and container and member:
            return read_regular(self._inside_root(f"{container}/{member}"), MAX_IMAGE_BYTES)
        if storage == "remote-zip" and container and member:  # a remote root: cached bytes or one range request
            from .remote import read_remote_member

            return read_remote_member(self.root, str(container), str(member))
        raise FileNotFoundError(f"{row.get('filepath')} has no image file in the dataset")

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
    from .remote import RemoteError

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
