"""Moving verdicts and saved views between stores (SQLite <-> PostgreSQL) through a JSON Lines file.

The file is lossless (unlike the spreadsheet CSV, nothing is defused): one object per line, a
``"kind"`` of ``"verdict"`` or ``"view"``. Each verdict carries its ``uid``, so importing the same
file twice, or into a store that already has some of it, adds each verdict once. A saved view whose
name is taken by a different view in the target is kept as it is there and reported, never replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from .reviewdb import guarded, saved_views, verdicts
from .reviews import ReviewStore
from .vocab import VERDICTS

__all__ = ["ImportReport", "export_reviews", "import_reviews"]

_VERDICT_FIELDS = ("uid", "filepath", "reviewer", "verified", "verdict", "note", "audit", "created")
_VIEW_FIELDS = ("name", "query", "created", "owner", "verified")
_BATCH = 1000


@dataclass
class ImportReport:
    """What an import did: counts, and the lines it could not use (line number: reason)."""

    verdicts_added: int = 0
    verdicts_present: int = 0
    views_added: int = 0
    views_present: int = 0
    views_conflicting: list[str] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)


def export_reviews(store: ReviewStore, out: IO[str]) -> tuple[int, int]:
    """Write every verdict (oldest first) and saved view of ``store``; returns (verdicts, views)."""
    n_verdicts = n_views = 0
    with guarded(store._engine) as con:
        for row in con.execute(sa.select(*(verdicts.c[f] for f in _VERDICT_FIELDS)).order_by(verdicts.c.seq)):
            out.write(
                json.dumps({"kind": "verdict", **dict(zip(_VERDICT_FIELDS, row, strict=True))}, ensure_ascii=False)
                + "\n"
            )
            n_verdicts += 1
        for row in con.execute(sa.select(*(saved_views.c[f] for f in _VIEW_FIELDS)).order_by(saved_views.c.name)):
            out.write(
                json.dumps({"kind": "view", **dict(zip(_VIEW_FIELDS, row, strict=True))}, ensure_ascii=False) + "\n"
            )
            n_views += 1
    return n_verdicts, n_views


def _verdict_row(obj: dict[str, Any]) -> dict[str, Any]:
    """A verdict line checked and typed like ReviewStore.add would; ValueError says what is wrong."""
    if obj.get("verdict") not in VERDICTS:
        raise ValueError(f"verdict {obj.get('verdict')!r} is not one of {', '.join(VERDICTS)}")
    for key in ("uid", "filepath", "reviewer"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise ValueError(f"{key} missing or not text")
    audit = obj.get("audit")
    return {
        "uid": obj["uid"][:32],
        "filepath": obj["filepath"],
        "reviewer": obj["reviewer"].strip()[:100],
        "verified": bool(obj.get("verified")),
        "verdict": obj["verdict"],
        "note": str(obj.get("note") or "")[:2000],
        "audit": None if audit is None else str(audit),
        "created": float(obj["created"]),
    }


def _view_row(obj: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(obj.get("name"), str) or not obj["name"].strip() or not isinstance(obj.get("query"), str):
        raise ValueError("a view needs a name and a query")
    return {
        "name": obj["name"].strip()[:120],
        "query": obj["query"],
        "created": float(obj["created"]),
        "owner": str(obj.get("owner") or ""),
        "verified": bool(obj.get("verified")),
    }


def import_reviews(store: ReviewStore, path: Path) -> ImportReport:
    """Add the verdicts and views of a file written by export_reviews to ``store`` (see the module doc)."""
    report = ImportReport()
    pending: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                kind = obj.get("kind") if isinstance(obj, dict) else None
                if kind == "verdict":
                    pending.append(_verdict_row(obj))
                elif kind == "view":
                    _add_view(store, _view_row(obj), report)
                else:
                    raise ValueError(f"kind {kind!r} is neither verdict nor view")
            except (ValueError, TypeError, KeyError) as exc:
                report.bad_lines.append(f"line {lineno}: {exc}")
            if len(pending) >= _BATCH:
                _add_verdicts(store, pending, report)
                pending = []
    _add_verdicts(store, pending, report)
    return report


def _add_verdicts(store: ReviewStore, rows: list[dict[str, Any]], report: ImportReport) -> None:
    """Insert the rows whose uid the store lacks, in file order, in one transaction."""
    if not rows:
        return
    store._writable()
    with guarded(store._engine, write=True) as con:
        have = {
            u for (u,) in con.execute(sa.select(verdicts.c.uid).where(verdicts.c.uid.in_([r["uid"] for r in rows])))
        }
        new, seen = [], set(have)
        for r in rows:
            if r["uid"] not in seen:
                seen.add(r["uid"])
                new.append(r)
        if new:
            con.execute(verdicts.insert(), new)
    report.verdicts_added += len(new)
    report.verdicts_present += len(rows) - len(new)


def _add_view(store: ReviewStore, row: dict[str, Any], report: ImportReport) -> None:
    store._writable()
    with guarded(store._engine, write=True) as con:
        old = con.execute(sa.select(saved_views.c.query).where(saved_views.c.name == row["name"])).scalar()
        if old is None:
            con.execute(saved_views.insert().values(**row))
            report.views_added += 1
        elif old == row["query"]:
            report.views_present += 1
        else:
            report.views_conflicting.append(row["name"])
