"""Escaping user text for Markdown (captions, tags, paths from links)."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from skyscript_viz.text import html_text, md_code, md_text

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "[click](javascript:alert(3))",
    "![x](http://example.invalid/x.png)",
    "**bold** _it_ `code` ``two`` # head | a | b |",
    "images2/a1_CH_19.jpg",
    "`",
    "a ` b `` c",
]


def _render(md: str) -> str:
    return MarkdownIt("commonmark").render(md)


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_renders_as_the_literal_text(text: str) -> None:
    html = _render(md_text(text))
    assert "<img" not in html and "<script" not in html and "<a " not in html and "<strong>" not in html
    assert html.strip() == f"<p>{html_text(text)}</p>".replace("&#x27;", "'").replace("&quot;", '"') or \
        html_text(text).replace("&#x27;", "'") in html


@pytest.mark.parametrize("text", HOSTILE)
def test_md_code_is_one_literal_code_span(text: str) -> None:
    html = _render(md_code(text)).strip()
    assert html.startswith("<p><code>") and html.endswith("</code></p>")
    assert html.count("<code>") == 1
    inner = html[len("<p><code>"):-len("</code></p>")]
    assert inner == html_text(text).replace("&#x27;", "'").replace("&quot;", '"')
