"""Reviewers' verdicts, kept in SQLite next to the index, and error-rate estimates for audits.

Every verdict is one row appended in its own transaction (WAL mode, ``synchronous=FULL``), so a
crash or a killed server loses nothing committed, and two reviewers judging the same image both keep
their verdict. Verdicts are never updated in place: the latest one per (image, reviewer) is the
current one, and the history stays.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InvalidFilterError

__all__ = [
    "VERDICTS",
    "Estimate",
    "ReviewStore",
    "stratified_estimate",
    "wilson_interval",
]

VERDICTS: dict[str, str] = {
    "good": "Good",
    "bad_caption": "Bad caption",
    "bad_image": "Bad image",
    "wrong_place": "Wrong place",
    "other": "Other problem",
}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    filepath  TEXT NOT NULL,
    reviewer  TEXT NOT NULL,
    verdict   TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    audit     TEXT,
    created   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_fp ON verdicts (filepath, reviewer, seq);
CREATE TABLE IF NOT EXISTS saved_views (
    name      TEXT PRIMARY KEY,
    query     TEXT NOT NULL,
    created   REAL NOT NULL
);
"""


class ReviewStore:
    """Verdicts of one dataset, in ``path`` (a SQLite file). Safe across threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        con = self._con()
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(_SCHEMA)

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA busy_timeout=30000")
            self._local.con = con
        return con

    def add(self, filepath: str, verdict: str, *, reviewer: str, note: str = "",
            audit: str | None = None) -> int:
        """Record one verdict; returns its sequence number. Committed when this returns."""
        if verdict not in VERDICTS:
            raise InvalidFilterError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        reviewer = reviewer.strip()
        if not reviewer:
            raise InvalidFilterError("a verdict needs the reviewer's name")
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            cur = con.execute(
                "INSERT INTO verdicts (filepath, reviewer, verdict, note, audit, created) VALUES (?,?,?,?,?,?)",
                (filepath, reviewer[:100], verdict, note[:2000], audit, time.time()),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return int(cur.lastrowid or 0)

    def history(self, filepath: str | None = None) -> pd.DataFrame:
        """Every verdict (optionally of one image), oldest first."""
        sql = "SELECT seq, filepath, reviewer, verdict, note, audit, created FROM verdicts"
        params: tuple[str, ...] = ()
        if filepath is not None:
            sql += " WHERE filepath = ?"
            params = (filepath,)
        return pd.read_sql_query(sql + " ORDER BY seq", self._con(), params=params)

    def current(self, *, audit: str | None = None) -> pd.DataFrame:
        """The latest verdict of each reviewer on each image (of one audit, if given)."""
        cond, params = ("WHERE audit = ?", (audit,)) if audit is not None else ("", ())
        return pd.read_sql_query(
            f"""SELECT v.* FROM verdicts v JOIN (SELECT filepath, reviewer, max(seq) AS seq FROM verdicts
                {cond} GROUP BY filepath, reviewer) last USING (seq) ORDER BY v.seq""",
            self._con(), params=params)

    def filepaths_with(self, verdicts: Iterable[str]) -> list[str]:
        """Images whose current verdict (any reviewer) is one of ``verdicts`` (to filter on verdicts)."""
        vs = list(verdicts)
        if not vs:
            return []
        cur = self.current()
        return sorted(set(cur.loc[cur["verdict"].isin(vs), "filepath"]))

    def export_csv(self) -> bytes:
        """Every verdict ever given, as CSV."""
        return self.history().to_csv(index=False).encode()

    def save_view(self, name: str, query: str) -> None:
        """Save (or replace) a named view: a query string such as ``src=CH&tag=sport%3Dtennis``."""
        name = name.strip()[:120]
        if not name:
            raise InvalidFilterError("a saved view needs a name")
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT OR REPLACE INTO saved_views (name, query, created) VALUES (?, ?, ?)",
                    (name, query, time.time()))
        con.execute("COMMIT")

    def views(self) -> list[tuple[str, str]]:
        """Saved views (name, query string), newest first."""
        return [(n, q) for n, q in self._con().execute(
            "SELECT name, query FROM saved_views ORDER BY created DESC, name").fetchall()]


@dataclass(frozen=True)
class Estimate:
    """An error rate with a 95 % confidence interval and how it was computed."""

    rate: float
    low: float
    high: float
    n: int
    errors: int
    method: str


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval for proportion ``p`` observed on ``n`` (n may be an effective size)."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact at the ends: centre - half is 0 for p = 0 in theory, but 4e-19 in floating point
    return (0.0 if p <= 0 else max(0.0, centre - half), 1.0 if p >= 1 else min(1.0, centre + half))


def wilson_interval(errors: int, n: int, *, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (the default z gives 95 %)."""
    if n <= 0:
        return (0.0, 1.0)
    return _wilson(errors / n, n, z)


def stratified_estimate(strata: Sequence[tuple[int, int, int]]) -> Estimate:
    """Population error rate from a stratified sample: ``(population size, sample size, errors)`` per stratum.

    The rate is the population-weighted mean of stratum rates; the 95 % interval is a Wilson interval
    on the Kish effective sample size (n_eff = 1 / Σ w_h² / n_h), which stays inside [0, 1] and
    reduces to the plain Wilson interval when there is one stratum.
    """
    live = [(N, n, e) for N, n, e in strata if n > 0 and N > 0]
    total_n = sum(n for _, n, _ in live)
    total_e = sum(e for _, _, e in live)
    if not live:
        return Estimate(0.0, 0.0, 1.0, 0, 0, "no verdicts yet")
    pop = sum(N for N, _, _ in live)
    weights = [N / pop for N, _, _ in live]
    rate = sum(w * e / n for w, (_, n, e) in zip(weights, live, strict=True))
    if len(live) == 1:
        lo, hi = wilson_interval(total_e, total_n)
        return Estimate(rate, lo, hi, total_n, total_e, "Wilson score interval, 95 %")
    n_eff = 1.0 / sum(w * w / n for w, (_, n, _) in zip(weights, live, strict=True))
    # the weighted rate itself, not a rounded error count: rounding could put the rate outside its interval
    lo, hi = _wilson(rate, n_eff, 1.959963984540054)
    return Estimate(rate, lo, hi, total_n, total_e,
                    f"stratified: strata weighted by population; Wilson interval on the effective "
                    f"sample size {n_eff:.0f} (Kish), 95 %")

