"""Command-line parts for remote roots: ``index URL --parts … --csv …`` and ``cache info|clear``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import remote

__all__ = ["add_cache_parser", "add_remote_index_args", "prepare_remote_root"]


def add_remote_index_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("remote roots (ROOT is an https://, http:// or s3:// URL)")
    g.add_argument(
        "--parts",
        default=None,
        metavar="2,3",
        help="parts to use, e.g. 2,3 or 2-7 (default: the last run's choice, else 2-7); their meta "
        "zips are downloaded, their image zips stay on the server",
    )
    g.add_argument(
        "--csv",
        action="append",
        default=None,
        metavar="NAME",
        help="caption CSV to download (repeatable; a file name from dataframe/ or a subset slug "
        "such as top30_openai; default: the last run's choice, else "
        f"{remote.DEFAULT_CSVS[0]})",
    )
    g.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where remote roots are cached (default: $SKYSCRIPT_CACHE or the user cache dir); "
        "the app finds it through SKYSCRIPT_CACHE",
    )
    g.add_argument(
        "--timeout",
        type=float,
        default=None,
        help=f"seconds without an answer before a request gives up (default: "
        f"$SKYSCRIPT_REMOTE_TIMEOUT or {remote.DEFAULT_TIMEOUT:g})",
    )


def _bars() -> tuple[Any, Any]:
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(label: str, done: int, total: int) -> None:
        bar = bars.get(label)
        if bar is None:
            for old in bars.values():  # files come one after the other: finish the previous bar
                old.close()
            bar = bars[label] = tqdm(
                total=total,
                initial=done,
                desc=label,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                dynamic_ncols=True,
                leave=True,
            )
        bar.total = total
        bar.update(done - bar.n)

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return progress, close


def prepare_remote_root(args: argparse.Namespace) -> Path:
    """Sync the cache of ``args.root`` (downloads with progress bars) and return the local cache root."""
    base = getattr(args, "cache_dir", None)
    base = Path(base).expanduser().resolve() if base is not None else None
    if getattr(args, "pixels", False):
        raise remote.RemoteError(
            "--pixels decodes every image, which on a remote root means downloading all "
            "of them; download the image zips and index the local copy for the pixel checks"
        )
    url = remote.normalize_url(args.root)
    root = remote.cache_root(url, base)
    print(f"remote root {url}\ncache: {root}")
    from tqdm import tqdm

    progress, close = _bars()
    try:
        report = remote.sync(
            url,
            parts=args.parts,
            csvs=args.csv,
            base=base,
            timeout=args.timeout,
            progress=progress,
            notify=lambda text: tqdm.write(f"note: {text}"),
        )
    finally:
        close()
    fetched = report.bytes_fetched
    print(
        f"parts {', '.join(map(str, report.parts))}; CSVs {', '.join(report.csvs) or '-'}; "
        f"fetched {remote.human_bytes(fetched)} this run"
        + (" (server unreachable: cached files used)" if report.offline else "")
    )
    if base is not None and remote.cache_base() != base:
        print(f"the app and the other commands find this cache with SKYSCRIPT_CACHE={base}")
    return root


def add_cache_parser(sub: Any) -> None:
    pc = sub.add_parser("cache", help="show or clear the local cache of remote (URL) roots")
    csub = pc.add_subparsers(dest="cache_cmd", required=True)
    ci = csub.add_parser("info", help="where the cache of URL is and the size of every file (no URL: all caches)")
    ci.add_argument("url", nargs="?", default=None)
    ci.add_argument("--cache-dir", type=Path, default=None)
    ci.set_defaults(func=_cmd_cache_info)
    cc = csub.add_parser("clear", help="delete the cache of URL (downloads, directories, fetched images, index)")
    cc.add_argument("url")
    cc.add_argument(
        "--images", action="store_true", help="only the fetched images and thumbnails; keep the downloads and the index"
    )
    cc.add_argument("--cache-dir", type=Path, default=None)
    cc.set_defaults(func=_cmd_cache_clear)


def _cmd_cache_info(args: argparse.Namespace) -> int:
    hb = remote.human_bytes
    if args.url is None:
        caches = remote.list_caches(args.cache_dir)
        print(f"cache folder: {remote.cache_base(args.cache_dir)}")
        if not caches:
            print("no remote roots cached")
        for c in caches:
            print(f"{hb(c['total_bytes']):>10}  {c['url']}\n            {c['root']}")
        return 0
    info = remote.cache_info(args.url, args.cache_dir)
    print(f"remote root {info['url']}\ncache: {info['root']}")
    if not info["exists"]:
        print(f"nothing cached yet; `python -m skyscript_viz index {info['url']}` fills it")
        return 0
    if info["parts"] is not None:
        print(f"parts {', '.join(map(str, info['parts']))}; CSVs {', '.join(info['csvs'] or []) or '-'}")
    print(f"{'':<4}{'cached':>10}  {'on server':>10}  file")
    for r in info["rows"]:
        print(
            f"{'':<4}{hb(r['bytes']):>10}  {hb(r['remote_bytes']):>10}  {r['what']}"
            + ("" if r["present"] else "  (missing)")
        )
    print(f"total {hb(info['total_bytes'])}")
    return 0


def _cmd_cache_clear(args: argparse.Namespace) -> int:
    root = remote.cache_root(args.url, args.cache_dir)
    freed = remote.clear_cache(args.url, args.cache_dir, images_only=args.images)
    what = "fetched images and thumbnails" if args.images else "cache"
    print(f"cleared the {what} of {remote.normalize_url(args.url)} ({remote.human_bytes(freed)} freed): {root}")
    return 0
