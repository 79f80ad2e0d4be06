"""Audits (skyscript_viz.audit): a deterministic sample and the error rate its verdicts give."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from skyscript_viz import Filters
from skyscript_viz.audit import Audit, audit_id, draw_sample, estimate, resume_at
from skyscript_viz.reviews import wilson_interval


def _verdicts(*pairs: tuple[str, str]) -> pd.DataFrame:
    """Verdicts of one audit, oldest first, as the review store's ``current(audit=...)`` gives them."""
    return pd.DataFrame(pairs, columns=["filepath", "verdict"])


def test_the_id_names_filters_design_size_and_seed() -> None:
    f = Filters(sources=("naip",))
    assert audit_id(f, "plain", 10, 1) == audit_id(Filters(sources=("naip",)), "plain", 10, 1)
    others = {audit_id(f, "plain", 10, 2), audit_id(f, "stratified", 10, 1), audit_id(f, "plain", 11, 1)}
    assert audit_id(f, "plain", 10, 1) not in others and len(others) == 3
    assert audit_id(Filters(), "plain", 10, 1) != audit_id(f, "plain", 10, 1)


def test_a_sample_is_the_same_every_time(index_small: Any) -> None:
    a = draw_sample(index_small, Filters(), "plain", 7, 3)
    assert a == draw_sample(index_small, Filters(), "plain", 7, 3)
    assert len(a["rows"]) == 7 and a["population"] is None and a["pos"] == 0
    assert set(a["rows"][0]) == {"id", "filepath", "source", "year"}
    assert a["rows"] != draw_sample(index_small, Filters(), "plain", 7, 4)["rows"]
    with pytest.raises(ValueError, match="audit design"):
        draw_sample(index_small, Filters(), "cluster", 7, 3)


def test_a_stratified_sample_takes_k_per_source_and_year(index_small: Any) -> None:
    a = draw_sample(index_small, Filters(), "stratified", 2, 5)
    rows = pd.DataFrame(a["rows"])
    assert rows.groupby(["source", "year"], dropna=False).size().max() <= 2
    assert a["population"] is not None
    assert sum(p["population"] for p in a["population"]) == index_small.count(Filters())


def test_an_audit_resumes_at_its_first_image_without_a_verdict() -> None:
    rows = [{"filepath": p} for p in ("a", "b", "c")]
    assert resume_at(rows, []) == 0
    assert resume_at(rows, ["a", "c"]) == 1
    assert resume_at(rows, ["a", "b", "c", "elsewhere"]) == 3


def test_plain_estimate_counts_the_last_verdict_on_each_sampled_image() -> None:
    audit: Audit = {
        "id": "audit-x",
        "mode": "plain",
        "rows": [{"id": i, "filepath": p, "source": "naip", "year": 2020} for i, p in enumerate("abcd")],
        "population": None,
        "pos": 0,
    }
    assert estimate(audit, _verdicts()).n == 0
    # b judged bad, then good: good counts; an image outside the sample does not count
    est = estimate(audit, _verdicts(("a", "bad_image"), ("b", "bad_caption"), ("b", "good"), ("zz", "bad_image")))
    lo, hi = wilson_interval(1, 2)
    assert (est.n, est.errors, est.rate, est.low, est.high) == (2, 1, 0.5, lo, hi)


def test_an_empty_sample_has_no_estimate() -> None:
    audit: Audit = {"id": "audit-x", "mode": "stratified", "rows": [], "population": [], "pos": 0}
    assert estimate(audit, _verdicts(("a", "bad_image"))).n == 0


def test_stratified_estimate_counts_images_without_source_or_year(index_small: Any) -> None:
    """Every judged image counts, also those whose source or year is unknown (a bad file name)."""
    f = Filters(problems=("any",))
    audit = draw_sample(index_small, f, "stratified", 2, 5)
    rows = audit["rows"]
    assert any(pd.isna(r["source"]) for r in rows), "the sample should hold images without a source"
    kinds = ["good", "bad_image"]
    judged = [(r["source"], r["year"], kinds[i % 2] != "good") for i, r in enumerate(rows)]
    est = estimate(audit, _verdicts(*((r["filepath"], kinds[i % 2]) for i, r in enumerate(rows))))
    assert est.n == len(rows) and est.errors == sum(bad for _, _, bad in judged)
    # the rate by hand: population-weighted stratum rates (unknown source / year is a stratum too)
    key = lambda s, y: (None if pd.isna(s) else s, None if pd.isna(y) else int(y))  # noqa: E731
    sizes = {key(p["source"], p["year"]): int(p["population"]) for p in audit["population"] or []}
    strata: dict[Any, list[bool]] = {}
    for s, y, bad in judged:
        strata.setdefault(key(s, y), []).append(bad)
    total = sum(sizes[k] for k in strata)
    assert est.rate == pytest.approx(sum(sizes[k] / total * sum(v) / len(v) for k, v in strata.items()))
