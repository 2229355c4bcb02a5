"""One quick run of every real lesson, shared by the lesson tests (it takes seconds, not minutes)."""

from pathlib import Path

import pytest

from lessons import runner


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, runner.Outcome]]:
    """Run every lesson in quick mode into one folder and write its pages; (folder, name -> outcome)."""
    out = tmp_path_factory.mktemp("lessons_quick")
    lessons = runner.discover()
    outcomes = {les.name: runner.run_one(les, quick=True, out=out) for les in lessons}
    runner.write_pages(list(outcomes.values()), out, lessons)
    return out, outcomes
