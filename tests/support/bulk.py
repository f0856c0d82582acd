"""Shared helpers for the bulk operator's tests: section specs, a fake task instance and state store, execute()."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator

YEAR = datetime.now().year + 1
EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"


def spec(index: int, **changes: Any) -> dict[str, Any]:
    """Section ``index``: its own presenter, two classes a week apart."""
    return {
        "key": f"S-{index:04d}",
        "title": f"Section {index}",
        "presenter_email": f"teacher{index}@district.example",
        "time_zone": "America/Chicago",
        "start_time": f"{YEAR}-02-01T{8 + index % 8:02d}:{15 * (index % 4):02d}",
        "class_repeat_type": "weekly",
        "days_of_week": "monday",
        "class_occurrence": 2,
        "attendee_limit": 30,
        **changes,
    }


class FakeTI:
    """What the operator uses of a task instance."""

    def __init__(self, try_number: int = 1) -> None:
        self.try_number = try_number
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # XCom takes JSON only
        self.xcom[key] = value


class FakeStore(dict):
    """The task state store's get/set; counts writes."""

    writes = 0

    def set(self, key: str, value: Any) -> None:
        self.writes += 1
        self[key] = json.loads(json.dumps(value))


def execute(operator: CreateRecurringClassesOperator, *, try_number: int = 1, store: FakeStore | None = None):
    ti = FakeTI(try_number)
    context = {"ti": ti, "task_state_store": store if store is not None else FakeStore()}
    return operator.execute(context), ti


def bulk(series: Any, **kwargs: Any) -> CreateRecurringClassesOperator:
    kwargs.setdefault("max_calls_per_second", None)
    kwargs.setdefault("max_concurrency", 4)
    return CreateRecurringClassesOperator(task_id="create_series", series=series, **kwargs)


def series_identities(emulator) -> list[tuple[str, str, str]]:
    return [
        (s["params"]["title"], s["params"]["presenter_email"], s["params"]["start_time"]) for s in emulator.series()
    ]
