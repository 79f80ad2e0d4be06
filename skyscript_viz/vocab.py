"""Closed vocabularies shared by the URL grammar, the index, the review store and the map: sort orders,
verdicts, the deepest map zoom and what one caption word is. Pure constants, so parsing a link imports
nothing heavy."""

from __future__ import annotations

import re

__all__ = ["MAX_ZOOM", "ONE_WORD", "SORT_ORDERS", "VERDICTS"]

# the map's deepest zoom; 2 ** zoom is computed from it, so links are clamped to it
MAX_ZOOM = 22

SORT_ORDERS: dict[str, str] = {
    "id": "file path",
    "random": "random (seeded)",
    "year": "year, oldest first",
    "year_desc": "year, newest first",
    "source": "source",
    "caption_len": "caption length, shortest first",
    "caption_len_desc": "caption length, longest first",
}

VERDICTS: dict[str, str] = {
    "good": "Good",
    "bad_caption": "Bad caption",
    "bad_image": "Bad image",
    "wrong_place": "Wrong place",
    "other": "Other problem",
}

# one caption word, as the caption word index splits captions (index.CAPTION_WORD_RE, merge.CAPTION_SPLIT_SQL)
ONE_WORD = re.compile(r"[a-z0-9]+")
