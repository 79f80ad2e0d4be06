"""What the merge is doing, for a progress bar: its steps, numbered, each with a label.

The merge is a series of SQL statements whose cost the code cannot foresee well (at 5.2M images the
caption CSV stage alone runs for a minute or more), so its progress is counted in steps, not in
images: the CSV reads, the caption dictionaries, each part joined with the captions, the tag rows,
each part's image rows, the problems. The count is planned when the merge starts (the stages reused
from an earlier build are left out) and corrected once the merge knows whether it patches the previous
generation; a bar's total may change then, never go below the steps done.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MergeProgressFn", "MergeSteps"]

# (label of the step starting now, steps done, steps planned); a last call ("done", n, n) ends it.
MergeProgressFn = Callable[[str, int, int], None]


class MergeSteps:
    """Counts the merge's steps and tells ``on_step`` as each one starts."""

    def __init__(self, on_step: MergeProgressFn | None = None) -> None:
        self._on_step = on_step
        self.started = 0
        self.planned = 0

    def plan(self, planned: int) -> None:
        """The number of steps of the whole merge, now better known (at least those already started)."""
        self.planned = max(planned, self.started)

    def __call__(self, label: str) -> None:
        """Step ``label`` starts (the ones before it are done)."""
        self.started += 1
        self.planned = max(self.planned, self.started)
        if self._on_step is not None:
            self._on_step(label, self.started - 1, self.planned)

    def finish(self) -> None:
        """Every step is done."""
        self.planned = self.started
        if self._on_step is not None:
            self._on_step("done", self.started, self.planned)
