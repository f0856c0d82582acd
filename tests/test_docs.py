"""The docs state what the code does: every error code of the catalogue is in the error table, and every
module and name the architecture page points to exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from airflow_provider_wiziq.api.protocol.errors import ERROR_CODES

DOCS = Path(__file__).resolve().parent.parent / "docs"
SOURCE = Path(__file__).resolve().parent.parent / "src" / "airflow_provider_wiziq"
#: A decision's row: ``| what | `module.py` · `name` | why |``.
DECISION = re.compile(r"^\| [^|]+ \| `([\w/]+\.py)` · `(\w+)` \|")


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_error_table_lists_every_code_with_its_kind(code):
    entry = ERROR_CODES[code]
    rows = [line for line in (DOCS / "errors.md").read_text().splitlines() if line.startswith(f"| {code} |")]
    assert len(rows) == 1, f"docs/errors.md has no single row for {code}"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == entry.message
    assert cells[3] == entry.kind.value


def _decisions() -> list[tuple[str, str]]:
    return [m.groups() for line in (DOCS / "architecture.md").read_text().splitlines() if (m := DECISION.match(line))]


def test_architecture_page_lists_the_decisions() -> None:
    assert len(_decisions()) >= 15


@pytest.mark.parametrize(("module", "name"), _decisions())
def test_each_decision_is_where_the_architecture_page_says(module: str, name: str) -> None:
    path = SOURCE / module
    assert path.is_file(), f"docs/architecture.md points to {module}, which does not exist"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {
        t.id
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    assert name in defined, f"docs/architecture.md says {module} defines {name}; it does not"


def test_the_term_sync_page_says_what_a_break_the_guard_and_the_records_really_do() -> None:
    from datetime import date

    from airflow_provider_wiziq.api.engine.sync import SyncOptions
    from airflow_provider_wiziq.api.protocol.limits import PlanLimits
    from airflow_provider_wiziq.api.rules.term import MAX_FILLER_RUN, check_term, creation_chunks, desired_schedule

    page = " ".join((DOCS / "term-sync.md").read_text(encoding="utf-8").split())
    # A week off of a Monday-to-Friday section stays inside its series: five classes cancelled, one series.
    assert "A break of up to five classes in a row stays inside the series" in page
    assert "(a week of a Monday-to-Friday section) starts a new series" not in page
    assert MAX_FILLER_RUN == 5
    section = {
        "key": "HR",
        "title": "Homeroom",
        "presenter_email": "p@school.example",
        "time_zone": "America/New_York",
        "start_time": "2027-11-01T08:00",
        "class_repeat_type": "mon_fri",
        "class_end_date": "2027-12-10",
    }
    sections, holidays, invalid = check_term([section], ["2027-11-22..2027-11-26"], PlanLimits())
    assert invalid == {}
    desired = desired_schedule(sections["HR"], holidays).desired
    (chunk,) = creation_chunks(sections["HR"], desired, set(), max_series_classes=60)
    assert chunk.wanted.count(False) == 5
    assert {slot.local_start.date() for slot, wanted in zip(chunk.slots, chunk.wanted, strict=True) if not wanted} == {
        date(2027, 11, day) for day in range(22, 27)
    }
    # The default guard refuses dropping one section of four.
    assert (SyncOptions().max_cancel_fraction or 1) < 1 / 4
    assert "In a term of four sections or fewer, one section is more than 20%" in page
    # Where rosters and names end up, and how to keep them out.
    assert "Rosters and names reach Airflow's records." in page
    assert "Airflow then records only the path" in page
