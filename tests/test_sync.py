"""SyncTermOperator in real Airflow (dag.test()) against the emulator: several runs sharing the term's ledger."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_wiziq.api.rules.identity import presenter_key
from tests.support.term import standing
from tests.sync_support import TERM_OPENS, TermRunner, asset_events, instants, section, wipe_ledger

HOLIDAYS = ["2027-09-06", "2027-11-24..2027-11-26"]  # Labor Day, Thanksgiving Wednesday to Friday
pytestmark = pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)


@pytest.fixture
def term(wiziq_emulator, monkeypatch, request):
    """A runner for a term named after the test; the sync plans on the emulator's clock."""
    import airflow_provider_wiziq.operators.sync as sync_module

    monkeypatch.setattr(sync_module, "clock", wiziq_emulator.clock)
    name = request.node.name.replace("_", "-")[5:45].strip("-[]")
    return TermRunner(wiziq_emulator, name)


def local_dates(classes, zone="America/New_York"):
    from zoneinfo import ZoneInfo

    return {datetime.fromisoformat(c["utc_start"]).astimezone(ZoneInfo(zone)).date() for c in classes}


def test_a_75_class_section_is_two_series_with_no_holiday_class_standing(term, wiziq_emulator):
    run = term.run([section("A")], holidays=HOLIDAYS)

    assert len(wiziq_emulator.series()) == 2
    classes = standing(wiziq_emulator)
    assert len(classes) == 75 - 4
    days = local_dates(classes)
    assert not days & {datetime(2027, 9, 6).date(), *(datetime(2027, 11, d).date() for d in (24, 25, 26))}
    assert len(days) == len(classes)  # one class per day
    assert run.plan("A") == {
        "key": "A",
        "action": "create",
        "kept": 0,
        "created": 71,
        "modified": 0,
        "cancelled": 3,  # the Thanksgiving classes the first series brings are cancelled at once
        "enrolled": 0,
        "reason": "new section",
        "first_affected": "2027-09-07",
    }
    report = run.sections["A"]
    assert sorted(report["series"]) == sorted(s["class_master_id"] for s in wiziq_emulator.series())
    states = [c["state"] for c in report["classes"]]
    assert states.count("scheduled") == 71
    assert states.count("cancelled_holiday") == 3
    assert report["presenter_url"]
    assert run.summary["created"] == 71
    assert run.summary["cancelled"] == 3


def test_an_unchanged_rerun_sends_no_write_call(term, wiziq_emulator):
    sections = [section("A"), section("B", class_repeat_type=4, days_of_week="tuesday,thursday")]
    term.run(sections, holidays=HOLIDAYS)
    again = term.run(sections, holidays=HOLIDAYS)

    assert again.writes == []
    assert {r["method"] for r in again.requests} == {"get_data"}
    tracked = 71 + 29
    assert len(again.requests) <= tracked // 100 + 2
    assert [row["action"] for row in again.result["plan"]] == ["unchanged", "unchanged"]
    assert again.summary["unchanged"] == 2
    assert again.summary["created"] == again.summary["modified"] == again.summary["cancelled"] == 0


def test_an_occurrence_bound_section_runs_on_past_its_holiday(term, wiziq_emulator):
    spec = section("W", class_repeat_type=4, days_of_week="monday", class_end_date=None, class_occurrence=10)
    spec["start_time"] = "2027-09-13T09:00"
    run = term.run([spec], holidays=["2027-10-11"])  # Columbus Day, a Monday

    classes = standing(wiziq_emulator)
    assert len(classes) == 10
    days = sorted(local_dates(classes))
    assert datetime(2027, 10, 11).date() not in days
    assert days[-1] == datetime(2027, 11, 22).date()  # ten Mondays from September 13th, skipping October 11th
    assert run.plan("W")["created"] == 10


def test_a_late_first_run_creates_only_future_classes(term, wiziq_emulator):
    wiziq_emulator.clock.set(datetime(2027, 9, 15, 13, 30, tzinfo=timezone.utc))  # Wednesday 09:30 in New York
    run = term.run([section("A")], holidays=HOLIDAYS)

    classes = standing(wiziq_emulator)
    first = min(datetime.fromisoformat(c["utc_start"]) for c in classes)
    assert first.astimezone(timezone.utc).date() == datetime(2027, 9, 16).date()  # today's class has begun
    assert len(classes) == 71 - 7  # Sep 7-10, 13-15 are past
    assert run.plan("A")["first_affected"] == "2027-09-16"


def test_a_title_change_is_sent_with_modify_and_keeps_the_class_ids(term, wiziq_emulator):
    first = term.run([section("A")], holidays=HOLIDAYS)
    wiziq_emulator.clock.advance(timedelta(days=30))
    second = term.run([section("A", title="Algebra I (honors)")], holidays=HOLIDAYS)

    assert {r["method"] for r in second.writes} == {"modify"}
    # The class starting within the safety margin (an hour) counts as past and is left alone.
    future = standing(wiziq_emulator, after=wiziq_emulator.clock.now() + timedelta(hours=1))
    assert len(second.writes) == len(future)
    assert all(c["title"] == "Algebra I (honors)" for c in future)
    past = [c for c in standing(wiziq_emulator) if c not in future]
    assert past and all(c["title"] == "Section A" for c in past)  # past classes are never touched
    assert second.plan("A")["action"] == "update"
    kept = {k: v for k, v in first.scheduled("A").items() if v in {c["class_id"] for c in future}}
    assert kept and all(second.scheduled("A")[start] == class_id for start, class_id in kept.items())


def test_a_time_change_moves_classes_with_modify_keeping_their_ids(term, wiziq_emulator):
    first = term.run([section("A")], holidays=HOLIDAYS)
    before = {c["class_id"] for c in standing(wiziq_emulator)}
    second = term.run([section("A", start_time="2027-09-06T10:00")], holidays=HOLIDAYS)

    assert {r["method"] for r in second.writes} == {"modify"}
    after = standing(wiziq_emulator)
    assert {c["class_id"] for c in after} == before  # every class kept its id (and join link)
    assert all(datetime.fromisoformat(c["utc_start"]).astimezone().minute == 0 for c in after)
    assert {c["wall_clock"][11:16] for c in after} == {"10:00"}
    assert second.plan("A")["action"] == "reschedule"
    assert second.plan("A")["modified"] == 71
    assert len(first.scheduled("A")) == len(second.scheduled("A")) == 71


def test_a_days_change_keeps_the_ids_of_unchanged_instants(term, wiziq_emulator):
    spec = section("B", class_repeat_type=4, days_of_week="monday,wednesday,friday")
    first = term.run([spec], holidays=HOLIDAYS)
    changed = {**spec, "days_of_week": "monday,tuesday,wednesday"}
    second = term.run([changed], holidays=HOLIDAYS)

    mondays_wednesdays = {
        start: class_id
        for start, class_id in first.scheduled("B").items()
        if datetime.fromisoformat(start).weekday() in (0, 2)
    }
    assert mondays_wednesdays
    for start, class_id in mondays_wednesdays.items():
        assert second.scheduled("B")[start] == class_id
    days = {datetime.fromisoformat(start).weekday() for start in second.scheduled("B")}
    assert days == {0, 1, 2}
    # Fridays are moved to Tuesdays with modify; Thanksgiving Friday is a holiday, so one Tuesday is created.
    assert {r["method"] for r in second.writes} == {"modify", "create_recurring"}
    assert len(second.calls("create_recurring")) == 1
    classes = standing(wiziq_emulator)
    assert instants(classes) == sorted(
        datetime.fromisoformat(start).astimezone(timezone.utc).isoformat() for start in second.scheduled("B")
    )


def test_a_removed_section_is_cancelled_and_an_empty_export_is_refused(term, wiziq_emulator):
    sections = [section(key) for key in "ABCDEF"]
    term.run(sections, holidays=HOLIDAYS)
    empty = term.run([], holidays=HOLIDAYS, expect="failed")
    assert empty.writes == []
    two_gone = term.run(sections[:4], holidays=HOLIDAYS, expect="failed")  # 2 of 6 > 20%
    assert two_gone.writes == []

    run = term.run(sections[1:], holidays=HOLIDAYS)  # 1 of 6 is within max_cancel_fraction
    assert run.plan("A")["action"] == "cancel"
    assert {r["method"] for r in run.writes} == {"cancel"}
    gone = presenter_key("a@school.example", None).split(":")[1]
    assert not [c for c in standing(wiziq_emulator) if c["presenter_email"] == gone]
    assert {c["state"] for c in run.sections["A"]["classes"]} == {"cancelled_removed", "cancelled_holiday"}


def test_a_dry_run_sends_only_reads_and_returns_the_exact_plan(term, wiziq_emulator):
    term.run([section("A")], holidays=HOLIDAYS)
    dry = term.run([section("A", start_time="2027-09-06T10:00"), section("B")], holidays=HOLIDAYS, dry_run=True)
    assert dry.writes == []
    assert dry.result["plan"] == [
        {
            "key": "A",
            "action": "reschedule",
            "kept": 0,
            "created": 0,
            "modified": 71,
            "cancelled": 0,
            "enrolled": 0,
            "reason": "start_time 09:00 -> 10:00",
            "first_affected": "2027-09-07",
        },
        {
            "key": "B",
            "action": "create",
            "kept": 0,
            "created": 71,
            "modified": 0,
            "cancelled": 3,
            "enrolled": 0,
            "reason": "new section",
            "first_affected": "2027-09-07",
        },
    ]
    real = term.run([section("A", start_time="2027-09-06T10:00"), section("B")], holidays=HOLIDAYS)
    assert real.result["plan"] == dry.result["plan"]


def test_a_lost_create_answer_leaves_no_duplicate_and_nothing_missing(term, wiziq_emulator):
    wiziq_emulator.inject_fault("reset_after", method="create_recurring")
    run = term.run([section("A"), section("B")], holidays=HOLIDAYS)

    assert len(wiziq_emulator.series()) == 4
    assert len(run.calls("create_recurring")) == 4  # the lost one was found, not sent again
    assert len(standing(wiziq_emulator)) == 2 * 71
    again = term.run([section("A"), section("B")], holidays=HOLIDAYS)
    assert again.writes == []


def test_a_wiped_ledger_adopts_what_stands_without_a_single_create(term, wiziq_emulator):
    term.run([section("A"), section("B")], holidays=HOLIDAYS)
    wipe_ledger(term.term)
    run = term.run([section("A"), section("B")], holidays=HOLIDAYS)
    assert run.calls("create_recurring") == []
    assert run.writes == []
    assert len(standing(wiziq_emulator)) == 2 * 71


def test_a_term_made_by_the_bulk_operator_is_adopted_without_a_create(term, wiziq_emulator):
    from airflow.sdk import DAG

    from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator
    from tests.dagtest import run_dag

    specs = [section("A", start_time="2027-09-07T09:00", class_end_date="2027-10-29")]
    with DAG("bulk_then_sync", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        CreateRecurringClassesOperator(task_id="bulk", series=specs, max_calls_per_second=None)
    assert run_dag(dag).state == "success"
    (made,) = wiziq_emulator.series()

    run = term.run(specs, holidays=HOLIDAYS)
    assert run.calls("create_recurring") == []
    assert run.writes == []
    assert run.sections["A"]["series"] == [made["class_master_id"]]
    assert len(run.scheduled("A")) == len(made["class_ids"])


def test_a_class_cancelled_on_wiziqs_side_is_restored(term, wiziq_emulator):
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    first = term.run([section("A")], holidays=HOLIDAYS)
    victim = sorted(first.scheduled("A").items())[10][1]
    WizIQHook().cancel(victim)
    run = term.run([section("A")], holidays=HOLIDAYS)

    assert [r["method"] for r in run.writes] == ["create_recurring"]
    assert len(standing(wiziq_emulator)) == 71
    states = {c["class_id"]: c["state"] for c in run.sections["A"]["classes"]}
    assert states[victim] == "cancelled_on_wiziq"


def test_the_roster_is_enrolled_in_every_future_class_also_later(term, wiziq_emulator):
    roster = [{"attendee_id": "s1", "screen_name": "Ann"}, {"attendee_id": "s2", "screen_name": "Bo"}]
    term.run([section("A", attendees=roster)], holidays=HOLIDAYS)
    classes = standing(wiziq_emulator)
    assert all({a["attendee_id"] for a in c["attendees"]} == {"s1", "s2"} for c in classes)

    wiziq_emulator.clock.advance(timedelta(days=14))
    later = [*roster, {"attendee_id": "s3", "screen_name": "Cy"}]
    run = term.run([section("A", attendees=later)], holidays=HOLIDAYS)
    future = standing(wiziq_emulator, after=wiziq_emulator.clock.now() + timedelta(hours=1))
    assert all({a["attendee_id"] for a in c["attendees"]} == {"s1", "s2", "s3"} for c in future)
    assert {r["method"] for r in run.writes} == {"add_attendees"}
    assert len(run.writes) == len(future)


def test_an_asset_event_only_on_runs_that_changed_something(term, wiziq_emulator):
    term.run([section("A")], holidays=HOLIDAYS)
    term.run([section("A")], holidays=HOLIDAYS)
    term.run([section("A", title="Renamed")], holidays=HOLIDAYS)
    events = asset_events(term.term)
    assert len(events) == 2
    assert events[0]["summary"]["created"] == 71
    assert len(events[0]["sections"]["A"]["created"]) == 71
    assert events[1]["summary"]["modified"] == 71


def test_a_create_refused_before_processing_fails_the_try_and_the_retry_creates_it_once(term, wiziq_emulator):
    wiziq_emulator.inject_fault("http_503", method="create_recurring")  # not processed: nothing was booked
    run = term.run([section("A")], holidays=HOLIDAYS, retries=1, retry_delay=timedelta(seconds=0))
    assert run.ti.try_number == 2
    assert len(wiziq_emulator.series()) == 2
    assert len(standing(wiziq_emulator)) == 71
    assert term.run([section("A")], holidays=HOLIDAYS).writes == []


def test_a_concurrent_run_of_the_same_term_is_refused_retryably(term, wiziq_emulator):
    import time

    from tests.sync_support import account_of, ledger_key, set_ledger_key

    term.run([section("A")], holidays=HOLIDAYS)
    head_key = f"{account_of(wiziq_emulator)}/head"
    head = ledger_key(term.term, head_key)
    now = wiziq_emulator.clock.now().timestamp()
    set_ledger_key(term.term, head_key, {**head, "lease": {"owner": "other/run/sync/1", "run": "other", "at": now}})
    refused = term.run([section("A", title="Changed")], holidays=HOLIDAYS, expect="failed", retries=0)
    assert refused.writes == []  # planned (reads), then refused before a single write
    assert refused.ti.state == "failed"
    stale = {**head, "lease": {"owner": "other/run/sync/1", "run": "other", "at": now - 3600}}
    set_ledger_key(term.term, head_key, stale)
    taken_over = term.run([section("A", title="Changed")], holidays=HOLIDAYS)  # a stale lease is taken over
    assert taken_over.summary["modified"] == 71
    del time


def test_dry_run_does_not_shadow_the_operators_dry_run_method():
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

    operator = SyncTermOperator(task_id="sync", term="t", sections=[section("A")], dry_run=True)
    assert operator.plan_only is True
    operator.dry_run()  # BaseOperator's: renders nothing, raises nothing


def test_a_stale_expected_fingerprint_fails_the_task_before_any_write(term, wiziq_emulator):
    term.run([section("A")], holidays=HOLIDAYS)
    reviewed = term.run([section("A", title="Algebra")], holidays=HOLIDAYS, dry_run=True).result["fingerprint"]
    stale = term.run([section("A", title="Geometry")], holidays=HOLIDAYS, expect="failed", retries=2,
                     expect_fingerprint=reviewed)  # fmt: skip
    assert stale.writes == []
    assert stale.ti.try_number == 1  # the export changed since the review: no retry can help
    applied = term.run([section("A", title="Algebra")], holidays=HOLIDAYS, expect_fingerprint=reviewed)
    assert applied.result["fingerprint"] == reviewed
    assert applied.summary["modified"] == 71


def test_an_approval_task_that_approved_nothing_lifts_no_guard(term, wiziq_emulator):
    sections = [section(key) for key in "ABCDEF"]
    term.run(sections, holidays=HOLIDAYS)
    # The guard refuses cancelling 2 of 6 sections; an approval task id alone (nothing approved) changes nothing.
    refused = term.run(sections[:4], holidays=HOLIDAYS, expect="failed", approval_task_id="approve")
    assert refused.writes == []
