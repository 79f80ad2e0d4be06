"""The README's Layout section names every module of the library, so a newcomer finds each one."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_layout_lists_every_module() -> None:
    readme = (REPO / "README.md").read_text()
    layout = readme[readme.index("## Layout") :]
    layout = layout[: layout.index("\n## ", 3)]
    listed = set(re.findall(r"^- `([a-z_/]+\.py)`", layout, re.M))
    lib = REPO / "skyscript_viz"
    missing = []
    for path in sorted(lib.rglob("*.py")):
        rel = path.relative_to(lib)
        if rel.name == "__init__.py" and rel.parent.name in ("", "demo", "ui"):
            continue  # the package itself, and two that only say what they hold
        name = rel.as_posix().removeprefix("ui/")
        if name not in listed:
            missing.append(rel.as_posix())
    assert not missing, f"README's Layout section does not list: {missing}"
