"""Planning a term of explicit dates vs the same term as rules: at most 2x (issue 23).

A term of 500 sections (a 15-week fall term with five holidays; Monday to Friday, Monday-Wednesday-Friday,
Tuesday-Thursday, Monday-Thursday every other week, Monday to Saturday, Wednesday; six time zones and times
of day that cross DST) is planned twice, each section from its declaration to the create calls that bring its
classes:

* **explicit dates**: the section's ``class_dates`` as text (every date written out, comma separated, as an
  export gives them) read with ``read_class_dates``, made classes at its time of day with ``classes_on``, and
  packed with ``pack`` (which finds the weekly rules that reproduce them);
* **rules**: the section's ``RecurrenceRule`` expanded with ``expand``, its holiday classes dropped (as
  ``desired_schedule`` does), and packed with ``pack`` given the rule as hint (what ``creation_chunks`` does).

Both sides must bring the same classes (same UTC instants). The figure is the ratio of instructions (callgrind,
see ``instructions.py``), which a busy machine does not move; the ratio of CPU times (best of three,
alternating, in one process) is printed beside it, with the create calls and cancels each side plans.
Run: .venv/bin/python benchmarks/schedule_packing.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, datetime, timedelta
from typing import Any

SECTIONS = 500
RUNS = 3
SERIES_CLASSES = 60
FIRST, LAST = date(2027, 9, 6), date(2027, 12, 17)
HOLIDAYS = frozenset({date(2027, 9, 6), date(2027, 10, 11), date(2027, 11, 24), date(2027, 11, 25), date(2027, 11, 26)})
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
)
#: (weekdays, every N weeks) of each kind of section.
PATTERNS = (
    ((0, 1, 2, 3, 4), 1),
    ((0, 2, 4), 1),
    ((1, 3), 1),
    ((0, 3), 2),
    ((0, 1, 2, 3, 4, 5), 1),
    ((2,), 1),
)
SIDES = ("dates", "rules")


def term() -> list[tuple[Any, str, str, str]]:
    """Each section as (its rule, its class_dates text, its time of day, its zone): the same classes both ways."""
    from airflow_provider_wiziq.api.protocol.vocabulary import RepeatType, Weekday
    from airflow_provider_wiziq.api.rules.recurrence import RecurrenceRule

    sections = []
    for index in range(SECTIONS):
        weekdays, every = PATTERNS[index % len(PATTERNS)]
        zone = ZONES[(index // len(PATTERNS)) % len(ZONES)]
        at = f"{(7 + index % 11) % 24:02d}:{15 * (index % 4):02d}"
        first = FIRST + timedelta(days=index % 3)
        start = datetime.combine(first, datetime.strptime(at, "%H:%M").time())
        if every == 1 and weekdays == (0, 1, 2, 3, 4):
            rule = RecurrenceRule(RepeatType.MON_FRI, start, zone, class_end_date=LAST)
        elif every == 1 and weekdays == (0, 1, 2, 3, 4, 5):
            rule = RecurrenceRule(RepeatType.MON_SAT, start, zone, class_end_date=LAST)
        else:
            days = tuple(Weekday(day) for day in weekdays)
            rule = RecurrenceRule(
                RepeatType.WEEKLY, start, zone, class_end_date=LAST, days_of_week=days, specific_week=every
            )
        monday = first - timedelta(days=first.weekday())
        dates = [
            day
            for day in (first + timedelta(days=n) for n in range((LAST - first).days + 1))
            if day.weekday() in weekdays and ((day - monday).days // 7) % every == 0 and day not in HOLIDAYS
        ]
        sections.append((rule, ", ".join(day.isoformat() for day in dates), at, zone))
    return sections


def plan_dates(text: str, at: str, zone: str) -> Any:
    from airflow_provider_wiziq.api.rules.dates import classes_on, read_class_dates
    from airflow_provider_wiziq.api.rules.packing import pack

    return pack(classes_on(read_class_dates(text), at, zone), (), max_series_classes=SERIES_CLASSES)


def plan_rules(rule: Any) -> Any:
    from airflow_provider_wiziq.api.rules.packing import pack
    from airflow_provider_wiziq.api.rules.recurrence import expand

    desired = [slot for slot in expand(rule, max_classes=500) if slot.local_start.date() not in HOLIDAYS]
    return pack(desired, (), max_series_classes=SERIES_CLASSES, hint=rule)


def plan(side: str, sections: list[tuple[Any, str, str, str]]) -> list[Any]:
    if side == "dates":
        return [plan_dates(text, at, zone) for _, text, at, zone in sections]
    return [plan_rules(rule) for rule, _, _, _ in sections]


def child(side: str) -> None:
    """One side, run under callgrind: the whole term planned inside the counted stretch."""
    from instructions import counted

    sections = term()
    plan(side, sections[:20])  # warm up: imports, zone caches
    counted(lambda: plan(side, sections))


def brought(calls: list[Any]) -> list[datetime]:
    return sorted(
        slot.utc_start for call in calls for slot, wanted in zip(call.slots, call.wanted, strict=True) if wanted
    )


def main() -> None:
    from instructions import count, valgrind

    sections = term()
    times: dict[str, list[float]] = {side: [] for side in SIDES}
    plans: dict[str, list[Any]] = {}
    for _ in range(RUNS):
        for side in SIDES:
            started = time.process_time()
            plans[side] = plan(side, sections)
            times[side].append(time.process_time() - started)
    for by_dates, by_rules in zip(plans["dates"], plans["rules"], strict=True):
        assert brought(by_dates) == brought(by_rules), "both sides must bring the same classes"
    classes = sum(len(brought(calls)) for calls in plans["rules"])
    print(f"{SECTIONS} sections, {classes} classes, {len(ZONES)} time zones, {len(HOLIDAYS)} holidays")
    for side in SIDES:
        creates = sum(len(calls) for calls in plans[side])
        cancels = sum(call.extra for calls in plans[side] for call in calls)
        print(f"  {side:5s}: {creates} create calls, {cancels} cancels; CPU best of {RUNS}: {min(times[side]):.3f} s")
    print(f"  ratio of CPU times: {min(times['dates']) / min(times['rules']):.3f}")
    if valgrind() is None:
        print("ratio: not measured (valgrind is not installed: Debian package valgrind)")
        return
    counted = {side: count(__file__, ["--side", side]) for side in SIDES}
    print(f"instructions, {SECTIONS} sections (callgrind): dates {counted['dates']:,}, rules {counted['rules']:,}")
    print(f"ratio: {counted['dates'] / counted['rules']:.3f} explicit dates / rules (instructions; target <= 2)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=SIDES)
    arguments = parser.parse_args()
    if arguments.side:
        child(arguments.side)
    else:
        main()
