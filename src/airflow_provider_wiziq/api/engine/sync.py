"""The term sync: plan a declared term against its ledger and WizIQ, then apply the plan (docs/term-sync.md).

Only future classes are ever created, changed or cancelled: a class starting before ``now + safety_margin``
counts as past. Per section the plan keeps every class whose instant and placement (presenter and time
zone) are unchanged, moves classes with ``modify`` (keeping their ids and join links) where instants
changed, cancels what is no longer wanted, creates what is missing as series of at most the plan's
``max_series_classes`` classes, updates fields with ``modify`` and enrolls the roster. Every write is
recorded in the ledger as soon as its answer is read; a create whose answer was lost is found on WizIQ
(the one "same series" rule) before anything is sent again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.engine.ledger import (
    CANCELLED,
    CANCELLED_HOLIDAY,
    CANCELLED_ON_WIZIQ,
    CANCELLED_REMOVED,
    SCHEDULED,
    LedgerClass,
    SectionEntry,
    TermLedger,
)
from airflow_provider_wiziq.api.engine.provision import SeriesMaker, may_have_been_created, run_pool
from airflow_provider_wiziq.api.protocol.calls import MAX_PAGE_SIZE
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.errors import (
    WizIQAPIError,
    WizIQError,
    is_already_cancelled,
    is_no_record,
    is_too_late_to_cancel,
)
from airflow_provider_wiziq.api.protocol.responses import ClassRecord
from airflow_provider_wiziq.api.rules.identity import (
    LOOKUP_COLUMNS,
    AccountIndex,
    SeriesIdentity,
    identity_of,
    record_instant,
)
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass, localize
from airflow_provider_wiziq.api.rules.term import (
    SHOWN_FIELDS,
    Chunk,
    Schedule,
    Section,
    creation_chunks,
    desired_schedule,
    short_hash,
)

log = logging.getLogger(__name__)

#: A class starting sooner than this counts as past: never created, changed or cancelled. An hour leaves
#: room for a long run to finish before its first class starts, and for clocks that disagree.
SAFETY_MARGIN = timedelta(hours=1)
#: The write methods; a run that sends none of them changed nothing.
WRITE_METHODS = frozenset({"create_recurring", "create", "modify", "cancel", "add_attendees"})

CREATE, UPDATE, RESCHEDULE, CANCEL, UNCHANGED = "create", "update", "reschedule", "cancel", "unchanged"


class TermSyncError(WizIQError):
    """The sync refuses to run: a guard (an empty or truncated export) or a spec it cannot provision."""


@dataclass
class SectionPlan:
    """What one section needs: classes kept, moved, cancelled, created (as series), updated and enrolled."""

    key: str
    section: Section | None  # None: the section is no longer declared
    entry: SectionEntry
    schedule: Schedule | None = None
    kept: list[LedgerClass] = field(default_factory=list)
    moves: list[tuple[LedgerClass, ScheduledClass]] = field(default_factory=list)
    cancels: list[tuple[LedgerClass, str]] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    updates: list[LedgerClass] = field(default_factory=list)
    enroll: list[LedgerClass] = field(default_factory=list)
    adopted: list[int] = field(default_factory=list)
    new: bool = False
    original: Any = None  # the entry as read from the ledger, to write it back only when it changed
    saved: Any = None  # the entry as last written to the ledger

    @property
    def created(self) -> int:
        return sum(sum(chunk.wanted) for chunk in self.chunks)

    @property
    def extra_cancels(self) -> int:
        """Classes a new series brings that are not wanted (holidays), cancelled right after it is created."""
        return sum(len(chunk.wanted) - sum(chunk.wanted) for chunk in self.chunks)

    @property
    def modified(self) -> int:
        return len(self.moves) + len(self.updates)

    @property
    def cancelled(self) -> int:
        return len(self.cancels) + self.extra_cancels

    @property
    def action(self) -> str:
        if self.section is None:
            return CANCEL if self.cancels else UNCHANGED
        if self.moves or self.cancels or self.chunks:
            return CREATE if self.new and not self.moves and not self.cancels else RESCHEDULE
        if self.updates or self.enroll:
            return UPDATE
        return UNCHANGED

    @property
    def writes(self) -> int:
        """The write calls the plan sends (the roster of classes not yet created aside)."""
        moves_and_cancels = len(self.cancels) + len(self.moves) + self.extra_cancels
        return moves_and_cancels + len(self.chunks) + len(self.updates) + len(self.enroll)

    def first_affected(self) -> date | None:
        zone = self.zone
        instants = [c.start for c, _ in self.cancels] + [c.start for c in self.updates + self.enroll]
        instants += [c.start for c, _ in self.moves] + [slot.utc_start for _, slot in self.moves]
        instants += [chunk.first.utc_start for chunk in self.chunks]
        return min(instants).astimezone(zone).date() if instants else None

    @property
    def zone(self) -> ZoneInfo:
        if self.section is not None:
            return ZoneInfo(self.section.request.time_zone)
        return ZoneInfo(self.entry.placement.rpartition("|")[2] or "UTC")

    def row(self) -> dict[str, Any]:
        first = self.first_affected()
        return {
            "key": self.key,
            "action": self.action,
            "kept": len(self.kept),
            "created": self.created,
            "modified": self.modified,
            "cancelled": self.cancelled,
            "first_affected": first.isoformat() if first else None,
        }


@dataclass
class TermPlan:
    sections: dict[str, SectionPlan]
    scanned: bool  # the account was read to adopt what stands on WizIQ
    presenter_urls: dict[int, str]

    def rows(self) -> list[dict[str, Any]]:
        return [plan.row() for plan in self.sections.values()]

    @property
    def writes(self) -> int:
        return sum(plan.writes for plan in self.sections.values())


def plan_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The plan as a fixed-width table for the task log."""
    header = f"{'section':24} {'action':10} {'kept':>5} {'created':>7} {'modified':>8} {'cancelled':>9}  first affected"
    lines = [header]
    for row in rows:
        lines.append(
            f"{str(row['key'])[:24]:24} {row['action']:10} {row['kept']:>5} {row['created']:>7} "
            f"{row['modified']:>8} {row['cancelled']:>9}  {row['first_affected'] or '-'}"
        )
    return "\n".join(lines)


@dataclass
class SyncOptions:
    cancel_removed: bool = True
    max_cancel_fraction: float | None = 0.2
    max_concurrency: int = 8
    safety_margin: timedelta = SAFETY_MARGIN


class TermSync:
    """Plans and applies one term. ``ledger`` holds the term's ledger; ``now`` is the moment the run plans at."""

    def __init__(
        self,
        client: WizIQClient,
        ledger: TermLedger,
        *,
        term: str,
        sections: Mapping[str, Section],
        holidays: Collection[date],
        now: datetime,
        max_series_classes: int,
        options: SyncOptions | None = None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.term = term
        self.sections = dict(sections)
        self.holidays = frozenset(holidays)
        self.options = options or SyncOptions()
        self.cutoff = now.astimezone(timezone.utc) + self.options.safety_margin
        self.max_series_classes = max_series_classes
        self.maker = SeriesMaker(client)
        self.schedules = {key: desired_schedule(section, self.holidays) for key, section in self.sections.items()}
        self.presenter_urls: dict[int, str] = {}
        self.counts = {"created": 0, "modified": 0, "cancelled": 0, "enrolled": 0}
        self.done: dict[str, dict[str, list[int]]] = {}
        self._count_lock = threading.Lock()

    # Planning ---------------------------------------------------------------------------------------------

    def plan(self) -> TermPlan:
        """Read the ledger and WizIQ (reads only) and decide every section's actions."""
        self.ledger.check_format()
        marker = self.ledger.marker()
        self._ledger_keys = self.ledger.keys()
        keys = list(dict.fromkeys([*self._ledger_keys, *self.sections]))
        entries = {key: self.ledger.section(key) for key in keys}
        plans: dict[str, SectionPlan] = {}
        for key in keys:
            entry = entries[key]
            section = self.sections.get(key)
            if section is None and entry is None:
                continue
            plans[key] = SectionPlan(key, section, entry or SectionEntry(), self.schedules.get(key), new=entry is None)
            plans[key].original = plans[key].saved = entry.encode() if entry is not None else None
        self._refresh(plans)
        scanned = marker is None or any(plan.entry.pending for plan in plans.values())
        if scanned:
            why = "the ledger has no marker" if marker is None else "a create's answer was lost"
            log.info("Reading the WizIQ account to adopt what already stands there (%s)", why)
            self._adopt(plans, self.maker.index(newer_than=1))
        for plan in plans.values():
            self._plan_section(plan)
        self._guard(plans)
        return TermPlan(plans, scanned, self.presenter_urls)

    def _future(self, entry: SectionEntry) -> list[LedgerClass]:
        return [item for item in entry.classes if item.state == SCHEDULED and item.start >= self.cutoff]

    def _refresh(self, plans: Mapping[str, SectionPlan]) -> None:
        """Read the ledger's future classes on WizIQ (100 ids a call): see what was cancelled or moved there."""
        owners: dict[int, tuple[SectionPlan, LedgerClass]] = {}
        for plan in plans.values():
            for item in self._future(plan.entry):
                owners[item.class_id] = (plan, item)
        ids = sorted(owners)
        batches = [ids[i : i + MAX_PAGE_SIZE] for i in range(0, len(ids), MAX_PAGE_SIZE)]
        records: dict[int, ClassRecord] = {}

        def read(batch: list[int]) -> tuple[ClassRecord, ...]:
            try:
                return self.client.get_data(
                    multiple_class_id=batch, columns=(*LOOKUP_COLUMNS, "presenter_url"), page_size=MAX_PAGE_SIZE
                )
            except WizIQAPIError as error:
                if is_no_record(error):  # none of them is known any more
                    return ()
                raise

        def take(found: tuple[ClassRecord, ...]) -> None:
            for record in found:
                if record.class_id is not None:
                    records[record.class_id] = record

        run_pool(batches, read, take, max_concurrency=self.options.max_concurrency)
        for class_id, (plan, item) in owners.items():
            record = records.get(class_id)
            if record is None or record.status is None:
                log.info("Section %s: class %s was cancelled on WizIQ; it will be replaced", plan.key, class_id)
                item.state = CANCELLED_ON_WIZIQ
                continue
            if url := record.fields.get("presenter_url"):
                self.presenter_urls[class_id] = url
            instant = record_instant(record)
            if instant is not None and instant != item.start:
                log.info("Section %s: class %s was moved on WizIQ to %s", plan.key, class_id, instant.isoformat())
                item.start = instant
            if plan.section is not None:
                item.fields = _fields_seen(record, plan.section, item.fields, plan.entry.shown)

    def _adopt(self, plans: Mapping[str, SectionPlan], index: AccountIndex) -> None:
        """Take into the ledger every series on WizIQ that is the same series as one this sync would make."""
        known = {master for plan in plans.values() for master in plan.entry.series}
        for plan in plans.values():
            section, schedule = plan.section, plan.schedule
            if section is None or schedule is None:
                continue
            starts = {slot.utc_start for slot in (*schedule.desired, *schedule.holiday)}
            starts.update(datetime.fromtimestamp(int(item[3]), timezone.utc) for item in plan.entry.pending)
            by_id = plan.entry.by_id()
            for start in sorted(starts):
                master = index.find(identity_of(section.request, start))
                if master is None or master in known:
                    continue
                known.add(master)
                plan.entry.series.append(master)
                plan.adopted.append(master)
                for instant, record in index.classes_of(master):
                    class_id = record.class_id
                    if class_id is None or class_id in by_id:
                        continue
                    state = SCHEDULED if record.status is not None else CANCELLED
                    fields = section.fields_hash if _fields_match(record, section) else ""
                    by_id[class_id] = LedgerClass(class_id, instant, state, master, fields)
                    plan.entry.classes.append(by_id[class_id])
                log.info("Section %s: adopted series %s found on WizIQ", plan.key, master)
            plan.entry.pending.clear()
            if plan.adopted:
                plan.new = False

    def _plan_section(self, plan: SectionPlan) -> None:
        entry, section, schedule = plan.entry, plan.section, plan.schedule
        current = sorted(self._future(entry), key=lambda item: (item.start, item.class_id))
        if section is None or schedule is None:
            if self.options.cancel_removed:
                plan.cancels = [(item, CANCELLED_REMOVED) for item in current]
            return
        same_placement = not entry.placement or entry.placement == section.placement
        wanted = [slot for slot in schedule.desired if slot.utc_start >= self.cutoff]
        holding: dict[datetime, LedgerClass] = {}
        removed: list[LedgerClass] = []
        for item in current:
            if same_placement and item.start not in holding:
                holding[item.start] = item
            else:
                removed.append(item)
        wanted_instants = {slot.utc_start for slot in wanted}
        for instant in list(holding):
            if instant not in wanted_instants:
                removed.append(holding.pop(instant))
        removed.sort(key=lambda item: (item.start, item.class_id))
        plan.kept = [holding[slot.utc_start] for slot in wanted if slot.utc_start in holding]
        added = [slot for slot in wanted if slot.utc_start not in holding]
        pairs = min(len(removed), len(added)) if same_placement else 0
        plan.moves = list(zip(removed[:pairs], added[:pairs], strict=True))
        holidays = self.holidays
        plan.cancels = [
            (item, CANCELLED_HOLIDAY if item.start.astimezone(plan.zone).date() in holidays else CANCELLED_REMOVED)
            for item in removed[pairs:]
        ]
        blocked = {item.start for item in plan.kept} | {slot.utc_start for _, slot in plan.moves}
        plan.chunks = creation_chunks(section, added[pairs:], blocked, max_series_classes=self.max_series_classes)
        fields = section.fields_hash
        plan.updates = [item for item in plan.kept if item.fields != fields]
        roster = section.roster_hash
        if roster:
            staying = plan.kept + [item for item, _ in plan.moves]
            plan.enroll = [item for item in staying if item.roster != roster]

    def _guard(self, plans: Mapping[str, SectionPlan]) -> None:
        """Refuse a run that would cancel too many sections: a truncated or empty export must not wipe a term."""
        fraction = self.options.max_cancel_fraction
        cancelling = [plan.key for plan in plans.values() if plan.section is None and plan.cancels]
        if not cancelling or fraction is None:
            return
        standing = [plan for plan in plans.values() if not plan.new and not plan.entry.removed]
        if not self.sections:
            raise TermSyncError(
                f"The export declares no section at all, so this run would cancel every future class of the "
                f"{len(cancelling)} sections the ledger holds. Refusing: an empty export is far more often a "
                "failed export than the end of a term. Pass max_cancel_fraction=None to cancel them anyway."
            )
        share = len(cancelling) / max(len(standing), 1)
        if share > fraction:
            named = ", ".join(cancelling[:10]) + (" ..." if len(cancelling) > 10 else "")
            raise TermSyncError(
                f"This run would cancel {len(cancelling)} of the term's {len(standing)} sections ({share:.0%}), "
                f"more than max_cancel_fraction={fraction:g}: {named}. Refusing: a truncated export must not "
                "wipe a term. Raise max_cancel_fraction (or pass None) if these sections really are gone."
            )

    # Applying ---------------------------------------------------------------------------------------------

    def apply(self, plan: TermPlan, *, run: str, on_tick: Callable[[], None] | None = None) -> dict[str, Any]:
        """Send the plan's writes and record each one as soon as its answer is read; returns the errors by key."""
        if set(plan.sections) != set(self._ledger_keys):
            self.ledger.write_keys(plan.sections)
        for section_plan in plan.sections.values():
            # What the plan read changed (classes cancelled or moved on WizIQ, series adopted) is recorded now;
            # a new section is first recorded with its first write (a create is recorded before it is sent).
            if section_plan.original is not None and section_plan.entry.encode() != section_plan.original:
                self._save(section_plan)
        errors: dict[str, WizIQError] = {}
        lost: list[tuple[SectionPlan, Chunk, WizIQError]] = []
        self.done = {key: {"created": [], "cancelled": []} for key in plan.sections}

        def work(section_plan: SectionPlan) -> tuple[str, WizIQError | None, list[tuple[Chunk, WizIQError]]]:
            unsettled: list[tuple[Chunk, WizIQError]] = []
            try:
                self._apply_section(section_plan, unsettled)
            except WizIQError as error:
                return section_plan.key, error, unsettled
            return section_plan.key, None, unsettled

        def take(result: tuple[str, WizIQError | None, list[tuple[Chunk, WizIQError]]]) -> None:
            key, error, unsettled = result
            if error is not None:
                errors[key] = error
            lost.extend((plan.sections[key], chunk, failure) for chunk, failure in unsettled)

        def tick() -> float:
            if on_tick is not None:
                on_tick()
            return 30.0

        busy = [item for item in plan.sections.values() if item.writes or item.adopted]
        if any(item.chunks for item in busy):
            # Until this run has recorded every series it creates, the ledger is not known to be whole: a run
            # stopped before its end leaves no marker, and the next one adopts what stands on WizIQ first.
            self.ledger.clear_marker()
        run_pool(busy, work, take, max_concurrency=self.options.max_concurrency, on_tick=tick)
        if lost:
            self._settle(lost, errors)
        self.ledger.write_marker(self.term, len(self.sections), run)
        return errors

    def _apply_section(self, plan: SectionPlan, unsettled: list[tuple[Chunk, WizIQError]]) -> None:
        entry, section = plan.entry, plan.section
        for item, state in plan.cancels:
            self._cancel(plan, item, state)
        if section is None:
            entry.removed = True
            self._save_if_changed(plan)
            return
        # Every class of another placement (presenter, zone) is cancelled by now: the new placement holds.
        entry.removed = False
        entry.placement = section.placement
        entry.spec = short_hash([section.key, section.request.to_wire(), section.attendees, sorted(self.holidays)])
        fields, roster = section.fields, section.roster_hash
        for item, slot in plan.moves:
            self.client.modify(
                item.class_id,
                start_time=_wire_wall_clock(slot),
                time_zone=section.request.time_zone,
                **fields,
            )
            item.start, item.fields = slot.utc_start, section.fields_hash
            self._count(plan, "modified")
        for chunk in plan.chunks:
            try:
                series = self.maker.create(chunk.request)
            except WizIQError as error:
                if not may_have_been_created(error):
                    raise
                # Its answer was lost: looked up at the end of the run; until found it stays pending.
                entry.pending.append(_pending(identity_of(chunk.request, chunk.first.utc_start)))
                unsettled.append((chunk, error))
                continue
            first = series.first_class
            if first.presenter_url:
                self.presenter_urls[first.class_id] = first.presenter_url
            self._created(plan, chunk, series.class_master_id)
        for item in plan.updates:
            self.client.modify(item.class_id, **fields)
            item.fields = section.fields_hash
            self._count(plan, "modified")
        if roster:
            for item in plan.enroll:
                self._enroll(plan, item)
        self._save_if_changed(plan)

    def _save(self, plan: SectionPlan) -> None:
        if plan.section is not None:
            plan.entry.shown.setdefault(plan.section.fields_hash, plan.section.shown)
        self.ledger.save(plan.key, plan.entry)
        plan.saved = plan.entry.encode()

    def _save_if_changed(self, plan: SectionPlan) -> None:
        if plan.entry.encode() != plan.saved:
            self._save(plan)

    def _created(self, plan: SectionPlan, chunk: Chunk, master: int) -> None:
        """Record a series with its classes (read back with view_schedule), then cancel its unwanted classes.

        A run that creates series removes the ledger's marker first, so a worker lost before this record is
        written leaves the next run to find the series on WizIQ.
        """
        from airflow_provider_wiziq.api.engine.reconcile import read_schedule

        entry, section = plan.entry, plan.section
        assert section is not None
        identity = identity_of(chunk.request, chunk.first.utc_start)
        if _pending(identity) in entry.pending:
            entry.pending.remove(_pending(identity))
        if master not in entry.series:
            entry.series.append(master)
        zone = ZoneInfo(section.request.time_zone)
        slots = {slot.utc_start: wanted for slot, wanted in zip(chunk.slots, chunk.wanted, strict=True)}
        known = entry.by_id()
        extra: list[LedgerClass] = []
        for scheduled in read_schedule(self.client, master):
            if scheduled.start_time is None or scheduled.class_id in known:
                continue
            instant = localize(scheduled.start_time, zone)[0].astimezone(timezone.utc)
            item = LedgerClass(scheduled.class_id, instant, SCHEDULED, master, section.fields_hash)
            entry.classes.append(item)
            known[item.class_id] = item
            if scheduled.presenters and scheduled.presenters[0].url:
                self.presenter_urls[item.class_id] = scheduled.presenters[0].url
            if slots.get(instant):
                self._count(plan, "created", item.class_id, save=False)  # the series is recorded below, at once
            else:
                extra.append(item)
        self._save(plan)
        for item in extra:
            local_day = item.start.astimezone(zone).date()
            self._cancel(plan, item, CANCELLED_HOLIDAY if local_day in self.holidays else CANCELLED)
        if section.roster_hash:
            for item in entry.classes:
                if item.class_master_id == master and item.state == SCHEDULED and item.roster != section.roster_hash:
                    self._enroll(plan, item)

    def _cancel(self, plan: SectionPlan, item: LedgerClass, state: str) -> None:
        try:
            self.client.cancel(item.class_id)
        except WizIQAPIError as error:
            if is_already_cancelled(error):
                pass
            elif is_too_late_to_cancel(error):
                log.info("Section %s: class %s has started and is left alone", plan.key, item.class_id)
                return
            else:
                raise
        item.state = state
        self._count(plan, "cancelled", item.class_id)

    def _enroll(self, plan: SectionPlan, item: LedgerClass) -> None:
        assert plan.section is not None
        self.client.add_attendees(item.class_id, plan.section.roster())
        item.roster = plan.section.roster_hash
        self._count(plan, "enrolled")

    def _count(self, plan: SectionPlan, what: str, class_id: int | None = None, *, save: bool = True) -> None:
        """Count a write and record the section's ledger at once (every write, as soon as its answer is read)."""
        if save:
            self._save(plan)
        with self._count_lock:
            self.counts[what] += 1
            if class_id is not None and what in ("created", "cancelled"):
                self.done[plan.key][what].append(class_id)

    def _settle(self, lost: list[tuple[SectionPlan, Chunk, WizIQError]], errors: dict[str, WizIQError]) -> None:
        """Find series whose create answer was lost (one scan); found ones are recorded, the rest fail."""
        log.info("Looking up %d series whose create answer was lost", len(lost))
        try:
            found = self.maker.settle(identity_of(chunk.request, chunk.first.utc_start) for _, chunk, _ in lost)
        except WizIQError as error:
            for plan, _, _ in lost:
                errors.setdefault(plan.key, error)
            return
        for plan, chunk, lost_error in lost:
            master = found.get(identity_of(chunk.request, chunk.first.utc_start))
            if master is None:
                errors.setdefault(plan.key, lost_error)
                self._save_if_changed(plan)  # its pending record makes the next run look again first
                continue
            log.info("Section %s: series %s was created although its answer was lost; recording it", plan.key, master)
            try:
                self._created(plan, chunk, master)
            except WizIQError as failure:
                errors.setdefault(plan.key, failure)

    # Reporting --------------------------------------------------------------------------------------------

    def report(self, plan: TermPlan, errors: Mapping[str, WizIQError] | None = None) -> dict[str, Any]:
        """Per section: action, series ids, classes (id, ISO local start, state), presenter URL, any error."""
        errors = errors or {}
        result: dict[str, Any] = {}
        for key, section_plan in plan.sections.items():
            zone = section_plan.zone
            entry = section_plan.entry
            classes = sorted(entry.classes, key=lambda item: (item.start, item.class_id))
            upcoming = [c for c in classes if c.state == SCHEDULED and c.start >= self.cutoff]
            url = next((plan.presenter_urls[c.class_id] for c in upcoming if c.class_id in plan.presenter_urls), None)
            result[key] = {
                "action": section_plan.action,
                "series": list(entry.series),
                "classes": [
                    {
                        "class_id": item.class_id,
                        "start_time": item.start.astimezone(zone).isoformat(),
                        "state": item.state if item.start >= self.cutoff or item.state != SCHEDULED else "past",
                    }
                    for item in classes
                ],
                "presenter_url": url,
            }
            if key in errors:
                error = errors[key]
                result[key]["error"] = {
                    "code": getattr(error, "code", None),
                    "message": str(error),
                    "transient": error.transient,
                }
        return result


def run_sync(
    sync: TermSync,
    *,
    owner: str,
    run: str,
    dry_run: bool = False,
    show: Callable[[TermPlan], None] | None = None,
) -> tuple[TermPlan, dict[str, WizIQError]]:
    """One run: take the term's lease (not for a dry run), plan, ``show`` the plan, apply it, release the lease.

    ``owner`` names this try of the run; a dry run only reads, and leaves the ledger and its lease alone.
    """
    if not dry_run:
        sync.ledger.acquire(owner, run=run)
    try:
        plan = sync.plan()
        if show is not None:
            show(plan)
        errors = {} if dry_run else sync.apply(plan, run=run, on_tick=sync.ledger.renew)
    finally:
        if not dry_run:
            sync.ledger.release()
    return plan, errors


def _fields_seen(record: ClassRecord, section: Section, recorded: str, shown: Mapping[str, list[str]]) -> str:
    """A class's fields fingerprint as WizIQ shows it: ``recorded``, unless what get_data shows says otherwise.

    WizIQ shows the section's values while the recorded fingerprint's were others: a ``modify`` (which sends
    every field at once) was applied though its record was lost (a worker killed in between), so the
    section's fingerprint holds. WizIQ shows neither the section's values nor the recorded ones: the class
    was changed on WizIQ's side, so its fields are unknown (``""``) and written again.
    """
    seen = [record.fields.get(name, wanted).strip() for name, wanted in zip(SHOWN_FIELDS, section.shown, strict=True)]
    before = shown.get(recorded)
    if seen == section.shown:
        if recorded != section.fields_hash and before is not None and before != section.shown:
            return section.fields_hash
        return recorded
    return recorded if before is not None and seen == before else ""


def _fields_match(record: ClassRecord, section: Section) -> bool:
    """Whether the fields WizIQ reports for a class are the section's (those get_data shows)."""
    wire = section.fields
    for name in ("title", "duration", "attendee_limit"):
        shown = record.fields.get(name)
        if shown is not None and name in wire and shown.strip() != wire[name]:
            return False
    return True


def _pending(identity: SeriesIdentity) -> list[Any]:
    return [identity.title, identity.presenter, identity.time_zone, int(identity.first_start.timestamp())]


def _wire_wall_clock(slot: ScheduledClass) -> str:
    from airflow_provider_wiziq.api.protocol.values import wire_datetime

    return wire_datetime(slot.wall_clock)


__all__ = [
    "SAFETY_MARGIN",
    "WRITE_METHODS",
    "SectionPlan",
    "SyncOptions",
    "TermPlan",
    "TermSync",
    "TermSyncError",
    "plan_table",
    "run_sync",
]
