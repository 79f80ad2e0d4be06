"""The one data gateway: an opened index and every query the pages need.

Only this module executes SQL. Each public method takes a :class:`~skyscript_viz.query.Filters`
and returns plain values or a pandas DataFrame. Safe to share between threads (one DuckDB cursor per
call); the database is opened read-only, so several app processes can share one index.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .build import INTERNAL_COLUMNS, ZIP_LOCATION_COLUMNS, default_index_dir
from .capmatch import CaptionHitCache, CaptionHits
from .errors import IndexNotFoundError, InvalidFilterError
from .facetcube import FacetCube
from .quality import PIXELS_FILE, pixel_problems_sql
from .query import FACET_DIMENSIONS, BBox, Filters, build_where, sql_literal
from .vocab import SORT_ORDERS

__all__ = [
    "DEFAULT_MAX_FOOTPRINTS",
    "FOOTPRINT_ZOOM",
    "SORT_ORDERS",
    "STREET_MAX_FOOTPRINTS",
    "FacetValue",
    "ImageIndex",
    "ImageRecord",
    "MapView",
    "QueryResult",
    "Subset",
    "TagSuggestion",
]

DEFAULT_MAX_FOOTPRINTS = 2000
# From this zoom on the map draws footprints however many are in view (the first STREET_MAX_FOOTPRINTS):
# a cell there cannot be split by zooming in (a click on one zooms in to at most this zoom), so images
# stacked at one place would never become clickable.
FOOTPRINT_ZOOM = 18
STREET_MAX_FOOTPRINTS = 500  # a stack drawn in full cost 590 KB and ~1 s per rerun at 2,000 footprints
CAPTION_WORD_RE = re.compile(r"[a-z0-9]+")  # caption words, as build.CAPTION_SPLIT_SQL splits them
MAX_CAPTION_WORDS = 2000  # a needle word fitting more vocabulary words than this: scan the captions
SortOrder = Literal["id", "random", "year", "year_desc", "source", "caption_len", "caption_len_desc"]

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


_ORDER_SQL: dict[str, str] = {
    "id": "id",
    "random": "hash(id + ?::BIGINT), id",
    "year": "year NULLS LAST, id",
    "year_desc": "year DESC NULLS LAST, id",
    "source": "source NULLS LAST, id",
    "caption_len": "caption_len, id",
    "caption_len_desc": "caption_len DESC, id",
}


class ImageIndex:
    """An opened index of one dataset root."""

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
        self._row_columns = ROW_COLUMNS + tuple(c for c in ZIP_LOCATION_COLUMNS if c in image_cols)
        self.caption_dictionaries = {"caption_titles", "caption_multis"} <= tables
        self._caption_words = {"caption_words", "caption_vocab"} <= tables  # format 6+
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

    # -- plumbing ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, root: Path | str, *, index_dir: Path | str | None = None, **kw: Any) -> ImageIndex:
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

    # -- filters -----------------------------------------------------------------------------------

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

    def page(
        self, f: Filters, *, offset: int = 0, limit: int = 50, order: SortOrder = "id", seed: int = 0
    ) -> QueryResult:
        """One page of matching rows in a stable order; ``truncated`` says more rows follow."""
        if order not in _ORDER_SQL:
            raise InvalidFilterError(f"sort order {order!r} is not one of {', '.join(_ORDER_SQL)}")
        where, params = self._where(f)
        order_sql = _ORDER_SQL[order]
        oparams: list[Any] = [seed] if order == "random" else []
        # Two steps: pick the page's ids reading only the filter and sort columns, then fetch the wide
        # rows of just those ids. DuckDB cannot push most filters into the scan, so a one-step query
        # reads every output column of every row first (3-10x slower).
        df = self._df(
            f"SELECT {', '.join(self._row_columns)} FROM images WHERE id IN ("
            f"SELECT id FROM images WHERE {where} ORDER BY {order_sql} LIMIT ? OFFSET ?) "
            f"ORDER BY {order_sql}",
            params + oparams + [limit + 1, max(0, offset)] + oparams,
        )
        return QueryResult(df.iloc[:limit].reset_index(drop=True), len(df) > limit)

    def position(
        self, f: Filters, image_id: int, *, order: SortOrder = "id", seed: int = 0
    ) -> tuple[int | None, int | None, int | None]:
        """(0-based position, previous id, next id) of ``image_id`` within the matches of ``f``."""
        where, params = self._where(f)
        order_sql = _ORDER_SQL[order]
        oparams: list[Any] = [seed] if order == "random" else []
        row = self._q(
            f"""WITH m AS (SELECT id, row_number() OVER (ORDER BY {order_sql}) - 1 AS pos
                                    FROM images WHERE {where})
                          SELECT pos FROM m WHERE id = ?""",
            oparams + params + [image_id],
        ).fetchone()
        if row is None:
            return None, None, None
        pos = int(row[0])
        prev_next = self._q(
            f"""WITH m AS (SELECT id, row_number() OVER (ORDER BY {order_sql}) - 1 AS pos
                                          FROM images WHERE {where})
                                SELECT pos, id FROM m WHERE pos IN (?, ?)""",
            oparams + params + [pos - 1, pos + 1],
        ).fetchall()
        found = {int(p): int(i) for p, i in prev_next}
        return pos, found.get(pos - 1), found.get(pos + 1)

    def facets(self, f: Filters) -> dict[str, list[FacetValue]]:
        """Counts per value of every facet dimension, each under the *other* filters."""
        cube = self._cube_for(f)
        if cube is None:
            return self._facets_shared(f, _without_facets(f))
        f = replace(f, caption="")  # the grouped counts hold only the caption's matches already
        out: dict[str, list[FacetValue]] = {}
        for dim in FACET_DIMENSIONS:
            where, params = self._where(f.without(dim))
            if dim == "subset":
                if not self.subsets:
                    out[dim] = []
                    continue
                sums = ", ".join(f"coalesce(sum(((subsets >> {s.bit}) & 1) * n), 0)::BIGINT" for s in self.subsets)
                row = self._q(f"SELECT {sums} FROM {cube} WHERE {where}", params).fetchone()
                assert row is not None
                out[dim] = [FacetValue(s.slug, int(n)) for s, n in zip(self.subsets, row, strict=True)]
                continue
            rows = self._q(
                f"SELECT {dim}, sum(n) FROM {cube} WHERE {where} GROUP BY 1 ORDER BY 1 NULLS LAST", params
            ).fetchall()
            out[dim] = [FacetValue(v, int(n)) for v, n in rows]
        return out

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

    def _facets_shared(self, f: Filters, rest: Filters) -> dict[str, list[FacetValue]]:
        """facets() when ``f`` also filters on non-facet fields (tags, caption, bbox...): those conditions
        are evaluated once into a materialized CTE and every dimension is counted from it, instead of
        re-running e.g. a tag semi-join five times. The WHERE of build_where is a conjunction of one
        condition per field, so rest AND (facet fields without dim) == f.without(dim)."""
        facet_only = replace(
            Filters(),
            **{fd.name: getattr(f, fd.name) for fd in fields(f) if getattr(f, fd.name) != getattr(rest, fd.name)},
        )
        rest_where, params = self._where(rest)
        dims = [d for d in FACET_DIMENSIONS if d != "subset" or self.subsets]
        parts: list[str] = []
        for dim in dims:
            where, p = self._where(facet_only.without(dim))
            params = params + p
            if dim == "subset":
                sums = ", ".join(f"coalesce(sum((subsets >> {s.bit}) & 1), 0)::BIGINT" for s in self.subsets)
                parts.append(f"(SELECT list_value({sums}) FROM m WHERE {where})")
            else:
                parts.append(
                    f"(SELECT list(struct_pack(v := {dim}, n := n) ORDER BY {dim} NULLS LAST) FROM "
                    f"(SELECT {dim}, count(*) AS n FROM m WHERE {where} GROUP BY 1))"
                )
        row = self._q(
            f"WITH m AS MATERIALIZED (SELECT source, year, month, obj_type, subsets FROM images "
            f"WHERE {rest_where}) "
            f"SELECT {', '.join(parts)}",
            params,
        ).fetchone()
        assert row is not None
        out: dict[str, list[FacetValue]] = {d: [] for d in FACET_DIMENSIONS}
        for dim, val in zip(dims, row, strict=True):
            if dim == "subset":
                out[dim] = [FacetValue(s.slug, int(n)) for s, n in zip(self.subsets, val, strict=True)]
            else:
                out[dim] = [FacetValue(d["v"], int(d["n"])) for d in (val or [])]
        return out

    def autocomplete(self, prefix: str, *, limit: int = 20) -> list[TagSuggestion]:
        """Tags (``key`` and ``key=value``) starting with ``prefix``, most frequent first, over the whole vocabulary."""
        p = prefix.strip()
        if "=" in p:
            key, _, vprefix = p.partition("=")
            rng = self._keys.get(key.strip())
            if rng is None:
                return []
            rows = self._q(
                """SELECT key, value, n_images, n_focus, n_surrounding FROM vocab
                              WHERE kv_id BETWEEN ? AND ? AND starts_with(value, ?)
                              ORDER BY n_images DESC, value LIMIT ?""",
                [rng[0], rng[1], vprefix, limit],
            ).fetchall()
            return [TagSuggestion(f"{k}={v}", k, v, n, nf, ns) for k, v, n, nf, ns in rows]
        keys = self._q(
            """SELECT key, n_images, n_focus, n_surrounding FROM keys
                          WHERE starts_with(lower(key), lower(?)) ORDER BY n_images DESC, key LIMIT ?""",
            [p, limit],
        ).fetchall()
        pairs = self._q(
            """SELECT key, value, n_images, n_focus, n_surrounding FROM vocab
                           WHERE starts_with(lower(key), lower(?)) OR starts_with(lower(value), lower(?))
                           ORDER BY n_images DESC, key, value LIMIT ?""",
            [p, p, limit],
        ).fetchall()
        out = [TagSuggestion(k, k, None, n, nf, ns) for k, n, nf, ns in keys]
        out += [TagSuggestion(f"{k}={v}", k, v, n, nf, ns) for k, v, n, nf, ns in pairs]
        out.sort(key=lambda s: (-s.n_images, s.text))
        return out[:limit]

    def top_tags(
        self,
        f: Filters,
        *,
        role: Literal["focus", "surrounding", "any"] = "focus",
        by: Literal["key", "pair"] = "pair",
        limit: int = 20,
    ) -> pd.DataFrame:
        """Most frequent tags among the matches of ``f`` (images counted once per tag).

        Without filters the counts come from the vocabulary. With filters, the index's tag bitmasks
        give exact counts for the 62 most frequent keys (or pairs) overall, and the top ``limit`` of
        those are returned: a distinct count over every tag row would need gigabytes at 5.2M images.
        """
        count_col = {"focus": "n_focus", "surrounding": "n_surrounding", "any": "n_images"}[role]
        if f.is_empty:
            if by == "key":
                return self._df(
                    f"SELECT key AS tag, {count_col} AS images FROM keys WHERE {count_col} > 0 "
                    f"ORDER BY 2 DESC, 1 LIMIT ?",
                    [limit],
                )
            return self._df(
                f"SELECT key || '=' || value AS tag, {count_col} AS images FROM vocab "
                f"WHERE {count_col} > 0 ORDER BY 2 DESC, 1 LIMIT ?",
                [limit],
            )
        where, params = self._where(f)
        kind = "key" if by == "key" else "pair"
        bits = sorted(
            (b, k if v is None else f"{k}={v}")
            for (k, v), b in self._tag_bits.items()
            if (v is None) == (kind == "key")
        )
        if bits:
            column = f"tb_{kind}s_" + {"focus": "focus", "surrounding": "surr", "any": "any"}[role]
            # sums of shifted bits, not count(*) FILTER (...): 12x faster at 5.2M (0.15 s instead of 1.8 s)
            sums = ", ".join(f"sum(({column} >> {b}) & 1)" for b, _ in bits)
            row = self._q(f"SELECT {sums} FROM images WHERE {where}", params).fetchone()
            assert row is not None
            df = pd.DataFrame({"tag": [t for _, t in bits], "images": [int(n or 0) for n in row]})
            df = df[df["images"] > 0].sort_values(["images", "tag"], ascending=[False, True])
            return df.head(limit).reset_index(drop=True)
        role_sql = {"focus": "AND t.role = 0", "surrounding": "AND t.role = 1", "any": ""}[role]
        label = "v.key" if by == "key" else "v.key || '=' || v.value"
        return self._df(
            f"""SELECT {label} AS tag, count(DISTINCT t.image_id) AS images
                            FROM tags t JOIN vocab v USING (kv_id)
                            WHERE t.image_id IN (SELECT id FROM images WHERE {where}) {role_sql}
                            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?""",
            [*params, limit],
        )

    # -- map ---------------------------------------------------------------------------------------

    def extent(self, f: Filters) -> BBox | None:
        """Bounding box of the footprints matching ``f`` (for "zoom to results")."""
        where, params = self._where(f)
        r = self._q(
            f"""SELECT min(west), min(south), max(east), max(north) FROM images
                        WHERE cx IS NOT NULL AND {where}""",
            params,
        ).fetchone()
        if r is None or r[0] is None:
            return None
        return BBox(float(r[0]), float(r[1]), float(r[2]), float(r[3]))

    def footprints(self, f: Filters, *, limit: int = DEFAULT_MAX_FOOTPRINTS) -> QueryResult:
        """Footprints of matches (``f.bbox`` usually set); fetches limit + 1 to tell if truncated."""
        where, params = self._where(f)
        # ids first, then the wide columns of those ids only (see page()).
        df = self._df(
            f"""SELECT id, filepath, source, year, obj_type, osm_id, west, south, east, north,
                                 title FROM images WHERE id IN (
                              SELECT id FROM images WHERE cx IS NOT NULL AND {where} ORDER BY id LIMIT ?)
                          ORDER BY id""",
            [*params, limit + 1],
        )
        return QueryResult(df.iloc[:limit].reset_index(drop=True), len(df) > limit)

    def grid(self, f: Filters, *, zoom: int, cells_per_tile: int = 8) -> pd.DataFrame:
        """Matches aggregated in square screen cells at ``zoom``: bounds, count, dominant source."""
        size = 360.0 / (2 ** max(0, min(int(zoom), 24))) / cells_per_tile
        where, params = self._where(f)
        df = self._df(
            f"""WITH c AS (
                              SELECT floor(cx / ?)::BIGINT AS gx, floor(my / ?)::BIGINT AS gy, source,
                                     count(*) AS n
                              FROM images WHERE cx IS NOT NULL AND {where} GROUP BY ALL)
                          SELECT gx, gy, sum(n)::BIGINT AS count,
                                 first(source ORDER BY n DESC, source) AS dominant_source,  -- ties: by code
                                 max(n)::BIGINT AS dominant_count, count(*)::INTEGER AS n_sources
                          FROM c GROUP BY gx, gy ORDER BY count DESC, gx, gy""",
            [size, size, *params],
        )
        if df.empty:
            return df.assign(west=[], south=[], east=[], north=[])
        gx = df["gx"].to_numpy(dtype=float)
        gy = df["gy"].to_numpy(dtype=float)
        df["west"] = np.clip(gx * size, -180, 180)
        df["east"] = np.clip((gx + 1) * size, -180, 180)
        df["south"] = np.degrees(np.arctan(np.sinh(np.radians(gy * size))))
        df["north"] = np.degrees(np.arctan(np.sinh(np.radians((gy + 1) * size))))
        return df.drop(columns=["gx", "gy"])

    def map_view(self, f: Filters, *, zoom: int, max_footprints: int = DEFAULT_MAX_FOOTPRINTS) -> MapView:
        """Footprints when the view holds at most ``max_footprints`` matches or the zoom is at least
        FOOTPRINT_ZOOM (then the first STREET_MAX_FOOTPRINTS; ``total`` counts them all), else cells."""
        # The cells first: they count every match with a footprint, which decides footprints vs cells,
        # so an expensive filter (a tag semi-join) runs once for a cells view instead of twice.
        cells = self.grid(f, zoom=zoom)
        n_footprints = int(cells["count"].sum()) if not cells.empty else 0
        if n_footprints <= max_footprints or zoom >= FOOTPRINT_ZOOM:
            limit = max_footprints if n_footprints <= max_footprints else min(max_footprints, STREET_MAX_FOOTPRINTS)
            fp = self.footprints(f, limit=limit)
            return MapView("footprints", fp.rows, max(n_footprints, len(fp.rows)))
        # With a bbox every match has a footprint (cy BETWEEN excludes NULL), so the cells hold them all.
        total = n_footprints if f.bbox is not None else self.count(f)
        return MapView("cells", cells, total)

    # -- one image ---------------------------------------------------------------------------------

    def ids_for(self, filepaths: list[str]) -> tuple[int, ...]:
        """Ids of the given file paths (unknown paths are skipped)."""
        if not filepaths:
            return ()
        df = self._df("SELECT id FROM images WHERE filepath IN (SELECT unnest(?::VARCHAR[])) ORDER BY id", [filepaths])
        return tuple(int(i) for i in df["id"])

    def filepath_for(self, image_id: int) -> str | None:
        """The file path of an image id (None when the index has no such id)."""
        row = self._q("SELECT filepath FROM images WHERE id = ?", [int(image_id)]).fetchone()
        return None if row is None else str(row[0])

    def id_for(self, filepath: str) -> int | None:
        row = self._q("SELECT id FROM images WHERE filepath = ?", [filepath]).fetchone()
        return None if row is None else int(row[0])

    def row(self, key: str | int) -> dict[str, Any] | None:
        """One image's row (where its bytes are, its footprint, caption), by filepath or id; None when unknown.

        A few ms at 5.2M images, where ``get`` also reads the tags (~80 ms): enough for a thumbnail.
        """
        if isinstance(key, str):
            rows = self._df("SELECT * FROM images WHERE filepath = ?", [key])
        else:
            rows = self._df("SELECT * FROM images WHERE id = ?", [int(key)])
        if rows.empty:
            return None
        return {k: (None if _isnull(v) else v) for k, v in rows.iloc[0].to_dict().items()}

    def get(self, key: str | int) -> ImageRecord | None:
        """Everything about one image, by filepath or id; None when the index has no such image."""
        row = self.row(key)
        if row is None:
            return None
        image_id = int(row["id"])
        tags = self._q(
            """SELECT t.role, t.obj, v.key, v.value FROM tags t JOIN vocab v USING (kv_id)
                          WHERE t.image_id = ? ORDER BY t.role, t.obj, v.key""",
            [image_id],
        ).fetchall()
        focus: dict[str, str] = {}
        surrounding: dict[int, dict[str, str]] = {}
        for role, obj, k, v in tags:
            if role == 0:
                focus[k] = v
            else:
                surrounding.setdefault(int(obj), {})[k] = v
        probs = self._q(
            f"SELECT kind, detail, origin FROM {self._problems} WHERE id = ? ORDER BY kind", [image_id]
        ).fetchall()
        mask = int(row.get("subsets") or 0)
        return ImageRecord(
            row,
            focus,
            [surrounding[k] for k in sorted(surrounding)],
            [{"kind": k, "detail": d, "origin": o} for k, d, o in probs],
            [s for s in self.subsets if mask >> s.bit & 1],
        )

    def same_object(self, image_id: int) -> pd.DataFrame:
        """Other images of the same OSM object (same type and id), any source and year."""
        return self._df(
            f"""SELECT {", ".join("i." + c for c in self._row_columns)} FROM images i
                            JOIN (SELECT obj_type, osm_id FROM images WHERE id = ?) me
                              ON i.obj_type = me.obj_type AND i.osm_id = me.osm_id
                            WHERE i.id <> ? ORDER BY i.year, i.source, i.id""",
            [image_id, image_id],
        )

    def overlapping(self, image_id: int, *, limit: int = 50) -> pd.DataFrame:
        """Images whose footprint intersects this image's footprint (itself excluded)."""
        return self._df(
            f"""WITH me AS (SELECT west, south, east, north FROM images WHERE id = ? AND cx IS NOT NULL)
                            SELECT {", ".join("i." + c for c in self._row_columns)} FROM images i, me
                            WHERE i.cx IS NOT NULL AND i.id <> ?
                              AND i.cy BETWEEN me.south - 1 AND me.north + 1
                              AND i.west < me.east AND i.east > me.west
                              AND i.south < me.north AND i.north > me.south
                            ORDER BY i.id LIMIT ?""",
            [image_id, image_id, limit],
        )

    def near(self, lon: float, lat: float, *, limit: int = 20, radius_m: float = 5000.0) -> pd.DataFrame:
        """Images whose centre is within ``radius_m`` of a point, nearest first, with ``distance_m``."""
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidFilterError(f"point ({lon}, {lat}) is not a lon/lat pair")
        dlat = radius_m / 110574.0
        dlon = radius_m / (111320.0 * max(math.cos(math.radians(lat)), 1e-6))
        lo, hi = lon - dlon, lon + dlon
        # The longitude window wraps when it reaches past the antimeridian.
        if hi - lo >= 360:
            lon_sql, lon_params = "TRUE", []
        elif lo < -180 or hi > 180:
            lon_sql, lon_params = "(cx >= ? OR cx <= ?)", [(lo + 180) % 360 - 180, (hi + 180) % 360 - 180]
        else:
            lon_sql, lon_params = "cx BETWEEN ? AND ?", [lo, hi]
        return self._df(
            f"""SELECT * FROM (
                              SELECT {", ".join(self._row_columns)},
                                     2 * 6371008.8 * asin(least(1.0, sqrt(
                                        pow(sin(radians(cy - ?) / 2), 2) +
                                        cos(radians(?)) * cos(radians(cy)) * pow(sin(radians(cx - ?) / 2), 2)
                                     ))) AS distance_m
                              FROM images WHERE cy BETWEEN ? AND ? AND {lon_sql})
                            WHERE distance_m <= ? ORDER BY distance_m, id LIMIT ?""",
            [lat, lat, lon, lat - dlat, lat + dlat, *lon_params, radius_m, limit],
        )

    # -- samples and overview ----------------------------------------------------------------------

    def image_locations(self) -> list[dict[str, Any]]:
        """(filepath, storage, container, member) of every image that has a file, for the pixel pass."""
        loc = "".join(f", {c}" for c in self._row_columns if c.startswith("zip_"))  # byte locations (format 6+)
        records: list[dict[str, Any]] = self._df(f"""SELECT filepath, storage, container, member{loc}
                            FROM images WHERE has_image ORDER BY id""").to_dict("records")
        return records

    def sample(self, f: Filters, n: int, *, seed: int) -> pd.DataFrame:
        """A seeded random sample of ``n`` matches (the same seed gives the same sample)."""
        return self.page(f, limit=n, order="random", seed=seed).rows

    def stratified_sample(self, f: Filters, k: int, *, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Up to ``k`` seeded random matches per (source, year) stratum, and each stratum's population."""
        where, params = self._where(f)
        rows = self._df(
            f"""SELECT {", ".join(self._row_columns)} FROM (
                              SELECT *, row_number() OVER (PARTITION BY source, year
                                                           ORDER BY hash(id + ?::BIGINT), id) AS rn
                              FROM images WHERE {where}) WHERE rn <= ? ORDER BY source, year, rn""",
            [seed, *params, k],
        )
        pop = self._df(
            f"""SELECT source, year, count(*) AS population FROM images WHERE {where}
                           GROUP BY ALL ORDER BY ALL""",
            params,
        )
        return rows, pop

    def counts_by(self, f: Filters, dims: tuple[str, ...]) -> pd.DataFrame:
        """Image counts grouped by some of source, year, month, obj_type."""
        allowed = {"source", "year", "month", "obj_type"}
        if not dims or not set(dims) <= allowed:
            raise InvalidFilterError(f"dimensions {dims} must be among {sorted(allowed)}")
        where, params = self._where(f)
        cols = ", ".join(dims)
        return self._df(
            f"SELECT {cols}, count(*) AS images FROM images WHERE {where} GROUP BY ALL ORDER BY ALL", params
        )

    def caption_lengths(self, f: Filters, *, bin_chars: int = 10) -> pd.DataFrame:
        """Histogram of multi-object caption length in characters (bins of ``bin_chars``)."""
        where, params = self._where(f)
        return self._df(
            f"""SELECT (caption_len // ?) * ? AS chars, count(*) AS images FROM images
                            WHERE {where} AND title IS NOT NULL GROUP BY 1 ORDER BY 1""",
            [bin_chars, bin_chars, *params],
        )

    def footprint_sizes(self, f: Filters) -> pd.DataFrame:
        """Per source: footprint width quantiles in metres (p10, median, p90) and the image count."""
        where, params = self._where(f)
        return self._df(
            f"""SELECT source, count(*) AS images,
                              quantile_cont(width_m, 0.1) AS p10_m, median(width_m) AS median_m,
                              quantile_cont(width_m, 0.9) AS p90_m
                            FROM images WHERE {where} AND width_m IS NOT NULL GROUP BY source ORDER BY source""",
            params,
        )

    def coverage(self, f: Filters, *, top_keys: int = 12) -> pd.DataFrame:
        """Images per (source, year, focus tag key) for the most frequent focus keys under ``f``.

        With the index's tag bitmasks this is one pass over the images table (keys taken from the 62
        most frequent overall); otherwise a join over the focus tag rows.
        """
        where, params = self._where(f)
        key_bits = {k: b for (k, v), b in self._tag_bits.items() if v is None}
        if key_bits:
            top = [t for t in self.top_tags(f, role="focus", by="key", limit=top_keys)["tag"]]
            if not top:
                return pd.DataFrame({"source": [], "year": [], "key": [], "images": []})
            sums = ", ".join(f"sum((tb_keys_focus >> {key_bits[k]}) & 1)::BIGINT AS k{i}" for i, k in enumerate(top))
            wide = self._df(f"SELECT source, year, {sums} FROM images WHERE {where} GROUP BY ALL", params)
            long = wide.melt(id_vars=["source", "year"], var_name="col", value_name="images")
            long["key"] = [top[int(c[1:])] for c in long["col"]]
            long = long[long["images"] > 0][["source", "year", "key", "images"]]
            return long.sort_values(["source", "year", "key"], na_position="last").reset_index(drop=True)
        return self._df(
            f"""WITH m AS (SELECT id, source, year FROM images WHERE {where}),
                              ft AS (SELECT DISTINCT t.image_id, k.key FROM tags t
                                     JOIN keys k ON t.kv_id BETWEEN k.kv_lo AND k.kv_hi
                                     WHERE t.role = 0 AND t.image_id IN (SELECT id FROM m)),
                              top AS (SELECT key FROM ft GROUP BY key ORDER BY count(*) DESC, key LIMIT ?)
                            SELECT m.source, m.year, ft.key, count(*) AS images
                            FROM ft JOIN top USING (key) JOIN m ON m.id = ft.image_id
                            GROUP BY ALL ORDER BY ALL""",
            [*params, top_keys],
        )

    def cells_covered(self, f: Filters, *, degrees: float = 1.0) -> int:
        """Number of ``degrees``-sized lon/lat cells holding at least one match (a coarse 'area covered')."""
        where, params = self._where(f)
        row = self._q(
            f"""SELECT count(*) FROM (SELECT DISTINCT floor(cx / ?), floor(cy / ?) FROM images
                          WHERE cx IS NOT NULL AND {where})""",
            [degrees, degrees, *params],
        ).fetchone()
        return int(row[0]) if row else 0

    # -- export ------------------------------------------------------------------------------------

    def copy_to(self, f: Filters, path: Path | str, *, fmt: Literal["csv", "parquet"]) -> int:
        """Write the matches of ``f`` to a file by streaming from the index; returns the row count.

        ``csv`` is the SkyScript caption format (``filepath,title,title_multi_objects``, comma separated,
        standard quoting); ``parquet`` carries every indexed column.
        """
        where, params = self._where(f)
        cols = (
            "filepath, title, title_multi_objects"
            if fmt == "csv"
            else ("* EXCLUDE (" + ", ".join(self._internal_columns()) + ")" if self._internal_columns() else "*")
        )
        opts = (
            "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"'"
            if fmt == "csv"
            else "FORMAT parquet, COMPRESSION zstd"
        )
        row = self._q(
            f"COPY (SELECT {cols} FROM images WHERE {where} ORDER BY id) TO {sql_literal(str(path))} ({opts})", params
        ).fetchone()
        return int(row[0]) if row else 0

    def _internal_columns(self) -> list[str]:
        cols = {r[0] for r in self._q("DESCRIBE images").fetchall()}
        return [c for c in INTERNAL_COLUMNS if c in cols]

    def record_batches(
        self, f: Filters, columns: tuple[str, ...], *, batch_size: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        """Matches of ``f`` as Arrow record batches in id order, for streaming exports."""
        bad = [c for c in columns if not c.isidentifier()]
        if bad:
            raise InvalidFilterError(f"column names {bad} are not identifiers")
        where, params = self._where(f)
        with self._lock:
            cur = self._con.cursor()
        rel = cur.sql(f"SELECT {', '.join(columns)} FROM images WHERE {where} ORDER BY id", params=params)
        yield from rel.to_arrow_reader(batch_size)

    # -- problems ----------------------------------------------------------------------------------

    def problem_counts(self) -> dict[str, int]:
        """Number of problem rows per kind."""
        return {
            k: int(n)
            for k, n in self._q(f"SELECT kind, count(*) FROM {self._problems} GROUP BY kind ORDER BY kind").fetchall()
        }

    def problems(self, *, kind: str | None = None, limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """Problem rows (id, filepath, kind, detail, origin), optionally of one kind."""
        cond, params = ("kind = ?", [kind]) if kind else ("TRUE", [])
        return self._df(
            f"SELECT * FROM {self._problems} WHERE {cond} ORDER BY kind, filepath LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )


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
