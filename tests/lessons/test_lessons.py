"""Every lesson (lessons/NN_*.py, whoever wrote it) runs in --quick mode and its claims hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons._lesson import LessonResult
from lessons.runner import discover, load_main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LESSONS = discover()


def test_lessons_are_discovered() -> None:
    names = [les.name for les in LESSONS]
    assert names == sorted(names)
    for expected in ("01_activation_functions", "02_activation_statistics", "03_variance_derivations"):
        assert expected in names


@pytest.mark.parametrize("lesson", LESSONS, ids=[les.name for les in LESSONS])
def test_lesson_quick_run_holds_its_claims(lesson, tmp_path: Path) -> None:
    result = load_main(lesson)(["--quick", "--out", str(tmp_path)])  # raises ClaimFailed if a claim fails
    assert isinstance(result, LessonResult), f"{lesson.name}: main() must return L.finish()"
    assert result.quick
    assert result.claims, f"{lesson.name} checks no claim"
    assert not result.failed, f"{lesson.name}: failed claims {[c.id for c in result.failed]}"
    assert result.figures, f"{lesson.name} makes no figure"
    for fig in result.figures:
        assert fig.path.is_file(), f"{lesson.name}: figure {fig.path} was not written"
        assert fig.path.parent == tmp_path / lesson.name
        assert fig.path.read_bytes()[:8] == PNG_MAGIC, f"{fig.path} is not a PNG file"
        assert fig.path.stat().st_size > 2000, f"{fig.path} looks empty"
    assert (tmp_path / lesson.name / "README.md").is_file()
