"""Reading images from folder and zip parts, thumbnails, and placeholders instead of exceptions."""

from __future__ import annotations

import io
import os
import struct
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from skyscript_viz import Filters, ImageIndex, ImageStore, placeholder_image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"


def _row(idx: ImageIndex, fp: str) -> dict[str, Any]:
    rec = idx.get(fp)
    assert rec is not None
    return rec.row


def _expected_bytes(tinykit: Any, fp: str) -> bytes:
    stem = fp.rsplit("/", 1)[1][: -len(".jpg")]
    i = next(i for i, r in enumerate(tinykit.records) if r["stem"] == stem)
    return tinykit.jpeg_bytes(i)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG that claim ``width`` x ``height`` pixels: a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + _chunk(b"IEND", b"")


def _jpeg_claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """``jpeg`` with its frame header (SOF0) patched to claim ``width`` x ``height`` pixels."""
    sof = jpeg.index(b"\xff\xc0")
    return jpeg[: sof + 5] + struct.pack(">HH", height, width) + jpeg[sof + 9 :]


def _is_placeholder(result: Any, reason: str) -> None:
    assert not result.ok
    assert result.mime == "image/png"
    assert result.data.startswith(PNG_SIGNATURE)
    assert result.problem is not None and reason in result.problem
    with Image.open(io.BytesIO(result.data)) as im:
        im.load()


@pytest.mark.parametrize(
    ("fp", "storage"),
    [
        ("images2/a100_CH_19.jpg", "folder"),
        ("images3/a400_US_18.jpg", "zip"),  # zip members under images3/
        ("images4/a800_DE_20.jpg", "zip"),  # zip members without prefix
    ],
)
def test_read_from_each_store(tiny_root: Path, tiny_index: ImageIndex, tinykit: Any, fp: str, storage: str) -> None:
    store = ImageStore(tiny_root)
    try:
        row = _row(tiny_index, fp)
        assert row["storage"] == storage
        assert store.read_bytes(row) == _expected_bytes(tinykit, fp)
        result = store.image(row)
        assert result.ok and result.problem is None
        assert (result.mime, result.width, result.height) == ("image/jpeg", 16, 16)
        assert result.data == _expected_bytes(tinykit, fp)
    finally:
        store.close()


def test_every_tiny_image_reads(tiny_root: Path, tiny_index: ImageIndex, tinykit: Any) -> None:
    store = ImageStore(tiny_root)
    try:
        for row in tiny_index.page(Filters(), limit=100).rows.to_dict("records"):
            assert store.read_bytes(row) == _expected_bytes(tinykit, row["filepath"])
    finally:
        store.close()


def test_thumbnail_is_cached_in_memory(
    tiny_root: Path, tiny_index: ImageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ImageStore(tiny_root)
    row = _row(tiny_index, "images3/a402_US_20.jpg")
    first = store.thumbnail(row, size=8)
    assert first.ok and first.mime == "image/jpeg" and first.data.startswith(JPEG_SOI)
    with Image.open(io.BytesIO(first.data)) as im:
        assert max(im.size) <= 8
    monkeypatch.setattr(store, "read_bytes", lambda row: pytest.fail("read again"))
    assert store.thumbnail(row, size=8) is first
    assert store.thumbnail(row, size=8) is first
    store.close()


def test_memory_cache_is_bounded(tiny_root: Path, tiny_index: ImageIndex) -> None:
    store = ImageStore(tiny_root, memory_items=2)
    rows = [
        _row(tiny_index, fp) for fp in ("images2/a100_CH_19.jpg", "images2/a102_CH_21.jpg", "images2/n1100_CH_19.jpg")
    ]
    results = [store.thumbnail(r) for r in rows]
    assert store.thumbnail(rows[2]) is results[2]
    assert store.thumbnail(rows[0]) is not results[0]  # evicted: least recently used
    store.close()


def test_thumbnail_disk_cache(
    tiny_root: Path, tiny_index: ImageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    thumbs = tmp_path / "thumbs"
    row = _row(tiny_index, "images4/a802_DE_20.jpg")
    first = ImageStore(tiny_root, thumb_dir=thumbs).thumbnail(row, size=64)
    files = list(thumbs.rglob("*.jpg"))
    assert len(files) == 1 and files[0].relative_to(thumbs).parts[0] == "64"
    assert files[0].read_bytes() == first.data
    assert not list(thumbs.rglob("*.tmp"))
    other = ImageStore(tiny_root, thumb_dir=thumbs)  # a new process, say: memory cache empty
    monkeypatch.setattr(other, "read_bytes", lambda row: pytest.fail("read the image again"))
    again = other.thumbnail(row, size=64)
    assert again.ok and again.data == first.data


def test_unwritable_disk_cache_only_costs_speed(tiny_root: Path, tiny_index: ImageIndex, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = ImageStore(tiny_root, thumb_dir=blocker / "thumbs")
    result = store.thumbnail(_row(tiny_index, "images2/a100_CH_19.jpg"))
    assert result.ok


def test_zip_reads_from_many_threads(tiny_root: Path, tiny_index: ImageIndex, tinykit: Any) -> None:
    store = ImageStore(tiny_root)
    rows = [r for r in tiny_index.page(Filters(), limit=100).rows.to_dict("records") if r["storage"] == "zip"]
    assert len(rows) == 14
    expected = {r["filepath"]: _expected_bytes(tinykit, r["filepath"]) for r in rows}
    errors: list[str] = []
    start = threading.Barrier(8)

    def work(k: int) -> None:
        start.wait()
        for i in range(60):
            r = rows[(i * 7 + k) % len(rows)]
            try:
                if store.read_bytes(r) != expected[r["filepath"]]:
                    errors.append(f"wrong bytes for {r['filepath']}")
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert errors == []


# -- broken images: placeholders, never exceptions -----------------------------------------------


@pytest.fixture
def broken_root(tmp_path: Path, tinykit: Any) -> Path:
    root = tmp_path / "root"
    good = tinykit.jpeg_bytes(1)
    tinykit.write_store(
        root / "images2",
        "folder",
        {
            "good.jpg": good,
            "garbage.jpg": b"this is not a jpeg",
            "truncated.jpg": good[: len(good) * 2 // 5],
            "empty.jpg": b"",
            "bomb.jpg": _png_header(100_000, 100_000),
            "big.jpg": _jpeg_claiming(good, 11_000, 11_000),
        },
    )
    tinykit.write_store(root / "images3", "zip/", {"good.jpg": good})
    (root / "images5.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (root / "outside.jpg").write_bytes(good)
    (tmp_path / "secret.jpg").write_bytes(good)
    return root


def _folder(member: str, container: str = "images2") -> dict[str, Any]:
    return {"filepath": f"images2/{member}", "storage": "folder", "container": container, "member": member}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (_folder("garbage.jpg"), "cannot be decoded"),
        (_folder("truncated.jpg"), "cannot be decoded"),
        (_folder("empty.jpg"), "cannot be decoded"),
        (_folder("deleted.jpg"), "missing from the dataset"),
        (_folder("bomb.jpg"), "a PNG, not a JPEG"),
        (_folder("big.jpg"), "too many pixels (decompression-bomb guard)"),
        (
            {"filepath": "images3/x.jpg", "storage": "zip", "container": "images3.zip", "member": "images3/x.jpg"},
            "missing from the dataset",
        ),
        (
            {"filepath": "images5/x.jpg", "storage": "zip", "container": "images5.zip", "member": "x.jpg"},
            "zip part is damaged",
        ),
        (
            {"filepath": "images6/x.jpg", "storage": "zip", "container": "images6.zip", "member": "x.jpg"},
            "missing from the dataset",
        ),
        (
            {"filepath": "images2/x.jpg", "storage": "none", "container": None, "member": None},
            "missing from the dataset",
        ),
        ({"filepath": "images2/x.jpg"}, "missing from the dataset"),
    ],
    ids=[
        "garbage",
        "truncated",
        "empty",
        "deleted",
        "bomb",
        "jpeg-bomb",
        "zip-member-missing",
        "zip-damaged",
        "zip-missing",
        "no-image",
        "no-location",
    ],
)
def test_broken_images_become_placeholders(broken_root: Path, row: dict[str, Any], reason: str) -> None:
    store = ImageStore(broken_root)
    _is_placeholder(store.image(row), reason)
    thumb = store.thumbnail(row, size=64)
    _is_placeholder(thumb, reason)
    with Image.open(io.BytesIO(thumb.data)) as im:
        assert im.size == (64, 64)
    store.close()


def test_good_image_next_to_broken_ones(broken_root: Path) -> None:
    store = ImageStore(broken_root)
    assert store.image(_folder("good.jpg")).ok
    assert store.image(
        {"filepath": "images3/good.jpg", "storage": "zip", "container": "images3.zip", "member": "images3/good.jpg"}
    ).ok
    store.close()


@pytest.mark.parametrize(
    "row",
    [
        _folder("secret.jpg", container=".."),
        _folder("../../secret.jpg", container="images2"),
        _folder("passwd", container="/etc"),
        {"filepath": "x", "storage": "zip", "container": "../outside.zip", "member": "x.jpg"},
        {"filepath": "x", "storage": "zip", "container": "/tmp/outside.zip", "member": "x.jpg"},
    ],
)
def test_paths_outside_the_root_are_never_read(
    broken_root: Path, row: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ImageStore(broken_root)
    opened: list[str] = []
    real_open = zipfile.ZipFile.__init__

    def spy(self: Any, file: Any, *a: Any, **kw: Any) -> None:
        opened.append(str(file))
        real_open(self, file, *a, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", spy)
    with pytest.raises(PermissionError, match="leaves the dataset root"):
        store.read_bytes(row)
    _is_placeholder(store.image(row), "leaves the dataset root")
    assert opened == []


def test_odd_members_stay_inside_the_root(broken_root: Path) -> None:
    store = ImageStore(broken_root)
    # "images2/../outside.jpg" and "images2//etc/passwd" resolve inside the root: allowed, read as such
    assert store.image(_folder("../outside.jpg")).ok
    _is_placeholder(store.image(_folder("/etc/passwd")), "missing from the dataset")


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlink_out_of_the_root_is_refused(broken_root: Path) -> None:
    (broken_root / "images2" / "link.jpg").symlink_to(broken_root.parent / "secret.jpg")
    store = ImageStore(broken_root)
    _is_placeholder(store.image(_folder("link.jpg")), "leaves the dataset root")


def test_placeholder_image() -> None:
    data = placeholder_image("image file missing from the dataset")
    with Image.open(io.BytesIO(data)) as im:
        assert (im.format, im.size) == ("PNG", (256, 256))
    long = placeholder_image("word " * 200 + "<script>alert(1)</script>", size=64)
    with Image.open(io.BytesIO(long)) as im:
        assert im.size == (64, 64)
    assert placeholder_image("").startswith(PNG_SIGNATURE)


def test_demo_corrupt_image_is_a_placeholder(demo_small: tuple[Path, Any], index_small: ImageIndex) -> None:
    root, manifest = demo_small
    store = ImageStore(root)
    try:
        for fp in manifest.faults["corrupt_image"]:
            _is_placeholder(store.image(_row(index_small, fp)), "cannot be decoded")
        for kind in ("blank_image", "low_contrast", "duplicate_content", "hostile_text"):
            for fp in manifest.faults[kind]:
                assert store.image(_row(index_small, fp)).ok, (kind, fp)
    finally:
        store.close()


# -- zip members read at the index's byte location -----------------------------------------------


def test_same_bytes_as_zipfile_for_every_image(tiny_index: Any) -> None:
    """Every image the index knows reads back byte-identical to zipfile (zip) or the file (folder)."""
    store = ImageStore(tiny_index.root)
    df = tiny_index.page(Filters(), limit=1000).rows
    storages = set()
    try:
        for row in df.to_dict("records"):
            if not row["has_image"]:
                continue
            storages.add(row["storage"])
            if row["storage"] == "zip":
                assert row["zip_offset"] is not None
                with zipfile.ZipFile(tiny_index.root / row["container"]) as zf:
                    want = zf.read(row["member"])
            else:
                want = (tiny_index.root / row["container"] / row["member"]).read_bytes()
            assert store.read_bytes(row) == want
            old = {k: v for k, v in row.items() if not k.startswith("zip_")}  # an index before format 6
            assert store.read_bytes(old) == want
    finally:
        store.close()
    assert storages == {"zip", "folder"}


def _lying_zip(path: Path, jpeg: bytes) -> dict[str, Any]:
    """A zip whose 1 MB member inflates to 1 GiB; returns an index row for it (declared size 1 GiB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("images8/bomb.jpg", "w", force_zip64=True) as f:
            f.write(jpeg)
            chunk = b"\0" * (8 << 20)
            for _ in range(128):
                f.write(chunk)
        zf.writestr("images8/ok.jpg", jpeg)
    from skyscript_viz.zipdir import LocalZip

    with LocalZip(path) as z:
        e = z.directory.find("images8/bomb.jpg")
        assert e is not None and e.usize == len(jpeg) + (1 << 30) and e.csize < 2 << 20
        return {
            "filepath": "images8/bomb.jpg",
            "storage": "zip",
            "container": path.name,
            "member": e.name,
            "zip_offset": e.offset,
            "zip_csize": e.csize,
            "zip_usize": e.usize,
            "zip_method": e.method,
            "zip_crc": e.crc,
            "zip_flags": e.flags,
            "zip_nlen": e.name_len,
            "zip_xlen": e.extra_len,
        }


def test_member_inflating_to_a_gigabyte_is_refused_unread(tmp_path: Path, tinykit: Any) -> None:
    root = tmp_path / "root"
    root.mkdir()
    row = _lying_zip(root / "images8.zip", tinykit.jpeg_bytes(3))
    store = ImageStore(root)
    for declared in (row["zip_usize"], 5000):  # the truth (over the cap), and a lie (inflates past it)
        res = store.image({**row, "zip_usize": declared})
        assert not res.ok and "zip part is damaged" in (res.problem or "")
    ok = store.image({k: v for k, v in row.items() if not k.startswith("zip_")} | {"member": "images8/ok.jpg"})
    assert ok.ok and ok.data == tinykit.jpeg_bytes(3)


def test_failed_thumbnails_are_cached(broken_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ImageStore(broken_root)
    calls: list[str] = []
    real = store.read_bytes

    def counting(row: dict[str, Any]) -> bytes:
        calls.append(row["filepath"])
        return real(row)

    monkeypatch.setattr(store, "read_bytes", counting)
    first = store.thumbnail(_folder("bomb.jpg"))
    second = store.thumbnail(_folder("bomb.jpg"))
    assert not first.ok and second.problem == first.problem
    assert calls == ["images2/bomb.jpg"]


def test_random_bytes_never_escape_the_image_reader(tmp_path: Path, tinykit: Any) -> None:
    """Damaged JPEGs and random bytes, in a folder and in a zip: always an image or a placeholder."""
    import random

    rng = random.Random(9)
    good = tinykit.jpeg_bytes(2, size=64)
    files: dict[str, bytes] = {}
    for i in range(120):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        files[f"m{i}.jpg"] = bytes(data) if i % 4 else rng.randbytes(rng.randint(0, 400))
    root = tmp_path / "root"
    tinykit.write_store(root / "images2", "folder", files)
    tinykit.write_store(root / "images3", "zip", files)
    store = ImageStore(root)
    try:
        for name in files:
            for row in (
                _folder(name),
                {"filepath": f"images3/{name}", "storage": "zip", "container": "images3.zip", "member": name},
            ):
                for res in (store.image(row), store.thumbnail(row)):
                    assert res.ok or (res.problem and res.data.startswith(PNG_SIGNATURE))
    finally:
        store.close()
