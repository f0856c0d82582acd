"""Recurrence expansion vs ``rrule`` + ``zoneinfo`` giving the same UTC instants (target: <= 1.25x), and the same
with the DST flags.

The provider's ``expand`` gives each class its wall clock, its real local instant (DST gaps and folds
resolved), its UTC instant and its gap and fold flags, after checking the series' bounds: what every caller
gets. Two baselines, what a careful user writes with the same two libraries:

* *UTC instants*: an ``rrule`` whose ``dtstart`` carries the ``ZoneInfo`` (so each occurrence is already an
  aware local time, ``fold=0``, which PEP 495 reads as the provider does: a gap time with the offset before
  the gap, a fold time as its first instant), and each occurrence's UTC instant (``astimezone``);
* *UTC instants and DST flags*: the same, plus each occurrence's flags from PEP 495's two readings of the
  wall clock (``utcoffset()`` with ``fold=0`` and ``fold=1``: a gap when the second is larger, a fold when
  it is smaller).

Both sides are checked to give identical UTC instants and flags. The rules mix every repeat type, six time
zones and every hour of the day (some classes fall in DST gaps and folds), 60 classes each.

The figures are ratios of instructions (callgrind, see ``instructions.py``), which a busy machine does not
move; the ratios of CPU times (best of three, alternating, in one process) are printed beside them.
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
SIDES = ("provider", "instants", "flags")


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


def instants(arguments: dict[str, Any]) -> list[datetime]:
    """rrule + zoneinfo: each class's UTC instant."""
    utc = timezone.utc
    return [local.astimezone(utc) for local in rrule.rrule(**arguments)]


def flags(arguments: dict[str, Any]) -> list[tuple[datetime, bool, bool]]:
    """rrule + zoneinfo: each class's UTC instant, in_gap and in_fold."""
    utc = timezone.utc
    classes = []
    for local in rrule.rrule(**arguments):
        offset, twin = local.utcoffset(), local.replace(fold=1).utcoffset()
        classes.append((local.astimezone(utc), offset < twin, offset > twin))
    return classes


BASELINES = {"instants": instants, "flags": flags}


def provider(rule: Any) -> Any:
    from airflow_provider_wiziq.api.rules.recurrence import expand

    return expand(rule, max_classes=CLASSES)


def child(side: str, series: int) -> None:
    """One side, run under callgrind: ``series`` expansions inside the counted stretch."""
    from instructions import counted

    made = rules(series)
    for rule, arguments in made[:20]:  # warm up: imports, zone caches
        provider(rule)
        instants(arguments)
        flags(arguments)
    if side == "provider":
        counted(lambda: [provider(rule) for rule, _ in made])
    else:
        baseline = BASELINES[side]
        counted(lambda: [baseline(arguments) for _, arguments in made])


def main() -> None:
    from instructions import count, valgrind

    made = rules(SERIES)
    seconds: dict[str, list[float]] = {side: [] for side in SIDES}
    for _ in range(RUNS):  # alternate, so drift on a shared machine hits every side alike
        started = time.process_time()
        ours = [provider(rule) for rule, _ in made]
        seconds["provider"].append(time.process_time() - started)
        for side, baseline in BASELINES.items():
            started = time.process_time()
            expected = [baseline(arguments) for _, arguments in made]
            seconds[side].append(time.process_time() - started)
    for classes, (_, arguments) in zip(ours, made, strict=True):
        assert [c.utc_start for c in classes] == instants(arguments)
        assert [(c.utc_start, c.in_gap, c.in_fold) for c in classes] == flags(arguments)
    del expected
    gaps = sum(c.in_gap for classes in ours for c in classes)
    folds = sum(c.in_fold for classes in ours for c in classes)
    total = SERIES * CLASSES
    best = {side: min(times) / total * 1e6 for side, times in seconds.items()}
    print(f"{SERIES} series x {CLASSES} classes = {total} classes, {len(ZONES)} time zones, every repeat type")
    print(f"  ({gaps} classes in a DST gap, {folds} in a fold; UTC instants and flags identical on every side)")
    print(
        f"CPU a class, best of {RUNS}: provider {best['provider']:5.2f} us; rrule + zoneinfo, UTC instants "
        f"{best['instants']:5.2f} us, with DST flags {best['flags']:5.2f} us"
    )
    print(
        f"  ratios of CPU times: {best['provider'] / best['instants']:.3f} (UTC instants), "
        f"{best['provider'] / best['flags']:.3f} (with DST flags)"
    )
    if valgrind() is None:
        print("ratio: not measured (valgrind is not installed: Debian package valgrind)")
        return
    counted = {side: count(__file__, ["--side", side, "--series", str(COUNTED_SERIES)]) for side in SIDES}
    per_class = {side: instructions / (COUNTED_SERIES * CLASSES) for side, instructions in counted.items()}
    print(f"instructions a class, {COUNTED_SERIES} series (callgrind):")
    print(f"  provider expand:                          {per_class['provider']:8.0f}")
    print(f"  rrule + zoneinfo, UTC instants:           {per_class['instants']:8.0f}")
    print(f"  rrule + zoneinfo, UTC instants and flags: {per_class['flags']:8.0f}")
    print(
        f"ratio: {per_class['provider'] / per_class['instants']:.3f} provider / rrule + zoneinfo, UTC instants; "
        f"{per_class['provider'] / per_class['flags']:.3f} with DST flags (instructions)"
    )


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
