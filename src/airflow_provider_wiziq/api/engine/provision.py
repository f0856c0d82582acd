"""Creating a recurring series exactly once: the one place every create operator and the term sync go through.

``create_recurring`` has no idempotency key. :class:`SeriesMaker` sends it, and when the answer is lost
(a transient failure after the request may have reached WizIQ) or WizIQ answers 1032 (the presenter already
has a class at that instant), it looks the series up by the one "same series" rule (:mod:`.identity`)
before anything is sent again: found, it is adopted; not found, the failure stands and the next try creates it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from airflow_provider_wiziq.api.engine.reconcile import MAX_SCAN_PAGES, scan_account
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.errors import (
    NOT_SENT,
    WizIQAPIError,
    WizIQError,
    WizIQTransportError,
    WizIQValidationError,
    is_already_scheduled,
)
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.responses import RecurringSeries
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.identity import AccountIndex, SeriesIdentity, identity_of
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass
from airflow_provider_wiziq.api.rules.term import spec_key

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class StopRequested(WizIQError):
    """The run was stopped (its task was killed): what was done is recorded, the rest is left for the next try."""

    transient = True


class Stopper:
    """A stop asked of one run's threads: once set no call starts; the calls in flight are counted."""

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._busy = 0
        self._idle = threading.Condition()

    def set(self) -> None:
        self._stopped.set()

    def is_set(self) -> bool:
        return self._stopped.is_set()

    @contextmanager
    def call(self) -> Iterator[None]:
        """Around one unit of work: refused (:class:`StopRequested`) once the run is stopped."""
        with self._idle:
            if self._stopped.is_set():
                raise StopRequested("not sent: the run was stopped")
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the calls in flight; True when none is left."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


def may_have_been_created(error: WizIQError) -> bool:
    """Whether a failed ``create_recurring`` may still have booked its series (its answer was lost)."""
    if isinstance(error, WizIQAPIError):
        return is_already_scheduled(error) or error.transient
    if isinstance(error, WizIQTransportError):
        return error.sent and error.status_code != 429
    return error.transient


@dataclass(frozen=True)
class Made:
    """A series that exists: created now (``series`` is WizIQ's answer) or ``adopted`` (found on WizIQ)."""

    class_master_id: int
    how: str  # "created" | "adopted"
    series: RecurringSeries | None = None


class SeriesMaker:
    """Creates series once; looks them up in one scan of the account, shared by every worker thread."""

    def __init__(self, client: WizIQClient, *, max_scan_pages: int = MAX_SCAN_PAGES) -> None:
        self.client = client
        self.max_scan_pages = max_scan_pages
        self._index: AccountIndex | None = None
        self._scans = 0
        self._lock = threading.Lock()

    def index(self, *, newer_than: int = 0) -> AccountIndex:
        """The account index, read again if the one held was read before scan number ``newer_than``."""
        with self._lock:
            if self._index is None or self._scans < newer_than:
                self._index = scan_account(self.client, max_pages=self.max_scan_pages)
                self._scans += 1
            return self._index

    @property
    def scans(self) -> int:
        with self._lock:
            return self._scans

    def find(self, identity: SeriesIdentity, *, fresh: bool = False) -> int | None:
        """The series with ``identity`` on WizIQ, or None; ``fresh`` reads the account again first."""
        return self.index(newer_than=self.scans + 1 if fresh else 0).find(identity)

    def create(self, request: CreateRecurringRequest) -> RecurringSeries:
        """Send ``create_recurring`` once (no settling): callers that batch the look-ups use this."""
        return self.client.create_recurring(request)

    def create_once(self, request: CreateRecurringRequest, first: ScheduledClass) -> Made:
        """Create the series, or adopt it when a lost answer or a 1032 turns out to be this very series."""
        try:
            series = self.client.create_recurring(request)
        except WizIQError as error:
            if not may_have_been_created(error):
                raise
            found = self.find(identity_of(request, first.utc_start), fresh=True)
            if found is None:
                raise
            log.info("WizIQ answered %s, but series %s is this one: adopting it", _short(error), found)
            return Made(found, "adopted")
        return Made(series.class_master_id, "created", series)

    def settle(self, identities: Iterable[SeriesIdentity]) -> dict[SeriesIdentity, int | None]:
        """Look up many unsettled creates with one fresh scan of the account."""
        wanted = list(identities)
        if not wanted:
            return {}
        index = self.index(newer_than=self.scans + 1)
        return {identity: index.find(identity) for identity in wanted}


def _short(error: WizIQError) -> str:
    return str(error).split(":", 1)[0]


# Many series at once (the bulk operator) -------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedSeries:
    """A spec that passed validation: its request and the classes it will create."""

    request: CreateRecurringRequest
    preview: tuple[ScheduledClass, ...]

    @property
    def identity(self) -> SeriesIdentity:
        return identity_of(self.request, self.preview[0].utc_start)


@dataclass(frozen=True)
class SeriesOutcome:
    """What became of one key: its series id (once known), how, WizIQ's answer, or the error."""

    key: str
    class_master_id: int | None = None
    how: str = "created"  # created | adopted (found on WizIQ) | earlier (recorded by an earlier try)
    series: RecurringSeries | None = None
    error: WizIQError | None = None
    unsettled: bool = False  # the create failed in a way that may have booked it: look it up


def plan_series(specs: Sequence[Any], limits: PlanLimits) -> tuple[dict[str, PlannedSeries], dict[str, dict[str, Any]]]:
    """Validate every spec (none is sent): the valid ones by key, and an error entry for each invalid one.

    A spec is invalid if it is not a dict, has no usable ``key`` or one used before, fails WizIQ's checks
    (``CreateRecurringRequest``, the same as the single operator), or is the same series as an earlier spec
    (WizIQ could not tell them apart). A spec without a usable key is reported as ``#<position>``.
    """
    planned: dict[str, PlannedSeries] = {}
    invalid: dict[str, dict[str, Any]] = {}
    identities: dict[tuple[str, str, datetime], list[str]] = {}  # keys by meeting (title, presenter, start)
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
            item = PlannedSeries(request, request.validate(limits=limits))
        except WizIQError as error:
            invalid[key] = wiziq_error_entry(error)
            continue
        instants = [scheduled.utc_start for scheduled in item.preview]
        alike = identities.setdefault(item.identity.meeting, [])
        earlier_key = next((k for k in alike if item.identity.same_series(planned[k].identity, instants)), None)
        if earlier_key is not None:
            message = f"describes the same series as key {earlier_key!r} (same title, presenter and start)"
            invalid[key] = error_entry(None, message)
            continue
        alike.append(key)
        planned[key] = item
    return planned, invalid


def provision_all(
    maker: SeriesMaker,
    planned: Mapping[str, PlannedSeries],
    earlier: Mapping[str, int],
    *,
    max_concurrency: int,
    look_first: bool,
    on_outcome: Callable[[SeriesOutcome], None],
    on_tick: Callable[[], float] | None = None,
    stopper: Stopper | None = None,
) -> None:
    """Every planned key's series: recorded ``earlier``, found on WizIQ, or created now, each once.

    ``look_first`` scans the account before creating anything (a retry: an earlier try may have created
    series whose answers were lost). Creates whose answers were lost, or that met 1032, are settled at the
    end with one more scan. ``on_outcome`` is called in the calling thread as each key is done (record it
    there); ``on_tick`` is called at least as often as the seconds it returns. Once ``stopper`` is set, the keys
    not yet started end with :class:`StopRequested`.
    """
    index = maker.index() if look_first and len(earlier) < len(planned) else None
    stopper = stopper or Stopper()

    def one(key: str) -> SeriesOutcome:
        item = planned[key]
        if key in earlier:
            return SeriesOutcome(key, earlier[key], "earlier")
        if index is not None and (found := index.find(item.identity)) is not None:
            return SeriesOutcome(key, found, "adopted")
        try:
            with stopper.call():
                series = maker.create(item.request)
        except StopRequested as stopped:
            return SeriesOutcome(key, error=stopped)
        except WizIQError as error:
            return SeriesOutcome(key, error=error, unsettled=may_have_been_created(error))
        return SeriesOutcome(key, series.class_master_id, "created", series)

    unsettled: list[SeriesOutcome] = []

    def take(outcome: SeriesOutcome) -> None:
        if outcome.unsettled:
            unsettled.append(outcome)
        else:
            on_outcome(outcome)

    run_pool(planned, one, take, max_concurrency=max_concurrency, on_tick=on_tick)
    if unsettled and stopper.is_set():  # a stopped run does not look them up: its next try does, first
        for outcome in unsettled:
            on_outcome(SeriesOutcome(outcome.key, error=outcome.error))
    elif unsettled:
        log.info("Looking up %s whose create answer was lost or met 1032", counted(len(unsettled), "series", "series"))
        try:
            found = maker.settle(planned[outcome.key].identity for outcome in unsettled)
        except WizIQError as error:
            log.warning("Could not look the series up (%s): they count as failed", error)
            found = {}
        for outcome in unsettled:
            master = found.get(planned[outcome.key].identity)
            if master is None:
                on_outcome(SeriesOutcome(outcome.key, error=outcome.error))
            else:
                on_outcome(SeriesOutcome(outcome.key, master, "adopted"))


def run_pool(
    items: Iterable[T],
    work: Callable[[T], R],
    take: Callable[[R], None],
    *,
    max_concurrency: int,
    on_tick: Callable[[], float] | None = None,
) -> None:
    """Run ``work`` on every item from ``max_concurrency`` threads; ``take`` each result in this thread.

    If this thread is interrupted, the calls in flight finish and their results are still taken, so a
    stopped task neither loses nor repeats what they did.
    """
    pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="wiziq")
    pending: set[Future[R]] = {pool.submit(work, item) for item in items}
    try:
        timeout = on_tick() if on_tick is not None else None
        while pending:
            done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                take(future.result())
            if on_tick is not None:
                timeout = on_tick()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            if future.done() and not future.cancelled() and future.exception() is None:
                take(future.result())


# Result entries (JSON, for XCom and logs) ----------------------------------------------------------------


def error_entry(code: int | None, message: str, *, transient: bool = False) -> dict[str, Any]:
    return {"code": code, "message": message, "transient": transient}


def wiziq_error_entry(error: WizIQError) -> dict[str, Any]:
    """A WizIQ error as a JSON result entry: WizIQ's code (None if it gave none) and message, never a secret.

    A check the client made before sending is marked ``"sent": False``: its code is the one WizIQ would answer.
    """
    if isinstance(error, WizIQValidationError):
        return {**error_entry(error.code, error.message), "sent": False}
    if isinstance(error, WizIQAPIError):
        return error_entry(error.code, error.message, transient=error.transient)
    return error_entry(None, str(error), transient=error.transient)


def describe(error: Mapping[str, Any]) -> str:
    code = error.get("code")
    if code is None:
        label = ""
    elif error.get("sent") is False:
        label = NOT_SENT.format(code=code)
    else:
        label = f"WizIQ error {code}: "
    return f"{label}{error.get('message')}{' (transient)' if error.get('transient') else ''}"


__all__ = [
    "Made",
    "PlannedSeries",
    "SeriesMaker",
    "SeriesOutcome",
    "StopRequested",
    "Stopper",
    "may_have_been_created",
    "plan_series",
    "provision_all",
    "run_pool",
]
