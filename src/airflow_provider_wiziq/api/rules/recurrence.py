"""How a recurring series expands into classes: the project's recurrence rules (docs/wiziq-api.md §8).

Client preview, client validation and the emulator all expand a series here, so they agree on every
class's date, instant and DST flag. The calendar arithmetic is dateutil's ``rrule``; time zones are
``zoneinfo``. All times are wall-clock times in the series' time zone: a series keeps its local time of day
across DST changes, and :func:`localize` is the one place that decides what a wall clock means in a zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice
from typing import Any, ClassVar, NamedTuple
from zoneinfo import ZoneInfo

from dateutil import rrule as _rr

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import DEFAULT_MAX_SERIES_CLASSES
from airflow_provider_wiziq.api.protocol.values import LAST_DAY
from airflow_provider_wiziq.api.protocol.vocabulary import (
    LAST,
    RECURRENCE_PARAMETERS,
    RepeatType,
    Weekday,
    monthly_day_wire,
    ordinal,
)

_combine = datetime.combine

#: dateutil's weekday objects, indexed like :class:`Weekday` (Monday = 0).
_RR_DAYS = (_rr.MO, _rr.TU, _rr.WE, _rr.TH, _rr.FR, _rr.SA, _rr.SU)
_MON_SAT = _RR_DAYS[:6]
_MON_FRI = _RR_DAYS[:5]


@dataclass(frozen=True)
class RecurrenceRule:
    """A series as ``create_recurring`` describes it, already validated (see :mod:`.request`)."""

    repeat_type: RepeatType
    start: datetime  # naive wall-clock start (date + time of day) in time_zone
    time_zone: str  # IANA name, e.g. "America/New_York" or "GMT"
    class_occurrence: int | None = None  # total number of classes
    class_end_date: date | None = None  # inclusive, local date
    specific_week: int = 1  # weekly: every N weeks
    days_of_week: tuple[Weekday, ...] = ()  # weekly: the days, in any order (a set)
    monthly_date: int | None = None  # monthly by date: 1..31
    monthly_day: int | None = None  # monthly by weekday: 1..4 or LAST (-1)
    monthly_week_day: Weekday | None = None

    #: The ``create_recurring`` parameters a rule is read from, as WizIQ spells them.
    PARAMETERS: ClassVar[tuple[str, ...]] = RECURRENCE_PARAMETERS

    @staticmethod
    def read_fields(p: Mapping[str, Any]) -> dict[str, Any]:
        """The rule's fields but ``start`` and ``time_zone``, read from ``create_recurring``'s parameters.

        The one validation of a repeat rule, with WizIQ's codes (1081-1087): the bound, then each repeat
        type's own parameters, which no other type may be given.
        """
        repeat = values.repeat_type("class_repeat_type", p.get("class_repeat_type"))
        return {"repeat_type": repeat, **read_bound(p), **_read_weekly(p, repeat), **_read_monthly(p, repeat)}

    def summary(self) -> str:
        """What repeats, as WizIQ's summary says it: ``daily (all 7 days)``, ``monthly on the 15th``..."""
        return _FORMS[self.repeat_type].summary(self)

    def to_wire(self) -> dict[str, str]:
        """The rule's ``create_recurring`` fields exactly as WizIQ reads them."""
        wire = {"class_repeat_type": str(int(self.repeat_type))}
        if self.class_occurrence is not None:
            wire["class_occurrence"] = str(self.class_occurrence)
        if self.class_end_date is not None:
            wire["class_end_date"] = values.wire_date(self.class_end_date)
        wire.update(_FORMS[self.repeat_type].wire(self))
        return wire


class ScheduledClass(NamedTuple):
    """One class of a series: the wall clock the rule asked for and the instant it really starts.

    A named tuple rather than a frozen dataclass: a term makes tens of thousands of them, and a tuple is
    built in a third of the time. Read it by field name.
    """

    index: int  # type: ignore[assignment]  # 0-based position in the series (shadows tuple.index)
    wall_clock: datetime  # naive wall-clock time the rule asked for
    local_start: datetime  # aware, tzinfo=ZoneInfo(time_zone): the real instant in local time
    utc_start: datetime  # aware, tzinfo=timezone.utc
    in_gap: bool  # wall_clock did not exist (spring-forward gap): moved by the offset before the gap
    in_fold: bool  # wall_clock was ambiguous (fall back): the first of the two instants taken


#: A ScheduledClass from its six fields, without the named tuple's own ``__new__`` (a Python call a class).
_scheduled: Callable[[type[ScheduledClass], tuple[int, datetime, datetime, datetime, bool, bool]], ScheduledClass] = (
    tuple.__new__
)


def localize(wall_clock: datetime, zone: ZoneInfo) -> tuple[datetime, bool, bool]:
    """The instant a naive wall clock means in ``zone``: ``(aware local time, in_gap, in_fold)``.

    A time skipped by a spring-forward gap is read with the offset in force before the gap (02:30 becomes
    03:30 daylight time); a time repeated by a fall-back fold is the first of its two instants. This is
    RFC 5545 §3.3.5, and exactly what zoneinfo does with ``fold=0``.
    """
    local = wall_clock.replace(tzinfo=zone, fold=0)
    return _resolve(wall_clock, local, local.replace(fold=1), zone)


def _resolve(wall_clock: datetime, local: datetime, twin: datetime, zone: ZoneInfo) -> tuple[datetime, bool, bool]:
    """:func:`localize`, given the wall clock's two readings in ``zone``: ``local`` (fold 0), ``twin`` (fold 1)."""
    # zone.utcoffset(dt) gives the same as dt.utcoffset(), without datetime's per-call checks.
    if zone.utcoffset(local) == zone.utcoffset(twin):
        return local, False, False
    # The offsets differ only at a transition: a gap if the wall clock does not survive a UTC round trip.
    real = local.astimezone(timezone.utc).astimezone(zone)
    if real.replace(tzinfo=None) != wall_clock:
        return real, True, False
    return local, False, True


def _rrule(rule: RecurrenceRule) -> _rr.rrule:
    """The dateutil rule for a series (read by :meth:`RecurrenceRule.read`, so already valid)."""
    until = None if rule.class_end_date is None else datetime.combine(rule.class_end_date, time.max)
    freq, pattern = _FORMS[rule.repeat_type].pattern(rule)
    # WizIQ's start_time has whole seconds; rrule would drop microseconds anyway, this makes it explicit.
    return _rr.rrule(
        freq, dtstart=rule.start.replace(microsecond=0), count=rule.class_occurrence, until=until, **pattern
    )


def iter_wall_clock(rule: RecurrenceRule) -> Iterator[datetime]:
    """The series' naive wall-clock times in order, bounded only by its own count or end date."""
    return iter(_rrule(rule))


#: What a series longer than WizIQ allows can be instead (said with its 1082).
_SPLIT_HINT = (
    "; SyncTermOperator splits a longer term into several series (or raise the connection's max_series_classes, "
    "if the plan allows longer series)"
)
#: How far an end-date series that is too long is counted, to say how many classes it has.
_COUNTED_UP_TO = 10_000


def expand(rule: RecurrenceRule, *, max_classes: int = DEFAULT_MAX_SERIES_CLASSES) -> tuple[ScheduledClass, ...]:
    """Every class of the series, at most ``max_classes`` of them.

    More classes than ``max_classes``, or none at all, is WizIQ's 1082, naming the parameter that bounds
    the series. An end-date series is never expanded past ``max_classes + 1`` classes to find that out.
    """
    recurrence = _rrule(rule)
    count = rule.class_occurrence
    parameter = "class_occurrence" if count is not None else "class_end_date"
    if count is not None and count > max_classes:
        raise WizIQValidationError(
            parameter,
            f"{count} classes, more than the {max_classes} one series may hold{_SPLIT_HINT}",
            code=Code.OCCURRENCE_OR_END_DATE_INVALID,
        )
    walls = _first_walls(recurrence, max_classes + 1)
    if (walls and walls[-1].date() > LAST_DAY) or (count is not None and len(walls) < count):
        # rrule stops quietly at the year 9999: a series it cut short is refused, never returned shorter.
        raise WizIQValidationError(
            parameter,
            f"the series does not fit before {LAST_DAY}, the last day a class can be booked",
            code=Code.OCCURRENCE_OR_END_DATE_INVALID,
        )
    if len(walls) > max_classes:
        held = len(_first_walls(_rrule(rule), _COUNTED_UP_TO + 1))
        how_many = f"more than {_COUNTED_UP_TO}" if held > _COUNTED_UP_TO else str(held)
        raise WizIQValidationError(
            parameter,
            f"the series up to {rule.class_end_date} has {how_many} classes, more than the {max_classes} one series "
            f"may hold{_SPLIT_HINT}",
            code=Code.OCCURRENCE_OR_END_DATE_INVALID,
        )
    if not walls:
        raise WizIQValidationError(
            parameter, f"the series has no class: {_no_class(rule)}", code=Code.OCCURRENCE_OR_END_DATE_INVALID
        )
    # Every class of a series has the start's time of day (the rrule has no by-hour or by-minute parts).
    classes = classes_at(walls, walls[0].time(), ZoneInfo(rule.time_zone))
    if classes[-1].utc_start.date() > LAST_DAY:
        raise WizIQValidationError(
            parameter,
            f"the series' last class is after {LAST_DAY} in UTC, the last day a class can be booked",
            code=Code.OCCURRENCE_OR_END_DATE_INVALID,
        )
    return tuple(classes)


def classes_at(days: Sequence[date], time_of_day: time, zone: ZoneInfo) -> tuple[ScheduledClass, ...]:
    """The classes on ``days`` (in the order given, ``index`` counting from 0) at one naive ``time_of_day``,
    each read in ``zone`` by :func:`localize`'s rules. A ``datetime`` in ``days`` counts by its date.

    A term makes tens of thousands of classes, so each costs datetime arithmetic rather than datetimes made
    by keyword: the time of day's two readings in the zone are made once; a class's first reading (fold 0)
    is the first class's plus the days between them, and when its second reading (fold 1, made with
    ``datetime.combine``) has the same offset, which is all but the classes in a DST gap or fold, its UTC
    instant is the first wall clock read as UTC plus those days less that offset.
    """
    if not days:
        return ()
    utc = timezone.utc
    at = time_of_day.replace(tzinfo=zone, fold=0)
    at_twin = at.replace(fold=1)
    offset_of: Callable[[datetime], timedelta] = zone.utcoffset  # type: ignore[assignment]  # never None here
    first = _combine(days[0], time_of_day)
    local_first, utc_first = _combine(first, at), first.replace(tzinfo=utc)
    classes: list[ScheduledClass] = []
    append = classes.append
    for index, day in enumerate(days):
        wall = _combine(day, time_of_day)
        since = wall - first
        local = local_first + since
        offset = offset_of(local)
        if offset == offset_of(_combine(day, at_twin)):  # one reading: neither in a gap nor in a fold
            append(_scheduled(ScheduledClass, (index, wall, local, utc_first + (since - offset), False, False)))
        else:
            local, in_gap, in_fold = _resolve(wall, local, _combine(day, at_twin), zone)
            append(_scheduled(ScheduledClass, (index, wall, local, local.astimezone(utc), in_gap, in_fold)))
    return tuple(classes)


def _first_walls(recurrence: _rr.rrule, count: int) -> tuple[datetime, ...]:
    """Up to ``count`` wall clocks of ``recurrence``; all it has before the calendar ends (rrule raises
    ValueError when a week or month it walks runs past year 9999, and stops quietly at other times)."""
    walls: list[datetime] = []
    with suppress(ValueError, OverflowError):  # extend keeps every wall handed over before the error
        walls.extend(islice(recurrence, count))
    return tuple(walls)


def _no_class(rule: RecurrenceRule) -> str:
    """Why a series is empty, for its 1082 error."""
    if rule.class_end_date is not None:
        return f"the end date {rule.class_end_date} is before the first class on or after {rule.start:%Y-%m-%d}"
    return f"class_occurrence is {rule.class_occurrence}"


def recurring_summary(rule: RecurrenceRule, first: ScheduledClass) -> str:
    """WizIQ's ``recurring_summary``: the date and local time the first class really starts (03:30 for a
    02:30 start that a DST gap skips), then what repeats."""
    local = first.local_start
    return (
        f"Your recurring series starts on {local.month:02d}/{local.day:02d}/{local.year:04d}"
        f" at {local.hour:02d}:{local.minute:02d} and repeats {rule.summary()}"
    )


@dataclass(frozen=True)
class _Form:
    """What one repeat type is (docs/wiziq-api.md §8.2): its rrule, its summary words, its own wire fields."""

    pattern: Callable[[RecurrenceRule], tuple[int, dict[str, Any]]]
    summary: Callable[[RecurrenceRule], str]
    wire: Callable[[RecurrenceRule], dict[str, str]] = lambda rule: {}


def _daily(days: tuple[_rr.weekday, ...] | None, words: str) -> _Form:
    """A type that repeats on fixed days of every week: nothing of its own to read or write."""
    pattern: dict[str, Any] = {"byweekday": days} if days else {}
    return _Form(lambda rule: (_rr.DAILY, pattern), lambda rule: words)


def _weekly_pattern(rule: RecurrenceRule) -> tuple[int, dict[str, Any]]:
    days = tuple(_RR_DAYS[day] for day in sorted(set(rule.days_of_week)))
    # wkst=MO with interval=N: the week holding the start is week 0, classes fall in weeks 0, N, 2N...
    return _rr.WEEKLY, {"interval": rule.specific_week, "wkst": _rr.MO, "byweekday": days}


def _weekly_summary(rule: RecurrenceRule) -> str:
    days = ", ".join(day.title for day in sorted(set(rule.days_of_week)))
    every = "every week" if rule.specific_week == 1 else f"every {rule.specific_week} weeks"
    return f"{every} on {days}"


def _weekly_wire(rule: RecurrenceRule) -> dict[str, str]:
    return {"specific_week": str(rule.specific_week), "days_of_week": ",".join(day.wire for day in rule.days_of_week)}


def _monthly_pattern(rule: RecurrenceRule) -> tuple[int, dict[str, Any]]:
    if rule.monthly_date is not None:
        # bymonthday skips, and does not count, a month without that date.
        return _rr.MONTHLY, {"bymonthday": rule.monthly_date}
    assert rule.monthly_day is not None and rule.monthly_week_day is not None
    return _rr.MONTHLY, {"byweekday": _RR_DAYS[rule.monthly_week_day](rule.monthly_day)}


def _monthly_summary(rule: RecurrenceRule) -> str:
    if rule.monthly_date is not None:
        return f"monthly on the {ordinal(rule.monthly_date)}"
    assert rule.monthly_day is not None and rule.monthly_week_day is not None
    nth = "last" if rule.monthly_day == LAST else ordinal(rule.monthly_day)
    return f"monthly on the {nth} {rule.monthly_week_day.title}"


def _monthly_wire(rule: RecurrenceRule) -> dict[str, str]:
    if rule.monthly_date is not None:
        return {"monthly_date": ordinal(rule.monthly_date), "rdo_by_date": "true"}
    assert rule.monthly_day is not None and rule.monthly_week_day is not None
    return {
        "monthly_day": monthly_day_wire(rule.monthly_day),
        "monthly_week_day": rule.monthly_week_day.wire,
        "rdo_by_day": "true",
    }


#: Each repeat type, once: the one table every expansion, summary and wire form reads.
_FORMS: dict[RepeatType, _Form] = {
    RepeatType.DAILY: _daily(None, "daily (all 7 days)"),
    RepeatType.MON_SAT: _daily(_MON_SAT, "6 days a week (Mon-Sat)"),
    RepeatType.MON_FRI: _daily(_MON_FRI, "5 days a week (Mon-Fri)"),
    RepeatType.WEEKLY: _Form(_weekly_pattern, _weekly_summary, _weekly_wire),
    RepeatType.MONTHLY: _Form(_monthly_pattern, _monthly_summary, _monthly_wire),
}


def read_bound(p: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly one of class_occurrence and class_end_date bounds a series (1082 otherwise)."""
    occurrence = values.integer(
        "class_occurrence", p.get("class_occurrence"), code=Code.OCCURRENCE_OR_END_DATE_INVALID, minimum=1
    )
    end = values.end_date("class_end_date", p.get("class_end_date"))
    if (occurrence is None) == (end is None):
        both = "both were given" if occurrence is not None else "neither was given"
        raise WizIQValidationError(
            "class_occurrence",
            f"give class_occurrence or class_end_date: {both}",
            code=Code.OCCURRENCE_OR_END_DATE_INVALID,
        )
    return {"class_occurrence": occurrence, "class_end_date": end}


def _read_weekly(p: Mapping[str, Any], repeat: RepeatType) -> dict[str, Any]:
    """specific_week (1..5, default 1) and days_of_week (at least one day): type 4 only (1083)."""
    specific_week = values.integer(
        "specific_week", p.get("specific_week"), code=Code.WEEK_DAYS_INVALID, minimum=1, maximum=5
    )
    days = values.weekdays("days_of_week", p.get("days_of_week"), code=Code.WEEK_DAYS_INVALID)
    if repeat is not RepeatType.WEEKLY:
        for name, given in (("specific_week", specific_week is not None), ("days_of_week", bool(days))):
            if given:
                raise WizIQValidationError(
                    name, "applies only to class_repeat_type 4 (weekly)", code=Code.WEEK_DAYS_INVALID
                )
        return {}
    if not days:
        raise WizIQValidationError(
            "days_of_week", "a weekly series needs at least one day", code=Code.WEEK_DAYS_INVALID
        )
    return {"specific_week": specific_week or 1, "days_of_week": days}


def _read_monthly(p: Mapping[str, Any], repeat: RepeatType) -> dict[str, Any]:
    """Type 5 repeats by date (monthly_date) or by weekday (monthly_day + monthly_week_day), never both."""
    by_date_flag = values.boolean("rdo_by_date", p.get("rdo_by_date"), code=Code.MONTHLY_BY_INVALID)
    by_day_flag = values.boolean("rdo_by_day", p.get("rdo_by_day"), code=Code.MONTHLY_BY_INVALID)
    day_of_month = values.monthly_date("monthly_date", p.get("monthly_date"))
    week = values.monthly_day("monthly_day", p.get("monthly_day"))
    week_day = values.weekday("monthly_week_day", p.get("monthly_week_day"), code=Code.MONTHLY_DAY_INVALID)
    by_date = day_of_month is not None or bool(by_date_flag)
    by_day = week is not None or week_day is not None or bool(by_day_flag)
    if repeat is not RepeatType.MONTHLY:
        for name, given, code in (
            ("monthly_date", day_of_month is not None, Code.MONTHLY_DATE_INVALID),
            ("monthly_day", week is not None, Code.MONTHLY_DAY_INVALID),
            ("monthly_week_day", week_day is not None, Code.MONTHLY_DAY_INVALID),
            ("rdo_by_date", bool(by_date_flag), Code.MONTHLY_BY_INVALID),
            ("rdo_by_day", bool(by_day_flag), Code.MONTHLY_BY_INVALID),
        ):
            if given:
                raise WizIQValidationError(name, "applies only to class_repeat_type 5 (monthly)", code=code)
        return {}
    if by_date and by_day:
        raise WizIQValidationError(
            "rdo_by_date", "a monthly series repeats by date or by day, not both", code=Code.MONTHLY_BY_INVALID
        )
    if not by_date and not by_day:
        raise WizIQValidationError(
            "rdo_by_date",
            "a monthly series needs monthly_date, or monthly_day with monthly_week_day",
            code=Code.MONTHLY_BY_INVALID,
        )
    if by_date:
        if by_date_flag is False:
            raise WizIQValidationError(
                "rdo_by_date", "is false but monthly_date was given", code=Code.MONTHLY_BY_INVALID
            )
        if day_of_month is None:
            raise WizIQValidationError(
                "monthly_date", "is required when repeating by date", code=Code.MONTHLY_DATE_INVALID
            )
        return {"monthly_date": day_of_month}
    if by_day_flag is False:
        raise WizIQValidationError("rdo_by_day", "is false but monthly_day was given", code=Code.MONTHLY_BY_INVALID)
    if week is None:
        raise WizIQValidationError(
            "monthly_day", "is required with monthly_week_day (1st-4th or Last)", code=Code.MONTHLY_DAY_INVALID
        )
    if week_day is None:
        raise WizIQValidationError(
            "monthly_week_day", "is required with monthly_day (a day name)", code=Code.MONTHLY_DAY_INVALID
        )
    return {"monthly_day": week, "monthly_week_day": week_day}


__all__ = [
    "RecurrenceRule",
    "ScheduledClass",
    "classes_at",
    "expand",
    "iter_wall_clock",
    "localize",
    "read_bound",
    "recurring_summary",
]
