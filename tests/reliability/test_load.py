"""Load: one WizIQHook shared by 16 threads against the emulator for 60 s. No unexpected error, no series
booked twice or lost, and the throughput printed. Run by ``scripts/load.sh`` (``WIZIQ_LOAD=1``), never by
the default test run. ``WIZIQ_LOAD_SECONDS`` and ``WIZIQ_LOAD_THREADS`` change the defaults.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest

from airflow_provider_wiziq.emulator import WizIQEmulator
from airflow_provider_wiziq.hooks.wiziq import WizIQHook
from tests.reliability.support import series_params, wiziq_connection

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(os.environ.get("WIZIQ_LOAD") != "1", reason="load test: run scripts/load.sh (WIZIQ_LOAD=1)"),
]

SECONDS = float(os.environ.get("WIZIQ_LOAD_SECONDS", "60"))
THREADS = int(os.environ.get("WIZIQ_LOAD_THREADS", "16"))
CLASSES = 3
CONN_ID = "wiziq_load"


def worker(
    hook: WizIQHook,
    number: int,
    deadline: float,
    tally: Counter[str],
    errors: list[str],
    created: list[tuple[str, int]],
    lock: threading.Lock,
) -> None:
    """One user: create a series, read it back both ways, enroll, cancel its last class; again until the end."""
    iteration = 0
    while time.monotonic() < deadline:
        title = f"Load {number}-{iteration}"
        calls: Counter[str] = Counter()
        try:
            series = hook.create_recurring(
                **series_params(title, class_occurrence=CLASSES, presenter_email=f"t{number}-{iteration}@load.example")
            )
            calls["create_recurring"] += 1
            records = hook.get_data(class_master_id=series.class_master_id)
            calls["get_data"] += 1
            schedule = hook.view_schedule(series.class_master_id)
            calls["view_schedule"] += 1
            assert sorted(r.class_id for r in records) == sorted(e.class_id for e in schedule)
            assert len(schedule) == CLASSES
            hook.add_attendees(series.first_class.class_id, [{"attendee_id": f"s-{number}", "screen_name": "Ann"}])
            calls["add_attendees"] += 1
            assert hook.cancel(schedule[-1].class_id) is True
            calls["cancel"] += 1
            with lock:
                created.append((title, series.class_master_id))
        except Exception as error:  # every error is unexpected here: collect it, keep the load on
            with lock:
                errors.append(f"{title}: {type(error).__name__}: {error}")
        with lock:
            tally.update(calls)
        iteration += 1


def test_sixteen_threads_for_a_minute(capsys):
    tally: Counter[str] = Counter()
    errors: list[str] = []
    created: list[tuple[str, int]] = []
    lock = threading.Lock()
    with WizIQEmulator() as emu, wiziq_connection(CONN_ID, {**emu.connection, "extra": {"read_timeout": 30}}):
        hook = WizIQHook(wiziq_conn_id=CONN_ID)
        started = time.monotonic()
        deadline = started + SECONDS
        threads = [
            threading.Thread(target=worker, args=(hook, n, deadline, tally, errors, created, lock), name=f"load-{n}")
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SECONDS + 120)
        elapsed = time.monotonic() - started
        hung = [thread.name for thread in threads if thread.is_alive()]
        hook.close()
        stored = emu.series()
        classes = emu.classes()

    calls = sum(tally.values())
    with capsys.disabled():
        print(
            f"\nWizIQ load: {THREADS} threads, {elapsed:.1f} s: {calls} calls ({calls / elapsed:.0f} calls/s), "
            f"{tally['create_recurring']} series ({tally['create_recurring'] / elapsed:.1f} series/s); "
            f"by method: {dict(sorted(tally.items()))}; unexpected errors: {len(errors)}"
        )
    assert hung == []
    assert errors == [], errors[:5]
    assert tally["create_recurring"] > 0
    titles = Counter(series["params"]["title"] for series in stored)
    duplicates = {title: n for title, n in titles.items() if n > 1}
    assert duplicates == {}, f"series booked twice: {list(duplicates)[:5]}"
    assert sorted(series["class_master_id"] for series in stored) == sorted(master for _, master in created)
    assert len(classes) == CLASSES * len(stored)
    cancelled = Counter(cls["status"] for cls in classes)["cancelled"]
    assert cancelled == len(stored)
