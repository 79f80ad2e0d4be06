"""Writing the planned dataset: parts as folders or zips, meta pickles (and an unsafe one), caption CSVs."""

from __future__ import annotations

import csv
import random
import struct
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from .captions import _article, _phrase
from .osm import _Img
from .places import _AERIAL
from .planner import _Planner

CSV_NAMES: tuple[str, ...] = (
    "SkyScript_train_unfiltered_5M.csv",
    "SkyScript_train_top30pct_filtered_by_CLIP_openai.csv",
    "SkyScript_train_top50pct_filtered_by_CLIP_openai.csv",
    "SkyScript_train_top30pct_filtered_by_CLIP_laion_RS.csv",
    "SkyScript_train_top50pct_filtered_by_CLIP_laion_RS.csv",
    "SkyScript_val_5K_filtered_by_CLIP_openai.csv",
    "SkyScript_test_30K_filtered_by_CLIP_openai.csv",
)


# part -> (storage of imagesN, storage of metaN): "dir", "zip" (members without the folder prefix),
# "zip/" (members with the prefix and a directory entry).
_PARTS: dict[int, tuple[str, str]] = {
    2: ("dir", "dir"),
    3: ("zip", "zip/"),
    4: ("zip/", "dir"),
    5: ("dir", "dir"),
    6: ("dir", "zip"),
    7: ("zip/", "zip/"),
}


_ZIP_DATE = (2023, 6, 1, 12, 0, 0)


def _unsafe_pickle(variant: int, meta: dict[str, Any]) -> bytes:
    """Hand-assembled pickle bytes of a meta dict whose ``center_tags`` would be the result of
    ``os.system("touch /tmp/skyscript_pwned")`` if loaded with plain pickle.  Built opcode by opcode:
    nothing is executed here.  Variant 0: GLOBAL ``os system`` (protocol 2); 1: STACK_GLOBAL
    ``os`` ``system`` (protocol 4); 2: GLOBAL ``posix system`` (protocol 2).
    """
    cmd = "touch /tmp/skyscript_pwned"
    proto4 = variant % 3 == 1

    def ustr(s: str) -> bytes:
        b = s.encode()
        if proto4 and len(b) < 256:
            return b"\x8c" + bytes([len(b)]) + b  # SHORT_BINUNICODE
        return b"X" + struct.pack("<I", len(b)) + b  # BINUNICODE

    def floats(vals: Iterable[float]) -> bytes:  # MARK BINFLOAT... TUPLE
        return b"(" + b"".join(b"G" + struct.pack(">d", float(v)) for v in vals) + b"t"

    def ints(vals: Iterable[int]) -> bytes:  # MARK BININT2... TUPLE
        return b"(" + b"".join(b"M" + struct.pack("<H", int(v) & 0xFFFF) for v in vals) + b"t"

    if proto4:
        head = b"\x80\x04"
        call = ustr("os") + ustr("system") + b"\x93" + ustr(cmd) + b"\x85R"  # STACK_GLOBAL, TUPLE1, REDUCE
    else:
        head = b"\x80\x02"
        mod = b"os" if variant % 3 == 0 else b"posix"
        call = b"c" + mod + b"\nsystem\n" + ustr(cmd) + b"\x85R"  # GLOBAL, TUPLE1, REDUCE
    body = (
        b"}("
        + ustr("box")
        + floats(meta["box"])
        + ustr("time")
        + ints(meta["time"])
        + ustr("center_tags")
        + call
        + ustr("surrounding_tags")
        + b"]"
        + b"u."
    )
    return head + body


class _Writer:
    """Writes files into folders or zips according to ``_PARTS``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.zips: dict[str, zipfile.ZipFile] = {}
        self.layout: dict[str, dict[str, str]] = {}
        for part, (img_store, meta_store) in _PARTS.items():
            for folder, store in ((f"images{part}", img_store), (f"meta{part}", meta_store)):
                if store == "dir":
                    (root / folder).mkdir(parents=True, exist_ok=True)
                    self.layout[folder] = {"storage": "dir", "file": folder, "prefix": ""}
                else:
                    prefix = f"{folder}/" if store == "zip/" else ""
                    zf = zipfile.ZipFile(root / f"{folder}.zip", "w")
                    if prefix:
                        info = zipfile.ZipInfo(prefix, date_time=_ZIP_DATE)
                        info.external_attr = (0o40755 << 16) | 0x10
                        zf.writestr(info, b"")
                    self.zips[folder] = zf
                    self.layout[folder] = {"storage": "zip", "file": f"{folder}.zip", "prefix": prefix}

    def write(self, relpath: str, data: bytes) -> None:
        folder, _, name = relpath.partition("/")
        lay = self.layout[folder]
        if lay["storage"] == "dir":
            (self.root / relpath).write_bytes(data)
            return
        info = zipfile.ZipInfo(lay["prefix"] + name, date_time=_ZIP_DATE)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_STORED if name.endswith(".jpg") else zipfile.ZIP_DEFLATED
        self.zips[folder].writestr(info, data)

    def close(self) -> None:
        for zf in self.zips.values():
            zf.close()


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)
            n += 1
    return n


def _write_csvs(root: Path, pl: _Planner) -> dict[str, int]:
    rng = random.Random(f"skyscript-demo-csv/{pl.seed}")
    d = root / "dataframe"
    d.mkdir()
    everything = [*pl.images, *pl.extras]
    train = [im for im in everything if im.split == "train" and im.in_csv]
    rows_all: list[tuple[str, str, str]] = [(im.image_path, im.title, im.multi) for im in train]
    rows_all += [(p, t, m) for _k, p, t, m in pl.csv_only]
    rng.shuffle(rows_all)
    header = ("filepath", "title", "title_multi_objects")
    out: dict[str, int] = {}
    out[CSV_NAMES[0]] = _write_csv(d / CSV_NAMES[0], header, rows_all)
    valid = [im for im in train if im.fault != "bad_name"]

    def subset(key: Callable[[_Img], float], share: float) -> list[_Img]:
        ranked = sorted(valid, key=lambda im: (-key(im), im.stem))
        chosen = ranked[: max(1, round(len(ranked) * share))]
        rng.shuffle(chosen)
        return chosen

    def caption(im: _Img) -> tuple[str, str, str]:
        if im.fault == "duplicate_caption_conflict":
            alt = "satellite image of" if im.src in _AERIAL else "aerial image of"
            t = f"{alt} {_article(_phrase(im.center_tags))} in {im.year}"
            return im.image_path, t, f"{t}, with roads nearby"
        return im.image_path, im.title, im.multi

    for name, key, share in (
        (CSV_NAMES[1], "o", 0.3),
        (CSV_NAMES[2], "o", 0.5),
        (CSV_NAMES[3], "l", 0.3),
        (CSV_NAMES[4], "l", 0.5),
    ):
        rows = subset((lambda im: im.s_openai) if key == "o" else (lambda im: im.s_laion), share)
        conv = caption if name == CSV_NAMES[2] else (lambda im: (im.image_path, im.title, im.multi))
        out[name] = _write_csv(d / name, header, (conv(im) for im in rows))
    for name, split in ((CSV_NAMES[5], "val"), (CSV_NAMES[6], "test")):
        rows_v = [im for im in everything if im.split == split and im.in_csv and im.fault is None]
        rows_v.sort(key=lambda im: -im.s_openai)
        out[name] = _write_csv(d / name, header, ((im.image_path, im.title, im.multi) for im in rows_v))
    return out
