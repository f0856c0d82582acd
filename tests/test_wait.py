"""The verdict on a wait (api/rules/wait.py) and the wait backoff (api/protocol/retry.py): pure, no HTTP, no Airflow."""

from __future__ import annotations

import ast
from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQTransportError
from airflow_provider_wiziq.api.protocol.responses import AttendanceReport, AttendanceRow, ClassRecord
from airflow_provider_wiziq.api.protocol.retry import MAX_WAIT_BACKOFF, backoff
from airflow_provider_wiziq.api.protocol.status import ClassStatus
from airflow_provider_wiziq.api.rules.wait import ClassWait, Outcome, ReportWait, Verdict

SRC = Path(__file__).resolve().parents[1] / "src" / "airflow_provider_wiziq"


def record(status: str | None, time_to_start: int = 0) -> ClassRecord:
    fields = {"class_id": "7", "time_to_start": str(time_to_start)}
    if status is not None:
        fields["status"] = status
    return ClassRecord(fields)


def report(*names: str) -> AttendanceReport:
    moment = datetime(2026, 9, 1, 10, tzinfo=timezone.utc)
    rows = tuple(
        AttendanceRow(
            attendee_id=str(n),
            presenter_id=None,
            screen_name=name,
            entry_time=moment,
            exit_time=moment,
            attended_minutes=0,
        )
        for n, name in enumerate(names)
    )
    return AttendanceReport(class_id=7, class_duration=60, rows=rows)


def test_a_class_wait_past_its_deadline_times_out_naming_the_last_status():
    wait = ClassWait(7, {ClassStatus.COMPLETED}, deadline=100.0)
    assert wait.judge(record("upcoming", 30), now=99.0).waiting
    verdict = wait.judge(record("upcoming", 30), now=100.0)
    assert verdict.outcome is Outcome.TIMEOUT and verdict.status == "upcoming"
    assert verdict.message == "Timed out waiting for WizIQ class 7 to be completed; it was last seen upcoming"
    assert wait.judge(record("completed"), now=500.0).outcome is Outcome.SUCCESS  # a final answer wins
    assert ClassWait(7, {ClassStatus.COMPLETED}).timed_out(now=1e12) is None  # no deadline, no timeout


def test_news_is_only_a_change_an_error_or_the_end():
    wait = ClassWait(7, {ClassStatus.COMPLETED}, deadline=100.0)
    assert wait.news(record("upcoming", 30), now=1.0).status == "upcoming"
    assert wait.news(record("upcoming", 20), now=2.0) is None  # same status: nothing to say
    assert wait.news(record("upcoming", -1), now=3.0).status == "live"
    assert wait.news(WizIQTransportError("HTTP 503", method="get_data"), now=4.0).errors == 1
    assert wait.news(record("upcoming", -1), now=5.0).errors == 0  # an error in between is news
    assert wait.news(record("upcoming", -1), now=100.0).outcome is Outcome.TIMEOUT


@pytest.mark.parametrize(
    ("answered", "outcome", "retryable"),
    [
        (WizIQAPIError.from_code(1029, method="get_attendance_report"), Outcome.WAITING, False),
        (WizIQAPIError.from_code(1026, method="get_attendance_report"), Outcome.ERROR, False),
        (WizIQAPIError.from_code(1027, method="get_attendance_report"), Outcome.ERROR, False),
        (WizIQAPIError.from_code(1028, method="get_attendance_report"), Outcome.ERROR, False),
        (WizIQTransportError("HTTP 503", method="get_attendance_report"), Outcome.WAITING, False),
    ],
)
def test_report_wait_judges_each_answer(answered, outcome, retryable):
    verdict = ReportWait(7).judge(answered)
    assert (verdict.outcome, verdict.retryable) == (outcome, retryable)


def test_report_wait_returns_the_rows_and_soon_is_not_an_error():
    wait = ReportWait(7, max_consecutive_errors=2, deadline=50.0)
    soon = WizIQAPIError.from_code(1029, method="get_attendance_report")
    blip = WizIQTransportError("HTTP 503", method="get_attendance_report")
    assert [wait.judge(answer, now=1.0).outcome for answer in (soon, blip, soon, blip)] == [Outcome.WAITING] * 4
    assert wait.judge(blip, now=1.0).outcome is Outcome.ERROR  # two transient errors in a row
    done = ReportWait(7).judge(report("Ada", "Grace"), now=1.0)
    assert done.outcome is Outcome.SUCCESS and [row["screen_name"] for row in done.record] == ["Ada", "Grace"]
    late = ReportWait(7, deadline=50.0).judge(soon, now=50.0)
    assert late.outcome is Outcome.TIMEOUT and "attendance report of WizIQ class 7" in late.message


def test_a_final_verdict_survives_its_trip_through_a_trigger_event():
    wait = ClassWait(7, {ClassStatus.COMPLETED})
    for verdict in (wait.judge(record("expired")), wait.judge(None), ReportWait(7).judge(report("Ada"))):
        assert Verdict.from_event(verdict.event()) == verdict
    timeout = ClassWait(7, {ClassStatus.COMPLETED}, deadline=0.0).timed_out(now=1.0)
    assert timeout.event()["status"] == "timeout" and Verdict.from_event(timeout.event()) == timeout
    with pytest.raises(ValueError, match="not a WizIQ wait event"):
        Verdict.from_event({"status": "exploded"})


def test_the_wait_backoff_doubles_up_to_its_cap():
    assert [backoff(10.0, n) for n in range(4)] == [10.0, 20.0, 40.0, 80.0]
    assert backoff(10.0, 50) == MAX_WAIT_BACKOFF
    assert backoff(600.0, 3) == 600.0  # a poll interval longer than the cap is kept
    assert backoff(0.05, 10_000) == MAX_WAIT_BACKOFF  # no overflow on a long run of failures


def test_no_second_backoff_formula():
    """Doubling a pause (``x * 2 ** n``) is written only in api/protocol/retry.py."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).as_posix() == "api/protocol/retry.py" or "emulator" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            doubling = isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
            if doubling and isinstance(node.left, ast.Constant) and node.left.value == 2:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def test_the_client_leaves_available_soon_to_the_report_wait():
    """1029 is waited on minutes apart by the report wait, not re-sent at once inside one call."""
    from airflow_provider_wiziq.api.protocol.retry import may_resend

    assert not may_resend("get_attendance_report", WizIQAPIError.from_code(1029, method="get_attendance_report"))
    assert may_resend("get_attendance_report", WizIQAPIError.from_code(1000, method="get_attendance_report"))
