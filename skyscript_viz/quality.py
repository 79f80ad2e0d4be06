"""Quality checks beyond the index's problems: the optional pixel pass and what each check means.

``python -m skyscript_viz index ROOT --pixels`` decodes every image once (at reduced scale) and
stores per image: mean and standard deviation of luminance, the share of pure black and pure white
pixels, and a content hash. The checks below turn those numbers into problem rows when the index is
opened, so thresholds can change without a new pass.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from .problems import PROBLEMS, Problem, ProblemKind
from .query import sql_literal

__all__ = [
    "CHECKS",
    "PIXELS_FILE",
    "image_stats",
    "pixel_problems_sql",
    "run_pixel_pass",
]

PIXELS_FILE = "pixels.parquet"
BLANK_SHARE = 0.95  # share of pure black/white pixels above which an image counts as blank / no-data
# Luminance standard deviation (0-255 grey levels, on a 128 px reduction) below which an image is
# flagged as low contrast: haze, cloud, fog. Open water and bare fields stay above it (about 4+).
LOW_CONTRAST_STD = 4.0

# The kinds the Quality page always lists (even at zero), with their title and help from problems.py
CHECKS: dict[str, Problem] = {
    kind.value: PROBLEMS[kind.value]
    for kind in (
        ProblemKind.BLANK_IMAGE,
        ProblemKind.LOW_CONTRAST,
        ProblemKind.DUPLICATE_CONTENT,
        ProblemKind.CAPTION_MISSES_TAG,
        ProblemKind.CORRUPT_IMAGE,
    )
}


def image_stats(data: bytes) -> dict[str, Any]:
    """Luminance mean/std, pure black/white shares, size and content hash of one encoded image."""
    out: dict[str, Any] = {"sha1": hashlib.sha1(data).hexdigest(), "error": None}
    try:
        with Image.open(io.BytesIO(data)) as im:
            out["width"], out["height"] = im.size
            im.draft("L", (128, 128))
            lum = np.asarray(im.convert("L"), dtype=np.float32)
        out["mean"] = float(lum.mean())
        out["std"] = float(lum.std())
        out["dark_share"] = float((lum <= 2).mean())
        out["bright_share"] = float((lum >= 253).mean())
    except Exception as exc:  # noqa: BLE001 - every failure is a finding
        out.update(
            width=None,
            height=None,
            mean=None,
            std=None,
            dark_share=None,
            bright_share=None,
            error=f"{type(exc).__name__}: {exc}"[:200],
        )
    return out


def _stats_chunk(root: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from .images import ImageStore

    store = ImageStore(Path(root))
    out = []
    try:
        for row in rows:
            try:
                data = store.read_bytes(row)
                st = image_stats(data)
            except Exception as exc:  # noqa: BLE001
                st = {
                    "sha1": None,
                    "width": None,
                    "height": None,
                    "mean": None,
                    "std": None,
                    "dark_share": None,
                    "bright_share": None,
                    "error": f"{type(exc).__name__}: {exc}"[:200],
                }
            st.update(filepath=row["filepath"], container=row["container"], member=row["member"])
            out.append(st)
    finally:
        store.close()
    return out


def run_pixel_pass(
    index: Any, *, workers: int = 2, chunk: int = 2000, progress: Callable[[int, int], None] | None = None
) -> dict[str, float]:
    """Compute image statistics for every image of an opened ImageIndex; incremental and atomic.

    Results of a previous pass are reused for files whose storage (container, member) is unchanged.
    Returns {"images": n, "computed": m, "seconds": s, "rate": images/s}.
    """
    t0 = time.perf_counter()
    target = index.index_dir / PIXELS_FILE
    rows = index.image_locations()
    done: dict[tuple[str, str, str], dict[str, Any]] = {}
    if target.is_file():
        for r in pq.read_table(target).to_pylist():
            done[(r["filepath"], r["container"], r["member"])] = r
    todo = [r for r in rows if (r["filepath"], r["container"], r["member"]) not in done]
    results = [done[k] for k in ((r["filepath"], r["container"], r["member"]) for r in rows) if k in done]
    chunks = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]
    finished = 0
    if workers <= 1 or len(chunks) <= 1:
        for c in chunks:
            results.extend(_stats_chunk(str(index.root), c))
            finished += len(c)
            if progress:
                progress(finished, len(todo))
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            for res in pool.map(_stats_chunk, [str(index.root)] * len(chunks), chunks):
                results.extend(res)
                finished += len(res)
                if progress:
                    progress(finished, len(todo))
    schema = pa.schema(
        [
            ("filepath", pa.string()),
            ("container", pa.string()),
            ("member", pa.string()),
            ("sha1", pa.string()),
            ("width", pa.int32()),
            ("height", pa.int32()),
            ("mean", pa.float32()),
            ("std", pa.float32()),
            ("dark_share", pa.float32()),
            ("bright_share", pa.float32()),
            ("error", pa.string()),
        ]
    )
    table = pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in results], schema=schema)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)
    dt = time.perf_counter() - t0
    return {"images": len(rows), "computed": len(todo), "seconds": dt, "rate": len(todo) / dt if dt else 0.0}


def pixel_problems_sql(pixels_path: Path) -> str:
    """SQL yielding (id, filepath, kind, detail, origin) rows for the pixel checks."""
    src = f"read_parquet({sql_literal(str(pixels_path))})"
    return f"""
        SELECT i.id, p.filepath, 'corrupt_image' AS kind, p.error AS detail, 'pixels' AS origin
          FROM {src} p JOIN images i USING (filepath) WHERE p.error IS NOT NULL
        UNION ALL
        SELECT i.id, p.filepath, 'blank_image', printf('%.0f%% pure black/white pixels, luminance std %.1f',
               100 * (p.dark_share + p.bright_share), p.std), 'pixels'
          FROM {src} p JOIN images i USING (filepath)
         WHERE p.error IS NULL AND p.dark_share + p.bright_share >= {BLANK_SHARE}
        UNION ALL
        SELECT i.id, p.filepath, 'low_contrast', printf('luminance std %.1f (mean %.0f)', p.std, p.mean), 'pixels'
          FROM {src} p JOIN images i USING (filepath)
         WHERE p.error IS NULL AND p.std < {LOW_CONTRAST_STD} AND p.dark_share + p.bright_share < {BLANK_SHARE}
        UNION ALL
        SELECT i.id, p.filepath, 'duplicate_content', 'same bytes as ' || (d.n - 1) || ' other image(s): ' ||
               left(d.names, 300), 'pixels'
          FROM {src} p JOIN images i USING (filepath)
          JOIN (SELECT sha1, count(*) AS n, string_agg(filepath, ', ' ORDER BY filepath) AS names
                  FROM {src} WHERE sha1 IS NOT NULL AND error IS NULL
                       AND dark_share + bright_share < {BLANK_SHARE}  -- identical no-data tiles: blank_image
                  GROUP BY sha1 HAVING count(*) > 1) d USING (sha1)
    """
