"""The zip reader against ``zipfile`` on every variant, and hostile bytes giving our own error."""

from __future__ import annotations

import contextlib
import io
import random
import struct
import zipfile
from pathlib import Path

import pytest

from skyscript_viz.errors import ZipFormatError
from skyscript_viz.zipdir import LocalZip, parse_directory, read_directory, read_member

MEMBERS = {
    "images2/a123_CH_19.jpg": bytes(range(256)) * 40,
    "images2/w77_US_21.jpg": b"\xff\xd8" + b"x" * 5000,
    "b9_DE_20.jpg": b"",  # no imagesN/ prefix, and empty
    "images2/sub/\u00e9t\u00e9.pickle": b"caf\xc3\xa9" * 300,  # a UTF-8 name (flag 0x800)
}


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors after each member."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.buf += b
        return len(b)


def _make(
    method: int = zipfile.ZIP_DEFLATED, *, descriptors: bool = False, prefix: bytes = b"", comment: bytes = b""
) -> bytes:
    sink: io.BytesIO | _Unseekable = _Unseekable() if descriptors else io.BytesIO()
    with zipfile.ZipFile(sink, "w", compression=method) as zf:  # type: ignore[arg-type]
        for name, data in MEMBERS.items():
            zf.writestr(name, data)
        zf.comment = comment
    raw = bytes(sink.buf) if isinstance(sink, _Unseekable) else sink.getvalue()
    return prefix + raw


def _reader(data: bytes):
    return lambda a, b: data[a:b]


def _all(data: bytes) -> dict[str, bytes]:
    d = read_directory(len(data), _reader(data))
    return {d.names[i]: read_member(_reader(data), d.entry(i), size=len(data)) for i in range(len(d))}


def _zipfile_all(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("stored", lambda: _make(zipfile.ZIP_STORED)),
        ("deflated", lambda: _make(zipfile.ZIP_DEFLATED)),
        ("bzip2", lambda: _make(zipfile.ZIP_BZIP2)),
        ("data descriptors", lambda: _make(descriptors=True)),
        ("leading data", lambda: _make(prefix=b"#!/bin/sh\nexit 0\n" * 50)),
        ("comment", lambda: _make(comment=b"a comment")),
    ],
)
def test_same_members_as_zipfile(label: str, data) -> None:
    raw = data()
    assert _all(raw) == _zipfile_all(raw) == MEMBERS, label


def test_comment_holding_an_end_record_signature() -> None:
    """zipfile (3.11) refuses this zip; the end record whose comment ends the file is the real one."""
    assert _all(_make(comment=b"PK\x05\x06 a comment that looks like an end record")) == MEMBERS


def test_zip64_records_and_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """Zip64 end records and zip64 extra fields (sizes and offsets) as zipfile writes them."""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 10)
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)
    raw = _make(zipfile.ZIP_DEFLATED, prefix=b"lead" * 10)
    monkeypatch.undo()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw
    assert _all(raw) == _zipfile_all(raw) == MEMBERS


def test_entries_match_zipinfo(tmp_path: Path) -> None:
    raw = _make(prefix=b"x" * 7)
    p = tmp_path / "a.zip"
    p.write_bytes(raw)
    with LocalZip(p) as z, zipfile.ZipFile(p) as zf:
        infos = zf.infolist()
        assert z.directory.names == [i.filename for i in infos]
        for i, info in enumerate(infos):
            e = z.directory.entry(i)
            assert (e.csize, e.usize, e.method, e.crc) == (
                info.compress_size,
                info.file_size,
                info.compress_type,
                info.CRC,
            )
            assert z.read(e) == zf.read(info) == z.read(info.filename)


def _patch_sizes(raw: bytes, name: bytes, usize: int) -> bytes:
    """Make the zip declare ``usize`` bytes for ``name`` in its local and central headers."""
    out = bytearray(raw)
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        pos = out.find(sig)
        while pos >= 0:
            if out[pos + name_at : pos + name_at + len(name)] == name:
                struct.pack_into("<L", out, pos + size_at, usize)
            pos = out.find(sig, pos + 1)
    return bytes(out)


def test_member_declaring_a_smaller_size_is_refused_without_inflating_it() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta2/bomb.pickle", b"\0" * (8 << 20))
        zf.writestr("meta2/ok.pickle", b"fine")
    raw = _patch_sizes(buf.getvalue(), b"meta2/bomb.pickle", 1000)
    d = read_directory(len(raw), _reader(raw))
    with pytest.raises(ZipFormatError, match="inflates past its declared 1,000 bytes"):
        read_member(_reader(raw), d.find("meta2/bomb.pickle"), size=len(raw))  # type: ignore[arg-type]
    assert read_member(_reader(raw), d.find("meta2/ok.pickle"), size=len(raw)) == b"fine"  # type: ignore[arg-type]


def test_member_over_the_hard_cap_is_refused_before_reading() -> None:
    raw = _make()
    d = read_directory(len(raw), _reader(raw))
    with pytest.raises(ZipFormatError, match="over the 100-byte limit"):
        read_member(_reader(raw), d.find("images2/a123_CH_19.jpg"), max_size=100)  # type: ignore[arg-type]


def test_invalid_utf8_name_is_kept_and_flagged() -> None:
    raw = _make().replace("\u00e9t\u00e9".encode(), b"\xff\xfet\xff\xfe")
    d = read_directory(len(raw), _reader(raw))
    assert len(d.bad_names) == 1
    e = d.entry(d.bad_names[0])
    assert "\ufffd" in e.name
    assert read_member(_reader(raw), e, size=len(raw)) == MEMBERS["images2/sub/\u00e9t\u00e9.pickle"]


def _hostile() -> list[tuple[str, bytes]]:
    good = _make()
    eocd = good.rfind(b"PK\x05\x06")
    return [
        ("empty", b""),
        ("html", b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>\n" * 20),
        ("truncated", good[: len(good) // 2]),
        ("end cut", good[:-5]),
        ("eocd near the end", good[:eocd] + b"PK\x05\x06\0\0"),
        ("directory beyond the file", good[: eocd + 12] + struct.pack("<LL", 10**9, 10) + good[eocd + 20 :]),
        ("count lies", good[: eocd + 10] + struct.pack("<H", 60000) + good[eocd + 12 :]),
        (
            "zip64 locator to nowhere",
            good[:eocd] + b"PK\x06\x07" + b"\0" * 4 + struct.pack("<Q", 2**62) + b"\1\0\0\0" + good[eocd:],
        ),
    ]


@pytest.mark.parametrize(("label", "raw"), _hostile())
def test_hostile_zip_gives_our_error(label: str, raw: bytes, tmp_path: Path) -> None:
    p = tmp_path / "meta2.zip"
    p.write_bytes(raw)
    with pytest.raises(ZipFormatError, match="meta2.zip: "), LocalZip(p) as z:
        for i in range(len(z.directory)):
            z.read(z.directory.entry(i))


def test_random_damage_only_ever_gives_our_error() -> None:
    """Flip, cut and splice bytes of a good zip: every outcome is members or ZipFormatError."""
    good = _make(zipfile.ZIP_DEFLATED, prefix=b"p" * 3)
    rng = random.Random(11)
    for _ in range(1500):
        raw = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        if rng.random() < 0.3:
            raw = raw[: rng.randrange(len(raw))]
        data = bytes(raw)
        try:
            d = read_directory(len(data), _reader(data))
            for i in range(len(d)):
                with contextlib.suppress(ZipFormatError):
                    read_member(_reader(data), d.entry(i), size=len(data))
        except ZipFormatError:
            pass


def test_parse_directory_cut_entry() -> None:
    raw = _make()
    d = read_directory(len(raw), _reader(raw))
    assert len(d) == len(MEMBERS)
    start = raw.find(b"PK\x01\x02")
    with pytest.raises(ZipFormatError, match="cut off"):
        parse_directory(raw[start : start + 50])


def test_read_index_equals_zipfile_and_refuses_the_same(tmp_path: Path) -> None:
    """The memory-mapped fast path gives zipfile's bytes and, for a lying member, read_member's error."""
    raw = _make(prefix=b"x" * 5)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.pickle", b"\0" * (1 << 20))
    (tmp_path / "a.zip").write_bytes(raw)
    (tmp_path / "b.zip").write_bytes(_patch_sizes(buf.getvalue(), b"bomb.pickle", 10))
    with LocalZip(tmp_path / "a.zip") as z, zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert [z.read_index(i) for i in range(len(z.directory))] == [zf.read(i) for i in zf.infolist()]
    with LocalZip(tmp_path / "b.zip") as z, pytest.raises(ZipFormatError, match="inflates past"):
        z.read_index(0)
