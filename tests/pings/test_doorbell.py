"""Waits that answer the doorbell: the triggers' poller reads the ping inbox and asks WizIQ when a class rings.

The emulator posts its pings over real HTTP to the route (served by uvicorn), which records them in a file
inbox; the triggers poll the emulator over real HTTP. Full rounds are made rare (``PING_IDLE_INTERVAL``) unless
a test is about them, so that what ends a wait is the ping; the inbox is read every 50 ms.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import requests

from airflow_provider_wiziq.api.protocol.request import CreateClassRequest
from airflow_provider_wiziq.plugins import ping_url, settings
from airflow_provider_wiziq.plugins.inbox import PingInbox
from airflow_provider_wiziq.triggers import poller as poller_module
from airflow_provider_wiziq.triggers.poller import POLLERS
from airflow_provider_wiziq.triggers.wiziq import WizIQClassStatusTrigger
from tests.pings.support import form, pings_on
from tests.support.classes import HOUR, emulator_client, schedule_class, use_emulator

real_ping_idle_interval = settings.ping_idle_interval


@pytest.fixture
def pinged(wiziq_emulator, ping_route, monkeypatch, tmp_path):
    """The emulator's default connection with pings on, the inbox read every 50 ms, full rounds rare."""
    use_emulator(monkeypatch, wiziq_emulator, ping_base_url=ping_route.url)
    pings_on(monkeypatch, tmp_path)
    monkeypatch.setattr(poller_module, "DOORBELL_INTERVAL", 0.05)
    monkeypatch.setattr(poller_module, "PING_IDLE_INTERVAL", 3600.0)
    monkeypatch.setattr(settings, "ping_idle_interval", lambda: None)  # the module's constant, not the option
    return wiziq_emulator


def pinged_class(emulator: Any, *, presenter: str = "a", starts_in: timedelta = HOUR) -> int:
    """A one-hour class starting ``starts_in`` from the emulator's now, with the connection's signed ping URL."""
    start = (emulator.clock.now() + starts_in).replace(tzinfo=None, microsecond=0)
    params = {
        "title": "Doorbell",
        "start_time": start,
        "time_zone": "UTC",
        "presenter_email": f"{presenter}@school.example",
        "duration": 60,
        "status_ping_url": ping_url(),
    }
    with emulator_client(emulator) as client:
        return client.create(CreateClassRequest.from_params(params)).class_id


def trigger(class_id: int, **kwargs: Any) -> WizIQClassStatusTrigger:
    kwargs.setdefault("poll_interval", 60.0)
    kwargs.setdefault("end_time", time.time() + 120)
    return WizIQClassStatusTrigger(class_id=class_id, **kwargs)


async def first_event(made: WizIQClassStatusTrigger) -> Any:
    async for event in made.run():
        return event
    raise AssertionError("no event")


async def until(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.005)


def calls(emulator: Any) -> int:
    return len(emulator.requests("get_data"))


def post_ping(class_id: int, class_status: str = "completed") -> int:
    """A ping as WizIQ sends it, to the class's own signed URL (the route's); the HTTP status."""
    with requests.Session() as session:
        session.trust_env = False
        return session.post(ping_url(), data=form(class_id, class_status)).status_code


def test_a_class_that_ends_wakes_its_wait_at_the_next_inbox_read_not_the_next_poll(pinged):
    class_id = pinged_class(pinged)
    made = trigger(class_id, poll_interval=3600)

    async def main() -> Any:
        waiting = asyncio.create_task(first_event(made))
        await until(lambda: calls(pinged) == 1, "the new wait is asked once")
        (poller,) = POLLERS.pollers()
        assert poller.pings and poller.interval == 3600
        pinged.clock.advance(2 * HOUR)  # live, then completed: two pings
        return await asyncio.wait_for(waiting, 60), poller

    event, poller = asyncio.run(main())
    assert event.payload["status"] == "success" and event.payload["class_status"] == "completed"
    assert pinged.wait_for_pings(60)  # the wait may end on the first ping: let the second land before counting
    assert [ping["delivered"] for ping in pinged.pings()] == [True, True]
    assert 2 <= calls(pinged) <= 3  # the join, then one ask per inbox read that found the class rung
    assert poller.rounds == poller.rung  # no full round was needed


class GatedReader:
    """The real inbox reader behind a gate: each read waits for a permit the test gives."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.gate = threading.Semaphore(0)
        self.passed = 0  # reads done
        self.opened = False  # every read goes through: the test is over

    def read(self) -> dict[int, float]:
        if not self.opened:
            self.gate.acquire(timeout=120)  # bounded: a read left behind must not hold the loop's executor
        found = self.reader.read()
        self.passed += 1
        return found

    async def let_through(self, count: int) -> None:
        """Let ``count`` more reads happen, and wait until they have."""
        target = self.passed + count
        for _ in range(count):
            self.gate.release()
        await until(lambda: self.passed >= target, f"{count} reads of the inbox")

    def open(self) -> None:
        self.opened = True
        self.gate.release()


def test_a_replayed_ping_causes_at_most_one_extra_get_data(pinged, monkeypatch, tmp_path):
    readers: list[GatedReader] = []

    async def gated(conn_id: str, base_url: str | None) -> Any:
        inbox = PingInbox(tmp_path.as_uri(), conn_id)
        readers.append(GatedReader(inbox.reader()))
        await asyncio.to_thread(readers[-1].reader.read)
        return readers[-1]

    monkeypatch.setattr(POLLERS, "doorbell_factory", gated)
    class_id = pinged_class(pinged)

    async def main() -> list[int]:
        waiting = asyncio.create_task(first_event(trigger(class_id)))
        try:
            await until(lambda: bool(readers), "the poller's inbox reader")
            (reader,) = readers
            await reader.let_through(1)
            await until(lambda: calls(pinged) == 1, "the new wait is asked once")
            seen = [calls(pinged)]
            statuses = await asyncio.to_thread(lambda: [post_ping(class_id) for _ in range(10)])
            assert statuses == [200] * 10  # ten replays of one ping, each recorded
            await reader.let_through(1)
            await until(lambda: calls(pinged) == 2, "one ask for the ten replays")
            await reader.let_through(5)  # nothing new in the inbox: no call
            seen.append(calls(pinged))
            return seen
        finally:
            for reader in readers:
                reader.open()  # the poller may be in a read: let it through, or the loop's executor never ends
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)

    assert asyncio.run(main()) == [1, 2]


def test_a_forged_class_status_is_never_believed(pinged):
    class_id = pinged_class(pinged)

    async def main() -> Any:
        waiting = asyncio.create_task(first_event(trigger(class_id)))
        await until(lambda: calls(pinged) == 1, "the new wait is asked once")
        for status in ("completed", "cancelled", "expired"):
            before = calls(pinged)
            assert await asyncio.to_thread(post_ping, class_id, status) == 200
            await until(lambda before=before: calls(pinged) > before, "WizIQ asked about the forged ping")
        await asyncio.sleep(0.2)
        assert not waiting.done(), "a forged status ended the wait"
        pinged.clock.advance(2 * HOUR)
        return await asyncio.wait_for(waiting, 60)

    event = asyncio.run(main())
    assert event.payload["status"] == "success" and event.payload["class_status"] == "completed"


@pytest.mark.parametrize("fault", ["ping_drop", "ping_bad_token"])
def test_without_its_pings_a_wait_still_completes_by_polling(pinged, monkeypatch, fault):
    monkeypatch.setattr(poller_module, "PING_IDLE_INTERVAL", 0.5)
    class_id = pinged_class(pinged)
    pinged.inject_fault(fault, count=10)

    async def main() -> Any:
        waiting = asyncio.create_task(first_event(trigger(class_id, poll_interval=0.1)))
        await until(lambda: calls(pinged) >= 1, "the first ask")
        (poller,) = POLLERS.pollers()
        assert poller.interval == 0.5  # the idle interval: longer than the poll interval asked for
        pinged.clock.advance(2 * HOUR)
        return await asyncio.wait_for(waiting, 60), poller

    event, poller = asyncio.run(main())
    assert event.payload["status"] == "success"
    assert pinged.wait_for_pings(60)
    sent = pinged.pings()
    assert sent and not any(ping["delivered"] for ping in sent)
    if fault == "ping_bad_token":
        assert {ping["error"] for ping in sent} == {"HTTP 403"}
    assert poller.unannounced == 1


def test_a_transient_error_in_a_rung_round_is_asked_again_and_not_counted(pinged):
    class_id = pinged_class(pinged)

    async def main() -> Any:
        waiting = asyncio.create_task(first_event(trigger(class_id, max_consecutive_errors=1)))
        await until(lambda: calls(pinged) == 1, "the new wait is asked once")
        pinged.inject_fault("http_503", count=2, method="get_data")
        pinged.clock.advance(2 * HOUR)
        return await asyncio.wait_for(waiting, 60)

    event = asyncio.run(main())
    assert event.payload["status"] == "success", event.payload["message"]
    assert [call["fault"] for call in pinged.requests("get_data")][1:] == ["http_503", "http_503", None]


def test_a_connection_without_ping_base_url_polls_as_before(wiziq_emulator, monkeypatch, tmp_path):
    use_emulator(monkeypatch, wiziq_emulator)
    pings_on(monkeypatch, tmp_path)
    class_id = schedule_class(wiziq_emulator)

    async def main() -> Any:
        waiting = asyncio.create_task(first_event(trigger(class_id, poll_interval=0.05)))
        await until(lambda: bool(POLLERS.pollers()) and POLLERS.pollers()[0].rounds >= 2, "two rounds")
        (poller,) = POLLERS.pollers()
        assert not poller.pings and poller.interval == 0.05
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        return poller

    assert asyncio.run(main()).rung == 0


@pytest.mark.parametrize(("setting", "idle"), [("30", 30.0), ("", 3600.0), ("2", 3600.0), ("soon", 3600.0)])
def test_the_idle_interval_is_the_option_when_it_is_valid(pinged, monkeypatch, setting, idle):
    monkeypatch.setattr(settings, "ping_idle_interval", real_ping_idle_interval)
    monkeypatch.setenv("AIRFLOW__WIZIQ__PING_IDLE_INTERVAL", setting)
    class_id = pinged_class(pinged)

    async def main() -> float:
        waiting = asyncio.create_task(first_event(trigger(class_id, poll_interval=5)))
        await until(lambda: calls(pinged) >= 1, "the first ask")
        (poller,) = POLLERS.pollers()
        interval = poller.interval
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        return interval

    assert asyncio.run(main()) == idle
