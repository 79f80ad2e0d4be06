"""Reading one part of a SkyScript root (its image listing and meta pickles) into Parquet files.

Every file and member is read under limits (skyscript_viz.safeio, skyscript_viz.zipdir,
skyscript_viz.safepickle): a broken zip, file or member becomes a problem row naming it, and the rest
of the part is still read.
"""

from __future__ import annotations

import gc
import math
import os
import re
import reprlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .discovery import Part, PartStore
from .errors import UnsafePickleError, ZipFormatError
from .partfast import fast_columns, focus_words_of
from .partout import IMAGE_SCHEMA, PartWriter
from .problems import ProblemKind
from .safeio import check_link, read_regular
from .safepickle import safe_loads
from .sources import SOURCES
from .storage import NO_FILE, storage_kind
from .zipdir import Directory, LocalZip

__all__ = ["CAPTION_SYNONYMS", "caption_words", "read_part"]

# --------------------------------------------------------------------------------------------------
# Reading members of a part


_LOCATION_COLUMNS = ("offsets", "csizes", "usizes", "methods", "crcs", "flags", "name_lens", "extra_lens")
MAX_META_SIZE = 64 << 20  # a meta pickle with 40,000 surrounding objects is ~2 MB
ProblemFn = Callable[[str, ProblemKind, str], None]


class _Store:
    """One store of a part, listed and readable under limits; what cannot be read becomes a problem."""

    def __init__(self, store: PartStore, ext: str, problem: ProblemFn) -> None:
        self.store, self.ext = store, ext
        # The members named *{ext}, as parallel columns (no object per member: a part lists ~1.7M):
        # stem (base name without ext), member name (zip member, or file name in the folder), position
        # in the zip's central directory (-1 in a folder).
        self.stems: list[str] = []
        self.members: list[str] = []
        self.positions = np.zeros(0, np.int64)
        self.other: list[str] = []
        self.zip: LocalZip | None = None
        self.columns: dict[str, np.ndarray] = {}
        label = store.path.name
        try:
            cached = storage_kind(store.kind).cached_names(store.path)  # a remote zip's cached directory
            if cached is not None:
                self._list_names(cached, set())
            elif store.kind == "folder":
                self._list_folder(problem)
            else:
                self.zip = LocalZip(store.path, directory=True, max_member=MAX_META_SIZE)
                bad = set(self.zip.directory.bad_names)
                for i in sorted(bad):
                    problem(
                        f"{label}/{self.zip.directory.names[i]}",
                        ProblemKind.UNREADABLE_FILE,
                        "member name is not valid UTF-8 although the zip says it is; not read",
                    )
                for note in self.zip.directory.notes:
                    problem(label, ProblemKind.DAMAGED_ZIP, note)
                self._list_names(self.zip.directory.names, bad)
        except ZipFormatError as exc:
            problem(label, ProblemKind.DAMAGED_ZIP, f"{exc}; nothing in it was read"[:300])
        except OSError as exc:
            problem(label, ProblemKind.UNREADABLE_FILE, f"{label}: cannot be listed ({exc.strerror or exc})")

    def _list_folder(self, problem: ProblemFn) -> None:
        root, label = self.store.path.parent, self.store.path.name
        ext = self.ext
        stems, members = self.stems, self.members
        with os.scandir(self.store.path) as it:
            for entry in it:
                name = entry.name
                if name.startswith("._"):  # macOS AppleDouble metadata, not an image: reported, not read
                    self.other.append(name)
                    continue
                if not name.endswith(ext):
                    if not name.startswith("."):
                        self.other.append(name)
                    continue
                if entry.is_symlink():  # read only when it leads to a regular file inside the root
                    why = check_link(Path(entry.path), root, self.store.path.resolve())
                    if why is not None:
                        problem(f"{label}/{name}", ProblemKind.UNREADABLE_FILE, why)
                        continue
                elif not entry.is_file(follow_symlinks=False):
                    problem(
                        f"{label}/{name}",
                        ProblemKind.UNREADABLE_FILE,
                        "not a regular file (a FIFO, device or folder); not read",
                    )
                    continue
                stems.append(name[: -len(ext)])
                members.append(name)
        self.positions = np.full(len(members), -1, np.int64)

    def _list_names(self, names: list[str], skip: set[int]) -> None:
        """Members named ``*{ext}`` become found (stem = base name without ext); other files are noted;
        folders, the ``skip`` positions and hidden files are left out. Computed with Arrow over all
        names: a meta zip lists up to 867,000."""
        if not names:
            return
        ext = self.ext
        a = pa.array(names, pa.string())
        base = pa.array([n.rpartition("/")[2] for n in names], pa.string())
        keep = pc.invert(pc.ends_with(a, "/")).to_numpy(zero_copy_only=False)
        if skip:
            keep[np.fromiter(skip, np.int64)] = False
        mac = pc.or_(pc.starts_with(base, "._"), pc.starts_with(a, "__MACOSX/")).to_numpy(zero_copy_only=False)
        is_ext = pc.ends_with(base, ext).to_numpy(zero_copy_only=False)
        hidden = pc.starts_with(base, ".").to_numpy(zero_copy_only=False)
        found = np.flatnonzero(keep & ~mac & is_ext)
        other = np.flatnonzero(keep & (mac | (~is_ext & ~hidden)))
        self.stems = pc.utf8_slice_codeunits(base.take(pa.array(found)), 0, -len(ext)).to_pylist()
        self.members = a.take(pa.array(found)).to_pylist()
        self.positions = found.astype(np.int64)
        self.other = [names[i] for i in other.tolist()]

    def read(self, k: int) -> bytes:
        """The bytes of found member ``k`` (meta pickles), bounded by MAX_META_SIZE."""
        if self.zip is not None:
            return self.zip.read_index(int(self.positions[k]))
        return read_regular(self.store.path / self.members[k], MAX_META_SIZE)

    def close(self) -> None:
        """Close the zip, keeping its directory's location columns as NumPy arrays only: a directory
        of 867,000 members as Python lists is ~350 MB."""
        if self.zip is not None:
            d = self.zip.directory
            self.columns = {name: np.asarray(getattr(d, name), np.int64) for name in _LOCATION_COLUMNS}
            self.zip.close()
            self.zip.directory = Directory()


# --------------------------------------------------------------------------------------------------
# One part


def _box(value: Any) -> tuple[float, float, float, float] | None:
    if type(value) not in (tuple, list) or len(value) != 4:
        return None
    try:
        w, s, e, n = (float(v) for v in value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int too large for a float
        return None
    return (w, s, e, n)


# Bounded repr for values a pickle put where text or numbers belong: a pickle can nest or share
# containers so that a full repr() would be astronomically long, or never end.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple = 3, 8, 8, 8
_REPR.maxstring, _REPR.maxlong, _REPR.maxother = 200, 60, 200


def _short(value: Any, width: int = 80) -> str:
    """A bounded repr of ``value`` cut to ``width``; never raises (repr of a >4300-digit int does)."""
    try:
        return _REPR.repr(value)[:width]
    except Exception:  # noqa: BLE001 - a hostile value must not stop the build
        return f"<{type(value).__name__}>"


def _text(value: Any) -> str:
    """A tag key or value as text (numbers as str(), containers as a bounded repr); never raises."""
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    try:
        return str(value) if t in (int, float, bool, type(None)) else _REPR.repr(value)
    except Exception:  # noqa: BLE001 - e.g. str() of a >4300-digit int
        return f"<{t.__name__}>"


def _box_ok(b: tuple[float, float, float, float]) -> bool:
    w, s, e, n = b
    return (
        all(math.isfinite(v) for v in b)
        and -180.0 <= w < e <= 180.0
        and -90.0 <= s < n <= 90.0
        and (e - w) < 10.0
        and (n - s) < 10.0
    )


# OSM values whose usual caption words share no word with the value itself.
CAPTION_SYNONYMS: dict[str, str] = {
    "fuel": "gas petrol station",
    "unclassified": "minor road",
    "motorway_link": "ramp",
    "track": "dirt road",
    "footway": "path sidewalk",
    "parking": "car lot",
    "pitch": "field court",
    "water": "lake pond reservoir",
    "wood": "forest trees",
    "scrub": "bushes shrubland",
}
_WORD_SPLIT = re.compile(r"[^a-z]+")


def caption_words(key: str, value: str) -> str:
    """Words (3+ letters, plural folded) a caption of an object tagged ``key=value`` is expected to
    contain one of; space-separated. Used by the caption_misses_tag check."""
    text = f"{key} {value} {CAPTION_SYNONYMS.get(value, '')}".lower()
    words = {w[:-1] if len(w) > 4 and w.endswith("s") else w for w in _WORD_SPLIT.split(text) if len(w) >= 3}
    return " ".join(sorted(words))


_TIME_PARTS = 5
# Valid range of each time field; anything else (month 13, year 99999) makes the time corrupt.
_TIME_RANGES = ((1, 9999), (1, 12), (1, 31), (0, 23), (0, 59))


def _time_ok(tv: Any) -> bool:
    return (
        type(tv) in (tuple, list)
        and len(tv) > 0
        and all(type(x) is int and lo <= x <= hi for x, (lo, hi) in zip(tv[:_TIME_PARTS], _TIME_RANGES, strict=False))
    )


def read_part(part: Part, out_dir: Path, progress: Any | None, piece: tuple[int, int] = (0, 1)) -> dict[str, Any]:
    """Read one part, or piece ``k`` of ``n`` of it (``piece=(k, n)``: its k-th run of sorted names, so
    the pieces of a part in order give its images in order), and write the Parquet files into
    ``out_dir``; return counts. Problems of the listing are reported by piece 0 only."""
    problems_fp: list[str] = []
    problems_kind: list[str] = []
    problems_detail: list[str] = []

    def problem(fp: str, kind: ProblemKind, detail: str) -> None:
        problems_fp.append(fp)
        problems_kind.append(kind.value)
        problems_detail.append(detail)

    # Millions of small objects are made and kept per part and none form cycles: automatic collections
    # would walk them over and over (~15% of the time), so they are off while a part is read.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        return _read_stores(part, out_dir, progress, problem, (problems_fp, problems_kind, problems_detail), piece)
    finally:
        if gc_was_on:
            gc.enable()


def _read_stores(
    part: Part,
    out_dir: Path,
    progress: Any | None,
    problem: ProblemFn,
    plists: tuple[list[str], list[str], list[str]],
    piece: tuple[int, int],
) -> dict[str, Any]:
    """List the part's image and meta stores, then read it (or one piece of it)."""
    listing = problem if piece[0] == 0 else _ignore
    img_store = _Store(part.images, ".jpg", listing) if part.images else None
    if img_store is not None:
        img_store.close()  # the build only lists images; their byte locations come from the directory
    meta_store = _Store(part.meta, ".pickle", listing) if part.meta else None
    try:
        return _read_listed(part, img_store, meta_store, out_dir, progress, (problem, listing), plists, piece)
    finally:
        if meta_store is not None:
            meta_store.close()


def _image_columns(
    part: Part, st: _Store | None, has: np.ndarray, members: list[str | None], img_index: np.ndarray
) -> dict[str, pa.Array]:
    """Where each image is: storage, container, member and, in a local zip, its byte location (local
    header offset, sizes, method, CRC from the central directory), so the app reads it with one
    positioned read instead of opening the zip's whole directory."""
    n = len(img_index)
    storage = st.store.kind if st else NO_FILE
    out = {
        "storage": pa.array(np.where(has, storage, NO_FILE), pa.string()),
        "container": pa.array([st.store.path.name if st else None] * n, pa.string(), mask=~has),
        "member": pa.array(members, pa.string()),
        "has_image": pa.array(has, pa.bool_()),
    }
    cols = st.columns if st is not None else {}
    for name, src, typ in (
        ("zip_offset", "offsets", pa.int64()),
        ("zip_csize", "csizes", pa.int64()),
        ("zip_usize", "usizes", pa.int64()),
        ("zip_method", "methods", pa.int16()),
        ("zip_crc", "crcs", pa.int64()),
        ("zip_flags", "flags", pa.int32()),
        ("zip_nlen", "name_lens", pa.int32()),
        ("zip_xlen", "extra_lens", pa.int32()),
    ):
        if n == 0 or not len(cols.get(src, ())):
            out[name] = pa.nulls(n, typ)
            continue
        col = cols[src]
        out[name] = pa.array(col[np.where(img_index >= 0, img_index, 0)], typ, mask=img_index < 0)
    return out


def _meta_failure(member: str | None, exc: Exception) -> tuple[ProblemKind, str]:
    """The problem kind and text for a meta pickle that could not be read."""
    if isinstance(exc, UnsafePickleError):
        return ProblemKind.UNSAFE_META, f"{member}: {exc}"[:300]
    if isinstance(exc, ZipFormatError | OSError):
        return ProblemKind.CORRUPT_META, f"{member}: {exc}"[:300]
    return ProblemKind.CORRUPT_META, f"{member}: {type(exc).__name__}: {exc}"[:300]


def _match(
    stores: tuple[_Store | None, _Store | None], prefix: str, problem: ProblemFn
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every stem of the part, sorted, with its member number in the image and in the meta store (-1:
    none), computed with Arrow over all ~867,000 stems. A second member with the same stem is reported
    and not used."""
    arrays = [pa.array(st.stems if st else [], pa.string()) for st in stores]
    orders = [pc.sort_indices(a) for a in arrays]
    ranked = [a.take(o) for a, o in zip(arrays, orders, strict=True)]
    dups = False
    for st, what, r in zip(stores, ("", "meta "), ranked, strict=True):
        if st is None or len(r) < 2 or not pc.any(pc.equal(r[1:], r[:-1])).as_py():
            continue
        dups = True  # rare: each later member of a stem is reported
        first: dict[str, int] = {}
        for k, stem in enumerate(st.stems):
            if stem in first:
                problem(
                    prefix + stem + ".jpg",
                    ProblemKind.DUPLICATE_FILE,
                    f"{what}{st.members[k]} and {st.members[first[stem]]} have the same name; the first is used",
                )
            else:
                first[stem] = k
    # The usual cases, answered by the two sorts alone: both stores hold the same stems, or one is empty.
    if not dups:
        none = np.full(max(len(arrays[0]), len(arrays[1])), -1, np.int64)
        idx = [np.asarray(o, np.int64) for o in orders]
        if ranked[0].equals(ranked[1]):
            return ranked[0].to_pylist(), idx[0], idx[1]
        if len(arrays[1]) == 0:
            return ranked[0].to_pylist(), idx[0], none
        if len(arrays[0]) == 0:
            return ranked[1].to_pylist(), none, idx[1]
    every = pc.unique(pa.concat_arrays(arrays))
    every = every.take(pc.sort_indices(every))  # UTF-8 byte order = code point order, as sorted() gives
    # index_in gives the first position of each value: a duplicate's later members are not used
    img_k, meta_k = (np.asarray(pc.index_in(every, value_set=a).fill_null(-1).to_numpy(), np.int64) for a in arrays)
    return every.to_pylist(), img_k, meta_k


BATCH_IMAGES = 32768  # images read, converted and written at a time: bounds a worker's memory
_NAME_RE = r"^(?P<t>[awn])(?P<id>[0-9]{1,19})_(?P<src>[A-Z0-9]{2})_(?P<yy>[0-9]{2})$"  # naming._NAME
_INT64_MAX = str(2**63 - 1)


def _names(stems: pa.Array, fps: list[str], problem: ProblemFn) -> dict[str, pa.Array]:
    """obj_type, osm_id, source, name_year of a batch of stems (naming.parse_name, with Arrow)."""
    m = pc.extract_regex(stems, _NAME_RE)
    ids = m.field("id")
    big = pc.and_(pc.equal(pc.utf8_length(ids), 19), pc.greater(ids, _INT64_MAX))  # parse_name: osm_id < 2**63
    ok = pc.and_(m.is_valid(), pc.invert(pc.fill_null(big, False))).to_numpy(zero_copy_only=False)
    mask = pa.array(~ok)

    def field(name: str, fill: str, typ: pa.DataType) -> pa.Array:
        return pc.if_else(mask, None, pc.cast(pc.if_else(mask, fill, m.field(name)), typ))

    src = field("src", "", pa.string())
    out = {
        "obj_type": field("t", "", pa.string()),
        "osm_id": field("id", "0", pa.int64()),
        "source": src,
        "name_year": pc.add(field("yy", "0", pa.int16()), pa.scalar(2000, pa.int16())),
    }
    for j in np.flatnonzero(~ok):
        stem = stems[int(j)].as_py()
        problem(fps[j], ProblemKind.BAD_NAME, f"{stem!r} is not {{a|w|n}}{{osm_id}}_{{SRC}}_{{YY}}")
    unknown = pc.invert(pc.is_in(src, value_set=pa.array(list(SOURCES)))).to_numpy(zero_copy_only=False) & ok
    for j in np.flatnonzero(unknown):
        problem(
            fps[j],
            ProblemKind.UNKNOWN_SOURCE,
            f"source code {src[int(j)].as_py()!r} is not one of the ten SkyScript sources; shown as unknown",
        )
    return out


def _read_metas(
    st: _Store | None, found: np.ndarray, fps: list[str], problem: ProblemFn
) -> list[dict[str, Any] | None]:
    """The meta dict of each image (None where it is missing or unreadable, which is reported);
    ``found``: each image's member number in ``st`` (-1: none)."""
    out: list[dict[str, Any] | None] = [None] * len(found)
    for j in np.flatnonzero(found < 0):
        problem(fps[j], ProblemKind.MISSING_META, "no meta pickle for this image")
    if st is None:
        return out
    have = np.flatnonzero(found >= 0).tolist()
    ks = found[have]
    if st.zip is not None:
        raws: list[bytes | Exception] = st.zip.read_many(st.positions[ks].tolist())
    else:
        raws = []
        for k in ks.tolist():
            try:
                raws.append(st.read(k))
            except Exception as exc:  # noqa: BLE001 - every failure becomes a problem row
                raws.append(exc)
    names = [st.members[k] for k in ks.tolist()]
    _load_all(safe_loads, have, raws, names, fps, out, problem)
    return out


def _load_all(
    loads: Any,
    have: list[int],
    raws: list[bytes | Exception],
    names: list[str],
    fps: list[str],
    out: list[dict[str, Any] | None],
    problem: ProblemFn,
) -> None:
    """Unpickle each member's bytes into ``out``; failures become problem rows."""
    for j, raw, name in zip(have, raws, names, strict=True):
        try:
            if isinstance(raw, Exception):
                raise raw
            meta = loads(raw)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a problem row
            problem(fps[j], *_meta_failure(name, exc))
            continue
        if type(meta) is not dict:
            problem(fps[j], ProblemKind.CORRUPT_META, f"{name}: a {type(meta).__name__}, not a dict")
            continue
        out[j] = meta


def _ignore(fp: str, kind: ProblemKind, detail: str) -> None:
    """The problem function of the listing in pieces after the first (which reports it)."""


def _read_listed(
    part: Part,
    img_store: _Store | None,
    meta_store: _Store | None,
    out_dir: Path,
    progress: Any | None,
    problems: tuple[ProblemFn, ProblemFn],
    plists: tuple[list[str], list[str], list[str]],
    piece: tuple[int, int],
) -> dict[str, Any]:
    """Read the meta of every listed image (of the piece) and write the Parquet files, batch by batch."""
    problem, listing = problems
    prefix = f"images{part.number}/"
    stems, img_k, meta_k = _match((img_store, meta_store), prefix, listing)
    for st in (img_store, meta_store):
        if st is None:
            continue
        for name in st.other:
            listing(f"{st.store.path.name}/{name}", ProblemKind.UNEXPECTED_FILE, "not a .jpg/.pickle; ignored")
    k_piece, n_pieces = piece
    first, end = len(stems) * k_piece // n_pieces, len(stems) * (k_piece + 1) // n_pieces
    stems, img_k, meta_k = stems[first:end], img_k[first:end], meta_k[first:end]
    n = len(stems)
    out = PartWriter(out_dir, _text)
    words: dict[int, str] = {}  # vocabulary id -> its caption words

    def kv_words(kv: int) -> str:
        w = words.get(kv)
        if w is None:
            k, v = pairs_by_id[kv] if kv < len(pairs_by_id) else _refresh(kv)
            w = words[kv] = caption_words(_text(k), _text(v))
        return w

    pairs_by_id: list[tuple[Any, Any]] = []

    def _refresh(kv: int) -> tuple[Any, Any]:
        pairs_by_id[:] = list(out.vocab)
        return pairs_by_id[kv]

    try:
        for lo in range(0, n, BATCH_IMAGES):
            if progress is not None:
                progress.put((part.number, lo, n))
            _read_batch(
                part,
                stems[lo : lo + BATCH_IMAGES],
                lo,
                (img_k[lo : lo + BATCH_IMAGES], meta_k[lo : lo + BATCH_IMAGES]),
                (img_store, meta_store),
                out,
                kv_words,
                problem,
            )
    finally:
        out.close(plists)
    if progress is not None:
        progress.put((part.number, n, n))
    return {"part": part.number, "n": n, "n_tags": out.n_tags, "n_problems": len(plists[0])}


def _read_batch(
    part: Part,
    stems: list[str],
    lo: int,
    found: tuple[np.ndarray, np.ndarray],
    stores: tuple[_Store | None, _Store | None],
    out: PartWriter,
    kv_words: Any,
    problem: ProblemFn,
) -> None:
    """Read, check and write one batch of a part's images."""
    k = len(stems)
    prefix = f"images{part.number}/"
    fps = [prefix + s + ".jpg" for s in stems]
    img_st, meta_st = stores
    img_k, meta_k = found
    has_img = img_k >= 0
    img_members: list[str | None] = (
        [img_st.members[i] if i >= 0 else None for i in img_k.tolist()] if img_st else [None] * k
    )
    for j in np.flatnonzero(~has_img):
        mk = int(meta_k[j])
        problem(
            fps[j],
            ProblemKind.MISSING_IMAGE,
            f"meta {meta_st.members[mk] if meta_st is not None and mk >= 0 else None} has no image",
        )
    names = _names(pa.array(stems, pa.string()), fps, problem)
    metas = _read_metas(meta_st, meta_k, fps, problem)
    name_year = names["name_year"].fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    name_ok = names["name_year"].is_valid().to_numpy(zero_copy_only=False)
    fast = fast_columns(metas, name_year, name_ok)
    if fast is None:
        cols, (local, role, obj, kv), focus = _slow_columns(metas, fps, name_year, name_ok, out, kv_words, problem)
    else:
        cols, flags, (local, role, obj, keys, values) = fast
        _report_flagged(metas, fps, name_year, flags, problem)
        kv = out.ids_of_strings(keys, values)
        focus = focus_words_of(local[role == 0], kv[role == 0], kv_words, k)
    img_index = np.full(k, -1, np.int64)  # position in the image zip's directory (-1: none, or a folder)
    if img_st is not None:
        img_index[has_img] = img_st.positions[img_k[has_img]]
    table = pa.table(
        {
            "local": pa.array(np.arange(lo, lo + k), pa.int32()),
            "filepath": pa.array(fps, pa.string()),
            "part": pa.array(np.full(k, part.number), pa.int32()),
            **_image_columns(part, stores[0], has_img, img_members, img_index),
            "has_meta": pa.array(meta_k >= 0, pa.bool_()),
            **names,
            **cols,
            "focus_words": focus,
        }
    )
    out.add(table.select(IMAGE_SCHEMA.names), local, role, obj, kv)


def _report_flagged(
    metas: list[Any], fps: list[str], name_year: np.ndarray, flags: dict[str, np.ndarray], problem: ProblemFn
) -> None:
    """Problem rows for the rows the vectorised checks flagged (the same texts as the per-image reader)."""
    for j in np.flatnonzero(flags["bad_time"]):
        problem(fps[j], ProblemKind.CORRUPT_META, _time_text(metas[j].get("time")))
    for j in np.flatnonzero(flags["mismatch"]):
        problem(fps[j], ProblemKind.YEAR_MISMATCH, f"name says {name_year[j]}, meta time says {metas[j]['time'][0]}")
    for j in np.flatnonzero(flags["bad_box"]):
        problem(fps[j], ProblemKind.INVALID_BOX, f"box {_short(metas[j].get('box'))} is not 4 numbers")
    for j in np.flatnonzero(flags["bad_footprint"]):
        b = _box(metas[j]["box"])
        problem(fps[j], ProblemKind.INVALID_BOX, f"box (west, south, east, north) = {b} is not a valid footprint")


def _time_text(tv: Any) -> str:
    return f"time {_short(tv)} is not a valid (year, month, day, hour, minute)"


_NONE5: tuple[int | None, ...] = (None,) * 5


def _checked_time(tv: Any, fp: str, ny: int | None, problem: ProblemFn) -> tuple[int | None, ...]:
    """(year, month, day, hour, minute) of a meta ``time``; the name's year stands in for a missing one.
    A malformed time, or a year differing from the name's, is reported."""
    tt = _NONE5
    if _time_ok(tv):
        tt = (tuple(tv[:_TIME_PARTS]) + _NONE5)[:5]
    else:
        problem(fp, ProblemKind.CORRUPT_META, _time_text(tv))
    if tt[0] is None and ny is not None:
        tt = (ny, *tt[1:])
    elif ny is not None and tt[0] != ny:
        problem(fp, ProblemKind.YEAR_MISMATCH, f"name says {ny}, meta time says {tt[0]}")
    return tt


def _checked_box(value: Any, fp: str, problem: ProblemFn) -> tuple[Any, ...]:
    """(west, south, east, north, valid) of a meta ``box``; a box that is not 4 numbers, or not a valid
    footprint, is reported."""
    b = _box(value)
    if b is None:
        problem(fp, ProblemKind.INVALID_BOX, f"box {_short(value)} is not 4 numbers")
        return (None, None, None, None, False)
    ok = _box_ok(b)
    if not ok:
        problem(fp, ProblemKind.INVALID_BOX, f"box (west, south, east, north) = {b} is not a valid footprint")
    return (*b, ok)


def _checked_tags(meta: dict[Any, Any], fp: str, problem: ProblemFn) -> tuple[dict[Any, Any], list[Any]]:
    """The focus tags (a dict) and the surrounding objects (a list); other types are reported and read
    as empty."""
    center = meta.get("center_tags")
    if center is None:
        center = {}
    if type(center) is not dict:
        problem(fp, ProblemKind.CORRUPT_META, "center_tags is not a dict")
        center = {}
    surr = meta.get("surrounding_tags")
    if surr is None:
        surr = []
    if type(surr) is not list:
        problem(fp, ProblemKind.CORRUPT_META, "surrounding_tags is not a list")
        surr = []
    return center, surr


def _slow_columns(
    metas: list[Any],
    fps: list[str],
    name_year: np.ndarray,
    name_ok: np.ndarray,
    out: PartWriter,
    kv_words: Any,
    problem: ProblemFn,
) -> tuple[dict[str, pa.Array], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], pa.Array]:
    """The per-image reader, for batches holding values of unusual types: checks and explains each."""
    rows: list[tuple[Any, ...]] = []
    t_pairs: list[tuple[Any, Any]] = []
    runs: list[tuple[int, int, int]] = []

    def pairs_of(tags: dict[Any, Any]) -> list[tuple[Any, Any]]:
        out_pairs = []
        for kv in tags.items():
            try:
                hash(kv)
            except TypeError:  # an unhashable key or value (a list): stored as its text
                kv = (_text(kv[0]), _text(kv[1]))
            out_pairs.append(kv)
        return out_pairs

    for j, meta in enumerate(metas):
        fp, ny = fps[j], int(name_year[j]) if name_ok[j] else None
        if meta is None:
            rows.append((ny, None, None, None, None, None, None, None, None, False, 0, 0))
            continue
        tt = _checked_time(meta.get("time"), fp, ny, problem)
        box = _checked_box(meta.get("box"), fp, problem)
        center, surr = _checked_tags(meta, fp, problem)
        if center:
            t_pairs.extend(pairs_of(center))
            runs.append((j, 0, len(center)))
        for oi, obj in enumerate(surr, 1):
            if type(obj) is not dict:
                problem(fp, ProblemKind.CORRUPT_META, f"surrounding object {oi} is not a dict")
            elif obj:
                t_pairs.extend(pairs_of(obj))
                runs.append((j, oi, len(obj)))
        rows.append((*tt, *box, len(surr), len(center)))
    names = ("year", "month", "day", "hour", "minute", "west", "south", "east", "north", "box_valid")
    types = (pa.int16(), pa.int8(), pa.int8(), pa.int8(), pa.int8(), *[pa.float64()] * 4, pa.bool_())
    cols = list(zip(*rows, strict=True)) if rows else [()] * 12
    out_cols = {name: pa.array(c, t) for name, c, t in zip(names, cols, types, strict=False)}
    out_cols["n_surrounding"] = pa.array(cols[10], pa.int32())
    out_cols["n_focus_tags"] = pa.array(cols[11], pa.int32())
    run = np.asarray(runs, np.int64).reshape(-1, 3)
    local = np.repeat(run[:, 0], run[:, 2])
    obj_n = np.repeat(run[:, 1], run[:, 2])
    role = (obj_n > 0).astype(np.int64)
    kv = out.ids(t_pairs)
    focus = focus_words_of(local[role == 0], kv[role == 0], kv_words, len(metas))
    return out_cols, (local, role, obj_n, kv), focus
