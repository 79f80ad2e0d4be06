"""``python -m skyscript_viz index ROOT`` and ``info ROOT``: summaries on stdout, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import skyscript_viz.build as build_mod
from skyscript_viz.cli import main

REPO = Path(__file__).resolve().parents[1]
YEARS = [2016, 2017, 2018, 2019, 2020, 2021, 2022]
# images per source and year in the tiny root, worked out from TINY_RECORDS
TABLE = {
    "CH": [0, 0, 0, 3, 1, 1, 1],
    "DE": [0, 0, 0, 0, 2, 1, 0],
    "ES": [0, 0, 0, 0, 0, 0, 1],
    "FI": [0, 0, 0, 1, 0, 0, 0],
    "L8": [1, 0, 0, 0, 0, 0, 0],
    "S2": [0, 2, 0, 0, 0, 1, 0],
    "US": [1, 0, 2, 0, 1, 0, 1],
}


def _table_lines() -> list[str]:
    header = "source " + "".join(f"{y:>9}" for y in YEARS) + f"{'total':>11}"
    rows = [f"{src:<7}" + "".join(f"{n:>9,}" for n in counts) + f"{sum(counts):>11,}" for src, counts in TABLE.items()]
    return [header, *rows]


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skyscript_viz", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=180,
    )


def test_index_prints_the_summary(tmp_path: Path, tinykit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    assert main(["index", str(root), "--workers", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"index: {root.resolve() / '.skyscript_viz'}/gen-")
    assert out[1].startswith("20 images in ")
    assert out[1].endswith("parts read: [2, 3, 4], reused: -")
    assert out[2] == "merge: every part's rows written (no previous generation)"
    start = out.index("images per source and year")
    assert out[start + 1 : start + 9] == _table_lines()
    assert out[-1] == "no problems found"

    assert main(["index", str(root), "--workers", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "up to date: 20 images, nothing changed since the last build"
    assert out[out.index("images per source and year") + 1 :][:8] == _table_lines()

    st = (root / "images3.zip").stat()
    os.utime(root / "images3.zip", ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))
    assert main(["index", str(root), "--workers", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith("parts read: [3], reused: [2, 4]")
    assert out[2] == "merge: part(s) [3] patched into the previous generation's index"
    assert out[out.index("images per source and year") + 1 :][:8] == _table_lines()


def test_index_prints_problems_and_notes(tmp_path: Path, tinykit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "folder")
    (root / "meta2" / "a100_CH_19.pickle").unlink()
    (root / "images3" / "w600_US_16.jpg").unlink()
    (root / "images3" / "notes.txt").write_text("x")
    tinykit.write_store(root / "images2", "zip", {"ignored.jpg": b"x"})  # images2.zip next to images2/
    assert main(["index", str(root), "--workers", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "note: images2.zip ignored: images2 holds the same part" in out
    start = out.index("problems by kind")
    assert out[start + 1 :] == [
        f"  {'missing_image':<28}{1:>10,}",
        f"  {'missing_meta':<28}{1:>10,}",
        f"  {'unexpected_file':<28}{1:>10,}",
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nope", "does not exist"),
        (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", "is not a folder"),
        (lambda p: p, "holds no SkyScript parts"),
    ],
    ids=["missing", "file", "no-parts"],
)
def test_index_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str) -> None:
    root = make(tmp_path)
    assert main(["index", str(root), "--workers", "1"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and message in lines[0]
    assert captured.out == ""


def test_index_interrupted(
    tmp_path: Path, tinykit: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(build_mod, "_merge", interrupted)
    assert main(["index", str(root), "--workers", "1"]) == 130
    assert "run the same command again to continue" in capsys.readouterr().err


def test_info(tmp_path: Path, tinykit: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root")
    assert main(["info", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "python -m skyscript_viz index" in err[0]
    assert main(["index", str(root), "--workers", "1", "--index-dir", str(tmp_path / "idx")]) == 0
    capsys.readouterr()
    assert main(["info", str(root), "--index-dir", str(tmp_path / "idx")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"  {'images':<16}{20:>12,}" in out
    assert f"  {'sources':<16}{7:>12,}" in out
    assert f"  {'problems':<16}{0:>12,}" in out
    assert (
        "  subset top30_openai: Top 30% by CLIP (OpenAI) "
        "(dataframe/SkyScript_train_top30pct_filtered_by_CLIP_openai.csv)" in out
    )


def test_python_m_index(tmp_path: Path, tinykit: Any) -> None:
    root = tinykit.make_tiny_root(tmp_path / "root", "zip")
    proc = _run("index", str(root))  # default: 2 worker processes
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[1].startswith("20 images in ") and "parts read: [2, 3, 4]" in out[1]
    start = out.index("images per source and year")
    assert out[start + 1 : start + 9] == _table_lines()
    assert out[-1] == "no problems found"


def test_python_m_error(tmp_path: Path) -> None:
    proc = _run("index", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    expected = f"error: dataset root {str(tmp_path / 'nope')!r} does not exist"
    assert proc.stderr.strip().splitlines() == [expected]


def test_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err
