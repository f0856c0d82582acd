"""Helpers shared by the reliability tests: connections, calls bounded in time, raw signed requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

import pytest
import requests

from airflow_provider_wiziq.api.protocol.signing import signed_fields

T = TypeVar("T")

#: A connection that fails fast: the whole fault matrix runs in seconds, not minutes. A normal answer comes within
#: read_timeout even on a loaded machine (0.3 s did not: a handler not yet at the call when the client gave up).
FAST_EXTRAS: dict[str, Any] = {
    "connect_timeout": 1,
    "read_timeout": 2,
    "max_retries": 2,
    "retry_budget": 30,
    "backoff_initial": 0.01,
    "backoff_max": 0.05,
}
#: Longest a single bounded call may take before the test calls it a hang: well past the deadlines these tests give
#: the clients (a few seconds a try, two retries), so that a busy machine parsing a large answer slowly is not taken
#: for a hang (10 s failed a 4 MiB answer's parse under load).
HANG_SECONDS = 60.0


@contextmanager
def wiziq_connection(conn_id: str, fields: Mapping[str, Any]) -> Iterator[None]:
    """``AIRFLOW_CONN_<CONN_ID>`` set to a ``wiziq`` connection for the block (for module-scoped fixtures)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "wiziq", **fields}))
        yield


@dataclass
class Finished(Generic[T]):
    """How a bounded call ended: its value or the exception it raised."""

    value: T | None = None
    error: BaseException | None = None

    def raised(self) -> BaseException:
        assert self.error is not None, f"expected an error, the call returned {self.value!r}"
        return self.error

    def returned(self) -> T:
        if self.error is not None:
            raise AssertionError(f"expected a result, the call raised {type(self.error).__name__}: {self.error}")
        return self.value  # type: ignore[return-value]


def bounded(call: Callable[[], T], *, seconds: float = HANG_SECONDS) -> Finished[T]:
    """Run ``call`` in a thread joined with a timeout: a call that hangs fails the test instead of the suite."""
    finished: Finished[T] = Finished()

    def run() -> None:
        try:
            finished.value = call()
        except BaseException as error:  # the test inspects whatever it was
            finished.error = error

    worker = threading.Thread(target=run, name="bounded-call", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"the call did not finish within {seconds:g} s: a hang")
    return finished


def future_wall_clock(days: float = 3.0) -> datetime:
    """A naive wall-clock time comfortably in the future (whole seconds)."""
    return (datetime.now(timezone.utc) + timedelta(days=days)).replace(tzinfo=None, microsecond=0)


def series_params(title: str = "Reliability", **changes: Any) -> dict[str, Any]:
    """A small valid daily series, three classes, starting in three days."""
    params: dict[str, Any] = {
        "title": title,
        "start_time": future_wall_clock(),
        "time_zone": "UTC",
        "class_repeat_type": 1,
        "class_occurrence": 3,
        "presenter_email": "teacher@school.example",
        "attendee_limit": 10,
    }
    params.update(changes)
    return params


def signed_post(
    session: requests.Session,
    url: str,
    method: str,
    fields: Mapping[str, str],
    *,
    access_key: str,
    secret_key: str,
    timestamp: int,
) -> requests.Response:
    """A raw WizIQ call: ``fields`` exactly as given, plus ``method`` and the signature fields."""
    body = {
        **fields,
        "method": method,
        **signed_fields(secret_key=secret_key, access_key=access_key, timestamp=timestamp, method=method),
    }
    return session.post(f"{url}?method={method}", data=body, timeout=30)
