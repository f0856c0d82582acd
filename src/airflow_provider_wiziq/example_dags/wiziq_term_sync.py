"""Keep a school term provisioned on WizIQ, every day, from the student information system's export.

``wiziq_term_sync`` runs daily. It reads the export (``fall_term_sections.csv`` beside this file: the
section id and ``create_recurring``'s parameters by WizIQ's names), adds the term's homeroom (Monday to
Friday all term long: more classes than one WizIQ series may hold), and hands the term to
``SyncTermOperator``: the first run creates every section (split into series where needed, no class on a
holiday), later runs change only what the export changed and send no write at all when nothing did.
``max_active_runs=1``: two runs of one term must not apply at the same time.

``wiziq_term_sync_plan`` is the same term with ``dry_run=True``: trigger it to see what the next sync would
change (only reads are sent). Both take the params ``sections_csv`` (an export to use instead) and
``term_year`` (move the sample term to that year; by default to the next year whose term is still ahead).
A downstream DAG can be scheduled on ``term_asset("fall")``: it runs only when a sync changed something.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

SECTIONS_CSV = Path(__file__).with_name("fall_term_sections.csv")
TERM = "fall"
DATE_COLUMNS = ("start_time", "class_end_date")


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (Monday = 0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def holidays(year: int) -> list[str]:
    """The term's days off: Labor Day, Indigenous Peoples' Day, Veterans Day, Thanksgiving Wednesday-Friday."""
    thanksgiving = nth_weekday(year, 11, 3, 4)
    return [
        nth_weekday(year, 9, 0, 1).isoformat(),
        nth_weekday(year, 10, 0, 2).isoformat(),
        date(year, 11, 11).isoformat(),
        f"{thanksgiving - timedelta(days=1)}..{thanksgiving + timedelta(days=1)}",
    ]


def term_year(sections: list[dict[str, str]], asked: Any) -> int:
    """The year to run the sample term in: ``asked``, or the next year whose term has not started yet."""
    first = min(datetime.fromisoformat(section["start_time"]) for section in sections)
    if asked:
        return int(asked)
    year = first.year
    while first.replace(year=year) < datetime.now():
        year += 1
    return year


def declared_term(params: dict[str, Any]) -> dict[str, Any]:
    """The export as the sync takes it: a key per section, empty cells left out, dates in the term's year."""
    with open(params["sections_csv"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    year = term_year(rows, params.get("term_year"))
    shift = year - min(datetime.fromisoformat(row["start_time"]) for row in rows).year
    sections = []
    for row in rows:
        section = {"key": row["section_id"]}
        for name, value in row.items():
            if name == "section_id" or not value.strip():
                continue
            section[name] = f"{int(value[:4]) + shift}{value[4:]}" if name in DATE_COLUMNS else value
        sections.append(section)
    labor_day = nth_weekday(year, 9, 0, 1)
    sections.append(
        {
            "key": f"F{year % 100}-HR",
            "title": "Homeroom — all grades",
            "presenter_email": "principal@school.example",
            "time_zone": "America/New_York",
            "start_time": f"{labor_day}T08:00",
            "class_repeat_type": "mon_fri",
            "class_end_date": f"{year}-12-17",
            "duration": 20,
            "attendee_limit": 100,
        }
    )
    return {"sections": sections, "holidays": holidays(year)}


def term_sync_dag(dag_id: str, *, dry_run: bool, schedule: str | None, description: str) -> DAG:
    with DAG(
        dag_id=dag_id,
        description=description,
        schedule=schedule,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["wiziq", "example"],
        params={"sections_csv": str(SECTIONS_CSV), "term_year": None},
    ) as dag:
        term = task(multiple_outputs=True)(declared_term)()
        SyncTermOperator(
            task_id="sync",
            term=TERM,
            sections=term["sections"],
            holidays=term["holidays"],
            dry_run=dry_run,
            max_concurrency=8,
            max_calls_per_second=20,
            retries=2,
        )
    return dag


sync_dag = term_sync_dag(
    "wiziq_term_sync",
    dry_run=False,
    schedule="@daily",
    description="Keep the fall term on WizIQ in line with the export: plan, then apply.",
)
plan_dag = term_sync_dag(
    "wiziq_term_sync_plan",
    dry_run=True,
    schedule=None,
    description="What the next wiziq_term_sync run would change (reads only).",
)
