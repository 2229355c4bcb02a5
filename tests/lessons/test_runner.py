"""The lessons runner (`python -m lessons`): discovery, selection, the index pages, exit codes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lessons import runner
from lessons._lesson import ClaimFailed

ROOT = Path(__file__).resolve().parents[2]

GOOD = '''
import matplotlib.pyplot as plt
from lessons._lesson import Lesson

def main(argv=None):
    L = Lesson(__file__, "A good lesson", argv)
    L.note("quick mode" if L.quick else "full mode")
    L.note(f"seed is {L.seed}")
    L.table("numbers", ["x", "x squared", "|x|"], [[1, 1, 1], [-2, 4, 2]], caption="Squares & <cubes>")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set(title="a line", xlabel="x", ylabel="y")
    L.figure(fig, "line", caption="A straight line")
    L.claim("ACT-1", True, "something true", value=0.25)
    L.slip("003", "the slope is 0.1", "0.01")
    return L.finish()
'''

BAD_CLAIM = '''
import matplotlib.pyplot as plt
from lessons._lesson import Lesson

def main(argv=None):
    L = Lesson(__file__, "A lesson whose claim fails", argv)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    L.figure(fig, "other", caption="Another line")
    L.claim("INIT-5", False, "something that no longer holds", error=0.5)
    L.claim("INIT-6", True, "something that still holds")
    return L.finish()
'''

CRASH = '''
from lessons._lesson import Lesson

def main(argv=None):
    L = Lesson(__file__, "A lesson that crashes", argv)
    raise ValueError("boom: shapes (3,) and (4,) do not match")
'''


def make_lessons(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    (folder / "_helper.py").write_text("x = 1\n")  # not a lesson: no NN_ prefix
    (folder / "notes.txt").write_text("not a lesson\n")
    return folder


@pytest.fixture
def good_only(tmp_path: Path) -> Path:
    return make_lessons(tmp_path / "lessons_good", **{"01_good": GOOD})


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    return make_lessons(tmp_path / "lessons_mixed", **{"01_good": GOOD, "02_bad_claim": BAD_CLAIM, "03_crash": CRASH})


def test_discover_sorted_and_only_numbered_files(mixed: Path) -> None:
    found = runner.discover(mixed)
    assert [les.name for les in found] == ["01_good", "02_bad_claim", "03_crash"]
    assert [les.number for les in found] == ["01", "02", "03"]
    assert found[0].title == "A good lesson"


def test_select_by_number_name_and_part(mixed: Path) -> None:
    found = runner.discover(mixed)
    assert [les.name for les in runner.select(found, ["2"])] == ["02_bad_claim"]
    assert [les.name for les in runner.select(found, ["03", "01_good"])] == ["03_crash", "01_good"]
    assert [les.name for les in runner.select(found, ["crash"])] == ["03_crash"]
    with pytest.raises(ValueError, match="no lesson matches '7'"):
        runner.select(found, ["7"])
    with pytest.raises(ValueError, match="matches several lessons"):
        runner.select(found, ["_"])


def test_list(mixed: Path, capsys) -> None:
    assert runner.main(["list"], lessons_dir=mixed) == 0
    out = capsys.readouterr().out
    assert "01  01_good" in out and "A good lesson" in out
    assert "03_crash" in out and "_helper" not in out


def test_run_one_lesson_writes_the_index(good_only: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    claims = tmp_path / "CLAIMS.md"
    claims.write_text("| ID | Claim |\n|---|---|\n| ACT-1 | one |\n| ACT-2 | two |\n")
    code = runner.main(["run", "01", "--quick", "--out", str(out), "--claims", str(claims), "--no-progress"],
                       lessons_dir=good_only)
    printed = capsys.readouterr().out
    assert code == 0
    assert "01_good" in printed and "1 claims" in printed and "1 figures" in printed
    assert "claim IDs covered (1): ACT-1" in printed
    assert "not covered" in printed and "ACT-2" in printed
    index_md = (out / "index.md").read_text()
    assert "(quick run)" in index_md
    assert "![A straight line](01_good/line.png)" in index_md
    assert "| ACT-1 " in index_md and "Squares & <cubes>" in index_md
    assert "Deck slip (003)" in index_md and "not yet covered (1 of 2):** ACT-2" in index_md
    index_html = (out / "index.html").read_text()
    assert index_html.startswith("<!DOCTYPE html>") and index_html.rstrip().endswith("</html>")
    assert "<img src='01_good/line.png'" in index_html
    assert "Squares &amp; &lt;cubes&gt;" in index_html  # escaped, not raw HTML
    assert "<td>x squared</td>" not in index_html and "<th>x squared</th>" in index_html
    assert "<th>|x|</th>" in index_html  # a "|" inside a cell survives markdown and HTML
    assert "ACT-1" in index_html and "Deck 003" in index_html and "quick mode" in index_html
    assert (out / "01_good" / "line.png").is_file()
    assert (out / "01_good" / "log.txt").read_text().count("[ok] ACT-1") == 1


def test_full_mode_passes_no_quick_flag(good_only: Path, tmp_path: Path) -> None:
    out = tmp_path / "full"
    assert runner.main(["--out", str(out), "--no-progress"], lessons_dir=good_only) == 0
    assert "full mode" in (out / "index.md").read_text()
    assert "(quick run)" not in (out / "index.md").read_text()


def test_seed_is_passed_to_every_lesson(good_only: Path, tmp_path: Path) -> None:
    out = tmp_path / "seeded"
    assert runner.main(["--out", str(out), "--no-progress", "--seed", "17"], lessons_dir=good_only) == 0
    assert "seed is 17" in (out / "index.md").read_text()
    default = tmp_path / "default"
    assert runner.main(["run", "01", "--out", str(default), "--no-progress"], lessons_dir=good_only) == 0
    assert "seed is 0" in (default / "index.md").read_text()


def test_failing_claim_and_crash_exit_nonzero_naming_the_lessons(mixed: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = runner.main(["--quick", "--out", str(out), "--no-progress"], lessons_dir=mixed)
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED: 02_bad_claim (claims failed): claim(s) no longer hold: INIT-5" in captured.err
    assert "FAILED: 03_crash (crashed): ValueError: boom" in captured.err
    assert "01_good" not in captured.err.replace("2 lesson(s) failed: 02_bad_claim, 03_crash", "")
    assert "2 lesson(s) failed: 02_bad_claim, 03_crash" in captured.err
    # the other lessons still ran and everything is in the index, failures marked
    index_md = (out / "index.md").read_text()
    assert "01_good/line.png" in index_md and "02_bad_claim/other.png" in index_md
    assert "CLAIMS FAILED" in index_md and "CRASHED" in index_md and "boom" in index_md
    index_html = (out / "index.html").read_text()
    assert "class='failed'" in index_html and "02_bad_claim/other.png" in index_html
    # a claim that held in a failing lesson still counts as covered; the failed one does not
    assert "INIT-6" in captured.out.split("claim IDs covered")[1].splitlines()[0]
    assert "INIT-5" not in captured.out.split("claim IDs covered")[1].splitlines()[0]


def test_run_one_outcome_statuses(mixed: Path, tmp_path: Path) -> None:
    found = {les.name: les for les in runner.discover(mixed)}
    bad = runner.run_one(found["02_bad_claim"], quick=True, out=tmp_path)
    assert bad.status == "claims failed" and not bad.ok and bad.result is not None
    assert [c.id for c in bad.result.failed] == ["INIT-5"]
    crash = runner.run_one(found["03_crash"], quick=True, out=tmp_path)
    assert crash.status == "crashed" and crash.result is None and "Traceback" in crash.error


def test_lesson_main_raises_claimfailed_with_its_result(mixed: Path, tmp_path: Path) -> None:
    lesson = runner.select(runner.discover(mixed), ["02"])[0]
    with pytest.raises(ClaimFailed, match="INIT-5") as info:
        runner.load_main(lesson)(["--quick", "--out", str(tmp_path)])
    assert info.value.lesson == "02_bad_claim" and info.value.result.figures


def test_unknown_lesson_is_a_usage_error(good_only: Path, tmp_path: Path, capsys) -> None:
    assert runner.main(["run", "42", "--out", str(tmp_path)], lessons_dir=good_only) == 2
    assert "no lesson matches '42'" in capsys.readouterr().err


def test_help_explains_commands(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        runner.main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for word in ("list", "run", "--quick", "--out", "--claims", "index.html"):
        assert word in text


def test_python_dash_m_lessons(tmp_path: Path) -> None:
    """The real entry point, on the real lessons: list, then run one quick lesson."""
    listed = subprocess.run([sys.executable, "-m", "lessons", "list"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "01_activation_functions" in listed.stdout and "03_variance_derivations" in listed.stdout
    out = tmp_path / "out"
    ran = subprocess.run([sys.executable, "-m", "lessons", "run", "03", "--quick", "--out", str(out), "--no-progress"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "INIT-8" in ran.stdout and (out / "index.html").is_file()
    assert "03_variance_derivations/variance_checks.png" in (out / "index.md").read_text()
