"""``WizIQClassStatusSensor``: wait until a WizIQ class is upcoming, live, completed, expired or cancelled.

The sensor is poke / defer / ``execute_complete`` over one verdict (:class:`~airflow_provider_wiziq.api.rules.wait.
ClassWait`), which its trigger asks too; this module only turns verdicts into task results.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_wiziq._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)
from airflow_provider_wiziq.api.rules.wait import DEFAULT_MAX_CONSECUTIVE_ERRORS, check_max_consecutive_errors

if TYPE_CHECKING:
    from airflow.sdk import Asset, AssetAlias, Context

    from airflow_provider_wiziq.api.protocol.status import ClassStatus
    from airflow_provider_wiziq.api.rules.wait import ClassWait, Verdict
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

#: Task state store key keeping the count of transient errors in a row across reschedules.
_ERRORS_KEY = "wiziq_class_status_errors"
#: Extra time a deferral may take past the trigger's own end time before Airflow steps in.
DEFERRAL_GRACE = timedelta(minutes=5)


def class_events_asset(wiziq_conn_id: str = "wiziq_default") -> Asset:
    """The asset a connection's class events are emitted on (``emit_asset_event``): ``wiziq://classes/<conn_id>``.

    One asset per connection, not per class (a term would make thousands of asset rows); each event's extra
    names its class: ``{"class_id", "status", "checked_at"}``. Schedule attendance or recording DAGs on it.
    """
    from airflow.sdk import Asset

    return Asset(name=f"wiziq-classes-{wiziq_conn_id}", uri=f"wiziq://classes/{wiziq_conn_id}")


def class_events_alias(wiziq_conn_id: str = "wiziq_default") -> AssetAlias:
    """The alias a sensor emits its class event through: an event only when it says so (a verified final
    status), never on every success as a plain outlet would."""
    from airflow.sdk import AssetAlias

    return AssetAlias(name=f"wiziq-classes-{wiziq_conn_id}-events")


class WizIQWaitFailed(AirflowFailException):
    """The wait cannot succeed (unknown class, permanent WizIQ error): fails without retries, even with
    ``soft_fail``."""


class WizIQWaitErrors(AirflowException):
    """WizIQ kept failing while the sensor waited: fails the try (retries apply), even with ``soft_fail``."""


class WizIQClassStatusSensor(BaseSensorOperator):
    """Wait until WizIQ class ``class_id`` has one of the ``target_status`` statuses.

    :param class_id: the class id (templated), e.g. ``"{{ ti.xcom_pull('create')['class_ids'][0] }}"``.
    :param target_status: one status or several (templated) of ``upcoming``, ``live``, ``completed``,
        ``expired``, ``cancelled``. Default ``completed``.
    :param wiziq_conn_id: the ``wiziq`` connection.
    :param max_consecutive_errors: transient WizIQ errors (timeouts, 5xx, 429) in a row tolerated while
        waiting; one more fails the try, naming the last error.
    :param deferrable: wait in the triggerer instead of a worker slot (after one check on the worker).
        Defaults to ``[operators] default_deferrable``.
    :param soft_fail: skip instead of failing when the class reaches a final status that is not a target, or
        when the wait times out. An unknown class, a permanent WizIQ error and a run of WizIQ errors still fail.
    :param emit_asset_event: when the wait succeeds on a final status (``completed``, ``expired``,
        ``cancelled``) read from WizIQ, emit an event on the connection's asset ``wiziq://classes/<conn_id>``
        (:func:`class_events_asset`) with extra ``{"class_id", "status", "checked_at"}``, for event-scheduled
        attendance or recording DAGs.

    Works in ``poke``, ``reschedule`` and deferrable mode. Returns (XCom ``return_value``) the class's record:
    the ``get_data`` status columns with ``status`` in the five-state model. A class that reaches a final
    status that is not a target fails the task at once, without retries (``soft_fail`` skips instead); so
    does a class id WizIQ does not know (``soft_fail`` does not apply).
    """

    template_fields: Sequence[str] = ("class_id", "target_status")
    ui_color = "#e6f2ff"
    # Per-execution state, never serialized; the class default covers an instance not built by __init__.
    _wait: ClassWait | None = None

    def __init__(
        self,
        *,
        class_id: Any,
        target_status: str | Sequence[str] = "completed",
        wiziq_conn_id: str = "wiziq_default",
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        soft_fail: bool = False,
        emit_asset_event: bool = False,
        **kwargs: Any,
    ) -> None:
        if soft_fail and kwargs.get("never_fail"):
            raise ValueError("soft_fail and never_fail are mutually exclusive, you can not provide both.")
        self.emit_asset_event = bool(emit_asset_event)
        if self.emit_asset_event:
            kwargs["outlets"] = [*(kwargs.get("outlets") or []), class_events_alias(wiziq_conn_id)]
            # Also an inlet, so that Airflow makes the asset's row when it parses the DAG: an asset first named by
            # an alias's event is made then, and many sensors ending at once race to make it (on Airflow 3.3.2 the
            # losers' tasks fail with a unique-key violation, found by the e2e).
            kwargs["inlets"] = [*(kwargs.get("inlets") or []), class_events_asset(wiziq_conn_id)]
        # soft_fail is applied by this sensor, to the failures it covers (see _result). Airflow's own handling
        # skips every AirflowException, an unknown class included, so it is left off.
        super().__init__(soft_fail=False, **kwargs)
        #: ``soft_fail`` as given: a final status not targeted, or a timeout, skips the task.
        self.soft_fail_skips = bool(soft_fail)
        self.class_id = class_id
        self.target_status = target_status
        self.wiziq_conn_id = wiziq_conn_id
        self.deferrable = deferrable
        self.max_consecutive_errors = check_max_consecutive_errors(max_consecutive_errors)
        if not _templated(target_status):
            self._targets()  # a typo fails when the DAG is parsed, not when the task runs

    @cached_property
    def hook(self) -> WizIQHook:
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        return WizIQHook(wiziq_conn_id=self.wiziq_conn_id)

    # Execution ---------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        """Poke (or reschedule) through Airflow's sensor loop; deferrable: check once, then defer."""
        self._wait = None
        try:
            if not self.deferrable:
                try:
                    return super().execute(context)
                except AirflowSensorTimeout as timeout:
                    if self.soft_fail_skips:
                        raise AirflowSkipException(f"{timeout} (soft_fail: skipped)") from timeout
                    raise
            first = self.poke(context)
            if first.is_done:
                return first.xcom_value
            self._defer()
        finally:
            if "hook" in self.__dict__:
                self.hook.close()

    def poke(self, context: Context) -> PokeReturnValue:
        """Poll the class once (the status columns only, as the trigger's poller does) and act on the verdict."""
        from airflow_provider_wiziq.api.protocol.errors import WizIQError
        from airflow_provider_wiziq.api.protocol.status import STATUS_COLUMNS
        from airflow_provider_wiziq.api.rules.wait import pick

        wait = self._wait = self._wait or self._new_wait(errors=self._stored_errors(context))
        errors_before = wait.errors
        polled: Any
        try:
            polled = pick(self.hook.get_data(class_id=wait.class_id, columns=STATUS_COLUMNS), wait.class_id)
        except WizIQError as error:
            polled = error
        verdict = replace(wait.judge(polled), checked_at=time.time())
        if wait.errors != errors_before:
            self._store_errors(context, wait.errors)
        if verdict.waiting:
            if verdict.errors:
                self.log.warning("%s", verdict.message)
            else:
                self.log.info("%s", verdict.message)
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._result(verdict, context))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger's event: the record on success, else the matching failure."""
        from airflow_provider_wiziq.api.rules.wait import Verdict

        try:
            verdict = Verdict.from_event(event)
        except ValueError as error:
            raise WizIQWaitFailed(f"Unexpected event from the WizIQ trigger: {error}") from None
        return self._result(verdict, context)

    def _defer(self) -> None:
        from airflow_provider_wiziq.triggers.wiziq import WizIQClassStatusTrigger

        wait = self._wait
        assert wait is not None
        self.log.info("Deferring to the triggerer")
        self.defer(
            trigger=WizIQClassStatusTrigger(
                class_id=wait.class_id,
                target_statuses=sorted(status.value for status in wait.targets),
                wiziq_conn_id=self.wiziq_conn_id,
                poll_interval=max(self.poke_interval, 0.001),
                end_time=time.time() + self.timeout,
                max_consecutive_errors=self.max_consecutive_errors,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def _result(self, verdict: Verdict, context: Context) -> dict[str, Any]:
        """The record when the class reached a target; otherwise the exception its verdict calls for. The one
        place that says which failures ``soft_fail`` covers."""
        from airflow_provider_wiziq.api.rules.wait import Outcome

        if verdict.outcome is Outcome.SUCCESS and isinstance(verdict.record, dict):
            self.log.info("%s", verdict.message)
            self._emit(verdict, context)
            return verdict.record
        if verdict.outcome in (Outcome.WRONG_STATUS, Outcome.TIMEOUT) and self.soft_fail_skips:
            raise AirflowSkipException(f"{verdict.message} (soft_fail: skipped)")
        if verdict.outcome is Outcome.WRONG_STATUS:
            raise AirflowFailException(verdict.message)
        if verdict.outcome is Outcome.TIMEOUT:
            raise AirflowSensorTimeout(verdict.message)
        if verdict.outcome is Outcome.ERROR and verdict.retryable:
            raise WizIQWaitErrors(verdict.message)
        raise WizIQWaitFailed(verdict.message)

    def _emit(self, verdict: Verdict, context: Context) -> None:
        """The class event, when asked for and the status WizIQ answered is final (only WizIQ's answer makes one:
        a ping never does)."""
        from airflow_provider_wiziq.api.protocol.status import ClassStatus

        if not self.emit_asset_event or verdict.status is None or not ClassStatus(verdict.status).is_terminal:
            return
        checked = verdict.checked_at if verdict.checked_at is not None else time.time()
        extra: dict[str, Any] = {
            "class_id": verdict.class_id,
            "status": verdict.status,
            "checked_at": datetime.fromtimestamp(checked, timezone.utc).isoformat(),
        }
        context["outlet_events"][class_events_alias(self.wiziq_conn_id)].add(
            class_events_asset(self.wiziq_conn_id), extra=extra
        )
        self.log.info("Class event on %s: %s", class_events_asset(self.wiziq_conn_id).uri, extra)

    # Helpers -----------------------------------------------------------------------------------------------

    def _targets(self) -> frozenset[ClassStatus]:
        from airflow_provider_wiziq.api.protocol.status import ClassStatus

        return ClassStatus.parse_many(self.target_status)

    def _new_wait(self, errors: int = 0) -> ClassWait:
        """The wait's verdict, from the rendered ``class_id`` and ``target_status``; bad values fail the task."""
        from airflow_provider_wiziq.api.rules.wait import ClassWait, parse_class_id

        try:
            class_id = parse_class_id(self.class_id)
            targets = self._targets()
        except ValueError as error:
            raise WizIQWaitFailed(str(error)) from None
        return ClassWait(class_id, targets, max_consecutive_errors=self.max_consecutive_errors, errors=errors)

    def _state_store(self, context: Context) -> Any:
        """The task state store, in reschedule mode (where one try spans several runs) when Airflow has one."""
        return context.get("task_state_store") if self.reschedule and not self.deferrable else None

    def _stored_errors(self, context: Context) -> int:
        """Transient errors in a row so far in this try: kept across reschedules in the task state store."""
        store = self._state_store(context)
        if store is None:
            return 0
        stored = store.get(_ERRORS_KEY)
        if isinstance(stored, dict) and stored.get("try_number") == context["ti"].try_number:
            return int(stored.get("errors", 0))
        return 0

    def _store_errors(self, context: Context, errors: int) -> None:
        store = self._state_store(context)
        if store is not None:
            store.set(_ERRORS_KEY, {"try_number": context["ti"].try_number, "errors": errors})


def _templated(value: Any) -> bool:
    """Whether ``value`` still holds Jinja markup (checked again once rendered)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_templated(item) for item in value)
    return False


__all__ = [
    "WizIQClassStatusSensor",
    "WizIQWaitErrors",
    "WizIQWaitFailed",
    "class_events_alias",
    "class_events_asset",
]
