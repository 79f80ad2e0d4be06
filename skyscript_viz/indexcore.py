"""The opened index: its connection, the lookups filters resolve through, and the result types.

:class:`IndexCore` opens an index generation read-only and owns its DuckDB connection (one cursor per
call, so it is safe to share between threads). :class:`~skyscript_viz.index.ImageIndex` adds the
queries, grouped by concern in ``indexgeo`` (the map), ``indexstats`` (overview and quality) and
``index`` (filtering, one image, export): these four modules are the only ones that execute SQL.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Self

import duckdb
import pandas as pd

from .build import ZIP_LOCATION_COLUMNS, default_index_dir
from .capmatch import CaptionHitCache, CaptionHits
from .errors import IndexNotFoundError
from .facetcube import FacetCube
from .quality import PIXELS_FILE, pixel_problems_sql
from .query import FACET_DIMENSIONS, Filters, build_where

__all__ = [
    "CAPTION_WORD_RE",
    "MAX_CAPTION_WORDS",
    "ROW_COLUMNS",
    "FacetValue",
    "ImageRecord",
    "IndexCore",
    "MapView",
    "QueryResult",
    "Subset",
    "TagSuggestion",
]

CAPTION_WORD_RE = re.compile(r"[a-z0-9]+")  # caption words, as merge.CAPTION_SPLIT_SQL splits them
MAX_CAPTION_WORDS = 2000  # a needle word fitting more vocabulary words than this: scan the captions

# Columns a result row carries (not the captions' full detail, which get() returns).
ROW_COLUMNS = (
    "id",
    "filepath",
    "source",
    "year",
    "month",
    "day",
    "obj_type",
    "osm_id",
    "west",
    "south",
    "east",
    "north",
    "cx",
    "cy",
    "width_m",
    "height_m",
    "n_surrounding",
    "title",
    "title_multi_objects",
    "subsets",
    "n_problems",
    "has_image",
    "storage",
    "container",
    "member",
)

# What reading an image's bytes needs (with the byte location, when the index has it): a row with only
# these is what a thumbnail costs. At 5.2M images a row's columns sit in a different row group for each
# image, and each column read is a block to decompress: one thumbnail's full row cost ~24 ms cold.
FILE_COLUMNS = ("id", "filepath", "storage", "container", "member")


@dataclass(frozen=True, slots=True)
class Subset:
    """A caption CSV found in the root: the subset it stands for and how many images it holds."""

    slug: str
    label: str
    csv: str
    bit: int


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: Any
    count: int


@dataclass(frozen=True, slots=True)
class TagSuggestion:
    """One autocomplete entry: ``key`` (any value) or ``key=value``, with image counts."""

    text: str
    key: str
    value: str | None
    n_images: int
    n_focus: int
    n_surrounding: int


@dataclass(frozen=True)
class QueryResult:
    rows: pd.DataFrame
    truncated: bool


@dataclass(frozen=True)
class MapView:
    """What the map shows for one view: footprints when few enough, aggregated cells otherwise."""

    kind: Literal["footprints", "cells"]
    rows: pd.DataFrame
    total: int  # matches inside the view


@dataclass(frozen=True)
class ImageRecord:
    """Everything known about one image."""

    row: dict[str, Any]
    focus_tags: dict[str, str]
    surrounding: list[dict[str, str]]
    problems: list[dict[str, str]]
    subsets: list[Subset] = field(default_factory=list)

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def filepath(self) -> str:
        return str(self.row["filepath"])


class IndexCore:
    """An opened index of one dataset root: connection, vocabulary lookups, headline facts, counts."""

    def __init__(self, index_dir: Path, *, memory_limit: str = "1GB", threads: int | None = None) -> None:
        current = index_dir / "CURRENT"
        try:
            info = json.loads(current.read_text())
        except (OSError, ValueError):
            raise IndexNotFoundError(
                f"no index at {str(index_dir)!r}; build it with `python -m skyscript_viz index ROOT`"
            ) from None
        self.index_dir = index_dir
        self.gen_dir: Path = index_dir / info["generation"]
        self.info: dict[str, Any] = info
        self.root = Path(info["root"])
        config: dict[str, Any] = {"memory_limit": memory_limit}
        if threads:
            config["threads"] = threads
        self._con = duckdb.connect(str(self.gen_dir / "index.duckdb"), read_only=True, config=config)
        self._lock = threading.Lock()
        self.subsets = [Subset(s["slug"], s["label"], s["csv"], s["bit"]) for s in info.get("subsets", [])]
        self._subset_bits = {s.slug: s.bit for s in self.subsets}
        pixels = index_dir / PIXELS_FILE
        self.has_pixel_checks = pixels.is_file()
        # problem rows: the index's own, plus the pixel checks when `index --pixels` has run
        self._problems = (
            f"(SELECT id, filepath, kind, detail, origin FROM problems UNION ALL {pixel_problems_sql(pixels)})"
            if self.has_pixel_checks
            else "problems"
        )
        tables = {r[0] for r in self._q("SELECT table_name FROM duckdb_tables()").fetchall()}
        image_cols = {
            r[0] for r in self._q("SELECT column_name FROM duckdb_columns() WHERE table_name = 'images'").fetchall()
        }
        # rows carry the image's byte location when the index has it (format 6+): one positioned read
        zip_location = tuple(c for c in ZIP_LOCATION_COLUMNS if c in image_cols)
        self._row_columns = ROW_COLUMNS + zip_location
        self.file_columns = FILE_COLUMNS + zip_location
        self.caption_dictionaries = {"caption_titles", "caption_multis"} <= tables
        self._caption_words = {"caption_words", "caption_vocab"} <= tables  # format 6+
        # one image's tags: the copy in image order when the index has it (built since 2026-12-03)
        self._image_tags = "image_tags" if "image_tags" in tables else "tags"
        self._candidates: dict[str, list[str] | None] = {}
        self._caption_hits = CaptionHitCache(self._con.cursor())
        self._cube = FacetCube(self._con.cursor())
        has_bits = ("tag_bits" in tables,)
        self._tag_bits: dict[tuple[str, str | None], int] = (
            {(k, v): int(b) for k, v, b in self._q("SELECT key, value, bit FROM tag_bits").fetchall()}
            if has_bits and has_bits[0]
            else {}
        )
        self._keys: dict[str, tuple[int, int]] = {
            k: (lo, hi) for k, lo, hi in self._q("SELECT key, kv_lo, kv_hi FROM keys").fetchall()
        }

    @classmethod
    def open(cls, root: Path | str, *, index_dir: Path | str | None = None, **kw: Any) -> Self:
        """Open the index of ``root`` (default location), or raise IndexNotFoundError with the fix."""
        from . import remote

        if remote.is_remote(root):  # a URL root: its index lives in the URL's local cache root
            root = remote.normalize_url(root)
            d = Path(index_dir) if index_dir else default_index_dir(remote.cache_root(root))
        else:
            d = Path(index_dir) if index_dir else default_index_dir(Path(root))
        if not (d / "CURRENT").is_file():
            raise IndexNotFoundError(
                f"no index for {str(root)!r} yet; build it with `python -m skyscript_viz index {root}`"
            )
        return cls(d, **kw)

    def close(self) -> None:
        self._con.close()

    def _q(self, sql: str, params: list[Any] | None = None) -> duckdb.DuckDBPyConnection:
        with self._lock:
            cur = self._con.cursor()
        return cur.execute(sql, params or [])

    def _df(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self._q(sql, params).df()

    def _where(self, f: Filters) -> tuple[str, list[Any]]:
        return build_where(f, self, problems_table=self._problems)

    # Resolver protocol
    def kv_range(self, key: str, value: str | None) -> tuple[int, int] | None:
        """Vocabulary id range for ``key`` (every value) or ``key=value``."""
        rng = self._keys.get(key)
        if rng is None or value is None:
            return rng
        row = self._q(
            "SELECT kv_id FROM vocab WHERE kv_id BETWEEN ? AND ? AND value = ?", [rng[0], rng[1], value]
        ).fetchone()
        return None if row is None else (row[0], row[0])

    def subset_bit(self, slug: str) -> int | None:
        return self._subset_bits.get(slug)

    def caption_candidates(self, needle: str) -> list[str] | None:
        """Caption words one of which every caption containing ``needle`` (lower-case) must hold: those
        fitting the needle's rarest word. None when the index has no word table, the needle has no word,
        or even its rarest word is too common to narrow the search (then captions are scanned)."""
        if not self._caption_words:
            return None
        hit = self._candidates.get(needle, ...)
        if hit is not ...:
            return hit
        best: tuple[int, list[str]] | None = None
        for m in CAPTION_WORD_RE.finditer(needle):
            inner_start, inner_end = m.start() > 0, m.end() < len(needle)  # a separator before / after it
            cond = {
                (True, True): "word = ?",
                (True, False): "starts_with(word, ?)",
                (False, True): "suffix(word, ?)",
                (False, False): "contains(word, ?)",
            }[inner_start, inner_end]
            rows = self._q(f"SELECT word, n FROM caption_vocab WHERE {cond}", [m.group()]).fetchall()
            total = sum(int(n) for _, n in rows)
            if best is None or total < best[0]:
                best = (total, [w for w, _ in rows])
        out = None if best is None or len(best[1]) > MAX_CAPTION_WORDS else best[1]
        if len(self._candidates) > 1000:
            self._candidates.clear()
        self._candidates[needle] = out
        return out

    def caption_hits(self, needle: str) -> CaptionHits | None:
        """Ids of the captions holding ``needle`` (lower-case), looked up once per needle and kept."""
        if not self.caption_dictionaries:
            return None
        return self._caption_hits.get(needle, self.caption_candidates(needle))

    def tag_bit(self, key: str, value: str | None) -> int | None:
        """Bit of a frequent key or key=value in the images' ``tb_*`` bitmask columns (built by the index)."""
        return self._tag_bits.get((key, value))

    # -- facts -------------------------------------------------------------------------------------

    @property
    def n_images(self) -> int:
        return int(self.info.get("n_images", 0))

    @property
    def is_demo(self) -> bool:
        return bool(self.info.get("demo"))

    def headline(self) -> dict[str, int]:
        """Images, images with a footprint, distinct tags, sources, years, problems."""
        r = self._q("""SELECT count(*), count(cx), count(DISTINCT source), count(DISTINCT year),
                       (SELECT count(*) FROM vocab), (SELECT count(*) FROM problems)
                       FROM images""").fetchone()
        assert r is not None
        return dict(
            zip(("images", "with_footprint", "sources", "years", "tags", "problems"), (int(x) for x in r), strict=True)
        )

    def count(self, f: Filters) -> int:
        """Number of images matching ``f``."""
        where, params = self._where(f)
        cube = self._cube_for(f) if f != Filters() else None
        if cube is not None:  # from the grouped counts: ~1 ms instead of a scan
            where, params = self._where(replace(f, caption=""))
            sql = f"SELECT coalesce(sum(n), 0) FROM {cube} WHERE {where}"
        else:
            sql = f"SELECT count(*) FROM images WHERE {where}"
        row = self._q(sql, params).fetchone()
        return int(row[0]) if row else 0

    def _cube_for(self, f: Filters) -> str | None:
        """The grouped counts that answer counts under ``f`` with its facet fields as the only WHERE:
        the unfiltered ones, or those of ``f``'s caption search when that is its one other field."""
        rest = _without_facets(f)
        if rest == Filters():
            return self._cube.table()
        needle = rest.caption.strip().lower()
        if not needle or rest != Filters(caption=rest.caption):
            return None
        where, params = self._where(rest)
        return self._cube.table(("caption", needle), where, params)


def _without_facets(f: Filters) -> Filters:
    """``f`` with every facet dimension cleared: what facet counts share."""
    for dim in FACET_DIMENSIONS:
        f = f.without(dim)
    return f


def _isnull(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
