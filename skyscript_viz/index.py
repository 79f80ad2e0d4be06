"""The one data gateway: an opened index and every query the pages need.

Each public method takes a :class:`~skyscript_viz.query.Filters` and returns plain values or a pandas
DataFrame. Safe to share between threads (one DuckDB cursor per call); the database is opened read-only,
so several app processes can share one index. :class:`ImageIndex` gathers the queries of this module
(filtering, paging, facets, one image, export) with those of ``indexgeo`` and ``indexstats`` over the
connection and lookups of ``indexcore``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from .build import INTERNAL_COLUMNS
from .errors import InvalidFilterError
from .indexcore import (
    FacetValue,
    ImageRecord,
    MapView,
    QueryResult,
    Subset,
    TagSuggestion,
    _isnull,
    _without_facets,
)
from .indexgeo import DEFAULT_MAX_FOOTPRINTS, FOOTPRINT_ZOOM, STREET_MAX_FOOTPRINTS, GeoQueries
from .indexstats import StatsQueries
from .query import FACET_DIMENSIONS, Filters, sql_literal
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

SortOrder = Literal["id", "random", "year", "year_desc", "source", "caption_len", "caption_len_desc"]

_ORDER_SQL: dict[str, str] = {
    "id": "id",
    "random": "hash(id + ?::BIGINT), id",
    "year": "year NULLS LAST, id",
    "year_desc": "year DESC NULLS LAST, id",
    "source": "source NULLS LAST, id",
    "caption_len": "caption_len, id",
    "caption_len_desc": "caption_len DESC, id",
}


class ImageIndex(GeoQueries, StatsQueries):
    """An opened index of one dataset root, with every query the pages need."""

    def page(
        self,
        f: Filters,
        *,
        offset: int = 0,
        limit: int = 50,
        order: SortOrder = "id",
        seed: int = 0,
        columns: tuple[str, ...] | None = None,
    ) -> QueryResult:
        """One page of matching rows in a stable order; ``truncated`` says more rows follow.

        ``columns``: only these of the row's columns (``id`` always comes too). A page in random order
        holds rows of ~48 different row groups, each column of each a block to decompress: the gallery's
        columns cost a fraction of the whole row's."""
        if order not in _ORDER_SQL:
            raise InvalidFilterError(f"sort order {order!r} is not one of {', '.join(_ORDER_SQL)}")
        cols = self._row_columns if columns is None else self._known_columns(("id", *columns))
        where, params = self._where(f)
        order_sql = _ORDER_SQL[order]
        oparams: list[Any] = [seed] if order == "random" else []
        # Two steps: pick the page's ids reading only the filter and sort columns, then fetch the wide
        # rows of just those ids. DuckDB cannot push most filters into the scan, so a one-step query
        # reads every output column of every row first (3-10x slower).
        df = self._df(
            f"SELECT {', '.join(cols)} FROM images WHERE id IN ("
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
        if order == "id":  # one aggregate, no window over every match (0.02 s instead of 0.2-0.4 s at 5.2M)
            row = self._q(
                f"""SELECT count(*) FILTER (WHERE id < ?), max(id) FILTER (WHERE id < ?),
                           min(id) FILTER (WHERE id > ?), count(*) FILTER (WHERE id = ?)
                    FROM images WHERE {where}""",
                [image_id] * 4 + params,
            ).fetchone()
            if row is None or not row[3]:
                return None, None, None
            return int(row[0]), None if row[1] is None else int(row[1]), None if row[2] is None else int(row[2])
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

    def row(self, key: str | int, *, columns: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        """One image's row (where its bytes are, its footprint, caption), by filepath or id; None when unknown.

        ``columns``: only these (``file_columns`` for a thumbnail: ~5 ms cold at 5.2M images, where the
        whole row costs ~24 ms and ``get``, which also reads the tags, more).
        """
        cols = "*" if columns is None else ", ".join(self._known_columns(("id", *columns)))
        if isinstance(key, str):
            rows = self._df(f"SELECT {cols} FROM images WHERE filepath = ?", [key])
        else:
            rows = self._df(f"SELECT {cols} FROM images WHERE id = ?", [int(key)])
        if rows.empty:
            return None
        return {k: (None if _isnull(v) else v) for k, v in rows.iloc[0].to_dict().items()}

    def _known_columns(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        """``columns`` without repeats, each checked to be a row column (they become SQL names)."""
        unknown = [c for c in columns if c not in self._row_columns]
        if unknown:
            raise InvalidFilterError(f"no row column {unknown[0]!r}; row columns: {', '.join(self._row_columns)}")
        return tuple(dict.fromkeys(columns))

    def get(self, key: str | int) -> ImageRecord | None:
        """Everything about one image, by filepath or id; None when the index has no such image."""
        row = self.row(key)
        if row is None:
            return None
        image_id = int(row["id"])
        tags = self._q(
            f"""SELECT t.role, t.obj, v.key, v.value FROM {self._image_tags} t JOIN vocab v USING (kv_id)
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

    def image_locations(self) -> list[dict[str, Any]]:
        """(filepath, storage, container, member) of every image that has a file, for the pixel pass."""
        loc = "".join(f", {c}" for c in self._row_columns if c.startswith("zip_"))  # byte locations (format 6+)
        records: list[dict[str, Any]] = self._df(f"""SELECT filepath, storage, container, member{loc}
                            FROM images WHERE has_image ORDER BY id""").to_dict("records")
        return records

    def sample(self, f: Filters, n: int, *, seed: int) -> pd.DataFrame:
        """A seeded random sample of ``n`` matches (the same seed gives the same sample)."""
        return self.page(f, limit=n, order="random", seed=seed).rows

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
