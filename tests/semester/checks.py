"""Each simulated day's checks, judged on the emulator's own state (its classes and request log), never on the
sync's own account of itself; only ``left_enrolled`` is read from the run's report, because it is a report.

(a) the standing future classes equal the oracle's, per section; (b) no past class touched; (c) no write on a
day without edits; (d) ids kept where issue 19 says they must be; (e) every class created or cancelled is
announced by an asset event; (f) every roster student is enrolled in every future class, and a removed one
still enrolled is reported in ``left_enrolled``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.semester.drive import DayRun
from tests.semester.oracle import MARGIN, Expected, by_identity

#: WizIQ's write methods (the request log's view of "a change was sent").
WRITES = ("create_recurring", "create", "modify", "cancel", "add_attendees")
CHECKS = {
    "a": "standing future classes = oracle",
    "b": "past classes untouched",
    "c": "no write on an unchanged day",
    "d": "ids kept",
    "e": "every change announced",
    "f": "roster enrolled",
    "g": "other account untouched",
}


@dataclass(frozen=True)
class Seen:
    """A class as the emulator holds it."""

    class_id: int
    start: datetime  # aware UTC
    cancelled: bool
    presenter: str  # case-folded
    title: str  # trimmed
    duration: int
    attendees: frozenset[str]

    @property
    def identity(self) -> tuple[str, str]:
        return (self.presenter, self.title)

    def same_class(self, other: Seen) -> bool:
        return (self.start, self.cancelled, self.presenter, self.title, self.duration) == (
            other.start,
            other.cancelled,
            other.presenter,
            other.title,
            other.duration,
        )


def snapshot(emulator: Any) -> dict[int, Seen]:
    """Every class of the emulated account, by id.

    Read from the emulator's store under its lock, the fields ``emulator.classes()`` reports by the same names:
    ``classes()`` turns each class into JSON and back, which costs a semester of snapshots about half a minute.
    """
    seen = {}
    with emulator.store.atomic():
        for item in emulator.store.all_classes():
            seen[item.class_id] = Seen(
                class_id=item.class_id,
                start=item.utc_start,
                cancelled=item.cancelled_at is not None,
                presenter=str(item.presenter_email or "").strip().casefold(),
                title=str(item.title).strip(),
                duration=int(item.duration),
                attendees=frozenset(str(attendee.attendee_id) for attendee in item.attendees),
            )
    return seen


@dataclass(frozen=True)
class Finding:
    day: int
    account: str
    check: str  # a key of CHECKS
    section: str
    detail: str

    def line(self) -> str:
        return f"day {self.day:>2} {self.account} ({self.check}) {CHECKS[self.check]}: {self.section}: {self.detail}"


def instants(items: Iterable[datetime], shown: int = 3) -> str:
    ordered = sorted(items)
    text = ", ".join(f"{moment:%Y-%m-%dT%H:%MZ}" for moment in ordered[:shown])
    return text + (f" ... (+{len(ordered) - shown})" if len(ordered) > shown else "")


@dataclass
class Judge:
    """One account's checks, day after day (it remembers yesterday's term and what is not yet announced)."""

    account: str
    expected: dict[str, Expected] = field(default_factory=dict)  # the last declared term, by key
    converged: bool = False  # (a) passed after the last run
    pending: dict[int, tuple[int, str, str]] = field(default_factory=dict)  # id -> (day, created/cancelled, key)

    def judge(
        self,
        *,
        day: int,
        now: datetime,
        expected: dict[str, Expected],
        before: Mapping[int, Seen],
        after: Mapping[int, Seen],
        run: DayRun,
        writes: list[str],
        quiet: bool,
        tags: Mapping[str, frozenset[str]] | None = None,
        renamed: Mapping[str, str] | None = None,
        other_ran: bool = False,
    ) -> list[Finding]:
        """Judge one run: ``before``/``after`` are the account's classes around it, ``writes`` its write calls.

        ``quiet``: the export did not change, or only by renames and zone aliases; ``tags``: each section's edits
        today; ``renamed``: new key -> old key; ``other_ran``: another account's sync of the term ran since.
        """
        tags, renamed = tags or {}, renamed or {}
        found: list[Finding] = []

        def note(check: str, section: str, detail: str) -> None:
            found.append(Finding(day, self.account, check, section, detail))

        cutoff = now + MARGIN
        previous = self.expected
        standing = [item for item in after.values() if not item.cancelled and item.start >= cutoff]
        self._standing(note, expected, standing, now)
        converged = not any(item.check == "a" for item in found)
        self._past(note, before, after, cutoff)
        if quiet and self.converged and writes:
            since = " (the other school's sync ran since this one's last run)" if other_ran else ""
            note("c", "*", f"{len(writes)} writes: {dict(Counter(writes))}{since}")
        self._ids(note, expected, previous, before, after, cutoff, tags, renamed)
        self._announced(note, day, expected, previous, before, after, run)
        self._roster(note, expected, previous, standing, run, tags, renamed)
        self.expected, self.converged = expected, converged
        return found

    def finish(self, day: int) -> list[Finding]:
        """Changes never announced by the end of the simulation: one finding per day and kind of change."""
        by_day: dict[tuple[int, str], list[tuple[str, list[int]]]] = defaultdict(list)
        for (made, what, key), ids in _grouped(self.pending).items():
            by_day[(made, what)].append((key, ids))
        found = []
        for (made, what), places in sorted(by_day.items()):
            total = sum(len(ids) for _, ids in places)
            named = ", ".join(f"{key} ({len(ids)})" for key, ids in places[:6]) + (" ..." if len(places) > 6 else "")
            where = f"{len(places)} sections" if len(places) > 1 else places[0][0]
            found.append(
                Finding(day, self.account, "e", where, f"{total} {what} on day {made} never announced: {named}")
            )
        return found

    # (a) -------------------------------------------------------------------------------------------------------

    def _standing(self, note: Any, expected: dict[str, Expected], standing: list[Seen], now: datetime) -> None:
        groups: dict[tuple[str, str], list[Seen]] = defaultdict(list)
        for item in standing:
            groups[item.identity].append(item)
        for identity, section in by_identity(expected).items():
            classes = groups.pop(identity, [])
            want, have = Counter(section.future(now)), Counter(item.start for item in classes)
            missing, surplus = want - have, have - want
            if missing and not classes:
                note("a", section.key, f"none of its {sum(want.values())} future classes stands")
            elif missing:
                note("a", section.key, f"{sum(missing.values())} missing: {instants(missing.elements())}")
            doubled = [moment for moment in surplus if moment in want]
            holiday = [moment for moment in surplus if moment not in want and moment in section.on_holidays]
            extra = [moment for moment in surplus if moment not in want and moment not in section.on_holidays]
            if holiday:
                note("a", section.key, f"{len(holiday)} on a holiday: {instants(holiday)}")
            if extra:
                note("a", section.key, f"{len(extra)} outside its schedule: {instants(extra)}")
            if doubled:
                note("a", section.key, f"{len(doubled)} instants held twice: {instants(doubled)}")
            durations = sorted({item.duration for item in classes if item.duration != section.duration})
            if durations:
                note("a", section.key, f"duration {durations} instead of {section.duration}")
        for (presenter, title), classes in sorted(groups.items()):
            note(
                "a",
                f"[{title} / {presenter}]",
                f"{len(classes)} of no declared section: {instants(c.start for c in classes)}",
            )

    # (b) -------------------------------------------------------------------------------------------------------

    def _past(self, note: Any, before: Mapping[int, Seen], after: Mapping[int, Seen], cutoff: datetime) -> None:
        changed, vanished, into_past, created = [], [], [], []
        for class_id, item in after.items():
            old = before.get(class_id)
            if old is None:
                if item.start < cutoff:
                    created.append(class_id)
            elif old.start < cutoff and not old.same_class(item):
                changed.append(class_id)
            elif old.start >= cutoff and item.start < cutoff:
                into_past.append(class_id)
        vanished = [class_id for class_id in before if class_id not in after]
        for what, ids in (
            ("past classes changed", changed),
            ("classes gone", vanished),
            ("classes moved into the past", into_past),
            ("classes created in the past", created),
        ):
            if ids:
                note("b", "*", f"{len(ids)} {what}: {sorted(ids)[:8]}")

    # (d) -------------------------------------------------------------------------------------------------------

    def _ids(
        self,
        note: Any,
        expected: dict[str, Expected],
        previous: dict[str, Expected],
        before: Mapping[int, Seen],
        after: Mapping[int, Seen],
        cutoff: datetime,
        tags: Mapping[str, frozenset[str]],
        renamed: Mapping[str, str],
    ) -> None:
        def future_ids(classes: Mapping[int, Seen], identity: tuple[str, str]) -> dict[datetime, int]:
            return {
                item.start: class_id
                for class_id, item in sorted(classes.items())
                if item.identity == identity and not item.cancelled and item.start >= cutoff
            }

        for key, section in expected.items():
            kinds = tags.get(key, frozenset())
            old = previous.get(renamed.get(key, key))
            if old is None or "added" in kinds:
                continue
            was, now = future_ids(before, old.identity), future_ids(after, section.identity)
            if "teacher" in kinds:
                stayed = sorted(set(was.values()) & set(now.values()))
                alive = sorted(i for i in was.values() if not after[i].cancelled)
                if stayed or alive:
                    note("d", key, f"teacher change: {len(alive)} of {len(was)} old ids still stand")
                continue
            if kinds and kinds <= {"rename", "alias"} and was != now:
                lost = sorted(set(was.values()) - set(now.values()))
                note("d", key, f"{'/'.join(sorted(kinds))}: {len(lost)} of {len(was)} ids changed: {lost[:5]}")
                continue
            moved_ids = [
                moment for moment in set(was) & set(now) if was[moment] != now[moment]
            ]  # an unchanged instant must keep its id
            if moved_ids:
                note("d", key, f"{len(moved_ids)} unchanged instants got new ids: {instants(moved_ids)}")
            if kinds & {"move", "days", "swap", "calendar"}:
                kept = len(set(was.values()) & set(now.values()))
                if kept < min(len(was), len(now)):
                    what = "/".join(sorted(kinds & {"move", "days", "swap", "calendar"}))
                    could = min(len(was), len(now))
                    note("d", key, f"{what}: kept {kept} ids where {could} could move ({len(was)} -> {len(now)})")

    # (e) -------------------------------------------------------------------------------------------------------

    def _announced(
        self,
        note: Any,
        day: int,
        expected: dict[str, Expected],
        previous: dict[str, Expected],
        before: Mapping[int, Seen],
        after: Mapping[int, Seen],
        run: DayRun,
    ) -> None:
        owners = {item.identity: item.key for item in [*previous.values(), *expected.values()]}

        def owner(class_id: int) -> str:
            item = after[class_id]
            return owners.get(item.identity, f"[{item.title}]")

        created = {i for i, item in after.items() if i not in before and not item.cancelled}
        fleeting = {i for i, item in after.items() if i not in before and item.cancelled}
        cancelled = {i for i, item in after.items() if i in before and item.cancelled and not before[i].cancelled}
        for class_id in created:
            self.pending[class_id] = (day, "created", owner(class_id))
        for class_id in cancelled:
            self.pending[class_id] = (day, "cancelled", owner(class_id))
        problems: dict[tuple[str, str], list[int]] = defaultdict(list)
        for key, ids in (run.announcement or {}).items():
            for class_id in ids.get("created", []):
                self.pending.pop(class_id, None)
                item = after.get(class_id)
                if item is None or item.cancelled:
                    problems[(key, "announced as created but does not stand")].append(class_id)
                elif owner(class_id) != key:
                    problems[(key, f"announced as created but is {owner(class_id)}'s")].append(class_id)
            for class_id in ids.get("cancelled", []):
                self.pending.pop(class_id, None)
                item = after.get(class_id)
                if class_id in fleeting:
                    problems[(key, "created and cancelled in one run, yet announced as cancelled")].append(class_id)
                elif item is None or not item.cancelled:
                    problems[(key, "announced as cancelled but stands")].append(class_id)
        by_what: dict[str, list[tuple[str, list[int]]]] = defaultdict(list)
        for (key, what), ids in sorted(problems.items()):
            by_what[what].append((key, sorted(ids)))
        for what, places in by_what.items():  # one line per kind of problem, naming its sections
            total = sum(len(ids) for _, ids in places)
            named = ", ".join(f"{key} {ids[:3]}" for key, ids in places[:4]) + (" ..." if len(places) > 4 else "")
            note("e", f"{len(places)} sections" if len(places) > 1 else places[0][0], f"{total} {what}: {named}")
        if run.succeeded:  # a successful run's event carries every change since the last event
            for (made, what, key), ids in _grouped(self.pending).items():
                note("e", key, f"{len(ids)} {what} ids of day {made} not announced: {ids[:5]}")
            self.pending.clear()

    # (f) -------------------------------------------------------------------------------------------------------

    def _roster(
        self,
        note: Any,
        expected: dict[str, Expected],
        previous: dict[str, Expected],
        standing: list[Seen],
        run: DayRun,
        tags: Mapping[str, frozenset[str]],
        renamed: Mapping[str, str],
    ) -> None:
        groups: dict[tuple[str, str], list[Seen]] = defaultdict(list)
        for item in standing:
            groups[item.identity].append(item)
        for key, section in expected.items():
            classes = groups.get(section.identity, [])
            lacking = Counter(student for item in classes for student in section.roster - item.attendees)
            if lacking:
                short = sum(1 for item in classes if section.roster - item.attendees)
                note("f", key, f"{short} of {len(classes)} classes lack students, e.g. {sorted(lacking)[:4]}")
            old = previous.get(renamed.get(key, key))
            if old is None or "roster" not in tags.get(key, frozenset()):
                continue
            still = (old.roster - section.roster) & {student for item in classes for student in item.attendees}
            if not still:
                continue
            reported = (run.report.get(key) or {}).get("left_enrolled")
            if reported is None:
                note("f", key, f"no left_enrolled in the report; removed and still enrolled: {sorted(still)}")
            elif not still <= {str(student) for student in reported}:
                note("f", key, f"left_enrolled {sorted(reported)} misses {sorted(still - set(map(str, reported)))}")


def _grouped(pending: Mapping[int, tuple[int, str, str]]) -> dict[tuple[int, str, str], list[int]]:
    groups: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for class_id, where in sorted(pending.items()):
        groups[where].append(class_id)
    return dict(sorted(groups.items()))


def untouched(before: Mapping[int, Seen], after: Mapping[int, Seen]) -> list[int]:
    """Ids of an account whose class changed (or appeared, or vanished) between two snapshots."""
    return sorted(i for i in set(before) | set(after) if before.get(i) != after.get(i))
