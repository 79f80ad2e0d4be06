"""Caption search through the word index gives exactly the images a full substring scan gives."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_kept_caption_hits_give_the_same_images_as_the_plain_query(index_small: Any, monkeypatch: Any) -> None:
    """The per-needle caption ids kept by the index, and the plain SQL used for needles matching too many
    captions to keep, select the same images, alone and with other filters."""
    from skyscript_viz import capmatch

    needles = ["park", "a park", "tennis court", "ark,", "school", "zzzz", "e", " of a"]
    src = str(index_small._q("SELECT source FROM images LIMIT 1").fetchone()[0])

    def ids(f: Filters) -> tuple[int, list[int]]:
        res = index_small.page(f, limit=100_000)
        return index_small.count(f), sorted(int(i) for i in res.rows["id"])

    kept = {(n, s): ids(Filters(caption=n, sources=s)) for n in needles for s in ((), (src,))}
    assert any(v[0] for v in kept.values())
    fresh = capmatch.CaptionHitCache(index_small._con.cursor())
    monkeypatch.setattr(index_small, "_caption_hits", fresh)
    monkeypatch.setattr(capmatch, "MAX_ROWS_ONE", 0)  # nothing is kept: every needle takes the plain SQL
    plain = [fresh.get(n, index_small.caption_candidates(n)) for n in needles]
    assert all(h is None or h.table is None for h in plain) and plain.count(None) >= 4
    assert {(n, s): ids(Filters(caption=n, sources=s)) for n in needles for s in ((), (src,))} == kept


def test_evicted_needles_are_looked_up_again(index_small: Any, monkeypatch: Any) -> None:
    """Beyond MAX_NEEDLES the least recently used needle's table is dropped, and asking again rebuilds it."""
    from skyscript_viz import capmatch

    monkeypatch.setattr(capmatch, "MAX_NEEDLES", 2)
    cache = capmatch.CaptionHitCache(index_small._con.cursor())
    monkeypatch.setattr(index_small, "_caption_hits", cache)
    first = index_small.count(Filters(caption="park"))
    assert first > 0
    old = index_small.caption_hits("park")
    for n in ("school", "tennis", "road"):
        index_small.count(Filters(caption=n))
    tables = {r[0] for r in index_small._q("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert old is not None and old.table is not None and old.table.split(".")[-1] not in tables
    assert index_small.count(Filters(caption="park")) == first


_SPLIT_CASES = [
    "a park, a school and a tennis court",
    "park,school,,pitch",
    "  two  spaces , and , commas ,",
    "caf\u00e9 near the \u00e9cole",
    "tab\tnew\nline\r",
    "well-known (old) road's end: 12 lanes; 3.5 km",
    "UPPER case Words",
    "",
    ", ",
    ",,,",
    "a, b, a, b",
]


def _build_split(captions: list[str]) -> list[set[str]]:
    """The words the build's caption word index gets for each caption (its SQL, empty strings dropped)."""
    import duckdb

    from skyscript_viz.mergecsv import _SPLIT_WORDS_SQL

    con = duckdb.connect()
    rows = con.execute(
        f"SELECT i, list_distinct({_SPLIT_WORDS_SQL}) FROM (SELECT unnest(?::VARCHAR[]) AS lc, "
        "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i",
        [captions, captions],
    ).fetchall()
    return [{w for w in words if w} for _, words in rows]


@pytest.mark.parametrize("caption", _SPLIT_CASES)
def test_build_splits_caption_words_like_the_search(caption: str) -> None:
    """The build's fast split (at spaces, for captions of [a-z0-9], spaces and ', ') and its regular
    expression both give the words the search looks up (CAPTION_WORD_RE)."""
    from skyscript_viz.indexcore import CAPTION_WORD_RE

    assert _build_split([caption]) == [set(CAPTION_WORD_RE.findall(caption))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab1 ,,  .-\u00e9\tZ", max_size=30), min_size=1, max_size=20))
def test_build_split_property(captions: list[str]) -> None:
    from skyscript_viz.indexcore import CAPTION_WORD_RE

    assert _build_split(captions) == [set(CAPTION_WORD_RE.findall(c)) for c in captions]
