"""Facet counts and counts read from the grouped counts equal those scanned from the images table."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from skyscript_viz import Filters, TagExpr


def _facet_filters(idx: Any) -> list[Filters]:
    """Filters on facet fields only, each dimension alone and combined, from the index's own values."""
    every = idx.facets(Filters())
    src = [v.value for v in every["source"] if v.value is not None]
    years = sorted(v.value for v in every["year"] if v.value is not None)
    subsets = [s.slug for s in idx.subsets]
    mid = years[len(years) // 2]
    return [
        Filters(),
        Filters(sources=(src[0],)),
        Filters(sources=tuple(src[:2])),
        Filters(year_min=mid),
        Filters(year_max=mid, months=(1, 6, 7)),
        Filters(obj_types=("n",)),
        Filters(subsets=(subsets[-1],)),
        Filters(sources=(src[-1],), year_min=years[0], year_max=mid, months=(5,), obj_types=("a", "w")),
        Filters(sources=(src[0],), subsets=tuple(subsets[:2]), obj_types=("a",)),
        Filters(sources=("no such source",)),
    ]


def test_grouped_counts_equal_a_scan(index_small: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    filters = _facet_filters(index_small)
    grouped = [(index_small.facets(f), index_small.count(f)) for f in filters]
    assert any(g[1] for g in grouped) and any(not g[1] for g in grouped)
    monkeypatch.setattr(index_small, "_cube_for", lambda f: None)  # scan the images table instead
    assert [(index_small.facets(f), index_small.count(f)) for f in filters] == grouped


@pytest.mark.parametrize("needle", ["park", "Tennis Court", "a ", "zzzz"])
def test_grouped_counts_of_a_caption_search_equal_a_scan(
    index_small: Any, monkeypatch: pytest.MonkeyPatch, needle: str
) -> None:
    """A caption search with facet filters counts from grouped counts of the search's own matches."""
    filters = [replace(f, caption=needle) for f in _facet_filters(index_small)]
    grouped = [(index_small.facets(f), index_small.count(f)) for f in filters]
    assert any(g[1] for g in grouped) == (needle != "zzzz")
    monkeypatch.setattr(index_small, "_cube_for", lambda f: None)
    assert [(index_small.facets(f), index_small.count(f)) for f in filters] == grouped


def test_grouped_counts_are_not_used_with_other_filters(index_small: Any) -> None:
    """A tag (or bbox, problems...) filter counts from the images table: grouped counts lack it."""
    f = Filters(caption="park", tags=(TagExpr.parse("building"),))
    assert index_small._cube_for(f) is None and index_small._cube_for(f.without("tags")) is not None
    assert index_small.count(f) < index_small.count(f.without("caption"))


def test_threads_building_grouped_counts_at_once(demo_small: Any) -> None:
    """Sessions sharing one index build caption hits and grouped counts concurrently without errors."""
    from concurrent.futures import ThreadPoolExecutor

    from skyscript_viz import ImageIndex

    needles = ["park", "road", "school", "tennis", "river", "a b", "church", "farm"]

    def both(idx: Any, n: str) -> tuple[int, Any]:
        return idx.count(Filters(caption=n, year_min=2018)), idx.facets(Filters(caption=n))

    idx = ImageIndex.open(demo_small[0])
    try:
        with ThreadPoolExecutor(4) as pool:
            par = list(pool.map(lambda n: both(idx, n), needles))
    finally:
        idx.close()
    idx = ImageIndex.open(demo_small[0])
    try:
        assert par == [both(idx, n) for n in needles]
    finally:
        idx.close()
