"""Waits woken by WizIQ's status pings (connection ``wiziq_pings``, whose ``ping_base_url`` is the api-server's
``/wiziq/ping``): book ``count`` classes (series of 50 daily classes) with the signed ``status_ping_url``, then one
deferrable sensor per class that emits a class event when it ends.

``e2e_pings`` polls every 600 s, so only a ping can end its waits in seconds; ``e2e_pings_lost`` polls every 5 s,
so that, with ``[wiziq] ping_idle_interval`` = 20 in the deployment, full rounds come every 20 s when the pings
are lost. The deployment's cluster policy leaves these intervals alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassOperator
from airflow_provider_wiziq.sensors.wiziq import WizIQClassStatusSensor

CLASSES_PER_SERIES = 50
CONN_ID = "wiziq_pings"


def pinged_waits(dag_id: str, poke_interval: float) -> DAG:
    with DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_tasks=128,
        params={"count": 50},
        tags=["wiziq", "e2e"],
    ) as dag:

        @task
        def plan(params: dict[str, Any]) -> list[dict[str, Any]]:
            count = int(params["count"])
            start = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT10:00")
            return [
                {
                    "title": f"Pinged {number}",
                    "presenter_email": f"pinged{number}@e2e.example",
                    "start_time": start,
                    "class_occurrence": min(CLASSES_PER_SERIES, count - offset),
                }
                for number, offset in enumerate(range(0, count, CLASSES_PER_SERIES))
            ]

        @task
        def class_ids(created: Any) -> list[int]:
            return [class_id for i in range(len(created)) for class_id in created[i]["class_ids"]]

        series = CreateRecurringClassOperator.partial(
            task_id="create_series",
            time_zone="America/New_York",
            class_repeat_type="daily",
            duration=30,
            wiziq_conn_id=CONN_ID,
        ).expand_kwargs(plan())
        WizIQClassStatusSensor.partial(
            task_id="wait",
            target_status="completed",
            wiziq_conn_id=CONN_ID,
            deferrable=True,
            poke_interval=poke_interval,
            timeout=3600,
            emit_asset_event=True,
        ).expand(class_id=class_ids(series.output))
    return dag


pinged_dag = pinged_waits("e2e_pings", 600)
lost_pings_dag = pinged_waits("e2e_pings_lost", 5)
