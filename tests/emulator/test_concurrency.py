"""Many clients at once: every series stored exactly once, ids unique, nothing lost."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import requests

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.emulator.server import WizIQEmulator
from tests.emulator.conftest import T0, Api, series_fields

THREADS = 16
CALLS = 200


def test_16_threads_of_200_create_recurring_calls():
    limits = PlanLimits(max_concurrent_class=10, max_class_minutes=300)
    answers: dict[str, responses.RecurringSeries] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()
    first_start = datetime(2030, 2, 1, 0, 0)

    with WizIQEmulator(clock_start=T0, limits=limits) as emulator:

        def client(thread: int) -> None:
            try:
                with requests.Session() as session:
                    api = Api(emulator, session)
                    for call in range(CALLS):
                        n = thread * CALLS + call
                        title = f"Section {thread}-{call}"
                        fields = series_fields(
                            title=title,
                            start_time=(first_start + timedelta(hours=n)).strftime("%m/%d/%Y %H:%M"),
                            time_zone="UTC",
                            presenter_email=f"teacher{thread}.{call}@example.com",
                            class_occurrence="2",
                        )
                        series = responses.parse_create_recurring(api.call("create_recurring", **fields))
                        with lock:
                            answers[title] = series
            except BaseException as error:  # reported below, with the thread's name
                failures.append(error)

        threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert failures == []
        stored = emulator.series()
        classes = emulator.classes()
        recorded = emulator.requests("create_recurring")

    total = THREADS * CALLS
    assert len(answers) == total
    assert len(stored) == total
    assert len({s["class_master_id"] for s in stored}) == total
    assert {a.class_master_id for a in answers.values()} == {s["class_master_id"] for s in stored}
    assert len(classes) == 2 * total
    assert len({c["class_id"] for c in classes}) == 2 * total
    assert sorted(c["title"] for c in classes) == sorted([title for title in answers] * 2)
    by_master = {s["class_master_id"]: s for s in stored}
    for title, answer in answers.items():
        assert by_master[answer.class_master_id]["params"]["title"] == title
        assert by_master[answer.class_master_id]["class_ids"][0] == answer.first_class.class_id
    assert len(recorded) == total
    assert all(item["error_code"] is None for item in recorded)
