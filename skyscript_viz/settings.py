"""Every setting that comes from the environment, read and checked in one place.

Nothing else in the library reads ``os.environ``. Call :func:`current` where a value is needed: it
reads the environment each time (cheap), so tests and the CLI can change a variable and be heard.

==========================  =====================================================  ==============
variable                    meaning                                                default
==========================  =====================================================  ==============
SKYSCRIPT_ROOT              dataset root (folder or URL) the app opens             the demo sample
SKYSCRIPT_CACHE             cache folder for remote roots                          user cache dir
SKYSCRIPT_DB                reviews database URL (``postgresql://…``)              SQLite by index
SKYSCRIPT_REMOTE_TIMEOUT    seconds one remote request may take                    30
SKYSCRIPT_REMOTE_CHUNK      bytes per ranged download request                      8 MiB
SKYSCRIPT_REMOTE_RECHECK    seconds before a remote root is checked for changes    300
SKYSCRIPT_S3_ENDPOINT       an S3-compatible endpoint for ``s3://`` roots          AWS
SKYSCRIPT_VIZ_TIMINGS       any value: log the index build's step timings          off
==========================  =====================================================  ==============
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from .errors import SettingsError

__all__ = ["Settings", "current"]

DEFAULT_REMOTE_TIMEOUT = 30.0
DEFAULT_REMOTE_CHUNK = 8 * 1024 * 1024
DEFAULT_REMOTE_RECHECK = 300.0


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _show(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _number(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number; unset it or give e.g. {name}={_show(default)}") from None
    if not low <= value <= high:
        raise SettingsError(
            f"{name}={raw!r} is outside {_show(low)}..{_show(high)}; unset it or give e.g. {name}={_show(default)}"
        )
    return value


@dataclass(frozen=True)
class Settings:
    """The environment's settings, checked; ``repr`` shows what is set."""

    root: str | None = None
    cache: str | None = None
    db: str | None = None
    remote_timeout: float = DEFAULT_REMOTE_TIMEOUT
    remote_chunk: int = DEFAULT_REMOTE_CHUNK
    remote_recheck: float = DEFAULT_REMOTE_RECHECK
    s3_endpoint: str | None = None
    timings: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: the process environment)."""
        e = os.environ if env is None else env
        return cls(
            root=_text(e, "SKYSCRIPT_ROOT"),
            cache=_text(e, "SKYSCRIPT_CACHE"),
            db=_text(e, "SKYSCRIPT_DB"),
            remote_timeout=_number(e, "SKYSCRIPT_REMOTE_TIMEOUT", DEFAULT_REMOTE_TIMEOUT, low=0.1, high=3600),
            remote_chunk=int(_number(e, "SKYSCRIPT_REMOTE_CHUNK", DEFAULT_REMOTE_CHUNK, low=1, high=2**31)),
            remote_recheck=_number(e, "SKYSCRIPT_REMOTE_RECHECK", DEFAULT_REMOTE_RECHECK, low=0, high=10**7),
            s3_endpoint=_text(e, "SKYSCRIPT_S3_ENDPOINT"),
            timings=_text(e, "SKYSCRIPT_VIZ_TIMINGS") is not None,
        )

    def __repr__(self) -> str:
        changed = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if getattr(self, f.name) != f.default]
        return f"Settings({', '.join(changed)})"


def current() -> Settings:
    """The settings as the environment gives them now."""
    return Settings.from_env()
