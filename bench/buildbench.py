"""Index build benchmark: wall and CPU time, and peak memory of the whole build (all its processes).

Runs ``python -m skyscript_viz index ROOT --force`` as a child process, samples the resident memory of
the child and all its descendants every 0.2 s (the sum is the build's footprint: main process, manager,
workers), and prints the figures next to the targets of issue 10::

    python bench/buildbench.py --data bench/out/ds300k [--index-dir DIR] [--workers 2] [--out FILE.json]

CPU seconds are user + system of every process of the build (``RUSAGE_CHILDREN`` after it ends), so
"images per CPU-second" stays comparable when other jobs share the machine and wall time does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {  # issue 10, at 5.2M on 2 cores
    "rate": ("build rate (wall)", "img/s", 60_000, False),
    "peak_mb": ("peak RSS, all build processes together", "MB", 3072, True),
}


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except (OSError, ValueError):
            continue
        p = int(status.parent.name)
        children.setdefault(int(fields.get("PPid", "0")), []).append(p)
        rss[p] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total / 1024.0


def run(data: Path, index_dir: Path, workers: int, *, force: bool = True) -> dict[str, object]:
    """Build the index of ``data`` into ``index_dir`` once (every part re-read unless not ``force``) and
    measure it."""
    cmd = [sys.executable, "-m", "skyscript_viz", "index", str(data), "--workers", str(workers)]
    cmd += ["--force"] if force else []
    cmd += ["--index-dir", str(index_dir)]
    env = {**os.environ, "SKYSCRIPT_VIZ_TIMINGS": "1", "PYTHONPATH": str(ROOT)}
    rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    err = open(index_dir.parent / f"{index_dir.name}-build.err", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=ROOT)
    peak = [0.0, 0.0]  # whole build, and during the merge
    merge_start: list[float] = []

    def sample() -> None:
        while proc.poll() is None:
            mb = _tree_rss_mb(proc.pid)
            peak[0] = max(peak[0], mb)
            if merge_start:
                peak[1] = max(peak[1], mb)
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    lines = []
    for line in proc.stdout:  # type: ignore[union-attr]
        lines.append(line.rstrip())
        parts = line.split()
        if not merge_start and len(parts) > 1 and parts[0].endswith("s") and parts[0][:-1].replace(".", "").isdigit():
            merge_start.append(time.perf_counter() - t0 - float(parts[0][:-1]))
    proc.wait()
    wall = time.perf_counter() - t0
    th.join()
    err.close()
    if proc.returncode != 0:
        tail = Path(err.name).read_text(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"the build failed (exit {proc.returncode}): {' / '.join(tail)}")
    rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (rc1.ru_utime + rc1.ru_stime) - (rc0.ru_utime + rc0.ru_stime)
    n = 0
    for line in lines:
        if " images in " in line:
            n = int(line.split()[0].replace(",", ""))
    current = json.loads((index_dir / "CURRENT").read_text())
    gen = index_dir / current["generation"]
    info = json.loads((gen / "info.json").read_text())
    timings = info.get("merge_timings", [])
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    return {
        "n_images": n,
        "returncode": proc.returncode,
        "wall_s": round(wall, 1),
        "parts_s": round(merge_start[0], 1) if merge_start else None,
        "merge_s": round(wall - merge_start[0], 1) if merge_start else None,
        "rate": round(n / wall),
        "cpu_s": round(cpu, 1),
        "img_per_cpu_s": round(n / cpu) if cpu else None,
        "cpu_us_per_img": round(cpu / n * 1e6, 1) if n else None,
        "peak_mb": round(peak[0]),
        "peak_merge_mb": round(peak[1]),
        "index_bytes": sum(p.stat().st_size for p in gen.rglob("*") if p.is_file()),
        "parts_bytes": sum(p.stat().st_size for p in (index_dir / "parts").rglob("*") if p.is_file()),
        "slowest_merge_steps": timings[:8],
        "patched": info.get("merge_patched"),
        "full_merge_why": info.get("merge_full_why"),
        "load_avg_end": float(load),
    }


def _changed_part(data: Path, number: int | None, bump_s: int) -> tuple[str, float, Callable[[], None]]:
    """Make the build see one part as changed (part ``number``'s, default the last part's, meta store
    gets its mtime moved by ``bump_s`` seconds: the part's fingerprint is its files' sizes and mtimes)
    without changing any byte; returns its name, its share of the images and the function putting the
    old mtime back (the data may be hard links shared with another root)."""
    from skyscript_viz.discovery import discover

    parts = discover(data).parts
    part = next(p for p in parts if p.number == number) if number is not None else parts[-1]
    share = _n_images(part) / max(1, sum(_n_images(p) for p in parts))
    store = part.meta or part.images
    assert store is not None
    path = store.path if store.path.is_file() else min(p for p in store.path.iterdir() if p.is_file())
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_s * 1_000_000_000))
    name = f"part {part.number} ({path.name})"
    return name, share, lambda: os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _n_images(part: object) -> int:
    """The number of members of a part's meta (else image) zip: its share of the images."""
    import zipfile

    store = part.meta or part.images  # type: ignore[attr-defined]
    if store.path.is_file():
        with zipfile.ZipFile(store.path) as z:
            return len(z.namelist())
    return sum(1 for _ in store.path.iterdir())


def incremental(
    data: Path, index_dir: Path, workers: int, number: int | None, bump_s: int, restores: list[Callable[[], None]]
) -> dict[str, object]:
    """A rebuild after one part changed (the index of every part already built); the mtime is put back
    by ``restores`` at the end, so that each rebuild of a series sees one part changed."""
    name, share, restore = _changed_part(data, number, bump_s)
    restores.append(restore)
    res = run(data, index_dir, workers, force=False)
    return {"changed": name, "part_share": round(share, 3), **res}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--index-dir", type=Path, default=None, help="default: DATA/.skyscript_viz")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--incremental",
        action="store_true",
        help="after the full build, rebuild once more with one part changed and print that too",
    )
    ap.add_argument(
        "--changed-part",
        type=int,
        action="append",
        default=None,
        help="with --incremental: the part to change (default the last; repeat for one rebuild after each)",
    )
    ap.add_argument(
        "--skip-full",
        type=Path,
        default=None,
        metavar="JSON",
        help="with --incremental: no full build first; its figures from an earlier run's --out file",
    )
    a = ap.parse_args(argv)
    index_dir = a.index_dir or a.data / ".skyscript_viz"
    if a.skip_full:
        res: dict[str, object] = json.loads(a.skip_full.read_text())
        res.pop("incremental", None)
    else:
        res = run(a.data, index_dir, a.workers)
        for k, v in res.items():
            print(f"{k:22s} {v}")
    if a.incremental:
        incs: list[dict[str, object]] = []
        restores: list[Callable[[], None]] = []
        try:
            for i, number in enumerate(a.changed_part or [None]):
                inc = incremental(a.data, index_dir, a.workers, number, i + 1, restores)
                print("\nincremental rebuild, one part changed:")
                for k in ("changed", "part_share", "wall_s", "parts_s", "merge_s", "cpu_s", "peak_mb", "index_bytes"):
                    print(f"{k:22s} {inc[k]}")
                how = f"patched {inc['patched']}" if inc["patched"] else f"full: {inc['full_merge_why']}"
                print(f"{'merge':22s} {how}")
                if "wall_s" in res:
                    share = float(inc["wall_s"]) / float(res["wall_s"])  # type: ignore[arg-type]
                    inc["share_of_full"] = round(share, 3)
                    print(f"{'share of the full build':22s} {share:.0%} of the wall time")
                incs.append(inc)
        finally:
            for restore in reversed(restores):
                restore()
        res = {**res, "incremental": incs}
    if a.out:
        a.out.write_text(json.dumps(res, indent=1))
    print(f"\n{'target':44s} {'measured':>12s} {'target':>10s}  verdict")
    for key, (label, unit, limit, lower) in TARGETS.items():
        v = float(res[key])  # type: ignore[arg-type]
        ok = v <= limit if lower else v >= limit
        print(
            f"{label:44s} {v:>12,.0f} {('≤ ' if lower else '≥ ') + f'{limit:,}':>10s}  {'PASS' if ok else 'MISS'} {unit}"
        )
    for inc in res.get("incremental", []):  # type: ignore[attr-defined]
        # proportional: the rebuild costs the changed part's share of a full build, give or take half
        ratio = float(inc["share_of_full"]) / float(inc["part_share"])
        print(
            f"{'rebuild of ' + str(inc['changed']) + ' / its share':44s} {ratio:>12.2f} {'≤ 1.5':>10s}  "
            f"{'PASS' if ratio <= 1.5 else 'MISS'} x"
        )
    return 0 if res["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
