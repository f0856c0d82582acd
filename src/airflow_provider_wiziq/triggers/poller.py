"""The poller that coalesces status triggers' polls; the verdict on each poll is ``api.wait``'s (``ClassWait``).

:class:`ClassStatusPoller` lets many triggers in one triggerer share their requests: one poller per (event loop,
connection) wakes every poll interval, asks ``get_data`` for all waiting classes in one call per 100 ids
(``multiple_class_id``) and hands each waiter its record or error. It stops, closing its client, when no
waiter is left. Everything here runs in the event loop's thread; only the registry is shared between loops.

With status pings on for the connection (its ``ping_base_url`` extra and this process's ``[wiziq] ping_inbox``:
:mod:`airflow_provider_wiziq.plugins`), the poller also reads the connection's ping inbox every
``DOORBELL_INTERVAL`` seconds (no WizIQ call) and asks ``get_data`` at once about the classes that rang, and
about waiters not asked yet; full rounds then come only every ``PING_IDLE_INTERVAL`` (or the poll interval, if
longer), to catch what no ping announced. A ping only says when to ask: the verdict is still WizIQ's answer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

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
#: Seconds between two reads of the ping inbox, when pings are on: how soon a ping is acted on.
DOORBELL_INTERVAL = 2.0
#: Seconds between full rounds when pings are on (or the poll interval, if longer; ``[wiziq] ping_idle_interval``
#: sets another): the longest a class whose ping was lost (Airflow down, a class made without a status_ping_url)
#: waits to be noticed. A quarter of an hour keeps 1,000 waits under 10% of a one-minute poll's calls.
PING_IDLE_INTERVAL = 900.0
# The coalescing poller ------------------------------------------------------------------------------------

ClientFactory = Callable[[str], Awaitable["AsyncWizIQClient"]]


class Doorbell(Protocol):
    """What the poller reads pings from (``plugins.inbox.InboxReader``): the classes rung since the last read."""

    def read(self) -> dict[int, float]: ...


#: ``(conn_id, ping_base_url) -> Doorbell | None``: the connection's ping inbox reader, or None with pings off.
DoorbellFactory = Callable[[str, "str | None"], Awaitable["Doorbell | None"]]


async def connection_client(conn_id: str) -> AsyncWizIQClient:
    """An async client for connection ``conn_id``, from the hook (the one place that reads connections)."""
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    return await WizIQHook(wiziq_conn_id=conn_id).get_async_client()


async def connection_doorbell(conn_id: str, ping_base_url: str | None) -> Doorbell | None:
    """The ping inbox reader of connection ``conn_id`` when its classes are pinged (it has a ``ping_base_url``)
    and this process knows the inbox (``[wiziq] ping_inbox``); its first read (in a thread) notes what is there."""
    if not ping_base_url:
        return None
    from airflow_provider_wiziq.plugins.inbox import PingInbox
    from airflow_provider_wiziq.plugins.settings import ping_inbox

    where = ping_inbox()
    if where is None:
        log.warning(
            "The WizIQ connection %r has a ping_base_url, but this triggerer has no [wiziq] ping_inbox: its "
            "waits poll and never hear the pings",
            conn_id,
        )
        return None
    reader = PingInbox(where, conn_id).reader()
    await asyncio.to_thread(reader.read)
    log.info("WizIQ poller for connection %r: status pings on (inbox read every %.3g s)", conn_id, DOORBELL_INTERVAL)
    return reader


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
        self.asked = False  # a round has answered for it (with pings on, a waiter not asked yet is asked soon)
        self._ready = asyncio.Event()
        self._verdict: Verdict | None = None

    async def next(self) -> Verdict:
        """Wait for the next verdict worth acting on (the latest, if several came since the last call)."""
        await self._ready.wait()
        self._ready.clear()
        verdict = self._verdict
        assert verdict is not None
        return verdict

    def deliver(self, polled: Polled) -> bool:
        """Judge one poll; wake the waiter only when the verdict is news (and say whether it was)."""
        self.asked = True
        verdict = self.watch.news(polled)
        if verdict is not None:
            self._verdict = verdict
            self._ready.set()
        return verdict is not None

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
        self,
        conn_id: str,
        *,
        client_factory: ClientFactory,
        on_stop: Callable[[ClassStatusPoller], None],
        doorbell_factory: DoorbellFactory | None = None,
    ) -> None:
        self.conn_id = conn_id
        self.rounds = 0  # rounds completed, full ones and those a ping called: for logs and tests
        self.requests = 0  # get_data calls made
        self.rung = 0  # rounds a ping (or a new waiter) called for, with pings on
        self.unannounced = 0  # status changes a full round found that no ping had announced, with pings on
        self._client_factory = client_factory
        self._doorbell_factory = doorbell_factory or connection_doorbell
        self._on_stop = on_stop
        self._waiters: dict[_Subscription, None] = {}  # insertion-ordered set
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failed_rounds = 0
        self._last_round = 0.0
        self.doorbell: Doorbell | None = None  # the inbox reader, once the client is open and pings are on
        self.idle_interval = PING_IDLE_INTERVAL  # or [wiziq] ping_idle_interval, read when pings turn on
        self._due: set[int] = set()  # classes that rang and have not been answered since
        self._last_bell = 0.0
        self._failed_bells = 0  # doorbell rounds in a row WizIQ failed (their classes stay due)
        self._unasked: set[_Subscription] = set()  # waiters no round has answered yet
        self._last_bell_round = 0.0

    @property
    def pings(self) -> bool:
        """Whether pings are on for this poller's connection (known once its client is open)."""
        return self.doorbell is not None

    @property
    def waiters(self) -> int:
        return len(self._waiters)

    @property
    def interval(self) -> float:
        """Seconds between full rounds: the shortest poll interval asked for; with pings on, at least the idle
        interval (``[wiziq] ping_idle_interval``, else ``PING_IDLE_INTERVAL``)."""
        shortest = min(waiter.poll_interval for waiter in self._waiters)
        return max(shortest, self.idle_interval) if self.pings else shortest

    def add(self, watch: ClassWait, poll_interval: float) -> _Subscription:
        subscription = _Subscription(self, watch, poll_interval)
        self._waiters[subscription] = None
        self._unasked.add(subscription)
        self._changed.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"wiziq-poller-{self.conn_id}")
        return subscription

    def remove(self, subscription: _Subscription) -> None:
        if subscription not in self._waiters:
            return
        del self._waiters[subscription]
        self._unasked.discard(subscription)
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
                if client is None:
                    client = await self._open_client()
                    if client is not None:
                        self.doorbell = await self._open_doorbell(client)
                rung = await self._pause_until_due()
                if not self._waiters:
                    break
                if client is None:
                    self._last_round = loop.time()
                elif rung:
                    await self._answer_the_doorbell(client)
                else:
                    await self._round(client, list(self._waiters))
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

    async def _pause_until_due(self) -> bool:
        """Sleep until the next full round is due (False), or, with pings on, the next read of the inbox (True);
        recomputed whenever waiters come or go (the interval may change)."""
        loop = asyncio.get_running_loop()
        while self._waiters:
            now = loop.time()
            full = self._last_round + self._pause() - now
            bell = self._last_bell + DOORBELL_INTERVAL - now if self.pings else math.inf
            if full <= 0:
                return False
            if bell <= 0:
                return True
            delay = min(full, bell)
            self._changed.clear()
            timer = loop.call_later(delay, self._changed.set)
            try:
                await self._changed.wait()
            finally:
                timer.cancel()
        return False

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

    async def _open_doorbell(self, client: AsyncWizIQClient) -> Doorbell | None:
        """The connection's inbox reader when pings are on for it, else None (a failure to read it: None, logged)."""
        from airflow_provider_wiziq.plugins.settings import ping_idle_interval

        try:
            self.idle_interval = ping_idle_interval() or PING_IDLE_INTERVAL
        except WizIQConfigError as error:
            log.error("%s Using %.0f s.", error, PING_IDLE_INTERVAL)
        try:
            return await self._doorbell_factory(self.conn_id, client.config.ping_base_url)
        except Exception as error:
            log.warning(
                "WizIQ poller for connection %r: cannot read its ping inbox (%s: %s); polling every %.3g s",
                self.conn_id,
                type(error).__name__,
                error,
                self.interval,
            )
            return None

    async def _answer_the_doorbell(self, client: AsyncWizIQClient) -> None:
        """Read the inbox; ask WizIQ about the classes that rang since they were last answered, and about the
        waiters not asked yet (a ping may have come before they subscribed). Nothing to ask: no call."""
        loop = asyncio.get_running_loop()
        self._last_bell = loop.time()
        assert self.doorbell is not None
        try:
            self._due.update(await asyncio.to_thread(self.doorbell.read))
        except Exception as error:  # the inbox is a hint: full rounds go on without it
            log.warning("WizIQ poller for connection %r: reading the ping inbox failed: %s", self.conn_id, error)
        if self._due:  # a class no one waits for is no one's news
            self._due &= {waiter.class_id for waiter in self._waiters}
        if not self._due and not self._unasked:
            return  # the usual read: nothing rang, no one new (and no pass over every waiter)
        if self._failed_bells and loop.time() < self._last_bell_round + backoff(DOORBELL_INTERVAL, self._failed_bells):
            return
        ask = [waiter for waiter in self._waiters if waiter in self._unasked or waiter.class_id in self._due]
        self._last_bell_round = loop.time()
        self.rung += 1
        await self._round(client, ask, doorbell=True)

    async def _round(self, client: AsyncWizIQClient, waiters: list[_Subscription], *, doorbell: bool = False) -> None:
        """One get_data per ``BATCH_SIZE`` classes of ``waiters``; each chunk's answer goes to the waiters it
        asked for.

        The round asks for the waiters given when it starts, and answers only those still subscribed when
        their chunk's answer comes: a waiter that joins mid-round was not asked about (its class is missing
        from the answer, which must not read as "unknown class"), so it waits for the next round.
        A round a ping called for (``doorbell``) keeps a transient WizIQ error to itself: its classes stay due
        and are asked again at the next read of the inbox (pausing as the one wait backoff says), so that
        errors in a row count at the pace of full rounds, as without pings.
        """
        asked: dict[int, list[_Subscription]] = {}
        for waiter in waiters:
            asked.setdefault(waiter.class_id, []).append(waiter)
        announced = set(self._due)
        ids = list(asked)
        chunks = [ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
        gate = asyncio.Semaphore(_MAX_CONCURRENT_REQUESTS)
        results = await asyncio.gather(*(self._fetch(client, chunk, gate) for chunk in chunks))
        transient = False
        unannounced = 0
        subscribed = self._waiters
        for chunk, result in zip(chunks, results, strict=True):
            if isinstance(result, WizIQError):
                transient = transient or result.transient
                if doorbell and result.transient:
                    continue
            for class_id in chunk:
                self._due.discard(class_id)
                polled = result if isinstance(result, WizIQError) else result.get(class_id)
                for waiter in asked[class_id]:
                    if waiter in subscribed:  # it may have left while the round was in flight
                        known = waiter.asked
                        news = waiter.deliver(polled)
                        self._unasked.discard(waiter)
                        unannounced += int(news and known and self.pings and class_id not in announced)
        if doorbell:
            self._failed_bells = self._failed_bells + 1 if transient else 0
        else:
            self._failed_rounds = self._failed_rounds + 1 if transient else 0
        self.rounds += 1
        log.debug(
            "WizIQ poll round %d on %r%s: %d classes in %d requests",
            self.rounds,
            self.conn_id,
            " (rung)" if doorbell else "",
            len(ids),
            len(chunks),
        )
        if unannounced:
            self.unannounced += unannounced
            log.info(
                "WizIQ poll round on %r: %d waits saw a new status no ping had announced (pings lost while "
                "Airflow was down, dropped on the way, or classes made without a status_ping_url)",
                self.conn_id,
                unannounced,
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
        return {class_id: record for record in records if (class_id := record.class_id) is not None}


class _PollerRegistry:
    """The process's pollers, one per (event loop, connection id); a poller leaves when it stops."""

    def __init__(
        self, client_factory: ClientFactory = connection_client, doorbell_factory: DoorbellFactory | None = None
    ) -> None:
        self.client_factory = client_factory
        self.doorbell_factory = doorbell_factory
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
                    conn_id,
                    client_factory=self.client_factory,
                    on_stop=self._forget,
                    doorbell_factory=self.doorbell_factory,
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
