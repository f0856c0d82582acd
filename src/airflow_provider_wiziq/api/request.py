"""The ``create`` and ``create_recurring`` requests: read, validated and written in WizIQ's wire format.

This is the one place that decides whether such a request is valid. The operator's preview, the client
before sending, and the emulator on receiving all call it, so they agree on every error code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api import values
from airflow_provider_wiziq.api.errors import WizIQValidationError
from airflow_provider_wiziq.api.limits import PlanLimits
from airflow_provider_wiziq.api.recurrence import RecurrenceRule, ScheduledClass, expand, localize
from airflow_provider_wiziq.api.vocabulary import LAST, RepeatType, Weekday, monthly_day_wire, ordinal

#: Fields every call carries for authentication and routing: not request parameters.
TRANSPORT_FIELDS = frozenset({"access_key", "timestamp", "signature", "method"})

#: WizIQ caps a title at 70 characters (error 1052).
MAX_TITLE_LENGTH = 70
DEFAULT_DURATION = 60
DEFAULT_ATTENDEE_LIMIT = 2
DEFAULT_TIME_ZONE = "GMT"
PRESENTER_CONTROLS = ("audio", "video")
ATTENDEE_CONTROLS = ("audio", "writing")


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
    duration: int = DEFAULT_DURATION
    extend_duration: int | None = None
    attendee_limit: int = DEFAULT_ATTENDEE_LIMIT
    language_culture_name: str | None = None
    presenter_default_controls: tuple[str, ...] | None = None
    attendee_default_controls: tuple[str, ...] | None = None
    create_recording: bool | None = None
    return_url: str | None = None
    status_ping_url: str | None = None

    @classmethod
    def parameter_names(cls) -> frozenset[str]:
        """Every parameter name this request reads, as WizIQ spells it."""
        return frozenset(f.name for f in fields(cls) if f.name != "start_wall_clock") | {"start_time"}

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, strict: bool = True) -> CreateClassRequest:
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
        title = values.text("title", p.get("title"), missing_code=1014, max_length=MAX_TITLE_LENGTH, too_long_code=1052)
        start = values.start_time("start_time", p.get("start_time"))
        tz = values.zone("time_zone", p.get("time_zone"))
        if tz is None:
            tz = values.zone_of("start_time", start.tzinfo, start) if start.tzinfo else ZoneInfo(DEFAULT_TIME_ZONE)
        wall_clock = start.astimezone(tz).replace(tzinfo=None) if start.tzinfo else start
        read: dict[str, Any] = {
            "title": title,
            "start_wall_clock": wall_clock,
            "time_zone": tz.key,
            **_presenter(p),
            "duration": values.integer("duration", p.get("duration"), code=None, minimum=1) or DEFAULT_DURATION,
            "extend_duration": values.integer("extend_duration", p.get("extend_duration"), code=1090, minimum=0),
            "attendee_limit": _attendee_limit(p.get("attendee_limit")),
            "language_culture_name": values.language("language_culture_name", p.get("language_culture_name")),
            "presenter_default_controls": values.choices(
                "presenter_default_controls", p.get("presenter_default_controls"), PRESENTER_CONTROLS
            ),
            "attendee_default_controls": values.choices(
                "attendee_default_controls", p.get("attendee_default_controls"), ATTENDEE_CONTROLS
            ),
            "create_recording": values.boolean("create_recording", p.get("create_recording")),
            "return_url": values.text("return_url", p.get("return_url")),
            "status_ping_url": values.text("status_ping_url", p.get("status_ping_url")),
        }
        return read

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def start(self) -> datetime:
        """The start as an aware local datetime (a wall clock in a DST gap is moved, see recurrence)."""
        return localize(self.start_wall_clock, self.zone)[0]

    def check_context(self, *, now: datetime | None = None, limits: PlanLimits | None = None) -> None:
        """The checks that depend on the moment and the account's plan: 1004, 1010, 1011."""
        limits = limits or PlanLimits()
        now = now or datetime.now(timezone.utc)
        if self.start < now:
            raise WizIQValidationError(
                "start_time",
                f"{self.start.isoformat()} is before now ({now.isoformat(timespec='seconds')})",
                code=1004,
                method=self.method,
            )
        for name, value, limit, code in (
            ("duration", self.duration, limits.max_class_minutes, 1010),
            ("attendee_limit", self.attendee_limit, limits.max_user_per_class, 1011),
        ):
            if limit is not None and value > limit:
                raise WizIQValidationError(
                    name,
                    f"{value} is over the plan's {limit}",
                    code=code,
                    method=self.method,
                    plan_limits=limits.placeholders(),
                )

    def validate(self, *, now: datetime | None = None, limits: PlanLimits | None = None) -> ScheduledClass:
        """Every check WizIQ makes; returns the one class to be created."""
        self.check_context(now=now, limits=limits)
        local, in_gap, in_fold = localize(self.start_wall_clock, self.zone)
        return ScheduledClass(0, self.start_wall_clock, local, local.astimezone(timezone.utc), in_gap, in_fold)

    def to_wire(self) -> dict[str, str]:
        """The request's fields exactly as WizIQ reads them (authentication fields not included)."""
        wire = {
            "title": self.title,
            "start_time": values.wire_datetime(self.start_wall_clock),
            "time_zone": self.time_zone,
            "attendee_limit": str(self.attendee_limit),
            "duration": str(self.duration),
        }
        if self.presenter_email is not None:
            wire["presenter_email"] = self.presenter_email
        else:
            wire["presenter_id"] = str(self.presenter_id)
            wire["presenter_name"] = str(self.presenter_name)
        optional: dict[str, str | None] = {
            "extend_duration": None if self.extend_duration is None else str(self.extend_duration),
            "language_culture_name": self.language_culture_name,
            "presenter_default_controls": _controls(self.presenter_default_controls),
            "attendee_default_controls": _controls(self.attendee_default_controls),
            "create_recording": None if self.create_recording is None else str(self.create_recording).lower(),
            "return_url": self.return_url,
            "status_ping_url": self.status_ping_url,
        }
        wire.update({key: value for key, value in optional.items() if value is not None})
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

    @classmethod
    def parameter_names(cls) -> frozenset[str]:
        return (super().parameter_names() - {"repeat_type"}) | {
            "class_repeat_type",
            "rdo_by_date",
            "rdo_by_day",
        }

    @classmethod
    def _read(cls, p: Mapping[str, Any]) -> dict[str, Any]:
        read = super()._read(p)
        repeat = values.repeat_type("class_repeat_type", p.get("class_repeat_type"))
        read["repeat_type"] = repeat
        read.update(_bound(p))
        read.update(_weekly(p, repeat))
        read.update(_monthly(p, repeat))
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
        self, *, now: datetime | None = None, limits: PlanLimits | None = None
    ) -> tuple[ScheduledClass, ...]:
        """Every check WizIQ makes; returns the series' classes in order."""
        limits = limits or PlanLimits()
        self.check_context(now=now, limits=limits)
        with _about(self.method):
            return expand(self.recurrence_rule(), max_classes=limits.max_series_classes)

    def to_wire(self) -> dict[str, str]:
        wire = super().to_wire()
        wire["class_repeat_type"] = str(int(self.repeat_type))
        if self.class_occurrence is not None:
            wire["class_occurrence"] = str(self.class_occurrence)
        if self.class_end_date is not None:
            wire["class_end_date"] = values.wire_date(self.class_end_date)
        if self.repeat_type is RepeatType.WEEKLY:
            wire["specific_week"] = str(self.specific_week or 1)
            wire["days_of_week"] = ",".join(day.wire for day in self.days_of_week)
        if self.monthly_date is not None:
            wire["monthly_date"] = ordinal(self.monthly_date)
            wire["rdo_by_date"] = "true"
        if self.monthly_day is not None and self.monthly_week_day is not None:
            wire["monthly_day"] = monthly_day_wire(self.monthly_day)
            wire["monthly_week_day"] = self.monthly_week_day.wire
            wire["rdo_by_day"] = "true"
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
    """Email-based accounts name the presenter by email; room-based ones by presenter_id + presenter_name."""
    presenter_id = values.text("presenter_id", p.get("presenter_id"))
    presenter_name = values.text("presenter_name", p.get("presenter_name"))
    if presenter_id is None and presenter_name is None:
        address = values.email("presenter_email", p.get("presenter_email"), missing_code=1030, invalid_code=1031)
        return {"presenter_email": address, "presenter_id": None, "presenter_name": None}
    if values.is_given(p.get("presenter_email")):
        raise WizIQValidationError("presenter_email", "give presenter_email or presenter_id, not both")
    if presenter_id is None:
        raise WizIQValidationError("presenter_id", "is required with presenter_name", code=1001)
    if presenter_name is None:
        raise WizIQValidationError("presenter_name", "is required with presenter_id", code=1002)
    return {"presenter_email": None, "presenter_id": presenter_id, "presenter_name": presenter_name}


def _attendee_limit(value: object) -> int:
    limit = values.integer("attendee_limit", value, code=None, minimum=1)
    return DEFAULT_ATTENDEE_LIMIT if limit is None else limit


def _bound(p: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly one of class_occurrence and class_end_date bounds a series (1082 otherwise)."""
    occurrence = values.integer("class_occurrence", p.get("class_occurrence"), code=1082, minimum=1)
    end = values.end_date("class_end_date", p.get("class_end_date"))
    if (occurrence is None) == (end is None):
        both = "both were given" if occurrence is not None else "neither was given"
        raise WizIQValidationError("class_occurrence", f"give class_occurrence or class_end_date: {both}", code=1082)
    return {"class_occurrence": occurrence, "class_end_date": end}


def _weekly(p: Mapping[str, Any], repeat: RepeatType) -> dict[str, Any]:
    """specific_week (1..5, default 1) and days_of_week (at least one day): type 4 only (1083)."""
    specific_week = values.integer("specific_week", p.get("specific_week"), code=1083, minimum=1, maximum=5)
    days = values.weekdays("days_of_week", p.get("days_of_week"), code=1083)
    if repeat is not RepeatType.WEEKLY:
        for name, given in (("specific_week", specific_week is not None), ("days_of_week", bool(days))):
            if given:
                raise WizIQValidationError(name, "applies only to class_repeat_type 4 (weekly)", code=1083)
        return {}
    if not days:
        raise WizIQValidationError("days_of_week", "a weekly series needs at least one day", code=1083)
    return {"specific_week": specific_week or 1, "days_of_week": days}


def _monthly(p: Mapping[str, Any], repeat: RepeatType) -> dict[str, Any]:
    """Type 5 repeats by date (monthly_date) or by weekday (monthly_day + monthly_week_day), never both."""
    by_date_flag = values.boolean("rdo_by_date", p.get("rdo_by_date"), code=1087)
    by_day_flag = values.boolean("rdo_by_day", p.get("rdo_by_day"), code=1087)
    day_of_month = values.monthly_date("monthly_date", p.get("monthly_date"))
    week = values.monthly_day("monthly_day", p.get("monthly_day"))
    week_day = values.weekday("monthly_week_day", p.get("monthly_week_day"), code=1085)
    by_date = day_of_month is not None or bool(by_date_flag)
    by_day = week is not None or week_day is not None or bool(by_day_flag)
    if repeat is not RepeatType.MONTHLY:
        for name, given, code in (
            ("monthly_date", day_of_month is not None, 1084),
            ("monthly_day", week is not None, 1085),
            ("monthly_week_day", week_day is not None, 1085),
            ("rdo_by_date", bool(by_date_flag), 1087),
            ("rdo_by_day", bool(by_day_flag), 1087),
        ):
            if given:
                raise WizIQValidationError(name, "applies only to class_repeat_type 5 (monthly)", code=code)
        return {}
    if by_date and by_day:
        raise WizIQValidationError("rdo_by_date", "a monthly series repeats by date or by day, not both", code=1087)
    if not by_date and not by_day:
        raise WizIQValidationError(
            "rdo_by_date",
            "a monthly series needs monthly_date, or monthly_day with monthly_week_day",
            code=1087,
        )
    if by_date:
        if by_date_flag is False:
            raise WizIQValidationError("rdo_by_date", "is false but monthly_date was given", code=1087)
        if day_of_month is None:
            raise WizIQValidationError("monthly_date", "is required when repeating by date", code=1084)
        return {"monthly_date": day_of_month}
    if by_day_flag is False:
        raise WizIQValidationError("rdo_by_day", "is false but monthly_day was given", code=1087)
    if week is None:
        raise WizIQValidationError("monthly_day", "is required with monthly_week_day (1st-4th or Last)", code=1085)
    if week_day is None:
        raise WizIQValidationError("monthly_week_day", "is required with monthly_day (a day name)", code=1085)
    return {"monthly_day": week, "monthly_week_day": week_day}


def _controls(chosen: tuple[str, ...] | None) -> str | None:
    return None if chosen is None else ", ".join(chosen)


__all__ = [
    "LAST",
    "TRANSPORT_FIELDS",
    "CreateClassRequest",
    "CreateRecurringRequest",
]
