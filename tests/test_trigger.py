"""WizIQClassStatusTrigger and its coalescing poller, run with asyncio against the emulator over HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQTransportError
from airflow_provider_wiziq.api.protocol.responses import ClassRecord
from airflow_provider_wiziq.api.protocol.status import STATUS_COLUMNS, ClassStatus
from airflow_provider_wiziq.api.rules.wait import ClassWait, Outcome, parse_class_id
from airflow_provider_wiziq.triggers.poller import BATCH_SIZE, POLLERS
from airflow_provider_wiziq.triggers.wiziq import WizIQClassStatusTrigger
from tests.support.classes import HOUR, cancel_class, schedule_class, schedule_classes, use_emulator

FAST = 0.05  # seconds between poll rounds in these tests


def trigger(class_id: int, **kwargs: Any) -> WizIQClassStatusTrigger:
    kwargs.setdefault("poll_interval", FAST)
    kwargs.setdefault("end_time", time.time() + 120)  # generous: a loaded machine is slow
    return WizIQClassStatusTrigger(class_id=class_id, **kwargs)


async def events_of(made: WizIQClassStatusTrigger) -> list[Any]:
    return [event async for event in made.run()]


def run_all(*made: WizIQClassStatusTrigger) -> list[list[Any]]:
    async def main() -> list[list[Any]]:
        return list(await asyncio.gather(*(events_of(one) for one in made)))

    return asyncio.run(main())


async def after_requests(emulator: Any, count: int, method: str = "get_data") -> None:
    """Wait (in the loop) until the emulator has answered ``count`` calls of ``method``."""
    deadline = time.monotonic() + 30
    while len(emulator.requests(method)) < count:
        assert time.monotonic() < deadline, f"the emulator never got {count} {method} calls"
        await asyncio.sleep(0.005)


def polled_ids(emulator: Any) -> list[list[str]]:
    return [request["fields"]["multiple_class_id"].split(",") for request in emulator.requests("get_data")]


# The verdict (no HTTP) ---------------------------------------------------------------------------------------


def record(status: str | None, time_to_start: int = 0) -> ClassRecord:
    fields = {"class_id": "7", "time_to_start": str(time_to_start)}
    if status is not None:
        fields["status"] = status
    return ClassRecord(fields)


@pytest.mark.parametrize(
    ("polled", "outcome", "status"),
    [
        (record("upcoming", 30), Outcome.WAITING, "upcoming"),
        (record("upcoming", -1), Outcome.WAITING, "live"),
        (record("completed"), Outcome.SUCCESS, "completed"),
        (record("expired"), Outcome.WRONG_STATUS, "expired"),
        (record(None), Outcome.WRONG_STATUS, "cancelled"),
        (record("paused"), Outcome.ERROR, None),
        (None, Outcome.UNKNOWN_CLASS, None),
        (WizIQAPIError.from_code(1013, method="get_data"), Outcome.UNKNOWN_CLASS, None),
        (WizIQAPIError.from_code(1009, method="get_data"), Outcome.UNKNOWN_CLASS, None),
        (WizIQAPIError.from_code(403, method="get_data"), Outcome.ERROR, None),
        (WizIQTransportError("HTTP 503", method="get_data", status_code=503), Outcome.WAITING, None),
    ],
)
def test_watch_judges_each_poll(polled, outcome, status):
    verdict = ClassWait(7, {ClassStatus.COMPLETED}).judge(polled)
    assert (verdict.outcome, verdict.status) == (outcome, status)
    if outcome is Outcome.SUCCESS:
        assert verdict.record == {"class_id": "7", "time_to_start": "0", "status": "completed"}
    if outcome is Outcome.WRONG_STATUS:
        assert f"is {status}" in verdict.message and "never be completed" in verdict.message


def test_watch_counts_transient_errors_in_a_row_and_a_record_resets_them():
    watch = ClassWait(7, {ClassStatus.COMPLETED}, max_consecutive_errors=3)
    blip = WizIQTransportError("no answer within 60 s", method="get_data")
    assert [watch.judge(blip).outcome for _ in range(2)] == [Outcome.WAITING] * 2
    assert watch.judge(record("upcoming", 5)).waiting and watch.errors == 0
    verdicts = [watch.judge(blip) for _ in range(3)]
    assert [v.outcome for v in verdicts] == [Outcome.WAITING, Outcome.WAITING, Outcome.ERROR]
    assert verdicts[-1].retryable and "3 WizIQ errors in a row" in verdicts[-1].message
    assert "no answer within 60 s" in verdicts[-1].message


def test_watch_news_wakes_a_waiter_only_for_a_new_status_an_error_or_an_end():
    watch = ClassWait(7, {ClassStatus.COMPLETED})
    first = watch.news(record("upcoming", 30))
    assert first is not None and first.status == "upcoming"  # the first poll is always news
    assert watch.news(record("upcoming", 29)) is None  # still upcoming: quiet
    live = watch.news(record("upcoming", -1))
    assert live is not None and live.status == "live"
    assert watch.news(record("upcoming", -1)) is None
    blip = watch.news(WizIQTransportError("HTTP 503", method="get_data", status_code=503))
    assert blip is not None and blip.errors == 1
    after = watch.news(record("upcoming", -1))  # the errors in a row end: news, even in the same status
    assert after is not None and after.errors == 0 and watch.news(record("upcoming", -1)) is None
    assert watch.news(None).outcome is Outcome.UNKNOWN_CLASS
    done = watch.news(record("completed"))
    assert done is not None and done.outcome is Outcome.SUCCESS and done.record["status"] == "completed"
    assert watch.last_status is ClassStatus.COMPLETED


@pytest.mark.parametrize("bad", ["", "abc", "-3", "0", "1.5", "١٢", True, None, "1" * 19])
def test_class_ids_are_positive_whole_numbers(bad):
    with pytest.raises(ValueError, match="class_id must be"):
        parse_class_id(bad)
    assert parse_class_id(" 15001 ") == parse_class_id(15001) == 15001


# The trigger -------------------------------------------------------------------------------------------------


def test_serialize_gives_json_kwargs_that_rebuild_the_trigger():
    made = WizIQClassStatusTrigger(
        class_id="15001",
        target_statuses=["Live", "completed"],
        wiziq_conn_id="wiziq_term",
        poll_interval=30,
        end_time="2031-05-01T12:00:00+02:00",
        max_consecutive_errors=4,
    )
    classpath, kwargs = made.serialize()
    assert classpath == "airflow_provider_wiziq.triggers.wiziq.WizIQClassStatusTrigger"
    assert (
        json.loads(json.dumps(kwargs))
        == kwargs
        == {
            "class_id": 15001,
            "target_statuses": ["completed", "live"],
            "wiziq_conn_id": "wiziq_term",
            "poll_interval": 30.0,
            "end_time": "2031-05-01T10:00:00+00:00",
            "max_consecutive_errors": 4,
        }
    )
    assert WizIQClassStatusTrigger(**kwargs).serialize() == (classpath, kwargs)
    epoch = datetime(2031, 5, 1, 10, tzinfo=timezone.utc).timestamp()
    assert WizIQClassStatusTrigger(class_id=1, end_time=epoch).end_time == epoch


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="not a class status"):
        WizIQClassStatusTrigger(class_id=1, target_statuses="finished")
    with pytest.raises(ValueError, match="class_id must be"):
        WizIQClassStatusTrigger(class_id="{{ ti.xcom_pull('create') }}")
    with pytest.raises(ValueError, match="max_consecutive_errors"):
        WizIQClassStatusTrigger(class_id=1, max_consecutive_errors=0)


def test_class_goes_upcoming_live_completed(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    made = trigger(class_id)

    async def main() -> list[Any]:
        waiting = asyncio.create_task(events_of(made))
        for step, calls in ((HOUR + timedelta(minutes=1), 1), (HOUR, 2)):
            await after_requests(wiziq_emulator, calls)
            wiziq_emulator.clock.advance(step)
        return await waiting

    (event,) = asyncio.run(main())
    assert event.payload["status"] == "success"
    assert event.payload["record"] == {"class_id": str(class_id), "status": "completed", "time_to_start": "0"}
    # upcoming, live, completed: at least one call each (the clock moves from the test's task, and on a loaded
    # machine a round may come before it does)
    assert len(wiziq_emulator.requests("get_data")) >= 3
    assert wiziq_emulator.requests("get_data")[0]["fields"]["columns"] == ",".join(STATUS_COLUMNS)


def test_trigger_waits_through_three_503_answers_then_completes(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator, starts_in=-2 * HOUR)  # already completed
    wiziq_emulator.inject_fault("http_503", count=3, method="get_data")
    events = run_all(trigger(class_id))[0]
    assert len(events) == 1
    assert events[0].payload["status"] == "success"
    assert events[0].payload["class_status"] == "completed"
    assert [request["fault"] for request in wiziq_emulator.requests("get_data")] == ["http_503"] * 3 + [None]


def test_too_many_errors_in_a_row_fail_naming_the_last(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    wiziq_emulator.inject_fault("http_503", count=2, method="get_data")
    wiziq_emulator.inject_fault("http_502", count=1, method="get_data")
    (event,) = run_all(trigger(class_id, max_consecutive_errors=3))[0]
    assert event.payload["status"] == "failure"
    assert event.payload["reason"] == "error" and event.payload["retryable"] is True
    assert "3 WizIQ errors in a row" in event.payload["message"] and "HTTP 502" in event.payload["message"]


def test_a_permanent_error_fails_at_once_without_secrets(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    wrong = {**wiziq_emulator.connection, "password": "not-the-secret-key", "extra": {"max_retries": 0}}
    monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", json.dumps(wrong))
    (event,) = run_all(trigger(class_id))[0]
    assert event.payload["status"] == "failure" and event.payload["reason"] == "error"
    assert "403" in event.payload["message"] and event.payload["retryable"] is False
    assert "not-the-secret-key" not in json.dumps(event.payload)
    assert len(wiziq_emulator.requests("get_data")) == 1


def test_a_missing_connection_fails_every_waiter(wiziq_emulator, monkeypatch):
    (event,) = run_all(trigger(15001, wiziq_conn_id="wiziq_nowhere"))[0]
    assert event.payload["status"] == "failure" and "wiziq_nowhere" in event.payload["message"]


def test_final_statuses_that_are_not_targets_fail(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    cancelled = schedule_class(wiziq_emulator)
    cancel_class(wiziq_emulator, cancelled)
    expired = schedule_class(wiziq_emulator, presenter="b")
    wiziq_emulator.set_outcome(expired, "expired")
    wiziq_emulator.clock.advance(3 * HOUR)
    events = run_all(trigger(cancelled), trigger(expired), trigger(expired, target_statuses=["expired", "completed"]))
    payloads = [one[0].payload for one in events]
    assert [(p["status"], p["reason"], p["class_status"]) for p in payloads] == [
        ("failure", "wrong_status", "cancelled"),
        ("failure", "wrong_status", "expired"),
        ("success", "success", "expired"),
    ]
    assert "is cancelled, a final status, so it will never be completed" in payloads[0]["message"]
    assert len(wiziq_emulator.requests("get_data")) == 1  # three waiters, one request


def test_unknown_class_ids_fail_alone_or_beside_known_ones(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    (alone,) = run_all(trigger(99999))[0]  # WizIQ answers 1013 when no id of the batch exists
    assert alone.payload["reason"] == "unknown_class" and "99999" in alone.payload["message"]
    known = schedule_class(wiziq_emulator, starts_in=-2 * HOUR)
    beside, found = (one[0].payload for one in run_all(trigger(99998), trigger(known)))
    assert beside["reason"] == "unknown_class" and found["status"] == "success"


def test_live_can_be_a_target(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator, starts_in=-timedelta(minutes=5))
    (event,) = run_all(trigger(class_id, target_statuses=["live", "completed"]))[0]
    assert event.payload["record"]["status"] == "live"


def test_the_trigger_times_out_on_its_own(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    made = trigger(class_id)

    async def main() -> list[Any]:
        waiting = asyncio.create_task(events_of(made))
        await until(lambda: sum(poller.waiters for poller in POLLERS.pollers()) == 1, "the trigger subscribed")
        made.end_time = time.time() - 1  # its end passes while it waits for a round: the next one is its last
        return await waiting

    (event,) = asyncio.run(main())
    assert event.payload["status"] == "timeout"
    assert event.payload["class_status"] == "upcoming" and "last seen upcoming" in event.payload["message"]


def test_a_cancelled_trigger_unregisters_and_the_last_one_stops_the_poller(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    first, second = schedule_class(wiziq_emulator), schedule_class(wiziq_emulator, presenter="b")

    async def main() -> None:
        one = asyncio.create_task(events_of(trigger(first)))
        two = asyncio.create_task(events_of(trigger(second)))
        await after_requests(wiziq_emulator, 1)
        (poller,) = POLLERS.pollers()
        assert poller.waiters == 2
        one.cancel()
        with pytest.raises(asyncio.CancelledError):
            await one
        assert poller.waiters == 1
        # A round may be in flight with both ids; the one after it started after the cancellation.
        started_before = poller.rounds + 1
        await until(lambda: poller.rounds > started_before, "a round after the cancellation")
        assert polled_ids(wiziq_emulator)[-1] == [str(second)]
        two.cancel()
        with pytest.raises(asyncio.CancelledError):
            await two
        assert POLLERS.pollers() == []
        # Leaving waited for the poller to stop: no round can come any more, and its client is closed.
        assert poller._task is not None and poller._task.done()

    asyncio.run(main())


def test_each_connection_has_its_own_poller(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    use_emulator(monkeypatch, wiziq_emulator, conn_id="wiziq_other")
    class_id = schedule_class(wiziq_emulator, starts_in=-2 * HOUR)
    events = run_all(trigger(class_id), trigger(class_id, wiziq_conn_id="wiziq_other"), trigger(class_id))
    assert [one[0].payload["status"] for one in events] == ["success"] * 3
    assert len(wiziq_emulator.requests("get_data")) == 2


def test_a_thousand_triggers_share_at_most_ten_requests_a_round(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_ids = schedule_classes(wiziq_emulator, 1000)
    assert len(set(class_ids)) == 1000
    made = [trigger(class_id, poll_interval=0.2, end_time=time.time() + 300) for class_id in class_ids]
    seen: dict[str, int] = {}

    async def main() -> list[list[Any]]:
        waiting = asyncio.gather(*(events_of(one) for one in made))
        await after_requests(wiziq_emulator, 10)  # the first round: all upcoming
        (poller,) = POLLERS.pollers()
        seen["waiters"] = poller.waiters
        wiziq_emulator.clock.advance(timedelta(days=61))  # every class of every series is over
        events = await waiting
        seen["rounds"], seen["requests"] = poller.rounds, poller.requests
        return list(events)

    events = asyncio.run(main())
    assert seen["waiters"] == 1000
    assert [len(one) for one in events] == [1] * 1000
    assert Counter(one[0].payload["status"] for one in events) == {"success": 1000}
    batches = polled_ids(wiziq_emulator)
    rounds = max(Counter(class_id for batch in batches for class_id in batch).values())
    assert all(len(batch) <= BATCH_SIZE for batch in batches)
    assert len(batches) <= 10 * rounds
    # The poller's own count agrees (a last round may be cut short when the last waiter leaves).
    assert seen["requests"] <= 10 * (seen["rounds"] + 1) and seen["rounds"] <= rounds


# Waiters that come and go while a round is in flight -----------------------------------------------------------


class Gate:
    """Holds every get_data call of the pollers' clients until released: a round in flight, for as long as a
    test needs it, without timing."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()  # a get_data call is waiting at the gate
        self.released = asyncio.Event()

    async def client(self, conn_id: str) -> Any:
        from airflow_provider_wiziq.triggers.poller import connection_client

        client = await connection_client(conn_id)
        real = client.get_data

        async def gated(**filters: Any) -> Any:
            self.entered.set()
            await self.released.wait()
            return await real(**filters)

        client.get_data = gated
        return client

    def release(self) -> None:
        self.released.set()


async def until(condition: Any, what: str) -> None:
    """Wait (in the loop) until ``condition()`` holds; the deadline is generous, for a loaded machine."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.002)


def test_a_wait_that_joins_during_a_round_is_not_given_that_rounds_answer(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    upcoming = schedule_class(wiziq_emulator)
    completed = schedule_class(wiziq_emulator, starts_in=-2 * HOUR, presenter="b")
    gate = Gate()
    monkeypatch.setattr(POLLERS, "client_factory", gate.client)

    async def main() -> list[Any]:
        first = asyncio.create_task(events_of(trigger(upcoming)))
        await gate.entered.wait()  # the first round asked for `upcoming` alone and is held in flight
        (poller,) = POLLERS.pollers()
        joining = asyncio.create_task(events_of(trigger(completed)))
        await until(lambda: poller.waiters == 2, "the second trigger subscribed")
        gate.release()
        events = await joining
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        return events

    (event,) = asyncio.run(main())
    assert event.payload["status"] == "success", event.payload["message"]
    assert event.payload["class_status"] == "completed"
    asked = polled_ids(wiziq_emulator)
    assert asked[0] == [str(upcoming)] and str(completed) in asked[1]


def test_a_wait_that_leaves_during_a_round_is_dropped_and_the_others_get_their_answer(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    leaving = schedule_class(wiziq_emulator)
    staying = schedule_class(wiziq_emulator, starts_in=-2 * HOUR, presenter="b")
    gate = Gate()
    monkeypatch.setattr(POLLERS, "client_factory", gate.client)

    async def main() -> list[Any]:
        gone = asyncio.create_task(events_of(trigger(leaving)))
        kept = asyncio.create_task(events_of(trigger(staying)))
        await gate.entered.wait()
        (poller,) = POLLERS.pollers()
        assert poller.waiters == 2
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        assert poller.waiters == 1
        gate.release()
        events = await kept
        assert POLLERS.pollers() == []
        return events

    (event,) = asyncio.run(main())
    assert event.payload["status"] == "success"
    assert polled_ids(wiziq_emulator)[0] == [str(leaving), str(staying)]


def test_a_wait_that_leaves_and_comes_back_during_a_round_waits_for_the_next_round(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator, starts_in=-2 * HOUR)
    other = schedule_class(wiziq_emulator, presenter="b")
    gate = Gate()
    monkeypatch.setattr(POLLERS, "client_factory", gate.client)

    async def main() -> list[Any]:
        holder = asyncio.create_task(events_of(trigger(other)))  # keeps the poller alive throughout
        first = asyncio.create_task(events_of(trigger(class_id)))
        await gate.entered.wait()
        (poller,) = POLLERS.pollers()
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        again = asyncio.create_task(events_of(trigger(class_id)))
        await until(lambda: poller.waiters == 2, "the wait came back")
        rounds = poller.rounds
        gate.release()
        events = await again
        assert poller.rounds >= rounds + 2, "its answer came from a round that started after it subscribed"
        holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)
        return events

    (event,) = asyncio.run(main())
    assert event.payload["status"] == "success"


def test_two_event_loops_in_two_threads_each_have_their_own_poller(wiziq_emulator, monkeypatch):
    """Two triggerer loops in one process: each loop's waits go through its own poller, and each round
    answers only its own loop's waiters."""
    import threading

    use_emulator(monkeypatch, wiziq_emulator)
    done = schedule_class(wiziq_emulator, starts_in=-2 * HOUR)
    waiting = schedule_class(wiziq_emulator, presenter="b")
    results: dict[str, Any] = {}
    both_subscribed = threading.Barrier(2, timeout=60)

    def loop(name: str, class_id: int) -> None:
        async def main() -> Any:
            task = asyncio.create_task(events_of(trigger(class_id)))
            await until(lambda: bool(POLLERS.pollers()), "this loop's poller")
            (poller,) = POLLERS.pollers()
            results[f"{name}-poller"] = poller
            await asyncio.to_thread(both_subscribed.wait)
            if class_id == waiting:
                await until(lambda: poller.rounds >= 2, "two rounds")
                assert poller.waiters == 1
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                return None
            return await task

        results[name] = asyncio.run(main())

    threads = [threading.Thread(target=loop, args=args) for args in (("a", done), ("b", waiting))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    assert results["a-poller"] is not results["b-poller"]
    (event,) = results["a"]
    assert event.payload["status"] == "success"
    assert all(batch in ([str(done)], [str(waiting)]) for batch in polled_ids(wiziq_emulator))


def test_a_round_that_overruns_its_interval_is_followed_by_a_full_pause(wiziq_emulator, monkeypatch):
    """The interval counts from the end of a round: a slow round (here held at a gate for three intervals)
    is not followed by another at once."""
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    gate = Gate()
    monkeypatch.setattr(POLLERS, "client_factory", gate.client)
    interval = 0.2

    async def main() -> None:
        waiting = asyncio.create_task(events_of(trigger(class_id, poll_interval=interval)))
        await gate.entered.wait()
        await asyncio.sleep(3 * interval)  # the round overruns its interval
        gate.release()
        await until(lambda: len(wiziq_emulator.requests("get_data")) == 2, "a second round")
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)

    asyncio.run(main())
    # The emulator logs each call once answered: the second came a whole interval after the first was
    # answered (a lower bound: a loaded machine only makes the gap longer).
    first, second = (datetime.fromisoformat(call["time"]) for call in wiziq_emulator.requests("get_data")[:2])
    assert (second - first).total_seconds() >= interval
