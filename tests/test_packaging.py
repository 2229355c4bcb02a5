"""What setup.cfg ships: only the minidl package (every subpackage of it), its py.typed
marker and the LICENSE; dependency floors that .ci/test-floors can install exactly.

Read from the configuration, without building a wheel (the README's Tests section says how
the built wheel was checked).
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

setuptools = pytest.importorskip("setuptools")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    assert parser.read(ROOT / "setup.cfg"), "setup.cfg missing"
    return parser


def lines(value: str) -> list[str]:
    return [v.strip() for v in value.splitlines() if v.strip()]


def test_wheel_packages_are_minidl_and_all_its_subpackages(cfg):
    include = lines(cfg["options.packages.find"]["include"])
    found = set(setuptools.find_packages(where=str(ROOT), include=include))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "minidl").rglob("__init__.py")}
    assert found == on_disk
    assert "lessons" not in found and "benchmarks" not in found and "tests" not in found


def test_py_typed_and_license_are_shipped(cfg):
    assert "py.typed" in lines(cfg["options.package_data"]["minidl"])
    assert (ROOT / "minidl" / "py.typed").is_file()
    assert lines(cfg["metadata"]["license_files"]) == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "minidl contributors" in text
    assert cfg["metadata"]["license"] == "MIT"
    assert "License :: OSI Approved :: MIT License" in lines(cfg["metadata"]["classifiers"])


def test_every_runtime_dependency_has_a_floor_to_test(cfg):
    """.ci/test-floors installs `name==X` for each `name>=X`; numpy 2 is the measured floor."""
    reqs = lines(cfg["options"]["install_requires"])
    floors = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)", r).groups() for r in reqs)
    assert set(floors) == {"numpy", "matplotlib", "tqdm"}
    assert int(floors["numpy"].split(".")[0]) >= 2


def test_test_and_lessons_extras_install_what_the_suite_and_runner_import(cfg):
    """`pip install -e ".[test]"` must bring every optional package the suite runs with, or
    the notebook tests skip and the runner's page tests fail on a clean machine (a merge
    once dropped them); `.[lessons]` brings the runner's markdown renderer."""
    extras = cfg["options.extras_require"]

    def names(extra: str) -> set[str]:
        return {re.split(r"[<>=!~ ]", r, maxsplit=1)[0].lower() for r in lines(extras[extra])}

    assert {"pytest", "hypothesis", "ruff", "mypy", "markdown-it-py", "jupytext", "nbclient",
            "ipykernel"} <= names("test")
    assert names("lessons") == {"markdown-it-py"}
