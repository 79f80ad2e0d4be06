"""The SkyScript benchmark sets in ``ROOT/benchmark/``: which are there, which are missing, and their data.

Classification sets are a folder with a CSV (``filepath,label``) and ``classnames.txt``; retrieval
sets are a folder with images and a captions CSV. Image paths in a benchmark CSV are resolved inside
the set's folder (or the benchmark folder) and never outside it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from .images import failure_reason, thumbnail_jpeg
from .safeio import check_link, open_text, read_regular
from .zipdir import MAX_IMAGE_BYTES

__all__ = [
    "BENCHMARK_SETS",
    "BenchmarkSet",
    "discover_benchmarks",
    "download_command",
    "read_set_csv",
    "resolve_image",
    "thumbnail",
]

DOWNLOAD_URL = "https://opendatasharing.s3.us-west-2.amazonaws.com/SkyScript/benchmark/{name}.zip"

# name -> (kind, description), as listed in the SkyScript README
BENCHMARK_SETS: dict[str, tuple[Literal["classification", "retrieval"], str]] = {
    "aid": ("classification", "AID scene classification"),
    "eurosat": ("classification", "EuroSAT scene classification"),
    "fmow": ("classification", "fMoW scene classification"),
    "millionaid": ("classification", "Million-AID scene classification"),
    "nwpu": ("classification", "NWPU-RESISC45 scene classification"),
    "patternnet": ("classification", "PatternNet scene classification"),
    "rsicb256": ("classification", "RSI-CB256 scene classification"),
    "SkyScript_cls": ("classification", "SkyScript in-domain classification (70 classes)"),
    "roof_shape": ("classification", "Fine-grained: roof shape"),
    "smoothness": ("classification", "Fine-grained: road smoothness"),
    "surface": ("classification", "Fine-grained: road surface material"),
    "RSICD": ("retrieval", "RSICD cross-modal retrieval"),
    "RSITMD": ("retrieval", "RSITMD cross-modal retrieval"),
    "ucmcaptions": ("retrieval", "UCM-Captions cross-modal retrieval"),
}
MAX_CSV_BYTES = 512 * 1024 * 1024  # the largest set's CSV (Million-AID) is a few tens of MB
MAX_CLASSNAMES_BYTES = 1024 * 1024
BENCH_IMAGE_FORMATS = ("JPEG", "PNG", "TIFF")  # what the published sets hold (UCM is TIFF)
_CAPTION_COLUMNS = ("title", "caption", "captions", "sentence", "sentences", "text", "raw")


@dataclass(frozen=True)
class BenchmarkSet:
    """One benchmark set found (or expected) under ``benchmark/``."""

    name: str
    kind: Literal["classification", "retrieval"]
    description: str
    folder: Path | None  # None when missing
    csv: Path | None = None
    classnames: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def present(self) -> bool:
        return self.folder is not None and self.csv is not None

    def table(self) -> pd.DataFrame:
        """The set's CSV (all columns as text, lower-case names); empty when missing."""
        return self.load()[0]

    def load(self) -> tuple[pd.DataFrame, list[str]]:
        """The set's CSV and what was odd in it: header names in any case (``FilePath,Label``), and rows
        with the wrong number of fields or without a file path (or label) are skipped and counted."""
        if self.csv is None:
            return pd.DataFrame(), []
        return read_set_csv(self.csv, "label" if self.kind == "classification" else None)

    def caption_column(self, df: pd.DataFrame) -> str | None:
        return next((c for c in _CAPTION_COLUMNS if c in df.columns), None)


def read_set_csv(path: Path, required: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """A benchmark CSV as text columns with stripped lower-case names, and a note per kind of odd row."""
    problems: list[str] = []
    try:
        with open_text(path, MAX_CSV_BYTES) as f:
            rows = list(csv.reader(line.replace("\0", "") for line in f))  # a NUL would stop the reader
    except (OSError, csv.Error) as exc:
        return pd.DataFrame(columns=["filepath"]), [f"{path.name} could not be read: {exc}"]
    header = [h.strip().lower() for h in rows[0]] if rows else []
    need = ["filepath"] + ([required] if required else [])
    missing = [c for c in need if c not in header]
    if missing or len(set(header)) != len(header):
        what = f"no {' and no '.join(missing)} column" if missing else "repeated column names"
        return pd.DataFrame(columns=need), [f"{path.name}: {what}"]
    body = [r for r in rows[1:] if any(x.strip() for x in r)]
    good = [r for r in body if len(r) == len(header)]
    if len(good) < len(body):
        problems.append(f"{len(body) - len(good):,} rows with the wrong number of fields skipped")
    df = pd.DataFrame(good, columns=header, dtype=str)
    keep = pd.Series(True, index=df.index)
    for c in need:
        keep &= df[c].str.strip() != ""
    if not keep.all():
        problems.append(f"{int((~keep).sum()):,} rows without {' or '.join(need)} skipped")
    return df[keep].reset_index(drop=True), problems


def download_command(name: str) -> str:
    """The commands that fetch and unpack one set into ``benchmark/`` (from the SkyScript README)."""
    return f"cd ROOT/benchmark && curl -O {DOWNLOAD_URL.format(name=name)} && unzip {name}.zip"


def _find_csv(folder: Path, kind: str) -> Path | None:
    for path in sorted(folder.rglob("*.csv")):
        if path.is_symlink() and check_link(path, folder):
            continue
        try:
            with open_text(path, MAX_CSV_BYTES) as f:
                header = [h.strip().lower() for h in next(csv.reader(f), [])]
        except (OSError, csv.Error):
            continue
        if "filepath" not in header:
            continue
        if kind == "classification" and "label" in header:
            return path
        if kind == "retrieval" and any(c in header for c in _CAPTION_COLUMNS):
            return path
    return None


def _leads_out(link: Path, root: Path) -> bool:
    """True when the folder link ``link`` resolves outside ``root`` (or not at all)."""
    try:
        target, base = link.resolve(strict=True), root.resolve()
    except (OSError, RuntimeError):
        return True
    return not (target == base or base in target.parents)


def _guess_kind(folder: Path) -> Literal["classification", "retrieval"]:
    return "classification" if any(folder.rglob("classnames.txt")) else "retrieval"


def discover_benchmarks(root: Path) -> list[BenchmarkSet]:
    """Every known set (present or missing) plus any other set folder found under ``root/benchmark``."""
    bench = Path(root) / "benchmark"
    found = [p for p in bench.iterdir() if p.is_dir()] if bench.is_dir() and not bench.is_symlink() else []
    folders = {p.name: p for p in found if not (p.is_symlink() and _leads_out(p, Path(root)))}
    outside = {p.name for p in found} - set(folders)
    names = list(BENCHMARK_SETS) + sorted(n for n in folders.keys() | outside if n not in BENCHMARK_SETS)
    out: list[BenchmarkSet] = []
    for name in names:
        folder = folders.get(name)
        if name in outside:
            kind, desc = BENCHMARK_SETS.get(name) or ("retrieval", "found in benchmark/")
            out_why = "a symbolic link leading outside the dataset root; not read"
            out.append(BenchmarkSet(name, kind, desc, bench / name, None, [], out_why))
            continue
        if folder is None:  # only a known set can be missing: the others come from the folders
            out.append(BenchmarkSet(name, *BENCHMARK_SETS[name], None))
            continue
        kind, desc = BENCHMARK_SETS.get(name) or (_guess_kind(folder), "found in benchmark/")
        csv_path = _find_csv(folder, kind)
        classnames: list[str] = []
        cn = next(iter(sorted(folder.rglob("classnames.txt"))), None)
        problem = None
        if cn is not None and cn.is_symlink() and (why := check_link(cn, folder)):
            problem = f"classnames.txt: {why}"
        elif cn is not None:
            try:
                text = read_regular(cn, MAX_CLASSNAMES_BYTES).decode("utf-8", "replace")
                classnames = [ln.strip() for ln in text.splitlines() if ln.strip()]
            except OSError as exc:
                problem = f"classnames.txt could not be read: {exc}"
        if problem is None and csv_path is None:
            problem = (
                "no CSV with filepath,label"
                if kind == "classification"
                else "no CSV with filepath and a caption column"
            )
        elif kind == "classification" and cn is None:
            problem = "classnames.txt missing"
        out.append(BenchmarkSet(name, kind, desc, folder, csv_path, classnames, problem))
    return out


def resolve_image(bset: BenchmarkSet, filepath: str) -> Path | None:
    """The image a benchmark CSV row names, looked up inside the set's folder; None if absent or outside."""
    if bset.folder is None:
        return None
    base = bset.folder.resolve()
    for anchor in (base, base.parent, (bset.csv or base).parent.resolve()):
        p = (anchor / filepath).resolve()
        if (p == base or base in p.parents) and p.is_file():
            return p
    return None


def thumbnail(path: Path, size: int = 160) -> tuple[bytes | None, str | None]:
    """A JPEG thumbnail of a benchmark image and None, or None and why it could not be made (missing,
    not a regular file, over the size or pixel limit, not JPEG/PNG/TIFF, damaged)."""
    try:
        return thumbnail_jpeg(read_regular(path, MAX_IMAGE_BYTES), size, BENCH_IMAGE_FORMATS), None
    except Exception as exc:  # noqa: BLE001 - a broken benchmark image is reported under its tile
        return None, failure_reason(exc)
