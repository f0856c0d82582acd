"""SyncTermOperator in real Airflow when a run is stopped or a section fails: on_kill, SIGTERM, and announcements.

- ``on_kill`` called from another thread during ``execute`` ends the run within 3 seconds, with what was done
  recorded and the lease released (Airflow kills a task 5 s after SIGTERM).
- SIGTERM of a process running the DAG does the same through Airflow's own handler.
- A run in which one section fails records no asset event (Airflow records outlet events of successful tasks
  only); what it changed is announced by the next successful run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.dagtest import run_dag, task_instances
from tests.support.operators import running_copies
from tests.support.term import standing
from tests.sync_support import TERM_OPENS, account_of, asset_events, ledger_key, section

HOLIDAYS = ["2027-09-06"]
ROSTER = [{"attendee_id": f"s{n}", "screen_name": f"Student {n}"} for n in range(3)]
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)


def sync_dag(dag_id, term, sections, **options):
    from airflow.sdk import DAG

    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

    options.setdefault("max_calls_per_second", None)
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        SyncTermOperator(task_id="sync", term=term, sections=sections, holidays=HOLIDAYS, **options)
    return dag


@pytest.fixture
def on_emulator_clock(wiziq_emulator, monkeypatch):
    import airflow_provider_wiziq.operators.sync as sync_module

    monkeypatch.setattr(sync_module, "clock", wiziq_emulator.clock)


def wait_for(condition, what, seconds=120):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def enrolments(emulator):
    return len(emulator.requests("add_attendees"))


def test_on_kill_from_another_thread_ends_the_run_within_three_seconds(wiziq_emulator, on_emulator_clock, monkeypatch):
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

    running = running_copies(monkeypatch, SyncTermOperator)
    wiziq_emulator.set_latency(0.05)
    sections = [section(key, attendees=ROSTER) for key in "ABCDEF"]
    stopped_in = []

    def kill_midway():
        wait_for(lambda: enrolments(wiziq_emulator) >= 20, "20 enrolments")
        asked = time.monotonic()
        running[0].on_kill()
        stopped_in.append(time.monotonic() - asked)

    killer = threading.Thread(target=kill_midway)
    killer.start()
    dag_run = run_dag(sync_dag("sync_killed_in_thread", "killed-thread", sections, max_concurrency=2))
    killer.join(60)

    assert stopped_in and stopped_in[0] < 3
    assert dag_run.state == "failed"
    head = ledger_key("killed-thread", f"{account_of(wiziq_emulator)}/head")
    assert head["lease"] is None  # released: the next run need not wait 15 minutes
    wiziq_emulator.set_latency(0)
    finished = run_dag(sync_dag("sync_after_kill", "killed-thread", sections))
    assert finished.state == "success"
    placed = [(c["presenter_email"], c["utc_start"]) for c in standing(wiziq_emulator)]
    assert len(placed) == len(set(placed)) == 6 * 74  # nothing booked twice, nothing missing
    assert all(len(c["attendees"]) == len(ROSTER) for c in standing(wiziq_emulator))


SCRIPT = """
import json, sys, urllib.request
from datetime import datetime, timezone
sys.path.insert(0, {root!r})
import airflow_provider_wiziq.operators.sync as sync_module
from tests.dagtest import run_dag
from tests.test_sync_kill import sync_dag


class EmulatorClock:
    def now(self):
        with urllib.request.urlopen({clock_url!r}) as answer:
            return datetime.fromisoformat(json.load(answer)["now"].replace("Z", "+00:00"))


sync_module.clock = EmulatorClock()
sections = json.loads({sections!r})
dag_run = run_dag(sync_dag("sync_sigterm", "sigterm", sections, max_concurrency=2, ledger_path={ledger!r}))
print("STATE", dag_run.state, flush=True)
"""


def test_sigterm_of_the_task_process_stops_the_run_and_releases_the_lease(wiziq_emulator, tmp_path):
    """The DAG runs in a process of its own (its own Airflow home and database, the ledger in a folder both see)."""
    import json

    wiziq_emulator.set_latency(0.05)
    sections = [section(key, attendees=ROSTER) for key in "ABCDEF"]
    script = tmp_path / "run_sync.py"
    ledger = tmp_path / "ledger"
    clock_url = wiziq_emulator.connection["host"].rsplit("/", 1)[0] + "/_emulator/clock"
    script.write_text(textwrap.dedent(SCRIPT).format(root=str(ROOT), clock_url=clock_url, ledger=ledger.as_uri(),
                                                     sections=json.dumps(sections)))  # fmt: skip
    home = tmp_path / "home"
    (home / "dags").mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__DATABASE__")}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"))
    process = subprocess.Popen(
        [sys.executable, str(script)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: enrolments(wiziq_emulator) >= 20 or process.poll() is not None, "20 enrolments", 240)
        assert process.poll() is None, process.stdout.read().decode()[-3000:]
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        waited = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
    text = output.decode()
    assert "STATE failed" in text, text[-3000:]
    assert waited < 30  # the task ended by itself: Airflow would have killed it 5 s after SIGTERM
    head = json.loads((ledger / "sigterm" / account_of(wiziq_emulator) / "head.json").read_text())
    assert head["lease"] is None
    wiziq_emulator.set_latency(0)
    after = sync_dag("sync_after_sigterm", "sigterm", sections, ledger_path=ledger.as_uri())
    assert run_dag(after).state == "success"
    placed = [(c["presenter_email"], c["utc_start"]) for c in standing(wiziq_emulator)]
    assert len(placed) == len(set(placed)) == 6 * 74


def test_what_a_failed_run_changed_is_announced_by_the_next_successful_run(wiziq_emulator, on_emulator_clock):
    good = section("A")
    refused = section("B", attendee_limit=500)  # over the account's plan: WizIQ answers 1011
    first = run_dag(sync_dag("sync_partly_failed", "announce", [good, refused]))
    assert first.state == "failed"
    assert asset_events("announce") == []  # Airflow records no event for a failed task
    created_a = {c["class_id"] for c in standing(wiziq_emulator) if c["presenter_email"] == "a@school.example"}
    assert len(created_a) == 74

    second = run_dag(sync_dag("sync_then_fixed", "announce", [good, section("B")]))
    assert second.state == "success"
    (event,) = asset_events("announce")
    assert set(event["sections"]["A"]["created"]) == created_a  # the failed run's classes, announced now
    created_b = {c["class_id"] for c in standing(wiziq_emulator) if c["presenter_email"] == "b@school.example"}
    assert set(event["sections"]["B"]["created"]) == created_b
    assert event["account"] == account_of(wiziq_emulator)
    result = task_instances(second)["sync"].xcom_pull(task_ids="sync")
    assert set(result["sections"]["B"]["classes"][0]) >= {"class_id", "start_time", "state"}

    third = run_dag(sync_dag("sync_then_quiet", "announce", [good, section("B")]))
    assert third.state == "success"
    assert len(asset_events("announce")) == 1  # nothing left to announce: no new event
