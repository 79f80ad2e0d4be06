"""Figures for issues 4 and 5: export rate at 1M rows, overview queries at 5.2M, pixel-pass rate.

    python bench/pages.py [--index-1m bench/out/index-1m] [--index-5m bench/out/index-5m]

Prints each figure next to its target. The export runs in a child process so its peak memory
(VmHWM) is its own; the pixel pass runs on the built-in demo sample (real JPEGs, 2 workers).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPORT_CHILD = """
import sys, time, resource
sys.path.insert(0, {root!r})
from skyscript_viz.export import export
from skyscript_viz.index import ImageIndex
from skyscript_viz.query import Filters
idx = ImageIndex(__import__('pathlib').Path({index!r}))
t = time.perf_counter()
n = export(idx, Filters(), {out!r}, fmt={fmt!r})
dt = time.perf_counter() - t
hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]
print(n, dt, int(hwm) // 1024)
"""


def export_rate(index: Path) -> list[tuple[str, int, float, int, int]]:
    out = []
    with tempfile.TemporaryDirectory() as d:
        for fmt in ("csv", "parquet", "geojson"):
            target = Path(d) / f"x.{fmt}"
            res = subprocess.run(
                [sys.executable, "-c", EXPORT_CHILD.format(root=str(ROOT), index=str(index), out=str(target), fmt=fmt)],
                capture_output=True,
                text=True,
                check=True,
            )
            n, dt, mb = res.stdout.split()
            out.append((fmt, int(n), float(dt), int(mb), target.stat().st_size // 2**20))
    return out


def overview_time(index: Path) -> list[tuple[str, float]]:
    from skyscript_viz.index import ImageIndex
    from skyscript_viz.query import Filters

    idx = ImageIndex(index)
    f = Filters()
    steps = [
        ("count", lambda: idx.count(f)),
        ("by source and year", lambda: idx.counts_by(f, ("source", "year"))),
        ("object types", lambda: idx.counts_by(f, ("obj_type",))),
        ("top keys focus", lambda: idx.top_tags(f, role="focus", by="key", limit=15)),
        ("top keys surrounding", lambda: idx.top_tags(f, role="surrounding", by="key", limit=15)),
        ("top pairs focus", lambda: idx.top_tags(f, role="focus", by="pair", limit=15)),
        ("top pairs surrounding", lambda: idx.top_tags(f, role="surrounding", by="pair", limit=15)),
        ("caption lengths", lambda: idx.caption_lengths(f)),
        ("footprint sizes", lambda: idx.footprint_sizes(f)),
        ("coverage matrix", lambda: idx.coverage(f, top_keys=12)),
        ("density cells", lambda: idx.grid(f, zoom=2, cells_per_tile=16)),
        ("1-degree cells", lambda: idx.cells_covered(f)),
        ("headline", idx.headline),
    ]
    out = []
    for name, fn in steps:
        t = time.perf_counter()
        fn()
        out.append((name, time.perf_counter() - t))
    return out


def pixel_rate() -> dict[str, float]:
    from skyscript_viz.build import build_index
    from skyscript_viz.demo import generate
    from skyscript_viz.index import ImageIndex
    from skyscript_viz.quality import run_pixel_pass

    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "demo"
        generate(root)
        report = build_index(root)
        return run_pixel_pass(ImageIndex(report.index_dir), workers=2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index-1m", type=Path, default=ROOT / "bench/out/index-1m")
    p.add_argument("--index-5m", type=Path, default=ROOT / "bench/out/index-5m")
    args = p.parse_args()
    results: dict[str, object] = {}
    print("[export] every row of the 1M index (child process; rows/s, peak RSS)")
    for fmt, n, dt, mb, size in export_rate(args.index_1m):
        print(
            f"    {fmt:8s} {n:>10,} rows in {dt:6.2f} s = {n / dt:>10,.0f} rows/s, peak RSS {mb:,} MB, file {size:,} MB"
        )
        results[f"export_{fmt}"] = {"rows": n, "seconds": dt, "rows_per_s": n / dt, "peak_rss_mb": mb}
    print("    target: CSV >= 500,000 rows/s with flat memory")
    print("[overview] the overview page's queries on the 5.2M index, no filter (cold process, one run)")
    steps = overview_time(args.index_5m)
    for name, dt in steps:
        print(f"    {name:24s} {dt * 1000:8.0f} ms")
    total = sum(dt for _, dt in steps)
    print(f"    total {total:.2f} s (target < 2 s)")
    results["overview_total_s"] = total
    print("[pixels] pixel pass on the built-in demo sample, 2 workers")
    px = pixel_rate()
    print(f"    {px['computed']:,.0f} images in {px['seconds']:.1f} s = {px['rate']:,.0f} images/s")
    results["pixel_pass"] = px
    (ROOT / "bench/out").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench/out/results-pages.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
