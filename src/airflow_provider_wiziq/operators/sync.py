"""``SyncTermOperator``: a term declared as data that converges on WizIQ, run after run (plan, then apply).

The engine is :mod:`airflow_provider_wiziq.api.engine.sync`; this operator reads the arguments, opens the term's
ledger (the term asset's state store on Airflow 3.3, Airflow Variables before it, or ``ledger_path``), logs the
plan, applies it unless ``dry_run``, and announces every change on the term's asset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import Asset, AssetAlias, BaseOperator

from airflow_provider_wiziq._compat import HAS_ASSET_STATE_STORE, AirflowException, AirflowFailException
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.clock import SYSTEM_CLOCK, Clock
from airflow_provider_wiziq.failures import wiziq_failures
from airflow_provider_wiziq.operators.templating import KeepsLongFieldsInBrief, Noun, RendersOnlyTemplates, dag_folder

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_wiziq.api.engine.sync import SyncOutcome, TermSync
    from airflow_provider_wiziq.api.rules.plan import TermPlan

_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: XCom key of the run's summary (also inside the return value).
XCOM_SUMMARY = "summary"
#: ``ledger_path`` that keeps no ledger: every run rebuilds its view from the account.
NO_LEDGER = "none"
#: The clock the operator plans by (tests and rehearsals give it another: anything with ``now()``).
clock: Clock = SYSTEM_CLOCK


def term_asset(term: str) -> Asset:
    """The Airflow asset of a term: its ledger lives in this asset's state store, its changes are its events."""
    return Asset(name=f"wiziq-term-{term}", uri=f"wiziq://term/{term}")


class SyncTermOperator(RendersOnlyTemplates, KeepsLongFieldsInBrief, BaseOperator):
    """Keep a WizIQ term provisioned from its declaration: plan against the ledger and WizIQ, then apply.

    :param term: names the term (``"fall-2027"``; letters, digits, ``.``, ``_``, ``-``). Not templated: it
        names the asset ``wiziq-term-<term>`` (``wiziq://term/<term>``) whose state store holds the ledger.
    :param sections: the declared term (templated): a list of dicts (an upstream task's output), JSON text, CSV
        text, or the path of a ``.json`` / ``.csv`` file, read on the worker as data (a relative path from the
        DAG file's folder); :mod:`~airflow_provider_wiziq.api.rules.export` reads them. Each section has a
        ``key`` (or ``section_id``) and ``create_recurring``'s parameters by WizIQ's names, and optionally
        ``attendees`` (its roster: ``attendee_id``, ``screen_name``). Instead of a repeat rule a section may give
        ``class_dates`` (``start_time`` a time of day) or ``cycle_days`` over ``calendar`` (docs/schedules.md).
        A file is no template: to render one with Jinja, say so (``sections="{% include 'export.csv' %}"``).
    :param holidays: dates and inclusive ranges ``"2027-11-24..2027-11-28"`` with no class (templated).
    :param calendar: the term's instructional days with their day labels, for ``cycle_days`` sections (templated):
        ``{"date", "day"}`` rows, JSON, CSV or ICS text, or a ``.csv``/``.ics`` file (relative: the DAG's folder).
    :param cancel_removed: cancel the future classes of a section no longer declared.
    :param max_cancel_fraction: refuse a run that would cancel more than this share of the term's sections, an
        empty export, or an export with no future class; None turns these guards off.
    :param max_change_fraction: refuse a run that would cancel or replace more than 10 classes and more than
        this share of the term's tracked future classes; None turns this guard off.
    :param removal_grace: a section missing from the export keeps its classes until it has been missing from
        this many consecutive successful runs (1: cancelled at once).
    :param expect_fingerprint: the fingerprint of the plan that was reviewed (templated): a run whose plan
        differs fails before any write.
    :param approval_task_id: an upstream approval task (Airflow's ``ApprovalOperator``) of the same DAG run: an
        approved plan with this run's fingerprint lifts the guards.
    :param ledger_path: where the ledger lives (templated): an object storage URL (``file://``, ``s3://``...),
        with ``ledger_conn_id``; the term's ledger is its folder ``<ledger_path>/<term>``. ``"none"`` keeps no
        ledger. Default: the term asset's state store (Airflow 3.3), Airflow Variables before it.
    :param dry_run: plan only: reads are sent, nothing is written to WizIQ or to the ledger, nothing refused.
    :param max_concurrency: calls in flight at once; ``max_calls_per_second``: the shared rate limit.
    :param max_scan_pages: the most pages (100 classes each) a read of the whole account may take.

    Returns ``{"sections", "summary", "plan", "fingerprint", "destructive", "changes", "drift"}``
    (docs/term-sync.md). A changed section's presenter URL is a teacher's join link: anyone who can read this
    task's XCom can use it.
    """

    template_fields: Sequence[str] = ("sections", "holidays", "calendar", "expect_fingerprint", "ledger_path")
    template_ext: Sequence[str] = ()  # a path is read as data on the worker, never looked up as a template
    template_fields_renderers: ClassVar[dict[str, str]] = {"sections": "json", "holidays": "json", "calendar": "json"}
    template_fields_in_brief: ClassVar[dict[str, Noun]] = {
        "sections": Noun("section", "sections", "key"),
        "holidays": Noun("date", "dates"),
        "calendar": Noun("day", "days", "date"),
    }
    ui_color = "#b3d9ff"

    def __init__(
        self,
        *,
        term: str,
        sections: Any,
        holidays: Any = None,
        calendar: Any = None,
        cancel_removed: bool = True,
        max_cancel_fraction: float | None = 0.2,
        max_change_fraction: float | None = 0.2,
        removal_grace: int = 1,
        expect_fingerprint: str | None = None,
        approval_task_id: str | None = None,
        ledger_path: str | None = None,
        ledger_conn_id: str | None = None,
        dry_run: bool = False,
        max_concurrency: int = 8,
        max_calls_per_second: float | None = 10.0,
        max_scan_pages: int = 1000,
        wiziq_conn_id: str = "wiziq_default",
        **kwargs: Any,
    ) -> None:
        if not isinstance(term, str) or not _TERM.fullmatch(term):
            raise ValueError(f"term must be 1-100 letters, digits, '.', '_' or '-' (it names an asset), not {term!r}")
        for name, fraction in (
            ("max_cancel_fraction", max_cancel_fraction),
            ("max_change_fraction", max_change_fraction),
        ):
            if fraction is not None and not 0 <= fraction <= 1:
                raise ValueError(f"{name} must be between 0 and 1, or None to turn the guard off")
        if isinstance(removal_grace, bool) or not isinstance(removal_grace, int) or removal_grace < 1:
            raise ValueError("removal_grace must be a whole number of runs, at least 1")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_calls_per_second is not None and not max_calls_per_second > 0:
            raise ValueError("max_calls_per_second must be positive, or None for no limit")
        if isinstance(max_scan_pages, bool) or not isinstance(max_scan_pages, int) or max_scan_pages < 1:
            raise ValueError("max_scan_pages must be a whole number, at least 1")
        self.asset = term_asset(term)
        self.changes = AssetAlias(name=f"wiziq-term-{term}-changes")
        kwargs["inlets"] = [*(kwargs.get("inlets") or []), self.asset]
        kwargs["outlets"] = [*(kwargs.get("outlets") or []), self.changes]
        super().__init__(**kwargs)
        self.term = term
        self.sections = sections
        self.holidays = holidays
        self.calendar = calendar
        self.cancel_removed = cancel_removed
        self.max_cancel_fraction = max_cancel_fraction
        self.max_change_fraction = max_change_fraction
        self.removal_grace = removal_grace
        self.expect_fingerprint = expect_fingerprint
        self.approval_task_id = approval_task_id
        self.ledger_path = ledger_path
        self.ledger_conn_id = ledger_conn_id
        # Kept under another name: ``dry_run`` is also BaseOperator's method (which then still works).
        self.plan_only = bool(dry_run)
        self.max_concurrency = int(max_concurrency)
        self.max_calls_per_second = max_calls_per_second
        self.max_scan_pages = max_scan_pages
        self.wiziq_conn_id = wiziq_conn_id
        self._sync: TermSync | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_wiziq.api.engine.sync import SyncOptions, TermSync, read_declared
        from airflow_provider_wiziq.api.protocol.ratelimit import TokenBucket
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        store = self._ledger_store(context)
        hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        with wiziq_failures():
            limits = hook.limits
            ping = hook.status_ping_url()  # None unless the connection has ping_base_url (issue 24's doorbell)
            declared = read_declared(
                self.whole("sections"),
                self.whole("holidays"),
                limits,
                base=dag_folder(self),
                calendar=self.whole("calendar"),
            )
        approved = self._approved(context)
        bucket = TokenBucket(self.max_calls_per_second)
        ti = context["ti"]
        run_id = str(context.get("run_id") or ti.run_id)
        options = SyncOptions(
            cancel_removed=self.cancel_removed,
            removal_grace=self.removal_grace,
            max_cancel_fraction=self.max_cancel_fraction,
            max_change_fraction=self.max_change_fraction,
            max_concurrency=self.max_concurrency,
            max_scan_pages=self.max_scan_pages,
        )
        with hook.rate_limited_client(bucket, pool_size=self.max_concurrency + 1) as client, wiziq_failures():
            self._sync = TermSync(
                client, store, term=self.term, clock=clock, options=options, limits=limits, status_ping_url=ping
            )
            outcome = self._sync.run(
                declared,
                owner=f"{ti.dag_id}/{run_id}/{ti.task_id}/{ti.try_number}",
                run=run_id,
                dry_run=self.plan_only,
                approved=approved,
                expect_fingerprint=self.expect_fingerprint or None,
                show=self._show,
            )
        return self._finish(context, outcome, bucket.calls)

    def on_kill(self) -> None:
        """Stop submitting, wait briefly for the calls in flight, record what was done, give the lease back."""
        if self._sync is not None:
            self._sync.stop(timeout=2.5)

    # The ledger's store -------------------------------------------------------------------------------------

    def _ledger_store(self, context: Context) -> Any:
        """``ledger_path``'s store; else the term asset's state store (3.3), else Airflow Variables."""
        if context["ti"].map_index is not None and context["ti"].map_index >= 0:
            raise AirflowFailException(
                "SyncTermOperator must not be mapped: a mapped task's computed inlets are invisible to Airflow, "
                "so its ledger could not be found. Use one task per term."
            )
        path = (self.ledger_path or "").strip()
        if path.lower() == NO_LEDGER:
            self.log.info("ledger_path='none': no ledger is kept; this run reads the account to see what stands")
            return None
        found = context.get("asset_state_store") if HAS_ASSET_STATE_STORE and not path else None
        if found is not None:
            return found[self.asset]
        from airflow_provider_wiziq import stores

        if path:
            from airflow_provider_wiziq.api.engine.stores import term_folder

            return stores.object_store(term_folder(path, self.term), conn_id=self.ledger_conn_id)
        self.log.info("This Airflow has no asset state store: the term's ledger is kept in Airflow Variables")
        return stores.variable_store(self.term)

    def _approved(self, context: Context) -> frozenset[str]:
        if not self.approval_task_id:
            return frozenset()
        from airflow_provider_wiziq.approval import approved_fingerprints

        return frozenset(approved_fingerprints(context, self.approval_task_id))

    # The log and the report -----------------------------------------------------------------------------------

    def _show(self, plan: TermPlan) -> None:
        from airflow_provider_wiziq.api.rules.plan import REPLACE, plan_table

        self.log.info(
            "Plan for term %s at %s (fingerprint %s):\n%s",
            self.term,
            plan.cutoff.isoformat(timespec="minutes"),
            plan.fingerprint,
            plan_table(plan.rows()),
        )
        for row in plan.sections:
            if row.action == REPLACE:
                self.log.warning("Section %s: %s", row.key, row.reason)
            if row.left_enrolled:
                self.log.warning(
                    "Section %s: %d removed from the roster stay enrolled in its future classes (WizIQ cannot "
                    "unenroll): %s",
                    row.key,
                    len(row.left_enrolled),
                    ", ".join(row.left_enrolled),
                )
        for row in plan.sections:
            if row.packing:
                self.log.info("Section %s: %s", row.key, row.packing)
        for line in plan.unrepairable:
            self.log.warning("Drift WizIQ did not take (not sent again): %s", line)
        for refusal in plan.refusals:
            (self.log.info if self.plan_only else self.log.warning)("Guard: %s", refusal)

    def _finish(self, context: Context, outcome: SyncOutcome, calls: int) -> dict[str, Any]:
        from airflow_provider_wiziq.api.engine.sync import summary_line

        result = outcome.report(calls)
        errors = outcome.errors
        if self.plan_only:
            self.log.info("%s", summary_line(result))
        elif not outcome.changed and outcome.applied is None:
            self.log.info("Nothing to change: %s, all reads, and no write call was sent", counted(calls, "WizIQ call"))
        else:
            self.log.info("%s (%s)", summary_line(result), counted(calls, "WizIQ call"))
        if outcome.announcement and not self.plan_only and not errors:
            extra = {"account": outcome.account, "summary": result["summary"], "sections": outcome.announcement}
            context["outlet_events"][self.changes].add(self.asset, extra=extra)
        context["ti"].xcom_push(key=XCOM_SUMMARY, value=result["summary"])
        if errors:
            total = counted(len(outcome.plan.sections), "section")
            lines = "\n".join(f"  {key}: {error}" for key, error in errors.items())
            message = f"{len(errors)} of {total} failed (what succeeded is recorded and announced):\n{lines}"
            context["ti"].xcom_push(key="sync_results", value=result)
            self.log.error("%s", message)
            if any(error.transient for error in errors.values()):
                raise AirflowException(message + "\n(some transiently: a retry resumes)")
            raise AirflowFailException(message)
        return result


__all__ = ["SyncTermOperator", "term_asset"]
