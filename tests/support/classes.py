"""Classes on the emulator for the sensor and trigger tests: connection, scheduling, cancelling."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest

HOUR = timedelta(hours=1)


def use_emulator(monkeypatch: pytest.MonkeyPatch, emulator: Any, conn_id: str = "wiziq_default", **extra: Any) -> None:
    """Point ``conn_id`` at the emulator; no client-side re-sends, so every failure reaches the waiter."""
    connection = {**emulator.connection, "extra": {"max_retries": 0, **extra}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))


def emulator_client(emulator: Any) -> WizIQClient:
    return WizIQClient(
        ClientConfig(
            endpoint=emulator.url, access_key=emulator.access_key, secret_key=emulator.secret_key, max_retries=0
        )
    )


def schedule_class(emulator: Any, *, starts_in: timedelta = HOUR, duration: int = 60, presenter: str = "a") -> int:
    """One class starting ``starts_in`` from the emulator's now; its id.

    WizIQ refuses a start in the past, so a class that should have started already is scheduled a minute
    ahead and the emulator's clock is then moved forward.
    """
    ahead = max(starts_in, timedelta(minutes=1))
    start = (emulator.clock.now() + ahead).replace(tzinfo=None, microsecond=0)
    with emulator_client(emulator) as client:
        details = client.create(
            CreateClassRequest.from_params(
                {
                    "title": "Sensor test",
                    "start_time": start,
                    "time_zone": "UTC",
                    "presenter_email": f"{presenter}@school.example",
                    "duration": duration,
                }
            )
        )
    if ahead != starts_in:
        emulator.clock.advance(ahead - starts_in)
    return details.class_id


def schedule_classes(emulator: Any, count: int) -> list[int]:
    """``count`` daily classes from an hour from now, in series of 60 (one presenter each)."""
    start = (emulator.clock.now() + HOUR).replace(tzinfo=None, second=0, microsecond=0)
    ids: list[int] = []
    with emulator_client(emulator) as client:
        for number in range(-(-count // 60)):
            params = {
                "title": f"Section {number}",
                "start_time": start,
                "time_zone": "UTC",
                "presenter_email": f"teacher{number}@school.example",
                "duration": 60,
                "class_repeat_type": 1,
                "class_occurrence": min(60, count - len(ids)),
            }
            series = client.create_recurring(CreateRecurringRequest.from_params(params))
            ids.extend(entry.class_id for entry in client.view_schedule(series.class_master_id))
    return ids


def cancel_class(emulator: Any, class_id: int) -> None:
    with emulator_client(emulator) as client:
        client.cancel(class_id)
