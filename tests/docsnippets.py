"""The Python snippets of README.md and docs/*.md, found and made ready to run.

A snippet is a fenced ``python`` block, at the start of a line or indented (in a list item). One that cannot run
on its own is marked by an HTML comment on the line before its fence, giving the reason:
``<!-- snippet: not run, <reason> -->`` (keep it rare); one that needs a newer Airflow than the oldest supported
is marked ``<!-- snippet: needs Airflow 3.3 -->``. Snippets run as written: a date (``YYYY-MM-DD``) in one that
is less than six months ahead is reported (:func:`near_dates`), so that the docs are moved on before an
example books a class in the past.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN = re.compile(r"<!--\s*snippet:\s*not run\b.*-->")
NEEDS_AIRFLOW = re.compile(r"<!--\s*snippet:\s*needs Airflow (\d+)\.(\d+)\s*-->")
_FENCE = re.compile(r"^([ \t]*)```python[ \t]*\n(.*?)^\1```[ \t]*$", re.DOTALL | re.MULTILINE)
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
#: How far ahead every date of a snippet must lie.
AHEAD = timedelta(days=183)


@dataclass(frozen=True)
class Snippet:
    doc: str  # path from the repository root
    line: int  # of the opening fence
    code: str
    run: bool
    needs_airflow: tuple[int, int] | None = None

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def is_test_module(self) -> bool:
        """A snippet that defines pytest tests runs as a test module of its own pytest session."""
        return re.search(r"^def test_", self.code, re.MULTILINE) is not None

    def runs_on(self, airflow: tuple[int, int]) -> bool:
        """Whether the snippet runs on this Airflow minor (its marker may ask for a newer one)."""
        return self.run and (self.needs_airflow is None or airflow >= self.needs_airflow)


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
            needs = NEEDS_AIRFLOW.search(before)
            found.append(
                Snippet(
                    doc,
                    line,
                    textwrap.dedent(match.group(2)),
                    run=NOT_RUN.search(before) is None,
                    needs_airflow=(int(needs.group(1)), int(needs.group(2))) if needs else None,
                )
            )
    return found


def installed_airflow() -> tuple[int, int]:
    """The installed Airflow's minor, as (3, 3)."""
    from importlib.metadata import version

    major, minor = version("apache-airflow").split(".")[:2]
    return int(major), int(minor)


def toml_block(doc: str, heading: str) -> str:
    """The first ``toml`` block of ``doc`` after the line ``heading`` (the README recipe's configuration)."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    after = text[text.index(heading) :]
    return after.split("```toml\n", 1)[1].split("\n```", 1)[0] + "\n"


def near_dates(snippet: Snippet, today: date | None = None) -> list[str]:
    """Each date of ``snippet`` less than six months ahead of ``today``, as ``doc:line: date``."""
    today = today or date.today()
    found = []
    for match in _DATE.finditer(snippet.code):
        try:
            day = date(*(int(part) for part in match.groups()))
        except ValueError:
            continue
        if day < today + AHEAD:
            line = snippet.line + 1 + snippet.code.count("\n", 0, match.start())
            found.append(f"{snippet.doc}:{line}: {day.isoformat()}")
    return found
