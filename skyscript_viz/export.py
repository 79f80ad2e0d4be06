"""Exports of a filter's matches: SkyScript caption CSV, GeoJSON footprints, Parquet with every column.

All three stream from the index (DuckDB ``COPY`` or Arrow record batches), so exporting millions of
rows keeps memory flat.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from .errors import InvalidFilterError
from .index import ImageIndex
from .query import Filters

__all__ = ["EXPORT_FORMATS", "GEOJSON_PROPERTIES", "export", "export_bytes", "geojson_chunks"]

Format = Literal["csv", "geojson", "parquet"]
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv", ".csv"),
    "geojson": ("application/geo+json", ".geojson"),
    "parquet": ("application/vnd.apache.parquet", ".parquet"),
}
GEOJSON_PROPERTIES = ("filepath", "source", "year", "month", "day", "obj_type", "osm_id", "title",
                      "title_multi_objects", "width_m", "height_m", "n_surrounding", "n_problems")


def _clean(v: object) -> object:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def geojson_chunks(index: ImageIndex, f: Filters, counter: list[int] | None = None) -> Iterator[str]:
    """A GeoJSON FeatureCollection (RFC 7946) of the footprints, as text chunks; images without a
    valid footprint are left out (they have no geometry). ``counter[0]`` counts the features."""
    yield '{"type":"FeatureCollection","features":['
    first = True
    counter = counter if counter is not None else [0]
    cols = ("id", "west", "south", "east", "north", *GEOJSON_PROPERTIES)
    for batch in index.record_batches(f, cols):
        data = batch.to_pydict()
        parts: list[str] = []
        for i in range(batch.num_rows):
            w, s, e, n = data["west"][i], data["south"][i], data["east"][i], data["north"][i]
            if w is None or data["width_m"][i] is None:
                continue
            ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
            feat = {
                "type": "Feature",
                "id": data["id"][i],
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {k: _clean(data[k][i]) for k in GEOJSON_PROPERTIES},
            }
            parts.append(("" if first else ",") + json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
            first = False
            counter[0] += 1
        if parts:
            yield "".join(parts)
    yield "]}\n"


def export(index: ImageIndex, f: Filters, out: Path | str, *, fmt: Format) -> int:
    """Write the matches of ``f`` to ``out`` in ``fmt``; returns the number of rows (features) written.

    Written to a temporary file next to ``out`` and renamed, so a failed export never leaves half a file.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidFilterError(f"export format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    out = Path(out)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt == "geojson":
            counter = [0]
            with tmp.open("w", encoding="utf-8") as fh:
                for chunk in geojson_chunks(index, f, counter):
                    fh.write(chunk)
            n = counter[0]
        else:
            n = index.copy_to(f, tmp, fmt=fmt)  # type: ignore[arg-type]
        tmp.replace(out)
        return n
    finally:
        tmp.unlink(missing_ok=True)


def export_bytes(index: ImageIndex, f: Filters, *, fmt: Format) -> bytes:
    """The export as bytes (for a download button; the CLI streams to a file instead)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"export{EXPORT_FORMATS[fmt][1]}"
        export(index, f, path, fmt=fmt)
        return path.read_bytes()

