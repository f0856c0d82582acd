"""``CreateRecurringClassesOperator``: many WizIQ recurring series in one task, fast, rate-aware and resumable.

Dynamic task mapping of :class:`~airflow_provider_wiziq.operators.series.CreateRecurringClassOperator` is the
simple way to provision a term; this operator is the fast way. It validates every spec before sending
anything, creates the series from a pool of threads sharing one client under one token bucket (which also
makes every worker wait out a server's ``429 Retry-After``), records each created series against its key in
the task state store, and on a retry creates only what is missing, never booking a series twice.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_wiziq.failures import wiziq_failures
from airflow_provider_wiziq.operators.series import series_result

if TYPE_CHECKING:
    from concurrent.futures import Future

    from airflow.sdk import Context

    from airflow_provider_wiziq.api.client import WizIQClient
    from airflow_provider_wiziq.api.errors import WizIQError
    from airflow_provider_wiziq.api.limits import PlanLimits
    from airflow_provider_wiziq.api.ratelimit import TokenBucket
    from airflow_provider_wiziq.api.recurrence import ScheduledClass
    from airflow_provider_wiziq.api.request import CreateRecurringRequest
    from airflow_provider_wiziq.api.series_index import SeriesIndex

#: Task state store keys ``wiziq_series_by_key/0``, ``/1``...: each a dict {spec key: class_master_id}.
LEDGER_KEY = "wiziq_series_by_key"
#: Spec keys per state-store value, so that one write stays small (Airflow warns above 64 KB).
LEDGER_SHARD_SIZE = 1000
#: XCom key of the per-key result when the task fails (on success it is the return value).
XCOM_SERIES_RESULTS = "series_results"
#: Failed keys named in a task failure's message; the log lists them all.
MAX_LISTED = 50
#: Failures logged one by one as they happen (an outage would otherwise flood the log); the rest at the end.
MAX_LOGGED_AS_THEY_COME = 10


@dataclass(frozen=True)
class PlannedSeries:
    """A spec that passed validation: its request and the classes it will create."""

    request: CreateRecurringRequest
    preview: tuple[ScheduledClass, ...]


@dataclass(frozen=True)
class SeriesOutcome:
    """What became of one key: its series (``result``) or its ``error``; ``class_master_id`` once known."""

    key: str
    class_master_id: int | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    how: str = "created"  # created | adopted (found on WizIQ) | earlier (recorded by an earlier try)


class CreateRecurringClassesOperator(BaseOperator):
    """Create many WizIQ recurring class series (``create_recurring``) with bounded concurrency and a rate limit.

    :param series: the series specs: a list of dicts, or its JSON text (templated, so it may come from XCom
        or a ``.json`` file). Each dict has a caller-chosen ``key`` (a section id, say) and
        ``create_recurring``'s parameters by WizIQ's names, as :class:`CreateRecurringClassOperator` takes them.
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
    template_ext: Sequence[str] = (".json",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"series": "json"}
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

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_wiziq.api.client import WizIQClient, configure_session
        from airflow_provider_wiziq.api.ratelimit import RateLimitedSession, TokenBucket
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        with wiziq_failures():
            config = hook.config
        specs = read_series_specs(self.series)
        planned, invalid = plan_series(specs, config.limits)
        if invalid:
            self._report_invalid(invalid, len(specs))
        results: dict[str, Any] = {key: {"error": error} for key, error in invalid.items()}
        if not planned:
            self.log.info("No series to create")
            return results
        ledger = SeriesLedger(context.get("task_state_store"), len(specs))
        earlier = {key: master for key, master in ledger.load().items() if key in planned}
        bucket = TokenBucket(self.max_calls_per_second)
        session = configure_session(RateLimitedSession(bucket), config, self.max_concurrency + 1)
        with WizIQClient(config, session=session) as client:
            creator = SeriesCreator(client, verify_schedule=self.verify_schedule)
            missing = len(planned) - len(earlier)
            if earlier:
                self.log.info("%d of %d series were created by an earlier try", len(earlier), len(planned))
            if missing and context["ti"].try_number > 1:
                self.log.info("Looking up the %d other series on WizIQ before creating any", missing)
                with wiziq_failures():
                    creator.load_index()
            outcomes = self._create_all(creator, planned, earlier, ledger, bucket)
        results = in_spec_order(specs, {**results, **outcomes})
        failed = {key: entry["error"] for key, entry in results.items() if key in outcomes and "error" in entry}
        if failed:
            context["ti"].xcom_push(key=XCOM_SERIES_RESULTS, value=results)
            raise self._failure(failed, len(planned))
        return results

    def _create_all(
        self,
        creator: SeriesCreator,
        planned: Mapping[str, PlannedSeries],
        earlier: Mapping[str, int],
        ledger: SeriesLedger,
        bucket: TokenBucket,
    ) -> dict[str, dict[str, Any]]:
        """Run every key through the pool; record each series as it comes and log progress now and then."""
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        progress = Progress(self, len(planned), bucket, self.progress_interval)
        outcomes: dict[str, dict[str, Any]] = {}

        def take(future: Future[SeriesOutcome]) -> None:
            outcome = future.result()
            if outcome.class_master_id is not None:
                ledger.record(outcome.key, outcome.class_master_id)
            if outcome.error is not None:
                outcomes[outcome.key] = {"error": outcome.error}
                if progress.failed < MAX_LOGGED_AS_THEY_COME:
                    self.log.warning("Series %s failed: %s", outcome.key, describe(outcome.error))
                elif progress.failed == MAX_LOGGED_AS_THEY_COME:
                    self.log.warning("More series failed; every failure is listed at the end")
            else:
                outcomes[outcome.key] = outcome.result or {}
            progress.count(outcome)

        pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="wiziq-series")
        pending = {pool.submit(creator.provision, key, item, earlier.get(key)): key for key, item in planned.items()}
        try:
            while pending:
                done, _ = wait(pending, timeout=progress.due_in(), return_when=FIRST_COMPLETED)
                for future in done:
                    del pending[future]
                    take(future)
                if progress.due_in() <= 0:
                    progress.log()
                    ledger.flush()
        finally:
            # Normally nothing is pending here. If the task is being stopped, finish the calls in flight and
            # record what they created, so the next try neither loses nor repeats them.
            pool.shutdown(wait=True, cancel_futures=True)
            for future in pending:
                if future.done() and not future.cancelled():
                    take(future)
            ledger.flush()
        progress.log(final=True)
        return outcomes

    def _report_invalid(self, invalid: Mapping[str, dict[str, Any]], total: int) -> None:
        lines = [f"  {key}: {describe(error)}" for key, error in invalid.items()]
        if self.skip_invalid:
            self.log.warning(
                "%d of %d series specs are invalid and are skipped (skip_invalid):\n%s",
                len(invalid),
                total,
                "\n".join(lines),
            )
            return
        raise AirflowFailException(
            f"{len(invalid)} of {total} series specs are invalid, so nothing was created "
            f"(skip_invalid=True would create the valid ones):\n" + "\n".join(lines)
        )

    def _failure(self, failed: Mapping[str, dict[str, Any]], total: int) -> AirflowException:
        """The task failure naming every failed key: retryable if any failure was transient."""
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


class SeriesCreator:
    """Creates (or finds) one key's series; called from many worker threads at once."""

    def __init__(self, client: WizIQClient, *, verify_schedule: bool) -> None:
        import threading

        self.client = client
        self.verify_schedule = verify_schedule
        self._index: SeriesIndex | None = None
        self._index_lock = threading.Lock()

    def load_index(self) -> SeriesIndex:
        """Read the account's classes once (at most once per try), for finding series whose answer was lost."""
        from airflow_provider_wiziq.api.series_index import SeriesIndex

        with self._index_lock:
            if self._index is None:
                self._index = SeriesIndex.scan(self.client)
            return self._index

    def provision(self, key: str, item: PlannedSeries, earlier: int | None) -> SeriesOutcome:
        """The key's series: recorded earlier, found on WizIQ, or created now; read back if asked."""
        from airflow_provider_wiziq.api.errors import WizIQError
        from airflow_provider_wiziq.api.reconcile import first_difference, read_schedule

        master_id, how, summary, entries = earlier, "earlier", None, ()
        try:
            if master_id is None and self._index is not None:
                master_id, how = self._index.find(item.request, item.preview[0]), "adopted"
            if master_id is None:
                master_id, how, summary, entries = self._create(item)
            if self.verify_schedule:
                entries = read_schedule(self.client, master_id)
                difference = first_difference(item.preview, entries)
                if difference is not None:
                    message = f"WizIQ's schedule differs from the preview: {difference}"
                    return SeriesOutcome(key, master_id, error=error_entry(None, message, transient=False))
        except WizIQError as error:
            return SeriesOutcome(key, master_id, error=wiziq_error_entry(error))
        except Exception as error:  # a bug must not hide the other keys' outcomes; it fails the task at the end
            message = f"unexpected {type(error).__name__}: {error}"
            return SeriesOutcome(key, master_id, error=error_entry(None, message, transient=False))
        result = series_result(item.request, item.preview, class_master_id=master_id, entries=entries, summary=summary)
        return SeriesOutcome(key, master_id, result=result, how=how)

    def _create(self, item: PlannedSeries) -> tuple[int, str, str | None, tuple[Any, ...]]:
        """Create the series; a 1032 for a series that is this one (an earlier lost answer) adopts it."""
        from airflow_provider_wiziq.api.errors import WizIQAPIError, is_already_scheduled

        try:
            series = self.client.create_recurring(item.request)
        except WizIQAPIError as error:
            if is_already_scheduled(error):
                found = self.load_index().find(item.request, item.preview[0])
                if found is not None:
                    return found, "adopted", None, ()
            raise
        # The answer describes the first class, which is enough to fill it in when there is no read-back.
        return series.class_master_id, "created", series.recurring_summary, (series.first_class,)


class SeriesLedger:
    """Which key became which series, in the task state store: a few small dicts, rewritten only when changed.

    Writes are batched (``flush``), so a worker killed between two flushes may leave a created series
    unrecorded; the next try then finds it by lookup, which is why a retry looks up every key it lacks.
    """

    def __init__(self, store: Any, keys: int) -> None:
        self._store = store
        self._shards = max(1, math.ceil(keys / LEDGER_SHARD_SIZE))
        self._ids: list[dict[str, int]] = [{} for _ in range(self._shards)]
        self._dirty: set[int] = set()

    def load(self) -> dict[str, int]:
        """Every series recorded by earlier tries, by key."""
        if self._store is None:
            return {}
        found: dict[str, int] = {}
        for shard in range(self._shards):
            stored = self._store.get(f"{LEDGER_KEY}/{shard}")
            if isinstance(stored, dict):
                self._ids[shard].update({str(key): int(master) for key, master in stored.items()})
                found.update(self._ids[shard])
        return found

    def record(self, key: str, class_master_id: int) -> None:
        shard = zlib.crc32(key.encode()) % self._shards
        if self._ids[shard].get(key) != class_master_id:
            self._ids[shard][key] = class_master_id
            self._dirty.add(shard)

    def flush(self) -> None:
        if self._store is None:
            return
        for shard in sorted(self._dirty):
            self._store.set(f"{LEDGER_KEY}/{shard}", dict(self._ids[shard]))
        self._dirty.clear()


class Progress:
    """Counts outcomes and logs ``created 240/1000, 3 failed, 41 calls/s`` at most every ``interval`` seconds."""

    def __init__(self, operator: BaseOperator, total: int, bucket: TokenBucket, interval: float) -> None:
        self._log = operator.log
        self.total = total
        self.created = 0
        self.failed = 0
        self.how: dict[str, int] = {}
        self._bucket = bucket
        self._interval = interval
        self._started = self._last = time.monotonic()
        self._last_calls = 0

    def count(self, outcome: SeriesOutcome) -> None:
        if outcome.error is not None:
            self.failed += 1
        else:
            self.created += 1
            self.how[outcome.how] = self.how.get(outcome.how, 0) + 1

    def due_in(self) -> float:
        return max(0.0, self._last + self._interval - time.monotonic())

    def log(self, *, final: bool = False) -> None:
        now = time.monotonic()
        calls = self._bucket.calls
        since = self._started if final else self._last
        rate = (calls - (0 if final else self._last_calls)) / max(now - since, 1e-9)
        self._log.info("created %d/%d, %d failed, %.0f calls/s", self.created, self.total, self.failed, rate)
        if final:
            ways = ", ".join(f"{count} {how}" for how, count in sorted(self.how.items()))
            self._log.info(
                "Done in %.1f s with %d WizIQ calls (%s; %d pauses for 429)",
                now - self._started,
                calls,
                ways or "none created",
                self._bucket.pauses,
            )
        self._last, self._last_calls = now, calls


def read_series_specs(value: Any) -> list[Any]:
    """The rendered ``series`` argument as a list: JSON text is parsed; anything but a list fails the task."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise AirflowFailException(f"series is not valid JSON: {error}") from None
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        raise AirflowFailException(
            f"series must be a list of series specs (dicts with a key and create_recurring's parameters) or its "
            f"JSON text, not {type(value).__name__}"
        )
    return value


def plan_series(specs: Sequence[Any], limits: PlanLimits) -> tuple[dict[str, PlannedSeries], dict[str, dict[str, Any]]]:
    """Validate every spec (none is sent): the valid ones by key, and an error for each invalid one.

    A spec is invalid if it is not a dict, has no usable ``key`` or one used before, fails WizIQ's checks
    (``CreateRecurringRequest``, the same as the single operator), or describes the same series as an
    earlier spec (same title, presenter, time zone and first class: WizIQ could not tell them apart).
    A spec without a usable key is reported as ``#<position>``.
    """
    from airflow_provider_wiziq.api.errors import WizIQError
    from airflow_provider_wiziq.api.request import CreateRecurringRequest

    planned: dict[str, PlannedSeries] = {}
    invalid: dict[str, dict[str, Any]] = {}
    identities: dict[tuple[Any, ...], str] = {}
    for position, spec in enumerate(specs):
        if not isinstance(spec, Mapping):
            invalid[f"#{position}"] = error_entry(None, f"a series spec must be a dict, not {type(spec).__name__}")
            continue
        key = spec_key(spec.get("key"))
        if key is None:
            invalid[f"#{position}"] = error_entry(None, "the spec has no key (a non-empty string or number)")
            continue
        if key in planned or key in invalid:
            invalid.setdefault(f"#{position}", error_entry(None, f"key {key!r} is used by an earlier spec"))
            continue
        params = {name: value for name, value in spec.items() if name != "key"}
        try:
            request = CreateRecurringRequest.from_params(params)
            preview = request.validate(limits=limits)
        except WizIQError as error:
            invalid[key] = wiziq_error_entry(error)
            continue
        presenter = (request.presenter_email or "").lower() or request.presenter_id
        identity = (request.title, presenter, request.time_zone, preview[0].utc_start)
        if identity in identities:
            message = f"describes the same series as key {identities[identity]!r} (same title, presenter and start)"
            invalid[key] = error_entry(None, message)
            continue
        identities[identity] = key
        planned[key] = PlannedSeries(request, preview)
    return planned, invalid


def spec_key(value: Any) -> str | None:
    """A spec's key as text, or None if it has none usable (bools and blanks are not keys)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text or None


def in_spec_order(specs: Sequence[Any], results: Mapping[str, Any]) -> dict[str, Any]:
    """``results`` ordered as the specs name their keys (keys named by position last)."""
    ordered: dict[str, Any] = {}
    for spec in specs:
        key = spec_key(spec.get("key")) if isinstance(spec, Mapping) else None
        if key is not None and key in results:
            ordered.setdefault(key, results[key])
    for key, result in results.items():
        ordered.setdefault(key, result)
    return ordered


def error_entry(code: int | None, message: str, *, transient: bool = False) -> dict[str, Any]:
    return {"code": code, "message": message, "transient": transient}


def wiziq_error_entry(error: WizIQError) -> dict[str, Any]:
    """A WizIQ error as a JSON result entry: WizIQ's code (None if it gave none) and message, never a secret."""
    from airflow_provider_wiziq.api.errors import WizIQAPIError

    if isinstance(error, WizIQAPIError):
        return error_entry(error.code, error.message, transient=error.transient)
    return error_entry(None, str(error), transient=error.transient)


def describe(error: Mapping[str, Any]) -> str:
    code = error.get("code")
    label = f"WizIQ error {code}: " if code is not None else ""
    return f"{label}{error.get('message')}{' (transient)' if error.get('transient') else ''}"


__all__ = ["CreateRecurringClassesOperator"]
