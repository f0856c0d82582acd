"""The poller that coalesces status triggers' polls; the verdict on each poll is ``api.wait``'s (``ClassWait``).

:class:`ClassStatusPoller` lets many triggers in one triggerer share their requests: one poller per (event loop,
connection) wakes every poll interval, asks ``get_data`` for all waiting classes in one call per 100 ids
(``multiple_class_id``) and hands each waiter its record or error. It stops, closing its client, when no
waiter is left. Everything here runs in the event loop's thread; only the registry is shared between loops.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQConfigError, WizIQError, is_no_record
from airflow_provider_wiziq.api.protocol.retry import backoff

if TYPE_CHECKING:
    from airflow_provider_wiziq.api.protocol.async_client import AsyncWizIQClient
    from airflow_provider_wiziq.api.protocol.responses import ClassRecord
    from airflow_provider_wiziq.api.rules.wait import ClassWait, Polled, Verdict

# The status model and the XML answers it reads are imported on first use, so that a DAG file naming the
# sensor stays cheap to parse.

log = logging.getLogger(__name__)

#: ``get_data`` takes at most this many ids in ``multiple_class_id`` (its page size cap).
BATCH_SIZE = 100
#: Requests one poller has in flight at once (a round of 5,000 classes is 50 requests, 10 at a time).
_MAX_CONCURRENT_REQUESTS = 10
# The coalescing poller ------------------------------------------------------------------------------------

ClientFactory = Callable[[str], Awaitable["AsyncWizIQClient"]]


async def connection_client(conn_id: str) -> AsyncWizIQClient:
    """An async client for connection ``conn_id``, from the hook (the one place that reads connections)."""
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    return await WizIQHook(wiziq_conn_id=conn_id).get_async_client()


class _Subscription:
    """One waiter's place in a poller: each round's poll of its class is judged by its ``ClassWait`` as it
    comes, and the waiter is woken only for news (a new status, an error, a final verdict).

    Use it as an async context manager so that leaving (including by cancellation) unregisters it.
    """

    def __init__(self, poller: ClassStatusPoller, watch: ClassWait, poll_interval: float) -> None:
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

    async def __aenter__(self) -> _Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class ClassStatusPoller:
    """Polls the status of every waiting class of one connection, ``BATCH_SIZE`` ids per ``get_data`` call.

    A round comes a poll interval (the shortest any waiter asked for) after the previous one ended; after a
    round in which WizIQ failed, the pause doubles (:func:`airflow_provider_wiziq.api.protocol.retry.backoff`).
    """

    def __init__(
        self, conn_id: str, *, client_factory: ClientFactory, on_stop: Callable[[ClassStatusPoller], None]
    ) -> None:
        self.conn_id = conn_id
        self.rounds = 0  # rounds completed: for logs and tests
        self.requests = 0  # get_data calls made
        self._client_factory = client_factory
        self._on_stop = on_stop
        self._waiters: dict[_Subscription, None] = {}  # insertion-ordered set
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

    def add(self, watch: ClassWait, poll_interval: float) -> _Subscription:
        subscription = _Subscription(self, watch, poll_interval)
        self._waiters[subscription] = None
        self._changed.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"wiziq-poller-{self.conn_id}")
        return subscription

    def remove(self, subscription: _Subscription) -> None:
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
        asked: dict[int, list[_Subscription]] = {}
        for waiter in self._waiters:
            asked.setdefault(waiter.class_id, []).append(waiter)
        ids = list(asked)
        chunks = [ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
        gate = asyncio.Semaphore(_MAX_CONCURRENT_REQUESTS)
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
        from airflow_provider_wiziq.api.protocol.status import STATUS_COLUMNS

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


class _PollerRegistry:
    """The process's pollers, one per (event loop, connection id); a poller leaves when it stops."""

    def __init__(self, client_factory: ClientFactory = connection_client) -> None:
        self.client_factory = client_factory
        self._lock = threading.Lock()
        self._pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ClassStatusPoller]] = (
            weakref.WeakKeyDictionary()
        )

    def subscribe(self, conn_id: str, watch: ClassWait, poll_interval: float) -> _Subscription:
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
POLLERS = _PollerRegistry()
