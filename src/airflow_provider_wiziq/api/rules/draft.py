"""One declared section's plan while it is being made: what it keeps, moves, cancels, modifies, enrolls and
creates, and the row it becomes (action, counts, reason). No I/O; the planner (:mod:`.planner`) fills it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules import reasons
from airflow_provider_wiziq.api.rules.packing import Packed, describe
from airflow_provider_wiziq.api.rules.plan import (
    CREATE,
    ENDED,
    REPLACE,
    RESCHEDULE,
    UNCHANGED,
    UPDATE,
    Cancel,
    Create,
    Enroll,
    Modify,
    Move,
    Op,
    SectionPlan,
)
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass
from airflow_provider_wiziq.api.rules.state import LedgerClass, SectionEntry
from airflow_provider_wiziq.api.rules.term import Section


class Planning(Protocol):
    """What a draft asks of the plan it belongs to: where WizIQ shows a class, and to take an operation."""

    def instant(self, item: LedgerClass) -> datetime: ...

    def add(self, op: Op) -> None: ...


class SectionDraft:
    """One declared section's plan while it is being made."""

    def __init__(self, key: str, section: Section, entry: SectionEntry, *, new: bool) -> None:
        self.key = key
        self.section = section
        self.entry = entry
        self.new = new
        self.renamed_from: str | None = None
        self.adopted: tuple[int, ...] = ()
        self.adopted_classes: tuple[int, ...] = ()
        self.ended = False
        self.replacing = ""
        self.why = reasons.join(reasons.spec_changes(entry.spec, section.wire))
        self.kept: list[LedgerClass] = []
        self._kept: set[LedgerClass] = set()  # the same, to ask in constant time (a list made planning quadratic)
        self.moves: list[Move] = []
        self.moved_items: list[LedgerClass] = []
        self.cancels: list[Cancel] = []
        self.modifies: list[Modify] = []
        self.enrolls: list[Enroll] = []
        self.creates: list[Create] = []
        self.packed: list[Packed] = []
        self.added: list[ScheduledClass] = []

    def keep(self, item: LedgerClass) -> None:
        self.kept.append(item)
        self._kept.add(item)

    def keeps(self, item: LedgerClass) -> bool:
        return item in self._kept

    def cancel(self, planner: Planning, item: LedgerClass, state: str, reason: str) -> None:
        presenter = self.entry.presenter or self.section.presenter
        op = Cancel(0, self.key, reason, class_id=item.class_id, start=planner.instant(item), presenter=presenter,
                    state=state)  # fmt: skip
        self.cancels.append(op)
        planner.add(op)

    def move(self, planner: Planning, item: LedgerClass, slot: ScheduledClass, reason: str, drift: bool) -> None:
        op = Move(0, self.key, reason, drift=drift, class_id=item.class_id, start=planner.instant(item),
                  presenter=self.section.presenter, to=slot, time_zone=self.section.time_zone,
                  fields=tuple(self.section.fields.items()))  # fmt: skip
        self.moves.append(op)
        self.moved_items.append(item)
        planner.add(op)

    def modify(
        self,
        planner: Planning,
        item: LedgerClass,
        fields: Sequence[tuple[str, str]],
        reason: str,
        *,
        drift: bool = False,
        presenter: str = "",
    ) -> None:
        op = Modify(0, self.key, reason, drift=drift, class_id=item.class_id, start=planner.instant(item),
                    fields=tuple(fields), presenter=presenter)  # fmt: skip
        self.modifies.append(op)
        planner.add(op)

    def enroll(self, planner: Planning, item: LedgerClass) -> None:
        op = Enroll(0, self.key, self.roster_reason(), class_id=item.class_id, start=planner.instant(item))
        self.enrolls.append(op)
        planner.add(op)

    def roster_reason(self) -> str:
        if not self.entry.roster_ids:
            return "roster enrolled"
        before, after = set(self.entry.roster_ids), set(self.section.roster_ids)
        return reasons.roster_change(sorted(after - before), sorted(before - after))

    def left_enrolled(self) -> tuple[str, ...]:
        """Attendees removed from the roster who stay enrolled in future classes (WizIQ cannot unenroll)."""
        if not (self.kept or self.moves):
            return ()
        left = {*self.entry.left, *self.entry.roster_ids} - set(self.section.roster_ids)
        return tuple(sorted(left))

    def row(self) -> SectionPlan:
        created = sum(op.wanted.count(True) for op in self.creates)
        extra = sum(op.wanted.count(False) for op in self.creates)
        moves = [op for op in self.moves if not op.temporary]
        modified = len(moves) + len(self.modifies)
        cancelled = len(self.cancels) + extra
        enrolled = len(self.enrolls) + (created if self.section.roster_hash else 0)
        left = self.left_enrolled()
        instants = [op.start for op in (*self.cancels, *self.modifies, *self.enrolls, *moves)]
        instants += [op.to.utc_start for op in moves if op.to is not None]
        instants += [op.first.utc_start for op in self.creates]
        zone = ZoneInfo(self.section.time_zone)
        first = min(instants).astimezone(zone).date() if instants else None
        changed_roster = self.entry.roster_ids and set(self.entry.roster_ids) != set(self.section.roster_ids)
        roster = self.roster_reason() if changed_roster and (self.kept or self.moves) else ""
        if self.ended:
            action, reason = ENDED, "every class is in the past"
        elif self.new and not self.renamed_from:
            action, reason = CREATE, "new section"
        elif self.replacing:
            action, reason = REPLACE, self.replacing
        elif self.moves or self.cancels or self.creates:
            action = RESCHEDULE
            reason = reasons.join([self.why or counts(len(moves), len(self.cancels), created), roster])
        elif self.modifies or self.enrolls:
            action = UPDATE
            drifted = sum(op.drift for op in self.modifies)
            changed = [self.why] if len(self.modifies) > drifted else []
            drift = [f"{drifted} classes changed on WizIQ, written back"] if drifted else []
            reason = reasons.join([*changed, *drift, roster or ("roster enrolled" if self.enrolls else "")])
        elif roster:
            action, reason = UPDATE, roster  # students left: nothing to send (WizIQ cannot unenroll), said
        else:
            action, reason = UNCHANGED, ""
        if self.renamed_from:
            reason = reasons.join([f"renamed from {self.renamed_from}", reason])
        if self.adopted or self.adopted_classes:
            found = [f"{len(self.adopted)} series" if self.adopted else ""]
            found.append(counted(len(self.adopted_classes), "class") if self.adopted_classes else "")
            reason = reasons.join([f"adopted {' and '.join(part for part in found if part)} found on WizIQ", reason])
        return SectionPlan(
            key=self.key,
            action=action,
            reason=reason,
            kept=len(self.kept),
            created=created,
            modified=modified,
            cancelled=cancelled,
            enrolled=enrolled,
            first_affected=first,
            left_enrolled=left,
            packing=describe(self.packed) if self.packed else "",
            renamed_from=self.renamed_from,
        )


def counts(moved: int, cancelled: int, created: int) -> str:
    """``2 moved, 1 added``: a reschedule's counts, the zero ones left out."""
    parts = [f"{count} {word}" for count, word in ((moved, "moved"), (cancelled, "cancelled"), (created, "added"))]
    return ", ".join(part for part in parts if not part.startswith("0 "))


__all__ = ["Planning", "SectionDraft", "counts"]
