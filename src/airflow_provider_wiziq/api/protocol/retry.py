"""When a failed call is sent again, and how long to wait first: one policy for the sync and async clients."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)

from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import WizIQError, WizIQTransportError, is_report_pending

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Methods that a server may receive twice without harm (docs/wiziq-api.md §7); ``cancel`` answers 1033 the
#: second time, ``modify`` writes the same values, ``add_attendees`` is keyed by attendee_id, and
#: ``download_recording`` only asks for a package that a second ask finds already made.
SAFE_TO_REPEAT = frozenset(
    {
        "get_data",
        "view_schedule",
        "get_attendance_report",
        "get_account_info",
        "cancel",
        "modify",
        "add_attendees",
        "download_recording",
    }
)


def may_resend(method: str, error: BaseException) -> bool:
    """Whether ``error`` on ``method`` may be answered by sending the same call again.

    ``create`` and ``create_recurring`` book classes and have no idempotency key, so they are sent again only
    when the request certainly did not reach the server (refused connection, connect timeout) or the server
    said it did not process it (HTTP 429). Any other failure of theirs needs reconciling by the caller.
    """
    if not isinstance(error, WizIQError) or not error.transient:
        return False
    if is_report_pending(error):
        return False  # "available soon" is waited on by the report wait (api.wait), minutes apart
    if method in SAFE_TO_REPEAT:
        return True
    return isinstance(error, WizIQTransportError) and (
        not error.sent or error.status_code == HTTPStatus.TOO_MANY_REQUESTS
    )


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true too
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


class _Wait:
    """Exponential backoff with jitter, but never shorter than the server's ``Retry-After``."""

    def __init__(self, config: ClientConfig) -> None:
        self._backoff = wait_exponential(multiplier=config.backoff_initial, max=config.backoff_max) + wait_random(
            0, config.backoff_initial
        )

    def __call__(self, state: RetryCallState) -> float:
        wait = self._backoff(state)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, WizIQTransportError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait


def retry_arguments(config: ClientConfig, method: str, *, spent: float = 0.0) -> dict[str, Any]:
    """Keyword arguments for tenacity's ``Retrying`` / ``AsyncRetrying`` for one call of ``method``.

    A call stops once ``max_retries`` re-sends were made, or when the next wait would end past
    ``retry_budget`` seconds from its start; the last error is raised as it was. ``spent`` is the time the
    call already used before tenacity took over (its first attempt, see :func:`replaying`).
    """

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "WizIQ %s failed on attempt %d (%s); sending again in %.1f s",
            method,
            state.attempt_number,
            error,
            state.upcoming_sleep,
        )

    return {
        "stop": stop_after_attempt(config.max_retries + 1) | stop_before_delay(config.retry_budget - spent),
        "wait": _Wait(config),
        "retry": retry_if_exception(lambda error: may_resend(method, error)),
        "reraise": True,
        "before_sleep": before_sleep,
    }


def replaying(first: BaseException, attempt: Callable[[int], T]) -> Callable[[], T]:
    """The attempt function for tenacity, once a call's first attempt failed with ``first``.

    The clients send a call's first attempt without tenacity, so a call that succeeds (nearly every call)
    builds no retry machinery. When the first attempt fails with an error :func:`may_resend` allows,
    tenacity takes over: its attempt 1 raises ``first`` again, at no cost, so that it decides on it as on
    any other (wait, stop, log), and attempts 2 and later call ``attempt(number)``.
    """
    numbers = itertools.count(1)

    def again() -> T:
        number = next(numbers)
        if number == 1:
            raise first
        return attempt(number)

    return again


#: The longest pause a wait takes between polls while WizIQ keeps failing (unless its poll interval is longer).
MAX_WAIT_BACKOFF = 300.0


def backoff(interval: float, failures: int) -> float:
    """The pause before a wait's next poll after ``failures`` failed polls in a row: ``interval`` doubled per
    failure, up to ``MAX_WAIT_BACKOFF`` (or ``interval`` if longer). The status poller and the attendance
    report wait both ask this; a call's own re-sends follow :func:`retry_arguments`."""
    if failures <= 0:
        return interval
    return min(interval * 2.0 ** min(failures, 32), max(interval, MAX_WAIT_BACKOFF))
