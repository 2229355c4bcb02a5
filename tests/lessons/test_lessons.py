"""Every lesson (lessons/NN_*.py, whoever wrote it): its form, its quick run, its claims, its catalogue entries."""

import re
import subprocess
from pathlib import Path

import pytest

from lessons import catalogue, runner

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[2]
LESSONS = runner.discover()
CLAIM_CALL = re.compile(r"""^(?:L\.claim|check)\(\s*["']([A-Z]+-\d+)["']""", re.M)  # a top-level check
CLAIM_LITERAL = re.compile(r"""["']([A-Z]+-\d+)["']""")  # an ID as a whole string literal, anywhere in the code


def test_lessons_are_discovered() -> None:
    names = [les.name for les in LESSONS]
    assert names == sorted(names) and len(names) >= 8
    for expected in ("01_activation_functions", "02_activation_statistics", "08_optimizers"):
        assert expected in names


@pytest.mark.parametrize("lesson", LESSONS, ids=[les.name for les in LESSONS])
def test_lesson_has_the_notebook_form(lesson: runner.LessonInfo) -> None:
    """Top-level cells: a markdown introduction, markdown before each experiment, L.finish() at the end."""
    source = lesson.path.read_text(encoding="utf-8")
    assert not re.search(r"^[ \t]+# %%", source, re.M), "a '# %%' marker is indented: cells must be top level"
    code = "\n".join(ln.split("#")[0] for ln in source.splitlines()).replace('globals().get("__file__"', "")
    assert "__file__" not in code, "a notebook has no __file__"
    assert "argparse" not in source and "sys.argv" not in source, "settings come from lessons._lesson"
    cells = runner.parse_cells(source)
    assert cells[0].kind == "markdown" and cells[0].text.startswith(f"# Lesson {lesson.number}"), \
        "the first cell is a markdown introduction starting '# Lesson NN'"
    assert f'Lesson("{lesson.name}", ' in source, "the Lesson is made with its own file name"
    assert cells[-1].kind == "code" and cells[-1].text.strip() == "L.finish()"
    for before, cell in zip(cells, cells[1:]):
        if cell.kind == "code" and CLAIM_CALL.search(cell.text):
            assert before.kind == "markdown", f"no markdown cell before the experiment at line {cell.line}"
            ids = set(CLAIM_CALL.findall(cell.text))
            named = set(re.findall(r"[A-Z]+-\d+", before.text))
            assert ids <= named, f"the markdown before line {cell.line} does not name {sorted(ids - named)}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[les.name for les in LESSONS])
def test_lesson_quick_run_holds_its_claims(lesson: runner.LessonInfo, quick_run) -> None:
    out, outcomes = quick_run
    o = outcomes[lesson.name]
    assert o.ok, f"{lesson.name} {o.status}: {o.error}"
    r = o.result
    assert r.quick and r.claims and not r.failed
    assert r.figures, f"{lesson.name} makes no figure"
    for fig in r.figures:
        assert fig.path.parent == out / lesson.name
        assert fig.path.read_bytes()[:8] == PNG_MAGIC and fig.path.stat().st_size > 2000
    assert (out / lesson.name / "README.md").is_file() and (out / f"{lesson.name}.html").is_file()
    known = catalogue.load()
    assert {c.id for c in r.claims} <= set(known.claims), "every claim ID is in lessons/claims.md"
    for slip in r.slips:  # decks are cited by the keys of the catalogue's table of decks
        assert all(key in known.decks for key in slip.deck.split("/")), slip.deck


def test_catalogue_has_every_claim_with_source_and_lesson() -> None:
    cat = catalogue.load()
    ids = list(cat.claims)
    assert len(ids) == 97 and ids[0] == "ACT-1" and ids[-1] == "CNN-4"
    prefixes = {cid.split("-")[0]: 0 for cid in ids}
    for cid in ids:
        prefixes[cid.split("-")[0]] += 1
    assert prefixes == {"ACT": 9, "INIT": 11, "PRE": 7, "OPT": 13, "REG": 12, "NORM": 9, "LOSS": 7, "DIAG": 12,
                        "DATA": 11, "MET": 2, "CNN": 4}
    assert len(cat.decks) == 5 and all(c.sources and len(c.text) > 40 for c in cat.claims.values())


def test_catalogue_lesson_column_matches_the_lessons() -> None:
    """Each claim's "lesson" column names exactly the lessons whose code checks it."""
    checked: dict[str, set[str]] = {}
    for les in LESSONS:
        code = "\n".join(ln for ln in les.path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#"))
        for cid in CLAIM_LITERAL.findall(code):
            checked.setdefault(cid, set()).add(les.number)
    cat = catalogue.load()
    assert set(checked) <= set(cat.claims)
    for cid, claim in cat.claims.items():
        assert set(claim.lessons) == checked.get(cid, set()), f"{cid}: catalogue says {claim.lessons}"


def test_no_file_points_outside_the_repository() -> None:
    """Facts are carried over in the project's words: no file of the repository (code, tests,
    lessons, benchmarks, README, configuration) cites the lecture folder or design notes
    beside a checkout, or a deck by its file number; decks are cited by title."""
    # the patterns are assembled from pieces so that this file does not itself name them
    bad = re.compile("|".join([r"\.\./" + "shared", "shared/" + "lectures", "DESIGN" + r"\.md", "CLAIMS" + r"\.md",
                               r"\b[Dd]ecks? 00[0-4]\b", r"\b00[0-4]_[0-9a-f]{6}"]))
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()
    if not tracked:  # not a git checkout (e.g. an sdist): scan the folders instead
        tracked = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts]
    texts = {name: (ROOT / name).read_text(encoding="utf-8") for name in tracked
             if Path(name).suffix in (".py", ".md", ".cfg", ".toml", ".sh") and (ROOT / name) != Path(__file__)
             and (ROOT / name).is_file()}
    offenders = [f"{name}:{n}: {line.strip()[:100]}" for name, text in texts.items()
                 for n, line in enumerate(text.splitlines(), 1) if bad.search(line)]
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("lesson", LESSONS, ids=[les.name for les in LESSONS])
def test_lesson_opened_outside_the_repository_says_so(lesson: runner.LessonInfo, tmp_path, monkeypatch) -> None:
    """A notebook copied out of the repository cannot import lessons/: its first code cell
    says where to run it (it used to raise a bare StopIteration)."""
    first_code = next(c for c in runner.parse_cells(lesson.path.read_text(encoding="utf-8")) if c.kind == "code")
    setup = first_code.text.split("\nimport matplotlib")[0]  # the path set-up, before the imports
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    with pytest.raises(RuntimeError, match="inside the minidl repository"):
        exec(compile(setup, lesson.name, "exec"), {})
