"""Applying a term's plan: its operations sent in their order, their effects recorded in batches.

An operation runs once every operation it waits for has succeeded (:mod:`..rules.ordering`); operations run
side by side up to ``max_concurrency``. A failure fails its section: the section's operations not yet started
are not sent, and operations of other sections that wait for it are not sent either. What was done is written
to the ledger every few seconds and at the end (the run's first ledger write removed the marker, so a run lost
between two batches leaves the next run to adopt what stands on WizIQ). A create whose answer was lost (a series, or
one class made alone) is looked up on WizIQ at the end (one scan for all) and adopted, never sent again blindly.
The plan is never edited.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.engine.ledger import TermLedger
from airflow_provider_wiziq.api.engine.provision import SeriesMaker, StopRequested, may_have_been_created
from airflow_provider_wiziq.api.engine.reconcile import read_schedule
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.errors import (
    WizIQAPIError,
    WizIQError,
    is_already_cancelled,
    is_too_late_to_cancel,
)
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.values import wire_datetime
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.identity import SeriesIdentity, identity_of
from airflow_provider_wiziq.api.rules.plan import CANCEL, Cancel, Create, Enroll, Modify, Move, Op, TermPlan
from airflow_provider_wiziq.api.rules.planner import DeclaredTerm
from airflow_provider_wiziq.api.rules.recurrence import localize
from airflow_provider_wiziq.api.rules.state import (
    CANCELLED,
    CANCELLED_HOLIDAY,
    CANCELLED_ON_WIZIQ,
    SCHEDULED,
    LedgerClass,
    PendingCreate,
    SectionEntry,
)
from airflow_provider_wiziq.api.rules.term import Section

log = logging.getLogger(__name__)

#: Writes are recorded in the ledger at least this often (and at the end).
BATCH_SECONDS = 5.0
#: Progress is logged at least this often (and at every tenth of the planned writes).
PROGRESS_SECONDS = 10.0
#: How long a stopped run waits for the calls in flight before it records what was done.
STOP_WAIT_SECONDS = 2.0


@dataclass
class ApplyOutcome:
    """What a run did: per section the class ids created and cancelled, the errors, and totals."""

    created: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    cancelled: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    modified: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, WizIQError] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "modified": 0, "cancelled": 0, "enrolled": 0})
    presenter_urls: dict[int, str] = field(default_factory=dict)
    entries: dict[str, SectionEntry] = field(default_factory=dict)
    announcement: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    stopped: bool = False


@dataclass(frozen=True)
class _Done:
    """What one operation's calls returned, for the dispatcher to record."""

    op: Op
    error: WizIQError | None = None
    master: int | None = None  # a created series (or adopted after a lost answer)
    classes: tuple[LedgerClass, ...] = ()  # classes a create brought, as recorded
    cancelled: tuple[tuple[int, str], ...] = ()  # (class id, state) of a create's unwanted classes
    enrolled: tuple[int, ...] = ()
    urls: tuple[tuple[int, str], ...] = ()
    lost: bool = False  # a create whose answer was lost (or met 1032): settled at the end
    left_alone: bool = False  # a cancel WizIQ refused because the class has started


class _Order:
    """Which operations may be sent now: those whose every operation to wait for has succeeded."""

    def __init__(self, ops: tuple[Op, ...]) -> None:
        self._by_id = {op.id: op for op in ops}
        self._waits = {op.id: set(op.after) for op in ops}
        self._dependents: dict[int, list[int]] = defaultdict(list)
        for op in ops:
            for before in op.after:
                self._dependents[before].append(op.id)
        self.ready = [op.id for op in ops if not op.after]
        self._ended: set[int] = set()

    def take(self) -> Op:
        return self._by_id[self.ready.pop(0)]

    def succeeded(self, op: Op) -> None:
        self._ended.add(op.id)
        for later in self._dependents.get(op.id, ()):
            self._waits[later].discard(op.id)
            if not self._waits[later] and later not in self._ended:
                self.ready.append(later)
        self.ready.sort()

    def failed(self, op: Op) -> list[Op]:
        """Mark ``op`` ended; returns the operations that can no longer be sent because they wait for it."""
        self._ended.add(op.id)
        dropped: list[Op] = []
        stack = list(self._dependents.get(op.id, ()))
        while stack:
            later = stack.pop()
            if later in self._ended:
                continue
            self._ended.add(later)
            if later in self.ready:
                self.ready.remove(later)
            dropped.append(self._by_id[later])
            stack.extend(self._dependents.get(later, ()))
        return dropped

    def unsent(self) -> list[Op]:
        """Operations neither sent to the end nor dropped (a stopped run)."""
        return [op for op_id, op in self._by_id.items() if op_id not in self._ended]


class Applier:
    """Sends one plan. ``stop`` (an event) ends it early: no new calls, calls in flight awaited briefly."""

    def __init__(
        self,
        client: WizIQClient,
        ledger: TermLedger,
        plan: TermPlan,
        declared: DeclaredTerm,
        *,
        maker: SeriesMaker,
        max_concurrency: int,
        run: str,
        stop: threading.Event | None = None,
        on_tick: Callable[[], None] | None = None,
        status_ping_url: str | None = None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.plan = plan
        self.sections: Mapping[str, Section] = declared.sections
        self.holidays = declared.holidays
        self.maker = maker
        self.max_concurrency = max_concurrency
        self.run_id = run
        self.stop = stop or threading.Event()
        self.on_tick = on_tick
        # The connection's signed status-ping URL: added to what is sent only, never to the plan (it holds a token).
        self.status_ping_url = status_ping_url
        self.outcome = ApplyOutcome()
        self.entries: dict[str, SectionEntry] = dict(plan.base)
        self._known = {item.class_id for entry in self.entries.values() for item in entry.classes}
        self._dirty: set[str] = set(self._changed_by_plan())
        self._ops_left: dict[str, int] = defaultdict(int)
        for op in plan.ops:
            self._ops_left[op.key] += 1
        self._total_writes = plan.writes
        self._writes_done = 0
        self._started = time.monotonic()
        self._calls_before = client.calls
        self._last_batch = self._last_progress = self._started
        self._next_share = 0.1

    def _changed_by_plan(self) -> list[str]:
        """Sections whose entry the plan itself changed (read on WizIQ, adopted, renamed)."""
        before = self.plan.state.entries
        return [key for key, entry in self.entries.items() if before.get(key) != entry]

    # The run ---------------------------------------------------------------------------------------------

    def apply(self) -> ApplyOutcome:
        plan = self.plan
        for new, old in plan.renames.items():
            self._dirty.add(new)
            self.entries.pop(old, None)
        order = _Order(plan.ops)
        lost: list[_Done] = []
        pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="wiziq-apply")
        running: dict[Future[_Done], Op] = {}
        try:
            while True:
                while order.ready and len(running) < self.max_concurrency and not self.stop.is_set():
                    op = order.take()
                    if op.key in self.outcome.errors:
                        self._fail(order, op, None)
                    else:
                        running[pool.submit(self._send, op)] = op
                if running:
                    timeout = STOP_WAIT_SECONDS if self.stop.is_set() else 1.0
                    finished, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
                    if self.stop.is_set() and not finished:
                        break  # calls still in flight after the wait: left for the next run to find
                    results = []
                    for future in finished:
                        del running[future]
                        results.append(future.result())
                elif lost and not self.stop.is_set():
                    results, lost = self._settle(lost), []  # one scan for every create whose answer was lost
                else:
                    break
                for done in results:
                    if done.lost:
                        lost.append(done)
                        self._pending(done)
                        continue
                    self._record(done)
                    if done.error is None:
                        order.succeeded(done.op)
                    else:
                        self._fail(order, done.op, done.error)
                self._tick()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            for future in list(running):
                if future.done() and not future.cancelled():
                    self._record(future.result())
        self.outcome.stopped = self.stop.is_set()
        for op in order.unsent():
            why = "the run was stopped before it was sent" if self.outcome.stopped else "it was not sent"
            self.outcome.errors.setdefault(op.key, StopRequested(f"not applied: {why}"))
        self._finish_sections()
        # A clean run announces everything (the operator's asset event); else what it changed is kept for the next.
        self.outcome.announcement = announcement(self.plan, self.outcome, durable=self.ledger.durable)
        self._flush(announced=self._clean())
        self.outcome.entries = self.entries
        self._progress(final=True)
        return self.outcome

    def _clean(self) -> bool:
        """The run fails no section (at plan time or in the apply) and was not stopped: the operator then records
        its asset event, and a missing section's run counts toward ``removal_grace``."""
        failed_at_plan_time = any(row.error for row in self.plan.sections)
        return not self.outcome.errors and not self.outcome.stopped and not failed_at_plan_time

    def _fail(self, order: _Order, op: Op, why: WizIQError | None) -> None:
        """An operation that failed or was not sent: none of the operations waiting for it is sent either."""
        if why is not None:
            self.outcome.errors.setdefault(op.key, why)
        for later in order.failed(op):
            if later.key != op.key:
                self.outcome.errors.setdefault(
                    later.key, WizIQError(f"not applied: it waits for a change of section {op.key!r}, which failed")
                )

    # One operation's calls (in a worker thread) ------------------------------------------------------------

    def _send(self, op: Op) -> _Done:
        try:
            self._go_on()
            if isinstance(op, Cancel):
                return self._cancel(op)
            if isinstance(op, Move):
                assert op.to is not None
                fields = self._with_ping(op.key, op.fields)
                fields.update(start_time=wire_datetime(op.to.wall_clock), time_zone=op.time_zone)
                self.client.modify(op.class_id, **fields)
                return _Done(op)
            if isinstance(op, Modify):
                self.client.modify(op.class_id, **self._with_ping(op.key, op.fields))
                return _Done(op)
            if isinstance(op, Enroll):
                self.client.add_attendees(op.class_id, self.sections[op.key].roster())
                return _Done(op, enrolled=(op.class_id,))
            if isinstance(op, Create):
                return self._create(op)
        except WizIQError as error:
            return _Done(op, error)
        raise AssertionError(f"unknown operation {op!r}")

    def _cancel(self, op: Cancel) -> _Done:
        try:
            self.client.cancel(op.class_id)
        except WizIQAPIError as error:
            if is_too_late_to_cancel(error):
                log.info("Section %s: class %s has started and is left alone", op.key, op.class_id)
                return _Done(op, left_alone=True)
            if not is_already_cancelled(error):
                raise
        return _Done(op)

    def _with_ping(self, key: str, fields: tuple[tuple[str, str], ...]) -> dict[str, str]:
        """A modify's fields with the section's own status-ping URL, else the connection's (a modify sends the
        URL again: one left out keeps the class's old one, which may be another's)."""
        sent = dict(fields)
        url = self.sections[key].request.status_ping_url or self.status_ping_url
        if url:
            sent.setdefault("status_ping_url", url)
        return sent

    def _create(self, op: Create) -> _Done:
        request = op.request
        assert request is not None
        if self.status_ping_url and not request.status_ping_url:
            request = replace(request, status_ping_url=self.status_ping_url)
        try:
            if isinstance(request, CreateRecurringRequest):
                series = self.maker.create(request)
            else:
                details = self.client.create(request)
        except WizIQError as error:
            if may_have_been_created(error):
                return _Done(op, error, lost=True)
            raise
        if isinstance(request, CreateRecurringRequest):
            return self._after_create(op, series.class_master_id)
        urls = ((details.class_id, details.presenter_url),) if details.presenter_url else ()
        return self._alone_created(op, details.class_id, urls)

    def _alone_created(self, op: Create, class_id: int, urls: tuple[tuple[int, str], ...] = ()) -> _Done:
        """A class made alone exists: recorded, and the roster enrolled in it."""
        item = LedgerClass(class_id, op.first.utc_start, SCHEDULED, None, self.sections[op.key].fields_hash)
        enrolled: list[int] = []
        try:
            self._enroll_new(op, (item,), enrolled)
        except WizIQError as error:
            return _Done(op, error, classes=(item,), urls=urls, enrolled=tuple(enrolled))
        return _Done(op, classes=(item,), urls=urls, enrolled=tuple(enrolled))

    def _after_create(self, op: Create, master: int) -> _Done:
        """A series exists: read its classes back, cancel the ones not wanted, enroll the roster in the others."""
        section = self.sections[op.key]
        zone = ZoneInfo(section.time_zone)
        wanted = {slot.utc_start: flag for slot, flag in zip(op.slots, op.wanted, strict=True)}
        known = self._known  # read (membership only) by worker threads, added to by the dispatcher
        classes: list[LedgerClass] = []
        urls: list[tuple[int, str]] = []
        for scheduled in read_schedule(self.client, master):
            if scheduled.start_time is None or scheduled.class_id in known:
                continue
            instant = localize(scheduled.start_time, zone)[0].astimezone(timezone.utc)
            classes.append(LedgerClass(scheduled.class_id, instant, SCHEDULED, master, section.fields_hash))
            if scheduled.presenters and scheduled.presenters[0].url:
                urls.append((scheduled.class_id, scheduled.presenters[0].url))
        cancelled: list[tuple[int, str]] = []
        enrolled: list[int] = []
        failed: WizIQError | None = None
        try:
            for item in classes:
                if not wanted.get(item.start, False):
                    on_holiday = item.start.astimezone(zone).date() in self.holidays
                    self._go_on()
                    self._cancel(Cancel(op.id, op.key, "", class_id=item.class_id, start=item.start))
                    cancelled.append((item.class_id, CANCELLED_HOLIDAY if on_holiday else CANCELLED))
            self._enroll_new(op, [item for item in classes if wanted.get(item.start, False)], enrolled)
        except WizIQError as error:
            failed = error  # what was done before it is recorded with it
        return _Done(
            op,
            failed,
            master=master,
            classes=tuple(classes),
            cancelled=tuple(cancelled),
            enrolled=tuple(enrolled),
            urls=tuple(urls),
        )

    def _enroll_new(self, op: Create, classes: Any, enrolled: list[int]) -> None:
        """The roster enrolled in a create's wanted classes, when the plan says so (``op.enroll``); each class
        enrolled is added to ``enrolled`` as it is, so that a stop or an error keeps what was done."""
        if not op.enroll:
            return
        roster = self.sections[op.key].roster()
        for item in classes:
            self._go_on()
            self.client.add_attendees(item.class_id, roster)
            enrolled.append(item.class_id)

    def _go_on(self) -> None:
        """Raise StopRequested once the run is stopped: a create's own follow-up calls (cancelling a series'
        unwanted classes, enrolling its roster) start no new call either; what they leave, the next run plans."""
        if self.stop.is_set():
            raise StopRequested("not sent: the run was stopped")

    # Recording (in the dispatching thread) ------------------------------------------------------------------

    def _record(self, done: _Done) -> None:
        op, key = done.op, done.op.key
        entry = self.entries.get(key, SectionEntry())
        section = self.sections.get(key)
        classes = {item.class_id: item for item in entry.classes}
        writes = 0
        if isinstance(op, Cancel) and done.error is None and not done.left_alone:
            classes[op.class_id] = replace(classes[op.class_id], state=op.state)
            self._count(key, "cancelled", op.class_id)
            writes += 1
        elif isinstance(op, Move) and done.error is None and op.to is not None:
            fields = section.fields_hash if section is not None else classes[op.class_id].fields
            classes[op.class_id] = replace(classes[op.class_id], start=op.to.utc_start, fields=fields, verified=False)
            if not op.temporary:
                self._count(key, "modified", op.class_id)
            writes += 1
        elif isinstance(op, Modify) and done.error is None:
            item = classes[op.class_id]
            fields = section.fields_hash if section is not None and "title" in dict(op.fields) else item.fields
            classes[op.class_id] = replace(item, fields=fields, verified=False)
            self._count(key, "modified", op.class_id)
            writes += 1
        elif isinstance(op, Create):
            writes += 1 if done.master is not None or done.classes else 0
            if done.master is not None and done.master not in entry.series:
                entry = replace(entry, series=(*entry.series, done.master))
            if section is not None and (done.master is not None or done.classes):
                entry = replace(entry, presenter=section.presenter, time_zone=section.time_zone)
                identity = (_identity(op), op.series)
                entry = replace(entry, pending=tuple(p for p in entry.pending if _pending_identity(p) != identity))
            for item in done.classes:
                classes[item.class_id] = item
                self._known.add(item.class_id)
                if (item.class_id, CANCELLED_HOLIDAY) not in done.cancelled and all(
                    class_id != item.class_id for class_id, _ in done.cancelled
                ):
                    self._count(key, "created", item.class_id)
            for class_id, state in done.cancelled:
                classes[class_id] = replace(classes[class_id], state=state)
                self.outcome.counts["cancelled"] += 1
                writes += 1
        if done.enrolled and section is not None:
            for class_id in done.enrolled:
                classes[class_id] = replace(classes[class_id], roster=section.roster_hash)
            self.outcome.counts["enrolled"] += len(done.enrolled)
            writes += len(done.enrolled)
        self.outcome.presenter_urls.update(done.urls)
        self.entries[key] = replace(entry, classes=tuple(sorted(classes.values(), key=lambda c: (c.start, c.class_id))))
        self._dirty.add(key)
        self._writes_done += writes
        if done.error is None:
            self._ops_left[key] -= 1

    def _count(self, key: str, what: str, class_id: int) -> None:
        self.outcome.counts[what] += 1
        getattr(self.outcome, what)[key].append(class_id)

    def _pending(self, done: _Done) -> None:
        """A create whose answer was lost: kept as pending until found (at the end of this run, or the next)."""
        op = done.op
        assert isinstance(op, Create)
        entry = self.entries.get(op.key, SectionEntry())
        identity = _identity(op)
        pending = PendingCreate(identity.title, identity.presenter, identity.time_zone, identity.first_start, op.series)
        if pending not in entry.pending:
            self.entries[op.key] = replace(entry, pending=(*entry.pending, pending))
            self._dirty.add(op.key)

    def _settle(self, lost: list[_Done]) -> list[_Done]:
        """The creates whose answer was lost, looked up in one scan: found ones completed, the others failed."""
        log.info("Looking up %d creates whose answer was lost", len(lost))
        claimed = {master for entry in self.entries.values() for master in entry.series}
        try:
            index = self.maker.index(newer_than=self.maker.scans + 1)
        except WizIQError as error:
            return [_Done(done.op, error) for done in lost]
        results = []
        for done in lost:
            op = done.op
            assert isinstance(op, Create)
            if not op.series:
                record = index.find_class(_identity(op))
                class_id = None if record is None else record.class_id
                if class_id is None or class_id in self._known:
                    results.append(_Done(op, done.error))  # not booked: the next try creates it (it stays pending)
                    continue
                self._known.add(class_id)
                log.info("Section %s: class %s was created though its answer was lost; recording it", op.key, class_id)
                results.append(self._alone_created(op, class_id))
                continue
            master = index.find(_identity(op))
            if master is None or master in claimed:
                results.append(_Done(op, done.error))  # not booked: the next try creates it (it stays pending)
                continue
            claimed.add(master)
            log.info("Section %s: series %s was created although its answer was lost; recording it", op.key, master)
            try:
                results.append(self._after_create(op, master))
            except WizIQError as error:
                results.append(_Done(op, error, master=master))
        return results

    def _finish_sections(self) -> None:
        """Sections whose every operation succeeded now hold the export's placement, spec and roster."""
        plan = self.plan
        for row in plan.sections:
            key = row.key
            if row.error or key in self.outcome.errors or self._ops_left.get(key, 0) > 0:
                continue
            entry = self.entries.get(key)
            section = self.sections.get(key)
            if section is not None:
                if row.action == "failed" or (row.action == "ended" and entry is None):
                    continue
                entry = entry or SectionEntry()
                finished = replace(
                    entry,
                    presenter=section.presenter,
                    time_zone=section.time_zone,
                    spec=dict(section.wire),
                    roster_ids=section.roster_ids,
                    left=row.left_enrolled if _has_future(entry, plan.cutoff) else (),
                    missing=0,
                    removed=False,
                    shown={**entry.shown, section.fields_hash: section.shown},
                )
            elif entry is not None and row.action == CANCEL:
                finished = replace(entry, removed=True, missing=0)
            else:
                continue
            if finished != entry:
                self.entries[key] = finished
                self._dirty.add(key)
        if self._clean():
            for key, runs in plan.missing.items():
                entry = self.entries.get(key)
                if entry is not None and entry.missing != runs:
                    self.entries[key] = replace(entry, missing=runs)
                    self._dirty.add(key)

    # Batches and progress ------------------------------------------------------------------------------------

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._last_batch >= BATCH_SECONDS:
            self._flush()
        if self.on_tick is not None:
            self.on_tick()
        share = self._writes_done / self._total_writes if self._total_writes else 1.0
        if now - self._last_progress >= PROGRESS_SECONDS or share >= self._next_share:
            self._progress()
            while self._next_share <= share:
                self._next_share += 0.1

    def _flush(self, *, announced: bool = False) -> None:
        """Record what changed, each section with what is not yet announced of it (``announced``: nothing is)."""
        news = {} if announced else announcement(self.plan, self.outcome, durable=self.ledger.durable)
        for key, entry in self.entries.items():
            kept = news.get(key, {})
            wanted = {what: tuple(ids) for what, ids in kept.items() if ids}
            if dict(entry.news) != wanted:
                self.entries[key] = replace(entry, news=wanted)
                self._dirty.add(key)
        changed: dict[str, SectionEntry | None] = {key: self.entries.get(key) for key in self._dirty}
        for old in self.plan.renames.values():
            changed[old] = None
        if changed or self.ledger.upgrading:  # a ledger read in an earlier format is written again in this one
            self.ledger.record(changed)
        self._dirty.clear()
        self._last_batch = time.monotonic()

    def _progress(self, *, final: bool = False) -> None:
        """Writes done of the planned, sections finished, WizIQ calls a second, and the time left at that pace."""
        now = time.monotonic()
        elapsed = max(now - self._started, 1e-9)
        rate = self._writes_done / elapsed
        calls = (self.client.calls - self._calls_before) / elapsed
        total = self._total_writes
        finished = sum(1 for key, left in self._ops_left.items() if left <= 0)
        sections = len(self._ops_left)
        if final:
            log.info(
                "Applied %d of %s in %.1f s (%.1f calls/s); %d of %s finished",
                self._writes_done, counted(total, "planned write"), elapsed, calls, finished,
                counted(sections, "section"),
            )  # fmt: skip
        else:
            left = (total - self._writes_done) / rate if rate > 0 else float("nan")
            log.info(
                "Applying: %d/%s (%.0f%%), %d/%s finished, %.1f calls/s, about %.0f s left",
                self._writes_done, counted(total, "write"), 100 * self._writes_done / max(total, 1), finished,
                counted(sections, "section"), calls, left,
            )  # fmt: skip
        self._last_progress = now


def announcement(plan: TermPlan, outcome: ApplyOutcome, *, durable: bool = True) -> dict[str, dict[str, list[int]]]:
    """Per section, ``created`` (ids that stand after the run), ``cancelled`` (ids cancelled since the last event)
    and ``modified`` (ids moved or changed that stand), from the earlier runs' unannounced changes, this run's,
    series and classes adopted and classes found cancelled on WizIQ. A class created and cancelled before any event
    announced it is in none of the lists.

    Without a ``durable`` ledger nothing remembers what an earlier run announced, and every run adopts the whole
    term: adopted classes are then left out, and only what this run changed itself is announced."""
    found: dict[str, dict[str, set[int]]] = defaultdict(lambda: {name: set() for name in _NEWS})
    renamed = {old: new for new, old in plan.renames.items()}
    for key, earlier in plan.state.news.items():
        for name in _NEWS:
            found[renamed.get(key, key)][name].update(earlier.get(name, ()))
    for key, entry in plan.base.items():
        before = {item.class_id: item for item in plan.state.entries.get(renamed.get(key, key), SectionEntry()).classes}
        for item in entry.classes:
            if item.state == CANCELLED_ON_WIZIQ and before.get(item.class_id, item).state != CANCELLED_ON_WIZIQ:
                found[key]["cancelled"].add(item.class_id)
    adopted = (plan.adopted, plan.adopted_classes) if durable else ({}, {})
    for key, masters in adopted[0].items():
        for item in plan.base[key].classes:
            if item.class_master_id in masters and item.state == SCHEDULED and item.start >= plan.cutoff:
                found[key]["created"].add(item.class_id)
    for key, alone in adopted[1].items():
        for item in plan.base[key].classes:
            if item.class_id in alone and item.state == SCHEDULED and item.start >= plan.cutoff:
                found[key]["created"].add(item.class_id)
    for name in _NEWS:
        for key, done in getattr(outcome, name).items():
            found[key][name].update(done)
    news: dict[str, dict[str, list[int]]] = {}
    for key in sorted(found):
        ids = found[key]
        both = ids["created"] & ids["cancelled"]
        made, ended = ids["created"] - both, ids["cancelled"] - both
        changed = ids["modified"] - made - ids["cancelled"]
        if made or ended or changed:
            news[key] = {"created": sorted(made), "cancelled": sorted(ended), "modified": sorted(changed)}
    return news


_NEWS = ("created", "cancelled", "modified")


def _identity(op: Op) -> SeriesIdentity:
    assert isinstance(op, Create) and op.request is not None
    return identity_of(op.request, op.first.utc_start)


def _pending_identity(pending: PendingCreate) -> tuple[SeriesIdentity, bool]:
    return SeriesIdentity(pending.title, pending.presenter, pending.time_zone, pending.first_start), pending.series


def _has_future(entry: SectionEntry, cutoff: datetime) -> bool:
    return any(item.state == SCHEDULED and item.start >= cutoff for item in entry.classes)


__all__ = ["BATCH_SECONDS", "Applier", "ApplyOutcome", "StopRequested", "announcement"]
