"""Meta pickles are untrusted: only plain data comes out, and nothing a pickle names is ever run."""

from __future__ import annotations

import copyreg
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skyscript_viz import ImageIndex, UnsafePickleError, build_index, safe_loads

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)


class _Reducer:
    """Pickles as ``func(*args)``: the classic pickle exploit."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


class _Plain:
    def __init__(self) -> None:
        self.x = 1


def _traps(target: Path) -> dict[str, bytes]:
    """Pickles that create ``target`` when loaded with plain pickle."""
    cmd = f"touch {target}".encode()
    return {
        "GLOBAL os.system": b"cos\nsystem\n(V" + cmd + b"\ntR.",
        "GLOBAL posix.system": b"cposix\nsystem\n(V" + cmd + b"\ntR.",
        "GLOBAL builtins.eval": b"cbuiltins\neval\n(V__import__('os').system('" + cmd + b"')\ntR.",
        "REDUCE subprocess.call": pickle.dumps(_Reducer(subprocess.call, ["touch", str(target)]), protocol=2),
        "STACK_GLOBAL os.system": pickle.dumps(_Reducer(os.system, cmd.decode()), protocol=4),
        "nested in a dict": pickle.dumps({"box": [1, 2, 3, _Reducer(os.system, cmd.decode())]}, protocol=5),
    }


def test_the_traps_are_real(tmp_path: Path) -> None:
    # Control: plain pickle.loads does run this one, so the refusals below mean something.
    target = tmp_path / "control"
    pickle.loads(_traps(target)["REDUCE subprocess.call"])
    assert target.exists()


@pytest.mark.parametrize("name", list(_traps(Path("/x"))))
def test_booby_trapped_pickle_is_refused_and_never_runs(tmp_path: Path, name: str) -> None:
    target = tmp_path / "pwned"
    with pytest.raises(UnsafePickleError, match="global"):
        safe_loads(_traps(target)[name])
    assert not target.exists()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_reduce_exploit_refused_at_every_protocol(tmp_path: Path, protocol: int) -> None:
    target = tmp_path / "pwned"
    data = pickle.dumps(_Reducer(subprocess.call, ["touch", str(target)]), protocol=protocol)
    with pytest.raises(UnsafePickleError):
        safe_loads(data)
    assert not target.exists()


def test_global_is_refused_before_its_module_is_imported() -> None:
    module = "skyscript_viz_test_trap_module"
    with pytest.raises(UnsafePickleError, match=module):
        safe_loads(f"c{module}\nboom\n.".encode())
    assert module not in sys.modules
    if "this" not in sys.modules:  # importing `this` prints the Zen of Python: a visible side effect
        with pytest.raises(UnsafePickleError):
            safe_loads(b"cthis\ns\n.")
        assert "this" not in sys.modules


def test_extension_registry_codes_are_refused() -> None:
    code = 0x7FFF0001
    copyreg.add_extension("os", "system", code)
    try:
        data = b"\x80\x02\x84" + code.to_bytes(4, "little") + b"."  # EXT4
        with pytest.raises(UnsafePickleError):
            safe_loads(data)
    finally:
        copyreg.remove_extension("os", "system", code)


def test_persistent_ids_are_refused() -> None:
    with pytest.raises(UnsafePickleError, match="persistent"):
        safe_loads(b"P1\n.")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "value",
    [
        {1, 2},
        frozenset({1}),
        b"bytes",
        bytearray(b"x"),
        _Plain(),
        {"surrounding_tags": [{"k": "v"}, {"nested": {3, 4}}]},
        (1, [2, (3, b"deep")]),
        1 + 2j,
        range(3),
    ],
    ids=["set", "frozenset", "bytes", "bytearray", "instance", "nested-set", "nested-bytes", "complex", "range"],
)
def test_non_plain_types_are_refused(value: Any, protocol: int) -> None:
    with pytest.raises(UnsafePickleError):
        safe_loads(pickle.dumps(value, protocol=protocol))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_plain_data_round_trips(protocol: int) -> None:
    meta = {
        "box": (8.54, 47.37, 8.55, 47.38),
        "time": (2019, 6, 15, 10, 30),
        "center_tags": {"building": "yes", "name": "Zürich <b>HB</b>"},
        "surrounding_tags": [{"highway": "residential"}, {}],
        "n": 10**40,
        "flags": [True, False, None, -0.5],
    }
    assert safe_loads(pickle.dumps(meta, protocol=protocol)) == meta
    loaded = safe_loads(pickle.dumps([math.inf, math.nan], protocol=protocol))
    assert loaded[0] == math.inf and math.isnan(loaded[1])


def test_shared_and_recursive_references_are_plain() -> None:
    shared = {"k": "v"}
    assert safe_loads(pickle.dumps([shared, shared])) == [{"k": "v"}, {"k": "v"}]
    loop: list[Any] = []
    loop.append(loop)
    out = safe_loads(pickle.dumps(loop))  # terminates: each container is checked once
    assert out[0] is out


def test_shared_reference_bomb_is_checked_in_linear_time() -> None:
    # 2**200 paths through 200 lists: a few hundred bytes of memo references.
    value: list[Any] = []
    for _ in range(200):
        value = [value, value]
    data = pickle.dumps({"center_tags": {"k": value}})
    assert len(data) < 5000
    out = safe_loads(data)
    assert out["center_tags"]["k"][0] is out["center_tags"]["k"][1]
    bad = [value] * 3 + [{1}]
    with pytest.raises(UnsafePickleError):
        safe_loads(pickle.dumps(bad))


@pytest.mark.parametrize("data", [b"", b"garbage", b"\x80\x04\x95", pickle.dumps({"a": 1})[:-3]])
def test_invalid_bytes_raise_but_not_as_unsafe(data: bytes) -> None:
    with pytest.raises(Exception) as info:
        safe_loads(data)
    assert not isinstance(info.value, UnsafePickleError)


def test_build_lists_unsafe_meta_and_never_runs_it(tmp_path: Path, tinykit: Any) -> None:
    root = tmp_path / "root"
    (root / "images2").mkdir(parents=True)
    (root / "meta2").mkdir()
    target = tmp_path / "pwned"
    for i, (name, data) in enumerate(_traps(target).items()):
        stem = f"a{i + 1}_CH_19"
        (root / "images2" / f"{stem}.jpg").write_bytes(tinykit.jpeg_bytes(i))
        (root / "meta2" / f"{stem}.pickle").write_bytes(data)
        assert name
    report = build_index(root)
    assert not target.exists()
    n = len(_traps(target))
    assert report.n_images == n
    assert report.problems_by_kind == {"unsafe_meta": n}
    idx = ImageIndex.open(root)
    try:
        probs = idx.problems(kind="unsafe_meta")
        assert sorted(probs["filepath"]) == sorted(f"images2/a{i + 1}_CH_19.jpg" for i in range(n))
        assert probs["detail"].str.contains("only plain data").all()
        rec = idx.get("images2/a1_CH_19.jpg")
        assert rec is not None and rec.row["has_image"] and rec.row["cx"] is None and rec.focus_tags == {}
    finally:
        idx.close()
    assert not target.exists()


# -- resource bounds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x04Nr\x00\x00\x00\x10.",  # LONG_BINPUT 2**28: a 4 GB memo table in 9 bytes
        b"\x80\x04Nr\xff\xff\xff\xff.",
        b"Np99999999999\n.",  # protocol 0 PUT
        b"\x80\x02X\x01\x00\x00\x00ar\x00\x00\x00\x08.",  # behind an opcode the fast check does not know
    ],
)
def test_memo_bomb_is_refused_before_unpickling(data: bytes) -> None:
    with pytest.raises(UnsafePickleError, match="memo slot"):
        safe_loads(data)


def test_modest_memo_indices_are_fine() -> None:
    assert safe_loads(b"\x80\x02X\x01\x00\x00\x00ar\x05\x00\x00\x00.") == "a"


_DEEP = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from skyscript_viz.safepickle import safe_loads
from skyscript_viz.errors import UnsafePickleError
data = b"\\x80\\x04)" + b"\\x85" * 300_000 + b"."  # a tuple nested 300,000 deep, 300 KB
try:
    safe_loads(data)
except UnsafePickleError as exc:
    print("refused:", exc)
try:
    safe_loads(b"\\x80\\x04Nr\\x00\\x00\\x00\\x10.")
except UnsafePickleError as exc:
    print("refused:", exc)
"""


def test_deep_nesting_and_memo_bombs_stay_bounded_in_a_small_process() -> None:
    """In a process limited to 1 GB: no segfault, no MemoryError, both refused with our error."""
    proc = subprocess.run(
        [sys.executable, "-c", _DEEP],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("refused:") == 2 and "1,000 deep" in proc.stdout, proc.stdout


def test_nesting_within_the_limit_loads() -> None:
    value: Any = "leaf"
    for _ in range(900):
        value = (value,)
    assert safe_loads(pickle.dumps({"k": value}, protocol=4)) == {"k": value}


def test_oversized_pickle_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    import skyscript_viz.safepickle as sp

    monkeypatch.setattr(sp, "MAX_PICKLE_BYTES", 100)
    with pytest.raises(UnsafePickleError, match="over the 100-byte limit"):
        safe_loads(pickle.dumps("x" * 200))


_FUZZ = """
import pickle, random, resource
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from skyscript_viz.safepickle import safe_loads
meta = {"box": (8.1, 47.2, 8.3, 47.4), "time": (2019, 5, 3, 10, 0), "center_tags": {"building": "yes"},
        "surrounding_tags": [{"highway": "residential", "name": "x" * 300}, {"leisure": "park"}]}
rng = random.Random(3)
for proto in (0, 2, 4, 5):
    good = pickle.dumps(meta, protocol=proto)
    for _ in range(3000):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            safe_loads(bytes(data))
        except MemoryError:
            raise
        except Exception:
            pass
print("ok")
"""


def test_random_damage_never_crashes_or_blows_memory() -> None:
    """Thousands of damaged pickles in a process limited to 1 GB: each loads or raises, none crashes."""
    proc = subprocess.run(
        [sys.executable, "-c", _FUZZ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
