"""What the cache of a URL holds, every cache on this machine, and clearing one (no network)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import (
    RemoteError,
)
from .images import forget_reader
from .location import MANIFEST, cache_base, cache_root, load_manifest, normalize_url
from .sync import UNUSED


def _tree_size(path: Path) -> tuple[int, int]:
    total = count = 0
    if path.is_file():
        return path.stat().st_size, 1
    for dirpath, _dirs, names in os.walk(path):
        for n in names:
            try:
                total += os.stat(os.path.join(dirpath, n)).st_size
                count += 1
            except OSError:
                pass
    return total, count


def cache_info(url: object, base: Path | str | None = None) -> dict[str, Any]:
    """Where the cache of ``url`` is and what it holds (sizes per file); no network."""
    url = normalize_url(url)
    root = cache_root(url, base)
    manifest = load_manifest(root) if root.is_dir() else None
    rows: list[dict[str, Any]] = []
    if root.is_dir():
        for rel, e in sorted((manifest or {}).get("files", {}).items()):
            p = root / rel
            rows.append(
                {
                    "what": rel,
                    "bytes": p.stat().st_size if p.is_file() else 0,
                    "remote_bytes": e.get("size"),
                    "present": p.is_file(),
                }
            )
        for zname, z in sorted((manifest or {}).get("zips", {}).items()):
            p = root / z.get("directory", "")
            rows.append(
                {
                    "what": f"{zname} directory ({z.get('members', 0):,} members)",
                    "bytes": p.stat().st_size if p.is_file() else 0,
                    "remote_bytes": z.get("size"),
                    "present": p.is_file(),
                }
            )
        for label, sub in (
            ("images fetched (objects/)", "objects"),
            ("index and thumbnails", ".skyscript_viz"),
            ("unused files (_unused/)", UNUSED),
        ):
            b, n = _tree_size(root / sub) if (root / sub).exists() else (0, 0)
            if n:
                rows.append({"what": f"{label}: {n:,} files", "bytes": b, "remote_bytes": None, "present": True})
        partial = sorted(root.rglob("*.partial"))
        for p in partial:
            rows.append(
                {
                    "what": f"{p.relative_to(root)} (interrupted download)",
                    "bytes": p.stat().st_size,
                    "remote_bytes": None,
                    "present": True,
                }
            )
    total = _tree_size(root)[0] if root.is_dir() else 0
    return {
        "url": url,
        "root": root,
        "exists": root.is_dir(),
        "parts": (manifest or {}).get("parts"),
        "csvs": (manifest or {}).get("csvs"),
        "rows": rows,
        "total_bytes": total,
    }


def list_caches(base: Path | str | None = None) -> list[dict[str, Any]]:
    """Every remote cache under the cache base: URL, folder, size."""
    b = cache_base(base)
    out = []
    if b.is_dir():
        for d in sorted(b.iterdir()):
            m = load_manifest(d) if d.is_dir() else None
            if m and m.get("url"):
                out.append({"url": m["url"], "root": d, "total_bytes": _tree_size(d)[0]})
    return out


def clear_cache(url: object, base: Path | str | None = None, *, images_only: bool = False) -> int:
    """Delete the cache of ``url`` (or only its fetched images and thumbnails); returns bytes freed."""
    root = cache_root(url, base)
    if not root.is_dir():
        return 0
    if load_manifest(root) is None and any(root.iterdir()):
        raise RemoteError(f"{root} does not look like a remote cache (no {MANIFEST}); not deleting it")
    targets = [root / "objects", root / ".skyscript_viz" / "thumbs"] if images_only else [root]
    freed = 0
    for t in targets:
        if t.exists():
            freed += _tree_size(t)[0]
            shutil.rmtree(t)
    forget_reader(root)
    return freed


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
