"""Packing a section's classes into WizIQ create calls (api.rules.packing): series a rule reproduces exactly,
single classes for the rest, the bound on create calls, and, with the section's rule as hint, exactly the series
the term sync made before packing existed (kept here verbatim as the reference)."""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.vocabulary import RepeatType, Weekday
from airflow_provider_wiziq.api.rules.calendar import cycle_dates, read_calendar
from airflow_provider_wiziq.api.rules.dates import classes_on
from airflow_provider_wiziq.api.rules.packing import (
    MAX_FILLER_RUN,
    Series,
    SingleClass,
    describe,
    max_calls,
    pack,
)
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass, expand
from airflow_provider_wiziq.api.rules.term import check_term, creation_chunks, desired_schedule

EXAMPLES = {"ci": 60, "deep": 1500}[os.environ.get("HYPOTHESIS_PROFILE", "ci")]
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
UTC = timezone.utc
NEW_YORK = "America/New_York"
ZONES = (NEW_YORK, "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns")
#: Times of day that fall in a DST gap or fold somewhere in ZONES, and plain ones.
TIMES = (time(2, 30), time(1, 30), time(0, 0), time(9, 0), time(15, 45))


def days(first: date, last: date, weekdays: set[int], skip: set[date] = frozenset()) -> list[date]:
    return [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() in weekdays and first + timedelta(days=n) not in skip
    ]


def check_calls(calls, to_create: list[ScheduledClass], blocked=(), *, max_series_classes: int) -> None:
    """Every wanted class brought exactly once, as given; nothing blocked; every series exactly what WizIQ expands."""
    brought = Counter()
    instants = Counter()
    for call in calls:
        assert len(call.slots) == len(call.wanted)
        instants.update(slot.utc_start for slot in call.slots)
        brought.update(slot.utc_start for slot, wanted in zip(call.slots, call.wanted, strict=True) if wanted)
        if isinstance(call, Series):
            assert expand(call.rule, max_classes=max_series_classes) == call.slots
            assert call.rule.start == call.first.wall_clock and call.rule.class_occurrence == len(call.slots)
            assert call.rule.class_end_date is None
            assert call.wanted[0] and call.wanted[-1]
            run = 0
            for wanted in call.wanted:
                run = 0 if wanted else run + 1
                assert run <= MAX_FILLER_RUN
        else:
            assert isinstance(call, SingleClass) and call.wanted == (True,)
    assert brought == Counter(item.utc_start for item in to_create)
    assert max(instants.values(), default=1) == 1, "two calls bring a class at the same instant (1032)"
    assert not set(instants) & set(blocked)
    given_by_instant = {item.utc_start: item for item in to_create}
    for call in calls:
        for slot, wanted in zip(call.slots, call.wanted, strict=True):
            if wanted:
                assert slot[1:] == given_by_instant[slot.utc_start][1:]
    starts = [call.first.utc_start for call in calls]
    assert starts == sorted(starts)


# Explicit dates -------------------------------------------------------------------------------------------------

FALL = (date(2027, 9, 6), date(2027, 12, 17))
HOLIDAYS = {date(2027, 9, 6), date(2027, 11, 24), date(2027, 11, 25), date(2027, 11, 26)}


def test_a_monday_to_friday_section_given_as_dates_packs_like_its_rule():
    classes = classes_on(days(*FALL, set(range(5)), HOLIDAYS), "09:00", NEW_YORK)
    calls = pack(classes, (), max_series_classes=60)
    check_calls(calls, list(classes), max_series_classes=60)
    assert [type(call) for call in calls] == [Series, Series]
    assert [call.rule.repeat_type for call in calls] == [RepeatType.MON_FRI] * 2
    # The 60th class after the Thanksgiving break does not pay for its three cancels: the series stops before.
    assert [len(call.slots) for call in calls] == [56, 15]
    assert [call.extra for call in calls] == [0, 0]
    assert len(calls) <= max_calls(len(classes), 60) == 4
    # The same classes as the rule section's desired schedule, packed the same way.
    sections, holidays, _ = check_term(
        [
            {
                "key": "S",
                "title": "Algebra",
                "presenter_email": "t@school.example",
                "time_zone": NEW_YORK,
                "start_time": "2027-09-06T09:00",
                "class_repeat_type": 3,
                "class_end_date": "2027-12-17",
            }
        ],
        sorted(HOLIDAYS),
        PlanLimits(),
    )
    desired = desired_schedule(sections["S"], holidays).desired
    assert [c.utc_start for c in desired] == [c.utc_start for c in classes]
    chunks = creation_chunks(sections["S"], desired, set(), max_series_classes=60)
    assert [len(chunk.slots) for chunk in chunks] == [60, 14]  # the rule's series: as many creates, three cancels
    assert sum(len(chunk.slots) - sum(chunk.wanted) for chunk in chunks) == 3


def test_the_weekly_rule_is_found_every_week_or_every_n_weeks():
    tue_thu = days(date(2027, 9, 7), date(2027, 12, 16), {1, 3})
    every_other = [day for day in tue_thu if ((day - date(2027, 9, 6)).days // 7) % 2 == 0]
    (call,) = pack(classes_on(every_other, "14:00", "Europe/Berlin"), (), max_series_classes=60)
    assert isinstance(call, Series) and call.extra == 0
    assert (call.rule.repeat_type, call.rule.days_of_week, call.rule.specific_week) == (
        RepeatType.WEEKLY,
        (Weekday.TUESDAY, Weekday.THURSDAY),
        2,
    )
    for weekdays, repeat in (({0, 1, 2, 3, 4, 5, 6}, RepeatType.DAILY), ({0, 1, 2, 3, 4, 5}, RepeatType.MON_SAT)):
        classes = classes_on(days(date(2027, 9, 6), date(2027, 10, 15), weekdays), "08:00", NEW_YORK)
        (call,) = pack(classes, (), max_series_classes=60)
        assert call.rule.repeat_type is repeat and len(call.slots) == len(classes)


def test_a_missing_weekday_inside_a_run_is_cancelled_inside_the_series_and_a_long_break_starts_a_new_one():
    missing = {date(2027, 9, 15), date(2027, 9, 16)}  # a Wednesday and a Thursday off
    winter = {date(2027, 12, 20) + timedelta(days=n) for n in range(14)}
    classes = classes_on(days(date(2027, 9, 6), date(2028, 1, 14), {0, 2, 3}, missing | winter), "10:00", NEW_YORK)
    calls = pack(classes, (), max_series_classes=60)
    check_calls(calls, list(classes), max_series_classes=60)
    assert [len(call.slots) for call in calls] == [45, 6]
    assert calls[0].extra == 2 and calls[1].first.wall_clock.date() == date(2028, 1, 3)
    assert calls[0].rule.days_of_week == (Weekday.MONDAY, Weekday.WEDNESDAY, Weekday.THURSDAY)


def test_a_make_up_day_off_the_pattern_is_a_single_class():
    makeup = date(2027, 10, 16)  # a Saturday among Monday-Wednesday-Friday classes
    dates = [*days(date(2027, 9, 6), date(2027, 11, 26), {0, 2, 4}), makeup]
    classes = classes_on(dates, "09:00", NEW_YORK)
    calls = pack(classes, (), max_series_classes=60)
    check_calls(calls, list(classes), max_series_classes=60)
    assert [type(call).__name__ for call in calls] == ["Series", "SingleClass"]
    assert calls[0].extra == 0 and calls[1].slot.wall_clock.date() == makeup
    first = classes_on([makeup, *days(date(2027, 10, 18), date(2027, 12, 17), {0, 2, 4})], "09:00", NEW_YORK)
    calls = pack(first, (), max_series_classes=60)  # the make-up day first: it still stays alone
    assert [type(call).__name__ for call in calls] == ["SingleClass", "Series"] and calls[1].extra == 0


def test_an_ab_day_rotation_packs_into_every_other_week_series_and_singles():
    school = days(date(2027, 9, 7), date(2027, 12, 17), set(range(5)), HOLIDAYS | {date(2027, 10, 11)})
    calendar = read_calendar([{"date": day, "day": "AB"[n % 2]} for n, day in enumerate(school)])
    a_days = cycle_dates(calendar, "A", date(2027, 9, 7), end=date(2027, 12, 17))
    classes = classes_on(a_days, "11:00", NEW_YORK)
    calls = pack(classes, (), max_series_classes=60)
    check_calls(calls, list(classes), max_series_classes=60)
    every_other = [call for call in calls if isinstance(call, Series) and call.rule.specific_week == 2]
    assert sum(call.created for call in every_other) >= len(classes) // 2
    assert len(calls) + sum(call.extra for call in calls) < len(classes) / 2  # far fewer calls than one a class


def test_a_series_never_runs_over_a_class_that_stays_nor_over_another_time_of_day():
    classes = classes_on(days(date(2027, 9, 6), date(2027, 10, 1), set(range(5))), "09:00", NEW_YORK)
    staying = classes[7]
    to_create = [c for c in classes if c is not staying]
    calls = pack(to_create, {staying.utc_start}, max_series_classes=60)
    check_calls(calls, to_create, {staying.utc_start}, max_series_classes=60)
    assert [len(call.slots) for call in calls] == [7, 12]
    afternoon = classes_on([date(2027, 9, 8), date(2027, 9, 15)], "15:00", NEW_YORK)
    calls = pack([*to_create, *afternoon], {staying.utc_start}, max_series_classes=60)
    check_calls(calls, [*to_create, *afternoon], {staying.utc_start}, max_series_classes=60)
    assert {call.first.wall_clock.time() for call in calls} == {time(9), time(15)}


def test_a_series_keeps_its_wall_clock_across_dst_and_through_a_gap():
    # New York springs forward on Sunday 2027-03-14: 02:30 does not exist that day.
    classes = classes_on(days(date(2027, 3, 1), date(2027, 3, 31), set(range(7))), "02:30", NEW_YORK)
    (call,) = pack(classes, (), max_series_classes=60)
    assert call.rule.repeat_type is RepeatType.DAILY and call.rule.start == datetime(2027, 3, 1, 2, 30)
    assert [slot.in_gap for slot in call.slots].count(True) == 1
    check_calls([call], list(classes), max_series_classes=60)


def test_describe_says_how_a_section_was_packed():
    classes = classes_on(days(*FALL, set(range(5)), HOLIDAYS), "09:00", NEW_YORK)
    extra = classes_on([date(2028, 2, 5)], "09:00", NEW_YORK)
    calls = pack([*classes, *extra], (), max_series_classes=60)
    assert describe(calls) == "3 create calls: 2 series (56 + 15 classes), 1 single class"
    thanksgiving = pack(classes[40:], (), max_series_classes=60)
    assert describe(thanksgiving) == "1 create call: 1 series (34 classes, 3 cancelled right after)"
    assert describe(pack(extra, (), max_series_classes=60)) == "1 create call: 1 single class"
    assert describe([]) == "nothing to create" and pack([], (), max_series_classes=60) == []


# Properties -----------------------------------------------------------------------------------------------------


@st.composite
def weekday_patterns(draw):
    """One weekday pattern (days, every N weeks) over a term, with a few gaps: at most a tenth of its dates
    missing, as single holidays and at most one break."""
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    every = draw(st.sampled_from([1, 1, 1, 2, 3, 4, 5]))
    first = date(2027, 1, 4) + timedelta(days=draw(st.integers(0, 400)))
    weeks = draw(st.integers(2, 52))
    monday = first - timedelta(days=first.weekday())
    pattern = [
        monday + timedelta(weeks=week, days=weekday)
        for week in range(0, weeks, every)
        for weekday in sorted(weekdays)
        if monday + timedelta(weeks=week, days=weekday) >= first
    ]
    assume(len(pattern) >= 2)
    allowed = max(1, len(pattern) // 10)
    missing = set(draw(st.lists(st.sampled_from(pattern), max_size=allowed)))
    if draw(st.booleans()):
        start = draw(st.sampled_from(pattern))
        missing |= {start + timedelta(days=n) for n in range(draw(st.integers(1, 28)))}
    dates = [day for day in pattern if day not in missing]
    assume(dates and len(pattern) - len(dates) <= allowed)
    return dates


@PROPERTY
@given(weekday_patterns(), st.sampled_from(ZONES), st.sampled_from(TIMES), st.sampled_from([10, 20, 30, 60]))
def test_one_weekday_pattern_with_a_few_gaps_needs_at_most_the_bound_of_create_calls(dates, zone, at, limit):
    classes = classes_on(dates, at, zone)
    calls = pack(classes, (), max_series_classes=limit)
    check_calls(calls, list(classes), max_series_classes=limit)
    assert len(calls) <= math.ceil(len(classes) / limit) + 2, describe(calls)


@PROPERTY
@given(
    st.sets(st.integers(0, 150), min_size=1, max_size=90),
    st.sets(st.integers(0, 150), max_size=12),
    st.sampled_from(ZONES),
    st.sampled_from(TIMES),
    st.integers(2, 60),
    st.integers(0, 6),
)
def test_any_dates_are_each_brought_once_never_over_a_blocked_class(offsets, kept, zone, at, limit, max_filler):
    first = date(2027, 2, 1)
    classes = classes_on([first + timedelta(days=n) for n in offsets], at, zone)
    staying = classes_on([first + timedelta(days=n) for n in kept - offsets], at, zone)
    blocked = {item.utc_start for item in staying}
    calls = pack(classes, blocked, max_series_classes=limit, max_filler=max_filler)
    check_calls(calls, list(classes), blocked, max_series_classes=limit)
    for call in calls:
        run = 0
        for wanted in call.wanted:
            run = 0 if wanted else run + 1
            assert run <= max_filler
    assert len(calls) + sum(call.extra for call in calls) <= len(classes)  # never more calls than one a class


# With the section's rule: exactly what the sync did before packing ---------------------------------------------


def chunks_before_packing(section, to_create, blocked, *, max_series_classes):
    """term.creation_chunks as it was before pack() existed, verbatim but for its return value's shape."""
    wanted = {item.utc_start for item in to_create}
    done: set[datetime] = set()
    chunks = []
    for start in to_create:
        if start.utc_start in done:
            continue
        rule = replace(
            section.request.recurrence_rule(),
            start=start.wall_clock,
            class_occurrence=max_series_classes,
            class_end_date=None,
        )
        slots = expand(rule, max_classes=max_series_classes)
        assert slots[0].utc_start == start.utc_start
        taken: list[ScheduledClass] = []
        flags: list[bool] = []
        filler = 0
        for slot in slots:
            instant = slot.utc_start
            useful = instant in wanted and instant not in done
            if not useful and (instant in blocked or instant in done):
                break
            filler = 0 if useful else filler + 1
            if filler > MAX_FILLER_RUN:
                break
            taken.append(slot)
            flags.append(useful)
        while not flags[-1]:
            taken.pop()
            flags.pop()
        done.update(slot.utc_start for slot, useful in zip(taken, flags, strict=True) if useful)
        request = replace(
            section.request, start_wall_clock=start.wall_clock, class_occurrence=len(taken), class_end_date=None
        )
        chunks.append((request, tuple(taken), tuple(flags)))
    return chunks


def rule_section(holidays=(), **changes):
    spec = {
        "key": "S1",
        "title": "Algebra",
        "presenter_email": "t@school.example",
        "time_zone": NEW_YORK,
        "start_time": "2027-09-06T09:00",
        "class_repeat_type": 3,
        "class_end_date": "2027-12-17",
        **changes,
    }
    sections, found, invalid = check_term([spec], list(holidays), PlanLimits())
    assert invalid == {}
    return sections["S1"], found


def same_as_before(section, to_create, blocked, limit):
    before = chunks_before_packing(section, to_create, blocked, max_series_classes=limit)
    now = creation_chunks(section, to_create, blocked, max_series_classes=limit)
    assert [(chunk.request, chunk.slots, chunk.wanted) for chunk in now] == before
    calls = pack(to_create, blocked, max_series_classes=limit, hint=section.request.recurrence_rule())
    assert all(isinstance(call, Series) for call in calls)
    assert [(call.rule, call.slots, call.wanted) for call in calls] == [
        (request.recurrence_rule(), slots, flags) for request, slots, flags in before
    ]
    return calls


@pytest.mark.parametrize(
    ("holidays", "changes", "cut", "staying"),
    [
        (["2027-09-06", "2027-11-24..2027-11-26"], {}, None, ()),  # test_term: split at 60, Thanksgiving inside
        (["2027-12-20..2027-12-31"], {"class_end_date": "2028-01-14", "start_time": "2027-12-06T09:00"}, None, ()),
        ([], {"class_repeat_type": 4, "days_of_week": "monday,thursday", "specific_week": 2}, 5, ()),  # late start
        ([], {}, None, (4,)),  # a class that stays in the middle
        (
            ["2027-10-11"],
            {
                "class_repeat_type": 4,
                "days_of_week": "monday",
                "class_end_date": None,
                "class_occurrence": 10,
                "start_time": "2027-09-13T09:00",
            },
            None,
            (),
        ),
        (["2027-11-07"], {"class_repeat_type": 1, "start_time": "2027-10-30T01:30"}, None, (3,)),  # a fold, a stay
        (
            [],
            {
                "class_repeat_type": 5,
                "monthly_day": "last",
                "monthly_week_day": "friday",
                "class_end_date": "2033-12-31",
            },
            None,
            (10,),
        ),
    ],
)
def test_with_the_sections_rule_pack_gives_what_the_sync_gave_before(holidays, changes, cut, staying):
    section, found = rule_section(holidays, **changes)
    desired = list(desired_schedule(section, found).desired)
    if cut is not None:
        desired = desired[cut:]
    blocked = {desired[index].utc_start for index in staying}
    to_create = [item for item in desired if item.utc_start not in blocked]
    calls = same_as_before(section, to_create, blocked, 60)
    check_calls(calls, to_create, blocked, max_series_classes=60)


@st.composite
def rule_sections(draw):
    repeat = draw(st.sampled_from([1, 2, 3, 4, 4, 5]))
    changes: dict = {
        "class_repeat_type": repeat,
        "time_zone": draw(st.sampled_from(ZONES)),
        "start_time": f"{date(2027, 1, 4) + timedelta(days=draw(st.integers(0, 300)))}T"
        f"{draw(st.sampled_from(TIMES)).strftime('%H:%M')}",
        "class_end_date": None,
        "class_occurrence": draw(st.integers(1, 200)),
    }
    if repeat == 4:
        changes["days_of_week"] = ",".join(
            Weekday(d).wire for d in sorted(draw(st.sets(st.integers(0, 6), min_size=1)))
        )
        changes["specific_week"] = draw(st.integers(1, 5))
    if repeat == 5:
        changes["monthly_date"] = draw(st.integers(1, 31))
    return changes


@PROPERTY
@given(rule_sections(), st.data(), st.sampled_from([7, 20, 60]))
def test_with_any_rule_pack_gives_what_the_sync_gave_before(changes, data, limit):
    section, _ = rule_section(**changes)
    desired = list(desired_schedule(section, frozenset()).desired)
    gone = data.draw(st.sets(st.integers(0, len(desired) - 1), max_size=len(desired) // 3))
    kept = data.draw(st.sets(st.integers(0, len(desired) - 1), max_size=5)) - gone
    cut = data.draw(st.integers(0, len(desired) - 1))
    blocked = {desired[index].utc_start for index in kept}
    to_create = [item for index, item in enumerate(desired) if index >= cut and index not in gone | kept]
    assume(to_create)
    same_as_before(section, to_create, blocked, limit)
