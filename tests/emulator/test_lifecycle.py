"""Classes on the controllable clock: upcoming, live, completed, expired, cancelled; their status pings."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from airflow_provider_wiziq.api.protocol import responses
from tests.emulator.conftest import Api, Receiver, series_fields


def record(api: Api, class_id: int) -> responses.ClassRecord:
    return responses.parse_get_data(
        api.call("get_data", class_id=str(class_id), columns="class_id,status,time_to_start")
    )[0]


def create_one(api: Api, start: datetime, **overrides: str) -> int:
    """A single-class series at ``start`` (UTC), 60 minutes long."""
    fields = series_fields(
        start_time=start.strftime("%m/%d/%Y %H:%M:%S"), time_zone="UTC", class_occurrence="1", **overrides
    )
    return responses.parse_create_recurring(api.call("create_recurring", **fields)).first_class.class_id


def test_upcoming_live_completed_and_the_pings(api, receiver: Receiver):
    emulator = api.emulator
    emulator.clock.advance(timedelta(days=30))  # created with the clock advanced
    start = emulator.clock.now().replace(microsecond=0) + timedelta(minutes=10)
    class_id = create_one(api, start, status_ping_url=f"{receiver.url}?token=abc&section=7", extend_duration="10")

    first = record(api, class_id)
    assert (first.status, first.time_to_start) == ("upcoming", 10)

    emulator.clock.advance(timedelta(minutes=10))  # the start: live
    live = record(api, class_id)
    assert (live.status, live.time_to_start) == ("upcoming", -1)
    assert emulator.get_class(class_id)["status"] == "live"

    emulator.clock.advance(timedelta(minutes=69))  # 60 + 10 extended: still live in the last minute
    assert record(api, class_id).time_to_start == -1
    emulator.clock.advance(timedelta(minutes=1))
    done = record(api, class_id)
    assert (done.status, done.time_to_start) == ("completed", 0)

    assert emulator.wait_for_pings(30)
    assert receiver.statuses(class_id) == ["live", "completed"]
    for item in receiver.received:
        assert item["path"] == "/hook"
        assert item["query"] == {"token": "abc", "section": "7"}
        assert item["form"]["class_id"] == str(class_id)
        assert item["content_type"] == "application/x-www-form-urlencoded"
    assert [p["delivered"] for p in emulator.pings()] == [True, True]


def test_cancelled_class_has_no_status_and_pings_cancelled(api, receiver: Receiver):
    start = api.emulator.clock.now().replace(microsecond=0) + timedelta(hours=1)
    class_id = create_one(api, start, status_ping_url=receiver.url)
    api.call("cancel", class_id=str(class_id))
    cancelled = record(api, class_id)
    assert "status" not in cancelled.fields
    assert cancelled.class_id == class_id
    api.emulator.clock.advance(timedelta(hours=3))  # a cancelled class stays cancelled
    assert "status" not in record(api, class_id).fields
    assert api.emulator.wait_for_pings(30)
    assert receiver.statuses(class_id) == ["cancelled"]


def test_a_jump_over_the_whole_class_announces_each_step(api, receiver: Receiver):
    start = api.emulator.clock.now().replace(microsecond=0) + timedelta(hours=1)
    held = create_one(api, start, status_ping_url=receiver.url)
    missed = create_one(api, start, status_ping_url=receiver.url, presenter_email="absent@example.com")
    api.emulator.set_outcome(missed, "expired")
    api.emulator.clock.advance(timedelta(days=1))
    assert record(api, held).status == "completed"
    assert record(api, missed).status == "expired"
    assert api.emulator.wait_for_pings(30)
    assert receiver.statuses(held) == ["live", "completed"]
    assert receiver.statuses(missed) == ["live", "expired"]
    api.emulator.clock.advance(timedelta(days=1))
    assert api.emulator.wait_for_pings(30)
    assert len(receiver.received) == 4  # terminal classes are not announced again


def test_changes_are_noticed_as_time_passes(api, receiver: Receiver):
    """No clock jump: the class starts half a second from now in real time."""
    start = datetime(2030, 1, 8, 15, 0, tzinfo=timezone.utc)
    create = create_one(api, start, status_ping_url=receiver.url)
    api.emulator.clock.set(start - timedelta(seconds=0.5))
    deadline = time.monotonic() + 30  # generous: the ping thread may be slow on a loaded machine
    while not receiver.statuses(create) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.statuses(create) == ["live"]


def test_a_slow_receiver_never_holds_an_answer(api, receiver: Receiver):
    receiver.delay = 5
    start = api.emulator.clock.now().replace(microsecond=0) + timedelta(hours=1)
    first = create_one(api, start, status_ping_url=receiver.url)
    second = create_one(api, start + timedelta(hours=2), status_ping_url=receiver.url)
    started = time.monotonic()
    api.call("cancel", class_id=str(first))
    api.call("cancel", class_id=str(second))
    assert time.monotonic() - started < 5  # two answers held by the 5 s receiver would take 10 s or more
    assert api.emulator.wait_for_pings(30)
    assert receiver.statuses(first) == ["cancelled"] and receiver.statuses(second) == ["cancelled"]


def test_an_unreachable_ping_url_is_recorded_not_fatal(api):
    start = api.emulator.clock.now().replace(microsecond=0) + timedelta(hours=1)
    class_id = create_one(api, start, status_ping_url="http://127.0.0.1:9/closed")
    api.call("cancel", class_id=str(class_id))
    assert api.emulator.wait_for_pings(30)
    (ping,) = api.emulator.pings()
    assert (ping["class_id"], ping["class_status"], ping["delivered"]) == (class_id, "cancelled", False)


def test_dst_gap_class_starts_an_hour_later_in_wall_clock(api):
    """02:30 on 2030-03-10 does not exist in New York: the class is at 03:30 EDT (docs/wiziq-api.md §8.1)."""
    body = api.call(
        "create_recurring",
        **series_fields(start_time="03/09/2030 02:30", time_zone="America/New_York", class_occurrence="3"),
    )
    series = responses.parse_create_recurring(body)
    records = responses.parse_get_data(api.call("get_data", class_master_id=str(series.class_master_id)))
    assert [r.start_time for r in records] == [
        datetime(2030, 3, 9, 2, 30),
        datetime(2030, 3, 10, 3, 30),
        datetime(2030, 3, 11, 2, 30),
    ]
    stored = api.emulator.classes(series.class_master_id)
    assert [c["in_gap"] for c in stored] == [False, True, False]
