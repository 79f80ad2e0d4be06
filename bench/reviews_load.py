"""Load test of the verdict store: N concurrent review sessions for a bounded time, on SQLite and PostgreSQL.

Each session is a thread that does what a reviewer's browser session makes the app server do: give a
verdict on an image (``ReviewStore.add``, with a client-chosen id), then re-read that image's history
(the page reruns). Sessions are spread over ``--servers`` processes, as over several app servers.
Every acknowledged verdict's id is written down by the client; at the end the database is counted
against that list: lost = acknowledged but missing, duplicated = stored more than once or never sent.

Usage::

    python bench/reviews_load.py [--sessions 20] [--seconds 60] [--servers 2] [--backends sqlite,postgresql]

PostgreSQL is a throwaway server started like the tests' (tests/pgserver.py: Debian's initdb +
pg_ctl in a temp folder on 127.0.0.1). Results go to stdout and ``bench/out/reviews_load.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VERDICT_CODES = ["good", "bad_caption", "bad_image", "wrong_place", "other"]


def _session(store: Any, name: str, until: float, images: int, out: dict[str, Any]) -> None:
    """One reviewer: verdict, re-read the image's history, repeat until ``until``."""
    rng = random.Random(name)
    acked: list[str] = []
    add_ms: list[float] = []
    read_ms: list[float] = []
    errors: list[str] = []
    while time.monotonic() < until:
        fp = f"images2/a{rng.randrange(images)}_CH_19.jpg"  # a small pool: sessions collide on images
        uid = uuid.uuid4().hex
        t0 = time.perf_counter()
        try:
            store.add(fp, rng.choice(VERDICT_CODES), reviewer=name, note="load test", uid=uid)
        except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
            errors.append(repr(exc)[:200])
            continue
        add_ms.append((time.perf_counter() - t0) * 1000)
        acked.append(uid)
        t0 = time.perf_counter()
        store.history(fp)
        read_ms.append((time.perf_counter() - t0) * 1000)
    out[name] = {"acked": acked, "add_ms": add_ms, "read_ms": read_ms, "errors": errors}


def _server(url: str, names: list[str], start_at: float, seconds: float, images: int) -> dict[str, Any]:
    """One "app server" process running some sessions in threads, as Streamlit does."""
    from skyscript_viz.reviews import ReviewStore

    store = ReviewStore(url)
    out: dict[str, Any] = {}
    time.sleep(max(0.0, start_at - time.time()))
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=_session, args=(store, n, until, images, out)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else (values[0] if values else 0.0)


def run(url: str, *, sessions: int, seconds: float, servers: int, images: int) -> dict[str, Any]:
    """Run the load against ``url`` and count the database against what the clients were told."""
    import sqlalchemy as sa

    from skyscript_viz.reviewdb import connect, verdicts
    from skyscript_viz.reviews import ReviewStore

    ReviewStore(url)  # create the schema before the clock starts
    names = [f"reviewer-{i:02d}" for i in range(sessions)]
    groups = [names[i::servers] for i in range(servers)]
    start_at = time.time() + 2.0
    with mp.get_context("spawn").Pool(servers) as pool:
        parts = pool.starmap(_server, [(url, g, start_at, seconds, images) for g in groups])
    results = {k: v for part in parts for k, v in part.items()}
    acked = [u for r in results.values() for u in r["acked"]]
    add_ms = [x for r in results.values() for x in r["add_ms"]]
    read_ms = [x for r in results.values() for x in r["read_ms"]]
    errors = [e for r in results.values() for e in r["errors"]]
    with connect(url).connect() as con:
        rows = con.execute(sa.select(verdicts.c.uid, sa.func.count()).group_by(verdicts.c.uid)).fetchall()
    stored = {u: n for u, n in rows}
    return {
        "sessions": sessions,
        "servers": servers,
        "seconds": seconds,
        "images": images,
        "verdicts_acknowledged": len(acked),
        "verdicts_in_db": sum(stored.values()),
        "lost": sum(1 for u in acked if u not in stored),
        "duplicated": sum(n - 1 for n in stored.values() if n > 1) + sum(1 for u in stored if u not in set(acked)),
        "errors": len(errors),
        "error_samples": errors[:5],
        "throughput_per_s": len(acked) / seconds,
        "add_ms_p50": _pct(add_ms, 50),
        "add_ms_p95": _pct(add_ms, 95),
        "add_ms_max": max(add_ms, default=0.0),
        "history_ms_p95": _pct(read_ms, 95),
        "load_average_1m_at_end": os.getloadavg()[0],
        "cores": os.cpu_count(),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--servers", type=int, default=2, help="processes the sessions are spread over")
    p.add_argument("--images", type=int, default=500, help="size of the image pool the sessions judge")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "reviews_load.json")
    args = p.parse_args()
    report: dict[str, Any] = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="reviews-load-") as tmp:
            server = None
            if backend == "sqlite":
                url = str(Path(tmp) / "reviews.sqlite")
            else:
                from tests.pgserver import PgServer

                server = PgServer().start()
                url = server.create("load")
            try:
                res = run(url, sessions=args.sessions, seconds=args.seconds, servers=args.servers, images=args.images)
            finally:
                if server is not None:
                    from skyscript_viz.reviewdb import dispose_all

                    dispose_all()
                    server.stop()
        report[backend] = res
        print(
            f"{backend:<11} {res['sessions']} sessions on {res['servers']} processes, {res['seconds']:.0f} s: "
            f"{res['throughput_per_s']:.0f} verdicts/s, add p50 {res['add_ms_p50']:.1f} ms, "
            f"p95 {res['add_ms_p95']:.1f} ms (max {res['add_ms_max']:.0f}), history p95 "
            f"{res['history_ms_p95']:.1f} ms; acknowledged {res['verdicts_acknowledged']:,}, in the database "
            f"{res['verdicts_in_db']:,}, lost {res['lost']}, duplicated {res['duplicated']}, errors {res['errors']} "
            f"(load average {res['load_average_1m_at_end']:.1f} on {res['cores']} cores)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    bad = any(r["lost"] or r["duplicated"] or r["errors"] for r in report.values())
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
