"""The only way user text (OSM tags, captions, file paths, links, reviewer text, folder names) reaches
Markdown or HTML.

Streamlit renders Markdown with CommonMark + GFM and then its own extras: ``:shortcode:`` emoji
(remark-emoji runs on the *unescaped* text, so a backslash does not stop it), ``:red[...]``-style
directives, ``:material/icon:`` and ``$math$``. The helpers below make any string render as itself:

* :func:`md_text`: prose (captions, tags, notices): every Markdown character backslash-escaped,
  every line ending (``\\n``, ``\\r\\n`` *and* ``\\r``) a hard break, no leading indentation (no code
  blocks), and a word joiner (U+2060, invisible) after a colon that starts a word, so no emoji shortcode
  or directive can form;
* :func:`md_code`: one inline code span (file paths, ids), on one line whatever it contains;
* :func:`md_link`: a link with literal text to an address of ours (the address percent-encoded, so
  stored text cannot close it);
* :func:`md_label`: widget labels (``st.expander``, buttons): :func:`md_text` on one shortened line;
* :func:`md_table`: a GFM table of literal cells (each :func:`md_text` on one line, ``|`` escaped);
* :func:`html_text`: HTML element content and attribute values, with all punctuation and line endings
  as numeric entities, so it also stays inert inside an HTML block (``<div>…</div>`` on one line)
  handed to ``st.markdown(..., unsafe_allow_html=True)``.

tests/test_text.py checks these against a CommonMark parser and Streamlit's own patterns with
hypothesis-generated hostile strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

__all__ = ["html_text", "md_code", "md_label", "md_link", "md_table", "md_text"]

# Markdown's active characters, plus "=" (setext headings) and "@" (GFM e-mail autolinks); the rest of
# ASCII punctuation starts nothing once these are escaped
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=@])")
_LINES = re.compile(r"\r\n|\r|\n")  # CommonMark's three line endings
_SHORTCODE = re.compile(r":(?=[\w+-])")  # the start of :smile:, :+1:, :red[...], :material/x:
WORD_JOINER = "\u2060"
# in a code span only Streamlit's own syntax is live: :material/icon: and :color[...] directives
_CODE_LIVE = re.compile(r":(?=material/|[a-z][a-z0-9-]*\[)")
_URL_SAFE = "/:?&=%#+,;@!$*~.-_"  # kept as they are in a link address; anything else is percent-encoded
# every ASCII punctuation character and line ending as a numeric entity: the same text in HTML, and
# nothing Markdown (or Streamlit's :directives:) could act on when the HTML goes through st.markdown
_HTML_ENTITIES = {c: f"&#{c};" for c in [*range(33, 48), *range(58, 65), *range(91, 97), *range(123, 127), 10, 13]}


def _str(text: object) -> str:
    return "" if text is None else str(text)


def md_text(text: object) -> str:
    """``text`` as literal Markdown prose: shows exactly its characters, line breaks kept."""
    s = _SHORTCODE.sub(":" + WORD_JOINER, _str(text))
    return "  \n".join(_PUNCT.sub(r"\\\1", line.strip(" \t")) for line in _LINES.split(s))


def md_label(text: object, *, limit: int = 120) -> str:
    """``text`` for a widget label (expander, button): literal, on one line, at most ``limit`` characters."""
    s = " ".join(_LINES.split(_str(text)))
    return md_text(s if len(s) <= limit else s[: limit - 1] + "…")


def md_table(header: Sequence[str], rows: Iterable[Sequence[object]], *, raw: frozenset[int] = frozenset()) -> str:
    """A GFM table: every cell literal text on one line (``|`` is escaped by :func:`md_text`); columns
    listed in ``raw`` hold Markdown built by us (an :func:`md_link`) and are kept, on one line.

    Streamlit shows it with the Markdown it already has on the page; ``st.table`` would make the browser
    load its Arrow formatting scripts (~0.9 MB) for a dozen tags.
    """

    def cell(i: int, v: object) -> str:
        one = " ".join(_LINES.split(_str(v)))
        return one if i in raw else (md_text(one) or " ")

    head = "| " + " | ".join(md_text(h) for h in header) + " |"
    sep = "|" + "---|" * len(header)
    body = ["| " + " | ".join(cell(i, v) for i, v in enumerate(r)) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def md_link(text: object, url: str) -> str:
    """A Markdown link showing ``text`` literally on one line; ``url`` (built by us, e.g. ``./overview?…``) percent-encoded
    where Markdown could end it (spaces, brackets, parentheses, angle brackets, quotes, backslashes)."""
    return f"[{md_text(' '.join(_LINES.split(_str(text))))}]({quote(url, safe=_URL_SAFE)})"


def md_code(text: object) -> str:
    """``text`` as one Markdown code span: shown literally on one line (file paths, ids, commands)."""
    s = _CODE_LIVE.sub(":" + WORD_JOINER, _LINES.sub(" ", _str(text)))
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or (s.startswith(" ") and s.endswith(" ")) else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def html_text(text: object) -> str:
    """``text`` escaped for HTML content and attribute values (and inert as Markdown too)."""
    return _str(text).translate(_HTML_ENTITIES)
