"""Verdict widgets, the verdict filter, and the audit walk-through (its sample and estimate: skyscript_viz.audit)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from .. import audit as audits
from ..audit import Audit
from ..errors import SkyscriptVizError
from ..images import ImageResult
from ..index import ImageRecord
from ..query import Filters
from ..reviewdb import resolve_db_url
from ..reviews import (
    Estimate,
    ReviewStore,
    open_review_store,
    unavailable_store,
)
from ..text import md_code, md_text
from ..vocab import VERDICTS
from . import keys
from .data import Dataset

T = TypeVar("T")
REVIEWER = "reviewer"
VERDICT_FILTER = keys.VERDICTS
AUDIT = "audit"  # dict: id, ids (list), mode, k/n, seed, pos


def _secrets() -> dict[str, Any]:
    """secrets.toml as a dict ({} when there is none)."""
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return {}


def _db_from_args() -> str | None:
    """``--db`` after ``--`` on the streamlit command line."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    db: str | None = parser.parse_known_args(sys.argv[1:])[0].db
    return db


def _open(ds: Dataset) -> tuple[ReviewStore, str | None]:
    try:
        setting = resolve_db_url(ds.index.index_dir, cli=_db_from_args(), secrets=_secrets())
    except SkyscriptVizError as exc:  # a bad URL setting: say so, and keep the pages working
        return unavailable_store(f"Verdicts are unavailable: {exc}"), f"Verdicts are unavailable: {exc}"
    return open_review_store(setting.url)  # one engine (and pool) per URL and process, kept by reviewdb


def store(ds: Dataset) -> ReviewStore:
    """The verdict database of this dataset (shared by every session of this server), or a stand-in that
    shows nothing and refuses writes when it cannot be opened (the notice says why)."""
    return _open(ds)[0]


def safe_read(ds: Dataset, what: Callable[[ReviewStore], T], default: T) -> T:
    """A read from the verdict database; when it fails (a server gone mid-session), a notice and ``default``."""
    try:
        return what(store(ds))
    except SkyscriptVizError as exc:
        st.sidebar.warning(f"Verdicts are unavailable: {md_text(str(exc))}", icon="🔒")
        return default


def store_notice(ds: Dataset) -> None:
    """Say so when verdicts are read-only or unavailable, instead of failing the page."""
    notice = _open(ds)[1]
    if notice:
        st.sidebar.warning(md_text(notice), icon="🔒")


def auth_configured() -> bool:
    """Whether ``[auth]`` is set in secrets.toml (then reviewers sign in with OIDC)."""
    return bool(_secrets().get("auth"))


def identity() -> tuple[str, bool]:
    """Who gives verdicts in this session: (signed-in e-mail or name, True) or (typed name, False)."""
    if auth_configured():
        if getattr(st.user, "is_logged_in", False):
            who = st.user.get("email") or st.user.get("preferred_username") or st.user.get("sub") or ""
            return str(who), True
        return "", True
    return str(st.session_state.get(REVIEWER, "")).strip(), False


def reviewer_box() -> str:
    """Sign in (with ``[auth]``) or type a name (kept for the session, marked unverified)."""
    if auth_configured():
        who, _ = identity()
        if who:
            st.sidebar.caption(f"Signed in as {md_code(who)}")
            st.sidebar.button("Sign out", key="logout", on_click=st.logout)
        else:
            st.sidebar.button("Sign in to give verdicts", key="login", on_click=st.login)
        return who
    name = st.sidebar.text_input("Your name (for verdicts)", key=REVIEWER, placeholder="e.g. Ada").strip()
    if name:
        st.sidebar.caption("Unverified: anyone can type a name. Verdicts record it as unverified.")
    return name


def verdict_widget() -> None:
    """The "Reviewed as" multiselect (its value is read by apply_verdicts, also before it is drawn)."""
    st.sidebar.multiselect(
        "Reviewed as",
        list(VERDICTS),
        key=VERDICT_FILTER,
        format_func=VERDICTS.__getitem__,
        help="Only images whose latest verdict (by anyone) is one of these",
    )


def apply_verdicts(ds: Dataset, f: Filters) -> Filters:
    """Filters narrowed to images whose current verdict is one of those picked in "Reviewed as"."""
    picked = st.session_state.get(VERDICT_FILTER) or []
    if not picked:
        return f
    return replace(f, ids=ds.index.ids_for(safe_read(ds, lambda s: s.filepaths_with(picked), [])))


def verdict_form(ds: Dataset, rec: ImageRecord, *, key: str, audit: str | None = None, compact: bool = False) -> bool:
    """Buttons to give a verdict on one image; returns True when one was recorded this run."""
    name, verified = identity()
    if store(ds).read_only:
        st.caption("Verdicts cannot be given here now (see the notice in the sidebar).")
        return False
    note = "" if compact else st.text_input("Note (optional)", key=f"{key}_note")
    # one wrapping row of buttons sized to their labels: five equal columns in a narrow panel cut
    # the labels to "G.", "B.", "B." (which "B." is "Bad caption"?)
    buttons = st.container(horizontal=True, gap="small")
    for code, label in VERDICTS.items():
        if buttons.button(
            label,
            key=f"{key}_{code}",
            width="content",
            disabled=not name,
            type="primary" if code == "good" else "secondary",
        ):
            try:
                store(ds).add(rec.filepath, code, reviewer=name, note=note, audit=audit, verified=verified)
            except SkyscriptVizError as exc:
                st.error(md_text(exc))
                return False
            st.toast(f"Saved: {label} for {md_code(rec.filepath)}")
            return True
    if not name:
        st.caption(
            "Sign in (sidebar) to give verdicts." if verified else "Type your name in the sidebar to give verdicts."
        )
    return False


def verdict_history(ds: Dataset, rec: ImageRecord) -> None:
    """Every verdict on this image, oldest first: a plain HTML table (a handful of rows, readable by
    screen readers and find-in-page, unlike the canvas of st.dataframe). st.table renders each cell as
    Markdown, and names and notes are written by visitors: every cell goes through ``md_text``."""
    hist = safe_read(ds, lambda s: s.history(rec.filepath), pd.DataFrame())
    if hist.empty:
        st.caption("No verdict yet.")
        return
    table = pd.DataFrame(
        {
            "when (UTC)": pd.to_datetime(hist["created"], unit="s").dt.strftime("%Y-%m-%d %H:%M"),
            "reviewer": [
                md_text(r if v else f"{r} (unverified)")
                for r, v in zip(hist["reviewer"], hist["verified"], strict=True)
            ],
            "verdict": hist["verdict"].map(VERDICTS).fillna(hist["verdict"]).map(md_text),
            "note": hist["note"].map(md_text),
        }
    )
    st.table(table, hide_index=True)


class DetailPanels(Protocol):
    """How audit_step draws an image: the ui.detail module, passed in by the page."""

    def image_panel(self, ds: Dataset, rec: ImageRecord, img: ImageResult) -> None: ...
    def captions_panel(self, rec: ImageRecord) -> None: ...
    def tags_panel(self, rec: ImageRecord) -> None: ...


def _audit_verdicts(ds: Dataset, audit_name: str) -> pd.DataFrame:
    """The verdicts given in one audit (none when the verdict database cannot be read)."""
    return safe_read(ds, lambda s: s.current(audit=audit_name), unavailable_store("").current())


def audit_estimate(ds: Dataset, audit: Audit) -> Estimate:
    """Error rate (verdict other than good) over the audit's sample so far, with a 95 % interval."""
    return audits.estimate(audit, _audit_verdicts(ds, audit["id"]))


def estimate_line(est: Estimate) -> str:
    if est.n == 0:
        return "No verdicts in this audit yet."
    return (
        f"**Error rate about {100 * est.rate:.1f}% ({100 * est.low:.1f}–{100 * est.high:.1f}%)** "
        f"from {est.n:,} judged images ({est.errors:,} not good). Method: {md_text(est.method)}."
    )


def start_audit(ds: Dataset, f: Filters, mode: str, size: int, seed: int) -> Audit:
    """Draw (or redraw: it is deterministic) an audit sample, resumed at its first image without a verdict."""
    audit = audits.draw_sample(ds.index, f, mode, size, seed)
    audit["pos"] = audits.resume_at(audit["rows"], _audit_verdicts(ds, audit["id"])["filepath"])
    return audit


def audit_step(ds: Dataset, audit: Audit, detail: DetailPanels) -> None:
    """Show the running estimate and the current image with verdict buttons (a verdict moves on)."""
    rows = audit["rows"]
    if not rows:
        st.info(
            "No image matches the current filters, so there is nothing to sample. Widen the filters "
            "and start the audit again."
        )
        return
    est = audit_estimate(ds, audit)
    st.markdown(estimate_line(est))
    st.caption(f"Audit {md_code(audit['id'])} · {md_text(audit['mode'])} design · sample of {len(rows):,}")
    pos = int(audit["pos"])
    st.progress(min(1.0, pos / max(1, len(rows))), text=f"{min(pos, len(rows)):,} / {len(rows):,} judged")
    nav = st.columns([1, 1, 4])
    if nav[0].button("◀ Back", key="audit_back", disabled=pos <= 0):
        audit["pos"] = pos - 1
        st.rerun()
    if nav[1].button("Skip ▶", key="audit_skip", disabled=pos >= len(rows)):
        audit["pos"] = pos + 1
        st.rerun()
    if pos >= len(rows):
        st.success("Audit complete. Verdicts can be exported from the Quality page or below.")
        data = safe_read(ds, lambda s: s.export_csv(), None)
        if data is not None:
            st.download_button("Download all verdicts (CSV)", data, "verdicts.csv", "text/csv", key="audit_export")
        return
    rec = ds.index.get(int(rows[pos]["id"]))
    if rec is None:
        audit["pos"] = pos + 1
        st.rerun()
        return
    left, right = st.columns([3, 2])
    with left:
        img = ds.images.image(rec.row)
        detail.image_panel(ds, rec, img)
    with right:
        detail.captions_panel(rec)
        detail.tags_panel(rec)
        if verdict_form(ds, rec, key=f"audit_{pos}", audit=str(audit["id"])):
            audit["pos"] = pos + 1
            st.rerun()
