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
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.rules import guards, reasons
from airflow_provider_wiziq.api.rules.adopt import adopt
from airflow_provider_wiziq.api.rules.draft import SectionDraft
from airflow_provider_wiziq.api.rules.identity import zones_agree
from airflow_provider_wiziq.api.rules.observe import Look, Seen, difference, observe
from airflow_provider_wiziq.api.rules.ordering import order
from airflow_provider_wiziq.api.rules.plan import (
    CANCEL,
    FAILED,
    MISSING,
    Cancel,
    Create,
    Move,
    Op,
    SectionPlan,
    TermPlan,
)
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass
from airflow_provider_wiziq.api.rules.state import (
    CANCELLED_HOLIDAY,
    CANCELLED_REMOVED,
    CANCELLED_REPLACED,
    LedgerClass,
    SectionEntry,
    TermState,
)
from airflow_provider_wiziq.api.rules.term import Schedule, Section, creation_chunks, roster_hash


@dataclass(frozen=True)
class DeclaredTerm:
    """The export, read and checked: its valid sections, their classes, the holidays."""

    sections: Mapping[str, Section]
    schedules: Mapping[str, Schedule]
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class PlanOptions:
    cancel_removed: bool = True
    removal_grace: int = 1
    max_series_classes: int = 60
    max_cancel_fraction: float | None = 0.2
    max_change_fraction: float | None = 0.2


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
        self.looks: dict[int, Look] = {}
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
            self.entries[key] = observe(
                key, self.entries[key], self.seen.records, self.cutoff, self.looks, self.unrepairable
            )
        self.tracked_future = sum(len(entry.future(self.cutoff)) for entry in self.entries.values())
        self._find_renames()
        if self.seen.account is not None:
            found = adopt(self.seen.account, self.declared.sections, self.declared.schedules, self.entries, self.looks,
                          self.cutoff)  # fmt: skip
            self.adopted, self.adopted_classes = found.series, found.classes
            self.tracked_future += found.tracked_future
        failed = self._conflicts()
        sections = self.declared.sections
        drafts: dict[str, SectionDraft] = {}
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
            instants = frozenset(self.instant(item) for item in entry.future(self.cutoff))
            signatures[(title, entry.presenter, instants)].append(key)
        for key in new:
            section = sections[key]
            instants = frozenset(slot.utc_start for slot in self.desired.get(key, ()))
            found = signatures.get((section.request.title.strip(), section.presenter, instants), [])
            if len(found) == 1:
                old = found.pop()
                self.renames[key] = old
                self.entries[key] = replace(self.entries.pop(old), missing=0)

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
                        held[(entry.presenter, self.instant(item))] = key
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

    def _plan_declared(self, key: str, section: Section) -> SectionDraft:
        entry = self.entries.get(key, SectionEntry())
        draft = SectionDraft(key, section, entry, new=key not in self.entries)
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
            instant = self.instant(item)
            if instant in wanted and instant not in holding:
                holding[instant] = item
            else:
                removed.append(item)
        instants = [*wanted, *(self.instant(item) for item in current)]
        if entry.time_zone and not zones_agree(entry.time_zone, section.time_zone, instants):
            self._replace_zone(draft, holding, removed, wanted)
        else:
            self._reschedule(draft, holding, removed, wanted)
        self._updates(draft)
        return draft

    def _replace_zone(
        self,
        draft: SectionDraft,
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
        draft: SectionDraft,
        holding: dict[datetime, LedgerClass],
        removed: list[LedgerClass],
        wanted: Mapping[datetime, ScheduledClass],
    ) -> None:
        """Classes kept where their instant stays, moved (ids kept) where it changed, the rest cancelled or added."""
        key, section = draft.key, draft.section
        still: list[LedgerClass] = []
        for item in removed:
            seen_at, home = self.instant(item), wanted.get(item.start)
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
            on_holiday = self.instant(item).astimezone(zone).date() in self.declared.holidays
            state = CANCELLED_HOLIDAY if on_holiday else CANCELLED_REMOVED
            draft.cancel(self, item, state, draft.why or ("on a holiday" if on_holiday else "no longer wanted"))
        draft.added = added[pairs:]

    def _updates(self, draft: SectionDraft) -> None:
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
                    said = difference(look.shown, expected)
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
            op = Cancel(0, key, reason, class_id=item.class_id, start=self.instant(item), presenter=entry.presenter,
                        state=CANCELLED_REMOVED)  # fmt: skip
            self.add(op)
        first = self.instant(current[0]).astimezone(ZoneInfo(entry.time_zone or "UTC")).date()
        self.rows[key] = SectionPlan(key, CANCEL, reason=reason, cancelled=len(current), first_affected=first)

    # Creates, across sections ------------------------------------------------------------------------------

    def _create(self, drafts: Mapping[str, SectionDraft]) -> None:
        """Each section's missing classes as series (and single classes), never over a slot that is held."""
        held: dict[str, set[datetime]] = defaultdict(set)
        leaving = {op.class_id for op in self.ops if isinstance(op, (Cancel, Move))}
        for key, entry in self.entries.items():
            if key in drafts:
                continue
            for item in entry.future(self.cutoff):
                if item.class_id not in leaving:
                    held[entry.presenter].add(self.instant(item))
        # What each presenter's sections create: no series brings an unwanted class at an instant another section
        # creates (the two creates would race for the slot; one teacher's A-day and B-day sections at one hour).
        added: dict[str, set[datetime]] = defaultdict(set)
        for draft in drafts.values():
            presenter = draft.section.presenter
            held[presenter].update(self.instant(item) for item in draft.kept)
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
                self.add(op)

    # Small helpers --------------------------------------------------------------------------------------

    def _fix(self, key: str, class_id: int, **changes: str) -> None:
        """What WizIQ holds is what the section wants though the ledger says otherwise: record it, send nothing."""
        entry = self.entries[key]
        classes = tuple(replace(c, **changes) if c.class_id == class_id else c for c in entry.classes)  # type: ignore[arg-type]
        self.entries[key] = replace(entry, classes=classes)

    def add(self, op: Op) -> None:
        """Take an operation into the plan (drafts call this: :class:`.draft.Planning`)."""
        self.ops.append(op)

    def instant(self, item: LedgerClass) -> datetime:
        """Where a tracked class is: as WizIQ shows it when it was read, else as the ledger has it."""
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
                busy[entry.presenter].add(self.instant(item))
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


def _wire_wall_clock(slot: ScheduledClass) -> str:
    return values.wire_datetime(slot.wall_clock)


def _presenter_fields(section: Section) -> tuple[tuple[str, str], ...]:
    wire = section.wire
    return tuple((name, wire[name]) for name in ("presenter_email", "presenter_id", "presenter_name") if name in wire)


__all__ = ["DeclaredTerm", "PlanOptions", "Seen", "make_plan"]
