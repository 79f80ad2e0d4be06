"""Writing one part's Parquet files batch by batch, so a part of 867,000 images never sits in memory.

Images and tag rows are appended to open Parquet writers per batch; the tag vocabulary (key, value ->
id within the part) and the per-tag image counts grow across batches and are written at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["IMAGE_SCHEMA", "PartWriter", "distinct_counts"]

IMAGE_SCHEMA = pa.schema(
    [
        ("local", pa.int32()),
        ("filepath", pa.string()),
        ("part", pa.int32()),
        ("storage", pa.string()),
        ("container", pa.string()),
        ("member", pa.string()),
        ("has_image", pa.bool_()),
        ("zip_offset", pa.int64()),
        ("zip_csize", pa.int64()),
        ("zip_usize", pa.int64()),
        ("zip_method", pa.int16()),
        ("zip_crc", pa.int64()),
        ("zip_flags", pa.int32()),
        ("zip_nlen", pa.int32()),
        ("zip_xlen", pa.int32()),
        ("has_meta", pa.bool_()),
        ("obj_type", pa.string()),
        ("osm_id", pa.int64()),
        ("source", pa.string()),
        ("name_year", pa.int16()),
        ("year", pa.int16()),
        ("month", pa.int8()),
        ("day", pa.int8()),
        ("hour", pa.int8()),
        ("minute", pa.int8()),
        ("west", pa.float64()),
        ("south", pa.float64()),
        ("east", pa.float64()),
        ("north", pa.float64()),
        ("box_valid", pa.bool_()),
        ("n_surrounding", pa.int32()),
        ("n_focus_tags", pa.int32()),
        ("focus_words", pa.string()),
    ]
)
TAG_SCHEMA = pa.schema([("local", pa.int32()), ("role", pa.int8()), ("obj", pa.int32()), ("kv", pa.int32())])


def distinct_counts(
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


def _grow(acc: list[np.ndarray], add: tuple[np.ndarray, np.ndarray, np.ndarray]) -> list[np.ndarray]:
    out = []
    for a, b in zip(acc, add, strict=True):
        if len(a) < len(b):
            a = np.concatenate([a, np.zeros(len(b) - len(a), np.int64)])
        a[: len(b)] += b
        out.append(a)
    return out


class PartWriter:
    """The open Parquet files of one part, its tag vocabulary and its per-tag image counts."""

    def __init__(self, out_dir: Path, text: Callable[[Any], str]) -> None:
        self.out_dir, self.text = out_dir, text
        self.images = pq.ParquetWriter(out_dir / "images.parquet", IMAGE_SCHEMA)
        self.tags = pq.ParquetWriter(out_dir / "tags.parquet", TAG_SCHEMA)
        self.vocab: dict[tuple[Any, Any], int] = {}
        self.key_ids: dict[str, int] = {}
        self.kv_key: list[int] = []  # key id of each vocabulary entry
        self.kv_counts = [np.zeros(0, np.int64) for _ in range(3)]
        self.key_counts = [np.zeros(0, np.int64) for _ in range(3)]
        self.n_tags = 0

    def ids(self, pairs: list[tuple[Any, Any]]) -> np.ndarray:
        """Vocabulary ids of (key, value) pairs, new ids for new pairs."""
        vocab, out = self.vocab, []
        for kv in pairs:
            i = vocab.get(kv)
            if i is None:
                i = vocab[kv] = len(vocab)
                key = self.text(kv[0])
                k = self.key_ids.get(key)
                if k is None:
                    k = self.key_ids[key] = len(self.key_ids)
                self.kv_key.append(k)
            out.append(i)
        return np.asarray(out, np.int64)

    def ids_of_strings(self, keys: pa.Array, values: pa.Array) -> np.ndarray:
        """Vocabulary ids of string key/value columns: each distinct pair looked up once, with Arrow."""
        if len(keys) == 0:
            return np.zeros(0, np.int64)
        kd, vd = pc.dictionary_encode(keys), pc.dictionary_encode(values)
        nv = len(vd.dictionary)
        code = kd.indices.to_numpy().astype(np.int64) * nv + vd.indices.to_numpy().astype(np.int64)
        pairs = pa.array(code).dictionary_encode()
        uniq = pairs.dictionary.to_numpy()
        ks = kd.dictionary.take(pa.array(uniq // nv)).to_pylist()
        vs = vd.dictionary.take(pa.array(uniq % nv)).to_pylist()
        ids: np.ndarray = self.ids(list(zip(ks, vs, strict=True)))[pairs.indices.to_numpy()]
        return ids

    def add(self, images: pa.Table, local: np.ndarray, role: np.ndarray, obj: np.ndarray, kv: np.ndarray) -> None:
        """Append one batch: its image rows and its tag rows (``local`` numbered within the batch)."""
        base = int(images.column("local")[0].as_py()) if images.num_rows else 0
        self.images.write_table(images.cast(IMAGE_SCHEMA))
        self.tags.write_table(
            pa.table(
                {
                    "local": pa.array(local + base, pa.int32()),
                    "role": pa.array(role, pa.int8()),
                    "obj": pa.array(obj, pa.int32()),
                    "kv": pa.array(kv, pa.int32()),
                },
                schema=TAG_SCHEMA,
            )
        )
        self.n_tags += len(kv)
        # Images per tag and per key, on the focus / a surrounding object / either: batches (and parts)
        # hold disjoint images, so these add up instead of counting distinct images over every tag row.
        self.kv_counts = _grow(self.kv_counts, distinct_counts(kv, role, local, len(self.vocab)))
        key_of = np.asarray(self.kv_key, np.int64)[kv] if len(kv) else np.zeros(0, np.int64)
        self.key_counts = _grow(self.key_counts, distinct_counts(key_of, role, local, len(self.key_ids)))

    def close(self, problems: tuple[list[str], list[str], list[str]]) -> None:
        """Write the vocabulary, key counts and problems, and close the files."""
        self.images.close()
        self.tags.close()
        pairs = list(self.vocab)
        kvc = _grow([np.zeros(len(pairs), np.int64) for _ in range(3)], tuple(self.kv_counts))  # type: ignore[arg-type]
        pq.write_table(
            pa.table(
                {
                    "kv": pa.array(range(len(pairs)), pa.int32()),
                    "key": pa.array([self.text(k) for k, _ in pairs], pa.string()),
                    "value": pa.array([self.text(v) for _, v in pairs], pa.string()),
                    "n_focus": kvc[0],
                    "n_surrounding": kvc[1],
                    "n_images": kvc[2],
                }
            ),
            self.out_dir / "vocab.parquet",
        )
        # non-text keys (numbers) become text here: their counts merge with the equal text key's
        names = list(self.key_ids)
        kc = _grow([np.zeros(len(names), np.int64) for _ in range(3)], tuple(self.key_counts))  # type: ignore[arg-type]
        keys_t = pa.table(
            {"key": pa.array(names, pa.string()), "n_focus": kc[0], "n_surrounding": kc[1], "n_images": kc[2]}
        )
        pq.write_table(keys_t, self.out_dir / "keys.parquet")
        fp, kind, detail = problems
        pq.write_table(
            pa.table(
                {
                    "filepath": pa.array(fp, pa.string()),
                    "kind": pa.array(kind, pa.string()),
                    "detail": pa.array(detail, pa.string()),
                }
            ),
            self.out_dir / "problems.parquet",
        )
