"""The caption word index (word -> caption ids) computed with Arrow and NumPy, not SQL.

As SQL (split every distinct caption, unnest, sort ~17M word rows by text) it cost the merge ~30 of its
187 CPU-seconds at 5.2M images; here each word text is sorted once and the rows are sorted as integers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["word_tables"]

_PLAIN_NOT = "[^a-z0-9 ,]"  # a caption without these characters splits at spaces and commas alone


def _split(cap_id: pa.Array, lc: pa.Array, kind: int, pattern: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Words of each caption (split at ``pattern``), with their caption id and kind."""
    odd = pc.match_substring_regex(lc, _PLAIN_NOT).to_numpy(zero_copy_only=False)
    all_ids = cap_id.to_numpy(zero_copy_only=False).astype(np.int64)
    words, ids = [], []
    for sel, plain in ((~odd, True), (odd, False)):
        if not sel.any():
            continue
        text = lc.filter(pa.array(sel))
        # the usual caption (letters, digits, spaces, commas) splits at single characters: no regexp
        lists = (
            pc.split_pattern(pc.replace_substring(text, ",", " "), " ")
            if plain
            else pc.split_pattern_regex(text, pattern)
        )
        words.append(pc.list_flatten(lists))
        ids.append(all_ids[sel][pc.list_parent_indices(lists).to_numpy()])
    if not words:
        return pa.array([], pa.string()), np.zeros(0, np.int64), np.zeros(0, np.int64)
    id_arr = np.concatenate(ids)
    return pa.concat_arrays(words), id_arr, np.full(len(id_arr), kind, np.int64)


def word_tables(titles: pa.Table, multis: pa.Table, pattern: str) -> tuple[pa.Table, pa.Table]:
    """``caption_words`` (word, kind, cap_id: distinct, sorted) and ``caption_vocab`` (word, n: sorted)
    from the (cap_id, lc) rows of the two caption dictionaries (kind 0: titles, 1: multi-object)."""
    split = [
        _split(t.column("cap_id").combine_chunks(), t.column("lc").combine_chunks(), k, pattern)
        for k, t in ((0, titles), (1, multis))
    ]
    words = pa.concat_arrays([s[0] for s in split]).cast(pa.string())
    ids = np.concatenate([s[1] for s in split])
    kinds = np.concatenate([s[2] for s in split])
    keep = pc.not_equal(words, "").to_numpy(zero_copy_only=False)
    enc = pc.dictionary_encode(words.filter(pa.array(keep)))
    order = pc.sort_indices(enc.dictionary).to_numpy()
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    # one int64 per row: word rank, kind, caption id; sorted, then a word's repeats in a caption dropped
    # (sort + neighbour mask: np.unique hashes, ~7x slower here)
    key = (rank[enc.indices.to_numpy()] << 33) | (kinds[keep] << 32) | ids[keep]
    del ids, kinds, keep
    key.sort()
    key = key[np.concatenate(([True], key[1:] != key[:-1]))] if len(key) else key
    sorted_words = enc.dictionary.take(pa.array(order))
    word_of = key >> 33
    caption_words = pa.table(
        {
            "word": sorted_words.take(pa.array(word_of)),
            "kind": pa.array(((key >> 32) & 1).astype(np.int8)),
            "cap_id": pa.array((key & 0xFFFFFFFF).astype(np.int32)),
        }
    )
    vocab = pa.table({"word": sorted_words, "n": pa.array(np.bincount(word_of, minlength=len(order)).astype(np.int32))})
    return caption_words, vocab
