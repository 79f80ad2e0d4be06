"""Caption ids matching a caption search, resolved once per needle and kept for the index's lifetime.

Resolving a needle to the distinct captions holding it is the costly half of a caption search at 5.2M
images (the substring test over the candidate captions: ~150 ms for "swimming pool"), and one app rerun
asks it several times (count, page, facets, map). The ids of matching multi-object captions go into
one small table per needle in an in-memory database attached to the index's connection (visible to
every cursor), the few title caption ids into a tuple; the filter then semi-joins images on them.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import duckdb

from .vocab import ONE_WORD

__all__ = ["CaptionHitCache", "CaptionHits", "attach_memory"]

SCHEMA = "skyscript_caption_hits"
MAX_NEEDLES = 32
MAX_ROWS = 4_000_000  # cached multi caption ids in all, ~16 MB per million
MAX_ROWS_ONE = 1_500_000  # a needle matching more captions is not cached (the scan is as fast)
_NAMES = itertools.count()  # table names, unique in the process: indexes of one file share a database


@dataclass(frozen=True, slots=True)
class CaptionHits:
    """The caption ids holding one needle: title ids inline, multi-object ids in ``table``."""

    title_ids: tuple[int, ...]
    table: str | None  # None: no multi-object caption holds the needle
    n_multi: int


class CaptionHitCache:
    """Per-needle caption hits of one read-only index, least recently used evicted first."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con  # a cursor of its own: lookups run under this cache's lock, not the index's
        self._lock = threading.Lock()
        self._hits: OrderedDict[tuple[str, tuple[str, ...] | None], CaptionHits | None] = OrderedDict()
        self._rows = 0

    def get(self, needle: str, words: list[str] | None) -> CaptionHits | None:
        """Hits of ``needle`` (lower-case) found through candidate ``words`` (None: every caption
        scanned); None when too many captions hold it to be worth keeping."""
        key = (needle, None if words is None else tuple(words))
        with self._lock:
            if key in self._hits:
                self._hits.move_to_end(key)
                return self._hits[key]
            hits = self._resolve(needle, words)
            self._hits[key] = hits
            self._rows += hits.n_multi if hits else 0
            self._evict()
            return hits

    def _resolve(self, needle: str, words: list[str] | None) -> CaptionHits | None:
        """Run the word-index or full-scan lookup once (the caller holds the lock)."""
        attach_memory(self._con)
        titles = [int(r[0]) for r in self._con.execute(*_lookup(0, needle, words)).fetchall()]
        name = f"{SCHEMA}.m{next(_NAMES)}"
        sql, params = _lookup(1, needle, words)
        self._con.execute(f"CREATE TABLE {name} AS {sql}", params)
        row = self._con.execute(f"SELECT count(*) FROM {name}").fetchone()
        n = int(row[0]) if row else 0
        if n > MAX_ROWS_ONE or n == 0:
            self._con.execute(f"DROP TABLE {name}")
            if n:
                return None
        return CaptionHits(tuple(sorted(titles)), name if n else None, n)

    def _evict(self) -> None:
        """Drop the least recently used needles beyond the bounds (a query still naming a dropped table
        fails loudly; it never sees other rows)."""
        while len(self._hits) > 1 and (len(self._hits) > MAX_NEEDLES or self._rows > MAX_ROWS):
            _, old = self._hits.popitem(last=False)
            if old is not None and old.table is not None:
                self._con.execute(f"DROP TABLE IF EXISTS {old.table}")
                self._rows -= old.n_multi


def attach_memory(con: duckdb.DuckDBPyConnection) -> str:
    """Attach (once per database) the writable in-memory database kept beside a read-only index; its name."""
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCHEMA} (READ_WRITE)")
    return SCHEMA


def _lookup(kind: int, needle: str, words: list[str] | None) -> tuple[str, list[object]]:
    """SELECT of the distinct caption ids of one kind (0 title, 1 multi-object) holding ``needle``."""
    table = ("caption_titles", "caption_multis")[kind]
    if words is None:
        return f"SELECT cap_id FROM {table} WHERE contains(lc, ?)", [needle]
    ph = ", ".join("?" * len(words)) or "NULL"
    cand = f"SELECT DISTINCT cap_id FROM caption_words WHERE kind = {kind} AND word IN ({ph})"
    if ONE_WORD.fullmatch(needle):
        # A needle without separators lies inside one word of every caption holding it, and every
        # caption holding a word that contains it holds it: the candidates are the answer, no text test.
        return cand, list(words)
    return f"SELECT cap_id FROM {table} WHERE cap_id IN ({cand}) AND contains(lc, ?)", [*words, needle]
