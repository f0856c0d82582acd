"""The XML shapes of WizIQ's answers (docs/wiziq-api.md §4-5), built from stored classes.

Every answer is ``<rsp status="ok|fail" call_id="...">``; a success starts with ``<method>NAME</method>``
and a failure holds one ``<error code=".." msg=".."/>``. Times are written ``MM/DD/YYYY HH:MM:SS``, wall
clock in the class's time zone (§9). Links point at the emulator's own ``/_emulator/`` pages.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlencode

from airflow_provider_wiziq.api.protocol.status import wire_status
from airflow_provider_wiziq.api.protocol.values import wire_datetime
from airflow_provider_wiziq.emulator import lifecycle
from airflow_provider_wiziq.emulator.config import DEFAULT_LANGUAGE
from airflow_provider_wiziq.emulator.store import StoredClass
from airflow_provider_wiziq.emulator.xmlwriter import Element, Text, document, element, text_element

#: How many minutes after the start each attendee joins, in turn: reports look lived-in, yet are repeatable.
_LATE_MINUTES = (0, 2, 5, 1, 3)


def call_id() -> str:
    return secrets.token_hex(6)


def success(method: str, body: Element) -> bytes:
    return document(element("rsp", element("method", Text(method)), body, status="ok", call_id=call_id()))


def failure(code: int, message: str) -> bytes:
    return document(element("rsp", element("error", code=code, msg=message), status="fail", call_id=call_id()))


class Links:
    """The URLs an answer hands out, on the running emulator (so they stay right after a restart)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url

    def presenter(self, cls: StoredClass) -> str:
        who = cls.presenter_email or cls.presenter_id or ""
        return f"{self.base}/_emulator/classroom/{cls.class_id}?{urlencode({'role': 'presenter', 'id': who})}"

    def attendee(self, cls: StoredClass, attendee_id: str) -> str:
        query = urlencode({"role": "attendee", "id": attendee_id})
        return f"{self.base}/_emulator/classroom/{cls.class_id}?{query}"

    def recording(self, cls: StoredClass) -> str:
        return f"{self.base}/_emulator/recording/{cls.class_id}" if cls.create_recording else ""

    def recording_status(self, cls: StoredClass, recording_format: str) -> str:
        """The status document of a recording download (``download_recording``'s ``status_xml_path``)."""
        return f"{self.base}/_emulator/recording/{cls.class_id}/status.xml?{urlencode({'format': recording_format})}"

    def recording_download(self, cls: StoredClass, recording_format: str) -> str:
        """The package itself (the status document's ``recording_download_path``)."""
        return f"{self.base}/_emulator/recording/{cls.class_id}/download.{recording_format}"


def presenter_list(cls: StoredClass, links: Links, *, with_id: bool = False) -> Element:
    """``presenter_list/presenter``: the email (or a room's presenter_id) and the presenter URL."""
    presenter = element("presenter")
    if with_id or cls.presenter_email is None:
        presenter.add(text_element("presenter_id", cls.presenter_id or cls.presenter_email))
    if cls.presenter_email is not None:
        presenter.add(text_element("presenter_email", cls.presenter_email))
    presenter.add(text_element("presenter_url", links.presenter(cls)))
    return element("presenter_list", presenter)


def class_details(cls: StoredClass, links: Links, *, with_master_id: bool = False) -> Element:
    """``class_details`` of a ``create`` answer (``with_master_id``), or of a series' first class.

    ``create``'s carries ``class_master_id``, which WizIQ's clients read: empty, since a class made alone
    belongs to no series (docs/emulator.md says why).
    """
    return element(
        "class_details",
        text_element("class_id", cls.class_id),
        text_element("class_master_id", cls.class_master_id) if with_master_id else None,
        text_element("recording_url", links.recording(cls)),
        presenter_list(cls, links),
    )


#: get_data's columns, in the order a record lists them when ``columns`` is not given.
COLUMNS: tuple[str, ...] = (
    "class_id",
    "title",
    "presenter_email",
    "presenter_id",
    "presenter_name",
    "presenter_url",
    "start_time",
    "time_zone",
    "duration",
    "extend_duration",
    "status",
    "recording_url",
    "is_recurring",
    "class_master_id",
    "attendee_limit",
    "time_to_start",
    "attendance_report_status",
    "create_recording",
    "language_culture_name",
    "class_recording_status",
    "attendee_url",
)


def record(
    cls: StoredClass,
    columns: tuple[str, ...],
    links: Links,
    now: datetime,
    report_delay: float,
    attendee_id: str | None = None,
) -> Element:
    """One ``get_data`` record with the asked columns; a cancelled class has no ``status`` element.

    ``attendee_url`` is the join link of the request's ``attendee_id`` (as WizIQ's Moodle module asks for it),
    left out when none is given or the attendee is not on the class's roster: WizIQ's Canvas plugin asks
    without an ``attendee_id`` and hands any text it finds, even an empty one, to the student as the link.
    """
    values: dict[str, Callable[[], str | int | None]] = {  # None: no element at all
        "class_id": lambda: cls.class_id,
        "title": lambda: cls.title,
        "presenter_email": lambda: cls.presenter_email or "",
        "presenter_id": lambda: cls.presenter_id or "",
        "presenter_name": lambda: cls.presenter_name or "",
        "presenter_url": lambda: links.presenter(cls),
        "start_time": lambda: wire_datetime(cls.local_start),
        "time_zone": lambda: cls.time_zone,
        "duration": lambda: cls.duration,
        "extend_duration": lambda: cls.extend_duration or 0,
        "status": lambda: wire_status(lifecycle.phase(cls, now)),
        "recording_url": lambda: links.recording(cls),
        "is_recurring": lambda: "True" if cls.class_master_id is not None else "False",  # as WizIQ wrote it
        "class_master_id": lambda: cls.class_master_id if cls.class_master_id is not None else "",
        "attendee_limit": lambda: cls.attendee_limit,
        "time_to_start": lambda: lifecycle.time_to_start(cls, now),
        "attendance_report_status": lambda: lifecycle.report(cls, now, report_delay).wire,
        "create_recording": lambda: "true" if cls.create_recording else "false",
        "language_culture_name": lambda: cls.language_culture_name or DEFAULT_LANGUAGE,
        "class_recording_status": lambda: lifecycle.recording(cls, now, report_delay).wire,
        "attendee_url": lambda: _attendee_url(cls, links, attendee_id),
    }
    out = element("record")
    for column in columns:
        value = values[column]()
        if value is not None:
            out.add(text_element(column, value))
    return out


def _attendee_url(cls: StoredClass, links: Links, attendee_id: str | None) -> str | None:
    if attendee_id is None or all(one.attendee_id != attendee_id for one in cls.attendees):
        return None
    return links.attendee(cls, attendee_id)


def schedule_entry(cls: StoredClass, links: Links, now: datetime, report_delay: float) -> Element:
    """One ``view_schedule`` entry; a cancelled class says ``cancelled`` here (the list has them all)."""
    current = lifecycle.phase(cls, now)
    return element(
        "class_details",
        text_element("class_id", cls.class_id),
        text_element("class_title", cls.title),
        text_element("start_time", wire_datetime(cls.local_start)),
        text_element("duration", cls.duration),
        text_element("class_status", wire_status(current) or current.value),
        text_element("recording_url", links.recording(cls)),
        text_element("attendance_report_status", lifecycle.report(cls, now, report_delay).wire),
        presenter_list(cls, links, with_id=True),
    )


def recording_status(
    cls: StoredClass, links: Links, now: datetime, report_delay: float, recording_format: str
) -> bytes:
    """The document at a download's ``status_xml_path``: ``download_status`` true, with the package's
    ``recording_download_path``, once the recording is ready (``report_delay`` after the class ends)."""
    ready = lifecycle.recording(cls, now, report_delay) is lifecycle.Report.AVAILABLE
    body = element(
        "download_recording",
        text_element("download_status", "true" if ready else "false"),
        text_element("recording_download_path", links.recording_download(cls, recording_format)) if ready else None,
        status="true",
    )
    return success("download_recording", body)


def attendance_rows(cls: StoredClass) -> list[Element]:
    """The presenter for the whole class, then each attendee joining a little late, all staying to the end."""
    presenter = cls.presenter_id or cls.presenter_email or ""
    presenter_row = _row(cls, "presenter_id", presenter, _presenter_name(cls), cls.utc_start)
    presenter_row.attributes["presenter"] = "true"  # as WizIQ marks it: <attendee presenter="true">
    rows = [presenter_row]
    for position, attendee in enumerate(cls.attendees):
        late = min(timedelta(minutes=_LATE_MINUTES[position % len(_LATE_MINUTES)]), cls.length)
        rows.append(_row(cls, "attendee_id", attendee.attendee_id, attendee.screen_name, cls.utc_start + late))
    return rows


def _presenter_name(cls: StoredClass) -> str:
    if cls.presenter_name:
        return cls.presenter_name
    return (cls.presenter_email or "").split("@")[0]


def _row(cls: StoredClass, id_name: str, who: str, screen_name: str, entry: datetime) -> Element:
    """One report line: entry and exit as wall clock in the class's zone, minutes counted in real time."""
    zone = cls.local_start.tzinfo
    return element(
        "attendee",
        text_element(id_name, who),
        text_element("screen_name", screen_name),
        text_element("entry_time", wire_datetime(entry.astimezone(zone))),
        text_element("exit_time", wire_datetime(cls.utc_end.astimezone(zone))),
        text_element("attended_minutes", int((cls.utc_end - entry) / timedelta(minutes=1))),
    )
