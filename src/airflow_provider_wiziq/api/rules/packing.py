"""Packing a section's classes to create into as few WizIQ create calls as it can.

WizIQ creates classes one at a time (``create``) or as a series that a repeat rule describes
(``create_recurring``: daily, Monday to Saturday, Monday to Friday, or weekly on given days every N weeks), at
most ``max_series_classes`` classes a series. :func:`pack` finds runs of the classes that such a rule reproduces
exactly and makes them series; what no series covers becomes single classes. WizIQ's rules have no exceptions,
so a series may run through a few unwanted classes (a missing weekday inside a run, a holiday), which are
cancelled right after it is created: at most ``max_filler`` in a row (a longer break costs one call for a new
series instead of that many cancels), never on a ``blocked`` instant (a class that stays: WizIQ would answer
1032) and never on a class an earlier series of the plan already brings.

A section declared as a rule packs by that rule (``hint``): each series starts on its first class to create and
follows the section's own rule, so an every-N-weeks series keeps the section's week alignment.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import ClassVar, TypeAlias
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.protocol.vocabulary import RepeatType, Weekday
from airflow_provider_wiziq.api.rules.recurrence import RecurrenceRule, ScheduledClass, classes_at, expand

#: A series being created runs through at most this many unwanted classes in a row (cancelled right after it is
#: created); a longer break starts a new series, which costs one call instead of that many cancels.
MAX_FILLER_RUN = 5
#: The longest every-N-weeks a weekly series may repeat by (WizIQ's ``specific_week``: 1 to 5).
MAX_SPECIFIC_WEEK = 5
#: What an unwanted class a series brings costs, in calls: its cancel is a call, as the create is.
CANCEL_COST = 1.0
#: What a class a series leaves out on its own weeks costs: more than a cancel, so that a weekday missing once
#: (a holiday) is cancelled inside the series rather than left out of it for a call of its own.
LEFT_OUT_COST = 1.5
#: How many N-week cycles from a series' start show whether its weeks alternate (an every-N-weeks rule is tried
#: only then).
HEAD_CYCLES = 2
#: How many of the classes still to bring the weekday pattern of a new series is read from.
WINDOW = 60
#: The weekday sets the daily repeat types stand for (Monday = 0), as weekly rules every week.
_DAILY_TYPES = {
    frozenset(range(7)): RepeatType.DAILY,
    frozenset(range(6)): RepeatType.MON_SAT,
    frozenset(range(5)): RepeatType.MON_FRI,
}


@dataclass(frozen=True)
class Series:
    """One ``create_recurring`` call: its rule (``start`` = its first wall clock, ``class_occurrence`` = every class
    it brings), the classes it brings in order, and which of them are wanted (the rest are cancelled after)."""

    method: ClassVar[str] = "create_recurring"

    rule: RecurrenceRule
    slots: tuple[ScheduledClass, ...]
    wanted: tuple[bool, ...]

    @property
    def first(self) -> ScheduledClass:
        return self.slots[0]

    @property
    def created(self) -> int:
        """The wanted classes it brings."""
        return sum(self.wanted)

    @property
    def extra(self) -> int:
        """The unwanted classes it brings, cancelled right after it is created."""
        return len(self.wanted) - sum(self.wanted)


@dataclass(frozen=True)
class SingleClass:
    """One ``create`` call: a class no series covers. ``slots`` and ``wanted`` read as a one-class series'."""

    method: ClassVar[str] = "create"

    slot: ScheduledClass

    @property
    def first(self) -> ScheduledClass:
        return self.slot

    @property
    def slots(self) -> tuple[ScheduledClass, ...]:
        return (self.slot,)

    @property
    def wanted(self) -> tuple[bool, ...]:
        return (True,)

    @property
    def created(self) -> int:
        return 1

    @property
    def extra(self) -> int:
        return 0


#: A create call of a packing.
Packed: TypeAlias = Series | SingleClass


def pack(
    to_create: Iterable[ScheduledClass],
    blocked: Collection[datetime],
    *,
    max_series_classes: int,
    hint: RecurrenceRule | None = None,
    max_filler: int = MAX_FILLER_RUN,
) -> list[Packed]:
    """The create calls that bring every class of ``to_create`` exactly once, in order of their first class.

    ``blocked`` are UTC instants no series may bring (classes that stay). Without ``hint`` the classes are
    packed into the rules that reproduce them (classes at different times of day or in different zones never
    share a series); with ``hint`` (the section's own rule) every call is a series following that rule.
    """
    classes = sorted({item.utc_start: item for item in to_create}.values(), key=lambda item: item.utc_start)
    if not classes:
        return []
    if hint is not None:
        return list(_follow(hint, classes, blocked, max_series_classes, max_filler))
    groups: dict[tuple[str, time], list[ScheduledClass]] = {}
    for item in classes:
        groups.setdefault((_zone(item).key, item.wall_clock.time()), []).append(item)
    if len(groups) == 1:
        return _Packer(classes, blocked, max_series_classes, max_filler).run()
    packed: list[Packed] = []
    for members in groups.values():
        # A wall clock in a DST gap can be the instant of another time of day: no series runs over another's class.
        own = {item.utc_start for item in members}
        others = [item.utc_start for item in classes if item.utc_start not in own]
        packed.extend(_Packer(members, [*blocked, *others], max_series_classes, max_filler).run())
    return sorted(packed, key=lambda call: call.first.utc_start)


def describe(packed: Sequence[Packed]) -> str:
    """How a section was packed, for the plan: ``3 create calls: 2 series (60 + 14 classes, 3 cancelled right
    after), 1 single class``."""
    series = [call for call in packed if isinstance(call, Series)]
    singles = len(packed) - len(series)
    parts = []
    if series:
        sizes = " + ".join(str(len(call.slots)) for call in series)
        extra = sum(call.extra for call in series)
        cancelled = f", {extra} cancelled right after" if extra else ""
        parts.append(f"{len(series)} series ({sizes} classes{cancelled})")
    if singles:
        parts.append(f"{singles} single class{'es' if singles > 1 else ''}")
    calls = len(packed)
    return f"{calls} create call{'s' if calls != 1 else ''}: {', '.join(parts)}" if packed else "nothing to create"


def max_calls(classes: int, max_series_classes: int) -> int:
    """The create calls a section whose dates follow one weekday pattern with a few gaps needs at most."""
    return math.ceil(classes / max_series_classes) + 2


def _zone(item: ScheduledClass) -> ZoneInfo:
    zone = item.local_start.tzinfo
    assert isinstance(zone, ZoneInfo), "a ScheduledClass's local_start carries its ZoneInfo"
    return zone


# With the section's rule --------------------------------------------------------------------------------------


def _follow(
    rule: RecurrenceRule,
    classes: Sequence[ScheduledClass],
    blocked: Collection[datetime],
    max_series_classes: int,
    max_filler: int,
) -> Iterable[Series]:
    """Series that follow ``rule``: each starts on the first class not yet brought and takes the rule's classes
    while they are wanted or short fillers, up to ``max_series_classes``."""
    wanted = {item.utc_start for item in classes}
    done: set[datetime] = set()
    for start in classes:
        if start.utc_start in done:
            continue
        series_rule = replace(rule, start=start.wall_clock, class_occurrence=max_series_classes, class_end_date=None)
        slots = expand(series_rule, max_classes=max_series_classes)
        if slots[0].utc_start != start.utc_start:
            raise AssertionError(f"a series starting at {start.wall_clock} does not start with that class")
        taken: list[ScheduledClass] = []
        flags: list[bool] = []
        filler = 0
        for slot in slots:
            instant = slot.utc_start
            useful = instant in wanted and instant not in done
            if not useful and (instant in blocked or instant in done):
                break
            filler = 0 if useful else filler + 1
            if filler > max_filler:
                break
            taken.append(slot)
            flags.append(useful)
        while not flags[-1]:
            taken.pop()
            flags.pop()
        done.update(slot.utc_start for slot, useful in zip(taken, flags, strict=True) if useful)
        yield Series(replace(series_rule, class_occurrence=len(taken)), tuple(taken), tuple(flags))


# Finding the rules ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """A candidate series: its weekdays and every-N-weeks, the days (ordinals) it would bring, which of them are
    wanted, and how many classes to create it leaves out on its own weeks."""

    days: frozenset[int]  # weekdays, Monday = 0
    every: int  # weeks
    taken: tuple[int, ...]
    flags: tuple[bool, ...]
    left_out: int = 0

    @property
    def brings(self) -> int:
        return sum(self.flags)

    @property
    def cost(self) -> float:
        """What the series costs, in calls (see CANCEL_COST and LEFT_OUT_COST)."""
        return 1 + CANCEL_COST * (len(self.flags) - self.brings) + LEFT_OUT_COST * self.left_out

    @property
    def ratio(self) -> float:
        """What the series costs a class it brings; a single class costs 1."""
        return self.cost / self.brings if self.brings else math.inf


class _Packer:
    """Packs the classes of one zone and time of day: a greedy walk in date order that starts each series on the
    first class not yet brought, with the rule that costs the fewest calls a class brought (weighted set cover's
    greedy rule, kept to series that start on the first class left, so that series come in date order)."""

    def __init__(
        self, classes: list[ScheduledClass], blocked: Iterable[datetime], max_series_classes: int, max_filler: int
    ) -> None:
        self.zone = _zone(classes[0])
        self.at = classes[0].wall_clock.time()
        self.classes = {item.wall_clock.toordinal(): item for item in classes}
        self.order = sorted(self.classes)
        self.remaining = set(self.order)
        self.limit = max_series_classes
        self.max_filler = max_filler
        self.stop = self._blocked_days(blocked)
        self.last = self.order[-1]

    def _blocked_days(self, blocked: Iterable[datetime]) -> set[int]:
        """The days (ordinals) whose class at this time of day starts at a blocked instant."""
        first, last = self.classes[self.order[0]].utc_start, self.classes[self.order[-1]].utc_start
        days: set[int] = set()
        for instant in blocked:
            if not first < instant < last:
                continue
            near = instant.astimezone(self.zone).date()
            candidates = [near + timedelta(days=shift) for shift in (-1, 0, 1)]
            days.update(
                slot.wall_clock.toordinal()
                for slot in classes_at(candidates, self.at, self.zone)
                if slot.utc_start == instant
            )
        return days

    def run(self) -> list[Packed]:
        packed: list[Packed] = []
        best_from: dict[int, tuple[_Run | None, bool]] = {}
        position = 0
        while position < len(self.order):
            start = self.order[position]
            position += 1
            if start not in self.remaining:
                continue
            best, off_pattern = best_from.pop(start) if start in best_from else self._best(start, position - 1)
            later = self._next(position)
            if best is not None and off_pattern and later is not None:
                # A class off its neighbours' weekdays (a make-up day): alone, and the series from the next class?
                best_from[later] = self._best(later, bisect.bisect_left(self.order, later))
                after = best_from[later][0]
                if after is not None and (1 + after.cost) / (1 + after.brings) < best.ratio:
                    best = None
            if best is None or best.ratio >= 1:
                self._bring(start)
                packed.append(SingleClass(ScheduledClass(0, *self.classes[start][1:])))
                continue
            packed.append(self._series(best))
            for day in best.taken:  # its unwanted classes too: no later series may bring a class at their instant
                self._bring(day)
            best_from.clear()
        return packed

    def _bring(self, day: int) -> None:
        self.remaining.discard(day)
        self.stop.add(day)

    def _next(self, position: int) -> int | None:
        """The first day from ``position`` on still to bring."""
        for day in self.order[position:]:
            if day in self.remaining:
                return day
        return None

    def _best(self, start: int, position: int) -> tuple[_Run | None, bool]:
        """The candidate series from ``start`` with the fewest calls a class (the most classes on a tie), or None;
        and whether ``start`` is off the pattern of the classes that follow it."""
        best: _Run | None = None
        candidates, off_pattern = self._candidates(start, position)
        for days, every, bound in candidates:
            if best is not None and 1 / bound >= best.ratio:
                break  # candidates come by their bound, largest first: none of the rest can do better
            run = self._run(start, days, every)
            if run.taken:
                run = replace(run, left_out=self._left_out(run, position))
            if best is None or (run.ratio, -run.brings) < (best.ratio, -best.brings):
                best = run
        return best, off_pattern

    def _left_out(self, run: _Run, position: int) -> int:
        """The classes still to bring that a run leaves out on its own weeks (weekdays it does not meet on), between
        its first and last day. Classes in the weeks an every-N-weeks run skips are not counted: the weeks
        alternate (see :meth:`_candidates`), and a series of the other weeks brings them."""
        last, monday, every = run.taken[-1], run.taken[0] - (run.taken[0] - 1) % 7, run.every
        left = 0
        for day in self.order[position:]:
            if day > last:
                break
            left += day in self.remaining and ((day - monday) // 7) % every == 0
        return left - run.brings

    def _candidates(self, start: int, position: int) -> tuple[list[tuple[frozenset[int], int, int]], bool]:
        """Weekly rules from ``start`` worth trying, each with a bound on the classes it can bring, largest first;
        and whether the weekday of ``start`` is off the pattern (rare among the classes that follow).

        For every N weeks (1 to 5): the weekdays of the coming classes in the weeks it meets, all of them or only
        the frequent ones (a make-up day is better left to a class of its own). Every N weeks (2 to 5) only where
        the weeks really alternate: in the first two N-week cycles the weeks between the meeting weeks have no
        class, or none on a meeting weekday (A/B weeks). The same days every week with a break between is one
        weekly rule with cancels, never interleaved every-N-weeks series.
        """
        weekday = (start - 1) % 7  # date.fromordinal(1) is a Monday
        monday = start - weekday
        window: list[int] = []
        for day in self.order[position:]:
            if len(window) == WINDOW:
                break
            if day in self.remaining:
                window.append(day)
        found: dict[tuple[frozenset[int], int], int] = {}
        off_pattern = False
        for every in range(1, MAX_SPECIFIC_WEEK + 1):
            counts = [0] * 7
            meeting: set[int] = set()
            between: set[int] = set()
            for day in window:
                week = (day - monday) // 7
                if week % every == 0:
                    counts[(day - 1) % 7] += 1
                if week < HEAD_CYCLES * every:
                    (meeting if week % every == 0 else between).add((day - 1) % 7)
            if every > 1 and meeting & between:
                continue
            frequent = frozenset(d for d in range(7) if counts[d] >= max(counts) / 2)
            off_pattern = off_pattern or (every == 1 and weekday not in frequent)
            choices = [frozenset(d for d in range(7) if counts[d]) | {weekday}, frequent | {weekday}]
            if every > 1:  # the first meeting weeks' days: where a holiday shifted an A/B alternation, they change
                choices.append(frozenset(meeting) | {weekday})
            for days in choices:
                bound = sum(counts[d] for d in days)
                if bound > 1:
                    found[(days, every)] = min(bound, self.limit)
        ranked = sorted(((days, every, bound) for (days, every), bound in found.items()), key=lambda c: -c[2])
        return ranked, off_pattern

    def _run(self, start: int, days: frozenset[int], every: int) -> _Run:
        """The classes a weekly rule on ``days`` every ``every`` weeks would bring from ``start``: wanted days, and
        filler days while they are few in a row and not blocked; never past the last class to create."""
        offsets = sorted(days)
        remaining, stop, last, limit, max_filler = self.remaining, self.stop, self.last, self.limit, self.max_filler
        taken: list[int] = []
        flags: list[bool] = []
        filler = 0
        week = start - (start - 1) % 7
        period = 7 * every
        while True:
            for offset in offsets:
                day = week + offset
                if day < start:
                    continue
                if day > last:
                    return self._trimmed(days, every, taken, flags)
                if day in remaining:
                    filler = 0
                    flags.append(True)
                elif day in stop:
                    return self._trimmed(days, every, taken, flags)
                else:
                    filler += 1
                    if filler > max_filler:
                        return self._trimmed(days, every, taken, flags)
                    flags.append(False)
                taken.append(day)
                if len(taken) == limit:
                    return self._trimmed(days, every, taken, flags)
            week += period

    @staticmethod
    def _trimmed(days: frozenset[int], every: int, taken: list[int], flags: list[bool]) -> _Run:
        """The run ending on a wanted class, without a last stretch of unwanted classes that brings fewer wanted
        classes after it than it cancels (those are left to the next call)."""
        end = len(flags)
        while True:
            while end and not flags[end - 1]:
                end -= 1
            tail = end
            while tail and flags[tail - 1]:
                tail -= 1
            stretch = tail
            while stretch and not flags[stretch - 1]:
                stretch -= 1
            if not stretch or tail - stretch <= end - tail:
                return _Run(days, every, tuple(taken[:end]), tuple(flags[:end]))
            end = stretch

    def _series(self, run: _Run) -> Series:
        """The series of a run: its rule in WizIQ's plainest words (a daily type when the days are one) and its
        classes, the wanted ones as given and the fillers read like them."""
        days = [date.fromordinal(day) for day in run.taken]
        extra = [day for day, useful in zip(days, run.flags, strict=True) if not useful]
        fillers = iter(classes_at(extra, self.at, self.zone))
        slots = []
        for index, (day, useful) in enumerate(zip(run.taken, run.flags, strict=True)):
            item = self.classes[day] if useful else next(fillers)
            slots.append(ScheduledClass(index, *item[1:]))
        repeat = _DAILY_TYPES.get(run.days) if run.every == 1 else None
        start = slots[0].wall_clock
        if repeat is not None:
            rule = RecurrenceRule(repeat, start, self.zone.key, class_occurrence=len(slots))
        else:
            rule = RecurrenceRule(
                RepeatType.WEEKLY,
                start,
                self.zone.key,
                class_occurrence=len(slots),
                specific_week=run.every,
                days_of_week=tuple(Weekday(day) for day in sorted(run.days)),
            )
        return Series(rule, tuple(slots), run.flags)


__all__ = ["MAX_FILLER_RUN", "Packed", "Series", "SingleClass", "describe", "max_calls", "pack"]
