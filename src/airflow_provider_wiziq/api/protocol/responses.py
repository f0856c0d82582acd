"""WizIQ's XML answers turned into typed results, or into the right exception.

Every answer is ``<rsp status="ok|fail" call_id="...">``. :func:`parse_answer` checks that envelope and hands
back the method's own element; one ``parse_*`` function per method reads that element into frozen dataclasses.
Elements are found by name, not by one fixed path, because WizIQ's own clients disagree on the nesting.

Parsing (:mod:`~airflow_provider_wiziq.api.protocol.xmlread`) refuses DTDs before expat sees them, so nothing is ever
expanded, and refuses answers deeper or larger than any WizIQ answer. No exception raised here quotes the answer:
bodies may echo secrets. A method that answers with many records (``record``, ``class_details``,
``attendee``) builds each one as it is read and drops its elements (:class:`~.xmlread.Records`), so a long
answer never stands in memory as a whole tree; elements outside the records are still found by name.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar, overload
from xml.etree.ElementTree import Element

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQResponseError
from airflow_provider_wiziq.api.protocol.xmlread import Answer, Records, read_xml

__all__ = [
    "AccountInfo",
    "AddAttendeesResult",
    "AttendanceReport",
    "AttendanceRow",
    "Attendee",
    "ClassDetails",
    "ClassRecord",
    "Presenter",
    "RecordingDownload",
    "RecordingStatus",
    "RecurringSeries",
    "ScheduleEntry",
    "parse_account_info",
    "parse_add_attendees",
    "parse_answer",
    "parse_attendance_report",
    "parse_cancel",
    "parse_create",
    "parse_create_recurring",
    "parse_download_recording",
    "parse_get_data",
    "parse_modify",
    "parse_recording_status",
    "parse_view_schedule",
    "parse_wiziq_datetime",
]

_TAG_SHOWN = 40
_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------------------
# The envelope
# ---------------------------------------------------------------------------------------------------------


def parse_answer(body: Answer, method: str, records: Records[Any] | None = None) -> Element:
    """Check the ``<rsp>`` envelope and return the ``<method>`` element of a success.

    ``records`` are built while the answer is read and are missing from the element returned.

    Raises :class:`WizIQAPIError` for ``status="fail"`` and :class:`WizIQResponseError` for anything that is
    not a WizIQ answer (``hostile=True`` when it declares a DTD or entities).
    """
    root = read_xml(body, method, records)
    if root.tag != "rsp":
        raise WizIQResponseError(f"the root element is <{_shown(root.tag)}>, not <rsp>", method=method)
    status = (root.get("status") or "").strip().lower()
    if status == "fail":
        raise _api_error(root, method)
    if status != "ok":
        raise WizIQResponseError(f"<rsp> has {_describe_status(root.get('status'))}", method=method)
    element = _find(root, method)
    if element is None:
        raise WizIQResponseError(f"no <{method}> element in the answer", method=method)
    return element


def _api_error(root: Element, method: str) -> WizIQAPIError | WizIQResponseError:
    """The :class:`WizIQAPIError` a fail answer carries, or why it cannot be read."""
    error = _find(root, "error")
    code_text = (error.get("code") or "").strip() if error is not None else ""
    if error is None or not re.fullmatch(r"-?\d{1,9}", code_text, re.ASCII):
        return WizIQResponseError("a fail answer without a readable <error code=...> element", method=method)
    code = int(code_text)
    message = (error.get("msg") or error.text or "").strip()
    if not message:
        return WizIQAPIError.from_code(code, method=method)
    return WizIQAPIError(code, message, method=method)


def _describe_status(status: str | None) -> str:
    if status is None:
        return "no status attribute"
    if re.fullmatch(r"[A-Za-z]{1,16}", status.strip()):
        return f"status {status.strip()!r}, neither 'ok' nor 'fail'"
    return f"a {len(status)}-character status, neither 'ok' nor 'fail'"


def _shown(tag: str) -> str:
    return tag if len(tag) <= _TAG_SHOWN else tag[:_TAG_SHOWN] + "..."


# ---------------------------------------------------------------------------------------------------------
# Reading elements by name
# ---------------------------------------------------------------------------------------------------------


def _find(parent: Element, name: str) -> Element | None:
    """The element called ``name``: a direct child if there is one, else the first one anywhere below."""
    for child in parent:
        if child.tag == name:
            return child
    for element in parent.iter(name):
        if element is not parent:
            return element
    return None


def _text(parent: Element, name: str) -> str | None:
    """The stripped text of the element called ``name`` (CDATA included); None when missing or empty."""
    element = _find(parent, name)
    if element is None:
        return None
    return (element.text or "").strip() or None


def _int(parent: Element, name: str, *, method: str) -> int | None:
    text = _text(parent, name)
    return None if text is None else _to_int(text, name, method=method)


def _id(parent: Element, name: str, *, method: str) -> int | None:
    text = _text(parent, name)
    return None if text is None else _to_id(text, name, method=method)


def _required_id(parent: Element, name: str, *, where: str, method: str, note: str = "") -> int:
    """An id the result cannot do without: its absence is a :class:`WizIQResponseError` naming it."""
    element = _find(parent, name)
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        missing = "no" if element is None else "an empty"
        raise WizIQResponseError(f"{missing} <{name}> element under <{where}>{note}", method=method)
    return _to_id(text, name, method=method, note=note)


_DIGITS = re.compile(r"\d{1,18}", re.ASCII)
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,18}", re.ASCII)


def _to_id(text: str, name: str, *, method: str, note: str = "") -> int:
    """A WizIQ id (class, series): a whole number above 0. Anything else is no id at all."""
    if _DIGITS.fullmatch(text) and int(text) > 0:
        return int(text)
    if _WHOLE_NUMBER.fullmatch(text):
        raise WizIQResponseError(f"<{name}> is 0 or below: not a WizIQ id{note}", method=method)
    raise WizIQResponseError(f"<{name}> is not a whole number ({len(text)} characters){note}", method=method)


def _to_int(text: str, name: str, *, method: str) -> int:
    if not _WHOLE_NUMBER.fullmatch(text):
        raise WizIQResponseError(f"<{name}> is not a whole number ({len(text)} characters)", method=method)
    return int(text)


# The checks of a get_data page's typed columns, run on every record: ASCII digits, read with str's own
# tests first (what the patterns above accept when there is no sign); anything else goes to the reader
# above, which accepts it the same way or says why not.


def _check_id(text: str, name: str, method: str) -> None:
    if not (len(text) <= 18 and text.isascii() and text.isdigit() and int(text)):
        _to_id(text, name, method=method)


def _check_int(text: str, name: str, method: str) -> None:
    if not (len(text) <= 18 and text.isascii() and text.isdigit()):
        _to_int(text, name, method=method)


def _check_datetime(text: str, name: str, method: str) -> None:
    _to_datetime(text, name, method=method)


def _datetime(parent: Element, name: str, *, method: str) -> datetime | None:
    text = _text(parent, name)
    return None if text is None else _to_datetime(text, name, method=method)


def _to_datetime(text: str, name: str, *, method: str) -> datetime:
    try:
        return parse_wiziq_datetime(text)
    except ValueError:
        raise WizIQResponseError(
            f"<{name}> is not a WizIQ date and time ({len(text)} characters)", method=method
        ) from None


def _flag(element: Element | None) -> bool:
    """WizIQ's ``value="1"`` (or ``true``) flags; a missing element is False."""
    if element is None:
        return False
    value = element.get("value")
    if value is None:
        value = element.text or ""
    return _truth(value) is True


def _truth(text: str) -> bool | None:
    """A WizIQ yes/no in any of its spellings: ``True``/``False`` (get_data's ``is_recurring``), ``true``/``false``,
    ``1``/``0``; None for anything else, an empty text included."""
    spelled = text.strip().lower()
    return True if spelled in ("1", "true") else False if spelled in ("0", "false") else None


# ---------------------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------------------


def parse_wiziq_datetime(text: str) -> datetime:
    """Read WizIQ's ``6/22/2011 1:40:59 AM`` or ``MM/DD/YYYY HH:MM[:SS]`` as a naive wall-clock datetime.

    The form and its AM/PM rule are :func:`.values.wiziq_datetime_fields`, the reader of requests, so what the
    client reads in an answer and what the emulator reads in a request agree. Parsed by hand rather than
    with ``%p`` so that the process locale cannot change what AM and PM mean.
    """
    parts = values.wiziq_datetime_fields(text)  # a designator that does not fit its hour raises ValueError
    if parts is None:
        raise ValueError(
            f"not a WizIQ date and time ({len(text)} characters): "
            "expected 'M/D/YYYY h:mm:ss AM' or 'MM/DD/YYYY HH:MM[:SS]'"
        )
    return datetime(*parts)


# ---------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------


def _plain(value: object) -> Any:
    """JSON-ready data: datetimes as ISO strings, tuples as lists, results as their ``to_dict()``."""
    if isinstance(value, _Result):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


_new_object = object.__new__
_set_attribute = object.__setattr__


class _Result:
    """Shared ``to_dict()``: one key per dataclass field, values made JSON-ready (for XCom and logs)."""

    __slots__ = ()  # a result that declares its own slots (ClassRecord) has no __dict__

    def to_dict(self) -> dict[str, Any]:
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}  # type: ignore[arg-type]


class _FrozenMapping(Mapping[str, str]):
    """A read-only, hashable mapping that, unlike ``MappingProxyType``, can be pickled and deep-copied.

    Its names are an index (name to position) and its texts a tuple in that order: the records of a
    ``get_data`` page, which have the same columns, share one index, so a page holds a tuple of texts a
    record rather than a dict a record.
    """

    __slots__ = ("_index", "_values")

    def __init__(self, data: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        texts = dict(data)
        self._index = {name: position for position, name in enumerate(texts)}
        self._values = tuple(texts.values())

    @classmethod
    def _of(cls, index: dict[str, int], values: tuple[str, ...]) -> _FrozenMapping:
        """The mapping of ``index`` (shared, never changed) and ``values``, as they are."""
        mapping = _new_object(cls)
        mapping._index = index
        mapping._values = values
        return mapping

    def __getitem__(self, key: str) -> str:
        return self._values[self._index[key]]

    # Mapping's own get and __contains__ go through __getitem__ and a KeyError; a status poll reads a
    # record's columns a few times per class, every round.
    @overload
    def get(self, key: str, /) -> str | None: ...

    @overload
    def get(self, key: str, /, default: str | _T) -> str | _T: ...

    def get(self, key: str, /, default: object = None) -> object:
        position = self._index.get(key)
        return default if position is None else self._values[position]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        return hash(frozenset(zip(self._index, self._values, strict=True)))

    def __repr__(self) -> str:
        return repr(dict(zip(self._index, self._values, strict=True)))

    def __reduce__(self) -> tuple[type[_FrozenMapping], tuple[dict[str, str]]]:
        return _FrozenMapping, (dict(zip(self._index, self._values, strict=True)),)


@dataclasses.dataclass(frozen=True)
class Presenter(_Result):
    """A presenter of a class: ``presenter_email`` (or ``presenter_id`` on room-based accounts) and URL."""

    email: str | None
    presenter_id: str | None
    url: str | None


@dataclasses.dataclass(frozen=True)
class ClassDetails(_Result):
    """``<class_details>`` of a ``create`` answer, or of the first class of a ``create_recurring`` one."""

    class_id: int
    recording_url: str | None
    presenters: tuple[Presenter, ...]
    #: The series the class belongs to: a series' first class has its id; a class made with ``create`` has
    #: None (WizIQ's answer then has no ``class_master_id``, or an empty one, as the emulator writes it).
    class_master_id: int | None = None

    @property
    def presenter_url(self) -> str | None:
        """The first presenter's URL: the link a DAG hands to the teacher."""
        return self.presenters[0].url if self.presenters else None


@dataclasses.dataclass(frozen=True)
class RecurringSeries(_Result):
    """A ``create_recurring`` success: the series id, its first class and WizIQ's summary."""

    class_master_id: int
    first_class: ClassDetails
    recurring_summary: str | None
    is_recurring: bool


@dataclasses.dataclass(frozen=True)
class ScheduleEntry(_Result):
    """One class of a ``view_schedule`` answer; ``start_time`` is naive wall clock in the class's zone."""

    class_id: int
    class_title: str | None
    start_time: datetime | None
    duration: int | None
    class_status: str | None
    recording_url: str | None
    attendance_report_status: str | None
    presenters: tuple[Presenter, ...]


@dataclasses.dataclass(frozen=True)
class ClassRecord(_Result):
    """One ``get_data`` record: every column WizIQ sent, by name; a missing column is absent.

    The columns are kept as text because callers choose them; the properties read the ones the status
    model needs. A cancelled class comes with no ``status`` at all.
    """

    __slots__ = ("fields",)  # a page holds a hundred of them: no __dict__ each

    fields: Mapping[str, str]

    def __post_init__(self) -> None:
        if not isinstance(self.fields, _FrozenMapping):
            object.__setattr__(self, "fields", _FrozenMapping(self.fields))

    @classmethod
    def _of(cls, fields: _FrozenMapping) -> ClassRecord:
        """The record of ``fields`` (what ``__init__`` makes, without its check)."""
        record = _new_object(cls)
        _set_attribute(record, "fields", fields)
        return record

    def __reduce__(self) -> tuple[type[ClassRecord], tuple[Mapping[str, str]]]:
        # A frozen class with slots unpickles through setattr, which it refuses: rebuild it instead.
        return ClassRecord, (self.fields,)

    def _value(self, name: str) -> str | None:
        fields: _FrozenMapping = self.fields  # type: ignore[assignment]  # always one (__post_init__)
        position = fields._index.get(name)
        return None if position is None else (fields._values[position] or None)

    @property
    def class_id(self) -> int | None:
        value = self._value("class_id")
        return None if value is None else int(value)

    @property
    def status(self) -> str | None:
        return self._value("status")

    @property
    def time_to_start(self) -> int | None:
        """Minutes until the class starts; ``-1`` while it is in progress."""
        value = self._value("time_to_start")
        return None if value is None else int(value)

    @property
    def start_time(self) -> datetime | None:
        """Naive wall clock in the record's ``time_zone``."""
        value = self._value("start_time")
        return None if value is None else parse_wiziq_datetime(value)

    @property
    def is_recurring(self) -> bool | None:
        """Whether the class belongs to a series: WizIQ writes ``True``/``False``; ``true``/``1`` read too."""
        value = self._value("is_recurring")
        return None if value is None else _truth(value)


@dataclasses.dataclass(frozen=True)
class Attendee(_Result):
    """An attendee added to a class, with the URL that admits them."""

    attendee_id: str
    attendee_url: str | None


@dataclasses.dataclass(frozen=True)
class AddAttendeesResult(_Result):
    """An ``add_attendees`` success."""

    class_id: int | None
    attendees: tuple[Attendee, ...]


@dataclasses.dataclass(frozen=True)
class AttendanceRow(_Result):
    """One line of an attendance report: an attendee (``attendee_id``) or the presenter (``presenter_id``)."""

    attendee_id: str | None
    presenter_id: str | None
    screen_name: str | None
    entry_time: datetime | None
    exit_time: datetime | None
    attended_minutes: int | None


@dataclasses.dataclass(frozen=True)
class AttendanceReport(_Result):
    """A ``get_attendance_report`` success."""

    class_id: int | None
    class_duration: int | None
    rows: tuple[AttendanceRow, ...]


@dataclasses.dataclass(frozen=True)
class RecordingDownload(_Result):
    """A ``download_recording`` success: whether the class has a recording to download (``status``), whether
    WizIQ took the request to package it (``download_status``), and the URL of the status document that says
    when the package is ready (read it with :func:`parse_recording_status`)."""

    status: bool
    download_status: bool
    status_xml_path: str | None


@dataclasses.dataclass(frozen=True)
class RecordingStatus(_Result):
    """The status document of a recording download (at ``status_xml_path``): ready or not, and the package's URL."""

    download_status: bool
    recording_download_path: str | None


@dataclasses.dataclass(frozen=True)
class AccountInfo(_Result):
    """A ``get_account_info`` success: whatever account details WizIQ sent, by element name."""

    fields: Mapping[str, str]

    def __post_init__(self) -> None:
        if not isinstance(self.fields, _FrozenMapping):
            object.__setattr__(self, "fields", _FrozenMapping(self.fields))


# ---------------------------------------------------------------------------------------------------------
# One parser per method
# ---------------------------------------------------------------------------------------------------------


def _presenters(details: Element) -> tuple[Presenter, ...]:
    """``presenter_list/presenter*``; a presenter written straight into ``class_details`` also counts."""
    found = list(details.iter("presenter"))
    if not found and any(
        _find(details, name) is not None for name in ("presenter_email", "presenter_id", "presenter_url")
    ):
        found = [details]
    return tuple(
        Presenter(
            email=_text(presenter, "presenter_email"),
            presenter_id=_text(presenter, "presenter_id"),
            url=_text(presenter, "presenter_url"),
        )
        for presenter in found
    )


def _class_details(
    details: Element, *, where: str, method: str, note: str = "", class_master_id: int | None = None
) -> ClassDetails:
    return ClassDetails(
        class_id=_required_id(details, "class_id", where=where, method=method, note=note),
        recording_url=_text(details, "recording_url"),
        presenters=_presenters(details),
        class_master_id=class_master_id,
    )


def _child_texts(parent: Element) -> _FrozenMapping:
    """Direct children as ``name -> stripped text``; an empty element maps to ``""``, the first one wins."""
    texts = _texts(parent)
    return _FrozenMapping._of({name: position for position, name in enumerate(texts)}, tuple(texts.values()))


def _texts(parent: Element, previous: Mapping[str, str] | None = None) -> dict[str, str]:
    """:func:`_child_texts` as a new dict. A text equal to ``previous``'s for the same name is that same
    string: the columns of a page repeat, and a page is held as records, not bytes."""
    texts: dict[str, str] = {}
    for child in parent:
        name = child.tag
        if name in texts or not isinstance(name, str):
            continue
        text = child.text
        text = text.strip() if text else ""
        if previous is not None:
            last = previous.get(name)
            if last == text:
                text = last  # the same string as the last record's
        texts[name] = text
    return texts


def _row(record: Element, last: _FrozenMapping | None) -> _FrozenMapping:
    """A ``get_data`` record's columns (:func:`_child_texts`). When it has ``last``'s columns in the same
    order, as the records of a page do, it shares ``last``'s index and keeps ``last``'s string for an equal
    text; otherwise it gets an index of its own."""
    if last is not None and len(record) == len(last._values):
        before = last._values
        values: list[str] = []
        for position, (child, name) in enumerate(zip(record, last._index, strict=True)):
            if child.tag != name:
                break
            text = child.text
            text = text.strip() if text else ""
            values.append(before[position] if text == before[position] else text)
        else:
            return _FrozenMapping._of(last._index, tuple(values))
    texts = _texts(record, last)
    return _FrozenMapping._of({name: position for position, name in enumerate(texts)}, tuple(texts.values()))


def parse_create_recurring(body: Answer) -> RecurringSeries:
    """Read a ``create_recurring`` success; its elements are found by name, wherever they are nested."""
    method = "create_recurring"
    element = parse_answer(body, method)
    class_master_id = _required_id(element, "class_master_id", where=method, method=method)
    # The series exists by now: say so in any error, so that nobody books it a second time.
    note = f" (the series was created: class_master_id {class_master_id})"
    details = _find(element, "class_details")
    if details is None:
        raise WizIQResponseError(f"no <class_details> element under <{method}>{note}", method=method)
    return RecurringSeries(
        class_master_id=class_master_id,
        first_class=_class_details(
            details, where="class_details", method=method, note=note, class_master_id=class_master_id
        ),
        recurring_summary=_text(element, "recurring_summary"),
        is_recurring=_flag(_find(element, "is_recurring")),
    )


def _series_of_a_single_class(element: Element) -> int | None:
    """``create``'s optional ``class_master_id``: an id, or None for anything else (empty, ``0``, unreadable).

    Leniently: the class exists by the time this is read, and an odd optional value must not turn its
    creation into an error that a retry would answer by booking it again.
    """
    text = _text(element, "class_master_id") or ""
    return int(text) if re.fullmatch(r"\d{1,18}", text, re.ASCII) and int(text) > 0 else None


def parse_create(body: Answer) -> ClassDetails:
    """Read a ``create`` success: ``create/class_details`` (or the fields straight under ``create``), and the
    ``class_master_id`` found anywhere under ``create``, if any (empty for a class made alone)."""
    method = "create"
    element = parse_answer(body, method)
    master = _series_of_a_single_class(element)
    details = _find(element, "class_details")
    if details is None:
        return _class_details(element, where=method, method=method, class_master_id=master)
    return _class_details(details, where="class_details", method=method, class_master_id=master)


def parse_view_schedule(body: Answer) -> tuple[ScheduleEntry, ...]:
    """Read a ``view_schedule`` page: one entry per ``class_details``, in WizIQ's order."""
    method = "view_schedule"

    def entry(details: Element) -> ScheduleEntry:
        return ScheduleEntry(
            class_id=_required_id(details, "class_id", where="class_details", method=method),
            class_title=_text(details, "class_title") or _text(details, "title"),
            start_time=_datetime(details, "start_time", method=method),
            duration=_int(details, "duration", method=method),
            class_status=_text(details, "class_status"),
            recording_url=_text(details, "recording_url"),
            attendance_report_status=_text(details, "attendance_report_status"),
            presenters=_presenters(details),
        )

    records = Records("class_details", method, entry)
    return tuple(records.under(parse_answer(body, method, records)))


def parse_get_data(body: Answer) -> tuple[ClassRecord, ...]:
    """Read a ``get_data`` page: one record per class; the typed columns are checked here, once."""
    method = "get_data"
    last: list[_FrozenMapping] = []  # the record before, whose index and equal texts the next one shares
    # Per typed column, the last text that passed its check: a repeated text (the same string, as _row
    # keeps it) is not checked again.
    passed: dict[str, str] = {}

    def record(element: Element) -> ClassRecord:
        fields = _row(element, last[0] if last else None)
        last[:] = (fields,)
        index, values = fields._index, fields._values
        for name, check in _GET_DATA_CHECKS:
            position = index.get(name)
            if position is not None:
                text = values[position]
                if text and passed.get(name) is not text:
                    check(text, name, method)
                    passed[name] = text
        return ClassRecord._of(fields)

    records = Records("record", method, record)
    return tuple(records.under(parse_answer(body, method, records)))


#: The get_data columns read as more than text, and the check each one's text must pass.
_GET_DATA_CHECKS: tuple[tuple[str, Callable[[str, str, str], None]], ...] = (
    ("class_id", _check_id),
    ("class_master_id", _check_id),
    ("time_to_start", _check_int),
    ("start_time", _check_datetime),
)


def _status_true(element: Element, method: str) -> bool:
    """``<cancel status="true"/>``: True, also when the attribute is missing; ``false`` gives False."""
    status = element.get("status")
    if status is None or status.strip().lower() in ("true", "1"):
        return True
    if status.strip().lower() in ("false", "0"):
        return False
    raise WizIQResponseError(f"<{method}> has a status that is neither 'true' nor 'false'", method=method)


def parse_cancel(body: Answer) -> bool:
    """Read a ``cancel`` success: whether WizIQ says the class is cancelled."""
    return _status_true(parse_answer(body, "cancel"), "cancel")


def parse_modify(body: Answer) -> bool:
    """Read a ``modify`` success: whether WizIQ says the class was changed."""
    return _status_true(parse_answer(body, "modify"), "modify")


def parse_add_attendees(body: Answer) -> AddAttendeesResult:
    """Read an ``add_attendees`` success: each attendee's id and the URL that admits them."""
    method = "add_attendees"

    def attendee(element: Element) -> Attendee:
        attendee_id = _text(element, "attendee_id")
        if attendee_id is None:
            raise WizIQResponseError("an <attendee> without <attendee_id>", method=method)
        return Attendee(attendee_id=attendee_id, attendee_url=_text(element, "attendee_url"))

    records = Records("attendee", method, attendee)
    element = parse_answer(body, method, records)
    attendees = tuple(records.under(element))
    return AddAttendeesResult(class_id=_id(element, "class_id", method=method), attendees=attendees)


def parse_attendance_report(body: Answer) -> AttendanceReport:
    """Read a ``get_attendance_report`` success: one row per attendee or presenter who came."""
    method = "get_attendance_report"

    def row(attendee: Element) -> AttendanceRow:
        return AttendanceRow(
            attendee_id=_text(attendee, "attendee_id"),
            presenter_id=_text(attendee, "presenter_id"),
            screen_name=_text(attendee, "screen_name"),
            entry_time=_datetime(attendee, "entry_time", method=method),
            exit_time=_datetime(attendee, "exit_time", method=method),
            attended_minutes=_int(attendee, "attended_minutes", method=method),
        )

    records = Records("attendee", method, row)
    element = parse_answer(body, method, records)
    rows = tuple(records.under(element))
    return AttendanceReport(
        class_id=_id(element, "class_id", method=method),
        class_duration=_int(element, "class_duration", method=method),
        rows=rows,
    )


def parse_download_recording(body: Answer) -> RecordingDownload:
    """Read a ``download_recording`` success: ``download_recording[@status]`` with ``download_status`` and
    ``status_xml_path`` (as WizIQ's WordPress plugin and Moodle module read it)."""
    method = "download_recording"
    element = parse_answer(body, method)
    return RecordingDownload(
        status=_status_true(element, method),
        download_status=_truth(_text(element, "download_status") or "") is True,
        status_xml_path=_text(element, "status_xml_path"),
    )


def parse_recording_status(body: Answer) -> RecordingStatus:
    """Read the status document a ``download_recording`` answer points to: ``download_recording`` with
    ``download_status`` and, once it is ``true``, ``recording_download_path``."""
    method = "download_recording"
    element = parse_answer(body, method)
    ready = _truth(_text(element, "download_status") or "") is True
    return RecordingStatus(
        download_status=ready, recording_download_path=_text(element, "recording_download_path") if ready else None
    )


def parse_account_info(body: Answer) -> AccountInfo:
    """Read a ``get_account_info`` success; only that it is ``ok`` matters, the details are kept as text."""
    return AccountInfo(fields=_child_texts(parse_answer(body, "get_account_info")))
