"""The WizIQ Class API methods, decided server-side whatever a client checked before sending.

``create`` and ``create_recurring`` are read and validated by the client's own models
(:mod:`airflow_provider_wiziq.api.protocol.request`): one place decides each rule and error code. What only a
server can know is decided here and in the store: the account's languages (1043), the clock (1004), the
plan (1010/1011/1012 and the series maximum), existing classes (1032, 1048) and each class's state.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, overload
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from airflow_provider_wiziq.api.protocol.calls import MAX_PAGE_SIZE, RECORDING_FORMATS
from airflow_provider_wiziq.api.protocol.errors import ERROR_CODES, WizIQAPIError, fill_plan_limits
from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.signing import verify
from airflow_provider_wiziq.api.protocol.status import ClassStatus
from airflow_provider_wiziq.api.protocol.values import culture_name, wire_datetime
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass, recurring_summary
from airflow_provider_wiziq.emulator import answers
from airflow_provider_wiziq.emulator.account import Account
from airflow_provider_wiziq.emulator.answers import Links
from airflow_provider_wiziq.emulator.lifecycle import Report, report
from airflow_provider_wiziq.emulator.store import StoredAttendee, StoredClass
from airflow_provider_wiziq.emulator.xmlwriter import Element, element, text_element

log = logging.getLogger(__name__)

_CREATE_FIELDS = CreateClassRequest.parameter_names()


@dataclass(frozen=True)
class Outcome:
    """A method's answer and what it was, for the request log."""

    body: bytes
    error_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


def handle(account: Account, method: str | None, fields: Mapping[str, str]) -> Outcome:
    """Authenticate and run one call; every refusal becomes WizIQ's ``<error>`` answer."""
    try:
        _authenticate(account, method or "", fields)
        if not method:
            raise WizIQAPIError.from_code(400, detail="No method was given.")
        run = METHODS.get(method)
        if run is None:
            raise WizIQAPIError.from_code(404, detail=f"There is no method {method[:40]!r}.")
        return Outcome(answers.success(method, run(account, fields)))
    except WizIQAPIError as error:
        code, message = _error_answer(account, error)
        log.debug("WizIQ emulator: %s refused with %s", method, code)
        return Outcome(answers.failure(code, message), code)
    except Exception:  # a bug here must still answer like WizIQ: its generic, retryable 1000
        log.exception("WizIQ emulator: %s failed", method)
        return Outcome(answers.failure(1000, ERROR_CODES[1000].message), 1000)


def _error_answer(account: Account, error: WizIQAPIError) -> tuple[int, str]:
    """WizIQ's own message for the code, plan limits filled in; a refusal without a code is a 400."""
    if error.code is None:
        return 400, f"{ERROR_CODES[400].message} {error.message}"
    entry = ERROR_CODES.get(error.code)
    message = entry.message if entry is not None and error.code >= 1000 else error.message
    return error.code, fill_plan_limits(message, account.config.limits.placeholders())


def _authenticate(account: Account, method: str, fields: Mapping[str, str]) -> None:
    """Access key, signature and timestamp window: any failure is the same 403 (docs/wiziq-api.md §2)."""
    config = account.config
    access_key = fields.get("access_key", "")
    if not hmac.compare_digest(access_key.encode(), config.access_key.encode()):
        raise WizIQAPIError.from_code(403)
    if not verify(dict(fields), secret_key=config.secret_key, method=method):
        raise WizIQAPIError.from_code(403)
    if config.timestamp_window is None:
        return
    timestamp = int(fields["timestamp"])  # verify() has checked it is a number
    near_clock = abs(timestamp - account.clock.time()) <= config.timestamp_window
    near_host = config.accept_host_time and abs(timestamp - time.time()) <= config.timestamp_window
    if not (near_clock or near_host):
        raise WizIQAPIError.from_code(403)


# create and create_recurring -------------------------------------------------------------------------


def create_recurring(account: Account, fields: Mapping[str, str]) -> Element:
    request = CreateRecurringRequest.from_params(fields, strict=False)
    now = account.now()
    scheduled = _validated(account, request, now)
    summary = recurring_summary(request.recurrence_rule(), scheduled[0])
    wire = request.to_wire()
    drafts = [_draft(account, request, item, now, wire) for item in scheduled]
    series, stored = account.store.add(
        drafts, summary=summary, params=wire, max_concurrent=account.config.limits.max_concurrent_class
    )
    assert series is not None
    links = Links(account.base_url)
    return element(
        "create_recurring",
        element(
            "recurring_class_details",
            text_element("class_master_id", series.class_master_id),
            answers.class_details(stored[0], links),
        ),
        element("is_recurring", text_element("recurring_summary", summary), value=1),
        status="true",
    )


def create(account: Account, fields: Mapping[str, str]) -> Element:
    request = CreateClassRequest.from_params(fields, strict=False)
    now = account.now()
    scheduled = _validated(account, request, now)
    _, stored = account.store.add(
        [_draft(account, request, scheduled, now)], max_concurrent=account.config.limits.max_concurrent_class
    )
    details = answers.class_details(stored[0], Links(account.base_url), with_master_id=True)
    return element("create", details, status="true")


# A series is also a CreateClassRequest: the overloads overlap, and the first, the narrower, is the one taken.
@overload
def _validated(  # type: ignore[overload-overlap]
    account: Account, request: CreateRecurringRequest, now: datetime
) -> tuple[ScheduledClass, ...]: ...


@overload
def _validated(account: Account, request: CreateClassRequest, now: datetime) -> ScheduledClass: ...


def _validated(account: Account, request: CreateClassRequest, now: datetime) -> Any:
    """The server's checks on top of the request model's: the account's languages, then every rule at ``now``."""
    _check_language(account, request)
    return request.validate(now=now, limits=account.config.limits, start_grace=_start_grace(account))


def _start_grace(account: Account) -> timedelta:
    """How long before now a start may be and still be "now" (docs/emulator.md: why the default)."""
    return timedelta(seconds=account.config.start_grace)


def _check_language(account: Account, request: CreateClassRequest) -> None:
    language = request.language_culture_name
    if language is not None and culture_name(language) not in account.config.languages:
        raise WizIQAPIError.from_code(1043)


def _draft(
    account: Account,
    request: CreateClassRequest,
    scheduled: ScheduledClass,
    now: datetime,
    wire: Mapping[str, str] | None = None,
) -> StoredClass:
    """A class to store (id given by the store); ``params`` are its create fields, what modify starts from.

    ``wire`` is ``request.to_wire()`` when the caller has it already (a series writes it once, not per class).
    """
    wire = request.to_wire() if wire is None else wire
    params = {name: value for name, value in wire.items() if name in _CREATE_FIELDS}
    params["start_time"] = wire_datetime(scheduled.wall_clock)
    return StoredClass(
        class_id=0,
        class_master_id=None,
        index=scheduled.index,
        title=request.title,
        wall_clock=scheduled.wall_clock,
        utc_start=scheduled.utc_start,
        time_zone=request.time_zone,
        duration=request.duration,
        extend_duration=request.extend_duration,
        attendee_limit=request.attendee_limit,
        presenter_email=request.presenter_email,
        presenter_id=request.presenter_id,
        presenter_name=request.presenter_name,
        language_culture_name=None
        if request.language_culture_name is None
        else culture_name(request.language_culture_name),
        create_recording=bool(request.create_recording),
        return_url=request.return_url,
        status_ping_url=request.status_ping_url,
        in_gap=scheduled.in_gap,
        in_fold=scheduled.in_fold,
        created_at=now,
        params=params,
        outcome=account.config.default_outcome,
    )


# Reading ------------------------------------------------------------------------------------------------


def get_data(account: Account, fields: Mapping[str, str]) -> Element:
    """Records by class_id, class_master_id or multiple_class_id, or every class of the account; paged."""
    given = {
        name: fields[name].strip()
        for name in ("class_id", "class_master_id", "multiple_class_id")
        if fields.get(name, "").strip()
    }
    if len(given) > 1:
        raise WizIQAPIError.from_code(400, detail="Give one of class_id, class_master_id, multiple_class_id.")
    size, number = _paging(fields)
    columns = _columns(fields.get("columns", ""))
    if "class_id" in given:
        found = account.store.get(_number(given["class_id"], 1009))
        classes = [] if found is None else [found]
    elif "class_master_id" in given:
        classes = account.store.classes_of(_number(given["class_master_id"], 1088))
    elif "multiple_class_id" in given:
        ids = dict.fromkeys(_number(item, 1009) for item in given["multiple_class_id"].split(",") if item.strip())
        classes = [cls for cls in map(account.store.get, ids) if cls is not None]
    else:
        classes = account.store.all_classes()
    page = _page(classes, size, number)
    now, links, delay = account.now(), Links(account.base_url), account.config.report_delay
    attendee_id = fields.get("attendee_id", "").strip() or None
    records = [answers.record(cls, columns, links, now, delay, attendee_id) for cls in page]
    return element("get_data", element("record_list", *records), status="true")


def view_schedule(account: Account, fields: Mapping[str, str]) -> Element:
    """A series' classes, paged; an unknown series is 1088."""
    master_id = _number(fields.get("class_master_id", ""), 1088)
    size, number = _paging(fields)
    classes = account.store.classes_of(master_id)
    if not classes:
        raise WizIQAPIError.from_code(1088)
    now, links, delay = account.now(), Links(account.base_url), account.config.report_delay
    entries = [answers.schedule_entry(cls, links, now, delay) for cls in _page(classes, size, number)]
    return element("view_schedule", element("recurring_list", *entries), status="true")


def _paging(fields: Mapping[str, str]) -> tuple[int, int]:
    size = _number(fields.get("page_size", "") or str(MAX_PAGE_SIZE), 400)
    number = _number(fields.get("page_number", "") or "1", 400)
    if size > MAX_PAGE_SIZE:
        raise WizIQAPIError.from_code(1025)
    if size < 1 or number < 1:
        raise WizIQAPIError.from_code(400, detail="page_size and page_number start at 1.")
    return size, number


def _page(classes: list[StoredClass], size: int, number: int) -> list[StoredClass]:
    page = classes[(number - 1) * size : number * size]
    if not page:
        raise WizIQAPIError.from_code(1013)
    return page


def _columns(spelled: str) -> tuple[str, ...]:
    """The asked columns WizIQ knows, in the asked order; none asked means all."""
    asked = [name.strip().lower() for name in spelled.split(",") if name.strip()]
    if not asked:
        return answers.COLUMNS
    return tuple(name for name in dict.fromkeys(asked) if name in answers.COLUMNS)


def _number(spelled: str, code: int) -> int:
    """A positive id or count; anything else is ``code``."""
    text = spelled.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # int() also reads other scripts' digits
        raise WizIQAPIError.from_code(code)
    return int(text)


def _class(account: Account, fields: Mapping[str, str]) -> StoredClass:
    """The class named by ``class_id``: 1020 when missing, 1009 when not a class of this account.

    Callers that change the class call this holding the store's lock, so they see its latest version.
    """
    spelled = fields.get("class_id", "").strip()
    if not spelled:
        raise WizIQAPIError.from_code(1020)
    cls = account.store.get(_number(spelled, 1009))
    if cls is None:
        raise WizIQAPIError.from_code(1009)
    return cls


# Changing a class ---------------------------------------------------------------------------------------

_CANCEL_REFUSALS = {
    ClassStatus.CANCELLED: 1033,
    ClassStatus.LIVE: 1034,
    ClassStatus.COMPLETED: 1035,
    ClassStatus.EXPIRED: 1036,
}
_MODIFY_REFUSALS = {
    ClassStatus.LIVE: 1015,
    ClassStatus.COMPLETED: 1016,
    ClassStatus.EXPIRED: 1017,
    ClassStatus.CANCELLED: 1018,
}


def cancel(account: Account, fields: Mapping[str, str]) -> Element:
    with account.store.atomic():
        cls = _class(account, fields)
        refusal = _CANCEL_REFUSALS.get(account.phase(cls))
        if refusal is not None:
            raise WizIQAPIError.from_code(refusal)
        account.store.cancel(cls, account.now())
    account.pinger.poke()
    return element("cancel", status="true")


def modify(account: Account, fields: Mapping[str, str]) -> Element:
    """Any ``create`` field of one upcoming class, checked as ``create`` checks it."""
    given = {name: value for name, value in fields.items() if name in _CREATE_FIELDS and value.strip()}
    with account.store.atomic():
        cls = _class(account, fields)
        refusal = _MODIFY_REFUSALS.get(account.phase(cls))
        if refusal is not None:
            raise WizIQAPIError.from_code(refusal)
        merged = dict(cls.params)
        if "presenter_email" in given:
            merged.pop("presenter_id", None)
            merged.pop("presenter_name", None)
        elif "presenter_id" in given or "presenter_name" in given:
            merged.pop("presenter_email", None)
        merged.update(given)
        request = CreateClassRequest.from_params(merged, strict=False)
        _check_language(account, request)
        limits = account.config.limits
        now = account.now()
        scheduled = request.validate(now=now, limits=limits, start_grace=_start_grace(account))
        draft = _draft(account, request, scheduled, now)
        updated = replace(
            draft,
            class_id=cls.class_id,
            class_master_id=cls.class_master_id,
            index=cls.index,
            created_at=cls.created_at,
            outcome=cls.outcome,
            announced=cls.announced,
            attendees=cls.attendees,
        )
        account.store.replace(updated, max_concurrent=limits.max_concurrent_class)
    account.pinger.poke()
    return element("modify", status="true")


def add_attendees(account: Account, fields: Mapping[str, str]) -> Element:
    """Add (or, by attendee_id, update) attendees of an upcoming or live class."""
    if not fields.get("class_id", "").strip():
        raise WizIQAPIError.from_code(1020)
    if not fields.get("attendee_list", "").strip():
        raise WizIQAPIError.from_code(1021)
    with account.store.atomic():
        cls = _class(account, fields)
        current = account.phase(cls)
        if current is ClassStatus.CANCELLED:
            raise WizIQAPIError.from_code(1008)
        if current.is_terminal:
            raise WizIQAPIError.from_code(1007)
        added = _attendee_list(fields["attendee_list"])
        known = {attendee.attendee_id: attendee for attendee in cls.attendees}
        for attendee in added:
            if attendee.attendee_id in known:
                known[attendee.attendee_id].screen_name = attendee.screen_name
                known[attendee.attendee_id].language_culture_name = attendee.language_culture_name
            else:
                cls.attendees.append(attendee)
                known[attendee.attendee_id] = attendee
        account.store.save(cls)
    links = Links(account.base_url)
    items = [
        element(
            "attendee",
            text_element("attendee_id", attendee.attendee_id),
            text_element("attendee_url", links.attendee(cls, attendee.attendee_id)),
        )
        for attendee in added
    ]
    return element(
        "add_attendees",
        text_element("class_id", cls.class_id),
        element("attendee_list", *items),
        status="true",
    )


def _attendee_list(xml: str) -> list[StoredAttendee]:
    """Read ``<attendee_list><attendee>...``: 1021 if unreadable or empty, 1024/1023 for no id/name."""
    try:
        root = DefusedET.fromstring(xml.encode("utf-8"), forbid_dtd=True)
    except (ParseError, DefusedXmlException):
        raise WizIQAPIError.from_code(1021) from None
    attendees = []
    for item in root.iter("attendee"):
        attendee_id = (item.findtext("attendee_id") or "").strip()
        screen_name = (item.findtext("screen_name") or "").strip()
        language = culture_name(item.findtext("language_culture_name") or "") or None
        if not attendee_id:
            raise WizIQAPIError.from_code(1024)
        if not screen_name:
            raise WizIQAPIError.from_code(1023)
        attendees.append(StoredAttendee(attendee_id, screen_name, language))
    if not attendees:
        raise WizIQAPIError.from_code(1021)
    return attendees


# Reports and the account --------------------------------------------------------------------------------


def get_attendance_report(account: Account, fields: Mapping[str, str]) -> Element:
    """The report once the class is completed and ``report_delay`` has passed; 1026-1029 before that."""
    with account.store.atomic():
        cls = _class(account, fields)
        state = report(cls, account.now(), account.config.report_delay)
        if state is not Report.AVAILABLE:
            raise WizIQAPIError.from_code(state.value)
        rows = answers.attendance_rows(cls)
        length = cls.duration + (cls.extend_duration or 0)
    return element(
        "get_attendance_report",
        text_element("class_id", cls.class_id),
        text_element("class_duration", length),
        element("attendee_list", *rows),
        status="true",
    )


_RECORDING_REFUSALS = {
    ClassStatus.UPCOMING: 1026,
    ClassStatus.LIVE: 1026,
    ClassStatus.EXPIRED: 1027,
    ClassStatus.CANCELLED: 1028,
}


def download_recording(account: Account, fields: Mapping[str, str]) -> Element:
    """A held class's recording as a download (``recording_format`` zip or exe): whether there is one, and the
    status document that says when its package is ready (docs/emulator.md: the codes are the report's)."""
    recording_format = (fields.get("recording_format", "").strip() or "zip").lower()
    if recording_format not in RECORDING_FORMATS:
        detail = f"recording_format must be {' or '.join(RECORDING_FORMATS)}."
        raise WizIQAPIError.from_code(400, detail=detail)
    with account.store.atomic():
        cls = _class(account, fields)
        refusal = _RECORDING_REFUSALS.get(account.phase(cls))
    if refusal is not None:
        raise WizIQAPIError.from_code(refusal)
    if not cls.create_recording:
        return element("download_recording", text_element("download_status", "false"), status="false")
    return element(
        "download_recording",
        text_element("download_status", "true"),
        text_element("status_xml_path", Links(account.base_url).recording_status(cls, recording_format)),
        status="true",
    )


def get_account_info(account: Account, fields: Mapping[str, str]) -> Element:
    """The credential check: ``ok`` for valid keys, with the plan's figures (empty when not limited)."""
    limits = account.config.limits
    return element(
        "get_account_info",
        text_element("account_name", account.config.account_name),
        text_element("plan", "emulator"),
        text_element("max_class_minutes", limits.max_class_minutes),
        text_element("max_user_per_class", limits.max_user_per_class),
        text_element("max_concurrent_class", limits.max_concurrent_class),
        text_element("max_series_classes", limits.max_series_classes),
        status="true",
    )


METHODS: dict[str, Callable[[Account, Mapping[str, str]], Element]] = {
    "create_recurring": create_recurring,
    "create": create,
    "view_schedule": view_schedule,
    "get_data": get_data,
    "cancel": cancel,
    "modify": modify,
    "add_attendees": add_attendees,
    "get_attendance_report": get_attendance_report,
    "get_account_info": get_account_info,
    "download_recording": download_recording,
}
