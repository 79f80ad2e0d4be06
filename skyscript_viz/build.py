"""Building the index of a SkyScript root: parts read in parallel, incremental, atomic.

Layout of an index folder::

    parts/p{N}-v{F}-{fp}/         one finished part: images, tags, vocab, problems (Parquet)
    parts/p…/frag-{F}-{csvkey}/   the part joined with the caption CSVs (merge stage, mergepart.py)
    captions/csv-{csvkey}/        what comes from the caption CSVs alone (merge stage, mergecsv.py)
    gen-{stamp}/                  one finished merge: index.duckdb (the serving tables) + info.json
    CURRENT                       JSON naming the live generation; replaced with os.replace

A part is written to a temporary folder and renamed when complete, and CURRENT is swapped only after
a generation is fully written, so a run killed at any point leaves the previous index usable and the
next run reuses every part that finished.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .buildlock import build_lock
from .discovery import DatasetLayout, Part, discover
from .errors import IndexBuildError
from .merge import MAX_SUBSETS, TAG_BIT_COLUMNS
from .merge import merge as _merge
from .mergepatch import PatchFailed, Previous
from .mergesteps import MergeProgressFn
from .partread import read_part as _read_part

__all__ = [
    "BuildReport",
    "ProgressFn",
    "build_index",
    "current_generation",
    "default_index_dir",
]

INDEX_FORMAT = 6  # part folders carry it too, so parts written by older code are re-read
ProgressFn = Callable[[int, int, int], None]  # (part, done, total)
# columns of the serving database's images table that only speed up queries (not exported)
# where an image's bytes are in its zip (skyscript_viz.zipdir): for image reads, not user data
ZIP_LOCATION_COLUMNS = (
    "zip_offset",
    "zip_csize",
    "zip_usize",
    "zip_method",
    "zip_crc",
    "zip_flags",
    "zip_nlen",
    "zip_xlen",
)
INTERNAL_COLUMNS = (*TAG_BIT_COLUMNS, "title_cid", "multi_cid", *ZIP_LOCATION_COLUMNS)


def default_index_dir(root: Path) -> Path:
    """``ROOT/.skyscript_viz`` when the root is writable or already holds a built index (a shared read-only
    folder), else a folder in the user cache dir."""
    root = Path(root).resolve()
    local = root / ".skyscript_viz"

    def usable() -> bool:
        return local.is_dir() and (os.access(local, os.W_OK) or (local / "CURRENT").is_file())

    # Asked again after the existence test: a build in another thread or process may create the folder
    # between the two, and the answer must not then move to the cache dir (two builds of one root went
    # to two folders, each under its own lock).
    if usable() or (not local.exists() and os.access(root, os.W_OK)) or usable():
        return local
    import hashlib

    import platformdirs

    digest = hashlib.sha1(str(root).encode()).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("skyscript_viz")) / "indexes" / f"{root.name}-{digest}"


def _part_task(
    part: Part, parts_dir: str, final_name: str, progress: Any | None, piece: tuple[int, int] = (0, 1)
) -> dict[str, Any]:
    """Worker entry: read ``part`` (or one piece of it) into a temp folder, then rename it into place."""
    parts_path = Path(parts_dir)
    tmp = parts_path / f".tmp-{final_name}-{uuid.uuid4().hex[:8]}-{os.getpid()}"  # the pid last: _left_by_dead_run
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        stats = _read_part(part, tmp, progress, piece)
        (tmp / "stats.json").write_text(json.dumps(stats))
        final = parts_path / final_name
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another run finished it first
        return stats
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@dataclass
class BuildReport:
    """What a build did, for the CLI summary and the tests."""

    index_dir: Path
    generation: str
    up_to_date: bool
    parts_read: list[int]
    parts_reused: list[int]
    n_images: int
    seconds: float
    per_source_year: list[tuple[str, int, int]] = field(default_factory=list)
    problems_by_kind: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    patched: list[int] = field(default_factory=list)  # parts the merge patched into the previous generation
    full_merge_why: str = ""  # why the merge wrote every part's rows (when it did)

    @property
    def rate(self) -> float:
        return self.n_images / self.seconds if self.seconds > 0 else float("inf")


# --------------------------------------------------------------------------------------------------
# Entry point


def current_generation(root: Path | str) -> str:
    """The name of the live generation of ``root``'s index ("" when none): a server compares it on each
    run to pick up a rebuilt index, which CURRENT names only once it is complete."""
    info = _read_current(default_index_dir(Path(root)))
    return str(info.get("generation", "")) if info else ""


def _read_current(index_dir: Path) -> dict[str, Any] | None:
    try:
        info: dict[str, Any] = json.loads((index_dir / "CURRENT").read_text())
        return info
    except (OSError, ValueError):
        return None


def _write_current(index_dir: Path, info: dict[str, Any]) -> None:
    tmp = index_dir / f".CURRENT.{os.getpid()}.{threading.get_ident()}.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / "CURRENT")


def _drain(queue: Any, progress: Callable[..., None] | None) -> None:
    while True:
        try:
            item = queue.get_nowait()
        except Exception:  # noqa: BLE001 - queue.Empty from a manager proxy
            return
        if progress is not None:
            progress(*item)


def build_index(
    root: Path | str,
    *,
    index_dir: Path | str | None = None,
    workers: int = 1,
    progress: ProgressFn | None = None,
    memory_limit: str = "2GB",
    force: bool = False,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
    merge_progress: MergeProgressFn | None = None,
) -> BuildReport:
    """Build or update the index of ``root``; returns a report. Parts unchanged since the last run are reused.

    One build per index folder runs at a time: another one waits for it (``on_wait`` says so) or, with
    ``wait=False``, fails with "a build of this index is already running (pid N)". ``progress`` is told
    how far each part's reading is; ``merge_progress`` which step of the merge starts (skyscript_viz.mergesteps)."""
    t0 = time.perf_counter()
    layout = discover(root)
    idx = Path(index_dir) if index_dir is not None else default_index_dir(layout.root)
    try:
        (idx / "parts").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexBuildError(
            f"cannot write the index folder {str(idx)!r}: {exc.strerror}; pass --index-dir to choose another"
        ) from exc

    with build_lock(idx, wait=wait, on_wait=on_wait):
        return _build_locked(
            layout,
            idx,
            t0,
            workers=workers,
            progress=progress,
            memory_limit=memory_limit,
            force=force,
            merge_progress=merge_progress,
        )


def _build_locked(
    layout: DatasetLayout,
    idx: Path,
    t0: float,
    *,
    workers: int,
    progress: ProgressFn | None,
    memory_limit: str,
    force: bool,
    merge_progress: MergeProgressFn | None = None,
) -> BuildReport:
    """build_index, holding the index folder's build lock."""
    if not layout.parts:
        raise IndexBuildError(
            f"{str(layout.root)!r} holds caption CSVs but no image or meta parts (images2/ … images7/, "
            "meta2.zip …): the CSVs alone give no image to index; add the meta zips or folders"
        )
    if len(layout.csvs) > MAX_SUBSETS:
        layout.notes.append(
            f"{len(layout.csvs)} caption CSVs: the first {MAX_SUBSETS} are subsets you can "
            "filter by; the others only give captions"
        )
    wanted = [(p, f"p{p.number}-v{INDEX_FORMAT}-{p.fingerprint()}") for p in layout.parts]
    csv_fps = {c.relpath: c.fingerprint() for c in layout.csvs}
    current = _read_current(idx)
    key = {
        "format": INDEX_FORMAT,
        "root": str(layout.root),
        "parts": [name for _, name in wanted],
        "csvs": csv_fps,
    }
    if not force and current is not None and current.get("key") == key and (idx / current["generation"]).is_dir():
        return _unchanged_report(layout, idx, current, [p.number for p, _ in wanted], t0)

    parts_dir = idx / "parts"
    todo = [(p, name) for p, name in wanted if force or not (parts_dir / name).is_dir()]
    reused = [p.number for p, name in wanted if (p, name) not in todo]
    if force:  # everything is read again: the parts, and the merge's stages kept from earlier builds
        for _, name in todo:
            shutil.rmtree(parts_dir / name, ignore_errors=True)
        shutil.rmtree(idx / "captions", ignore_errors=True)

    if todo:
        _read_parts(todo, parts_dir, workers=workers, progress=progress)

    gen = _new_generation_name(idx)
    gen_tmp = idx / f".tmp-{gen}"
    shutil.rmtree(gen_tmp, ignore_errors=True)
    gen_tmp.mkdir()
    try:
        units = [(p, u) for p, name in wanted for u in part_units(parts_dir / name)]
        previous = None if force or current is None else Previous.of(idx / current["generation"])
        merged = _merge_with_stages(layout, units, gen_tmp, memory_limit, idx, previous, merge_progress)
        if force:
            merged["full_merge_why"] = "--force: everything made again"
        info = _generation_info(layout, key, gen, merged)
        (gen_tmp / "info.json").write_text(json.dumps(info, indent=1))
        os.rename(gen_tmp, idx / gen)
    except BaseException:
        shutil.rmtree(gen_tmp, ignore_errors=True)
        raise
    _write_current(idx, info)
    _cleanup(
        idx,
        keep={gen, current["generation"] if current else ""},
        keep_parts={n for _, n in wanted},
        keep_merged={f"csv-{merged['csv_stage']}", merged["fragment"]},
    )
    return BuildReport(
        idx,
        gen,
        False,
        [p.number for p, _ in todo],
        reused,
        merged["n_images"],
        time.perf_counter() - t0,
        [tuple(x) for x in merged["per_source_year"]],
        merged["problems_by_kind"],
        layout.notes,
        merged["patched"],
        merged["full_merge_why"],
    )


def _merge_with_stages(
    layout: DatasetLayout,
    part_dirs: list[tuple[Part, Path]],
    gen_tmp: Path,
    memory_limit: str,
    idx: Path,
    previous: Previous | None,
    on_step: MergeProgressFn | None = None,
) -> dict[str, Any]:
    """The merge, reusing the stages kept by earlier builds and patching ``previous`` when it can. When
    the patch fails (the previous database damaged), it merges in full; when a merge fails with stages
    reused (a file of theirs damaged or removed), once more with every stage made again. The report
    notes which, and info.json why the merge was full."""

    def again() -> None:
        shutil.rmtree(gen_tmp, ignore_errors=True)
        gen_tmp.mkdir()

    def first_line(exc: BaseException) -> str:
        return (str(exc).splitlines() or [type(exc).__name__])[0][:160]

    stages = [idx / "captions", *(f for _, d in part_dirs for f in d.glob("frag-*"))]
    failed: Exception | None = None
    try:
        return _merge(layout, part_dirs, gen_tmp, memory_limit, idx / "captions", previous, on_step=on_step)
    except PatchFailed as exc:
        again()
        try:
            merged = _merge(layout, part_dirs, gen_tmp, memory_limit, idx / "captions", on_step=on_step)
        except Exception as exc2:  # noqa: BLE001 - made again below without stages, which raises what it meets
            again()
            failed = exc2
        else:
            layout.notes.append(f"the previous generation could not be patched ({first_line(exc)}); merged in full")
            merged["full_merge_why"] = "the patch of the previous generation failed"
            return merged
    except Exception as exc:
        if not any(p.exists() for p in stages):
            raise
        again()
        failed = exc
    if not any(p.exists() for p in stages):
        raise failed
    for p in stages:
        shutil.rmtree(p, ignore_errors=True)
    layout.notes.append(
        f"the merge stages kept from an earlier build could not be used ({first_line(failed)}); they were made again"
    )
    merged = _merge(layout, part_dirs, gen_tmp, memory_limit, idx / "captions", on_step=on_step)
    merged["full_merge_why"] = "a merge stage kept from an earlier build could not be used"
    return merged


def _unchanged_report(
    layout: DatasetLayout, idx: Path, current: dict[str, Any], parts: list[int], t0: float
) -> BuildReport:
    """The report of a build that found nothing changed since the current generation."""
    return BuildReport(
        idx,
        current["generation"],
        True,
        [],
        parts,
        current.get("n_images", 0),
        time.perf_counter() - t0,
        [tuple(x) for x in current.get("per_source_year", [])],
        current.get("problems_by_kind", {}),
        layout.notes,
    )


def part_units(part_dir: Path) -> list[Path]:
    """The folders the merge reads for one part: the part's folder, or the folders of its pieces in
    order (``s0``, ``s1``… of a part read on several workers at once)."""
    if (part_dir / "stats.json").is_file():
        return [part_dir]
    return sorted(part_dir.glob("s[0-9]*"), key=lambda d: int(d.name[1:]))


class _PieceProgress:
    """The progress queue of one piece of a part: its messages carry the piece's number."""

    def __init__(self, queue: Any, piece: int) -> None:
        self.queue, self.piece = queue, piece

    def put(self, item: tuple[int, int, int]) -> None:
        self.queue.put((*item, self.piece))


def _read_parts(todo: list[tuple[Part, str]], parts_dir: Path, *, workers: int, progress: ProgressFn | None) -> None:
    """Read each part into ``parts_dir/<name>``: in this process, or in ``workers`` spawned processes
    whose progress messages come back through a managed queue. Fewer parts than workers (a rebuild
    after one part changed) are read in pieces, ``parts_dir/<name>/s{k}``, so that every worker has one."""
    if workers <= 1:

        class _Direct:
            def put(self, item: tuple[int, int, int]) -> None:
                if progress is not None:
                    progress(*item)

        for p, name in todo:
            _part_task(p, str(parts_dir), name, _Direct())
        return
    n = max(1, workers // len(todo))
    # a part in pieces is put together in a temporary folder of this process, renamed when all are in
    dest = {
        name: parts_dir if n == 1 else parts_dir / f".tmp-{name}-{uuid.uuid4().hex[:8]}-{os.getpid()}"
        for _, name in todo
    }
    seen: dict[int, dict[int, tuple[int, int]]] = {}

    def report(part: int, done: int, total: int, piece: int) -> None:  # a part's pieces summed up
        seen.setdefault(part, {})[piece] = (done, total)
        if progress is not None:
            progress(part, sum(d for d, _ in seen[part].values()), sum(t for _, t in seen[part].values()))

    import multiprocessing as mp

    try:
        if n > 1:
            for d in dest.values():
                d.mkdir(parents=True)
        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager:
            queue = manager.Queue()
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = [
                    pool.submit(
                        _part_task, p, str(dest[name]), name if n == 1 else f"s{k}", _PieceProgress(queue, k), (k, n)
                    )
                    for p, name in todo
                    for k in range(n)
                ]
                _wait_all(futures, queue, report)
            _drain(queue, report)
        if n > 1:
            for name, d in dest.items():
                try:
                    os.rename(d, parts_dir / name)
                except OSError:
                    if not (parts_dir / name).exists():
                        raise
    finally:
        if n > 1:
            for d in dest.values():
                shutil.rmtree(d, ignore_errors=True)


def _wait_all(futures: list[Any], queue: Any, report: Callable[..., None]) -> None:
    """Wait for the workers' futures, passing their progress messages on; a worker's error is raised."""
    pending = set(futures)
    while pending:
        done = {f for f in pending if f.done()}
        pending -= done
        _drain(queue, report)
        for f in done:
            f.result()  # re-raise worker errors
        if pending:
            time.sleep(0.1)


def _new_generation_name(idx: Path) -> str:
    """A generation folder name not taken yet."""
    # Unique even for two builds within one second in one process (the pid stays the last part: see
    # _left_by_dead_run); a name already taken would make the rename below fail.
    stamp, n = time.strftime("%Y%m%dT%H%M%S"), 1
    gen = f"gen-{stamp}-{os.getpid()}"
    while (idx / gen).exists():
        n += 1
        gen = f"gen-{stamp}.{n}-{os.getpid()}"
    return gen


def _generation_info(layout: DatasetLayout, key: dict[str, Any], gen: str, merged: dict[str, Any]) -> dict[str, Any]:
    """What info.json (and CURRENT) record about a generation: its key, counts, subsets and notes."""
    return {
        "key": key,
        "generation": gen,
        "root": str(layout.root),
        "n_images": merged["n_images"],
        "subsets": merged["subsets"],
        "per_source_year": merged["per_source_year"],
        "problems_by_kind": merged["problems_by_kind"],
        "merge_timings": merged["timings"],
        "merge_reused": merged["reused"],
        # what the next build needs to patch this generation (skyscript_viz.mergepatch)
        "merge_patched": merged["patched"],
        "merge_full_why": merged["full_merge_why"],
        "merge_format": merged["merge_format"],
        "merge_fragment": merged["fragment"],
        "part_ranges": merged["part_ranges"],
        "full_size": merged["full_size"],
        "patched_since_full": merged["patched_since_full"],
        "benchmark": str(layout.benchmark) if layout.benchmark else None,
        "demo": (layout.root / ".skyscript_demo.json").is_file(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "notes": layout.notes,
    }


def _left_by_dead_run(d: Path) -> bool:
    """True for a ``.tmp-…-{pid}`` folder whose process is gone (a run killed before it could clean up)."""
    pid = d.name.rsplit("-", 1)[-1]
    if os.name != "posix" or not d.name.startswith(".tmp-") or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists but belongs to someone else
    return False


def _cleanup(idx: Path, *, keep: set[str], keep_parts: set[str], keep_merged: set[str]) -> None:
    """Drop old generations (the previous one is kept for readers still holding it), stale parts, the
    merge stages of other CSV states (``keep_merged``: the CSV stage and part stage names in use), and
    temporary folders of killed runs (those of runs still going are left alone)."""
    for d in idx.iterdir():
        if (d.name.startswith("gen-") and d.name not in keep) or _left_by_dead_run(d):
            shutil.rmtree(d, ignore_errors=True)
    for d in (idx / "parts").iterdir():
        if (d.name not in keep_parts and not d.name.startswith(".tmp-")) or _left_by_dead_run(d):
            shutil.rmtree(d, ignore_errors=True)
        elif d.name in keep_parts:
            for u in part_units(d):
                for f in u.iterdir():
                    if (f.name.startswith("frag-") and f.name not in keep_merged) or _left_by_dead_run(f):
                        shutil.rmtree(f, ignore_errors=True)
    captions = idx / "captions"
    for d in captions.iterdir() if captions.is_dir() else ():
        if (d.name.startswith("csv-") and d.name not in keep_merged) or _left_by_dead_run(d):
            shutil.rmtree(d, ignore_errors=True)
