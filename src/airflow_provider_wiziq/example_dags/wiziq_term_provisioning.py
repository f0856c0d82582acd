"""Provision a school term on WizIQ: one recurring class series per section, and a provisioning report.

The sections come from ``fall_term_sections.csv`` beside this file (one row per section: the section id and
``create_recurring``'s parameters by WizIQ's names; empty cells are not sent). Two DAGs do the same job:

- ``wiziq_term_provisioning`` maps one ``CreateRecurringClassOperator`` task per section, so a failed
  section is retried on its own and never booked twice;
- ``wiziq_term_provisioning_bulk`` creates every series in one ``CreateRecurringClassesOperator`` task, at
  most ``max_concurrency`` calls at a time and ``max_calls_per_second`` calls a second, pausing for WizIQ's
  429s; a retry creates only the sections still missing. ``docs/scale.md`` says when to use which.

Both read the sections and write the same report: every class with its local and UTC start, as CSV and JSON.

Params: ``sections_csv`` (path), ``report_dir`` (where the report goes; default ``$WIZIQ_REPORT_DIR`` or
the system temp dir), ``term_year`` (move the sample term to that year; by default the sample term is moved
to the next year whose term is still ahead, so the example keeps working as time passes).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator, CreateRecurringClassOperator

SECTIONS_CSV = Path(__file__).with_name("fall_term_sections.csv")
DATE_COLUMNS = ("start_time", "class_end_date")


def read_sections(params: dict[str, Any]) -> list[dict[str, str]]:
    """The term's sections, with the sample term moved to a year that is still ahead."""
    with open(params["sections_csv"], newline="") as handle:
        sections = list(csv.DictReader(handle))
    return move_to_year(sections, params.get("term_year"))


def series_arguments(sections: list[dict[str, str]]) -> list[dict[str, str]]:
    """Each section's create_recurring parameters, without its id and empty cells."""
    return [{k: v for k, v in section.items() if k != "section_id" and v.strip()} for section in sections]


def write_report(
    sections: list[dict[str, str]], created: Sequence[dict[str, Any]], params: dict[str, Any]
) -> dict[str, Any]:
    """The provisioning report: one row per class (CSV) and one entry per section (JSON)."""
    report = [
        {
            "section_id": section["section_id"],
            "title": section["title"],
            "time_zone": section["time_zone"],
            "class_master_id": series["class_master_id"],
            "presenter_url": series["presenter_url"],
            "recurring_summary": series["recurring_summary"],
            "classes": [
                {
                    "class_id": one["class_id"],
                    "local_start": one["start_time"],
                    "utc_start": datetime.fromisoformat(one["start_time"]).astimezone(timezone.utc).isoformat(),
                }
                for one in series["classes"]
            ],
        }
        # Index the results: iterating mapped results probes one past the end, which Airflow logs as an error.
        for section, series in zip(sections, (created[i] for i in range(len(sections))), strict=True)
    ]
    folder = Path(params["report_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "wiziq_term_report.json"
    csv_path = folder / "wiziq_term_report.csv"
    json_path.write_text(json.dumps(report, indent=2))
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["section_id", "class_master_id", "class_id", "local_start", "utc_start", "presenter_url"])
        for entry in report:
            for one in entry["classes"]:
                writer.writerow(
                    [
                        entry["section_id"],
                        entry["class_master_id"],
                        one["class_id"],
                        one["local_start"],
                        one["utc_start"],
                        entry["presenter_url"],
                    ]
                )
    classes = sum(len(entry["classes"]) for entry in report)
    return {"sections": len(report), "classes": classes, "json": str(json_path), "csv": str(csv_path)}


def move_to_year(sections: list[dict[str, str]], term_year: int | None) -> list[dict[str, str]]:
    """Shift the sample term's dates by whole years, to ``term_year`` or to the next year still ahead."""
    first = min(datetime.fromisoformat(section["start_time"]) for section in sections)
    if term_year is None:
        term_year = first.year
        while first.replace(year=term_year) < datetime.now():
            term_year += 1
    shift = int(term_year) - first.year
    if shift == 0:
        return sections
    moved = []
    for section in sections:
        section = dict(section)
        for column in DATE_COLUMNS:
            if section.get(column):
                section[column] = f"{int(section[column][:4]) + shift}{section[column][4:]}"
        moved.append(section)
    return moved


def term_dag(dag_id: str, description: str) -> DAG:
    """A term-provisioning DAG with the params both variants take."""
    return DAG(
        dag_id=dag_id,
        description=description,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        tags=["wiziq", "example"],
        params={
            "sections_csv": str(SECTIONS_CSV),
            "report_dir": os.environ.get("WIZIQ_REPORT_DIR", tempfile.gettempdir()),
            "term_year": None,
        },
    )


with term_dag(
    "wiziq_term_provisioning", "Create one WizIQ recurring class series per section, then report them."
) as provisioning_dag:
    sections = task(read_sections)()
    created = CreateRecurringClassOperator.partial(
        task_id="create_series",
        retries=2,
        map_index_template="{{ task.title }}",
    ).expand_kwargs(task(series_arguments)(sections))
    task(write_report)(sections, created.output)


with term_dag(
    "wiziq_term_provisioning_bulk",
    "Create every section's WizIQ recurring class series in one rate-limited task, then report them.",
) as provisioning_bulk_dag:

    @task
    def series_specs(sections: list[dict[str, str]]) -> list[dict[str, str]]:
        """One spec per section: its id as the key, then its create_recurring parameters."""
        return [
            {"key": section["section_id"], **arguments}
            for section, arguments in zip(sections, series_arguments(sections), strict=True)
        ]

    @task(task_id="write_report")
    def write_bulk_report(
        sections: list[dict[str, str]], created: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        """The same report as the mapped variant, from the bulk operator's per-key results."""
        return write_report(sections, [created[section["section_id"]] for section in sections], params)

    all_sections = task(read_sections)()
    created_in_bulk = CreateRecurringClassesOperator(
        task_id="create_series",
        series=series_specs(all_sections),
        max_concurrency=8,
        max_calls_per_second=20,
        retries=2,
    )
    write_bulk_report(all_sections, created_in_bulk.output)
