"""The deployment test's cluster policy: the example DAGs wait in minutes, the test in seconds.

Airflow imports ``airflow_local_settings`` from its config folder and applies ``task_policy`` to every task when
a DAG file is parsed. Only the waiting intervals of deferrable sensors and the attendance report change; the
DAGs run as shipped otherwise. (A reschedule-mode sensor keeps its own interval: see dags/e2e_reschedule.py.)
"""

from __future__ import annotations

from typing import Any

#: The longest wait between two polls the test accepts, in seconds.
SHORT_POLL = 2.0


def task_policy(task: Any) -> None:
    if getattr(task, "dag_id", "").startswith("e2e_pings"):  # their intervals are the scenario's point
        return
    if type(task).__name__ == "WizIQClassStatusSensor" and task.deferrable:
        task.poke_interval = min(float(task.poke_interval), SHORT_POLL)
    if type(task).__name__ == "WizIQAttendanceReportOperator":
        task.poll_interval = min(float(task.poll_interval), SHORT_POLL)


def worker_hostname() -> str:
    """``[core] hostname_callable`` for the test's Celery workers: both run on one host, so each names itself
    (``E2E_WORKER_NAME``) and a task instance's ``hostname`` tells which worker ran it."""
    import os
    import socket

    return os.environ.get("E2E_WORKER_NAME") or socket.getfqdn()
