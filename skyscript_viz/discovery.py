"""Finding the parts, caption CSVs and benchmark sets of a SkyScript root, as users download it.

Image and meta parts are folders (``images2/``) or zips (``images2.zip``, members with or without the
``images2/`` prefix); layouts may be mixed. Caption CSVs are any CSV with a ``filepath`` column in
the root or in ``dataframe/``; official names tell which subset a CSV is.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DatasetRootError
from .storage import StoreKind, storage_kind
from .subsets import OFFICIAL_CSVS

__all__ = [
    "CaptionCsv",
    "DatasetLayout",
    "Part",
    "PartStore",
    "discover",
    "subset_for_csv",
]

_PART = re.compile(r"(images|meta)([0-9]+)(\.zip)?")
# In the local cache of a remote root (remote.json beside it): an image zip's cached central directory.
_REMOTE_DIR = re.compile(r"images([0-9]+)\.zipdir\.arrow")


@dataclass(frozen=True, slots=True)
class PartStore:
    """Where one part's files live: a folder or a zip (or, for a remote root, an image zip on the server
    whose central directory is cached at ``path``); what differs per kind is skyscript_viz.storage's."""

    kind: StoreKind
    path: Path  # absolute

    def fingerprint(self) -> str:
        """Changes whenever the part's files change (size/mtime of the zip, or of every folder entry)."""
        h = hashlib.sha1(f"{self.kind}:{self.path}".encode())
        h.update(storage_kind(self.kind).fingerprint(self.path).encode())
        return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Part:
    """One numbered part: its images and its meta, each possibly missing."""

    number: int
    images: PartStore | None
    meta: PartStore | None

    def fingerprint(self) -> str:
        h = hashlib.sha1(str(self.number).encode())
        for store in (self.images, self.meta):
            h.update((store.fingerprint() if store else "none").encode())
        return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CaptionCsv:
    """A caption CSV and the subset it stands for."""

    path: Path
    relpath: str  # relative to the root
    subset: str  # short slug used in filters and URLs: "top30_openai"
    label: str  # human label: "Top 30% by CLIP (OpenAI)"
    priority: int  # lower wins when two CSVs give captions for one image

    @property
    def rewritten(self) -> bool:
        """True for CSVs whose captions were rewritten on purpose (the language-polished ones): their
        captions differ from the rule-built ones by design, so they are not compared with them."""
        return "language_polished" in self.path.stem

    def fingerprint(self) -> str:
        st = self.path.stat()
        return f"{st.st_size}:{st.st_mtime_ns}"


@dataclass(frozen=True)
class DatasetLayout:
    """Everything discovery found under a root, and what it noticed on the way."""

    root: Path
    parts: list[Part]
    csvs: list[CaptionCsv]
    benchmark: Path | None
    notes: list[str] = field(default_factory=list)


def subset_for_csv(path: Path) -> tuple[str, str, int]:
    """(slug, label, priority) for a caption CSV, from its official name or its stem."""
    stem = path.stem
    for i, (official, slug, label) in enumerate(OFFICIAL_CSVS):
        if stem == official:
            return slug, label, i
    slug = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "csv"
    return slug, stem, len(OFFICIAL_CSVS)


def _has_filepath_column(path: Path) -> bool:
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            header = next(csv.reader(f), [])
    except OSError:
        return False
    return "filepath" in [h.strip().lstrip("\ufeff") for h in header]


def _is_cache_root(root: Path) -> bool:
    from .remote import is_cache_root

    return is_cache_root(root)


def discover(root: Path | str) -> DatasetLayout:
    """Find the parts and CSVs under ``root``; raise DatasetRootError with a one-line reason if unusable."""
    root, entries = _open_root(root)
    notes: list[str] = []
    stores = _find_stores(root, entries, notes)
    numbers = sorted({n for _, n in stores})
    parts = [Part(n, stores.get(("images", n)), stores.get(("meta", n))) for n in numbers]
    csvs = _find_csvs(root, notes)
    benchmark = root / "benchmark"
    if not parts and not csvs:
        raise DatasetRootError(
            f"{str(root)!r} holds no SkyScript parts (images2/ … images7/, meta2.zip …) "
            "and no caption CSVs; point to the folder that contains them"
        )
    return DatasetLayout(root, parts, csvs, benchmark if benchmark.is_dir() else None, notes)


def _open_root(root: Path | str) -> tuple[Path, list[str]]:
    """The root, resolved, and its entries sorted; a missing, non-folder or unreadable root raises."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetRootError(f"dataset root {str(root)!r} does not exist")
    if not root.is_dir():
        raise DatasetRootError(f"dataset root {str(root)!r} is not a folder")
    root = root.resolve()
    try:
        return root, sorted(os.listdir(root))
    except PermissionError as exc:
        raise DatasetRootError(f"dataset root {str(root)!r} is not readable: {exc.strerror}") from exc


def _find_stores(root: Path, entries: list[str], notes: list[str]) -> dict[tuple[str, int], PartStore]:
    """Where each (images|meta, part number) is stored: a folder, a zip, or a URL root's remote zip."""
    stores: dict[tuple[str, int], PartStore] = {}
    # the local cache of a URL root (skyscript_viz.remote); a folder merely shipping a remote.json is not
    remote_cache = "remote.json" in entries and _is_cache_root(root)
    if "remote.json" in entries and not remote_cache and any(_REMOTE_DIR.fullmatch(n) for n in entries):
        notes.append("remote.json ignored: only a root opened by its URL reads images from a server")
    for name in entries:
        r = _REMOTE_DIR.fullmatch(name) if remote_cache else None
        if r:
            stores[("images", int(r.group(1)))] = PartStore("remote-zip", root / name)
            continue
        m = _PART.fullmatch(name)
        if not m:
            continue
        path = root / name
        kind: StoreKind = "zip" if m.group(3) else "folder"
        if (kind == "zip") != path.is_file():
            continue
        key = (m.group(1), int(m.group(2)))
        if key in stores:
            # Both images2/ and images2.zip: the unzipped folder is what the user extracted; use it.
            notes.append(f"{name} ignored: {stores[key].path.name} holds the same part")
            if kind == "zip":
                continue
        stores[key] = PartStore(kind, path)
    return stores


def _find_csvs(root: Path, notes: list[str]) -> list[CaptionCsv]:
    """The caption CSVs in the root and in dataframe/, each with a unique subset slug, in priority order."""
    csvs: list[CaptionCsv] = []
    for folder in (root, root / "dataframe"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.csv")):
            if not _has_filepath_column(path):
                notes.append(f"{path.relative_to(root)} skipped: no 'filepath' column")
                continue
            slug, label, prio = subset_for_csv(path)
            taken = {c.subset for c in csvs}
            base, i = slug, 2
            while slug in taken:
                slug, i = f"{base}_{i}", i + 1
            csvs.append(CaptionCsv(path, path.relative_to(root).as_posix(), slug, label, prio))
    csvs.sort(key=lambda c: (c.priority, c.relpath))
    return csvs
