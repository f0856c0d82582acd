"""WizIQ's error catalogue and the exceptions the client raises.

Every failure the client can meet is one of four exceptions, all subclasses of :class:`WizIQError`:

* :class:`WizIQAPIError`: WizIQ answered ``<rsp status="fail">`` with an error code;
* :class:`WizIQValidationError`: the same code, found by the client before anything was sent;
* :class:`WizIQResponseError`: the answer was not a WizIQ answer (HTML, empty, truncated, hostile, too big);
* :class:`WizIQTransportError`: no answer at all (refused, reset, timed out) or a bare HTTP error status.

``transient`` on each says whether trying again later may succeed. Whether it is *safe* to try again is a
separate question answered by :mod:`airflow_provider_wiziq.api.protocol.retry`.
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


class Code(enum.IntEnum):
    """Every code WizIQ is known to answer, by name: code elsewhere says ``Code.ALREADY_SCHEDULED``, never 1032.

    HTTP statuses WizIQ reports as codes (400-503) are here too; transport code compares HTTP statuses through
    :class:`http.HTTPStatus`.
    """

    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    FORBIDDEN = 403
    NOT_FOUND = 404
    TOO_MANY_REQUESTS = 429
    INTERNAL_SERVER_ERROR = 500
    BAD_GATEWAY = 502
    SERVICE_UNAVAILABLE = 503
    TRY_AGAIN = 1000
    PRESENTER_ID_MISSING = 1001
    PRESENTER_NAME_MISSING = 1002
    TIME_ZONE_UNAVAILABLE = 1003
    START_TIME_PASSED = 1004
    START_TIME_INVALID = 1005
    TIME_ZONE_MISSING = 1006
    ATTENDEES_UPCOMING_ONLY = 1007
    CLASS_CANCELLED = 1008
    CLASS_ID_INVALID = 1009
    DURATION_OVER_PLAN = 1010
    ATTENDEE_LIMIT_OVER_PLAN = 1011
    SIMULTANEOUS_OVER_PLAN = 1012
    NO_RECORD = 1013
    TITLE_MISSING = 1014
    MODIFY_IN_PROGRESS = 1015
    MODIFY_COMPLETED = 1016
    MODIFY_EXPIRED = 1017
    MODIFY_DELETED = 1018
    START_TIME_MISSING = 1019
    CLASS_ID_MISSING = 1020
    ATTENDEE_LIST_MISSING = 1021
    DATETIME_FORMAT_INVALID = 1022
    SCREEN_NAME_MISSING = 1023
    ATTENDEE_ID_MISSING = 1024
    PAGE_SIZE_OVER_100 = 1025
    REPORT_NOT_HELD_YET = 1026
    REPORT_CLASS_EXPIRED = 1027
    REPORT_CLASS_CANCELLED = 1028
    REPORT_AVAILABLE_SOON = 1029
    PRESENTER_EMAIL_MISSING = 1030
    PRESENTER_EMAIL_INVALID = 1031
    ALREADY_SCHEDULED = 1032
    ALREADY_CANCELLED = 1033
    CANCEL_IN_PROGRESS = 1034
    CANCEL_COMPLETED = 1035
    CANCEL_EXPIRED = 1036
    LANGUAGE_INVALID = 1043
    LANGUAGE_MISSING = 1044
    PRESENTER_EMAIL_NOT_IN_PLAN = 1046
    PRESENTER_ID_NOT_IN_PLAN = 1047
    PRESENTER_ID_IN_USE = 1048
    TITLE_TOO_LONG = 1052
    REPEAT_TYPE_INVALID = 1081
    OCCURRENCE_OR_END_DATE_INVALID = 1082
    WEEK_DAYS_INVALID = 1083
    MONTHLY_DATE_INVALID = 1084
    MONTHLY_DAY_INVALID = 1085
    MONTHLY_BY_INVALID = 1087
    CLASS_MASTER_ID_INVALID = 1088
    EXTEND_DURATION_INVALID = 1090


@dataclass(frozen=True)
class ErrorCode:
    """One entry of WizIQ's error catalogue."""

    code: int
    message: str
    kind: ErrorKind
    parameter: str | None = None


def _catalogue(*entries: tuple[int, str, ErrorKind, str | None]) -> dict[int, ErrorCode]:
    return {int(code): ErrorCode(int(code), message, kind, parameter) for code, message, kind, parameter in entries}


_V, _A, _P, _C, _S, _N, _T = (
    ErrorKind.VALIDATION,
    ErrorKind.AUTH,
    ErrorKind.PLAN_LIMIT,
    ErrorKind.CONFLICT,
    ErrorKind.CLASS_STATE,
    ErrorKind.NOT_FOUND,
    ErrorKind.TRANSIENT,
)

#: Every code WizIQ is known to answer, with its message as WizIQ writes it (plan placeholders kept): the words of
#: WizIQ's create_recurring page for its codes, else those of the message table WizIQ's WordPress plugin ships
#: (its ``wiziq_config.php``); 429 and 1088 are in neither, so their words are the provider's. The emulator
#: answers these words; tests/emulator/test_messages.py holds WizIQ's texts to compare them with.
ERROR_CODES: dict[int, ErrorCode] = _catalogue(
    (
        Code.BAD_REQUEST,
        "Bad Request: The request is invalid. Error messages are returned for explanation purposes.",
        _V,
        None,
    ),
    (
        Code.UNAUTHORIZED,
        "Not Authorized: The credentials provided are invalid or are needed for the operation.",
        _A,
        None,
    ),
    (Code.FORBIDDEN, "Forbidden: The request is refused by the API.", _A, None),
    (
        Code.NOT_FOUND,
        "Not Found: The resource requested doesn\u2019t exist. Ex: The provided car_id in the url doesn\u2019t exist.",
        _N,
        None,
    ),
    (Code.TOO_MANY_REQUESTS, "Too Many Requests.", _T, None),
    (
        Code.INTERNAL_SERVER_ERROR,
        "Internal Server Error: An unrecoverable error has occurred at server side.",
        _T,
        None,
    ),
    (Code.BAD_GATEWAY, "Bad Gateway: The API service is down or being upgraded", _T, None),
    (
        Code.SERVICE_UNAVAILABLE,
        "Service Unavailable: The service is overloaded with a lot requests and can\u2019t manage the incoming"
        " request.",
        _T,
        None,
    ),
    (Code.TRY_AGAIN, "There is some error while processing your request.", _T, None),
    (Code.PRESENTER_ID_MISSING, "presenter_id parameter is missing.", _V, "presenter_id"),
    (Code.PRESENTER_NAME_MISSING, "presenter_name parameter is missing.", _V, "presenter_name"),
    (Code.TIME_ZONE_UNAVAILABLE, "Specified time_zone parameter is not available.", _V, "time_zone"),
    (Code.START_TIME_PASSED, "start_time parameter cannot precede current datetime.", _V, "start_time"),
    (Code.START_TIME_INVALID, "Invalid start_time parameter.", _V, "start_time"),
    (Code.TIME_ZONE_MISSING, "time_zone parameter is missing.", _V, "time_zone"),
    (Code.ATTENDEES_UPCOMING_ONLY, "Attendees can be  added only in an upcoming class.", _S, "class_id"),
    (Code.CLASS_CANCELLED, "This class has been cancelled.", _S, "class_id"),
    (Code.CLASS_ID_INVALID, "class_id is invalid.", _N, "class_id"),
    (Code.DURATION_OVER_PLAN, "duration parameter cannot exceed #MaxClassMinutes# minutes.", _P, "duration"),
    (
        Code.ATTENDEE_LIMIT_OVER_PLAN,
        "attendee_limit parameter cannot exceed #MaxUserPerClass# attendees.",
        _P,
        "attendee_limit",
    ),
    (Code.SIMULTANEOUS_OVER_PLAN, "Only #MaxConcurrentClass# simultaneous classes are allowed.", _P, "start_time"),
    (Code.NO_RECORD, "No record found.", _N, None),
    (Code.TITLE_MISSING, "title parameter is missing.", _V, "title"),
    (Code.MODIFY_IN_PROGRESS, "Cannot modify an in-progress class.", _S, "class_id"),
    (Code.MODIFY_COMPLETED, "Cannot modify a completed class.", _S, "class_id"),
    (Code.MODIFY_EXPIRED, "Cannot modify an expired class.", _S, "class_id"),
    (Code.MODIFY_DELETED, "Cannot modify a deleted class.", _S, "class_id"),
    (Code.START_TIME_MISSING, "start_time parameter is missing.", _V, "start_time"),
    (Code.CLASS_ID_MISSING, "class_id parameter is missing.", _V, "class_id"),
    (Code.ATTENDEE_LIST_MISSING, "attendee_list parameter is missing.", _V, "attendee_list"),
    (Code.DATETIME_FORMAT_INVALID, "Datetime is not in valid format.", _V, "start_time"),
    (Code.SCREEN_NAME_MISSING, "screen_name is missing.", _V, "attendee_list"),
    (Code.ATTENDEE_ID_MISSING, "attendee_id is missing.", _V, "attendee_list"),
    (Code.PAGE_SIZE_OVER_100, "page_size parameter cannot exceed 100.", _V, "page_size"),
    (Code.REPORT_NOT_HELD_YET, "Class has not held yet.", _S, "class_id"),
    (Code.REPORT_CLASS_EXPIRED, "Expired class.", _S, "class_id"),
    (Code.REPORT_CLASS_CANCELLED, "Cancelled class.", _S, "class_id"),
    (Code.REPORT_AVAILABLE_SOON, "Attendance report will be available soon.", _T, "class_id"),
    (Code.PRESENTER_EMAIL_MISSING, "presenter_email parameter is missing.", _V, "presenter_email"),
    (Code.PRESENTER_EMAIL_INVALID, "presenter_email is not valid.", _V, "presenter_email"),
    (Code.ALREADY_SCHEDULED, "You have already scheduled a class for the current time.", _C, "start_time"),
    (Code.ALREADY_CANCELLED, "Class is already cancelled.", _S, "class_id"),
    (Code.CANCEL_IN_PROGRESS, "Cannot cancel inprogress class.", _S, "class_id"),
    (Code.CANCEL_COMPLETED, "Cannot cancel completed class.", _S, "class_id"),
    (Code.CANCEL_EXPIRED, "Cannot cancel expired class.", _S, "class_id"),
    (Code.LANGUAGE_INVALID, "The language is invalid or unsupported in the VC.", _V, "language_culture_name"),
    (Code.LANGUAGE_MISSING, "Language_culture_name parameter is missing.", _V, "language_culture_name"),
    (Code.PRESENTER_EMAIL_NOT_IN_PLAN, "presenter_email is not valid for this package.", _P, "presenter_email"),
    (
        Code.PRESENTER_ID_NOT_IN_PLAN,
        "presenter_id and presenter_name are not valid for this package.",
        _P,
        "presenter_id",
    ),
    (Code.PRESENTER_ID_IN_USE, "Duplicate presenter_id cant be accepted.", _V, "presenter_id"),
    (Code.TITLE_TOO_LONG, "Maximum title characters length is 70.", _V, "title"),
    (Code.REPEAT_TYPE_INVALID, "class_repeat_type parameter is empty/invalid.", _V, "class_repeat_type"),
    (
        Code.OCCURRENCE_OR_END_DATE_INVALID,
        "class_occurrence / class_end_date parameter is empty/invalid.",
        _V,
        "class_occurrence",
    ),
    (Code.WEEK_DAYS_INVALID, "specific_week / days_of_week parameter is empty/invalid.", _V, "days_of_week"),
    (Code.MONTHLY_DATE_INVALID, "monthly_date parameter is empty/invalid.", _V, "monthly_date"),
    (Code.MONTHLY_DAY_INVALID, "monthly_day / monthly_week_day parameter is empty/invalid.", _V, "monthly_day"),
    (Code.MONTHLY_BY_INVALID, "rdo_by_date / rdo_by_day parameter is empty/invalid.", _V, "rdo_by_date"),
    (Code.CLASS_MASTER_ID_INVALID, "class_master_id parameter is invalid.", _N, "class_master_id"),
    (Code.EXTEND_DURATION_INVALID, "extend_duration parameter is empty or invalid.", _V, "extend_duration"),
)

#: How a check the client made before sending names the code WizIQ would have answered.
NOT_SENT = "Not sent (WizIQ would answer {code}): "
#: What a user should check when WizIQ refuses the keys or the signature (its own message says only "Forbidden").
_AUTH_HINT = (
    "Check the connection's access key (login) and secret key (password), and that this machine's clock is "
    "right (WizIQ also refuses a request whose timestamp is far from its own time)."
)

#: cancel's answers for a class that has started or ended: it can no longer be cancelled, and never will be.
_CANCEL_TOO_LATE: frozenset[Code] = frozenset({Code.CANCEL_IN_PROGRESS, Code.CANCEL_COMPLETED, Code.CANCEL_EXPIRED})
#: get_data's answers meaning WizIQ has no such class: "Invalid class_id" or "No record found".
_UNKNOWN_CLASS: frozenset[Code] = frozenset({Code.CLASS_ID_INVALID, Code.NO_RECORD})


def _has_code(error: object, *codes: Code | frozenset[Code]) -> bool:
    """Whether ``error`` is WizIQ's answer with one of ``codes`` (members or the groups above)."""
    if not isinstance(error, WizIQAPIError) or error.code is None:
        return False
    return any(error.code in code if isinstance(code, frozenset) else error.code == code for code in codes)


def is_already_scheduled(error: object) -> bool:
    """1032: the presenter already has a class at that time (maybe this very series, whose answer was lost)."""
    return _has_code(error, Code.ALREADY_SCHEDULED)


def is_already_cancelled(error: object) -> bool:
    """1033: the class is already where cancelling would put it."""
    return _has_code(error, Code.ALREADY_CANCELLED)


def is_too_late_to_cancel(error: object) -> bool:
    """1034-1036: the class has started or ended and cannot be cancelled."""
    return _has_code(error, _CANCEL_TOO_LATE)


def is_report_pending(error: object) -> bool:
    """1029: the attendance report will be available soon; ask again later."""
    return _has_code(error, Code.REPORT_AVAILABLE_SOON)


def is_unknown_class(error: object) -> bool:
    """1009/1013: WizIQ has no such class."""
    return _has_code(error, _UNKNOWN_CLASS)


def is_no_record(error: object) -> bool:
    """1013: no match, or a page past the end."""
    return _has_code(error, Code.NO_RECORD)


def _error_kind(code: int | None) -> ErrorKind:
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
        self.code = None if code is None else int(code)  # a plain int in XCom, logs and pickles, never a Code
        self.message = message
        self.kind = _error_kind(code)
        self.transient = not self.kind.permanent
        super().__init__(message, method=method)

    def __str__(self) -> str:
        label = f"WizIQ error {self.code}" if self.code is not None else "WizIQ error"
        where = f" ({self.method})" if self.method else ""
        hint = f" {_AUTH_HINT}" if self.kind is ErrorKind.AUTH else ""
        return f"{label}: {self.message}{where}{hint}"

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
    """A request the client refused to send, with the code WizIQ would have answered.

    Its text says it was not sent: ``Not sent (WizIQ would answer 1083): ...``, or, where WizIQ has no code
    for the check, just ``parameter: detail``.
    """

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

    def __str__(self) -> str:
        # Found by the client: WizIQ did not answer, so the text must not read as if it had.
        label = NOT_SENT.format(code=self.code) if self.code is not None else ""
        where = f" ({self.method})" if self.method else ""
        return f"{label}{self.message}{where}"


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


__all__ = [
    "ERROR_CODES",
    "NOT_SENT",
    "Code",
    "ErrorCode",
    "ErrorKind",
    "WizIQAPIError",
    "WizIQConfigError",
    "WizIQError",
    "WizIQResponseError",
    "WizIQTransportError",
    "WizIQValidationError",
    "fill_plan_limits",
    "is_already_cancelled",
    "is_already_scheduled",
    "is_no_record",
    "is_report_pending",
    "is_too_late_to_cancel",
    "is_unknown_class",
]
