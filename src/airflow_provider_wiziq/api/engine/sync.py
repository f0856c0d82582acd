"""The term sync: read the ledger and WizIQ, make the plan, let the guards speak, apply it (docs/term-sync.md).

Only future classes are ever created, changed or cancelled: a class starting before ``now + safety_margin``
counts as past. The plan is made without the lease (it only reads); a run that has something to write then
takes the lease, checking that no other run wrote the ledger since it was read, and applies exactly the plan.
An unchanged export reads the ledger and the tracked classes and writes nothing at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.engine.apply import Applier, ApplyOutcome
from airflow_provider_wiziq.api.engine.ledger import StateStore, TermLedger, account_scope
from airflow_provider_wiziq.api.engine.provision import SeriesMaker, StopRequested, run_pool
from airflow_provider_wiziq.api.engine.reconcile import MAX_SCAN_PAGES
from airflow_provider_wiziq.api.protocol.calls import MAX_PAGE_SIZE
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQError, is_no_record
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.responses import ClassRecord
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.clock import SYSTEM_CLOCK, Clock
from airflow_provider_wiziq.api.rules.identity import LOOKUP_COLUMNS
from airflow_provider_wiziq.api.rules.plan import UNCHANGED, Modify, TermPlan, plan_table
from airflow_provider_wiziq.api.rules.planner import DeclaredTerm, PlanOptions, Seen, make_plan
from airflow_provider_wiziq.api.rules.state import SCHEDULED, TermState
from airflow_provider_wiziq.api.rules.term import check_term, desired_schedule

log = logging.getLogger(__name__)

#: A class starting sooner than this counts as past: never created, changed or cancelled. An hour leaves
#: room for a long run to finish before its first class starts, and for clocks that disagree.
SAFETY_MARGIN = timedelta(hours=1)
#: The write methods; a run that sends none of them changed nothing on WizIQ.
WRITE_METHODS = frozenset({"create_recurring", "create", "modify", "cancel", "add_attendees"})


class TermSyncError(WizIQError):
    """The sync refuses to run: invalid sections, a guard, or a plan that is not the one approved."""


class GuardRefusal(TermSyncError):
    """A guard refused the plan (nothing was written)."""


class FingerprintMismatch(TermSyncError):
    """The plan differs from the one reviewed (``expect_fingerprint``): nothing was written."""


@dataclass
class SyncOptions:
    cancel_removed: bool = True
    removal_grace: int = 1
    max_cancel_fraction: float | None = 0.2
    max_change_fraction: float | None = 0.2
    max_concurrency: int = 8
    safety_margin: timedelta = SAFETY_MARGIN
    max_scan_pages: int = MAX_SCAN_PAGES


@dataclass
class SyncOutcome:
    """What a run decided and did: the plan, what it applied, what it announces, and its report."""

    plan: TermPlan
    declared: DeclaredTerm
    dry_run: bool
    account: str = ""  # the digest the ledger is scoped by (never the access key)
    applied: ApplyOutcome | None = None
    announcement: dict[str, dict[str, list[int]]] | None = None
    presenter_urls: dict[int, str] = field(default_factory=dict)

    @property
    def errors(self) -> dict[str, WizIQError]:
        found: dict[str, WizIQError] = {}
        for row in self.plan.sections:
            if row.error:
                found[row.key] = TermSyncError(row.error)
        if self.applied is not None:
            found.update(self.applied.errors)
        return found

    @property
    def changed(self) -> bool:
        return bool(self.announcement)

    def report(self, calls: int | None = None) -> dict[str, Any]:
        """The operator's return value (docs/term-sync.md "Report")."""
        return report(self, calls)


def read_declared(
    sections: Any, holidays: Any, limits: PlanLimits, *, base: str | None = None, calendar: Any = None
) -> DeclaredTerm:
    """The declared term, read and checked (nothing is sent); every invalid section is named in one error.

    ``sections`` is the export in any form :mod:`..rules.export` reads, ``calendar`` the term's calendar in any
    form :mod:`..rules.calendar` reads (relative paths from ``base``).
    """
    valid, days, invalid = check_term(sections, holidays, limits, base=base, calendar=calendar)
    if invalid:
        what = f"{counted(len(invalid), 'section')} {'is' if len(invalid) == 1 else 'are'} invalid"
        lines = "\n".join(f"  {key}: {error}" for key, error in invalid.items())
        raise TermSyncError(f"{what}, so nothing was sent:\n{lines}")
    schedules = {key: desired_schedule(section, days) for key, section in valid.items()}
    return DeclaredTerm(sections=valid, schedules=schedules, holidays=days)


class TermSync:
    """Plans and applies one term on one account, its ledger in ``store`` (None: no ledger is kept, and every
    run reads the whole account to adopt what stands there).

    ``clock`` gives "now" (the cutoff, the lease); ``stop()`` ends a run early from another thread (on_kill).
    """

    def __init__(
        self,
        client: WizIQClient,
        store: StateStore | None,
        *,
        term: str,
        clock: Clock = SYSTEM_CLOCK,
        options: SyncOptions | None = None,
        limits: PlanLimits | None = None,
        status_ping_url: str | None = None,
    ) -> None:
        self.client = client
        self.status_ping_url = status_ping_url  # given to the classes it creates or modifies; never in the plan
        self.term = term
        self.clock = clock
        self.options = options or SyncOptions()
        self.limits = limits or client.config.limits
        self.account = account_scope(client.config.endpoint, client.config.access_key)
        self.ledger = TermLedger(store, term=term, account=self.account, clock=clock)
        self.maker = SeriesMaker(client, max_scan_pages=self.options.max_scan_pages)
        self._stop = threading.Event()
        self._applying: threading.Thread | None = None

    # Planning (reads only) ----------------------------------------------------------------------------------

    def plan(self, declared: DeclaredTerm, *, state: TermState | None = None) -> TermPlan:
        """The plan at this moment: the ledger, the ledger's future classes on WizIQ, the account when needed."""
        return self._plan(declared, state if state is not None else self.ledger.read())[0]

    def _plan(self, declared: DeclaredTerm, state: TermState) -> tuple[TermPlan, dict[int, str]]:
        """The plan, and the presenter URLs of the ledger's classes as WizIQ gave them while planning."""
        cutoff = self.clock.now() + self.options.safety_margin
        if not state.found:
            log.info("No ledger for this account: reading the account to adopt what stands there")
        records = self._refresh(state, cutoff)
        account = None
        if not state.whole or state.unreadable:
            if state.found:
                why = "the ledger has no marker" if state.marker is None else "a create's answer was lost"
                log.info("Reading the WizIQ account to adopt what already stands there (%s)", why)
            account = self.maker.index(newer_than=1)
        options = PlanOptions(
            cancel_removed=self.options.cancel_removed,
            removal_grace=self.options.removal_grace,
            max_series_classes=self.limits.max_series_classes,
            max_cancel_fraction=self.options.max_cancel_fraction,
            max_change_fraction=self.options.max_change_fraction,
        )
        plan = make_plan(self.term, declared, state, Seen(records, account), cutoff=cutoff, options=options)
        return plan, _presenter_urls(plan, records)

    def _refresh(self, state: TermState, cutoff: datetime) -> dict[int, ClassRecord]:
        """The ledger's future classes as WizIQ shows them (100 ids a call)."""
        ids = sorted(
            item.class_id
            for entry in state.entries.values()
            for item in entry.classes
            if item.state == SCHEDULED and item.start >= cutoff
        )
        batches = [ids[i : i + MAX_PAGE_SIZE] for i in range(0, len(ids), MAX_PAGE_SIZE)]
        records: dict[int, ClassRecord] = {}
        columns = (*LOOKUP_COLUMNS, "presenter_url")

        def read(batch: list[int]) -> tuple[ClassRecord, ...]:
            try:
                return self.client.get_data(multiple_class_id=batch, columns=columns, page_size=MAX_PAGE_SIZE)
            except WizIQAPIError as error:
                if is_no_record(error):  # none of them is known any more
                    return ()
                raise

        def take(found: tuple[ClassRecord, ...]) -> None:
            for record in found:
                if record.class_id is not None:
                    records[record.class_id] = record

        run_pool(batches, read, take, max_concurrency=self.options.max_concurrency)
        return records

    # A run ----------------------------------------------------------------------------------------------

    def run(
        self,
        declared: DeclaredTerm,
        *,
        owner: str,
        run: str,
        dry_run: bool = False,
        approved: Collection[str] = (),
        expect_fingerprint: str | None = None,
        show: Callable[[TermPlan], None] | None = None,
        on_tick: Callable[[], None] | None = None,
    ) -> SyncOutcome:
        """Plan, ``show`` the plan, and unless ``dry_run`` apply it.

        Refused before any write: a plan whose fingerprint is not ``expect_fingerprint``, and a plan a guard
        refuses unless its fingerprint is in ``approved``. ``owner`` names this try; ``run`` the run.
        """
        state = self.ledger.read()
        plan, urls = self._plan(declared, state)
        if not self.ledger.durable and (plan.adopted or plan.adopted_classes):
            log.info(
                "No ledger is kept (ledger_path='none'): the classes adopted from WizIQ are not announced, only "
                "what this run changes"
            )
        if show is not None:
            show(plan)
        outcome = SyncOutcome(plan, declared, dry_run, account=self.account, presenter_urls=urls)
        if dry_run:
            return outcome
        if expect_fingerprint is not None and expect_fingerprint != plan.fingerprint:
            raise FingerprintMismatch(
                f"The plan's fingerprint is {plan.fingerprint}, not the {expect_fingerprint} that was reviewed: the "
                "term on WizIQ or the export changed since the plan was made. Nothing was written; review the new "
                "plan."
            )
        if plan.refusals:
            if plan.fingerprint not in approved:
                raise GuardRefusal("Refusing to apply (nothing was written):\n" + "\n".join(plan.refusals))
            log.warning("Guards lifted by approved plan %s", plan.fingerprint)
        if plan.empty and not self.ledger.upgrading and plan.base == state.entries and not state.news:
            return outcome
        if self._stop.is_set():
            raise StopRequested("the run was stopped before it wrote anything")
        self.ledger.acquire(owner, run, generation=state.generation, clear_marker=bool(plan.ops))
        applier = Applier(
            self.client,
            self.ledger,
            plan,
            declared,
            maker=self.maker,
            max_concurrency=self.options.max_concurrency,
            run=run,
            stop=self._stop,
            on_tick=self._renewer(on_tick),
            status_ping_url=self.status_ping_url,
        )
        outcome.applied = self._apply_in_thread(applier, run)
        outcome.presenter_urls.update(outcome.applied.presenter_urls)
        outcome.announcement = outcome.applied.announcement or None
        if outcome.applied.stopped:
            raise StopRequested("the run was stopped: what was done is recorded, the next run goes on")
        return outcome

    def _renewer(self, on_tick: Callable[[], None] | None) -> Callable[[], None]:
        def tick() -> None:
            self.ledger.renew()
            if on_tick is not None:
                on_tick()

        return tick

    def _apply_in_thread(self, applier: Applier, run: str) -> ApplyOutcome:
        """Apply in a thread of its own, so that ``stop()`` (from a signal handler in this thread) can wait for it
        to record what it did and give the lease back."""
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome = applier.apply()
                result["outcome"] = outcome
                if outcome.stopped:
                    self.ledger.release()
                else:
                    self.ledger.finish(run)
            except BaseException as error:  # recorded and raised in the caller's thread
                result["error"] = error
                try:
                    self.ledger.release()
                except WizIQError as failure:
                    log.warning("Could not give the term's lease back: %s", failure)

        thread = threading.Thread(target=work, name="wiziq-term-apply", daemon=True)
        self._applying = thread
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
        self._applying = None
        if "error" in result:
            raise result["error"]
        outcome: ApplyOutcome = result["outcome"]
        return outcome

    def stop(self, timeout: float = 2.5) -> None:
        """Stop a run from another thread: no new calls; the run records what was done and releases the lease."""
        self._stop.set()
        thread = self._applying
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


# The report ----------------------------------------------------------------------------------------------


def _presenter_urls(plan: TermPlan, records: Mapping[int, ClassRecord]) -> dict[int, str]:
    """The presenter URL of each class WizIQ showed, but of those whose presenter the plan writes back."""
    rewritten = {op.class_id for op in plan.ops if isinstance(op, Modify) and op.presenter}
    urls = {class_id: record.fields.get("presenter_url", "").strip() for class_id, record in records.items()}
    return {class_id: url for class_id, url in urls.items() if url and class_id not in rewritten}


def report(outcome: SyncOutcome, calls: int | None = None) -> dict[str, Any]:
    """The run's return value: per changed section its classes, the plan rows, the totals, the fingerprint."""
    plan = outcome.plan
    applied = outcome.applied
    errors = outcome.errors
    entries = applied.entries if applied is not None else dict(plan.base)
    urls = outcome.presenter_urls
    sections: dict[str, Any] = {}
    for row in plan.sections:
        adopted = plan.adopted.get(row.key, ())
        alone = plan.adopted_classes.get(row.key, ())
        noted = row.key in errors or row.left_enrolled or adopted or alone or row.key in (outcome.announcement or {})
        if row.action == UNCHANGED and not noted:
            continue  # an unchanged section is in the plan rows only: the report stays small
        entry = entries.get(row.key)
        zone = ZoneInfo(_zone(outcome, row.key, entry))
        info: dict[str, Any] = {"action": row.action, "reason": row.reason, "left_enrolled": list(row.left_enrolled)}
        if outcome.announcement and row.key in outcome.announcement:
            info.update(outcome.announcement[row.key])  # created / cancelled / modified: the asset event's lists
        if adopted:
            info["adopted"] = list(adopted)
        if alone:
            info["adopted_classes"] = list(alone)
        if row.packing:
            info["packing"] = row.packing
        if entry is not None:
            classes = sorted(entry.classes, key=lambda c: (c.start, c.class_id))
            info["series"] = list(entry.series)
            info["classes"] = [
                {
                    "class_id": item.class_id,
                    "start_time": item.start.astimezone(zone).isoformat(),
                    "state": item.state if item.start >= plan.cutoff or item.state != SCHEDULED else "past",
                }
                for item in classes
            ]
            upcoming = [c.class_id for c in classes if c.state == SCHEDULED and c.start >= plan.cutoff]
            info["presenter_url"] = next((urls[i] for i in upcoming if i in urls), None)
        if row.key in errors:
            error = errors[row.key]
            info["error"] = {"code": getattr(error, "code", None), "message": str(error), "transient": error.transient}
        sections[row.key] = info
    rows = plan.rows()
    planned = plan.summary()
    summary: dict[str, Any] = {
        "sections": len(outcome.declared.sections),
        "unchanged": sum(1 for row in rows if row["action"] == UNCHANGED),
        "dry_run": outcome.dry_run,
    }
    if outcome.dry_run or applied is None:
        summary.update({name: 0 for name in ("created", "modified", "cancelled", "enrolled")})
        summary["planned"] = {name: planned[name] for name in ("created", "modified", "cancelled", "enrolled")}
        summary["planned"]["writes"] = plan.writes
    else:
        summary.update(applied.counts)
    if calls is not None:
        summary["calls"] = calls
    if plan.refusals:
        summary["refusals"] = list(plan.refusals)
    if plan.unrepairable:
        summary["unrepairable"] = list(plan.unrepairable)
    return {
        "sections": sections,
        "summary": summary,
        "plan": rows,
        "fingerprint": plan.fingerprint,
        "destructive": plan.destructive,
        "changes": plan.changes(),
        "drift": plan.drift(),
    }


def _zone(outcome: SyncOutcome, key: str, entry: Any) -> str:
    section = outcome.declared.sections.get(key)
    if section is not None:
        return section.time_zone
    return (entry.time_zone if entry is not None else "") or "UTC"


def summary_line(result: Mapping[str, Any]) -> str:
    """One line for the log: what was done (or planned, for a dry run)."""
    summary = result["summary"]
    if summary.get("dry_run"):
        planned = summary["planned"]
        return (
            f"dry run: nothing applied. Planned: {planned['created']} created, {planned['modified']} modified, "
            f"{planned['cancelled']} cancelled, {planned['enrolled']} enrolled ({planned['writes']} writes); "
            f"fingerprint {result['fingerprint']}"
        )
    return (
        f"Applied: {summary['created']} created, {summary['modified']} modified, {summary['cancelled']} cancelled, "
        f"{summary['enrolled']} enrolled; fingerprint {result['fingerprint']}"
    )


__all__ = [
    "SAFETY_MARGIN",
    "WRITE_METHODS",
    "FingerprintMismatch",
    "GuardRefusal",
    "SyncOptions",
    "SyncOutcome",
    "TermSync",
    "TermSyncError",
    "plan_table",
    "read_declared",
    "report",
    "summary_line",
]
