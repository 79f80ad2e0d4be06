"""Benchmark of SkyScript Explorer on synthetic data in the real download layout (bench/generate.py).

Measures, on this machine:

1. index build rate from the meta zips (1M and 5.2M images), next to the naive way (zipfile + pickle.load
   + pandas DataFrame; measured on a sample and extrapolated);
2. p50/p95 latency of 20 fixed filter combinations (count and one page of 50), facets, autocomplete,
   grid / map_view for a world and a city view;
3. map updates: server time from query to the streamlit-folium update string, and its size;
4. time to open the 5.2M index (constructor + first count) in a fresh process;
5. peak memory (RSS high-water mark) of a fresh process that opens the 5.2M index and answers the queries.

Prints a table with targets and PASS/MISS and writes every figure to bench/out/results.json.

Usage::

    python bench/run.py [--data bench/out/ds5m] [--data-1m bench/out/ds1m] [--sizes 1m,5m]
                        [--skip-build] [--naive-sample 200000] [--repeats 5] [--wait 0]

The datasets come from ``python bench/generate.py --n 1000000 --out bench/out/ds1m`` and
``--n 5200000 --out bench/out/ds5m``. Indexes go to bench/out/index-1m and bench/out/index-5m
(rebuilt from scratch unless --skip-build). Sections 2-5 use the largest size in --sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import platform
import resource
import shutil
import subprocess
import sys
import time
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repo importable
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench" / "out"
PARTS = (2, 3, 4, 5, 6, 7)
UNFILTERED_CSV = "SkyScript_train_unfiltered_5M.csv"

# Targets, each as a tuple of label, unit, limit and whether lower is better
TARGETS = {
    "build_rate": ("index build rate (largest size)", "img/s", 60_000, False),
    "build_peak_rss": ("build peak RSS, all processes together", "MB", 3072, True),
    "query_p95": ("filter query p95 (count and page)", "ms", 50, True),
    "map_p95": ("map update server time p95", "ms", 1000, True),
    "map_bytes": ("map update size, max", "bytes", 1_000_000, True),
    "open_s": ("open index + first count", "s", 5, True),
    "peak_rss": ("peak RSS, open + 20 queries", "MB", 2048, True),
}

# Map size the app assumes before the browser reports real bounds (skyscript_viz/ui/mapui.py).
MAP_W, MAP_H = 900, 560


# --------------------------------------------------------------------------------------------------
# helpers


def pct(values: list[float], q: float) -> float:
    """Percentile with linear interpolation (numpy's default), without numpy."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 2)


def timed(fn: Any, *a: Any, **kw: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    r = fn(*a, **kw)
    return time.perf_counter() - t0, r


def timed_cpu(fn: Any, *a: Any, **kw: Any) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process incl. DuckDB's threads, result)."""
    c0, t0 = time.process_time(), time.perf_counter()
    r = fn(*a, **kw)
    return time.perf_counter() - t0, time.process_time() - c0, r


def log(msg: str) -> None:
    print(msg, flush=True)


LOADS: dict[str, float] = {}


def note_load(section: str) -> None:
    """Record the 1-minute load average when a section starts (the machine may be shared)."""
    load = os.getloadavg()[0]
    LOADS[section] = round(load, 2)
    if load > 1.5:
        log(f"    note: load average {load:.1f} on {os.cpu_count()} cpus; other processes compete for the CPU")


def dataset_problem(root: Path) -> str | None:
    """Why ``root`` is not a complete generated dataset (None when it is)."""
    if not root.is_dir():
        return f"{root} does not exist"
    tmp = sorted(p.name for p in root.glob("*.tmp")) + sorted(p.name for p in root.glob("dataframe/*.tmp"))
    if tmp:
        return f"{root} is still being written ({', '.join(tmp)})"
    if (root / "dataframe" / ".parts").exists():
        return f"{root}/dataframe/.parts exists: the CSVs are still being assembled"
    missing = [
        f"meta{k}.zip" for k in PARTS if not (root / f"meta{k}.zip").is_file() and not (root / f"meta{k}").is_dir()
    ]
    if missing:
        return f"{root} lacks {', '.join(missing)}"
    if not (root / "dataframe" / UNFILTERED_CSV).is_file():
        return f"{root} lacks dataframe/{UNFILTERED_CSV}"
    return None


def wait_for(root: Path, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        why = dataset_problem(root)
        if why is None:
            return
        if time.monotonic() >= deadline:
            raise SystemExit(f"dataset not ready: {why}\n(generate it with bench/generate.py, or pass --wait SECONDS)")
        log(f"  waiting: {why}")
        time.sleep(min(30.0, max(1.0, deadline - time.monotonic())))


def bounds_for(lat: float, lon: float, zoom: int, width: int = MAP_W, height: int = MAP_H) -> Any:
    """The bbox of a ``width`` x ``height`` px web-mercator map centred on (lat, lon) at ``zoom``."""
    from skyscript_viz.mapview import view_bounds

    return view_bounds(lat, lon, zoom, width_px=width, height_px=height)


def _children_hwm_mb() -> float:
    """Largest VmHWM among this process's live children (the build's worker processes)."""
    me, best = str(os.getpid()), 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
            best = max(best, int(fields["VmHWM"].split()[0]) / 1024.0)
    return best


def _tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and all its descendants (bench/buildbench.py)."""
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))
    from buildbench import _tree_rss_mb as tree

    return tree(pid)


class _WorkerMemory:
    """Samples the workers' peak RSS, and the RSS of the whole build (this process and all its
    descendants, summed: bench/buildbench.py), every half second while a build runs."""

    def __init__(self) -> None:
        import threading

        self.peak = 0.0
        self.tree_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, _children_hwm_mb())
            self.tree_peak = max(self.tree_peak, _tree_rss_mb(os.getpid()))

    def __enter__(self) -> _WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def bench_build(root: Path, index_dir: Path, workers: int) -> dict[str, Any]:
    from skyscript_viz.build import build_index

    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    t0 = time.perf_counter()
    parts_done: dict[int, float] = {}
    last_print = [t0]

    def progress(part: int, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total:
            parts_done[part] = now - t0
        if now - last_print[0] > 15:
            last_print[0] = now
            log(f"    {now - t0:6.0f}s  part {part}: {done:,}/{total:,}")

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with _WorkerMemory() as wm:
        rep = build_index(root, index_dir=index_dir, workers=workers, progress=progress, force=True)
    total = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_main = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    cpu_children = (rc1.ru_utime + rc1.ru_stime) - (rc0.ru_utime + rc0.ru_stime)
    read_s = max(parts_done.values()) if parts_done else float("nan")
    du = sum(p.stat().st_size for p in (index_dir / rep.generation).rglob("*") if p.is_file())
    try:  # the library keeps per-statement merge timings in info.json (newer versions)
        info = json.loads((index_dir / rep.generation / "info.json").read_text())
        slowest = sorted(info.get("merge_timings") or [], key=lambda x: -x[1])[:6]
    except (OSError, ValueError):
        slowest = []
    db = (index_dir / rep.generation / "index.duckdb").stat().st_size
    return {
        "n_images": rep.n_images,
        "seconds": round(total, 2),
        "library_seconds": round(rep.seconds, 2),
        "rate_per_s": round(rep.n_images / total, 1),
        "read_parts_seconds": round(read_s, 2),
        "merge_seconds": round(total - read_s, 2),
        "workers": workers,
        "cpu_seconds_main": round(cpu_main, 1),
        "cpu_seconds_workers": round(cpu_children, 1),
        "peak_rss_main_mb": round(_hwm_mb(), 1),
        "peak_rss_worker_mb": round(wm.peak, 1),
        "peak_rss_build_total_mb": round(wm.tree_peak, 1),
        "problems_by_kind": rep.problems_by_kind,
        "slowest_merge_steps": [[str(lbl), float(sec)] for lbl, sec in slowest],
        "generation_bytes": du,
        "duckdb_bytes": db,
    }


def bench_naive(root: Path, sample: int) -> dict[str, Any]:
    """What a user would write: zipfile over every meta member, pickle.load each, pandas DataFrame.

    Opening each zip (reading its central directory) is measured in full; loading members is measured
    on ``sample`` members spread evenly over the zips and extrapolated to all members.
    """
    import pandas as pd

    zips = [root / f"meta{k}.zip" for k in PARTS if (root / f"meta{k}.zip").is_file()]
    if not zips:
        return {"skipped": "no meta zips (meta folders): the naive zipfile way does not apply"}
    open_s = 0.0
    names: list[list[str]] = []
    handles = []
    for z in zips:
        t0 = time.perf_counter()
        zf = zipfile.ZipFile(z)
        nl = [n for n in zf.namelist() if n.endswith(".pickle")]
        open_s += time.perf_counter() - t0
        names.append(nl)
        handles.append(zf)
    total = sum(len(n) for n in names)
    per_zip = max(1, min(sample, total) // len(zips))
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for zf, nl in zip(handles, names, strict=True):
        step = max(1, len(nl) // per_zip)
        for name in nl[::step][:per_zip]:
            with zf.open(name) as fh:
                meta = pickle.load(fh)
            w, s, e, n = meta["box"]
            y, mo, d, h, mi = meta["time"][:5]
            rows.append(
                {
                    "filepath": name,
                    "west": w,
                    "south": s,
                    "east": e,
                    "north": n,
                    "year": y,
                    "month": mo,
                    "day": d,
                    "hour": h,
                    "minute": mi,
                    "center_tags": meta["center_tags"],
                    "surrounding_tags": meta["surrounding_tags"],
                }
            )
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = pd.DataFrame(rows)
    df_s = time.perf_counter() - t0
    for zf in handles:
        zf.close()
    n = len(df)
    est = open_s + (load_s + df_s) * total / n
    return {
        "members_total": total,
        "sample": n,
        "open_zips_seconds": round(open_s, 2),
        "sample_load_seconds": round(load_s, 2),
        "sample_dataframe_seconds": round(df_s, 2),
        "sample_rate_per_s": round(n / (load_s + df_s), 1),
        "extrapolated_seconds": round(est, 1),
        "extrapolated_rate_per_s": round(total / est, 1),
        "extrapolated": n < total,
        "note": "single process; meta only (no caption CSVs, no validation, no on-disk index); "
        "zip central directories read in full, member loading measured on the sample and scaled",
    }


# --------------------------------------------------------------------------------------------------
# 2. queries


def query_set(idx: Any) -> list[tuple[str, Any]]:
    """The 20 fixed filter combinations (city box: the densest z10 cell of the index)."""
    from skyscript_viz.query import BBox, Filters, TagExpr

    t = TagExpr.parse
    ch = BBox(5.9, 45.8, 10.5, 47.8)
    europe = BBox(-10.0, 35.0, 30.0, 60.0)
    california = BBox(-124.5, 32.5, -114.0, 42.0)
    lat, lon = dense_spot(idx, 10)
    city = bounds_for(lat, lon, 10)
    return [
        ("everything", Filters()),
        ("source CH", Filters(sources=("CH",))),
        ("sources S2+L8+L9", Filters(sources=("S2", "L8", "L9"))),
        ("years 2020-2021", Filters(year_min=2020, year_max=2021)),
        ("months Jun-Aug", Filters(months=(6, 7, 8))),
        ("object type node", Filters(obj_types=("n",))),
        ("tag building (any role)", Filters(tags=(t("building"),))),
        ("tag focus:leisure=pitch", Filters(tags=(t("focus:leisure=pitch"),))),
        ("tag surrounding:highway=residential", Filters(tags=(t("surrounding:highway=residential"),))),
        (
            "tags all: focus:leisure=pitch & sport=tennis",
            Filters(tags=(t("focus:leisure=pitch"), t("sport=tennis")), tag_mode="all"),
        ),
        (
            "tags any: amenity=parking | leisure=swimming_pool | man_made=lighthouse",
            Filters(tags=(t("amenity=parking"), t("leisure=swimming_pool"), t("man_made=lighthouse")), tag_mode="any"),
        ),
        ("caption 'tennis'", Filters(caption="tennis")),
        ("caption 'swimming pool' + source US", Filters(caption="swimming pool", sources=("US",))),
        ("subset top30_openai", Filters(subsets=("top30_openai",))),
        ("subset val", Filters(subsets=("val",))),
        ("bbox Switzerland", Filters(bbox=ch)),
        ("bbox densest city view (z10)", Filters(bbox=city)),
        (
            "US + year>=2020 + building + bbox California",
            Filters(sources=("US",), year_min=2020, tags=(t("building"),), bbox=california),
        ),
        (
            "S2 + months May-Sep + caption 'farmland' + subset top50_openai",
            Filters(sources=("S2",), months=(5, 6, 7, 8, 9), caption="farmland", subsets=("top50_openai",)),
        ),
        (
            "areas + 2017-2022 + any(landuse=forest|natural=water|natural=wood) + bbox Europe",
            Filters(
                obj_types=("a",),
                year_min=2017,
                year_max=2022,
                tags=(t("landuse=forest"), t("natural=water"), t("natural=wood")),
                tag_mode="any",
                bbox=europe,
            ),
        ),
    ]


_DENSE: dict[tuple[str, int], tuple[float, float]] = {}


def dense_spot(idx: Any, zoom: int, within: Any = None) -> tuple[float, float]:
    """Centre (lat, lon) of the cell with most images at ``zoom`` (optionally inside a bbox)."""
    from skyscript_viz.query import Filters

    key = (str(within), zoom)
    if key not in _DENSE:
        cells = idx.grid(Filters(bbox=within), zoom=zoom, cells_per_tile=1)
        r = cells.iloc[0]
        _DENSE[key] = ((r["south"] + r["north"]) / 2, (r["west"] + r["east"]) / 2)
    return _DENSE[key]


def footprint_spot(idx: Any, within: Any, zoom: int) -> tuple[float, float]:
    """Centre of the view at ``zoom`` inside ``within`` with the most images that still shows footprints
    (at most DEFAULT_MAX_FOOTPRINTS): the largest footprint update. Falls back to the densest spot."""
    from skyscript_viz.index import DEFAULT_MAX_FOOTPRINTS
    from skyscript_viz.query import Filters

    key = (str(within), -zoom)
    if key not in _DENSE:
        cells = idx.grid(Filters(bbox=within), zoom=zoom, cells_per_tile=1).head(60)
        best, best_n = None, -1
        for r in cells.itertuples():
            lat, lon = (r.south + r.north) / 2, (r.west + r.east) / 2
            n = idx.count(Filters(bbox=bounds_for(lat, lon, zoom)))
            if best_n < n <= DEFAULT_MAX_FOOTPRINTS:
                best, best_n = (lat, lon), n
        _DENSE[key] = best or dense_spot(idx, zoom, within)
    return _DENSE[key]


def bench_queries(idx: Any, repeats: int) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for name, f in query_set(idx):
        idx.count(f)  # warm-up
        idx.page(f, limit=50)
        tc, tp, cc, cp = [], [], [], []
        n = 0
        for _ in range(repeats):
            dt, dc, n = timed_cpu(idx.count, f)
            tc.append(dt)
            cc.append(dc)
            dt, dc, _r = timed_cpu(idx.page, f, limit=50)
            tp.append(dt)
            cp.append(dc)
        out.append(
            {
                "name": name,
                "matches": n,
                "count_ms": [ms(x) for x in tc],
                "page_ms": [ms(x) for x in tp],
                "count_cpu_ms": [ms(x) for x in cc],
                "page_cpu_ms": [ms(x) for x in cp],
            }
        )
    all_c = [x for q in out for x in q["count_ms"]]
    all_p = [x for q in out for x in q["page_ms"]]
    all_cp = [c + p for q in out for c, p in zip(q["count_ms"], q["page_ms"], strict=True)]
    cpu_c = [x for q in out for x in q["count_cpu_ms"]]
    cpu_p = [x for q in out for x in q["page_cpu_ms"]]
    return {
        "repeats": repeats,
        "queries": out,
        "count_cpu_p50_ms": round(pct(cpu_c, 50), 2),
        "count_cpu_p95_ms": round(pct(cpu_c, 95), 2),
        "page_cpu_p50_ms": round(pct(cpu_p, 50), 2),
        "page_cpu_p95_ms": round(pct(cpu_p, 95), 2),
        "cpu_note": "CPU seconds of the process (all DuckDB threads); on an idle 2-core machine the wall "
        "time of a parallel query is roughly CPU/2 to CPU",
        "count_p50_ms": round(pct(all_c, 50), 2),
        "count_p95_ms": round(pct(all_c, 95), 2),
        "page_p50_ms": round(pct(all_p, 50), 2),
        "page_p95_ms": round(pct(all_p, 95), 2),
        "count_plus_page_p50_ms": round(pct(all_cp, 50), 2),
        "count_plus_page_p95_ms": round(pct(all_cp, 95), 2),
    }


def bench_misc(idx: Any, repeats: int) -> dict[str, Any]:
    """facets, autocomplete, grid and map_view (world and city view)."""
    from skyscript_viz.query import Filters, TagExpr

    def series(fn: Any, *a: Any, **kw: Any) -> dict[str, float]:
        fn(*a, **kw)
        ts = [timed(fn, *a, **kw)[0] for _ in range(repeats)]
        return {"p50_ms": ms(pct(ts, 50)), "max_ms": ms(max(ts))}

    world = bounds_for(20.0, 0.0, 2)
    lat, lon = dense_spot(idx, 10)
    city = bounds_for(lat, lon, 10)
    facet_filters = {
        "no filter": Filters(),
        "source US + years 2019-2021": Filters(sources=("US",), year_min=2019, year_max=2021),
        "tag building + world view": Filters(tags=(TagExpr("building"),), bbox=world),
        "city view": Filters(bbox=city),
    }
    out: dict[str, Any] = {"facets": {}, "autocomplete": {}, "grid": {}, "map_view": {}}
    for label, f in facet_filters.items():
        out["facets"][label] = series(idx.facets, f)
    for prefix in ("b", "buil", "building=", "sport=te", "leisure=p", "highway"):
        out["autocomplete"][prefix] = series(idx.autocomplete, prefix)
    for label, f, z in (("world z2", Filters(bbox=world), 2), ("city z10", Filters(bbox=city), 10)):
        out["grid"][label] = series(idx.grid, f, zoom=z)
        mv = idx.map_view(f, zoom=z)
        out["map_view"][label] = {
            **series(idx.map_view, f, zoom=z),
            "kind": mv.kind,
            "rows": len(mv.rows),
            "total": mv.total,
        }
    return out


# --------------------------------------------------------------------------------------------------
# 3. map updates


def map_views(idx: Any) -> list[tuple[str, float, float, int, Any]]:
    from skyscript_viz.query import BBox, Filters, TagExpr

    ch = BBox(5.9, 45.8, 10.5, 47.8)
    clat, clon = dense_spot(idx, 10, ch)
    city_box = bounds_for(clat, clon, 10)
    slat, slon = footprint_spot(idx, city_box, 15)
    places = [
        ("world z2", 20.0, 0.0, 2),
        ("continent z4 (Europe)", 50.0, 10.0, 4),
        ("country z6 (Switzerland)", 46.8, 8.2, 6),
        ("city z10 (densest in CH)", clat, clon, 10),
        ("street z15 (busiest footprint view there)", slat, slon, 15),
    ]
    filt = Filters(year_min=2019, tags=(TagExpr("building"),))
    out = []
    for label, lat, lon, z in places:
        out.append((label + ", no filter", lat, lon, z, Filters()))
        out.append((label + ", year>=2019 + building", lat, lon, z, filt))
    return out


def map_update(idx: Any, f: Any, lat: float, lon: float, zoom: int) -> dict[str, Any]:
    """What one app rerun does for the map: query, layers, and the strings st_folium sends."""
    import streamlit_folium as sf

    from skyscript_viz import mapview

    c0 = time.process_time()
    t0 = time.perf_counter()
    view = idx.map_view(replace(f, bbox=bounds_for(lat, lon, zoom)), zoom=zoom)
    t1 = time.perf_counter()
    m, _ok = mapview.base_map(lat=lat, lon=lon, zoom=zoom, base="offline")
    groups = [mapview.view_layer(view), mapview.selection_layer(None)]
    t2 = time.perf_counter()
    # st_folium(render=True): root render, html, header, map script (every rerun) ...
    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    leaflet = sf._get_map_string(m)
    t3 = time.perf_counter()
    # ... then one string per dynamic feature group: the part that changes between reruns
    fg = "".join(sf._get_feature_group_string(g, map=m, idx=i) for i, g in enumerate(groups))
    t4 = time.perf_counter()
    base_bytes = len(leaflet.encode()) + len(header.encode()) + len(html.encode())
    return {
        "kind": view.kind,
        "rows": len(view.rows),
        "total": view.total,
        "query_ms": ms(t1 - t0),
        "layers_ms": ms(t2 - t1),
        "base_render_ms": ms(t3 - t2),
        "fg_string_ms": ms(t4 - t3),
        "server_ms": ms(t4 - t0),
        "server_cpu_ms": ms(time.process_time() - c0),
        "update_bytes": len(fg.encode()),
        "base_map_script_bytes": len(leaflet.encode()),
        "base_map_total_bytes": base_bytes,
        "rerun_args_bytes": base_bytes + len(fg.encode()),
    }


def bench_map(idx: Any, repeats: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # streamlit warns about a missing ScriptRunContext when imported bare
            import logging

            logging.getLogger("streamlit").setLevel(logging.ERROR)
        except Exception:  # noqa: BLE001
            pass
        views = []
        for label, lat, lon, z, f in map_views(idx):
            map_update(idx, f, lat, lon, z)  # warm-up
            runs = [map_update(idx, f, lat, lon, z) for _ in range(repeats)]
            last = runs[-1]
            views.append(
                {
                    "name": label,
                    "lat": round(lat, 5),
                    "lon": round(lon, 5),
                    "zoom": z,
                    "kind": last["kind"],
                    "rows": last["rows"],
                    "total": last["total"],
                    "server_ms": [r["server_ms"] for r in runs],
                    "server_cpu_ms": [r["server_cpu_ms"] for r in runs],
                    "query_ms_p50": round(pct([r["query_ms"] for r in runs], 50), 2),
                    "layers_ms_p50": round(pct([r["layers_ms"] for r in runs], 50), 2),
                    "base_render_ms_p50": round(pct([r["base_render_ms"] for r in runs], 50), 2),
                    "fg_string_ms_p50": round(pct([r["fg_string_ms"] for r in runs], 50), 2),
                    "update_bytes": last["update_bytes"],
                    "rerun_args_bytes": last["rerun_args_bytes"],
                    "base_map_script_bytes": last["base_map_script_bytes"],
                    "base_map_total_bytes": last["base_map_total_bytes"],
                }
            )
    all_ms = [x for v in views for x in v["server_ms"]]
    return {
        "repeats": repeats,
        "views": views,
        "server_p50_ms": round(pct(all_ms, 50), 2),
        "server_p95_ms": round(pct(all_ms, 95), 2),
        "server_cpu_p50_ms": round(pct([x for v in views for x in v["server_cpu_ms"]], 50), 2),
        "server_cpu_p95_ms": round(pct([x for v in views for x in v["server_cpu_ms"]], 95), 2),
        "update_bytes_max": max(v["update_bytes"] for v in views),
        "rerun_args_bytes_max": max(v["rerun_args_bytes"] for v in views),
        "first_render_bytes": views[0]["base_map_total_bytes"] + views[0]["update_bytes"],
        "base_map_script_bytes": views[0]["base_map_script_bytes"],
    }


# --------------------------------------------------------------------------------------------------
# 4./5. fresh processes


def child_open(index_dir: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    from skyscript_viz.index import ImageIndex
    from skyscript_viz.query import Filters

    t1 = time.perf_counter()
    idx = ImageIndex(Path(index_dir))
    t2 = time.perf_counter()
    n = idx.count(Filters())
    t3 = time.perf_counter()
    idx.page(Filters(), limit=50)
    t4 = time.perf_counter()
    idx.facets(Filters())
    t5 = time.perf_counter()
    return {
        "import_s": round(t1 - t0, 3),
        "construct_s": round(t2 - t1, 3),
        "first_count_s": round(t3 - t2, 3),
        "open_s": round(t3 - t1, 3),
        "n": n,
        "then_first_page_s": round(t4 - t3, 3),
        "then_first_facets_s": round(t5 - t4, 3),
    }


def _hwm_mb() -> float:
    """This process's peak RSS (VmHWM, Linux). Unlike ru_maxrss it starts afresh at exec: a child
    forked from a big parent reports the parent's high-water mark in ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    return _hwm_mb()


def child_mem(index_dir: str) -> dict[str, Any]:
    from skyscript_viz.index import ImageIndex

    base = _rss_mb()
    idx = ImageIndex(Path(index_dir))
    opened = _rss_mb()
    for _name, f in query_set(idx):
        idx.count(f)
        idx.page(f, limit=50)
    after_q = _rss_mb()
    for _label, lat, lon, z, f in map_views(idx):
        idx.map_view(replace(f, bbox=bounds_for(lat, lon, z)), zoom=z)
    from skyscript_viz.query import Filters, TagExpr

    idx.facets(Filters())
    idx.facets(Filters(tags=(TagExpr("building"),), bbox=bounds_for(20.0, 0.0, 2)))
    idx.facets(Filters(caption="tennis"))
    after_all = _rss_mb()
    return {
        "after_imports_mb": round(base, 1),
        "after_open_mb": round(opened, 1),
        "after_20_queries_mb": round(after_q, 1),
        "after_map_views_and_facets_mb": round(after_all, 1),
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "note": "VmHWM of the child (peak RSS since its exec); ru_maxrss also counts the parent's peak "
        "at fork time on Linux, so it is shown for reference only",
    }


def run_child(mode: str, index_dir: Path) -> dict[str, Any]:
    r = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--_child", mode, "--index-dir", str(index_dir)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if r.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------------
# report


def verdict(key: str, value: float) -> str:
    _label, _unit, limit, lower = TARGETS[key]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return "PASS" if (value <= limit if lower else value >= limit) else "MISS"


def print_report(res: dict[str, Any]) -> None:
    log("\n" + "=" * 100)
    log("RESULTS")
    log("=" * 100)
    for size, b in res.get("build", {}).items():
        nv = res.get("naive", {}).get(size)
        if nv and "skipped" in nv:
            nv = None
        log(
            f"\n[1] build {size}: {b['n_images']:,} images in {b['seconds']:.1f}s = {b['rate_per_s']:,.0f} img/s "
            f"({b['workers']} workers; read parts {b['read_parts_seconds']:.1f}s, merge {b['merge_seconds']:.1f}s; "
            f"index {b['generation_bytes'] / 1e6:,.0f} MB on disk)"
        )
        log(
            f"    CPU: {b['cpu_seconds_workers']:.0f}s in workers + {b['cpu_seconds_main']:.0f}s in the main process "
            f"(merge); peak RSS main {b['peak_rss_main_mb']:,.0f} MB, worker {b['peak_rss_worker_mb']:,.0f} MB, "
            f"all build processes together {b.get('peak_rss_build_total_mb', float('nan')):,.0f} MB"
        )
        if b.get("slowest_merge_steps"):
            log(
                "    slowest merge steps: "
                + "; ".join(f"{sec:.1f}s {lbl[:48]}" for lbl, sec in b["slowest_merge_steps"][:4])
            )
        if nv:
            log(
                f"    naive {size}: zipfile + pickle.load + DataFrame ~{nv['extrapolated_seconds']:,.0f}s "
                f"= ~{nv['extrapolated_rate_per_s']:,.0f} img/s "
                f"(EXTRAPOLATED from a {nv['sample']:,}-member sample at {nv['sample_rate_per_s']:,.0f}/s "
                f"+ {nv['open_zips_seconds']:.1f}s reading the zip directories; 1 process, meta only) "
                f"-> index build is {nv['extrapolated_seconds'] / b['seconds']:.1f}x faster"
            )
    q = res.get("queries")
    if q:
        log(
            f"\n[2] 20 filter combinations at {res['query_size']}, {q['repeats']} runs each after a warm-up "
            "(median wall ms of count / page(limit=50), then median CPU ms of each):"
        )
        for row in q["queries"]:
            log(
                f"    {row['name'][:72]:72s} {row['matches']:>10,}  {pct(row['count_ms'], 50):7.1f} "
                f"{pct(row['page_ms'], 50):7.1f}   cpu {pct(row['count_cpu_ms'], 50):7.1f} {pct(row['page_cpu_ms'], 50):7.1f}"
            )
        log(
            f"    count p50 {q['count_p50_ms']:.1f} ms, p95 {q['count_p95_ms']:.1f} ms | page p50 {q['page_p50_ms']:.1f} "
            f"ms, p95 {q['page_p95_ms']:.1f} ms | count+page p50 {q['count_plus_page_p50_ms']:.1f} ms, "
            f"p95 {q['count_plus_page_p95_ms']:.1f} ms"
        )
        log(
            f"    CPU time: count p50 {q['count_cpu_p50_ms']:.1f} ms, p95 {q['count_cpu_p95_ms']:.1f} ms | page p50 "
            f"{q['page_cpu_p50_ms']:.1f} ms, p95 {q['page_cpu_p95_ms']:.1f} ms"
        )
    m = res.get("misc")
    if m:
        log("    facets (5 dimensions): " + "; ".join(f"{k} {v['p50_ms']:.0f} ms" for k, v in m["facets"].items()))
        log("    autocomplete: " + "; ".join(f"{k!r} {v['p50_ms']:.1f} ms" for k, v in m["autocomplete"].items()))
        log("    grid: " + "; ".join(f"{k} {v['p50_ms']:.0f} ms" for k, v in m["grid"].items()))
        log(
            "    map_view: "
            + "; ".join(
                f"{k} {v['p50_ms']:.0f} ms ({v['kind']}, {v['rows']:,} rows, {v['total']:,} in view)"
                for k, v in m["map_view"].items()
            )
        )
    mp = res.get("map")
    if mp:
        log(
            f"\n[3] map updates ({mp['repeats']} runs each): query / layers / base render / fg string, "
            "server p50, update bytes"
        )
        for v in mp["views"]:
            log(
                f"    {v['name'][:58]:58s} {v['kind']:10s} {v['rows']:>5,} "
                f"{v['query_ms_p50']:6.0f} {v['layers_ms_p50']:5.0f} {v['base_render_ms_p50']:5.0f} "
                f"{v['fg_string_ms_p50']:5.0f}  {pct(v['server_ms'], 50):6.0f} ms {v['update_bytes']:>9,} B"
            )
        log(
            f"    server p50 {mp['server_p50_ms']:.0f} ms, p95 {mp['server_p95_ms']:.0f} ms (CPU p50 "
            f"{mp['server_cpu_p50_ms']:.0f} ms, p95 {mp['server_cpu_p95_ms']:.0f} ms); largest update "
            f"{mp['update_bytes_max']:,} B (feature groups); base map script {mp['base_map_script_bytes']:,} B; "
            f"first render {mp['first_render_bytes']:,} B; all component args per rerun <= "
            f"{mp['rerun_args_bytes_max']:,} B"
        )
    o = res.get("open")
    if o:
        log(
            f"\n[4] open {res['query_size']} index in a fresh process: import {o['import_s']:.2f}s, "
            f"ImageIndex() {o['construct_s']:.2f}s, first count {o['first_count_s']:.2f}s -> {o['open_s']:.2f}s "
            f"(then first page {o['then_first_page_s']:.2f}s, first facets {o['then_first_facets_s']:.2f}s)"
        )
    mem = res.get("memory")
    if mem:
        log(
            f"\n[5] peak RSS of a fresh process: {mem['after_imports_mb']:.0f} MB after imports, "
            f"{mem['after_open_mb']:.0f} MB after open, {mem['after_20_queries_mb']:.0f} MB after the 20 queries, "
            f"{mem['after_map_views_and_facets_mb']:.0f} MB after map views + facets too (VmHWM; ru_maxrss "
            f"{mem['ru_maxrss_mb']:.0f} MB includes the parent's peak at fork)"
        )
    if res.get("load_average_at_start"):
        log(
            "\n    1-min load average when each section started (2 cpus): "
            + ", ".join(f"{k} {v:.1f}" for k, v in res["load_average_at_start"].items())
        )

    log("\n" + "-" * 100)
    log(f"{'target (at ' + str(res.get('query_size')) + ')':44s} {'measured':>16s} {'target':>14s}  verdict")
    for key, (label, unit, limit, lower) in TARGETS.items():
        v = res.get("summary", {}).get(key)
        if v is None:
            continue
        shown = f"{v:,.0f} {unit}" if unit in ("img/s", "bytes", "MB") else f"{v:,.2f} {unit}"
        log(f"{label:44s} {shown:>16s} {('<= ' if lower else '>= ') + f'{limit:,}':>14s}  {verdict(key, v)}")
    log("-" * 100)


# --------------------------------------------------------------------------------------------------
# main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, default=OUT / "ds5m", help="the 5.2M dataset root")
    ap.add_argument("--data-1m", type=Path, default=OUT / "ds1m", help="the 1M dataset root")
    ap.add_argument("--sizes", default="1m,5m", help="comma list of 1m, 5m (default both)")
    ap.add_argument("--skip-build", action="store_true", help="reuse bench/out/index-* from an earlier run")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--naive-sample", type=int, default=200_000, help="meta members the naive way loads")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--wait", type=float, default=0, help="seconds to wait for a dataset still being generated")
    ap.add_argument("--out", type=Path, default=OUT / "results.json")
    ap.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--_child", choices=("open", "mem"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._child:
        fn = child_open if args._child == "open" else child_mem
        print(json.dumps(fn(str(args.index_dir))))
        return 0

    import duckdb

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    roots = {"1m": args.data_1m, "5m": args.data}
    bad = [s for s in sizes if s not in roots]
    if bad or not sizes:
        ap.error(f"--sizes takes 1m and/or 5m, not {args.sizes!r}")
    t_start = time.perf_counter()
    res: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "platform": platform.platform(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "args": {k: str(v) for k, v in vars(args).items() if not k.startswith("_")},
        "build": {},
        "naive": {},
        "summary": {},
    }
    index_dirs = {s: OUT / f"index-{s}" for s in sizes}
    try:  # --skip-build carries the build figures of the last full run over
        previous = json.loads(args.out.read_text()) if args.skip_build or args.skip_naive else {}
    except (OSError, ValueError):
        previous = {}
    for s in sizes:
        wait_for(roots[s], args.wait)
    for s in sizes:
        if args.skip_build:
            if not (index_dirs[s] / "CURRENT").is_file():
                raise SystemExit(f"--skip-build: no index at {index_dirs[s]}; run once without it")
            log(f"[1] {s}: reusing {index_dirs[s]}")
            if s in previous.get("build", {}):
                res["build"][s] = {**previous["build"][s], "from_earlier_run": previous.get("started")}
                log(f"    (build figures of the run started {previous.get('started')} carried over)")
        else:
            log(f"[1] building the {s} index from {roots[s]} into {index_dirs[s]} ({args.workers} workers) ...")
            note_load(f"build_{s}")
            b = bench_build(roots[s], index_dirs[s], args.workers)
            res["build"][s] = b
            log(
                f"    {b['n_images']:,} images in {b['seconds']:.1f}s = {b['rate_per_s']:,.0f} img/s "
                f"(parts {b['read_parts_seconds']:.1f}s, merge {b['merge_seconds']:.1f}s)"
            )
        if args.skip_naive and s in previous.get("naive", {}):
            res["naive"][s] = {**previous["naive"][s], "from_earlier_run": previous.get("started")}
        if not args.skip_naive:
            log(f"[1] naive zipfile + pickle.load + DataFrame on a {args.naive_sample:,}-member sample of {s} ...")
            note_load(f"naive_{s}")
            nv = bench_naive(roots[s], args.naive_sample)
            res["naive"][s] = nv
            if "skipped" in nv:
                log(f"    skipped: {nv['skipped']}")
                continue
            log(
                f"    {nv['sample']:,} members at {nv['sample_rate_per_s']:,.0f}/s -> all "
                f"{nv['members_total']:,} ~{nv['extrapolated_seconds']:,.0f}s (extrapolated)"
            )

    big = "5m" if "5m" in sizes else sizes[-1]
    res["query_size"] = big
    from skyscript_viz.index import ImageIndex

    log(f"[4] opening the {big} index in a fresh process ...")
    note_load("open")
    res["open"] = run_child("open", index_dirs[big])
    log("[5] peak memory of a fresh process answering the 20 queries ...")
    note_load("memory")
    res["memory"] = run_child("mem", index_dirs[big])

    idx = ImageIndex(index_dirs[big])
    res["n_images"] = idx.n_images
    log(f"[2] 20 filter combinations x {args.repeats} on {idx.n_images:,} images ...")
    note_load("queries")
    res["queries"] = bench_queries(idx, args.repeats)
    log("[2] facets, autocomplete, grid, map_view ...")
    note_load("misc")
    res["misc"] = bench_misc(idx, args.repeats)
    log("[3] map updates ...")
    note_load("map")
    res["map"] = bench_map(idx, args.repeats)
    idx.close()

    summ = res["summary"]
    if big in res["build"]:
        summ["build_rate"] = res["build"][big]["rate_per_s"]
        if "peak_rss_build_total_mb" in res["build"][big]:
            summ["build_peak_rss"] = res["build"][big]["peak_rss_build_total_mb"]
    q = res["queries"]
    summ["query_p95"] = max(q["count_p95_ms"], q["page_p95_ms"])
    summ["map_p95"] = res["map"]["server_p95_ms"]
    summ["map_bytes"] = res["map"]["update_bytes_max"]
    summ["open_s"] = res["open"]["open_s"]
    summ["peak_rss"] = res["memory"]["after_20_queries_mb"]
    res["verdicts"] = {k: verdict(k, v) for k, v in summ.items()}
    res["load_average_at_start"] = LOADS
    res["total_seconds"] = round(time.perf_counter() - t_start, 1)
    print_report(res)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1, default=str))
    log(f"\nwrote {args.out} (bench took {res['total_seconds']:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
