"""Loading meta pickles from a download without trusting them.

Only plain data may come out: dict, list, tuple, str, int, float, bool and None. Any pickle that
names a global (a class, a function such as ``os.system``) is refused *before* the global is looked
up, so nothing it references is imported or called. Types that pickle can build without a global
(bytes, set, bytearray…) are rejected after loading.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from .errors import UnsafePickleError

__all__ = ["PLAIN_TYPES", "safe_loads"]

PLAIN_TYPES = (dict, list, tuple, str, int, float, bool, type(None))


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
    # runs for every one of 5 million pickles.
    t = type(obj)
    if t in _SCALARS:
        return
    if t not in _CONTAINERS:
        raise UnsafePickleError(f"pickle yields a {t.__name__}; only plain data is allowed")
    stack: list[Any] = [obj]
    seen: set[int] = set()
    scalars, containers = _SCALARS, _CONTAINERS
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        values = (*item.keys(), *item.values()) if type(item) is dict else item
        for v in values:
            tv = type(v)
            if tv in scalars:
                continue
            if tv in containers:
                stack.append(v)
            else:
                raise UnsafePickleError(f"pickle yields a {tv.__name__}; only plain data is allowed")


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` allowing only plain containers, strings and numbers.

    Raises UnsafePickleError for anything else, and pickle.UnpicklingError / EOFError / ValueError
    (among others) for bytes that are not a valid pickle.
    """
    obj = _PlainUnpickler(io.BytesIO(data)).load()
    _check_plain(obj)
    return obj
