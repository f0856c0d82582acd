"""A term's instructional calendar (api.rules.calendar): every form it is read from, its errors, and the days of
rotating cycles, checked against calendars and instants the test builds on its own."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest

from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.rules.calendar import (
    Calendar,
    cycle_dates,
    read_calendar,
    read_cycle_days,
    summary_label,
)
from airflow_provider_wiziq.api.rules.dates import classes_on
from tests.support.instants import instants

FIRST = date(2027, 9, 7)  # a Tuesday, the day after Labor Day
HOLIDAYS = {date(2027, 10, 11), date(2027, 11, 11), date(2027, 11, 24), date(2027, 11, 25), date(2027, 11, 26)}


def school_days(weeks: int = 16, holidays: set[date] = HOLIDAYS) -> list[date]:
    """Monday to Friday from FIRST for ``weeks`` weeks, holidays out."""
    days = [FIRST + timedelta(days=n) for n in range(weeks * 7)]
    return [day for day in days if day.weekday() < 5 and day not in holidays]


def rotation(days: list[date], labels: list[str]) -> dict[date, str]:
    """Each school day labeled with the next day of the cycle: a holiday does not advance it."""
    return {day: labels[n % len(labels)] for n, day in enumerate(days)}


AB = rotation(school_days(), ["A", "B"])
ROWS = [{"date": day.isoformat(), "day": label} for day, label in AB.items()]


def ics(*events: str, newline: str = "\r\n") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//School//Rotation//EN", *events, "END:VCALENDAR"]
    return newline.join(line for event in lines for line in event.split("\n")) + newline


def event(day: str, summary: str, *extra: str) -> str:
    return "\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{day}-{summary}@school",
            f"DTSTART;VALUE=DATE:{day}",
            *extra,
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    )


# The forms a calendar comes in -------------------------------------------------------------------------------


def test_a_calendar_from_rows_a_mapping_json_or_csv_is_the_same_calendar(tmp_path):
    calendar = read_calendar(ROWS)
    assert dict(calendar) == AB
    csv_text = "date,day\n" + "".join(f"{day},{label}\n" for day, label in AB.items())
    (tmp_path / "days.csv").write_text("\ufeff" + csv_text.replace("\n", "\r\n"), encoding="utf-8")  # Excel's
    forms = [
        {day.isoformat(): label for day, label in AB.items()},
        AB,
        json.dumps(ROWS),
        json.dumps({day.isoformat(): label for day, label in AB.items()}),
        csv_text,
        "Day,Date,Room\n" + "".join(f"{label},{day},12\n" for day, label in AB.items()),
        str(tmp_path / "days.csv"),
        tmp_path / "days.csv",
        calendar.rows(),
        calendar,
    ]
    for form in forms:
        assert read_calendar(form) == calendar
    assert read_calendar(None) == read_calendar("") == read_calendar([]) == Calendar()


def test_a_calendar_is_a_frozen_mapping_in_date_order():
    calendar = read_calendar(list(reversed(ROWS)))
    assert list(calendar) == sorted(AB)
    assert calendar[FIRST] == "A" and calendar.labels == {"A", "B"}
    assert hash(calendar) == hash(read_calendar(ROWS))
    assert "labels ['A', 'B']" in repr(calendar)
    with pytest.raises(TypeError):
        calendar[FIRST] = "B"  # type: ignore[index]
    with pytest.raises(AttributeError):
        calendar.extra = 1  # type: ignore[attr-defined]


def test_whole_numbers_are_labels_and_the_same_label_twice_is_no_conflict():
    calendar = read_calendar([{"date": "2027-09-07", "day": 1}, {"date": "2027-09-08", "day": 2.0}])
    assert dict(calendar) == {date(2027, 9, 7): "1", date(2027, 9, 8): "2"}
    assert read_calendar("date,day\n2027-09-07,A\n2027-09-07, A \n") == {date(2027, 9, 7): "A"}


# ICS ---------------------------------------------------------------------------------------------------------


def test_an_ics_calendar_reads_all_day_events_their_summary_the_label(tmp_path):
    text = ics(
        "BEGIN:VTIMEZONE\nTZID:America/New_York\nBEGIN:STANDARD\nDTSTART:20071104T020000\nTZOFFSETFROM:-0400\n"
        "TZOFFSETTO:-0500\nEND:STANDARD\nEND:VTIMEZONE",
        event("20270907", "Day A"),
        event("20270908", "Day B", "BEGIN:VALARM\nACTION:DISPLAY\nDTSTART:20270907T090000\nEND:VALARM"),
        event("20270909", "A Day", "DTEND;VALUE=DATE:20270911"),  # two days: the 9th and the 10th
        event("20270913", "day 3", "DURATION:P1W"),  # a week of day 3
        event("20270920", "Late start \\; assembly"),
        event("20270921", "Day A", "STATUS:CANCELLED"),
        event("20270922", "Day B", "DTEND:20270923"),  # eight digits: a date even without VALUE=DATE
    )
    calendar = read_calendar(text)
    week = {date(2027, 9, 13) + timedelta(days=n): "3" for n in range(7)}
    assert dict(calendar) == {
        date(2027, 9, 7): "A",
        date(2027, 9, 8): "B",
        date(2027, 9, 9): "A",
        date(2027, 9, 10): "A",
        **week,
        date(2027, 9, 20): "Late start ; assembly",
        date(2027, 9, 22): "B",
    }
    (tmp_path / "rotation.ics").write_text(text, encoding="utf-8", newline="")
    assert read_calendar(str(tmp_path / "rotation.ics")) == read_calendar(text.replace("\r\n", "\n")) == calendar


def test_an_ics_calendar_unfolds_long_lines():
    folded = "BEGIN:VEVENT\nDTSTART;VALUE=\n DATE:20270907\nSUMMARY:D\n\tay\n  A\nEND:VEVENT"
    assert dict(read_calendar(ics(folded))) == {date(2027, 9, 7): "A"}
    quoted = 'BEGIN:VEVENT\nDTSTART;X-NOTE="a:b;c";VALUE=DATE:20270907\nSUMMARY;LANGUAGE=en:Day 6\nEND:VEVENT'
    assert dict(read_calendar(ics(quoted, newline="\n"))) == {date(2027, 9, 7): "6"}


@pytest.mark.parametrize(
    ("summary", "label"),
    [("Day A", "A"), ("A Day", "A"), ("DAY  b", "b"), ("Day 6", "6"), ("B", "B"), ("Early release", "Early release")],
)
def test_how_a_summary_maps_to_a_label(summary, label):
    assert summary_label(summary) == label


@pytest.mark.parametrize(
    ("events", "says"),
    [
        (
            (event("20270907", "Day A"), event("20270907", "Day B")),
            "line 12: 2027-09-07 is labeled 'B', and 'A' at line 7",
        ),
        (
            ("BEGIN:VEVENT\nDTSTART;VALUE=DATE-TIME:20270907\nSUMMARY:A\nEND:VEVENT",),
            "line 5: DTSTART '20270907' is not",
        ),
        (("BEGIN:VEVENT\nDTSTART:20270907T090000\nSUMMARY:Day A\nEND:VEVENT",), "line 5: DTSTART '20270907T090000'"),
        ((event("20270907", "Day A", "RRULE:FREQ=DAILY;COUNT=5"),), "line 7: a recurring event \\(RRULE\\)"),
        (("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20270907\nEND:VEVENT",), "line 4: the event has no SUMMARY"),
        (("BEGIN:VEVENT\nSUMMARY:Day A\nEND:VEVENT",), "line 4: the event has no DTSTART"),
        ((event("20270907", "Day A", "DTEND;VALUE=DATE:20270907"),), "line 7: DTEND is not after DTSTART"),
        ((event("20270907", "Day A", "DURATION:PT1H"),), "line 7: DURATION 'PT1H' is not whole days"),
        ((event("20270231", "Day A"),), "line 6: DTSTART '20270231' is not a real date"),
        (("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20270907",), "line 6: END:VCALENDAR closes VEVENT"),
        (("BEGIN:VEVENT\nEND:VTODO",), "line 5: END:VTODO closes VEVENT"),
        (("no colon here",), "line 4: 'no colon here' is no ICS property"),
        ((event("20270907", "Day A,B"),), "holds a comma"),
    ],
)
def test_a_bad_ics_calendar_is_an_error_naming_calendar_and_the_line(events, says):
    with pytest.raises(WizIQValidationError, match=f"calendar: .*{says}") as raised:
        read_calendar(ics(*events))
    assert raised.value.parameter == "calendar"


# Errors of the other forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ([{"date": "2027-09-07", "day": "A"}, {"date": "2027-09-31", "day": "B"}], "row 2: '2027-09-31' is not a date"),
        ([{"date": "2027-09-07"}], "row 1: needs 'date' and 'day'"),
        (["2027-09-07"], "row 1: must be a dict"),
        ([{"date": "2027-09-07", "day": " "}], "row 1: the day label must be text"),
        ([{"date": "2027-09-07", "day": True}], "row 1: the day label must be text"),
        ("date,day\n2027-09-07,A\n09/08/2027,B\n", "line 3: '09/08/2027' is not a date"),
        ("date,day\n2027-09-07,A\n2027-09-07,B\n", "line 3: 2027-09-07 is labeled 'B', and 'A' at line 2"),
        ("day,when\nA,2027-09-07\n", "line 1: the CSV needs the columns date,day; it has day,when"),
        ("date,day\n2027-09-07\n", "line 2: has 1 cells"),
        ({"2027-09-07": "A", "Sept 8": "B"}, "entry 'Sept 8': 'Sept 8' is not a date"),
        ("[1, 2", "is not valid JSON"),
        ("missing.csv", "no file 'missing.csv'"),
        (42, "must be a list of"),
    ],
)
def test_a_bad_calendar_is_an_error_naming_calendar_and_the_row(value, says):
    with pytest.raises(WizIQValidationError, match=f"calendar: .*{says}"):
        read_calendar(value)


def test_a_file_error_names_the_file(tmp_path):
    (tmp_path / "days.csv").write_text("date,day\n2027-09-07,A\nnot a date,B\n")
    with pytest.raises(WizIQValidationError, match=r"calendar: days\.csv line 3: 'not a date' is not a date"):
        read_calendar(str(tmp_path / "days.csv"))
    (tmp_path / "days.ics").write_text("date,day\n")
    with pytest.raises(WizIQValidationError, match=r"calendar: days\.ics line 1: an ICS file starts with BEGIN:VCAL"):
        read_calendar(tmp_path / "days.ics")


# Cycles ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("A", ("A",)),
        ("1,4", ("1", "4")),
        (" 4 , 1,4 ", ("4", "1")),
        (["B", "A"], ("B", "A")),
        (4, ("4",)),
        ([1.0], ("1",)),
    ],
)
def test_cycle_days_are_labels_in_the_order_given_each_once(given, read):
    assert read_cycle_days(given) == read


@pytest.mark.parametrize("bad", ["", " , ", None, [], [None], ["A", ""], True, {"A": 1}])
def test_bad_cycle_days_are_an_error_naming_cycle_days(bad):
    with pytest.raises(WizIQValidationError, match="cycle_days: "):
        read_cycle_days(bad)


def test_an_ab_schedule_over_a_sixteen_week_term_meets_on_its_labeled_days():
    calendar = read_calendar(ROWS)
    end = FIRST + timedelta(weeks=16)
    a_days = cycle_dates(calendar, "A", FIRST, end=end)
    assert a_days == tuple(day for day, label in sorted(AB.items()) if label == "A")
    assert not HOLIDAYS & set(a_days)
    assert cycle_dates(calendar, ["B"], date(2027, 10, 1), end=date(2027, 10, 31)) == tuple(
        day for day, label in sorted(AB.items()) if label == "B" and date(2027, 10, 1) <= day <= date(2027, 10, 31)
    )
    assert cycle_dates(calendar, "A,B", FIRST, end=end) == tuple(sorted(AB))
    assert (
        cycle_dates(calendar, "B", FIRST, occurrence=10) == tuple(d for d, lab in sorted(AB.items()) if lab == "B")[:10]
    )
    classes = classes_on(a_days, "08:15", "America/New_York")  # the term crosses the November fall-back
    assert [c.utc_start for c in classes] == instants(list(a_days), time(8, 15), "America/New_York")


def test_a_snow_day_that_shifts_the_cycle_is_a_new_calendar():
    snow = date(2027, 12, 1)
    before = read_calendar(ROWS)
    after = read_calendar(rotation(school_days(holidays=HOLIDAYS | {snow}), ["A", "B"]))
    first, end = FIRST, FIRST + timedelta(weeks=16)
    moved = set(cycle_dates(before, "A", first, end=end)) ^ set(cycle_dates(after, "A", first, end=end))
    assert min(moved) == snow  # unchanged before the snow day; from it on, A and B days trade places
    assert all(day >= snow for day in moved)


def test_a_six_day_cycle_skips_holidays_without_losing_its_place():
    days = school_days()
    calendar = read_calendar(rotation(days, [str(n) for n in range(1, 7)]))
    meets = cycle_dates(calendar, "1,4", FIRST, end=days[-1])
    assert meets == tuple(day for n, day in enumerate(days) if n % 6 in (0, 3))
    assert date(2027, 10, 12) in meets  # day 1 falls on the Tuesday after the Columbus Day holiday
    classes = classes_on(meets, time(13, 5), "Europe/Berlin")  # Berlin falls back on October 31
    assert [c.utc_start for c in classes] == instants(list(meets), time(13, 5), "Europe/Berlin")
    assert {c.local_start.hour for c in classes} == {13}


@pytest.mark.parametrize(
    ("labels", "bounds", "parameter", "says"),
    [
        ("A", {}, "class_occurrence", "give class_occurrence or class_end_date: neither"),
        ("A", {"end": date(2027, 12, 1), "occurrence": 3}, "class_occurrence", "both were given"),
        ("C", {"occurrence": 3}, "cycle_days", "no calendar day is labeled 'C' \\(the calendar's labels: A, B\\)"),
        ("A", {"occurrence": 500}, "class_occurrence", "has 38 days labeled A from 2027-09-07 on, fewer than 500"),
        ("A,B", {"end": date(2027, 9, 6)}, "cycle_days", "no day labeled A, B from 2027-09-07 to 2027-09-06"),
    ],
)
def test_cycle_dates_errors(labels, bounds, parameter, says):
    with pytest.raises(WizIQValidationError, match=says) as raised:
        cycle_dates(read_calendar(ROWS), labels, FIRST, **bounds)
    assert raised.value.parameter == parameter
    if parameter == "class_occurrence":
        assert raised.value.code == Code.OCCURRENCE_OR_END_DATE_INVALID


def test_a_cycle_section_needs_a_calendar():
    with pytest.raises(WizIQValidationError, match="cycle_days: the term has no calendar"):
        cycle_dates(Calendar(), "A", FIRST, occurrence=1)


def test_datetimes_in_rows_count_by_their_date():
    calendar = read_calendar([{"date": datetime(2027, 9, 7, 0, 0), "day": "A"}, {"date": date(2027, 9, 8), "day": "B"}])
    assert list(calendar) == [date(2027, 9, 7), date(2027, 9, 8)]


def test_an_ics_calendar_that_never_ends_is_an_error():
    with pytest.raises(WizIQValidationError, match="calendar: BEGIN:VCALENDAR is never ended"):
        read_calendar("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270907\nSUMMARY:A\nEND:VEVENT\n")


def test_a_relative_calendar_file_is_read_from_base(tmp_path):
    (tmp_path / "days.csv").write_text("date,day\n2027-09-07,A\n")
    assert dict(read_calendar("days.csv", base=tmp_path)) == {date(2027, 9, 7): "A"}
    assert read_calendar(tmp_path / "days.csv", base="/elsewhere") == read_calendar("days.csv", base=str(tmp_path))
    with pytest.raises(WizIQValidationError, match="calendar: no file"):
        read_calendar("days.csv", base=tmp_path / "missing")
