"""Exports of a filter's matches: SkyScript caption CSV, GeoJSON footprints, Parquet with every column.

All three stream from the index (DuckDB ``COPY`` or Arrow record batches), so exporting millions of
rows keeps memory flat. A download in the browser is different: any visitor can ask for one and
Streamlit holds the file in memory to serve it, so :func:`export_download` refuses more than
``BROWSER_MAX_ROWS`` rows up front and stops writing past ``BROWSER_MAX_BYTES``; beyond that the
message points to the command line (``python -m skyscript_viz export``).
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, TypeGuard

import pyarrow as pa
import pyarrow.compute as pc

from .errors import InvalidFilterError, SkyscriptVizError
from .index import ImageIndex
from .query import Filters

__all__ = [
    "BROWSER_MAX_BYTES",
    "BROWSER_MAX_ROWS",
    "EXPORT_FORMATS",
    "GEOJSON_PROPERTIES",
    "ExportTooLargeError",
    "cli_command",
    "export",
    "export_bytes",
    "export_download",
    "export_format",
    "geojson_chunks",
]

Format = Literal["csv", "geojson", "parquet"]
EXPORT_FORMATS: dict[Format, tuple[str, str]] = {
    "csv": ("text/csv", ".csv"),
    "geojson": ("application/geo+json", ".geojson"),
    "parquet": ("application/vnd.apache.parquet", ".parquet"),
}


def _is_format(name: str) -> TypeGuard[Format]:
    return name in EXPORT_FORMATS


def export_format(name: str) -> Format:
    """``name`` as an export format; InvalidFilterError naming the formats there are when it is none."""
    if _is_format(name):
        return name
    raise InvalidFilterError(f"export format {name!r} is not one of {', '.join(EXPORT_FORMATS)}")


BROWSER_MAX_ROWS = 250_000  # rows a browser download may hold (the CLI has no limit)
BROWSER_MAX_BYTES = 128 * 1024 * 1024  # bytes a browser download may hold (captions can be long)
GEOJSON_PROPERTIES = (
    "filepath",
    "source",
    "year",
    "month",
    "day",
    "obj_type",
    "osm_id",
    "title",
    "title_multi_objects",
    "width_m",
    "height_m",
    "n_surrounding",
    "n_problems",
)


# Rows per Arrow batch when writing GeoJSON: a batch's text is a few MB.
_GEOJSON_BATCH = 8192
# JSON string escapes (RFC 8259 section 7): the backslash first, then the quote and control characters.
_JSON_ESCAPES = [("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")]
_JSON_CONTROL = [(chr(c), f"\\u{c:04x}") for c in range(0x20) if chr(c) not in "\n\r\t"]


def _json_values(arr: pa.Array) -> pa.Array:
    """Each value of ``arr`` as JSON text (``null`` for nulls and non-finite numbers)."""
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        for old, new in _JSON_ESCAPES:
            arr = pc.replace_substring(arr, old, new)
        if pc.any(pc.match_substring_regex(arr, "[\\x{00}-\\x{1f}]")).as_py():
            for old, new in _JSON_CONTROL:
                arr = pc.replace_substring(arr, old, new)
        text = pc.binary_join_element_wise('"', arr, '"', "")
    elif pa.types.is_integer(t):
        text = pc.cast(arr, pa.string())
    elif pa.types.is_floating(t):
        text = pc.if_else(pc.is_finite(arr), pc.cast(arr, pa.string()), pa.scalar(None, pa.string()))
    elif pa.types.is_boolean(t):
        text = pc.if_else(arr, "true", "false")
    else:  # not expected for the exported columns; exact but slow
        text = pa.array([json.dumps(v, ensure_ascii=False, default=str) for v in arr.to_pylist()], pa.string())
    return pc.fill_null(text, "null")


def _geojson_buffers(index: ImageIndex, f: Filters, counter: list[int]) -> Iterator[bytes | pa.Buffer]:
    """The FeatureCollection as UTF-8 pieces; a batch's features come as one Arrow buffer (no Python copy)."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    cols = ("id", "west", "south", "east", "north", *GEOJSON_PROPERTIES)
    for batch in index.record_batches(f, cols, batch_size=_GEOJSON_BATCH):
        batch = batch.filter(pc.and_(pc.is_valid(batch.column("west")), pc.is_valid(batch.column("width_m"))))
        if batch.num_rows == 0:
            continue
        j = {name: _json_values(batch.column(name)) for name in cols}
        w, s, e, n = j["west"], j["south"], j["east"], j["north"]
        # exterior ring counter-clockwise (RFC 7946 section 3.1.6): SW, SE, NE, NW, SW
        pieces: list[object] = [
            '{"type":"Feature","id":',
            j["id"],
            ',"geometry":{"type":"Polygon","coordinates":[[[',
            w,
            ",",
            s,
            "],[",
            e,
            ",",
            s,
            "],[",
            e,
            ",",
            n,
            "],[",
            w,
            ",",
            n,
            "],[",
            w,
            ",",
            s,
            ']]]},"properties":{',
        ]
        for i, name in enumerate(GEOJSON_PROPERTIES):
            pieces += [("," if i else "") + json.dumps(name) + ":", j[name]]
        pieces.append("}}")
        features = pc.binary_join_element_wise(*pieces, "")
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(features)], pa.int32()), features), ",")
        if not first:
            yield b","
        yield joined[0].as_buffer()
        first = False
        counter[0] += batch.num_rows
    yield b"]}\n"


def geojson_chunks(index: ImageIndex, f: Filters, counter: list[int] | None = None) -> Iterator[str]:
    """A GeoJSON FeatureCollection (RFC 7946) of the footprints, as text chunks; images without a
    valid footprint are left out (they have no geometry). ``counter[0]`` counts the features.

    Features are serialised column-wise with Arrow compute (numbers formatted by Arrow, text
    JSON-escaped), a few thousand rows at a time, so millions of footprints take seconds and the
    memory held is one batch. :func:`export` writes the UTF-8 buffers straight to the file.
    """
    for piece in _geojson_buffers(index, f, counter if counter is not None else [0]):
        yield piece.decode("utf-8") if isinstance(piece, bytes) else piece.to_pybytes().decode("utf-8")


class ExportTooLargeError(SkyscriptVizError):
    """A download in the browser would be larger than its cap; the message gives the CLI command."""


def cli_command(f: Filters, fmt: Format, root: object = "ROOT") -> str:
    """The command line that exports the same matches to a file (no size limit)."""
    from .state import filters_to_params

    words = [
        f"{k}={v}" for k, vals in filters_to_params(f).items() for v in ([vals] if isinstance(vals, str) else vals)
    ]
    args = "".join(f" --filter {shlex.quote(w)}" for w in words)
    return (
        f"python -m skyscript_viz export {shlex.quote(str(root))}{args} --format {fmt} -o FILE{EXPORT_FORMATS[fmt][1]}"
    )


def _too_large(what: str, f: Filters, fmt: Format) -> ExportTooLargeError:
    return ExportTooLargeError(
        f"{what}, too large to download in the browser; export it to a file from a "
        f"terminal instead: {cli_command(f, fmt)}"
    )


def export(index: ImageIndex, f: Filters, out: Path | str, *, fmt: Format, max_bytes: int | None = None) -> int:
    """Write the matches of ``f`` to ``out`` in ``fmt``; returns the number of rows (features) written.

    Written to a temporary file next to ``out`` and renamed, so a failed export never leaves half a file.
    With ``max_bytes``, writing stops (ExportTooLargeError, no file) once the file would grow past it.
    """
    fmt = export_format(fmt)  # callers from untyped code (argparse, widgets) may pass any string
    out = Path(out)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt == "geojson":
            counter = [0]
            with tmp.open("wb") as fh:
                for piece in _geojson_buffers(index, f, counter):
                    fh.write(piece)
                    if max_bytes is not None and fh.tell() > max_bytes:
                        raise _too_large(f"the GeoJSON of these matches is over {max_bytes:,} bytes", f, fmt)
            n = counter[0]
        else:
            n = index.copy_to(f, tmp, fmt=fmt)
            if max_bytes is not None and tmp.stat().st_size > max_bytes:
                raise _too_large(f"the {fmt.upper()} of these matches is over {max_bytes:,} bytes", f, fmt)
        tmp.replace(out)
        return n
    finally:
        tmp.unlink(missing_ok=True)


def export_download(
    index: ImageIndex, f: Filters, *, fmt: Format, max_rows: int | None = None, max_bytes: int | None = None
) -> bytes:
    """The export as bytes for a browser download, written through a temporary file and capped: more than
    ``max_rows`` matches are refused before anything is written, a file past ``max_bytes`` while it is
    written (ExportTooLargeError naming the CLI command). Defaults: BROWSER_MAX_ROWS, BROWSER_MAX_BYTES."""
    max_rows = BROWSER_MAX_ROWS if max_rows is None else max_rows
    max_bytes = BROWSER_MAX_BYTES if max_bytes is None else max_bytes
    if (n := index.count(f)) > max_rows:
        raise _too_large(f"{n:,} images match (the browser limit is {max_rows:,})", f, fmt)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"export{EXPORT_FORMATS[fmt][1]}"
        export(index, f, path, fmt=fmt, max_bytes=max_bytes)
        return path.read_bytes()


def export_bytes(index: ImageIndex, f: Filters, *, fmt: Format) -> bytes:
    """The export as bytes (for a download button; the CLI streams to a file instead)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"export{EXPORT_FORMATS[fmt][1]}"
        export(index, f, path, fmt=fmt)
        return path.read_bytes()
