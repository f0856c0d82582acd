"""``SyncTermOperator``: a term declared as data that converges on WizIQ, run after run (plan, then apply).

The engine is :mod:`airflow_provider_wiziq.api.engine.sync`; this operator reads the arguments, opens the term's
ledger in the asset state store (Airflow 3.3), runs the plan (and, unless ``dry_run``, the apply), logs
the plan table and announces a change on the term's asset only when the run changed something.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import Asset, AssetAlias, BaseOperator

from airflow_provider_wiziq._compat import AirflowException, AirflowFailException
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.failures import wiziq_failures
from airflow_provider_wiziq.operators.templating import RendersOnlyTemplates, dag_folder

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_wiziq.api.engine.sync import TermPlan, TermSync
    from airflow_provider_wiziq.api.protocol.errors import WizIQError

_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: XCom key of the run's summary (also inside the return value).
XCOM_SUMMARY = "summary"


def now() -> datetime:
    """The moment a run plans at (a function of its own so that tests can run the sync on the emulator's clock)."""
    return datetime.now(timezone.utc)


def term_asset(term: str) -> Asset:
    """The Airflow asset of a term: its ledger lives in this asset's state store, its changes are its events."""
    return Asset(name=f"wiziq-term-{term}", uri=f"wiziq://term/{term}")


class SyncTermOperator(RendersOnlyTemplates, BaseOperator):
    """Keep a WizIQ term provisioned from its declaration: plan against the ledger and WizIQ, then apply.

    :param term: names the term (``"fall-2027"``; letters, digits, ``.``, ``_``, ``-``). Not templated: it
        names the asset ``wiziq-term-<term>`` (``wiziq://term/<term>``) whose state store holds the ledger.
    :param sections: the declared term (templated): a list of dicts (an upstream task's output), JSON text, CSV
        text, or the path of a ``.json`` / ``.csv`` file, read on the worker as data (a relative path from the
        DAG file's folder); :mod:`~airflow_provider_wiziq.api.rules.export` reads them. Each section has a
        ``key`` (or ``section_id``) and ``create_recurring``'s parameters by WizIQ's names, and optionally
        ``attendees`` (its roster: ``attendee_id``, ``screen_name``). A file is no template: to render one
        with Jinja, say so (``sections="{% include 'export.csv' %}"``).
    :param holidays: dates (ISO strings or ``date``) and inclusive ranges ``"2027-11-24..2027-11-28"``
        on which no class is held, judged on each class's local date (templated).
    :param cancel_removed: cancel the future classes of a section no longer declared.
    :param max_cancel_fraction: refuse a run that would cancel more than this share of the term's sections,
        or any section because the export is empty; None turns both guards off.
    :param dry_run: plan only: reads are sent, nothing is written to WizIQ or to the ledger.
    :param max_concurrency: calls in flight at once; ``max_calls_per_second``: the shared rate limit.

    Returns ``{"sections": {key: {action, series, classes, presenter_url}}, "summary": {...}, "plan": [...]}``.
    The presenter URL is a teacher's join link: anyone who can read this task's XCom can use it.
    """

    template_fields: Sequence[str] = ("sections", "holidays")
    template_ext: Sequence[str] = ()  # a path is read as data on the worker, never looked up as a template
    template_fields_renderers: ClassVar[dict[str, str]] = {"sections": "json", "holidays": "json"}
    ui_color = "#b3d9ff"
    # The argument keeps WizIQ-like naming shared by the docs; it shadows BaseOperator.dry_run(), a method Airflow 3
    # never calls.
    dry_run: bool  # type: ignore[assignment]

    def __init__(
        self,
        *,
        term: str,
        sections: Any,
        holidays: Any = None,
        cancel_removed: bool = True,
        max_cancel_fraction: float | None = 0.2,
        dry_run: bool = False,
        max_concurrency: int = 8,
        max_calls_per_second: float | None = 10.0,
        wiziq_conn_id: str = "wiziq_default",
        **kwargs: Any,
    ) -> None:
        if not isinstance(term, str) or not _TERM.fullmatch(term):
            raise ValueError(f"term must be 1-100 letters, digits, '.', '_' or '-' (it names an asset), not {term!r}")
        if max_cancel_fraction is not None and not 0 <= max_cancel_fraction <= 1:
            raise ValueError("max_cancel_fraction must be between 0 and 1, or None to turn the guard off")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_calls_per_second is not None and not max_calls_per_second > 0:
            raise ValueError("max_calls_per_second must be positive, or None for no limit")
        self.asset = term_asset(term)
        self.changes = AssetAlias(name=f"wiziq-term-{term}-changes")
        kwargs["inlets"] = [*(kwargs.get("inlets") or []), self.asset]
        kwargs["outlets"] = [*(kwargs.get("outlets") or []), self.changes]
        super().__init__(**kwargs)
        self.term = term
        self.sections = sections
        self.holidays = holidays
        self.cancel_removed = cancel_removed
        self.max_cancel_fraction = max_cancel_fraction
        self.dry_run = dry_run
        self.max_concurrency = int(max_concurrency)
        self.max_calls_per_second = max_calls_per_second
        self.wiziq_conn_id = wiziq_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_wiziq.api.engine.ledger import TermLedger
        from airflow_provider_wiziq.api.engine.sync import SyncOptions, TermSync, plan_table, run_sync
        from airflow_provider_wiziq.api.protocol.ratelimit import TokenBucket
        from airflow_provider_wiziq.api.rules.term import check_term
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        store = self._ledger_store(context)
        hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        with wiziq_failures():
            limits = hook.limits
            sections, holidays, invalid = check_term(self.sections, self.holidays, limits, base=dag_folder(self))
        if invalid:
            lines = "\n".join(f"  {key}: {error}" for key, error in invalid.items())
            what = f"{counted(len(invalid), 'section')} {'is' if len(invalid) == 1 else 'are'} invalid"
            raise AirflowFailException(f"{what}, so nothing was sent:\n{lines}")
        bucket = TokenBucket(self.max_calls_per_second)
        ledger = TermLedger(store)
        ti = context["ti"]
        run_id = str(context.get("run_id") or ti.run_id)
        options = SyncOptions(self.cancel_removed, self.max_cancel_fraction, self.max_concurrency)
        with hook.rate_limited_client(bucket, pool_size=self.max_concurrency + 1) as client, wiziq_failures():
            sync = TermSync(
                client,
                ledger,
                term=self.term,
                sections=sections,
                holidays=holidays,
                now=now(),
                max_series_classes=limits.max_series_classes,
                options=options,
            )
            plan, errors = run_sync(
                sync,
                owner=f"{ti.dag_id}/{run_id}/{ti.task_id}/{ti.try_number}",
                run=run_id,
                dry_run=self.dry_run,
                show=lambda plan: self.log.info("Plan for term %s:\n%s", self.term, plan_table(plan.rows())),
            )
        return self._finish(context, sync, plan, errors, bucket.calls)

    def _ledger_store(self, context: Context) -> Any:
        """The term asset's state store; Airflow before 3.3 has none, and the sync cannot work without it."""
        if context["ti"].map_index is not None and context["ti"].map_index >= 0:
            raise AirflowFailException(
                "SyncTermOperator must not be mapped: a mapped task's computed inlets are invisible to Airflow, "
                "so its ledger could not be found. Use one task per term."
            )
        stores = context.get("asset_state_store")
        if stores is None:
            raise AirflowFailException(
                "SyncTermOperator keeps the term's ledger in the asset state store, which this Airflow does not "
                "offer (the task context has no 'asset_state_store'). It needs Apache Airflow 3.3 or later."
            )
        return stores[self.asset]

    def _finish(
        self, context: Context, sync: TermSync, plan: TermPlan, errors: dict[str, WizIQError], calls: int
    ) -> dict[str, Any]:
        report = sync.report(plan, errors)
        counts = sync.counts
        rows = plan.rows()
        summary = {
            "sections": len(sync.sections),
            **counts,
            "unchanged": sum(1 for row in rows if row["action"] == "unchanged"),
            "calls": calls,
            "dry_run": self.dry_run,
        }
        changed = any(counts.values())
        if self.dry_run:
            self.log.info(
                "dry_run: %s, all reads; the plan would send %s",
                counted(calls, "WizIQ call"),
                counted(plan.writes, "write"),
            )
        elif not changed:
            self.log.info("Nothing to change: %s, all reads, and no write call was sent", counted(calls, "WizIQ call"))
        else:
            self.log.info("Applied: %s", summary)
            extra: dict[str, Any] = {
                "summary": summary,
                "sections": {key: ids for key, ids in sync.done.items() if ids["created"] or ids["cancelled"]},
            }
            context["outlet_events"][self.changes].add(self.asset, extra=extra)
        context["ti"].xcom_push(key=XCOM_SUMMARY, value=summary)
        result = {"sections": report, "summary": summary, "plan": rows}
        if errors:
            lines = "\n".join(f"  {key}: {error}" for key, error in errors.items())
            total = counted(len(plan.sections), "section")
            message = f"{len(errors)} of {total} failed (what succeeded is recorded):\n{lines}"
            context["ti"].xcom_push(key="sync_results", value=result)
            self.log.error(message)
            if any(error.transient for error in errors.values()):
                raise AirflowException(message + "\n(some transiently: a retry resumes)")
            raise AirflowFailException(message)
        return result


__all__ = ["SyncTermOperator", "term_asset"]
