"""The project's catalogue of claims, ``lessons/claims.md``, read into Python.

``claims.md`` holds two markdown tables: the decks (key -> title and author) and the claims (ID,
statement, source deck keys, the lessons that check it). It stays a plain markdown file so that it
reads well on its own; this module parses it for the runner (coverage, the claim pages).
"""

import re
from dataclasses import dataclass
from pathlib import Path

CLAIMS_FILE = Path(__file__).resolve().parent / "claims.md"
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class CatalogueClaim:
    """One claim: ``id`` ("INIT-5"), ``text``, ``sources`` (deck keys), ``lessons`` (numbers, "02")."""

    id: str
    text: str
    sources: tuple[str, ...]
    lessons: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    decks: dict[str, str]  # key -> 'Title (author, year)'
    claims: dict[str, CatalogueClaim]  # in the file's order

    def source_text(self, claim_id: str) -> str:
        """The decks a claim comes from, by title and author ("" for an unknown ID)."""
        claim = self.claims.get(claim_id)
        return "; ".join(self.decks.get(k, k) for k in claim.sources) if claim else ""

    def deck_title(self, key: str) -> str:
        """A deck's title and author from its key; keys joined by "/" give each title."""
        return " / ".join(self.decks.get(k.strip(), k.strip()) for k in key.split("/"))


def _rows(text: str, first_header: str) -> list[list[str]]:
    """The body rows of the markdown table whose first header cell is ``first_header``."""
    rows, inside = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            inside = False
            continue
        cells = [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(line.strip()[1:-1])]
        if cells and cells[0] == first_header:
            inside = True
            continue
        if inside and not set(line) <= set("|-: "):
            rows.append(cells)
    return rows


def load(path: Path | str = CLAIMS_FILE) -> Catalogue:
    """Parse ``claims.md``; raises ``ValueError`` naming a malformed row or a repeated ID."""
    text = Path(path).read_text(encoding="utf-8")
    decks = {row[0]: row[1] for row in _rows(text, "key")}
    claims: dict[str, CatalogueClaim] = {}
    for row in _rows(text, "ID"):
        if len(row) != 4:
            raise ValueError(f"{path}: claim row {row[:1]} has {len(row)} cells, "
                             "expected 4 (ID, claim, source, lesson)")
        cid, statement, source, lessons = row
        if cid in claims:
            raise ValueError(f"{path}: claim {cid} is listed twice")
        keys = tuple(k.strip() for k in source.split(",") if k.strip())
        unknown = [k for k in keys if k not in decks]
        if unknown:
            raise ValueError(f"{path}: claim {cid} names unknown deck key(s) {unknown}; known: {sorted(decks)}")
        numbers = tuple(n.strip() for n in lessons.split(",") if n.strip() not in ("", "-"))
        claims[cid] = CatalogueClaim(cid, statement, keys, numbers)
    return Catalogue(decks, claims)
