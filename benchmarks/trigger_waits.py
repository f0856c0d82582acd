"""1,000 deferred status waits in one event loop: requests per poll round, memory per waiting trigger, CPU a round.

Runs 1,000 ``WizIQClassStatusTrigger``s (each waiting for its own class to complete) in one asyncio loop,
as one triggerer does, against the emulator (its own process). They share one coalescing poller
(``triggers/poller.py``). Measured over several poll rounds once every trigger waits:

* requests per round (target: at most 10), against the baseline of one ``get_data`` per waiting trigger;
* resident memory per waiting trigger (RSS growth), and its Python heap (tracemalloc) against a bare
  asyncio task waiting on an event;
* CPU per round in this process (user + system), against the pattern of Airflow's dbt Cloud trigger
  (``DbtCloudRunJobTrigger``): each wait has its own keep-alive async HTTP client and sends one request per
  poll interval, here one plain ``get_data`` for its class (see :func:`dbt_pattern_wait`).

The two sides run in the same process, in alternating blocks (the coalesced side torn down while the
baseline runs, so neither pays for the other), and the figure is the median of the blocks' ratios. CPU
time, not instruction counts: the baseline's cost is 1,000 connections' system calls as much as its Python,
and callgrind counts user space only (and would take many minutes to run the baseline).
Run: .venv/bin/python benchmarks/trigger_waits.py
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psutil
from emulator_process import EmulatorProcess, quiet_airflow_home, quiet_logs

if TYPE_CHECKING:
    from airflow_provider_wiziq.triggers.poller import ClassStatusPoller

WAITS = 1000
CLASSES_PER_SERIES = 50
POLL_INTERVAL = 0.5
ROUNDS = 6  # coalesced rounds a block
BASELINE_ROUNDS = 2  # baseline rounds a block (1,000 requests each)
BLOCKS = 3
#: Seconds a poll round may take before the benchmark gives up with what became of the poller.
ROUND_DEADLINE = 60
YEAR = datetime.now().year + 1


def create_classes(emulator: EmulatorProcess) -> list[int]:
    """``WAITS`` upcoming classes: series of ``CLASSES_PER_SERIES`` daily classes."""
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    hook = WizIQHook()
    for index in range(WAITS // CLASSES_PER_SERIES):
        hook.create_recurring(
            title=f"Waits {index}",
            presenter_email=f"w{index}@bench.example",
            time_zone="Europe/Berlin",
            start_time=f"{YEAR}-04-01T10:00",
            class_repeat_type="daily",
            class_occurrence=CLASSES_PER_SERIES,
        )
    hook.close()
    return [one["class_id"] for one in emulator.control("GET", "classes")["classes"]]


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


async def bare_task_memory() -> float:
    """Python heap bytes per bare asyncio task waiting on an event: the least a waiting coroutine costs."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    event = asyncio.Event()
    tasks = [asyncio.create_task(event.wait()) for _ in range(WAITS)]
    await asyncio.sleep(0.05)
    per_task = (tracemalloc.get_traced_memory()[0] - before) / WAITS
    tracemalloc.stop()
    event.set()
    await asyncio.gather(*tasks)
    return per_task


async def trigger_memory(class_ids: list[int]) -> float:
    """Python heap bytes per waiting trigger, once every trigger has had a poll round's result."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    async with waiting_triggers(class_ids) as poller:
        await round_counter(poller)(1)
        per_trigger = (tracemalloc.get_traced_memory()[0] - before) / WAITS
    tracemalloc.stop()
    return per_trigger


def dbt_pattern_wait(class_id: int, url: str) -> Callable[[], Awaitable[str | None]]:
    """One wait of the baseline: the status of ``class_id``, asked the way Airflow's dbt Cloud trigger asks.

    ``DbtCloudRunJobTrigger.run`` (apache-airflow-providers-dbt-cloud 4.11) makes one hook per trigger and
    asks ``get_job_status`` once per poll interval, one HTTP request per wait. This keeps that pattern with
    the least a hand-written client needs for WizIQ: the signing fields, a post on the trigger's own
    keep-alive ``httpx.AsyncClient`` (httpx is what Airflow ships; dbt's hook uses aiohttp) and
    ``ElementTree.fromstring`` to read the status; no retry policy, size cap or hostile-answer check. The
    real hook is heavier: it opens a new aiohttp session (a new connection) for every poll, builds a
    tenacity ``AsyncRetrying`` and logs a line. The caller opens and closes ``status.client``.
    """
    import xml.etree.ElementTree as ElementTree

    import httpx

    from airflow_provider_wiziq.api.protocol.signing import signed_fields
    from airflow_provider_wiziq.emulator.config import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY

    endpoint = f"{url}?method=get_data"
    # One connection, kept alive between polls (httpx's default expiry is 5 s, shorter than a round here).
    client = httpx.AsyncClient(
        timeout=600, limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=600)
    )

    async def status() -> str | None:
        form = {
            "method": "get_data",
            **signed_fields(
                secret_key=DEFAULT_SECRET_KEY,
                access_key=DEFAULT_ACCESS_KEY,
                timestamp=int(time.time()),
                method="get_data",
            ),
            "class_id": str(class_id),
            "columns": "class_id,status,time_to_start",
        }
        answer = await client.post(endpoint, data=form)
        return ElementTree.fromstring(answer.content).findtext("get_data/record_list/record/status")

    status.client = client  # type: ignore[attr-defined]
    return status


class DbtPatternWaits:
    """The baseline's 1,000 waits, each with its own client, polled in blocks of rounds on demand."""

    def __init__(self, class_ids: list[int], url: str) -> None:
        self._statuses = [dbt_pattern_wait(class_id, url) for class_id in class_ids]
        self._next = asyncio.Event()  # set to start the next block; a new one is made as each block starts
        self._rounds = 0  # polls a wait makes in the block under way (0: stop)
        self._done = 0
        self._finished = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Every wait opens its connection with a first poll (not measured)."""
        self._tasks = [asyncio.create_task(self._wait(status)) for status in self._statuses]
        await self._finished.wait()

    async def block(self, rounds: int) -> float:
        """CPU seconds (this process) a round, over ``rounds`` rounds: every wait polls, then sleeps an interval."""
        with settled_heap():
            used = time.process_time()
            self._release(rounds)
            await self._finished.wait()
            return (time.process_time() - used) / rounds

    async def close(self) -> None:
        self._release(0)
        await asyncio.gather(*self._tasks)
        for status in self._statuses:
            await status.client.aclose()  # type: ignore[attr-defined]

    def _release(self, rounds: int) -> None:
        self._rounds, self._done = rounds, 0
        self._finished.clear()
        release, self._next = self._next, asyncio.Event()
        release.set()

    async def _wait(self, status: Callable[[], Awaitable[str | None]]) -> None:
        polls, pause = 1, 0.0  # the first poll opens the connection
        while polls:
            for _ in range(polls):
                assert await status() == "upcoming"
                await asyncio.sleep(pause)
            block_over = self._next  # the event of the block after this one
            self._done += 1
            if self._done == len(self._statuses):
                self._finished.set()
            await block_over.wait()
            polls, pause = self._rounds, POLL_INTERVAL


async def cpu_blocks(class_ids: list[int], url: str) -> list[tuple[float, float]]:
    """(coalesced, baseline) CPU seconds a round, in ``BLOCKS`` alternating blocks."""
    baseline = DbtPatternWaits(class_ids, url)
    await baseline.start()
    blocks = []
    for _ in range(BLOCKS):
        async with waiting_triggers(class_ids) as poller:
            rounds = round_counter(poller)
            await rounds(1)  # the first round opens the client and its connections
            # ... and wakes every trigger once (its first status is news): let them log it and wait again
            await asyncio.sleep(POLL_INTERVAL / 2)
            with settled_heap():
                used = time.process_time()
                await rounds(ROUNDS)
                coalesced = (time.process_time() - used) / ROUNDS
        blocks.append((coalesced, await baseline.block(BASELINE_ROUNDS)))
    await baseline.close()
    return blocks


@contextmanager
def settled_heap() -> Iterator[None]:
    """Collect, then leave what exists out of the collector's walks until the block ends: the figure is a
    round's own work, not walks of whatever heap the benchmark built before (the other side's waits
    included), which otherwise landed in one block or another."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def round_counter(poller: ClassStatusPoller) -> Callable[[int], Awaitable[None]]:
    """``await rounds(n)`` returns when the poller has ended ``n`` more rounds, waking nothing in between."""
    rounds_run = poller._round  # the benchmark's own hook on the poller's round: no polling loop to pay for
    state: dict[str, Any] = {"target": None, "reached": asyncio.Event()}

    async def counting(client: Any, *args: Any, **kwargs: Any) -> None:
        await rounds_run(client, *args, **kwargs)  # the round's own arguments, whatever they are
        if state["target"] is not None and poller.rounds >= state["target"]:
            state["reached"].set()

    poller._round = counting  # type: ignore[method-assign]

    async def rounds(count: int) -> None:
        state["target"], state["reached"] = poller.rounds + count, asyncio.Event()
        try:
            await asyncio.wait_for(state["reached"].wait(), ROUND_DEADLINE * count)
        except asyncio.TimeoutError:
            waited = ROUND_DEADLINE * count
            raise RuntimeError(f"the poller ended no {count} round(s) in {waited} s: {_state(poller)}") from None
        state["target"] = None

    return rounds


def _state(poller: ClassStatusPoller) -> str:
    """What became of ``poller``'s task, for a benchmark that waited on it in vain (a stopped poller leaves the
    event loop idle: without a deadline the benchmark would wait forever)."""
    task = poller._task
    if task is None:
        return "its task never started"
    if not task.done():
        return f"its task still runs, {poller.waiters} waiters, {poller.rounds} rounds, {poller.requests} requests"
    if task.cancelled():
        return "its task was cancelled"
    return f"its task ended ({task.exception()!r}), {poller.waiters} waiters, {poller.rounds} rounds"


@asynccontextmanager
async def waiting_triggers(class_ids: list[int]) -> AsyncIterator[ClassStatusPoller]:
    """One trigger per class, each run up to its first (never coming) event; yields their shared poller."""
    from airflow_provider_wiziq.triggers.poller import POLLERS
    from airflow_provider_wiziq.triggers.wiziq import WizIQClassStatusTrigger

    triggers = [
        WizIQClassStatusTrigger(class_id=class_id, target_statuses="completed", poll_interval=POLL_INTERVAL)
        for class_id in class_ids
    ]
    runs = [trigger.run() for trigger in triggers]
    tasks = [asyncio.create_task(anext(run)) for run in runs]
    try:
        while not POLLERS.pollers() or POLLERS.pollers()[0].waiters < len(class_ids):
            await asyncio.sleep(0.01)
        (poller,) = POLLERS.pollers()
        yield poller
        assert not any(task.done() for task in tasks), "a trigger fired: every class should still be upcoming"
    finally:
        # Cancel until every trigger has ended: on Python 3.11 asyncio.wait_for (which the trigger awaits its
        # poll results with) swallows a cancellation that arrives just as a result does.
        pending = set(tasks)
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.2)
        for run in runs:
            await run.aclose()


async def coalesced(class_ids: list[int]) -> dict[str, float]:
    """Requests per round, and resident memory per waiting trigger."""
    before = rss()
    async with waiting_triggers(class_ids) as poller:
        rounds = round_counter(poller)
        await rounds(1)  # the first round opens the client and its connections
        waiting_rss = rss()
        done, requests = poller.rounds, poller.requests
        await rounds(ROUNDS)
        return {
            "requests_per_round": (poller.requests - requests) / (poller.rounds - done),
            "rss_per_trigger": (waiting_rss - before) / WAITS,
        }


def main() -> None:
    quiet_airflow_home()
    with EmulatorProcess() as emulator:
        emulator.use_as_default_connection()
        class_ids = create_classes(emulator)
        quiet_logs()
        assert len(class_ids) == WAITS
        figures = asyncio.run(coalesced(class_ids))  # first, so resident memory is not reused from earlier runs
        heap_trigger = asyncio.run(trigger_memory(class_ids))
        heap_task = asyncio.run(bare_task_memory())
        blocks = asyncio.run(cpu_blocks(class_ids, emulator.url))
    requests = figures["requests_per_round"]
    print(f"{WAITS} WizIQClassStatusTrigger waits in one event loop, poll interval {POLL_INTERVAL} s")
    print(f"requests per poll round: {requests:.1f} (target <= 10); baseline one get_data per wait: {WAITS}")
    print(f"resident memory per waiting trigger: {figures['rss_per_trigger'] / 1024:.1f} KiB (RSS growth / {WAITS})")
    print(
        f"Python heap per waiting trigger: {heap_trigger / 1024:.2f} KiB; bare asyncio task on an event: "
        f"{heap_task / 1024:.2f} KiB"
    )
    ratios = sorted(ours / theirs for ours, theirs in blocks)
    print(
        f"CPU per poll round (this process, user + system), {BLOCKS} alternating blocks of {ROUNDS} coalesced "
        f"rounds and {BASELINE_ROUNDS} baseline rounds:"
    )
    for number, (ours, theirs) in enumerate(blocks, 1):
        print(
            f"  block {number}: coalesced {ours * 1000:.1f} ms; dbt Cloud trigger's pattern (a client per wait, "
            f"{WAITS} get_data calls a round) {theirs * 1000:.0f} ms; ratio {ours / theirs:.4f}"
        )
    print(
        f"ratio: requests {requests / WAITS:.3f}, CPU {statistics.median(ratios):.3f} of one request per wait "
        f"(median of {BLOCKS} blocks); memory {heap_trigger / heap_task:.1f}x a bare waiting task"
    )


if __name__ == "__main__":
    main()
