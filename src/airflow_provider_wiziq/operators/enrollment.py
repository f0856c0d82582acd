"""Enrolling a roster (``add_attendees``) and collecting what happened (``get_attendance_report``)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from airflow_provider_wiziq.failures import wiziq_failures

if TYPE_CHECKING:
    from airflow.sdk import Context

class WizIQAddAttendeesOperator(BaseOperator):
    """Enroll attendees in a class and return each one's join URL.

    :param class_id: the class (templated; e.g. ``{{ ti.xcom_pull('create')['class_ids'][0] }}``).
    :param attendees: the roster (templated): a list of mappings with ``attendee_id``, ``screen_name`` and
        optionally ``language_culture_name``, or the same as a JSON string.
    :param wiziq_conn_id: the ``wiziq`` connection.

    Returns ``[{"attendee_id": ..., "attendee_url": ...}, ...]``. Enrolling the same ``attendee_id`` again is
    safe, so a retried task does not enroll anyone twice.
    """

    template_fields: Sequence[str] = ("class_id", "attendees")

    def __init__(
        self, *, class_id: Any, attendees: Any, wiziq_conn_id: str = "wiziq_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.class_id = class_id
        self.attendees = attendees
        self.wiziq_conn_id = wiziq_conn_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        roster = _roster(self.attendees)
        with wiziq_failures():
            result = WizIQHook(wiziq_conn_id=self.wiziq_conn_id).add_attendees(self.class_id, roster)
        self.log.info("Enrolled %d attendees in class %s", len(result.attendees), self.class_id)
        return [attendee.to_dict() for attendee in result.attendees]


class WizIQAttendanceReportOperator(BaseOperator):
    """Fetch a held class's attendance report, waiting out WizIQ's "available soon" (1029) within a bound.

    :param class_id: the class (templated).
    :param report_timeout: seconds to keep asking while WizIQ answers 1029; then the try fails (and Airflow
        may retry it).
    :param poll_interval: seconds between two asks.
    :param wiziq_conn_id: the ``wiziq`` connection.

    Returns one row per attendee (and the presenter): ``attendee_id`` or ``presenter_id``, ``screen_name``,
    ``entry_time``, ``exit_time``, ``attended_minutes``. A class not held yet (1026), expired (1027) or
    cancelled (1028) fails the task without retries.
    """

    template_fields: Sequence[str] = ("class_id",)

    def __init__(
        self,
        *,
        class_id: Any,
        report_timeout: float = 1800.0,
        poll_interval: float = 60.0,
        wiziq_conn_id: str = "wiziq_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.class_id = class_id
        self.report_timeout = report_timeout
        self.poll_interval = poll_interval
        self.wiziq_conn_id = wiziq_conn_id

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from airflow_provider_wiziq.api.errors import WizIQAPIError, is_report_pending
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        hook = WizIQHook(wiziq_conn_id=self.wiziq_conn_id)
        deadline = time.monotonic() + self.report_timeout
        while True:
            with wiziq_failures():
                try:
                    report = hook.get_attendance_report(self.class_id)
                    break
                except WizIQAPIError as error:
                    if not is_report_pending(error) or time.monotonic() + self.poll_interval > deadline:
                        raise
            self.log.info(
                "Attendance report of class %s is not ready; asking again in %s s", self.class_id, self.poll_interval
            )
            time.sleep(self.poll_interval)
        self.log.info("Attendance report of class %s: %d rows", self.class_id, len(report.rows))
        return [row.to_dict() for row in report.rows]


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
