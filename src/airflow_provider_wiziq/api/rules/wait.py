"""The verdict on waiting for WizIQ: after each poll, is the wait done, can it never be, or is it worth going on.

:class:`ClassWait` judges a class's ``get_data`` record (for the status sensor and its trigger alike) and
:class:`ReportWait` judges a ``get_attendance_report`` answer (for the attendance operator and its trigger).
Both count transient errors in a row and know their deadline; callers turn a :class:`Verdict` into a log line,
a trigger event or a task failure, and decide nothing themselves. No Airflow here.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from airflow_provider_wiziq.api.protocol.errors import WizIQError, is_report_pending, is_unknown_class

if TYPE_CHECKING:
    from airflow_provider_wiziq.api.protocol.responses import AttendanceReport, ClassRecord
    from airflow_provider_wiziq.api.protocol.status import ClassStatus

#: Transient errors in a row a wait tolerates before it fails.
DEFAULT_MAX_CONSECUTIVE_ERRORS = 5

#: What one status poll saw for one class: its record, an error, or None when WizIQ has no record of it.
Polled: TypeAlias = "ClassRecord | WizIQError | None"


class Outcome(str, enum.Enum):
    """What a wait does after one poll."""

    WAITING = "waiting"  # not there yet (or a transient error within the allowance): poll again
    SUCCESS = "success"  # the class reached a target status; the report is ready
    WRONG_STATUS = "wrong_status"  # a final status that is not a target: it never will be (soft_fail may skip)
    UNKNOWN_CLASS = "unknown_class"  # WizIQ has no such class
    ERROR = "error"  # a permanent WizIQ error, or too many transient ones in a row
    TIMEOUT = "timeout"  # the deadline passed while still waiting


@dataclass(frozen=True)
class Verdict:
    """The decision after one poll, with a message fit for a log line or a task failure (no secrets)."""

    outcome: Outcome
    message: str
    class_id: int
    record: Any = None  # JSON: the class's record (``status`` in the five-state model), or the report's rows
    status: str | None = None  # the five-state status, when the poll read one (or the last one read)
    retryable: bool = False  # ERROR only: the task may be retried (transient errors ran out)
    errors: int = 0  # consecutive transient errors so far
    checked_at: float | None = None  # when WizIQ's answer was read (Unix seconds), set by whoever asked

    @property
    def waiting(self) -> bool:
        return self.outcome is Outcome.WAITING

    def event(self) -> dict[str, Any]:
        """The trigger event payload for a final verdict: JSON only."""
        status = {Outcome.SUCCESS: "success", Outcome.TIMEOUT: "timeout"}.get(self.outcome, "failure")
        return {
            "status": status,
            "reason": self.outcome.value,
            "class_id": self.class_id,
            "class_status": self.status,
            "record": self.record,
            "retryable": self.retryable,
            "message": self.message,
            "checked_at": self.checked_at,
        }

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Verdict:
        """The verdict a trigger sent; an event this module did not make raises ``ValueError``."""
        reason = event.get("reason") or event.get("status")
        try:
            return cls(
                outcome=Outcome(reason),
                message=str(event.get("message", "")),
                class_id=int(event["class_id"]),
                record=event.get("record"),
                status=event.get("class_status"),
                retryable=bool(event.get("retryable", False)),
                checked_at=float(event["checked_at"]) if event.get("checked_at") is not None else None,
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"not a WizIQ wait event: status {event.get('status')!r}") from None


def check_max_consecutive_errors(value: object) -> int:
    """``max_consecutive_errors`` as a wait takes it: a whole number, at least 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("max_consecutive_errors must be a whole number")
    if value < 1:
        raise ValueError("max_consecutive_errors must be at least 1")
    return value


def parse_class_id(value: object) -> int:
    """A class id as WizIQ takes it: a positive whole number, given as an int or its digits."""
    text = "" if isinstance(value, bool) else str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) == 0:
        raise ValueError(f"class_id must be a WizIQ class id (a positive whole number), not {value!r}")
    return int(text)


def pick(records: Iterable[ClassRecord], class_id: int) -> ClassRecord | None:
    """The record of ``class_id`` in a ``get_data`` answer, or None when WizIQ left it out."""
    return next((record for record in records if record.class_id == class_id), None)


class _Wait:
    """What every wait shares: the class, the transient errors in a row, and the deadline (Unix seconds)."""

    def __init__(
        self,
        class_id: int,
        *,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        errors: int = 0,
        deadline: float | None = None,
    ) -> None:
        self.class_id = class_id
        self.max_consecutive_errors = check_max_consecutive_errors(max_consecutive_errors)
        self.errors = errors
        self.deadline = deadline
        self.last_status: ClassStatus | None = None  # the last status a poll read, for news and timeouts
        self._quiet: ClassStatus | None = None  # last_status while it means waiting: a poll reading it is no news

    def timed_out(self, now: float | None = None) -> Verdict | None:
        """The timeout verdict once the deadline has passed, else None."""
        if self.deadline is None or (time.time() if now is None else now) < self.deadline:
            return None
        return self.expire()

    def expire(self) -> Verdict:
        """The timeout verdict, naming the last status seen: for a caller whose own timer says time is up."""
        last = self.last_status.value if self.last_status else None
        seen = f"; it was last seen {last}" if last else ""
        message = f"Timed out waiting for {self._awaited()}{seen}"
        return self._verdict(Outcome.TIMEOUT, message, status=last)

    def _awaited(self) -> str:
        """What the wait waits for, for its timeout message."""
        return f"WizIQ class {self.class_id}"

    def _waiting(self, verdict: Verdict, now: float | None) -> Verdict:
        """``verdict`` as it stands, or the timeout when a still-waiting verdict comes past the deadline."""
        if verdict.waiting and now is not None:
            return self.timed_out(now) or verdict
        return verdict

    def _transient(self, error: WizIQError) -> Verdict:
        """One more transient error in a row: keep waiting, or fail once the allowance is used up."""
        self.errors += 1
        if self.errors >= self.max_consecutive_errors:
            message = (
                f"Waiting for WizIQ class {self.class_id} failed after {self.errors} WizIQ errors in a row; "
                f"the last: {error}"
            )
            return self._verdict(Outcome.ERROR, message, retryable=True)
        message = (
            f"WizIQ error {self.errors} of {self.max_consecutive_errors} allowed in a row while waiting for "
            f"class {self.class_id}: {error}; polling again"
        )
        return self._verdict(Outcome.WAITING, message)

    def _permanent(self, error: WizIQError) -> Verdict:
        return self._verdict(Outcome.ERROR, f"Waiting for WizIQ class {self.class_id} failed: {error}")

    def _verdict(self, outcome: Outcome, message: str, **details: Any) -> Verdict:
        return Verdict(outcome, message, self.class_id, errors=self.errors, **details)


class ClassWait(_Wait):
    """One wait for class ``class_id`` to reach one of ``targets``: the one place that judges a status poll.

    The sensor's pokes, its check before deferring and the trigger all ask :meth:`judge`; statuses are read
    with :func:`~airflow_provider_wiziq.api.protocol.status.class_status`.
    """

    def __init__(self, class_id: int, targets: Iterable[ClassStatus], **kwargs: Any) -> None:
        from airflow_provider_wiziq.api.protocol.status import class_status

        super().__init__(class_id, **kwargs)
        self.targets = frozenset(targets)
        self._read_status = class_status  # imported once per wait (with the XML answers), not once per poll

    def _awaited(self) -> str:
        return f"WizIQ class {self.class_id} to be {self.describe_targets()}"

    def describe_targets(self) -> str:
        return " or ".join(sorted(status.value for status in self.targets))

    def outcome(self, status: ClassStatus) -> Outcome:
        """What a class in ``status`` means for this wait: done, never, or keep waiting."""
        if status in self.targets:
            return Outcome.SUCCESS
        return Outcome.WRONG_STATUS if status.is_terminal else Outcome.WAITING

    def news(self, polled: Polled, now: float | None = None) -> Verdict | None:
        """The verdict on a poll, or None when it changes nothing: still waiting in the status the last poll
        read, with no error in between. A shared poller asks this for every waiter every round, so a quiet
        poll costs one status read and wakes no one."""
        if self.errors == 0 and polled is not None and not isinstance(polled, WizIQError):
            try:
                status = self._read_status(polled)
            except ValueError:
                return self.judge(polled, now)
            if status is self._quiet:  # the status the last poll read, still one to wait in
                return self.timed_out(now) if now is not None else None
        return self.judge(polled, now)

    def judge(self, polled: Polled, now: float | None = None) -> Verdict:
        """The verdict on one poll: a record, an error, or None for a class WizIQ has no record of. Given
        ``now`` (Unix seconds), a poll that is still waiting past the deadline is a timeout."""
        return self._waiting(self._judge(polled), now)

    def _judge(self, polled: Polled) -> Verdict:
        if isinstance(polled, WizIQError):
            if is_unknown_class(polled):
                self.errors = 0
                return self._unknown(str(polled))
            return self._transient(polled) if polled.transient else self._permanent(polled)
        self.errors = 0
        if polled is None:
            return self._unknown("get_data returned no record for it")
        try:
            status = self._read_status(polled)
        except ValueError as error:
            return self._verdict(Outcome.ERROR, f"Cannot read class {self.class_id}'s status: {error}")
        self.last_status = status
        record = {**polled.fields, "status": status.value}
        outcome = self.outcome(status)
        self._quiet = status if outcome is Outcome.WAITING else None
        if outcome is Outcome.SUCCESS:
            message = f"WizIQ class {self.class_id} is {status.value}"
        elif outcome is Outcome.WRONG_STATUS:
            message = (
                f"WizIQ class {self.class_id} is {status.value}, a final status, so it will never be "
                f"{self.describe_targets()}"
            )
        else:
            message = f"WizIQ class {self.class_id} is {status.value}; waiting for {self.describe_targets()}"
        return self._verdict(outcome, message, record=record, status=status.value)

    def _unknown(self, detail: str) -> Verdict:
        return self._verdict(Outcome.UNKNOWN_CLASS, f"WizIQ does not know class {self.class_id} ({detail})")


class ReportWait(_Wait):
    """One wait for class ``class_id``'s attendance report: ready, "available soon" (1029), or an error.

    A class not held yet (1026), expired (1027) or cancelled (1028) is a permanent error: the wait fails.
    """

    def _awaited(self) -> str:
        return f"the attendance report of WizIQ class {self.class_id}"

    def judge(self, answered: AttendanceReport | WizIQError, now: float | None = None) -> Verdict:
        """The verdict on one ``get_attendance_report`` answer (the report, or the error it raised)."""
        return self._waiting(self._judge(answered), now)

    def _judge(self, answered: AttendanceReport | WizIQError) -> Verdict:
        if is_report_pending(answered):
            self.errors = 0
            message = f"The attendance report of class {self.class_id} is not ready yet; asking again"
            return self._verdict(Outcome.WAITING, message)
        if isinstance(answered, WizIQError):
            return self._transient(answered) if answered.transient else self._permanent(answered)
        self.errors = 0
        rows = [row.to_dict() for row in answered.rows]
        message = f"Attendance report of class {self.class_id}: {len(rows)} rows"
        return self._verdict(Outcome.SUCCESS, message, record=rows)


__all__ = [
    "DEFAULT_MAX_CONSECUTIVE_ERRORS",
    "ClassWait",
    "Outcome",
    "ReportWait",
    "Verdict",
    "check_max_consecutive_errors",
    "parse_class_id",
    "pick",
]
