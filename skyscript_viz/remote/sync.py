"""Bring a URL's cache root up to date: choose parts and CSVs, download what changed, read directories.

Owns the choice of parts/CSVs (defaults, ``--parts``/``--csv`` grammar), parking files no longer chosen
in ``_unused/``, and the :class:`SyncReport` the CLI and the app show.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import (
    RemoteError,
    RemoteNotFoundError,
    RemoteTimeoutError,
    RemoteUnreachableError,
)
from ..subsets import OFFICIAL_CSVS
from .directory import DIR_NAME, DIR_SUFFIX, read_central_directory, write_directory
from .download import ProgressFn, download
from .location import FORMAT, cache_root, join_url, load_manifest, normalize_url, save_manifest
from .transport import RemoteStat, Transport, shared_transport

DEFAULT_PARTS: tuple[int, ...] = (2, 3, 4, 5, 6, 7)
# The only official CSV that holds every training image, so every footprint gets its caption.
DEFAULT_CSVS: tuple[str, ...] = ("SkyScript_train_unfiltered_5M.csv",)
UNUSED = "_unused"
_CSV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.csv")


@dataclass
class SyncReport:
    url: str
    root: Path
    parts: list[int]
    csvs: list[str]
    downloaded: dict[str, int] = field(default_factory=dict)  # file -> bytes fetched this run
    notes: list[str] = field(default_factory=list)
    offline: bool = False  # the server could not be reached; cached files were used

    @property
    def bytes_fetched(self) -> int:
        return sum(self.downloaded.values())


class _Notes(list[str]):
    """A list of notes that also hands each new one to ``notify`` (so the CLI prints it right away)."""

    def __init__(self, notify: Callable[[str], None] | None) -> None:
        super().__init__()
        self._notify = notify

    def append(self, text: str) -> None:
        super().append(text)
        if self._notify is not None:
            self._notify(text)

    def extend(self, items: Iterable[str]) -> None:
        for text in items:
            self.append(text)


def parse_parts(text: str | Iterable[int] | None) -> list[int] | None:
    """``"2,3"``, ``"2-4"``, ``"all"`` (2–7) -> sorted part numbers; None stays None."""
    if text is None:
        return None
    if not isinstance(text, str):
        return sorted({int(x) for x in text})
    out: set[int] = set()
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        if item.lower() == "all":
            out.update(DEFAULT_PARTS)
            continue
        m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", item)
        if not m:
            raise RemoteError(f"--parts {text!r}: use part numbers like 2,3 or a range like 2-7")
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        if a > b or b > 999:
            raise RemoteError(f"--parts {text!r}: {item} is not a valid range")
        out.update(range(a, b + 1))
    if not out:
        raise RemoteError(f"--parts {text!r} names no part")
    return sorted(out)


def csv_name(name: str) -> str:
    """A caption CSV as given by the user (file name, ``dataframe/`` name, or subset slug) -> file name."""
    n = name.strip().replace("\\", "/")
    if n.startswith("dataframe/"):
        n = n[len("dataframe/") :]
    for official, slug, _label in OFFICIAL_CSVS:
        if n in (slug, official):
            return official + ".csv"
    if not n.lower().endswith(".csv"):
        n += ".csv"
    if not _CSV_NAME.fullmatch(n):
        raise RemoteError(
            f"--csv {name!r}: give a CSV file name such as SkyScript_train_top30pct_filtered_by_CLIP_openai.csv"
        )
    return n


def _park(root: Path, keep: set[str]) -> list[str]:
    """Move files of parts/CSVs no longer chosen to ``_unused/`` (so discovery does not see them)."""
    moved: list[str] = []
    candidates = [p for p in root.iterdir() if p.is_file()]
    df = root / "dataframe"
    if df.is_dir():
        candidates += [p for p in df.iterdir() if p.is_file()]
    for p in candidates:
        rel = p.relative_to(root).as_posix()
        if rel in keep or not (
            re.fullmatch(r"meta[0-9]+\.zip", p.name) or DIR_NAME.fullmatch(p.name) or p.suffix.lower() == ".csv"
        ):
            continue
        dest = root / UNUSED / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, dest)
        moved.append(rel)
    return moved


def _unpark(root: Path, rel: str) -> None:
    parked = root / UNUSED / rel
    if parked.is_file() and not (root / rel).exists():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(parked, root / rel)


def sync(
    url: object,
    *,
    parts: Iterable[int] | str | None = None,
    csvs: Iterable[str] | None = None,
    base: Path | str | None = None,
    timeout: float | None = None,
    chunk: int | None = None,
    progress: ProgressFn | None = None,
    notify: Callable[[str], None] | None = None,
) -> SyncReport:
    """Bring the cache root of ``url`` up to date for ``parts`` and ``csvs`` and return what was done.

    Downloads (resumably) the meta zips and CSVs that are missing or changed on the server and reads the
    central directory of every chosen image zip. Without ``parts``/``csvs`` the last run's choice is
    used, else :data:`DEFAULT_PARTS` / :data:`DEFAULT_CSVS`. If the server cannot be reached but every
    file is cached, the cached files are used (``report.offline``). Notes (defaults used, files changed
    on the server…) are collected in ``report.notes`` and also passed to ``notify`` as they arise.
    """
    url = normalize_url(url)
    root = cache_root(url, base)
    fresh = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    try:
        return _sync(url, root, parts=parts, csvs=csvs, timeout=timeout, chunk=chunk, progress=progress, notify=notify)
    except BaseException:
        if fresh and not any(root.iterdir()):
            root.rmdir()  # a first run that failed before writing anything leaves no empty folder
        raise


def _sync(
    url: str,
    root: Path,
    *,
    parts: Iterable[int] | str | None,
    csvs: Iterable[str] | None,
    timeout: float | None,
    chunk: int | None,
    progress: ProgressFn | None,
    notify: Callable[[str], None] | None,
) -> SyncReport:
    manifest = load_manifest(root) or {}
    if manifest.get("url") not in (None, url):
        raise RemoteError(f"cache folder {root} belongs to {manifest.get('url')}, not {url}")
    manifest.setdefault("format", FORMAT)
    manifest["url"] = url
    report = SyncReport(url, root, [], [], notes=_Notes(notify))
    report.parts = _chosen_parts(parts, manifest, report.notes)
    chosen_csvs = _chosen_csvs(csvs, manifest, report.notes)
    run = _Run(
        url, root, manifest, report, shared_transport(url, timeout), chunk or settings.current().remote_chunk, progress
    )
    csv_rels = [run.csv_rel(name) for name in chosen_csvs]
    keep = {f"meta{k}.zip" for k in report.parts} | {f"images{k}{DIR_SUFFIX}" for k in report.parts}
    for rel in keep | set(csv_rels):
        _unpark(root, rel)
    for k in report.parts:
        run.sync_meta(k)
    report.csvs = [run.sync_csv(name, rel) for name, rel in zip(chosen_csvs, csv_rels, strict=True)]
    for k in report.parts:
        run.sync_directory(k)
    parked = _park(root, keep | set(report.csvs))
    if parked:
        report.notes.append(f"no longer chosen, moved to {UNUSED}/ (kept for later): {', '.join(parked)}")
    manifest["parts"] = report.parts
    manifest["csvs"] = report.csvs
    manifest["synced_at"] = _now()
    save_manifest(root, manifest)
    return report


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _chosen_parts(parts: Iterable[int] | str | None, manifest: dict[str, Any], notes: list[str]) -> list[int]:
    """The parts asked for, else the last run's, else the defaults (said in a note)."""
    chosen = parse_parts(parts) if parts is not None else None
    if chosen is not None:
        return chosen
    if manifest.get("parts"):
        return list(manifest["parts"])
    chosen = list(DEFAULT_PARTS)
    notes.append(f"no --parts given: using parts {', '.join(map(str, chosen))} (choose fewer with --parts 2,3)")
    return chosen


def _chosen_csvs(csvs: Iterable[str] | None, manifest: dict[str, Any], notes: list[str]) -> list[str]:
    """The caption CSVs asked for, else the last run's, else the default (said in a note); no repeats."""
    if csvs is not None:
        chosen = [csv_name(c) for c in csvs]
    elif manifest.get("csvs"):
        chosen = [c.rsplit("/", 1)[-1] for c in manifest["csvs"]]
    else:
        chosen = list(DEFAULT_CSVS)
        notes.append(
            f"no --csv given: using {', '.join(chosen)} (captions of every training "
            "image; choose another with --csv NAME)"
        )
    return list(dict.fromkeys(chosen))


@dataclass
class _Run:
    """One sync of a cache root: the manifest it updates as each file arrives, and the report it fills."""

    url: str
    root: Path
    manifest: dict[str, Any]
    report: SyncReport
    tr: Transport
    chunk: int
    progress: ProgressFn | None

    def __post_init__(self) -> None:
        self.files: dict[str, Any] = self.manifest.setdefault("files", {})
        self.zips: dict[str, Any] = self.manifest.setdefault("zips", {})

    def csv_rel(self, name: str) -> str:
        """Where a CSV was cached before: dataframe/ (the official layout) or the root."""
        known = [r for r in (f"dataframe/{name}", name) if r in self.files]
        return known[0] if known else f"dataframe/{name}"

    def stat(self, rel: str, cached_ok: bool) -> RemoteStat | None:
        """The server's stat of ``rel``; None when it is unreachable and a cached copy will do."""
        try:
            return self.tr.stat(join_url(self.url, rel))
        except (RemoteUnreachableError, RemoteTimeoutError) as exc:
            if not cached_ok:
                raise
            if not self.report.offline:
                self.report.notes.append(f"server unreachable, using the cached files: {exc}")
            self.report.offline = True
            return None

    def cached(self, rel: str) -> bool:
        return (self.root / rel).is_file() and rel in self.files

    def fetch(self, rel: str, st: RemoteStat) -> None:
        """Download ``rel`` unless the cached copy is the server's; record it in the manifest."""
        dest, entry = self.root / rel, self.files.get(rel)
        if dest.is_file() and st.same_as(entry) and dest.stat().st_size == st.size:
            return
        if dest.is_file() and entry:
            self.report.notes.append(f"{rel} changed on the server ({st.difference(entry)}): downloading it again")
        self.report.downloaded[rel] = download(
            self.tr,
            join_url(self.url, rel),
            dest,
            st,
            chunk=self.chunk,
            progress=self.progress,
            label=rel,
            notes=self.report.notes,
        )
        self.files[rel] = {**st.to_json(), "fetched_at": _now()}
        save_manifest(self.root, self.manifest)

    def sync_meta(self, k: int) -> None:
        rel = f"meta{k}.zip"
        st = self.stat(rel, self.cached(rel))
        if st is not None:
            self.fetch(rel, st)

    def sync_csv(self, name: str, rel: str) -> str:
        """Bring one caption CSV up to date, trying the root when dataframe/ has none; returns where it is."""
        try:
            st = self.stat(rel, self.cached(rel))
        except RemoteNotFoundError:
            if rel != f"dataframe/{name}":
                raise
            try:
                st, rel = self.stat(name, False), name
            except RemoteNotFoundError:
                raise RemoteNotFoundError(
                    f"caption CSV {name} not found on the server (HTTP 404): tried "
                    f"{join_url(self.url, 'dataframe/' + name)} and {join_url(self.url, name)}"
                ) from None
        if st is not None:
            self.fetch(rel, st)
        return rel

    def sync_directory(self, k: int) -> None:
        """Read image zip ``k``'s central directory when new or changed (dropping images cached from it)."""
        zname, dname = f"images{k}.zip", f"images{k}{DIR_SUFFIX}"
        entry = self.zips.get(zname)
        have = (self.root / dname).is_file() and entry is not None
        st = self.stat(zname, have)
        if st is None or (have and st.same_as(entry)):
            return
        if have and entry is not None:
            self.report.notes.append(
                f"{zname} changed on the server ({st.difference(entry)}): its directory is read "
                "again and the images cached from it are dropped"
            )
        zurl = join_url(self.url, zname)
        cd = read_central_directory(
            self.tr, zurl, st, chunk=self.chunk, progress=self.progress, label=zname, scratch=self.root
        )
        self.report.notes.extend(cd.notes)
        if have:
            shutil.rmtree(self.root / "objects" / f"images{k}", ignore_errors=True)
            shutil.rmtree(self.root / ".skyscript_viz" / "thumbs", ignore_errors=True)
        write_directory(self.root / dname, cd, st, zurl)
        self.report.downloaded[f"{zname} (directory)"] = cd.cd_size
        self.zips[zname] = {
            **st.to_json(),
            "directory": dname,
            "members": cd.n_entries,
            "cd_offset": cd.cd_offset,
            "cd_size": cd.cd_size,
            "read_at": _now(),
        }
        save_manifest(self.root, self.manifest)
