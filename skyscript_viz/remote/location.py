"""Where a remote root lives on this machine: URL parsing, the cache root per URL and its ``remote.json``.

Owns the URL grammar (``https://``, ``http://``, ``s3://``), the cache folder layout and the manifest
file; no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import settings
from ..errors import (
    RemoteError,
)

MANIFEST = "remote.json"
FORMAT = 1
_MAX_MANIFEST = 64 * 1024 * 1024  # bytes; a real remote.json is a few kilobytes
_SCHEME = re.compile(r"^(https?|s3):/+(.*)$", re.IGNORECASE)


def is_remote(root: object) -> bool:
    """True for ``http(s)://…`` and ``s3://…`` roots (also when a Path has collapsed ``//`` to ``/``)."""
    return isinstance(root, str | os.PathLike) and bool(_SCHEME.match(str(os.fspath(root))))


def normalize_url(root: object) -> str:
    """``https://host/path`` without a trailing slash; repairs ``https:/host`` (a URL passed through Path)."""
    text = os.fspath(root)  # type: ignore[call-overload]
    m = _SCHEME.match(str(text))
    if not m:
        raise RemoteError(f"{text!r} is not an http(s):// or s3:// URL")
    rest = m.group(2).rstrip("/")
    if not rest:
        raise RemoteError(f"{text!r} names no host or bucket")
    return f"{m.group(1).lower()}://{rest}"


def cache_base(base: Path | str | None = None) -> Path:
    """Folder holding one cache root per URL: ``base``, else $SKYSCRIPT_CACHE, else the user cache dir."""
    if base is not None:
        return Path(base).expanduser()
    env = settings.current().cache
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("skyscript_viz")) / "remote"


def cache_root(url: object, base: Path | str | None = None) -> Path:
    """The local cache root of a remote root (it need not exist yet)."""
    url = normalize_url(url)
    tail = url.split("://", 1)[1].rsplit("/", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("._") or "root"
    digest = hashlib.sha1(url.encode()).hexdigest()[:12]
    return (cache_base(base) / f"{slug[:40]}-{digest}").resolve()


def join_url(url: str, rel: str) -> str:
    return f"{url}/{rel}"


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def is_cache_root(root: Path | str) -> bool:
    """True only for the cache root a URL was opened into (``cache_root(url)`` of its manifest's URL).

    A dataset folder can ship its own ``remote.json`` naming any address (an internal one, say); only
    the folder this machine derived from a URL the user opened may send requests to the server named
    there. Everything else is an ordinary local root.
    """
    manifest = load_manifest(Path(root))
    try:
        url = normalize_url(manifest["url"]) if manifest else None
        return url is not None and cache_root(url) == Path(root).expanduser().resolve()
    except (RemoteError, TypeError, KeyError, OSError):
        return False


def load_manifest(root: Path) -> dict[str, Any] | None:
    """``remote.json`` of a cache root, or None when there is none (or it is unreadable)."""
    path = Path(root) / MANIFEST
    try:
        if path.stat().st_size > _MAX_MANIFEST:
            return None
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def save_manifest(root: Path, manifest: dict[str, Any]) -> None:
    tmp = root / f".{MANIFEST}.{os.getpid()}.{threading.get_ident()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, root / MANIFEST)
