"""Run the lessons and write their pages: the logic behind ``python -m lessons``.

Usage (``python -m lessons --help`` prints the same)::

    python -m lessons                      # every lessons/NN_*.py; pages in lesson_output/ (open index.html)
    python -m lessons --quick              # small sizes, the same claims (not much faster: see the README)
    python -m lessons list                 # number, name and title of every lesson
    python -m lessons run 02 --quick       # one or several lessons, by number or by (part of the) name
    python -m lessons run 01 activation_statistics --out /tmp/out --seed 3

A lesson file is a sequence of ``# %%`` cells. The runner executes its code cells one after the
other in one namespace (as a notebook does), with the settings given here (see
``lessons._lesson.use_settings``), and keeps each markdown cell's text. So each lesson's page,
``<out>/NN_name.html``, follows the lesson's own order: its markdown, then what each code cell
printed, tabulated and drew, then its claims (statement and source from ``lessons/claims.md``,
and the result) and its corrections of the decks. ``<out>/index.html`` lists every lesson that has
run into ``<out>`` (running one lesson updates its line and keeps the others) and the claim
coverage; ``<out>/claims.html`` shows the whole catalogue.

A lesson whose claim fails (:class:`~lessons._lesson.ClaimFailed`) or that crashes is reported by
name and the runner exits with status 1, after running all the others. A lesson's printed output
goes to ``<out>/NN_name/log.txt`` (``-v`` shows it live as well).
"""

import argparse
import contextlib
import html
import io
import json
import re
import sys
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from lessons import catalogue as catalogue_module
from lessons._lesson import (
    DEFAULT_OUT,
    Claim,
    ClaimFailed,
    Figure,
    Lesson,
    LessonResult,
    Note,
    Section,
    Settings,
    Table,
    markdown_table,
    plural,
    use_settings,
)

LESSONS_DIR = Path(__file__).resolve().parent
LESSON_FILE = re.compile(r"^(\d\d)_([A-Za-z0-9_]+)\.py$")
TITLE = re.compile(r"Lesson\(\s*[\"'][^\"']+[\"']\s*,\s*([\"'])(.+?)\1")


@dataclass
class LessonInfo:
    """One lesson file: ``number`` ("02"), ``name`` ("02_activation_statistics"), ``path``."""

    number: str
    name: str
    path: Path

    @property
    def title(self) -> str:
        """The title given to ``Lesson("NN_name", "<title>")``, read from the source (no import)."""
        match = TITLE.search(self.path.read_text(encoding="utf-8"))
        return match.group(2) if match else self.name[3:].replace("_", " ")


@dataclass
class Cell:
    """A ``# %%`` cell: ``kind`` "code" or "markdown", its ``text``, and the 0-based line its text starts on."""

    kind: str
    text: str
    line: int


def parse_cells(source: str) -> list[Cell]:
    """Split a lesson's source at its top-level ``# %%`` markers (jupytext's "percent" format).

    Markdown cells lose their leading ``# `` so that their text is plain markdown; blank cells are dropped.
    """
    cells: list[Cell] = []
    kind, start, body = "code", 0, []  # type: tuple[str, int, list[str]]

    def flush() -> None:
        if kind == "markdown":
            text = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body).strip()
        else:
            text = "\n".join(body)
        if text.strip():
            cells.append(Cell(kind, text, start))

    for i, line in enumerate(source.splitlines()):
        if line.startswith("# %%"):
            flush()
            kind, start, body = ("markdown" if "[markdown]" in line else "code"), i + 1, []
        else:
            body.append(line)
    flush()
    return cells


@dataclass
class Outcome:
    """What happened when one lesson ran. ``status`` is "ok", "claims failed" or "crashed".

    ``blocks`` is the page in the lesson's order: ``("markdown", text)`` for a markdown cell and
    ``("items", start, stop)`` for the items (``result.items[start:stop]``) a code cell produced.
    ``namespace`` holds the lesson's globals after the run (its functions, for tests).
    """

    lesson: LessonInfo
    status: str
    seconds: float
    result: LessonResult | None = None
    error: str = ""
    blocks: list[tuple] = field(default_factory=list)
    namespace: dict[str, Any] = field(default_factory=dict)

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


class _Tee(io.TextIOBase):
    """Write to several text streams at once (the log file and, with -v, the terminal)."""

    def __init__(self, *streams: Any):
        self.streams = streams

    def write(self, text: str) -> int:
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()


def execute(lesson: LessonInfo, settings: Settings) -> Outcome:
    """Execute a lesson cell by cell with ``settings``, never raising (a failure becomes the status)."""
    path = lesson.path
    cells = parse_cells(path.read_text(encoding="utf-8"))
    module = types.ModuleType(f"lessons.{lesson.name}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses defined in a lesson look their module up here
    blocks: list[tuple] = []
    known = len(Lesson.created)
    start = time.perf_counter()

    def current() -> LessonResult | None:
        return Lesson.created[-1].result if len(Lesson.created) > known else None

    status, error = "ok", ""
    try:
        with use_settings(settings):
            for cell in cells:
                if cell.kind == "markdown":
                    blocks.append(("markdown", cell.text))
                    continue
                made = current()
                before = len(made.items) if made else 0
                try:
                    # padded with newlines so that a traceback names the line of the lesson file
                    exec(compile("\n" * cell.line + cell.text, str(path), "exec"), module.__dict__)
                finally:
                    made = current()
                    if made is not None:
                        blocks.append(("items", before, len(made.items)))
    except ClaimFailed as err:
        print(str(err))
        status = "claims failed"
        error = f"claim(s) no longer hold: {', '.join(c.id for c in err.failed)}\n{err}"
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # a crash (SystemExit included) must not stop the other lessons
        text = traceback.format_exc()
        print(text)
        status, error = "crashed", f"{type(err).__name__}: {err}\n{text}"
    finally:
        sys.modules.pop(module.__name__, None)
    result = current()
    if status == "ok" and result is None:
        status, error = "crashed", 'the lesson made no Lesson: start it with L = Lesson("NN_name", "Title")'
    elif status == "ok" and result is not None and not result.finished:
        status, error = "crashed", "the lesson did not end with L.finish()"
    if result is not None and not result.finished:
        result.seconds = time.perf_counter() - start
    return Outcome(lesson, status, time.perf_counter() - start, result, error, blocks, dict(module.__dict__))


def run_one(lesson: LessonInfo, quick: bool, out: Path, verbose: bool = False, seed: int | None = None) -> Outcome:
    """Run one lesson with its output (and log.txt) under ``out``; write its summary and its page."""
    log_dir = out / lesson.name
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "log.txt", "w", encoding="utf-8") as log:
        stream = _Tee(log, sys.stdout) if verbose else log
        with contextlib.redirect_stdout(stream):  # type: ignore[type-var]
            outcome = execute(lesson, Settings(quick, str(out), seed))
    write_summary(outcome, out)
    return outcome


def summary_line(o: Outcome) -> str:
    """``02_activation_statistics   ok   9.8 s  8 figures  7 claims`` (plus the reason on failure)."""
    r = o.result
    figures = plural(len(r.figures), "figure") if r else "- figures"
    claims = plural(len(r.claims), "claim") if r else "- claims"
    line = f"{o.lesson.name:<36} {o.status:<13} {o.seconds:6.1f} s  {figures:>11}  {claims:>10}"
    if not o.ok:
        line += "  <- " + o.error.splitlines()[0]
    return line


# ------------------------------------------------------------------------------ summaries and coverage


def write_summary(o: Outcome, out: Path) -> Path:
    """``<out>/NN_name/summary.json``: what the index needs about one run (kept between runs)."""
    r = o.result
    data = {"name": o.lesson.name, "title": r.title if r else o.lesson.title, "status": o.status,
            "seconds": round(o.seconds, 2), "quick": r.quick if r else None, "seed": r.seed if r else None,
            "figures": len(r.figures) if r else 0,
            "claims": [[c.id, c.passed] for c in r.claims] if r else [],
            "error": o.error.splitlines()[0] if o.error else "", "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
    path = out / o.lesson.name / "summary.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def read_summaries(out: Path, lessons: Sequence[LessonInfo]) -> list[dict[str, Any]]:
    """The summaries in ``out`` of the lessons that exist, in lesson order (lessons never run are left out)."""
    found = []
    for les in lessons:
        path = out / les.name / "summary.json"
        if path.is_file():
            found.append(json.loads(path.read_text(encoding="utf-8")))
    return found


def covered_ids(summaries: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """Claim ID -> the lessons that checked it and saw it hold."""
    cov: dict[str, list[str]] = {}
    for s in summaries:
        for cid, passed in s["claims"]:
            if passed and s["name"] not in cov.setdefault(cid, []):
                cov[cid].append(s["name"])
    return {k: v for k, v in cov.items() if v}


# ------------------------------------------------------------------------------------------ HTML

_CSS = """
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; font-size: 17px; line-height: 1.45; max-width: 1200px;
       margin: 0 auto; padding: 0 1.2em 3em; color: #222; }
nav { background: #fafafa; border-bottom: 1px solid #ccc; padding: 0.4em 0; z-index: 1; }
nav ul { display: flex; flex-wrap: wrap; gap: 0.2em 1.1em; list-style: none; margin: 0; padding: 0; }
nav a { text-decoration: none; } nav a.here { font-weight: bold; text-decoration: underline; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 1.8em; border-bottom: 1px solid #aaa; }
.wide { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.55em; text-align: left; vertical-align: top;
         overflow-wrap: break-word; } th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1em 0 1.6em; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; cursor: zoom-in; }
figcaption { font-style: italic; color: #444; } .hint { font-size: 0.85em; color: #777; font-style: normal; }
.ok { color: #176b2c; font-weight: bold; } .failed { color: #b00020; font-weight: bold; }
p.claim { margin: 0.3em 0; padding: 0.2em 0.6em; border-left: 4px solid #3a9a55; background: #f1f8f2; }
p.claim.failed-claim { border-left-color: #b00020; background: #fdecee; }
.slip { background: #fff7e0; border-left: 4px solid #e0a000; padding: 0.4em 0.8em; margin: 0.6em 0; }
.source { color: #555; font-size: 0.9em; } .meta { color: #555; }
pre { background: #f4f4f4; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; }
code { background: #f2f2f2; padding: 0 0.2em; }
"""

_NUMBER = re.compile(r"^[-+]?(\d[\d.,]*|\.\d+)(e[-+]?\d+)?( ?[a-z%]+)?$", re.IGNORECASE)


def _markdown(text: str) -> str:
    """Markdown to HTML with markdown-it-py (CommonMark plus tables; raw HTML in the source is escaped)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


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
    return f"<div class='wide'><table><thead>{head}</thead><tbody>{body}</tbody></table></div>"


def _page(title: str, nav: str, body: Sequence[str]) -> str:
    return "\n".join([f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                      f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                      f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>", nav, *body,
                      "</body></html>"]) + "\n"


def _nav(lessons: Sequence[LessonInfo], out: Path, here: str = "") -> str:
    """Links to the index, the claims page and every lesson page (it wraps on a narrow screen)."""
    links = [("index.html", "Index"), ("claims.html", "Claims")] + \
            [(f"{les.name}.html", les.name) for les in lessons]
    mark = {here: " class='here'"}
    items = "".join(f"<li><a href='{html.escape(href)}'{mark.get(href, '')}>{html.escape(text)}</a></li>"
                    for href, text in links)
    return f"<nav><ul>{items}</ul></nav>"


def _item_html(item: Any, lesson_name: str) -> str:
    esc = html.escape
    if isinstance(item, Section):
        return f"<h3>{esc(item.title)}</h3>"
    if isinstance(item, Note):
        return f"<p>{esc(item.text)}</p>"
    if isinstance(item, Table):
        caption = f"<p><b>{esc(item.caption)}</b></p>" if item.caption else ""
        return caption + _html_table(item.headers, item.rows)
    if isinstance(item, Figure):
        src = esc(f"{lesson_name}/{item.path.name}")
        return (f"<figure><a href='{src}' target='_blank'><img src='{src}' alt='{esc(item.caption or item.path.name)}'>"
                f"</a><figcaption>{esc(item.caption)} <span class='hint'>(click for full size)</span>"
                "</figcaption></figure>")
    if isinstance(item, Claim):
        mark = "holds" if item.passed else "FAILED"
        cls = "claim" if item.passed else "claim failed-claim"
        detail = f" <span class='source'>({esc(item.detail)})</span>" if item.detail else ""
        return f"<p class='{cls}'><b>{esc(item.id)} {mark}:</b> {esc(item.message)}{detail}</p>"
    return ""  # slips go to the end of the page


def lesson_html(o: Outcome, lessons: Sequence[LessonInfo], out: Path, cat: catalogue_module.Catalogue) -> str:
    """One lesson's page: its cells in order, then its claims and its corrections of the decks."""
    esc = html.escape
    r = o.result
    title = f"{o.lesson.name}: {r.title if r else o.lesson.title}"
    body = []
    state = "<span class='ok'>ok</span>" if o.ok else f"<span class='failed'>{esc(o.status.upper())}</span>"
    mode = "" if r is None else (", quick mode" if r.quick else ", full mode") + f", seed {r.seed}"
    counts = "" if r is None else f", {plural(len(r.figures), 'figure')}, {plural(len(r.claims), 'claim')}"
    body.append(f"<p class='meta'>{esc(o.lesson.name)}: {state}, {o.seconds:.1f} s{esc(mode)}{esc(counts)}</p>")
    if not o.ok:
        body.append(f"<pre class='failed'>{esc(o.error.strip())}</pre>")
    for block in o.blocks:
        if block[0] == "markdown":
            body.append(_markdown(block[1]))
        elif r is not None:
            body += [_item_html(item, o.lesson.name) for item in r.items[block[1]:block[2]]]
    if r is not None and r.claims:
        body.append("<h2>Claims checked</h2>")
        seen: dict[str, list[Claim]] = {}
        for c in r.claims:
            seen.setdefault(c.id, []).append(c)
        for cid, checks in seen.items():
            entry = cat.claims.get(cid)
            good = all(c.passed for c in checks)
            body.append(f"<h3 id='{esc(cid)}'>{esc(cid)} <span class='{'ok' if good else 'failed'}'>"
                        f"{'holds' if good else 'FAILED'}</span></h3>")
            body.append(f"<p>{esc(entry.text) if entry else '(not in the catalogue)'}</p>")
            if entry:
                body.append(f"<p class='source'>Source: {esc(cat.source_text(cid))}</p>")
            body.append("<ul>" + "".join(
                f"<li><span class='{'ok' if c.passed else 'failed'}'>{'ok' if c.passed else 'FAILED'}</span> "
                f"{esc(c.message)}" + (f" <span class='source'>({esc(c.detail)})</span>" if c.detail else "") + "</li>"
                for c in checks) + "</ul>")
    if r is not None and r.slips:
        body.append("<h2>Corrections of the decks</h2>")
        body += [f"<div class='slip'><b>{esc(cat.deck_title(s.deck))}</b>: the slide says {esc(s.slide_says)}.<br>"
                 f"<b>Correct:</b> {esc(s.correct)}</div>" for s in r.slips]
    return _page(title, _nav(lessons, out, f"{o.lesson.name}.html"), body)


def index_html(summaries: Sequence[dict[str, Any]], lessons: Sequence[LessonInfo], out: Path,
               cat: catalogue_module.Catalogue) -> str:
    """The index: every lesson run into ``out`` (title, status, time, figure and claim counts) and coverage."""
    esc = html.escape
    body = ["<h1>minidl lessons</h1>",
            "<p>Each lesson reproduces claims of five lecture decks on training deep networks and asserts them; "
            "click a lesson for its page.</p>"]
    rows = []
    for s in summaries:
        ids = sorted({cid for cid, _ in s["claims"]}, key=_id_key)
        status = "ok" if s["status"] == "ok" else f"<span class='failed'>{esc(s['status'].upper())}</span>"
        mode = "-" if s["quick"] is None else ("quick" if s["quick"] else "full")
        rows.append(f"<tr><td><a href='{esc(s['name'])}.html'>{esc(s['name'])}</a></td><td>{esc(s['title'])}</td>"
                    f"<td>{status}</td><td>{esc(mode)}</td><td class='num'>{s['seconds']:.1f} s</td>"
                    f"<td class='num'>{s['figures']}</td><td class='num'>{len(s['claims'])}</td>"
                    f"<td>{esc(', '.join(ids))}</td></tr>")
    body.append("<div class='wide'><table><thead><tr><th>lesson</th><th>title</th><th>status</th><th>mode</th>"
                "<th>time</th><th>figures</th><th>claims checked</th><th>claim IDs</th></tr></thead><tbody>"
                + "".join(rows) + "</tbody></table></div>")
    missing_runs = [les.name for les in lessons if les.name not in {s["name"] for s in summaries}]
    if missing_runs:
        body.append(f"<p class='meta'>Not run into this folder yet: {esc(', '.join(missing_runs))}.</p>")
    cov = covered_ids(summaries)
    in_cat = [cid for cid in cat.claims if cid in cov]
    missing = [cid for cid in cat.claims if cid not in cov]
    body.append(f"<h2>Coverage</h2><p><b>{len(in_cat)} of {len(cat.claims)}</b> claims of the catalogue are "
                f"checked and hold in these lessons (<a href='claims.html'>the catalogue</a>).</p>")
    body.append(f"<p><b>Not yet covered ({len(missing)}):</b> {esc(', '.join(missing) or 'none')}</p>")
    unknown = [cid for cid in cov if cid not in cat.claims]
    if unknown:
        body.append(f"<p class='failed'>Checked but not in the catalogue: {esc(', '.join(unknown))}</p>")
    return _page("minidl lessons", _nav(lessons, out, "index.html"), body)


def claims_html(summaries: Sequence[dict[str, Any]], lessons: Sequence[LessonInfo], out: Path,
                cat: catalogue_module.Catalogue) -> str:
    """The catalogue as a page: decks, then every claim with its source and where it was checked."""
    esc = html.escape
    cov = covered_ids(summaries)
    failed = {cid for s in summaries for cid, passed in s["claims"] if not passed}
    body = ["<h1>The claims the lessons check</h1>", "<h2>Decks</h2>",
            _html_table(["key", "deck"], [[k, v] for k, v in cat.decks.items()]), "<h2>Claims</h2>"]
    rows = []
    for cid, c in cat.claims.items():
        if cid in failed:
            result = "<span class='failed'>FAILED</span>"
        elif cid in cov:
            result = "holds in " + ", ".join(f"<a href='{esc(n)}.html#{esc(cid)}'>{esc(n[:2])}</a>" for n in cov[cid])
        else:
            result = "-"
        rows.append(f"<tr><td id='{esc(cid)}'>{esc(cid)}</td><td>{esc(c.text)}</td>"
                    f"<td>{esc('; '.join(cat.decks[k] for k in c.sources))}</td><td>{result}</td></tr>")
    body.append("<div class='wide'><table><thead><tr><th>ID</th><th>claim</th><th>source</th><th>checked</th></tr>"
                "</thead><tbody>" + "".join(rows) + "</tbody></table></div>")
    return _page("minidl lessons: claims", _nav(lessons, out, "claims.html"), body)


def _id_key(cid: str) -> tuple[str, int]:
    prefix, _, num = cid.partition("-")
    return prefix, int(num) if num.isdigit() else 0


def index_markdown(summaries: Sequence[dict[str, Any]], cat: catalogue_module.Catalogue) -> str:
    """``index.md``: the index as plain markdown (for a terminal or a repository viewer)."""
    rows = [[s["name"], s["title"], s["status"], "-" if s["quick"] is None else ("quick" if s["quick"] else "full"),
             f"{s['seconds']:.1f} s", s["figures"], len(s["claims"])] for s in summaries]
    cov = covered_ids(summaries)
    missing = [cid for cid in cat.claims if cid not in cov]
    return "\n".join(["# minidl lessons", "",
                      markdown_table(["lesson", "title", "status", "mode", "time", "figures", "claims"], rows), "",
                      f"**Claims covered: {sum(c in cov for c in cat.claims)} of {len(cat.claims)}.** "
                      f"Not yet covered: {', '.join(missing) or 'none'}", ""])


def write_pages(outcomes: Sequence[Outcome], out: Path, lessons: Sequence[LessonInfo]) -> Path:
    """Write the page of each lesson just run, then the index and the claims page; return the index path."""
    cat = catalogue_module.load()
    out.mkdir(parents=True, exist_ok=True)
    summaries = read_summaries(out, lessons)
    (out / "index.md").write_text(index_markdown(summaries, cat), encoding="utf-8")
    try:
        import markdown_it  # noqa: F401
    except ImportError:
        print("note: the HTML pages need markdown-it-py (pip install -e \".[lessons]\"); wrote index.md only")
        return out / "index.md"
    for o in outcomes:
        (out / f"{o.lesson.name}.html").write_text(lesson_html(o, lessons, out, cat), encoding="utf-8")
    (out / "index.html").write_text(index_html(summaries, lessons, out, cat), encoding="utf-8")
    (out / "claims.html").write_text(claims_html(summaries, lessons, out, cat), encoding="utf-8")
    return out / "index.html"


# ------------------------------------------------------------------------------------------ CLI


def _add_run_options(p: argparse.ArgumentParser, suppress: bool) -> None:
    default = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    p.add_argument("--quick", action="store_true", default=default(False),
                   help="small sizes, the same claims (the full run takes under 2 minutes on 2 cores)")
    p.add_argument("--out", default=default(DEFAULT_OUT), metavar="DIR",
                   help=f"output folder for figures, tables and the pages (default {DEFAULT_OUT}/)")
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
                    "teaches the truth). Without a command, every lesson runs. Each lesson gets a page "
                    "(<out>/NN_name.html); <out>/index.html lists them with the claim coverage of "
                    "lessons/claims.md.",
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
    all_lessons = discover(lessons_dir)

    if args.command == "list":
        for les in all_lessons:
            print(f"{les.number}  {les.name:<36} {les.title}")
        return 0
    lessons = all_lessons
    if args.command == "run":
        try:
            lessons = select(all_lessons, args.lessons)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if not lessons:
        print(f"error: no lessons (NN_name.py) found in {lessons_dir}", file=sys.stderr)
        return 2

    from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type hints; types-tqdm not installed

    out = Path(args.out)
    mode = "quick" if args.quick else "full"
    seed_note = "" if args.seed is None else f", seed {args.seed}"
    print(f"running {plural(len(lessons), 'lesson')}, {mode} mode{seed_note}, output in {out}/")
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

    index = write_pages(outcomes, out, all_lessons)
    cat = catalogue_module.load()
    cov = covered_ids(read_summaries(out, all_lessons))
    n_claims = sum(len(o.result.claims) for o in outcomes if o.result)
    n_figs = sum(len(o.result.figures) for o in outcomes if o.result)
    print(f"\n{plural(len(outcomes), 'lesson')}, {plural(n_claims, 'claim')} checked, "
          f"{plural(n_figs, 'figure')} in {total:.1f} s")
    print(f"pages: {index}")
    print(f"claims covered (all lessons run into {out}/): {sum(c in cov for c in cat.claims)} of {len(cat.claims)} "
          f"in lessons/claims.md: " + (", ".join(c for c in cat.claims if c in cov) or "none"))
    print("not yet covered: " + (", ".join(c for c in cat.claims if c not in cov) or "none"))

    bad = [o for o in outcomes if not o.ok]
    for o in bad:
        print(f"\nFAILED: {o.lesson.name} ({o.status}): {o.error.strip()}\n"
              f"  (its output is in {out / o.lesson.name / 'log.txt'})", file=sys.stderr)
    if bad:
        print(f"\n{plural(len(bad), 'lesson')} failed: {', '.join(o.lesson.name for o in bad)}", file=sys.stderr)
        return 1
    return 0
