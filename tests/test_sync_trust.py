"""A term sync a school can trust: each finding of the trust issue as a test, on the engine over real HTTP.

Renamed sections, zone aliases, blank columns, cut end dates, swaps between a teacher's sections, conflicts in the
export, a second account, a corrupt ledger, sections that ended, a flaky export: what the sync does with each.
The Airflow-facing findings (asset events, on_kill, Variables) are in test_sync.py and test_sync_kill.py.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_wiziq.api.engine.ledger import LeaseHeld, account_scope
from airflow_provider_wiziq.api.engine.ledger_format import decode_shard
from airflow_provider_wiziq.api.engine.sync import FingerprintMismatch, GuardRefusal
from airflow_provider_wiziq.api.protocol.errors import WizIQResponseError
from airflow_provider_wiziq.emulator import WizIQEmulator
from tests.support.term import EngineTerm, MemoryStore, head, ids_by_instant, ledger_keys, put, standing, stored
from tests.sync_support import TERM_OPENS, section

HOLIDAYS = ["2027-09-06", "2027-11-24..2027-11-26"]
TEN = [section(key) for key in "ABCDEFGHIJ"]  # 71 classes each after holidays: 710 in all
pytestmark = pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)


def by_presenter(emulator, email):
    return {c["class_id"]: c["utc_start"] for c in standing(emulator) if c["presenter_email"] == email}


# 1. Renames -------------------------------------------------------------------------------------------------


def test_a_renamed_section_keeps_every_class_and_sends_no_write(term, wiziq_emulator):
    term.run(TEN, HOLIDAYS)
    before = ids_by_instant(standing(wiziq_emulator))
    renamed = [dict(spec, key="A2") if spec["key"] == "A" else spec for spec in TEN]

    run = term.run(renamed, HOLIDAYS)

    assert run.writes == []
    assert ids_by_instant(standing(wiziq_emulator)) == before
    assert run.row("A2")["action"] == "unchanged"
    assert run.row("A2")["reason"] == "renamed from A"
    assert "A" not in {row["key"] for row in run.result["plan"]}
    again = term.run(renamed, HOLIDAYS)
    assert again.writes == []
    assert {row["action"] for row in again.result["plan"]} == {"unchanged"}


def test_a_rename_with_a_new_title_is_a_removal_and_a_create_that_frees_each_slot_first(term, wiziq_emulator):
    term.run(TEN, HOLIDAYS)
    renamed = [dict(spec, key="A2", title="Algebra") if spec["key"] == "A" else spec for spec in TEN]

    run = term.run(renamed, HOLIDAYS)

    assert run.row("A")["action"] == "cancel"
    assert run.row("A2")["action"] == "create"
    assert run.outcome.errors == {}  # no 1032: every slot of A was freed before A2 took it
    titles = {c["title"] for c in standing(wiziq_emulator) if c["presenter_email"] == "a@school.example"}
    assert titles == {"Algebra"}
    assert len(by_presenter(wiziq_emulator, "a@school.example")) == 71


# 2. Zone aliases --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "alias"),
    [("America/New_York", "US/Eastern"), ("Asia/Kolkata", "Asia/Calcutta"), ("UTC", "Etc/UTC")],
)
def test_a_time_zone_alias_is_the_same_zone(term, wiziq_emulator, zone, alias):
    term.run([section("A", time_zone=zone), section("B", time_zone=zone)], HOLIDAYS)
    before = ids_by_instant(standing(wiziq_emulator))

    run = term.run([section("A", time_zone=alias), section("B", time_zone=zone)], HOLIDAYS)

    assert run.writes == []
    assert ids_by_instant(standing(wiziq_emulator)) == before
    assert run.result["drift"] == [] and run.row("A")["action"] == "unchanged"
    assert term.run([section("A", time_zone=zone), section("B", time_zone=zone)], HOLIDAYS).writes == []


@pytest.mark.parametrize(
    ("zone", "alias"),
    [("America/New_York", "US/Eastern"), ("Asia/Kolkata", "Asia/Calcutta"), ("UTC", "Etc/UTC")],
)
def test_a_series_made_in_an_alias_zone_is_adopted_and_one_in_another_zone_is_not(wiziq_emulator, zone, alias):
    short = {"class_occurrence": 4, "class_end_date": None}
    other = EngineTerm(wiziq_emulator, "made elsewhere")
    other.run([section("A", time_zone=alias, **short)])
    (made,) = wiziq_emulator.series()
    term = EngineTerm(wiziq_emulator)  # a fresh ledger: the term reads the account to adopt

    run = term.run([section("A", time_zone=zone, **short)])

    assert run.writes == []
    assert run.result["sections"]["A"]["series"] == [made["class_master_id"]]
    assert "adopted 1 series found on WizIQ" in run.row("A")["reason"]
    # Same title, presenter and first instant, but another zone: 08:00 in Chicago is 09:00 in New York.
    elsewhere = section("B", title="Section A", presenter_email="b@school.example", **short)
    chicago, third = EngineTerm(wiziq_emulator, "chicago"), EngineTerm(wiziq_emulator, "third")
    chicago.run([dict(elsewhere, time_zone="America/Chicago", start_time="2027-09-06T08:00")])
    dry = third.run([elsewhere], dry_run=True)
    assert dry.row("B")["action"] == "create" and "adopted" not in dry.row("B")["reason"]
    for engine in (other, term, chicago, third):
        engine.close()


# 3. The guards count classes ---------------------------------------------------------------------------------


def test_a_blank_time_zone_column_is_refused_before_any_write_saying_why(term, wiziq_emulator):
    term.run(TEN, HOLIDAYS)
    blank = [{name: value for name, value in spec.items() if name != "time_zone"} for spec in TEN]

    with pytest.raises(GuardRefusal) as refused:
        term.run(blank, HOLIDAYS)

    message = str(refused.value)
    assert "710 of the term's 710 future classes" in message
    assert "time_zone America/New_York -> GMT: column missing?" in message
    assert [r for r in wiziq_emulator.requests() if r["method"] not in ("get_data",)] == []
    dry = term.run(blank, HOLIDAYS, dry_run=True)  # a dry run never refuses: it says what the guards say
    assert dry.result["destructive"] is True
    assert dry.result["summary"]["refusals"]


def test_end_dates_cut_short_are_refused(term, wiziq_emulator):
    term.run(TEN, HOLIDAYS)
    with pytest.raises(GuardRefusal, match="cancel or replace 520 of the term's 710"):
        term.run([dict(spec, class_end_date="2027-10-01") for spec in TEN], HOLIDAYS)
    assert len(standing(wiziq_emulator)) == 710


def test_a_teacher_change_in_one_section_of_six_is_applied_as_a_replace(term, wiziq_emulator):
    six = [section(key, class_occurrence=4, class_end_date=None) for key in "ABCDEF"]
    term.run(six, HOLIDAYS)
    old = set(by_presenter(wiziq_emulator, "a@school.example"))
    changed = [dict(spec, presenter_email="new@school.example") if spec["key"] == "A" else spec for spec in six]

    run = term.run(changed, HOLIDAYS)

    assert run.row("A")["action"] == "replace"
    assert (
        "presenter a@school.example -> new@school.example: 4 classes get new ids and join links"
        in run.row("A")["reason"]
    )
    assert not set(by_presenter(wiziq_emulator, "a@school.example"))
    new = set(by_presenter(wiziq_emulator, "new@school.example"))
    assert len(new) == 4 and not new & old
    assert {c["action"] for c in run.result["changes"]} == {"replace", "create"}


# 4. One plan for the whole term ----------------------------------------------------------------------------------


def teacher(key, start, **changes):
    return section(key, presenter_email="t@school.example", start_time=start, **changes)


def test_two_sections_of_one_teacher_swapping_hours_converge_in_one_run_with_moves(term, wiziq_emulator):
    term.run([teacher("M", "2027-09-06T09:00"), teacher("N", "2027-09-06T10:00")], HOLIDAYS)
    before = {c["class_id"] for c in standing(wiziq_emulator)}

    run = term.run([teacher("M", "2027-09-06T10:00"), teacher("N", "2027-09-06T09:00")], HOLIDAYS)

    assert run.outcome.errors == {}
    assert {r["method"] for r in run.writes} == {"modify"}
    assert {c["class_id"] for c in standing(wiziq_emulator)} == before  # every id and join link kept
    hours = {c["title"]: {c["wall_clock"][11:16] for c in standing(wiziq_emulator) if c["title"] == t} for c in
             standing(wiziq_emulator) for t in [c["title"]]}  # fmt: skip
    assert hours == {"Section M": {"10:00"}, "Section N": {"09:00"}}
    assert term.run([teacher("M", "2027-09-06T10:00"), teacher("N", "2027-09-06T09:00")], HOLIDAYS).writes == []


def test_two_sections_of_one_teacher_swapping_days_converge_in_one_run_with_moves(term, wiziq_emulator):
    weekly = {"class_repeat_type": 4}
    first = [teacher("M", "2027-09-06T09:00", days_of_week="monday,wednesday", **weekly),
             teacher("N", "2027-09-06T09:00", days_of_week="tuesday,thursday", **weekly)]  # fmt: skip
    term.run(first, HOLIDAYS)
    before = {c["class_id"] for c in standing(wiziq_emulator)}
    swapped = [dict(first[0], days_of_week="tuesday,thursday"), dict(first[1], days_of_week="monday,wednesday")]

    run = term.run(swapped, HOLIDAYS)

    assert run.outcome.errors == {}
    assert {r["method"] for r in run.writes} <= {"modify", "cancel", "create_recurring"}
    kept = before & {c["class_id"] for c in standing(wiziq_emulator)}
    assert len(kept) >= len(before) - 4  # holidays shift a few, the rest keep their ids
    assert term.run(swapped, HOLIDAYS).writes == []


def test_a_conflict_in_the_export_fails_only_its_sections_at_plan_time(term, wiziq_emulator):
    sections = [teacher("M", "2027-09-06T09:00"), teacher("N", "2027-09-06T09:00"), section("C")]

    dry = term.run(sections, HOLIDAYS, dry_run=True)
    assert dry.row("M")["action"] == dry.row("N")["action"] == "failed"
    assert "t@school.example would present" in dry.row("M")["reason"] and "2027-09-07 09:00" in dry.row("M")["reason"]

    run = term.run(sections, HOLIDAYS)
    assert set(run.outcome.errors) == {"M", "N"}
    assert "N" in str(run.outcome.errors["M"]) and "M" in str(run.outcome.errors["N"])
    assert {c["title"] for c in standing(wiziq_emulator)} == {"Section C"}


# 5. A ledger bound to its account ----------------------------------------------------------------------------


def test_another_account_syncing_the_same_term_name_reads_no_entry_and_touches_nothing(wiziq_emulator, caplog):
    store = MemoryStore()
    first = EngineTerm(wiziq_emulator, "fall", store)
    first.run(TEN, HOLIDAYS)
    before = {c["class_id"]: (c["utc_start"], c["title"]) for c in standing(wiziq_emulator)}
    with WizIQEmulator(clock_start=TERM_OPENS, access_key="OtherAccessKey==") as other:
        second = EngineTerm(other, "fall", store)
        caplog.set_level(logging.INFO)
        run = second.run([section(key, title=f"Dept 2 {key}") for key in "ABCDEFGH"], HOLIDAYS)
        assert "No ledger for this account" in caplog.text
        assert run.outcome.errors == {}
        assert len(standing(other)) == 8 * 71
        again = second.run([section(key, title=f"Dept 2 {key}") for key in "ABCDEFGH"], HOLIDAYS)
        assert again.writes == []
        second.close()
    assert {c["class_id"]: (c["utc_start"], c["title"]) for c in standing(wiziq_emulator)} == before
    assert first.run(TEN, HOLIDAYS).writes == []
    accounts = {key.split("/")[0] for key in store.data}
    assert len(accounts) == 2 and all(len(a) == 16 for a in accounts)


def test_a_ledger_class_that_is_another_class_on_wiziq_is_left_alone(wiziq_emulator):
    """An entry whose ids resolve to other classes (a ledger carried to another account) never modifies them."""
    store = MemoryStore()
    first = EngineTerm(wiziq_emulator, "fall", store)
    first.run([section("A")], HOLIDAYS)
    with WizIQEmulator(clock_start=TERM_OPENS, access_key="OtherAccessKey==") as other:
        theirs = EngineTerm(other, "theirs")
        theirs.run(
            [section("Z", title="Their class", presenter_email="z@other.example", start_time="2027-09-06T14:00")]
        )
        their_classes = {c["class_id"]: (c["utc_start"], c["title"]) for c in standing(other)}
        # The first account's ledger, moved under the other account's scope (as a copied store would be).
        mine, moved = first.sync.account, account_scope(other.connection["host"], other.connection["login"])
        for key in list(store.data):
            if key.startswith(mine):
                store.data[key.replace(mine, moved)] = store.data[key]
        carried = EngineTerm(other, "fall", store)
        run = carried.run([section("A")], HOLIDAYS)
        touched = {int(r["fields"]["class_id"]) for r in run.writes if r["method"] in ("modify", "cancel")}
        assert not touched & set(their_classes)
        assert {c["class_id"]: (c["utc_start"], c["title"]) for c in standing(other)
                if c["class_id"] in their_classes} == their_classes  # fmt: skip
        assert run.result["summary"]["unrepairable"]
        for engine in (theirs, carried):
            engine.close()


# 6. A corrupt ledger is never a crash ------------------------------------------------------------------------------


def corrupt_entry(store, key, how):
    shard_key = next(k for k in ledger_keys(store, "") if "/s/" in k and key in decode_shard(stored(store, k)))
    shard = decode_shard(stored(store, shard_key))
    entry = json.loads(shard[key])
    if how == "not a dict":
        entry = ["x"]
    elif how == "not JSON":
        entry = shard[key][:-1]
    elif how == "missing field":
        del entry["c"]
    elif how == "wrong type":
        entry["p"] = 5
    elif how == "short column":
        entry["c"]["s"] = entry["c"]["s"][:-1]
    elif how == "huge minute":
        entry["c"]["t"][0] = 10**30
    elif how == "bad index":
        entry["c"]["m"] = "9" * len(entry["c"]["s"])
    elif how == "unknown state":
        entry["c"]["s"] = "?" + entry["c"]["s"][1:]
    shard[key] = entry if isinstance(entry, str) else json.dumps(entry)
    put(store, shard_key, shard)


@pytest.mark.parametrize(
    "how",
    [
        "not a dict",
        "not JSON",
        "missing field",
        "wrong type",
        "short column",
        "huge minute",
        "bad index",
        "unknown state",
    ],
)
def test_a_corrupt_section_entry_is_adopted_from_wiziq_with_a_warning(term, wiziq_emulator, caplog, how):
    term.run([section("A"), section("B")], HOLIDAYS)
    corrupt_entry(term.store, "A", how)
    caplog.set_level(logging.WARNING)

    run = term.run([section("A"), section("B")], HOLIDAYS)

    assert "'A'" in caplog.text and "cannot be read" in caplog.text
    assert run.calls("create_recurring") == []  # adopted, not created again
    assert run.writes == []
    assert term.run([section("A"), section("B")], HOLIDAYS).writes == []


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        {"v": 2, "gen": "x", "shards": 1},
        {"v": 2, "gen": 1, "shards": 1, "lease": "held", "marker": 7},
        {"v": 2, "gen": 1, "shards": 1, "lease": {"owner": 5}, "marker": {"run": 1}},
    ],
)
def test_an_unreadable_head_lease_or_marker_is_treated_as_absent(term, wiziq_emulator, value):
    term.run([section("A")], HOLIDAYS)
    (head_key,) = ledger_keys(term.store, "/head")
    put(term.store, head_key, value)

    run = term.run([section("A")], HOLIDAYS)

    assert run.calls("create_recurring") == []
    assert run.writes == []


# 8. Words that say what happens ---------------------------------------------------------------------------------


def test_a_section_whose_classes_are_all_past_is_ended_and_a_wrong_year_is_refused(term, wiziq_emulator):
    term.run([section("A"), section("B")], HOLIDAYS)
    old = [section("A"), section("B", start_time="2026-09-07T09:00", class_end_date="2026-12-18")]
    run = term.run(old, HOLIDAYS, max_change_fraction=None)
    assert run.row("B")["action"] == "reschedule"  # its future classes are cancelled
    assert term.run(old, HOLIDAYS).row("B") == {**term.run(old, HOLIDAYS).row("B"), "action": "ended"}
    wrong_year = [dict(spec, start_time="2026-09-07T09:00", class_end_date="2026-12-18") for spec in TEN[:2]]
    with pytest.raises(GuardRefusal, match="is the export's year right"):
        term.run(wrong_year, HOLIDAYS)


def test_a_section_dropped_earlier_leaves_the_table_and_a_removed_student_is_reported(term, wiziq_emulator):
    roster = [{"attendee_id": f"s{n}", "screen_name": f"Student {n}"} for n in range(3)]
    sections = [section(key, attendees=roster) for key in "ABCDEF"]
    term.run(sections, HOLIDAYS)
    assert term.run(sections[1:], HOLIDAYS).row("A")["action"] == "cancel"
    later = term.run(sections[1:], HOLIDAYS)
    assert "A" not in {row["key"] for row in later.result["plan"]}

    fewer = [dict(spec, attendees=roster[:2]) if spec["key"] == "B" else spec for spec in sections[1:]]
    run = term.run(fewer, HOLIDAYS)
    assert run.row("B")["reason"] == "roster +0 -1 (1 left enrolled)"
    assert run.result["sections"]["B"]["left_enrolled"] == ["s2"]
    assert run.writes == []  # WizIQ has no call to unenroll


# Drift and flicker ------------------------------------------------------------------------------------------------


def test_a_presenter_changed_on_wiziqs_side_is_written_back(term, wiziq_emulator):
    from tests.support.term import client_for

    first = term.run([section("A")], HOLIDAYS)
    victim = first.result["sections"]["A"]["classes"][5]["class_id"]
    with client_for(wiziq_emulator) as client:
        client.modify(victim, presenter_email="intruder@school.example")

    run = term.run([section("A")], HOLIDAYS)

    assert [(r["method"], r["fields"]["class_id"]) for r in run.writes] == [("modify", str(victim))]
    assert run.result["drift"] and run.result["changes"] == []
    owner = {c["class_id"]: c["presenter_email"] for c in standing(wiziq_emulator)}
    assert owner[victim] == "a@school.example"


def test_a_change_wiziq_does_not_apply_is_reported_and_not_sent_again(term, wiziq_emulator):
    term.run([section("A")], HOLIDAYS)
    wiziq_emulator.inject_fault("ignored", method="modify", count=1000)
    term.run([section("A", title="Algebra")], HOLIDAYS)  # every modify answered "ok" and dropped
    wiziq_emulator.clear_faults()

    run = term.run([section("A", title="Algebra")], HOLIDAYS)

    assert run.writes == []
    assert len(run.result["summary"]["unrepairable"]) == 71
    assert term.run([section("A", title="Algebra")], HOLIDAYS).writes == []


def test_removal_grace_keeps_a_missing_section_until_it_is_missing_that_many_runs(term, wiziq_emulator):
    sections = [section(key) for key in "ABCDE"]
    term.run(sections, HOLIDAYS, removal_grace=2)
    first = term.run(sections[1:], HOLIDAYS, removal_grace=2)
    assert first.row("A")["action"] == "missing" and first.row("A")["reason"] == "missing 1 of 2"
    assert first.writes == []
    back = term.run(sections, HOLIDAYS, removal_grace=2)  # the export is whole again: nothing happened
    assert back.writes == []
    term.run(sections[1:], HOLIDAYS, removal_grace=2)
    second = term.run(sections[1:], HOLIDAYS, removal_grace=2)
    assert second.row("A")["action"] == "cancel"
    with pytest.raises(GuardRefusal, match="declares no section at all"):
        term.run([], HOLIDAYS, removal_grace=5)


# Bounded and honest --------------------------------------------------------------------------------------------------


def test_a_server_ignoring_page_number_stops_the_account_scan_naming_the_page(term, wiziq_emulator):
    from airflow_provider_wiziq.api.engine.reconcile import paged_records

    term.run([section("A"), section("B")], HOLIDAYS)  # 142 classes: two pages
    real = term.client.get_data

    def first_page_always(**filters):
        filters.pop("page_number", None)
        return real(**filters, page_number=1)

    term.client.get_data = first_page_always
    started = time.monotonic()
    with pytest.raises(WizIQResponseError, match="page 2 of the account's classes repeats"):
        list(paged_records(term.client))
    assert time.monotonic() - started < 30
    with pytest.raises(WizIQResponseError, match="past 1 pages"):
        list(paged_records(term.client, max_pages=1))


def test_another_run_holding_the_lease_is_refused_retryably(term, wiziq_emulator):
    term.run([section("A")], HOLIDAYS)
    (head_key,) = ledger_keys(term.store, "/head")
    value = head(term.store)
    value["lease"] = {"owner": "other/1", "run": "other", "at": wiziq_emulator.clock.now().timestamp()}
    put(term.store, head_key, value)
    with pytest.raises(LeaseHeld) as held:
        term.run([section("A", title="Changed")], HOLIDAYS)
    assert held.value.transient
    assert [r for r in wiziq_emulator.requests() if r["method"] != "get_data"] == []
    value["lease"]["at"] -= 3600  # a stale lease is taken over
    put(term.store, head_key, value)
    assert term.run([section("A", title="Changed")], HOLIDAYS).result["summary"]["modified"] == 71


# The plan as a value ----------------------------------------------------------------------------------------------


def test_the_plan_is_the_same_before_and_after_apply_and_its_fingerprint_is_stable(term, wiziq_emulator):
    weekly = section("W", class_repeat_type=4, days_of_week="monday")
    term.run([weekly], HOLIDAYS)
    moved = [dict(weekly, days_of_week="wednesday")]

    dry = term.run(moved, HOLIDAYS, dry_run=True)
    snapshot = (dry.plan.rows(), dry.plan.changes(), dry.plan.fingerprint)
    again = term.run(moved, HOLIDAYS, dry_run=True)
    assert again.plan.fingerprint == dry.plan.fingerprint
    real = term.run(moved, HOLIDAYS)

    assert real.plan.fingerprint == dry.plan.fingerprint
    assert (real.plan.rows(), real.plan.changes(), real.plan.fingerprint) == snapshot
    assert real.result["plan"] == dry.result["plan"]
    assert real.row("W")["first_affected"] == "2027-09-08"  # the first Wednesday
    assert real.row("W")["reason"] == "days monday -> wednesday"
    other = term.run([dict(weekly, days_of_week="thursday")], HOLIDAYS, dry_run=True)
    assert other.plan.fingerprint != dry.plan.fingerprint


def test_a_stale_fingerprint_writes_nothing(term, wiziq_emulator):
    term.run([section("A")], HOLIDAYS)
    reviewed = term.run([section("A", title="Algebra")], HOLIDAYS, dry_run=True).plan.fingerprint
    with pytest.raises(FingerprintMismatch, match=reviewed):
        term.run([section("A", title="Geometry")], HOLIDAYS, expect_fingerprint=reviewed)
    assert [r for r in wiziq_emulator.requests() if r["method"] != "get_data"] == []
    assert term.run([section("A", title="Algebra")], HOLIDAYS, expect_fingerprint=reviewed).writes


def test_an_approved_fingerprint_lifts_the_guards_and_only_that_one(term, wiziq_emulator):
    term.run(TEN, HOLIDAYS)
    blank = [{name: value for name, value in spec.items() if name != "time_zone"} for spec in TEN]
    plan = term.run(blank, HOLIDAYS, dry_run=True).plan
    with pytest.raises(GuardRefusal):
        term.run(blank, HOLIDAYS, approved={"0" * 20})
    run = term.run(blank, HOLIDAYS, approved={plan.fingerprint})
    assert run.outcome.errors == {}
    assert {c["wall_clock"][11:16] for c in standing(wiziq_emulator)} == {"09:00"}
    assert all(c["time_zone"] == "GMT" for c in standing(wiziq_emulator, after=wiziq_emulator.clock.now()))


# 9. Stopping ------------------------------------------------------------------------------------------------------


def test_stop_ends_a_run_sending_nothing_new_records_what_was_done_and_releases_the_lease(term, wiziq_emulator):
    wiziq_emulator.set_latency(0.05)
    sections = [section(key, attendees=[{"attendee_id": "s1", "screen_name": "Ann"}]) for key in "ABCDEFGH"]
    errors = []

    def apply():
        try:
            term.run(sections, HOLIDAYS, max_concurrency=2)
        except Exception as error:  # the stopped run ends with StopRequested
            errors.append(error)

    worker = threading.Thread(target=apply)
    worker.start()
    deadline = time.monotonic() + 60
    while len([r for r in wiziq_emulator.requests() if r["method"] == "add_attendees"]) < 20:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    asked = len(wiziq_emulator.requests())
    term.sync.stop(timeout=2.5)  # no new call starts; the ones in flight are awaited (up to 2 s)
    worker.join(60)
    assert not worker.is_alive()
    after = [r["method"] for r in wiziq_emulator.requests()[asked:]]
    assert len(after) <= 2, after  # at most the two in flight (max_concurrency) came after
    assert errors and errors[0].transient
    assert head(term.store)["lease"] is None and head(term.store)["marker"] is None  # released; may not be whole
    wiziq_emulator.set_latency(0)
    finished = term.run(sections, HOLIDAYS)
    assert finished.outcome.errors == {}
    assert len(standing(wiziq_emulator)) == 8 * 71  # nothing created twice, nothing missing
    assert all(len(c["attendees"]) == 1 for c in standing(wiziq_emulator))
    assert term.run(sections, HOLIDAYS).writes == []


def test_one_clock_moves_the_cutoff(term, wiziq_emulator):
    term.run([section("A")], HOLIDAYS)
    wiziq_emulator.clock.set(datetime(2027, 10, 1, 12, tzinfo=timezone.utc))
    run = term.run([section("A", title="Later")], HOLIDAYS)
    assert abs(run.plan.cutoff - datetime(2027, 10, 1, 13, tzinfo=timezone.utc)) < timedelta(minutes=1)
    assert run.row("A")["first_affected"] == "2027-10-04"
    assert all(c["title"] == "Section A" for c in standing(wiziq_emulator)
               if datetime.fromisoformat(c["utc_start"]) < run.plan.cutoff - timedelta(hours=0))  # fmt: skip
