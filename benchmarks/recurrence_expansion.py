"""Recurrence expansion of 10,000 series of 60 classes vs a plain ``dateutil.rrule`` expansion of the same rules.

The provider's ``expand`` gives each class its wall clock, its real local instant (DST gaps and folds
resolved) and its UTC instant; the baseline is the bare ``rrule`` iteration a hand-written DAG would do,
naive wall clocks only. The rules mix every repeat type, six time zones and every hour of the day (so some
classes fall in DST gaps and folds), all 60 classes long; both sides are checked to give the same wall clocks.
Best of three runs each, alternating.
Run: .venv/bin/python benchmarks/recurrence_expansion.py
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from dateutil import rrule

SERIES = 10_000
CLASSES = 60
RUNS = 3
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Australia/Sydney", "GMT")
RR_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


def rules() -> list[tuple[Any, dict[str, Any]]]:
    """Each series as (the provider's RecurrenceRule, the same rule as plain rrule arguments)."""
    from airflow_provider_wiziq.api.recurrence import RecurrenceRule
    from airflow_provider_wiziq.api.vocabulary import LAST, RepeatType, Weekday

    made = []
    year = datetime.now().year + 1
    for index in range(SERIES):
        start = datetime(year, 1 + index % 12, 1 + index % 28, (index // 36) % 24, 15 * (index % 4))
        zone = ZONES[(index // 6) % len(ZONES)]
        kind = index % 6
        plain: dict[str, Any] = {"dtstart": start, "count": CLASSES}
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


def main() -> None:
    from airflow_provider_wiziq.api.recurrence import expand

    made = rules()
    ours_times, plain_times = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        ours = [expand(rule, max_classes=CLASSES) for rule, _ in made]
        ours_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain = [list(rrule.rrule(**arguments)) for _, arguments in made]
        plain_times.append(time.perf_counter() - started)
    for classes, walls in zip(ours, plain, strict=True):
        assert [c.wall_clock for c in classes] == walls
    gaps = sum(c.in_gap for classes in ours for c in classes)
    folds = sum(c.in_fold for classes in ours for c in classes)
    best_ours, best_plain = min(ours_times), min(plain_times)
    total = SERIES * CLASSES
    print(f"{SERIES} series x {CLASSES} classes = {total} classes, {len(ZONES)} time zones, every repeat type")
    print(f"plain dateutil.rrule (naive wall clocks): {best_plain:6.2f} s = {best_plain / total * 1e6:5.2f} us/class")
    print(
        f"provider expand (local + UTC, DST flags): {best_ours:6.2f} s = {best_ours / total * 1e6:5.2f} us/class "
        f"({gaps} classes in a DST gap, {folds} in a fold)"
    )
    print(f"ratio: {best_ours / best_plain:.2f}x the plain rrule expansion")


if __name__ == "__main__":
    main()
