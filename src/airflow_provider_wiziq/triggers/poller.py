"""Waiting for WizIQ classes: the one verdict on what a poll saw, and the poller that coalesces triggers' polls.

:class:`Watch` decides, for the sensor's pokes and the trigger alike, whether a class is done, can never be
done, or is worth waiting for; it is where consecutive transient errors are counted.

:class:`ClassStatusPoller` lets many triggers in one triggerer share their requests: one poller per (event loop,
connection) wakes every poll interval, asks ``get_data`` for all waiting classes in one call per 100 ids
(``multiple_class_id``) and hands each waiter its record or error. It stops, closing its client, when no
waiter is left. Everything here runs in the event loop's thread; only the registry is shared between loops.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from airflow_provider_wiziq.api.errors import (
    WizIQAPIError,
    WizIQConfigError,
    WizIQError,
    is_no_record,
    is_unknown_class,
)

if TYPE_CHECKING:
    from airflow_provider_wiziq.api.async_client import AsyncWizIQClient
    from airflow_provider_wiziq.api.responses import ClassRecord
    from airflow_provider_wiziq.api.status import ClassStatus

# The status model and the XML answers it reads are imported on first use, so that a DAG file naming the
# sensor stays cheap to parse.

log = logging.getLogger(__name__)

#: ``get_data`` takes at most this many ids in ``multiple_class_id`` (its page size cap).
BATCH_SIZE = 100
#: Requests one poller has in flight at once (a round of 5,000 classes is 50 requests, 10 at a time).
MAX_CONCURRENT_REQUESTS = 10
#: Transient errors in a row a wait tolerates before it fails.
DEFAULT_MAX_CONSECUTIVE_ERRORS = 5
#: The longest pause between rounds while WizIQ keeps failing (unless the poll interval is longer).
MAX_BACKOFF = 300.0


def backoff(interval: float, failures: int) -> float:
    """The pause after ``failures`` failed polls in a row: doubling, up to ``MAX_BACKOFF`` (or the interval)."""
    if not failures:
        return interval
    return min(interval * 2**failures, max(interval, MAX_BACKOFF))

#: What one poll saw for one class: its record, an error, or None when WizIQ has no record of it.
Polled: TypeAlias = "ClassRecord | WizIQError | None"


def parse_class_id(value: object) -> int:
    """A class id as WizIQ takes it: a positive whole number, given as an int or its digits."""
    text = "" if isinstance(value, bool) else str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) == 0:
        raise ValueError(f"class_id must be a WizIQ class id (a positive whole number), not {value!r}")
    return int(text)


def pick(records: Iterable[ClassRecord], class_id: int) -> ClassRecord | None:
    """The record of ``class_id`` in a ``get_data`` answer, or None when WizIQ left it out."""
    return next((record for record in records if record.class_id == class_id), None)


class Outcome(str, enum.Enum):
    """What a wait does after one poll."""

    WAITING = "waiting"  # not there yet (or a transient error within the allowance): poll again
    SUCCESS = "success"  # the class reached a target status
    WRONG_STATUS = "wrong_status"  # a terminal status that is not a target: it never will (soft_fail may skip)
    UNKNOWN_CLASS = "unknown_class"  # WizIQ has no such class
    ERROR = "error"  # a permanent WizIQ error, or too many transient ones in a row


@dataclass(frozen=True)
class Verdict:
    """The decision after one poll, with a message fit for a log line or a task failure (no secrets)."""

    outcome: Outcome
    message: str
    class_id: int
    record: dict[str, Any] | None = None  # the record's fields, ``status`` in the five-state model
    status: str | None = None  # the five-state status, when the poll read one
    retryable: bool = False  # ERROR only: the task may be retried (transient errors ran out)
    errors: int = 0  # consecutive transient errors so far

    @property
    def waiting(self) -> bool:
        return self.outcome is Outcome.WAITING

    def event(self) -> dict[str, Any]:
        """The trigger event payload for a final verdict: JSON only."""
        return {
            "status": "success" if self.outcome is Outcome.SUCCESS else "failure",
            "reason": self.outcome.value,
            "class_id": self.class_id,
            "class_status": self.status,
            "record": self.record,
            "retryable": self.retryable,
            "message": self.message,
        }

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Verdict:
        """The verdict a trigger sent (``status`` success or failure)."""
        return cls(
            outcome=Outcome(event["reason"]),
            message=str(event.get("message", "")),
            class_id=int(event["class_id"]),
            record=event.get("record"),
            status=event.get("class_status"),
            retryable=bool(event.get("retryable", False)),
        )


class Watch:
    """One wait on one class: judges each poll and counts the transient errors in a row.

    ``judge`` is the only place that decides whether a class is done, failed or still worth waiting for;
    the sensor's pokes and the trigger both call it, and both read statuses with :func:`class_status`.
    """

    def __init__(
        self,
        class_id: int,
        targets: Iterable[ClassStatus],
        *,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        errors: int = 0,
    ) -> None:
        if max_consecutive_errors < 1:
            raise ValueError("max_consecutive_errors must be at least 1")
        self.class_id = class_id
        self.targets = frozenset(targets)
        self.max_consecutive_errors = max_consecutive_errors
        self.errors = errors
        self.last_status: ClassStatus | None = None  # the status the last poll read, for news and timeouts
        from airflow_provider_wiziq.api.status import class_status

        self._read_status = class_status  # imported once per wait, not once per poll

    def describe_targets(self) -> str:
        return " or ".join(sorted(status.value for status in self.targets))

    def outcome(self, status: ClassStatus) -> Outcome:
        """What a class in ``status`` means for this wait: done, never, or keep waiting."""
        if status in self.targets:
            return Outcome.SUCCESS
        return Outcome.WRONG_STATUS if status.is_terminal else Outcome.WAITING

    def news(self, polled: Polled) -> Verdict | None:
        """The verdict on a poll, or None when it changes nothing: the class is still waiting in the status the
        last poll read, with no error in between. A shared poller asks this for every waiter every round, so
        a quiet poll costs one status read and wakes no one."""
        if self.errors == 0 and polled is not None and not isinstance(polled, WizIQError):
            try:
                status = self._read_status(polled)
            except ValueError:
                return self.judge(polled)
            if status is self.last_status and self.outcome(status) is Outcome.WAITING:
                return None
        return self.judge(polled)

    def judge(self, polled: Polled) -> Verdict:
        """The verdict on one poll: a record, an error, or None for a class WizIQ has no record of."""
        from airflow_provider_wiziq.api.status import class_status

        if isinstance(polled, WizIQError):
            return self._error(polled)
        self.errors = 0
        if polled is None:
            return self._unknown("get_data returned no record for it")
        try:
            status = class_status(polled)
        except ValueError as error:
            return self._verdict(Outcome.ERROR, f"Cannot read class {self.class_id}'s status: {error}")
        self.last_status = status
        record = {**polled.fields, "status": status.value}
        outcome = self.outcome(status)
        if outcome is Outcome.SUCCESS:
            message = f"WizIQ class {self.class_id} is {status.value}"
        elif outcome is Outcome.WRONG_STATUS:
            message = (
                f"WizIQ class {self.class_id} is {status.value}, a final status, so it will never be "
                f"{self.describe_targets()}"
            )
        else:
            message = f"WizIQ class {self.class_id} is {status.value}; waiting for {self.describe_targets()}"
        return self._verdict(outcome, message, record=record, status=status.value)

    def _error(self, error: WizIQError) -> Verdict:
        if is_unknown_class(error):
            self.errors = 0
            return self._unknown(str(error))
        if not error.transient:
            return self._verdict(Outcome.ERROR, f"Waiting for WizIQ class {self.class_id} failed: {error}")
        self.errors += 1
        if self.errors >= self.max_consecutive_errors:
            message = (
                f"Waiting for WizIQ class {self.class_id} failed after {self.errors} WizIQ errors in a row; "
                f"the last: {error}"
            )
            return self._verdict(Outcome.ERROR, message, retryable=True)
        message = (
            f"WizIQ error {self.errors} of {self.max_consecutive_errors} allowed in a row while waiting for "
            f"class {self.class_id}: {error}; polling again"
        )
        return self._verdict(Outcome.WAITING, message)

    def _unknown(self, detail: str) -> Verdict:
        return self._verdict(Outcome.UNKNOWN_CLASS, f"WizIQ does not know class {self.class_id} ({detail})")

    def _verdict(self, outcome: Outcome, message: str, **details: Any) -> Verdict:
        return Verdict(outcome, message, self.class_id, errors=self.errors, **details)


# The coalescing poller ------------------------------------------------------------------------------------

ClientFactory = Callable[[str], Awaitable["AsyncWizIQClient"]]


async def connection_client(conn_id: str) -> AsyncWizIQClient:
    """An async client for Airflow connection ``conn_id``, read without blocking the event loop."""
    from airflow.sdk import BaseHook

    from airflow_provider_wiziq.api.async_client import AsyncWizIQClient
    from airflow_provider_wiziq.api.config import config_from_airflow_connection

    return AsyncWizIQClient(config_from_airflow_connection(await BaseHook.aget_connection(conn_id)))


class Subscription:
    """One waiter's place in a poller: each round's poll of its class is judged by its :class:`Watch` as it
    comes, and the waiter is woken only for news (a new status, an error, a final verdict).

    Use it as an async context manager so that leaving (including by cancellation) unregisters it.
    """

    def __init__(self, poller: ClassStatusPoller, watch: Watch, poll_interval: float) -> None:
        self.poller = poller
        self.watch = watch
        self.class_id = watch.class_id
        self.poll_interval = poll_interval
        self._ready = asyncio.Event()
        self._verdict: Verdict | None = None

    async def next(self) -> Verdict:
        """Wait for the next verdict worth acting on (the latest, if several came since the last call)."""
        await self._ready.wait()
        self._ready.clear()
        verdict = self._verdict
        assert verdict is not None
        return verdict

    def deliver(self, polled: Polled) -> None:
        """Judge one poll; wake the waiter only when the verdict is news."""
        verdict = self.watch.news(polled)
        if verdict is not None:
            self._verdict = verdict
            self._ready.set()

    def close(self) -> None:
        """Leave the poller; when no waiter is left it ends at its next wake-up."""
        self.poller.remove(self)

    async def aclose(self) -> None:
        """Leave the poller; the last waiter to leave also waits until the poller has closed its client."""
        self.close()
        await self.poller.wait_closed()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class ClassStatusPoller:
    """Polls the status of every waiting class of one connection, ``BATCH_SIZE`` ids per ``get_data`` call.

    A round comes a poll interval (the shortest any waiter asked for) after the previous one ended; after a
    round in which WizIQ failed, the pause doubles (up to ``MAX_BACKOFF`` or the interval, whichever is longer).
    """

    def __init__(
        self, conn_id: str, *, client_factory: ClientFactory, on_stop: Callable[[ClassStatusPoller], None]
    ) -> None:
        self.conn_id = conn_id
        self.rounds = 0  # rounds completed: for logs and tests
        self.requests = 0  # get_data calls made
        self._client_factory = client_factory
        self._on_stop = on_stop
        self._waiters: dict[Subscription, None] = {}  # insertion-ordered set
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failed_rounds = 0
        self._last_round = 0.0

    @property
    def waiters(self) -> int:
        return len(self._waiters)

    @property
    def interval(self) -> float:
        return min(waiter.poll_interval for waiter in self._waiters)

    def add(self, watch: Watch, poll_interval: float) -> Subscription:
        subscription = Subscription(self, watch, poll_interval)
        self._waiters[subscription] = None
        self._changed.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"wiziq-poller-{self.conn_id}")
        return subscription

    def remove(self, subscription: Subscription) -> None:
        if subscription not in self._waiters:
            return
        del self._waiters[subscription]
        self._changed.set()  # wake the loop: the interval may have grown, or no waiter is left
        if not self._waiters:
            self._on_stop(self)  # leave the registry now: a new waiter gets a new poller

    async def wait_closed(self) -> None:
        """Once no waiter is left: stop the poller (cancelling a round in flight) and wait until its client is
        closed, so that no connection outlives the event loop (``dag.test()`` ends its loop right after the
        trigger's event)."""
        task = self._task
        if self._waiters or task is None or task.done():
            return
        task.cancel()
        await asyncio.wait({task})

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        client: AsyncWizIQClient | None = None
        self._last_round = loop.time()
        try:
            while self._waiters:
                await self._pause_until_due()
                if not self._waiters:
                    break
                if client is None:
                    client = await self._open_client()
                if client is not None:
                    await self._round(client)
                # The pause counts from the end of a round: a slow round is not followed by another at once.
                self._last_round = loop.time()
        except Exception as error:  # a bug must not leave the waiters waiting until their end time
            log.exception("WizIQ poller for connection %r stopped", self.conn_id)
            failure = WizIQError(f"Polling WizIQ failed unexpectedly: {type(error).__name__}: {error}")
            for waiter in list(self._waiters):
                waiter.deliver(failure)
        finally:
            self._on_stop(self)
            if client is not None:
                await client.aclose()

    def _pause(self) -> float:
        return backoff(self.interval, self._failed_rounds)

    async def _pause_until_due(self) -> None:
        """Sleep until the next round is due, recomputed whenever waiters come or go (the interval may change)."""
        loop = asyncio.get_running_loop()
        while self._waiters:
            delay = self._last_round + self._pause() - loop.time()
            if delay <= 0:
                return
            self._changed.clear()
            timer = loop.call_later(delay, self._changed.set)
            try:
                await self._changed.wait()
            finally:
                timer.cancel()

    async def _open_client(self) -> AsyncWizIQClient | None:
        """The client for this connection; on failure every waiter is told (a bad connection is permanent)."""
        try:
            return await self._client_factory(self.conn_id)
        except WizIQError as error:
            failure: WizIQError = error
        except Exception as error:
            failure = WizIQConfigError(f"Cannot read the WizIQ connection {self.conn_id!r}: {error}")
        log.error("WizIQ poller for connection %r: %s", self.conn_id, failure)
        for waiter in list(self._waiters):
            waiter.deliver(failure)
        return None

    async def _round(self, client: AsyncWizIQClient) -> None:
        """One get_data per ``BATCH_SIZE`` waiting classes; each chunk's answer goes to the waiters it asked for.

        The round asks for the waiters subscribed when it starts, and answers only those still subscribed when
        their chunk's answer comes: a waiter that joins mid-round was not asked about (its class is missing
        from the answer, which must not read as "unknown class"), so it waits for the next round.
        """
        asked: dict[int, list[Subscription]] = {}
        for waiter in self._waiters:
            asked.setdefault(waiter.class_id, []).append(waiter)
        ids = list(asked)
        chunks = [ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
        gate = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        results = await asyncio.gather(*(self._fetch(client, chunk, gate) for chunk in chunks))
        transient = False
        waiters = self._waiters
        for chunk, result in zip(chunks, results, strict=True):
            if isinstance(result, WizIQError):
                transient = transient or result.transient
            for class_id in chunk:
                polled = result if isinstance(result, WizIQError) else result.get(class_id)
                for waiter in asked[class_id]:
                    if waiter in waiters:  # it may have left while the round was in flight
                        waiter.deliver(polled)
        self._failed_rounds = self._failed_rounds + 1 if transient else 0
        self.rounds += 1
        log.debug(
            "WizIQ poll round %d on %r: %d classes in %d requests", self.rounds, self.conn_id, len(ids), len(chunks)
        )

    async def _fetch(
        self, client: AsyncWizIQClient, chunk: list[int], gate: asyncio.Semaphore
    ) -> dict[int, ClassRecord] | WizIQError:
        """The records of one chunk by id, or the error that answered for the whole chunk."""
        from airflow_provider_wiziq.api.status import STATUS_COLUMNS

        async with gate:
            self.requests += 1
            try:
                records = await client.get_data(multiple_class_id=chunk, columns=STATUS_COLUMNS, page_size=BATCH_SIZE)
            except WizIQAPIError as error:
                if is_no_record(error):  # none of the ids exists
                    return {}
                return error
            except WizIQError as error:
                return error
            except Exception as error:  # a bug must not leave the waiters hanging
                log.exception("WizIQ poller for connection %r failed", self.conn_id)
                return WizIQError(f"Polling WizIQ failed unexpectedly: {type(error).__name__}: {error}")
        return {record.class_id: record for record in records if record.class_id is not None}


class PollerRegistry:
    """The process's pollers, one per (event loop, connection id); a poller leaves when it stops."""

    def __init__(self, client_factory: ClientFactory = connection_client) -> None:
        self.client_factory = client_factory
        self._lock = threading.Lock()
        self._pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ClassStatusPoller]] = (
            weakref.WeakKeyDictionary()
        )

    def subscribe(self, conn_id: str, watch: Watch, poll_interval: float) -> Subscription:
        """Register ``watch``'s wait with the running loop's poller of ``conn_id`` (started if needed)."""
        if not (poll_interval > 0 and math.isfinite(poll_interval)):
            raise ValueError("poll_interval must be a positive number of seconds")
        loop = asyncio.get_running_loop()
        with self._lock:
            pollers = self._pollers.setdefault(loop, {})
            poller = pollers.get(conn_id)
            if poller is None:
                poller = pollers[conn_id] = ClassStatusPoller(
                    conn_id, client_factory=self.client_factory, on_stop=self._forget
                )
        return poller.add(watch, poll_interval)

    def pollers(self) -> list[ClassStatusPoller]:
        """The running loop's active pollers."""
        with self._lock:
            return list(self._pollers.get(asyncio.get_running_loop(), {}).values())

    def _forget(self, poller: ClassStatusPoller) -> None:
        with self._lock:
            for pollers in self._pollers.values():
                if pollers.get(poller.conn_id) is poller:
                    del pollers[poller.conn_id]


#: The process-wide registry every :class:`WizIQClassStatusTrigger` subscribes through.
POLLERS = PollerRegistry()
