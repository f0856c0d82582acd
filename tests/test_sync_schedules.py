"""Schedules schools really have, synced (issue 23): sections given by explicit dates or rotating cycle days.

Every check compares the emulator's classes with instants computed in the test by the semester oracle
(tests/semester/oracle.py: ``dateutil`` and ``zoneinfo``, never the provider's expansion); the term's school days
are made here with ``dateutil.rrule``. Engine level (no Airflow): the OneRoster term in ``dag.test()`` is in
test_example_dags.py.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from dateutil.rrule import FR, MO, TH, TU, WE, WEEKLY, rrule

from airflow_provider_wiziq.api.engine.ledger import TermLedger
from airflow_provider_wiziq.api.engine.stores import MemoryStore
from airflow_provider_wiziq.api.engine.sync import GuardRefusal, TermSyncError
from airflow_provider_wiziq.api.rules.plan import Create
from airflow_provider_wiziq.api.rules.state import PendingCreate
from tests.semester.oracle import expect, future
from tests.support.term import EngineTerm, standing
from tests.sync_support import TERM_OPENS

pytestmark = pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)  # Monday 2027-08-30 12:00Z

#: A 16-week fall term, Monday 2027-09-06 to Friday 2027-12-24, and its days off.
FIRST_DAY, LAST_DAY = date(2027, 9, 6), date(2027, 12, 24)
HOLIDAYS = ["2027-09-06", "2027-10-11", "2027-11-11", "2027-11-24..2027-11-26"]
OFF = {date(2027, 9, 6), date(2027, 10, 11), date(2027, 11, 11), *(date(2027, 11, d) for d in (24, 25, 26))}
CREATES = ("create_recurring", "create")


def school_days(*, off=OFF, until=LAST_DAY) -> list[date]:
    """Monday to Friday but days off, from the term's first day."""
    weekdays = rrule(WEEKLY, dtstart=datetime.combine(FIRST_DAY, datetime.min.time()), byweekday=(MO, TU, WE, TH, FR))
    return [moment.date() for moment in weekdays.between(datetime.combine(FIRST_DAY, datetime.min.time()),
            datetime.combine(until, datetime.max.time()), inc=True) if moment.date() not in off]  # fmt: skip


def cycle_calendar(days: list[date], labels: str) -> list[dict[str, str]]:
    """Each school day labeled with the next day of the cycle (a day off does not advance it)."""
    return [{"date": day.isoformat(), "day": labels[n % len(labels)]} for n, day in enumerate(days)]


def dated(key: str, dates, **changes):
    """A section given by its dates, 09:00 in New York."""
    return {
        "key": key,
        "title": f"Section {key}",
        "presenter_email": f"{key.lower()}@school.example",
        "time_zone": "America/New_York",
        "start_time": "09:00",
        "class_dates": [day.isoformat() if isinstance(day, date) else day for day in dates],
        "duration": 50,
        "attendee_limit": 30,
        **changes,
    }


def cycled(key: str, cycle_days: str, **changes):
    """A section on cycle days, 10:30 in Chicago, from the term's first day to its last."""
    return {
        "key": key,
        "title": f"Block {key}",
        "presenter_email": f"{key.lower()}@school.example",
        "time_zone": "America/Chicago",
        "start_time": "2027-09-06T10:30",
        "cycle_days": cycle_days,
        "class_end_date": LAST_DAY.isoformat(),
        "duration": 80,
        "attendee_limit": 30,
        **changes,
    }


def matches_oracle(emulator, sections, holidays=HOLIDAYS, calendar=None) -> dict[str, dict[datetime, int]]:
    """Assert that the emulator's standing future classes are exactly the oracle's, section by section (matched by
    presenter and title); return each section's class ids by instant."""
    now = emulator.clock.now()
    expected = expect(sections, holidays, calendar)
    held: dict[tuple[str, str], dict[datetime, list[int]]] = {}
    for cls in standing(emulator):
        instant = datetime.fromisoformat(cls["utc_start"])
        if instant >= now + timedelta(hours=1):
            who = (str(cls["presenter_email"]).casefold(), cls["title"].strip())
            held.setdefault(who, {}).setdefault(instant, []).append(cls["class_id"])
    ids = {}
    for key, section in expected.items():
        found = held.pop(section.identity, {})
        assert sorted(found) == list(future(section.instants, now)), key
        assert all(len(found[instant]) == 1 for instant in found), f"{key}: an instant held twice"
        ids[key] = {instant: found[instant][0] for instant in found}
    assert held == {}, "classes of no declared section stand"
    return ids


def creates(run) -> Counter[str]:
    return Counter(call["method"] for call in run.writes if call["method"] in CREATES)


# Rotating cycles ---------------------------------------------------------------------------------------------


def test_an_ab_schedule_follows_its_calendar_and_a_snow_day_moves_what_must_move(term, wiziq_emulator):
    days = school_days()
    calendar = cycle_calendar(days, "AB")
    # One teacher's A-day and B-day sections at the same hour (a block schedule), and another teacher's A days.
    sections = [cycled("BIO-A", "A", presenter_email="ann@school.example", title="Biology (A)"),
                cycled("BIO-B", "B", presenter_email="ann@school.example", title="Biology (B)"),
                cycled("ART-A", "A", start_time="2027-09-06T13:00", time_zone="America/Denver")]  # fmt: skip

    first = term.run(sections, HOLIDAYS, calendar=calendar)

    before = matches_oracle(wiziq_emulator, sections, calendar=calendar)
    assert len(before["BIO-A"]) == len(days[::2]) and len(before["BIO-B"]) == len(days[1::2])
    for row in first.plan.sections:
        print(f"{row.key}: {row.created} classes, {row.packing}")
    # No series brings a class (wanted or cancelled right after) at an instant another section of Ann's creates.
    brought = [(op.presenter, slot.utc_start) for op in first.plan.ops if isinstance(op, Create) for slot in op.slots]
    assert len(brought) == len(set(brought))
    assert sum(creates(first).values()) == sum(int(row.packing.split()[0]) for row in first.plan.sections)

    # Mid-term a snow day (Thursday 2027-10-28) closes school: the district re-publishes the calendar without it,
    # and from that day on A and B days trade places.
    wiziq_emulator.clock.set(datetime(2027, 10, 26, 12, tzinfo=timezone.utc))
    snowed = cycle_calendar([day for day in days if day != date(2027, 10, 28)], "AB")

    run = term.run(sections, HOLIDAYS, calendar=snowed)

    assert run.outcome.errors == {}
    after = matches_oracle(wiziq_emulator, sections, calendar=snowed)
    assert creates(run) == Counter()  # every class that moved kept its id and join link
    snow = datetime(2027, 10, 28, tzinfo=timezone.utc)
    for key in before:
        earlier = {instant: ids for instant, ids in before[key].items() if instant >= wiziq_emulator.clock.now()}
        unmoved = {instant: earlier[instant] for instant in earlier if instant < snow}
        assert unmoved and {instant: after[key][instant] for instant in unmoved} == unmoved  # same ids
        assert set(after[key].values()) <= set(earlier.values())  # no new id: moved, or cancelled at the end
        assert run.row(key)["action"] == "reschedule" and run.row(key)["reason"] == "calendar changed"
    moved = sum(1 for key in after for instant, i in after[key].items() if before[key].get(instant) != i)
    assert len({call["fields"]["class_id"] for call in run.calls("modify")}) == moved > 40
    assert term.run(sections, HOLIDAYS, calendar=snowed).writes == []


def test_a_six_day_cycle_meets_on_its_days_of_the_cycle(term, wiziq_emulator):
    days = school_days()
    calendar = cycle_calendar(days, "123456")
    sections = [cycled("LAB", "1,4"), cycled("GYM", "2", class_end_date=None, class_occurrence=10),
                cycled("CHOIR", "3,6", time_zone="Europe/Berlin", start_time="2027-09-20T15:00")]  # fmt: skip

    run = term.run(sections, HOLIDAYS, calendar=calendar)

    ids = matches_oracle(wiziq_emulator, sections, calendar=calendar)
    assert len(ids["LAB"]) == sum(1 for n in range(len(days)) if n % 6 in (0, 3))
    assert len(ids["GYM"]) == 10
    assert run.outcome.errors == {}
    for row in run.plan.sections:
        print(f"{row.key}: {row.created} classes, {row.packing}")
    assert term.run(sections, HOLIDAYS, calendar=calendar).writes == []


# Explicit dates ----------------------------------------------------------------------------------------------


def test_a_section_of_explicit_dates_holds_exactly_them_and_a_date_removed_keeps_the_other_ids(term, wiziq_emulator):
    # Tuesdays and Thursdays in Berlin (clocks fall back on 2027-10-31), a make-up Saturday, a week of finals.
    tue_thu = [day for day in school_days() if day.weekday() in (1, 3)]
    dates = [*tue_thu, "2027-10-16", "2027-12-20..2027-12-23"]
    sections = [dated("SEM", dates, time_zone="Europe/Berlin", start_time="16:15")]

    run = term.run(sections, HOLIDAYS)

    before = matches_oracle(wiziq_emulator, sections)
    assert run.row("SEM")["action"] == "create" and run.outcome.errors == {}
    made = creates(run)
    assert made["create"] >= 1  # the make-up Saturday is a class of its own

    kept = [day for day in dates if day != tue_thu[10]]
    without = [dated("SEM", kept, time_zone="Europe/Berlin", start_time="16:15")]
    edit = term.run(without, HOLIDAYS)

    after = matches_oracle(wiziq_emulator, without)
    assert Counter(call["method"] for call in edit.writes) == Counter({"cancel": 1})
    assert after == {"SEM": {instant: i for instant, i in before["SEM"].items() if instant.date() != tue_thu[10]}}
    count = len(before["SEM"])
    assert edit.row("SEM")["reason"] == (
        f"class_dates 2027-09-07..2027-12-23 ({count} dates) -> 2027-09-07..2027-12-23 ({count - 1} dates)"
    )


def test_monday_to_friday_given_as_dates_is_packed_into_series(term, wiziq_emulator):
    fall = school_days()  # 16 weeks but 6 days off
    year = school_days(until=date(2028, 6, 9), off=OFF | {date(2027, 12, 27) + timedelta(days=n) for n in range(12)})
    sections = [dated("FALL", fall), dated("YEAR", year, start_time="08:00", presenter_email="y@school.example")]

    run = term.run(sections, HOLIDAYS)

    matches_oracle(wiziq_emulator, sections)
    by_key = Counter(call["fields"]["title"] for call in run.writes if call["method"] in CREATES)
    singles = [call for call in run.writes if call["method"] == "create"]
    assert singles == []  # every class is in a series
    for key, days in (("FALL", fall), ("YEAR", year)):
        assert by_key[f"Section {key}"] <= math.ceil(len(days) / 60) + 2
        calls = by_key[f"Section {key}"]
        print(f"{key}: {len(days)} classes in {calls} create calls ({run.plan.section(key).packing})")


# What single classes keep ------------------------------------------------------------------------------------


def makeup(key: str, **changes):
    """Monday-Wednesday-Friday dates, a make-up Saturday and a make-up Thursday: a series and two classes alone."""
    mwf = [day for day in school_days() if day.weekday() in (0, 2, 4)]
    return dated(key, [*mwf, "2027-10-16", "2027-12-02"], **changes)


def test_a_lost_create_answer_of_a_single_class_is_looked_up_and_adopted_never_sent_again(term, wiziq_emulator):
    wiziq_emulator.inject_fault("reset_after", method="create")

    run = term.run([makeup("M")], HOLIDAYS)

    ids = matches_oracle(wiziq_emulator, [makeup("M")])
    assert len(run.calls("create")) == 2  # one answer lost, not sent again
    assert run.outcome.errors == {}
    assert sorted(run.outcome.announcement["M"]["created"]) == sorted(ids["M"].values())
    assert term.run([makeup("M")], HOLIDAYS).writes == []


def test_a_single_class_whose_lost_answer_was_never_looked_up_is_adopted_by_the_next_run(term, wiziq_emulator):
    term.run([makeup("M")], HOLIDAYS)
    ids = matches_oracle(wiziq_emulator, [makeup("M")])
    # As a run leaves its ledger when the answers of its two creates were lost and it was stopped before it
    # looked them up: the classes stand on WizIQ, the ledger holds only what to look them up by.
    ledger = TermLedger(term.store, term=term.term, account=term.sync.account, clock=wiziq_emulator.clock)
    entry = ledger.read().entries["M"]
    alone = [item for item in entry.classes if item.class_master_id is None]
    pending = tuple(PendingCreate("Section M", entry.presenter, entry.time_zone, item.start, False) for item in alone)
    ledger.record({"M": replace(entry, classes=tuple(c for c in entry.classes if c not in alone), pending=pending)})

    again = term.run([makeup("M")], HOLIDAYS)

    assert matches_oracle(wiziq_emulator, [makeup("M")]) == ids
    assert again.writes == [] and again.outcome.errors == {}
    assert again.row("M")["reason"] == "adopted 2 classes found on WizIQ"
    assert sorted(again.outcome.announcement["M"]["created"]) == sorted(item.class_id for item in alone)
    assert term.run([makeup("M")], HOLIDAYS).writes == []


def test_a_lost_ledger_adopts_the_series_and_the_single_classes_with_no_write(term, wiziq_emulator):
    sections = [makeup("M"), makeup("N", start_time="11:00")]
    term.run(sections, HOLIDAYS)
    before = matches_oracle(wiziq_emulator, sections)

    fresh = EngineTerm(wiziq_emulator, store=MemoryStore())
    try:
        run = fresh.run(sections, HOLIDAYS)
    finally:
        fresh.close()

    assert run.writes == []
    assert matches_oracle(wiziq_emulator, sections) == before
    assert run.row("M")["reason"].startswith("adopted 1 series and 2 classes found on WizIQ")


def test_single_classes_keep_their_ids_through_a_time_move_and_a_zone_alias(term, wiziq_emulator):
    term.run([makeup("M")], HOLIDAYS)
    before = matches_oracle(wiziq_emulator, [makeup("M")])

    alias = term.run([makeup("M", time_zone="US/Eastern")], HOLIDAYS)
    assert alias.writes == []

    moved = term.run([makeup("M", start_time="10:00")], HOLIDAYS)
    after = matches_oracle(wiziq_emulator, [makeup("M", start_time="10:00")])
    assert set(after["M"].values()) == set(before["M"].values())  # every id kept, the single classes' too
    assert Counter(call["method"] for call in moved.writes) == Counter({"modify": len(before["M"])})
    assert moved.row("M")["reason"] == "start_time 09:00 -> 10:00"


def test_a_blank_time_zone_on_dated_sections_is_refused_by_the_class_guard(term, wiziq_emulator):
    sections = [makeup(key) for key in "MNO"]
    term.run(sections, HOLIDAYS)
    blank = [{name: value for name, value in spec.items() if name != "time_zone"} for spec in sections]
    with pytest.raises(GuardRefusal, match="column missing"):
        term.run(blank, HOLIDAYS)


# Reading sections that give their days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"class_repeat_type": 3}, "class_repeat_type: class_dates and class_repeat_type together"),
        ({"cycle_days": "A"}, "cycle_days: class_dates and cycle_days together"),
        ({"class_end_date": "2027-12-17"}, "class_end_date: has no place in a class_dates section"),
        ({"start_time": "2027-09-07T09:00"}, "start_time: '2027-09-07T09:00' is not a time of day"),
    ],
)
def test_a_dated_section_that_also_gives_a_rule_is_an_error_naming_the_section(term, changes, says):
    with pytest.raises(TermSyncError, match="1 section is invalid") as refused:
        term.run([dated("D1", ["2027-09-07"], **changes)], HOLIDAYS)
    assert "  D1: " in str(refused.value) and says in str(refused.value)


@pytest.mark.parametrize(
    ("changes", "calendar", "says"),
    [
        ({"class_repeat_type": 4, "days_of_week": "monday"}, "AB", "cycle_days and class_repeat_type together"),
        ({"days_of_week": "monday"}, "AB", "days_of_week: has no place in a cycle_days section"),
        ({}, None, "the term has no calendar"),
        ({"cycle_days": "C"}, "AB", "no calendar day is labeled 'C'"),
        ({"class_end_date": None}, "AB", "give class_occurrence or class_end_date"),
        ({"class_occurrence": 100, "class_end_date": None}, "AB", "fewer than 100"),
    ],
)
def test_a_cycle_section_is_checked_against_the_calendar(term, changes, calendar, says):
    days = cycle_calendar(school_days(), calendar) if calendar else None
    with pytest.raises(TermSyncError, match="1 section is invalid") as refused:
        term.run([{**cycled("C1", "A"), **changes}], HOLIDAYS, calendar=days)
    assert "  C1: " in str(refused.value) and says in str(refused.value)
