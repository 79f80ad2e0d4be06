"""Reviewers' verdicts and saved views (one store over SQLite or PostgreSQL), and audit error-rate estimates.

Every verdict is one row appended in its own transaction, so a crash or a killed server loses nothing
committed, and two reviewers judging the same image at once both keep their verdict. Verdicts are
never updated in place: the latest one per (image, reviewer, signed in or not) is the current one,
and the history stays. Where the rows live is skyscript_viz.reviewdb's business.
"""

from __future__ import annotations

import csv
import io
import math
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from .errors import InvalidFilterError, NotOwnerError, ReviewStoreError, ViewExistsError
from .reviewdb import connect, guarded, saved_views, verdicts
from .vocab import VERDICTS

__all__ = [
    "VERDICTS",
    "Estimate",
    "ReviewStore",
    "open_review_store",
    "spreadsheet_safe",
    "stratified_estimate",
    "unavailable_store",
    "wilson_interval",
]

COLUMNS = ["seq", "filepath", "reviewer", "verified", "verdict", "note", "audit", "created"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """A text cell a spreadsheet will not run as a formula (OWASP: a leading quote before = + - @ tab CR)."""
    if isinstance(cell, str) and cell.lstrip(" ").startswith(_FORMULA_START):
        return "'" + cell
    return cell


def _url(target: Path | str) -> str:
    """A store target: a SQLite file path, or a database URL."""
    return str(target) if "://" in str(target) else str(Path(target))


class ReviewStore:
    """Verdicts and saved views of one dataset, in ``target`` (a SQLite file path or a database URL).

    Safe across threads and processes. ``read_only`` opens a SQLite file as it is (a read-only
    folder), and every write raises ReviewStoreError.
    """

    def __init__(self, target: Path | str, *, read_only: bool = False) -> None:
        self.url = _url(target)
        self.read_only = read_only
        self._engine = connect(self.url, read_only=read_only)

    def __repr__(self) -> str:
        from .reviewdb import display_url

        return f"ReviewStore({display_url(str(self._engine.url))!r}{', read_only=True' if self.read_only else ''})"

    def _writable(self) -> None:
        if self.read_only:
            raise ReviewStoreError("verdicts are read-only here (the verdict database cannot be written)")

    def _frame(self, stmt: Any) -> pd.DataFrame:
        with guarded(self._engine) as con:
            res = con.execute(stmt)
            df = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        if "verified" in df:
            df["verified"] = df["verified"].astype(bool)
        return df

    def add(
        self,
        filepath: str,
        verdict: str,
        *,
        reviewer: str,
        note: str = "",
        audit: str | None = None,
        verified: bool = False,
        uid: str | None = None,
    ) -> int:
        """Record one verdict; returns its sequence number. Committed when this returns.

        ``verified``: the reviewer is a signed-in identity, not a typed name. ``uid``: the client's id
        for this verdict, so a retried request is stored once (the first one's number is returned).
        """
        if verdict not in VERDICTS:
            raise InvalidFilterError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        reviewer = reviewer.strip()
        if not reviewer:
            raise InvalidFilterError("a verdict needs the reviewer's name")
        self._writable()
        uid = uid or uuid.uuid4().hex
        row = {
            "uid": uid[:32],
            "filepath": filepath,
            "reviewer": reviewer[:100],
            "verified": bool(verified),
            "verdict": verdict,
            "note": note[:2000],
            "audit": audit,
            "created": time.time(),
        }
        try:
            with guarded(self._engine, write=True) as con:
                return int(con.execute(verdicts.insert().values(**row).returning(verdicts.c.seq)).scalar_one())
        except ReviewStoreError:
            seq = self._seq_of(uid[:32])  # the same request again (a retry): stored once
            if seq is None:
                raise
            return seq

    def _seq_of(self, uid: str) -> int | None:
        with guarded(self._engine) as con:
            seq = con.execute(sa.select(verdicts.c.seq).where(verdicts.c.uid == uid)).scalar()
        return None if seq is None else int(seq)

    def history(self, filepath: str | None = None) -> pd.DataFrame:
        """Every verdict (optionally of one image), oldest first."""
        stmt = sa.select(*(verdicts.c[c] for c in COLUMNS)).order_by(verdicts.c.seq)
        if filepath is not None:
            stmt = stmt.where(verdicts.c.filepath == filepath)
        return self._frame(stmt)

    def current(self, *, audit: str | None = None) -> pd.DataFrame:
        """The latest verdict of each reviewer on each image (of one audit, if given).

        A signed-in reviewer and a typed name that happens to read the same are two reviewers: an
        unverified visitor cannot replace a signed-in reviewer's verdict.
        """
        last = sa.select(sa.func.max(verdicts.c.seq).label("seq")).group_by(
            verdicts.c.filepath, verdicts.c.reviewer, verdicts.c.verified
        )
        if audit is not None:
            last = last.where(verdicts.c.audit == audit)
        sub = last.subquery()
        stmt = (
            sa.select(*(verdicts.c[c] for c in COLUMNS)).join(sub, verdicts.c.seq == sub.c.seq).order_by(verdicts.c.seq)
        )
        return self._frame(stmt)

    def filepaths_with(self, verdicts: Iterable[str]) -> list[str]:
        """Images whose current verdict (any reviewer) is one of ``verdicts`` (to filter on verdicts)."""
        vs = list(verdicts)
        if not vs:
            return []
        cur = self.current()
        return sorted(set(cur.loc[cur["verdict"].isin(vs), "filepath"]))

    def export_csv(self) -> bytes:
        """Every verdict ever given, as CSV for a spreadsheet: reviewer-written cells cannot run as
        formulas, and ``identity`` says whether the reviewer was signed in or a typed (unverified) name."""
        hist = self.history()
        hist.insert(3, "identity", hist.pop("verified").map({True: "verified", False: "unverified"}))
        for col in ("reviewer", "note", "filepath", "audit"):
            hist[col] = hist[col].map(spreadsheet_safe)
        buf = io.StringIO()
        hist.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")  # RFC 4180; a lone CR is quoted
        return buf.getvalue().encode()

    # -- saved views ------------------------------------------------------------------------------

    def save_view(
        self, name: str, query: str, *, owner: str = "", verified: bool = False, replace: bool = False
    ) -> None:
        """Save a named view: a query string such as ``src=CH&tag=sport%3Dtennis``.

        An existing name is only replaced with ``replace=True`` (ViewExistsError otherwise) and only by
        its owner (NotOwnerError); a view saved without an owner may be replaced by anyone who confirms.
        """
        name = name.strip()[:120]
        if not name:
            raise InvalidFilterError("a saved view needs a name")
        self._writable()
        owner = owner.strip()[:100]
        row = {"name": name, "query": query, "created": time.time(), "owner": owner, "verified": bool(verified)}
        with guarded(self._engine, write=True) as con:
            if con.dialect.name == "postgresql":  # two visitors saving one new name: the second waits
                con.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})
            old = con.execute(
                sa.select(saved_views.c.owner, saved_views.c.verified).where(saved_views.c.name == name)
            ).first()
            if old is None:
                con.execute(saved_views.insert().values(**row))
                return
            self._check_owner(name, old.owner or "", bool(old.verified), owner, verified, replace)
            con.execute(saved_views.update().where(saved_views.c.name == name).values(**row))

    @staticmethod
    def _check_owner(name: str, old_owner: str, old_verified: bool, owner: str, verified: bool, replace: bool) -> None:
        """Refuse to replace someone else's view, or any view without explicit confirmation."""
        if old_owner and (old_owner, old_verified) != (owner, verified):
            who = old_owner if old_verified else f"{old_owner} (unverified)"
            raise NotOwnerError(f"the view {name!r} belongs to {who}; save yours under another name")
        if not replace:
            raise ViewExistsError(f"a view named {name!r} exists; confirm to replace it, or pick another name")

    def views(self) -> list[tuple[str, str]]:
        """Saved views (name, query string), newest first."""
        with guarded(self._engine) as con:
            rows = con.execute(
                sa.select(saved_views.c.name, saved_views.c.query).order_by(
                    saved_views.c.created.desc(), saved_views.c.name
                )
            ).fetchall()
        return [(str(n), str(q)) for n, q in rows]

    def view_owners(self) -> dict[str, tuple[str, bool]]:
        """Owner and whether it was signed in, per saved view."""
        with guarded(self._engine) as con:
            rows = con.execute(sa.select(saved_views.c.name, saved_views.c.owner, saved_views.c.verified)).fetchall()
        return {str(n): (str(o or ""), bool(v)) for n, o, v in rows}


class _UnavailableStore(ReviewStore):
    """Stands in when the verdict database cannot be opened at all: nothing to show, every write refused."""

    def __init__(self, reason: str) -> None:
        self.url = ""
        self.read_only = True
        self.reason = reason

    def __repr__(self) -> str:
        return f"_UnavailableStore({self.reason!r})"

    def _writable(self) -> None:
        raise ReviewStoreError(self.reason)

    def _frame(self, stmt: Any) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})

    def views(self) -> list[tuple[str, str]]:
        return []

    def view_owners(self) -> dict[str, tuple[str, bool]]:
        return {}


def unavailable_store(reason: str) -> ReviewStore:
    """A store that shows nothing and refuses every write with ``reason`` (the database cannot be used)."""
    return _UnavailableStore(reason)


_DEGRADED: dict[str, tuple[float, tuple[ReviewStore, str]]] = {}
RETRY_SECONDS = 30.0


def open_review_store(target: Path | str, *, retry_seconds: float = RETRY_SECONDS) -> tuple[ReviewStore, str | None]:
    """The store for the app, and a notice when it is degraded instead of a crash: a SQLite file that
    cannot be written (read-only folder) is opened read-only; one that cannot be read (corrupt) or an
    unreachable server gives a store that shows nothing and refuses verdicts. A degraded answer is
    kept for ``retry_seconds`` (pages ask on every run; a down server must not be waited on each time)."""
    key = _url(target)
    hit = _DEGRADED.get(key)
    if hit is not None and time.monotonic() - hit[0] < retry_seconds:
        return hit[1]
    try:
        store = ReviewStore(target)
        _DEGRADED.pop(key, None)
        return store, None
    except ReviewStoreError as exc:
        reason = str(exc)
    result: tuple[ReviewStore, str] = (
        unavailable_store(f"Verdicts are unavailable: {reason}"),
        f"Verdicts are unavailable: {reason}",
    )
    if "://" not in key or key.startswith("sqlite"):
        try:
            ro = ReviewStore(target, read_only=True)
            ro.history("")  # readable as it is?
            result = (ro, f"Verdicts are read-only: {reason}")
        except ReviewStoreError:
            pass
    _DEGRADED[key] = (time.monotonic(), result)
    return result


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
    return Estimate(
        rate,
        lo,
        hi,
        total_n,
        total_e,
        f"stratified: strata weighted by population; Wilson interval on the effective "
        f"sample size {n_eff:.0f} (Kish), 95 %",
    )
