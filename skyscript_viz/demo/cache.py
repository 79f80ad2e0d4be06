"""The cached demo root: generated once per machine, moved into place atomically, safe under races."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from .manifest import DEMO_VERSION, is_demo_root


def demo_root(cache_dir: Path | None = None) -> Path:
    """The cached demo dataset root, generated on first use.

    Default location: ``platformdirs.user_cache_dir("skyscript_viz")/demo-v{DEMO_VERSION}``.  The
    dataset is generated into a temporary sibling folder and moved into place with ``os.rename``, so a
    killed generation never leaves a half dataset at the final path; if two processes race, the loser
    discards its copy and returns the winner's.
    """
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("skyscript_viz"))
    base = Path(cache_dir)
    final = base / f"demo-v{DEMO_VERSION}"
    if is_demo_root(final):
        return final
    base.mkdir(parents=True, exist_ok=True)
    _clean_stale_tmp(base)
    tmp = Path(tempfile.mkdtemp(prefix=f".demo-v{DEMO_VERSION}-tmp-", dir=base))
    try:
        # looked up on the package at call time, so a caller (or test) can substitute it
        from . import generate

        generate(tmp)
        try:
            os.rename(tmp, final)  # atomic; also replaces an empty leftover directory
        except OSError:
            if is_demo_root(final):  # another process won the race
                return final
            # something else (e.g. an old, unmarked copy) is in the way: move it aside, then retry
            aside = base / f".demo-v{DEMO_VERSION}-stale-{os.getpid()}-{time.time_ns()}"
            os.rename(final, aside)
            shutil.rmtree(aside, ignore_errors=True)
            try:
                os.rename(tmp, final)
            except OSError:
                if not is_demo_root(final):
                    raise
        return final
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _clean_stale_tmp(base: Path, max_age_s: float = 3600.0) -> None:
    """Remove temporary generation folders left by killed processes (older than ``max_age_s``)."""
    now = time.time()
    for p in base.glob(".demo-v*-tmp-*"):
        try:
            if now - p.stat().st_mtime > max_age_s:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass
