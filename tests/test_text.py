"""User text reaching Markdown/HTML (skyscript_viz.text): whatever a caption, tag, file path, link value or
folder name holds, it renders as itself: no link, image, heading, code block, HTML, emoji or colour.

Rendered with a CommonMark parser (markdown-it-py, GFM-like preset) and checked against the patterns
Streamlit's Markdown applies on top (remark-emoji, its text directives, ``:material/``, math).
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from skyscript_viz.text import WORD_JOINER, html_text, md_code, md_label, md_link, md_table, md_text

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "[click](javascript:alert(3))",
    "![x](http://example.invalid/x.png)",
    "**bold** _it_ `code` ``two`` # head | a | b |",
    "images2/a1_CH_19.jpg",
    "`",
    "a ` b `` c",
    "x\r\r![b](https://evil.example/t.png)\r\r[Session expired - sign in](https://evil.example/login)",
    "a park\n=====",
    "a park\r---",
    "    indented code",
    "a\n\n    indented code after a blank line",
    "\tcode\ttab",
    ":smile: :+1: :-1: :red[alarm] :blue-background[x] :material/home: :streamlit:",
    "$x^2$ and $$y$$",
    "1. list\n- item\n> quote\n```\nfence\n```\n~~~",
    "[a]: https://evil.example\n[a]",
    "<https://evil.example> www.evil.example user@evil.example",
    "&lt;b&gt; &#60;b&#62; &amp;",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "~~gone~~ ***x*** ___y___",
    "line\\\nbreak\\",
    "",
    " ",
]

# What Streamlit's Markdown does beyond CommonMark (frontend StreamlitMarkdown + remark-emoji), run
# over the rendered text: these must never match.
_EMOJI = re.compile(r":\+1:|:-1:|:[A-Za-z0-9_-]+:")
_DIRECTIVE = re.compile(r":[a-z][a-z0-9-]*\[")
_NEEDS_EMOJI = re.compile(r":(?!material/|streamlit:)[A-Za-z0-9_+-][A-Za-z0-9_+-]*:")
_MD = MarkdownIt("gfm-like", {"linkify": False})

_hostile_text = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(list("\r\n\t :=-_*#>`~[]()!<>&|\\$+.1aZé")),
        st.text(max_size=8),
    ),
    max_size=12,
).map("".join)


class _Tags(HTMLParser):
    """The tags and the text content of rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(rendered: str) -> _Tags:
    p = _Tags()
    p.feed(rendered)
    p.close()
    return p


def _squash(s: str) -> str:
    return " ".join(s.replace(WORD_JOINER, "").replace("\x00", "\ufffd").split())


def _assert_literal(text: str, prefix: str, allowed: set[str]) -> None:
    """``prefix`` + md_text(text) renders to ``text`` itself after the prefix (up to whitespace), with no
    tag outside ``allowed``."""
    md = prefix + md_text(text)
    parsed = _parse(_MD.render(md))
    assert set(parsed.tags) <= allowed, (md, parsed.tags)
    shown = "".join(parsed.text)
    assert _squash(shown) == _squash(_parse(_MD.render(prefix)).text[0] + " " + text if prefix else text)
    assert not _EMOJI.search(shown) and not _DIRECTIVE.search(shown) and not _NEEDS_EMOJI.search(shown)
    assert ":material/" not in md
    assert not re.search(r"(?<!\\)\$", md.replace("\\\\", "")), "an unescaped $ starts Streamlit math"


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_renders_as_the_literal_text(text: str) -> None:
    _assert_literal(text, "**Caption:** ", {"p", "br", "strong"})


@given(_hostile_text)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_md_text_property(text: str) -> None:
    _assert_literal(text, "", {"p", "br"})
    _assert_literal(text, "Some link parameters were ignored: ", {"p", "br"})


@given(_hostile_text)
@settings(max_examples=100, deadline=None)
def test_md_label_is_one_literal_line(text: str) -> None:
    label = md_label(text, limit=40)
    assert "\n" not in label and "\r" not in label
    parsed = _parse(_MD.render(label))
    assert set(parsed.tags) <= {"p"}
    one_line = " ".join(re.split(r"\r\n|\r|\n", text))
    shown = _squash("".join(parsed.text))
    assert shown == _squash(one_line) or (shown.endswith("…") and _squash(one_line).startswith(shown[:-1].strip()))


def _code_inner(md: str) -> str:
    rendered = _MD.render(f"No image {md} in this dataset.").strip()
    assert rendered.count("<code>") == 1, rendered
    parsed = _parse(rendered)
    assert set(parsed.tags) == {"p", "code"}
    return html.unescape(rendered.split("<code>", 1)[1].rsplit("</code>", 1)[0])


@pytest.mark.parametrize("text", [t for t in HOSTILE if t.strip()])
def test_md_code_is_one_literal_code_span(text: str) -> None:
    assert _code_inner(md_code(text)).replace(WORD_JOINER, "") == re.sub(r"\r\n|\r|\n", " ", text)


def test_carriage_returns_cannot_end_the_code_span() -> None:
    """The link from the issue: ``?sel=x%0D%0D![b](…)%0D%0D[Session expired](…)``."""
    rendered = _MD.render(f"No image {md_code(HOSTILE[8])} in this dataset.")
    assert "<img" not in rendered and "<a " not in rendered


@given(_hostile_text.filter(lambda s: s.strip(" ") != ""))
@example(":material/home: :red[x]")  # the fuzzed link that once failed the map page's markup check
@settings(max_examples=100, deadline=None)
def test_md_code_property(text: str) -> None:
    inner = _code_inner(md_code(text)).replace(WORD_JOINER, "")
    assert _squash(inner) == _squash(text)
    # and no :color[...] directive is left for Streamlit (the pages' markup check rejects any)
    assert not _DIRECTIVE.search(md_code(text)), md_code(text)


@given(_hostile_text)
@settings(max_examples=100, deadline=None)
def test_html_text_in_an_html_block_and_in_html(text: str) -> None:
    escaped = html_text(text)
    assert _parse(f'<span title="{escaped}">{escaped}</span>').text == ([text] if text else [])
    rendered = _MD.render(f'<div style="font-size:0.8rem"><span>{escaped}</span></div>')
    assert "\n" not in rendered.strip()
    assert set(_parse(rendered).tags) == {"div", "span"}


@given(_hostile_text, _hostile_text)
@settings(max_examples=100, deadline=None)
def test_md_link_is_one_link_to_our_address(text: str, query: str) -> None:
    """A saved view's name and its stored query string: one link, to ./overview, showing the name."""
    rendered = _MD.render(md_link(text, f"./overview?{query}"))
    parsed = _parse(rendered)
    assert parsed.tags.count("a") == 1 and set(parsed.tags) <= {"p", "a", "br"}, rendered
    (href,) = re.findall(r'<a href="([^"]*)"', rendered)
    assert href.startswith("./overview?")
    assert _squash("".join(parsed.text)) == _squash(text)


# ---- the UI uses the helpers: every value in an f-string handed to Streamlit's Markdown --------------

_MARKDOWN_CALLS = {
    "markdown",
    "error",
    "warning",
    "caption",
    "toast",
    "info",
    "success",
    "expander",
    "progress",
    "write",
    "title",
    "header",
    "subheader",
}
_SAFE_CALLS = {"md_text", "md_code", "md_label", "md_link", "md_table", "html_text", "len"}
# values that are ours (numbers, page names, registry labels) or were escaped a line earlier
_KNOWN_SAFE = {
    ("data.py", "part"),
    ("remoteui.py", "part"),
    ("detail.py", "n"),
    ("filters.py", "y"),
    ("filters.py", "lo"),
    ("filters.py", "hi"),
    ("filters.py", "want[0]"),
    ("filters.py", "want[1]"),
    ("gallery.py", "year"),
    ("gallery.py", "res"),
    ("header.py", "name"),
    ("header.py", "page"),
    ("header.py", "h['sources']"),
    ("header.py", "h['years']"),
    ("mapui.py", "head"),
    ("mapui.py", "spans"),
    ("remoteui.py", "parts"),
    ("remoteui.py", "csvs"),
    ("remoteui.py", "remote.human_bytes(done)"),
    ("remoteui.py", "remote.human_bytes(total)"),
    ("review.py", "label"),
    ("detail.py", "'  \\n'.join(lines)"),
    ("urlstate.py", "more"),
    ("mapui.py", "MISSING_ASSETS_NOTICE"),
    ("review.py", "estimate_line(est)"),
}


def _raw_values(node: ast.AST) -> Iterator[str]:
    """Values reaching Markdown without a helper, a number format or being a constant: the text itself,
    what an f-string interpolates, either side of a sum, either branch of a condition, what a join joins."""
    if isinstance(node, ast.Constant) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SAFE_CALLS
    ):
        return
    if isinstance(node, ast.JoinedStr):
        for v in node.values:
            if isinstance(v, ast.FormattedValue) and v.format_spec is None:
                yield from _raw_values(v.value)
    elif isinstance(node, ast.BinOp):
        yield from _raw_values(node.left)
        yield from _raw_values(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _raw_values(node.body)
        yield from _raw_values(node.orelse)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp)
    ):
        yield from _raw_values(node.args[0].elt)
    else:
        yield ast.unparse(node)


def test_ui_routes_text_through_the_helpers() -> None:
    """A new ``st.markdown(f"... {value}")`` in the UI must escape ``value`` (or be listed above as ours)."""
    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted([*(root / "skyscript_viz" / "ui").glob("*.py"), *(root / "app_pages").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _MARKDOWN_CALLS
            ):
                texts = [] if node.func.attr == "progress" else node.args[:1]  # progress(value, text=...)
                texts += [k.value for k in node.keywords if k.arg in ("text", "label", "body")]
                found += [
                    (path.name, node.lineno, v)
                    for t in texts
                    for v in _raw_values(t)
                    if (path.name, v) not in _KNOWN_SAFE
                ]
    assert found == []


class _Cells(HTMLParser):
    """The rows of a rendered table, as the text of their cells; and every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_data(self, data: str) -> None:
        if self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


@given(st.lists(st.tuples(_hostile_text, _hostile_text), min_size=1, max_size=4))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_md_table_cells_are_literal(pairs: list[tuple[str, str]]) -> None:
    md = md_table(["key", "value"], [list(p) for p in pairs])
    p = _Cells()
    p.feed(_MD.render(md))
    assert set(p.tags) <= {"table", "thead", "tbody", "tr", "th", "td", "br"}, (md, p.tags)
    assert len(p.rows) == len(pairs) + 1, md  # nothing in a cell ends its row or starts a new one
    assert [_squash(c) for c in p.rows[0]] == ["key", "value"]
    for row, (k, v) in zip(p.rows[1:], pairs, strict=True):
        assert [_squash(c) for c in row] == [_squash(" ".join(re.split(r"\r\n|\r|\n", x))) for x in (k, v)], md
        assert not any(_EMOJI.search(c) or _DIRECTIVE.search(c) or _NEEDS_EMOJI.search(c) for c in row)


def test_md_table_keeps_our_links_in_raw_columns() -> None:
    key = "name|<b>"
    md = md_table(
        ["key", "value"], [[md_link(key, "https://wiki.openstreetmap.org/wiki/Key:name"), "x|y"]], raw=frozenset({0})
    )
    p = _Cells()
    p.feed(_MD.render(md))
    assert [c.strip() for c in p.rows[1]] == [key, "x|y"] and p.links == [
        "https://wiki.openstreetmap.org/wiki/Key:name"
    ]
