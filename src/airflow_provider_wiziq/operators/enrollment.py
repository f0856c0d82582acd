"""Enrolling a roster (``add_attendees``) and collecting what happened (``get_attendance_report``)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_wiziq._compat import AirflowException, AirflowFailException, BaseOperator
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.wait import DEFAULT_MAX_CONSECUTIVE_ERRORS, check_max_consecutive_errors
from airflow_provider_wiziq.failures import wiziq_failures
from airflow_provider_wiziq.operators.templating import KeepsLongFieldsInBrief, Noun

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_wiziq.api.protocol.errors import WizIQError
    from airflow_provider_wiziq.api.protocol.responses import AttendanceReport
    from airflow_provider_wiziq.api.rules.wait import ReportWait, Verdict
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

log = logging.getLogger(__name__)

#: Extra time a deferral may take past the trigger's own end time before Airflow steps in.
DEFERRAL_GRACE = timedelta(minutes=5)


class WizIQAddAttendeesOperator(KeepsLongFieldsInBrief, BaseOperator):
    """Enroll attendees in a class and return each one's join URL.

    :param class_id: the class (templated; e.g. ``{{ ti.xcom_pull('create')['class_ids'][0] }}``).
    :param attendees: the roster (templated): a list of mappings with ``attendee_id``, ``screen_name`` and
        optionally ``language_culture_name``, or the same as a JSON string.
    :param wiziq_conn_id: the ``wiziq`` connection.

    Returns ``[{"attendee_id": ..., "attendee_url": ...}, ...]``. Enrolling the same ``attendee_id`` again is
    safe, so a retried task does not enroll anyone twice.
    """

    template_fields: Sequence[str] = ("class_id", "attendees", "wiziq_conn_id")
    template_fields_in_brief: ClassVar[dict[str, Noun]] = {"attendees": Noun("attendee", "attendees", "attendee_id")}

    def __init__(
        self,
        *,
        class_id: int | str,
        attendees: str | Sequence[Mapping[str, Any]],
        wiziq_conn_id: str = "wiziq_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.class_id = class_id
        self.attendees = attendees
        self.wiziq_conn_id = wiziq_conn_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        roster = _roster(self.whole("attendees"))
        with wiziq_failures():
            result = WizIQHook(wiziq_conn_id=self.wiziq_conn_id).add_attendees(self.class_id, roster)
        self.log.info("Enrolled %s in class %s", counted(len(result.attendees), "attendee"), self.class_id)
        return [attendee.to_dict() for attendee in result.attendees]


class WizIQAttendanceReportOperator(BaseOperator):
    """Fetch a held class's attendance report, waiting out WizIQ's "available soon" (1029) within a bound.

    :param class_id: the class (templated).
    :param report_timeout: seconds to keep asking while WizIQ answers 1029; then the try fails (and Airflow
        may retry it).
    :param poll_interval: seconds between two asks (longer after WizIQ errors, by the one wait backoff).
    :param max_consecutive_errors: transient WizIQ errors in a row tolerated while waiting.
    :param deferrable: wait in the triggerer, holding no worker slot (the default); ``False`` waits on the
        worker, still within ``report_timeout``.
    :param wiziq_conn_id: the ``wiziq`` connection.

    Asks once on the worker; a report that is ready is returned at once. Returns one row per attendee (and the
    presenter): ``attendee_id`` or ``presenter_id``, ``screen_name``, ``entry_time``, ``exit_time``,
    ``attended_minutes``. A class not held yet (1026), expired (1027) or cancelled (1028) fails the task
    without retries.
    """

    template_fields: Sequence[str] = ("class_id", "wiziq_conn_id")

    def __init__(
        self,
        *,
        class_id: int | str,
        report_timeout: float = 1800.0,
        poll_interval: float = 60.0,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        deferrable: bool = True,
        wiziq_conn_id: str = "wiziq_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not poll_interval > 0:
            raise ValueError("poll_interval must be a positive number of seconds")
        self.class_id = class_id
        self.report_timeout = report_timeout
        self.poll_interval = poll_interval
        self.max_consecutive_errors = check_max_consecutive_errors(max_consecutive_errors)
        self.deferrable = deferrable
        self.wiziq_conn_id = wiziq_conn_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from airflow_provider_wiziq.api.protocol.retry import backoff
        from airflow_provider_wiziq.api.rules.wait import ReportWait, parse_class_id
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        try:
            class_id = parse_class_id(self.class_id)
        except ValueError as error:
            raise AirflowFailException(str(error)) from None
        wait = ReportWait(
            class_id, max_consecutive_errors=self.max_consecutive_errors, deadline=time.time() + self.report_timeout
        )
        hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        try:
            verdict = wait.judge(_ask(hook, class_id), now=time.time())
            if verdict.waiting and self.deferrable:
                self._defer(wait)
            while verdict.waiting:  # not deferrable: a bounded wait on the worker
                self.log.log(logging.WARNING if verdict.errors else logging.INFO, "%s", verdict.message)
                remaining = (wait.deadline or 0.0) - time.time()
                time.sleep(max(0.0, min(backoff(self.poll_interval, wait.errors), remaining)))
                verdict = wait.judge(_ask(hook, class_id), now=time.time())
        finally:
            hook.close()
        return _report(verdict)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Resume after the trigger's event: the rows, or the failure its verdict calls for."""
        from airflow_provider_wiziq.api.rules.wait import Verdict

        try:
            verdict = Verdict.from_event(event)
        except ValueError as error:
            raise AirflowFailException(f"Unexpected event from the WizIQ trigger: {error}") from None
        return _report(verdict)

    def _defer(self, wait: ReportWait) -> None:
        from airflow_provider_wiziq.triggers.wiziq import WizIQAttendanceReportTrigger

        self.log.info("The attendance report of class %s is not ready; deferring to the triggerer", wait.class_id)
        self.defer(
            trigger=WizIQAttendanceReportTrigger(
                class_id=wait.class_id,
                wiziq_conn_id=self.wiziq_conn_id,
                poll_interval=self.poll_interval,
                end_time=wait.deadline or time.time(),
                max_consecutive_errors=self.max_consecutive_errors,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.report_timeout) + DEFERRAL_GRACE,
        )


def _ask(hook: WizIQHook, class_id: int) -> AttendanceReport | WizIQError:
    """One ``get_attendance_report``: the report, or the WizIQ error it raised."""
    from airflow_provider_wiziq.api.protocol.errors import WizIQError

    try:
        return hook.get_attendance_report(class_id)
    except WizIQError as error:
        return error


def _report(verdict: Verdict) -> list[dict[str, Any]]:
    """The report's rows, or the task failure the verdict calls for: a permanent error fails without retries,
    a run of transient errors or the timeout fails the try (retries apply)."""
    from airflow_provider_wiziq.api.rules.wait import Outcome

    if verdict.outcome is Outcome.SUCCESS and isinstance(verdict.record, list):
        log.info("%s", verdict.message)
        return verdict.record
    if verdict.outcome is Outcome.TIMEOUT or verdict.retryable:
        raise AirflowException(f"{verdict.message} (the task may be retried)")
    raise AirflowFailException(verdict.message)


def _roster(attendees: Any) -> list[Mapping[str, Any]]:
    """The roster as a list of mappings, from a list or from its JSON rendering."""
    if isinstance(attendees, str):
        try:
            attendees = json.loads(attendees)
        except ValueError:
            raise AirflowException("attendees: not a list of attendees nor its JSON text") from None
    if isinstance(attendees, Mapping) or not isinstance(attendees, Sequence):
        raise AirflowException(f"attendees: expected a list of attendees, got {type(attendees).__name__}")
    for position, attendee in enumerate(attendees):
        if not isinstance(attendee, Mapping):
            raise AirflowException(f"attendees[{position}]: expected a mapping, got {type(attendee).__name__}")
    return list(attendees)


__all__ = [
    "WizIQAddAttendeesOperator",
    "WizIQAttendanceReportOperator",
]
