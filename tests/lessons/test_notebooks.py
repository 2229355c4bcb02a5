"""Every lesson runs as a notebook: converted by jupytext, executed top to bottom by nbclient (quick mode),
with its figures as inline image outputs."""

from pathlib import Path

import pytest

from lessons import runner

LESSONS = runner.discover()


@pytest.mark.parametrize("lesson", LESSONS, ids=[les.name for les in LESSONS])
def test_lesson_executes_as_a_notebook(lesson: runner.LessonInfo, tmp_path: Path, monkeypatch) -> None:
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # a notebook reads its settings from the environment (lessons/README.md): quick mode, output in tmp_path
    monkeypatch.setenv("LESSONS_QUICK", "1")
    monkeypatch.setenv("LESSONS_OUT", str(tmp_path))
    notebook = jupytext.read(lesson.path)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert any(c.cell_type == "markdown" for c in notebook.cells) and code_cells
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(lesson.path.parent)}})
    client.execute()  # raises CellExecutionError (with the traceback) if any cell fails, L.finish() included
    images = [o for c in code_cells for o in c.get("outputs", [])
              if o.get("output_type") == "display_data" and "image/png" in o.get("data", {})]
    saved = sorted((tmp_path / lesson.name).glob("*.png"))
    assert saved, f"{lesson.name} saved no figure"
    assert len(images) == len(saved), f"{len(saved)} figures saved but {len(images)} shown inline"
    errors = [o for c in code_cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
