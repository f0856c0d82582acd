"""The term the term-sync benchmarks sync: a district's fall semester, as its student information system exports it.

Sections meet as schools timetable them (Monday to Friday, Monday-Wednesday-Friday, Tuesday-Thursday, Monday and
Thursday every other week, Monday to Saturday, Wednesday only), at times of day across the day, in six time zones,
from September 6 to December 17, 2027 with five holidays (Labor Day, Columbus Day, Thanksgiving's three days): about
42 classes a section. A roster of ``students`` is drawn from the district's students (a student takes several
sections), as ``attendees`` rows.
"""

from __future__ import annotations

from typing import Any

FIRST, LAST = "2027-09-06", "2027-12-17"
HOLIDAYS = ["2027-09-06", "2027-10-11", "2027-11-24..2027-11-26"]
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
)
#: How each kind of section repeats: create_recurring's parameters beside the start.
PATTERNS: tuple[dict[str, Any], ...] = (
    {"class_repeat_type": "mon_fri"},
    {"class_repeat_type": "weekly", "days_of_week": "monday,wednesday,friday"},
    {"class_repeat_type": "weekly", "days_of_week": "tuesday,thursday"},
    {"class_repeat_type": "weekly", "days_of_week": "monday,thursday", "specific_week": 2},
    {"class_repeat_type": "mon_sat"},
    {"class_repeat_type": "weekly", "days_of_week": "wednesday"},
)
#: The district's students, from whom rosters are drawn.
STUDENTS = 12_000


def district_term(sections: int, *, students: int = 0, last: str = LAST, prefix: str = "D") -> list[dict[str, Any]]:
    """``sections`` sections of the fall term (ending on ``last``), each with a roster of ``students`` (0: none)."""
    term = []
    for index in range(sections):
        pattern = PATTERNS[index % len(PATTERNS)]
        zone = ZONES[(index // len(PATTERNS)) % len(ZONES)]
        section: dict[str, Any] = {
            "key": f"{prefix}{index:05d}",
            "title": f"Section {index}",
            "presenter_email": f"teacher{index}@district.example",
            "time_zone": zone,
            "start_time": f"{FIRST}T{7 + index % 11:02d}:{15 * (index % 4):02d}",
            "class_end_date": last,
            "attendee_limit": 30,
            **pattern,
        }
        if students:
            ids = sorted({(index * 7919 + n * 104_729) % STUDENTS for n in range(students)})
            section["attendees"] = [{"attendee_id": f"s{i:05d}", "screen_name": f"Student {i}"} for i in ids]
        term.append(section)
    return term
