"""Shared helpers for the single-series operator's tests: a base section, a series per repeat type, a run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassOperator
from tests.dagtest import run_dag, task_instances

YEAR = datetime.now().year + 1
BASE: dict[str, Any] = {
    "title": "Algebra I",
    "presenter_email": "rivera@school.example",
    "time_zone": "America/New_York",
    "attendee_limit": 30,
}


def make_dag(dag_id: str, **operator_kwargs: Any) -> DAG:
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        CreateRecurringClassOperator(task_id="create", retry_delay=timedelta(seconds=0), **operator_kwargs)
    return dag


def run_create(dag_id: str, **operator_kwargs: Any) -> tuple[Any, Any]:
    dag_run = run_dag(make_dag(dag_id, **operator_kwargs))
    return dag_run, task_instances(dag_run)["create"]


def preview_starts(**params: Any) -> list[str]:
    request = CreateRecurringRequest.from_params(params)
    return [scheduled.local_start.isoformat() for scheduled in request.validate()]


SERIES = {
    "daily": {"class_repeat_type": 1, "start_time": f"{YEAR}-03-12T09:30", "class_occurrence": 5},
    "mon_sat": {"class_repeat_type": "mon_sat", "start_time": f"{YEAR}-03-12T09:30", "class_occurrence": 8},
    "mon_fri": {"class_repeat_type": 3, "start_time": f"{YEAR}-03-12T09:30", "class_end_date": f"{YEAR}-03-24"},
    "weekly_every_2_weeks": {
        "class_repeat_type": "weekly",
        "start_time": f"{YEAR}-03-04T16:00",
        "days_of_week": ["wednesday", "monday"],
        "specific_week": 2,
        "class_occurrence": 6,
    },
    "monthly_by_date": {
        "class_repeat_type": 5,
        "start_time": f"{YEAR}-01-10T08:00",
        "monthly_date": "31st",
        "class_occurrence": 4,
    },
    "monthly_by_weekday": {
        "class_repeat_type": "monthly",
        "start_time": f"{YEAR}-01-10T08:00",
        "monthly_day": "last",
        "monthly_week_day": "friday",
        "class_end_date": f"{YEAR}-06-30",
    },
}
