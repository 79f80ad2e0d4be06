"""The merge's per-part stage: one part's image rows joined with the captions, kept between builds.

A part's images with their captions, subset flags, caption ids, footprint figures and problem count,
the part's problems with the checks that need the captions (images in no CSV, captions that miss the
focus tags), and its tag rows in image order, depend only on that part and on the CSVs. They are
written as Parquet files into the part's folder (or a piece's), named after the CSV stage they were
joined with (skyscript_viz.mergecsv), in the order of the part's image numbers; a later merge with
the same part and CSVs only concatenates them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .mergecsv import Con, CsvStage, build_folder
from .query import sql_literal

__all__ = ["FRAGMENT_FORMAT", "Fragment", "has_fragment", "part_fragment"]

FRAGMENT_FORMAT = 2


@dataclass(frozen=True)
class Fragment:
    """A finished part stage: its folder and whether an earlier build wrote it."""

    folder: Path
    reused: bool

    def file(self, name: str) -> str:
        """The SQL literal of one of its Parquet files."""
        return sql_literal(str(self.folder / f"{name}.parquet"))


def fragment_name(stage: CsvStage) -> str:
    """The folder name, inside a part's folder, of its stage joined with ``stage``."""
    return f"frag-{FRAGMENT_FORMAT}-{stage.key}"


def has_fragment(part_dir: Path, stage: CsvStage) -> bool:
    """Whether an earlier build left the part stage of ``part_dir`` joined with ``stage``."""
    return (part_dir / fragment_name(stage) / "images.parquet").is_file()


def part_fragment(con: Con, part_dir: Path, stage: CsvStage, on_build: Callable[[], None] | None = None) -> Fragment:
    """The part stage of the part in ``part_dir`` joined with ``stage``: reused when there, else built
    (into a temporary folder renamed when complete; ``on_build`` is called first)."""
    folder = part_dir / fragment_name(stage)
    if has_fragment(part_dir, stage):
        return Fragment(folder, True)
    if on_build is not None:
        on_build()
    build_folder(folder, "images.parquet", lambda tmp: _build(con, part_dir, stage, tmp))
    return Fragment(folder, False)


def _build(con: Con, part_dir: Path, stage: CsvStage, out: Path) -> None:
    """Write the part stage of ``part_dir`` joined with ``stage`` into the folder ``out``."""
    images = f"read_parquet({sql_literal(str(part_dir / 'images.parquet'))})"
    lo, hi = con.execute(f"SELECT min(filepath), max(filepath) FROM {images}").fetchone()
    # caps is sorted by path: the range of this part's paths reads only the row groups holding them
    con.execute(f"""CREATE OR REPLACE TABLE fimg AS SELECT i.*, c.title, c.title_multi_objects,
                      coalesce(c.subsets, 0)::BIGINT AS subsets, c.fp IS NOT NULL AS in_csv,
                      coalesce(c.conflict, false) AS conflict, c.title_cid, c.multi_cid
                    FROM {images} i
                    LEFT JOIN (SELECT fp, subsets, title, title_multi_objects, conflict, title_cid, multi_cid
                               FROM read_parquet({stage.file("caps")})
                               WHERE fp BETWEEN {sql_literal(lo or "")} AND {sql_literal(hi or "")}) c
                      ON i.filepath = c.fp""")
    selects = [
        f"""SELECT i.local, p.filepath, p.kind, p.detail, 'meta' AS origin
            FROM read_parquet({sql_literal(str(part_dir / "problems.parquet"))}) p
            LEFT JOIN fimg i ON p.filepath = i.filepath"""
    ]
    if stage.has_csvs:
        selects.append("""SELECT local, filepath, 'image_without_csv_row' AS kind,
                 'image is in no caption CSV' AS detail, 'csv' AS origin
               FROM fimg WHERE has_image AND NOT in_csv""")
        # A rule-built caption should name the focus object: some word (3+ letters, plural folded) of a
        # focus tag's key or value, or of its usual caption phrase, must appear in the captions, spaces
        # ignored ("beachvolleyball" matches "beach volleyball court", fuel matches "gas station").
        selects.append("""SELECT local, filepath, 'caption_misses_tag' AS kind,
                 'no word of the focus tags (' || focus_words || ') appears in the captions' AS detail,
                 'check' AS origin
               FROM (SELECT local, filepath, focus_words, ws, regexp_replace(lc, '[^a-z]', '', 'g') AS cap FROM (
                       SELECT local, filepath, focus_words, string_split(focus_words, ' ') AS ws,
                              lower(coalesce(title, '') || coalesce(title_multi_objects, '')) AS lc
                       FROM fimg WHERE title IS NOT NULL AND focus_words <> '')
                     -- a word found in the plain lower-case text is found with the spaces removed too:
                     -- only the few captions failing this test pay for the regexp
                     WHERE NOT list_bool_or(list_transform(ws, lambda x: contains(lc, x))))
               WHERE NOT list_bool_or(list_transform(ws, lambda x: contains(cap, x)))""")
    con.execute("CREATE OR REPLACE TABLE fprob AS " + " UNION ALL ".join(selects))
    con.execute(f"COPY fprob TO {sql_literal(str(out / 'problems.parquet'))} (FORMAT parquet, COMPRESSION zstd)")
    subset_cols = "".join(f", ((f.subsets >> {s['bit']}) & 1 = 1) AS in_{s['slug']}" for s in stage.subsets)
    # The duplicate_caption_conflict problem of a path is the CSV stage's; it counts for the image too.
    con.execute(f"""COPY (SELECT f.* EXCLUDE (focus_words, in_csv, conflict, title_cid, multi_cid){subset_cols},
                      CASE WHEN box_valid THEN (west + east) / 2 END AS cx,
                      CASE WHEN box_valid THEN (south + north) / 2 END AS cy,
                      CASE WHEN box_valid THEN degrees(ln(tan(pi() / 4 + radians((south + north) / 2) / 2)))
                           END AS my,
                      CASE WHEN box_valid THEN ((east - west) * 111320 * cos(radians((south + north) / 2)))
                           END::FLOAT AS width_m,
                      CASE WHEN box_valid THEN ((north - south) * 110574) END::FLOAT AS height_m,
                      length(coalesce(f.title_multi_objects, f.title, ''))::INTEGER AS caption_len,
                      (coalesce(p.n, 0) + f.conflict::INTEGER)::SMALLINT AS n_problems,
                      f.title_cid, f.multi_cid
                    FROM fimg f
                    LEFT JOIN (SELECT local, count(*) AS n FROM fprob WHERE local IS NOT NULL GROUP BY local) p
                    USING (local) ORDER BY local)
                    TO {sql_literal(str(out / "images.parquet"))} (FORMAT parquet, COMPRESSION zstd)""")
    con.execute("DROP TABLE fimg")
    con.execute("DROP TABLE fprob")
    # The part's tag rows in image order (the reader writes each batch's focus tags, then the rest).
    tags = sql_literal(str(part_dir / "tags.parquet"))
    con.execute(f"""COPY (SELECT local, role, obj, kv FROM read_parquet({tags}) ORDER BY local, role, obj, kv)
                    TO {sql_literal(str(out / "tags.parquet"))} (FORMAT parquet, COMPRESSION zstd)""")
