"""WizIQ's error catalogue and the exceptions the client raises.

Every failure the client can meet is one of four exceptions, all subclasses of :class:`WizIQError`:

* :class:`WizIQAPIError`: WizIQ answered ``<rsp status="fail">`` with an error code;
* :class:`WizIQValidationError`: the same code, found by the client before anything was sent;
* :class:`WizIQResponseError`: the answer was not a WizIQ answer (HTML, empty, truncated, hostile, too big);
* :class:`WizIQTransportError`: no answer at all (refused, reset, timed out) or a bare HTTP error status.

``transient`` on each says whether trying again later may succeed. Whether it is *safe* to try again is a
separate question answered by :mod:`airflow_provider_wiziq.api.retry`.
No exception text ever holds the secret key, a signature or a request body.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorKind(enum.Enum):
    """What an error code says about the request, and so what a task should do with it."""

    VALIDATION = "validation"  # the request itself is wrong: fix the DAG
    AUTH = "auth"  # keys or signature refused: fix the connection
    PLAN_LIMIT = "plan_limit"  # the account's plan does not allow it
    CONFLICT = "conflict"  # clashes with what already exists (1032)
    CLASS_STATE = "class_state"  # the class is in a state that forbids the call
    NOT_FOUND = "not_found"  # no such class or record
    TRANSIENT = "transient"  # the server had a problem: retry later

    @property
    def permanent(self) -> bool:
        return self is not ErrorKind.TRANSIENT


@dataclass(frozen=True)
class ErrorCode:
    """One entry of WizIQ's error catalogue."""

    code: int
    message: str
    kind: ErrorKind
    parameter: str | None = None


def _catalogue(*entries: tuple[int, str, ErrorKind, str | None]) -> dict[int, ErrorCode]:
    return {code: ErrorCode(code, message, kind, parameter) for code, message, kind, parameter in entries}


_V, _A, _P, _C, _S, _N, _T = (
    ErrorKind.VALIDATION,
    ErrorKind.AUTH,
    ErrorKind.PLAN_LIMIT,
    ErrorKind.CONFLICT,
    ErrorKind.CLASS_STATE,
    ErrorKind.NOT_FOUND,
    ErrorKind.TRANSIENT,
)

#: Every code WizIQ is known to answer, with its message as WizIQ writes it (plan placeholders kept).
ERROR_CODES: dict[int, ErrorCode] = _catalogue(
    (400, "Bad Request.", _V, None),
    (401, "Unauthorized.", _A, None),
    (403, "Forbidden: The request is refused by the API.", _A, None),
    (404, "Not Found.", _N, None),
    (429, "Too Many Requests.", _T, None),
    (500, "Internal Server Error.", _T, None),
    (502, "Bad Gateway.", _T, None),
    (503, "Service Unavailable.", _T, None),
    (1000, "An error occurred. Please try again.", _T, None),
    (1001, "presenter_id parameter is missing.", _V, "presenter_id"),
    (1002, "presenter_name parameter is missing.", _V, "presenter_name"),
    (1003, "Specified time_zone parameter is not available.", _V, "time_zone"),
    (1004, "start_time parameter cannot precede current datetime.", _V, "start_time"),
    (1005, "Invalid start_time parameter.", _V, "start_time"),
    (1006, "time_zone parameter is missing.", _V, "time_zone"),
    (1007, "Attendees can be added only to an upcoming class.", _S, "class_id"),
    (1008, "The class has been cancelled.", _S, "class_id"),
    (1009, "Invalid class_id parameter.", _N, "class_id"),
    (1010, "duration parameter cannot exceed #MaxClassMinutes# minutes.", _P, "duration"),
    (1011, "attendee_limit parameter cannot exceed #MaxUserPerClass# attendees.", _P, "attendee_limit"),
    (1012, "Only #MaxConcurrentClass# simultaneous classes are allowed.", _P, "start_time"),
    (1013, "No record found.", _N, None),
    (1014, "title parameter is missing.", _V, "title"),
    (1015, "The class is in progress and cannot be modified.", _S, "class_id"),
    (1016, "The class is completed and cannot be modified.", _S, "class_id"),
    (1017, "The class has expired and cannot be modified.", _S, "class_id"),
    (1018, "The class has been deleted and cannot be modified.", _S, "class_id"),
    (1019, "start_time parameter is missing.", _V, "start_time"),
    (1020, "class_id parameter is missing.", _V, "class_id"),
    (1021, "attendee_list parameter is missing.", _V, "attendee_list"),
    (1022, "Datetime is not in valid format.", _V, "start_time"),
    (1023, "screen_name parameter is missing.", _V, "attendee_list"),
    (1024, "attendee_id parameter is missing.", _V, "attendee_list"),
    (1025, "page_size parameter cannot exceed 100.", _V, "page_size"),
    (1026, "The class has not been held yet.", _S, "class_id"),
    (1027, "The class has expired.", _S, "class_id"),
    (1028, "The class has been cancelled.", _S, "class_id"),
    (1029, "The attendance report will be available soon.", _T, "class_id"),
    (1030, "presenter_email parameter is missing.", _V, "presenter_email"),
    (1031, "presenter_email is not valid.", _V, "presenter_email"),
    (1032, "You have already scheduled a class for the current time.", _C, "start_time"),
    (1033, "The class has already been cancelled.", _S, "class_id"),
    (1034, "The class is in progress and cannot be cancelled.", _S, "class_id"),
    (1035, "The class is completed and cannot be cancelled.", _S, "class_id"),
    (1036, "The class has expired and cannot be cancelled.", _S, "class_id"),
    (1043, "The language is invalid or unsupported in the VC.", _V, "language_culture_name"),
    (1044, "language_culture_name parameter is missing.", _V, "language_culture_name"),
    (1046, "The presenter is not valid for the account's plan.", _P, "presenter_email"),
    (1047, "The presenter is not valid for the account's plan.", _P, "presenter_id"),
    (1048, "presenter_id is already in use by another presenter.", _V, "presenter_id"),
    (1052, "title parameter cannot exceed 70 characters.", _V, "title"),
    (1081, "class_repeat_type parameter is empty/invalid.", _V, "class_repeat_type"),
    (1082, "class_occurrence / class_end_date parameter is empty/invalid.", _V, "class_occurrence"),
    (1083, "specific_week / days_of_week parameter is empty/invalid.", _V, "days_of_week"),
    (1084, "monthly_date parameter is empty/invalid.", _V, "monthly_date"),
    (1085, "monthly_day / monthly_week_day parameter is empty/invalid.", _V, "monthly_day"),
    (1087, "rdo_by_date / rdo_by_day parameter is empty/invalid.", _V, "rdo_by_date"),
    (1088, "class_master_id parameter is invalid.", _N, "class_master_id"),
    (1090, "extend_duration parameter is empty or invalid.", _V, "extend_duration"),
)

#: get_data's and view_schedule's "No record found.": no match, or a page past the end.
NO_RECORD = 1013


def error_kind(code: int | None) -> ErrorKind:
    """Classify a code; codes WizIQ never documented are taken as permanent validation errors."""
    if code is None:
        return ErrorKind.VALIDATION
    entry = ERROR_CODES.get(code)
    if entry is not None:
        return entry.kind
    return ErrorKind.TRANSIENT if code >= 500 and code < 600 else ErrorKind.VALIDATION


def fill_plan_limits(message: str, limits: dict[str, int | None]) -> str:
    """Replace ``#MaxClassMinutes#``-style placeholders with the plan's figures where known."""
    for name, value in limits.items():
        if value is not None:
            message = message.replace(f"#{name}#", str(value))
    return message


class WizIQError(Exception):
    """Base of every error this provider raises about WizIQ."""

    transient: bool = False

    def __init__(self, text: str, *, method: str | None = None) -> None:
        super().__init__(text)
        self.method = method


class WizIQConfigError(WizIQError):
    """The connection is unusable (no secret key, bad endpoint URL, plain http to a remote host)."""


class WizIQAPIError(WizIQError):
    """WizIQ refused the call: ``<error code="..." msg="..."/>``."""

    def __init__(self, code: int | None, message: str, *, method: str | None = None) -> None:
        self.code = code
        self.message = message
        self.kind = error_kind(code)
        self.transient = not self.kind.permanent
        super().__init__(message, method=method)

    def __str__(self) -> str:
        label = f"WizIQ error {self.code}" if self.code is not None else "WizIQ error"
        where = f" ({self.method})" if self.method else ""
        return f"{label}: {self.message}{where}"

    @property
    def permanent(self) -> bool:
        return not self.transient

    @classmethod
    def from_code(cls, code: int, *, method: str | None = None, detail: str | None = None) -> WizIQAPIError:
        """The catalogue's message for ``code``, with an optional detail appended."""
        entry = ERROR_CODES.get(code)
        message = entry.message if entry else "Unknown error."
        return cls(code, f"{message} {detail}" if detail else message, method=method)


class WizIQValidationError(WizIQAPIError):
    """A request the client refused to send, with the code WizIQ would have answered."""

    def __init__(
        self,
        parameter: str,
        detail: str,
        *,
        code: int | None = None,
        method: str | None = None,
        plan_limits: dict[str, int | None] | None = None,
    ) -> None:
        self.parameter = parameter
        self.detail = detail
        entry = ERROR_CODES.get(code) if code is not None else None
        message = f"{entry.message} {parameter}: {detail}" if entry else f"{parameter}: {detail}"
        super().__init__(code, fill_plan_limits(message, plan_limits or {}), method=method)


class WizIQResponseError(WizIQError):
    """The server's answer was not a usable WizIQ answer.

    ``hostile`` answers (a DTD or entity declarations) and answers over the size cap are never retried;
    other unreadable answers (an HTML error page, an empty or truncated body) are transient.
    """

    def __init__(
        self, reason: str, *, method: str | None = None, hostile: bool = False, too_large: bool = False
    ) -> None:
        self.reason = reason
        self.hostile = hostile
        self.too_large = too_large
        self.transient = not (hostile or too_large)
        where = f" to {method}" if method else ""
        super().__init__(f"Not a WizIQ answer{where}: {reason}", method=method)


class WizIQTransportError(WizIQError):
    """No WizIQ answer: the connection failed or timed out, or the server sent an HTTP error status.

    ``sent`` is False only when the request certainly never reached the server (connection refused,
    connect timeout): only then may a call that is not idempotent be sent again.
    """

    transient = True

    def __init__(
        self,
        reason: str,
        *,
        method: str | None = None,
        sent: bool = True,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.reason = reason
        self.sent = sent
        self.status_code = status_code
        self.retry_after = retry_after
        where = f" calling {method}" if method else ""
        super().__init__(f"WizIQ transport error{where}: {reason}", method=method)
