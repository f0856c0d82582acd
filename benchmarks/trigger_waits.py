"""1,000 deferred status waits in one event loop: requests per poll round, memory per waiting trigger, CPU a round.

Runs 1,000 ``WizIQClassStatusTrigger``s (each waiting for its own class to complete) in one asyncio loop,
as one triggerer does, against the emulator (its own process). They share one coalescing poller
(``triggers/poller.py``). Measured over several poll rounds once every trigger waits:

* requests per round (target: at most 10), against the baseline of one ``get_data`` per waiting trigger;
* resident memory per waiting trigger (RSS growth), and its Python heap (tracemalloc) against a bare
  asyncio task waiting on an event;
* CPU per round in this process, against the one-request-per-wait pattern (a dbt-Cloud-style trigger:
  each wait polls its own class with a plain ``get_data`` on a minimal client), run in the same process.

Run: .venv/bin/python benchmarks/trigger_waits.py
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import psutil
from emulator_process import EmulatorProcess, quiet_airflow_home, quiet_logs

if TYPE_CHECKING:
    from airflow_provider_wiziq.triggers.poller import ClassStatusPoller

WAITS = 1000
CLASSES_PER_SERIES = 50
POLL_INTERVAL = 0.5
ROUNDS = 8
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
        await rounds_done(poller, 1)
        per_trigger = (tracemalloc.get_traced_memory()[0] - before) / WAITS
    tracemalloc.stop()
    return per_trigger


async def one_request_per_wait(class_ids: list[int], url: str) -> tuple[float, float]:
    """CPU and wall seconds a round of the one-request-per-wait pattern (a dbt-Cloud-style trigger).

    Each wait is its own task that, every poll interval, sends one plain ``get_data`` for its class and reads
    its status: sign, post on one shared keep-alive ``httpx.AsyncClient`` (10 connections), parse with
    ``ElementTree``: the least a hand-written client does, without the project's client (no retry policy,
    no size caps or hostile-answer checks). Measured over ``ROUNDS`` rounds after a first one.
    """
    import xml.etree.ElementTree as ElementTree

    import httpx

    from airflow_provider_wiziq.api.protocol.signing import signed_fields
    from airflow_provider_wiziq.emulator.config import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY

    started, gate = asyncio.Event(), asyncio.Semaphore(10)
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def status(class_id: int) -> str | None:
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
            async with gate:  # 10 in flight, as many as the pool's connections: no request queues in httpx
                answer = await client.post(f"{url}?method=get_data", data=form)
            return ElementTree.fromstring(answer.content).findtext("get_data/record_list/record/status")

        ready: list[int] = []

        async def wait(class_id: int) -> None:
            assert await status(class_id) == "upcoming"  # round 0: connections open
            ready.append(class_id)
            await started.wait()
            for _ in range(ROUNDS):
                assert await status(class_id) == "upcoming"
                await asyncio.sleep(POLL_INTERVAL)

        waits = [asyncio.create_task(wait(class_id)) for class_id in class_ids]
        while len(ready) < len(class_ids):
            await asyncio.sleep(0.05)
        used, begun = time.process_time(), time.perf_counter()
        started.set()
        await asyncio.gather(*waits)
        used, wall = time.process_time() - used, time.perf_counter() - begun
    return used / ROUNDS, wall / ROUNDS


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


async def rounds_done(poller: ClassStatusPoller, count: int) -> None:
    target = poller.rounds + count
    while poller.rounds < target:
        await asyncio.sleep(0.005)


async def coalesced(class_ids: list[int]) -> dict[str, float]:
    """Requests and CPU per round, and resident memory per waiting trigger."""
    before = rss()
    async with waiting_triggers(class_ids) as poller:
        await rounds_done(poller, 1)  # the first round opens the client and its connections
        waiting_rss = rss()
        rounds, requests, used = poller.rounds, poller.requests, time.process_time()
        await rounds_done(poller, ROUNDS)
        return {
            "requests_per_round": (poller.requests - requests) / (poller.rounds - rounds),
            "cpu_per_round": (time.process_time() - used) / (poller.rounds - rounds),
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
        base_cpu, base_wall = asyncio.run(one_request_per_wait(class_ids, emulator.url))
    requests, round_cpu = figures["requests_per_round"], figures["cpu_per_round"]
    print(f"{WAITS} WizIQClassStatusTrigger waits in one event loop, poll interval {POLL_INTERVAL} s, {ROUNDS} rounds")
    print(f"requests per poll round: {requests:.1f} (target <= 10); baseline one get_data per wait: {WAITS}")
    print(f"resident memory per waiting trigger: {figures['rss_per_trigger'] / 1024:.1f} KiB (RSS growth / {WAITS})")
    print(
        f"Python heap per waiting trigger: {heap_trigger / 1024:.2f} KiB; bare asyncio task on an event: "
        f"{heap_task / 1024:.2f} KiB"
    )
    print(
        f"CPU per poll round (this process): {round_cpu * 1000:.1f} ms; one request per wait (a minimal "
        f"client, {WAITS} plain get_data calls a round): {base_cpu * 1000:.0f} ms CPU a round "
        f"({base_wall:.2f} s wall)"
    )
    print(
        f"ratio: requests {requests / WAITS:.3f}, CPU {round_cpu / base_cpu:.3f} of one request per wait; "
        f"memory {heap_trigger / heap_task:.1f}x a bare waiting task"
    )


if __name__ == "__main__":
    main()
