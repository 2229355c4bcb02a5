"""The lessons runner (`python -m lessons`): discovery, cells, settings, the pages, exit codes."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lessons import _lesson, runner
from lessons._lesson import ClaimFailed, Settings

ROOT = Path(__file__).resolve().parents[2]

GOOD = '''
# %% [markdown]
# # Lesson 01: A good lesson
# The *introduction*, in markdown.

# %%
import matplotlib.pyplot as plt
from lessons._lesson import Lesson

L = Lesson("01_good", "A good lesson")
L.note("quick mode" if L.quick else "full mode")
L.note(f"seed is {L.seed}")

# %% [markdown]
# ## First experiment
# It checks ACT-1.

# %%
L.table("numbers", ["x", "x squared", "|x|"], [[1, 1, 1], [-2, 4, 2]], caption="Squares & <cubes>")
fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1])
ax.set(title="a line", xlabel="x", ylabel="y")
L.figure(fig, "line", caption="A straight line")
L.claim("ACT-1", True, "something true", value=0.25)
L.slip("di504", "the slope is 0.1", "0.01")

# %% [markdown]
# ## Second experiment
# No claim here.

# %%
L.note("the second cell's note")

# %%
L.finish()
'''

BAD_CLAIM = '''
# %% [markdown]
# # Lesson 02: A lesson whose claim fails

# %%
import matplotlib.pyplot as plt
from lessons._lesson import Lesson

L = Lesson("02_bad_claim", "A lesson whose claim fails")
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
L.figure(fig, "other", caption="Another line")
L.claim("INIT-5", False, "something that no longer holds", error=0.5)
L.claim("INIT-6", True, "something that still holds")

# %%
L.finish()
'''

CRASH = '''
# %% [markdown]
# # Lesson 03: A lesson that crashes

# %%
from lessons._lesson import Lesson

L = Lesson("03_crash", "A lesson that crashes")
L.note("before the crash")

# %%
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


def test_parse_cells_keeps_markdown_and_line_numbers() -> None:
    cells = runner.parse_cells(textwrap.dedent(GOOD))
    assert [c.kind for c in cells] == ["markdown", "code", "markdown", "code", "markdown", "code", "code"]
    assert cells[0].text == "# Lesson 01: A good lesson\nThe *introduction*, in markdown."
    lines = textwrap.dedent(GOOD).splitlines()
    assert lines[cells[1].line] == "import matplotlib.pyplot as plt"


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


def test_settings_come_from_one_place(monkeypatch, tmp_path: Path) -> None:
    """Runner first, then the command line (only for the lesson run as a script), then the environment."""
    monkeypatch.setenv("LESSONS_QUICK", "1")
    monkeypatch.setenv("LESSONS_OUT", str(tmp_path / "env"))
    monkeypatch.setenv("LESSONS_SEED", "5")
    assert _lesson.current_settings("01_good", "t") == Settings(True, str(tmp_path / "env"), 5)
    with _lesson.use_settings(Settings(False, "x", None)):
        assert _lesson.current_settings("01_good", "t") == Settings(False, "x", None)
    monkeypatch.setattr(sys, "argv", ["01_good.py", "--out", "y"])  # not the __main__ file: argv is ignored
    assert _lesson.current_settings("01_good", "t").out == str(tmp_path / "env")
    assert _lesson.settings_from_command_line("01_good", "t", ["--seed", "3"]) == \
        Settings(True, str(tmp_path / "env"), 3)


def test_run_one_lesson_writes_its_page_in_the_lessons_order(good_only: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = runner.main(["run", "01", "--quick", "--out", str(out), "--no-progress"], lessons_dir=good_only)
    printed = capsys.readouterr().out
    assert code == 0
    assert "01_good" in printed and "1 claim " in printed and "1 figure " in printed
    assert "1 figures" not in printed and "1 claims" not in printed and "1 lessons" not in printed
    assert "claims covered" in printed and "1 of 97" in printed
    page = (out / "01_good.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # the lesson's own order: introduction, first experiment (table, figure, claim), second, then claims, slips
    order = ["<h1>Lesson 01: A good lesson</h1>", "<em>introduction</em>", "<p>quick mode</p>",
             "<h2>First experiment</h2>",
             "Squares &amp; &lt;cubes&gt;", "<img src='01_good/line.png'", "ACT-1 holds", "<h2>Second experiment</h2>",
             "the second cell&#x27;s note", "<h2>Claims checked</h2>", "The sigmoid 1/(1 + e^-x)",
             "Source: BME 548L", "<h2>Corrections of the decks</h2>", "<b>DI504 &quot;Foundations of Deep Learning"]
    positions = [page.find(text) for text in order]
    assert -1 not in positions, [t for t, p in zip(order, positions) if p == -1]
    assert positions == sorted(positions)
    assert "<a href='01_good/line.png' target='_blank'>" in page  # a figure opens full size
    assert "<th>|x|</th>" in page and "<th>x squared</th>" in page
    index = (out / "index.html").read_text()
    assert "<a href='01_good.html'>01_good</a>" in index and "A good lesson" in index
    assert "1 of 97" in index.replace("<b>", "").replace("</b>", "")
    claims_page = (out / "claims.html").read_text()
    assert "CNN-4" in claims_page and "01_good.html#ACT-1" in claims_page
    assert (out / "01_good" / "log.txt").read_text().count("[ok] ACT-1") == 1
    assert json.loads((out / "01_good" / "summary.json").read_text())["claims"] == [["ACT-1", True]]


def test_running_one_lesson_keeps_the_others_on_the_index(mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.main(["--quick", "--out", str(out), "--no-progress"], lessons_dir=mixed) == 1
    first = (out / "index.html").read_text()
    assert all(name in first for name in ("01_good.html", "02_bad_claim.html", "03_crash.html"))
    assert runner.main(["run", "01", "--out", str(out), "--no-progress"], lessons_dir=mixed) == 0
    again = (out / "index.html").read_text()
    assert all(name in again for name in ("01_good.html", "02_bad_claim.html", "03_crash.html"))
    assert "full" in again and "quick" in again  # 01 ran in full mode now; the others keep their quick run


def test_seed_is_passed_to_every_lesson(good_only: Path, tmp_path: Path) -> None:
    out = tmp_path / "seeded"
    assert runner.main(["--out", str(out), "--no-progress", "--seed", "17"], lessons_dir=good_only) == 0
    assert "seed is 17" in (out / "01_good.html").read_text()
    default = tmp_path / "default"
    assert runner.main(["run", "01", "--out", str(default), "--no-progress"], lessons_dir=good_only) == 0
    assert "seed is 0" in (default / "01_good.html").read_text()
    assert "full mode" in (default / "01_good.html").read_text()


def test_failing_claim_and_crash_exit_nonzero_naming_the_lessons(mixed: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = runner.main(["--quick", "--out", str(out), "--no-progress"], lessons_dir=mixed)
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED: 02_bad_claim (claims failed): claim(s) no longer hold: INIT-5" in captured.err
    assert "FAILED: 03_crash (crashed): ValueError: boom" in captured.err
    assert "2 lessons failed: 02_bad_claim, 03_crash" in captured.err
    crash_page = (out / "03_crash.html").read_text()
    assert "CRASHED" in crash_page and "before the crash" in crash_page and "boom" in crash_page
    assert "03_crash.py&quot;, line 12" in crash_page  # the traceback names the line in the lesson file
    bad_page = (out / "02_bad_claim.html").read_text()
    assert "CLAIMS FAILED" in bad_page and "INIT-5 FAILED" in bad_page and "02_bad_claim/other.png" in bad_page
    index = (out / "index.html").read_text()
    assert "CLAIMS FAILED" in index and "CRASHED" in index
    covered = captured.out.split("claims covered")[1].splitlines()[0]
    assert "INIT-6" in covered and "INIT-5" not in covered  # a claim that held in a failing lesson counts


def test_execute_statuses_and_namespace(mixed: Path, tmp_path: Path) -> None:
    found = {les.name: les for les in runner.discover(mixed)}
    bad = runner.execute(found["02_bad_claim"], Settings(True, str(tmp_path)))
    assert bad.status == "claims failed" and bad.result is not None
    assert [c.id for c in bad.result.failed] == ["INIT-5"]
    crash = runner.execute(found["03_crash"], Settings(True, str(tmp_path)))
    assert crash.status == "crashed" and crash.result.notes == ["before the crash"] and "Traceback" in crash.error
    good = runner.execute(found["01_good"], Settings(True, str(tmp_path)))
    assert good.ok and good.namespace["L"].result is good.result


def test_a_lesson_without_finish_is_reported(tmp_path: Path) -> None:
    folder = make_lessons(tmp_path / "l", **{"01_nofinish": GOOD.replace("L.finish()", "pass")})
    o = runner.execute(runner.discover(folder)[0], Settings(True, str(tmp_path)))
    assert o.status == "crashed" and "L.finish()" in o.error


def test_script_mode_reads_the_command_line_and_fails_clearly(mixed: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, str(mixed / "01_good.py"), "--quick", "--out", str(tmp_path), "--seed", "4"],
                        capture_output=True, text=True, timeout=120, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "seed is 4" in ok.stdout and (tmp_path / "01_good" / "line.png").is_file()
    bad = subprocess.run([sys.executable, str(mixed / "02_bad_claim.py"), "--quick", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 1 and "ClaimFailed" in bad.stderr and "INIT-5" in bad.stderr


def test_lesson_raises_claimfailed_with_its_result(tmp_path: Path) -> None:
    with _lesson.use_settings(Settings(True, str(tmp_path))):
        L = _lesson.Lesson("02_x", "x")
    L.claim("INIT-5", False, "no")
    with pytest.raises(ClaimFailed, match="INIT-5") as info:
        L.finish()
    assert info.value.lesson == "02_x" and info.value.result is L.result
    with pytest.raises(ValueError, match="does not look like an ID"):
        L.claim("init5", True, "bad id")


def test_plural() -> None:
    assert [_lesson.plural(n, "figure") for n in (0, 1, 2)] == ["0 figures", "1 figure", "2 figures"]


def test_unknown_lesson_is_a_usage_error(good_only: Path, tmp_path: Path, capsys) -> None:
    assert runner.main(["run", "42", "--out", str(tmp_path)], lessons_dir=good_only) == 2
    assert "no lesson matches '42'" in capsys.readouterr().err


def test_help_explains_commands(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        runner.main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for word in ("list", "run", "--quick", "--out", "--seed", "index.html"):
        assert word in text


def test_python_dash_m_lessons_list() -> None:
    listed = subprocess.run([sys.executable, "-m", "lessons", "list"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "01_activation_functions" in listed.stdout and "Activation functions and their derivatives" in listed.stdout
