"""The semester oracle on hand-written cases: every expected instant below was worked out by hand, in UTC."""

from __future__ import annotations

import ast
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.semester.oracle import by_identity, expect, future, read_holidays, section_classes, wall_to_utc

NEW_YORK, SYDNEY = "America/New_York", "Australia/Sydney"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def spec(**fields):
    base = {
        "key": "S",
        "title": "Section",
        "presenter_email": "t@school.example",
        "time_zone": NEW_YORK,
        "class_repeat_type": 3,
    }
    return {**base, **fields}


def test_the_oracle_imports_nothing_of_the_provider():
    source = Path(__file__).with_name("oracle.py").read_text(encoding="utf-8")
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    assert not {name for name in names if name.startswith("airflow")}
    assert names <= {"__future__", "re", "collections.abc", "dataclasses", "datetime", "typing", "zoneinfo"} | {
        "dateutil.rrule"
    }


# Daylight saving time ------------------------------------------------------------------------------------


def test_new_york_keeps_its_wall_clock_across_the_november_change():
    # 2027-11-07 (Sunday) New York falls back from EDT (-4) to EST (-5).
    classes = section_classes(spec(start_time="2027-11-01T09:00", class_end_date="2027-11-12"))
    assert classes == (
        *(utc(2027, 11, day, 13) for day in range(1, 6)),
        *(utc(2027, 11, day, 14) for day in range(8, 13)),
    )


def test_a_spring_gap_time_is_read_with_the_offset_before_the_gap():
    # 2027-03-14 02:30 does not exist in New York: read at EST (-5), it is 07:30 UTC (03:30 EDT).
    classes = section_classes(spec(start_time="2027-03-13T02:30", class_repeat_type=1, class_occurrence=3))
    assert classes == (utc(2027, 3, 13, 7, 30), utc(2027, 3, 14, 7, 30), utc(2027, 3, 15, 6, 30))


def test_a_fold_time_takes_the_first_of_its_two_instants():
    # 2027-11-07 01:30 happens twice in New York: first at EDT (05:30 UTC), then at EST (06:30 UTC).
    classes = section_classes(spec(start_time="2027-11-06T01:30", class_repeat_type=1, class_occurrence=3))
    assert classes == (utc(2027, 11, 6, 5, 30), utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30))


def test_sydney_springs_forward_in_october():
    # 2027-10-03 (Sunday) Sydney goes from AEST (+10) to AEDT (+11); Mondays at 09:00 are Sunday evenings in UTC.
    classes = section_classes(
        spec(
            time_zone=SYDNEY,
            start_time="2027-09-27T09:00",
            class_repeat_type=4,
            days_of_week="monday",
            class_occurrence=2,
        )
    )
    assert classes == (utc(2027, 9, 26, 23), utc(2027, 10, 3, 22))


def test_sydney_gap_and_fold():
    gap = section_classes(
        spec(time_zone=SYDNEY, start_time="2027-10-03T02:30", class_repeat_type=1, class_occurrence=1)
    )
    assert gap == (utc(2027, 10, 2, 16, 30),)  # read at +10: 03:30 AEDT
    # 2027-04-04 (Sunday) Sydney falls back at 03:00 AEDT: 02:30 happens first at +11.
    fold = section_classes(
        spec(time_zone=SYDNEY, start_time="2027-04-04T02:30", class_repeat_type=1, class_occurrence=2)
    )
    assert fold == (utc(2027, 4, 3, 15, 30), utc(2027, 4, 4, 16, 30))


def test_wall_to_utc_states_the_two_rules_directly():
    zone = ZoneInfo(NEW_YORK)
    assert wall_to_utc(datetime(2027, 3, 14, 2, 30), zone) == utc(2027, 3, 14, 7, 30)
    assert wall_to_utc(datetime(2027, 11, 7, 1, 30), zone) == utc(2027, 11, 7, 5, 30)
    assert wall_to_utc(datetime(2027, 11, 7, 1, 30), ZoneInfo("US/Eastern")) == utc(2027, 11, 7, 5, 30)


# Repeat types and week alignment -------------------------------------------------------------------------


def test_every_two_weeks_counts_weeks_from_the_monday_of_the_start_week():
    # Start Wednesday 2027-09-08: week 0 is Sep 6-12 (its Monday is before the start), week 2 is Sep 20-26.
    classes = section_classes(
        spec(
            start_time="2027-09-08T09:00",
            class_repeat_type=4,
            days_of_week="monday,friday",
            specific_week=2,
            class_occurrence=5,
        )
    )
    assert classes == (
        utc(2027, 9, 10, 13),
        utc(2027, 9, 20, 13),
        utc(2027, 9, 24, 13),
        utc(2027, 10, 4, 13),
        utc(2027, 10, 8, 13),
    )


def test_a_sunday_start_belongs_to_the_week_that_began_the_monday_before():
    # Start Sunday 2027-09-12: week 0 is Sep 6-12, so every 2 weeks on Monday is Sep 20, not Sep 13.
    classes = section_classes(
        spec(
            start_time="2027-09-12T09:00",
            class_repeat_type=4,
            days_of_week="monday",
            specific_week=2,
            class_occurrence=2,
        )
    )
    assert classes == (utc(2027, 9, 20, 13), utc(2027, 10, 4, 13))


def test_monday_to_saturday_and_every_day():
    six = section_classes(spec(start_time="2027-09-04T09:00", class_repeat_type=2, class_end_date="2027-09-12"))
    assert [c.astimezone(ZoneInfo(NEW_YORK)).day for c in six] == [4, 6, 7, 8, 9, 10, 11]
    daily = section_classes(spec(start_time="2027-09-04T09:00", class_repeat_type=1, class_occurrence=3))
    assert daily == (utc(2027, 9, 4, 13), utc(2027, 9, 5, 13), utc(2027, 9, 6, 13))


def test_monthly_by_date_skips_months_without_it_and_by_day_takes_the_last():
    by_date = section_classes(
        spec(start_time="2027-08-31T09:00", class_repeat_type=5, monthly_date="31st", class_occurrence=3)
    )
    assert by_date == (utc(2027, 8, 31, 13), utc(2027, 10, 31, 13), utc(2027, 12, 31, 14))
    by_day = section_classes(
        spec(
            start_time="2027-09-01T09:00",
            class_repeat_type=5,
            monthly_day="Last",
            monthly_week_day="friday",
            class_end_date="2027-11-30",
        )
    )
    assert by_day == (utc(2027, 9, 24, 13), utc(2027, 10, 29, 13), utc(2027, 11, 26, 14))
    second_tuesday = section_classes(
        spec(
            start_time="09/15/2027 09:00:00",
            class_repeat_type=5,
            monthly_day="2nd",
            monthly_week_day="tuesday",
            class_occurrence=2,
        )
    )
    assert second_tuesday == (utc(2027, 10, 12, 13), utc(2027, 11, 9, 14))


def test_the_end_date_is_inclusive_by_local_date():
    # 21:00 in New York on the end date is 01:00 UTC the next day: still in; 23:30 in Sydney is 13:30 UTC.
    evening = section_classes(spec(start_time="2027-09-09T21:00", class_end_date="09/10/2027"))
    assert evening == (utc(2027, 9, 10, 1), utc(2027, 9, 11, 1))
    late = section_classes(spec(time_zone=SYDNEY, start_time="2027-09-09T23:30", class_end_date="2027-09-10"))
    assert late == (utc(2027, 9, 9, 13, 30), utc(2027, 9, 10, 13, 30))


def test_no_zone_is_gmt():
    assert section_classes(spec(time_zone="", start_time="2027-09-06T09:00", class_occurrence=1)) == (
        utc(2027, 9, 6, 9),
    )


# Holidays -----------------------------------------------------------------------------------------------


def test_an_occurrence_section_runs_on_past_its_holidays():
    # docs/term-sync.md: ten Mondays from September 13 with October 11 off end on November 22, not November 15.
    monday = spec(start_time="2027-09-13T09:00", class_repeat_type=4, days_of_week="monday", class_occurrence=10)
    classes = section_classes(monday, read_holidays(["2027-10-11"]))
    assert len(classes) == 10
    assert utc(2027, 10, 11, 13) not in classes
    assert classes[-1] == utc(2027, 11, 22, 14)  # EST by then
    assert section_classes(monday)[-1] == utc(2027, 11, 15, 14)


def test_an_end_date_section_just_drops_its_holidays():
    week = spec(start_time="2027-11-22T09:00", class_end_date="2027-11-26")
    classes = section_classes(week, read_holidays(["2027-11-24..2027-11-26"]))
    assert classes == (utc(2027, 11, 22, 14), utc(2027, 11, 23, 14))


def test_a_holiday_is_judged_on_the_local_date():
    # Monday 09:00 in Sydney is Sunday 23:00 UTC: a Monday holiday drops it, a Sunday one does not.
    monday = spec(time_zone=SYDNEY, start_time="2027-09-27T09:00", class_repeat_type=4, days_of_week="monday")
    monday["class_end_date"] = "2027-10-04"
    assert section_classes(monday, {date(2027, 9, 27)}) == (utc(2027, 10, 3, 22),)
    assert section_classes(monday, {date(2027, 9, 26)}) == (utc(2027, 9, 26, 23), utc(2027, 10, 3, 22))


def test_holidays_are_read_as_dates_ranges_and_text():
    assert read_holidays(["2027-09-06", "2027-11-24..2027-11-26", date(2027, 12, 24)]) == {
        date(2027, 9, 6),
        date(2027, 11, 24),
        date(2027, 11, 25),
        date(2027, 11, 26),
        date(2027, 12, 24),
    }
    assert read_holidays("2027-09-06, 2027-10-11") == {date(2027, 9, 6), date(2027, 10, 11)}
    assert read_holidays(None) == frozenset()


# Past and future, and the term as a whole ----------------------------------------------------------------


def test_a_class_within_one_hour_of_now_is_past():
    now = utc(2027, 9, 7, 12, 17)
    instants = [now + timedelta(minutes=59), now + timedelta(hours=1), now + timedelta(hours=2)]
    assert future(instants, now) == tuple(instants[1:])


def test_expect_reads_the_term_and_matches_by_presenter_and_title():
    term = expect(
        [
            spec(
                key="A",
                title=" Algebra ",
                presenter_email="Ann@School.example",
                start_time="2027-09-06T09:00",
                class_end_date="2027-09-07",
                attendees=[{"attendee_id": 7, "screen_name": "Bo"}],
            ),
            spec(key="B", title="Biology", start_time="2027-09-06T10:00", class_occurrence=1, duration=90),
        ],
        ["2027-09-06"],
    )
    assert term["A"].identity == ("ann@school.example", "Algebra")
    assert term["A"].instants == (utc(2027, 9, 7, 13),)
    assert term["A"].roster == {"7"}
    assert term["A"].on_holidays == (utc(2027, 9, 6, 13),)
    assert term["A"].future(utc(2027, 9, 7, 12, 30)) == ()
    assert term["B"].instants == (utc(2027, 9, 7, 14),) and term["B"].duration == 90
    assert set(by_identity(term)) == {("ann@school.example", "Algebra"), ("t@school.example", "Biology")}


def test_inputs_the_oracle_cannot_read_are_refused():
    with pytest.raises(ValueError, match="exactly one"):
        section_classes(spec(start_time="2027-09-06T09:00"))
    with pytest.raises(ValueError, match="class_repeat_type"):
        section_classes(spec(start_time="2027-09-06T09:00", class_repeat_type=9, class_occurrence=1))
    with pytest.raises(ValueError, match="wall clock"):
        section_classes(spec(start_time="2027-09-06T09:00-04:00", class_occurrence=1))
    with pytest.raises(ValueError, match="declared twice"):
        expect([spec(start_time="2027-09-06T09:00", class_occurrence=1)] * 2)


def test_explicit_dates_are_held_on_exactly_those_local_dates():
    dates = spec(start_time="09:00", class_dates=["2027-11-05", "2027-11-08..2027-11-09"], class_repeat_type=None)
    # New York falls back on Sunday 2027-11-07: 09:00 is 13:00Z before, 14:00Z after.
    assert section_classes(dates) == (utc(2027, 11, 5, 13), utc(2027, 11, 8, 14), utc(2027, 11, 9, 14))
    term = expect([{**dates, "key": "D"}], ["2027-11-08"])
    assert term["D"].instants == (utc(2027, 11, 5, 13), utc(2027, 11, 9, 14))
    assert term["D"].on_holidays == (utc(2027, 11, 8, 14),)


def test_cycle_days_meet_on_the_calendar_days_with_their_labels():
    calendar = [
        {"date": "2027-09-07", "day": "A"},
        {"date": "2027-09-08", "day": "B"},
        {"date": "2027-09-09", "day": "A"},
        {"date": "2027-09-10", "day": "C"},
        {"date": "2027-09-13", "day": "A"},
    ]
    cycle = spec(time_zone="UTC", start_time="2027-09-08T10:00", cycle_days="A,C", class_repeat_type=None)
    to_friday = {**cycle, "class_end_date": "2027-09-10"}
    assert section_classes(to_friday, calendar=calendar) == (utc(2027, 9, 9, 10), utc(2027, 9, 10, 10))
    two = {**cycle, "class_occurrence": 2}  # a holiday on the 10th: the section runs on to the 13th
    assert section_classes(two, [date(2027, 9, 10)], calendar) == (utc(2027, 9, 9, 10), utc(2027, 9, 13, 10))
    assert section_classes(two, calendar={date(2027, 9, 9): "A"}) == (utc(2027, 9, 9, 10),)
