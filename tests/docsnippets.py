"""The Python snippets of README.md and docs/*.md, found and made ready to run.

A snippet is a fenced ``python`` block. One that cannot run on its own is marked by an HTML comment on the
line before its fence, giving the reason: ``<!-- snippet: not run, <reason> -->`` (keep it rare). Dates in a
snippet (``YYYY-MM-DD``) that have passed are moved forward by whole years, to the first shift that keeps
every date on its weekday, so a snippet written today still runs in later years.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN = re.compile(r"<!--\s*snippet:\s*not run\b.*-->")
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
#: How far ahead the earliest date of a snippet must lie for it to be left as written.
_AHEAD = timedelta(days=60)


@dataclass(frozen=True)
class Snippet:
    doc: str  # path from the repository root
    line: int  # of the opening fence
    code: str
    run: bool

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def is_test_module(self) -> bool:
        """A snippet that defines pytest tests runs as a test module of its own pytest session."""
        return re.search(r"^def test_", self.code, re.MULTILINE) is not None


def documents() -> list[Path]:
    """README.md and every page under docs/: a page added later is picked up without a change here."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def snippets() -> list[Snippet]:
    found = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip("\n").rpartition("\n")[2]
            doc = path.relative_to(ROOT).as_posix()
            found.append(Snippet(doc, line, match.group(1), run=NOT_RUN.search(before) is None))
    return found


def toml_block(doc: str, heading: str) -> str:
    """The first ``toml`` block of ``doc`` after the line ``heading`` (the README recipe's configuration)."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    after = text[text.index(heading) :]
    return after.split("```toml\n", 1)[1].split("\n```", 1)[0] + "\n"


def in_the_future(code: str, today: date | None = None) -> str:
    """``code`` with its dates moved forward by whole years, weekdays kept, if the earliest one is near."""
    today = today or date.today()
    found = {date(int(y), int(m), int(d)) for y, m, d in _DATE.findall(code) if _valid(int(y), int(m), int(d))}
    if not found or min(found) > today + _AHEAD:
        return code
    for years in range(1, 401):
        moved = {day: _same_day(day, years) for day in found}
        if all(moved.values()) and min(day for day in moved.values() if day) > today + _AHEAD:
            break
    else:  # pragma: no cover - every date keeps its weekday after 400 years
        raise AssertionError(f"no shift keeps the weekdays of {sorted(found)}")

    def shifted(match: re.Match[str]) -> str:
        y, m, d = (int(part) for part in match.groups())
        day = moved.get(date(y, m, d)) if _valid(y, m, d) else None
        return day.isoformat() if day else match.group(0)

    return _DATE.sub(shifted, code)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _same_day(day: date, years: int) -> date | None:
    """``day`` ``years`` later if that date exists and falls on the same weekday."""
    try:
        later = day.replace(year=day.year + years)
    except ValueError:
        return None
    return later if later.weekday() == day.weekday() else None
