"""Make a folder really read-only for a test, also when the tests run as root (who ignores file modes).

As root the folder is bind-mounted read-only onto itself (writes fail with EROFS); otherwise its
mode bits are cleared. Either way, the folder is writable again when the context ends.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["read_only_folder"]


@contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """``with read_only_folder(d):`` nothing can create, change or delete files in ``d``."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True)
            yield path
        finally:
            subprocess.run(["umount", "--lazy", str(path)], check=True)  # the app may still hold files open
        return
    modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
    for p, mode in modes.items():
        p.chmod(mode & 0o555)
    try:
        yield path
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
