"""The merge's caption-CSV stage: every caption CSV read once into tables kept between builds.

What comes only from the caption CSVs does not change when a part does: the captions and subset flags
of each file path (``caps``), the caption dictionaries and word index, and the CSVs' own problems
(rejected lines, paths leaving the root, conflicting captions). They are written as Parquet files to a
folder named after the CSVs' fingerprints, and a later merge with the same CSVs reads them instead of
the CSVs (a rebuild after one part changed skipped ~70 s of a 130 s merge at 5.2M images).

The caption dictionaries hold every caption of the CSVs (not only those of images present), so they,
and the caption ids of each path, stay the same whichever parts are there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .discovery import DatasetLayout
from .query import sql_literal

__all__ = [
    "CAPTIONS_DB",
    "CAPTION_SPLIT_SQL",
    "CSV_STAGE_FORMAT",
    "MAX_SUBSETS",
    "CsvStage",
    "csv_stage",
    "csv_stage_steps",
]

CSV_STAGE_FORMAT = 3  # in the folder name: a change of what the stage writes makes older folders unused
CAPTION_SPLIT_SQL = "[^a-z0-9]+"  # what separates caption words (same rule as query.CAPTION_WORD_RE)
MAX_SUBSETS = 63  # caption CSVs that get a bit in the 64-bit subsets mask; later ones still give captions
HASH_CAPTION_IDS = True  # tests turn it off to check the text join gives the same ids

# The words of a lower-cased caption ``lc``, as CAPTION_SPLIT_SQL splits them (empty strings are dropped later).
# Most captions hold only [a-z0-9], spaces and ", ": those are split at single spaces, 7x cheaper than the
# regular expression, which still splits every other caption (any other character, non-ASCII included).
_SPLIT_WORDS_SQL = (
    "CASE WHEN regexp_matches(replace(lc, ', ', ' '), '[^a-z0-9 ]') "
    f"THEN regexp_split_to_array(lc, '{CAPTION_SPLIT_SQL}') ELSE string_split(replace(lc, ', ', ' '), ' ') END"
)
_ESCAPE_RE = r"(^|/)\.\.(/|$)"
# strict_mode: a row with too many columns is rejected (reported as bad_csv_row), not silently cut.
_CSV_OPTS = "header=true, delim=',', quote='\"', escape='\"', auto_detect=false, strict_mode=true"
# The caption dictionaries and word index, already in the serving format: each generation's database
# starts as a copy of this file (a file copy, ~1 s at 5.2M, where inserting the tables again took ~7 s).
CAPTIONS_DB = "captions.duckdb"


class Con(Protocol):
    """What the stage needs of the merge's connection (merge._TimedCon)."""

    def execute(self, sql: str, *args: Any) -> Any: ...


@dataclass(frozen=True)
class CsvStage:
    """A finished CSV stage: its folder (Parquet files), key, and the subsets (one bit per CSV)."""

    folder: Path
    key: str
    subsets: list[dict[str, Any]]
    has_csvs: bool
    reused: bool

    def file(self, name: str) -> str:
        """The SQL literal of one of its Parquet files."""
        return sql_literal(str(self.folder / f"{name}.parquet"))


def _key(layout: DatasetLayout) -> str:
    """What the stage's output depends on: the CSVs (content fingerprints, names, order, subsets) and
    the rules that read them."""
    desc = {
        "format": CSV_STAGE_FORMAT,
        "max_subsets": MAX_SUBSETS,
        "split": CAPTION_SPLIT_SQL,
        "hash_ids": HASH_CAPTION_IDS,
        "csvs": [[c.relpath, c.fingerprint(), c.priority, c.rewritten, c.subset, c.label] for c in layout.csvs],
    }
    return hashlib.sha1(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:16]


def _no_step(label: str) -> None:
    """A step callback that ignores the steps (no progress shown)."""


def _stage_folder(layout: DatasetLayout, cache_root: Path) -> tuple[str, Path, bool]:
    """The key of ``layout``'s CSV stage, its folder, and whether a finished stage is there."""
    key = _key(layout)
    folder = cache_root / f"csv-{key}"
    return key, folder, (folder / "stage.json").is_file()


def csv_stage_steps(layout: DatasetLayout, cache_root: Path) -> int:
    """How many steps (skyscript_viz.mergesteps) :func:`csv_stage` will report: none when reused."""
    return 0 if _stage_folder(layout, cache_root)[2] else len(layout.csvs) + 5


def csv_stage(con: Con, layout: DatasetLayout, cache_root: Path, step: Callable[[str], None] = _no_step) -> CsvStage:
    """The CSV stage of ``layout``: reused from ``cache_root`` when its CSVs are unchanged, else built
    there (into a temporary folder renamed when complete); ``step`` is told as each of its steps starts."""
    key, folder, reused = _stage_folder(layout, cache_root)
    if not reused:

        def write(tmp: Path) -> None:
            subsets = _build(con, layout, tmp, step)
            (tmp / "stage.json").write_text(json.dumps({"subsets": subsets}))

        build_folder(folder, "stage.json", write)
    subsets = json.loads((folder / "stage.json").read_text())["subsets"]
    return CsvStage(folder, key, subsets, bool(layout.csvs), reused)


def build_folder(folder: Path, marker: str, write: Callable[[Path], None]) -> None:
    """Have ``write`` fill a temporary folder beside ``folder`` and rename it into place; a folder that
    another build finished first (it holds ``marker``) is kept. A failed write leaves nothing behind."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    # the pid last: build._left_by_dead_run removes the folder if this process is killed
    tmp = folder.parent / f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}-{os.getpid()}"
    tmp.mkdir()
    try:
        write(tmp)
        if folder.is_dir() and not (folder / marker).is_file():
            shutil.rmtree(folder, ignore_errors=True)  # left incomplete (a file of it removed): replaced
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / marker).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def db_path_in(folder: Path, name: str) -> tuple[Path, Path | None]:
    """Where to write the DuckDB database ``folder/name``, and the temporary folder used for it if any.

    DuckDB cuts a database path at ``?`` when it names the write-ahead log, so under a root whose path
    holds one the database is written in a temporary folder and moved into place."""
    if "?" not in str(folder.resolve()):
        return folder / name, None
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="skyscript-viz-"))
    return tmp / name, tmp


def _csv_header(path: Path) -> list[str]:
    """Column names of a CSV (duplicates made unique), read with the csv module."""
    import csv

    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader(f), [])
    names: list[str] = []
    for h in header:
        name = h.strip().lstrip("\ufeff") or "column"
        while name in names:
            name += "_"
        names.append(name)
    return names


def _build(con: Con, layout: DatasetLayout, out: Path, step: Callable[[str], None]) -> list[dict[str, Any]]:
    """Read the CSVs and write the stage's Parquet files into ``out``; returns the subsets."""
    subsets, rejects, lenient_notes = _read_csvs(con, layout, step)
    step("caption CSVs: grouping their rows by image")
    # Per file path: which CSVs hold it (a bit each) and in how many rows, the caption of the most
    # inclusive CSV, and whether the CSVs disagree on it.
    # The caption row is picked by number (the first row of the most inclusive CSV: priority, then row)
    # and its texts joined back: carrying the texts through the grouping took twice as long at 5.2M.
    con.execute(f"""CREATE TABLE capgroups AS SELECT fp,
                      bit_or(CASE WHEN csv_idx < {MAX_SUBSETS} THEN (1::BIGINT) << csv_idx ELSE 0 END) AS subsets,
                      count(*)::INTEGER AS n_rows,
                      min((prio::BIGINT << 40) | rowid) & {(1 << 40) - 1} AS pick,
                      min(hash(title, title_multi_objects)) FILTER (WHERE NOT rewritten)
                        <> max(hash(title, title_multi_objects)) FILTER (WHERE NOT rewritten) AS conflict
                   FROM csvrows WHERE ok GROUP BY fp""")
    con.execute("""CREATE TABLE caps AS SELECT g.fp, g.subsets, g.n_rows, r.title, r.title_multi_objects, g.conflict
                   FROM capgroups g JOIN csvrows r ON r.rowid = g.pick""")
    con.execute("DROP TABLE capgroups")
    csv_probs = _csv_problem_selects(layout, rejects, lenient_notes)
    con.execute(
        f"COPY ({' UNION ALL '.join(csv_probs)}) TO {sql_literal(str(out / 'problems.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
    )
    # The rows the bits do not tell (a path twice in one CSV, CSVs past the 63rd): one row per CSV row,
    # for the problems of rows whose image is missing. A list per path in ``caps`` cost 2.5x its grouping.
    con.execute(f"""COPY (SELECT r.fp, r.csv_idx FROM csvrows r
                          SEMI JOIN (SELECT fp FROM caps WHERE n_rows <> bit_count(subsets)) x ON r.fp = x.fp
                          WHERE r.ok ORDER BY r.fp, r.csv_idx)
                    TO {sql_literal(str(out / "rows.parquet"))} (FORMAT parquet, COMPRESSION zstd)""")
    con.execute("DROP TABLE csvrows")
    cap_path, cap_tmp = db_path_in(out, CAPTIONS_DB)
    con.execute(f"ATTACH {sql_literal(str(cap_path))} AS capdb")
    _caption_dictionaries(con, step)
    step("caption CSVs: the caption ids of each image")
    # Sorted by path, so a part's merge reads only the row groups of its own folder's paths.
    con.execute(f"""COPY (SELECT c.*, ct.cap_id AS title_cid, cm.cap_id AS multi_cid
                          FROM caps c
                          LEFT JOIN {_caption_id_join(con, "caption_titles", "ct", "c.title")}
                          LEFT JOIN {_caption_id_join(con, "caption_multis", "cm", "c.title_multi_objects")}
                          ORDER BY c.fp)
                    TO {sql_literal(str(out / "caps.parquet"))} (FORMAT parquet, COMPRESSION zstd)""")
    con.execute("DROP TABLE caps")
    con.execute("DETACH capdb")
    if cap_tmp is not None:
        shutil.move(cap_path, out / CAPTIONS_DB)
        shutil.rmtree(cap_tmp, ignore_errors=True)
    return subsets


def _read_csvs(
    con: Con, layout: DatasetLayout, step: Callable[[str], None]
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Every caption CSV into ``csvrows``; returns the subsets (one bit each), and the problem SELECTs
    of rejected lines and of CSVs read leniently."""
    import duckdb

    # Caption CSVs, read straight into one table (no per-CSV copy); ``ok``: the path stays in the root.
    con.execute("""CREATE TABLE csvrows (csv_idx INTEGER, prio INTEGER, rewritten BOOLEAN, raw_fp VARCHAR,
                   fp VARCHAR, ok BOOLEAN, title VARCHAR, title_multi_objects VARCHAR)""")
    rejects: list[str] = []
    subsets: list[dict[str, Any]] = []
    lenient_notes: list[str] = []
    for i, c in enumerate(layout.csvs):
        step(f"caption CSVs: reading {c.relpath}")
        names = _csv_header(c.path)
        opts = _CSV_OPTS + ", columns={" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
        title = "title" if "title" in names else "NULL"
        multi = "title_multi_objects" if "title_multi_objects" in names else "NULL"
        read_sql = f"""INSERT INTO csvrows SELECT {i}, {c.priority * 100 + i}, {str(c.rewritten).lower()}, raw_fp, fp,
                          fp <> '' AND NOT (contains(fp, '..') AND regexp_matches(fp, '{_ESCAPE_RE}'))
                          AND NOT starts_with(fp, '/')
                          AND NOT (substr(fp, 2, 1) = ':' AND regexp_matches(fp, '^[A-Za-z]:')),
                          title, title_multi_objects
                        FROM (SELECT raw_fp, title, title_multi_objects,
                                CASE WHEN contains(raw_fp, '\\') OR starts_with(raw_fp, './')
                                     THEN regexp_replace(replace(raw_fp, '\\', '/'), '^(\\./)+', '')
                                     ELSE coalesce(raw_fp, '') END AS fp
                              FROM (SELECT filepath AS raw_fp, {title} AS title, {multi} AS title_multi_objects
                                    FROM read_csv({sql_literal(str(c.path))}, {{opts}}, store_rejects=true,
                                                  rejects_table='rej{i}', rejects_scan='rscan{i}')))"""
        try:
            con.execute(read_sql.format(opts=opts))
        except duckdb.InvalidInputException as exc:
            # e.g. mixed line endings, which the strict parser refuses as a whole: read leniently
            # (rows with extra columns are then cut, not rejected) and say so.
            con.execute(read_sql.format(opts=opts.replace("strict_mode=true", "strict_mode=false")))
            note = f"{c.relpath}: not standard CSV ({str(exc).splitlines()[0][:120]}); read leniently, extra columns may have been cut"
            lenient_notes.append(f"""SELECT NULL::VARCHAR AS filepath, 'bad_csv_row' AS kind,
                {sql_literal(note)} AS detail, {sql_literal(c.relpath)} AS origin""")
        # One problem per rejected line (a line with too many columns is rejected once per extra column).
        rejects.append(f"""SELECT NULL::VARCHAR AS filepath, 'bad_csv_row' AS kind,
                           {sql_literal(c.relpath)} || ' line ' || line || ': ' || msg || ' — '
                           || left(csv_line, 120) AS detail, {sql_literal(c.relpath)} AS origin
                           FROM (SELECT line, arg_max(error_message, coalesce(column_idx, 0)) AS msg,
                                        any_value(csv_line) AS csv_line FROM rej{i} GROUP BY line)""")
        if i < MAX_SUBSETS:
            subsets.append({"slug": c.subset, "label": c.label, "csv": c.relpath, "bit": i})
    return subsets, rejects, lenient_notes


def csv_name_case(layout: DatasetLayout, column: str = "csv_idx") -> str:
    """SQL giving the relative path of the CSV numbered ``column``."""
    names = {i: c.relpath for i, c in enumerate(layout.csvs)}
    if not names:
        return "NULL"
    return f"CASE {column} " + " ".join(f"WHEN {i} THEN {sql_literal(n)}" for i, n in names.items()) + " END"


def _csv_problem_selects(layout: DatasetLayout, rejects: list[str], lenient_notes: list[str]) -> list[str]:
    """The problems found in the CSVs alone (all columns: filepath, kind, detail, origin)."""
    csv_case = csv_name_case(layout)
    return [
        f"""SELECT coalesce(raw_fp, '') AS filepath, 'path_escape' AS kind,
               {csv_case} || ': path leaves the dataset root; never read' AS detail, {csv_case} AS origin
            FROM csvrows WHERE fp <> '' AND NOT ok""",
        f"""SELECT coalesce(raw_fp, '') AS filepath, 'bad_csv_row' AS kind,
               {csv_case} || ': empty filepath' AS detail, {csv_case} AS origin
            FROM csvrows WHERE fp = ''""",
        """SELECT fp AS filepath, 'duplicate_caption_conflict' AS kind,
               'captions differ between caption CSV rows; the most inclusive CSV''s caption is shown'
               AS detail, 'csv' AS origin
            FROM caps WHERE conflict""",
        *rejects,
        *lenient_notes,
    ]


def _caption_id_join(con: Con, table: str, alias: str, text: str) -> str:
    """The join giving each path its caption id from dictionary ``table``: by the 64-bit hash of the
    text when no two captions of the dictionary share one (checked), so the join table holds two integers
    per caption instead of its text; else by the text itself."""
    if HASH_CAPTION_IDS:
        shared = con.execute(
            f"SELECT count(*) FROM (SELECT hash(text) AS h FROM capdb.{table} GROUP BY h HAVING count(*) > 1)"
        )
        if shared.fetchone()[0] == 0:
            # hash(NULL) is a number too: a path without this caption must match nothing
            key = f"CASE WHEN {text} IS NOT NULL THEN hash({text}) END"
            return f"(SELECT hash(text) AS h, cap_id FROM capdb.{table}) {alias} ON {alias}.h = {key}"
    return f"capdb.{table} {alias} ON {alias}.text = {text}"


def _caption_dictionaries(con: Con, step: Callable[[str], None]) -> None:
    """The caption dictionaries and word index, from ``caps``, into the attached ``capdb``."""
    step("caption CSVs: the caption dictionaries")
    # Caption dictionaries: rule-built captions repeat (SkyScript has ~0.1M distinct titles and ~1.2M
    # distinct multi-object captions for 5.2M images), so a caption search scans the distinct, already
    # lower-cased texts and maps the hits back through integer ids.
    for column, table in (("title", "caption_titles"), ("title_multi_objects", "caption_multis")):
        con.execute(f"""CREATE TABLE capdb.{table} AS
                        SELECT (row_number() OVER (ORDER BY text) - 1)::INTEGER AS cap_id, text, lower(text) AS lc
                        FROM (SELECT DISTINCT {column} AS text FROM caps WHERE {column} IS NOT NULL)""")
    # Caption words (lower-case runs of [a-z0-9], CAPTION_WORD_RE): word -> caption ids, so a caption
    # search looks up the candidates of its rarest word instead of scanning every distinct caption.
    step("caption CSVs: the words of each caption")
    # Two statements: split then sort. As one, DuckDB 1.x ran out of memory at 5.2M under a 2 GB limit
    # (the unnest's output is not spilled while the sort holds its own), split it fits; 2.0.1 still does
    # (at 300K the fused statement fails under 80 MB, the two run in 40 MB).
    con.execute(f"""CREATE TABLE capwords AS
                      SELECT unnest(list_distinct({_SPLIT_WORDS_SQL})) AS word, 0::TINYINT AS kind, cap_id
                      FROM capdb.caption_titles
                      UNION ALL
                      SELECT unnest(list_distinct({_SPLIT_WORDS_SQL})) AS word, 1::TINYINT AS kind, cap_id
                      FROM capdb.caption_multis""")
    step("caption CSVs: sorting the word index")
    con.execute("""CREATE TABLE capdb.caption_words AS SELECT word, kind, cap_id FROM capwords
                   WHERE word <> '' ORDER BY word, kind, cap_id""")
    con.execute("DROP TABLE capwords")
    con.execute("""CREATE TABLE capdb.caption_vocab AS SELECT word, count(*)::INTEGER AS n FROM capdb.caption_words
                   GROUP BY word ORDER BY word""")
