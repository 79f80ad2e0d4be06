"""The library is usable without Streamlit: only skyscript_viz.ui (and the pages) import it."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import skyscript_viz

REPO = Path(__file__).resolve().parents[1]


def _library_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules(skyscript_viz.__path__, "skyscript_viz.")
        if m.name not in ("skyscript_viz.ui", "skyscript_viz.__main__")
    )


def _python(code: str) -> str:
    """What a fresh interpreter prints running ``code`` from the repository (it must exit cleanly)."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_library_modules_are_found() -> None:
    mods = _library_modules()
    for name in ("build", "cli", "discovery", "images", "index", "naming", "query", "safepickle"):
        assert f"skyscript_viz.{name}" in mods


def test_importing_the_library_does_not_import_streamlit() -> None:
    code = (
        "import importlib, sys\n"
        f"mods = {_library_modules()!r}\n"
        "import skyscript_viz\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))\n"
        "assert 'skyscript_viz.ui' not in sys.modules, 'skyscript_viz.ui was imported'\n"
        "print('STREAMLIT:', bad[:5])\n"
    )
    assert _python(code).splitlines()[-1] == "STREAMLIT: []"


@pytest.mark.parametrize("module", ["skyscript_viz", "skyscript_viz.state", "skyscript_viz.query"])
def test_importing_the_package_and_the_url_grammar_is_cheap(module: str) -> None:
    """``import skyscript_viz`` re-exports lazily, and parsing a link (state, query) needs no DuckDB,
    pyarrow, pandas, numpy, Pillow, SQLAlchemy or Streamlit."""
    heavy = ("duckdb", "pyarrow", "pandas", "numpy", "PIL", "sqlalchemy", "streamlit")
    code = f"import {module}, sys; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    assert _python(code) == "[]"


def test_page_files_are_not_in_streamlits_legacy_pages_folder() -> None:
    """A ``pages/`` folder next to app.py would switch Streamlit to its legacy multipage mode until the
    first st.navigation call, so a link opened first on a fresh server would run a page file alone."""
    root = Path(__file__).resolve().parent.parent
    assert not (root / "pages").exists()
    assert sorted(p.name for p in (root / "app_pages").glob("*.py"))


def _imports(path: Path, level: int = 1) -> set[str]:
    """Modules of skyscript_viz that ``path`` imports (module level or inside functions); ``level`` is the
    number of dots that reach skyscript_viz from ``path`` (2 inside a subpackage such as ``remote/``)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == level and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == level:
            found.update(a.name for a in node.names)
    return found


def _library_graph() -> dict[str, set[str]]:
    """Top-level module or subpackage of skyscript_viz -> the ones it imports (a subpackage counts as one)."""
    lib = Path(skyscript_viz.__file__).resolve().parent
    modules = {p.stem: [p] for p in lib.glob("*.py") if p.stem != "__init__"}
    for pkg in lib.iterdir():
        if (pkg / "__init__.py").is_file() and pkg.name != "ui":
            modules[pkg.name] = sorted(pkg.rglob("*.py"))
    graph = {}
    for name, paths in modules.items():
        deps: set[str] = set()
        for path in paths:
            deps |= _imports(path, level=len(path.relative_to(lib).parts))
        graph[name] = deps & set(modules) - {name}
    return graph


def test_library_modules_import_each_other_without_cycles() -> None:
    """The top-level modules of skyscript_viz form no import cycle (function-local imports included)."""
    graph = _library_graph()
    assert {"remote", "demo"} <= set(graph) and "settings" in graph["remote"]
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        for dep in sorted(graph[node]):
            if dep in stack:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif len(stack) < 12:
                visit(dep, [*stack, dep])

    for name in sorted(graph):
        visit(name, [name])
    assert not cycles, sorted({" -> ".join(c) for c in cycles})[:5]
