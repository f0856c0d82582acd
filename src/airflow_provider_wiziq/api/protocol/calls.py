"""What a WizIQ call is, independent of how it travels: its fields, its signed body, how its answer is read.

The sync and async clients share all of this and differ only in the transport.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Generic, TypeVar
from urllib.parse import urljoin, urlsplit

from airflow_provider_wiziq.api.protocol import responses, values
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import (
    Code,
    WizIQAPIError,
    WizIQConfigError,
    WizIQResponseError,
    WizIQTransportError,
    WizIQValidationError,
)
from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest, modify_fields
from airflow_provider_wiziq.api.protocol.retry import retry_after_seconds
from airflow_provider_wiziq.api.protocol.signing import signed_fields
from airflow_provider_wiziq.api.protocol.xmlread import Answer
from airflow_provider_wiziq.api.protocol.xmlwrite import attendee_list_xml

T = TypeVar("T")
log = logging.getLogger(__name__)

#: ``get_data`` answers at most this many records a page (more is error 1025).
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: the method, its parameters as wire strings, and the reader of its answer."""

    method: str
    fields: Mapping[str, str]
    parse: Callable[[Answer], T]
    #: Error codes that, answering a re-send, mean an earlier attempt (whose answer was lost) succeeded,
    #: with the result to return instead: cancel's 1033 "already cancelled".
    done_if_resent: Mapping[int, T] = field(default_factory=dict)

    def url(self, config: ClientConfig) -> str:
        return method_url(config, self.method)

    def body(self, config: ClientConfig, timestamp: int) -> dict[str, str]:
        """The form body: parameters, ``method`` again, and the signature fields (fresh for each attempt)."""
        auth = signed_fields(
            secret_key=config.secret_key,
            access_key=config.access_key,
            timestamp=timestamp,
            method=self.method,
        )
        return {**self.fields, "method": self.method, **auth}


def method_url(config: ClientConfig, method: str) -> str:
    """The URL a call of ``method`` is posted to: the endpoint with ``method`` in its query (and without
    ``user:password@``: the clients send those as HTTP basic auth, ``config.endpoint_auth()``)."""
    url = config.request_url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}method={method}"


def settle_resend(call: Call[T], error: WizIQAPIError, attempt_number: int) -> T:
    """The result a re-sent call's error stands for, when it says an earlier attempt did the work; else raise."""
    if attempt_number > 1 and error.code is not None and error.code in call.done_if_resent:
        log.info("WizIQ %s answered %s to a re-send: the earlier attempt succeeded", call.method, error.code)
        return call.done_if_resent[error.code]
    raise error


def refuse_redirect(call: Call[Any], status_code: int, headers: Mapping[str, str], url: str) -> None:
    """A 3xx answer is never followed, by either client: it is a permanent error naming where it points.

    Following it would send the signed body (or accept an answer) from another host; WizIQ signs only the
    access key, timestamp and method, so a signature sent there would authorise any call of that method.
    """
    if 300 <= status_code < 400:
        target = _redirect_target(headers.get("Location"), url)
        raise WizIQConfigError(
            f"the endpoint answered HTTP {status_code}, a redirect to {target}; "
            "redirects are never followed (the signed request would go elsewhere): "
            "set the connection's endpoint to the service's own URL",
            method=call.method,
        )


def _redirect_target(location: str | None, url: str) -> str:
    """Where a redirect points, as scheme, host and port only: no path, query string or credentials."""
    if not location:
        return "nowhere (no Location header)"
    try:
        target = urlsplit(urljoin(url, location.strip()))
        host, port = target.hostname, target.port
    except ValueError:
        host = port = None
    if not host or not re.fullmatch(r"[A-Za-z0-9.:-]{1,253}", host, re.ASCII):
        return "an unreadable location"
    scheme = target.scheme.lower() if target.scheme.lower() in ("http", "https") else "another scheme"
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + (f":{port}" if port is not None else "")


def interpret(call: Call[T], status_code: int, headers: Mapping[str, str], body: Answer) -> T:
    """Read an answer: WizIQ decides on the XML, the HTTP status only explains an answer that is not XML."""
    try:
        return call.parse(body)
    except WizIQResponseError as error:
        if error.hostile or error.too_large or status_code < HTTPStatus.BAD_REQUEST:
            raise
        raise WizIQTransportError(
            f"HTTP {status_code} with no WizIQ answer ({error.reason})",
            method=call.method,
            status_code=status_code,
            retry_after=retry_after_seconds(headers.get("Retry-After")),
        ) from None


def too_large(call: Call[Any], cap: int) -> WizIQResponseError:
    return WizIQResponseError(f"the answer is larger than the {cap}-byte cap", method=call.method, too_large=True)


# One builder per API method; each returns the Call the clients send.


def create_recurring(request: CreateRecurringRequest) -> Call[responses.RecurringSeries]:
    return Call("create_recurring", request.to_wire(), responses.parse_create_recurring)


def create(request: CreateClassRequest) -> Call[responses.ClassDetails]:
    return Call("create", request.to_wire(), responses.parse_create)


def get_data(
    *,
    class_id: int | str | None = None,
    class_master_id: int | str | None = None,
    multiple_class_id: Iterable[int | str] | None = None,
    columns: Iterable[str] | str | None = None,
    page_size: int | str | None = None,
    page_number: int | str | None = None,
) -> Call[tuple[responses.ClassRecord, ...]]:
    """``get_data`` by one filter (or none: every class of the account, paged)."""
    given_ids = {"class_id": class_id, "class_master_id": class_master_id}
    filters = {name: _id(name, value, "get_data") for name, value in given_ids.items() if values.is_given(value)}
    if multiple_class_id is not None:
        filters["multiple_class_id"] = ",".join(_id("multiple_class_id", i, "get_data") for i in multiple_class_id)
    given = {name: value for name, value in filters.items() if value}
    if len(given) > 1:
        raise WizIQValidationError(", ".join(given), "get_data takes one of these filters", method="get_data")
    fields = dict(given)
    asked = values.names("columns", columns)
    if asked:
        fields["columns"] = ",".join(asked)
    fields.update(_paging(page_size, page_number, "get_data"))
    return Call("get_data", fields, responses.parse_get_data)


def view_schedule(
    class_master_id: int | str, *, page_size: int | str | None = None, page_number: int | str | None = None
) -> Call[tuple[responses.ScheduleEntry, ...]]:
    fields = {
        "class_master_id": _id("class_master_id", class_master_id, "view_schedule"),
        **_paging(page_size, page_number, "view_schedule"),
    }
    return Call("view_schedule", fields, responses.parse_view_schedule)


def cancel(class_id: int | str) -> Call[bool]:
    return Call(
        "cancel",
        {"class_id": _id("class_id", class_id, "cancel")},
        responses.parse_cancel,
        done_if_resent={Code.ALREADY_CANCELLED: True},
    )


def modify(class_id: int | str, fields: Mapping[str, Any]) -> Call[bool]:
    """``modify``: ``fields`` are any of ``create``'s parameters, read and written like theirs."""
    return Call(
        "modify", {"class_id": _id("class_id", class_id, "modify"), **modify_fields(fields)}, responses.parse_modify
    )


def add_attendees(class_id: int | str, attendees: Iterable[Mapping[str, Any]]) -> Call[responses.AddAttendeesResult]:
    """``add_attendees``: each attendee has ``attendee_id``, ``screen_name``, optionally ``language_culture_name``."""
    return Call(
        "add_attendees",
        {"class_id": _id("class_id", class_id, "add_attendees"), "attendee_list": attendee_list_xml(attendees)},
        responses.parse_add_attendees,
    )


def get_attendance_report(class_id: int | str) -> Call[responses.AttendanceReport]:
    fields = {"class_id": _id("class_id", class_id, "get_attendance_report")}
    return Call("get_attendance_report", fields, responses.parse_attendance_report)


#: The packages ``download_recording`` offers: a zip of the recording, or WizIQ's Windows player with it.
RECORDING_FORMATS = ("zip", "exe")


def download_recording(class_id: int | str, *, recording_format: str = "zip") -> Call[responses.RecordingDownload]:
    """``download_recording``: ``class_id`` and ``recording_format`` (``zip`` or ``exe``, as WizIQ's clients send)."""
    method = "download_recording"
    chosen = values.text("recording_format", recording_format)
    if chosen is None or chosen.lower() not in RECORDING_FORMATS:
        raise WizIQValidationError(
            "recording_format", f"must be {' or '.join(RECORDING_FORMATS)}, got {recording_format!r:.40}", method=method
        )
    fields = {"class_id": _id("class_id", class_id, method), "recording_format": chosen.lower()}
    return Call(method, fields, responses.parse_download_recording)


def get_account_info() -> Call[responses.AccountInfo]:
    return Call("get_account_info", {}, responses.parse_account_info)


def _paging(page_size: object, page_number: object, method: str) -> dict[str, str]:
    """``page_size`` (1 to 100, else 1025) and ``page_number`` (from 1), read like every whole number."""
    paging = {}
    try:
        size = values.integer("page_size", page_size, code=Code.PAGE_SIZE_OVER_100, minimum=1, maximum=MAX_PAGE_SIZE)
        number = values.integer("page_number", page_number, code=None, minimum=1)
    except WizIQValidationError as error:
        error.method = method
        raise
    if size is not None:
        paging["page_size"] = str(size)
    if number is not None:
        paging["page_number"] = str(number)
    return paging


def _id(name: str, value: object, method: str) -> str:
    """A class or series id: a positive whole number, as an int or a string of ASCII digits."""
    try:
        number = values.integer(name, value, code=None, minimum=1)
    except WizIQValidationError as error:
        error.method = method
        raise
    if number is None:
        raise WizIQValidationError(name, "is required", method=method)
    return str(number)


class CappedBody:
    """Collects an answer's bytes, refusing it as soon as it is known to pass the cap or the deadline.

    The declared ``Content-Length`` is checked before a byte is read; each chunk against the cap before it
    is kept; and the whole read must end within ``deadline`` seconds, so a trickling server cannot hold a
    call. The bytes go into one buffer, sized from a ``Content-Length`` that passed the cap (so a length
    declared but never sent costs at most the cap), and that buffer is what the parse reads: the answer is
    never held twice.
    """

    def __init__(self, call: Call[Any], config: ClientConfig, headers: Mapping[str, str], clock: Callable[[], float]):
        self._call = call
        self._cap = config.max_response_bytes
        self._clock = clock
        self._deadline = clock() + config.connect_timeout + config.read_timeout
        self._read_timeout = config.read_timeout
        self._size = 0
        declared = headers.get("Content-Length", "").strip()
        # ASCII digits only ("²".isdigit() is true); a number too long to be any size is over the cap
        sized = declared.isascii() and declared.isdigit()
        if sized and (len(declared) > 18 or int(declared) > self._cap):
            raise too_large(call, self._cap)
        self._buffer = bytearray(int(declared) if sized else 0)

    def feed(self, chunk: bytes) -> None:
        end = self._size + len(chunk)
        if end > self._cap:
            raise too_large(self._call, self._cap)
        self._buffer[self._size : end] = chunk  # in place up to the declared size; past it, the buffer grows
        self._size = end
        if self._clock() > self._deadline:
            raise WizIQTransportError(
                f"the answer was still arriving after {self._read_timeout:g} s", method=self._call.method
            )

    def value(self) -> bytearray:
        """The answer's bytes (the buffer itself; less than declared if the answer ended early)."""
        del self._buffer[self._size :]
        return self._buffer
