"""A reschedule-mode wait: book one class, then poke for it every 15 s, freeing the worker slot between pokes."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassOperator
from airflow_provider_wiziq.sensors.wiziq import WizIQClassStatusSensor

with DAG(
    dag_id="e2e_reschedule",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"start_time": "2030-01-08T10:00"},
    tags=["wiziq", "e2e"],
) as dag:
    create = CreateRecurringClassOperator(
        task_id="create_series",
        title="Rescheduled wait",
        start_time="{{ params.start_time }}",
        time_zone="America/New_York",
        class_repeat_type="daily",
        class_occurrence=1,
        duration=30,
        presenter_email="reschedule@e2e.example",
    )
    create >> WizIQClassStatusSensor(
        task_id="wait",
        class_id="{{ ti.xcom_pull(task_ids='create_series')['class_ids'][0] }}",
        target_status="completed",
        mode="reschedule",
        # Not seconds: a poke rescheduled before the scheduler has read the last poke's executor event is
        # failed by Airflow 3.3.2 as "finished with state success, but the task instance's state is queued".
        poke_interval=15,
        timeout=3600,
    )
