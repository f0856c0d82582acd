"""How a recurring series expands (docs/wiziq-api.md §8): dates, instants across DST, limits and summaries."""

from __future__ import annotations

import tracemalloc
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.protocol.vocabulary import LAST, RepeatType, Weekday
from airflow_provider_wiziq.api.rules.recurrence import (
    RecurrenceRule,
    ScheduledClass,
    classes_at,
    expand,
    iter_wall_clock,
    localize,
    recurring_summary,
)

NEW_YORK = "America/New_York"
SYDNEY = "Australia/Sydney"
KOLKATA = "Asia/Kolkata"
UTC = timezone.utc


def rule(repeat_type: RepeatType, start: datetime, time_zone: str = NEW_YORK, **fields) -> RecurrenceRule:
    return RecurrenceRule(repeat_type=repeat_type, start=start, time_zone=time_zone, **fields)


def walls(classes: tuple[ScheduledClass, ...]) -> list[datetime]:
    return [c.wall_clock for c in classes]


def hours(offset: timedelta | None) -> float:
    assert offset is not None
    return offset.total_seconds() / 3600


def local_view(c: ScheduledClass) -> tuple[datetime, float]:
    """A class's local start as (naive local time, UTC offset in hours): aware equality ignores the wall."""
    return c.local_start.replace(tzinfo=None), hours(c.local_start.utcoffset())


# Rule 2: which dates a series falls on.


def test_daily_types_over_a_fortnight():
    start = datetime(2026, 1, 5, 9, 0)  # a Monday
    fortnight = [start + timedelta(days=n) for n in range(14)]
    end = date(2026, 1, 18)  # the second Sunday
    daily = expand(rule(RepeatType.DAILY, start, class_end_date=end))
    mon_sat = expand(rule(RepeatType.MON_SAT, start, class_end_date=end))
    mon_fri = expand(rule(RepeatType.MON_FRI, start, class_end_date=end))

    assert walls(daily) == fortnight
    assert walls(mon_sat) == [d for d in fortnight if d.weekday() != 6]
    assert walls(mon_fri) == [d for d in fortnight if d.weekday() < 5]
    assert walls(mon_sat)[5:7] == [datetime(2026, 1, 10, 9, 0), datetime(2026, 1, 12, 9, 0)]
    assert walls(mon_fri)[4:6] == [datetime(2026, 1, 9, 9, 0), datetime(2026, 1, 12, 9, 0)]
    assert [c.index for c in mon_fri] == list(range(10))


def test_start_date_not_in_pattern_moves_to_the_next_fitting_date_keeping_the_time():
    saturday = datetime(2026, 1, 10, 14, 45)
    classes = expand(rule(RepeatType.MON_FRI, saturday, class_occurrence=2))
    assert walls(classes) == [datetime(2026, 1, 12, 14, 45), datetime(2026, 1, 13, 14, 45)]

    sunday = datetime(2026, 1, 11, 16, 20)
    classes = expand(rule(RepeatType.MON_SAT, sunday, class_occurrence=1))
    assert walls(classes) == [datetime(2026, 1, 12, 16, 20)]


def test_start_date_in_pattern_is_the_first_class():
    classes = expand(
        rule(
            RepeatType.WEEKLY,
            datetime(2026, 1, 7, 11, 5),
            class_occurrence=2,
            days_of_week=(Weekday.WEDNESDAY,),
        )
    )
    assert walls(classes) == [datetime(2026, 1, 7, 11, 5), datetime(2026, 1, 14, 11, 5)]


def test_weekly_days_are_a_set_in_calendar_order():
    classes = expand(
        rule(
            RepeatType.WEEKLY,
            datetime(2026, 1, 5, 18, 0),
            class_occurrence=5,
            days_of_week=(Weekday.FRIDAY, Weekday.MONDAY, Weekday.FRIDAY),
        )
    )
    assert walls(classes) == [
        datetime(2026, 1, 5, 18, 0),
        datetime(2026, 1, 9, 18, 0),
        datetime(2026, 1, 12, 18, 0),
        datetime(2026, 1, 16, 18, 0),
        datetime(2026, 1, 19, 18, 0),
    ]


def test_every_two_weeks_monday_wednesday_starting_on_a_thursday():
    thursday = datetime(2026, 1, 8, 16, 15)  # week 0 is Mon 01/05..Sun 01/11; its Mon and Wed have passed
    classes = expand(
        rule(
            RepeatType.WEEKLY,
            thursday,
            class_occurrence=4,
            specific_week=2,
            days_of_week=(Weekday.WEDNESDAY, Weekday.MONDAY),
        )
    )
    assert walls(classes) == [
        datetime(2026, 1, 19, 16, 15),  # week 2: the Monday 11 days after the start
        datetime(2026, 1, 21, 16, 15),
        datetime(2026, 2, 2, 16, 15),  # week 4
        datetime(2026, 2, 4, 16, 15),
    ]
    assert classes[0].wall_clock - thursday == timedelta(days=11)


def test_every_two_weeks_starting_on_a_day_of_the_pattern_counts_the_start_week_as_week_0():
    monday = datetime(2026, 1, 5, 8, 0)
    classes = expand(
        rule(
            RepeatType.WEEKLY,
            monday,
            class_end_date=date(2026, 2, 1),
            specific_week=2,
            days_of_week=(Weekday.MONDAY, Weekday.WEDNESDAY),
        )
    )
    assert walls(classes) == [
        datetime(2026, 1, 5, 8, 0),
        datetime(2026, 1, 7, 8, 0),
        datetime(2026, 1, 19, 8, 0),
        datetime(2026, 1, 21, 8, 0),
    ]


def test_every_three_weeks_on_sunday_the_last_day_of_a_monday_week():
    sunday = datetime(2026, 1, 11, 10, 0)  # still week 0: weeks start on Monday
    classes = expand(
        rule(RepeatType.WEEKLY, sunday, class_occurrence=3, specific_week=3, days_of_week=(Weekday.SUNDAY,))
    )
    assert walls(classes) == [
        datetime(2026, 1, 11, 10, 0),
        datetime(2026, 2, 1, 10, 0),
        datetime(2026, 2, 22, 10, 0),
    ]


def test_monthly_on_the_31st_skips_months_without_one_and_does_not_count_them():
    classes = expand(rule(RepeatType.MONTHLY, datetime(2026, 1, 10, 10, 0), class_occurrence=4, monthly_date=31))
    assert walls(classes) == [
        datetime(2026, 1, 31, 10, 0),
        datetime(2026, 3, 31, 10, 0),
        datetime(2026, 5, 31, 10, 0),
        datetime(2026, 7, 31, 10, 0),
    ]


def test_monthly_on_the_15th_starting_after_the_15th():
    classes = expand(
        rule(
            RepeatType.MONTHLY,
            datetime(2026, 1, 20, 7, 30),
            class_end_date=date(2026, 4, 15),
            monthly_date=15,
        )
    )
    assert walls(classes) == [
        datetime(2026, 2, 15, 7, 30),
        datetime(2026, 3, 15, 7, 30),
        datetime(2026, 4, 15, 7, 30),
    ]


def test_monthly_on_the_last_friday():
    classes = expand(
        rule(
            RepeatType.MONTHLY,
            datetime(2026, 1, 1, 10, 0),
            class_occurrence=4,
            monthly_day=LAST,
            monthly_week_day=Weekday.FRIDAY,
        )
    )
    assert walls(classes) == [
        datetime(2026, 1, 30, 10, 0),
        datetime(2026, 2, 27, 10, 0),
        datetime(2026, 3, 27, 10, 0),
        datetime(2026, 4, 24, 10, 0),
    ]


def test_monthly_on_the_second_tuesday():
    classes = expand(
        rule(
            RepeatType.MONTHLY,
            datetime(2026, 1, 1, 10, 0),
            class_occurrence=3,
            monthly_day=2,
            monthly_week_day=Weekday.TUESDAY,
        )
    )
    assert walls(classes) == [
        datetime(2026, 1, 13, 10, 0),
        datetime(2026, 2, 10, 10, 0),
        datetime(2026, 3, 10, 10, 0),
    ]


def test_monthly_by_weekday_starting_after_this_months_one():
    classes = expand(
        rule(
            RepeatType.MONTHLY,
            datetime(2026, 1, 14, 19, 0),
            class_occurrence=2,
            monthly_day=2,
            monthly_week_day=Weekday.TUESDAY,
        )
    )
    assert walls(classes) == [datetime(2026, 2, 10, 19, 0), datetime(2026, 3, 10, 19, 0)]


def test_monthly_on_the_fourth_sunday():
    classes = expand(
        rule(
            RepeatType.MONTHLY,
            datetime(2026, 3, 1, 12, 0),
            class_occurrence=2,
            monthly_day=4,
            monthly_week_day=Weekday.SUNDAY,
        )
    )
    assert walls(classes) == [datetime(2026, 3, 22, 12, 0), datetime(2026, 4, 26, 12, 0)]


def test_microseconds_are_dropped_from_the_wall_clock():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 1, 5, 9, 0, 30, 123456), class_occurrence=1))
    assert walls(classes) == [datetime(2026, 1, 5, 9, 0, 30)]


# Rule 3: how a series is bounded.


def test_class_occurrence_is_the_total_number_of_classes():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 1, 5, 9, 0), class_occurrence=3))
    assert walls(classes) == [datetime(2026, 1, d, 9, 0) for d in (5, 6, 7)]


def test_end_date_is_inclusive_by_local_date():
    # 23:00 in New York is 04:00 UTC the next day: the class still belongs to its local date.
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 1, 10, 23, 0), class_end_date=date(2026, 1, 12)))
    assert walls(classes) == [datetime(2026, 1, d, 23, 0) for d in (10, 11, 12)]
    assert classes[-1].utc_start == datetime(2026, 1, 13, 4, 0, tzinfo=UTC)


def test_end_date_on_the_start_date_gives_one_class():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 1, 10, 23, 59, 59), class_end_date=date(2026, 1, 10)))
    assert walls(classes) == [datetime(2026, 1, 10, 23, 59, 59)]


def test_iter_wall_clock_is_bounded_by_the_rule_only():
    series = rule(RepeatType.DAILY, datetime(2026, 1, 1, 6, 0), class_occurrence=100)
    wall_clocks = list(iter_wall_clock(series))
    assert len(wall_clocks) == 100
    assert wall_clocks[0] == datetime(2026, 1, 1, 6, 0)
    assert wall_clocks[-1] == datetime(2026, 4, 10, 6, 0)
    assert all(w.tzinfo is None for w in wall_clocks)


def test_iter_wall_clock_is_lazy():
    series = rule(RepeatType.DAILY, datetime(2026, 1, 1, 6, 0), class_end_date=date(9999, 12, 31))
    wall_clocks = iter_wall_clock(series)
    assert next(wall_clocks) == datetime(2026, 1, 1, 6, 0)
    assert next(wall_clocks) == datetime(2026, 1, 2, 6, 0)


@pytest.mark.parametrize(
    ("occurrence", "end_date", "detail"),
    [(None, None, "neither was given"), (3, "01/31/2026", "both were given")],
    ids=["neither", "both"],
)
def test_the_rule_reads_exactly_one_bound(occurrence, end_date, detail):
    given = {"class_repeat_type": 1, "class_occurrence": occurrence, "class_end_date": end_date}
    with pytest.raises(WizIQValidationError, match=detail) as info:
        RecurrenceRule.read_fields(given)
    assert (info.value.code, info.value.parameter) == (Code.OCCURRENCE_OR_END_DATE_INVALID, "class_occurrence")


# Rules 4 and 5: the series limit and the empty series (1082).


def test_sixty_classes_pass():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 1, 1, 9, 0), class_occurrence=60))
    assert len(classes) == 60
    assert classes[-1].index == 59
    assert classes[-1].wall_clock == datetime(2026, 3, 1, 9, 0)


def test_sixty_one_classes_is_1082_on_class_occurrence():
    with pytest.raises(WizIQValidationError) as caught:
        expand(rule(RepeatType.DAILY, datetime(2026, 1, 1, 9, 0), class_occurrence=61))
    error = caught.value
    assert error.code == 1082
    assert error.parameter == "class_occurrence"
    assert "61" in error.detail
    assert "60" in error.detail


def test_end_date_with_exactly_sixty_classes_passes():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 1, 1, 9, 0), class_end_date=date(2026, 3, 1)))
    assert len(classes) == 60
    assert classes[-1].wall_clock == datetime(2026, 3, 1, 9, 0)


def test_end_date_giving_more_than_sixty_classes_is_1082_on_class_end_date():
    with pytest.raises(WizIQValidationError) as caught:
        expand(rule(RepeatType.DAILY, datetime(2026, 1, 1, 9, 0), class_end_date=date(2026, 3, 2)))
    error = caught.value
    assert error.code == 1082
    assert error.parameter == "class_end_date"
    assert "60" in error.detail
    assert "2026-03-02" in error.detail


def test_a_far_end_date_fails_without_expanding_the_whole_series():
    tracemalloc.start()
    try:
        with pytest.raises(WizIQValidationError) as caught:
            expand(rule(RepeatType.DAILY, datetime(2026, 1, 1, 9, 0), class_end_date=date(9999, 12, 31)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # the whole series would be ~2.9 million classes, hundreds of MB
    assert caught.value.parameter == "class_end_date"


def test_custom_max_classes():
    start = datetime(2026, 1, 5, 9, 0)
    assert walls(expand(rule(RepeatType.MON_FRI, start, class_occurrence=5), max_classes=5)) == [
        datetime(2026, 1, d, 9, 0) for d in (5, 6, 7, 8, 9)
    ]
    with pytest.raises(WizIQValidationError) as by_count:
        expand(rule(RepeatType.MON_FRI, start, class_occurrence=6), max_classes=5)
    assert (by_count.value.code, by_count.value.parameter) == (1082, "class_occurrence")
    assert len(expand(rule(RepeatType.MON_FRI, start, class_end_date=date(2026, 1, 11)), max_classes=5)) == 5
    with pytest.raises(WizIQValidationError) as by_date:
        expand(rule(RepeatType.MON_FRI, start, class_end_date=date(2026, 1, 12)), max_classes=5)
    assert (by_date.value.code, by_date.value.parameter) == (1082, "class_end_date")
    assert len(expand(rule(RepeatType.DAILY, start, class_occurrence=100), max_classes=100)) == 100


def test_end_date_before_the_start_is_an_empty_series():
    with pytest.raises(WizIQValidationError) as caught:
        expand(rule(RepeatType.DAILY, datetime(2026, 1, 10, 9, 0), class_end_date=date(2026, 1, 9)))
    assert (caught.value.code, caught.value.parameter) == (1082, "class_end_date")


def test_end_date_before_the_first_fitting_date_is_an_empty_series():
    # February has no 31st, so a series ending on 02/28 has no class at all.
    series = rule(RepeatType.MONTHLY, datetime(2026, 2, 1, 9, 0), class_end_date=date(2026, 2, 28), monthly_date=31)
    with pytest.raises(WizIQValidationError) as caught:
        expand(series)
    assert (caught.value.code, caught.value.parameter) == (1082, "class_end_date")


def test_weekend_only_window_for_a_weekday_series_is_empty():
    saturday = datetime(2026, 1, 10, 9, 0)
    with pytest.raises(WizIQValidationError) as caught:
        expand(rule(RepeatType.MON_FRI, saturday, class_end_date=date(2026, 1, 11)))
    assert (caught.value.code, caught.value.parameter) == (1082, "class_end_date")


# Rule 1: wall-clock times across DST.


def test_weekly_series_keeps_its_wall_clock_across_new_york_spring_forward():
    classes = expand(
        rule(RepeatType.WEEKLY, datetime(2026, 3, 1, 9, 0), class_occurrence=3, days_of_week=(Weekday.SUNDAY,))
    )
    assert [local_view(c) for c in classes] == [
        (datetime(2026, 3, 1, 9, 0), -5),
        (datetime(2026, 3, 8, 9, 0), -4),  # DST began at 02:00 that morning
        (datetime(2026, 3, 15, 9, 0), -4),
    ]
    assert [c.utc_start for c in classes] == [
        datetime(2026, 3, 1, 14, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 13, 0, tzinfo=UTC),
        datetime(2026, 3, 15, 13, 0, tzinfo=UTC),
    ]
    assert not any(c.in_gap or c.in_fold for c in classes)


def test_weekly_series_keeps_its_wall_clock_across_new_york_fall_back():
    classes = expand(
        rule(
            RepeatType.WEEKLY,
            datetime(2026, 10, 25, 9, 0),
            class_occurrence=3,
            days_of_week=(Weekday.SUNDAY,),
        )
    )
    assert [local_view(c) for c in classes] == [
        (datetime(2026, 10, 25, 9, 0), -4),
        (datetime(2026, 11, 1, 9, 0), -5),  # DST ended at 02:00 that morning
        (datetime(2026, 11, 8, 9, 0), -5),
    ]
    assert [c.utc_start for c in classes] == [
        datetime(2026, 10, 25, 13, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
        datetime(2026, 11, 8, 14, 0, tzinfo=UTC),
    ]


def test_a_whole_year_keeps_its_local_hour():
    classes = expand(
        rule(
            RepeatType.WEEKLY,
            datetime(2026, 1, 5, 9, 0),
            class_end_date=date(2026, 12, 31),
            specific_week=2,
            days_of_week=(Weekday.MONDAY,),
        )
    )
    assert len(classes) == 26
    assert {c.local_start.hour for c in classes} == {9}
    assert {c.utc_start.hour for c in classes} == {13, 14}
    assert classes[4].utc_start == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert classes[5].utc_start == datetime(2026, 3, 16, 13, 0, tzinfo=UTC)
    assert classes[21].utc_start == datetime(2026, 10, 26, 13, 0, tzinfo=UTC)
    assert classes[22].utc_start == datetime(2026, 11, 9, 14, 0, tzinfo=UTC)


def test_class_in_the_spring_forward_gap_moves_to_daylight_time():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 3, 7, 2, 30), class_occurrence=3))
    gap = classes[1]
    assert gap.wall_clock == datetime(2026, 3, 8, 2, 30)
    assert gap.in_gap
    assert not gap.in_fold
    assert local_view(gap) == (datetime(2026, 3, 8, 3, 30), -4)
    assert gap.local_start.tzname() == "EDT"
    assert gap.utc_start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # The classes either side are ordinary, and the series keeps asking for 02:30.
    assert [(c.in_gap, c.in_fold) for c in (classes[0], classes[2])] == [(False, False), (False, False)]
    assert classes[0].utc_start == datetime(2026, 3, 7, 7, 30, tzinfo=UTC)
    assert classes[2].wall_clock == datetime(2026, 3, 9, 2, 30)
    assert classes[2].utc_start == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)


def test_class_in_the_fall_back_fold_takes_the_first_instant():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 10, 31, 1, 30), class_occurrence=3))
    fold = classes[1]
    assert fold.wall_clock == datetime(2026, 11, 1, 1, 30)
    assert fold.in_fold
    assert not fold.in_gap
    assert local_view(fold) == (datetime(2026, 11, 1, 1, 30), -4)
    assert fold.local_start.tzname() == "EDT"
    assert fold.local_start.fold == 0
    assert fold.utc_start == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert classes[0].utc_start == datetime(2026, 10, 31, 5, 30, tzinfo=UTC)
    assert classes[2].utc_start == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
    assert (classes[2].in_gap, classes[2].in_fold) == (False, False)


def test_sydney_keeps_its_wall_clock_when_dst_ends_in_april_and_starts_in_october():
    april = expand(
        rule(
            RepeatType.WEEKLY,
            datetime(2026, 3, 29, 9, 0),
            SYDNEY,
            class_occurrence=2,
            days_of_week=(Weekday.SUNDAY,),
        )
    )
    assert [local_view(c) for c in april] == [
        (datetime(2026, 3, 29, 9, 0), 11),
        (datetime(2026, 4, 5, 9, 0), 10),
    ]
    assert [c.utc_start for c in april] == [
        datetime(2026, 3, 28, 22, 0, tzinfo=UTC),
        datetime(2026, 4, 4, 23, 0, tzinfo=UTC),
    ]
    october = expand(
        rule(
            RepeatType.WEEKLY,
            datetime(2026, 9, 27, 9, 0),
            SYDNEY,
            class_occurrence=2,
            days_of_week=(Weekday.SUNDAY,),
        )
    )
    assert [local_view(c) for c in october] == [
        (datetime(2026, 9, 27, 9, 0), 10),
        (datetime(2026, 10, 4, 9, 0), 11),
    ]
    assert [c.utc_start for c in october] == [
        datetime(2026, 9, 26, 23, 0, tzinfo=UTC),
        datetime(2026, 10, 3, 22, 0, tzinfo=UTC),
    ]


def test_sydney_gap_in_october_and_fold_in_april():
    (gap,) = expand(rule(RepeatType.DAILY, datetime(2026, 10, 4, 2, 30), SYDNEY, class_occurrence=1))
    assert (gap.in_gap, gap.in_fold) == (True, False)
    assert local_view(gap) == (datetime(2026, 10, 4, 3, 30), 11)
    assert gap.utc_start == datetime(2026, 10, 3, 16, 30, tzinfo=UTC)

    (fold,) = expand(rule(RepeatType.DAILY, datetime(2026, 4, 5, 2, 30), SYDNEY, class_occurrence=1))
    assert (fold.in_gap, fold.in_fold) == (False, True)
    assert local_view(fold) == (datetime(2026, 4, 5, 2, 30), 11)  # the first instant: still daylight time
    assert fold.utc_start == datetime(2026, 4, 4, 15, 30, tzinfo=UTC)


def test_kolkata_half_hour_offset():
    classes = expand(rule(RepeatType.MON_FRI, datetime(2026, 1, 9, 9, 0), KOLKATA, class_occurrence=2))
    assert [local_view(c) for c in classes] == [
        (datetime(2026, 1, 9, 9, 0), 5.5),
        (datetime(2026, 1, 12, 9, 0), 5.5),
    ]
    assert [c.utc_start for c in classes] == [
        datetime(2026, 1, 9, 3, 30, tzinfo=UTC),
        datetime(2026, 1, 12, 3, 30, tzinfo=UTC),
    ]
    # 02:00 local is the previous day in UTC.
    (early,) = expand(rule(RepeatType.DAILY, datetime(2026, 1, 9, 2, 0), KOLKATA, class_occurrence=1))
    assert early.utc_start == datetime(2026, 1, 8, 20, 30, tzinfo=UTC)


def test_gmt_series():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 3, 29, 1, 30), "GMT", class_occurrence=2))
    assert [c.utc_start for c in classes] == [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 1, 30, tzinfo=UTC),
    ]
    assert not any(c.in_gap or c.in_fold for c in classes)


def test_scheduled_class_zones_and_indexes():
    classes = expand(rule(RepeatType.DAILY, datetime(2026, 1, 1, 9, 0), SYDNEY, class_occurrence=3))
    assert [c.index for c in classes] == [0, 1, 2]
    for c in classes:
        assert c.local_start.tzinfo is ZoneInfo(SYDNEY)
        assert c.utc_start.tzinfo is UTC
        assert c.wall_clock.tzinfo is None
        assert c.local_start == c.utc_start


# localize: the one place the gap and fold rule lives.


@pytest.mark.parametrize(
    ("wall_clock", "local", "offset", "in_gap", "in_fold"),
    [
        (datetime(2026, 6, 1, 12, 0), datetime(2026, 6, 1, 12, 0), -4, False, False),
        (datetime(2026, 3, 8, 2, 0), datetime(2026, 3, 8, 3, 0), -4, True, False),
        (datetime(2026, 3, 8, 2, 59, 59), datetime(2026, 3, 8, 3, 59, 59), -4, True, False),
        (datetime(2026, 3, 8, 3, 0), datetime(2026, 3, 8, 3, 0), -4, False, False),
        (datetime(2026, 3, 8, 1, 59, 59), datetime(2026, 3, 8, 1, 59, 59), -5, False, False),
        (datetime(2026, 11, 1, 1, 0), datetime(2026, 11, 1, 1, 0), -4, False, True),
        (datetime(2026, 11, 1, 1, 59, 59), datetime(2026, 11, 1, 1, 59, 59), -4, False, True),
        (datetime(2026, 11, 1, 2, 0), datetime(2026, 11, 1, 2, 0), -5, False, False),
        (datetime(2026, 11, 1, 0, 59, 59), datetime(2026, 11, 1, 0, 59, 59), -4, False, False),
    ],
)
def test_localize_at_new_york_transitions(wall_clock, local, offset, in_gap, in_fold):
    aware, gap, fold = localize(wall_clock, ZoneInfo(NEW_YORK))
    assert (aware.replace(tzinfo=None), hours(aware.utcoffset()), gap, fold) == (
        local,
        offset,
        in_gap,
        in_fold,
    )
    assert aware.tzinfo is ZoneInfo(NEW_YORK)


def test_localize_ignores_a_fold_flag_on_the_wall_clock():
    aware, _, fold = localize(datetime(2026, 11, 1, 1, 30, fold=1), ZoneInfo(NEW_YORK))
    assert fold
    assert aware.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


# Rule 6: recurring_summary.


def summary(series: RecurrenceRule) -> str:
    return recurring_summary(series, expand(series)[0])


def test_summary_daily_reads_exactly_as_the_seed():
    series = rule(RepeatType.DAILY, datetime(2013, 10, 23, 5, 0), "GMT", class_occurrence=4)
    assert summary(series) == ("Your recurring series starts on 10/23/2013 at 05:00 and repeats daily (all 7 days)")


def test_summary_says_the_first_class_not_the_start():
    saturday = datetime(2026, 1, 10, 14, 45)
    assert summary(rule(RepeatType.MON_FRI, saturday, class_occurrence=3)) == (
        "Your recurring series starts on 01/12/2026 at 14:45 and repeats 5 days a week (Mon-Fri)"
    )


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (
            rule(RepeatType.MON_SAT, datetime(2026, 1, 5, 8, 5), class_occurrence=3),
            "Your recurring series starts on 01/05/2026 at 08:05 and repeats 6 days a week (Mon-Sat)",
        ),
        (
            rule(RepeatType.MON_FRI, datetime(2026, 1, 5, 21, 0), class_occurrence=3),
            "Your recurring series starts on 01/05/2026 at 21:00 and repeats 5 days a week (Mon-Fri)",
        ),
        (
            rule(
                RepeatType.WEEKLY,
                datetime(2026, 1, 5, 9, 0),
                class_occurrence=3,
                days_of_week=(Weekday.WEDNESDAY, Weekday.MONDAY),
            ),
            "Your recurring series starts on 01/05/2026 at 09:00 and repeats every week on Monday, Wednesday",
        ),
        (
            rule(
                RepeatType.WEEKLY,
                datetime(2026, 1, 8, 16, 15),
                class_occurrence=3,
                specific_week=2,
                days_of_week=(Weekday.WEDNESDAY, Weekday.MONDAY),
            ),
            "Your recurring series starts on 01/19/2026 at 16:15 and repeats every 2 weeks on Monday, Wednesday",
        ),
        (
            rule(
                RepeatType.WEEKLY,
                datetime(2026, 1, 5, 9, 0),
                class_occurrence=3,
                days_of_week=(Weekday.SUNDAY, Weekday.FRIDAY, Weekday.TUESDAY),
            ),
            "Your recurring series starts on 01/06/2026 at 09:00 and repeats every week on Tuesday, Friday, Sunday",
        ),
        (
            rule(RepeatType.MONTHLY, datetime(2026, 1, 1, 10, 0), class_occurrence=3, monthly_date=15),
            "Your recurring series starts on 01/15/2026 at 10:00 and repeats monthly on the 15th",
        ),
        (
            rule(RepeatType.MONTHLY, datetime(2026, 1, 1, 10, 0), class_occurrence=3, monthly_date=22),
            "Your recurring series starts on 01/22/2026 at 10:00 and repeats monthly on the 22nd",
        ),
        (
            rule(
                RepeatType.MONTHLY,
                datetime(2026, 1, 1, 10, 0),
                class_occurrence=3,
                monthly_day=2,
                monthly_week_day=Weekday.TUESDAY,
            ),
            "Your recurring series starts on 01/13/2026 at 10:00 and repeats monthly on the 2nd Tuesday",
        ),
        (
            rule(
                RepeatType.MONTHLY,
                datetime(2026, 1, 1, 10, 0),
                class_occurrence=3,
                monthly_day=LAST,
                monthly_week_day=Weekday.FRIDAY,
            ),
            "Your recurring series starts on 01/30/2026 at 10:00 and repeats monthly on the last Friday",
        ),
    ],
    ids=[
        "mon-sat",
        "mon-fri",
        "weekly",
        "every-2-weeks",
        "weekly-3-days",
        "15th",
        "22nd",
        "2nd-tuesday",
        "last-friday",
    ],
)
def test_summary_for_each_type(series, expected):
    assert summary(series) == expected


def test_summary_of_a_first_class_in_the_gap_says_the_time_it_starts():
    series = rule(RepeatType.DAILY, datetime(2026, 3, 8, 2, 30), class_occurrence=2)
    first = expand(series)[0]
    assert first.in_gap
    assert recurring_summary(series, first) == (
        "Your recurring series starts on 03/08/2026 at 03:30 and repeats daily (all 7 days)"
    )


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Lord_Howe", "Africa/Casablanca", "Asia/Tokyo"])
@pytest.mark.parametrize("at", [time(0, 0), time(1, 30), time(2, 15), time(23, 59)])
def test_classes_on_any_days_read_each_wall_clock_as_localize_does(zone, at):
    """Days out of order and across DST changes, gaps and folds included: each class is its own reading."""
    tz = ZoneInfo(zone)
    start = date(datetime.now().year + 1, 1, 1)
    days = [start + timedelta(days=n) for n in range(0, 730, 3)]
    days = days[1::2] + days[::-2]  # forward, then backward: days before the first class too
    classes = classes_at(days, at, tz)
    assert [c.index for c in classes] == list(range(len(days)))
    for scheduled, day in zip(classes, days, strict=True):
        wall = datetime.combine(day, at)
        local, in_gap, in_fold = localize(wall, tz)
        assert (scheduled.wall_clock, scheduled.local_start, scheduled.in_gap, scheduled.in_fold) == (
            wall,
            local,
            in_gap,
            in_fold,
        )
        assert scheduled.local_start.tzinfo is tz and scheduled.local_start.fold == 0
        assert scheduled.utc_start == local.astimezone(timezone.utc) and scheduled.utc_start.tzinfo is timezone.utc
        assert str(scheduled.utc_start) == str(local.astimezone(timezone.utc))
    assert classes_at([], at, tz) == ()
