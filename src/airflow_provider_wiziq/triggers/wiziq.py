"""``WizIQClassStatusTrigger``: waits in the triggerer until a WizIQ class reaches a target status.

Triggers of one connection share a poller (:mod:`airflow_provider_wiziq.triggers.poller`), so a thousand waits
cost about ten ``get_data`` calls a round, not a thousand. Each trigger has its own end time, because a
deferral timeout is not enforced everywhere (``dag.test()`` runs triggers inline without one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_wiziq.api.protocol.status import ClassStatus
from airflow_provider_wiziq.api.rules.wait import (
    DEFAULT_MAX_CONSECUTIVE_ERRORS,
    check_max_consecutive_errors,
    parse_class_id,
)

#: How long a trigger given no end time waits: Airflow's default sensor timeout, 7 days.
_DEFAULT_WAIT = 7 * 24 * 3600.0


class WizIQClassStatusTrigger(BaseTrigger):
    """Fires one event when class ``class_id`` reaches one of ``target_statuses``, can never reach one, or
    ``end_time`` passes.

    :param class_id: the WizIQ class id.
    :param target_statuses: statuses that end the wait (``upcoming``, ``live``, ``completed``, ``expired``,
        ``cancelled``); one name or several.
    :param wiziq_conn_id: the ``wiziq`` connection.
    :param poll_interval: seconds between polls (shared rounds use the shortest interval asked for).
    :param end_time: when to give up: an aware ISO 8601 string, an aware datetime or Unix seconds; None means
        seven days from now.
    :param max_consecutive_errors: transient WizIQ errors in a row tolerated before the wait fails.

    The event's payload is ``{"status": "success", "record": {...}, ...}``, ``{"status": "failure",
    "reason": ..., "message": ...}`` (a final status not targeted, an unknown class, a permanent error, too
    many errors in a row) or ``{"status": "timeout", "message": ...}``.
    """

    def __init__(
        self,
        *,
        class_id: int | str,
        target_statuses: str | Iterable[str] = ("completed",),
        wiziq_conn_id: str = "wiziq_default",
        poll_interval: float = 60.0,
        end_time: str | float | datetime | None = None,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # BaseTrigger.__init__ has no annotations
        self.class_id = parse_class_id(class_id)
        self.target_statuses = ClassStatus.parse_many(target_statuses)
        self.wiziq_conn_id = wiziq_conn_id
        self.poll_interval = float(poll_interval)
        if not self.poll_interval > 0:
            raise ValueError("poll_interval must be a positive number of seconds")
        self.end_time = _epoch(end_time) if end_time is not None else time.time() + _DEFAULT_WAIT
        self.max_consecutive_errors = check_max_consecutive_errors(max_consecutive_errors)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "class_id": self.class_id,
                "target_statuses": sorted(status.value for status in self.target_statuses),
                "wiziq_conn_id": self.wiziq_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": datetime.fromtimestamp(self.end_time, timezone.utc).isoformat(),
                "max_consecutive_errors": self.max_consecutive_errors,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Wait on the shared poller's rounds, judge each, and yield exactly one event."""
        from airflow_provider_wiziq.api.rules.wait import ClassWait
        from airflow_provider_wiziq.triggers.poller import POLLERS

        watch = ClassWait(self.class_id, self.target_statuses, max_consecutive_errors=self.max_consecutive_errors)
        self.log.info(
            "Waiting for WizIQ class %s to be %s (polling every %.3g s until %s)",
            self.class_id,
            watch.describe_targets(),
            self.poll_interval,
            datetime.fromtimestamp(self.end_time, timezone.utc).isoformat(),
        )
        event: dict[str, Any] | None = None
        async with POLLERS.subscribe(self.wiziq_conn_id, watch, self.poll_interval) as subscription:
            while event is None:
                remaining = self.end_time - time.time()
                # asyncio.wait, not wait_for: on Python 3.10/3.11 wait_for can swallow a cancellation that
                # arrives together with a poll result, and a cancelled trigger must stop. The poller wakes
                # this wait only for news (a new status, an error, a final verdict), not every round.
                news = asyncio.ensure_future(subscription.next())
                try:
                    done, _ = await asyncio.wait({news}, timeout=max(remaining, 0))
                finally:
                    news.cancel()
                verdict = news.result() if done else watch.expire()  # the trigger's own end time
                if done:
                    verdict = replace(verdict, checked_at=time.time())  # the answer came just now
                if not verdict.waiting:
                    event = verdict.event()
                elif verdict.errors:
                    self.log.warning("%s", verdict.message)
                else:
                    self.log.info("%s", verdict.message)
        # Unsubscribed before yielding: the triggerer may never resume this generator after its event.
        self.log.info("%s", event["message"])
        yield TriggerEvent(event)


def _epoch(value: str | float | datetime) -> float:
    """Unix seconds from an ISO 8601 string, a datetime (naive means UTC) or a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"end_time must be an ISO 8601 string, a datetime or Unix seconds, not {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class WizIQAttendanceReportTrigger(BaseTrigger):
    """Fires one event when class ``class_id``'s attendance report is ready, can never be, or ``end_time``
    passes.

    :param class_id: the WizIQ class id.
    :param wiziq_conn_id: the ``wiziq`` connection.
    :param poll_interval: seconds between two asks while WizIQ answers 1029 ("available soon"); after WizIQ
        errors the pause grows by the one wait backoff (:func:`~airflow_provider_wiziq.api.protocol.retry.backoff`).
    :param end_time: when to give up: an aware ISO 8601 string, an aware datetime or Unix seconds.
    :param max_consecutive_errors: transient WizIQ errors in a row tolerated before the wait fails.

    The event is :meth:`~airflow_provider_wiziq.api.rules.wait.Verdict.event`'s payload: ``status`` ``success``
    with the report's rows in ``record``, ``failure`` with ``reason`` and ``message``, or ``timeout``.
    """

    def __init__(
        self,
        *,
        class_id: int | str,
        wiziq_conn_id: str = "wiziq_default",
        poll_interval: float = 60.0,
        end_time: str | float | datetime,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # BaseTrigger.__init__ has no annotations
        self.class_id = parse_class_id(class_id)
        self.wiziq_conn_id = wiziq_conn_id
        self.poll_interval = float(poll_interval)
        if not self.poll_interval > 0:
            raise ValueError("poll_interval must be a positive number of seconds")
        self.end_time = _epoch(end_time)
        self.max_consecutive_errors = check_max_consecutive_errors(max_consecutive_errors)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "class_id": self.class_id,
                "wiziq_conn_id": self.wiziq_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": datetime.fromtimestamp(self.end_time, timezone.utc).isoformat(),
                "max_consecutive_errors": self.max_consecutive_errors,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Ask ``get_attendance_report`` until the verdict is final, pausing between asks; one event."""
        from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError, WizIQError
        from airflow_provider_wiziq.api.protocol.retry import backoff
        from airflow_provider_wiziq.api.rules.wait import ReportWait
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        wait = ReportWait(self.class_id, max_consecutive_errors=self.max_consecutive_errors, deadline=self.end_time)
        try:
            client = await WizIQHook(wiziq_conn_id=self.wiziq_conn_id).get_async_client()
        except Exception as error:  # a missing or unusable connection: permanent
            if not isinstance(error, WizIQConfigError):
                error = WizIQConfigError(f"Cannot read the WizIQ connection {self.wiziq_conn_id!r}: {error}")
            verdict = wait.judge(error)
        else:
            async with client:
                while True:
                    answered: Any
                    try:
                        answered = await client.get_attendance_report(self.class_id)
                    except WizIQError as error:
                        answered = error
                    verdict = wait.judge(answered, now=time.time())
                    if not verdict.waiting:
                        break
                    self.log.log(logging.WARNING if verdict.errors else logging.INFO, "%s", verdict.message)
                    remaining = self.end_time - time.time()
                    await asyncio.sleep(max(0.0, min(backoff(self.poll_interval, wait.errors), remaining)))
        self.log.info("%s", verdict.message)
        yield TriggerEvent(verdict.event())


__all__ = [
    "WizIQAttendanceReportTrigger",
    "WizIQClassStatusTrigger",
]
