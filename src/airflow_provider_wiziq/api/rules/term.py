"""A term declared as data: its sections, its holidays, and the classes each section should have.

A section is a caller-chosen ``key``, ``create_recurring``'s parameters by WizIQ's names (read by the same
request model as every operator) and an optional roster (``attendees``). It says when it meets in one of three
ways (docs/schedules.md): a repeat rule (``class_repeat_type`` and its fields), explicit ``class_dates`` (with
``start_time`` a time of day), or ``cycle_days`` over the term's calendar (with ``start_time`` its first day and
time, and ``class_end_date`` or ``class_occurrence``). Its **desired classes** are those days' classes minus the
classes on holidays (judged on each class's local date). With ``class_end_date`` a holiday simply drops its
class; with ``class_occurrence`` the section runs on past its holidays so that ``class_occurrence`` classes are
held. :func:`creation_chunks` packs what must be created into WizIQ's create calls (series and single classes).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from functools import cached_property
from typing import Any

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import Code, WizIQError, WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.vocabulary import CREATE_PARAMETERS, RECURRENCE_PARAMETERS, RepeatType
from airflow_provider_wiziq.api.rules.calendar import Calendar, cycle_dates, read_calendar, read_cycle_days
from airflow_provider_wiziq.api.rules.dates import MAX_DATES, classes_on, read_class_dates, read_dates, read_time_of_day
from airflow_provider_wiziq.api.rules.export import read_export, read_roster, section_key
from airflow_provider_wiziq.api.rules.identity import presenter_key
from airflow_provider_wiziq.api.rules.packing import MAX_FILLER_RUN, Packed, SingleClass, pack
from airflow_provider_wiziq.api.rules.recurrence import RecurrenceRule, ScheduledClass, expand, read_bound

#: A term's name: it names an Airflow asset (``wiziq-term-<term>``) and Variables (``wiziq_term_<term>/...``).
TERM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: The most classes one section may hold (its ledger entry stays well under the state store's 64 KiB).
MAX_SECTION_CLASSES = 500
#: The most holiday dates a term may list (ranges count each of their days).
MAX_HOLIDAY_DATES = MAX_DATES
#: The fields ``modify`` may change on a class without changing its instant or its join links. The status
#: ping URL is left out: it is a delivery address, not part of the class a school sees (adding one plans no change).
UPDATE_FIELDS = tuple(
    name
    for name in CREATE_PARAMETERS
    if name not in ("start_time", "time_zone", "presenter_email", "presenter_id", "presenter_name", "status_ping_url")
)
#: The update fields a ``get_data`` record shows, so a sync can see whether a ``modify`` was applied.
SHOWN_FIELDS = ("title", "duration", "attendee_limit")
#: The two ways besides a repeat rule a section says when it meets (the export's column names).
CLASS_DATES = "class_dates"
CYCLE_DAYS = "cycle_days"
#: What bounds a ``cycle_days`` section: the one pair of repeat-rule fields it takes.
_CYCLE_BOUND = ("class_occurrence", "class_end_date")


@dataclass(frozen=True)
class Meetings:
    """When a section meets that gives days instead of a repeat rule: ``class_dates``, or ``cycle_days`` over the
    term's calendar. ``days``: every date listed; for a cycle, the calendar's days carrying one of ``labels`` from
    the first day to ``end``, or every such day from the first on (``occurrence``: the first so many are held)."""

    kind: str  # CLASS_DATES or CYCLE_DAYS
    at: time  # the classes' wall clock time of day
    days: tuple[date, ...]
    labels: tuple[str, ...] = ()
    occurrence: int | None = None
    end: date | None = None

    def wire(self) -> dict[str, str]:
        """Its fields as the ledger keeps them (what reasons compare): a digest of the dates, never the list."""
        if self.kind == CLASS_DATES:
            return {CLASS_DATES: dates_digest(self.days)}
        wire = {CYCLE_DAYS: ",".join(self.labels), "calendar": short_hash([day.isoformat() for day in self.days])}
        if self.occurrence is not None:
            wire["class_occurrence"] = str(self.occurrence)
        if self.end is not None:
            wire["class_end_date"] = values.wire_date(self.end)
        return wire


def dates_digest(days: Sequence[date]) -> str:
    """A list of dates in a few words: ``2027-09-07..2027-12-17 (52 dates)``."""
    if not days:
        return "no date"
    if len(days) == 1:
        return f"{days[0].isoformat()} (1 date)"
    return f"{days[0].isoformat()}..{days[-1].isoformat()} ({len(days)} dates)"


@dataclass(frozen=True)
class Section:
    """One declared section: its key, its spec as WizIQ reads it, its roster, and its days when it gives days.

    ``request`` is a ``CreateRecurringRequest`` for a section declared by a repeat rule; a section that gives its
    days (``meetings``) has a ``CreateClassRequest`` of its other fields, starting at its first class. Its derived
    values are computed once (a term plans tens of thousands of classes against them).
    """

    key: str
    request: CreateClassRequest
    attendees: tuple[tuple[str, str, str | None], ...] = ()  # (attendee_id, screen_name, language), sorted
    meetings: Meetings | None = None

    @cached_property
    def rule(self) -> RecurrenceRule | None:
        """The section's repeat rule; None when it gives its days."""
        return self.request.recurrence_rule() if isinstance(self.request, CreateRecurringRequest) else None

    @cached_property
    def presenter(self) -> str:
        """Who presents (``identity.presenter_key``): a class keeps its id only while this is unchanged."""
        return presenter_key(self.request.presenter_email, self.request.presenter_id)

    @property
    def time_zone(self) -> str:
        return self.request.time_zone

    @cached_property
    def wire(self) -> dict[str, str]:
        """The section's ``create_recurring`` fields as WizIQ's wire strings (and a digest of its days)."""
        wire = self.request.to_wire()
        if self.meetings is not None:
            wire.update(self.meetings.wire())
        return wire

    def create_request(self, call: Packed) -> CreateClassRequest:
        """The request of one create call of a packing: a series with its rule, or one class, with the section's
        other fields."""
        if isinstance(call, SingleClass):
            return CreateClassRequest(**_class_fields(self.request), start_wall_clock=call.slot.wall_clock)
        rule = call.rule
        if isinstance(self.request, CreateRecurringRequest):
            return replace(
                self.request, start_wall_clock=rule.start, class_occurrence=len(call.slots), class_end_date=None
            )
        weekly = rule.repeat_type is RepeatType.WEEKLY
        return CreateRecurringRequest(
            **_class_fields(self.request),
            start_wall_clock=rule.start,
            repeat_type=rule.repeat_type,
            class_occurrence=len(call.slots),
            specific_week=rule.specific_week if weekly else None,
            days_of_week=rule.days_of_week,
        )

    @cached_property
    def fields(self) -> dict[str, str]:
        """The update fields as WizIQ's wire strings (what ``modify`` sends)."""
        wire = self.wire
        return {name: wire[name] for name in UPDATE_FIELDS if name in wire}

    @cached_property
    def shown(self) -> tuple[str, ...]:
        """The update fields get_data shows (title, duration, attendee limit), as their wire strings."""
        fields = self.fields
        return tuple(fields.get(name, "") for name in SHOWN_FIELDS)

    @cached_property
    def fields_hash(self) -> str:
        return short_hash(sorted(self.fields.items()))

    @cached_property
    def roster_ids(self) -> tuple[str, ...]:
        return tuple(attendee_id for attendee_id, _, _ in self.attendees)

    @cached_property
    def roster_hash(self) -> str:
        """A fingerprint of who is on the roster (attendee ids: WizIQ keys enrolment by them)."""
        return roster_hash(self.roster_ids)

    def roster(self) -> list[dict[str, str]]:
        """The roster as ``add_attendees`` takes it."""
        return [
            {"attendee_id": aid, "screen_name": name, **({"language_culture_name": lang} if lang else {})}
            for aid, name, lang in self.attendees
        ]


def roster_hash(attendee_ids: Collection[str]) -> str:
    """The fingerprint the ledger keeps of a class's roster: its attendee ids ("" for none)."""
    return short_hash(sorted(attendee_ids)) if attendee_ids else ""


def _class_fields(request: CreateClassRequest) -> dict[str, Any]:
    """A request's ``create`` fields but its start, to build another request of the same class."""
    return {
        item.name: getattr(request, item.name) for item in fields(CreateClassRequest) if item.name != "start_wall_clock"
    }


def short_hash(value: Any) -> str:
    """A 12-hex-digit fingerprint of JSON-able data, for the ledger to tell whether something changed."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


def spec_key(value: Any) -> str | None:
    """A spec's key as text, or None if it has none usable (bools and blanks are not keys)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text or None


# Reading the declared term --------------------------------------------------------------------------------


def read_sections(
    rows: Sequence[Any], limits: PlanLimits, calendar: Calendar | None = None
) -> tuple[dict[str, Section], dict[str, WizIQError]]:
    """Every section read and checked (nothing is sent): the valid ones by key, and an error per invalid one.

    The checks are the request model's, except that a section may start in the past (the sync provisions
    it from its next class) and may hold more classes than one series (the sync splits it). ``cycle_days``
    sections meet on ``calendar``'s days.
    """
    sections: dict[str, Section] = {}
    invalid: dict[str, WizIQError] = {}
    for position, row in enumerate(rows):
        if not isinstance(row, Mapping):
            kind = type(row).__name__
            invalid[f"#{position}"] = WizIQValidationError("sections", f"a section must be a dict, not {kind}")
            continue
        try:
            key = section_key(row)
        except WizIQValidationError as error:
            invalid[f"#{position}"] = error
            continue
        if key is None:
            invalid[f"#{position}"] = WizIQValidationError("key", "a section needs a key (a string or number)")
            continue
        if key in sections or key in invalid:
            invalid[f"#{position}"] = WizIQValidationError("key", f"{key!r} is used by an earlier section")
            continue
        try:
            sections[key] = _read_section(key, row, limits, calendar or Calendar())
        except WizIQError as error:
            invalid[key] = error
    return sections, invalid


def _read_section(key: str, row: Mapping[str, Any], limits: PlanLimits, calendar: Calendar) -> Section:
    params = {name: value for name, value in row.items() if name not in ("key", "attendees", CLASS_DATES, CYCLE_DAYS)}
    kind = _meeting_kind(row)
    meetings = None
    if kind is None:
        request: CreateClassRequest = CreateRecurringRequest.from_params(params)
    elif kind == CLASS_DATES:
        days = read_class_dates(row[CLASS_DATES])
        at = read_time_of_day(params.get("start_time"))
        request = CreateClassRequest.from_params({**params, "start_time": datetime.combine(days[0], at)})
        meetings = Meetings(CLASS_DATES, at, days)
    else:
        labels = read_cycle_days(row[CYCLE_DAYS])
        bound = read_bound(params)
        request = CreateClassRequest.from_params({k: v for k, v in params.items() if k not in _CYCLE_BOUND})
        first, end = request.start_wall_clock.date(), bound["class_end_date"]
        if end is not None:
            days = cycle_dates(calendar, labels, first, end=end)
        else:  # every labeled day from the first: the section runs on past holidays to its class_occurrence
            days = cycle_dates(calendar, labels, first, end=max(calendar, default=first))
        meetings = Meetings(CYCLE_DAYS, request.start_wall_clock.time(), days, labels, bound["class_occurrence"], end)
    # The plan limits (1010, 1011) are checked as at the start: a start in the past is allowed here.
    request.check_context(now=request.start, limits=limits)
    return Section(key, request, read_roster(row.get("attendees")), meetings)


def _meeting_kind(row: Mapping[str, Any]) -> str | None:
    """How a section says when it meets: None (a repeat rule), ``class_dates`` or ``cycle_days``; an error for
    a section that says it two ways, or gives a repeat rule's field its way does not take."""
    given = [name for name in (CLASS_DATES, CYCLE_DAYS) if values.is_given(row.get(name))]
    if not given:
        return None
    if len(given) == 2:
        raise WizIQValidationError(
            CYCLE_DAYS, "class_dates and cycle_days together: a section meets on its listed dates or on its cycle days"
        )
    kind = given[0]
    if values.is_given(row.get("class_repeat_type")):
        raise WizIQValidationError(
            "class_repeat_type", f"{kind} and class_repeat_type together: a section meets by one or the other"
        )
    allowed = _CYCLE_BOUND if kind == CYCLE_DAYS else ()
    extra = [name for name in RECURRENCE_PARAMETERS if name not in allowed and values.is_given(row.get(name))]
    if extra:
        why = "its dates are all its classes" if kind == CLASS_DATES else "the calendar says its days"
        raise WizIQValidationError(extra[0], f"has no place in a {kind} section ({why})")
    return kind


def read_holidays(value: Any) -> frozenset[date]:
    """Holiday dates: ISO strings or ``date``s, and inclusive ranges ``"2027-11-24..2027-11-28"``."""
    return read_dates("holidays", value, limit=MAX_HOLIDAY_DATES)


# The desired classes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A section's classes: ``desired`` (held), ``holiday`` (slots of its rule on a holiday), both in order."""

    desired: tuple[ScheduledClass, ...]
    holiday: tuple[ScheduledClass, ...]


def desired_schedule(section: Section, holidays: Collection[date]) -> Schedule:
    """The section's desired classes: its §8 expansion (or its days) minus holidays (occurrence-bound: extended
    past them)."""
    if section.meetings is not None:
        return _days_schedule(section.meetings, section.time_zone, holidays)
    rule = section.rule
    assert rule is not None, "a section without days has a repeat rule"
    occurrence = rule.class_occurrence
    try:
        if occurrence is not None:
            bound = occurrence + len(holidays)
            slots = expand(replace(rule, class_occurrence=bound), max_classes=bound)
        else:
            slots = expand(rule, max_classes=MAX_SECTION_CLASSES + len(holidays))
    except WizIQValidationError as error:
        if error.code == Code.OCCURRENCE_OR_END_DATE_INVALID and "more than" in error.message:
            raise WizIQValidationError(
                "class_end_date", f"more than {MAX_SECTION_CLASSES} classes, the most a term section may hold"
            ) from None
        raise
    desired: list[ScheduledClass] = []
    on_holiday: list[ScheduledClass] = []
    for slot in slots:
        if slot.local_start.date() in holidays:
            on_holiday.append(slot)
        else:
            desired.append(slot)
        if occurrence is not None and len(desired) == occurrence:
            break
    if len(desired) > MAX_SECTION_CLASSES:
        raise WizIQValidationError(
            "class_occurrence", f"{len(desired)} classes, more than the {MAX_SECTION_CLASSES} a term section may hold"
        )
    if not desired:
        raise WizIQValidationError(
            "start_time", "every class of the section falls on a holiday", code=Code.OCCURRENCE_OR_END_DATE_INVALID
        )
    last = desired[-1].utc_start
    return Schedule(tuple(desired), tuple(slot for slot in on_holiday if slot.utc_start < last))


def _days_schedule(meetings: Meetings, zone: str, holidays: Collection[date]) -> Schedule:
    """The desired classes of a section that gives its days: those days minus holidays, at its time of day."""
    held = [day for day in meetings.days if day not in holidays]
    occurrence = meetings.occurrence
    if occurrence is not None:
        if len(held) < occurrence:
            raise WizIQValidationError(
                "class_occurrence",
                f"the calendar has {len(held)} days labeled {','.join(meetings.labels)} from "
                f"{meetings.days[0]} on that are no holiday, fewer than {occurrence}",
                code=Code.OCCURRENCE_OR_END_DATE_INVALID,
            )
        held = held[:occurrence]
    if len(held) > MAX_SECTION_CLASSES:
        raise WizIQValidationError(
            meetings.kind, f"{len(held)} classes, more than the {MAX_SECTION_CLASSES} a term section may hold"
        )
    if not held:
        raise WizIQValidationError(
            meetings.kind, "every class of the section falls on a holiday", code=Code.OCCURRENCE_OR_END_DATE_INVALID
        )
    off = [day for day in meetings.days if day in holidays and day < held[-1]]
    return Schedule(classes_on(held, meetings.at, zone), classes_on(off, meetings.at, zone))


def check_term(
    sections_value: Any,
    holidays_value: Any,
    limits: PlanLimits,
    *,
    base: str | None = None,
    calendar: Any = None,
) -> tuple[dict[str, Section], frozenset[date], dict[str, WizIQError]]:
    """Read a declared term (nothing is sent): its valid sections, its holidays, and an error per bad section.

    ``sections_value`` is the export in any form :func:`.export.read_export` reads (a relative path from ``base``);
    ``calendar`` the term's calendar in any form :func:`.calendar.read_calendar` reads (a bad one is an error).
    """
    holidays = read_holidays(holidays_value)
    days = read_calendar(calendar, base=base)
    sections, invalid = read_sections(read_export(sections_value, base=base), limits, days)
    for key, section in list(sections.items()):
        try:
            desired_schedule(section, holidays)
        except WizIQError as error:
            invalid[key] = error
            del sections[key]
    return sections, holidays, invalid


# Splitting what must be created into series ------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """One create call: its request (a series or one class), its classes in order, which of them are wanted, and
    the packing's call it comes from.

    The classes not wanted (holidays, or slots left free by classes being moved or cancelled) are
    cancelled as soon as the series exists; WizIQ's repeat rules have no exceptions.
    """

    request: CreateClassRequest
    slots: tuple[ScheduledClass, ...]
    wanted: tuple[bool, ...]
    call: Packed

    @property
    def first(self) -> ScheduledClass:
        return self.slots[0]


def creation_chunks(
    section: Section,
    to_create: Sequence[ScheduledClass],
    blocked: Collection[datetime],
    *,
    max_series_classes: int,
) -> list[Chunk]:
    """The create calls that bring ``to_create`` (in order): :func:`~.packing.pack`, with the section's rule as its
    hint when it has one.

    A rule section's series each start on its first class and follow the section's rule (so a weekly every-N-weeks
    series keeps its week alignment); a section that gives its days is packed into the rules that reproduce them
    and single classes. A series holds at most ``max_series_classes`` classes, never runs over a ``blocked``
    instant (a class that stays: WizIQ would answer 1032) and never through more than ``MAX_FILLER_RUN`` unwanted
    classes in a row.
    """
    packed = pack(to_create, blocked, max_series_classes=max_series_classes, hint=section.rule)
    return [Chunk(section.create_request(call), call.slots, call.wanted, call) for call in packed]


__all__ = [
    "CLASS_DATES",
    "CYCLE_DAYS",
    "MAX_FILLER_RUN",
    "MAX_SECTION_CLASSES",
    "TERM_NAME",
    "UPDATE_FIELDS",
    "Chunk",
    "Meetings",
    "Schedule",
    "Section",
    "check_term",
    "creation_chunks",
    "dates_digest",
    "desired_schedule",
    "read_holidays",
    "read_sections",
]
