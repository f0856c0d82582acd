"""Keep a term provisioned on WizIQ from a OneRoster export, every day: ``wiziq_term_sync_oneroster``.

A student information system (or Clever, ClassLink, Microsoft School Data Sync) exports the term as a OneRoster
1.1 or 1.2 CSV bundle: classes, teachers and rosters, whose periods are only labels. The school's meeting
patterns say what each period means (weekdays or A/B cycle days, time, length, zone), and the term's calendar
labels each instructional day A or B. ``read_bundle`` joins the bundle with the patterns
(:func:`airflow_provider_wiziq.oneroster.read_oneroster`), and ``SyncTermOperator`` keeps the term in line with
it: the first run creates every section (classes on A or B days packed into series and single classes), later
runs change only what the export or the calendar changed, and send no write when nothing did.

The params point at the provider's generated sample (12 classes, 150 students, fall 2027); give your own
bundle, patterns, calendar, session and holidays in the run's conf or the DAG's params.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_wiziq.example_dags import ONEROSTER_CALENDAR, ONEROSTER_MEETING_PATTERNS, ONEROSTER_SAMPLE
from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

#: The sample's fall holidays: Indigenous Peoples' Day, Veterans Day, Thanksgiving Wednesday to Friday (its
#: calendar has no instructional day on them).
HOLIDAYS = ["2027-10-11", "2027-11-11", "2027-11-24..2027-11-26"]


def read_bundle(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The term's sections from the bundle and its meeting patterns (classes with no pattern are logged)."""
    from airflow_provider_wiziq.oneroster import read_oneroster

    return read_oneroster(params["bundle"], params["meeting_patterns"], term=params["session"] or None)


with DAG(
    dag_id="wiziq_term_sync_oneroster",
    description="Keep the term of a OneRoster export on WizIQ, A/B days included: plan, then apply.",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["wiziq", "example", "oneroster"],
    params={
        "bundle": str(ONEROSTER_SAMPLE),
        "meeting_patterns": str(ONEROSTER_MEETING_PATTERNS),
        "calendar": str(ONEROSTER_CALENDAR),
        "session": "F2027",
        "holidays": HOLIDAYS,
    },
) as oneroster_dag:
    SyncTermOperator(
        task_id="sync",
        term="fall-oneroster",
        sections=task(read_bundle)(),
        holidays="{{ params.holidays | tojson }}",
        calendar="{{ params.calendar }}",
        max_concurrency=8,
        max_calls_per_second=20,
        retries=2,
    )


__all__ = ["oneroster_dag", "read_bundle"]
