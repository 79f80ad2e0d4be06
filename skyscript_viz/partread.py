"""Reading one part of a SkyScript root (its image listing and meta pickles) into Parquet files.

Every file and member is read under limits (skyscript_viz.safeio, skyscript_viz.zipdir,
skyscript_viz.safepickle): a broken zip, file or member becomes a problem row naming it, and the rest
of the part is still read.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .discovery import Part, PartStore
from .errors import UnsafePickleError, ZipFormatError
from .naming import parse_name
from .problems import ProblemKind
from .safeio import check_link, read_regular
from .safepickle import safe_loads
from .sources import SOURCES
from .storage import NO_FILE, storage_kind
from .zipdir import LocalZip

__all__ = ["CAPTION_SYNONYMS", "caption_words", "read_part"]

# --------------------------------------------------------------------------------------------------
# Reading members of a part


MAX_META_SIZE = 64 << 20  # a meta pickle with 40,000 surrounding objects is ~2 MB
ProblemFn = Callable[[str, ProblemKind, str], None]


@dataclass(frozen=True, slots=True)
class _Member:
    stem: str
    member: str  # zip member name, or file name inside the folder
    index: int = -1  # position in the zip's central directory (zip stores)


class _Store:
    """One store of a part, listed and readable under limits; what cannot be read becomes a problem."""

    def __init__(self, store: PartStore, ext: str, problem: ProblemFn) -> None:
        self.store, self.ext = store, ext
        self.found: list[_Member] = []
        self.other: list[str] = []
        self.zip: LocalZip | None = None
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
                self.found.append(_Member(name[: -len(ext)], name))

    def _list_names(self, names: list[str], skip: set[int]) -> None:
        ext = self.ext
        for i, name in enumerate(names):
            if name.endswith("/") or i in skip:
                continue
            base = name.rsplit("/", 1)[-1]
            if base.startswith("._") or name.startswith("__MACOSX/"):  # macOS zip metadata: reported, not read
                self.other.append(name)
            elif base.endswith(ext):
                self.found.append(_Member(base[: -len(ext)], name, i))
            elif not base.startswith("."):
                self.other.append(name)

    def read(self, m: _Member) -> bytes:
        """The bytes of one member (meta pickles), bounded by MAX_META_SIZE."""
        if self.zip is not None:
            return self.zip.read_index(m.index)
        return read_regular(self.store.path / m.member, MAX_META_SIZE)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


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


def _distinct_counts(
    item: np.ndarray, role: np.ndarray, image: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each item id: how many distinct images have it with role 0, with role 1, with either."""
    out = []
    n_img = int(image.max()) + 1 if len(image) else 1
    for sel in (role == 0, role == 1, None):
        it, im = (item, image) if sel is None else (item[sel], image[sel])
        keys = np.sort(it * n_img + im)  # sort + neighbour mask == np.unique, which is ~80x slower here
        pairs = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
        out.append(np.bincount(pairs // n_img, minlength=n_items).astype(np.int64))
    return out[0], out[1], out[2]


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


def read_part(part: Part, out_dir: Path, progress: Any | None) -> dict[str, Any]:
    """Read one part and write its Parquet files into ``out_dir``; return counts."""
    problems_fp: list[str] = []
    problems_kind: list[str] = []
    problems_detail: list[str] = []

    def problem(fp: str, kind: ProblemKind, detail: str) -> None:
        problems_fp.append(fp)
        problems_kind.append(kind.value)
        problems_detail.append(detail)

    img_store = _Store(part.images, ".jpg", problem) if part.images else None
    if img_store is not None:
        img_store.close()  # the build only lists images; their byte locations come from the directory
    meta_store = _Store(part.meta, ".pickle", problem) if part.meta else None
    try:
        return _read_listed(
            part, img_store, meta_store, out_dir, progress, problem, (problems_fp, problems_kind, problems_detail)
        )
    finally:
        if meta_store is not None:
            meta_store.close()


def _image_columns(part: Part, st: _Store | None, cols: dict[str, Any], img_index: list[int]) -> dict[str, pa.Array]:
    """Where each image is: storage, container, member and, in a local zip, its byte location (local
    header offset, sizes, method, CRC from the central directory), so the app reads it with one
    positioned read instead of opening the zip's whole directory."""
    n = len(img_index)
    has = cols["has_image"]
    storage = st.store.kind if st else NO_FILE
    out = {
        "local": pa.array(range(n), pa.int32()),
        "filepath": pa.array(cols["filepath"], pa.string()),
        "part": pa.array([part.number] * n, pa.int32()),
        "storage": pa.array([storage if hi else NO_FILE for hi in has], pa.string()),
        "container": pa.array([st.store.path.name if st and hi else None for hi in has], pa.string()),
        "member": pa.array(cols["member"], pa.string()),
        "has_image": pa.array(has, pa.bool_()),
    }
    d = st.zip.directory if st is not None and st.zip is not None else None
    idx = np.asarray(img_index, np.int64)
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
        if d is None or n == 0:
            out[name] = pa.nulls(n, typ)
            continue
        col = np.asarray(getattr(d, src), np.int64)
        vals = col[np.where(idx >= 0, idx, 0)] if len(col) else np.zeros(n, np.int64)
        out[name] = pa.array(vals, typ, mask=idx < 0)
    return out


def _meta_failure(member: str | None, exc: Exception) -> tuple[ProblemKind, str]:
    """The problem kind and text for a meta pickle that could not be read."""
    if isinstance(exc, UnsafePickleError):
        return ProblemKind.UNSAFE_META, f"{member}: {exc}"[:300]
    if isinstance(exc, ZipFormatError | OSError):
        return ProblemKind.CORRUPT_META, f"{member}: {exc}"[:300]
    return ProblemKind.CORRUPT_META, f"{member}: {type(exc).__name__}: {exc}"[:300]


class _Vocab(dict[tuple[Any, Any], int]):
    """(key, value) -> id, a new id for each new pair: looked up with a C-level map() per object."""

    def __missing__(self, kv: tuple[Any, Any]) -> int:
        i = self[kv] = len(self)
        return i


def _by_stem(st: _Store | None, prefix: str, what: str, problem: ProblemFn) -> dict[str, _Member]:
    """Members by stem; a second member with the same stem is reported and not used."""
    out: dict[str, _Member] = {}
    for m in st.found if st else ():
        if m.stem in out:
            problem(
                prefix + m.stem + ".jpg",
                ProblemKind.DUPLICATE_FILE,
                f"{what}{m.member} and {out[m.stem].member} have the same name; the first is used",
            )
            continue
        out[m.stem] = m
    return out


def _read_listed(
    part: Part,
    img_store: _Store | None,
    meta_store: _Store | None,
    out_dir: Path,
    progress: Any | None,
    problem: ProblemFn,
    plists: tuple[list[str], list[str], list[str]],
) -> dict[str, Any]:
    """Read the meta of every listed image and write the part's Parquet files."""
    prefix = f"images{part.number}/"
    imgs = _by_stem(img_store, prefix, "", problem)
    metas = _by_stem(meta_store, prefix, "meta ", problem)
    for st in (img_store, meta_store):
        if st is None:
            continue
        for name in st.other:
            problem(f"{st.store.path.name}/{name}", ProblemKind.UNEXPECTED_FILE, "not a .jpg/.pickle; ignored")

    stems = sorted(imgs.keys() | metas.keys())
    n = len(stems)
    t_kv: list[int] = []
    runs: list[tuple[int, int, int]] = []
    extend_kv, run_append = t_kv.extend, runs.append
    vocab = _Vocab()
    vlookup = vocab.__getitem__
    # One tuple per image (transposed into columns at the end): far cheaper than 20 appends per image.
    rows: list[tuple[Any, ...]] = []
    append_row = rows.append
    none5: tuple[int | None, ...] = (None,) * 5

    word_cache: dict[Any, str] = {}  # (key, value) -> its caption words

    def focus_words(center: dict[Any, Any]) -> str:
        """The words an image's captions should mention: from its focus tags (caption_misses_tag)."""
        words: set[str] = set()
        for k, v in center.items():
            try:
                w = word_cache.get((k, v))
            except TypeError:  # an unhashable value
                w = None
            if w is None:
                w = caption_words(_text(k), _text(v))
                with contextlib.suppress(TypeError):
                    word_cache[(k, v)] = w
            words.update(w.split())
        return " ".join(sorted(words))

    def kv_ids(tags: dict[Any, Any]) -> list[int]:
        try:
            return list(map(vlookup, tags.items()))
        except TypeError:  # an unhashable key or value (a list): stored as its text
            return [vlookup((_text(k), _text(v))) for k, v in tags.items()]

    img_index: list[int] = []  # position of each image in its zip's directory (-1: none or not a zip)
    for local, stem in enumerate(stems):
        if progress is not None and local % 5000 == 0:
            progress.put((part.number, local, n))
        fp = prefix + stem + ".jpg"
        img_m, meta_m = imgs.get(stem), metas.get(stem)
        img_member = img_m.member if img_m is not None else None
        meta_member = meta_m.member if meta_m is not None else None
        img_index.append(img_m.index if img_m is not None else -1)
        parsed = parse_name(stem)
        if parsed is None:
            problem(fp, ProblemKind.BAD_NAME, f"{stem!r} is not {{a|w|n}}{{osm_id}}_{{SRC}}_{{YY}}")
            name_cols: tuple[Any, ...] = (None, None, None, None)
        else:
            name_cols = (parsed.obj_type, parsed.osm_id, parsed.source, parsed.year)
            if parsed.source not in SOURCES:
                problem(
                    fp,
                    ProblemKind.UNKNOWN_SOURCE,
                    f"source code {parsed.source!r} is not one of the ten SkyScript sources; shown as unknown",
                )
        if img_member is None:
            problem(fp, ProblemKind.MISSING_IMAGE, f"meta {meta_member} has no image")

        meta: Any = None
        if meta_m is None or meta_store is None:
            problem(fp, ProblemKind.MISSING_META, "no meta pickle for this image")
        else:
            try:
                meta = safe_loads(meta_store.read(meta_m))
            except Exception as exc:  # noqa: BLE001 - every failure becomes a problem row
                problem(fp, *_meta_failure(meta_member, exc))
                meta = None
            if meta is not None and type(meta) is not dict:
                problem(fp, ProblemKind.CORRUPT_META, f"{meta_member}: a {type(meta).__name__}, not a dict")
                meta = None

        head = (fp, img_member, img_member is not None, meta_member is not None, *name_cols)
        if meta is None:
            year = parsed.year if parsed is not None else None
            append_row((*head, year, None, None, None, None, None, None, None, None, False, 0, 0, ""))
            continue

        # time
        tv = meta.get("time")
        tt = none5
        if _time_ok(tv):
            tt = (tuple(tv[:_TIME_PARTS]) + none5)[:5]
        else:
            problem(fp, ProblemKind.CORRUPT_META, f"time {_short(tv)} is not a valid (year, month, day, hour, minute)")
        if tt[0] is None and parsed is not None:
            tt = (parsed.year, *tt[1:])
        elif parsed is not None and tt[0] != parsed.year:
            problem(fp, ProblemKind.YEAR_MISMATCH, f"name says {parsed.year}, meta time says {tt[0]}")

        # box
        b = _box(meta.get("box"))
        if b is None:
            problem(fp, ProblemKind.INVALID_BOX, f"box {_short(meta.get('box'))} is not 4 numbers")
            box: tuple[Any, ...] = (None, None, None, None, False)
        else:
            ok = _box_ok(b)
            box = (*b, ok)
            if not ok:
                problem(fp, ProblemKind.INVALID_BOX, f"box (west, south, east, north) = {b} is not a valid footprint")

        # tags
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
        if center:
            extend_kv(kv_ids(center))
            run_append((local, 0, len(center)))  # (image, object, tag count): expanded by numpy at the end
        for oi, obj in enumerate(surr, 1):
            if type(obj) is not dict:
                problem(fp, ProblemKind.CORRUPT_META, f"surrounding object {oi} is not a dict")
                continue
            if obj:
                extend_kv(kv_ids(obj))
                run_append((local, oi, len(obj)))
        words = focus_words(center) if center else ""
        append_row((*head, *tt, *box, len(surr), len(center), words))

    names = (
        "filepath",
        "member",
        "has_image",
        "has_meta",
        "obj_type",
        "osm_id",
        "source",
        "name_year",
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "west",
        "south",
        "east",
        "north",
        "box_valid",
        "n_surrounding",
        "n_focus_tags",
        "focus_words",
    )
    cols: dict[str, Any] = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {k: () for k in names}
    problems_fp, problems_kind, problems_detail = plists
    images = pa.table(
        {
            **_image_columns(part, img_store, cols, img_index),
            **{
                "has_meta": pa.array(cols["has_meta"], pa.bool_()),
                "obj_type": pa.array(cols["obj_type"], pa.string()),
                "osm_id": pa.array(cols["osm_id"], pa.int64()),
                "source": pa.array(cols["source"], pa.string()),
                "name_year": pa.array(cols["name_year"], pa.int16()),
                "year": pa.array(cols["year"], pa.int16()),
                "month": pa.array(cols["month"], pa.int8()),
                "day": pa.array(cols["day"], pa.int8()),
                "hour": pa.array(cols["hour"], pa.int8()),
                "minute": pa.array(cols["minute"], pa.int8()),
                "west": pa.array(cols["west"], pa.float64()),
                "south": pa.array(cols["south"], pa.float64()),
                "east": pa.array(cols["east"], pa.float64()),
                "north": pa.array(cols["north"], pa.float64()),
                "box_valid": pa.array(cols["box_valid"], pa.bool_()),
                "n_surrounding": pa.array(cols["n_surrounding"], pa.int32()),
                "n_focus_tags": pa.array(cols["n_focus_tags"], pa.int32()),
                "focus_words": pa.array(cols["focus_words"], pa.string()),
            },
        }
    )
    run = np.asarray(runs, np.int64).reshape(-1, 3)
    t_local = np.repeat(run[:, 0], run[:, 2])
    t_obj = np.repeat(run[:, 1], run[:, 2])
    t_role = (t_obj > 0).astype(np.int64)
    tags = pa.table(
        {
            "local": pa.array(t_local, pa.int32()),
            "role": pa.array(t_role, pa.int8()),
            "obj": pa.array(t_obj, pa.int32()),
            "kv": pa.array(t_kv, pa.int32()),
        }
    )
    keys = list(vocab.keys())  # non-text keys/values (numbers) become text here; equal texts merge later
    key_text = [_text(k) for k, _ in keys]
    key_names = sorted(set(key_text))
    key_index = {k: i for i, k in enumerate(key_names)}
    key_of_kv = np.array([key_index[k] for k in key_text], dtype=np.int64)
    # Images per tag and per key, on the focus / a surrounding object / either: parts hold disjoint
    # images, so the merge only adds these up instead of counting distinct images over every tag row.
    kv_arr = np.asarray(t_kv, np.int64)
    kv_n = _distinct_counts(kv_arr, t_role, t_local, len(keys))
    key_n = _distinct_counts(key_of_kv[kv_arr] if t_kv else np.zeros(0, np.int64), t_role, t_local, len(key_names))
    vocab_t = pa.table(
        {
            "kv": pa.array(range(len(keys)), pa.int32()),
            "key": pa.array(key_text, pa.string()),
            "value": pa.array([_text(v) for _, v in keys], pa.string()),
            "n_focus": kv_n[0],
            "n_surrounding": kv_n[1],
            "n_images": kv_n[2],
        }
    )
    keys_t = pa.table(
        {"key": pa.array(key_names, pa.string()), "n_focus": key_n[0], "n_surrounding": key_n[1], "n_images": key_n[2]}
    )
    problems = pa.table(
        {
            "filepath": pa.array(problems_fp, pa.string()),
            "kind": pa.array(problems_kind, pa.string()),
            "detail": pa.array(problems_detail, pa.string()),
        }
    )
    pq.write_table(images, out_dir / "images.parquet")
    pq.write_table(tags, out_dir / "tags.parquet")
    pq.write_table(vocab_t, out_dir / "vocab.parquet")
    pq.write_table(keys_t, out_dir / "keys.parquet")
    pq.write_table(problems, out_dir / "problems.parquet")
    if progress is not None:
        progress.put((part.number, n, n))
    return {"part": part.number, "n": n, "n_tags": len(t_local), "n_problems": len(problems_fp)}
