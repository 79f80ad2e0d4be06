"""Image counts per (source, year, month, object type, subsets), for facet counts and counts that filter
on nothing else.

At 5.2M images the five facet counts of the sidebar scan the images table five times (~100-240 ms per
filter change); the grouped counts are ~40K rows, built once per opened index (~0.2 s, on first use) in
the in-memory database the caption hits use, and every such count then reads them in ~1 ms.
"""

from __future__ import annotations

import threading

import duckdb

from .capmatch import attach_memory

__all__ = ["CUBE_COLUMNS", "FacetCube"]

CUBE_COLUMNS = ("source", "year", "month", "obj_type", "subsets")


class FacetCube:
    """The grouped counts of one read-only index, built on first use."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con  # a cursor of its own
        self._lock = threading.Lock()
        self._table: str | None = None

    def table(self) -> str:
        """Name of the table of grouped counts (column ``n``), built now if not yet."""
        with self._lock:
            if self._table is None:
                schema = attach_memory(self._con)
                name = f"{schema}.facet_cube"
                cols = ", ".join(CUBE_COLUMNS)
                self._con.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} AS SELECT {cols}, count(*)::BIGINT AS n FROM images GROUP BY ALL"
                )
                self._table = name
            return self._table
