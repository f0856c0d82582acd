"""``CreateRecurringClassesOperator``: many WizIQ recurring series in one task, fast, rate-aware and resumable.

Dynamic task mapping of :class:`~airflow_provider_wiziq.operators.series.CreateRecurringClassOperator` is the
simple way to provision a term; this operator is the fast way. It validates every spec before sending
anything, creates the series from a pool of threads sharing one client under one token bucket (which also
makes every worker wait out a server's ``429 Retry-After``), records each created series against its key in
the task state store, and on a retry creates only what is missing, never booking a series twice.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_wiziq._compat import AirflowException, AirflowFailException, BaseOperator
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.failures import wiziq_failures
from airflow_provider_wiziq.operators.series import series_result, with_status_ping_url
from airflow_provider_wiziq.operators.templating import KeepsLongFieldsInBrief, Noun, RendersOnlyTemplates, dag_folder

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_wiziq.api.engine.provision import PlannedSeries, SeriesOutcome, Stopper
    from airflow_provider_wiziq.api.protocol.client import WizIQClient
    from airflow_provider_wiziq.api.protocol.ratelimit import TokenBucket

#: XCom key of the per-key result when the task fails (on success it is the return value).
XCOM_SERIES_RESULTS = "series_results"
#: Failed keys named in a task failure's message; the log lists them all.
MAX_LISTED = 50
#: Failures logged one by one (an outage would otherwise flood the log); the task failure lists the rest.
MAX_LOGGED_AS_THEY_COME = 10


class CreateRecurringClassesOperator(RendersOnlyTemplates, KeepsLongFieldsInBrief, BaseOperator):
    """Create many WizIQ recurring class series (``create_recurring``) with bounded concurrency and a rate limit.

    :param series: the series specs (templated): a list of dicts (an upstream task's output), JSON or CSV text,
        or the path of a ``.json`` / ``.csv`` file, read on the worker as data (a relative path from the DAG
        file's folder), as ``SyncTermOperator`` reads its ``sections``. Each dict has a caller-chosen ``key``
        (or ``section_id``) and ``create_recurring``'s parameters by WizIQ's names, as
        :class:`CreateRecurringClassOperator` takes them.
    :param wiziq_conn_id: the ``wiziq`` connection.
    :param max_concurrency: calls in flight at once (worker threads sharing one client).
    :param max_calls_per_second: the client-side rate limit shared by all workers (every HTTP call counts,
        reads and re-sends too); None for no limit. A 429 answer pauses every worker for its ``Retry-After``.
    :param skip_invalid: create the valid specs even if some are invalid (they are reported, not failed);
        by default one invalid spec means nothing is created.
    :param verify_schedule: read each series back (``view_schedule``: one more call per series) to fill in
        every class id and check it against the preview; off, only the first class's id is known.
    :param progress_interval: seconds between progress lines (``created 240/1000, 3 failed, 41 calls/s``).

    Returns ``{key: series}`` in spec order, each ``series`` shaped like the single operator's return value,
    or ``{key: {"error": {"code", "message", "transient"}}}``. After every key was attempted, the task fails
    if any failed, naming them: ``AirflowFailException`` if every failure is permanent, else
    ``AirflowException`` so that a retry resumes. A retry creates only what is missing: created series are
    kept in the task state store, and keys without one are looked up on WizIQ (one scan of the account)
    before anything is created; a 1032 answer for a series that turns out to be this one adopts it.
    """

    template_fields: Sequence[str] = ("series", "wiziq_conn_id")
    template_ext: Sequence[str] = ()  # a path is read as data on the worker, never looked up as a template
    template_fields_renderers: ClassVar[dict[str, str]] = {"series": "json"}
    template_fields_in_brief: ClassVar[dict[str, Noun]] = {"series": Noun("series", "series", "key")}
    ui_color = "#cce4ff"

    def __init__(
        self,
        *,
        series: str | Sequence[Mapping[str, Any]],
        wiziq_conn_id: str = "wiziq_default",
        max_concurrency: int = 8,
        max_calls_per_second: float | None = 10.0,
        skip_invalid: bool = False,
        verify_schedule: bool = True,
        progress_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_calls_per_second is not None and not max_calls_per_second > 0:
            raise ValueError("max_calls_per_second must be positive, or None for no limit")
        if not progress_interval > 0:
            raise ValueError("progress_interval must be a positive number of seconds")
        self.series = series
        self.wiziq_conn_id = wiziq_conn_id
        self.max_concurrency = int(max_concurrency)
        self.max_calls_per_second = max_calls_per_second
        self.skip_invalid = skip_invalid
        self.verify_schedule = verify_schedule
        self.progress_interval = float(progress_interval)
        self._stopper: Stopper | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_wiziq.api.engine.provision import (
            SeriesMaker,
            Stopper,
            plan_series,
            provision_all,
            run_pool,
        )
        from airflow_provider_wiziq.api.protocol.ratelimit import TokenBucket
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        with wiziq_failures():
            limits = hook.limits
            specs = [
                with_status_ping_url(spec, hook) if isinstance(spec, Mapping) else spec
                for spec in read_series_specs(self.whole("series"), base=dag_folder(self))
            ]
        planned, invalid = plan_series(specs, limits)
        if invalid:
            self._report_invalid(invalid, len(specs))
        results: dict[str, Any] = {key: {"error": error} for key, error in invalid.items()}
        if not planned:
            self.log.info("No series to create")
            return results
        from airflow_provider_wiziq.api.engine.ledger import SeriesLedger

        ledger = SeriesLedger(context.get("task_state_store"), len(specs))
        self._stopper = Stopper()
        earlier = {key: master for key, master in ledger.load().items() if key in planned}
        if earlier:
            self.log.info("%d of %d series were created by an earlier try", len(earlier), len(planned))
        retry = context["ti"].try_number > 1 and len(earlier) < len(planned)
        if retry:
            self.log.info("Looking up the %d other series on WizIQ before creating any", len(planned) - len(earlier))
        bucket = TokenBucket(self.max_calls_per_second)
        progress = Progress(self, len(planned), bucket, self.progress_interval)
        made: dict[str, SeriesOutcome] = {}

        def record(outcome: SeriesOutcome) -> None:
            if outcome.class_master_id is not None:
                ledger.record(outcome.key, outcome.class_master_id)
            made[outcome.key] = outcome
            progress.count(outcome)

        def tick() -> float:
            if progress.due_in() <= 0:
                progress.log()
                ledger.flush()
            return progress.due_in() or self.progress_interval

        with hook.rate_limited_client(bucket, pool_size=self.max_concurrency + 1) as client:
            try:
                with wiziq_failures():
                    provision_all(
                        SeriesMaker(client),
                        planned,
                        earlier,
                        max_concurrency=self.max_concurrency,
                        look_first=retry,
                        on_outcome=record,
                        on_tick=tick,
                        stopper=self._stopper,
                    )
            finally:
                ledger.flush()
            progress.log(final=True)
            outcomes: dict[str, dict[str, Any]] = {}
            run_pool(
                made.values(),
                lambda outcome: (outcome.key, self._result(client, planned[outcome.key], outcome)),
                lambda pair: outcomes.__setitem__(*pair),
                max_concurrency=self.max_concurrency,
            )
        self._log_failures(outcomes)
        results = in_spec_order(specs, {**results, **outcomes})
        failed = {key: entry["error"] for key, entry in results.items() if key in outcomes and "error" in entry}
        if failed:
            context["ti"].xcom_push(key=XCOM_SERIES_RESULTS, value=results)
            raise self._failure(failed, len(planned))
        return results

    def _result(self, client: WizIQClient, item: PlannedSeries, outcome: SeriesOutcome) -> dict[str, Any]:
        """One key's result entry: its series (read back when ``verify_schedule``) or its error."""
        from airflow_provider_wiziq.api.engine.provision import error_entry, wiziq_error_entry
        from airflow_provider_wiziq.api.engine.reconcile import first_difference, read_schedule
        from airflow_provider_wiziq.api.protocol.errors import WizIQError

        if outcome.error is not None or outcome.class_master_id is None:
            return {"error": wiziq_error_entry(outcome.error) if outcome.error else error_entry(None, "no series")}
        # The create answer describes the first class, which is enough to fill it in when there is no read-back.
        entries: tuple[Any, ...] = (outcome.series.first_class,) if outcome.series is not None else ()
        try:
            if self.verify_schedule:
                entries = read_schedule(client, outcome.class_master_id)
                difference = first_difference(item.preview, entries)
                if difference is not None:
                    message = f"WizIQ's schedule differs from the preview: {difference}"
                    return {"error": error_entry(None, message)}
        except WizIQError as error:
            return {"error": wiziq_error_entry(error)}
        summary = outcome.series.recurring_summary if outcome.series is not None else None
        return series_result(
            item.request, item.preview, class_master_id=outcome.class_master_id, entries=entries, summary=summary
        )

    def _log_failures(self, outcomes: Mapping[str, dict[str, Any]]) -> None:
        from airflow_provider_wiziq.api.engine.provision import describe

        failed = [(key, entry["error"]) for key, entry in outcomes.items() if "error" in entry]
        for key, error in failed[:MAX_LOGGED_AS_THEY_COME]:
            self.log.warning("Series %s failed: %s", key, describe(error))

    def on_kill(self) -> None:
        """Stop creating and wait at most 2 s for the creates in flight. ``execute`` then ends at once and records
        the series made so far (its last ledger write), so the next try neither repeats nor loses them (Airflow
        kills the task 5 s after SIGTERM)."""
        if self._stopper is None:
            return
        self._stopper.set()
        if not self._stopper.wait_idle(2.0):
            self.log.warning("Stopped with creates still in flight: the next try looks them up before creating")

    def _report_invalid(self, invalid: Mapping[str, dict[str, Any]], total: int) -> None:
        from airflow_provider_wiziq.api.engine.provision import describe

        lines = [f"  {key}: {describe(error)}" for key, error in invalid.items()]
        what = f"{len(invalid)} of {counted(total, 'series spec')} {'is' if len(invalid) == 1 else 'are'} invalid"
        if self.skip_invalid:
            self.log.warning("%s and skipped (skip_invalid):\n%s", what, "\n".join(lines))
            return
        raise AirflowFailException(
            f"{what}, so nothing was created (skip_invalid=True would create the valid ones):\n" + "\n".join(lines)
        )

    def _failure(self, failed: Mapping[str, dict[str, Any]], total: int) -> AirflowException:
        """The task failure naming every failed key: retryable if any failure was transient."""
        from airflow_provider_wiziq.api.engine.provision import describe

        lines = [f"  {key}: {describe(error)}" for key, error in failed.items()]
        self.log.error("%d of %d WizIQ series failed:\n%s", len(failed), total, "\n".join(lines))
        transient = any(error.get("transient") for error in failed.values())
        listed = lines[:MAX_LISTED]
        if len(lines) > MAX_LISTED:
            more = len(lines) - MAX_LISTED
            listed.append(f"  ... and {more} more (the log and XCom {XCOM_SERIES_RESULTS!r} list them all)")
        why = "some transiently: a retry creates only what is missing" if transient else "all permanently"
        message = f"{len(failed)} of {total} WizIQ series failed ({why}):\n" + "\n".join(listed)
        return AirflowException(message) if transient else AirflowFailException(message)


class Progress:
    """Counts outcomes and logs ``240/1000 done (200 created, 30 adopted, 10 earlier), 3 failed, 41 calls/s``.

    ``created`` series were booked by this try; ``adopted`` ones were found on WizIQ (an earlier try or run
    made them and its answer was lost); ``earlier`` ones were recorded by an earlier try of this task.
    """

    def __init__(self, operator: BaseOperator, total: int, bucket: TokenBucket, interval: float) -> None:
        self._log = operator.log
        self.total = total
        self.failed = 0
        self.how: dict[str, int] = {"created": 0, "adopted": 0, "earlier": 0}
        self._bucket = bucket
        self._interval = interval
        self._started = self._last = time.monotonic()
        self._last_calls = 0

    def count(self, outcome: SeriesOutcome) -> None:
        if outcome.error is not None:
            self.failed += 1
        else:
            self.how[outcome.how] = self.how.get(outcome.how, 0) + 1

    def due_in(self) -> float:
        return max(0.0, self._last + self._interval - time.monotonic())

    def log(self, *, final: bool = False) -> None:
        now = time.monotonic()
        calls = self._bucket.calls
        since = self._started if final else self._last
        rate = (calls - (0 if final else self._last_calls)) / max(now - since, 1e-9)
        done = sum(self.how.values())
        ways = ", ".join(f"{count} {how}" for how, count in self.how.items())
        self._log.info("%d/%d done (%s), %d failed, %.0f calls/s", done, self.total, ways, self.failed, rate)
        if final:
            self._log.info(
                "Done in %.1f s with %s (%s for 429)",
                now - self._started,
                counted(calls, "WizIQ call"),
                counted(self._bucket.pauses, "pause"),
            )
        self._last, self._last_calls = now, calls


def read_series_specs(value: Any, *, base: str | None = None) -> list[Any]:
    """The rendered ``series`` argument as a list of specs, read as the term sync reads an export; anything that
    is no list of specs fails the task."""
    from airflow_provider_wiziq.api.rules.export import read_row, read_rows

    with wiziq_failures():
        rows = read_rows(value, name="series", base=base)
    return [read_row(spec) if isinstance(spec, Mapping) else spec for spec in rows]


def in_spec_order(specs: Sequence[Any], results: Mapping[str, Any]) -> dict[str, Any]:
    """``results`` ordered as the specs name their keys (keys named by position last)."""
    from airflow_provider_wiziq.api.rules.term import spec_key

    ordered: dict[str, Any] = {}
    for spec in specs:
        key = spec_key(spec.get("key")) if isinstance(spec, Mapping) else None
        if key is not None and key in results:
            ordered.setdefault(key, results[key])
    for key, result in results.items():
        ordered.setdefault(key, result)
    return ordered


__all__ = ["CreateRecurringClassesOperator"]
