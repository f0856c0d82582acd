"""A term's instructional calendar (its school days, each with its day label) and the days of a rotating cycle.

Block and rotating schedules ("A/B days", a 6-day cycle that skips holidays and snow days) are no weekly rule:
a school publishes them as a calendar of instructional days, each labeled with its cycle day. A section with
``cycle_days`` (``"A"``, ``"1,4"``) meets on the calendar days carrying one of those labels; a day missing from
the calendar (a holiday, a snow day) simply has no class.

:func:`read_calendar` takes the calendar as a list of ``{"date": ..., "day": ...}`` rows, a ``{date: label}``
mapping, JSON text, CSV text or a ``.csv`` file (columns ``date,day``), or ICS text or an ``.ics`` file (one
all-day event per day, its summary the label). ICS is read here, not by a library: the calendar needs only
all-day events' dates and summaries (RFC 5545's line folding, escapes, ``DTEND``/``DURATION`` and nesting are
handled), and no iCalendar library is among the project's dependencies.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.rules.dates import MAX_DATES, iso_date

#: An ICS summary ``Day A`` or ``A Day`` (any case) is the label ``A``; any other summary is its own label.
_DAY_WORD = re.compile(r"day\s+(\S+)|(\S+)\s+day", re.IGNORECASE)
_ICS_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_ICS_DURATION = re.compile(r"\+?P(?:(\d+)W)?(?:(\d+)D)?", re.ASCII)
_ICS_ESCAPE = re.compile(r"\\([\\;,nN])")


class Calendar(Mapping[date, str]):
    """The term's instructional days in date order, each with its day label: a frozen ``date -> label`` mapping."""

    __slots__ = ("_dates", "_days", "_labels")

    def __init__(self, days: Mapping[date, str] | Iterable[tuple[date, str]] = ()) -> None:
        ordered = sorted(dict(days).items())
        self._days = dict(ordered)
        self._dates = tuple(day for day, _ in ordered)
        self._labels = tuple(label for _, label in ordered)

    def __getitem__(self, day: date) -> str:
        return self._days[day]

    def __iter__(self) -> Iterator[date]:
        return iter(self._dates)

    def __len__(self) -> int:
        return len(self._dates)

    def __hash__(self) -> int:
        return hash((self._dates, self._labels))

    def __repr__(self) -> str:
        if not self._dates:
            return "Calendar(no day)"
        return f"Calendar({len(self)} days from {self._dates[0]} to {self._dates[-1]}, labels {sorted(self.labels)})"

    @property
    def labels(self) -> frozenset[str]:
        """Every day label the calendar uses."""
        return frozenset(self._labels)

    def days_labeled(self, labels: Iterable[str], first: date | None = None) -> Iterator[date]:
        """The calendar's days carrying one of ``labels``, in order, from ``first`` (inclusive) on."""
        wanted = frozenset(labels)
        start = 0 if first is None else bisect.bisect_left(self._dates, first)
        for position in range(start, len(self._dates)):
            if self._labels[position] in wanted:
                yield self._dates[position]

    def rows(self) -> list[dict[str, str]]:
        """The calendar as JSON-able rows ``{"date": "YYYY-MM-DD", "day": label}``, in date order."""
        return [{"date": day.isoformat(), "day": label} for day, label in self._days.items()]


def read_calendar(value: Any, *, base: str | os.PathLike[str] | None = None) -> Calendar:
    """The term's calendar from any form it is given in (see the module); nothing given is an empty calendar.
    A relative ``.csv``/``.ics`` path is read from ``base`` (the DAG file's folder, as the export is).

    Every error names ``calendar`` and the row, line or entry it is about. A date given twice with two labels
    is an error; the same label twice is not.
    """
    if isinstance(value, Calendar):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8-sig")
    if isinstance(value, os.PathLike):
        return _read_file(Path(value), base)
    if not values.is_given(value):
        return Calendar()
    if isinstance(value, str):
        text = value.strip().lstrip("\ufeff")
        if "\n" not in text and text.lower().endswith((".csv", ".ics")):
            return _read_file(Path(text), base)
        return _read_text(text, "")
    if isinstance(value, Mapping):
        return _collect((f"entry {key!r}", key, label) for key, label in value.items())
    if isinstance(value, (list, tuple)):
        return _collect(_list_rows(value))
    raise WizIQValidationError(
        "calendar",
        f"must be a list of {{'date': ..., 'day': ...}} rows, JSON, CSV or ICS text, or a .csv or .ics file,"
        f" not {type(value).__name__}",
    )


def _read_file(given: Path, base: str | os.PathLike[str] | None) -> Calendar:
    path = Path(base) / given if base is not None and not given.is_absolute() else given
    if not path.is_file():
        raise WizIQValidationError("calendar", f"no file {str(path)!r}")
    text = path.read_text(encoding="utf-8-sig").strip()
    if path.suffix.lower() == ".ics" and not text.upper().startswith("BEGIN:VCALENDAR"):
        raise WizIQValidationError("calendar", f"{path.name} line 1: an ICS file starts with BEGIN:VCALENDAR")
    return _read_text(text, f"{path.name} ")


def _read_text(text: str, source: str) -> Calendar:
    """JSON, ICS or CSV text (``source`` names the file in errors, with a trailing space)."""
    if text.startswith(("[", "{")):
        try:
            loaded = json.loads(text)
        except ValueError as error:
            raise WizIQValidationError("calendar", f"{source}is not valid JSON: {error}") from None
        return read_calendar(loaded)
    if text.upper().startswith("BEGIN:VCALENDAR"):
        return _collect(_ics_days(text, source))
    return _collect(_csv_rows(text, source))


def _list_rows(rows: list[Any] | tuple[Any, ...]) -> Iterator[tuple[str, Any, Any]]:
    for number, row in enumerate(rows, start=1):
        where = f"row {number}"
        if not isinstance(row, Mapping):
            raise WizIQValidationError("calendar", f"{where}: must be a dict with 'date' and 'day', not {row!r}")
        if "date" not in row or "day" not in row:
            raise WizIQValidationError("calendar", f"{where}: needs 'date' and 'day', has {sorted(map(str, row))}")
        yield where, row["date"], row["day"]


def _csv_rows(text: str, source: str) -> Iterator[tuple[str, Any, Any]]:
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip().lower() for cell in next(reader, [])]
    for column in ("date", "day"):
        if column not in header:
            raise WizIQValidationError(
                "calendar", f"{source}line 1: the CSV needs the columns date,day; it has {','.join(header) or 'none'}"
            )
    at_date, at_day = header.index("date"), header.index("day")
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        where = f"{source}line {reader.line_num}"
        if len(row) <= max(at_date, at_day):
            raise WizIQValidationError("calendar", f"{where}: has {len(row)} cells, the header {len(header)}")
        yield where, row[at_date], row[at_day]


def _collect(rows: Iterable[tuple[str, Any, Any]]) -> Calendar:
    """The calendar of ``(where, date, label)`` rows, each checked."""
    days: dict[date, tuple[str, str]] = {}
    for where, day_value, label_value in rows:
        day = _date(day_value, where)
        label = _label(label_value, where)
        earlier = days.setdefault(day, (label, where))
        if earlier[0] != label:
            raise WizIQValidationError(
                "calendar", f"{where}: {day} is labeled {label!r}, and {earlier[0]!r} at {earlier[1]}"
            )
        if len(days) > MAX_DATES:
            raise WizIQValidationError("calendar", f"{where}: more than {MAX_DATES} days")
    return Calendar((day, label) for day, (label, _) in days.items())


def _date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return iso_date("calendar", value)
        except WizIQValidationError:
            raise WizIQValidationError("calendar", f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None
    raise WizIQValidationError("calendar", f"{where}: {value!r} is not a date (YYYY-MM-DD)")


def _label(value: Any, where: str) -> str:
    """A day label: text, or a whole number (``1`` and ``1.0`` are ``"1"``); never blank, never with a comma."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise WizIQValidationError("calendar", f"{where}: the day label must be text such as 'A' or '3', not {value!r}")
    label = value.strip()
    if "," in label:
        raise WizIQValidationError(
            "calendar", f"{where}: the day label {label!r} holds a comma, which separates labels in cycle_days"
        )
    return label


# ICS (RFC 5545) ------------------------------------------------------------------------------------------------


def _ics_days(text: str, source: str) -> Iterator[tuple[str, date, str]]:
    """``(where, date, label)`` for each day of each all-day event (``VEVENT`` directly inside ``VCALENDAR``)."""
    stack: list[str] = []
    event: dict[str, tuple[int, dict[str, str], str]] = {}
    begun = 0
    for number, line in _unfolded(text):
        name, params, value = _property(line, number, source)
        if name == "BEGIN":
            stack.append(value.upper())
            if stack == ["VCALENDAR", "VEVENT"]:
                event, begun = {}, number
            elif len(stack) == 1 and stack[0] != "VCALENDAR":
                raise WizIQValidationError(
                    "calendar", f"{source}line {number}: an ICS file starts with BEGIN:VCALENDAR"
                )
        elif name == "END":
            if not stack or stack[-1] != value.upper():
                opened = stack[-1] if stack else "nothing"
                raise WizIQValidationError("calendar", f"{source}line {number}: END:{value} closes {opened}")
            if stack == ["VCALENDAR", "VEVENT"]:
                yield from _event_days(event, begun, source)
            stack.pop()
        elif stack == ["VCALENDAR", "VEVENT"]:
            event.setdefault(name, (number, params, value))
    if stack:
        raise WizIQValidationError("calendar", f"{source}BEGIN:{stack[-1]} is never ended (END:{stack[-1]})")


def _unfolded(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines with the number of their first physical line: a line starting with a space or a tab
    continues the one before (RFC 5545 §3.1), CRLF or LF line ends."""
    number, current = 0, ""
    for physical, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if line[:1] in (" ", "\t") and number:
            current += line[1:]
            continue
        if current.strip():
            yield number, current
        number, current = physical, line
    if current.strip():
        yield number, current


def _property(line: str, number: int, source: str) -> tuple[str, dict[str, str], str]:
    """``NAME;PARAM=value;PARAM="a:b":VALUE`` as (upper-case name, upper-case param names to values, value)."""
    quoted = False
    for position, character in enumerate(line):
        if character == '"':
            quoted = not quoted
        elif character == ":" and not quoted:
            head, value = line[:position], line[position + 1 :]
            break
    else:
        raise WizIQValidationError("calendar", f"{source}line {number}: {line[:60]!r} is no ICS property (NAME:value)")
    name, *parts = head.split(";")
    params = {}
    for part in parts:
        key, _, param = part.partition("=")
        params[key.strip().upper()] = param.strip().strip('"')
    return name.strip().upper(), params, value


def _event_days(
    event: dict[str, tuple[int, dict[str, str], str]], begun: int, source: str
) -> Iterator[tuple[str, date, str]]:
    if "STATUS" in event and event["STATUS"][2].strip().upper() == "CANCELLED":
        return
    for repeat in ("RRULE", "RDATE", "EXDATE"):
        if repeat in event:
            raise WizIQValidationError(
                "calendar",
                f"{source}line {event[repeat][0]}: a recurring event ({repeat}) is not read: list each day as an event",
            )
    if "DTSTART" not in event:
        raise WizIQValidationError("calendar", f"{source}line {begun}: the event has no DTSTART")
    if "SUMMARY" not in event or not event["SUMMARY"][2].strip():
        raise WizIQValidationError("calendar", f"{source}line {begun}: the event has no SUMMARY (its day label)")
    start = _ics_date(event["DTSTART"], "DTSTART", source)
    days = 1
    if "DTEND" in event:
        days = (_ics_date(event["DTEND"], "DTEND", source) - start).days
        if days < 1:
            raise WizIQValidationError("calendar", f"{source}line {event['DTEND'][0]}: DTEND is not after DTSTART")
    elif "DURATION" in event:
        days = _ics_duration(event["DURATION"], source)
    if days > MAX_DATES:
        raise WizIQValidationError("calendar", f"{source}line {begun}: the event is longer than {MAX_DATES} days")
    summary = _ICS_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), event["SUMMARY"][2])
    label = summary_label(summary)
    where = f"{source}line {event['SUMMARY'][0]}"
    for offset in range(days):
        yield where, start + timedelta(days=offset), label


def _ics_date(item: tuple[int, dict[str, str], str], name: str, source: str) -> date:
    """An all-day date (``;VALUE=DATE:20270907``, or eight digits): a date-time is no school day."""
    number, params, value = item
    match = _ICS_DATE.fullmatch(value.strip())
    if match is None or params.get("VALUE", "DATE").upper() != "DATE":
        raise WizIQValidationError(
            "calendar",
            f"{source}line {number}: {name} {value.strip()!r} is not an all-day date ({name};VALUE=DATE:20270907)",
        )
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise WizIQValidationError("calendar", f"{source}line {number}: {name} {value!r} is not a real date") from None


def _ics_duration(item: tuple[int, dict[str, str], str], source: str) -> int:
    number, _, value = item
    match = _ICS_DURATION.fullmatch(value.strip())
    if match is None or not any(match.groups()):
        raise WizIQValidationError(
            "calendar", f"{source}line {number}: DURATION {value!r} is not whole days or weeks (P1D, P2W)"
        )
    weeks, days = (int(part or 0) for part in match.groups())
    if weeks * 7 + days < 1:
        raise WizIQValidationError("calendar", f"{source}line {number}: DURATION {value!r} is no day")
    return weeks * 7 + days


def summary_label(summary: str) -> str:
    """The day label an ICS event's summary gives: ``Day A`` and ``A Day`` (any case) are ``A``, ``Day 3`` is
    ``3``; any other summary is its own label, as written (``Late start``)."""
    text = " ".join(summary.split())
    match = _DAY_WORD.fullmatch(text)
    if match is None:
        return text
    return match.group(1) or match.group(2)


# Rotating cycles -------------------------------------------------------------------------------------------------


def read_cycle_days(value: Any) -> tuple[str, ...]:
    """A section's ``cycle_days``: day labels as ``"A"``, ``"1,4"``, ``["A", "B"]`` or ``4``; in the order given,
    each once."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        items: list[Any] = [value]
    elif isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = []
    labels: list[str] = []
    for item in items:
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item.strip():
            raise WizIQValidationError("cycle_days", f"{value!r} is not a list of day labels such as 'A' or '1,4'")
        if item.strip() not in labels:
            labels.append(item.strip())
    if not labels:
        raise WizIQValidationError("cycle_days", f"{value!r} names no day label: give one such as 'A' or '1,4'")
    return tuple(labels)


def cycle_dates(
    calendar: Calendar,
    labels: Iterable[str] | str,
    first: date,
    *,
    end: date | None = None,
    occurrence: int | None = None,
) -> tuple[date, ...]:
    """The calendar days carrying one of ``labels``, from ``first`` to ``end`` (inclusive), or the first
    ``occurrence`` of them: a ``cycle_days`` section's dates. Exactly one of ``end`` and ``occurrence`` bounds
    them (as ``class_end_date`` and ``class_occurrence`` bound a series: 1082 otherwise).

    A label the calendar never uses, a window with no such day, or fewer such days than ``occurrence`` is an
    error: a section is never given fewer classes than it asked for.
    """
    wanted = read_cycle_days(labels) if isinstance(labels, str) else read_cycle_days(list(labels))
    if (end is None) == (occurrence is None):
        both = "both were given" if end is not None else "neither was given"
        raise WizIQValidationError(
            "class_occurrence",
            f"give class_occurrence or class_end_date: {both}",
            code=Code.OCCURRENCE_OR_END_DATE_INVALID,
        )
    if not calendar:
        raise WizIQValidationError(
            "cycle_days", "the term has no calendar: a cycle_days section meets on the calendar's labeled days"
        )
    unknown = [label for label in wanted if label not in calendar.labels]
    if unknown:
        raise WizIQValidationError(
            "cycle_days",
            f"no calendar day is labeled {', '.join(map(repr, unknown))}"
            f" (the calendar's labels: {', '.join(sorted(calendar.labels))})",
        )
    named = ", ".join(wanted)
    days: list[date] = []
    for day in calendar.days_labeled(wanted, first):
        if (end is not None and day > end) or (occurrence is not None and len(days) == occurrence):
            break
        days.append(day)
    if occurrence is not None and len(days) < occurrence:
        raise WizIQValidationError(
            "class_occurrence",
            f"the calendar has {len(days)} days labeled {named} from {first} on, fewer than {occurrence}",
            code=Code.OCCURRENCE_OR_END_DATE_INVALID,
        )
    if not days:
        raise WizIQValidationError(
            "cycle_days",
            f"the calendar has no day labeled {named} from {first} to {end}",
            code=Code.OCCURRENCE_OR_END_DATE_INVALID,
        )
    return tuple(days)


__all__ = ["Calendar", "cycle_dates", "read_calendar", "read_cycle_days", "summary_label"]
