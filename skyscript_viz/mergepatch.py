"""A merge by patching: the previous generation's database with only the changed parts' rows replaced.

When some parts changed and nothing else did (the same caption CSVs and set of parts, the same most
frequent tags with bits), a new build's serving tables differ from the previous generation's only in
the changed parts' rows, in a few small tables (vocab and keys counts, the problems), in the image ids
of the parts after a changed part that has more or fewer images now, and in the vocabulary ids of the
tags after one that came or went. The merge then starts from a copy of the previous database, deletes
the changed parts' rows, moves those ids, writes the changed parts' rows from the part stages and
remakes the small tables, so the work is proportional to the changed parts (skyscript_viz.merge runs
the steps; this module decides and deletes).

The rows are the same as a build from nothing gives; their stored order differs: a patched part's
rows are stored after the others (each table stays in runs sorted the same way, which is all the
queries' zone maps need). Anything the conditions do not cover makes a full merge, and the reason is
recorded in the generation's info.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any, TypeGuard

from .discovery import Part
from .errors import IndexBuildError
from .mergecsv import Con

__all__ = [
    "MAX_PATCH_CHAIN",
    "MERGE_FORMAT",
    "PatchFailed",
    "PatchPlan",
    "Previous",
    "delete_old_rows",
    "in_ranges",
    "merge_format",
    "part_ranges",
    "plan_patch",
    "same_tag_bits",
]

# The serving tables' form: a generation written by code of another form, or by another DuckDB (its
# file would keep that version's storage), is never patched.
MERGE_FORMAT = 1


def merge_format() -> str:
    """What info.json records as the form of a generation's database."""
    import duckdb

    return f"{MERGE_FORMAT}/duckdb-{duckdb.__version__}"


# A patch leaves the blocks of deleted rows to be reused: past this growth over the database's size
# after its last full merge (a share, plus some room for small databases, where a few blocks are much),
# the next build merges fully (and the file shrinks back).
MAX_GROWTH = 1.25
GROWTH_ROOM = 64 << 20
# Patching costs about as much per changed image as a full merge does in all: past this share of the
# images, the full merge.
MAX_CHANGED_SHARE = 0.5
# Each patch adds a sorted run to the tables (a tag's rows: one more row group to read per run): past
# this many parts patched since the last full merge, the next merge is full (one run again).
MAX_PATCH_CHAIN = 8
# Moved vocabulary ids are given as arithmetic on up to this many runs of ids, else through a join.
MAX_SHIFT_RUNS = 64


@dataclass(frozen=True)
class Previous:
    """The live generation a build may patch: its serving database and its info.json."""

    db: Path
    info: dict[str, Any]

    @classmethod
    def of(cls, gen_dir: Path) -> Previous | None:
        """The generation in ``gen_dir`` (None when it or its info is missing or unreadable)."""
        try:
            info = json.loads((gen_dir / "info.json").read_text())
        except (OSError, ValueError, RecursionError):
            return None
        db = gen_dir / "index.duckdb"
        return cls(db, info) if isinstance(info, dict) and db.is_file() else None


@dataclass(frozen=True)
class PatchPlan:
    """What a patch replaces: per changed part, its old id range (deleted) and its units (written), and
    the unchanged parts whose ids move (a changed part before them has more or fewer images now)."""

    old_ranges: list[tuple[int, int]]  # (first id, end) of each changed part's rows in the previous database
    units: list[int]  # indexes into the merge's units (parts or pieces) whose rows are written
    parts: list[int]  # the changed parts' numbers
    moves: list[tuple[int, int, int]]  # (first id, end, shift) of each unchanged part whose ids move


def part_ranges(part_dirs: list[tuple[Part, Path]], spans: list[tuple[int, int]]) -> list[Any]:
    """[part number, part folder name, first id, number of images] per part, for info.json, from the
    merge's units (a part's folder, or the folders of its two or more pieces, inside the part's) and
    their ids [first, end)."""
    out: list[list[Any]] = []
    for number, group in groupby(zip(part_dirs, spans, strict=True), key=lambda u: u[0][0].number):
        units = list(group)
        folder = units[0][0][1] if len(units) == 1 else units[0][0][1].parent
        out.append([number, folder.name, units[0][1][0], units[-1][1][1] - units[0][1][0]])
    return out


def _valid_ranges(rows: Any) -> TypeGuard[list[list[Any]]]:
    """True for part_ranges as info.json should hold them: [int, str, int >= 0, int >= 0] rows."""

    def count(x: Any) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0

    return isinstance(rows, list) and all(
        isinstance(r, list) and len(r) == 4 and count(r[0]) and isinstance(r[1], str) and count(r[2]) and count(r[3])
        for r in rows
    )


def plan_patch(
    previous: Previous | None, fragment: str, ranges: list[Any], unit_parts: list[int], n_total: int
) -> tuple[PatchPlan | None, str]:
    """The patch of ``previous`` into a generation of the parts ``ranges`` (part_ranges; ``unit_parts``:
    the part number of each unit the merge reads) whose part stages are named ``fragment``, or None
    and why a full merge is needed."""
    if previous is None:
        return None, "no previous generation"
    info = previous.info
    if info.get("merge_format") != merge_format() or info.get("merge_fragment") != fragment:
        return None, "the caption CSVs or the index format changed"
    old = info.get("part_ranges")
    if not _valid_ranges(old) or [r[0] for r in old] != [r[0] for r in ranges]:
        return None, "the set of parts changed"
    chain = info.get("patched_since_full", 0)
    if not isinstance(chain, int) or chain >= MAX_PATCH_CHAIN:
        return None, f"{MAX_PATCH_CHAIN} parts patched since the last full merge: written anew"
    full_size = info.get("full_size")
    try:
        size = previous.db.stat().st_size
    except OSError:
        return None, "the previous database is gone"
    if not isinstance(full_size, int) or size > MAX_GROWTH * full_size + GROWTH_ROOM:
        return None, "the database grew by patches: written anew"
    old_ranges, parts, moves, changed = [], [], [], 0
    for (number, name, lo, n), (_, old_name, old_lo, old_n) in zip(ranges, old, strict=True):
        if name == old_name and n != old_n:
            return None, "a part kept its name but not its number of images"
        if name != old_name:
            old_ranges.append((old_lo, old_lo + old_n))
            parts.append(number)
            changed += max(n, old_n)
        elif lo != old_lo:
            moves.append((old_lo, old_lo + old_n, lo - old_lo))
    if not parts:
        return None, "no part changed"
    if changed > MAX_CHANGED_SHARE * max(n_total, 1):
        return None, "most images changed"
    units = [i for i, number in enumerate(unit_parts) if number in parts]
    return PatchPlan(old_ranges, units, parts, moves), ""


class PatchFailed(IndexBuildError):
    """Patching the previous generation's database failed (a damaged file): merge in full instead."""


def same_tag_bits(con: Con, prev: str) -> bool:
    """True when the most frequent tags with bits (``tb``) are those of the previous database (attached
    as ``prev``): then the other parts' images keep their bits. Also makes ``kvmap``, the tags whose
    vocabulary id moved (a tag came or went: ids follow (key, value) order), old id to new."""
    row = con.execute(f"""SELECT (SELECT count(*) FROM tb) = (SELECT count(*) FROM {prev}.tag_bits)
          AND NOT EXISTS (SELECT kind, key, value, bit FROM tb EXCEPT SELECT kind, key, value, bit FROM {prev}.tag_bits)
        """).fetchone()
    # both vocabularies are in (key, value) order, so old -> new keeps the order of the ids it maps
    con.execute(f"""CREATE OR REPLACE TABLE kvmap AS SELECT p.kv_id AS old, g.kv_id AS new
                    FROM {prev}.vocab p JOIN gv g ON p.key = g.key AND p.value = g.value WHERE p.kv_id <> g.kv_id""")
    # the same as runs [lo, end) of consecutive old ids moved by one amount (a few new tags: a few
    # runs); a tag gone (d NULL) ends a run
    con.execute(f"""CREATE OR REPLACE TABLE kvshift AS SELECT min(old) AS lo, max(old) + 1 AS stop, any_value(d) AS d
                    FROM (SELECT old, d, old - row_number() OVER (PARTITION BY d ORDER BY old) AS grp
                          FROM (SELECT p.kv_id AS old, g.kv_id - p.kv_id AS d FROM {prev}.vocab p
                                LEFT JOIN gv g ON p.key = g.key AND p.value = g.value))
                    WHERE d IS NOT NULL AND d <> 0 GROUP BY d, grp""")
    return bool(row and row[0])


def in_ranges(col: str, ranges: list[tuple[int, int]]) -> str:
    """SQL: ``col`` in one of the ranges [lo, end) ("false" for none)."""
    return " OR ".join(f"({col} >= {lo} AND {col} < {end})" for lo, end in ranges) or "false"


def _shift(con: Con, table: str, col: str, runs: list[tuple[int, int, int]]) -> None:
    """Add ``d`` to ``col`` in the rows of ``db.{table}`` whose value is in [lo, end), for each (lo, end,
    d) of ``runs``: one statement, so every condition reads the old values (one run's new values may
    be another's old ones)."""
    shift = " ".join(f"WHEN {col} >= {lo} AND {col} < {end} THEN {d}" for lo, end, d in runs)
    where = in_ranges(col, [(lo, end) for lo, end, _ in runs])
    con.execute(f"UPDATE db.{table} SET {col} = {col} + CASE {shift} ELSE 0 END WHERE {where}")


def delete_old_rows(con: Con, plan: PatchPlan) -> None:
    """Remove the changed parts' rows from the attached copy of the previous database, give the kept
    tag rows the vocabulary ids that moved (``kvshift``, ``kvmap``), and the unchanged parts after a
    part that grew or shrank their new image ids."""
    con.execute(f"DELETE FROM db.images WHERE {in_ranges('id', plan.old_ranges)}")
    for table in ("image_tags", "tags"):
        con.execute(f"DELETE FROM db.{table} WHERE {in_ranges('image_id', plan.old_ranges)}")
    # Tags that came or went moved the vocabulary ids of the others: the kept rows get the new ids (an
    # order-keeping map: ``tags`` stays sorted by tag). A tag only the deleted rows had is gone with them.
    # Either way DuckDB's update of the column costs ~6-8 s per table when every id moves at 5.2M.
    runs = con.execute("SELECT lo, stop, d FROM kvshift ORDER BY lo").fetchall()
    for table in ("tags", "image_tags") if runs else ():
        if len(runs) <= MAX_SHIFT_RUNS:  # arithmetic on runs of ids
            _shift(con, table, "kv_id", runs)
        else:  # a join with the map
            con.execute(f"UPDATE db.{table} SET kv_id = kvmap.new FROM kvmap WHERE db.{table}.kv_id = kvmap.old")
    # ~2 s for 3M images and their 37M tag rows at 5.2M
    for table, col in (("images", "id"), ("image_tags", "image_id"), ("tags", "image_id")) if plan.moves else ():
        _shift(con, table, col, plan.moves)
    con.execute("DROP TABLE db.vocab")
    con.execute("DROP TABLE db.keys")
    con.execute("DROP TABLE db.problems")
    # the deleted rows' blocks become free for the rows written next (the file does not grow by them)
    con.execute("CHECKPOINT db")
