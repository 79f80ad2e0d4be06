"""The merge: every part's Parquet files and the caption CSVs into one generation's serving database.

DuckDB runs the whole merge as SQL over a scratch database in the index folder (working tables that
spill under its memory limit) with the serving database ``index.duckdb`` attached as ``db``: images
(with captions, subset flags, tag bitmasks, caption ids, byte locations), tags, vocab, keys, problems,
tag bits and the caption dictionaries and word index. ``build`` calls :func:`merge` once per build.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from . import settings
from .discovery import DatasetLayout, Part
from .query import sql_literal

__all__ = ["CAPTION_SPLIT_SQL", "MAX_SUBSETS", "TAG_BITS", "TAG_BIT_COLUMNS", "merge"]

CAPTION_SPLIT_SQL = "[^a-z0-9]+"  # what separates caption words (same rule as query.CAPTION_WORD_RE)
MAX_SUBSETS = 63  # caption CSVs that get a bit in the 64-bit subsets mask; later ones still give captions
TAG_BITS = 62  # frequent keys (and pairs) that get a bit in the images table
TAG_BIT_COLUMNS = tuple(f"tb_{kind}s_{role}" for kind in ("key", "pair") for role in ("any", "focus", "surr"))


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


def _db_path(gen_dir: Path) -> tuple[Path, Path | None]:
    """Where to write the serving database, and the temporary folder used for it if any.

    DuckDB cuts a database path at ``?`` when it names the write-ahead log, so under a root whose path
    holds one the database is written in a temporary folder and moved into place."""
    if "?" not in str(gen_dir.resolve()):
        return gen_dir / "index.duckdb", None
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="skyscript-viz-"))
    return tmp / "index.duckdb", tmp


class _TimedCon:
    """A DuckDB connection that records how long each statement took (kept in info.json)."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.timings: list[tuple[str, float]] = []

    def execute(self, sql: str, *args: Any) -> Any:
        t0 = time.perf_counter()
        out = self._con.execute(sql, *args)
        label = " ".join(sql.split())[:70]
        self.timings.append((label, round(time.perf_counter() - t0, 3)))
        if settings.current().timings:
            print(f"  {self.timings[-1][1]:8.2f}s  {label}", flush=True)
        return out

    def close(self) -> None:
        self._con.close()


HASH_CAPTION_IDS = True  # tests turn it off to check the text join gives the same ids


def _caption_id_join(con: _TimedCon, table: str, alias: str, text: str) -> str:
    """The join giving each image its caption id from dictionary ``table``: by the 64-bit hash of the
    text when no two captions of the dictionary share one (checked), so the join table holds two integers
    per caption instead of its text; else by the text itself."""
    if HASH_CAPTION_IDS:
        shared = con.execute(
            f"SELECT count(*) FROM (SELECT hash(text) AS h FROM db.{table} GROUP BY h HAVING count(*) > 1)"
        )
        if shared.fetchone()[0] == 0:
            # hash(NULL) is a number too: an image without this caption must match nothing
            key = f"CASE WHEN {text} IS NOT NULL THEN hash({text}) END"
            return f"(SELECT hash(text) AS h, cap_id FROM db.{table}) {alias} ON {alias}.h = {key}"
    return f"db.{table} {alias} ON {alias}.text = {text}"


def merge(
    layout: DatasetLayout, part_dirs: list[tuple[Part, Path]], gen_dir: Path, memory_limit: str
) -> dict[str, Any]:
    """The parts and caption CSVs into one serving database in ``gen_dir``; returns its counts and the
    slowest statements. Each step below builds working tables the later ones read (names in their
    docstrings), in an order that keeps the working set under DuckDB's memory limit."""
    con, tmpdir, scratch_tmp, db_path, db_tmp = _open_merge(gen_dir, memory_limit)
    offsets = _part_offsets(part_dirs)
    union_imgs = _images_union(offsets)
    _merge_vocab_and_tags(con, offsets)
    subsets, rejects, lenient_notes = _merge_csvs(con, layout)
    # The image rows with their captions, read from the parts in the same statement (one working copy).
    # db.images then reads this table, not the parts again: joined there, the parts' wide rows, the
    # join tables and the sort needed more memory than DuckDB's limit allows (at 300K under 200 MB).
    con.execute(f"""CREATE TABLE imgs AS SELECT i.*, caps.title, caps.title_multi_objects,
                      coalesce(caps.subsets, 0)::BIGINT AS subsets, caps.fp IS NOT NULL AS in_csv
                    FROM ({union_imgs}) i LEFT JOIN caps ON i.filepath = caps.fp""")

    con.execute(
        "CREATE TABLE probs AS " + " UNION ALL ".join(_problem_selects(layout, offsets, rejects, lenient_notes))
    )
    for done in ("csvrows", "caps"):  # the largest working tables: their blocks are not needed any more
        con.execute(f"DROP TABLE {done}")
    con.execute("""CREATE TABLE probs_id AS SELECT i.id, p.* FROM probs p
                   LEFT JOIN imgs i ON p.filepath = i.filepath""")
    con.execute("""CREATE TABLE db.problems AS SELECT id, filepath, kind, detail, origin FROM probs_id
                   ORDER BY kind, filepath""")
    _tag_bitmasks(con)
    _caption_dictionaries(con)
    con.execute(f"""CREATE TABLE db.images AS SELECT i.*,
                      {", ".join(f"coalesce(b.{c}, 0) AS {c}" for c in TAG_BIT_COLUMNS)},
                      ct.cap_id AS title_cid, cm.cap_id AS multi_cid
                    FROM ({_images_select(subsets)}) i
                    LEFT JOIN img_bits b ON b.image_id = i.id
                    LEFT JOIN {_caption_id_join(con, "caption_titles", "ct", "i.title")}
                    LEFT JOIN {_caption_id_join(con, "caption_multis", "cm", "i.title_multi_objects")}
                    ORDER BY i.id""")
    con.execute("""CREATE TABLE db.keys AS
                   SELECT v.key, min(v.kv_id) AS kv_lo, max(v.kv_id) AS kv_hi, count(*) AS n_values,
                          coalesce(any_value(c.n_focus), 0) AS n_focus,
                          coalesce(any_value(c.n_surrounding), 0) AS n_surrounding,
                          coalesce(any_value(c.n_images), 0) AS n_images
                   FROM db.vocab v LEFT JOIN keycounts c USING (key) GROUP BY v.key ORDER BY v.key""")
    con.execute("DETACH db")
    if db_tmp is not None:
        shutil.move(db_path, gen_dir / "index.duckdb")
        shutil.rmtree(db_tmp, ignore_errors=True)

    n_images = con.execute("SELECT count(*) FROM imgs").fetchone()[0]
    per_source_year = con.execute(
        "SELECT coalesce(source, '?'), coalesce(year, 0), count(*) FROM imgs GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    by_kind = dict(con.execute("SELECT kind, count(*) FROM probs GROUP BY kind ORDER BY kind").fetchall())
    con.close()
    shutil.rmtree(tmpdir, ignore_errors=True)
    if scratch_tmp is not None:
        shutil.rmtree(scratch_tmp, ignore_errors=True)
    return {
        "timings": sorted(con.timings, key=lambda t: -t[1])[:15],
        "n_images": n_images,
        "per_source_year": per_source_year,
        "problems_by_kind": by_kind,
        "subsets": subsets,
    }


def _open_merge(gen_dir: Path, memory_limit: str) -> tuple[_TimedCon, Path, Path | None, Path, Path | None]:
    """The merge's connection: a scratch database (working tables) with the serving database attached
    as ``db``; returns it, the spill folder, and the paths _db_path gave for both databases."""
    import duckdb

    # The working tables (13M caption CSV rows, the image rows…) live in a scratch database file in the
    # index folder, not in memory: DuckDB evicts their blocks under memory_limit instead of failing.
    tmpdir = gen_dir / ".duckdb_tmp"
    tmpdir.mkdir(exist_ok=True)
    scratch, scratch_tmp = _db_path(tmpdir)
    con = _TimedCon(duckdb.connect(str(scratch.with_name("scratch.duckdb"))))
    # Bounded: what does not fit spills to a folder inside the index folder (the machine's temp folder
    # may be a small RAM disk), and the thread count is fixed so the memory per thread is known.
    con.execute(f"SET memory_limit={sql_literal(memory_limit)}")
    con.execute(f"SET threads={max(1, os.cpu_count() or 1)}")
    con.execute(f"SET temp_directory={sql_literal(str(tmpdir))}")
    con.execute("SET preserve_insertion_order=false")
    con.execute("SET enable_progress_bar=false")
    # The scratch database is thrown away: no automatic checkpoints (one after a small caption CSV's
    # insert rewrote and vacuumed the whole csvrows table: ~1 s of 7 at 300K). The serving database is
    # still checkpointed when it is detached.
    con.execute("SET checkpoint_threshold='1TB'")
    # The serving tables are written once, straight into the database the app opens.
    db_path, db_tmp = _db_path(gen_dir)
    con.execute(f"ATTACH {sql_literal(str(db_path))} AS db")

    return con, tmpdir, scratch_tmp, db_path, db_tmp


def _part_offsets(part_dirs: list[tuple[Part, Path]]) -> list[tuple[int, int, Path]]:
    """(part number, id of its first image, folder) of each part: ids follow (part, filepath) order."""
    offsets: list[tuple[int, int, Path]] = []
    off = 0
    for part, d in part_dirs:
        n = json.loads((d / "stats.json").read_text())["n"]
        offsets.append((part.number, off, d))
        off += n
    return offsets


def _images_union(offsets: list[tuple[int, int, Path]]) -> str:
    """One SELECT over every part's image rows, with global ids."""
    return (
        " UNION ALL ".join(
            f"SELECT local + {o} AS id, * EXCLUDE (local) FROM read_parquet({sql_literal(str(d / 'images.parquet'))})"
            for _, o, d in offsets
        )
        or "SELECT NULL::INTEGER AS id WHERE false"
    )


def _merge_vocab_and_tags(con: _TimedCon, offsets: list[tuple[int, int, Path]]) -> None:
    """``gv`` (global vocabulary), ``db.tags``, ``db.vocab`` and ``keycounts`` from the parts' tables."""
    # Vocabulary: global ids in (key, value) order so that all values of one key form a contiguous range.
    union_vocab = " UNION ALL ".join(
        f"SELECT {i} AS p, kv, key, value, n_focus, n_surrounding, n_images "
        f"FROM read_parquet({sql_literal(str(d / 'vocab.parquet'))})"
        for i, (_, _, d) in enumerate(offsets)
    )
    union_tags = " UNION ALL ".join(
        f"SELECT {i} AS p, local + {o} AS image_id, role, obj, kv FROM "
        f"read_parquet({sql_literal(str(d / 'tags.parquet'))})"
        for i, (_, o, d) in enumerate(offsets)
    )
    if offsets:
        con.execute(f"CREATE TABLE pv AS {union_vocab}")
        # Parts hold disjoint images, so per-part image counts add up.
        con.execute("""CREATE TABLE gv AS SELECT (row_number() OVER (ORDER BY key, value) - 1)::INTEGER
                       AS kv_id, key, value, n_focus, n_surrounding, n_images
                       FROM (SELECT key, value, sum(n_focus)::BIGINT AS n_focus,
                                    sum(n_surrounding)::BIGINT AS n_surrounding, sum(n_images)::BIGINT AS n_images
                             FROM pv GROUP BY key, value)""")
        con.execute("""CREATE TABLE pmap AS SELECT pv.p, pv.kv, gv.kv_id FROM pv
                       JOIN gv ON pv.key = gv.key AND pv.value = gv.value""")
        con.execute(f"""CREATE TABLE db.tags AS SELECT m.kv_id, t.image_id::INTEGER AS image_id, t.role, t.obj
                        FROM ({union_tags}) t JOIN pmap m ON t.p = m.p AND t.kv = m.kv
                        ORDER BY m.kv_id, t.image_id""")
    else:
        con.execute("""CREATE TABLE gv (kv_id INTEGER, key VARCHAR, value VARCHAR, n_focus BIGINT,
                       n_surrounding BIGINT, n_images BIGINT)""")
        con.execute("""CREATE TABLE db.tags (kv_id INTEGER, image_id INTEGER, role TINYINT, obj INTEGER)""")
    # The same rows in image order, for one image's tags (the selected image): ``db.tags`` is in tag
    # order for the filters, so finding one image there scans most of it (~70% of its row groups at
    # 5.2M images, 80-360 ms). Sorted by image, each row group covers a narrow id range and a lookup
    # reads one. Copied from ``db.tags`` (5.7 s at 5.2M, as long as repeating the parts' scan and join).
    con.execute("""CREATE TABLE db.image_tags AS SELECT image_id, role, obj, kv_id FROM db.tags
                   ORDER BY image_id""")
    con.execute("""CREATE TABLE db.vocab AS SELECT kv_id, key, value, n_focus, n_surrounding, n_images FROM gv
                   ORDER BY kv_id""")
    union_keys = (
        " UNION ALL ".join(
            f"SELECT key, n_focus, n_surrounding, n_images FROM read_parquet({sql_literal(str(d / 'keys.parquet'))})"
            for _, _, d in offsets
        )
        or "SELECT NULL::VARCHAR AS key, 0 AS n_focus, 0 AS n_surrounding, 0 AS n_images WHERE false"
    )
    con.execute(f"""CREATE TABLE keycounts AS SELECT key, sum(n_focus)::BIGINT AS n_focus,
                    sum(n_surrounding)::BIGINT AS n_surrounding, sum(n_images)::BIGINT AS n_images
                    FROM ({union_keys}) GROUP BY key""")


def _merge_csvs(con: _TimedCon, layout: DatasetLayout) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Every caption CSV into ``csvrows`` and, grouped by path, ``caps``; returns the subsets (one bit
    each), and the problem SELECTs of rejected lines and of CSVs read leniently."""
    import duckdb

    # Caption CSVs, read straight into one table (no per-CSV copy); ``ok``: the path stays in the root.
    con.execute("""CREATE TABLE csvrows (csv_idx INTEGER, prio INTEGER, rewritten BOOLEAN, raw_fp VARCHAR,
                   fp VARCHAR, ok BOOLEAN, title VARCHAR, title_multi_objects VARCHAR)""")
    rejects: list[str] = []
    subsets: list[dict[str, Any]] = []
    lenient_notes: list[str] = []
    for i, c in enumerate(layout.csvs):
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
            lenient_notes.append(f"""SELECT NULL::VARCHAR AS filepath, 'bad_csv_row' AS kind,
                {
                sql_literal(
                    c.relpath
                    + ": not standard CSV ("
                    + str(exc).splitlines()[0][:120]
                    + "); read leniently, extra columns may have been cut"
                )
            } AS detail,
                {sql_literal(c.relpath)} AS origin""")
        # One problem per rejected line (a line with too many columns is rejected once per extra column).
        rejects.append(f"""SELECT NULL::VARCHAR AS filepath, 'bad_csv_row' AS kind,
                           {sql_literal(c.relpath)} || ' line ' || line || ': ' || msg || ' — '
                           || left(csv_line, 120) AS detail, {sql_literal(c.relpath)} AS origin
                           FROM (SELECT line, arg_max(error_message, coalesce(column_idx, 0)) AS msg,
                                        any_value(csv_line) AS csv_line FROM rej{i} GROUP BY line)""")
        if i < MAX_SUBSETS:
            subsets.append({"slug": c.subset, "label": c.label, "csv": c.relpath, "bit": i})
    con.execute(f"""CREATE TABLE caps AS SELECT fp,
                      bit_or(CASE WHEN csv_idx < {MAX_SUBSETS} THEN (1::BIGINT) << csv_idx ELSE 0 END) AS subsets,
                      arg_min(title, prio) AS title,
                      arg_min(title_multi_objects, prio) AS title_multi_objects,
                      min(hash(title, title_multi_objects)) FILTER (WHERE NOT rewritten)
                        <> max(hash(title, title_multi_objects)) FILTER (WHERE NOT rewritten) AS conflict
                   FROM csvrows WHERE ok GROUP BY fp""")
    return subsets, rejects, lenient_notes


def _problem_selects(
    layout: DatasetLayout, offsets: list[tuple[int, int, Path]], rejects: list[str], lenient_notes: list[str]
) -> list[str]:
    """The SELECTs whose union is the problems table: the parts', the CSVs' and the cross checks."""
    csv_names = {i: c.relpath for i, c in enumerate(layout.csvs)}
    csv_case = (
        "CASE csv_idx " + " ".join(f"WHEN {i} THEN {sql_literal(n)}" for i, n in csv_names.items()) + " END"
        if csv_names
        else "NULL"
    )
    problem_sql: list[str | None] = [
        """SELECT filepath, kind, detail, 'meta' AS origin FROM ("""
        + " UNION ALL ".join(
            f"SELECT * FROM read_parquet({sql_literal(str(d / 'problems.parquet'))})" for _, _, d in offsets
        )
        + ")"
        if offsets
        else None,
        f"""SELECT coalesce(raw_fp, '') AS filepath, 'path_escape' AS kind,
               {csv_case} || ': path leaves the dataset root; never read' AS detail, {csv_case} AS origin
            FROM csvrows WHERE fp <> '' AND NOT ok""",
        f"""SELECT coalesce(raw_fp, '') AS filepath, 'bad_csv_row' AS kind,
               {csv_case} || ': empty filepath' AS detail, {csv_case} AS origin
            FROM csvrows WHERE fp = ''""",
        f"""SELECT c.fp AS filepath, 'csv_row_without_image' AS kind,
               {csv_case.replace("csv_idx", "c.csv_idx")} || ': no such image in the dataset' AS detail,
               {csv_case.replace("csv_idx", "c.csv_idx")} AS origin
            FROM csvrows c ANTI JOIN imgs ON c.fp = imgs.filepath WHERE c.ok""",
        """SELECT fp AS filepath, 'duplicate_caption_conflict' AS kind,
               'captions differ between caption CSV rows; the most inclusive CSV''s caption is shown'
               AS detail, 'csv' AS origin
            FROM caps WHERE conflict""",
        *rejects,
        *lenient_notes,
    ]
    if layout.csvs:
        problem_sql.append("""SELECT filepath, 'image_without_csv_row' AS kind,
                 'image is in no caption CSV' AS detail, 'csv' AS origin
               FROM imgs WHERE has_image AND NOT in_csv""")
        # A rule-built caption should name the focus object: some word (3+ letters, plural folded) of a
        # focus tag's key or value, or of its usual caption phrase, must appear in the captions, spaces
        # ignored ("beachvolleyball" matches "beach volleyball court", fuel matches "gas station").
        problem_sql.append("""SELECT filepath, 'caption_misses_tag' AS kind,
                 'no word of the focus tags (' || focus_words || ') appears in the captions' AS detail,
                 'check' AS origin
               FROM (SELECT filepath, focus_words, ws, regexp_replace(lc, '[^a-z]', '', 'g') AS cap FROM (
                       SELECT filepath, focus_words, string_split(focus_words, ' ') AS ws,
                              lower(coalesce(title, '') || coalesce(title_multi_objects, '')) AS lc
                       FROM imgs WHERE title IS NOT NULL AND focus_words <> '')
                     -- a word found in the plain lower-case text is found with the spaces removed too:
                     -- only the few captions failing this test pay for the regexp
                     WHERE NOT list_bool_or(list_transform(ws, lambda x: contains(lc, x))))
               WHERE NOT list_bool_or(list_transform(ws, lambda x: contains(cap, x)))""")
    return [s for s in problem_sql if s]


def _images_select(subsets: list[dict[str, Any]]) -> str:
    """The serving images rows from ``imgs``: subset flags, centre, Mercator y, size, caption length,
    problem count."""
    subset_cols = ", ".join(f"((f.subsets >> {s['bit']}) & 1 = 1) AS in_{s['slug']}" for s in subsets)
    return f"""SELECT f.* EXCLUDE (focus_words, in_csv){", " + subset_cols if subset_cols else ""},
                      CASE WHEN box_valid THEN (west + east) / 2 END AS cx,
                      CASE WHEN box_valid THEN (south + north) / 2 END AS cy,
                      CASE WHEN box_valid THEN degrees(ln(tan(pi() / 4 + radians((south + north) / 2) / 2)))
                           END AS my,
                      CASE WHEN box_valid THEN ((east - west) * 111320 * cos(radians((south + north) / 2)))
                           END::FLOAT AS width_m,
                      CASE WHEN box_valid THEN ((north - south) * 110574) END::FLOAT AS height_m,
                      length(coalesce(f.title_multi_objects, f.title, ''))::INTEGER AS caption_len,
                      coalesce(p.n, 0)::SMALLINT AS n_problems
                    FROM imgs f
                    LEFT JOIN (SELECT id, count(*) AS n FROM probs_id WHERE id IS NOT NULL GROUP BY id) p
                    USING (id)"""


def _tag_bitmasks(con: _TimedCon) -> None:
    """``db.tag_bits`` and ``img_bits`` (each image's masks of the most frequent tags)."""
    # The serving tables live in one DuckDB database file (compressed, buffer-managed, zone maps per
    # 2,048 rows), opened read-only by the app; exports give Parquet/CSV of any selection.
    # Tag bitmasks: the TAG_BITS most frequent keys and key=value pairs each get a bit, and every image
    # carries which of them it has (on the focus object, a surrounding one, either). A filter on a
    # frequent tag, which would otherwise semi-join millions of tag rows, becomes a bit test.
    con.execute(f"""CREATE TABLE db.tag_bits AS
                    SELECT 'key' AS kind, key, NULL::VARCHAR AS value, bit FROM (
                      SELECT key, (row_number() OVER (ORDER BY n_images DESC, key) - 1)::INTEGER AS bit
                      FROM keycounts) WHERE bit < {TAG_BITS}
                    UNION ALL
                    SELECT 'pair', key, value, bit FROM (
                      SELECT key, value, (row_number() OVER (ORDER BY n_images DESC, kv_id) - 1)::INTEGER AS bit
                      FROM gv) WHERE bit < {TAG_BITS}""")
    # Each tag's two masks are computed once per vocabulary entry. A tag's role is 0 (focus) or 1
    # (surrounding: obj > 0, in partfast._tags and partread._slow_columns), so "any" is focus | surrounding: four aggregates.
    con.execute("""CREATE TABLE kvbits AS
                   SELECT v.kv_id, coalesce(1::BIGINT << k.bit, 0) AS key_mask,
                          coalesce(1::BIGINT << p.bit, 0) AS pair_mask FROM gv v
                   LEFT JOIN (SELECT key, bit FROM db.tag_bits WHERE kind = 'key') k USING (key)
                   LEFT JOIN (SELECT key, value, bit FROM db.tag_bits WHERE kind = 'pair') p
                          ON p.key = v.key AND p.value = v.value
                   WHERE k.bit IS NOT NULL OR p.bit IS NOT NULL""")
    masks = ", ".join(
        f"bit_or(CASE WHEN t.role = {r} THEN b.{kind}_mask ELSE 0 END) AS tb_{kind}s_{role}"
        for kind in ("key", "pair")
        for role, r in (("focus", 0), ("surr", 1))
    )
    con.execute(f"""CREATE TABLE img_bits AS SELECT *, tb_keys_focus | tb_keys_surr AS tb_keys_any,
                      tb_pairs_focus | tb_pairs_surr AS tb_pairs_any
                    FROM (SELECT t.image_id, {masks} FROM db.tags t JOIN kvbits b USING (kv_id) GROUP BY t.image_id)""")


def _caption_dictionaries(con: _TimedCon) -> None:
    """``db.caption_titles``, ``db.caption_multis``, ``db.caption_words`` and ``db.caption_vocab``."""
    # Caption dictionaries: rule-built captions repeat (SkyScript has ~0.1M distinct titles and ~1.2M
    # distinct multi-object captions for 5.2M images), so a caption search scans the distinct, already
    # lower-cased texts and maps the hits back through integer ids.
    for column, table in (("title", "caption_titles"), ("title_multi_objects", "caption_multis")):
        con.execute(f"""CREATE TABLE db.{table} AS
                        SELECT (row_number() OVER (ORDER BY text) - 1)::INTEGER AS cap_id, text, lower(text) AS lc
                        FROM (SELECT DISTINCT {column} AS text FROM imgs WHERE {column} IS NOT NULL)""")
    # Caption words (lower-case runs of [a-z0-9], CAPTION_WORD_RE): word -> caption ids, so a caption
    # search looks up the candidates of its rarest word instead of scanning every distinct caption.
    # Two statements: split then sort. As one, DuckDB 1.x ran out of memory at 5.2M under a 2 GB limit
    # (the unnest's output is not spilled while the sort holds its own), split it fits; 2.0.1 still does
    # (at 300K the fused statement fails under 80 MB, the two run in 40 MB).
    con.execute(f"""CREATE TABLE capwords AS
                      SELECT unnest(list_distinct({_SPLIT_WORDS_SQL})) AS word, 0::TINYINT AS kind, cap_id
                      FROM db.caption_titles
                      UNION ALL
                      SELECT unnest(list_distinct({_SPLIT_WORDS_SQL})) AS word, 1::TINYINT AS kind, cap_id
                      FROM db.caption_multis""")
    con.execute("""CREATE TABLE db.caption_words AS SELECT word, kind, cap_id FROM capwords
                   WHERE word <> '' ORDER BY word, kind, cap_id""")
    con.execute("DROP TABLE capwords")
    con.execute("""CREATE TABLE db.caption_vocab AS SELECT word, count(*)::INTEGER AS n FROM db.caption_words
                   GROUP BY word ORDER BY word""")
