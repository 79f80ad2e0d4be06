"""Where verdicts live: the database URL setting, the engine, and the versioned schema.

One storage layer over SQLite (the default: ``reviews.sqlite`` next to the index) and PostgreSQL
(``SKYSCRIPT_DB=postgresql://user@host/db``, ``--db``, or ``db`` under ``[reviews]`` in secrets.toml),
both through SQLAlchemy Core; PostgreSQL through psycopg 3 with SQLAlchemy's connection pool.

The schema is versioned in a one-row ``schema_version`` table and brought up to date under a lock
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so servers starting at once cannot race.
Version 1 is the SQLite file of earlier releases (no identities); version 2 adds a unique id per
verdict (``uid``, so an import never duplicates), whether the reviewer was signed in (``verified``),
and an owner per saved view.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from . import settings
from .errors import ReviewStoreError

__all__ = ["SCHEMA_VERSION", "DbSetting", "connect", "display_url", "resolve_db_url", "saved_views", "verdicts"]

SCHEMA_VERSION = 2
ENV = "SKYSCRIPT_DB"

metadata = sa.MetaData()
schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))
verdicts = sa.Table(
    "verdicts",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("uid", sa.String(32), nullable=False, unique=True),
    sa.Column("filepath", sa.Text, nullable=False),
    sa.Column("reviewer", sa.Text, nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False, default=False),
    sa.Column("verdict", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("audit", sa.Text),
    sa.Column("created", sa.Float, nullable=False),
    sa.Index("verdicts_fp", "filepath", "reviewer", "seq"),
    sqlite_autoincrement=True,  # a sequence number is never reused, even after the last row is gone
)
saved_views = sa.Table(
    "saved_views",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("verified", sa.Boolean, nullable=False, default=False),
)

# version 1 -> 2 on the SQLite file of earlier releases (PostgreSQL never had version 1)
_SQLITE_V1_TO_V2 = (
    "ALTER TABLE verdicts ADD COLUMN uid TEXT",
    "UPDATE verdicts SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS verdicts_uid ON verdicts (uid)",
    "ALTER TABLE verdicts ADD COLUMN verified BOOLEAN NOT NULL DEFAULT 0",
    "ALTER TABLE saved_views ADD COLUMN owner TEXT",
    "ALTER TABLE saved_views ADD COLUMN verified BOOLEAN NOT NULL DEFAULT 0",
)
_PG_LOCK = 0x5C75C71  # advisory lock id: one schema upgrade at a time across servers


@dataclass(frozen=True)
class DbSetting:
    """The verdict database URL and where it came from (``--db``, SKYSCRIPT_DB, secrets, default)."""

    url: str
    origin: str

    def __repr__(self) -> str:
        return f"DbSetting({display_url(self.url)!r}, origin={self.origin!r})"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def _normalise(url: str) -> str:
    """A SQLAlchemy URL: a bare path is a SQLite file, ``postgresql://`` goes through psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme not in ("sqlite", "postgresql+psycopg"):
        raise ReviewStoreError(
            f"verdict database URL {display_url(url)!r} is neither sqlite:///PATH nor "
            f"postgresql://USER@HOST/DB; fix {ENV}, --db or [reviews] db in secrets.toml"
        )
    return url


def resolve_db_url(
    index_dir: Path,
    *,
    cli: str | None = None,
    secrets: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> DbSetting:
    """The verdict database for an index: ``--db``, else SKYSCRIPT_DB, else ``[reviews] db`` in secrets,
    else ``reviews.sqlite`` next to the index."""
    from_env = settings.current().db if environ is None else environ.get(ENV)
    section = (secrets or {}).get("reviews") or {}
    for value, origin in ((cli, "--db"), (from_env, ENV), (section.get("db"), "secrets.toml [reviews] db")):
        if value:
            return DbSetting(_normalise(str(value)), origin)
    return DbSetting(_normalise(str(Path(index_dir) / "reviews.sqlite")), "default")


def display_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@", 1)[-1]


def _sqlite_engine(url: str, *, read_only: bool) -> Engine:
    """SQLite with WAL, ``synchronous=FULL`` and a 30 s busy wait; writers take the lock up front."""
    path = make_url(url).database or ""
    if read_only:  # a read-only folder: no -wal/-shm files can be made, so read the file as it is
        url = f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true"
    else:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReviewStoreError(f"cannot create the folder of the verdict database {path!r}: {exc}") from exc
    engine = sa.create_engine(url, connect_args={"timeout": 30.0})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_con: Any, _rec: Any) -> None:
        dbapi_con.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_con.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        if not read_only:
            _set_wal(cur)
            cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(con: Connection) -> None:
        # a read-then-write transaction (saving a view) must hold the write lock from the start,
        # or two of them deadlock on upgrading their read locks
        con.exec_driver_sql("BEGIN IMMEDIATE" if con.get_execution_options().get("write") else "BEGIN")

    return engine


def _set_wal(cur: Any, wait_s: float = 30.0) -> None:
    """Put the database in WAL mode (once per file: the mode is kept in it). Switching needs the file to
    itself and SQLite answers "database is locked" at once, without its busy wait, while another
    process opens the same new file: retried for up to ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.01, 0.05))


_ENGINES: dict[tuple[str, bool], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def connect(url: str, *, read_only: bool = False) -> Engine:
    """The engine of ``url`` with its schema up to date (one engine, hence one pool, per URL and process)."""
    url = _normalise(url)
    with _ENGINES_LOCK:
        engine = _ENGINES.get((url, read_only))
        if engine is not None:
            return engine
        try:
            if url.startswith("sqlite"):
                engine = _sqlite_engine(url, read_only=read_only)
            else:
                engine = sa.create_engine(
                    url,
                    pool_size=5,
                    max_overflow=15,
                    pool_pre_ping=True,
                    pool_recycle=1800,
                    connect_args={"connect_timeout": 10},
                )
            if not read_only:
                _upgrade(engine)
        except SQLAlchemyError as exc:
            raise ReviewStoreError(describe(exc, url)) from exc
        _ENGINES[(url, read_only)] = engine
        return engine


def describe(exc: BaseException, url: str) -> str:
    """A one-line message for a database failure, naming the database (without password) and a fix."""
    orig = getattr(exc, "orig", None) or exc
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    fix = (
        "check that the folder is writable and the file is a SQLite database (move a damaged one aside)"
        if url.startswith("sqlite")
        else "check that the server is running and the URL is right"
    )
    return f"verdict database {display_url(url)}: {detail}; {fix}"


@contextmanager
def guarded(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """A transaction; database failures become ReviewStoreError (pages show them, never a traceback)."""
    try:
        with engine.connect().execution_options(write=write) as con, con.begin():
            yield con
    except SQLAlchemyError as exc:
        raise ReviewStoreError(describe(exc, str(engine.url))) from exc


def _upgrade(engine: Engine) -> None:
    """Create or migrate the schema to SCHEMA_VERSION, one process at a time."""
    with engine.connect().execution_options(write=True) as con, con.begin():
        pg = con.dialect.name == "postgresql"
        if pg:
            con.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        tables = set(sa.inspect(con).get_table_names())
        if "schema_version" in tables:
            version = con.execute(sa.select(schema_version.c.version)).scalar() or 0
        else:
            version = 1 if "verdicts" in tables else 0
            schema_version.create(con)
            con.execute(schema_version.insert().values(version=version))
        if version > SCHEMA_VERSION:
            raise ReviewStoreError(
                f"verdict database {display_url(str(engine.url))} has schema version {version}, "
                f"newer than this app's {SCHEMA_VERSION}; upgrade the app"
            )
        if version == 0:
            metadata.create_all(con, tables=[verdicts, saved_views])
        elif version == 1:
            for stmt in _SQLITE_V1_TO_V2:
                con.exec_driver_sql(stmt)
        if version < SCHEMA_VERSION:
            con.execute(schema_version.update().values(version=SCHEMA_VERSION))


def dispose_all() -> None:
    """Close every pooled connection (tests, and a server shutting down)."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
