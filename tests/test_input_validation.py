"""Input the request model must refuse or read leniently: every parameter, every form it can arrive in.

Bad input is a :class:`WizIQValidationError` naming the parameter (with WizIQ's code where it has one) before
anything is sent; never a ``UnicodeEncodeError``, an ``OverflowError`` or a Python repr on the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest
from dateutil import tz as dateutil_tz

from airflow_provider_wiziq.api.protocol import calls
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import WizIQValidationError
from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest
from airflow_provider_wiziq.api.rules.recurrence import recurring_summary
from airflow_provider_wiziq.emulator import WizIQEmulator

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
NEW_YORK = ZoneInfo("America/New_York")
BASE: dict[str, Any] = {
    "title": "Algebra I",
    "start_time": "01/12/2026 09:30",
    "time_zone": "America/New_York",
    "class_repeat_type": 1,
    "class_occurrence": 4,
    "presenter_email": "teacher@example.com",
}
#: Every parameter a caller gives as free text (presenter_id may also be a whole number).
TEXT_PARAMETERS = (
    "title",
    "presenter_email",
    "presenter_id",
    "presenter_name",
    "language_culture_name",
    "return_url",
    "status_ping_url",
    "time_zone",
)
#: A valid value for each text parameter, for tests that spoil one of them.
TEXT_VALUES = {
    "title": "Algebra I",
    "presenter_email": "teacher@example.com",
    "presenter_id": "42",
    "presenter_name": "Ms Rivera",
    "language_culture_name": "en-us",
    "return_url": "https://school.example/after",
    "status_ping_url": "https://school.example/ping",
    "time_zone": "America/New_York",
}


def build(**changes: Any) -> CreateRecurringRequest:
    params = {**BASE, **changes}
    return CreateRecurringRequest.from_params({k: v for k, v in params.items() if v is not ...})


def refused(**changes: Any) -> WizIQValidationError:
    with pytest.raises(WizIQValidationError) as caught:
        build(**changes).validate(now=NOW)
    return caught.value


@pytest.fixture(scope="module")
def emulator() -> Iterator[WizIQEmulator]:
    with WizIQEmulator() as emu:
        yield emu


@pytest.fixture
def client(emulator: WizIQEmulator) -> Iterator[WizIQClient]:
    emulator.reset()
    config = ClientConfig(endpoint=emulator.url, access_key=emulator.access_key, secret_key=emulator.secret_key)
    with WizIQClient(config) as made:
        yield made


def future(days: int = 30, **replace: int) -> datetime:
    """A naive wall clock ``days`` ahead of the real clock, whole minutes."""
    moment = datetime.now(timezone.utc).replace(tzinfo=None, second=0, microsecond=0) + timedelta(days=days)
    return moment.replace(**replace)


# --- 6 and 11: text parameters ---------------------------------------------------------------------------


class TestText:
    @pytest.mark.parametrize("name", sorted(CreateRecurringRequest.parameter_names()))
    def test_a_lone_surrogate_in_any_parameter_is_refused_naming_it(self, name):
        spoiled = "x\udc80y"
        with pytest.raises(WizIQValidationError) as caught:
            build(**{name: spoiled}).validate(now=NOW)
        assert caught.value.parameter == name

    @pytest.mark.parametrize("name", TEXT_PARAMETERS)
    @pytest.mark.parametrize("value", [False, True, ["Algebra"], ("a",), b"Algebra", {"a": 1}, 3.5, object()])
    def test_a_text_parameter_refuses_values_that_are_not_text(self, name, value):
        error = refused(**{name: value})
        assert error.parameter == name
        assert "text" in str(error)

    @pytest.mark.parametrize("name", sorted(CreateRecurringRequest.parameter_names()))
    @pytest.mark.parametrize("value", [b"1", {"1": 1}, object()])
    def test_no_parameter_reads_bytes_dicts_or_objects(self, name, value):
        assert refused(**{name: value}).parameter == name

    def test_presenter_id_may_be_a_whole_number(self):
        request = build(presenter_email=None, presenter_id=42, presenter_name="Ms Rivera")
        assert request.to_wire()["presenter_id"] == "42"

    @pytest.mark.parametrize("name", TEXT_PARAMETERS)
    @pytest.mark.parametrize("bad", ["\x00", "\n", "\r", "\t", "\x1b[31m", "\x7f", "\x85", "\ufffe", "\uffff"])
    def test_control_characters_are_refused_in_every_text_parameter(self, name, bad):
        good = TEXT_VALUES[name]
        error = refused(**{name: good[:1] + bad + good[1:]})
        assert error.parameter == name
        assert bad not in str(error)

    def test_the_emulator_refuses_a_nul_in_a_title_over_http(self, emulator):
        import requests

        from tests.reliability.support import signed_post

        emulator.reset()
        fields = {**_wire(future()), "title": "Alg\x00ebra"}
        with requests.Session() as session:
            answer = signed_post(session, emulator.url, "create_recurring", fields, **_keys(emulator))
        assert b'code="400"' in answer.content
        assert emulator.series() == []

    @pytest.mark.parametrize("name", TEXT_PARAMETERS)
    def test_a_surrogate_never_reaches_the_wire_through_the_client(self, client, name):
        start = future()
        params = {**_params(start), "presenter_id": "7", "presenter_name": "Ms Rivera", name: "a\udc80b"}
        with pytest.raises(WizIQValidationError) as caught:
            client.create_recurring(CreateRecurringRequest.from_params(params))
        assert caught.value.parameter == name


# --- 11: whole numbers and zones ------------------------------------------------------------------------


class TestNumbersAndZones:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("class_occurrence", "1_0"),
            ("class_occurrence", "\u0661\u0662"),  # Arabic-Indic digits
            ("class_occurrence", "\uff11"),  # a full-width 1
            ("duration", "6_0"),
            ("attendee_limit", "1_000"),
            ("extend_duration", "1_0"),
        ],
    )
    def test_only_ascii_digits_are_a_whole_number(self, name, value):
        assert refused(**{name: value}).parameter == name

    @pytest.mark.parametrize(
        ("changes", "name"),
        [
            ({"class_repeat_type": 4, "days_of_week": "monday", "specific_week": "1_0"}, "specific_week"),
            ({"class_repeat_type": 5, "monthly_date": "1_5"}, "monthly_date"),
            ({"class_repeat_type": 5, "monthly_date": "\u0661\u0665th"}, "monthly_date"),
            ({"class_repeat_type": 5, "monthly_day": "\u0662", "monthly_week_day": "friday"}, "monthly_day"),
            ({"class_repeat_type": "\u0664"}, "class_repeat_type"),
            ({"start_time": "\u0660\u0661/12/2026 09:30"}, "start_time"),
            ({"class_occurrence": None, "class_end_date": "2026-\u0660\u0662-01"}, "class_end_date"),
        ],
    )
    def test_every_number_a_parameter_holds_is_ascii(self, changes, name):
        assert refused(**changes).parameter == name

    @pytest.mark.parametrize("zone", ["Factory", "localtime", "posixrules", "posix/Europe/Paris", "right/UTC"])
    def test_host_dependent_or_non_iana_zone_names_are_1003(self, zone):
        error = refused(time_zone=zone)
        assert (error.code, error.parameter) == (1003, "time_zone")

    @pytest.mark.parametrize("tz", [dateutil_tz.tzstr("EST5EDT,M3.2.0,M11.1.0"), dateutil_tz.tzlocal()])
    def test_an_aware_start_in_a_zone_with_dst_whose_name_is_unknown_needs_time_zone(self, tz):
        start = datetime(2026, 7, 1, 9, 0, tzinfo=tz)
        if tz.utcoffset(start) == tz.utcoffset(start - timedelta(days=182)):
            pytest.skip("the host's local zone has no DST")
        error = refused(start_time=start, time_zone=...)
        assert (error.code, error.parameter) == (1003, "start_time")
        assert build(start_time=start).to_wire()["time_zone"] == "America/New_York"

    def test_an_aware_start_in_a_zone_without_dst_is_its_offset(self):
        start = datetime(2026, 7, 1, 9, 0, tzinfo=dateutil_tz.tzoffset(None, 9 * 3600))
        assert build(start_time=start, time_zone=...).time_zone == "Etc/GMT-9"
        named = datetime(2026, 7, 1, 9, 0, tzinfo=dateutil_tz.gettz("Asia/Tokyo"))
        assert build(start_time=named, time_zone=...).time_zone == "Asia/Tokyo"

    @pytest.mark.parametrize("zone", ["GMT", "UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "EST5EDT"])
    def test_iana_names_are_read(self, zone):
        assert build(time_zone=zone).time_zone == zone

    def test_the_emulator_refuses_non_ascii_digits_in_ids_and_paging(self, emulator):
        import requests

        from tests.reliability.support import signed_post

        with requests.Session() as session:
            for fields in ({"class_id": "\u0661"}, {"page_size": "\u00b2"}, {"page_number": "\u0661"}):
                answer = signed_post(session, emulator.url, "get_data", fields, **_keys(emulator))
                assert b'code="1000"' not in answer.content, fields
                assert b'status="fail"' in answer.content, fields


# --- 7: the ends of the calendar ------------------------------------------------------------------------


class TestCalendarEnds:
    @pytest.mark.parametrize(
        "changes",
        [
            {"start_time": "12/31/9999 23:30"},
            {"start_time": "12/31/9999 23:30", "time_zone": "Pacific/Kiritimati"},
            {"start_time": "9999-12-31T23:59:59Z", "time_zone": ...},
            {"start_time": "9999-12-31T20:00:00-05:00", "time_zone": "Asia/Tokyo"},
            {"start_time": datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc), "time_zone": "Asia/Tokyo"},
            {"start_time": datetime(1, 1, 1, 0, 0, tzinfo=timezone.utc)},
            {"start_time": "0001-01-01T00:30:00+05:00", "time_zone": ...},
            {"start_time": "01/01/0001 00:00"},
        ],
    )
    def test_a_start_at_the_ends_of_the_calendar_is_refused_not_overflowed(self, changes):
        error = refused(**changes)
        assert error.parameter == "start_time"
        assert error.code in (1004, 1005)

    @pytest.mark.parametrize(
        "changes",
        [
            {"start_time": "12/27/9999 10:00", "class_occurrence": 5},
            {"start_time": "12/25/9999 10:00", "class_repeat_type": 4, "days_of_week": "monday", "class_occurrence": 2},
            {"start_time": "10/01/9999 10:00", "class_repeat_type": 5, "monthly_date": 31, "class_occurrence": 3},
            {"start_time": "11/01/9999 10:00", "class_repeat_type": 3, "class_occurrence": 60},
        ],
    )
    def test_a_series_that_cannot_fit_before_the_year_10000_is_refused_not_cut(self, changes):
        error = refused(**changes)
        assert (error.code, error.parameter) == (1082, "class_occurrence")
        assert "9999" in str(error)

    def test_an_end_date_series_on_the_last_days_is_refused(self):
        error = refused(start_time="12/28/9999 10:00", class_occurrence=None, class_end_date="9999-12-31")
        assert (error.code, error.parameter) == (1082, "class_end_date")

    def test_a_series_ending_just_before_the_limit_is_read(self):
        classes = build(start_time="12/26/9999 10:00", class_occurrence=5).validate(now=NOW)
        assert [c.wall_clock.day for c in classes] == [26, 27, 28, 29, 30]

    def test_the_emulator_answers_1005_not_1000_near_the_end(self, emulator):
        import requests

        from tests.reliability.support import signed_post

        fields = {**_wire(future()), "start_time": "12/31/9999 23:30:00"}
        with requests.Session() as session:
            answer = signed_post(session, emulator.url, "create_recurring", fields, **_keys(emulator))
        assert b'code="1005"' in answer.content


# --- 10: the second instant of a fall-back hour ----------------------------------------------------------

#: New York falls back at 02:00 EDT on 2026-11-01: 01:30 happens at 05:30Z and again at 06:30Z.
FIRST, SECOND = datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc), datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)


class TestFallBack:
    def test_the_example_is_a_fold(self):
        assert FIRST.astimezone(NEW_YORK).replace(tzinfo=None) == SECOND.astimezone(NEW_YORK).replace(tzinfo=None)

    @pytest.mark.parametrize(
        "changes",
        [
            {"start_time": datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK)},
            {"start_time": SECOND},
            {"start_time": SECOND.astimezone(NEW_YORK)},
            {"start_time": pendulum.instance(SECOND).in_timezone("America/New_York")},
            {"start_time": pendulum.instance(SECOND).in_timezone("America/New_York"), "time_zone": ...},
            {"start_time": pendulum.datetime(2026, 11, 1, 1, 30, tz="America/New_York", fold=1), "time_zone": ...},
            {"start_time": "2026-11-01T06:30:00Z"},
            {"start_time": "2026-11-01T06:30Z"},
            {"start_time": "2026-11-01T01:30:00-05:00"},
            {"start_time": "2026-11-01 01:30-0500"},
            {"start_time": "2026-11-01T07:30:00+01:00"},
            {"start_time": datetime(2026, 11, 1, 1, 30, fold=1)},  # a naive wall clock asking for the second
            {"start_time": datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=dateutil_tz.gettz("America/New_York"))},
        ],
    )
    def test_the_second_instant_is_refused_with_1005_saying_why(self, changes):
        error = refused(**changes)
        assert (error.code, error.parameter) == (1005, "start_time")
        assert "01:30" in str(error) and "second" in str(error)

    @pytest.mark.parametrize(
        "start",
        [
            FIRST,
            "2026-11-01T05:30:00Z",
            "2026-11-01T01:30:00-04:00",
            datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK),
            pendulum.instance(FIRST).in_timezone("America/New_York"),
            "11/01/2026 01:30",
        ],
    )
    def test_the_first_instant_is_read_and_flagged(self, start):
        first = build(start_time=start, time_zone="America/New_York").validate(now=NOW)[0]
        assert (first.wall_clock, first.utc_start, first.in_fold) == (datetime(2026, 11, 1, 1, 30), FIRST, True)

    def test_an_offset_zone_of_the_second_instant_is_its_own_zone(self):
        assert build(start_time="2026-11-01T01:30:00-05:00", time_zone=...).time_zone == "Etc/GMT+5"

    def test_the_first_class_of_a_series_in_the_fold_is_the_start(self):
        error = refused(start_time=SECOND, class_repeat_type=4, days_of_week="monday")
        assert error.code == 1005


# --- 13: the summary of a series starting in a DST gap ---------------------------------------------------


class TestSummaryInAGap:
    def test_the_summary_names_the_time_the_first_class_starts(self):
        request = build(start_time="03/08/2026 02:30")
        first = request.validate(now=NOW)[0]
        assert first.in_gap
        assert "on 03/08/2026 at 03:30 " in recurring_summary(request.recurrence_rule(), first)

    def test_the_emulator_says_the_same(self, client):
        gap_day = _next_gap(NEW_YORK)
        request = CreateRecurringRequest.from_params(
            {**_params(datetime.combine(gap_day, datetime.min.time()).replace(hour=2, minute=30))}
        )
        series = client.create_recurring(request)
        assert f"on {gap_day:%m/%d/%Y} at 03:30 and repeats daily" in (series.recurring_summary or "")


# --- 8: paging arguments and modify ----------------------------------------------------------------------


class TestPagingAndModify:
    def test_paging_arguments_read_like_other_whole_numbers(self, client):
        request = CreateRecurringRequest.from_params({**_params(future()), "class_occurrence": 3})
        series = client.create_recurring(request)
        page = client.view_schedule(series.class_master_id, page_size="2", page_number="2")
        assert len(page) == 1
        assert len(client.get_data(class_master_id=str(series.class_master_id), page_size=" 2 ")) == 2

    @pytest.mark.parametrize(
        ("paging", "name"),
        [
            ({"page_size": "abc"}, "page_size"),
            ({"page_size": "1_0"}, "page_size"),
            ({"page_size": 2.0}, "page_size"),
            ({"page_size": True}, "page_size"),
            ({"page_size": "101"}, "page_size"),
            ({"page_number": "0"}, "page_number"),
            ({"page_number": "two"}, "page_number"),
        ],
    )
    def test_bad_paging_arguments_are_family_errors_naming_them(self, paging, name):
        for build_call in (lambda: calls.get_data(**paging), lambda: calls.view_schedule(5, **paging)):
            with pytest.raises(WizIQValidationError) as caught:
                build_call()
            assert caught.value.parameter == name

    @pytest.mark.parametrize("name", ["class_id", "class_master_id"])
    @pytest.mark.parametrize("value", ["1_0", "abc", 0, -3, True, 2.5, "\u0661"])
    def test_ids_are_positive_whole_numbers(self, name, value):
        with pytest.raises(WizIQValidationError) as caught:
            calls.get_data(**{name: value})
        assert caught.value.parameter == name

    @pytest.mark.parametrize(
        "build_call",
        [
            pytest.param(lambda class_id: calls.cancel(class_id), id="cancel"),
            pytest.param(lambda class_id: calls.modify(class_id, {"title": "Algebra"}), id="modify"),
            pytest.param(lambda class_id: calls.get_attendance_report(class_id), id="get_attendance_report"),
            pytest.param(
                lambda class_id: calls.add_attendees(class_id, [{"attendee_id": "s1", "screen_name": "Ann"}]),
                id="add_attendees",
            ),
            pytest.param(lambda class_id: calls.view_schedule(class_id), id="view_schedule"),
        ],
    )
    @pytest.mark.parametrize("value", ["1_0", "abc", "", 0, -3, True, 2.5, None, "\u0661", [7]])
    def test_every_call_taking_an_id_refuses_what_is_not_one(self, build_call, value):
        with pytest.raises(WizIQValidationError) as caught:
            build_call(value)
        assert caught.value.parameter in ("class_id", "class_master_id")
        assert caught.value.method is not None

    @pytest.mark.parametrize("value", [7, "7", " 7 "])
    def test_every_call_taking_an_id_sends_its_digits(self, value):
        for call in (calls.cancel(value), calls.get_attendance_report(value), calls.view_schedule(value)):
            assert set(call.fields.values()) == {"7"}

    def test_modify_reads_an_iso_start_like_create(self, client, emulator):
        made = client.create(CreateClassRequest.from_params(_params(future(), recurring=False)))
        later = future(days=40, hour=15, minute=0)
        assert client.modify(made.class_id, start_time=later.strftime("%Y-%m-%dT%H:%M"))
        stored = emulator.get_class(made.class_id)
        assert stored["wall_clock"] == later.isoformat()

    def test_modify_with_an_aware_start_moves_the_class_to_that_instant(self, client, emulator):
        made = client.create(CreateClassRequest.from_params(_params(future(), recurring=False)))
        instant = future(days=41, hour=15, minute=0).replace(tzinfo=timezone.utc)
        assert client.modify(made.class_id, start_time=instant.astimezone(ZoneInfo("Asia/Tokyo")))
        stored = emulator.get_class(made.class_id)
        assert (stored["time_zone"], datetime.fromisoformat(stored["utc_start"])) == ("Asia/Tokyo", instant)

    @pytest.mark.parametrize(
        "fields",
        [
            {"duration": "abc"},
            {"duration": 0},
            {"time_zone": "Mars/Olympus"},
            {"time_zone": "localtime"},
            {"start_time": "next tuesday"},
            {"start_time": "02/30/2030 10:00"},
            {"title": "x" * 71},
            {"title": False},
            {"title": "a\udc80"},
            {"presenter_email": "not-an-email"},
            {"presenter_id": False},
            {"attendee_limit": "1_0"},
            {"extend_duration": "ten"},
            {"language_culture_name": "english"},
            {"create_recording": "perhaps"},
            {"presenter_default_controls": "smell"},
            {"return_url": "https://x.example/\x00"},
            {"start_time": SECOND, "time_zone": "America/New_York"},
            {"start_time": "12/31/9999 23:30", "time_zone": "America/New_York"},
        ],
    )
    def test_modify_refuses_what_create_refuses_with_the_same_code(self, fields):
        base = {k: v for k, v in {**BASE, "start_time": "01/12/2030 09:30"}.items() if k in _CREATE}
        with pytest.raises(WizIQValidationError) as from_create:
            CreateClassRequest.from_params({**base, **fields})
        with pytest.raises(WizIQValidationError) as from_modify:
            calls.modify(15716, fields)
        assert (from_modify.value.parameter, from_modify.value.code) == (
            from_create.value.parameter,
            from_create.value.code,
        )
        assert from_modify.value.method == "modify"

    def test_modify_writes_fields_in_wire_form(self):
        call = calls.modify(
            15716,
            {
                "start_time": "2030-07-01 10:00:00",
                "time_zone": "Europe/Paris",
                "duration": " 90 ",
                "create_recording": "yes",
                "presenter_default_controls": ["video", "audio"],
                "title": "  Algebra II ",
            },
        )
        assert dict(call.fields) == {
            "class_id": "15716",
            "start_time": "07/01/2030 10:00:00",
            "time_zone": "Europe/Paris",
            "duration": "90",
            "create_recording": "true",
            "presenter_default_controls": "audio, video",
            "title": "Algebra II",
        }


# --- 17: what WizIQ's own clients send ------------------------------------------------------------------


class TestReferenceClients:
    def test_presenter_email_with_id_and_name_is_accepted_and_the_email_presents(self):
        request = build(presenter_id="7", presenter_name="Ms Rivera")
        assert (request.presenter_email, request.presenter_id, request.presenter_name) == (
            "teacher@example.com",
            "7",
            "Ms Rivera",
        )
        wire = request.to_wire()
        assert (wire["presenter_email"], wire["presenter_id"], wire["presenter_name"]) == (
            "teacher@example.com",
            "7",
            "Ms Rivera",
        )

    def test_an_invalid_email_beside_an_id_is_still_1031(self):
        error = refused(presenter_email="nobody", presenter_id="7", presenter_name="Ms Rivera")
        assert (error.code, error.parameter) == (1031, "presenter_email")

    def test_without_email_the_id_identifies_a_room_presenter(self):
        assert refused(presenter_email=None, presenter_name="Ms Rivera").code == 1001
        assert refused(presenter_email=None, presenter_id="7").code == 1002
        wire = build(presenter_email=None, presenter_id="7", presenter_name="Ms Rivera").to_wire()
        assert "presenter_email" not in wire and wire["presenter_id"] == "7"

    @pytest.mark.parametrize(
        ("seconds", "accepted"), [(0, True), (1, True), (61, True), (600, True), (900, True), (901, False)]
    )
    def test_a_start_up_to_a_quarter_of_an_hour_ago_is_now(self, seconds, accepted):
        """WizIQ's Moodle module schedules "now" as the moment its form was opened (docs/wiziq-api.md §9)."""
        now = datetime(2026, 1, 12, 14, 30, 17, 654321, tzinfo=timezone.utc)
        start = (now - timedelta(seconds=seconds)).astimezone(NEW_YORK).replace(tzinfo=None, microsecond=0)
        request = CreateClassRequest.from_params(
            {"title": "Now", "start_time": start, "time_zone": "America/New_York", "presenter_email": "t@x.org"}
        )
        if accepted:
            request.validate(now=now)
        else:
            with pytest.raises(WizIQValidationError) as caught:
                request.validate(now=now)
            assert caught.value.code == 1004

    @pytest.mark.parametrize(
        ("changes", "first", "last"),
        [
            ({"class_occurrence": None, "class_end_date": "01-14-2026"}, "2026-01-12 09:30", "2026-01-14"),
            ({"start_time": "2026-01-12 09:30:00"}, "2026-01-12 09:30", "2026-01-15"),
            ({"start_time": "01/12/2026 09:30"}, "2026-01-12 09:30", "2026-01-15"),
        ],
    )
    def test_dates_are_read_as_wiziqs_clients_write_them(self, changes, first, last):
        classes = build(**changes).validate(now=NOW)
        assert f"{classes[0].wall_clock:%Y-%m-%d %H:%M}" == first
        assert f"{classes[-1].wall_clock:%Y-%m-%d}" == last

    def test_an_end_date_that_is_not_a_real_date_is_still_1082(self):
        error = refused(class_occurrence=None, class_end_date="02-30-2026")
        assert (error.code, error.parameter) == (1082, "class_end_date")

    def test_through_the_client(self, client, emulator):
        start = future(days=20)
        end = start.date() + timedelta(days=2)
        request = CreateRecurringRequest.from_params(
            {
                **_params(start),
                "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
                "class_occurrence": None,
                "class_end_date": end.strftime("%m-%d-%Y"),
                "presenter_id": "7",
                "presenter_name": "Ms Rivera",
            }
        )
        series = client.create_recurring(request)
        stored = emulator.classes(series.class_master_id)
        assert len(stored) == 3
        assert {c["presenter_email"] for c in stored} == {"teacher@example.com"}
        now_start = datetime.now(NEW_YORK).replace(tzinfo=None, microsecond=0) - timedelta(seconds=2)
        made = client.create(
            CreateClassRequest.from_params({**_params(now_start, recurring=False), "title": "Right now"})
        )
        assert made.class_id > 0


def _next_gap(zone: ZoneInfo) -> date:
    """The next day (at least 2 days ahead) whose 02:30 does not exist in ``zone``."""
    day = datetime.now(timezone.utc).date() + timedelta(days=2)
    while True:
        wall = datetime(day.year, day.month, day.day, 2, 30, tzinfo=zone)
        if wall.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
            return day
        day += timedelta(days=1)


_CREATE = CreateClassRequest.parameter_names()


def _params(start: datetime, *, recurring: bool = True) -> dict[str, Any]:
    params: dict[str, Any] = {
        "title": "Algebra I",
        "start_time": start,
        "time_zone": "America/New_York",
        "presenter_email": "teacher@example.com",
        "attendee_limit": 10,
    }
    if recurring:
        params.update(class_repeat_type=1, class_occurrence=2)
    return params


def _wire(start: datetime) -> dict[str, str]:
    return build(**_params(start)).to_wire()


def _keys(emulator: WizIQEmulator) -> dict[str, Any]:
    import time

    return {"access_key": emulator.access_key, "secret_key": emulator.secret_key, "timestamp": int(time.time())}


# --- the same rules for add_attendees' attendee_list ------------------------------------------------------


class TestAttendeeList:
    @pytest.mark.parametrize("name", ["attendee_id", "screen_name", "language_culture_name"])
    @pytest.mark.parametrize("value", ["a\udc80b", "a\x00b", "a\x1bb", b"ab", ["ab"], False, {"a": 1}])
    def test_every_field_of_an_attendee_is_text(self, name, value):
        attendee = {"attendee_id": "s-1", "screen_name": "Ada", "language_culture_name": "en-us", name: value}
        with pytest.raises(WizIQValidationError) as caught:
            calls.add_attendees(15716, [attendee])
        assert caught.value.parameter == "attendee_list"
        assert name in str(caught.value) and "attendee 0" in str(caught.value)

    def test_a_numeric_attendee_id_is_read(self):
        call = calls.add_attendees(15716, [{"attendee_id": 42, "screen_name": " Ada "}])
        assert "<attendee_id><![CDATA[42]]></attendee_id><screen_name><![CDATA[Ada]]>" in call.fields["attendee_list"]

    def test_a_language_of_the_wrong_shape_is_1043(self):
        with pytest.raises(WizIQValidationError) as caught:
            calls.add_attendees(15716, [{"attendee_id": "1", "screen_name": "Ada", "language_culture_name": "english"}])
        assert caught.value.code == 1043


class TestCalendarEndsInUTC:
    def test_a_class_whose_utc_start_is_past_the_last_day_is_refused(self):
        error = refused(start_time="12/30/9999 20:00", class_occurrence=1)  # 01:00 UTC on 9999-12-31
        assert (error.code, error.parameter) == (1082, "class_occurrence")
        with pytest.raises(WizIQValidationError) as caught:
            CreateClassRequest.from_params(
                {"title": "T", "presenter_email": "t@x.org", "start_time": "12/30/9999 20:00", "time_zone": "EST5EDT"}
            ).validate(now=NOW)
        assert (caught.value.code, caught.value.parameter) == (1005, "start_time")

    def test_a_class_ending_past_the_last_day_is_refused_naming_duration(self):
        error = refused(start_time="12/30/9999 10:00", class_occurrence=1, duration=24 * 60)
        assert (error.code, error.parameter) == (None, "duration")
        assert refused(start_time="12/30/2030 10:00", duration="9" * 18).parameter == "duration"

    @pytest.mark.parametrize(
        ("days", "end", "expected"),
        [
            ("monday,friday", "9999-12-29", [20, 24, 27]),
            ("friday", "9999-12-30", [24]),
            ("monday,tuesday,wednesday,thursday,friday,saturday", "9999-12-31", None),
        ],
    )
    def test_a_weekly_series_in_the_last_week_of_the_calendar(self, days, end, expected):
        """rrule raises ValueError walking a week that runs past year 9999: the series is read up to there."""
        changes = {"start_time": "12/20/9999 10:00", "time_zone": "UTC", "class_repeat_type": 4}
        request = build(**changes, days_of_week=days, class_occurrence=None, class_end_date=end)
        if expected is None:
            with pytest.raises(WizIQValidationError) as caught:
                request.validate(now=NOW)
            assert (caught.value.code, caught.value.parameter) == (1082, "class_end_date")
        else:
            assert [c.wall_clock.day for c in request.validate(now=NOW)] == expected

    @pytest.mark.parametrize("attendee", ["s-1", ("s-1", "Ada"), None, 5])
    def test_an_attendee_that_is_not_a_mapping_is_refused(self, attendee):
        with pytest.raises(WizIQValidationError) as caught:
            calls.add_attendees(15716, [attendee])
        assert caught.value.parameter == "attendee_list"


class TestColumns:
    @pytest.mark.parametrize(
        ("columns", "sent"),
        [("status", "status"), ("status, title", "status,title"), (["status", " title "], "status,title"), ((), None)],
    )
    def test_columns_are_a_comma_list_or_a_list(self, columns, sent):
        assert calls.get_data(class_id=1, columns=columns).fields.get("columns") == sent

    @pytest.mark.parametrize("columns", [[1], [b"status"], ["sta\udc80tus"], ["status\x00"], {"status": 1}, 5])
    def test_columns_of_anything_else_are_refused(self, columns):
        with pytest.raises(WizIQValidationError) as caught:
            calls.get_data(class_id=1, columns=columns)
        assert caught.value.parameter == "columns"
