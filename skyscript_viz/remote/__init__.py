"""Remote dataset roots: a SkyScript root given as ``https://…``, ``http://…`` or ``s3://bucket/path``.

The image zips are many gigabytes each and are never downloaded whole. What indexing needs, the meta
zips and the caption CSVs of the parts the user chose, is downloaded once into a local *cache root*;
the cache root is laid out as an ordinary local SkyScript root, so discovery and the index build run
on it unchanged::

    <cache base>/<slug>-<sha1(url)[:12]>/
        remote.json                 the URL, the chosen parts and CSVs, and for every remote file the
                                    size, ETag and Last-Modified seen when it was cached
        meta2.zip, dataframe/X.csv  downloaded once (resumable: ``<file>.partial`` + ``.partial.json``)
        images2.zipdir.arrow        images2.zip's central directory (Arrow IPC, sorted by name): member
                                    -> header offset, sizes, method, CRC; read by range requests
        objects/images2/…           image bytes fetched so far (one range request per image)
        .skyscript_viz/             the index and its on-disk thumbnails, as for any local root
        _unused/                    files of parts or CSVs no longer chosen (moved back when chosen again)

Discovery turns ``images{k}.zipdir.arrow`` (next to ``remote.json``) into a :class:`PartStore` of kind
``remote-zip`` (skyscript_viz.storage.RemoteZipStorage): the build lists its members from the directory,
and images are read through :func:`read_remote_member`: from ``objects/`` when seen before (no
network), else by one range request covering the member's local header and data, checked against the
directory (name, size, CRC) before it is kept.

Modules, one concern each: :mod:`.location` (URLs, cache root, ``remote.json``), :mod:`.transport`
(range reads on fsspec, errors explained), :mod:`.download` (resumable downloads), :mod:`.directory`
(central directories over range requests, cached as Arrow), :mod:`.sync` (parts and CSVs chosen,
files brought up to date), :mod:`.images` (image bytes), :mod:`.cache` (cache info and clearing).
The names below are the public API; callers import them from ``skyscript_viz.remote``.

Transport is fsspec (``HTTPFileSystem`` on aiohttp, ``s3fs`` anonymous for ``s3://``): no HTTP code of
our own. Every transport failure becomes a :class:`RemoteError` with a one-line message that names the
URL and says what to do; the CLI prints it (exit 2) and the app shows it (placeholders for images).
"""

from __future__ import annotations

from ..errors import (
    RemoteChangedError,
    RemoteError,
    RemoteForbiddenError,
    RemoteInterruptedError,
    RemoteNotFoundError,
    RemoteTimeoutError,
    RemoteUnreachableError,
)
from ..zipdir import LOCAL_HEADER_SLACK
from .cache import cache_info, clear_cache, human_bytes, list_caches
from .directory import (
    DIR_SUFFIX,
    CentralDirectory,
    ZipDirectory,
    read_central_directory,
    store_fingerprint,
    zipdir_names,
)
from .download import DEFAULT_CHUNK, ProgressFn, download
from .images import RemoteImages, read_remote_member
from .location import MANIFEST, cache_base, cache_root, is_cache_root, is_remote, load_manifest, normalize_url
from .sync import DEFAULT_CSVS, DEFAULT_PARTS, UNUSED, SyncReport, csv_name, parse_parts, sync
from .transport import DEFAULT_TIMEOUT, RemoteStat, Transport, explain_error, shared_transport

__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_CSVS",
    "DEFAULT_PARTS",
    "DEFAULT_TIMEOUT",
    "DIR_SUFFIX",
    "LOCAL_HEADER_SLACK",
    "MANIFEST",
    "UNUSED",
    "CentralDirectory",
    "ProgressFn",
    "RemoteChangedError",
    "RemoteError",
    "RemoteForbiddenError",
    "RemoteImages",
    "RemoteInterruptedError",
    "RemoteNotFoundError",
    "RemoteStat",
    "RemoteTimeoutError",
    "RemoteUnreachableError",
    "SyncReport",
    "Transport",
    "ZipDirectory",
    "cache_base",
    "cache_info",
    "cache_root",
    "clear_cache",
    "csv_name",
    "download",
    "explain_error",
    "human_bytes",
    "is_cache_root",
    "is_remote",
    "list_caches",
    "load_manifest",
    "normalize_url",
    "parse_parts",
    "read_central_directory",
    "read_remote_member",
    "shared_transport",
    "store_fingerprint",
    "sync",
    "zipdir_names",
]
