"""Settings: one reader of the environment, with messages that say how to fix a bad value."""

from __future__ import annotations

import pytest

from skyscript_viz.errors import SettingsError
from skyscript_viz.settings import Settings, current


def test_defaults_when_nothing_is_set() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert repr(s) == "Settings()"


def test_values_are_read_and_blank_means_unset() -> None:
    s = Settings.from_env(
        {
            "SKYSCRIPT_ROOT": "/data/SkyScript",
            "SKYSCRIPT_CACHE": "  ",
            "SKYSCRIPT_REMOTE_TIMEOUT": "2.5",
            "SKYSCRIPT_VIZ_TIMINGS": "1",
            "SKYSCRIPT_DB": "postgresql://u@h/db",
        }
    )
    assert (s.root, s.cache, s.remote_timeout, s.timings, s.db) == (
        "/data/SkyScript",
        None,
        2.5,
        True,
        "postgresql://u@h/db",
    )
    assert "root='/data/SkyScript'" in repr(s) and "cache" not in repr(s)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SKYSCRIPT_REMOTE_TIMEOUT", "soon"),
        ("SKYSCRIPT_REMOTE_TIMEOUT", "-1"),
        ("SKYSCRIPT_REMOTE_CHUNK", "0"),
        ("SKYSCRIPT_REMOTE_RECHECK", "nan"),
    ],
)
def test_bad_values_name_the_variable_and_the_fix(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name) as info:
        Settings.from_env({name: value})
    assert "unset it or give e.g." in str(info.value)


def test_current_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYSCRIPT_S3_ENDPOINT", "http://127.0.0.1:9000")
    assert current().s3_endpoint == "http://127.0.0.1:9000"


def test_only_the_settings_module_reads_the_environment() -> None:
    """Every SKYSCRIPT_* variable is read through settings.py (remotecli may set one for its own process)."""
    import re
    from pathlib import Path

    lib = Path(__file__).resolve().parent.parent / "skyscript_viz"
    readers = [
        p.relative_to(lib).as_posix()
        for p in lib.rglob("*.py")
        if re.search(r"os\.environ\.get|os\.getenv|os\.environ\[[^]]+\](?!\s*=)", p.read_text())
    ]
    assert readers == []  # settings.py reads a mapping it is given (default: os.environ)
