"""Audits: a seeded sample of the images matching some filters, and the error rate its verdicts give.

Owns an audit's stable id, its sample (plain: seeded random; stratified: up to ``size`` per source and
year, with each stratum's population) and the estimate from the verdicts given in it (a Wilson interval,
or the population-weighted stratified estimate of skyscript_viz.reviews). The audit page only draws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

import pandas as pd

from .query import Filters
from .reviews import Estimate, stratified_estimate, wilson_interval
from .state import filters_to_params

if TYPE_CHECKING:
    from .index import ImageIndex

__all__ = ["MODES", "Audit", "audit_id", "draw_sample", "estimate", "resume_at"]

MODES = ("plain", "stratified")
_SAMPLE_COLUMNS = ["id", "filepath", "source", "year"]


class Audit(TypedDict):
    """A running audit: what was sampled and how far the reviewer got (kept in the page's session)."""

    id: str
    mode: str
    rows: list[dict[str, Any]]  # id, filepath, source, year of each sampled image
    population: list[dict[str, Any]] | None  # images per source and year (stratified design only)
    pos: int  # the sample row being judged


def audit_id(f: Filters, mode: str, size: int, seed: int) -> str:
    """A stable name for an audit: same filters, design and seed give the same sample and id."""
    text = repr(sorted(filters_to_params(f).items())) + f"|{mode}|{size}|{seed}"
    return f"audit-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


def draw_sample(index: ImageIndex, f: Filters, mode: str, size: int, seed: int) -> Audit:
    """Draw (or redraw: it is deterministic) the sample of an audit, positioned at its first image."""
    if mode not in MODES:
        raise ValueError(f"audit design {mode!r}: use one of {', '.join(MODES)}")
    if mode == "plain":
        rows, pop = index.sample(f, size, seed=seed), None
    else:
        rows, pop_df = index.stratified_sample(f, size, seed=seed)
        pop = pop_df.to_dict("records")
    keep = rows[_SAMPLE_COLUMNS].to_dict("records")
    return {"id": audit_id(f, mode, size, seed), "mode": mode, "rows": keep, "population": pop, "pos": 0}


def resume_at(rows: list[dict[str, Any]], judged: Iterable[str]) -> int:
    """Where a reviewer picks an audit up again: its first image without a verdict (the end if none)."""
    done = set(judged)
    return next((i for i, r in enumerate(rows) if r["filepath"] not in done), len(rows))


def estimate(audit: Audit, verdicts: pd.DataFrame) -> Estimate:
    """Error rate (a verdict other than good) over the audit's sample, with a 95 % interval.

    ``verdicts`` holds the audit's verdicts (``filepath``, ``verdict``), oldest first: the last one given
    on an image counts; verdicts on images outside the sample do not.
    """
    if not audit["rows"]:  # nothing matched the filters: an empty sample has no columns to merge on
        return stratified_estimate([])
    sample = pd.DataFrame(audit["rows"])
    judged = verdicts.drop_duplicates("filepath", keep="last")[["filepath", "verdict"]]
    merged = sample.merge(judged, on="filepath", how="inner")
    if audit["mode"] == "plain":
        n, e = len(merged), int((merged["verdict"] != "good").sum())
        lo, hi = wilson_interval(e, n)
        return Estimate(e / n if n else 0.0, lo, hi, n, e, "Wilson score interval, 95 %")
    pop = pd.DataFrame(audit["population"])
    judged_by = (
        merged.assign(bad=merged["verdict"] != "good")
        .groupby(["source", "year"], dropna=False)["bad"]
        .agg(["size", "sum"])
        .reset_index()
    )
    # a merge matches missing keys with missing keys: images without a source or year (a bad file
    # name) form their own stratum instead of silently dropping out (NaN == NaN is False)
    both = judged_by.merge(pop, on=["source", "year"], how="left")
    strata = [
        (int(N) if pd.notna(N) else 0, int(n), int(e))
        for N, n, e in zip(both["population"], both["size"], both["sum"], strict=True)
    ]
    return stratified_estimate(strata)
