"""Lesson 08 runs in quick mode, writes its figure and all its claims hold."""

from lessons import runner
from lessons._lesson import Settings


def test_lesson_08_quick(tmp_path):
    lesson = runner.select(runner.discover(), ["08"])[0]
    outcome = runner.execute(lesson, Settings(quick=True, out=str(tmp_path)))  # a lesson file runs as cells
    assert outcome.ok, outcome.error
    result = outcome.result
    assert result.claims and all(c.passed for c in result.claims)
    assert {c.id for c in result.claims} >= {"OPT-4", "OPT-5", "OPT-6", "OPT-7", "OPT-9"}
    pngs = list(tmp_path.rglob("*.png"))
    assert pngs and all(p.stat().st_size > 10_000 for p in pngs)
