"""Recurrence expansion vs ``rrule`` + ``zoneinfo`` giving the same UTC instants and DST flags (target: <= 1.25x).

The provider's ``expand`` gives each class its wall clock, its real local instant (DST gaps and folds
resolved), its UTC instant and its gap and fold flags, after checking the series' bounds. The baseline is
what a careful user writes with the same two libraries: an ``rrule`` whose ``dtstart`` carries the
``ZoneInfo`` (so each occurrence is already an aware local time, ``fold=0``), and for each occurrence its
UTC instant (``astimezone``) and its flags from PEP 495's two readings of the wall clock
(``utcoffset()`` with ``fold=0`` and ``fold=1``: a gap when the second is larger, a fold when it is
smaller). Both sides are checked to give identical UTC instants and flags. The rules mix every repeat
type, six time zones and every hour of the day (some classes fall in DST gaps and folds), 60 classes each.

The figure is the ratio of instructions (callgrind, see ``instructions.py``), which a busy machine does not
move; the ratio of CPU times (best of three, alternating, in one process) is printed beside it.
Run: .venv/bin/python benchmarks/recurrence_expansion.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

SERIES = 2_000  # timed, in this process
COUNTED_SERIES = 300  # counted under callgrind, in a child process a side
CLASSES = 60
RUNS = 3
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Australia/Sydney", "GMT")
RR_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)
SIDES = ("provider", "baseline")


def rules(series: int) -> list[tuple[Any, dict[str, Any]]]:
    """Each series as (the provider's RecurrenceRule, the same rule as rrule arguments with an aware dtstart)."""
    from airflow_provider_wiziq.api.protocol.vocabulary import LAST, RepeatType, Weekday
    from airflow_provider_wiziq.api.rules.recurrence import RecurrenceRule

    made = []
    year = datetime.now().year + 1
    for index in range(series):
        start = datetime(year, 1 + index % 12, 1 + index % 28, (index // 36) % 24, 15 * (index % 4))
        zone = ZONES[(index // 6) % len(ZONES)]
        kind = index % 6
        plain: dict[str, Any] = {"dtstart": start.replace(tzinfo=ZoneInfo(zone)), "count": CLASSES}
        fields: dict[str, Any] = {"start": start, "time_zone": zone, "class_occurrence": CLASSES}
        if kind == 0:
            fields["repeat_type"] = RepeatType.DAILY
            plain["freq"] = rrule.DAILY
        elif kind == 1:
            fields["repeat_type"] = RepeatType.MON_FRI
            plain.update(freq=rrule.DAILY, byweekday=RR_DAYS[:5])
        elif kind == 2:
            fields["repeat_type"] = RepeatType.MON_SAT
            plain.update(freq=rrule.DAILY, byweekday=RR_DAYS[:6])
        elif kind == 3:
            days = (index % 5, (index % 5) + 2)
            weeks = 1 + index % 3
            fields.update(
                repeat_type=RepeatType.WEEKLY, days_of_week=tuple(Weekday(d) for d in days), specific_week=weeks
            )
            plain.update(freq=rrule.WEEKLY, interval=weeks, wkst=rrule.MO, byweekday=tuple(RR_DAYS[d] for d in days))
        elif kind == 4:
            day = 1 + index % 28
            fields.update(repeat_type=RepeatType.MONTHLY, monthly_date=day)
            plain.update(freq=rrule.MONTHLY, bymonthday=day)
        else:
            nth = (1, 2, 3, 4, LAST)[index % 5]
            weekday = index % 7
            fields.update(repeat_type=RepeatType.MONTHLY, monthly_day=nth, monthly_week_day=Weekday(weekday))
            plain.update(freq=rrule.MONTHLY, byweekday=RR_DAYS[weekday](nth))
        made.append((RecurrenceRule(**fields), plain))
    return made


def baseline(arguments: dict[str, Any]) -> list[tuple[datetime, bool, bool]]:
    """rrule + zoneinfo: each class's UTC instant, in_gap and in_fold."""
    utc = timezone.utc
    classes = []
    for local in rrule.rrule(**arguments):
        offset, twin = local.utcoffset(), local.replace(fold=1).utcoffset()
        classes.append((local.astimezone(utc), offset < twin, offset > twin))
    return classes


def provider(rule: Any) -> Any:
    from airflow_provider_wiziq.api.rules.recurrence import expand

    return expand(rule, max_classes=CLASSES)


def child(side: str, series: int) -> None:
    """One side, run under callgrind: ``series`` expansions inside the counted stretch."""
    from instructions import counted

    made = rules(series)
    for rule, arguments in made[:20]:  # warm up: imports, zone caches
        provider(rule)
        baseline(arguments)
    if side == "provider":
        counted(lambda: [provider(rule) for rule, _ in made])
    else:
        counted(lambda: [baseline(arguments) for _, arguments in made])


def main() -> None:
    from instructions import count, valgrind

    made = rules(SERIES)
    ours_times, plain_times = [], []
    for _ in range(RUNS):
        started = time.process_time()
        ours = [provider(rule) for rule, _ in made]
        ours_times.append(time.process_time() - started)
        started = time.process_time()
        plain = [baseline(arguments) for _, arguments in made]
        plain_times.append(time.process_time() - started)
    for classes, expected in zip(ours, plain, strict=True):
        assert [(c.utc_start, c.in_gap, c.in_fold) for c in classes] == expected
    gaps = sum(c.in_gap for classes in ours for c in classes)
    folds = sum(c.in_fold for classes in ours for c in classes)
    best_ours, best_plain = min(ours_times), min(plain_times)
    total = SERIES * CLASSES
    print(f"{SERIES} series x {CLASSES} classes = {total} classes, {len(ZONES)} time zones, every repeat type")
    print(f"  ({gaps} classes in a DST gap, {folds} in a fold; UTC instants and flags identical on both sides)")
    plain_us, ours_us = best_plain / total * 1e6, best_ours / total * 1e6
    print(f"CPU a class, best of {RUNS}: baseline {plain_us:5.2f} us, provider {ours_us:5.2f} us")
    print(f"  ratio of CPU times: {best_ours / best_plain:.3f}")
    if valgrind() is None:
        print("ratio: not measured (valgrind is not installed: Debian package valgrind)")
        return
    counted = {side: count(__file__, ["--side", side, "--series", str(COUNTED_SERIES)]) for side in SIDES}
    per_class = {side: instructions / (COUNTED_SERIES * CLASSES) for side, instructions in counted.items()}
    print(f"instructions a class, {COUNTED_SERIES} series (callgrind):")
    print(f"  baseline rrule + zoneinfo: {per_class['baseline']:8.0f}")
    print(f"  provider expand:           {per_class['provider']:8.0f}")
    print(f"ratio: {per_class['provider'] / per_class['baseline']:.3f} provider / rrule + zoneinfo (instructions)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=SIDES)
    parser.add_argument("--series", type=int, default=COUNTED_SERIES)
    arguments = parser.parse_args()
    if arguments.side:
        child(arguments.side, arguments.series)
    else:
        main()
