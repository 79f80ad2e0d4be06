"""A broken file never stops the build: each becomes a problem row naming it, the rest is indexed.

Every fault below once stopped (or hung, or crashed) the build with a traceback. The root's own path
holds a ``?`` and brackets, which DuckDB treats specially in paths.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import ImageIndex, build_index

REPO = Path(__file__).resolve().parents[1]
N_TINY = 20


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m skyscript_viz ARGS`` in a subprocess, killed after ``timeout`` s (a hang fails the
    test); the peak RSS of that process (and workers it waited for) is in ``.peak_bytes``."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(
            [sys.executable, "-m", "skyscript_viz", *args],
            cwd=REPO,
            stdout=out,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        assert p.returncode != -signal.SIGKILL, f"killed after {timeout} s: the build hung"
        out.seek(0)
        err.seek(0)
        proc = subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())
    proc.peak_bytes = usage.ru_maxrss * 1024  # type: ignore[attr-defined]
    return proc


def _problems(root: Path) -> dict[str, list[tuple[str, str]]]:
    """filepath -> [(kind, detail)] of the built index."""
    idx = ImageIndex.open(root)
    try:
        df = idx.problems(limit=100_000)
        out: dict[str, list[tuple[str, str]]] = {}
        for fp, kind, detail in zip(df["filepath"], df["kind"], df["detail"], strict=True):
            out.setdefault(str(fp), []).append((kind, detail))
        return out
    finally:
        idx.close()


def _n_images(root: Path) -> int:
    idx = ImageIndex.open(root)
    try:
        return idx.n_images
    finally:
        idx.close()


def _zip_with(path: Path, members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


@pytest.fixture
def root(tmp_path: Path, tinykit: Any) -> Path:
    return tinykit.make_tiny_root(tmp_path / "data?set [v1]" / "root")


# -- meta zips that are not (whole) zips ---------------------------------------------------------


def _truncated(b: bytes) -> bytes:
    return b[: len(b) // 2]


def _eocd_near_end(b: bytes) -> bytes:
    return b[: b.rfind(b"PK\x05\x06")] + b"PK\x05\x06\0\0"


_HTML_PAGE = b"<!doctype html><title>404 Not Found</title>\n" * 50


@pytest.mark.parametrize(
    ("store", "missing", "label", "damage", "reason"),
    [
        ("meta3.zip", "missing_meta", "truncated", _truncated, "no end-of-central-directory record"),
        ("meta3.zip", "missing_meta", "html", lambda b: _HTML_PAGE, "an HTML page"),
        ("meta3.zip", "missing_meta", "empty", lambda b: b"", "not a zip file (0 bytes"),
        ("meta3.zip", "missing_meta", "eocd near the end", _eocd_near_end, "no end-of-central-directory record"),
        # the images, twin of the metas: a download cut short or an HTML page saved as images3.zip
        ("images3.zip", "missing_image", "truncated", _truncated, "no end-of-central-directory record"),
        ("images3.zip", "missing_image", "html", lambda b: _HTML_PAGE, "an HTML page"),
    ],
)
def test_damaged_zip_is_reported_and_the_rest_indexed(
    root: Path, tinykit: Any, store: str, missing: str, label: str, damage: Any, reason: str
) -> None:
    path = root / store
    path.write_bytes(damage(path.read_bytes()))
    report = build_index(root)
    assert report.n_images == N_TINY, label
    probs = _problems(root)
    assert any(k == "damaged_zip" and reason in d for k, d in probs[store]), probs.get(store)
    part3 = {f"images3/{r['stem']}.jpg" for r in tinykit.records if r["part"] == 3}
    assert {fp for fp, ps in probs.items() if any(k == missing for k, _ in ps)} == part3
    assert not any(fp.startswith(("images2/", "images4/")) for fp in probs)


def test_invalid_utf8_member_name_is_reported(root: Path, tinykit: Any) -> None:
    meta = root / "meta3.zip"
    with zipfile.ZipFile(meta) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["\u00e9x_CH_19.pickle"] = pickle.dumps({"box": None}, protocol=4)
    raw = _zip_with(meta, members)
    meta.write_bytes(raw.replace("\u00e9x_CH".encode(), b"\xff\xfex_CH"))
    report = build_index(root)
    assert report.n_images == N_TINY
    probs = _problems(root)
    bad = [(fp, ps) for fp, ps in probs.items() if fp.startswith("meta3.zip/")]
    assert len(bad) == 1 and bad[0][1][0][0] == "unreadable_file" and "not valid UTF-8" in bad[0][1][0][1]


# -- files that are not regular files inside the root -------------------------------------------


def test_links_fifos_and_devices_are_reported_never_read(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.pickle"
    secret.write_bytes(b"SECRET-BYTES" * 10)
    meta2 = root / "meta2"
    (meta2 / "a100_CH_19.pickle").unlink()
    (meta2 / "a100_CH_19.pickle").symlink_to(secret)  # leads out of the root
    (meta2 / "a102_CH_21.pickle").unlink()
    (meta2 / "a102_CH_21.pickle").symlink_to("/dev/zero")  # would be read until memory runs out
    os.mkfifo(meta2 / "x_fifo.pickle")  # opening it blocks forever
    (root / "images2" / "a999_CH_19.jpg").symlink_to(root / "images2" / "gone.jpg")  # dangling
    (meta2 / "w200_CH_19.pickle").rename(root / "w200.pickle")
    (meta2 / "w200_CH_19.pickle").symlink_to(root / "w200.pickle")  # inside the root: read

    proc = _cli("index", str(root), "--workers", "1", timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "SECRET" not in proc.stdout + proc.stderr
    probs = _problems(root)
    flat = {(fp, k) for fp, ps in probs.items() for k, _ in ps}
    assert ("meta2/a100_CH_19.pickle", "unreadable_file") in flat
    assert ("meta2/a102_CH_21.pickle", "unreadable_file") in flat
    assert ("meta2/x_fifo.pickle", "unreadable_file") in flat
    assert ("images2/a999_CH_19.jpg", "unreadable_file") in flat
    details = " ".join(d for ps in probs.values() for _, d in ps)
    assert "outside the dataset root" in details and "dangling" in details and "FIFO" in details
    assert "SECRET" not in details
    assert ("images2/w200_CH_19.jpg", "missing_meta") not in flat  # the link inside the root was read
    assert _n_images(root) == N_TINY


# -- pickles and members that are bombs ----------------------------------------------------------


def test_pickle_bombs_are_refused_and_memory_stays_bounded(root: Path) -> None:
    meta2 = root / "meta2"
    (meta2 / "a100_CH_19.pickle").write_bytes(b"\x80\x04)" + b"\x85" * 300_000 + b".")  # 300,000 deep
    (meta2 / "a102_CH_21.pickle").write_bytes(b"\x80\x04Nr\x00\x00\x00\x10.")  # a 4 GB memo in 9 bytes
    meta3 = root / "meta3.zip"
    with zipfile.ZipFile(meta3, "a", zipfile.ZIP_DEFLATED) as zf:  # 1 MB that inflates to 1 GiB
        with zf.open("a9_US_18.pickle", "w", force_zip64=True) as f:
            chunk = b"\0" * (16 << 20)
            for _ in range(64):
                f.write(chunk)
    proc = _cli("index", str(root), "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.peak_bytes < 1 << 30, f"the build peaked at {proc.peak_bytes / 2**30:.1f} GiB"  # type: ignore[attr-defined]
    probs = _problems(root)
    assert any(k == "unsafe_meta" and "1,000 deep" in d for k, d in probs["images2/a100_CH_19.jpg"])
    assert any(k == "unsafe_meta" and "memo slot" in d for k, d in probs["images2/a102_CH_21.jpg"])
    assert any(k == "corrupt_meta" and "over the" in d for k, d in probs["images3/a9_US_18.jpg"])
    assert _n_images(root) == N_TINY + 1


# -- caption CSVs and the CLI's outcome ----------------------------------------------------------


def test_seventy_caption_csvs(root: Path) -> None:
    for i in range(70):
        (root / "dataframe" / f"extra_{i:02d}.csv").write_text(
            f"filepath,title\nimages2/a100_CH_19.jpg,caption from csv {i}\n"
        )
    report = build_index(root)
    assert report.n_images == N_TINY
    idx = ImageIndex.open(root)
    try:
        assert len(idx.subsets) == 63  # one bit each in a 64-bit mask; the rest still give captions
        assert any("caption CSVs" in n for n in idx.info.get("notes", []))
        rec = idx.get("images2/a100_CH_19.jpg")
        assert rec is not None and rec.row["title"] == "a school building"
    finally:
        idx.close()


def test_every_csv_row_without_image_is_reported_once(root: Path) -> None:
    """One problem per CSV row whose image is missing: a path twice in one CSV is two rows, and CSVs
    past the 63rd (no subset bit) still report theirs."""
    for i in range(66):
        rows = "images2/zz_gone_CH_19.jpg,gone,x\n" * (2 if i == 3 else 1)
        (root / "dataframe" / f"extra_{i:02d}.csv").write_text("filepath,title,title_multi_objects\n" + rows)
    build_index(root)
    idx = ImageIndex.open(root)
    try:
        df = idx.problems(limit=10_000)
        gone = df[(df["kind"] == "csv_row_without_image") & (df["filepath"] == "images2/zz_gone_CH_19.jpg")]
        origins = sorted(gone["origin"])
        assert origins == sorted([f"dataframe/extra_{i:02d}.csv" for i in range(66)] + ["dataframe/extra_03.csv"])
    finally:
        idx.close()


def test_cli_exit_2_with_one_line_when_nothing_could_be_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "images2.zip").write_bytes(b"<html>503</html>")
    (root / "meta2.zip").write_bytes(b"")
    proc = _cli("index", str(root), "--workers", "1")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    progress = ("part 2:", "merge:")  # the bars
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith(progress)]
    assert len(lines) == 1 and lines[0].startswith("error: nothing could be read"), proc.stderr
    assert "images2.zip: not a zip file" in lines[0] and "meta2.zip: not a zip file (0 bytes" in lines[0]


def test_cli_exit_2_with_one_line_for_caption_csvs_without_parts(tmp_path: Path) -> None:
    """A root holding only caption CSVs (the meta zips not downloaded yet) says what is missing."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "SkyScript_val_5K_filtered_by_CLIP_openai.csv").write_text(
        "filepath,title,title_multi_objects\nimages2/a1_CH_19.jpg,a pitch,a pitch\n", encoding="utf-8"
    )
    proc = _cli("index", str(root), "--workers", "1")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("error: ") and "no image or meta parts" in lines[0], proc.stderr
