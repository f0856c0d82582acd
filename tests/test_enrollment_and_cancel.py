"""Enrollment, attendance and cancellation operators in dag.test() against the emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_wiziq.hooks.wiziq import WizIQHook
from airflow_provider_wiziq.operators.wiziq import (
    WizIQAddAttendeesOperator,
    WizIQAttendanceReportOperator,
    WizIQCancelClassOperator,
)
from tests.dagtest import run_dag, task_instances

ROSTER = [
    {"attendee_id": "s-101", "screen_name": "Ann Lee", "language_culture_name": "en-us"},
    {"attendee_id": "s-102", "screen_name": "Bo Chen"},
]


def create_series(emulator: Any, occurrences: int = 3) -> tuple[int, list[int]]:
    start = (emulator.clock.now() + timedelta(days=2)).replace(microsecond=0, tzinfo=None)
    series = WizIQHook().create_recurring(
        title="Chemistry",
        start_time=start,
        time_zone="UTC",
        class_repeat_type=1,
        class_occurrence=occurrences,
        presenter_email="kim@school.example",
        attendee_limit=40,
    )
    classes = [c["class_id"] for c in emulator.classes(series.class_master_id)]
    return series.class_master_id, sorted(classes)


def run_one(dag_id: str, operator: type, **kwargs: Any) -> tuple[Any, Any]:
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        operator(task_id="step", retry_delay=timedelta(seconds=0), **kwargs)
    dag_run = run_dag(dag)
    return dag_run, task_instances(dag_run)["step"]


def test_add_attendees_returns_join_urls(wiziq_emulator):
    _, (first, *_) = create_series(wiziq_emulator)
    dag_run, ti = run_one("enroll", WizIQAddAttendeesOperator, class_id=str(first), attendees=ROSTER)
    assert dag_run.state == "success"
    joined = ti.xcom_pull(task_ids="step")
    assert [a["attendee_id"] for a in joined] == ["s-101", "s-102"]
    assert all(a["attendee_url"].startswith("http") for a in joined)


def test_add_attendees_from_json_text_and_bad_roster(wiziq_emulator):
    _, (first, *_) = create_series(wiziq_emulator)
    ok, _ = run_one(
        "enroll_json",
        WizIQAddAttendeesOperator,
        class_id=first,
        attendees='[{"attendee_id": "s-9", "screen_name": "Cy"}]',
    )
    assert ok.state == "success"
    bad, ti = run_one(
        "enroll_bad", WizIQAddAttendeesOperator, class_id=first, attendees=[{"attendee_id": "s-10"}], retries=2
    )
    assert bad.state == "failed"
    assert ti.try_number == 1  # 1023 screen_name missing: permanent


def just_held_class(emulator: Any) -> int:
    """A class with a roster that ended a second ago: its report is "available soon" (1029) for 600 s."""
    emulator.configure(report_delay=600)
    _, (first, *_) = create_series(emulator)
    WizIQHook().add_attendees(first, ROSTER)
    held = emulator.get_class(first)
    emulator.clock.set(datetime.fromisoformat(held["utc_end"]) + timedelta(seconds=1))
    return first


@contextmanager
def report_ready_after_first_ask(emulator: Any) -> Iterator[None]:
    """Move the emulator's clock past the report delay once it has answered one get_attendance_report (1029)."""
    stop = threading.Event()

    def wait_then_move() -> None:
        while not emulator.requests("get_attendance_report"):
            if stop.wait(0.005):
                return
        emulator.clock.advance(timedelta(minutes=11))

    helper = threading.Thread(target=wait_then_move, name="report-ready", daemon=True)
    helper.start()
    try:
        yield
    finally:
        stop.set()
        helper.join()


@pytest.mark.parametrize("deferrable", [True, False])
def test_attendance_report_waits_out_available_soon(wiziq_emulator, deferrable):
    first = just_held_class(wiziq_emulator)
    with report_ready_after_first_ask(wiziq_emulator):
        dag_run, ti = run_one(
            f"attendance_{deferrable}",
            WizIQAttendanceReportOperator,
            class_id=first,
            poll_interval=0.2,
            report_timeout=60,
            deferrable=deferrable,
        )
    assert dag_run.state == "success"
    rows = ti.xcom_pull(task_ids="step")
    attendees = {row["attendee_id"] for row in rows if row["attendee_id"]}
    assert attendees == {"s-101", "s-102"}
    assert all(row["attended_minutes"] is not None for row in rows)
    assert len(wiziq_emulator.requests("get_attendance_report")) >= 2


def test_attendance_report_defers_by_default_with_its_own_end_time(wiziq_emulator):
    from airflow_provider_wiziq._compat import TaskDeferred
    from airflow_provider_wiziq.triggers.wiziq import WizIQAttendanceReportTrigger

    first = just_held_class(wiziq_emulator)
    made = WizIQAttendanceReportOperator(task_id="step", class_id=str(first), report_timeout=120, poll_interval=30)
    assert made.deferrable is True
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        made.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, WizIQAttendanceReportTrigger)
    assert (trigger.class_id, trigger.poll_interval) == (first, 30.0)
    assert before + 120 <= trigger.end_time <= time.time() + 120
    assert deferred.value.method_name == "execute_complete"
    assert len(wiziq_emulator.requests("get_attendance_report")) == 1  # one ask on the worker first


@pytest.mark.parametrize("deferrable", [True, False])
def test_attendance_report_still_not_ready_fails_the_try_and_retries_apply(wiziq_emulator, deferrable):
    first = just_held_class(wiziq_emulator)
    dag_run, ti = run_one(
        f"attendance_late_{deferrable}",
        WizIQAttendanceReportOperator,
        class_id=first,
        poll_interval=0.1,
        report_timeout=0.5,
        retries=1,
        deferrable=deferrable,
    )
    assert (dag_run.state, ti.try_number) == ("failed", 2)


@pytest.mark.parametrize("deferrable", [True, False])
def test_attendance_report_of_a_class_not_held_fails_at_once(wiziq_emulator, deferrable):
    _, (first, *_) = create_series(wiziq_emulator)
    dag_run, ti = run_one(
        "attendance_early",
        WizIQAttendanceReportOperator,
        class_id=first,
        retries=2,
        poll_interval=0.1,
        report_timeout=1,
        deferrable=deferrable,
    )
    assert dag_run.state == "failed"
    assert ti.try_number == 1  # 1026: not held yet


def test_cancel_a_whole_series_skips_held_classes_and_is_safe_to_repeat(wiziq_emulator):
    master, classes = create_series(wiziq_emulator, occurrences=3)
    first_start = datetime.fromisoformat(wiziq_emulator.get_class(classes[0])["utc_start"])
    wiziq_emulator.clock.set(first_start.astimezone(timezone.utc) + timedelta(minutes=5))  # first is live
    dag_run, ti = run_one("cancel_series", WizIQCancelClassOperator, class_master_id=master)
    assert dag_run.state == "success"
    outcome = ti.xcom_pull(task_ids="step")
    assert outcome["cancelled"] == classes[1:]
    assert [(s["class_id"], s["code"]) for s in outcome["skipped"]] == [(classes[0], 1034)]
    again, ti = run_one("cancel_series_again", WizIQCancelClassOperator, class_master_id=str(master))
    assert again.state == "success"
    assert ti.xcom_pull(task_ids="step")["already_cancelled"] == classes[1:]


@pytest.mark.parametrize(("kwargs", "state"), [({}, "failed"), ({"class_id": 1, "class_master_id": 2}, "failed")])
def test_cancel_needs_exactly_one_target(wiziq_emulator, kwargs, state):
    dag_run, _ = run_one("cancel_bad", WizIQCancelClassOperator, **kwargs)
    assert dag_run.state == state


def test_cancel_one_class(wiziq_emulator):
    _, (first, *_) = create_series(wiziq_emulator)
    dag_run, ti = run_one("cancel_one", WizIQCancelClassOperator, class_id=first)
    assert dag_run.state == "success"
    assert ti.xcom_pull(task_ids="step")["cancelled"] == [first]
    assert wiziq_emulator.get_class(first)["status"] == "cancelled"


def test_the_attendance_report_trigger_serializes_to_json_kwargs_that_rebuild_it():
    import json

    from airflow_provider_wiziq.triggers.wiziq import WizIQAttendanceReportTrigger

    made = WizIQAttendanceReportTrigger(
        class_id="15001", wiziq_conn_id="wiziq_term", poll_interval=30, end_time="2031-05-01T12:00:00+02:00"
    )
    classpath, kwargs = made.serialize()
    assert classpath == "airflow_provider_wiziq.triggers.wiziq.WizIQAttendanceReportTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs["end_time"] == "2031-05-01T10:00:00+00:00" and kwargs["class_id"] == 15001
    assert WizIQAttendanceReportTrigger(**kwargs).serialize() == (classpath, kwargs)
    with pytest.raises(ValueError, match="max_consecutive_errors"):
        WizIQAttendanceReportTrigger(class_id=1, end_time=0.0, max_consecutive_errors=0)
    with pytest.raises(ValueError, match="poll_interval"):
        WizIQAttendanceReportOperator(task_id="step", class_id=1, poll_interval=0)
