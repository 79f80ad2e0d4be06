"""skyscript_viz.report: one self-contained HTML file per filter (and its CLI)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import Filters, TagExpr
from skyscript_viz.cli import main
from skyscript_viz.quality import CHECKS
from skyscript_viz.report import MAX_REPORT_BYTES, THUMBS_PER_SOURCE, build_report, describe_filters

HOSTILE = "<img src=x onerror=alert(1)>"


class _Refs(HTMLParser):
    """Every tag, and every URL the document would load (src, href, url() in styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(doc: str) -> _Refs:
    p = _Refs()
    p.feed(doc)
    return p


@pytest.fixture(scope="module")
def report_all(index_small: Any) -> str:
    return build_report(index_small, Filters())


def test_report_is_self_contained(report_all: str) -> None:
    refs = parse(report_all)
    loads = [a.get("src") or a.get("href") for t, a in refs.tags if t in ("img", "script", "link", "iframe")]
    assert loads and all(u and u.startswith("data:image/") for u in loads), [u[:40] for u in loads if u]
    assert not [t for t, _ in refs.tags if t in ("script", "link", "iframe")]
    assert not re.search(r"url\(|@import", report_all)
    assert len(report_all.encode()) < MAX_REPORT_BYTES


def test_report_has_every_section(report_all: str, index_small: Any) -> None:
    assert f'<div class="num">{index_small.count(Filters()):,}</div>' in report_all
    for section in ("headline", "coverage", "charts", "samples", "problems"):
        assert f'<section id="{section}">' in report_all
    charts = re.findall(r'<figure class="chart"><figcaption>([^<]+)', report_all)
    assert {
        "Images by source and year",
        "Top tag keys: focus object",
        "Top tag keys: surrounding objects",
        "Object types",
    } <= set(charts), charts
    assert "<h3>Coverage: source · year × top focus tag keys</h3>" in report_all
    assert report_all.count('<figure class="thumb">') >= 2 * THUMBS_PER_SOURCE
    counts = index_small.problem_counts()
    titles = {k: html.escape(CHECKS.get(k, (k.replace("_", " ").capitalize(),))[0]) for k in counts}
    assert counts and [k for k, t in titles.items() if f"<b>{t}</b>" not in report_all] == []
    assert "none (all images)" in report_all


def test_report_of_a_filter_names_it_and_escapes_user_text(index_small: Any) -> None:
    f = Filters(sources=("FI",), tags=(TagExpr("name", HOSTILE, "focus"),))
    doc = build_report(index_small, f)
    assert HOSTILE not in doc and "&lt;img src=x onerror=alert(1)&gt;" in doc
    assert "src=FI" in describe_filters(f)
    assert not [t for t, _ in parse(doc).tags if t == "script"]


def test_report_of_no_matches_still_opens(index_small: Any) -> None:
    doc = build_report(index_small, Filters(year_min=1900, year_max=1901))
    assert '<div class="num">0</div>' in doc and "No images match." in doc


def test_cli_report(tmp_path: Path, index_small: Any, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(index_small.root), "--filter", "src=FI", "-o", str(out)]) == 0
    doc = out.read_text(encoding="utf-8")
    assert "src=FI" in doc and "report ->" in capsys.readouterr().out
    assert main(["report", str(index_small.root), "--filter", "y=abc", "-o", str(out)]) == 2
    assert "error:" in capsys.readouterr().err
