"""The small toolkit every lesson uses: arguments, output folder, tables, figures and claims.

A lesson script looks like this::

    from lessons._lesson import Lesson

    def main(argv=None):
        L = Lesson(__file__, "Activation functions", argv)
        n = 200 if L.quick else 20_000
        # %% compute something with minidl ...
        L.table("derivative_peaks", ["activation", "max f'(x)"], rows, caption="...")
        L.figure(fig, "derivatives", caption="...")
        L.claim("ACT-1", abs(peak - 0.25) < 1e-6, "sigmoid' peaks at 0.25", peak=peak)
        L.slip("003", "leaky ReLU slope 0.1 on the gallery", "0.01 as on the slide and in PyTorch")
        return L.finish()          # raises ClaimFailed if any claim did not hold

Claims carry the IDs of ``../shared/lectures/CLAIMS.md``. A claim that no longer holds does not
stop the lesson at once: every claim is checked and printed, and ``finish()`` then raises
:class:`ClaimFailed` naming all that failed, so a lesson can never quietly teach something false.
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")  # headless: lessons run in CI and over ssh; set before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402

import minidl as md  # noqa: E402

DEFAULT_OUT = "lesson_output"
CLAIM_ID = re.compile(r"^[A-Z]+-\d+$")


class ClaimFailed(AssertionError):
    """Raised by :meth:`Lesson.finish` when one or more of the lesson's claims did not hold."""

    def __init__(self, lesson: str, failed: list["Claim"], result: "LessonResult | None" = None):
        self.lesson = lesson
        self.failed = failed
        self.result = result  # everything the lesson produced, so the runner can still index it
        lines = "\n".join(f"  {c.id}: {c.message} ({c.detail})" for c in failed)
        super().__init__(f"lesson {lesson}: {len(failed)} claim(s) no longer hold:\n{lines}")


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
    markdown: str
    caption: str


@dataclass
class Slip:
    deck: str
    slide_says: str
    correct: str


@dataclass
class LessonResult:
    """What a lesson produced; the runner turns these into the index page."""

    name: str
    title: str
    out_dir: Path
    quick: bool
    seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    slips: list[Slip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Claim]:
        return [c for c in self.claims if not c.passed]


def format_value(value: Any, digits: int = 3) -> str:
    """Format one table cell: floats to ``digits`` significant figures, everything else as str."""
    if isinstance(value, bool) or value is None:
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
    """One run of a lesson: parses ``--quick``/``--out``/``--seed``, seeds every RNG, collects output.

    Attributes: ``quick`` (bool: small sizes, seconds), ``out_dir`` (this lesson's folder under
    ``--out``), ``rng`` (a seeded ``numpy.random.Generator`` for plain-array reference code),
    ``seed``. minidl's own RNG is seeded with ``md.manual_seed(seed)``.
    """

    def __init__(self, file: str, title: str, argv: Sequence[str] | None = None, seed: int = 0):
        self.name = Path(file).stem
        self.title = title
        parser = argparse.ArgumentParser(prog=f"python -m lessons run {self.name[:2]}", description=title)
        parser.add_argument("--quick", action="store_true", help="small sizes: runs in seconds")
        parser.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT}/)")
        parser.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
        args = parser.parse_args(list(argv) if argv is not None else None)
        self.quick: bool = args.quick
        self.seed: int = args.seed
        self.out_dir = Path(args.out) / self.name
        self.out_dir.mkdir(parents=True, exist_ok=True)
        md.manual_seed(self.seed)
        import numpy  # lessons may use NumPy for plain-array reference code; the engine never does

        self.rng = numpy.random.default_rng(self.seed)
        self.result = LessonResult(self.name, title, self.out_dir, self.quick)
        self._start = time.perf_counter()
        mode = " (quick)" if self.quick else ""
        print(f"\n=== {self.name}: {title}{mode} ===")

    # ---- printing -------------------------------------------------------------------------------
    def section(self, title: str) -> None:
        """Print a section heading (one per ``# %%`` cell is a good rhythm)."""
        print(f"\n--- {title} ---")

    def note(self, text: str) -> None:
        """Print a sentence of explanation and keep it for the index page."""
        print(text)
        self.result.notes.append(text)

    def table(self, name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
              caption: str = "", digits: int = 3) -> str:
        """Print a table, save it as ``<out>/<name>.md``, and return its markdown."""
        text = markdown_table(headers, rows, digits)
        if caption:
            print(caption)
        print(text)
        (self.out_dir / f"{name}.md").write_text((f"{caption}\n\n" if caption else "") + text + "\n")
        self.result.tables.append(Table(name, text, caption))
        return text

    def figure(self, fig: "plt.Figure", name: str, caption: str = "") -> Path:
        """Save ``fig`` as ``<out>/<name>.png`` and close it. Give every axis a title and labels."""
        path = self.out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        print(f"[figure] {path}" + (f": {caption}" if caption else ""))
        self.result.figures.append(Figure(path, caption))
        return path

    # ---- claims ---------------------------------------------------------------------------------
    def claim(self, claim_id: str, condition: Any, message: str, **measured: Any) -> bool:
        """Check a claim of CLAIMS.md by its ID; ``measured`` values are printed beside it."""
        if not CLAIM_ID.match(claim_id):
            raise ValueError(f"claim id {claim_id!r} does not look like an ID from CLAIMS.md (e.g. 'INIT-5')")
        passed = bool(condition)
        detail = ", ".join(f"{k}={format_value(v, 4)}" for k, v in measured.items())
        self.result.claims.append(Claim(claim_id, passed, message, detail))
        print(f"[{'ok' if passed else 'FAILED'}] {claim_id}: {message}" + (f" ({detail})" if detail else ""))
        return passed

    def slip(self, deck: str, slide_says: str, correct: str) -> None:
        """Record a deck slip (CLAIMS.md, "Deck slips"): what the slide says and what is right."""
        print(f"[deck slip] deck {deck}: the slide says {slide_says}; correct: {correct}")
        self.result.slips.append(Slip(deck, slide_says, correct))

    def finish(self) -> LessonResult:
        """Print the claims table, write ``<out>/README.md``, raise :class:`ClaimFailed` on failures."""
        r = self.result
        r.seconds = time.perf_counter() - self._start
        if r.claims:
            print()
            print(markdown_table(["claim", "result", "what", "measured"],
                                 [[c.id, "ok" if c.passed else "FAILED", c.message, c.detail]
                                  for c in r.claims]))
        (self.out_dir / "README.md").write_text(lesson_markdown(r, link_prefix=""))
        print(f"=== {r.name}: {len(r.claims)} claims, {len(r.figures)} figures, {r.seconds:.1f} s ===")
        if r.failed:
            raise ClaimFailed(r.name, r.failed, result=r)
        return r


def lesson_markdown(r: LessonResult, link_prefix: str) -> str:
    """The markdown page of one lesson (figures linked relative to ``link_prefix``)."""
    parts = [f"## {r.name}: {r.title}\n"]
    parts += [f"{n}\n" for n in r.notes]
    for t in r.tables:
        parts.append((f"**{t.caption}**\n\n" if t.caption else "") + t.markdown + "\n")
    for f in r.figures:
        parts.append(f"![{f.caption}]({link_prefix}{f.path.name})\n\n*{f.caption}*\n")
    if r.claims:
        parts.append(markdown_table(["claim", "result", "what", "measured"],
                                    [[c.id, "ok" if c.passed else "FAILED", c.message, c.detail]
                                     for c in r.claims]) + "\n")
    for s in r.slips:
        parts.append(f"- Deck slip ({s.deck}): the slide says {s.slide_says}. Correct: {s.correct}\n")
    return "\n".join(parts)
