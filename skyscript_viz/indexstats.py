"""Overview and quality queries: tag frequencies, counts by dimension, samples per stratum, coverage."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from .errors import InvalidFilterError
from .indexcore import IndexCore
from .query import Filters

__all__ = ["StatsQueries"]


class StatsQueries(IndexCore):
    """Aggregates over the matches of a filter, for the overview, quality and audit pages."""

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
