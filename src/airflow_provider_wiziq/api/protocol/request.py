"""The ``create`` and ``create_recurring`` requests: read, validated and written in WizIQ's wire format.

This is the one place that decides whether such a request is valid. The operator's preview, the client
before sending, and the emulator on receiving all call it, so they agree on every error code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.vocabulary import CREATE_PARAMETERS, LAST, RepeatType, Weekday
from airflow_provider_wiziq.api.rules.recurrence import RecurrenceRule, ScheduledClass, expand, localize

#: Fields every call carries for authentication and routing: not request parameters.
TRANSPORT_FIELDS = frozenset({"access_key", "timestamp", "signature", "method"})

#: WizIQ caps a title at 70 characters (error 1052).
_MAX_TITLE_LENGTH = 70
_DEFAULT_DURATION = 60
_DEFAULT_ATTENDEE_LIMIT = 2
_DEFAULT_TIME_ZONE = "GMT"
_PRESENTER_CONTROLS = ("audio", "video")
_ATTENDEE_CONTROLS = ("audio", "writing")
#: A start up to this long before now is "now", not the past (1004). WizIQ's own clients schedule "now" with a
#: moment already past when it arrives: the WordPress plugin the wall clock in whole seconds, the Moodle module
#: the moment its form was opened, minutes before it is posted (docs/wiziq-api.md §9). The one definition: the
#: client checks with it before sending, and it is the emulator's default (its ``start_grace`` option).
START_GRACE = timedelta(minutes=15)
#: The server defaults that surprise (docs/wiziq-api.md §3), and what each means when it applies.
SERVER_DEFAULTS = {
    "attendee_limit": f"not given: WizIQ's default of {_DEFAULT_ATTENDEE_LIMIT} attendees applies",
    "time_zone": f"not given and start_time has no zone: the start is read as {_DEFAULT_TIME_ZONE}",
}

_Request = TypeVar("_Request", bound="CreateClassRequest")


@dataclass(frozen=True)
class CreateClassRequest:
    """One class (the ``create`` method): the fields a recurring series shares with it."""

    method: ClassVar[str] = "create"

    title: str
    start_wall_clock: datetime  # naive wall-clock time in time_zone
    time_zone: str
    presenter_email: str | None = None
    presenter_id: str | None = None
    presenter_name: str | None = None
    duration: int = _DEFAULT_DURATION
    extend_duration: int | None = None
    attendee_limit: int = _DEFAULT_ATTENDEE_LIMIT
    language_culture_name: str | None = None
    presenter_default_controls: tuple[str, ...] | None = None
    attendee_default_controls: tuple[str, ...] | None = None
    create_recording: bool | None = None
    return_url: str | None = None
    status_ping_url: str | None = None
    #: The parameters left out whose surprising server default applies (keys of SERVER_DEFAULTS).
    defaults_applied: tuple[str, ...] = field(default=(), compare=False)

    #: Every parameter this request reads, as WizIQ spells it: the one list (operators template these).
    PARAMETERS: ClassVar[tuple[str, ...]] = CREATE_PARAMETERS

    @classmethod
    def parameter_names(cls) -> frozenset[str]:
        """:attr:`PARAMETERS` as a set."""
        return frozenset(cls.PARAMETERS)

    @classmethod
    def from_params(cls: type[_Request], params: Mapping[str, Any], *, strict: bool = True) -> _Request:
        """Read natural values or wire strings; raise :class:`WizIQValidationError` on the first bad one.

        ``strict`` refuses parameter names WizIQ does not know (a typo in a DAG would otherwise be lost).
        """
        given = {key: value for key, value in params.items() if key not in TRANSPORT_FIELDS}
        if strict:
            unknown = sorted(set(given) - cls.parameter_names())
            if unknown:
                raise WizIQValidationError(unknown[0], "is not a parameter of " + cls.method, method=cls.method)
        with _about(cls.method):
            return cls(**cls._read(given))

    @classmethod
    def _read(cls, p: Mapping[str, Any]) -> dict[str, Any]:
        # In WizIQ's order of checks: title, start_time, time_zone, the presenter, then the rest.
        title = _read_title(p.get("title"))
        if title is None:
            raise WizIQValidationError("title", "is required", code=Code.TITLE_MISSING)
        start, tz = _start_and_zone(p)
        defaults = []
        if tz is None:
            tz, defaults = ZoneInfo(_DEFAULT_TIME_ZONE), ["time_zone"]
        read: dict[str, Any] = {"start_wall_clock": _wall_clock(start, tz), "time_zone": tz.key, **_presenter(p)}
        read.update((name, reader(p.get(name))) for name, reader in _READERS.items())
        if read["attendee_limit"] is None:
            read["attendee_limit"] = _DEFAULT_ATTENDEE_LIMIT
            defaults.append("attendee_limit")
        if read["duration"] is None:
            read["duration"] = _DEFAULT_DURATION
        read["defaults_applied"] = tuple(sorted(defaults))
        return read

    def server_defaults(self) -> dict[str, str]:
        """The surprising server defaults this request relies on, by parameter, each with what it means."""
        return {name: SERVER_DEFAULTS[name] for name in self.defaults_applied}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def start(self) -> datetime:
        """The start as an aware local datetime (a wall clock in a DST gap is moved, see recurrence)."""
        return localize(self.start_wall_clock, self.zone)[0]

    def check_context(
        self, *, now: datetime | None = None, limits: PlanLimits | None = None, start_grace: timedelta = START_GRACE
    ) -> None:
        """The checks that depend on the moment and the account's plan: 1004 (a start more than ``start_grace``
        before ``now``), 1010, 1011."""
        limits = limits or PlanLimits()
        now = now or datetime.now(timezone.utc)
        if self.start < now.replace(microsecond=0) - start_grace:  # the wire has whole seconds
            raise WizIQValidationError(
                "start_time",
                f"{self.start.isoformat()} is before now ({now.isoformat(timespec='seconds')})",
                code=Code.START_TIME_PASSED,
                method=self.method,
            )
        for name, value, limit, code in (
            ("duration", self.duration, limits.max_class_minutes, Code.DURATION_OVER_PLAN),
            ("attendee_limit", self.attendee_limit, limits.max_user_per_class, Code.ATTENDEE_LIMIT_OVER_PLAN),
        ):
            if limit is not None and value > limit:
                raise WizIQValidationError(
                    name,
                    f"{value} is over the plan's {limit}",
                    code=code,
                    method=self.method,
                    plan_limits=limits.placeholders(),
                )

    def validate(
        self, *, now: datetime | None = None, limits: PlanLimits | None = None, start_grace: timedelta = START_GRACE
    ) -> ScheduledClass:
        """Every check WizIQ makes; returns the one class to be created."""
        self.check_context(now=now, limits=limits, start_grace=start_grace)
        local, in_gap, in_fold = localize(self.start_wall_clock, self.zone)
        scheduled = ScheduledClass(0, self.start_wall_clock, local, local.astimezone(timezone.utc), in_gap, in_fold)
        if scheduled.utc_start.date() > values.LAST_DAY:
            raise WizIQValidationError(
                "start_time",
                f"is after {values.LAST_DAY} in UTC, the last day a class can be booked",
                code=Code.START_TIME_INVALID,
            )
        self._check_ends_in_calendar(scheduled)
        return scheduled

    def _check_ends_in_calendar(self, last: ScheduledClass) -> None:
        """The last class must also end before the calendar does (a start near year 9999 and a long duration)."""
        try:
            end = last.utc_start + timedelta(minutes=self.duration + (self.extend_duration or 0))
        except OverflowError:
            end = None
        if end is None or end.date() > values.LAST_DAY:
            raise WizIQValidationError(
                "duration",
                f"a class starting {last.utc_start:%Y-%m-%d %H:%M}Z would end after {values.LAST_DAY}",
                method=self.method,
            )

    def to_wire(self) -> dict[str, str]:
        """The request's fields exactly as WizIQ reads them (authentication fields not included)."""
        wire = {
            "title": self.title,
            "start_time": values.wire_datetime(self.start_wall_clock),
            "time_zone": self.time_zone,
            "attendee_limit": str(self.attendee_limit),
            "duration": str(self.duration),
        }
        for name in ("presenter_email", "presenter_id", "presenter_name"):
            value = getattr(self, name)
            if value is not None:
                wire[name] = value
        for name, write in _WRITERS.items():
            value = getattr(self, name)
            if name not in wire and value is not None:
                wire[name] = write(value)
        return wire


@dataclass(frozen=True)
class CreateRecurringRequest(CreateClassRequest):
    """A recurring series (the ``create_recurring`` method)."""

    method: ClassVar[str] = "create_recurring"

    repeat_type: RepeatType = RepeatType.DAILY
    class_occurrence: int | None = None
    class_end_date: date | None = None
    specific_week: int | None = None
    days_of_week: tuple[Weekday, ...] = ()
    monthly_date: int | None = None
    monthly_day: int | None = None
    monthly_week_day: Weekday | None = None

    PARAMETERS: ClassVar[tuple[str, ...]] = CREATE_PARAMETERS + RecurrenceRule.PARAMETERS

    @classmethod
    def _read(cls, p: Mapping[str, Any]) -> dict[str, Any]:
        read = super()._read(p)
        read.update(RecurrenceRule.read_fields(p))
        return read

    def recurrence_rule(self) -> RecurrenceRule:
        return RecurrenceRule(
            repeat_type=self.repeat_type,
            start=self.start_wall_clock,
            time_zone=self.time_zone,
            class_occurrence=self.class_occurrence,
            class_end_date=self.class_end_date,
            specific_week=self.specific_week or 1,
            days_of_week=self.days_of_week,
            monthly_date=self.monthly_date,
            monthly_day=self.monthly_day,
            monthly_week_day=self.monthly_week_day,
        )

    def validate(  # type: ignore[override]
        self, *, now: datetime | None = None, limits: PlanLimits | None = None, start_grace: timedelta = START_GRACE
    ) -> tuple[ScheduledClass, ...]:
        """Every check WizIQ makes; returns the series' classes in order."""
        limits = limits or PlanLimits()
        self.check_context(now=now, limits=limits, start_grace=start_grace)
        with _about(self.method):
            classes = expand(self.recurrence_rule(), max_classes=limits.max_series_classes)
        self._check_ends_in_calendar(classes[-1])
        return classes

    def to_wire(self) -> dict[str, str]:
        wire = super().to_wire()
        wire.update(self.recurrence_rule().to_wire())
        return wire


@contextmanager
def _about(method: str) -> Iterator[None]:
    """Name the API method in validation errors raised by the readers, which do not know it."""
    try:
        yield
    except WizIQValidationError as error:
        error.method = error.method or method
        raise


def _presenter(p: Mapping[str, Any]) -> dict[str, str | None]:
    """Who presents (docs/wiziq-api.md §11): ``presenter_email`` when given, with any ``presenter_id`` and
    ``presenter_name`` carried along (WizIQ's WordPress plugin sends all three); else ``presenter_id`` with
    ``presenter_name``, a room-based account's presenter."""
    presenter_id = _read_presenter_id(p.get("presenter_id"))
    presenter_name = _read_presenter_name(p.get("presenter_name"))
    if values.is_given(p.get("presenter_email")) or (presenter_id is None and presenter_name is None):
        address = _read_presenter_email(p.get("presenter_email"))
        return {"presenter_email": address, "presenter_id": presenter_id, "presenter_name": presenter_name}
    if presenter_id is None:
        raise WizIQValidationError("presenter_id", "is required with presenter_name", code=Code.PRESENTER_ID_MISSING)
    if presenter_name is None:
        raise WizIQValidationError("presenter_name", "is required with presenter_id", code=Code.PRESENTER_NAME_MISSING)
    return {"presenter_email": None, "presenter_id": presenter_id, "presenter_name": presenter_name}


def _read_presenter_email(value: object) -> str:
    return values.email(
        "presenter_email", value, missing_code=Code.PRESENTER_EMAIL_MISSING, invalid_code=Code.PRESENTER_EMAIL_INVALID
    )


def _read_presenter_id(value: object) -> str | None:
    return values.text("presenter_id", value, whole_number_ok=True)


def _read_presenter_name(value: object) -> str | None:
    return values.text("presenter_name", value)


def _start_and_zone(p: Mapping[str, Any]) -> tuple[datetime, ZoneInfo | None]:
    """``start_time`` as read, and the zone it is in: ``time_zone``, else an aware start's own, else None."""
    start = values.start_time("start_time", p.get("start_time"))
    tz = values.zone("time_zone", p.get("time_zone"))
    if tz is None and start.tzinfo is not None:
        tz = values.zone_of("start_time", start.tzinfo, start)
    return start, tz


def _wall_clock(start: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall clock in ``tz`` that WizIQ reads as ``start``.

    The second instant of a fall-back hour has no such wall clock (WizIQ reads an ambiguous wall clock as
    the first instant, docs/recurrence.md), so it is 1005 rather than a class booked an hour early.
    """
    local = start.astimezone(tz) if start.tzinfo is not None else start
    wall = datetime(local.year, local.month, local.day, local.hour, local.minute, local.second)
    if not values.FIRST_DAY <= wall.date() <= values.LAST_DAY:
        raise WizIQValidationError(
            "start_time",
            f"{wall.isoformat()} is outside the calendar a class can be booked in ({values.FIRST_DAY} to"
            f" {values.LAST_DAY})",
            code=Code.START_TIME_INVALID,
        )
    first, _, in_fold = localize(wall, tz)
    if start.tzinfo is not None:
        second = first.astimezone(timezone.utc) != start.astimezone(timezone.utc)
    else:
        second = in_fold and start.fold == 1
    if second:
        raise WizIQValidationError(
            "start_time",
            f"is the second {wall:%H:%M} of {wall:%Y-%m-%d} in {tz.key}, an hour the clocks repeat when they fall"
            f" back; WizIQ reads a wall-clock start_time as the first {wall:%H:%M}, an hour earlier: give a time"
            " outside the repeated hour",
            code=Code.START_TIME_INVALID,
        )
    return wall


def _read_title(value: object) -> str | None:
    return values.text("title", value, max_length=_MAX_TITLE_LENGTH, too_long_code=Code.TITLE_TOO_LONG)


#: How each of create's own fields (besides title, start, zone and presenter) is read; ``modify`` reads its
#: fields with the same readers, so the two agree on every code.
_READERS: dict[str, Callable[[Any], Any]] = {
    "title": _read_title,
    "duration": lambda value: values.integer("duration", value, code=None, minimum=1),
    "extend_duration": lambda value: values.integer(
        "extend_duration", value, code=Code.EXTEND_DURATION_INVALID, minimum=0
    ),
    "attendee_limit": lambda value: values.integer("attendee_limit", value, code=None, minimum=1),
    "language_culture_name": lambda value: values.language("language_culture_name", value),
    "presenter_default_controls": lambda value: values.choices(
        "presenter_default_controls", value, _PRESENTER_CONTROLS
    ),
    "attendee_default_controls": lambda value: values.choices("attendee_default_controls", value, _ATTENDEE_CONTROLS),
    "create_recording": lambda value: values.boolean("create_recording", value),
    "return_url": lambda value: values.text("return_url", value),
    "status_ping_url": lambda value: values.text("status_ping_url", value),
}


def _controls(chosen: tuple[str, ...]) -> str:
    return ", ".join(chosen)


#: How each of those is written on the wire.
_WRITERS: dict[str, Callable[[Any], str]] = {
    "title": str,
    "duration": str,
    "extend_duration": str,
    "attendee_limit": str,
    "language_culture_name": str,
    "presenter_default_controls": _controls,
    "attendee_default_controls": _controls,
    "create_recording": lambda flag: str(flag).lower(),
    "return_url": str,
    "status_ping_url": str,
}


def modify_fields(fields: Mapping[str, Any]) -> dict[str, str]:
    """``modify``'s fields read exactly as ``create`` reads them and written as it writes them; only those given.

    Each field is checked on its own (the class keeps the others): a naive ``start_time`` without
    ``time_zone`` is a wall clock in the class's own zone; an aware one sends its zone too.
    """
    unknown = sorted(set(fields) - CreateClassRequest.parameter_names())
    if unknown:
        raise WizIQValidationError(unknown[0], "is not a parameter of modify", method="modify")
    given = {name: value for name, value in fields.items() if values.is_given(value)}
    wire: dict[str, str] = {}
    with _about("modify"):
        for name, read in _READERS.items():
            if name in given:
                wire[name] = _WRITERS[name](read(given[name]))
        for name, read_presenter in (
            ("presenter_email", _read_presenter_email),
            ("presenter_id", _read_presenter_id),
            ("presenter_name", _read_presenter_name),
        ):
            if name in given:
                wire[name] = str(read_presenter(given[name]))
        if "start_time" in given:
            start, tz = _start_and_zone(given)
            wall = _wall_clock(start, tz) if tz is not None else _wall_clock(start, ZoneInfo("UTC"))
            wire["start_time"] = values.wire_datetime(wall)
        else:
            tz = values.zone("time_zone", given.get("time_zone"))
        if tz is not None:
            wire["time_zone"] = tz.key
    return wire


__all__ = [
    "LAST",
    "SERVER_DEFAULTS",
    "START_GRACE",
    "TRANSPORT_FIELDS",
    "CreateClassRequest",
    "CreateRecurringRequest",
    "modify_fields",
]
