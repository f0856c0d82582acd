"""Class events: attendance and recordings fetched when a class ends, by DAGs scheduled on the connection's asset.

``wiziq_wait_for_class`` waits (deferrable) for one class to be over and, with ``emit_asset_event=True``, emits
an event on ``wiziq://classes/wiziq_default`` (one asset per connection) whose extra names the class:
``{"class_id", "status", "checked_at"}``. ``wiziq_after_class`` is scheduled on that asset: each run reads the
events that triggered it (several sensors may end before it starts: Airflow hands it all of them), fetches the
attendance report of every class that was held, and lists their recordings. With status pings on
(docs/deployment.md) the sensor wakes seconds after WizIQ's ping, not at its next poll.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_wiziq.operators.wiziq import WizIQAttendanceReportOperator
from airflow_provider_wiziq.sensors.wiziq import WizIQClassStatusSensor, class_events_asset

CLASS_EVENTS = class_events_asset("wiziq_default")


def held_classes(events: Any) -> list[int]:
    """The ids of the classes the triggering events say were held (``completed``), each once, in order."""
    ids: list[int] = []
    for event in events or ():
        extra = getattr(event, "extra", None) or {}
        if extra.get("status") == "completed" and int(extra["class_id"]) not in ids:
            ids.append(int(extra["class_id"]))
    return ids


with DAG(
    dag_id="wiziq_wait_for_class",
    description="Wait for a WizIQ class to end and announce it on the connection's class events asset.",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["wiziq", "example"],
    params={"class_id": 15001},
) as wait_dag:
    WizIQClassStatusSensor(
        task_id="wait_for_class",
        class_id="{{ params.class_id }}",
        target_status=["completed", "expired", "cancelled"],
        deferrable=True,
        poke_interval=300,
        timeout=14 * 24 * 3600,
        emit_asset_event=True,
    )

with DAG(
    dag_id="wiziq_after_class",
    description="Attendance and recordings of the WizIQ classes that just ended (scheduled on class events).",
    schedule=[CLASS_EVENTS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["wiziq", "example"],
) as after_class_dag:

    @task
    def ended(triggering_asset_events: Any = None) -> list[int]:
        """The classes held, from this run's triggering events (none when the run was started by hand)."""
        events = triggering_asset_events[CLASS_EVENTS] if triggering_asset_events else []
        return held_classes(events)

    @task
    def recordings(class_ids: list[int]) -> dict[str, str | None]:
        """Each class's recording link, in one get_data call per 100 classes."""
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        hook = WizIQHook()
        found: dict[str, str | None] = {}
        for start in range(0, len(class_ids), 100):
            for record in hook.get_data(multiple_class_id=class_ids[start : start + 100]):
                found[str(record.class_id)] = record.fields.get("recording_url") or None
        return found

    held = ended()
    WizIQAttendanceReportOperator.partial(task_id="attendance", poll_interval=120, report_timeout=3600).expand(
        class_id=held
    )
    recordings(held)
