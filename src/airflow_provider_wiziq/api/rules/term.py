"""A term declared as data: its sections, its holidays, and the classes each section should have.

A section is a caller-chosen ``key``, ``create_recurring``'s parameters by WizIQ's names (read by the same
request model as every operator) and an optional roster (``attendees``). Its **desired classes** are the
§8 expansion of its spec minus the classes on holidays (judged on each class's local date). With
``class_end_date`` a holiday simply drops its class; with ``class_occurrence`` the series runs on past its
holidays so that ``class_occurrence`` classes are held. A section may hold more classes than one WizIQ
series may (:func:`creation_chunks` splits what must be created into series).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any

from airflow_provider_wiziq.api.protocol.errors import Code, WizIQError, WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.vocabulary import CREATE_PARAMETERS
from airflow_provider_wiziq.api.rules.dates import MAX_DATES, read_dates
from airflow_provider_wiziq.api.rules.export import read_export, read_roster, section_key
from airflow_provider_wiziq.api.rules.identity import presenter_key
from airflow_provider_wiziq.api.rules.packing import MAX_FILLER_RUN, Series, pack
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass, expand

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


@dataclass(frozen=True)
class Section:
    """One declared section: its key, its spec as WizIQ reads it, and its roster.

    Its derived values are computed once (a term plans tens of thousands of classes against them).
    """

    key: str
    request: CreateRecurringRequest
    attendees: tuple[tuple[str, str, str | None], ...] = ()  # (attendee_id, screen_name, language), sorted

    @cached_property
    def presenter(self) -> str:
        """Who presents (``identity.presenter_key``): a class keeps its id only while this is unchanged."""
        return presenter_key(self.request.presenter_email, self.request.presenter_id)

    @property
    def time_zone(self) -> str:
        return self.request.time_zone

    @cached_property
    def wire(self) -> dict[str, str]:
        """The section's ``create_recurring`` fields as WizIQ's wire strings."""
        return self.request.to_wire()

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


def read_sections(rows: Sequence[Any], limits: PlanLimits) -> tuple[dict[str, Section], dict[str, WizIQError]]:
    """Every section read and checked (nothing is sent): the valid ones by key, and an error per invalid one.

    The checks are the request model's, except that a section may start in the past (the sync provisions
    it from its next class) and may hold more classes than one series (the sync splits it).
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
        params = {name: value for name, value in row.items() if name not in ("key", "attendees")}
        try:
            request = CreateRecurringRequest.from_params(params)
            # The plan limits (1010, 1011) are checked as at the start: a start in the past is allowed here.
            request.check_context(now=request.start, limits=limits)
            sections[key] = Section(key, request, read_roster(row.get("attendees")))
        except WizIQError as error:
            invalid[key] = error
    return sections, invalid


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
    """The section's desired classes: its §8 expansion minus holidays (occurrence-bound: extended past them)."""
    request = section.request
    rule = request.recurrence_rule()
    occurrence = request.class_occurrence
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


def check_term(
    sections_value: Any, holidays_value: Any, limits: PlanLimits, *, base: str | None = None
) -> tuple[dict[str, Section], frozenset[date], dict[str, WizIQError]]:
    """Read a declared term (nothing is sent): its valid sections, its holidays, and an error per bad section.

    ``sections_value`` is the export in any form :func:`.export.read_export` reads (a relative path from ``base``).
    """
    holidays = read_holidays(holidays_value)
    sections, invalid = read_sections(read_export(sections_value, base=base), limits)
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
    """One series to create: its request, its classes in order, and which of them are wanted.

    The classes not wanted (holidays, or slots left free by classes being moved or cancelled) are
    cancelled as soon as the series exists; WizIQ's repeat rules have no exceptions.
    """

    request: CreateRecurringRequest
    slots: tuple[ScheduledClass, ...]
    wanted: tuple[bool, ...]

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
    """The series that create ``to_create`` (in order): :func:`~.packing.pack` with the section's rule as its hint.

    Each starts on its first class, follows the section's rule (so a weekly every-N-weeks series keeps its week
    alignment), holds at most ``max_series_classes`` classes, never runs over a ``blocked`` instant (a class
    that stays: WizIQ would answer 1032) and never through more than ``MAX_FILLER_RUN`` unwanted classes in a row.
    """
    packed = pack(to_create, blocked, max_series_classes=max_series_classes, hint=section.request.recurrence_rule())
    return [
        Chunk(
            replace(
                section.request, start_wall_clock=call.rule.start, class_occurrence=len(call.slots), class_end_date=None
            ),
            call.slots,
            call.wanted,
        )
        for call in packed
        if isinstance(call, Series)  # with a hint every call is a series
    ]


__all__ = [
    "MAX_FILLER_RUN",
    "MAX_SECTION_CLASSES",
    "TERM_NAME",
    "UPDATE_FIELDS",
    "Chunk",
    "Schedule",
    "Section",
    "check_term",
    "creation_chunks",
    "desired_schedule",
    "read_holidays",
    "read_sections",
]
