"""CreateRecurringClassesOperator: validation first, rate limit and 429 pauses, per-key results, resuming retries."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

import pytest
from airflow.sdk import DAG

from airflow_provider_wiziq._compat import AirflowException, AirflowFailException
from airflow_provider_wiziq.api.engine.ledger import SERIES_LEDGER_KEY as LEDGER_KEY
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import config_from_connection
from airflow_provider_wiziq.api.protocol.ratelimit import RateLimitedSession, TokenBucket
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.example_dags import FALL_TERM_SECTIONS
from airflow_provider_wiziq.hooks.wiziq import WizIQHook
from airflow_provider_wiziq.operators.bulk import XCOM_SERIES_RESULTS
from tests.dagtest import dag_bag, run_dag, task_instances
from tests.support.bulk import EXAMPLES, YEAR, FakeStore, bulk, execute, series_identities, spec
from tests.support.operators import running_copies

# The 300-series crash-and-resume run, in real Airflow ------------------------------------------------------


def test_300_series_killed_halfway_resume_on_retry_with_none_twice(wiziq_emulator):
    specs = [spec(i) for i in range(300)]
    # Faults are used in order: 150 normal answers (a delay of 0 s), then 10 series created whose answers
    # are lost, then 140 refusals (HTTP 503, not retried by the client for create_recurring). Try 1 ends
    # with 150 keys failed transiently; try 2 must find the 10 lost series and create only the 140 others.
    wiziq_emulator.inject_fault("delay", count=150, method="create_recurring", seconds=0)
    wiziq_emulator.inject_fault("reset_after", count=10, method="create_recurring")
    wiziq_emulator.inject_fault("http_503", count=140, method="create_recurring")
    with DAG("bulk_resume", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        bulk(specs, max_concurrency=8, retries=1, retry_delay=timedelta(seconds=0), progress_interval=1)
    dag_run = run_dag(dag)

    assert dag_run.state == "success"
    ti = task_instances(dag_run)["create_series"]
    assert ti.try_number == 2
    identities = series_identities(wiziq_emulator)
    assert len(identities) == len(set(identities)) == 300
    assert len(wiziq_emulator.requests("create_recurring")) == 300 + 140  # the 10 lost ones were not resent
    result = ti.xcom_pull(task_ids="create_series")
    assert list(result) == [s["key"] for s in specs]
    stored = {s["class_master_id"]: s for s in wiziq_emulator.series()}
    assert {entry["class_master_id"] for entry in result.values()} == set(stored)
    for key, entry in result.items():
        assert "error" not in entry, key
        assert entry["class_ids"] == stored[entry["class_master_id"]]["class_ids"]
        assert stored[entry["class_master_id"]]["params"]["title"] == f"Section {int(key[2:])}"


# Validation before anything is sent ---------------------------------------------------------------------


def test_every_invalid_spec_is_reported_and_nothing_is_created(wiziq_emulator):
    specs = [
        spec(0),
        spec(1, title=""),  # 1014
        spec(2, days_of_week="funday"),  # 1083
        spec(3, start_time=f"{YEAR - 2}-01-05T09:00"),  # 1004
        {k: v for k, v in spec(4).items() if k != "key"},  # no key
        spec(5, key="S-0000"),  # a key used before
        spec(6, titel="typo"),  # not a create_recurring parameter
        spec(
            7,
            key="S-0007-again",
            title="Section 0",
            presenter_email="teacher0@district.example",
            start_time=spec(0)["start_time"],
        ),  # the same series as S-0000
        "not a dict",
        spec(9),
    ]
    with pytest.raises(AirflowFailException) as caught:
        execute(bulk(specs))
    message = str(caught.value)
    assert message.startswith("8 of 10 series specs are invalid, so nothing was created")
    for named in (
        "S-0001: Not sent (WizIQ would answer 1014)",
        "S-0002: Not sent (WizIQ would answer 1083)",
        "S-0003: Not sent (WizIQ would answer 1004)",
        "#4:",
        "#5: key 'S-0000' is used by an earlier spec",
        "S-0006:",
        "S-0007-again: describes the same",
        "#8: a series spec must be a dict",
    ):
        assert named in message
    assert "S-0000:" not in message
    assert "S-0009" not in message
    assert wiziq_emulator.requests() == []


def test_skip_invalid_creates_the_valid_ones_and_reports_the_others(wiziq_emulator):
    specs = [spec(0), spec(1, class_repeat_type="fortnightly"), spec(2)]
    result, ti = execute(bulk(json.dumps(specs), skip_invalid=True))  # the JSON text of the list works too
    assert list(result) == ["S-0000", "S-0001", "S-0002"]
    assert result["S-0001"]["error"]["code"] == 1081
    assert result["S-0001"]["error"]["transient"] is False
    assert {result[k]["class_master_id"] for k in ("S-0000", "S-0002")} == {
        s["class_master_id"] for s in wiziq_emulator.series()
    }
    assert len(wiziq_emulator.series()) == 2
    assert XCOM_SERIES_RESULTS not in ti.xcom


@pytest.mark.parametrize("value", ["{not json", '{"key": "a"}', 42])
def test_series_that_is_not_a_list_fails_before_any_call(wiziq_emulator, value):
    with pytest.raises(AirflowFailException, match="series"):
        execute(bulk(value))
    assert wiziq_emulator.requests() == []


# Failures at the end, after every other key -------------------------------------------------------------


def test_failed_keys_are_listed_at_the_end_after_all_others_were_created(wiziq_emulator):
    hook = WizIQHook()
    specs = [spec(i) for i in range(12)]
    # Another series already holds these presenters at these times: WizIQ answers 1032, and it is not ours.
    for index in (3, 8):
        hook.create_recurring(**{k: v for k, v in spec(index, title="Someone else's").items() if k != "key"})
    with pytest.raises(AirflowFailException) as caught:
        execute(bulk(specs, max_concurrency=3))
    message = str(caught.value)
    assert message.startswith("2 of 12 WizIQ series failed (all permanently)")
    assert "S-0003: WizIQ error 1032" in message
    assert "S-0008: WizIQ error 1032" in message
    assert len(wiziq_emulator.series()) == 2 + 10
    assert wiziq_emulator.secret_key not in message


def test_a_transient_failure_fails_retryably_and_the_retry_creates_only_what_is_missing(wiziq_emulator):
    hook = WizIQHook()
    hook.create_recurring(**{k: v for k, v in spec(1, title="Someone else's").items() if k != "key"})
    wiziq_emulator.inject_fault("reset_after", method="create_recurring")  # first key: created, answer lost
    wiziq_emulator.inject_fault("http_503", method="create_recurring")  # second key: refused
    specs = [spec(i) for i in range(6)]
    store = FakeStore()
    with pytest.raises(AirflowException) as caught:
        execute(bulk(specs, max_concurrency=1), store=store)
    assert type(caught.value) is AirflowException  # not AirflowFailException: one failure was transient
    # The lost answer was settled in the same try: one scan found the series it created, which was adopted.
    assert "1 of 6 WizIQ series failed (some transiently" in str(caught.value)
    assert "S-0001: WizIQ transport error" in str(caught.value)
    assert len(store[f"{LEDGER_KEY}/0"]) == 5
    assert len(wiziq_emulator.series()) == 1 + 5  # someone else's, the lost one, four more

    with pytest.raises(AirflowFailException) as caught:  # what is left is S-0001's 1032, which is permanent
        execute(bulk(specs, max_concurrency=1), try_number=2, store=store)
    assert "1 of 6 WizIQ series failed (all permanently)" in str(caught.value)
    assert "S-0001: WizIQ error 1032" in str(caught.value)
    identities = series_identities(wiziq_emulator)
    assert len(identities) == len(set(identities)) == 1 + 5
    assert len(wiziq_emulator.requests("create_recurring")) == 1 + 6 + 1  # the lost series was found, not resent
    assert len(store[f"{LEDGER_KEY}/0"]) == 5


def test_a_series_from_an_earlier_run_is_adopted_through_1032(wiziq_emulator):
    specs = [spec(i) for i in range(4)]
    first, _ = execute(bulk(specs))
    second, _ = execute(bulk(specs))  # a new run: nothing recorded, WizIQ answers 1032 for each
    assert second == first
    assert len(wiziq_emulator.series()) == 4


def test_results_are_json_and_hold_no_secret(wiziq_emulator):
    result, _ = execute(bulk([spec(0)], verify_schedule=False))
    text = json.dumps(result)
    assert wiziq_emulator.secret_key not in text
    assert "signature" not in text
    entry = result["S-0000"]
    assert entry["class_ids"][0] is not None  # known from the create answer without a read-back
    assert entry["class_ids"][1:] == [None]
    assert entry["presenter_url"]


# The rate limit and 429 pauses ------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_token_bucket_spaces_calls_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(4, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(9):
        bucket.acquire()
        times.append(clock.now - 1000.0)
    assert times == pytest.approx([0.25 * i for i in range(9)])
    assert bucket.calls == 9


def test_token_bucket_allows_a_burst_then_the_rate_and_no_credit_for_idling():
    clock = FakeClock()
    bucket = TokenBucket(2, burst=3, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(5):
        bucket.acquire()
        times.append(clock.now - 1000.0)
    assert times == pytest.approx([0, 0, 0, 0.5, 1.0])
    clock.now += 60  # a long idle time earns at most one burst
    start = clock.now
    for _ in range(4):
        bucket.acquire()
    assert clock.now - start == pytest.approx(0.5)


def test_token_bucket_pause_holds_every_caller_then_resumes_without_a_burst():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=5, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    assert bucket.pause(3) == 3
    assert bucket.delay() == pytest.approx(3)
    bucket.pause(1)  # a shorter pause does not cut the longer one short
    assert bucket.delay() == pytest.approx(3)
    assert bucket.acquire() == pytest.approx(3)
    assert bucket.acquire() == pytest.approx(0.1)  # the steady rate again, not a burst of 5
    assert bucket.pauses == 2


def test_token_bucket_without_a_rate_only_pauses_and_caps_a_long_pause():
    clock = FakeClock()
    bucket = TokenBucket(None, clock=clock, sleep=clock.sleep, max_pause=60)
    for _ in range(100):
        assert bucket.acquire() == 0
    assert bucket.pause(3600) == 60
    assert bucket.acquire() == pytest.approx(60)
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0)


def test_a_429_pauses_every_worker_and_the_client_resends_after_retry_after(wiziq_emulator):
    wiziq_emulator.inject_fault("http_429", method="create_recurring", retry_after=7)
    clock = FakeClock()
    bucket = TokenBucket(None, clock=clock, sleep=clock.sleep)
    seen_by_other_workers = []

    def client_sleep(seconds: float) -> None:  # the client's own wait before its re-send
        seen_by_other_workers.append(bucket.delay())
        clock.sleep(seconds)

    config = config_from_connection(**{k: v for k, v in wiziq_emulator.connection.items() if k != "conn_type"})
    with WizIQClient(config, session=RateLimitedSession(bucket), sleep=client_sleep) as client:
        series = client.create_recurring(
            CreateRecurringRequest.from_params({k: v for k, v in spec(0).items() if k != "key"})
        )
    assert series.class_master_id == wiziq_emulator.series()[0]["class_master_id"]
    assert seen_by_other_workers == [pytest.approx(7)]  # while the client waited, every other call was held
    assert clock.sleeps[0] >= 7
    assert (bucket.pauses, bucket.calls) == (1, 2)
    assert [r["fault"] for r in wiziq_emulator.requests("create_recurring")] == ["http_429", None]


def test_the_operator_rides_out_a_429(wiziq_emulator):
    wiziq_emulator.inject_fault("http_429", method="create_recurring", retry_after=1)
    specs = [spec(i) for i in range(5)]
    result, _ = execute(bulk(specs, max_calls_per_second=50))
    assert all("error" not in entry for entry in result.values())
    assert len(wiziq_emulator.series()) == 5
    faults = [r["fault"] for r in wiziq_emulator.requests("create_recurring")]
    assert (len(faults), faults.count("http_429")) == (6, 1)


# The example DAG ------------------------------------------------------------------------------------------


def test_bulk_term_provisioning_example_creates_every_section_and_writes_the_report(wiziq_emulator, tmp_path):
    bag = dag_bag(dag_folder=EXAMPLES / "wiziq_term_provisioning.py")
    assert bag.import_errors == {}
    dag_run = run_dag(bag.dags["wiziq_term_provisioning_bulk"], run_conf={"report_dir": str(tmp_path)})
    assert dag_run.state == "success"
    with open(FALL_TERM_SECTIONS, newline="") as handle:
        sections = list(csv.DictReader(handle))
    report = json.loads((tmp_path / "wiziq_term_report.json").read_text())
    assert [entry["section_id"] for entry in report] == [s["section_id"] for s in sections]
    stored = {series["class_master_id"]: series for series in wiziq_emulator.series()}
    assert len(stored) == len(sections)
    for entry in report:
        assert stored[entry["class_master_id"]]["class_ids"] == [c["class_id"] for c in entry["classes"]]


def test_the_progress_line_counts_created_adopted_and_earlier_series(wiziq_emulator, capfd):
    def last_progress_line() -> str:
        return [line for line in capfd.readouterr().out.splitlines() if " done (" in line][-1]

    specs = [spec(i) for i in range(4)]
    execute(bulk(specs[:2]))  # an earlier run made two of them: this run finds them through 1032
    store = FakeStore()
    capfd.readouterr()
    execute(bulk(specs), store=store)
    assert "4/4 done (2 created, 2 adopted, 0 earlier), 0 failed" in last_progress_line()
    execute(bulk(specs), try_number=2, store=store)  # a retry: every key is recorded
    assert "4/4 done (0 created, 0 adopted, 4 earlier), 0 failed" in last_progress_line()


def test_on_kill_stops_creating_and_the_retry_books_nothing_twice(wiziq_emulator, monkeypatch):
    import threading
    import time

    from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator

    running = running_copies(monkeypatch, CreateRecurringClassesOperator)
    wiziq_emulator.set_latency(0.1)
    specs = [spec(i) for i in range(60)]
    sent = {}  # create_recurring calls the emulator had received when on_kill was called and when it returned

    def kill_midway():
        deadline = time.monotonic() + 120
        while len(wiziq_emulator.requests("create_recurring")) < 8:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        sent["asked"] = len(wiziq_emulator.requests("create_recurring"))
        running[0].on_kill()  # no new create starts; the ones in flight are awaited (up to 2 s)
        sent["returned"] = len(wiziq_emulator.requests("create_recurring"))
        wiziq_emulator.set_latency(0)

    killer = threading.Thread(target=kill_midway)
    killer.start()
    with DAG("bulk_killed", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        bulk(specs, max_concurrency=2, retries=1, retry_delay=timedelta(seconds=0))
    dag_run = run_dag(dag)
    killer.join(60)

    assert sent["returned"] - sent["asked"] <= 2  # at most the two in flight (max_concurrency) arrived after the stop
    assert dag_run.state == "success"
    assert task_instances(dag_run)["create_series"].try_number == 2
    identities = series_identities(wiziq_emulator)
    assert len(identities) == len(set(identities)) == 60  # the retry made the rest, nothing twice
