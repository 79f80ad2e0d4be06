"""The package's public names: ``skyscript_viz.__all__`` is sorted and is exactly what it exports."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import skyscript_viz


def _isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetically."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_unique() -> None:
    names = list(skyscript_viz.__all__)
    assert names == sorted(names, key=_isort_key)
    assert len(names) == len(set(names))


def test_all_equals_the_public_names() -> None:
    # dir(), not vars(): the re-exports are lazy, so vars() only holds the names used so far
    public = {
        name
        for name in dir(skyscript_viz)
        if not name.startswith("_") and not inspect.ismodule(getattr(skyscript_viz, name))
    }
    assert set(skyscript_viz.__all__) == public


def test_lazy_exports_match_the_type_checking_imports() -> None:
    """The name -> module table and the imports type checkers read must list the same names."""
    tree = ast.parse(Path(skyscript_viz.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If))
    imported = {
        alias.name: node.module for node in ast.walk(block) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert imported == skyscript_viz._EXPORTS
    assert set(skyscript_viz._EXPORTS) == set(skyscript_viz.__all__)
    for name, module in skyscript_viz._EXPORTS.items():
        assert getattr(skyscript_viz, name) is getattr(importlib.import_module(f"skyscript_viz.{module}"), name)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        skyscript_viz.NoSuchThing  # noqa: B018 - the access under test
    from skyscript_viz import demo  # a submodule is still importable by name

    assert callable(demo.generate)


def test_star_import() -> None:
    namespace: dict[str, object] = {}
    exec("from skyscript_viz import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(skyscript_viz.__all__)


def test_public_objects_are_documented() -> None:
    for name in skyscript_viz.__all__:
        obj = getattr(skyscript_viz, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_errors_share_one_base() -> None:
    for name in (
        "DatasetRootError",
        "IndexBuildError",
        "IndexNotFoundError",
        "InvalidFilterError",
        "UnsafePickleError",
    ):
        assert issubclass(getattr(skyscript_viz, name), skyscript_viz.SkyscriptVizError)


def _library_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules(skyscript_viz.__path__, "skyscript_viz.")
        if m.name not in ("skyscript_viz.ui", "skyscript_viz.__main__")
    )


@pytest.mark.parametrize("module", _library_modules())
def test_module_all_names_exist(module: str) -> None:
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    if names is None:
        pytest.skip(f"{module} has no __all__")
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(mod, name), f"{module}.__all__ names {name!r}, which it does not define"
