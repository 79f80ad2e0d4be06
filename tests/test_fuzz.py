"""Random bytes at the readers of untrusted input: link parameters, benchmark CSVs, ``remote.json``, meta
pickles (safepickle) and a remote server's replies. Each either reads the input or reports it with its
own error; nothing else escapes, and memory stays bounded by the input. Bounded: a few seconds each.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from skyscript_viz import Filters, ImageIndex, build_index, remote
from skyscript_viz.benchmarks import read_set_csv
from skyscript_viz.images import ImageStore
from skyscript_viz.safepickle import safe_loads
from skyscript_viz.state import PARAM_KEYS, parse_params
from tests.remote_server import RangeServer

FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FAST
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(PARAM_KEYS), st.text(max_size=5)),
        st.one_of(st.text(max_size=300), st.lists(st.text(max_size=50), max_size=60)),
    )
)
def test_link_parameters_never_raise(params: dict[str, str | list[str]]) -> None:
    state, notices = parse_params(params, known_sources=["CH", "US"], known_subsets=["top30_openai"])
    assert len(state.filters.tags) <= 20
    assert all(len(n) < 600 for n in notices)


@FAST
@given(st.binary(max_size=4000), st.sampled_from(["label", None]))
def test_benchmark_csv_of_random_bytes(tmp_path: Path, data: bytes, required: str | None) -> None:
    path = tmp_path / "set.csv"
    path.write_bytes(b"FilePath,Label,title\n" + data)
    df, problems = read_set_csv(path, required)
    assert "filepath" in df.columns
    assert all(isinstance(p, str) for p in problems)


@FAST
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        ).map(lambda v: __import__("json").dumps({"url": v}).encode()),
    )
)
def test_remote_json_of_random_bytes_is_no_cache_root(tmp_path: Path, data: bytes) -> None:
    (tmp_path / remote.MANIFEST).write_bytes(data)
    manifest = remote.load_manifest(tmp_path)
    assert manifest is None or isinstance(manifest, dict)
    assert remote.is_cache_root(tmp_path) is False


@settings(max_examples=30, deadline=None, database=None)
@given(
    st.one_of(
        st.binary(max_size=3000),
        # a valid pickle header and opcodes, then noise: gets deeper into the unpickler
        st.binary(max_size=300).map(lambda b: b"\x80\x04\x95" + b[:8] + b"]\x94(" + b[8:]),
    )
)
def test_meta_pickle_of_random_bytes(data: bytes) -> None:
    """Only plain data comes out, and every failure is an Exception the build turns into a problem row.

    (A counted opcode declaring gigabytes, ``B\\xff\\xff\\xff\\x7f``, makes the C unpickler reserve that
    much address space before finding the data truncated; it is never touched: resident memory stays
    flat, so memory is not asserted here.)
    """
    try:
        obj = safe_loads(data)
    except Exception:  # noqa: BLE001 - any Exception is reported as a problem row by the build
        return
    assert type(obj) in (
        dict,
        list,
        tuple,
        set,
        frozenset,
        str,
        bytes,
        int,
        float,
        bool,
        complex,
        type(None),
        bytearray,
    )


@pytest.fixture(scope="module")
def noisy_server(tmp_path_factory: pytest.TempPathFactory) -> RangeServer:
    root = tmp_path_factory.mktemp("noise") / "SkyScript"
    root.mkdir()
    srv = RangeServer(root).start()
    yield srv  # type: ignore[misc]
    srv.stop()


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.binary(min_size=1, max_size=5000), st.data())
def test_remote_replies_of_random_bytes(
    noisy_server: RangeServer, monkeypatch: pytest.MonkeyPatch, body: bytes, data: st.DataObject
) -> None:
    """Whatever the server holds and however it misbehaves, a read gives exactly the bytes asked or a
    RemoteError."""
    monkeypatch.setenv("SKYSCRIPT_REMOTE_TIMEOUT", "5")
    srv = noisy_server
    srv.reset()
    (srv.root / "blob.bin").write_bytes(body)
    fault = data.draw(st.sampled_from(["none", "long", "long-no-length", "no_range", "drop", "missing"]))
    if fault.startswith("long"):
        srv.long_206["blob.bin"] = data.draw(st.integers(1, 200_000))
        srv.long_206_length = fault == "long"
    elif fault == "no_range":
        srv.no_range = True
    elif fault == "drop":
        srv.drop_at["blob.bin"] = data.draw(st.integers(0, len(body)))
    elif fault == "missing":
        srv.missing.add("blob.bin")
    start = data.draw(st.integers(0, len(body) - 1))
    end = data.draw(st.integers(start + 1, len(body)))
    tr = remote.Transport(srv.url)
    try:
        got = tr.read(f"{srv.url}/blob.bin", start, end, len(body))
    except remote.RemoteError:
        return
    assert got == body[start:end]


# ---- image bytes and caption CSVs (damaged zips: test_zipdir.py::test_random_damage_only_ever_gives_our_error)


def _damaged(original: bytes) -> st.SearchStrategy[bytes]:
    """``original`` with a few bytes overwritten, cut short, or random bytes instead."""
    flips = st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), min_size=1, max_size=6)
    return st.one_of(
        st.binary(max_size=4000),
        flips.map(lambda fl: bytes(_flip(original, fl))),
        st.integers(0, len(original)).map(lambda n: original[:n]),
    )


def _flip(data: bytes, flips: list[tuple[int, int]]) -> bytearray:
    out = bytearray(data)
    for i, b in flips:
        out[i] = b
    return out


@pytest.fixture(scope="module")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-images")
    (root / "images2").mkdir()
    return root


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


_JPEG = _jpeg()


@FAST
@given(_damaged(_JPEG))
def test_image_of_damaged_bytes(image_root: Path, data: bytes) -> None:
    """A damaged picture becomes a placeholder with a reason (image and thumbnail), never an exception."""
    (image_root / "images2" / "x.jpg").write_bytes(data)
    row = {"filepath": "images2/x.jpg", "storage": "folder", "container": "images2", "member": "x.jpg"}
    store = ImageStore(image_root, memory_items=0)
    for res in (store.image(row), store.thumbnail(row, size=32)):
        assert res.ok or (res.problem and res.mime == "image/png" and res.data[:4] == b"\x89PNG")


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=800).map(str.encode)))
def test_caption_csv_of_random_bytes(tmp_path_factory: pytest.TempPathFactory, tinykit: Any, data: bytes) -> None:
    """A caption CSV of noise: the build ends (the CSV's rows read or reported), every image indexed."""
    root = tinykit.make_tiny_root(tmp_path_factory.mktemp("fuzz-csv") / "root", "folder")
    (root / "SkyScript_train_unfiltered_5M.csv").write_bytes(b"filepath,title,title_multi_objects\n" + data)
    report = build_index(root, workers=1)
    with contextlib.closing(ImageIndex.open(root)) as idx:
        assert idx.count(Filters()) >= report.n_images >= len(tinykit.records)
