"""One build at a time per index folder, across processes (a lock file) and threads (a lock).

Two sessions clicking "Build the index now", or two CLI runs, used to race on the same temporary
names and on CURRENT; now the second waits for the first (then usually finds the index up to date),
or, asked not to wait, says which process holds the lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexBuildError

__all__ = ["LOCK_FILE", "build_lock"]

LOCK_FILE = "build.lock"  # holds the pid of the build that has the lock
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return "?"
    return text if text.isdigit() else "?"


def _busy(path: Path) -> str:
    return f"a build of this index is already running (pid {_holder(path)})"


@contextmanager
def build_lock(index_dir: Path, *, wait: bool = True, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the build lock of ``index_dir``; waits for another build (``on_wait`` is told why) or,
    with ``wait=False``, raises IndexBuildError naming the pid of the build that holds it."""
    path = index_dir / LOCK_FILE
    with _GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(str(index_dir.resolve()), threading.Lock())
    if not thread_lock.acquire(blocking=False):
        if not wait:
            raise IndexBuildError(_busy(path))
        if on_wait is not None:
            on_wait(f"waiting: {_busy(path)}")
        thread_lock.acquire()
    try:
        try:
            import fcntl
        except ImportError:  # not POSIX: the thread lock is all there is
            yield
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    raise IndexBuildError(_busy(path)) from None
                if on_wait is not None:
                    on_wait(f"waiting: {_busy(path)}")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the lock; the file stays (removing it would race with a waiter)
    finally:
        thread_lock.release()
