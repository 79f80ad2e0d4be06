"""Showing user-written text (OSM tags, captions) safely in Markdown and HTML."""

from __future__ import annotations

import html
import re

__all__ = ["html_text", "md_code", "md_text"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md_text(text: object) -> str:
    """``text`` as literal Markdown: every Markdown/HTML character backslash-escaped, newlines kept."""
    s = "" if text is None else str(text)
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\n", "  \n")


def html_text(text: object) -> str:
    """``text`` escaped for HTML element content and attribute values."""
    return html.escape("" if text is None else str(text), quote=True)


def md_code(text: object) -> str:
    """``text`` as a Markdown code span: shown literally, whatever it contains (file paths, ids)."""
    s = ("" if text is None else str(text)).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"
