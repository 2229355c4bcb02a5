"""Run the lessons and build the index page: the logic behind ``python -m lessons``.

Usage (``python -m lessons --help`` prints the same)::

    python -m lessons                      # run every lessons/NN_*.py, write lesson_output/index.{md,html}
    python -m lessons --quick              # small sizes: the whole set in seconds
    python -m lessons list                 # number, name and title of every lesson
    python -m lessons run 02 --quick       # one or several lessons, by number or by (part of the) name
    python -m lessons run 01 activation_statistics --out /tmp/out
    python -m lessons --claims PATH        # CLAIMS.md to compare coverage with (default ../shared/lectures/CLAIMS.md)

Lessons are discovered by file name (``NN_name.py`` in this folder, sorted) and each is run by
calling its ``main([...,"--out", DIR])``, which returns a :class:`~lessons._lesson.LessonResult`.
A lesson whose claim fails (:class:`~lessons._lesson.ClaimFailed`) or that crashes is reported by
name and the runner exits with status 1, after running all the others. A lesson's printed output
goes to ``<out>/<lesson>/log.txt`` (``-v`` shows it live instead).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import importlib.util
import io
import re
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from lessons._lesson import DEFAULT_OUT, ClaimFailed, LessonResult, lesson_markdown, markdown_table

LESSONS_DIR = Path(__file__).resolve().parent
LESSON_FILE = re.compile(r"^(\d\d)_([A-Za-z0-9_]+)\.py$")
CLAIM_ROW = re.compile(r"^\|\s*([A-Z]+-\d+)\s*\|", re.MULTILINE)


def default_claims_path() -> Path:
    """``../shared/lectures/CLAIMS.md`` next to the repository (the lecture notes' claim list)."""
    return LESSONS_DIR.parent.parent / "shared" / "lectures" / "CLAIMS.md"


@dataclass
class LessonInfo:
    """One lesson file: ``number`` ("02"), ``name`` ("02_activation_statistics"), ``path``."""

    number: str
    name: str
    path: Path

    @property
    def title(self) -> str:
        """The title given to ``Lesson(__file__, "<title>", ...)``, read from the source (no import)."""
        match = re.search(r"Lesson\(\s*__file__\s*,\s*([\"'])(.+?)\1", self.path.read_text(encoding="utf-8"))
        return match.group(2) if match else self.name[3:].replace("_", " ")


@dataclass
class Outcome:
    """What happened when one lesson ran. ``status`` is "ok", "claims failed" or "crashed"."""

    lesson: LessonInfo
    status: str
    seconds: float
    result: LessonResult | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def discover(directory: Path | str = LESSONS_DIR) -> list[LessonInfo]:
    """Every ``NN_name.py`` in ``directory``, sorted by file name."""
    found = []
    for path in sorted(Path(directory).iterdir()):
        match = LESSON_FILE.match(path.name)
        if match and path.is_file():
            found.append(LessonInfo(match.group(1), path.stem, path))
    return found


def select(lessons: Sequence[LessonInfo], specs: Sequence[str]) -> list[LessonInfo]:
    """The lessons named by ``specs``: a number ("02" or "2"), a full name, or a unique part of one.

    Raises ``ValueError`` naming a spec that matches no lesson, or several.
    """
    chosen: list[LessonInfo] = []
    for spec in specs:
        spec_clean = spec.removesuffix(".py")
        if spec_clean.isdigit():
            hits = [les for les in lessons if int(les.number) == int(spec_clean)]
        else:
            hits = [les for les in lessons if les.name == spec_clean] or \
                   [les for les in lessons if spec_clean.lower() in les.name.lower()]
        if not hits:
            names = ", ".join(les.name for les in lessons) or "none"
            raise ValueError(f"no lesson matches {spec!r}; the lessons are: {names}")
        if len(hits) > 1:
            raise ValueError(f"{spec!r} matches several lessons ({', '.join(h.name for h in hits)}); be more specific")
        if hits[0] not in chosen:
            chosen.append(hits[0])
    return chosen


def load_main(lesson: LessonInfo) -> Callable[[Sequence[str]], LessonResult]:
    """Import a lesson file (its name starts with a digit, so by path) and return its ``main``."""
    module_name = f"lessons._run_{lesson.name}"
    spec = importlib.util.spec_from_file_location(module_name, lesson.path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import lesson file {lesson.path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    main = getattr(module, "main", None)
    if not callable(main):
        raise AttributeError(f"lesson {lesson.path.name} has no main(argv) function")
    return main


class _Tee(io.TextIOBase):
    """Write to several text streams at once (the log file and, with -v, the terminal)."""

    def __init__(self, *streams: io.TextIOBase):
        self.streams = streams

    def write(self, text: str) -> int:
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()


def run_one(lesson: LessonInfo, quick: bool, out: Path, verbose: bool = False, seed: int | None = None) -> Outcome:
    """Run one lesson, never raising: a failed claim or a crash becomes the outcome's status.

    ``seed`` overrides the lesson's default seed (the claims must hold for any seed, not one lucky one).
    """
    argv = (["--quick"] if quick else []) + ["--out", str(out)] + ([] if seed is None else ["--seed", str(seed)])
    log_dir = out / lesson.name
    log_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log_dir / "log.txt", "w", encoding="utf-8") as log:
        stream = _Tee(log, sys.stdout) if verbose else log
        with contextlib.redirect_stdout(stream):  # type: ignore[type-var]
            try:
                result = load_main(lesson)(argv)
                if not isinstance(result, LessonResult):
                    raise TypeError(f"main() returned {type(result).__name__}, expected a LessonResult "
                                    "(end the lesson with `return L.finish()`)")
                return Outcome(lesson, "ok", time.perf_counter() - start, result)
            except ClaimFailed as err:
                print(str(err))
                failed = ", ".join(c.id for c in err.failed)
                return Outcome(lesson, "claims failed", time.perf_counter() - start, err.result,
                               f"claim(s) no longer hold: {failed}\n{err}")
            except KeyboardInterrupt:
                raise
            except BaseException as err:  # a crash (SystemExit from argparse included) must not stop the others
                text = traceback.format_exc()
                print(text)
                return Outcome(lesson, "crashed", time.perf_counter() - start, None,
                               f"{type(err).__name__}: {err}\n{text}")


def summary_line(o: Outcome) -> str:
    """``02_activation_statistics   ok   9.8 s  8 figures  7 claims`` (plus the reason on failure)."""
    r = o.result
    figures = f"{len(r.figures)} figures" if r else "- figures"
    claims = f"{len(r.claims)} claims" if r else "- claims"
    line = f"{o.lesson.name:<36} {o.status:<13} {o.seconds:6.1f} s  {figures:>11}  {claims:>10}"
    if not o.ok:
        line += "  <- " + o.error.splitlines()[0]
    return line


def claims_in(path: Path) -> list[str]:
    """The claim IDs listed in a CLAIMS.md file (first column of its tables), in file order."""
    ids: list[str] = []
    for cid in CLAIM_ROW.findall(path.read_text(encoding="utf-8")):
        if cid not in ids:
            ids.append(cid)
    return ids


def _id_key(cid: str) -> tuple[str, int]:
    prefix, _, num = cid.partition("-")
    return prefix, int(num)


def covered_ids(outcomes: Sequence[Outcome]) -> dict[str, list[str]]:
    """Claim ID -> lessons that checked it and saw it hold."""
    cov: dict[str, list[str]] = {}
    for o in outcomes:
        if o.result is None:
            continue
        for c in o.result.claims:
            if c.passed and o.lesson.name not in cov.setdefault(c.id, []):
                cov[c.id].append(o.lesson.name)
    return dict(sorted(cov.items(), key=lambda kv: _id_key(kv[0])))


# ------------------------------------------------------------------------------------- index page


def index_markdown(outcomes: Sequence[Outcome], quick: bool, all_ids: list[str] | None) -> str:
    """``index.md``: a summary table, then every lesson's notes, tables, figures, claims and slips."""
    parts = ["# minidl lessons" + (" (quick run)" if quick else ""), ""]
    rows = [[o.lesson.name, o.result.title if o.result else o.lesson.title, o.status, f"{o.seconds:.1f} s",
             len(o.result.figures) if o.result else "-", len(o.result.claims) if o.result else "-"]
            for o in outcomes]
    parts += [markdown_table(["lesson", "title", "status", "time", "figures", "claims"], rows), ""]
    cov = covered_ids(outcomes)
    parts.append(f"**Claims covered ({len(cov)}):** " + (", ".join(cov) or "none"))
    if all_ids is not None:
        missing = [c for c in all_ids if c not in cov]
        parts.append(f"\n**Claims not yet covered ({len(missing)} of {len(all_ids)}):** "
                     + (", ".join(missing) or "none"))
    parts.append("")
    for o in outcomes:
        if o.result is not None:
            parts.append(lesson_markdown(o.result, link_prefix=f"{o.lesson.name}/"))
        else:
            parts.append(f"## {o.lesson.name}: {o.lesson.title}\n")
        if not o.ok:
            parts.append(f"**{o.status.upper()}**\n\n```\n{o.error.strip()}\n```\n")
    return "\n".join(parts) + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2.5em; border-bottom: 1px solid #aaa; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em 0; font-size: 0.92em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; } th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-style: italic; color: #444; }
.ok { color: #176b2c; font-weight: bold; } .failed { color: #b00020; font-weight: bold; }
.slip { background: #fff7e0; border-left: 4px solid #e0a000; padding: 0.4em 0.8em; margin: 0.5em 0; }
pre { background: #f4f4f4; padding: 0.6em; overflow-x: auto; }
nav a { margin-right: 1em; }
"""

_NUMBER = re.compile(r"^[-+]?(\d[\d.,]*|\.\d+)(e[-+]?\d+)?( ?[a-z%]+)?$", re.IGNORECASE)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(tag: str, text: str) -> str:
        cls = ""
        if tag == "td":
            if text in ("ok", "FAILED"):
                cls = ' class="ok"' if text == "ok" else ' class="failed"'
            elif _NUMBER.match(text.strip()):
                cls = ' class="num"'
        return f"<{tag}{cls}>{html.escape(text)}</{tag}>"

    head = "<tr>" + "".join(cell("th", h) for h in headers) + "</tr>"
    body = "".join("<tr>" + "".join(cell("td", str(c)) for c in row) + "</tr>" for row in rows)
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


def markdown_to_html_table(text: str) -> str:
    """Turn a table made by :func:`lessons._lesson.markdown_table` back into an HTML table."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    split = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", ln.strip()[1:-1])]
             for ln in lines if not set(ln) <= set("|- ")]
    if not split:
        return ""
    return _html_table(split[0], split[1:])


def index_html(outcomes: Sequence[Outcome], quick: bool, all_ids: list[str] | None) -> str:
    """``index.html``: one self-contained page (inline CSS; figures linked relatively) for a browser."""
    esc = html.escape
    title = "minidl lessons" + (" (quick run)" if quick else "")
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>",
           f"<style>{_CSS}</style></head><body>", f"<h1>{esc(title)}</h1>"]
    out.append("<nav>" + "".join(f"<a href='#{esc(o.lesson.name)}'>{esc(o.lesson.name)}</a>" for o in outcomes)
               + "</nav>")
    rows = [[o.lesson.name, o.result.title if o.result else o.lesson.title,
             "ok" if o.ok else "FAILED", f"{o.seconds:.1f} s",
             str(len(o.result.figures)) if o.result else "-", str(len(o.result.claims)) if o.result else "-"]
            for o in outcomes]
    out.append(_html_table(["lesson", "title", "status", "time", "figures", "claims"], rows))
    cov = covered_ids(outcomes)
    out.append(f"<p><b>Claims covered ({len(cov)}):</b> {esc(', '.join(cov) or 'none')}</p>")
    if all_ids is not None:
        missing = [c for c in all_ids if c not in cov]
        out.append(f"<p><b>Claims not yet covered ({len(missing)} of {len(all_ids)}):</b> "
                   f"{esc(', '.join(missing) or 'none')}</p>")
    for o in outcomes:
        r = o.result
        out.append(f"<h2 id='{esc(o.lesson.name)}'>{esc(o.lesson.name)}: {esc(r.title if r else o.lesson.title)}</h2>")
        if not o.ok:
            out.append(f"<p class='failed'>{esc(o.status.upper())}</p><pre>{esc(o.error.strip())}</pre>")
        if r is None:
            continue
        out += [f"<p>{esc(n)}</p>" for n in r.notes]
        for t in r.tables:
            if t.caption:
                out.append(f"<p><b>{esc(t.caption)}</b></p>")
            out.append(markdown_to_html_table(t.markdown))
        for f in r.figures:
            src = esc(f"{o.lesson.name}/{f.path.name}")
            out.append(f"<figure><a href='{src}'><img src='{src}' alt='{esc(f.caption or f.path.name)}'></a>"
                       f"<figcaption>{esc(f.caption)}</figcaption></figure>")
        if r.claims:
            out.append("<h3>Claims checked</h3>")
            out.append(_html_table(["claim", "result", "what", "measured"],
                                   [[c.id, "ok" if c.passed else "FAILED", c.message, c.detail] for c in r.claims]))
        if r.slips:
            out.append("<h3>Deck slips</h3>")
            out += [f"<div class='slip'><b>Deck {esc(s.deck)}</b>: the slide says {esc(s.slide_says)}.<br>"
                    f"<b>Correct:</b> {esc(s.correct)}</div>" for s in r.slips]
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_index(outcomes: Sequence[Outcome], out: Path, quick: bool, all_ids: list[str] | None) -> tuple[Path, Path]:
    """Write ``<out>/index.md`` and ``<out>/index.html``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out / "index.md", out / "index.html"
    md_path.write_text(index_markdown(outcomes, quick, all_ids), encoding="utf-8")
    html_path.write_text(index_html(outcomes, quick, all_ids), encoding="utf-8")
    return md_path, html_path


# ------------------------------------------------------------------------------------------ CLI


def _add_run_options(p: argparse.ArgumentParser, suppress: bool) -> None:
    default = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    p.add_argument("--quick", action="store_true", default=default(False),
                   help="small sizes: every lesson in seconds (the whole set within 30 s)")
    p.add_argument("--out", default=default(DEFAULT_OUT), metavar="DIR",
                   help=f"output folder for figures, tables and the index (default {DEFAULT_OUT}/)")
    p.add_argument("--claims", default=default(None), metavar="PATH",
                   help="CLAIMS.md to report uncovered claim IDs against "
                        "(default ../shared/lectures/CLAIMS.md when it exists; information only)")
    p.add_argument("-v", "--verbose", action="store_true", default=default(False),
                   help="show each lesson's printed output live (it always goes to <out>/<lesson>/log.txt)")
    p.add_argument("--no-progress", action="store_true", default=default(False), help="no progress bar")
    p.add_argument("--seed", type=int, default=default(None), metavar="N",
                   help="run every lesson with this random seed instead of its default")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lessons",
        description="Run the minidl lessons: each reproduces claims of the lecture decks, prints its tables, "
                    "saves its figures and asserts the claims (a failed claim means the lesson no longer "
                    "teaches the truth). Without a command, every lesson runs and the index "
                    "(<out>/index.md, <out>/index.html) is written.",
        epilog="examples: python -m lessons --quick | python -m lessons list | "
               "python -m lessons run 02 --quick | python -m lessons run 01 03 --out /tmp/lessons",
    )
    _add_run_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="{list,run}")
    sub.add_parser("list", help="list the lessons (number, name, title)")
    run = sub.add_parser("run", help="run some lessons, by number (02) or name (activation_statistics)")
    run.add_argument("lessons", nargs="+", metavar="LESSON", help="lesson number or (part of a) name")
    _add_run_options(run, suppress=True)
    return parser


def main(argv: Sequence[str] | None = None, lessons_dir: Path | str = LESSONS_DIR) -> int:
    """Entry point of ``python -m lessons``; returns the exit status (0 ok, 1 a lesson failed, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    lessons = discover(lessons_dir)

    if args.command == "list":
        for les in lessons:
            print(f"{les.number}  {les.name:<36} {les.title}")
        return 0

    if args.command == "run":
        try:
            lessons = select(lessons, args.lessons)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if not lessons:
        print(f"error: no lessons (NN_name.py) found in {lessons_dir}", file=sys.stderr)
        return 2

    out = Path(args.out)
    claims_path = Path(args.claims) if args.claims else default_claims_path()
    all_ids = claims_in(claims_path) if claims_path.is_file() else None
    if args.claims and all_ids is None:
        print(f"note: claims file {claims_path} not found; coverage is shown without the uncovered list")

    from tqdm import tqdm

    mode = "quick" if args.quick else "full"
    seed_note = "" if args.seed is None else f", seed {args.seed}"
    print(f"running {len(lessons)} lesson(s), {mode} mode{seed_note}, output in {out}/")
    outcomes: list[Outcome] = []
    start = time.perf_counter()
    # disable=None: tqdm shows the bar only on a terminal (no bar noise in CI logs)
    bar = tqdm(lessons, unit="lesson", disable=True if (args.no_progress or args.verbose) else None,
               dynamic_ncols=True)
    for les in bar:
        bar.set_description(les.name)
        outcome = run_one(les, args.quick, out, verbose=args.verbose, seed=args.seed)
        outcomes.append(outcome)
        tqdm.write(summary_line(outcome))
    bar.close()
    total = time.perf_counter() - start

    md_path, html_path = write_index(outcomes, out, args.quick, all_ids)
    cov = covered_ids(outcomes)
    n_claims = sum(len(o.result.claims) for o in outcomes if o.result)
    n_figs = sum(len(o.result.figures) for o in outcomes if o.result)
    print(f"\n{len(outcomes)} lesson(s), {n_claims} claims checked, {n_figs} figures in {total:.1f} s")
    print(f"index: {md_path}  {html_path}")
    print(f"claim IDs covered ({len(cov)}): " + (", ".join(cov) or "none"))
    if all_ids is not None:
        missing = [c for c in all_ids if c not in cov]
        print(f"claim IDs not covered by these lessons ({len(missing)} of {len(all_ids)} in {claims_path}): "
              + (", ".join(missing) or "none"))

    bad = [o for o in outcomes if not o.ok]
    for o in bad:
        print(f"\nFAILED: {o.lesson.name} ({o.status}): {o.error.strip()}\n"
              f"  (its output is in {out / o.lesson.name / 'log.txt'})", file=sys.stderr)
    if bad:
        print(f"\n{len(bad)} lesson(s) failed: {', '.join(o.lesson.name for o in bad)}", file=sys.stderr)
        return 1
    return 0
