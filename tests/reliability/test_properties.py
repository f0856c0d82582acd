"""Property tests of ``create_recurring`` across 50 time zones.

1. Client-side validation and the emulator agree on every request, valid or not: the same accept or
   reject, the same error code, and for an accepted series the same classes at the same instants. The
   emulator gets the request over HTTP, raw and signed: ``request.to_wire()`` when the client could read
   the request, else the hand-built wire form itself.
2. Every expansion keeps its invariants, checked against an independent day-by-day oracle: the count or
   end-date bound, only the allowed weekdays or month days, strictly increasing instants, a constant wall
   clock except in flagged DST gaps (and fold classes taking the first instant), the first class not
   before the start, at most the series limit, the summary naming the time the first class starts. Some
   series start in the last months of year 9999: the oracle says which cannot fit, and those are refused
   (1082, or ``duration`` for a last class ending past the calendar), never returned shorter.

``HYPOTHESIS_PROFILE=deep`` runs 5000 examples each instead of the CI profile's 500.
"""

from __future__ import annotations

import time
from calendar import monthrange
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from functools import cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_wiziq.api.engine.reconcile import first_difference, read_schedule
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import DEFAULT_MAX_SERIES_CLASSES, PlanLimits
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.responses import parse_create_recurring
from airflow_provider_wiziq.api.protocol.values import LAST_DAY
from airflow_provider_wiziq.api.protocol.vocabulary import LAST, RepeatType, Weekday, ordinal
from airflow_provider_wiziq.api.rules.recurrence import recurring_summary
from airflow_provider_wiziq.emulator import WizIQEmulator
from airflow_provider_wiziq.emulator.config import DEFAULT_LANGUAGES
from tests.reliability.conftest import hypothesis_profile
from tests.reliability.support import signed_post

#: 50 IANA zones: DST in the north and the south (changes at 00:00, 01:00, 02:00, 02:45, 03:00 local,
#: a 30-minute DST in Lord Howe, Morocco's reversed Ramadan DST), half-hour and 45-minute offsets, none.
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Halifax",
    "America/St_Johns",
    "America/Havana",
    "America/Mexico_City",
    "America/Nuuk",
    "America/Santiago",
    "America/Asuncion",
    "America/Sao_Paulo",
    "America/Caracas",
    "America/Phoenix",
    "Pacific/Honolulu",
    "Pacific/Marquesas",
    "Pacific/Pago_Pago",
    "Pacific/Easter",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Moscow",
    "Atlantic/Azores",
    "Africa/Cairo",
    "Africa/Casablanca",
    "Africa/Johannesburg",
    "Asia/Jerusalem",
    "Asia/Beirut",
    "Asia/Tehran",
    "Asia/Kabul",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Yangon",
    "Asia/Tokyo",
    "Australia/Eucla",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Australia/Hobart",
    "UTC",
    "GMT",
)
LIMITS = PlanLimits(max_class_minutes=300, max_user_per_class=500)
#: How far ahead generated series start: never near "now", so client and emulator see the same clock.
FUTURE_DAYS = (2, 730)
DAY_NAMES = tuple(day.wire for day in Weekday)
TODAY = datetime.now(timezone.utc).date()


@cache
def transitions(zone: str) -> tuple[tuple[datetime, timedelta], ...]:
    """The zone's DST gaps and folds in the next two years: (first naive wall clock affected, length)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc)
    found: list[tuple[datetime, timedelta]] = []
    previous = start.astimezone(tz).utcoffset()
    assert previous is not None
    for hour in range(1, (FUTURE_DAYS[1] + 60) * 24):
        moment = start + timedelta(hours=hour)
        offset = moment.astimezone(tz).utcoffset()
        assert offset is not None
        if offset == previous:
            continue
        change = moment - timedelta(hours=1)
        while change.astimezone(tz).utcoffset() == previous:  # the exact minute of the change
            change += timedelta(minutes=1)
        first_wall = change.replace(tzinfo=None) + min(previous, offset)
        found.append((first_wall, abs(offset - previous)))
        previous = offset
    return tuple(found)


def test_the_zones_cover_both_hemispheres_and_odd_offsets():
    assert len(set(ZONES)) == 50
    offsets = {zone: {datetime(TODAY.year, m, 1, tzinfo=ZoneInfo(zone)).utcoffset() for m in (1, 7)} for zone in ZONES}

    def odd(minutes: int) -> list[str]:
        remainder = timedelta(minutes=minutes)
        return [z for z, offs in offsets.items() if any(o % timedelta(hours=1) == remainder for o in offs)]

    half_hours, three_quarters = odd(30), odd(45)
    north = [z for z in ZONES if ZoneInfo(z).dst(datetime(TODAY.year, 7, 1)) not in (None, timedelta(0))]
    south = [z for z in ZONES if ZoneInfo(z).dst(datetime(TODAY.year, 1, 1)) not in (None, timedelta(0))]
    assert len(half_hours) >= 5 and len(three_quarters) >= 3
    assert len(north) >= 10 and len(south) >= 5
    assert all(transitions(zone) for zone in north + south)


# ---------------------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------------------

_hours = st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(0, 23))
_minutes = st.one_of(st.sampled_from([0, 15, 30, 45]), st.integers(0, 59))


@st.composite
def start_moments(draw: st.DrawFn, zone: str) -> datetime:
    """A naive wall clock in the future; often a time inside one of the zone's DST gaps or folds, a few days
    before it (so that a daily series reaches it) or on the very day."""
    changes = transitions(zone)
    earliest = datetime.combine(TODAY + timedelta(days=FUTURE_DAYS[0]), datetime.min.time())
    if changes and draw(st.integers(0, 3)):
        first_wall, length = draw(st.sampled_from(changes))
        inside = first_wall + timedelta(minutes=draw(st.integers(0, length // timedelta(minutes=1) - 1)))
        moment = inside - timedelta(days=draw(st.sampled_from([0, 0, 1, 2, 3, 6, 7])))
        if moment >= earliest:
            return moment
    day = TODAY + timedelta(days=draw(st.integers(*FUTURE_DAYS)))
    return datetime(day.year, day.month, day.day, draw(_hours), draw(_minutes), draw(st.sampled_from([0, 0, 30])))


def _spell_day(draw: st.DrawFn, day: str) -> str:
    spelled = draw(st.sampled_from([day, day[:3]]))
    return draw(st.sampled_from([spelled, spelled.upper(), spelled.capitalize()]))


def _spell_start(draw: st.DrawFn, moment: datetime, zone: str) -> str:
    """The start as a client may write it; the ISO forms with an offset are the same instant as the wall
    clock in ``zone`` (a wall clock in a gap or fold is read as the client reads it)."""
    form = draw(st.sampled_from(["wire", "wire", "short", "iso", "moodle", "unpadded", "iso_offset", "iso_utc"]))
    if form == "wire":
        return moment.strftime("%m/%d/%Y %H:%M:%S")
    if form == "moodle":
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if form == "short":
        return moment.strftime("%m/%d/%Y %H:%M")
    if form == "iso":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if form == "unpadded":
        return f"{moment.month}/{moment.day}/{moment.year} {moment.hour}:{moment.minute:02d}"
    aware = moment.replace(tzinfo=ZoneInfo(zone))
    if form == "iso_utc":
        return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return aware.isoformat()


def _spell_date(draw: st.DrawFn, day: date) -> str:
    return day.strftime(draw(st.sampled_from(["%m/%d/%Y", "%m/%d/%Y", "%m-%d-%Y", "%Y-%m-%d"])))


#: Any printable text (control characters, surrogates and U+FFFE/U+FFFF are refused: see GARBLED).
_titles = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff"),
    min_size=1,
    max_size=72,
)


@st.composite
def valid_wire_requests(draw: st.DrawFn) -> dict[str, str]:
    """A create_recurring request as WizIQ's wire strings, valid as far as the request itself goes."""
    zone = draw(st.sampled_from(ZONES))
    start = draw(start_moments(zone))
    repeat = draw(st.sampled_from(list(RepeatType)))
    wire: dict[str, str] = {
        "title": draw(_titles),
        "start_time": _spell_start(draw, start, zone),
        "time_zone": zone,
        "class_repeat_type": draw(st.sampled_from([str(int(repeat)), str(int(repeat)), repeat.name.lower()])),
    }
    if draw(st.booleans()):
        wire["class_occurrence"] = str(draw(st.integers(1, 64)))
    else:
        wire["class_end_date"] = _spell_date(draw, start.date() + timedelta(days=draw(st.integers(-3, 420))))
    if repeat is RepeatType.WEEKLY:
        days = draw(st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=7, unique=True))
        wire["days_of_week"] = ",".join(_spell_day(draw, day) for day in days)
        if draw(st.booleans()):
            wire["specific_week"] = str(draw(st.integers(1, 5)))
    if repeat is RepeatType.MONTHLY:
        if draw(st.booleans()):
            number = draw(st.integers(1, 31))
            wire["monthly_date"] = draw(st.sampled_from([ordinal(number), str(number)]))
            if draw(st.booleans()):
                wire["rdo_by_date"] = "true"
        else:
            wire["monthly_day"] = draw(st.sampled_from(["1st", "2nd", "3rd", "4th", "Last", "last", "2", "-1"]))
            wire["monthly_week_day"] = _spell_day(draw, draw(st.sampled_from(DAY_NAMES)))
            if draw(st.booleans()):
                wire["rdo_by_day"] = "true"
    presenter = draw(st.sampled_from(["email", "email", "email", "room", "all three"]))
    if presenter != "room":
        wire["presenter_email"] = f"teacher{draw(st.integers(0, 99))}@school.example"
    if presenter != "email":  # WizIQ's WordPress plugin sends all three; the email then presents
        wire["presenter_id"] = str(draw(st.integers(1, 999)))
        wire["presenter_name"] = "Room presenter"
    optional: dict[str, st.SearchStrategy[str]] = {
        "duration": st.integers(1, 360).map(str),
        "extend_duration": st.integers(0, 30).map(str),
        "attendee_limit": st.integers(1, 560).map(str),
        "language_culture_name": st.sampled_from(sorted(DEFAULT_LANGUAGES)).map(
            lambda code: code.upper() if code.startswith("e") else code
        ),
        "presenter_default_controls": st.sampled_from(["audio", "audio, video", "video,audio"]),
        "attendee_default_controls": st.sampled_from(["audio", "writing", "audio, writing"]),
        "create_recording": st.sampled_from(["true", "false", "True", "0"]),
        "return_url": st.just("https://school.example/after"),
        "status_ping_url": st.just("https://school.example/ping?section=3"),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            wire[name] = draw(values)
    return wire


#: Values that break each field (or, for a field of another repeat type, giving it at all breaks it).
GARBLED: dict[str, list[str]] = {
    "title": ["", "   ", "x" * 71, "t" * 200, "Alg\x00ebra", "Algebra\nI", "\x1b[31mAlgebra", "A\ufffe"],
    "start_time": [
        "",
        "tomorrow",
        "02/30/2027 10:00",
        "13/01/2027 10:00",
        "2027-02-30T10:00",
        "10:00",
        "1/1/27 9:00",
        "\u0661/01/2027 10:00",
        "12/31/9999 23:30",
    ],
    "time_zone": ["Mars/Olympus", "EST5EDT/x", "../etc", "America/New York", "x" * 300, "localtime", "Factory"],
    "class_repeat_type": ["", "0", "6", "fortnightly", "2.5", "-1"],
    "class_occurrence": ["0", "-3", "abc", "1.5", "61", "600", "1_0", "\u0661\u0662"],
    "class_end_date": ["someday", "2027-13-01", "02/30/2027", "31/12/2027", "02-30-2027"],
    "days_of_week": ["", "funday", "monday,someday", "mon;tue"],
    "specific_week": ["0", "6", "x", "-1"],
    "monthly_date": ["0", "32", "32nd", "2th", "first", "15st"],
    "monthly_day": ["0", "5th", "5", "final", "2st"],
    "monthly_week_day": ["", "someday", "mo"],
    "rdo_by_date": ["false", "maybe", "2"],
    "rdo_by_day": ["false", "maybe"],
    "presenter_email": ["", "not-an-email", "a@b", "two@x.org,three@x.org", "a\x00@school.example"],
    "presenter_id": ["", "42"],
    "presenter_name": ["", "Someone"],
    "duration": ["0", "-5", "abc", "301", "9999", "6_0"],
    "extend_duration": ["-1", "abc", "1.5"],
    "attendee_limit": ["0", "-2", "many", "501"],
    "language_culture_name": ["english", "en_us", "e-us", "en-usa"],
    "presenter_default_controls": ["smell", "audio, smell", ","],
    "attendee_default_controls": ["video", "audio,,x"],
    "create_recording": ["maybe", "2"],
}


@st.composite
def wire_requests(draw: st.DrawFn) -> dict[str, str]:
    """Valid requests (about half) and requests with one to three fields missing, garbled or misplaced."""
    wire = draw(valid_wire_requests())
    corruptions = draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))
    for _ in range(corruptions):
        # Mostly a field the request has; sometimes any field, which may not belong to its repeat type.
        present = sorted(name for name in wire if name in GARBLED)
        name = draw(st.sampled_from(present if present and draw(st.integers(0, 2)) else sorted(GARBLED)))
        action = draw(st.sampled_from(["garble", "garble", "drop", "past"]))
        if action == "drop":
            wire.pop(name, None)
        elif action == "past":
            back = TODAY - timedelta(days=draw(st.integers(2, 3000)))
            wire["start_time"] = back.strftime("%m/%d/%Y ") + "10:00:00"
        else:
            wire[name] = draw(st.sampled_from(GARBLED[name]))
    return wire


# ---------------------------------------------------------------------------------------------------------
# 1. Client and emulator agree
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agreement_emulator() -> Iterator[WizIQEmulator]:
    """One emulator on the real clock for the whole property test; its plan's limits are the client's."""
    with WizIQEmulator(limits=LIMITS) as emu:
        yield emu


def client_verdict(wire: dict[str, str], now: datetime) -> tuple[Any, CreateRecurringRequest | None]:
    """``("ok", classes)`` or ``("error", code)`` as the client decides, and the request if it could read it."""
    try:
        request = CreateRecurringRequest.from_params(wire)
    except WizIQValidationError as error:
        return ("error", 400 if error.code is None else error.code), None
    try:
        classes = request.validate(now=now, limits=LIMITS)
    except WizIQValidationError as error:
        return ("error", 400 if error.code is None else error.code), request
    return ("ok", classes), request


def test_client_validation_and_emulator_agree(agreement_emulator):
    emu = agreement_emulator
    seen: Counter[Any] = Counter()
    session = requests.Session()
    client = WizIQClient(ClientConfig(endpoint=emu.url, access_key=emu.access_key, secret_key=emu.secret_key))

    @hypothesis_profile()
    @given(wire=wire_requests())
    def check(wire: dict[str, str]) -> None:
        emu.reset()
        now = datetime.now(timezone.utc)
        (kind, detail), request = client_verdict(wire, now)
        sent = request.to_wire() if request is not None else wire
        answer = signed_post(
            session,
            emu.url,
            "create_recurring",
            sent,
            access_key=emu.access_key,
            secret_key=emu.secret_key,
            timestamp=int(time.time()),
        )
        assert answer.status_code == 200, answer.status_code
        refused: WizIQAPIError | None = None
        try:
            series = parse_create_recurring(answer.content)
        except WizIQAPIError as error:
            refused = error
        if refused is not None:
            assert (kind, detail) == ("error", refused.code), f"client {kind} {detail}, emulator error {refused}"
            seen[refused.code] += 1
            assert emu.series() == []
            return
        assert kind == "ok", f"client says error {detail}, the emulator created series {series.class_master_id}"
        seen["ok"] += 1
        stored = emu.classes(series.class_master_id)
        assert [datetime.fromisoformat(c["utc_start"]) for c in stored] == [c.utc_start for c in detail]
        assert [(c["in_gap"], c["in_fold"]) for c in stored] == [(c.in_gap, c.in_fold) for c in detail]
        assert series.first_class.class_id == stored[0]["class_id"]
        assert series.recurring_summary == recurring_summary(request.recurrence_rule(), detail[0])
        # What the operator's read-back check sees: WizIQ's schedule equals the preview, DST gaps included.
        assert first_difference(detail, read_schedule(client, series.class_master_id)) is None

    try:
        check()
    finally:
        session.close()
        client.close()
    codes = {code for code in seen if code != "ok"}
    assert seen["ok"] >= 50, f"too few valid requests were generated: {seen}"
    assert {1004, 1082} <= codes and len(codes) >= 12, f"too few error codes were covered: {seen}"


# ---------------------------------------------------------------------------------------------------------
# 2. Expansion invariants, against an independent oracle
# ---------------------------------------------------------------------------------------------------------


@st.composite
def series_requests(draw: st.DrawFn) -> CreateRecurringRequest:
    """A readable request with natural values (datetimes, lists, ints), any bound, any repeat type."""
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 19)):
        start = draw(start_moments(zone))
    else:  # near the end of the calendar, where a series may not fit
        day = LAST_DAY - timedelta(days=draw(st.integers(0, 150)))
        start = datetime(day.year, day.month, day.day, draw(_hours), draw(_minutes))
    repeat = draw(st.sampled_from(list(RepeatType)))
    params: dict[str, Any] = {
        "title": "Invariants",
        "start_time": start,
        "time_zone": zone,
        "class_repeat_type": repeat,
        "presenter_email": "teacher@school.example",
    }
    if draw(st.booleans()):
        params["class_occurrence"] = draw(st.integers(1, DEFAULT_MAX_SERIES_CLASSES + 3))
    else:
        end = start.date().toordinal() + draw(st.integers(-3, 600))
        params["class_end_date"] = date.fromordinal(min(end, date.max.toordinal()))
    if repeat is RepeatType.WEEKLY:
        params["days_of_week"] = draw(st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=7, unique=True))
        params["specific_week"] = draw(st.integers(1, 5))
    if repeat is RepeatType.MONTHLY:
        if draw(st.booleans()):
            params["monthly_date"] = draw(st.integers(1, 31))
        else:
            params["monthly_day"] = draw(st.sampled_from([1, 2, 3, 4, "last"]))
            params["monthly_week_day"] = draw(st.sampled_from(DAY_NAMES))
    return CreateRecurringRequest.from_params(params)


def fits(request: CreateRecurringRequest, day: date, week0: date) -> bool:
    """Whether ``day`` has a class under the request's pattern (docs/recurrence.md, rule 3), day by day."""
    repeat = request.repeat_type
    if repeat is RepeatType.DAILY:
        return True
    if repeat is RepeatType.MON_SAT:
        return day.weekday() < 6
    if repeat is RepeatType.MON_FRI:
        return day.weekday() < 5
    if repeat is RepeatType.WEEKLY:
        weeks = (day - week0).days // 7
        return day.weekday() in request.days_of_week and weeks % (request.specific_week or 1) == 0
    if request.monthly_date is not None:
        return day.day == request.monthly_date
    if day.weekday() != request.monthly_week_day:
        return False
    if request.monthly_day == LAST:
        return monthrange(day.year, day.month)[1] - day.day < 7
    return (day.day - 1) // 7 + 1 == request.monthly_day


def oracle_dates(request: CreateRecurringRequest, limit: int) -> list[date]:
    """The series' class dates, at most ``limit + 1`` of them, found by walking the calendar a day at a time."""
    first = request.start_wall_clock.date()
    week0 = first - timedelta(days=first.weekday())
    wanted = request.class_occurrence
    found: list[date] = []
    day = first
    while len(found) <= limit and (wanted is None or len(found) < wanted):
        if request.class_end_date is not None and day > request.class_end_date:
            break
        if fits(request, day, week0):
            found.append(day)
        if day == date.max:
            break
        day += timedelta(days=1)
    return found


def oracle_refuses(request: CreateRecurringRequest, found: list[date], limit: int) -> int | str | None:
    """What the oracle expects besides a series: its 1082, ``"duration"`` (the last class would end past the
    calendar), or None. ``found`` is :func:`oracle_dates`' answer."""
    wanted = request.class_occurrence
    if not found or len(found) > limit or (wanted or 0) > limit or (wanted is not None and len(found) < wanted):
        return 1082
    last = datetime.combine(found[-1], request.start_wall_clock.time())
    if last.date() > LAST_DAY:
        return 1082
    # zoneinfo's own reading of the wall clock (fold=0: the first instant; a gap time moved forward)
    utc = last.replace(tzinfo=ZoneInfo(request.time_zone)).astimezone(timezone.utc)
    if utc.date() > LAST_DAY:
        return 1082
    if (utc + timedelta(minutes=request.duration)).date() > LAST_DAY:
        return "duration"
    return None


def offset_before(wall: datetime, zone: ZoneInfo) -> timedelta:
    """The zone's offset a day before ``wall``: the offset in force before a DST change on that day."""
    instant = wall.replace(tzinfo=timezone.utc) - timedelta(days=1)
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def test_every_expansion_keeps_its_invariants():
    seen: Counter[str] = Counter()
    past = datetime(2000, 1, 1, tzinfo=timezone.utc)
    limit = DEFAULT_MAX_SERIES_CLASSES

    @hypothesis_profile()
    @given(request=series_requests())
    def check(request: CreateRecurringRequest) -> None:
        expected_dates = oracle_dates(request, limit)
        expected_refusal = oracle_refuses(request, expected_dates, limit)
        refused: WizIQValidationError | None = None
        try:
            classes = request.validate(now=past)
        except WizIQValidationError as error:
            refused = error
        if refused is not None:
            got = refused.code if refused.code is not None else refused.parameter
            assert got == expected_refusal, f"refused with {refused}, the oracle expects {expected_refusal}"
            if refused.code == 1082:
                bound = "class_occurrence" if request.class_occurrence is not None else "class_end_date"
                assert refused.parameter == bound
            seen[str(got)] += 1
            if request.start_wall_clock.year == 9999:
                seen["end of calendar refused"] += 1
            return
        assert expected_refusal is None, f"accepted; the oracle expects {expected_refusal}"
        zone = ZoneInfo(request.time_zone)
        start = request.start_wall_clock
        walls = [c.wall_clock for c in classes]
        # The bound: the count, or every fitting date up to the end date; never more than the limit.
        assert len(classes) <= limit
        if request.class_occurrence is not None:
            assert len(classes) == request.class_occurrence
        else:
            assert request.class_end_date is not None
            assert all(wall.date() <= request.class_end_date for wall in walls)
        # Only the allowed days, exactly the oracle's, at the start's time of day; the first not before the start.
        assert [wall.date() for wall in walls] == expected_dates
        assert all(wall.time() == start.time() for wall in walls)
        assert walls[0] >= start
        assert [c.index for c in classes] == list(range(len(classes)))
        # Strictly increasing instants.
        starts = [c.utc_start for c in classes]
        assert all(a < b for a, b in pairwise(starts))
        for scheduled in classes:
            wall = scheduled.wall_clock
            exists = wall.replace(tzinfo=zone).astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) == wall
            ambiguous = wall.replace(tzinfo=zone, fold=0).utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset()
            assert scheduled.in_gap == (not exists), wall
            assert scheduled.in_fold == (exists and ambiguous), wall
            assert scheduled.local_start.astimezone(timezone.utc) == scheduled.utc_start
            assert scheduled.local_start.tzinfo is not None and scheduled.local_start.utcoffset() is not None
            if scheduled.in_gap or scheduled.in_fold:
                # RFC 5545: read with the offset in force before the change (the first instant of a fold).
                assert scheduled.utc_start == (wall - offset_before(wall, zone)).replace(tzinfo=timezone.utc)
                seen["gap" if scheduled.in_gap else "fold"] += 1
            if scheduled.in_gap:
                moved = scheduled.local_start.replace(tzinfo=None)
                assert timedelta(0) < moved - wall <= timedelta(hours=1)
            else:
                assert scheduled.local_start.replace(tzinfo=None) == wall  # the wall clock is kept
        # The summary names the date and time the first class really starts (03:30 for a 02:30 in a gap).
        first = classes[0].local_start
        assert f"starts on {first:%m/%d/%Y} at {first:%H:%M} and repeats" in recurring_summary(
            request.recurrence_rule(), classes[0]
        )
        seen["ok"] += 1
        if start.year == 9999:
            seen["end of calendar ok"] += 1

    check()
    assert seen["ok"] >= 100 and seen["1082"] > 0, seen
    assert seen["end of calendar ok"] > 0 and seen["end of calendar refused"] > 0, seen
    assert seen["gap"] > 0 and seen["fold"] > 0, f"no DST gap or fold was generated: {seen}"
