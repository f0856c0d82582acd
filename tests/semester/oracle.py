"""The classes a declared term should have, computed apart from the provider: ``dateutil.rrule`` and ``zoneinfo`` only.

This is the semester simulation's judge, so it must not repeat the engine's mistakes: it imports nothing of
``airflow_provider_wiziq`` (test_oracle.py checks that) and reads the rules from their statements, WizIQ API
reference §8 and docs/term-sync.md:

- times are wall clock in the section's ``time_zone`` (GMT when none is given); a wall clock in a spring gap is
  read with the offset in force before the gap (02:30 becomes 03:30 daylight time), one in a fall fold is the
  first of its two instants;
- the first class is on the first date on or after the start date that fits the pattern, at the start's time
  of day. Type 1 every day, 2 Monday to Saturday, 3 Monday to Friday, 4 the listed days every ``specific_week``
  weeks (weeks start on Monday, the week holding the start date is week 0), 5 monthly by date (a month without
  that date has no class) or by the nth / last weekday;
- ``class_end_date`` is inclusive, by local date; ``class_occurrence`` counts held classes, so the section runs
  on past its holidays; a holiday is judged on the class's local date;
- a class starting within one hour of now is past: never created, changed or cancelled (:func:`future`);
- docs/schedules.md: a section with ``class_dates`` meets on exactly those local dates at ``start_time``'s time of
  day (``HH:MM``); one with ``cycle_days`` meets on the term calendar's days carrying one of its labels, from its
  ``start_time``'s date to ``class_end_date`` or for ``class_occurrence`` of them, at ``start_time``'s time of day;
  holidays drop their classes either way (a ``class_occurrence`` section runs on past them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, rrule, weekday

#: A class starting sooner than this after now is past (docs/term-sync.md: the safety margin).
MARGIN = timedelta(hours=1)
#: WizIQ's zone when a request names none (API reference §3).
DEFAULT_ZONE = "GMT"
#: The most slots one section's rule is followed through before the oracle gives up (all on holidays).
MAX_SLOTS = 5000

DAYS: dict[str, weekday] = {
    "monday": MO,
    "tuesday": TU,
    "wednesday": WE,
    "thursday": TH,
    "friday": FR,
    "saturday": SA,
    "sunday": SU,
}
_ORDINAL = re.compile(r"^\s*(\d{1,2})\s*(st|nd|rd|th)?\s*$", re.IGNORECASE)
_WIZIQ_TIME = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_WIZIQ_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class Expected:
    """One declared section as WizIQ should show it: who presents, its title, and every class it holds."""

    key: str
    presenter: str  # the presenter's email, case-folded
    title: str  # trimmed
    zone: str
    duration: int  # minutes
    instants: tuple[datetime, ...]  # aware UTC, every held class (past ones included), in order
    on_holidays: tuple[datetime, ...]  # the slots of its rule on a holiday, up to its last class
    roster: frozenset[str]  # attendee ids

    @property
    def identity(self) -> tuple[str, str]:
        """How a class on WizIQ is matched to its section: presenter and title."""
        return (self.presenter, self.title)

    def future(self, now: datetime) -> tuple[datetime, ...]:
        return future(self.instants, now)


def expect(sections: Iterable[Mapping[str, Any]], holidays: Any = None, calendar: Any = None) -> dict[str, Expected]:
    """Every section of a declared term by key: what WizIQ should hold for it (``calendar``: the term's
    ``{"date", "day"}`` rows, for ``cycle_days`` sections)."""
    days = read_holidays(holidays)
    labels = read_calendar(calendar)
    found: dict[str, Expected] = {}
    for section in sections:
        key = str(section["key"]).strip()
        if key in found:
            raise ValueError(f"section key {key!r} is declared twice")
        held, on_holidays = _expand(section, days, labels)
        found[key] = Expected(
            key=key,
            presenter=str(section["presenter_email"]).strip().casefold(),
            title=str(section["title"]).strip(),
            zone=_zone_name(section),
            duration=int(section.get("duration") or 60),
            instants=held,
            on_holidays=on_holidays,
            roster=frozenset(str(item["attendee_id"]).strip() for item in section.get("attendees") or ()),
        )
    return found


def future(instants: Iterable[datetime], now: datetime) -> tuple[datetime, ...]:
    """The instants that are not past at ``now``: starting at ``now + MARGIN`` or later."""
    cutoff = now + MARGIN
    return tuple(instant for instant in instants if instant >= cutoff)


def section_classes(
    section: Mapping[str, Any], holidays: Iterable[date] = (), calendar: Any = None
) -> tuple[datetime, ...]:
    """A section's held classes as aware UTC instants, in order: its rule's slots minus those on holidays."""
    return _expand(section, frozenset(holidays), read_calendar(calendar))[0]


def read_calendar(value: Any) -> dict[date, str]:
    """A term calendar given as ``{"date": ..., "day": ...}`` rows (or a ``{date: label}`` dict): label by date."""
    if value is None:
        return {}
    rows = [{"date": day, "day": label} for day, label in value.items()] if isinstance(value, Mapping) else value
    found: dict[date, str] = {}
    for row in rows:
        day = row["date"] if isinstance(row["date"], date) else date.fromisoformat(str(row["date"]).strip())
        found[day] = str(row["day"]).strip()
    return found


def _expand(
    section: Mapping[str, Any], days: frozenset[date], calendar: Mapping[date, str] | None = None
) -> tuple[tuple[datetime, ...], tuple[datetime, ...]]:
    """The held classes, and the slots of the rule that fall on holidays before the last held class."""
    zone = ZoneInfo(_zone_name(section))
    occurrence = _count(section.get("class_occurrence"))
    end = _end_date(section.get("class_end_date"))
    if section.get("class_dates") is None and (occurrence is None) == (end is None):
        raise ValueError(f"section {section.get('key')!r}: give exactly one of class_occurrence and class_end_date")
    held: list[datetime] = []
    skipped: list[datetime] = []
    for position, wall in enumerate(_walls(section, end, calendar or {})):
        if position >= MAX_SLOTS:
            raise ValueError(f"section {section.get('key')!r}: no end within {MAX_SLOTS} slots")
        instant = wall_to_utc(wall, zone)
        if instant.astimezone(zone).date() in days:
            skipped.append(instant)
            continue
        held.append(instant)
        if occurrence is not None and len(held) == occurrence:
            break
    last = held[-1] if held else None
    return tuple(held), tuple(instant for instant in skipped if last is not None and instant < last)


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall clock in ``zone`` as an aware UTC instant.

    PEP 495's ``fold=0`` is exactly §8's rule: a time in a spring gap is read with the offset in force before
    the gap, and a time in a fall fold is its first instant.
    """
    return wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)


def read_holidays(value: Any) -> frozenset[date]:
    """Dates and inclusive ranges ``"2027-11-24..2027-11-26"``: a list, or one string separated by commas/spaces."""
    if value is None:
        return frozenset()
    items: Iterable[Any] = re.split(r"[,\s]+", value.strip()) if isinstance(value, str) else value
    days: set[date] = set()
    for item in items:
        if isinstance(item, datetime):
            days.add(item.date())
        elif isinstance(item, date):
            days.add(item)
        elif isinstance(item, str) and ".." in item:
            first_text, last_text = item.split("..")
            first, last = date.fromisoformat(first_text.strip()), date.fromisoformat(last_text.strip())
            days.update(first + timedelta(days=offset) for offset in range((last - first).days + 1))
        elif isinstance(item, str) and item.strip():
            days.add(date.fromisoformat(item.strip()))
    return frozenset(days)


# The rule's slots ------------------------------------------------------------------------------------------


def _walls(section: Mapping[str, Any], end: date | None, calendar: Mapping[date, str]) -> Iterator[datetime]:
    """The naive wall clocks the section meets at: its listed dates, its cycle days, or its rule's slots."""
    if section.get("class_dates") is not None:
        at = _time_of_day(section.get("start_time"))
        return iter(datetime.combine(day, at) for day in sorted(read_holidays(section["class_dates"])))
    if section.get("cycle_days") is not None:
        start = _start(section.get("start_time"))
        labels = {part.strip() for part in str(section["cycle_days"]).split(",")}
        meets = sorted(
            day
            for day, label in calendar.items()
            if label in labels and day >= start.date() and (end is None or day <= end)
        )
        return iter(datetime.combine(day, start.time()) for day in meets)
    return _slots(section, end)


def _time_of_day(value: Any) -> time:
    hours, minutes = str(value).strip().split(":")[:2]
    return time(int(hours), int(minutes))


def _slots(section: Mapping[str, Any], end: date | None) -> Iterator[datetime]:
    """The naive wall clocks the section's repeat rule gives, from its start, up to ``end`` when given."""
    start = _start(section.get("start_time"))
    until = None if end is None else datetime.combine(end, time.max)
    repeat = int(section.get("class_repeat_type") or 0)
    if repeat == 1:
        rule = rrule(DAILY, dtstart=start, until=until)
    elif repeat == 2:
        rule = rrule(WEEKLY, dtstart=start, until=until, byweekday=(MO, TU, WE, TH, FR, SA), wkst=MO)
    elif repeat == 3:
        rule = rrule(WEEKLY, dtstart=start, until=until, byweekday=(MO, TU, WE, TH, FR), wkst=MO)
    elif repeat == 4:
        every = int(section.get("specific_week") or 1)
        rule = rrule(WEEKLY, dtstart=start, until=until, interval=every, byweekday=_days(section), wkst=MO)
    elif repeat == 5:
        rule = _monthly(section, start, until)
    else:
        raise ValueError(f"section {section.get('key')!r}: class_repeat_type must be 1 to 5, not {repeat!r}")
    return iter(rule)


def _monthly(section: Mapping[str, Any], start: datetime, until: datetime | None) -> rrule:
    by_date, by_day = section.get("monthly_date"), section.get("monthly_day")
    if (by_date is None) == (by_day is None):
        raise ValueError(f"section {section.get('key')!r}: type 5 takes monthly_date or monthly_day")
    if by_date is not None:
        return rrule(MONTHLY, dtstart=start, until=until, bymonthday=_ordinal(by_date))
    nth = -1 if str(by_day).strip().lower() == "last" else _ordinal(by_day)
    day = DAYS[str(section["monthly_week_day"]).strip().lower()]
    return rrule(MONTHLY, dtstart=start, until=until, byweekday=day(nth))


def _days(section: Mapping[str, Any]) -> tuple[weekday, ...]:
    value = section.get("days_of_week")
    names = value.split(",") if isinstance(value, str) else list(value or ())
    days = tuple(DAYS[str(name).strip().lower()] for name in names if str(name).strip())
    if not days:
        raise ValueError(f"section {section.get('key')!r}: type 4 needs days_of_week")
    return days


# Reading values ------------------------------------------------------------------------------------------


def _zone_name(section: Mapping[str, Any]) -> str:
    return str(section.get("time_zone") or "").strip() or DEFAULT_ZONE


def _start(value: Any) -> datetime:
    """``start_time`` as a naive wall clock: ISO (``2027-09-06T09:00``), WizIQ's ``MM/DD/YYYY HH:MM[:SS]``."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("the oracle reads start_time as a wall clock: give it without an offset")
        return value
    text = str(value).strip()
    if match := _WIZIQ_TIME.match(text):
        month, day, year, hour, minute, second = (int(part or 0) for part in match.groups())
        return datetime(year, month, day, hour, minute, second)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        raise ValueError("the oracle reads start_time as a wall clock: give it without an offset")
    return moment


def _end_date(value: Any) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if match := _WIZIQ_DATE.match(text):
        month, day, year = (int(part) for part in match.groups())
        return date(year, month, day)
    return date.fromisoformat(text)


def _count(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return int(value)


def _ordinal(value: Any) -> int:
    match = _ORDINAL.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not an ordinal such as 1st or 15th")
    return int(match.group(1))


def by_identity(expected: Mapping[str, Expected]) -> dict[tuple[str, str], Expected]:
    """The sections by (presenter, title); two sections sharing both could not be told apart on WizIQ."""
    found: dict[tuple[str, str], Expected] = {}
    for item in expected.values():
        if item.identity in found:
            raise ValueError(f"sections {found[item.identity].key!r} and {item.key!r} share presenter and title")
        found[item.identity] = item
    return found


__all__: Sequence[str] = [
    "MARGIN",
    "Expected",
    "by_identity",
    "expect",
    "future",
    "read_calendar",
    "read_holidays",
    "section_classes",
    "wall_to_utc",
]
