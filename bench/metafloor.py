"""What reading one meta costs in Python, step by step: the floor under the index build's parts phase.

Reads batches of members of one meta zip the way the build does (``LocalZip.read_many``), then times,
per image and on one core: the member read (inflate and CRC), the safety check that vouches for the
pickle's opcodes, the C unpickler, the batch's conversion to Arrow columns (plain-type check included),
and freeing the dicts::

    python bench/metafloor.py --data bench/out/ds5m [--zip meta3.zip] [--batch 32768] [--repeats 6]

Issue 10's build target (60,000 images/s on 2 cores) leaves 33 CPU-us per image for everything: the
listing, these steps, the Parquet writes and the whole merge. The medians printed here show how much of
that the Python route to a meta dict takes before anything else runs.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skyscript_viz.partfast import fast_columns  # noqa: E402
from skyscript_viz.safepickle import _SAFE_PICKLE  # noqa: E402
from skyscript_viz.zipdir import LocalZip  # noqa: E402

BUDGET_US = 2 * 1e6 / 60_000  # CPU-us per image at 60,000 images/s on 2 cores


def measure(zip_path: Path, batch: int, repeats: int) -> dict[str, float]:
    """Median CPU-us per image of each step, over ``repeats`` batches spread through the zip."""
    steps: dict[str, list[float]] = {k: [] for k in ("read", "vouch", "unpickle", "arrow", "free")}
    gc.disable()  # as in the build (partread.read_part)
    try:
        with LocalZip(zip_path, max_member=64 << 20) as z:
            n = len(z.directory.names)
            starts = np.linspace(0, max(0, n - batch), repeats).astype(int).tolist()
            for lo in starts:
                idx = list(range(lo, min(n, lo + batch)))
                k = len(idx)
                c = time.process_time()
                raws = z.read_many(idx)
                steps["read"].append(time.process_time() - c)
                data = [r for r in raws if isinstance(r, bytes)]
                c = time.process_time()
                for r in data:
                    _SAFE_PICKLE.fullmatch(r)
                steps["vouch"].append(time.process_time() - c)
                c = time.process_time()
                metas = [pickle.loads(r) for r in data]
                steps["unpickle"].append(time.process_time() - c)
                c = time.process_time()
                fast_columns(metas, np.full(len(metas), 2020), np.ones(len(metas), bool))
                steps["arrow"].append(time.process_time() - c)
                c = time.process_time()
                del metas
                steps["free"].append(time.process_time() - c)
                for key in steps:
                    steps[key][-1] *= 1e6 / k
    finally:
        gc.enable()
    return {key: float(np.median(v)) for key, v in steps.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a generated root (bench/generate.py)")
    ap.add_argument("--zip", default="meta3.zip", help="which meta zip of it")
    ap.add_argument("--batch", type=int, default=32768, help="members per batch (the build's BATCH_IMAGES)")
    ap.add_argument("--repeats", type=int, default=6)
    args = ap.parse_args()
    figures = measure(args.data / args.zip, args.batch, args.repeats)
    total = sum(figures.values())
    for key, us in figures.items():
        print(f"{key:10s} {us:6.2f} CPU-us/image")
    print(f"{'total':10s} {total:6.2f} CPU-us/image, {100 * total / BUDGET_US:.0f}% of the {BUDGET_US:.1f} us budget")


if __name__ == "__main__":
    main()
