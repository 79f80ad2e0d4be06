"""Loading meta pickles from a download without trusting them.

Only plain data may come out: dict, list, tuple, str, int, float, bool and None. Any pickle that
names a global (a class, a function such as ``os.system``) is refused *before* the global is looked
up, so nothing it references is imported or called. Types that pickle can build without a global
(bytes, set, bytearray…) are rejected after loading.

Resources are bounded too: the size of the pickle, its memo (a 9-byte pickle can ask the C unpickler
for a 4 GB memo table: checked before unpickling) and the nesting depth of what comes out (a tuple
nested 300,000 deep crashes hashing or comparing it: checked right after).
"""

from __future__ import annotations

import io
import pickle
import pickletools
import re
from typing import Any

from .errors import UnsafePickleError

__all__ = ["MAX_DEPTH", "MAX_PICKLE_BYTES", "PLAIN_TYPES", "safe_loads"]

PLAIN_TYPES = (dict, list, tuple, str, int, float, bool, type(None))
MAX_PICKLE_BYTES = 64 << 20  # a meta with 40,000 surrounding objects is ~2 MB
MAX_DEPTH = 1000  # meta dicts nest 3 deep; C code that recurses (hash, ==) is safe far beyond this


def _lengths(op: bytes, width: int = 1) -> bytes:
    """Regex for opcode ``op`` with a ``width``-byte little-endian length below 256, then that many bytes."""
    pad = b"\x00" * (width - 1)
    return re.escape(op) + b"(?:" + b"|".join(re.escape(bytes([n])) + pad + b".{%d}" % n for n in range(256)) + b")"


# The opcodes plain data is pickled with (protocols 2-5), none of which can grow the memo past the number
# of opcodes: a pickle made only of these needs no further check. A mix of length-free opcodes goes
# first, as one character class: the common case costs about as much as unpickling.
_NO_ARG = b"\x94}](u)estN\x85\x86\x87\x88\x89a"
_SAFE_PICKLE = re.compile(
    b"(?:"
    + b"|".join(
        [
            b"[" + re.escape(_NO_ARG) + b"]",
            _lengths(b"\x8c"),
            b"h.",
            b"q.",
            b"K.",
            b"M..",
            b"J....",
            b"G.{8}",
            b"j....",
            b"\x95.{8}",
            b"\x80.",
            _lengths(b"X", 4),
            _lengths(b"\x8a"),
        ]
    )
    + b")*+\\.",
    re.DOTALL,
)
_CONTAINER_OPS = b"}])t\x85\x86\x87"
_ARG_LEN = {ord(op.code.encode("latin-1")): 0 if op.arg is None else op.arg.n for op in pickletools.opcodes}
_PUT, _LONG_BINPUT, _STOP = ord("p"), ord("r"), ord(".")
_COUNT_WIDTH = {
    pickletools.TAKEN_FROM_ARGUMENT1: 1,
    pickletools.TAKEN_FROM_ARGUMENT4: 4,
    pickletools.TAKEN_FROM_ARGUMENT4U: 4,
    pickletools.TAKEN_FROM_ARGUMENT8U: 8,
}


def _check_opcodes(data: bytes) -> None:
    """Refuse a memo index larger than the pickle (the C unpickler would allocate a table that big) and
    a counted argument longer than the rest of the pickle (it allocates a bytearray that big first).

    Walks every opcode, so it only runs for pickles the fast regex above could not vouch for."""
    limit, i, n = len(data), 0, len(data)
    while i < n:
        op = data[i]
        i += 1
        k = _ARG_LEN.get(op)
        if k is None or op == _STOP:
            return  # an unknown opcode: the unpickler refuses it
        idx = -1
        if k == pickletools.UP_TO_NEWLINE:
            j = data.find(b"\n", i)
            if j < 0:
                return
            if op == _PUT:
                idx = int(data[i:j]) if data[i:j].strip().isdigit() else -1
            i = j + 1
        elif k in _COUNT_WIDTH:
            w = _COUNT_WIDTH[k]
            i += w + int.from_bytes(data[i : i + w], "little")
            if i > n:
                raise pickle.UnpicklingError(
                    f"pickle data was truncated (an argument of opcode {op:#04x} "
                    f"claims {i - n:,} bytes more than there are)"
                )
        else:
            if op == _LONG_BINPUT:
                idx = int.from_bytes(data[i : i + 4], "little")
            i += k
        if idx > limit:
            raise UnsafePickleError(f"pickle asks for memo slot {idx:,} in {n:,} bytes (a memory bomb); refused")


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise UnsafePickleError(f"pickle references global {module}.{name}; only plain data is allowed")

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("pickle uses a persistent id; only plain data is allowed")


_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({dict, list, tuple})


def _check_plain(obj: object) -> None:
    # Each container is visited once: a pickle can make a list contain itself, or share one list
    # many times over (a few bytes of memo references), which a plain walk would never finish.
    # Scalars are checked in place and never stacked: meta dicts are mostly strings, and this check
    # runs for every one of 5 million pickles. Depth is counted along the path each container is
    # first reached by.
    t = type(obj)
    if t in _SCALARS:
        return
    if t not in _CONTAINERS:
        raise UnsafePickleError(f"pickle yields a {t.__name__}; only plain data is allowed")
    stack: list[tuple[Any, int]] = [(obj, 1)]
    seen: set[int] = set()
    scalars, containers = _SCALARS, _CONTAINERS
    while stack:
        item, depth = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        values = (*item.keys(), *item.values()) if type(item) is dict else item
        for v in values:
            tv = type(v)
            if tv in scalars:
                continue
            if tv in containers:
                if depth >= MAX_DEPTH:
                    raise UnsafePickleError(f"pickle nests containers more than {MAX_DEPTH:,} deep; refused")
                stack.append((v, depth + 1))
            else:
                raise UnsafePickleError(f"pickle yields a {tv.__name__}; only plain data is allowed")


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` allowing only plain containers, strings and numbers.

    Raises UnsafePickleError for anything else and for pickles over the size, memo or depth limits,
    and pickle.UnpicklingError / EOFError / ValueError (among others) for bytes that are not a valid pickle.
    """
    if len(data) > MAX_PICKLE_BYTES:
        raise UnsafePickleError(f"pickle of {len(data):,} bytes is over the {MAX_PICKLE_BYTES:,}-byte limit")
    if _SAFE_PICKLE.fullmatch(data) is not None:
        # Only the opcodes above: no global, no persistent id, no REDUCE/BUILD can occur, so the C
        # unpickler's own loads needs no find_class guard (and skips a Python subclass per pickle).
        # They yield plain data nesting no deeper than the number of container-building bytes: the
        # walk over every value is needed only past that.
        obj = pickle.loads(data)
        if len(data) > MAX_DEPTH and len(data) - len(data.translate(None, _CONTAINER_OPS)) > MAX_DEPTH:
            _check_plain(obj)
        return obj
    _check_opcodes(data)
    obj = _PlainUnpickler(io.BytesIO(data)).load()
    _check_plain(obj)
    return obj
