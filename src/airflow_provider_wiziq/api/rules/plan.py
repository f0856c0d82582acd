"""A term's plan as a value: made at one cutoff, read, approved and applied exactly (docs/term-sync.md).

A plan holds, per section, a row for people to read (action, counts, reason) and the writes that make WizIQ
follow the export, each a frozen operation with the operations it must wait for (a class's slot is freed
before another class takes it). Applying a plan sends its operations and writes the ledger; it never edits
the plan. The **fingerprint** digests the per-class changes and the drift repairs only (not the guard
arguments, the run, the lease or any timestamp), so a dry run and a real run of the same export at the same
cutoff have the same fingerprint, and any change to what would be written changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cached_property
from types import MappingProxyType
from typing import Any

from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass
from airflow_provider_wiziq.api.rules.state import CANCELLED_REPLACED, SectionEntry, TermState

#: The actions a plan row can say (docs/term-sync.md has the table).
CREATE = "create"  # a new section: its classes are created
UPDATE = "update"  # fields or roster changed: modify / add_attendees, ids kept
RESCHEDULE = "reschedule"  # instants changed: moved with modify (ids kept), the rest cancelled or created
REPLACE = "replace"  # presenter or zone changed: new ids and join links
CANCEL = "cancel"  # removed from the export: its future classes are cancelled
MISSING = "missing"  # removed from the export, kept for now (removal_grace)
ENDED = "ended"  # every class is in the past
UNCHANGED = "unchanged"
FAILED = "failed"  # the plan cannot provision it (a conflict in the export): left as it stands
ACTIONS = (CREATE, UPDATE, RESCHEDULE, REPLACE, CANCEL, MISSING, ENDED, UNCHANGED, FAILED)


# Operations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One write of the plan. ``after``: the operations that must have succeeded first."""

    id: int
    key: str  # the section it belongs to
    reason: str
    after: tuple[int, ...] = ()
    drift: bool = False  # repairs what was changed on WizIQ's side (listed apart from the changes)

    @property
    def writes(self) -> int:
        return 1


_NEVER = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ClassOp(Op):
    """A write to one class that stands: its id and the instant it starts at."""

    class_id: int = 0
    start: datetime = _NEVER


@dataclass(frozen=True)
class Cancel(ClassOp):
    presenter: str = ""
    state: str = ""  # the ledger state after the cancel


@dataclass(frozen=True)
class Move(ClassOp):
    """``modify`` with a new start (and the section's fields): the class keeps its id and join links."""

    presenter: str = ""
    to: ScheduledClass | None = None
    time_zone: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    temporary: bool = False  # a step through a free instant, to untie two classes taking each other's slot


@dataclass(frozen=True)
class Modify(ClassOp):
    """``modify`` of fields that keep the class's instant (and so its id and join links)."""

    fields: tuple[tuple[str, str], ...] = ()
    presenter: str = ""  # set when the presenter is written back (drift): the slot it takes


@dataclass(frozen=True)
class Enroll(ClassOp):
    """``add_attendees`` of the section's roster (keyed by attendee id: adding again is harmless)."""


@dataclass(frozen=True)
class Create(Op):
    """``create_recurring`` (a series) or ``create`` (one class); the unwanted classes a series brings are
    cancelled right after it exists, and with ``enroll`` (the section has a roster) the roster is enrolled in
    each wanted one: one ``add_attendees`` a class, counted in :attr:`writes`."""

    request: CreateClassRequest | None = None
    slots: tuple[ScheduledClass, ...] = ()
    wanted: tuple[bool, ...] = ()
    presenter: str = ""
    enroll: bool = False

    @property
    def series(self) -> bool:
        return isinstance(self.request, CreateRecurringRequest)

    @property
    def first(self) -> ScheduledClass:
        return self.slots[0]

    @property
    def writes(self) -> int:
        return 1 + self.wanted.count(False) + (self.wanted.count(True) if self.enroll else 0)


# Rows ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionPlan:
    """One section's row: what happens to it and why."""

    key: str
    action: str
    reason: str = ""
    kept: int = 0
    created: int = 0
    modified: int = 0
    cancelled: int = 0
    enrolled: int = 0
    first_affected: date | None = None
    left_enrolled: tuple[str, ...] = ()
    packing: str = ""  # how its creates were packed (packing.describe): "2 create calls: 2 series (60 + 11 classes)"
    renamed_from: str | None = None
    error: str | None = None  # the plan cannot provision it (a conflict in the export)

    def row(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "action": self.action,
            "kept": self.kept,
            "created": self.created,
            "modified": self.modified,
            "cancelled": self.cancelled,
            "enrolled": self.enrolled,
            "reason": self.reason,
            "first_affected": self.first_affected.isoformat() if self.first_affected else None,
        }


@dataclass(frozen=True)
class TermPlan:
    """Everything one run decided, at ``cutoff`` (a class starting before it counts as past)."""

    term: str
    cutoff: datetime
    sections: tuple[SectionPlan, ...]
    ops: tuple[Op, ...]
    state: TermState  # the ledger as the run read it
    #: The ledger entries the apply starts from: what was read on WizIQ (classes cancelled or moved there,
    #: series adopted) and renamed sections, as if already recorded.
    base: Mapping[str, SectionEntry] = field(default_factory=lambda: MappingProxyType({}))
    renames: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # new key -> old key
    missing: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))  # key -> runs missing
    adopted: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))  # series ids
    #: Classes made alone (``create``) found on WizIQ and taken into the ledger, by section.
    adopted_classes: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    unrepairable: tuple[str, ...] = ()  # drift WizIQ did not take: reported, not sent again
    tracked_future: int = 0  # the ledger's future classes when the plan was made
    refusals: tuple[str, ...] = ()  # what the guards say; empty when they let it through
    scanned: bool = False  # the whole account was read (to adopt what stands there)

    # What people read -----------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        return [section.row() for section in self.sections]

    def section(self, key: str) -> SectionPlan:
        return next(item for item in self.sections if item.key == key)

    @property
    def writes(self) -> int:
        return sum(op.writes for op in self.ops)

    @property
    def empty(self) -> bool:
        """Nothing to send to WizIQ and nothing to record but what the ledger already says."""
        return (
            not self.ops
            and not self.renames
            and not self.adopted
            and not self.adopted_classes
            and not self.missing_changed
        )

    @property
    def missing_changed(self) -> bool:
        return any(self.state.entries.get(key, SectionEntry()).missing != runs for key, runs in self.missing.items())

    @property
    def destructive(self) -> bool:
        """A guard would refuse it, or it replaces or cancels classes that stand (ids and join links lost)."""
        return bool(self.refusals) or any(isinstance(op, Cancel) and not op.drift for op in self.ops)

    def changes(self) -> list[dict[str, Any]]:
        """The per-class changes (not the drift repairs), in plan order: action, key, class, before, after, reason."""
        return [change for change in _changes(self.ops) if not change.pop("drift")]

    def drift(self) -> list[dict[str, Any]]:
        """The repairs of what was changed on WizIQ's side."""
        return [change for change in _changes(self.ops) if change.pop("drift")]

    @cached_property
    def fingerprint(self) -> str:
        """A digest of the per-class changes and drift repairs (see the module docstring)."""
        payload = json.dumps(list(_changes(self.ops)), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    def summary(self) -> dict[str, int]:
        """Planned totals over the rows."""
        totals = {"sections": len(self.sections), "created": 0, "modified": 0, "cancelled": 0, "enrolled": 0}
        for row in self.sections:
            for name in ("created", "modified", "cancelled", "enrolled"):
                totals[name] += getattr(row, name)
        return totals


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _changes(ops: Sequence[Op]) -> Iterator[dict[str, Any]]:
    """Each op as per-class changes (a move through a free instant is one change from start to end)."""
    finals = {op.class_id: op for op in ops if isinstance(op, Move) and not op.temporary}
    for op in ops:
        base = {"key": op.key, "reason": op.reason, "drift": op.drift}
        if isinstance(op, Cancel):
            action = "replace" if op.state == CANCELLED_REPLACED else "cancel"
            yield {"action": action, "class_id": op.class_id, "before": _iso(op.start), "after": None, **base}
        elif isinstance(op, Move):
            if op.temporary:
                continue
            first = next((m for m in ops if isinstance(m, Move) and m.temporary and m.class_id == op.class_id), op)
            target = finals[op.class_id].to
            after = _iso(target.utc_start) if target is not None else None
            yield {"action": "reschedule", "class_id": op.class_id, "before": _iso(first.start), "after": after, **base}
        elif isinstance(op, Modify):
            fields = ",".join(f"{name}={value}" for name, value in op.fields)
            yield {"action": "update", "class_id": op.class_id, "before": None, "after": fields, **base}
        elif isinstance(op, Enroll):
            yield {"action": "enroll", "class_id": op.class_id, "before": None, "after": None, **base}
        elif isinstance(op, Create):
            for slot, wanted in zip(op.slots, op.wanted, strict=True):
                if wanted:
                    yield {"action": "create", "class_id": None, "before": None, "after": _iso(slot.utc_start), **base}


def plan_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The plan as a fixed-width table for the task log."""
    header = (
        f"{'section':24} {'action':10} {'kept':>5} {'created':>7} {'modified':>8} {'cancelled':>9} {'enrolled':>8}"
        "  first affected  reason"
    )
    lines = [header]
    for row in rows:
        lines.append(
            f"{str(row['key'])[:24]:24} {row['action']:10} {row['kept']:>5} {row['created']:>7} "
            f"{row['modified']:>8} {row['cancelled']:>9} {row['enrolled']:>8}  {row['first_affected'] or '-':14}  "
            f"{row['reason'] or '-'}"
        )
    return "\n".join(lines)


__all__ = [
    "ACTIONS",
    "CANCEL",
    "CREATE",
    "ENDED",
    "FAILED",
    "MISSING",
    "REPLACE",
    "RESCHEDULE",
    "UNCHANGED",
    "UPDATE",
    "Cancel",
    "ClassOp",
    "Create",
    "Enroll",
    "Modify",
    "Move",
    "Op",
    "SectionPlan",
    "TermPlan",
    "plan_table",
]
