"""The small toolkit every lesson uses: settings, output folder, tables, figures and claims.

A lesson is a file of top-level cells (see lessons/README.md, "How to write a new lesson")::

    # %% [markdown]
    # # Lesson 09: A title
    # What the lesson shows, in a few sentences.

    # %%
    ...the path lines every lesson starts with, then the imports...
    from lessons._lesson import Lesson
    L = Lesson("09_a_title", "A title")       # settings: quick, out_dir, seed (see Settings)

    # %% [markdown]
    # ## 1. An experiment
    # What it shows and which claim it checks (ACT-1).

    # %%
    L.table("peaks", ["activation", "max f'(x)"], rows, caption="...")
    L.figure(fig, "derivatives", caption="...")      # saved as PNG; shown inline in a notebook
    L.claim("ACT-1", abs(peak - 0.25) < 1e-6, "sigmoid' peaks at 0.25", peak=peak)
    L.slip("di504", "the leaky ReLU slope is 0.1 on the gallery", "0.01, as on the slide and in PyTorch")

    # %%
    L.finish()          # raises ClaimFailed if any claim did not hold

Claim IDs are those of the project's catalogue, ``lessons/claims.md``; deck keys (``"di504"``) are
the keys of its table of decks. A claim that no longer holds does not stop the lesson at once:
every claim is checked and printed, and ``finish()`` then raises :class:`ClaimFailed` naming all
that failed, so a lesson can never quietly teach something false.
"""

import argparse
import contextlib
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import matplotlib


def in_notebook() -> bool:
    """True inside a Jupyter kernel (Jupyter, VS Code's interactive window), where figures show inline."""
    shell = sys.modules.get("IPython")
    ipython = getattr(shell, "get_ipython", lambda: None)() if shell else None
    return ipython is not None and hasattr(ipython, "kernel")


if not in_notebook():
    matplotlib.use("Agg")  # scripts and the runner draw off-screen (CI, ssh); a notebook keeps its inline backend
import matplotlib.pyplot as plt  # noqa: E402

import minidl as md  # noqa: E402

DEFAULT_OUT = "lesson_output"
CLAIM_ID = re.compile(r"^[A-Z]+-\d+$")


# ---- settings: the one place they come from -------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How a lesson runs: ``quick`` (small sizes, seconds), ``out`` (output folder), ``seed`` (None: the
    lesson's own default)."""

    quick: bool = False
    out: str = DEFAULT_OUT
    seed: int | None = None


_runner_settings: list[Settings] = []  # set by the runner while it runs a lesson (a stack, innermost last)


@contextlib.contextmanager
def use_settings(settings: Settings) -> Iterator[Settings]:
    """Run the lessons created inside this block with ``settings`` (what ``python -m lessons`` does)."""
    _runner_settings.append(settings)
    try:
        yield settings
    finally:
        _runner_settings.pop()


def settings_from_environment() -> Settings:
    """Defaults, changed by ``LESSONS_QUICK=1``, ``LESSONS_OUT=DIR``, ``LESSONS_SEED=N`` (e.g. for a notebook)."""
    seed = os.environ.get("LESSONS_SEED", "")
    return Settings(quick=os.environ.get("LESSONS_QUICK", "") not in ("", "0"),
                    out=os.environ.get("LESSONS_OUT", "") or DEFAULT_OUT,
                    seed=int(seed) if seed else None)


def settings_from_command_line(name: str, title: str, argv: Sequence[str] | None = None) -> Settings:
    """Parse ``[--quick] [--out DIR] [--seed N]`` (defaults from the environment)."""
    env = settings_from_environment()
    parser = argparse.ArgumentParser(prog=f"python lessons/{name}.py", description=title)
    parser.add_argument("--quick", action="store_true", default=env.quick, help="small sizes: runs in seconds")
    parser.add_argument("--out", default=env.out, metavar="DIR", help=f"output folder (default {DEFAULT_OUT}/)")
    parser.add_argument("--seed", type=int, default=env.seed, metavar="N", help="random seed (default: the lesson's)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    return Settings(args.quick, args.out, args.seed)


def run_as_script(name: str) -> bool:
    """True when the lesson file itself was started with ``python lessons/NN_name.py``."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is not None and Path(main_file).stem == name


def current_settings(name: str, title: str) -> Settings:
    """The settings of the lesson ``name``, from exactly one source:

    1. the runner (``python -m lessons``), which sets them with :func:`use_settings`;
    2. the command line, when the lesson file is run as a script;
    3. otherwise (a notebook, an import) the environment: ``LESSONS_QUICK``, ``LESSONS_OUT``, ``LESSONS_SEED``.
    """
    if _runner_settings:
        return _runner_settings[-1]
    if run_as_script(name):
        return settings_from_command_line(name, title)
    return settings_from_environment()


# ---- what a lesson produces, in order ---------------------------------------------------------------


class ClaimFailed(AssertionError):
    """Raised by :meth:`Lesson.finish` when one or more of the lesson's claims did not hold."""

    def __init__(self, lesson: str, failed: list["Claim"], result: "LessonResult | None" = None):
        self.lesson = lesson
        self.failed = failed
        self.result = result  # everything the lesson produced, so the runner can still show it
        lines = "\n".join(f"  {c.id}: {c.message} ({c.detail})" for c in failed)
        super().__init__(f"lesson {lesson}: {len(failed)} claim(s) no longer hold:\n{lines}")


@dataclass
class Section:
    title: str


@dataclass
class Note:
    text: str


@dataclass
class Claim:
    id: str
    passed: bool
    message: str
    detail: str = ""


@dataclass
class Figure:
    path: Path
    caption: str


@dataclass
class Table:
    name: str
    headers: list[str]
    rows: list[list[str]]  # cells already formatted
    caption: str

    @property
    def markdown(self) -> str:
        return markdown_table(self.headers, self.rows)


@dataclass
class Slip:
    deck: str  # a key of the decks table in lessons/claims.md, e.g. "crash-course"
    slide_says: str
    correct: str


Item = Section | Note | Claim | Figure | Table | Slip


@dataclass
class LessonResult:
    """What a lesson produced: ``items`` in the order it made them, and the same by kind."""

    name: str
    title: str
    out_dir: Path
    quick: bool
    seed: int = 0
    seconds: float = 0.0
    finished: bool = False  # set by Lesson.finish()
    items: list[Item] = field(default_factory=list)

    def _of(self, kind: type) -> list:
        return [i for i in self.items if isinstance(i, kind)]

    @property
    def figures(self) -> list[Figure]:
        return self._of(Figure)

    @property
    def tables(self) -> list[Table]:
        return self._of(Table)

    @property
    def claims(self) -> list[Claim]:
        return self._of(Claim)

    @property
    def slips(self) -> list[Slip]:
        return self._of(Slip)

    @property
    def notes(self) -> list[str]:
        return [n.text for n in self._of(Note)]

    @property
    def failed(self) -> list[Claim]:
        return [c for c in self.claims if not c.passed]


def plural(n: int, word: str) -> str:
    """``plural(1, "figure")`` is "1 figure", ``plural(2, "figure")`` is "2 figures"."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_value(value: Any, digits: int = 3) -> str:
    """Format one table cell: floats to ``digits`` significant figures, everything else as str
    (a string is already formatted: "8000" stays "8000", not "8e+03")."""
    if isinstance(value, (bool, str)) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if x == 0.0:
        return "0"
    return f"{x:.{digits}g}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 3) -> str:
    """A GitHub-style markdown table with aligned columns (also readable as plain text)."""
    # a "|" inside a cell (e.g. "|z| = 10") would split it: escape it as "\|" (GitHub markdown)
    cells = [[str(h).replace("|", "\\|") for h in headers]] + \
            [[format_value(v, digits).replace("|", "\\|") for v in row] for row in rows]
    for row in cells:
        if len(row) != len(headers):
            raise ValueError(f"table row {row} has {len(row)} cells, expected {len(headers)}")
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


class Lesson:
    """One run of a lesson: its settings, seeded RNGs, and everything it prints, saves and checks.

    ``Lesson(name, title, seed=0)``: ``name`` is the file's name without ``.py`` ("01_activation_functions").
    Attributes: ``quick`` (bool: small sizes, seconds), ``seed``, ``out_dir`` (this lesson's folder under
    the output folder), ``rng`` (a seeded ``numpy.random.Generator`` for plain-array reference code).
    minidl's own RNG is seeded with ``md.manual_seed(seed)``.
    """

    created: list["Lesson"] = []  # every Lesson made in this process; the runner takes the latest

    def __init__(self, name: str, title: str, seed: int = 0):
        self.name = name
        self.title = title
        settings = current_settings(name, title)
        self.quick: bool = settings.quick
        self.seed: int = seed if settings.seed is None else settings.seed
        self.out_dir = Path(settings.out) / name
        self.out_dir.mkdir(parents=True, exist_ok=True)
        md.manual_seed(self.seed)
        import numpy  # lessons may use NumPy for plain-array reference code; the engine never does

        self.rng = numpy.random.default_rng(self.seed)
        self.result = LessonResult(name, title, self.out_dir, self.quick, self.seed)
        self._start = time.perf_counter()
        Lesson.created.append(self)
        mode = " (quick)" if self.quick else ""
        print(f"=== {name}: {title}{mode}, seed {self.seed}, output in {self.out_dir} ===")

    # ---- printing -------------------------------------------------------------------------------
    def section(self, title: str) -> None:
        """Print a section heading (the markdown cell before an experiment usually says more)."""
        print(f"\n--- {title} ---")
        self.result.items.append(Section(title))

    def note(self, text: str) -> None:
        """Print a sentence of explanation (usually with measured numbers) and keep it for the page."""
        print(text)
        self.result.items.append(Note(text))

    def table(self, name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
              caption: str = "", digits: int = 3) -> str:
        """Print a table, save it as ``<out>/<name>.md``, and return its markdown."""
        cells = [[format_value(v, digits) for v in row] for row in rows]
        table = Table(name, [str(h) for h in headers], cells, caption)
        text = table.markdown
        if caption:
            print(caption)
        print(text)
        (self.out_dir / f"{name}.md").write_text((f"{caption}\n\n" if caption else "") + text + "\n")
        self.result.items.append(table)
        return text

    def figure(self, fig: "plt.Figure", name: str, caption: str = "") -> Path:
        """Save ``fig`` as ``<out>/<name>.png``, show it inline in a notebook, and close it.

        Give every axis a title and labels, and draw it to be read at page width (about 1000 px).
        """
        path = self.out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        if in_notebook():
            from IPython.display import Image, display

            display(Image(filename=str(path)))
        plt.close(fig)
        print(f"[figure] {path}" + (f": {caption}" if caption else ""))
        self.result.items.append(Figure(path, caption))
        return path

    # ---- claims ---------------------------------------------------------------------------------
    def claim(self, claim_id: str, condition: Any, message: str, **measured: Any) -> bool:
        """Check a claim of the catalogue (lessons/claims.md) by its ID; ``measured`` values are shown beside it."""
        if not CLAIM_ID.match(claim_id):
            raise ValueError(f"claim id {claim_id!r} does not look like an ID of lessons/claims.md (e.g. 'INIT-5')")
        passed = bool(condition)
        detail = ", ".join(f"{k}={format_value(v, 4)}" for k, v in measured.items())
        self.result.items.append(Claim(claim_id, passed, message, detail))
        print(f"[{'ok' if passed else 'FAILED'}] {claim_id}: {message}" + (f" ({detail})" if detail else ""))
        return passed

    def slip(self, deck: str, slide_says: str, correct: str) -> None:
        """Record a slip of a deck (a key of the decks table in lessons/claims.md): what it says, what is right."""
        print(f"[deck slip] {deck}: the slide says {slide_says}; correct: {correct}")
        self.result.items.append(Slip(deck, slide_says, correct))

    def finish(self) -> LessonResult:
        """Print the claims, write ``<out>/<name>/README.md``, raise :class:`ClaimFailed` on failures."""
        r = self.result
        r.seconds = time.perf_counter() - self._start
        r.finished = True
        if r.claims:
            print()
            print(markdown_table(["claim", "result", "what", "measured"],
                                 [[c.id, "ok" if c.passed else "FAILED", c.message, c.detail]
                                  for c in r.claims]))
        (self.out_dir / "README.md").write_text(lesson_markdown(r))
        print(f"=== {r.name}: {plural(len(r.claims), 'claim')}, {plural(len(r.figures), 'figure')}, "
              f"{r.seconds:.1f} s ===")
        if r.failed:
            raise ClaimFailed(r.name, r.failed, result=r)
        return r


def lesson_markdown(r: LessonResult) -> str:
    """A plain markdown record of one run (figures linked from the lesson's own folder), in order."""
    parts = [f"# {r.name}: {r.title}\n"]
    for item in r.items:
        if isinstance(item, Section):
            parts.append(f"## {item.title}\n")
        elif isinstance(item, Note):
            parts.append(f"{item.text}\n")
        elif isinstance(item, Table):
            parts.append((f"**{item.caption}**\n\n" if item.caption else "") + item.markdown + "\n")
        elif isinstance(item, Figure):
            parts.append(f"![{item.caption}]({item.path.name})\n\n*{item.caption}*\n")
        elif isinstance(item, Claim):
            parts.append(f"- **{item.id}** {'ok' if item.passed else 'FAILED'}: {item.message}"
                         + (f" ({item.detail})" if item.detail else "") + "\n")
        elif isinstance(item, Slip):
            parts.append(f"- Deck slip ({item.deck}): the slide says {item.slide_says}. Correct: {item.correct}\n")
    return "\n".join(parts)
