"""Command line: ``python -m skyscript_viz index ROOT``, ``demo``, ``info ROOT``, ``export``, ``report``,
``reviews``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from . import settings
from .errors import SkyscriptVizError

__all__ = ["main"]


def _cmd_index(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .build import build_index
    from .remote import is_remote

    root = args.root
    if is_remote(root):  # a URL: download what indexing needs into its local cache root, index that
        from .remotecli import prepare_remote_root

        root = prepare_remote_root(args)
    bars: dict[int, Any] = {}

    def progress(part: int, done: int, total: int) -> None:
        bar = bars.get(part)
        if bar is None:
            bar = bars[part] = tqdm(
                total=total, desc=f"part {part}", unit="img", position=len(bars), dynamic_ncols=True, smoothing=0.1
            )
        bar.total = total
        bar.update(done - bar.n)

    merge_bar: list[Any] = []

    def merge_progress(label: str, done: int, total: int) -> None:
        # the merge runs after every part is read: their bars are finished
        if not merge_bar:
            for bar in bars.values():
                bar.close()
            fmt = "{desc}: {percentage:3.0f}%|{bar}| {n}/{total} steps [{elapsed}]{postfix}"
            merge_bar.append(tqdm(total=total, desc="merge", bar_format=fmt, dynamic_ncols=True))
        bar = merge_bar[0]
        bar.total, bar.n = total, done
        bar.set_postfix_str(label)

    try:
        report = build_index(
            root,
            index_dir=args.index_dir,
            workers=args.workers,
            progress=progress,
            force=args.force,
            on_wait=lambda msg: print(msg, file=sys.stderr, flush=True),
            merge_progress=merge_progress,
        )
    finally:
        for bar in [*bars.values(), *merge_bar]:
            bar.close()
    if report.n_images == 0:
        print(f"error: nothing could be read in {root}: {_first_problems(report.index_dir)}", file=sys.stderr)
        return 2
    if args.pixels:
        from .index import ImageIndex
        from .quality import run_pixel_pass

        idx = ImageIndex(report.index_dir)
        pbar = tqdm(desc="pixels", unit="img", dynamic_ncols=True)

        def pixel_progress(done: int, total: int) -> None:
            pbar.total = total
            pbar.update(done - pbar.n)

        stats = run_pixel_pass(idx, workers=args.workers, progress=pixel_progress)
        pbar.close()
        print(
            f"pixel pass: {stats['computed']:,} images decoded in {stats['seconds']:.1f} s "
            f"({stats['rate']:,.0f} images/s); {stats['images'] - stats['computed']:,} reused"
        )
        report.problems_by_kind.update({k: v for k, v in ImageIndex(report.index_dir).problem_counts().items()})
    print(f"index: {report.index_dir / report.generation}")
    if report.up_to_date:
        print(f"up to date: {report.n_images:,} images, nothing changed since the last build")
    else:
        print(
            f"{report.n_images:,} images in {report.seconds:.1f} s ({report.rate:,.0f} images/s); "
            f"parts read: {report.parts_read or '-'}, reused: {report.parts_reused or '-'}"
        )
        if report.patched:
            print(f"merge: part(s) {report.patched} patched into the previous generation's index")
        else:
            print(f"merge: every part's rows written ({report.full_merge_why})")
    for note in report.notes:
        print(f"note: {note}")
    per_source: dict[str, dict[int, int]] = {}
    for src, year, n in report.per_source_year:
        per_source.setdefault(src, {})[year] = n
    years = sorted({y for d in per_source.values() for y in d})
    if per_source:
        print("\nimages per source and year")
        print("source " + "".join(f"{y:>9}" for y in years) + f"{'total':>11}")
        for src in sorted(per_source):
            d = per_source[src]
            print(f"{src:<7}" + "".join(f"{d.get(y, 0):>9,}" for y in years) + f"{sum(d.values()):>11,}")
    print("\nproblems by kind" if report.problems_by_kind else "\nno problems found")
    for kind, n in sorted(report.problems_by_kind.items()):
        print(f"  {kind:<28}{n:>10,}")
    return 0


def _first_problems(index_dir: Path) -> str:
    """The first few problems of a build, on one line (why nothing could be read)."""
    from .index import ImageIndex

    try:
        idx = ImageIndex(index_dir)
        try:
            df = idx.problems(limit=3)
        finally:
            idx.close()
    except Exception:  # noqa: BLE001 - only explains a failure already being reported
        return "no parts or members found"
    parts = [" ".join(str(d).split()) for d in df["detail"]]
    return "; ".join(parts)[:400] or "no parts or members found"


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import demo_root

    root = demo_root()
    print(root)
    if args.index:
        from .build import build_index

        report = build_index(root)
        print(f"indexed {report.n_images:,} images -> {report.index_dir}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .index import ImageIndex

    idx = ImageIndex.open(args.root, index_dir=args.index_dir)
    print(f"index: {idx.gen_dir}")
    for k, v in idx.headline().items():
        print(f"  {k:<16}{v:>12,}")
    for s in idx.subsets:
        print(f"  subset {s.slug}: {s.label} ({s.csv})")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    import time

    from .export import export, export_format
    from .index import ImageIndex

    idx = ImageIndex.open(args.root, index_dir=args.index_dir)
    f = _filters_for(idx, args.filter or [])
    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() or "csv")
    t0 = time.perf_counter()
    n = export(idx, f, args.output, fmt=export_format(fmt))
    dt = time.perf_counter() - t0
    print(f"{n:,} rows -> {args.output} ({fmt}) in {dt:.2f} s ({n / max(dt, 1e-9):,.0f} rows/s)")
    return 0


def _review_store(args: argparse.Namespace) -> Any:
    """The store named by --db (or SKYSCRIPT_DB), else the SQLite file next to ROOT's index."""
    from .build import default_index_dir
    from .reviewdb import display_url, resolve_db_url
    from .reviews import ReviewStore

    if args.root is None and not args.db and not settings.current().db:
        raise SkyscriptVizError(
            "name the verdict database: --db URL (or SKYSCRIPT_DB), or --root ROOT for "
            "the SQLite file next to that root's index"
        )
    index_dir = args.index_dir or (default_index_dir(args.root) if args.root is not None else Path("."))
    setting = resolve_db_url(index_dir, cli=args.db)
    print(f"verdict database: {display_url(setting.url)} (from {setting.origin})", file=sys.stderr)
    return ReviewStore(setting.url)


def _cmd_reviews(args: argparse.Namespace) -> int:
    from .reviewio import export_reviews, import_reviews

    store = _review_store(args)
    if args.action == "export":
        if str(args.file) == "-":
            n, v = export_reviews(store, sys.stdout)
        else:
            with open(args.file, "w", encoding="utf-8") as out:
                n, v = export_reviews(store, out)
        print(f"exported {n:,} verdicts and {v:,} saved views", file=sys.stderr)
        return 0
    rep = import_reviews(store, args.file)
    print(
        f"imported {rep.verdicts_added:,} verdicts ({rep.verdicts_present:,} were already there), "
        f"{rep.views_added:,} saved views ({rep.views_present:,} already there)"
    )
    for name in rep.views_conflicting:
        print(f"kept: a different view named {name!r} was already there (not replaced)")
    for bad in rep.bad_lines[:20]:
        print(f"skipped {bad}")
    if len(rep.bad_lines) > 20:
        print(f"... and {len(rep.bad_lines) - 20:,} more bad lines")
    return 1 if rep.bad_lines else 0


def _add_reviews_parser(sub: Any) -> None:
    pr = sub.add_parser(
        "reviews",
        help="move verdicts and saved views between SQLite and PostgreSQL",
        description="export writes JSON Lines (lossless, one verdict or view per line); import "
        "adds each verdict once (by its id) and never replaces a saved view. "
        "Example: reviews export --root ROOT -o v.jsonl; "
        "reviews import v.jsonl --db postgresql://user@host/db",
    )
    pr.add_argument("action", choices=["export", "import"])
    pr.add_argument("file", type=Path, nargs="?", help="import: the file to read")
    pr.add_argument("-o", "--output", type=Path, help="export: the file to write (- for stdout)")
    pr.add_argument(
        "--db",
        default=None,
        help="database URL (postgresql://user@host/db or sqlite:///PATH); "
        "default: SKYSCRIPT_DB, else the SQLite file next to ROOT's index",
    )
    pr.add_argument("--root", type=Path, default=None, help="dataset root whose index holds reviews.sqlite")
    pr.add_argument("--index-dir", type=Path, default=None)

    def run(args: argparse.Namespace) -> int:
        args.file = args.output if args.action == "export" else args.file
        if args.file is None:
            pr.error("export needs -o FILE; import needs FILE")
        return _cmd_reviews(args)

    pr.set_defaults(func=run)


def _filters_for(idx: Any, words: list[str]) -> Any:
    """Filters from ``--filter`` words, checked against the index's sources and subsets."""
    from .query import Filters
    from .state import parse_filter_args

    sources = [str(v.value) for v in idx.facets(Filters())["source"] if v.value is not None]
    return parse_filter_args(words, known_sources=sources, known_subsets=[s.slug for s in idx.subsets])


def _cmd_report(args: argparse.Namespace) -> int:
    import time

    from .index import ImageIndex
    from .report import MAX_REPORT_BYTES, write_report

    idx = ImageIndex.open(args.root, index_dir=args.index_dir)
    f = _filters_for(idx, args.filter or [])
    t0 = time.perf_counter()
    size = write_report(idx, f, args.output)
    print(f"report -> {args.output} ({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    if size > MAX_REPORT_BYTES:
        print(f"warning: the report is larger than {MAX_REPORT_BYTES / 1e6:.0f} MB", file=sys.stderr)
    return 0


def _add_index_parser(sub: Any) -> None:
    """``index ROOT``: build or update an index (remote roots add their own options)."""
    from .remotecli import add_remote_index_args

    pi = sub.add_parser("index", help="build or update the index of a dataset root")
    pi.add_argument("root", type=Path)
    pi.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="parts read in parallel (default: 2 or the number of cores)",
    )
    pi.add_argument(
        "--index-dir",
        type=Path,
        default=None,
        help="where to write the index (default: ROOT/.skyscript_viz or the user cache)",
    )
    pi.add_argument("--force", action="store_true", help="re-read every part")
    pi.add_argument(
        "--pixels",
        action="store_true",
        help="also decode every image for the pixel checks (blank, low contrast, duplicates)",
    )
    add_remote_index_args(pi)
    pi.set_defaults(func=_cmd_index)


def _add_small_parsers(sub: Any) -> None:
    """``demo`` and ``info``."""
    pd_ = sub.add_parser("demo", help="generate the built-in synthetic demo sample and print its path")
    pd_.add_argument("--index", action="store_true", help="also build its index")
    pd_.set_defaults(func=_cmd_demo)
    pn = sub.add_parser("info", help="headline numbers of a built index")
    pn.add_argument("root", type=Path)
    pn.add_argument("--index-dir", type=Path, default=None)
    pn.set_defaults(func=_cmd_info)


def _add_filter_arg(parser: argparse.ArgumentParser) -> None:
    """--filter NAME=VALUE, in the URL grammar, repeatable."""
    parser.add_argument(
        "--filter",
        action="append",
        metavar="NAME=VALUE",
        help="src, y, m, type, tag (repeatable), tags (all|any), q, sub, bbox, prob",
    )


def _add_output_parsers(sub: Any) -> None:
    """``export`` and ``report``: write the matches of filters to a file."""
    pe = sub.add_parser(
        "export",
        help="write the images matching filters as CSV, GeoJSON or Parquet",
        description="Filters use the URL grammar, e.g. --filter src=CH,US --filter y=2018-2021 "
        "--filter tag=focus:sport=tennis --filter sub=top30_openai",
    )
    pe.add_argument("root", type=Path)
    _add_filter_arg(pe)
    pe.add_argument(
        "--format",
        choices=["csv", "geojson", "parquet"],
        default=None,
        help="default: from the output file's extension",
    )
    pe.add_argument("-o", "--output", type=Path, required=True)
    pe.add_argument("--index-dir", type=Path, default=None)
    pe.set_defaults(func=_cmd_export)
    pr = sub.add_parser(
        "report",
        help="write a self-contained HTML report of the images matching filters",
        description="One HTML file that opens without network: headline numbers, charts, a "
        "coverage map, sample thumbnails per source and the problems by kind. "
        "Filters use the URL grammar, e.g. --filter src=CH,US --filter y=2018-2021",
    )
    pr.add_argument("root", type=Path)
    _add_filter_arg(pr)
    pr.add_argument("-o", "--output", type=Path, required=True)
    pr.add_argument("--index-dir", type=Path, default=None)
    pr.set_defaults(func=_cmd_report)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m skyscript_viz", description="SkyScript Explorer tools")
    sub = p.add_subparsers(dest="cmd", required=True)
    _add_index_parser(sub)
    _add_small_parsers(sub)
    _add_output_parsers(sub)
    from .remotecli import add_cache_parser

    add_cache_parser(sub)
    _add_reviews_parser(sub)
    args = p.parse_args(argv)
    try:
        return int(args.func(args))
    except SkyscriptVizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a disk full or a folder that vanished mid-build
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished parts are kept; run the same command again to continue", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a one-line reason, never a traceback (e.g. out of memory)
        first = (str(exc).splitlines() or [""])[0][:300]
        print(f"error: {type(exc).__name__}: {first}; finished parts are kept", file=sys.stderr)
        return 2
