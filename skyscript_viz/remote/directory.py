"""A remote image zip's central directory: read over range requests, cached as Arrow, looked up by name.

Owns ``images{k}.zipdir.arrow`` (member -> header offset, sizes, method, CRC, sorted by name) and the
fingerprint that tells the index build when the remote zip changed. Parsing is skyscript_viz.zipdir's.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import zipdir
from ..errors import (
    RemoteError,
    ZipFormatError,
)
from .download import DEFAULT_CHUNK, ProgressFn, download_range
from .location import load_manifest
from .transport import RemoteStat, Transport

DIR_SUFFIX = ".zipdir.arrow"
DIR_NAME = re.compile(r"images([0-9]+)\.zipdir\.arrow")
# The cached directory's columns (zipfile's names), in the order of ZipEntry's fields, with Arrow types.
COLUMNS = (
    ("name", "string"),
    ("header_offset", "uint64"),
    ("compress_size", "uint64"),
    ("file_size", "uint64"),
    ("compress_type", "uint16"),
    ("crc", "uint32"),
    ("flag_bits", "uint16"),
    ("name_len", "uint16"),
    ("extra_len", "uint16"),
)


@dataclass
class CentralDirectory:
    """A zip's central directory as columns (sorted by name), and where it sits in the zip."""

    columns: dict[str, list[Any]]
    cd_offset: int  # absolute offset of the directory in the file
    cd_size: int
    concat: int  # bytes before the zip's own offsets (prepended data), added to header offsets
    n_entries: int
    notes: list[str] = field(default_factory=list)


def read_central_directory(
    tr: Transport,
    url: str,
    st: RemoteStat,
    *,
    chunk: int = DEFAULT_CHUNK,
    progress: ProgressFn | None = None,
    label: str | None = None,
    scratch: Path | None = None,
) -> CentralDirectory:
    """Read a remote zip's central directory with range requests (tail, then the directory itself);
    parsed by skyscript_viz.zipdir like every other zip."""
    size = st.size
    label = label or url.rsplit("/", 1)[-1]

    def read_at(a: int, b: int) -> bytes:
        return tr.read(url, a, b, size)

    try:
        loc = zipdir.locate(size, read_at, label=url)
        cd_abs, cd_size = loc.cd_offset, loc.cd_size
        if cd_abs >= loc.tail_start:
            data = loc.tail[cd_abs - loc.tail_start : cd_abs - loc.tail_start + cd_size]
        elif scratch is not None:
            # a large directory (tens of MB for a million members): resumable, with a progress bar
            tmp = scratch / f".{label}.cd"
            part_stat = RemoteStat(cd_size, st.etag, st.last_modified)
            download_range(
                tr, url, tmp, st, cd_abs, cd_size, part_stat, chunk=chunk, progress=progress, label=f"{label} directory"
            )
            data = tmp.read_bytes()
            tmp.unlink(missing_ok=True)
        else:
            data = read_at(cd_abs, cd_abs + cd_size)
        d = zipdir.parse_directory(data, shift=loc.shift, count=loc.count, label=label)
    except ZipFormatError as exc:
        raise RemoteError(str(exc)) from None
    order = sorted(range(len(d)), key=d.names.__getitem__)
    cols = {k: [v[i] for i in order] for (k, _), v in zip(COLUMNS, d.columns(), strict=True)}
    return CentralDirectory(cols, cd_abs, cd_size, loc.shift, len(order), d.notes)


def write_directory(path: Path, cd: CentralDirectory, st: RemoteStat, url: str) -> None:
    import pyarrow as pa

    table = pa.table({k: pa.array(cd.columns[k], getattr(pa, arrow_type)()) for k, arrow_type in COLUMNS})
    table = table.replace_schema_metadata(
        {"url": url, "size": str(st.size), "etag": st.etag or "", "last_modified": st.last_modified or ""}
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


class ZipDirectory:
    """A cached central directory, memory-mapped (no copy on the heap), looked up by binary search."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa

        self.path = path
        self.mtime = path.stat().st_mtime_ns
        self._table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
        self._names = self._table.column("name")

    def __len__(self) -> int:
        n: int = self._table.num_rows  # pyarrow is untyped
        return n

    def names(self) -> list[str]:
        names: list[str] = self._names.to_pylist()
        return names

    def lookup(self, name: str) -> dict[str, Any] | None:
        names = self._names

        class _Seq:
            def __len__(self) -> int:
                return len(names)

            def __getitem__(self, i: int) -> str:
                name: str = names[i].as_py()
                return name

        i = bisect.bisect_left(_Seq(), name)
        if i >= len(names) or names[i].as_py() != name:
            return None
        return {k: self._table.column(k)[i].as_py() for k in self._table.column_names}


def entry_of(row: dict[str, Any]) -> zipdir.ZipEntry:
    """The member location of one row of a cached directory (as :meth:`ZipDirectory.lookup` gives it)."""
    name, *numbers = (row[k] for k, _ in COLUMNS)
    return zipdir.ZipEntry(str(name), *(int(v) for v in numbers))


def zipdir_names(path: Path) -> list[str]:
    """Member names of a cached central directory (for the index build's listing)."""
    return ZipDirectory(Path(path)).names()


def store_fingerprint(path: Path) -> str:
    """Size, ETag and Last-Modified of the remote image zip whose directory is ``path``."""
    path = Path(path)
    manifest = load_manifest(path.parent) or {}
    for name, z in manifest.get("zips", {}).items():
        if z.get("directory") == path.name:
            return f"{name}:{z.get('size')}:{z.get('etag')}:{z.get('last_modified')}"
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"
