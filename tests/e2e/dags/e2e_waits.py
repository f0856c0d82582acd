"""Many deferrable waits at once: book ``count`` classes (series of 50 daily classes), then one deferrable
sensor per class. The deployment test moves the emulator's clock to end them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassOperator
from airflow_provider_wiziq.sensors.wiziq import WizIQClassStatusSensor

CLASSES_PER_SERIES = 50

with DAG(
    dag_id="e2e_waits",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_tasks=256,
    params={"count": 200, "poll_interval": 2.0},
    tags=["wiziq", "e2e"],
) as dag:

    @task
    def plan(params: dict[str, Any]) -> list[dict[str, Any]]:
        """One series per 50 classes, each with its own presenter (WizIQ refuses two classes of one
        presenter at one instant: error 1032)."""
        count = int(params["count"])
        start = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT10:00")
        return [
            {
                "title": f"Wait {number}",
                "presenter_email": f"presenter{number}@e2e.example",
                "start_time": start,
                "class_occurrence": min(CLASSES_PER_SERIES, count - offset),
            }
            for number, offset in enumerate(range(0, count, CLASSES_PER_SERIES))
        ]

    @task
    def class_ids(created: Any) -> list[int]:
        return [class_id for i in range(len(created)) for class_id in created[i]["class_ids"]]

    series = CreateRecurringClassOperator.partial(
        task_id="create_series", time_zone="America/New_York", class_repeat_type="daily", duration=30
    ).expand_kwargs(plan())
    WizIQClassStatusSensor.partial(
        task_id="wait",
        target_status="completed",
        deferrable=True,
        poke_interval=2,
        timeout=3600,
    ).expand(class_id=class_ids(series.output))
