"""``WizIQClassStatusSensor``: wait until a WizIQ class is upcoming, live, completed, expired or cancelled."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
)

from airflow_provider_wiziq.triggers.poller import DEFAULT_MAX_CONSECUTIVE_ERRORS, backoff

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_wiziq.api.status import ClassStatus
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook
    from airflow_provider_wiziq.triggers.poller import Verdict, Watch

#: Task state store key keeping the count of transient errors in a row across reschedules.
ERRORS_KEY = "wiziq_class_status_errors"
#: Extra time a deferral may take past the trigger's own end time before Airflow steps in.
DEFERRAL_GRACE = timedelta(minutes=5)


class WizIQWaitFailed(AirflowFailException):
    """The wait cannot succeed (unknown class, permanent WizIQ error): fails without retries, even with
    ``soft_fail``."""

    soft_fail_exempt = True


class WizIQWaitErrors(AirflowException):
    """WizIQ kept failing while the sensor waited: fails the try (retries apply), even with ``soft_fail``."""

    soft_fail_exempt = True


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

    Works in ``poke``, ``reschedule`` and deferrable mode. Returns (XCom ``return_value``) the class's record:
    the ``get_data`` status columns with ``status`` in the five-state model. A class that reaches a final
    status that is not a target fails the task at once, without retries (``soft_fail`` skips instead); so
    does a class id WizIQ does not know (``soft_fail`` does not apply).
    """

    template_fields: Sequence[str] = ("class_id", "target_status")
    ui_color = "#e6f2ff"
    # Per-execution state, never serialized; class defaults cover an instance not built by __init__.
    _watch: Watch | None = None
    _hook: WizIQHook | None = None

    def __init__(
        self,
        *,
        class_id: Any,
        target_status: str | Sequence[str] = "completed",
        wiziq_conn_id: str = "wiziq_default",
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.class_id = class_id
        self.target_status = target_status
        self.wiziq_conn_id = wiziq_conn_id
        self.deferrable = deferrable
        if isinstance(max_consecutive_errors, bool) or not isinstance(max_consecutive_errors, int):
            raise TypeError("max_consecutive_errors must be a whole number")
        if max_consecutive_errors < 1:
            raise ValueError("max_consecutive_errors must be at least 1")
        self.max_consecutive_errors = max_consecutive_errors
        if not _templated(target_status):
            self._targets()  # a typo fails when the DAG is parsed, not when the task runs
        self._watch = None
        self._hook = None

    # Execution ---------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        with self._exempt_from_soft_fail():
            try:
                if self.deferrable:
                    return self._check_then_defer(context)
                self._watch = self._new_watch(errors=self._stored_errors(context))
                return super().execute(context)
            finally:
                self._close_hook()

    def poke(self, context: Context) -> PokeReturnValue:
        watch = self._watch or self._new_watch()
        errors_before = watch.errors
        verdict = self._check(watch)
        if watch.errors != errors_before:
            self._store_errors(context, watch.errors)
        if verdict.waiting:
            if verdict.errors:
                self.log.warning("%s", verdict.message)
            else:
                self.log.info("%s", verdict.message)
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._finish(verdict))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger's event: the record on success, else the matching failure."""
        from airflow_provider_wiziq.triggers.poller import Verdict

        if event.get("status") == "timeout":
            raise AirflowSensorTimeout(event.get("message", "Timed out waiting for the WizIQ class"))
        if event.get("status") not in ("success", "failure"):
            raise WizIQWaitFailed(f"Unexpected event from the WizIQ trigger: {event.get('status')!r}")
        return self._finish(Verdict.from_event(event))

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        with self._exempt_from_soft_fail():
            return super().resume_execution(next_method, next_kwargs, context)

    def _check_then_defer(self, context: Context) -> dict[str, Any]:
        from airflow_provider_wiziq.triggers.wiziq import WizIQClassStatusTrigger

        watch = self._new_watch()
        verdict = self._check(watch)
        if not verdict.waiting:
            return self._finish(verdict)
        self.log.info("%s; deferring to the triggerer", verdict.message)
        self.defer(
            trigger=WizIQClassStatusTrigger(
                class_id=watch.class_id,
                target_statuses=sorted(status.value for status in watch.targets),
                wiziq_conn_id=self.wiziq_conn_id,
                poll_interval=max(self.poke_interval, 0.001),
                end_time=time.time() + self.timeout,
                max_consecutive_errors=self.max_consecutive_errors,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def _check(self, watch: Watch) -> Verdict:
        """Poll the class once (the status columns only, as the trigger's poller does) and judge it."""
        from airflow_provider_wiziq.api.errors import WizIQError
        from airflow_provider_wiziq.api.status import STATUS_COLUMNS
        from airflow_provider_wiziq.triggers.poller import pick

        polled: Any
        try:
            records = self._get_hook().get_data(class_id=watch.class_id, columns=STATUS_COLUMNS)
        except WizIQError as error:
            polled = error
        else:
            polled = pick(records, watch.class_id)
        return watch.judge(polled)

    def _finish(self, verdict: Verdict) -> dict[str, Any]:
        """The record when the class reached a target; otherwise the exception its verdict calls for."""
        from airflow_provider_wiziq.triggers.poller import Outcome

        if verdict.outcome is Outcome.SUCCESS and verdict.record is not None:
            self.log.info("%s", verdict.message)
            return verdict.record
        if verdict.outcome is Outcome.WRONG_STATUS:
            if self.soft_fail:
                raise AirflowSkipException(f"{verdict.message} (soft_fail: skipped)")
            raise AirflowFailException(verdict.message)
        if verdict.outcome is Outcome.ERROR and verdict.retryable:
            raise WizIQWaitErrors(verdict.message)
        raise WizIQWaitFailed(verdict.message)

    # Helpers -----------------------------------------------------------------------------------------------

    def _targets(self) -> frozenset[ClassStatus]:
        from airflow_provider_wiziq.api.status import ClassStatus

        return ClassStatus.parse_many(self.target_status)

    def _new_watch(self, errors: int = 0) -> Watch:
        """The wait's judge, from the rendered ``class_id`` and ``target_status``; bad values fail the task."""
        from airflow_provider_wiziq.triggers.poller import Watch, parse_class_id

        try:
            class_id = parse_class_id(self.class_id)
            targets = self._targets()
        except ValueError as error:
            raise WizIQWaitFailed(str(error)) from None
        return Watch(class_id, targets, max_consecutive_errors=self.max_consecutive_errors, errors=errors)

    def _get_hook(self) -> WizIQHook:
        if self._hook is None:
            from airflow_provider_wiziq.hooks.wiziq import WizIQHook

            self._hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        return self._hook

    def _close_hook(self) -> None:
        if self._hook is not None:
            self._hook.close()
            self._hook = None

    def _stored_errors(self, context: Context) -> int:
        """Transient errors in a row so far in this try: kept across reschedules in the task state store."""
        store = context.get("task_state_store") if self.reschedule else None
        if store is None:
            return 0
        stored = store.get(ERRORS_KEY)
        if isinstance(stored, dict) and stored.get("try_number") == context["ti"].try_number:
            return int(stored.get("errors", 0))
        return 0

    def _store_errors(self, context: Context, errors: int) -> None:
        store = context.get("task_state_store") if self.reschedule else None
        if store is not None:
            store.set(ERRORS_KEY, {"try_number": context["ti"].try_number, "errors": errors})

    def _get_next_poke_interval(self, started_at: Any, run_duration: Any, poke_count: int) -> float:
        """Airflow's interval, doubled for each WizIQ error in a row (up to ``MAX_BACKOFF`` or the interval)."""
        interval = super()._get_next_poke_interval(started_at, run_duration, poke_count)
        errors = self._watch.errors if self._watch is not None else 0
        if not errors:
            return interval
        return min(backoff(interval, errors), max(self.timeout - run_duration(), 0.0))

    @contextmanager
    def _exempt_from_soft_fail(self) -> Iterator[None]:
        """Undo Airflow's soft_fail skip for failures soft_fail must not hide (unknown class, WizIQ errors)."""
        try:
            yield
        except AirflowSkipException as skip:
            cause = skip.__cause__
            exempt = getattr(cause, "soft_fail_exempt", False) or isinstance(cause, AirflowSkipException)
            if cause is not None and self.soft_fail and exempt:
                raise cause from cause.__cause__
            raise


def _templated(value: Any) -> bool:
    """Whether ``value`` still holds Jinja markup (checked again once rendered)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_templated(item) for item in value)
    return False
