"""The simulated semester: a fall term of 35 sections in three zones, and 20 days of edits a school's export makes.

Day 1 is Monday 2027-08-30, a week before the term; each day the clock moves on 24 hours, to 12:17 UTC (no
class starts at :17 in these zones, so a run taking minutes never meets a class at the 1-hour margin). New
York falls back on 2027-11-07 and Berlin on 2027-10-31, Sydney springs forward on 2027-10-03: every section
spans a change. Two sections meet on a rotating schedule: one teacher's A-day and B-day blocks at the same hour,
over the term's calendar of A and B days, which the district re-publishes whenever a holiday is added or
removed (the cycle skips holidays, so the days after it trade labels). A second school syncs a term of the same
name on another WizIQ account on some days.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from tests.semester.oracle import read_holidays

NEW_YORK, BERLIN, SYDNEY = "America/New_York", "Europe/Berlin", "Australia/Sydney"
TERM = "fall-2027"
FIRST_DAY = datetime(2027, 8, 30, 12, 17, tzinfo=timezone.utc)
DAYS = 20
TERM_START, TERM_END = "2027-09-06", "2027-12-17"
HOLIDAYS = ("2027-09-06", "2027-11-24..2027-11-26")  # Labor Day, Thanksgiving Wednesday to Friday
MON_FRI, MWF, TTH = 3, "monday,wednesday,friday", "tuesday,thursday"
#: Edits that must not send a single write (issue 19: a rename and a zone alias are not changes).
NO_WRITE_EDITS = frozenset({"rename", "alias"})
#: The two teachers with two sections each, whose sections swap hours (day 7) and days (day 11).
ADA, BO = "ada.lovelace@school.example", "bo.berg@school.example"
#: The teacher of the rotating block (an A-day and a B-day section at one hour), and the sections.
CY = "cy.block@school.example"
CYCLE_SECTIONS = ("N-BLK-A", "N-BLK-B")
#: The calendar's span: the first day of term to the latest end the term is extended to (day 9).
CALENDAR_FROM, CALENDAR_TO = date(2027, 9, 6), date(2027, 12, 22)

_POOL = [f"s{n:04d}" for n in range(1, 601)]


def roster(seed: str) -> list[dict[str, str]]:
    """10 to 40 students of the school, the same for the same seed, as the export lists them."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(_POOL, rng.randint(10, 40)))
    return [{"attendee_id": sid, "screen_name": f"Student {sid[1:]}"} for sid in chosen]


def section(
    key: str, title: str, zone: str, start: str, *, presenter: str | None = None, **rule: Any
) -> dict[str, Any]:
    """A section as the export gives it; a Monday-to-Friday class to the end of term unless ``rule`` says else."""
    spec: dict[str, Any] = {
        "key": key,
        "title": title,
        "presenter_email": presenter or f"{key.lower()}@school.example",
        "time_zone": zone,
        "start_time": f"{TERM_START}T{start}",
        "class_repeat_type": MON_FRI,
        "duration": 50,
        "attendee_limit": 45,
    }
    if "days" in rule:
        spec.update(class_repeat_type=4, days_of_week=rule.pop("days"), specific_week=rule.pop("every", 1))
    spec.update(rule)
    if "class_occurrence" not in spec and "class_end_date" not in spec:
        spec["class_end_date"] = TERM_END
    spec["attendees"] = roster(f"{key}|{spec['presenter_email']}")
    return spec


def school_a() -> list[dict[str, Any]]:
    """The first school's export on day 1: 33 sections."""
    return [
        # New York: falls back on 2027-11-07 (the 01:30 Sunday study hall meets the fold that morning).
        section("N-MF-1", "Algebra 1", NEW_YORK, "08:00"),
        section("N-MF-2", "Biology", NEW_YORK, "09:00"),
        section("N-MF-3", "Chemistry", NEW_YORK, "10:00"),
        section("N-MF-4", "World History", NEW_YORK, "09:00"),
        section("N-MWF-1", "Geometry", NEW_YORK, "09:00", presenter=ADA, days=MWF),
        section("N-MWF-2", "Statistics", NEW_YORK, "11:00", presenter=ADA, days=MWF),
        section("N-MWF-3", "Spanish", NEW_YORK, "14:00", days=MWF),
        section("N-TTH-1", "Literature", NEW_YORK, "09:00", days=TTH),
        section("N-TTH-2", "Economics", NEW_YORK, "11:00", presenter="Cy.Chen@School.example", days=TTH),
        section("N-WK-1", "Art", NEW_YORK, "15:00", days="monday", class_occurrence=14),
        section("N-BI-1", "Music Theory", NEW_YORK, "15:00", days="friday", every=2),
        section("N-EDGE", "Study Hall", NEW_YORK, "01:30", days="sunday", class_occurrence=16),
        section("N-SAT", "Morning Drill", NEW_YORK, "07:00", class_repeat_type=2, class_end_date="2027-11-20"),
        # Berlin: falls back on 2027-10-31.
        section("B-MF-1", "Physik", BERLIN, "08:00"),
        section("B-MF-2", "Mathematik", BERLIN, "10:00"),
        section("B-MF-3", "Deutsch", BERLIN, "14:00"),
        section("B-MWF-1", "Englisch", BERLIN, "10:00", presenter=BO, days=MWF),
        section("B-TTH-1", "Geschichte", BERLIN, "10:00", presenter=BO, days=TTH),
        section("B-MWF-2", "Kunst", BERLIN, "12:00", days=MWF),
        section("B-TTH-2", "Sport", BERLIN, "12:00", days=TTH),
        section("B-WK-1", "Philosophie", BERLIN, "16:00", days="wednesday", class_occurrence=12),
        section("B-MON", "Chor", BERLIN, "17:00", class_repeat_type=5, monthly_day="1st", monthly_week_day="monday"),
        section("B-BI", "Informatik", BERLIN, "15:00", days=TTH, every=2, class_occurrence=10),
        # Sydney: springs forward on 2027-10-03 (the 02:30 Sunday astronomy class meets the gap that night).
        section("S-MF-1", "Maths", SYDNEY, "09:00"),
        section("S-MF-2", "English", SYDNEY, "11:00"),
        section("S-MF-3", "Science", SYDNEY, "13:00"),
        section("S-MWF-1", "History", SYDNEY, "09:00", days=MWF),
        section("S-MWF-2", "Geography", SYDNEY, "14:00", days=MWF),
        section("S-TTH-1", "Drama", SYDNEY, "10:00", days=TTH),
        section("S-TTH-2", "Design", SYDNEY, "14:00", days=TTH),
        section("S-WK-1", "Music", SYDNEY, "16:00", days="thursday"),
        section("S-EDGE", "Astronomy", SYDNEY, "02:30", days="sunday", class_occurrence=12),
        section("S-BI", "Coding", SYDNEY, "15:00", days="wednesday", every=2, class_occurrence=8),
        # A rotating block: one teacher, A days and B days at 12:30 in New York.
        cycled("N-BLK-A", "Robotics (A days)", "A"),
        cycled("N-BLK-B", "Robotics (B days)", "B"),
    ]


def cycled(key: str, title: str, day: str) -> dict[str, Any]:
    """A section of the rotating block: New York, 12:30, on the calendar's ``day`` days to the end of term."""
    spec: dict[str, Any] = {
        "key": key,
        "title": title,
        "presenter_email": CY,
        "time_zone": NEW_YORK,
        "start_time": f"{TERM_START}T12:30",
        "cycle_days": day,
        "class_end_date": TERM_END,
        "duration": 75,
        "attendee_limit": 45,
    }
    spec["attendees"] = roster(f"{key}|{CY}")
    return spec


def ab_calendar(holidays: tuple[str, ...] | list[str]) -> tuple[dict[str, str], ...]:
    """The term's A/B days as the district publishes them: Monday to Friday but holidays, A and B in turn."""
    off = read_holidays(list(holidays))
    days = [CALENDAR_FROM + timedelta(days=n) for n in range((CALENDAR_TO - CALENDAR_FROM).days + 1)]
    school_days = [day for day in days if day.weekday() < 5 and day not in off]
    return tuple({"date": day.isoformat(), "day": "AB"[n % 2]} for n, day in enumerate(school_days))


def school_b() -> list[dict[str, Any]]:
    """Another school on another WizIQ account, syncing a term of the same name; one key is also the first's."""
    return [
        section("X-1", "Calculus", NEW_YORK, "08:00", presenter="x1@other.example"),
        section("X-2", "Physics", NEW_YORK, "10:00", presenter="x2@other.example", days=MWF),
        section("N-MF-1", "Algebra 1", NEW_YORK, "12:00", presenter="nm@other.example", days=TTH),
        section("X-3", "Poetry", BERLIN, "09:00", presenter="x3@other.example", days=TTH),
    ]


# The edits -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """What one school's export says on a day: its sections, holidays and calendar."""

    sections: tuple[Mapping[str, Any], ...]
    holidays: tuple[str, ...]
    calendar: tuple[Mapping[str, str], ...] = ()

    def keyed(self) -> dict[str, Mapping[str, Any]]:
        return {str(item["key"]): item for item in self.sections}


@dataclass(frozen=True)
class Day:
    """One simulated day: the clock, the first school's export and edits, and the second school's export if it runs."""

    number: int
    now: datetime
    edits: tuple[str, ...]  # in words, for reports
    kinds: frozenset[str]  # the kinds of edit made today (``move``, ``rename``, ``holiday``...)
    a: Declared
    b: Declared | None
    tags: Mapping[str, frozenset[str]] = field(default_factory=dict)  # section key -> its edit kinds today
    renamed: Mapping[str, str] = field(default_factory=dict)  # new key -> old key

    @property
    def quiet(self) -> bool:
        """No edit that may send a write (none at all, or only renames and zone aliases)."""
        return self.kinds <= NO_WRITE_EDITS

    def describe(self) -> str:
        return f"day {self.number} ({self.now:%a %Y-%m-%d}): {'; '.join(self.edits) or 'unchanged'}"


class _Export:
    """The first school's export as it is edited day by day."""

    def __init__(self) -> None:
        self.sections: dict[str, dict[str, Any]] = {item["key"]: item for item in school_a()}
        self.holidays: list[str] = list(HOLIDAYS)
        self.edits: list[str] = []
        self.kinds: set[str] = set()
        self.tags: dict[str, set[str]] = {}
        self.renamed: dict[str, str] = {}

    def _note(self, kind: str, text: str, *keys: str) -> None:
        self.edits.append(text)
        self.kinds.add(kind)
        for key in keys:
            self.tags.setdefault(key, set()).add(kind)

    def move(self, key: str, start: str) -> None:
        spec = self.sections[key]
        before = spec["start_time"]
        spec["start_time"] = f"{before[:11]}{start}"
        self._note("move", f"time move {key} {before[11:]} -> {start}", key)

    def days(self, key: str, days: str) -> None:
        spec = self.sections[key]
        self._note("days", f"days {key} {spec['days_of_week']} -> {days}", key)
        spec["days_of_week"] = days

    def teacher(self, key: str, email: str) -> None:
        spec = self.sections[key]
        self._note("teacher", f"teacher {key} {spec['presenter_email']} -> {email}", key)
        spec["presenter_email"] = email

    def alias(self, key: str, zone: str) -> None:
        spec = self.sections[key]
        self._note("alias", f"zone alias {key} {spec['time_zone']} -> {zone}", key)
        spec["time_zone"] = zone

    def rename(self, old: str, new: str) -> None:
        spec = self.sections.pop(old)
        spec["key"] = new
        self.sections[new] = spec
        self.renamed[new] = old
        self._note("rename", f"rename {old} -> {new}", new)

    def swap(self, field_names: tuple[str, ...], one: str, other: str) -> None:
        first, second = self.sections[one], self.sections[other]
        for name in field_names:
            first[name], second[name] = second[name], first[name]
        what = "hours" if field_names == ("start_time",) else "days"
        self._note("swap", f"swap {what} {one} <-> {other} ({first['presenter_email']})", one, other)

    def drop(self, key: str) -> None:
        del self.sections[key]
        self._note("dropped", f"dropped {key}")

    def add(self, spec: dict[str, Any]) -> None:
        self.sections[spec["key"]] = spec
        self._note("added", f"added {spec['key']} (first class {spec['start_time']})", spec["key"])

    def end_term(self, old: str, new: str, kind: str) -> None:
        changed = [key for key, spec in self.sections.items() if spec.get("class_end_date") == old]
        for key in changed:
            self.sections[key]["class_end_date"] = new
        self._note(kind, f"term {kind}ed: {len(changed)} sections end {new} instead of {old}")

    def holiday(self, added: str | None = None, removed: str | None = None) -> None:
        if added:
            self.holidays.append(added)
            self._note("holiday", f"holiday added {added}")
        if removed:
            self.holidays.remove(removed)
            self._note("holiday", f"holiday removed {removed}")
        # The district re-publishes its calendar: the rotating block's days from the holiday on change.
        blocks = [key for key in CYCLE_SECTIONS if key in self.sections]
        self._note("calendar", "calendar re-published (A/B days from the holiday on)", *blocks)

    def roster(self, key: str, *, add: int = 0, remove: int = 0) -> None:
        spec = self.sections[key]
        students = spec["attendees"]
        del students[:remove]
        enrolled = {item["attendee_id"] for item in students}
        fresh = [sid for sid in _POOL if sid not in enrolled][-add:] if add else []
        students.extend({"attendee_id": sid, "screen_name": f"Student {sid[1:]}"} for sid in fresh)
        self._note("roster", f"roster {key} +{add} -{remove}", key)

    def declared(self) -> Declared:
        holidays = tuple(self.holidays)
        return Declared(tuple(copy.deepcopy(list(self.sections.values()))), holidays, ab_calendar(holidays))

    def take_day(self) -> tuple[tuple[str, ...], frozenset[str], dict[str, frozenset[str]], dict[str, str]]:
        taken = (
            tuple(self.edits),
            frozenset(self.kinds),
            {key: frozenset(kinds) for key, kinds in self.tags.items()},
            dict(self.renamed),
        )
        self.edits, self.kinds, self.tags, self.renamed = [], set(), {}, {}
        return taken


#: The first school's edits by day (unlisted days are unchanged).
EDITS: dict[int, Callable[[_Export], None]] = {
    1: lambda e: e._note("added", "term provisioned", *e.sections),
    3: lambda e: (
        e.move("N-MF-2", "10:00"),
        e.roster("B-MF-1", add=3),
        e.holiday(added="2027-10-11"),
    ),
    4: lambda e: (
        e.rename("N-TTH-1", "N-TTH-1B"),
        e.alias("N-MWF-3", "US/Eastern"),
        e.alias("N-BI-1", "US/Eastern"),
        e.alias("S-WK-1", "Australia/NSW"),
    ),
    6: lambda e: (
        e.days("N-MWF-3", TTH),
        e.teacher("S-MF-2", "new.teacher@school.example"),
        e.roster("B-MF-1", remove=2),
    ),
    7: lambda e: (e.swap(("start_time",), "N-MWF-1", "N-MWF-2"), e.drop("B-TTH-2")),
    9: lambda e: (
        e.add(section("N-NEW", "Journalism", NEW_YORK, "15:00", days=TTH)),
        e.end_term(TERM_END, "2027-12-22", "extend"),
        e.move("N-TTH-1B", "09:30"),  # today's 09:00 class starts within the hour: it stays as it is
    ),
    11: lambda e: (e.swap(("days_of_week",), "B-MWF-1", "B-TTH-1"), e.roster("S-MWF-1", add=2, remove=1)),
    12: lambda e: e.holiday(added="2027-11-11..2027-11-12"),
    14: lambda e: (e.move("B-MF-2", "11:00"), e.rename("S-MWF-2", "S-MWF-2X"), e.roster("N-MF-3", add=4)),
    15: lambda e: e.end_term("2027-12-22", "2027-12-10", "shorten"),
    17: lambda e: (  # N-MF-4's 09:00 class today starts within the hour: it keeps its teacher
        e.teacher("N-MF-4", "guest.lecturer@school.example"),
        e.days("S-TTH-1", MWF),
    ),
    18: lambda e: (
        e.drop("S-BI"),
        e.add(
            section(
                "B-NEW", "Latein", BERLIN, "09:00", days="friday", class_occurrence=12, start_time="2027-09-17T09:00"
            )
        ),
        e.holiday(removed="2027-11-11..2027-11-12", added="2027-11-11"),
    ),
}
#: The days the second school's sync runs, and its export on those days.
B_DAYS = (1, 4, 9, 15, 19)


def _b_export(day: int) -> Declared:
    """The second school adds a section on day 9; otherwise its export does not change."""
    sections = school_b()
    if day >= 9:
        sections.append(
            section(
                "X-4", "Ceramics", SYDNEY, "10:00", presenter="x4@other.example", days="friday", class_occurrence=10
            )
        )
    return Declared(tuple(sections), HOLIDAYS)


def semester() -> list[Day]:
    """The 20 days, each with its declared terms (built once per call, the same every time)."""
    export = _Export()
    days = []
    for number in range(1, DAYS + 1):
        edit = EDITS.get(number)
        if edit is not None:
            edit(export)
        edits, kinds, tags, renamed = export.take_day()
        days.append(
            Day(
                number=number,
                now=FIRST_DAY + timedelta(days=number - 1),
                edits=edits,
                kinds=kinds,
                a=export.declared(),
                b=_b_export(number) if number in B_DAYS else None,
                tags=tags,
                renamed=renamed,
            )
        )
    return days
