"""The problem-kind registry: one table of titles and help that every other listing derives from."""

from __future__ import annotations

import pytest

from skyscript_viz.problems import PROBLEM_HELP, PROBLEMS, Problem, ProblemKind
from skyscript_viz.quality import CHECKS


@pytest.mark.parametrize("kind", list(ProblemKind))
def test_every_kind_has_a_title_and_one_sentence(kind: ProblemKind) -> None:
    problem = PROBLEMS[kind.value]
    assert problem.title and problem.title[0].isupper() and not problem.title.endswith(".")
    assert problem.help.endswith(".") and problem.help.count(". ") == 0, "one sentence"


def test_the_table_holds_exactly_the_kinds() -> None:
    assert list(PROBLEMS) == [k.value for k in ProblemKind]


def test_help_and_checks_are_views_of_the_table() -> None:
    assert {k: p.help for k, p in PROBLEMS.items()} == PROBLEM_HELP
    assert CHECKS and all(CHECKS[k] is PROBLEMS[k] for k in CHECKS)
    title, why = CHECKS["blank_image"]  # the Quality page unpacks (title, help)
    assert (title, why) == PROBLEMS["blank_image"] == Problem(title, why)
