"""WizIQ calls and triggerer CPU per hour of waiting for 1,000 deferred waits: status pings against polling only.

One hour is run 60 times faster (every interval divided by 60, so each side makes an hour's number of polls and
inbox reads in one minute). 1,000 ``WizIQClassStatusTrigger``s wait in this process's event loop, as one
triggerer's, each for its own class to complete; the emulator (its own process) serves ``get_data``. During the
hour 40 classes end, in two periods of 20 (at 20 and 50 minutes): their waits end, the 960 others go on waiting.

* **polling only**: the triggers poll every 60 s (Airflow's default ``poke_interval``): a shared round of 10
  ``get_data`` calls a minute.
* **pings**: the same triggers on a connection with ``ping_base_url``; the emulator posts each class's changes
  (live, then completed) to the provider's route (``/wiziq/ping``, served by uvicorn in its own process, as the
  api-server would), which records them in a file inbox. The poller reads the inbox every 2 s and asks
  ``get_data`` about the classes that rang; full rounds come every 15 minutes (``PING_IDLE_INTERVAL``).

Figures: ``get_data`` calls in the hour (the emulator's log), CPU seconds of this process in the hour (the
triggerer's share: the route's and the emulator's are other processes), and how long after its class ended each
of the 40 waits fired, counted from when its class was over and its pings delivered (measured times 60: the
delivery itself is left out, as it is not sped up; the e2e measures the whole in real time). Target: at least
10x fewer calls with pings.
Run: .venv/bin/python benchmarks/ping_waits.py
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from emulator_process import EmulatorProcess, quiet_airflow_home, quiet_logs

WAITS = 1000
CLASSES_PER_SERIES = 50
SPEED = 60.0  # one hour in a minute
HOUR = 3600.0 / SPEED
POLL_INTERVAL = 60.0 / SPEED
PERIODS = (20 * 60 / SPEED, 50 * 60 / SPEED)  # when a period's classes end, seconds into the hour
SECRET = "benchmark-ping-secret-0123456789"
YEAR = datetime.now().year + 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Route:
    """The provider's status-ping route in its own process (uvicorn), writing to ``inbox``."""

    def __init__(self, inbox: str) -> None:
        self.port = free_port()
        self.inbox = inbox
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/wiziq/ping"

    def __enter__(self) -> Route:
        code = (
            "import uvicorn; from fastapi import FastAPI; from airflow_provider_wiziq.plugins import WizIQPingPlugin;"
            "app = FastAPI(); m = WizIQPingPlugin.fastapi_apps[0]; app.mount(m['url_prefix'], m['app']);"
            f"uvicorn.run(app, host='127.0.0.1', port={self.port}, log_level='error', access_log=False)"
        )
        self.process = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ))
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the ping route did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)


class HeldReads:
    """The poller's inbox reader, whose reads wait while ``gate`` is closed.

    Sped up 60 times, the second the emulator takes to post a period's 40 pings would span 30 inbox reads; in
    real time it spans one. So reads are held while a period's pings are delivered, as if the reads were 2 s
    apart in real time. (The e2e measures the real-time case.)
    """

    def __init__(self, reader: Any, gate: threading.Event) -> None:
        self.reader = reader
        self.gate = gate

    def read(self) -> dict[int, float]:
        self.gate.wait(60)
        return dict(self.reader.read())


def create_classes(conn_id: str, ping: bool) -> list[list[int]]:
    """``WAITS`` upcoming classes in series of 50 daily ones at 10:00 UTC; the ids, by day."""
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    hook = WizIQHook(wiziq_conn_id=conn_id)
    url = hook.status_ping_url() if ping else None
    by_day: list[list[int]] = [[] for _ in range(CLASSES_PER_SERIES)]
    for index in range(WAITS // CLASSES_PER_SERIES):
        series = hook.create_recurring(
            title=f"Pinged {index}",
            presenter_email=f"p{index}@bench.example",
            time_zone="UTC",
            start_time=f"{YEAR}-04-01T10:00",
            duration=30,
            class_repeat_type="daily",
            class_occurrence=CLASSES_PER_SERIES,
            **({"status_ping_url": url} if url else {}),
        )
        for day, entry in enumerate(hook.read_schedule(series.class_master_id)):
            by_day[day].append(entry.class_id)
    hook.close()
    return by_day


async def one_hour(emulator: EmulatorProcess, conn_id: str, by_day: list[list[int]]) -> dict[str, Any]:
    """Run the waits for an hour (sped up); calls, CPU and the ended waits' delays."""
    from airflow_provider_wiziq.triggers.poller import POLLERS
    from airflow_provider_wiziq.triggers.wiziq import WizIQClassStatusTrigger

    class_ids = [class_id for day in by_day for class_id in day]
    ending = [set(by_day[0]), set(by_day[1])]
    fired: dict[int, float] = {}
    ended_at: list[float] = []

    async def wait(class_id: int) -> None:
        trigger = WizIQClassStatusTrigger(
            class_id=class_id, wiziq_conn_id=conn_id, poll_interval=POLL_INTERVAL, end_time=time.time() + 3600
        )
        async for event in trigger.run():
            assert event.payload["status"] == "success", event.payload
            fired[class_id] = time.monotonic()

    tasks = [asyncio.create_task(wait(class_id)) for class_id in class_ids]
    while not POLLERS.pollers() or POLLERS.pollers()[0].waiters < WAITS:
        await asyncio.sleep(0.05)
    (poller,) = POLLERS.pollers()
    while poller.requests < WAITS // 100:  # every wait asked once: the first round, or a new poller's first asks
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    gate = threading.Event()
    gate.set()
    if poller.doorbell is not None:
        poller.doorbell = HeldReads(poller.doorbell, gate)
    calls_before = emulator.api_calls("get_data")
    cpu_before, started = time.process_time(), time.monotonic()
    for day, moment in enumerate(PERIODS):
        await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
        first = datetime(YEAR, 4, 1, 10, 31, tzinfo=timezone.utc) + timedelta(days=day)
        gate.clear()  # a period's pings take about a second to deliver: in real time, within one 2 s read
        await asyncio.to_thread(emulator.control, "POST", "clock/set", {"now": first.isoformat()})
        await asyncio.to_thread(emulator.control, "POST", "pings/wait", {"timeout": 30})
        ended_at.append(time.monotonic())  # the classes are over and their pings (if any) in the inbox
        gate.set()
    await asyncio.sleep(max(0.0, started + HOUR - time.monotonic()))
    cpu, calls = time.process_time() - cpu_before, emulator.api_calls("get_data") - calls_before
    rounds, rung = poller.rounds, poller.rung
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    delays = [
        (fired[class_id] - ended_at[day]) * SPEED
        for day, ids in enumerate(ending)
        for class_id in ids
        if class_id in fired
    ]
    return {
        "calls": calls,
        "cpu": cpu,
        "delays": sorted(delays),
        "ended": sum(len(ids) for ids in ending),
        "rounds": rounds,
        "rung": rung,
    }


def main() -> None:
    quiet_airflow_home()
    inbox = tempfile.mkdtemp(prefix="wiziq-bench-inbox-")
    os.environ["AIRFLOW__WIZIQ__PING_SECRET"] = SECRET
    os.environ["AIRFLOW__WIZIQ__PING_INBOX"] = f"file://{inbox}"
    from airflow_provider_wiziq.plugins import settings
    from airflow_provider_wiziq.triggers import poller

    poller.DOORBELL_INTERVAL = 2.0 / SPEED
    poller.PING_IDLE_INTERVAL = 900.0 / SPEED
    settings.ping_idle_interval = lambda: None  # the module's (sped-up) constant, not Airflow's default
    results: dict[str, dict[str, Any]] = {}
    with Route(inbox) as route, EmulatorProcess() as emulator:
        plain = {**emulator.connection, "extra": {"max_retries": 0}}
        os.environ["AIRFLOW_CONN_WIZIQ_POLLING"] = json.dumps(plain)
        os.environ["AIRFLOW_CONN_WIZIQ_PINGS"] = json.dumps({**plain, "extra": {"ping_base_url": route.url}})
        quiet_logs()
        for name, conn_id, ping in (("polling only", "wiziq_polling", False), ("pings", "wiziq_pings", True)):
            emulator.reset()
            by_day = create_classes(conn_id, ping)
            results[name] = asyncio.run(one_hour(emulator, conn_id, by_day))
    print(
        f"{WAITS} deferred waits for one hour (run {SPEED:g}x faster), {results['pings']['ended']} of their classes "
        "ending in two periods; polling only: poll every 60 s; pings: inbox read every 2 s, a full round every 900 s"
    )
    for name, figures in results.items():
        delays = figures["delays"]
        print(
            f"{name}: {figures['calls']} get_data calls an hour ({figures['rounds']} rounds, {figures['rung']} called "
            f"by pings); triggerer CPU {figures['cpu']:.2f} s an hour; {len(delays)}/{figures['ended']} ended waits "
            f"fired {delays[len(delays) // 2]:.1f} s (median), {delays[-1]:.1f} s (worst) after their class ended"
        )
    ratio = results["pings"]["calls"] / results["polling only"]["calls"]
    cpu = results["pings"]["cpu"] / results["polling only"]["cpu"]
    print(f"ratio: calls {ratio:.3f} of polling only (target <= 0.1: 10x fewer), CPU {cpu:.2f}")


if __name__ == "__main__":
    main()
