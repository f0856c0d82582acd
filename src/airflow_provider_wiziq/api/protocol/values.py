"""Readers that turn the natural Python values a DAG passes into WizIQ's typed values.

Each reader takes the parameter's name so that its error names it, with the code WizIQ would answer.
Empty strings and ``None`` mean "not given" (a rendered template of an absent value is often ``""``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.protocol.vocabulary import LAST, RepeatType, Weekday, ordinal

_WIRE_DATETIME_FORMAT = "%m/%d/%Y %H:%M:%S"
_WIRE_DATE_FORMAT = "%m/%d/%Y"

# re.ASCII: \d is 0-9 only (int() would also read Arabic-Indic or full-width digits).
#: WizIQ's M/D/YYYY h:mm[:ss], with an optional AM/PM designator (WizIQ wrote 6/22/2011 1:40:59 AM).
_WIZIQ_DATETIME = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?", re.ASCII
)
_WIZIQ_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})", re.ASCII)  # MM/DD/YYYY, or MM-DD-YYYY (Moodle)
_OFFSET_WITHOUT_COLON = re.compile(r"([+-])(\d{2})(\d{2})$")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")
_LANGUAGE = re.compile(r"[a-z]{2}-[a-z]{2}", re.ASCII)
_ORDINAL = re.compile(r"(\d{1,2})(st|nd|rd|th)?", re.ASCII)
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,18}", re.ASCII)
#: IANA names are ASCII words joined by slashes; the rest of what zoneinfo can open is host-dependent or no zone.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*", re.ASCII)
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
_HOST_TREES = ("posix/", "right/")
#: The days a class may fall on: a day's margin at each end keeps every UTC offset of it within datetime's range.
FIRST_DAY = date(1, 1, 2)
LAST_DAY = date(9999, 12, 30)
_T = TypeVar("_T")
_DAY_NAMES = {day.wire: day for day in Weekday} | {day.wire[:3]: day for day in Weekday}


def is_given(value: object) -> bool:
    """Whether a parameter was given: ``None`` and blank strings are not."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def text(
    name: str,
    value: object,
    *,
    missing_code: int | None = None,
    max_length: int | None = None,
    too_long_code: int | None = None,
    whole_number_ok: bool = False,
) -> str | None:
    """A stripped string of printable characters; ``missing_code`` makes it required.

    Only a string is text (``whole_number_ok`` also takes an int, for ids): anything else would reach WizIQ as a
    Python repr. Control characters, lone surrogates and the noncharacters XML cannot carry are refused: WizIQ's
    answers are XML, and a lone surrogate cannot even be encoded to send.
    """
    if not is_given(value):
        if missing_code is not None:
            raise WizIQValidationError(name, "is required", code=missing_code)
        return None
    if whole_number_ok and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise WizIQValidationError(name, f"must be text, got {type(value).__name__}")
    result = value.strip()
    _check_characters(name, result)
    if max_length is not None and len(result) > max_length:
        raise WizIQValidationError(name, f"{len(result)} characters, at most {max_length}", code=too_long_code)
    return result


def _check_characters(name: str, spelled: str) -> None:
    """Refuse a control character, a lone surrogate or U+FFFE/U+FFFF, naming its position (not quoting it)."""
    if spelled.isprintable():  # the common case, fast: isprintable() is False for all of those (and for spaces
        return  # other than " ", which are checked below)
    for position, char in enumerate(spelled, start=1):
        kind = unicodedata.category(char)
        if kind in ("Cc", "Cs") or char in ("\ufffe", "\uffff"):
            what = "a lone surrogate" if kind == "Cs" else f"the control character U+{ord(char):04X}"
            raise WizIQValidationError(name, f"must be printable text: character {position} is {what}")


def integer(
    name: str, value: object, *, code: int | None, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """A whole number given as an int or a numeric string, within bounds."""
    if type(value) is int:  # the common case first (a bool is not one): every id of a poll round comes here
        number = value
    elif not is_given(value):
        return None
    elif isinstance(value, bool) or not isinstance(value, (int, str)):
        raise WizIQValidationError(name, f"must be a whole number, got {type(value).__name__}", code=code)
    elif isinstance(value, str):
        spelled = value.strip()
        if not _WHOLE_NUMBER.fullmatch(spelled):  # not int(): it also reads "1_0" and non-ASCII digits
            raise WizIQValidationError(name, f"must be a whole number, got {_quoted(spelled)}", code=code)
        number = int(spelled)
    else:
        number = value
    if minimum is not None and number < minimum:
        raise WizIQValidationError(name, f"must be at least {minimum}, got {number}", code=code)
    if maximum is not None and number > maximum:
        raise WizIQValidationError(name, f"must be at most {maximum}, got {number}", code=code)
    return number


def boolean(name: str, value: object, *, code: int | None = None) -> bool | None:
    """``True``/``False`` or their usual spellings (``true``, ``false``, ``1``, ``0``, ``yes``, ``no``)."""
    if not is_given(value):
        return None
    if isinstance(value, bool):
        return value
    if not isinstance(value, (str, int)):
        raise WizIQValidationError(name, f"must be true or false, got {type(value).__name__}", code=code)
    spelled = str(value).strip().lower()
    if spelled in ("true", "1", "yes", "on"):
        return True
    if spelled in ("false", "0", "no", "off"):
        return False
    raise WizIQValidationError(name, f"must be true or false, got {_quoted(value)}", code=code)


def email(name: str, value: object, *, missing_code: int, invalid_code: int) -> str:
    address = text(name, value, missing_code=missing_code)
    assert address is not None
    if not _EMAIL.fullmatch(address):
        raise WizIQValidationError(name, f"{_quoted(address)} is not an email address", code=invalid_code)
    return address


def names(name: str, value: object) -> tuple[str, ...] | None:
    """A comma list (or a list) of text items, each read like :func:`text`; blanks dropped."""
    if not is_given(value):
        return None
    items = tuple(text(name, item) for item in _items(name, value, code=None))
    return tuple(item for item in items if item)


def language(name: str, value: object) -> str | None:
    """A language culture name shaped ``xx-xx`` (``en-us``), written in lower case."""
    spelled = text(name, value)
    if spelled is None:
        return None
    if not _LANGUAGE.fullmatch(spelled.lower()):
        raise WizIQValidationError(
            name, f"{_quoted(spelled)} is not a language culture name like en-us", code=Code.LANGUAGE_INVALID
        )
    return spelled.lower()


def culture_name(spelled: str) -> str:
    """A language culture name in WizIQ's culture form, language lower case and region upper case (``en-US``):
    how WizIQ stores and answers it, whatever case it was sent in (its WordPress plugin matches the answer
    against its language list, keyed ``en-US``)."""
    language, dash, region = spelled.strip().partition("-")
    return f"{language.lower()}{dash}{region.upper()}"


def choices(name: str, value: object, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    """A comma list (or a list) drawn from ``allowed``, kept in ``allowed``'s order."""
    if not is_given(value):
        return None
    items = [item.lower() if isinstance(item, str) else item for item in _items(name, value, code=None) if item != ""]
    unknown = [item for item in items if item not in allowed]
    if unknown or not items:
        raise WizIQValidationError(name, f"must be drawn from {', '.join(allowed)}, got {_quoted(value)}")
    return tuple(item for item in allowed if item in items)


def repeat_type(name: str, value: object) -> RepeatType:
    """1-5, or one of the names ``daily``, ``mon_sat``, ``mon_fri``, ``weekly``, ``monthly``."""
    if not is_given(value):
        raise WizIQValidationError(name, "is required", code=Code.REPEAT_TYPE_INVALID)
    if isinstance(value, str) and value.strip().lower() in RepeatType.aliases():
        return RepeatType.aliases()[value.strip().lower()]
    number = integer(name, value, code=Code.REPEAT_TYPE_INVALID)
    assert number is not None  # a missing value was refused above
    try:
        return RepeatType(number)
    except ValueError:
        names = ", ".join(RepeatType.aliases())
        raise WizIQValidationError(
            name, f"must be 1 to 5 or one of {names}, got {_quoted(value)}", code=Code.REPEAT_TYPE_INVALID
        ) from None


def weekday(name: str, value: object, *, code: int) -> Weekday | None:
    """A day name in any case (``Monday``, ``mon``) or a :class:`Weekday`."""
    if not is_given(value):
        return None
    if isinstance(value, Weekday):
        return value
    day = _DAY_NAMES.get(value.strip().lower()) if isinstance(value, str) else None
    if day is None:
        raise WizIQValidationError(name, f"{_quoted(value)} is not a day of the week", code=code)
    return day


def weekdays(name: str, value: object, *, code: int) -> tuple[Weekday, ...]:
    """Days from a list or a comma string, in calendar order (Monday first), each once."""
    if not is_given(value):
        return ()
    days = {weekday(name, item, code=code) for item in _items(name, value, code=code)}
    return tuple(sorted(day for day in days if day is not None))


def monthly_date(name: str, value: object) -> int | None:
    """A day of the month: ``15``, ``"15"`` or WizIQ's ordinal ``"15th"``."""
    if not is_given(value):
        return None
    if isinstance(value, str):
        spelled = value.strip().lower()
        match = _ORDINAL.fullmatch(spelled)
        if not match or (match.group(2) and ordinal(int(match.group(1))) != spelled):
            raise WizIQValidationError(
                name,
                f"{_quoted(value)} is not a day of the month (1 to 31, or 1st to 31st)",
                code=Code.MONTHLY_DATE_INVALID,
            )
        value = match.group(1)
    return integer(name, value, code=Code.MONTHLY_DATE_INVALID, minimum=1, maximum=31)


def monthly_day(name: str, value: object) -> int | None:
    """Which weekday of the month: ``1st``..``4th`` (or 1..4) or ``Last`` (or -1), any case."""
    if not is_given(value):
        return None
    whole = isinstance(value, int) and not isinstance(value, bool)
    spelled = str(value) if whole else value.strip().lower() if isinstance(value, str) else ""
    if spelled in ("last", str(LAST)):
        return LAST
    match = _ORDINAL.fullmatch(spelled)
    number = int(match.group(1)) if match else 0
    if not match or not 1 <= number <= 4 or (match.group(2) and ordinal(number) != spelled):
        raise WizIQValidationError(
            name, f"{_quoted(value)} must be 1st, 2nd, 3rd, 4th or Last", code=Code.MONTHLY_DAY_INVALID
        )
    return number


def zone(name: str, value: object) -> ZoneInfo | None:
    """An IANA time zone (``America/Chicago``; ``GMT`` and ``UTC`` too); 1003 for anything else."""
    spelled = text(name, value)
    if spelled is None:
        return None
    found = _iana_zone(spelled)
    if found is None:
        raise WizIQValidationError(
            name, f"{_quoted(spelled)} is not an IANA time zone name", code=Code.TIME_ZONE_UNAVAILABLE
        )
    return found


def _iana_zone(spelled: str) -> ZoneInfo | None:
    """The zone an IANA name means, or None: ``localtime``, ``Factory``, ``posix/...`` and the like are no
    IANA zone (``localtime`` is whatever the worker's host is set to)."""
    if (
        len(spelled) > 60
        or spelled in _NOT_ZONES
        or spelled.startswith(_HOST_TREES)
        or not _ZONE_NAME.fullmatch(spelled)
    ):
        return None
    try:
        return ZoneInfo(spelled)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory, or a name the OS refuses
        return None


def zone_of(name: str, tz: tzinfo, instant: datetime) -> ZoneInfo:
    """The IANA zone behind an aware datetime's tzinfo (zoneinfo, pendulum, pytz, or a whole-hour offset)."""
    key = getattr(tz, "key", None) or getattr(tz, "zone", None) or getattr(tz, "name", None)
    if isinstance(key, str) and (found := _iana_zone(key)) is not None:
        return found
    offset = tz.utcoffset(instant)
    if offset is not None and offset % timedelta(hours=1) == timedelta(0) and _fixed(tz, instant, offset):
        hours = offset // timedelta(hours=1)
        return ZoneInfo("UTC" if hours == 0 else f"Etc/GMT{-hours:+d}")
    raise WizIQValidationError(
        name, f"cannot tell the IANA time zone of {tz!r}; pass time_zone explicitly", code=Code.TIME_ZONE_UNAVAILABLE
    )


def _fixed(tz: tzinfo, instant: datetime, offset: timedelta) -> bool:
    """Whether ``tz`` keeps ``offset`` all year round: a zone with DST read as a fixed offset would lose it."""
    naive = instant.replace(tzinfo=None)
    for days in (-182, -91, 91, 182):
        try:
            if tz.utcoffset(naive + timedelta(days=days)) != offset:
                return False
        except OverflowError:
            continue
    return True


class DesignatorError(ValueError):
    """An AM/PM designator on an hour it cannot go with (``13:00 AM``, ``0:30 PM``)."""


def wiziq_datetime_fields(spelled: str) -> tuple[int, int, int, int, int, int] | None:
    """Year, month, day, hour (0-23), minute and second of WizIQ's ``M/D/YYYY h:mm[:ss] [AM|PM]``; None when
    ``spelled`` is not in that form. The one rule for both directions (requests read here, answers in
    :mod:`.responses`): with a designator, an hour 1-12 is on the 12-hour clock (12 AM is 00, 12 PM is 12) and
    an hour 13-23 with PM stands as it is (WizIQ's Canvas plugin writes ``%H ... %p``: ``15:45:29 PM``); 13-23
    with AM, or hour 0 with either, raises :class:`DesignatorError`. The date and time are not checked here.
    """
    match = _WIZIQ_DATETIME.fullmatch(spelled.strip())
    if match is None:
        return None
    month, day, year, hour, minute = (int(part) for part in match.groups()[:5])
    second = int(match.group(6) or 0)
    half = match.group(7)
    if half is not None:
        designator = "PM" if half.lower() == "p" else "AM"
        if 1 <= hour <= 12:
            hour = hour % 12 + (12 if designator == "PM" else 0)
        elif hour == 0 or (hour <= 23 and designator == "AM"):
            raise DesignatorError(
                f"hour {hour} with {designator}: a 12-hour time runs from 1 to 12, a 24-hour one takes no AM"
            )
    return year, month, day, hour, minute, second


def start_time(name: str, value: object) -> datetime:
    """A datetime (naive = wall clock, or aware), an ISO 8601 string, or WizIQ's ``MM/DD/YYYY HH:MM[:SS]``
    (single-digit fields and an AM/PM designator too, see :func:`wiziq_datetime_fields`).

    A string in no known format, or with a designator that does not fit its hour, is 1022; one in a known
    format that is no real time (``02/30/2026``) is 1005.
    """
    if not is_given(value):
        raise WizIQValidationError(name, "is required", code=Code.START_TIME_MISSING)
    if isinstance(value, datetime):
        return _within_calendar(name, value.replace(microsecond=0))
    if isinstance(value, date):
        raise WizIQValidationError(
            name, f"needs a time of day, got the date {value.isoformat()}", code=Code.START_TIME_INVALID
        )
    if not isinstance(value, str):
        raise WizIQValidationError(
            name, f"must be a datetime or a string, got {type(value).__name__}", code=Code.START_TIME_INVALID
        )
    spelled = value.strip()
    try:
        parts = wiziq_datetime_fields(spelled)
    except DesignatorError as error:
        raise WizIQValidationError(name, f"{_quoted(spelled)}: {error}", code=Code.DATETIME_FORMAT_INVALID) from None
    if parts is not None:
        moment = _checked(name, lambda: datetime(*parts), spelled, code=Code.START_TIME_INVALID)
        return _within_calendar(name, moment)
    if _ISO_DATETIME.fullmatch(spelled):
        iso = spelled[:-1] + "+00:00" if spelled.endswith("Z") else spelled
        # Python 3.10's fromisoformat needs the offset's colon (-05:00); 3.11 and later also read -0500
        iso = _OFFSET_WITHOUT_COLON.sub(r"\1\2:\3", iso)
        moment = _checked(name, lambda: datetime.fromisoformat(iso), spelled, code=Code.START_TIME_INVALID)
        return _within_calendar(name, moment.replace(microsecond=0))
    raise WizIQValidationError(
        name,
        f"{_quoted(spelled)} is not MM/DD/YYYY HH:MM[:SS] [AM|PM] nor ISO 8601 (YYYY-MM-DDTHH:MM)",
        code=Code.DATETIME_FORMAT_INVALID,
    )


def _within_calendar(name: str, moment: datetime) -> datetime:
    """A start whose date (as given, and in UTC) is within FIRST_DAY..LAST_DAY: 1005 otherwise, never an
    OverflowError later when it is moved to another zone."""
    try:
        utc_day = moment.astimezone(timezone.utc).date() if moment.tzinfo is not None else moment.date()
    except OverflowError:
        utc_day = date.min
    if not (FIRST_DAY <= moment.date() <= LAST_DAY and FIRST_DAY <= utc_day <= LAST_DAY):
        raise WizIQValidationError(
            name,
            f"{moment.isoformat()} is outside the calendar ({FIRST_DAY} to {LAST_DAY})",
            code=Code.START_TIME_INVALID,
        )
    return moment


def end_date(name: str, value: object) -> date | None:
    """A date, ISO ``YYYY-MM-DD`` or WizIQ's ``MM/DD/YYYY``: 1022 for an unknown format, 1082 for no real date."""
    if not is_given(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise WizIQValidationError(
            name, f"must be a date or a string, got {type(value).__name__}", code=Code.DATETIME_FORMAT_INVALID
        )
    spelled = value.strip()
    if match := _WIZIQ_DATE.fullmatch(spelled):
        month, day, year = (int(part) for part in match.groups())
        return _checked(name, lambda: date(year, month, day), spelled, code=Code.OCCURRENCE_OR_END_DATE_INVALID)
    if _ISO_DATE.fullmatch(spelled):
        return _checked(name, lambda: date.fromisoformat(spelled), spelled, code=Code.OCCURRENCE_OR_END_DATE_INVALID)
    raise WizIQValidationError(
        name, f"{_quoted(spelled)} is not MM/DD/YYYY, MM-DD-YYYY nor YYYY-MM-DD", code=Code.DATETIME_FORMAT_INVALID
    )


def wire_datetime(moment: datetime) -> str:
    return moment.strftime(_WIRE_DATETIME_FORMAT)


def wire_date(day: date) -> str:
    return day.strftime(_WIRE_DATE_FORMAT)


def _checked(name: str, build: Callable[[], _T], spelled: str, *, code: int) -> _T:
    try:
        return build()
    except ValueError:
        raise WizIQValidationError(name, f"{_quoted(spelled)} is not a real date or time", code=code) from None


def _items(name: str, value: object, *, code: int | None) -> list[object]:
    """The items of a comma string or of a list, tuple or set; strings among them stripped."""
    if isinstance(value, str):
        _check_characters(name, value)
        return [item.strip() for item in value.split(",")]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise WizIQValidationError(name, f"must be a comma list or a list, got {type(value).__name__}", code=code)
    for item in value:
        if isinstance(item, str):
            _check_characters(name, item)
    return [item.strip() if isinstance(item, str) else item for item in value]


def _quoted(value: object) -> str:
    """A value as an error message shows it: its repr (control characters escaped), cut to 60 characters."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


#: How an error message shows a value, for the readers built on these (the export, a roster).
quoted = _quoted
