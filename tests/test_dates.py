"""Explicit dates (api.rules.dates): the one date-list reader (holidays, class_dates), times of day, and the
classes dates hold, checked against instants computed independently with dateutil."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.protocol.vocabulary import RepeatType
from airflow_provider_wiziq.api.rules.dates import (
    MAX_DATES,
    classes_on,
    read_class_dates,
    read_dates,
    read_time_of_day,
)
from airflow_provider_wiziq.api.rules.recurrence import RecurrenceRule, expand
from airflow_provider_wiziq.api.rules.term import read_holidays
from tests.support.instants import instant

EXAMPLES = {"ci": 60, "deep": 1000}[os.environ.get("HYPOTHESIS_PROFILE", "ci")]
UTC = timezone.utc
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns", "UTC")


# The reader --------------------------------------------------------------------------------------------------


def test_class_dates_are_sorted_unique_local_dates_from_dates_and_inclusive_ranges():
    days = read_class_dates(["2027-09-09", "2027-09-07..2027-09-09", date(2027, 9, 14), datetime(2027, 9, 15, 9)])
    assert days == (date(2027, 9, 7), date(2027, 9, 8), date(2027, 9, 9), date(2027, 9, 14), date(2027, 9, 15))


@pytest.mark.parametrize(
    "text",
    [
        "2027-09-07..2027-09-08, 2027-09-10",
        "2027-09-07 .. 2027-09-08 2027-09-10",
        "2027-09-07..2027-09-08\n2027-09-10",
        '["2027-09-07..2027-09-08", "2027-09-10"]',
    ],
)
def test_class_dates_come_as_comma_space_or_line_separated_text_or_json(text):
    assert read_class_dates(text) == (date(2027, 9, 7), date(2027, 9, 8), date(2027, 9, 10))


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (None, "lists no date"),
        ("", "lists no date"),
        ([], "lists no date"),
        (["2027-02-30"], "'2027-02-30' is not a date"),
        (["20270907"], "is not a date"),  # Python 3.11 reads it; the project reads ISO YYYY-MM-DD only
        (["2027-W36-2"], "is not a date"),
        (["2027-09-10..2027-09-07"], "ends before it starts"),
        ([42], "42 is not a date or a range"),
        ("[not json", "is not valid JSON"),
        ({"2027-09-07": 1}, "must be a list"),
        ([f"2020-01-01..{date(2020, 1, 1) + timedelta(days=MAX_DATES)}"], f"longer than {MAX_DATES} days"),
    ],
)
def test_bad_class_dates_are_errors_naming_class_dates(bad, says):
    with pytest.raises(WizIQValidationError, match=f"class_dates: .*{says}") as raised:
        read_class_dates(bad)
    assert raised.value.parameter == "class_dates"


def test_holidays_are_read_by_the_same_reader_and_may_be_empty():
    text = "2027-11-24 .. 2027-11-26, 2027-09-06"
    assert read_holidays(text) == read_dates("holidays", text) == set(read_class_dates(text))
    assert read_holidays(None) == read_holidays("") == frozenset()
    with pytest.raises(WizIQValidationError, match="holidays: '2027-13-01' is not a date"):
        read_holidays(["2027-13-01"])


def test_a_list_longer_than_the_limit_is_refused():
    many = [date(2027, 1, 1) + timedelta(days=n) for n in range(11)]
    assert len(read_dates("holidays", many[:10], limit=10)) == 10
    with pytest.raises(WizIQValidationError, match="holidays: more than 10 dates"):
        read_dates("holidays", many, limit=10)


# Times of day ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "read"),
    [("09:00", time(9)), ("9:05", time(9, 5)), (" 23:59:30 ", time(23, 59, 30)), (time(7, 45, 0, 500), time(7, 45))],
)
def test_a_time_of_day_is_hh_mm_with_optional_seconds(given, read):
    assert read_time_of_day(given) == read


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("9am", Code.DATETIME_FORMAT_INVALID),
        ("2027-09-07T09:00", Code.DATETIME_FORMAT_INVALID),
        ("24:00", Code.START_TIME_INVALID),
        ("12:60", Code.START_TIME_INVALID),
        (datetime(2027, 9, 7, 9), Code.START_TIME_INVALID),
        (time(9, tzinfo=UTC), Code.START_TIME_INVALID),
        (900, Code.START_TIME_INVALID),
        ("", Code.START_TIME_MISSING),
    ],
)
def test_a_bad_time_of_day_names_start_time_with_wiziqs_code(bad, code):
    with pytest.raises(WizIQValidationError, match="start_time") as raised:
        read_time_of_day(bad)
    assert raised.value.code == code


# Classes on dates --------------------------------------------------------------------------------------------


def test_classes_on_dates_have_the_instants_dateutil_gives_across_dst():
    # New York: 2027-03-14 springs forward at 02:00 (02:30 does not exist), 2027-11-07 falls back (01:30 twice).
    days = [date(2027, 3, 13), date(2027, 3, 14), date(2027, 3, 15), date(2027, 11, 7), date(2027, 11, 8)]
    for at in (time(2, 30), time(1, 30), time(9)):
        classes = classes_on(reversed(days), at, "America/New_York")
        assert [c.index for c in classes] == [0, 1, 2, 3, 4]
        assert [c.wall_clock for c in classes] == [datetime.combine(day, at) for day in days]
        expected = [instant(datetime.combine(day, at), "America/New_York") for day in days]
        assert [(c.utc_start, c.in_gap, c.in_fold) for c in classes] == expected
        assert all(c.local_start.tzinfo == ZoneInfo("America/New_York") for c in classes)
        assert all(c.local_start.astimezone(UTC) == c.utc_start for c in classes)
    gap = classes_on([date(2027, 3, 14)], "02:30", "America/New_York")[0]
    assert gap.in_gap and gap.local_start.replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)
    fold = classes_on([date(2027, 11, 7)], "01:30", ZoneInfo("America/New_York"))[0]
    assert fold.in_fold and fold.utc_start == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first


def test_dates_given_as_a_weekday_rule_make_exactly_the_rules_classes():
    rule = RecurrenceRule(RepeatType.MON_FRI, datetime(2027, 3, 1, 2, 30), "America/New_York", class_occurrence=40)
    series = expand(rule)
    assert classes_on([c.wall_clock.date() for c in series], time(2, 30), "America/New_York") == series


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.dates(date(2026, 1, 1), date(2029, 12, 31)), min_size=1, max_size=30),
    st.times(),
    st.sampled_from(ZONES),
)
def test_classes_on_any_dates_match_dateutil(days, at, zone):
    classes = classes_on(days, at, zone)
    ordered = sorted(set(days))
    at = at.replace(microsecond=0)
    assert [c.wall_clock for c in classes] == [datetime.combine(day, at) for day in ordered]
    expected = [instant(datetime.combine(day, at), zone) for day in ordered]
    assert [(c.utc_start, c.in_gap, c.in_fold) for c in classes] == expected


@pytest.mark.parametrize(
    ("zone", "says", "code"),
    [
        ("Mars/Olympus", "time_zone", Code.TIME_ZONE_UNAVAILABLE),
        ("", "time_zone: is required", Code.TIME_ZONE_MISSING),
    ],
)
def test_classes_on_needs_a_real_zone(zone, says, code):
    with pytest.raises(WizIQValidationError, match=says) as raised:
        classes_on([date(2027, 9, 7)], "09:00", zone)
    assert raised.value.code == code


def test_classes_on_refuses_dates_outside_the_bookable_calendar():
    with pytest.raises(WizIQValidationError, match="class_dates: 9999-12-31 is outside"):
        classes_on([date(2027, 9, 7), date(9999, 12, 31)], "09:00", "UTC")
    assert classes_on([], "09:00", "UTC") == ()
