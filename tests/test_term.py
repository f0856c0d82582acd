"""The declared term read and expanded (api.term): sections, holidays, desired classes and the split into series."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from airflow_provider_wiziq.api.protocol.errors import WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.rules.export import read_export
from airflow_provider_wiziq.api.rules.term import (
    MAX_FILLER_RUN,
    check_term,
    creation_chunks,
    desired_schedule,
    read_holidays,
)


def spec(**changes):
    return {
        "key": "S1",
        "title": "Algebra",
        "presenter_email": "t@school.example",
        "time_zone": "America/New_York",
        "start_time": "2027-09-06T09:00",
        "class_repeat_type": 3,
        "class_end_date": "2027-12-17",
        **changes,
    }


def section(holidays=(), **changes):
    sections, days, invalid = check_term([spec(**changes)], list(holidays), PlanLimits())
    assert invalid == {}
    return sections["S1"], days


def test_holidays_take_dates_and_inclusive_ranges():
    days = read_holidays(["2027-09-06", date(2027, 10, 11), "2027-11-24..2027-11-26"])
    assert days == {date(2027, 9, 6), date(2027, 10, 11), date(2027, 11, 24), date(2027, 11, 25), date(2027, 11, 26)}
    assert read_holidays('["2027-01-01"]') == {date(2027, 1, 1)}
    assert read_holidays("2027-01-01, 2027-01-02") == {date(2027, 1, 1), date(2027, 1, 2)}
    assert read_holidays(None) == frozenset()


@pytest.mark.parametrize("bad", [["2027-02-30"], ["2027-11-28..2027-11-24"], [42], "[not json"])
def test_a_bad_holiday_is_an_error_naming_holidays(bad):
    with pytest.raises(WizIQValidationError, match="holidays"):
        read_holidays(bad)


def test_sections_come_as_a_list_json_or_csv_text():
    rows = [spec()]
    assert read_export(rows) == rows
    assert read_export(json.dumps(rows)) == rows
    csv_text = "key,title,presenter_email,time_zone,start_time,class_repeat_type,class_end_date,days_of_week\n"
    csv_text += "S1,Algebra,t@school.example,America/New_York,2027-09-06T09:00,3,2027-12-17,\n"
    (row,) = read_export(csv_text)
    assert row["key"] == "S1" and "days_of_week" not in row  # a blank cell is not sent


def test_every_invalid_section_is_named_and_a_past_start_or_a_long_term_is_not_invalid():
    rows = [
        spec(key="ok", start_time="2020-09-07T09:00", class_end_date="2020-12-18"),  # in the past: fine here
        spec(key="long", class_end_date="2028-06-30"),  # more classes than one series: fine here
        spec(key="bad", days_of_week="monday"),  # 1083: days_of_week only with weekly
        spec(key="ok"),  # a key used twice
        {"title": "no key"},
        spec(key="all-holiday", class_repeat_type=4, days_of_week="monday", class_end_date="2027-09-12"),
    ]
    sections, _, invalid = check_term(rows, ["2027-09-06"], PlanLimits())
    assert set(sections) == {"ok", "long"}
    assert set(invalid) == {"bad", "#3", "#4", "all-holiday"}
    assert invalid["bad"].code == 1083
    assert "holiday" in str(invalid["all-holiday"])


def test_an_occurrence_bound_section_runs_on_past_its_holidays():
    item, days = section(
        ["2027-10-11"],
        class_repeat_type=4,
        days_of_week="monday",
        class_end_date=None,
        class_occurrence=10,
        start_time="2027-09-13T09:00",
    )
    schedule = desired_schedule(item, days)
    assert len(schedule.desired) == 10
    assert schedule.desired[-1].local_start.date() == date(2027, 11, 22)
    assert [slot.local_start.date() for slot in schedule.holiday] == [date(2027, 10, 11)]


def test_a_long_section_is_split_at_the_series_limit_and_a_long_break_starts_a_new_series():
    item, days = section(["2027-09-06", "2027-11-24..2027-11-26"])
    desired = desired_schedule(item, days).desired
    chunks = creation_chunks(item, desired, set(), max_series_classes=60)
    assert [len(chunk.slots) for chunk in chunks] == [60, 14]
    assert [sum(chunk.wanted) for chunk in chunks] == [57, 14]  # three Thanksgiving classes to cancel
    assert all(chunk.wanted[0] and chunk.wanted[-1] for chunk in chunks)  # never starting or ending on a holiday

    winter = ["2027-12-20..2027-12-31"]  # two weeks off: more than MAX_FILLER_RUN classes in a row
    item, days = section(winter, class_end_date="2028-01-14", start_time="2027-12-06T09:00")
    chunks = creation_chunks(item, desired_schedule(item, days).desired, set(), max_series_classes=60)
    assert len(chunks) == 2 and all(all(chunk.wanted) for chunk in chunks)
    assert MAX_FILLER_RUN < 10


def test_a_late_start_of_an_every_second_week_section_keeps_its_week_alignment():
    item, days = section(class_repeat_type=4, days_of_week="monday,thursday", specific_week=2)
    desired = desired_schedule(item, days).desired
    cutoff = datetime(2027, 9, 25, tzinfo=timezone.utc)
    future = [slot for slot in desired if slot.utc_start >= cutoff]
    (chunk,) = creation_chunks(item, future, set(), max_series_classes=60)
    assert [slot.utc_start for slot in chunk.slots] == [slot.utc_start for slot in future]
    weeks = {(slot.local_start.date() - date(2027, 9, 6)).days // 7 for slot in chunk.slots}
    assert all(week % 2 == 0 for week in weeks)


def test_a_series_never_runs_over_a_class_that_stays():
    item, days = section()
    desired = desired_schedule(item, days).desired[:10]
    staying = {desired[4].utc_start}
    chunks = creation_chunks(item, [s for s in desired if s.utc_start not in staying], staying, max_series_classes=60)
    assert [len(chunk.slots) for chunk in chunks] == [4, 5]
    assert chunks[1].first.utc_start == desired[5].utc_start
    assert chunks[0].slots[-1].utc_start + timedelta(days=1) == desired[4].utc_start
