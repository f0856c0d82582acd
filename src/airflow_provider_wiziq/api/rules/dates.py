"""Local dates as a term declares them, and the classes they hold at one time of day in one zone.

One reader takes every list of dates the sync is given (a term's ``holidays``, a section's ``class_dates``): ISO
``YYYY-MM-DD`` dates and inclusive ranges ``YYYY-MM-DD..YYYY-MM-DD`` (every day of the range), as a list, JSON
text, or comma or space separated text. :func:`classes_on` turns dates into classes with :func:`localize`'s
reading of a wall clock (DST gaps and folds flagged), the same as a recurring series' classes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass, classes_at

#: The most dates one list may hold (ranges count each of their days): ten years of days.
MAX_DATES = 3660
# re.ASCII: \d is 0-9 only. Python 3.11's date.fromisoformat also reads 20270907 and 2027-W36-2: not here.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_RANGE = re.compile(r"^\s*(\S+?)\s*\.\.\s*(\S+)\s*$")
_RANGE_DOTS = re.compile(r"\s*\.\.\s*")
_SEPARATORS = re.compile(r"[,\s]+")
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)


def read_dates(parameter: str, value: Any, *, limit: int = MAX_DATES) -> frozenset[date]:
    """Local dates: ``date``s (a ``datetime`` counts by its date), ISO strings and inclusive ranges
    ``"2027-11-24..2027-11-26"``, as a list, JSON text or comma/space separated text; nothing given is none.

    Every error names ``parameter`` and the item it is about.
    """
    if not values.is_given(value):
        return frozenset()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as error:
                raise WizIQValidationError(parameter, f"is not valid JSON: {error}") from None
        else:
            value = [part for part in _SEPARATORS.split(_RANGE_DOTS.sub("..", text)) if part]
    if isinstance(value, date):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
        raise WizIQValidationError(parameter, "must be a list of dates and date ranges 'YYYY-MM-DD..YYYY-MM-DD'")
    days: set[date] = set()
    for item in value:
        if isinstance(item, datetime):
            days.add(item.date())
        elif isinstance(item, date):
            days.add(item)
        elif isinstance(item, str) and (match := _RANGE.match(item)):
            first, last = iso_date(parameter, match.group(1)), iso_date(parameter, match.group(2))
            if last < first:
                raise WizIQValidationError(parameter, f"the range {item!r} ends before it starts")
            if (last - first).days >= limit:
                raise WizIQValidationError(parameter, f"the range {item!r} is longer than {limit} days")
            days.update(first + timedelta(days=offset) for offset in range((last - first).days + 1))
        elif isinstance(item, str):
            days.add(iso_date(parameter, item))
        else:
            raise WizIQValidationError(parameter, f"{item!r} is not a date or a range 'YYYY-MM-DD..YYYY-MM-DD'")
        if len(days) > limit:
            raise WizIQValidationError(parameter, f"more than {limit} dates")
    return frozenset(days)


def iso_date(parameter: str, text: str) -> date:
    """An ISO ``YYYY-MM-DD`` date; an error naming ``parameter`` for anything else."""
    spelled = text.strip()
    try:
        if _ISO_DATE.fullmatch(spelled):
            return date.fromisoformat(spelled)
    except ValueError:
        pass
    raise WizIQValidationError(parameter, f"{text!r} is not a date (YYYY-MM-DD)")


def read_class_dates(value: Any) -> tuple[date, ...]:
    """A section's ``class_dates``: its local dates, sorted, each once (a section with none is an error)."""
    days = read_dates("class_dates", value)
    if not days:
        raise WizIQValidationError("class_dates", "lists no date: give ISO dates or ranges 'YYYY-MM-DD..YYYY-MM-DD'")
    return tuple(sorted(days))


def read_time_of_day(value: Any, *, parameter: str = "start_time") -> time:
    """A naive time of day: a ``time`` or ``"HH:MM"`` / ``"HH:MM:SS"`` (seconds kept, microseconds dropped).

    A string of another form is WizIQ's 1022; a time that does not exist (``24:00``) or that carries a zone
    (the zone is the section's ``time_zone``) is 1005.
    """
    if not values.is_given(value):
        raise WizIQValidationError(parameter, "is required (a time of day, HH:MM)", code=Code.START_TIME_MISSING)
    if isinstance(value, datetime) or not isinstance(value, (time, str)):
        kind = type(value).__name__
        raise WizIQValidationError(
            parameter, f"must be a time of day (HH:MM), not {kind}", code=Code.START_TIME_INVALID
        )
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise WizIQValidationError(
                parameter,
                "a time of day carries no zone: the section's time_zone says it",
                code=Code.START_TIME_INVALID,
            )
        return value.replace(microsecond=0, fold=0)
    match = _TIME_OF_DAY.fullmatch(value.strip())
    if not match:
        raise WizIQValidationError(
            parameter, f"{value!r} is not a time of day (HH:MM)", code=Code.DATETIME_FORMAT_INVALID
        )
    hour, minute, second = (int(part or 0) for part in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        raise WizIQValidationError(parameter, f"{value!r} is not a real time of day", code=Code.START_TIME_INVALID)
    return time(hour, minute, second)


def classes_on(dates: Iterable[date], time_of_day: time | str, zone: ZoneInfo | str) -> tuple[ScheduledClass, ...]:
    """The classes held on ``dates`` (sorted, each once) at the wall clock ``time_of_day`` in ``zone``.

    Each class's instant is :func:`localize`'s reading (a wall clock in a spring-forward gap moves by the gap,
    an ambiguous one is its first instant, and both are flagged), exactly as a recurring series' classes are.
    """
    at = read_time_of_day(time_of_day)
    tz = zone if isinstance(zone, ZoneInfo) else values.zone("time_zone", zone)
    if tz is None:
        raise WizIQValidationError("time_zone", "is required with a time of day", code=Code.TIME_ZONE_MISSING)
    days = sorted(set(dates))
    if days and not (days[0] >= values.FIRST_DAY and days[-1] <= values.LAST_DAY):
        outside = days[0] if days[0] < values.FIRST_DAY else days[-1]
        raise WizIQValidationError(
            "class_dates",
            f"{outside} is outside the calendar a class can be booked in ({values.FIRST_DAY} to {values.LAST_DAY})",
            code=Code.START_TIME_INVALID,
        )
    return classes_at(days, at, tz)


__all__ = ["MAX_DATES", "classes_on", "iso_date", "read_class_dates", "read_dates", "read_time_of_day"]
