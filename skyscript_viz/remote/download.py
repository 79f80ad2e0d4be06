"""Resumable downloads of whole remote files (or byte ranges of them) by range requests.

Owns ``<file>.partial`` + ``.partial.json``: an interrupted download resumes only if the server still
has the same file, and the destination is replaced only when complete.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import (
    RemoteChangedError,
    RemoteInterruptedError,
    RemoteTimeoutError,
)
from .transport import RemoteStat, Transport

DEFAULT_CHUNK = 8 * 1024 * 1024  # bytes per range request when downloading
ProgressFn = Callable[[str, int, int], None]  # (label, done bytes, total bytes)


def _partial_paths(dest: Path) -> tuple[Path, Path]:
    return dest.with_name(dest.name + ".partial"), dest.with_name(dest.name + ".partial.json")


def download(
    tr: Transport,
    url: str,
    dest: Path,
    st: RemoteStat,
    *,
    chunk: int = DEFAULT_CHUNK,
    progress: ProgressFn | None = None,
    label: str | None = None,
    notes: list[str] | None = None,
) -> int:
    """Download ``url`` to ``dest`` by range requests of ``chunk`` bytes; returns bytes fetched.

    Bytes go to ``dest.partial``; an interrupted download resumes from its size if the server still has
    the same file (size and ETag recorded in ``dest.partial.json``), else starts again. ``dest`` is
    replaced only when complete and of the expected size, so an older copy stays usable until then.
    """
    label = label or dest.name
    part, meta = _partial_paths(dest)
    have = 0
    if part.is_file():
        try:
            old = json.loads(meta.read_text())
        except (OSError, ValueError):
            old = None
        if st.same_as(old) and part.stat().st_size <= st.size:
            have = part.stat().st_size
        else:
            if notes is not None:
                notes.append(f"{label}: changed on the server since the interrupted download; starting again")
            part.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({**st.to_json(), "url": url}))
    fetched = 0
    if progress is not None:
        progress(label, have, st.size)
    with open(part, "ab" if have else "wb") as f:
        pos = have
        while pos < st.size:
            end = min(pos + chunk, st.size)
            for attempt in range(3):
                try:
                    data = tr.read(url, pos, end, st.size)
                    break
                except (RemoteInterruptedError, RemoteTimeoutError) as exc:
                    if attempt == 2:
                        raise type(exc)(
                            f"{exc}; download of {label} stopped at {pos:,} of {st.size:,} bytes, "
                            "run the same command again to resume"
                        ) from exc
                    time.sleep(0.2 * (attempt + 1))
            f.write(data)
            f.flush()
            fetched += len(data)
            pos = end
            if progress is not None:
                progress(label, pos, st.size)
    if part.stat().st_size != st.size:
        part.unlink()
        raise RemoteChangedError(
            f"{label}: downloaded {part.stat().st_size if part.exists() else 0:,} bytes, "
            f"the server said {st.size:,}; run the command again"
        )
    os.replace(part, dest)
    meta.unlink(missing_ok=True)
    return fetched


def download_range(
    tr: Transport,
    url: str,
    dest: Path,
    st: RemoteStat,
    start: int,
    length: int,
    part_stat: RemoteStat,
    *,
    chunk: int,
    progress: ProgressFn | None,
    label: str,
) -> None:
    """Like :func:`download` for bytes ``[start, start + length)`` of ``url``."""

    class _Shifted:
        def read(self, _url: str, a: int, b: int, _size: int) -> bytes:
            return tr.read(url, start + a, start + b, st.size)

    download(_Shifted(), url, dest, part_stat, chunk=chunk, progress=progress, label=label)  # type: ignore[arg-type]
