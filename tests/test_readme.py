"""The README's first example runs exactly as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_first_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    exec(compile(blocks[0], "README.md", "exec"), {})


def test_readme_quick_start_has_the_two_commands():
    text = README.read_text()
    assert "pip install -e . && python -m lessons" in text
    assert 'pip install -e ".[test]" && pytest' in text
