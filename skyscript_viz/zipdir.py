"""The one reader of the zip format: central directory to member locations, and bounded member reads.

Used by the index build (meta and image zips), by the app's image reads and by remote roots (over
range requests): everything goes through a ``read_at(start, end) -> bytes`` function, so a local
file and a server are read the same way. Nothing a zip says is trusted: the directory must lie
inside the file, a member is inflated no further than its declared size (and a hard cap), and its
CRC must match. Every fault is a :class:`~skyscript_viz.errors.ZipFormatError` naming the zip.
"""

from __future__ import annotations

import bz2
import mmap
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ZipFormatError
from .safeio import open_regular

__all__ = [
    "MAX_MEMBER_SIZE",
    "Directory",
    "LocalZip",
    "Location",
    "ZipEntry",
    "locate",
    "parse_directory",
    "read_directory",
    "read_member",
]

ReadAt = Callable[[int, int], bytes]  # bytes [start, end) of the zip (fewer only past its end)

MAX_MEMBER_SIZE = 256 << 20  # SkyScript images are ~50 KB and meta pickles ~1 KB
MAX_DIRECTORY_SIZE = 1 << 30  # ~10M members
MAX_IMAGE_BYTES = 32 << 20  # one image member: a SkyScript JPEG is ~50 KB
LOCAL_HEADER_SLACK = 1024  # a local header's extra field may be longer than the central one

_EOCD = struct.Struct("<4s4H2LH")  # 22 bytes
_EOCD64_LOC = struct.Struct("<4sLQL")  # 20 bytes
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_CDH = struct.Struct("<4s4B4HL2L5H2L")  # 46 bytes
_LFH = struct.Struct("<4s5H3L2H")  # 30 bytes
_NX = struct.Struct("<HH")  # name and extra lengths in a local header
_MAX_TAIL = 65536 + _EOCD.size  # the end record and the longest comment
_SUPPORTED = {0: "stored", 8: "deflated", 12: "bzip2"}
# Deflate expands at most ~1032:1, so a member this small inflates to under 64 MB whatever it says:
# read_many decompresses such members in one call instead of through a bounded decompressor object.
_FAST_DEFLATE_MAX = 64 << 10


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """Where one member's bytes are: local header offset (absolute, shift applied), sizes, method, CRC."""

    name: str
    offset: int
    csize: int
    usize: int
    method: int
    crc: int
    flags: int
    name_len: int = 0  # central name and extra lengths: size the single read of header + data
    extra_len: int = 0


@dataclass(frozen=True)
class Location:
    """Where the central directory sits, and the file's tail (it often holds the directory too)."""

    cd_offset: int  # absolute offset in the file
    cd_size: int
    shift: int  # bytes before the zip's own offsets (data prepended to the zip)
    count: int  # members the end record announces
    tail_start: int
    tail: bytes


@dataclass
class Directory:
    """A central directory as columns, in directory order (duplicates kept: they are reported)."""

    names: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    csizes: list[int] = field(default_factory=list)
    usizes: list[int] = field(default_factory=list)
    methods: list[int] = field(default_factory=list)
    crcs: list[int] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    name_lens: list[int] = field(default_factory=list)
    extra_lens: list[int] = field(default_factory=list)
    bad_names: list[int] = field(default_factory=list)  # positions of names that are not valid UTF-8
    notes: list[str] = field(default_factory=list)
    _index: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.names)

    def columns(self) -> tuple[list[Any], ...]:
        """The columns in the order of ZipEntry's fields (names, offsets, sizes, method, CRC, flags, lengths)."""
        return (
            self.names,
            self.offsets,
            self.csizes,
            self.usizes,
            self.methods,
            self.crcs,
            self.flags,
            self.name_lens,
            self.extra_lens,
        )

    def entry(self, i: int) -> ZipEntry:
        """The i-th member."""
        return ZipEntry(
            self.names[i],
            self.offsets[i],
            self.csizes[i],
            self.usizes[i],
            self.methods[i],
            self.crcs[i],
            self.flags[i],
            self.name_lens[i],
            self.extra_lens[i],
        )

    def find(self, name: str) -> ZipEntry | None:
        """The first member called ``name``, or None."""
        if self._index is None:
            index: dict[str, int] = {}
            for i, n in enumerate(self.names):
                index.setdefault(n, i)
            self._index = index
        pos = self._index.get(name)
        return None if pos is None else self.entry(pos)


def _find_eocd(tail: bytes) -> int:
    """Position of the end record: the last one whose comment ends the file, else the last whole one."""
    pos, fallback = len(tail), -1
    while True:
        pos = tail.rfind(b"PK\x05\x06", 0, pos)
        if pos < 0:
            return fallback
        if pos + _EOCD.size <= len(tail):
            (comment_len,) = struct.unpack_from("<H", tail, pos + 20)
            if pos + _EOCD.size + comment_len == len(tail):
                return pos
            if fallback < 0 and pos + _EOCD.size + comment_len < len(tail):
                fallback = pos  # trailing bytes after the comment: zipfile accepts those too


def _read_exact(read_at: ReadAt, start: int, end: int, label: str, what: str) -> bytes:
    data = read_at(start, end)
    if len(data) != end - start:
        raise ZipFormatError(f"{label}: {what} is cut off (truncated zip?)")
    return data


def locate(size: int, read_at: ReadAt, *, label: str = "zip") -> Location:
    """Find the central directory of a zip of ``size`` bytes (end record, zip64, prepended data)."""
    if size < _EOCD.size:
        raise ZipFormatError(f"{label}: not a zip file ({size:,} bytes; an empty or interrupted download?)")
    tail_start = max(0, size - _MAX_TAIL)
    tail = read_at(tail_start, size)
    pos = _find_eocd(tail)
    if pos < 0:
        kind = "an HTML page" if tail[:2048].lstrip()[:1] == b"<" and tail_start == 0 else "not a zip file"
        raise ZipFormatError(f"{label}: {kind} (no end-of-central-directory record; damaged or truncated?)")
    _sig, disk, _cd_disk, _n_disk, count, cd_size, cd_off, _clen = _EOCD.unpack_from(tail, pos)
    eocd = tail_start + pos
    cd_end = eocd
    if eocd >= _EOCD64_LOC.size:
        a = eocd - _EOCD64_LOC.size
        loc = tail[a - tail_start : pos] if a >= tail_start else _read_exact(read_at, a, eocd, label, "zip64 locator")
        if loc[:4] == b"PK\x06\x07":
            _s, _disk, rec_off, _ndisks = _EOCD64_LOC.unpack(loc)
            rec_abs = a - _EOCD64.size  # right before the locator, unless the record has extensible data
            rec = _read_exact(read_at, rec_abs, a, label, "zip64 end record") if rec_abs >= 0 else b""
            if rec[:4] != b"PK\x06\x06" and 0 <= rec_off <= size - _EOCD64.size:
                rec_abs = rec_off
                rec = _read_exact(read_at, rec_abs, rec_abs + _EOCD64.size, label, "zip64 end record")
            if rec[:4] != b"PK\x06\x06":
                raise ZipFormatError(f"{label}: damaged zip64 end-of-central-directory record")
            (_s, _rs, _vm, _vn, disk, _d2, _nd, count, cd_size, cd_off) = _EOCD64.unpack(rec)
            cd_end = rec_abs
    if disk != 0:
        raise ZipFormatError(f"{label}: a split (multi-disk) zip, which is not supported")
    shift = cd_end - cd_size - cd_off
    if cd_size > cd_end or cd_off > cd_end or shift < 0:
        raise ZipFormatError(f"{label}: its central directory points outside the file (damaged or truncated zip)")
    if cd_size > MAX_DIRECTORY_SIZE:
        raise ZipFormatError(
            f"{label}: central directory of {cd_size:,} bytes is over the {MAX_DIRECTORY_SIZE:,}-byte limit"
        )
    if count > cd_size // _CDH.size:
        raise ZipFormatError(
            f"{label}: the zip announces {count:,} members but its directory holds at most "
            f"{cd_size // _CDH.size:,} (damaged zip)"
        )
    return Location(cd_off + shift, cd_size, shift, count, tail_start, tail)


def _zip64_extra(extra: bytes, usize: int, csize: int, off: int) -> tuple[int, int, int]:
    """Sizes and offset from a zip64 extra field, for those the central header set to 0xFFFFFFFF."""
    q = 0
    while q + 4 <= len(extra):
        hid, hlen = struct.unpack_from("<HH", extra, q)
        if hid == 0x0001:
            vals, k = extra[q + 4 : q + 4 + hlen], 0
            if usize == 0xFFFFFFFF and k + 8 <= len(vals):
                (usize,), k = struct.unpack_from("<Q", vals, k), k + 8
            if csize == 0xFFFFFFFF and k + 8 <= len(vals):
                (csize,), k = struct.unpack_from("<Q", vals, k), k + 8
            if off == 0xFFFFFFFF and k + 8 <= len(vals):
                (off,) = struct.unpack_from("<Q", vals, k)
            break
        q += 4 + hlen
    return usize, csize, off


def _u(buf: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """Little-endian unsigned integers of ``width`` bytes at positions ``at`` of ``buf``."""
    out = np.zeros(len(at), np.int64)
    for k in range(width):
        out |= buf[at + k].astype(np.int64) << (8 * k)
    return out


def _parse_directory_fast(data: bytes, shift: int, count: int | None, label: str) -> Directory | None:
    """parse_directory for the common case, with NumPy: every entry signature found at once, the chain
    of entries checked to run from the first byte to the last through exactly those signatures, ASCII
    names decoded in one call. None (the caller walks entry by entry) for anything else: zip64 sizes,
    stray bytes, a signature inside a name, non-ASCII names."""
    n = len(data)
    if n < _CDH.size:
        return None
    buf = np.frombuffer(data, np.uint8)
    at = np.flatnonzero((buf[:-3] == 0x50) & (buf[1:-2] == 0x4B) & (buf[2:-1] == 1) & (buf[3:] == 2))
    at = at[at + _CDH.size <= n]
    if len(at) == 0 or at[0] != 0:
        return None
    nlen, xlen, clen = _u(buf, at + 28, 2), _u(buf, at + 30, 2), _u(buf, at + 32, 2)
    nxt = at + _CDH.size + nlen + xlen + clen
    if nxt[-1] != n or not np.array_equal(nxt[:-1], at[1:]):
        return None
    csize, usize, off = _u(buf, at + 20, 4), _u(buf, at + 24, 4), _u(buf, at + 42, 4)
    if ((csize == 0xFFFFFFFF) | (usize == 0xFFFFFFFF) | (off == 0xFFFFFFFF)).any():
        return None
    starts = (at + _CDH.size).tolist()
    joined = b"\0".join([data[a : a + k] for a, k in zip(starts, nlen.tolist(), strict=True)])
    if not joined.isascii() or joined.count(b"\0") != len(at) - 1:
        return None
    d = Directory()
    d.names = joined.decode("ascii").split("\0")
    d.offsets = (off + shift).tolist()
    d.csizes, d.usizes = csize.tolist(), usize.tolist()
    d.methods, d.crcs, d.flags = _u(buf, at + 10, 2).tolist(), _u(buf, at + 16, 4).tolist(), _u(buf, at + 8, 2).tolist()
    d.name_lens, d.extra_lens = nlen.tolist(), xlen.tolist()
    if count is not None and count not in (0xFFFF, len(d.names)):
        d.notes.append(f"{label}: the zip says {count:,} members, its directory lists {len(d.names):,}")
    return d


def parse_directory(data: bytes, *, shift: int = 0, count: int | None = None, label: str = "zip") -> Directory:
    """The entries of a raw central directory (``data``); header offsets get ``shift`` added."""
    fast = _parse_directory_fast(data, shift, count, label)
    if fast is not None:
        return fast
    d = Directory()
    names, offs, css, uss, mets, crcs, fls, nls, xls = d.columns()
    pos, n, unpack, size = 0, len(data), _CDH.unpack_from, _CDH.size
    while pos + size <= n:
        (sig, _cv, _cs, _ev, _es, flags, method, _t, _d, crc, csize, usize, nlen, xlen, clen, _disk, _ia, _ea, off) = (
            unpack(data, pos)
        )
        if sig != b"PK\x01\x02":
            raise ZipFormatError(
                f"{label}: damaged central directory (entry {len(names) + 1} at byte {pos:,} has no signature)"
            )
        p = pos + size
        if p + nlen + xlen + clen > n:
            raise ZipFormatError(f"{label}: central directory entry {len(names) + 1} is cut off (damaged zip)")
        raw = data[p : p + nlen]
        if usize == 0xFFFFFFFF or csize == 0xFFFFFFFF or off == 0xFFFFFFFF:
            usize, csize, off = _zip64_extra(data[p + nlen : p + nlen + xlen], usize, csize, off)
        if flags & 0x800:
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                name = raw.decode("utf-8", errors="replace")
                d.bad_names.append(len(names))
        else:
            name = raw.decode("cp437")
        names.append(name)
        offs.append(off + shift)
        css.append(csize)
        uss.append(usize)
        mets.append(method)
        crcs.append(crc)
        fls.append(flags)
        nls.append(nlen)
        xls.append(xlen)
        pos = p + nlen + xlen + clen
    if pos != n:
        d.notes.append(f"{label}: {n - pos:,} stray bytes at the end of the central directory")
    if count is not None and count not in (0xFFFF, len(names)):
        d.notes.append(f"{label}: the zip says {count:,} members, its directory lists {len(names):,}")
    return d


def read_directory(size: int, read_at: ReadAt, *, label: str = "zip") -> Directory:
    """Locate and parse the central directory of a zip of ``size`` bytes."""
    loc = locate(size, read_at, label=label)
    if loc.cd_offset >= loc.tail_start:
        a = loc.cd_offset - loc.tail_start
        data = loc.tail[a : a + loc.cd_size]
    else:
        data = _read_exact(read_at, loc.cd_offset, loc.cd_offset + loc.cd_size, label, "central directory")
    return parse_directory(data, shift=loc.shift, count=loc.count, label=label)


def _inflate(raw: bytes, e: ZipEntry, label: str) -> bytes:
    """Decompress at most ``e.usize + 1`` bytes, so a member lying about its size costs no more than that."""
    limit = e.usize + 1  # max_length 0 would mean unlimited; +1 tells "more than declared" apart
    try:
        if e.method == 0:
            return raw
        if e.method == 8:
            z = zlib.decompressobj(-15)
            data = z.decompress(raw, limit)
            complete = z.eof
        else:
            b = bz2.BZ2Decompressor()
            data = b.decompress(raw, limit)
            complete = b.eof
    except (zlib.error, OSError, ValueError, EOFError) as exc:
        raise ZipFormatError(f"{label}: {e.name} does not decompress ({exc})") from None
    if len(data) > e.usize:
        raise ZipFormatError(f"{label}: {e.name} inflates past its declared {e.usize:,} bytes; refused")
    if not complete:
        raise ZipFormatError(f"{label}: {e.name}'s compressed data is cut off (damaged zip)")
    return data


def read_member(
    read_at: ReadAt, e: ZipEntry, *, size: int | None = None, label: str = "zip", max_size: int = MAX_MEMBER_SIZE
) -> bytes:
    """The bytes of member ``e``: one positioned read of header + data, a bounded inflate, a CRC check."""
    if e.flags & 0x1:
        raise ZipFormatError(f"{label}: {e.name} is encrypted; not read")
    if e.method not in _SUPPORTED:
        raise ZipFormatError(f"{label}: {e.name} uses zip compression method {e.method}, which is not supported")
    if e.usize > max_size or e.csize > max_size:
        raise ZipFormatError(
            f"{label}: {e.name} declares {max(e.usize, e.csize):,} bytes, over the {max_size:,}-byte limit; not read"
        )
    if e.method == 0 and e.csize != e.usize:
        raise ZipFormatError(f"{label}: {e.name} is stored but its sizes differ (damaged zip)")
    want = _LFH.size + e.name_len + e.extra_len + e.csize
    end = e.offset + want + LOCAL_HEADER_SLACK
    if size is not None:
        if e.offset + want > size:
            raise ZipFormatError(f"{label}: {e.name} lies past the end of the file (truncated zip?)")
        end = min(end, size)
    buf = read_at(e.offset, end)
    if len(buf) < _LFH.size or buf[:4] != b"PK\x03\x04":
        raise ZipFormatError(f"{label}: no member at byte {e.offset:,} where {e.name} should be (damaged zip)")
    nlen, xlen = struct.unpack_from("<HH", buf, 26)
    local_name = buf[30 : 30 + nlen].decode("utf-8" if e.flags & 0x800 else "cp437", errors="replace")
    if local_name != e.name:
        raise ZipFormatError(
            f"{label}: another member ({local_name[:80]!r}) at byte {e.offset:,} where "
            f"{e.name} should be (damaged or changed zip)"
        )
    start = _LFH.size + nlen + xlen
    if start + e.csize > len(buf):  # a local extra field longer than the slack: read the rest
        buf += read_at(e.offset + len(buf), e.offset + start + e.csize)
        if start + e.csize > len(buf):
            raise ZipFormatError(f"{label}: {e.name} is cut off (truncated zip?)")
    data = _inflate(buf[start : start + e.csize], e, label)
    if len(data) != e.usize:
        raise ZipFormatError(f"{label}: {e.name} holds {len(data):,} bytes, not the declared {e.usize:,}")
    if zlib.crc32(data) != e.crc:
        raise ZipFormatError(f"{label}: {e.name} fails its CRC check (damaged zip)")
    return bytes(data)


class LocalZip:
    """A zip on disk read with positioned reads: its directory once, then one read per member."""

    def __init__(self, path: Path | str, *, directory: bool = True, max_member: int = MAX_MEMBER_SIZE) -> None:
        self.path = Path(path)
        self.label = self.path.name
        self.max_member = max_member
        self._fd = open_regular(self.path)  # OSError (missing, FIFO, device) is the caller's to report
        self._mm: mmap.mmap | None = None
        self._arrays: list[np.ndarray] | None = None
        self.size = os.fstat(self._fd).st_size
        self.directory = Directory()
        if directory:
            try:
                self.directory = read_directory(self.size, self.read_at, label=self.label)
            except BaseException:
                self.close()
                raise

    def read_at(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file (one pread)."""
        if start < 0 or end < start:
            raise ZipFormatError(f"{self.label}: a read at byte {start:,} (damaged zip)")
        try:
            return os.pread(self._fd, end - start, start)
        except OSError as exc:
            raise ZipFormatError(f"{self.label}: read error at byte {start:,} ({exc.strerror})") from None

    def read(self, member: str | ZipEntry) -> bytes:
        """The bytes of a member, by name (first of that name) or by entry."""
        e = self.directory.find(member) if isinstance(member, str) else member
        if e is None:
            raise KeyError(f"{member} is not in {self.label}")
        return read_member(self.read_at, e, size=self.size, label=self.label, max_size=self.max_member)

    def read_index(self, i: int) -> bytes:
        """Member ``i`` of the directory. The common case (stored or deflated, header where the directory
        says, sizes under the cap, CRC right) is read straight from a memory map, about twice as fast
        for the build's millions of small pickles; anything else goes through read_member, which explains."""
        d = self.directory
        off, csize, usize, method = d.offsets[i], d.csizes[i], d.usizes[i], d.methods[i]
        end = off + _LFH.size + d.name_lens[i] + d.extra_lens[i] + csize
        if self._mm is None and self.size:
            self._mm = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        mm = self._mm
        if (
            mm is not None
            and method in (0, 8)
            and not d.flags[i] & 1
            and usize <= self.max_member
            and csize <= self.max_member
            and end <= self.size
            and mm[off : off + 4] == b"PK\x03\x04"
        ):
            nlen, xlen = _NX.unpack_from(mm, off + 26)
            start = off + _LFH.size + nlen + xlen
            raw = mm[start : start + csize]
            if method == 8:
                z = zlib.decompressobj(-15)
                data = z.decompress(raw, usize + 1)
                ok = z.eof and len(data) == usize
            else:
                data, ok = raw, csize == usize
            if ok and len(raw) == csize and zlib.crc32(data) == d.crcs[i]:
                return data
        return read_member(self.read_at, d.entry(i), size=self.size, label=self.label, max_size=self.max_member)

    def read_many(self, indices: list[int]) -> list[bytes | Exception]:
        """Members ``indices`` of the directory, each as bytes or the error that explains why not.

        The checks of read_index are made for all members at once with NumPy (method, flags, sizes,
        local header signature and lengths); a small deflated member is then one ``zlib.decompress``
        whose output deflate's 1032:1 ratio bounds; anything else goes through read_index."""
        if not indices:
            return []
        d = self.directory
        if self._mm is None and self.size:
            self._mm = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        if self._arrays is None:  # made once: a batch of a large zip would otherwise convert whole lists
            self._arrays = [np.asarray(c, np.int64) for c in (d.offsets, d.csizes, d.usizes, d.methods, d.flags)]
        idx = np.asarray(indices, np.int64)
        off, csize, usize, method, flags = (a[idx] for a in self._arrays)
        fast = (
            ((method == 8) & (csize <= _FAST_DEFLATE_MAX) | (method == 0) & (csize == usize))
            & (flags & 1 == 0)
            & (usize <= self.max_member)
            & (off >= 0)
            & (off + _LFH.size <= self.size)
        )
        start = np.zeros(len(idx), np.int64)
        if self._mm is not None and fast.any():
            buf = np.frombuffer(self._mm, np.uint8)
            o = off[fast]
            sig = buf[o].astype(np.int64) | buf[o + 1].astype(np.int64) << 8 | buf[o + 2].astype(np.int64) << 16
            sig |= buf[o + 3].astype(np.int64) << 24
            nx = (buf[o + 26].astype(np.int64) | buf[o + 27].astype(np.int64) << 8) + (
                buf[o + 28].astype(np.int64) | buf[o + 29].astype(np.int64) << 8
            )
            start[fast] = o + _LFH.size + nx
            fast[fast] = sig == 0x04034B50
            del buf  # a view of the map: the map cannot be closed while one exists
            fast &= start + csize <= self.size
        else:
            fast[:] = False
        out: list[bytes | Exception] = []
        try:
            self._read_listed(indices, fast, start, csize, usize, method, out)
        finally:
            if self._mm is not None and hasattr(mmap, "MADV_DONTNEED"):
                # the pages read stay in the OS cache but leave this process's resident set, so a worker
                # reading a 370 MB meta zip does not count it as its own memory
                self._mm.madvise(mmap.MADV_DONTNEED)
        return out

    def _read_listed(
        self,
        indices: list[int],
        fast: np.ndarray,
        start: np.ndarray,
        csize: np.ndarray,
        usize: np.ndarray,
        method: np.ndarray,
        out: list[bytes | Exception],
    ) -> None:
        """read_many's loop: the fast rows straight from the map, the others through read_index."""
        mm, crcs, decompress, crc32 = self._mm, self.directory.crcs, zlib.decompress, zlib.crc32
        # Python lists, not NumPy scalars, in the loop (it runs once per member: 5 lookups each)
        columns = (fast.tolist(), start.tolist(), (start + csize).tolist(), usize.tolist(), method.tolist())
        rows = zip(indices, *columns, strict=True)
        for i, is_fast, s, e, n, m in rows:
            if is_fast:
                try:
                    raw = mm[s:e]  # type: ignore[index]
                    data = decompress(raw, -15, n) if m == 8 else raw
                    if len(data) == n and crc32(data) == crcs[i]:
                        out.append(data)
                        continue
                except zlib.error:
                    pass
            try:
                out.append(self.read_index(i))
            except Exception as exc:  # noqa: BLE001 - each member's failure is the caller's to report
                out.append(exc.with_traceback(None))

    def close(self) -> None:
        """Release the file descriptor."""
        if self._mm is not None:
            self._mm.close()
            self._mm = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> LocalZip:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
