"""One recurring series in one task with retries: the task the deployment test kills mid-call."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassOperator

with DAG(
    dag_id="e2e_series",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"title": "Killed mid-call", "start_time": "2030-01-08T10:00"},
    tags=["wiziq", "e2e"],
) as dag:
    CreateRecurringClassOperator(
        task_id="create_series",
        title="{{ params.title }}",
        start_time="{{ params.start_time }}",
        time_zone="America/New_York",
        class_repeat_type="weekly",
        days_of_week=["tuesday", "thursday"],
        class_occurrence=6,
        duration=50,
        presenter_email="killed@e2e.example",
        retries=3,
        retry_delay=timedelta(seconds=2),
    )
