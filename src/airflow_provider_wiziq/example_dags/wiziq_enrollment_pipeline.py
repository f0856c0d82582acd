"""Create a series, enroll a roster, wait for the first class to be held, then fetch its attendance.

Every step takes what it needs from the one before through XCom:

    plan_series >> create_series >> enroll_roster >> wait_for_first_class >> attendance_report

``wait_for_first_class`` is deferrable: while the class has not happened yet it costs no worker slot. The
roster comes from ``roster.csv`` beside this file. Params: ``time_zone`` (default ``America/Chicago``),
``start_time`` (default: tomorrow 15:00 in that zone), ``presenter_email``.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import DAG, task

from airflow_provider_wiziq.operators.wiziq import (
    CreateRecurringClassOperator,
    WizIQAddAttendeesOperator,
    WizIQAttendanceReportOperator,
)
from airflow_provider_wiziq.sensors.wiziq import WizIQClassStatusSensor

ROSTER_CSV = Path(__file__).with_name("roster.csv")
FIRST_CLASS = "{{ ti.xcom_pull(task_ids='create_series')['class_ids'][0] }}"

with DAG(
    dag_id="wiziq_enrollment_pipeline",
    description="Create a WizIQ series, enroll students, wait for the first class, collect attendance.",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["wiziq", "example"],
    params={"time_zone": "America/Chicago", "start_time": None, "presenter_email": "lee@school.example"},
) as enrollment_dag:

    @task
    def plan_series(params: dict[str, Any]) -> dict[str, str]:
        """When the series starts: the param, or tomorrow at 15:00 in the series' time zone."""
        zone = ZoneInfo(params["time_zone"])
        start = params["start_time"] or (datetime.now(zone) + timedelta(days=1)).strftime("%Y-%m-%dT15:00")
        return {"start_time": start, "time_zone": params["time_zone"]}

    @task
    def read_roster() -> list[dict[str, str]]:
        with open(ROSTER_CSV, newline="") as handle:
            return list(csv.DictReader(handle))

    plan = plan_series()
    create = CreateRecurringClassOperator(
        task_id="create_series",
        title="Intro to Data Engineering",
        start_time="{{ ti.xcom_pull(task_ids='plan_series')['start_time'] }}",
        time_zone="{{ ti.xcom_pull(task_ids='plan_series')['time_zone'] }}",
        class_repeat_type="weekly",
        days_of_week=["tuesday", "thursday"],
        class_occurrence=8,
        duration=50,
        attendee_limit=30,
        presenter_email="{{ params.presenter_email }}",
        create_recording=True,
        retries=2,
    )
    enroll = WizIQAddAttendeesOperator(task_id="enroll_roster", class_id=FIRST_CLASS, attendees=read_roster())
    wait = WizIQClassStatusSensor(
        task_id="wait_for_first_class",
        class_id=FIRST_CLASS,
        target_status="completed",
        deferrable=True,
        poke_interval=300,
        timeout=14 * 24 * 3600,
    )
    attendance = WizIQAttendanceReportOperator(
        task_id="attendance_report", class_id=FIRST_CLASS, poll_interval=120, report_timeout=3600
    )
    plan >> create >> enroll >> wait >> attendance
