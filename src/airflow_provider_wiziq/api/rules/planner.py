"""Making a term's plan: the declared term, the ledger and what WizIQ showed, in; a frozen plan, out (no I/O).

Per section the plan keeps every future class whose instant and presenter are unchanged (a zone is compared
by the instants it gives, so an alias changes nothing), moves classes with ``modify`` where instants changed
(ids and join links kept), cancels what is no longer wanted, creates what is missing (as series of at most
``max_series_classes`` classes), updates fields, repairs what was changed on WizIQ's side and enrolls the
roster. Across sections it finds renamed sections (a key gone and a new one with the same title, presenter
and future instants: no write), conflicts in the export (one presenter, two classes at one instant: those
sections fail, the others apply) and the order of the writes (:mod:`.ordering`); then the guards speak.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.responses import ClassRecord
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules import guards, reasons
from airflow_provider_wiziq.api.rules.identity import (
    AccountIndex,
    identity_of,
    master_id,
    presenter_key,
    record_instant,
    zones_agree,
)
from airflow_provider_wiziq.api.rules.ordering import order
from airflow_provider_wiziq.api.rules.packing import Packed, describe
from airflow_provider_wiziq.api.rules.plan import (
    CANCEL,
    CREATE,
    ENDED,
    FAILED,
    MISSING,
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
    TermPlan,
)
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass
from airflow_provider_wiziq.api.rules.state import (
    CANCELLED,
    CANCELLED_HOLIDAY,
    CANCELLED_ON_WIZIQ,
    CANCELLED_REMOVED,
    CANCELLED_REPLACED,
    LOST,
    SCHEDULED,
    LedgerClass,
    SectionEntry,
    TermState,
)
from airflow_provider_wiziq.api.rules.term import SHOWN_FIELDS, Schedule, Section, creation_chunks, roster_hash


@dataclass(frozen=True)
class DeclaredTerm:
    """The export, read and checked: its valid sections, their classes, the holidays."""

    sections: Mapping[str, Section]
    schedules: Mapping[str, Schedule]
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Seen:
    """What WizIQ showed: the records of the ledger's future classes, and the whole account when it was read."""

    records: Mapping[int, ClassRecord] = field(default_factory=lambda: MappingProxyType({}))
    account: AccountIndex | None = None


@dataclass(frozen=True)
class PlanOptions:
    cancel_removed: bool = True
    removal_grace: int = 1
    max_series_classes: int = 60
    max_cancel_fraction: float | None = 0.2
    max_change_fraction: float | None = 0.2


@dataclass(frozen=True)
class _Look:
    """One tracked class as WizIQ shows it."""

    instant: datetime
    shown: tuple[str, ...]
    presenter: str


def make_plan(
    term: str,
    declared: DeclaredTerm,
    state: TermState,
    seen: Seen,
    *,
    cutoff: datetime,
    options: PlanOptions,
) -> TermPlan:
    """The plan for ``declared`` against ``state`` and what WizIQ showed, at ``cutoff``."""
    return _Planner(term, declared, state, seen, cutoff, options).plan()


class _Planner:
    def __init__(
        self, term: str, declared: DeclaredTerm, state: TermState, seen: Seen, cutoff: datetime, options: PlanOptions
    ) -> None:
        self.term = term
        self.declared = declared
        self.state = state
        self.seen = seen
        self.cutoff = cutoff
        self.options = options
        self.entries: dict[str, SectionEntry] = dict(state.entries)
        self.looks: dict[int, _Look] = {}
        self.unrepairable: list[str] = []
        self.adopted: dict[str, tuple[int, ...]] = {}
        self.adopted_classes: dict[str, tuple[int, ...]] = {}
        self.renames: dict[str, str] = {}
        self.rows: dict[str, SectionPlan] = {}
        self.ops: list[Op] = []
        self.missing: dict[str, int] = {}
        self.tracked_future = 0
        self.desired: dict[str, list[ScheduledClass]] = {
            key: [slot for slot in schedule.desired if slot.utc_start >= cutoff]
            for key, schedule in declared.schedules.items()
        }

    # The whole term -------------------------------------------------------------------------------------

    def plan(self) -> TermPlan:
        for key in list(self.entries):
            self.entries[key] = self._observe(key, self.entries[key])
        self.tracked_future = sum(len(entry.future(self.cutoff)) for entry in self.entries.values())
        self._find_renames()
        if self.seen.account is not None:
            self._adopt(self.seen.account)
        failed = self._conflicts()
        sections = self.declared.sections
        drafts: dict[str, _Draft] = {}
        for key, section in sections.items():
            if key in failed:
                self.rows[key] = SectionPlan(key, FAILED, reason=failed[key], error=failed[key])
                continue
            drafts[key] = self._plan_declared(key, section)
        for key, entry in self.entries.items():
            if key not in sections and key not in self.renames.values():
                self._plan_undeclared(key, entry)
        self._create(drafts)
        for key, draft in drafts.items():
            self.rows[key] = draft.row()
        order_keys = [*sections, *(key for key in self.rows if key not in sections)]
        rows = tuple(self.rows[key] for key in order_keys if key in self.rows)
        ops = order(self.ops, self._occupied(), self._zones())
        standing = sum(1 for key, entry in self.state.entries.items() if not entry.removed)
        refusals = guards.refusals(
            declared=len(sections),
            has_future=any(self.desired.get(key) for key in sections),
            tracked_future=self.tracked_future,
            standing_sections=standing,
            rows=rows,
            ops=ops,
            max_cancel_fraction=self.options.max_cancel_fraction,
            max_change_fraction=self.options.max_change_fraction,
        )
        return TermPlan(
            term=self.term,
            cutoff=self.cutoff,
            sections=rows,
            ops=ops,
            state=self.state,
            base=MappingProxyType(self.entries),
            renames=MappingProxyType(self.renames),
            missing=MappingProxyType(self.missing),
            adopted=MappingProxyType(self.adopted),
            adopted_classes=MappingProxyType(self.adopted_classes),
            unrepairable=tuple(self.unrepairable),
            tracked_future=self.tracked_future,
            refusals=refusals,
            scanned=self.seen.account is not None,
        )

    # Reading what WizIQ showed ------------------------------------------------------------------------------

    def _observe(self, key: str, entry: SectionEntry) -> SectionEntry:
        """The entry with its future classes as WizIQ shows them: cancelled there, not the ledger's, or moved."""
        changed = False
        classes = []
        for item in entry.classes:
            if item.state != SCHEDULED or item.start < self.cutoff:
                classes.append(item)
                continue
            record = self.seen.records.get(item.class_id)
            if record is None or record.status is None:
                classes.append(replace(item, state=CANCELLED_ON_WIZIQ))
                changed = True
            elif not _is_ours(record, item, entry, (look := _look(record, item.start)).presenter):
                self.unrepairable.append(
                    f"{key}: class {item.class_id} is no longer this section's class on WizIQ; left alone"
                )
                classes.append(replace(item, state=LOST))
                changed = True
            else:
                self.looks[item.class_id] = look
                if not item.verified and _holds(look, item, entry):
                    item = replace(item, verified=True)  # what was sent last is what WizIQ shows
                    changed = True
                classes.append(item)
        return replace(entry, classes=tuple(classes)) if changed else entry

    def _find_renames(self) -> None:
        """A key gone from the export and a new key with the same title, presenter and future instants."""
        sections = self.declared.sections
        gone = {
            key: entry
            for key, entry in self.entries.items()
            if key not in sections and not entry.removed and entry.future(self.cutoff)
        }
        new = [key for key in sections if key not in self.entries]
        signatures: dict[tuple[str, str, frozenset[datetime]], list[str]] = defaultdict(list)
        for key, entry in gone.items():
            title = entry.spec.get("title", "").strip()
            instants = frozenset(self._instant(item) for item in entry.future(self.cutoff))
            signatures[(title, entry.presenter, instants)].append(key)
        for key in new:
            section = sections[key]
            instants = frozenset(slot.utc_start for slot in self.desired.get(key, ()))
            found = signatures.get((section.request.title.strip(), section.presenter, instants), [])
            if len(found) == 1:
                old = found.pop()
                self.renames[key] = old
                self.entries[key] = replace(self.entries.pop(old), missing=0)

    def _adopt(self, account: AccountIndex) -> None:
        """Take into the ledger every series on WizIQ that is the same series as one a section would make, and for a
        section that gives its days (packed into single classes too), every class made alone that is the same class."""
        claimed = {master for entry in self.entries.values() for master in entry.series}
        taken = {item.class_id for entry in self.entries.values() for item in entry.classes}
        for key, section in self.declared.sections.items():
            schedule = self.declared.schedules[key]
            entry = self.entries.get(key, SectionEntry())
            starts = {slot.utc_start for slot in (*schedule.desired, *schedule.holiday)}
            starts.update(item.first_start for item in entry.pending)
            by_id = {item.class_id: item for item in entry.classes}
            adopted = []
            alone = []
            for start in sorted(starts):
                identity = identity_of(section.request, start)
                record = account.find_class(identity) if section.rule is None else None
                if record is not None and record.class_id is not None and record.class_id not in taken:
                    taken.add(record.class_id)
                    alone.append(record.class_id)
                    fields = section.fields_hash if _shown(record, section.shown) == section.shown else ""
                    by_id[record.class_id] = LedgerClass(record.class_id, start, SCHEDULED, None, fields)
                    if start >= self.cutoff:
                        self.looks[record.class_id] = _look(record, start)
                        self.tracked_future += 1
                master = account.find(identity)
                if master is None or master in claimed:
                    continue
                claimed.add(master)
                adopted.append(master)
                for instant, record in account.classes_of(master):
                    class_id = record.class_id
                    if class_id is None or class_id in by_id:
                        continue
                    taken.add(class_id)
                    fields = section.fields_hash if _shown(record, section.shown) == section.shown else ""
                    state = SCHEDULED if record.status is not None else CANCELLED
                    by_id[class_id] = LedgerClass(class_id, instant, state, master, fields)
                    if state == SCHEDULED and instant >= self.cutoff:
                        self.looks[class_id] = _look(record, instant)
                        self.tracked_future += 1
            if adopted:
                self.adopted[key] = tuple(adopted)
            if alone:
                self.adopted_classes[key] = tuple(alone)
            if adopted or alone or entry.pending:
                self.entries[key] = replace(
                    entry,
                    presenter=entry.presenter or section.presenter,
                    time_zone=entry.time_zone or section.time_zone,
                    series=(*entry.series, *adopted),
                    classes=tuple(sorted(by_id.values(), key=lambda c: (c.start, c.class_id))),
                    pending=(),
                )

    def _conflicts(self) -> dict[str, str]:
        """Sections that want a (presenter, instant) slot another section wants or keeps: they fail at once."""
        failed: dict[str, str] = {}
        sections = self.declared.sections
        while True:
            wanted: dict[tuple[str, datetime], list[str]] = defaultdict(list)
            for key, section in sections.items():
                if key not in failed:
                    for slot in self.desired.get(key, ()):
                        wanted[(section.presenter, slot.utc_start)].append(key)
            held: dict[tuple[str, datetime], str] = {}
            for key, entry in self.entries.items():
                stays = key in failed or (key not in sections and self._keeps_classes(key, entry))
                if stays:
                    for item in entry.future(self.cutoff):
                        held[(entry.presenter, self._instant(item))] = key
            found = False
            for (presenter, instant), keys in wanted.items():
                holder = held.get((presenter, instant))
                clash = keys if len(keys) > 1 else []
                if not clash and holder is not None and holder not in keys:
                    clash = [*keys, holder]
                if not clash:
                    continue
                when = self._local(clash[0], instant)
                who = presenter.partition(":")[2] or presenter
                for key in keys:
                    if key not in failed:
                        rest = ", ".join(k for k in clash if k != key)
                        failed[key] = f"conflict: {who} would present {rest} and {key} at {when}"
                        found = True
            if not found:
                return failed

    def _keeps_classes(self, key: str, entry: SectionEntry) -> bool:
        """Whether a section no longer declared keeps its future classes through this run."""
        if key in self.renames.values():
            return False
        return not self.options.cancel_removed or entry.missing + 1 < self.options.removal_grace

    # One section -----------------------------------------------------------------------------------------

    def _plan_declared(self, key: str, section: Section) -> _Draft:
        entry = self.entries.get(key, SectionEntry())
        draft = _Draft(key, section, entry, new=key not in self.entries)
        draft.renamed_from = self.renames.get(key)
        draft.adopted = self.adopted.get(key, ())
        draft.adopted_classes = self.adopted_classes.get(key, ())
        desired = self.desired.get(key, [])
        current = entry.future(self.cutoff)
        if entry.missing:
            self.missing[key] = 0
        if not desired and not current:
            draft.ended = bool(self.declared.schedules[key].desired)
            return draft
        if entry.presenter and entry.presenter != section.presenter:
            draft.replacing = reasons.presenter_change(entry.presenter, section.presenter, len(desired))
            for item in current:
                draft.cancel(self, item, CANCELLED_REPLACED, draft.replacing)
            draft.added = list(desired)
            return draft
        wanted = {slot.utc_start: slot for slot in desired}
        holding: dict[datetime, LedgerClass] = {}
        removed: list[LedgerClass] = []
        for item in current:
            instant = self._instant(item)
            if instant in wanted and instant not in holding:
                holding[instant] = item
            else:
                removed.append(item)
        instants = [*wanted, *(self._instant(item) for item in current)]
        if entry.time_zone and not zones_agree(entry.time_zone, section.time_zone, instants):
            self._replace_zone(draft, holding, removed, wanted)
        else:
            self._reschedule(draft, holding, removed, wanted)
        self._updates(draft)
        return draft

    def _replace_zone(
        self,
        draft: _Draft,
        holding: dict[datetime, LedgerClass],
        removed: list[LedgerClass],
        wanted: Mapping[datetime, ScheduledClass],
    ) -> None:
        """A new zone (not an alias): classes whose instant changes are replaced; the others are rewritten in it."""
        section = draft.section
        draft.replacing = reasons.zone_change(
            draft.entry.time_zone,
            section.time_zone,
            len(removed),
            defaulted="time_zone" in section.request.defaults_applied,
        )
        for item in removed:
            draft.cancel(self, item, CANCELLED_REPLACED, draft.replacing)
        for instant, item in sorted(holding.items()):
            draft.keep(item)
            fields = (("start_time", _wire_wall_clock(wanted[instant])), ("time_zone", section.time_zone))
            draft.modify(self, item, fields, f"time_zone {draft.entry.time_zone} -> {section.time_zone}, same instant")
        draft.added = [slot for instant, slot in wanted.items() if instant not in holding]

    def _reschedule(
        self,
        draft: _Draft,
        holding: dict[datetime, LedgerClass],
        removed: list[LedgerClass],
        wanted: Mapping[datetime, ScheduledClass],
    ) -> None:
        """Classes kept where their instant stays, moved (ids kept) where it changed, the rest cancelled or added."""
        key, section = draft.key, draft.section
        still: list[LedgerClass] = []
        for item in removed:
            seen_at, home = self._instant(item), wanted.get(item.start)
            if seen_at == item.start or home is None or item.start in holding:
                still.append(item)
                continue
            # Moved on WizIQ's side: back to its instant, unless that very move was sent and not taken.
            holding[item.start] = item
            if item.verified:
                draft.move(self, item, home, f"moved on WizIQ to {self._local(key, seen_at)}: moved back", True)
            else:
                self.unrepairable.append(f"{key}: class {item.class_id} stays at {self._local(key, seen_at)} on WizIQ")
                draft.keep(item)
        moved = {op.class_id for op in draft.moves}
        for _, item in sorted(holding.items()):
            if item.class_id not in moved and not draft.keeps(item):
                draft.keep(item)
        added = [slot for instant, slot in wanted.items() if instant not in holding]
        pairs = min(len(still), len(added))
        for item, slot in zip(still[:pairs], added[:pairs], strict=True):
            draft.move(self, item, slot, draft.why or "moved", False)
        zone = ZoneInfo(section.time_zone)
        for item in still[pairs:]:
            on_holiday = self._instant(item).astimezone(zone).date() in self.declared.holidays
            state = CANCELLED_HOLIDAY if on_holiday else CANCELLED_REMOVED
            draft.cancel(self, item, state, draft.why or ("on a holiday" if on_holiday else "no longer wanted"))
        draft.added = added[pairs:]

    def _updates(self, draft: _Draft) -> None:
        """Fields and presenter written back where WizIQ or the export differ; the roster enrolled."""
        section, entry = draft.section, draft.entry
        moved = {op.class_id for op in draft.moves}
        expected = section.shown
        for item in draft.kept:
            look = self.looks.get(item.class_id)
            if item.class_id not in moved and not any(op.class_id == item.class_id for op in draft.modifies):
                if item.fields != section.fields_hash:
                    if look is not None and look.shown == expected:
                        self._fix(draft.key, item.class_id, fields=section.fields_hash)  # applied; record lost
                    else:
                        why = draft.why or "fields changed"
                        draft.modify(self, item, tuple(section.fields.items()), why)
                elif look is not None and look.shown != expected:
                    said = _difference(look.shown, expected)
                    if item.verified:
                        fields = tuple(section.fields.items())
                        draft.modify(self, item, fields, f"changed on WizIQ ({said}): written back", drift=True)
                    else:
                        self.unrepairable.append(f"{draft.key}: class {item.class_id} keeps {said} on WizIQ")
            if look is None or look.presenter == section.presenter or not entry.presenter:
                continue
            if item.verified:
                draft.modify(
                    self,
                    item,
                    _presenter_fields(section),
                    "presenter changed on WizIQ: written back",
                    drift=True,
                    presenter=section.presenter,
                )
            else:
                self.unrepairable.append(f"{draft.key}: class {item.class_id} keeps another presenter on WizIQ")
        if section.roster_hash:
            enrolled = set(entry.roster_ids)
            known = roster_hash(entry.roster_ids)
            for item in [*draft.kept, *draft.moved_items]:
                if item.roster == section.roster_hash:
                    continue
                if item.roster == known and set(section.roster_ids) <= enrolled:
                    self._fix(draft.key, item.class_id, roster=section.roster_hash)  # only removals: nothing to send
                else:
                    draft.enroll(self, item)

    def _plan_undeclared(self, key: str, entry: SectionEntry) -> None:
        current = entry.future(self.cutoff)
        if not current:
            if not entry.removed:
                self.entries[key] = replace(entry, removed=True)
            return
        runs = entry.missing + 1
        if runs < self.options.removal_grace:
            self.missing[key] = runs
            reason = f"missing {runs} of {self.options.removal_grace}"
            self.rows[key] = SectionPlan(key, MISSING, reason=reason, kept=len(current))
            return
        if not self.options.cancel_removed:
            reason = "no longer in the export (cancel_removed is off: its classes stay)"
            self.rows[key] = SectionPlan(key, MISSING, reason=reason, kept=len(current))
            return
        reason = "no longer in the export"
        for item in current:
            op = Cancel(0, key, reason, class_id=item.class_id, start=self._instant(item), presenter=entry.presenter,
                        state=CANCELLED_REMOVED)  # fmt: skip
            self._add(op)
        first = self._instant(current[0]).astimezone(ZoneInfo(entry.time_zone or "UTC")).date()
        self.rows[key] = SectionPlan(key, CANCEL, reason=reason, cancelled=len(current), first_affected=first)

    # Creates, across sections ------------------------------------------------------------------------------

    def _create(self, drafts: Mapping[str, _Draft]) -> None:
        """Each section's missing classes as series (and single classes), never over a slot that is held."""
        held: dict[str, set[datetime]] = defaultdict(set)
        leaving = {op.class_id for op in self.ops if isinstance(op, (Cancel, Move))}
        for key, entry in self.entries.items():
            if key in drafts:
                continue
            for item in entry.future(self.cutoff):
                if item.class_id not in leaving:
                    held[entry.presenter].add(self._instant(item))
        # What each presenter's sections create: no series brings an unwanted class at an instant another section
        # creates (the two creates would race for the slot; one teacher's A-day and B-day sections at one hour).
        added: dict[str, set[datetime]] = defaultdict(set)
        for draft in drafts.values():
            presenter = draft.section.presenter
            held[presenter].update(self._instant(item) for item in draft.kept)
            held[presenter].update(op.to.utc_start for op in draft.moves if op.to is not None)
            added[presenter].update(slot.utc_start for slot in draft.added)
        for draft in drafts.values():
            if not draft.added:
                continue
            presenter = draft.section.presenter
            own = {slot.utc_start for slot in draft.added}
            blocked = held[presenter] | (added[presenter] - own)
            chunks = creation_chunks(
                draft.section, draft.added, blocked, max_series_classes=self.options.max_series_classes
            )
            reason = draft.replacing or ("new section" if draft.new else draft.why or "classes added")
            for chunk in chunks:
                held[presenter].update(slot.utc_start for slot in chunk.slots)
                op = Create(0, draft.key, reason, request=chunk.request, slots=chunk.slots, wanted=chunk.wanted,
                            presenter=presenter, enroll=bool(draft.section.roster_hash))  # fmt: skip
                draft.creates.append(op)
                draft.packed.append(chunk.call)
                self._add(op)

    # Small helpers --------------------------------------------------------------------------------------

    def _fix(self, key: str, class_id: int, **changes: str) -> None:
        """What WizIQ holds is what the section wants though the ledger says otherwise: record it, send nothing."""
        entry = self.entries[key]
        classes = tuple(replace(c, **changes) if c.class_id == class_id else c for c in entry.classes)  # type: ignore[arg-type]
        self.entries[key] = replace(entry, classes=classes)

    def _add(self, op: Op) -> None:
        self.ops.append(op)

    def _instant(self, item: LedgerClass) -> datetime:
        look = self.looks.get(item.class_id)
        return look.instant if look is not None else item.start

    def _local(self, key: str, instant: datetime) -> str:
        section = self.declared.sections.get(key)
        zone = section.time_zone if section is not None else (self.entries.get(key, SectionEntry()).time_zone or "UTC")
        return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")

    def _occupied(self) -> dict[str, set[datetime]]:
        busy: dict[str, set[datetime]] = defaultdict(set)
        for entry in self.entries.values():
            for item in entry.future(self.cutoff):
                busy[entry.presenter].add(self._instant(item))
                busy[entry.presenter].add(item.start)
        for key, section in self.declared.sections.items():
            busy[section.presenter].update(slot.utc_start for slot in self.desired.get(key, ()))
        for op in self.ops:
            if isinstance(op, Create):
                busy[op.presenter].update(slot.utc_start for slot in op.slots)
        return busy

    def _zones(self) -> dict[str, str]:
        zones = {key: entry.time_zone or "UTC" for key, entry in self.entries.items()}
        zones.update({key: section.time_zone for key, section in self.declared.sections.items()})
        return zones


class _Draft:
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

    def cancel(self, planner: _Planner, item: LedgerClass, state: str, reason: str) -> None:
        presenter = self.entry.presenter or self.section.presenter
        op = Cancel(0, self.key, reason, class_id=item.class_id, start=planner._instant(item), presenter=presenter,
                    state=state)  # fmt: skip
        self.cancels.append(op)
        planner._add(op)

    def move(self, planner: _Planner, item: LedgerClass, slot: ScheduledClass, reason: str, drift: bool) -> None:
        op = Move(0, self.key, reason, drift=drift, class_id=item.class_id, start=planner._instant(item),
                  presenter=self.section.presenter, to=slot, time_zone=self.section.time_zone,
                  fields=tuple(self.section.fields.items()))  # fmt: skip
        self.moves.append(op)
        self.moved_items.append(item)
        planner._add(op)

    def modify(
        self,
        planner: _Planner,
        item: LedgerClass,
        fields: Sequence[tuple[str, str]],
        reason: str,
        *,
        drift: bool = False,
        presenter: str = "",
    ) -> None:
        op = Modify(0, self.key, reason, drift=drift, class_id=item.class_id, start=planner._instant(item),
                    fields=tuple(fields), presenter=presenter)  # fmt: skip
        self.modifies.append(op)
        planner._add(op)

    def enroll(self, planner: _Planner, item: LedgerClass) -> None:
        op = Enroll(0, self.key, self.roster_reason(), class_id=item.class_id, start=planner._instant(item))
        self.enrolls.append(op)
        planner._add(op)

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
            reason = reasons.join([self.why or _counts(len(moves), len(self.cancels), created), roster])
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


def _counts(moved: int, cancelled: int, created: int) -> str:
    parts = [f"{count} {word}" for count, word in ((moved, "moved"), (cancelled, "cancelled"), (created, "added"))]
    return ", ".join(part for part in parts if not part.startswith("0 "))


def _is_ours(record: ClassRecord, item: LedgerClass, entry: SectionEntry, presenter: str) -> bool:
    """Whether the record WizIQ gives for a ledger class id still is that class (same series, or still alone, and
    its presenter, ``presenter``, or its title): an id read on another account, or reused, is not."""
    recorded = master_id(record)
    if item.class_master_id is not None and recorded != item.class_master_id:
        return False
    if item.class_master_id is None and recorded is not None:
        return False  # a class made alone never joins a series
    if not entry.presenter or presenter == entry.presenter:
        return True
    title = record.fields.get("title", "").strip()
    return bool(title) and title == entry.spec.get("title", "").strip()


def _holds(look: _Look, item: LedgerClass, entry: SectionEntry) -> bool:
    """Whether WizIQ shows the class as the ledger recorded it (instant, presenter, shown fields)."""
    shown = entry.shown.get(item.fields)
    return (
        look.instant == item.start
        and (not entry.presenter or look.presenter == entry.presenter)
        and (shown is None or look.shown == tuple(shown))
    )


def _look(record: ClassRecord, default: datetime) -> _Look:
    fields = record.fields
    return _Look(
        instant=record_instant(record) or default,
        shown=tuple(fields.get(name, "").strip() for name in SHOWN_FIELDS),
        presenter=presenter_key(fields.get("presenter_email"), fields.get("presenter_id")),
    )


def _shown(record: ClassRecord, expected: tuple[str, ...]) -> tuple[str, ...]:
    """The shown fields of a record; a column WizIQ left out reads as expected."""
    pairs = zip(SHOWN_FIELDS, expected, strict=True)
    return tuple((record.fields.get(name) or wanted).strip() for name, wanted in pairs)


def _difference(seen: Iterable[str], expected: Iterable[str]) -> str:
    pairs = zip(SHOWN_FIELDS, seen, expected, strict=True)
    return ", ".join(f"{name} {shown!r}" for name, shown, wanted in pairs if shown != wanted)


def _wire_wall_clock(slot: ScheduledClass) -> str:
    return values.wire_datetime(slot.wall_clock)


def _presenter_fields(section: Section) -> tuple[tuple[str, str], ...]:
    wire = section.wire
    return tuple((name, wire[name]) for name in ("presenter_email", "presenter_id", "presenter_name") if name in wire)


__all__ = ["DeclaredTerm", "PlanOptions", "Seen", "make_plan"]
