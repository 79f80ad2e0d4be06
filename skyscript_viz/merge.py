"""The merge: every part's Parquet files and the caption CSVs into one generation's serving database.

DuckDB runs the whole merge as SQL over a scratch database in the index folder (working tables that
spill under its memory limit) with the serving database ``index.duckdb`` attached as ``db``: images
(with captions, subset flags, tag bitmasks, caption ids, byte locations), tags, vocab, keys, problems,
tag bits and the caption dictionaries and word index. ``build`` calls :func:`merge` once per build.

Two stages of it are kept on disk for the next build: what comes from the caption CSVs alone
(skyscript_viz.mergecsv) and each part joined with them (skyscript_viz.mergepart). This module runs
the steps that span all parts: image ids, the tag vocabulary, tag rows and bits, the problems table;
over all parts, or, when only some parts changed, as a patch of the previous generation's database
that replaces only their rows (skyscript_viz.mergepatch).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from . import settings
from .discovery import DatasetLayout, Part
from .errors import IndexBuildError
from .mergecsv import (
    CAPTION_SPLIT_SQL,
    CAPTIONS_DB,
    MAX_SUBSETS,
    CsvStage,
    csv_name_case,
    csv_stage,
    csv_stage_steps,
    db_path_in,
)
from .mergepart import Fragment, fragment_name, has_fragment, part_fragment
from .mergepatch import (
    PatchFailed,
    PatchPlan,
    Previous,
    delete_old_rows,
    in_ranges,
    merge_format,
    part_ranges,
    plan_patch,
    same_tag_bits,
)
from .mergesteps import MergeProgressFn, MergeSteps
from .query import sql_literal

__all__ = ["CAPTION_SPLIT_SQL", "MAX_SUBSETS", "TAG_BITS", "TAG_BIT_COLUMNS", "merge"]

TAG_BITS = 62  # frequent keys (and pairs) that get a bit in the images table
TAG_BIT_COLUMNS = tuple(f"tb_{kind}s_{role}" for kind in ("key", "pair") for role in ("any", "focus", "surr"))


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


def merge(
    layout: DatasetLayout,
    part_dirs: list[tuple[Part, Path]],
    gen_dir: Path,
    memory_limit: str,
    cache_root: Path,
    previous: Previous | None = None,
    on_step: MergeProgressFn | None = None,
) -> dict[str, Any]:
    """The parts and caption CSVs into one serving database in ``gen_dir``; returns its counts and the
    slowest statements. ``part_dirs``: (part, folder) in image id order, one entry per piece of a part
    read in pieces. What depends only on the CSVs (skyscript_viz.mergecsv), and on one part joined with
    them (skyscript_viz.mergepart), is reused from ``cache_root`` and the part folders when found there;
    the steps spanning all parts (ids, tag vocabulary and bits, problems) run every time, over all
    parts, or, when only some parts changed, as a patch of ``previous`` (skyscript_viz.mergepatch).
    ``on_step`` is told as each step starts (skyscript_viz.mergesteps)."""
    steps = MergeSteps(on_step)
    con, tmpdir, scratch_tmp, db_path, db_tmp = _open_merge(gen_dir, memory_limit)
    try:
        stage, frags, n_images, per_source_year, by_kind, how = _merge_into(
            con, layout, part_dirs, cache_root, db_path, previous, steps
        )
    except BaseException:
        if db_tmp is not None:  # a whole database copy, maybe in a small temporary folder
            shutil.rmtree(db_tmp, ignore_errors=True)
        raise
    finally:  # also on failure: the connection holds the databases (a retry in this process attaches them)
        con.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
        if scratch_tmp is not None:
            shutil.rmtree(scratch_tmp, ignore_errors=True)
    if db_tmp is not None:
        shutil.move(db_path, gen_dir / "index.duckdb")
        shutil.rmtree(db_tmp, ignore_errors=True)
    steps.finish()
    return {
        "timings": sorted(con.timings, key=lambda t: -t[1])[:15],
        "n_images": n_images,
        "per_source_year": per_source_year,
        "problems_by_kind": by_kind,
        "subsets": stage.subsets,
        "csv_stage": stage.key,
        "fragment": fragment_name(stage),
        "reused": {"csv": stage.reused, "parts": sum(f.reused for f in frags)},
        **how,
        "merge_format": merge_format(),
        "full_size": how.get("full_size") or (gen_dir / "index.duckdb").stat().st_size,
    }


def _merge_into(
    con: _TimedCon,
    layout: DatasetLayout,
    part_dirs: list[tuple[Part, Path]],
    cache_root: Path,
    db_path: Path,
    previous: Previous | None,
    steps: MergeSteps,
) -> tuple[CsvStage, list[Fragment], int, list[tuple[Any, ...]], dict[str, int], dict[str, Any]]:
    """merge's steps on its open connection; returns the stages used, the counts, and how it merged."""
    # The steps planned: the CSV stage's, each part joined with the captions, the vocabulary, then a
    # full merge's (corrected below when the merge patches instead).
    after_parts = 1 + _FULL_STEPS + len(part_dirs)  # the vocabulary, then a full merge's
    steps.plan(csv_stage_steps(layout, cache_root) + len(part_dirs) + after_parts)
    stage = csv_stage(con, layout, cache_root, steps)
    steps.plan(steps.started + sum(not has_fragment(d, stage) for _, d in part_dirs) + after_parts)
    frags = [part_fragment(con, d, stage, functools.partial(steps, _joined_label(p, d))) for p, d in part_dirs]
    offsets, spans, n_total = _part_offsets(part_dirs)
    ranges = part_ranges(part_dirs, spans)
    steps("tags: the vocabulary of every part")
    _vocabulary(con, offsets)
    _choose_tag_bits(con)
    plan, why = plan_patch(previous, fragment_name(stage), ranges, [p.number for p, _ in part_dirs], n_total)
    if plan is not None and previous is not None:
        try:
            con.execute(f"ATTACH {sql_literal(str(previous.db))} AS prev (READ_ONLY)")
            same = same_tag_bits(con, "prev")
            con.execute("DETACH prev")
            if same:
                steps.plan(steps.started + _PATCH_STEPS + len(plan.units))
                steps("copying the previous index")
                shutil.copyfile(previous.db, db_path)
                con.execute(f"ATTACH {sql_literal(str(db_path))} AS db")
                _patch(con, plan, offsets, spans, n_total, frags, steps)
        except Exception as exc:
            raise PatchFailed(str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__) from exc
        if not same:
            plan, why = None, "the most frequent tags changed"
    if plan is None:
        # The serving database starts as a copy of the stage's caption tables; the rest is added to it.
        shutil.copyfile(stage.folder / CAPTIONS_DB, db_path)
        con.execute(f"ATTACH {sql_literal(str(db_path))} AS db")
        _full(con, offsets, spans, n_total, frags, steps)
    steps("the problems table and the counts")
    con.execute(
        "CREATE TABLE db.vocab AS SELECT kv_id, key, value, n_focus, n_surrounding, n_images FROM gv ORDER BY kv_id"
    )
    _problems(con, layout, stage, offsets, frags)
    con.execute("""CREATE TABLE db.keys AS
                   SELECT v.key, min(v.kv_id) AS kv_lo, max(v.kv_id) AS kv_hi, count(*) AS n_values,
                          coalesce(any_value(c.n_focus), 0) AS n_focus,
                          coalesce(any_value(c.n_surrounding), 0) AS n_surrounding,
                          coalesce(any_value(c.n_images), 0) AS n_images
                   FROM db.vocab v LEFT JOIN keycounts c USING (key) GROUP BY v.key ORDER BY v.key""")
    n_images = con.execute("SELECT count(*) FROM db.images").fetchone()[0]
    per_source_year = con.execute(
        "SELECT coalesce(source, '?'), coalesce(year, 0), count(*) FROM db.images GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    by_kind = dict(con.execute("SELECT kind, count(*) FROM db.problems GROUP BY kind ORDER BY kind").fetchall())
    con.execute("DETACH db")
    how: dict[str, Any] = {"part_ranges": ranges, "patched": plan.parts if plan else [], "full_merge_why": why}
    how["patched_since_full"] = 0
    if plan is not None and previous is not None:
        how["full_size"] = previous.info.get("full_size")
        how["patched_since_full"] = int(previous.info.get("patched_since_full", 0)) + len(plan.parts)
    return stage, frags, n_images, per_source_year, by_kind, how


def _joined_label(part: Part, folder: Path) -> str:
    """The step of a part (or piece) joined with the captions."""
    return f"{_unit_label(part.number, folder)}: its images joined with the captions"


def _unit_label(number: int, folder: Path) -> str:
    """How a progress step names a part, or a piece of one (build.part_units: folders s0, s1…)."""
    piece = folder.name[1:] if folder.name[:1] == "s" and folder.name[1:].isdigit() else None
    return f"part {number}" if piece is None else f"part {number} (piece {int(piece) + 1})"


# Steps (skyscript_viz.mergesteps) besides one per part's image rows: a full merge's tag rows, their
# sort and bits, then the problems; a patch's copy, removal, tag rows and bits, then the problems.
_FULL_STEPS = 4
_PATCH_STEPS = 5


def _full(
    con: _TimedCon,
    offsets: list[tuple[int, int, Path]],
    spans: list[tuple[int, int]],
    n_total: int,
    frags: list[Fragment],
    steps: MergeSteps,
) -> None:
    """The tag and image tables of every part into the new serving database ``db``."""
    every = list(range(len(frags)))
    steps("tags: the tag rows of every part")
    _image_tags(con, offsets, frags, every)
    steps("tags: sorting the tag rows by tag")
    # In tag order for the filters: a tag's rows are one run, read through the zone maps of a few row groups.
    con.execute("""CREATE TABLE db.tags AS SELECT kv_id, image_id, role, obj FROM db.image_tags
                   ORDER BY kv_id, image_id""")
    con.execute("CREATE TABLE db.tag_bits AS SELECT kind, key, value, bit FROM tb")
    steps("tags: the bits of the most frequent tags")
    _image_bits(con, "true")
    con.execute("CREATE TABLE db.images AS SELECT NULL::INTEGER AS id WHERE false")  # replaced by the first part's
    _images(con, offsets, spans, frags, every, steps)
    con.execute("DROP TABLE img_bits")
    # One row per id, stored in id order (the app reads rows by position; a part stage whose numbers
    # are not 0..n-1 would break it): checked (~20 ms).
    n, misplaced = con.execute("SELECT count(*), count(*) FILTER (WHERE id <> rowid) FROM db.images").fetchone()
    if (n, misplaced) != (n_total, 0):
        raise IndexBuildError(
            f"merge: {n} image rows for {n_total} images, {misplaced} out of place; rebuild with --force"
        )


def _patch(
    con: _TimedCon,
    plan: PatchPlan,
    offsets: list[tuple[int, int, Path]],
    spans: list[tuple[int, int]],
    n_total: int,
    frags: list[Fragment],
    steps: MergeSteps,
) -> None:
    """The changed parts' rows in place of their old ones, in the attached copy of the previous
    database (skyscript_viz.mergepatch)."""
    steps("removing the changed parts' rows")
    delete_old_rows(con, plan)
    steps("tags: the changed parts' tag rows")
    _image_tags(con, offsets, frags, plan.units)
    written = [spans[k] for k in plan.units]
    con.execute("SET preserve_insertion_order=true")
    con.execute(f"""INSERT INTO db.tags BY NAME SELECT kv_id, image_id, role, obj FROM db.image_tags
                    WHERE {in_ranges("image_id", written)} ORDER BY kv_id, image_id""")
    con.execute("SET preserve_insertion_order=false")
    steps("tags: the bits of the most frequent tags")
    _image_bits(con, in_ranges("image_id", written))
    _images(con, offsets, spans, frags, plan.units, steps)
    # every id once, and each written row's bits those of its tags
    n, distinct, lo, hi = con.execute("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM db.images").fetchone()
    differ = " OR ".join(f"i.{c} <> coalesce(b.{c}, 0)" for c in TAG_BIT_COLUMNS)
    wrong = con.execute(f"""SELECT count(*) FROM db.images i LEFT JOIN img_bits b ON b.image_id = i.id
                            WHERE ({in_ranges("i.id", written)}) AND ({differ})""").fetchone()[0]
    if (n, distinct) != (n_total, n_total) or (n_total and (lo, hi) != (0, n_total - 1)) or wrong:
        raise IndexBuildError(f"merge: the patch left {n} image rows for {n_total} images ({wrong} with wrong bits)")
    con.execute("DROP TABLE img_bits")


def _open_merge(gen_dir: Path, memory_limit: str) -> tuple[_TimedCon, Path, Path | None, Path, Path | None]:
    """The merge's connection on a scratch database (working tables); returns it, the spill folder, and
    the paths db_path_in gave for the scratch and the serving databases."""
    import duckdb

    # The working tables (13M caption CSV rows, the image rows…) live in a scratch database file in the
    # index folder, not in memory: DuckDB evicts their blocks under memory_limit instead of failing.
    tmpdir = gen_dir / ".duckdb_tmp"
    tmpdir.mkdir(exist_ok=True)
    scratch, scratch_tmp = db_path_in(tmpdir, "scratch.duckdb")
    con = _TimedCon(duckdb.connect(str(scratch)))
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
    db_path, db_tmp = db_path_in(gen_dir, "index.duckdb")
    return con, tmpdir, scratch_tmp, db_path, db_tmp


def _part_offsets(
    part_dirs: list[tuple[Part, Path]],
) -> tuple[list[tuple[int, int, Path]], list[tuple[int, int]], int]:
    """(part number, id of its first image, folder) of each unit, its ids [first, end), and the number
    of images: ids follow (part, filepath) order."""
    offsets: list[tuple[int, int, Path]] = []
    spans: list[tuple[int, int]] = []
    off = 0
    for part, d in part_dirs:
        n = json.loads((d / "stats.json").read_text())["n"]
        offsets.append((part.number, off, d))
        spans.append((off, off + n))
        off += n
    return offsets, spans, off


def _images(
    con: _TimedCon,
    offsets: list[tuple[int, int, Path]],
    spans: list[tuple[int, int]],
    frags: list[Fragment],
    units: list[int],
    steps: MergeSteps,
) -> None:
    """``db.images`` (made by the first unit when empty, added to after): the rows of the part stages
    ``units``, one after the other, each with its tag bits (``img_bits``; 0 for an image without).

    The bits are joined by id and each unit's rows sorted by id, on both cores: lining them up by
    position (a POSITIONAL JOIN) ran on one, 5.1-7.0 s per part at 5.2M where this takes 2.8-4.3 s."""
    bits = ", ".join(f"coalesce(b.{c}, 0)::BIGINT AS {c}" for c in TAG_BIT_COLUMNS)
    con.execute("SET preserve_insertion_order=true")
    empty = con.execute("SELECT count(*) = 0 FROM db.images").fetchone()[0]
    for k in units:
        (o, end), f = spans[k], frags[k]
        steps(f"images: the rows of {_unit_label(offsets[k][0], offsets[k][2])}")
        select = f"""SELECT f.local + {o} AS id, f.* EXCLUDE (local, title_cid, multi_cid), {bits},
                       f.title_cid, f.multi_cid
                     FROM read_parquet({f.file("images")}) f
                     LEFT JOIN (SELECT * FROM img_bits WHERE image_id >= {o} AND image_id < {end}) b
                       ON b.image_id = f.local + {o}
                     ORDER BY id"""
        # by name: into a previous generation's table, a column out of place fails instead of shifting
        con.execute(
            f"CREATE OR REPLACE TABLE db.images AS {select}" if empty else f"INSERT INTO db.images BY NAME {select}"
        )
        empty = False
    con.execute("SET preserve_insertion_order=false")


def _problems(
    con: _TimedCon,
    layout: DatasetLayout,
    stage: CsvStage,
    offsets: list[tuple[int, int, Path]],
    frags: list[Fragment],
) -> None:
    """``db.problems`` (after ``db.images``): the part stages' (with global ids), the CSV stage's (an id
    where the path is an image's), and one per CSV row whose image is in no part."""
    selects = [
        f"SELECT local + {o} AS id, filepath, kind, detail, origin FROM read_parquet({f.file('problems')})"
        for (_, o, _), f in zip(offsets, frags, strict=True)
    ]
    selects.append(f"""SELECT i.id, p.filepath, p.kind, p.detail, p.origin
                       FROM read_parquet({stage.file("problems")}) p LEFT JOIN db.images i ON p.filepath = i.filepath""")
    csv_case = csv_name_case(layout)
    # A path's CSV rows are its subset bits, except for the paths whose rows the CSV stage listed.
    selects.append(f"""SELECT NULL::INTEGER AS id, fp AS filepath, 'csv_row_without_image' AS kind,
                         {csv_case} || ': no such image in the dataset' AS detail, {csv_case} AS origin
                       FROM (SELECT fp, b AS csv_idx FROM
                               (SELECT fp, subsets FROM read_parquet({stage.file("caps")}) c
                                ANTI JOIN db.images i ON c.fp = i.filepath WHERE n_rows = bit_count(subsets)),
                               range({MAX_SUBSETS}) t(b)
                             WHERE (subsets >> b) & 1 = 1
                             UNION ALL
                             SELECT fp, csv_idx FROM read_parquet({stage.file("rows")}) r
                             ANTI JOIN db.images i ON r.fp = i.filepath)""")
    con.execute(f"""CREATE TABLE db.problems AS SELECT id, filepath, kind, detail, origin
                    FROM ({" UNION ALL ".join(selects)}) ORDER BY kind, filepath""")


def _vocabulary(con: _TimedCon, offsets: list[tuple[int, int, Path]]) -> None:
    """``gv`` (the global vocabulary with its counts), ``pmap`` (each unit's tag numbers to global ids)
    and ``keycounts`` from the units' small vocab and keys tables."""
    # Vocabulary: global ids in (key, value) order so that all values of one key form a contiguous range.
    union_vocab = " UNION ALL ".join(
        f"SELECT {i} AS p, kv, key, value, n_focus, n_surrounding, n_images "
        f"FROM read_parquet({sql_literal(str(d / 'vocab.parquet'))})"
        for i, (_, _, d) in enumerate(offsets)
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
    else:
        con.execute("""CREATE TABLE gv (kv_id INTEGER, key VARCHAR, value VARCHAR, n_focus BIGINT,
                       n_surrounding BIGINT, n_images BIGINT)""")
        con.execute("CREATE TABLE pmap (p INTEGER, kv INTEGER, kv_id INTEGER)")
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


def _image_tags(con: _TimedCon, offsets: list[tuple[int, int, Path]], frags: list[Fragment], units: list[int]) -> None:
    """The tag rows of the part stages ``units`` added to ``db.image_tags`` (made when missing), in
    image order, each part-local tag number looked up in the unit's list of global ids."""
    # The tag rows in image order, for one image's tags (the selected image): in ``db.tags``'s tag order
    # finding one image scans most of it (~70% of its row groups at 5.2M images, 80-360 ms); sorted by
    # image each row group covers a narrow id range and a lookup reads one. The part stages hold their
    # rows in image order, so they are written as read (a part's numbers run from 0 without gaps: checked).
    con.execute("CREATE TABLE IF NOT EXISTS db.image_tags (image_id INTEGER, role TINYINT, obj INTEGER, kv_id INTEGER)")
    con.execute("SET preserve_insertion_order=true")
    for i in units:
        o, f = offsets[i][1], frags[i]
        n, top = con.execute(f"SELECT count(*), coalesce(max(kv), -1) FROM pmap WHERE p = {i}").fetchone()
        if n != top + 1:
            raise IndexBuildError(f"merge: part {i}'s tag numbers are not 0..{n - 1}; rebuild with --force")
        con.execute(f"""INSERT INTO db.image_tags BY NAME
                        SELECT (t.local + {o})::INTEGER AS image_id, t.role, t.obj, m.ids[t.kv + 1] AS kv_id
                        FROM read_parquet({f.file("tags")}) t,
                             (SELECT list(kv_id ORDER BY kv) AS ids FROM pmap WHERE p = {i}) m""")
    con.execute("SET preserve_insertion_order=false")


def _choose_tag_bits(con: _TimedCon) -> None:
    """``tb``: the most frequent keys and key=value pairs, each with its bit (``db.tag_bits``'s rows)."""
    # Tag bitmasks: the TAG_BITS most frequent keys and key=value pairs each get a bit, and every image
    # carries which of them it has (on the focus object, a surrounding one, either). A filter on a
    # frequent tag, which would otherwise semi-join millions of tag rows, becomes a bit test.
    # The bits are numbered in key (pair: vocabulary) order, not by rank: a change of counts that keeps
    # the same tags among the most frequent keeps every image's bits, so a patch can keep them.
    con.execute(f"""CREATE TABLE tb AS
                    SELECT 'key' AS kind, key, NULL::VARCHAR AS value,
                           (row_number() OVER (ORDER BY key) - 1)::INTEGER AS bit FROM (
                      SELECT key, row_number() OVER (ORDER BY n_images DESC, key) AS rank FROM keycounts)
                    WHERE rank <= {TAG_BITS}
                    UNION ALL
                    SELECT 'pair', key, value, (row_number() OVER (ORDER BY kv_id) - 1)::INTEGER FROM (
                      SELECT kv_id, key, value, row_number() OVER (ORDER BY n_images DESC, kv_id) AS rank FROM gv)
                    WHERE rank <= {TAG_BITS}""")


def _image_bits(con: _TimedCon, where: str) -> None:
    """``img_bits``: the tag bitmasks (``tb``) of the images in ``db.image_tags`` whose rows match ``where``."""
    # Each tag's two masks are computed once per vocabulary entry. A tag's role is 0 (focus) or 1
    # (surrounding: obj > 0, in partfast._tags and partread._slow_columns), so "any" is focus | surrounding: four aggregates.
    con.execute("""CREATE OR REPLACE TABLE kvbits AS
                   SELECT v.kv_id, coalesce(1::BIGINT << k.bit, 0) AS key_mask,
                          coalesce(1::BIGINT << p.bit, 0) AS pair_mask FROM gv v
                   LEFT JOIN (SELECT key, bit FROM tb WHERE kind = 'key') k USING (key)
                   LEFT JOIN (SELECT key, value, bit FROM tb WHERE kind = 'pair') p
                          ON p.key = v.key AND p.value = v.value
                   WHERE k.bit IS NOT NULL OR p.bit IS NOT NULL""")
    masks = ", ".join(
        f"bit_or(CASE WHEN t.role = {r} THEN b.{kind}_mask ELSE 0 END) AS tb_{kind}s_{role}"
        for kind in ("key", "pair")
        for role, r in (("focus", 0), ("surr", 1))
    )
    con.execute(f"""CREATE OR REPLACE TABLE img_bits AS SELECT *, tb_keys_focus | tb_keys_surr AS tb_keys_any,
                      tb_pairs_focus | tb_pairs_surr AS tb_pairs_any
                    FROM (SELECT t.image_id, {masks} FROM db.image_tags t JOIN kvbits b USING (kv_id)
                          WHERE {where} GROUP BY t.image_id)""")
