"""Opening dataset files without trusting them: regular files only, never blocking, bounded reads.

A download can hold a FIFO named ``x.pickle`` (a plain ``open`` waits forever), a link to
``/dev/zero`` (a plain ``read`` never ends) or a link leading out of the dataset root. Every file the
build or the app reads from a root goes through :func:`open_regular`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TextIO

__all__ = ["NotRegularFileError", "check_link", "open_regular", "open_text", "read_regular"]


class NotRegularFileError(OSError):
    """Raised for a path that is not a regular file inside the root (FIFO, device, link out, folder)."""


def check_link(path: Path, *roots: Path) -> str | None:
    """Why the symlink ``path`` must not be read (dangling, leads out of every one of ``roots``, not a
    regular file), or None. The target itself is never opened here."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a link loop on older Pythons
        return "a dangling symbolic link; not read"
    if not any(target == r or r in target.parents for r in (r.resolve() for r in roots)):
        return "a symbolic link leading outside the dataset root; not read"
    if not target.is_file():
        return "a symbolic link to something that is not a regular file; not read"
    return None


def open_regular(path: Path | str) -> int:
    """A read-only descriptor for ``path``, refused unless it is a regular file; never blocks.

    O_NONBLOCK makes opening a FIFO return at once (then fstat refuses it); the caller closes the fd.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(st.st_mode)
                else "a device"
                if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a folder"
                if stat.S_ISDIR(st.st_mode)
                else "a special file"
            )
            raise NotRegularFileError(f"{os.fspath(path)!r} is {kind}, not a regular file; not read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_bounded(path: Path | str, max_size: int) -> tuple[int, int]:
    """A descriptor of the regular file ``path`` and its size, refused over ``max_size`` bytes."""
    fd = open_regular(path)
    size = os.fstat(fd).st_size
    if size > max_size:
        os.close(fd)
        raise NotRegularFileError(
            f"{os.fspath(path)!r} is {size:,} bytes, over the {max_size:,}-byte limit for this kind of file; not read"
        )
    return fd, size


def read_regular(path: Path | str, max_size: int) -> bytes:
    """The whole of a regular file no larger than ``max_size`` bytes (else NotRegularFileError)."""
    fd, size = _open_bounded(path, max_size)
    try:
        data = os.pread(fd, size + 1, 0)
        if len(data) > max_size:  # it grew meanwhile
            raise NotRegularFileError(f"{os.fspath(path)!r} grew past {max_size:,} bytes while read")
        return data
    finally:
        os.close(fd)


def open_text(path: Path | str, max_size: int) -> TextIO:
    """A regular file no larger than ``max_size`` bytes opened as UTF-8 text (bad bytes replaced, newlines
    kept for the csv module); else NotRegularFileError. The caller closes it."""
    fd, _ = _open_bounded(path, max_size)
    try:
        return open(fd, encoding="utf-8", errors="replace", newline="")  # the caller closes it
    except BaseException:
        os.close(fd)
        raise
