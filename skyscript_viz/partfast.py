"""The columns of a batch of meta dicts computed with Arrow and NumPy instead of per image in Python.

:func:`fast_columns` handles a batch whose values have the types SkyScript writes (checked once per
batch with C-level ``set(map(type, ...))``): times of ints, boxes of numbers, tags as dicts of strings.
Anything else makes it return None and the caller reads that batch with the per-image reader, which
explains every odd value. Rows that convert but fail a check (a month 13, a box outside the world) are
found here with vectorised tests; only those rows get a Python-written problem text.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["META_TYPE", "BatchTags", "fast_columns", "focus_words_of"]

_TAGS = pa.map_(pa.string(), pa.string())
META_TYPE = pa.struct(
    [
        ("time", pa.list_(pa.int64())),
        ("box", pa.list_(pa.float64())),
        ("center_tags", _TAGS),
        ("surrounding_tags", pa.list_(_TAGS)),
    ]
)
_TIME_RANGES = ((1, 9999), (1, 12), (1, 31), (0, 23), (0, 59))  # same as partread._TIME_RANGES
_NONE = type(None)

BatchTags = tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]  # local, role, obj, keys, values


def _types(values: Any) -> set[type]:
    return set(map(type, values))


def _plain_types(metas: list[dict[str, Any]]) -> bool:
    """Whether every field has the type SkyScript writes (so Arrow converts exactly what the per-image
    reader would accept); one C-level pass per field, no Python code per value."""
    get = dict.get
    times = [t for t in map(get, metas, ("time",) * len(metas)) if t is not None]
    boxes = [b for b in map(get, metas, ("box",) * len(metas)) if b is not None]
    centers = list(map(get, metas, ("center_tags",) * len(metas)))
    surrs = [s for s in map(get, metas, ("surrounding_tags",) * len(metas)) if s is not None]
    return (
        _types(times) <= {tuple, list}
        and _types(chain.from_iterable(times)) <= {int}
        and _types(boxes) <= {tuple, list}
        and _types(chain.from_iterable(boxes)) <= {int, float}
        and _types(centers) <= {dict, _NONE}
        and _types(surrs) <= {list}
        and _types(chain.from_iterable(surrs)) <= {dict}
    )


def _np(a: pa.Array, fill: Any = 0) -> np.ndarray:
    return np.asarray(a.fill_null(fill).to_numpy(zero_copy_only=False))


def _lens(a: pa.Array) -> np.ndarray:
    """Entries of each list or map (0 for a null)."""
    lens = np.diff(np.asarray(a.offsets.to_numpy(zero_copy_only=False), np.int64))
    return np.where(a.is_valid().to_numpy(zero_copy_only=False), lens, 0) if a.null_count else lens


def _time_columns(
    tl: pa.ListArray, has_meta: np.ndarray, name_year: np.ndarray, name_ok: np.ndarray
) -> tuple[dict[str, pa.Array], np.ndarray, np.ndarray]:
    """year..minute columns, rows whose time is invalid, rows whose year disagrees with the name."""
    n = len(tl)
    lens = _lens(tl)
    starts = _np(tl.offsets)[:-1].astype(np.int64)
    vals = np.asarray(tl.values.to_numpy(zero_copy_only=False), np.int64) if len(tl.values) else np.zeros(1, np.int64)
    ok = has_meta & tl.is_valid().to_numpy(zero_copy_only=False) & (lens > 0)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for p, (lo, hi) in enumerate(_TIME_RANGES):
        has = lens > p
        v = np.where(has, vals[np.where(has, starts + p, 0)], 0)
        ok &= ~has | ((v >= lo) & (v <= hi))
        parts.append((v, has))
    cols: dict[str, pa.Array] = {}
    for (name, typ), (v, has) in zip(
        (("year", pa.int16()), ("month", pa.int8()), ("day", pa.int8()), ("hour", pa.int8()), ("minute", pa.int8())),
        parts,
        strict=True,
    ):
        valid = ok & has
        if name == "year":  # no valid time: the year of the file name
            v = np.where(ok, v, name_year)
            valid = ok | name_ok
        cols[name] = pa.array(v, typ, mask=~valid)
    bad_time = has_meta & ~ok
    mismatch = ok & name_ok & (parts[0][0] != name_year)
    return cols, bad_time, mismatch if n else np.zeros(0, bool)


def _box_columns(bl: pa.ListArray, has_meta: np.ndarray) -> tuple[dict[str, pa.Array], np.ndarray, np.ndarray]:
    """west..north and box_valid; rows without 4 numbers, rows whose 4 numbers are no footprint."""
    lens = _lens(bl)
    four = has_meta & bl.is_valid().to_numpy(zero_copy_only=False) & (lens == 4)
    starts = _np(bl.offsets)[:-1].astype(np.int64)
    vals = np.asarray(bl.values.to_numpy(zero_copy_only=False), np.float64) if len(bl.values) else np.zeros(4)
    w, s, e, nn = (np.where(four, vals[np.where(four, starts + k, 0)], 0.0) for k in range(4))
    with np.errstate(invalid="ignore"):
        valid = (
            four
            & np.isfinite(w)
            & np.isfinite(s)
            & np.isfinite(e)
            & np.isfinite(nn)
            & (w >= -180.0)
            & (w < e)
            & (e <= 180.0)
            & (s >= -90.0)
            & (s < nn)
            & (nn <= 90.0)
            & (e - w < 10.0)
            & (nn - s < 10.0)
        )
    cols = {
        k: pa.array(v, pa.float64(), mask=~four)
        for k, v in zip(("west", "south", "east", "north"), (w, s, e, nn), strict=True)
    }
    cols["box_valid"] = pa.array(valid, pa.bool_())
    return cols, has_meta & ~four, four & ~valid


def _tags(ct: pa.MapArray, st: pa.ListArray, n: int) -> BatchTags:
    """One row per tag: image (in the batch), role (0 focus, 1 surrounding), object number, key, value."""
    c_lens = _lens(ct)
    s_lens = _lens(st)
    objs = st.values
    o_lens = _lens(objs)
    o_img = np.repeat(np.arange(n, dtype=np.int64), s_lens)
    o_starts = np.repeat(_np(st.offsets)[:-1].astype(np.int64), s_lens)
    o_num = np.arange(len(objs), dtype=np.int64) - o_starts + 1
    local = np.concatenate([np.repeat(np.arange(n, dtype=np.int64), c_lens), np.repeat(o_img, o_lens)])
    obj = np.concatenate([np.zeros(int(c_lens.sum()), np.int64), np.repeat(o_num, o_lens)])
    role = (obj > 0).astype(np.int64)
    keys = pa.concat_arrays([ct.keys, objs.keys]) if len(objs) else ct.keys
    values = pa.concat_arrays([ct.items, objs.items]) if len(objs) else ct.items
    return local, role, obj, keys, values


def fast_columns(
    metas: list[Any], name_year: np.ndarray, name_ok: np.ndarray
) -> tuple[dict[str, pa.Array], dict[str, np.ndarray], BatchTags] | None:
    """Columns of a batch (None entries: images without a readable meta), the rows each check flags,
    and the tag rows; None when the batch holds a value of an unusual type."""
    present = [m for m in metas if m is not None]
    if not _plain_types(present):
        return None
    try:
        arr = pa.array(metas, type=META_TYPE)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return None
    n = len(metas)
    has_meta = arr.is_valid().to_numpy(zero_copy_only=False)
    tcols, bad_time, mismatch = _time_columns(arr.field("time"), has_meta, name_year, name_ok)
    bcols, bad_box, bad_footprint = _box_columns(arr.field("box"), has_meta)
    ct, st = arr.field("center_tags"), arr.field("surrounding_tags")
    cols = {
        **tcols,
        **bcols,
        "n_surrounding": pa.array(_lens(st), pa.int32()),
        "n_focus_tags": pa.array(_lens(ct), pa.int32()),
    }
    flags = {"bad_time": bad_time, "mismatch": mismatch, "bad_box": bad_box, "bad_footprint": bad_footprint}
    return cols, flags, _tags(ct, st, n)


def focus_words_of(local: np.ndarray, kv: np.ndarray, words: Callable[[int], str], n: int) -> pa.Array:
    """Per image, the sorted distinct words of its focus tags (``words(kv)`` gives one tag's), joined by
    spaces: sort and de-duplicate (image, word) pairs with Arrow instead of a set per image."""
    if len(kv) == 0:
        return pa.array([""] * n, pa.string())
    enc = pa.array(kv).dictionary_encode()
    per_kv = pa.array([words(int(k)).split() for k in enc.dictionary.to_pylist()], pa.list_(pa.string()))
    per_row = per_kv.take(enc.indices)
    img = np.repeat(local, _lens(per_row))
    t = pa.table({"i": img, "w": pc.list_flatten(per_row)})
    t = t.take(pc.sort_indices(t, [("i", "ascending"), ("w", "ascending")]))
    i = t["i"].to_numpy()
    w = t["w"].combine_chunks()
    keep = np.ones(len(i), bool)
    if len(i) > 1:
        keep[1:] = (i[1:] != i[:-1]) | pc.not_equal(w[1:], w[:-1]).to_numpy(zero_copy_only=False)
    i, w = i[keep], w.filter(pa.array(keep))
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(i, minlength=n), out=offsets[1:])
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), w), " ")
