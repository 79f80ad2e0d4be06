"""Caption search through the word index gives exactly the images a full substring scan gives."""

from __future__ import annotations

import random
from typing import Any

import pytest

from skyscript_viz import Filters


def _ids(idx: Any, needle: str, *, words: bool) -> list[int]:
    saved = idx._caption_words
    idx._caption_words = words
    idx._candidates.clear()
    try:
        res = idx.page(Filters(caption=needle), limit=100_000)
        return sorted(int(i) for i in res.rows["id"])
    finally:
        idx._caption_words = saved
        idx._candidates.clear()


def _needles(idx: Any, n: int = 150) -> list[str]:
    """Whole words, partial words and phrases cut at random from the index's own captions."""
    caps = [
        str(t)
        for t in idx._q("SELECT text FROM caption_multis UNION ALL SELECT text FROM caption_titles").fetchnumpy()[
            "text"
        ]
    ]
    rng = random.Random(5)
    out = ["park", "a park", "Park", "ark", "tennis court", " of a", "-", "school,", "zzzz", "e", "caf\u00e9"]
    for _ in range(n):
        c = rng.choice(caps)
        a = rng.randrange(len(c))
        out.append(c[a : a + rng.randint(1, 25)])
    return out


def test_word_index_exists_and_is_used(index_small: Any) -> None:
    assert index_small._caption_words
    words = index_small.caption_candidates("a park with")
    assert words is not None and "park" in words and len(words) < 50


@pytest.mark.parametrize("chunk", range(3))
def test_same_results_as_scanning(index_small: Any, chunk: int) -> None:
    needles = _needles(index_small)[chunk::3]
    for needle in needles:
        if not needle.strip():
            continue
        assert _ids(index_small, needle, words=True) == _ids(index_small, needle, words=False), repr(needle)


def test_candidates_follow_the_needle_edges(index_small: Any) -> None:
    """A separator after the word: caption words ending with it; before it: starting with it."""
    ending, starting, inner = (index_small.caption_candidates(n) for n in ("ark,", "-par", "(park)"))
    whole = index_small.caption_candidates("ark")
    assert ending and all(w.endswith("ark") for w in ending)
    assert starting and all(w.startswith("par") for w in starting)
    assert inner == ["park"]
    assert whole is not None and set(ending) <= set(whole) and "park" in whole
