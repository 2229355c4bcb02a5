"""The README's examples run exactly as written.

Every ```python block is run (in a temporary folder, since examples may write files);
excerpts of the source that are not meant to run on their own are marked ```py.
"""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert len(PYTHON_BLOCKS) >= 2, "README lost its examples"


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_python_example_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(PYTHON_BLOCKS[index], f"README.md (python block {index + 1})", "exec"), {})


def test_readme_quick_start_has_the_two_commands():
    text = README.read_text()
    assert 'pip install -e ".[lessons]" && python -m lessons' in text
    assert 'pip install -e ".[test]" && pytest' in text
