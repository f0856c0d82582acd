"""The create_recurring request: natural values in, WizIQ's wire format out, every client-side error code."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
import pytest

from airflow_provider_wiziq.api.protocol.errors import WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.vocabulary import LAST, RepeatType, Weekday

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)

BASE = {
    "title": "Algebra I",
    "start_time": "01/12/2026 09:30",
    "class_repeat_type": 1,
    "class_occurrence": 4,
    "presenter_email": "teacher@example.com",
}


def build(**changes: object) -> CreateRecurringRequest:
    params = {**BASE, **changes}
    return CreateRecurringRequest.from_params({k: v for k, v in params.items() if v is not ...})


def rejected(**changes: object) -> WizIQValidationError:
    with pytest.raises(WizIQValidationError) as caught:
        build(**changes).validate(now=NOW)
    return caught.value


class TestWireFormat:
    def test_minimal_request_always_sends_time_zone_attendee_limit_and_duration(self):
        wire = build().to_wire()
        assert wire == {
            "title": "Algebra I",
            "start_time": "01/12/2026 09:30:00",
            "time_zone": "GMT",
            "attendee_limit": "2",
            "duration": "60",
            "presenter_email": "teacher@example.com",
            "class_repeat_type": "1",
            "class_occurrence": "4",
        }

    def test_every_optional_parameter_in_wizIQs_spelling(self):
        wire = build(
            time_zone="America/Chicago",
            attendee_limit="25",
            duration=45,
            extend_duration="15",
            language_culture_name="EN-US",
            presenter_default_controls=["video", "audio"],
            attendee_default_controls="writing, audio",
            create_recording=True,
            return_url="https://school.example/done",
            status_ping_url="https://school.example/ping?term=fall",
        ).to_wire()
        assert wire["time_zone"] == "America/Chicago"
        assert wire["attendee_limit"] == "25"
        assert wire["duration"] == "45"
        assert wire["extend_duration"] == "15"
        assert wire["language_culture_name"] == "en-us"
        assert wire["presenter_default_controls"] == "audio, video"
        assert wire["attendee_default_controls"] == "audio, writing"
        assert wire["create_recording"] == "true"
        assert wire["return_url"] == "https://school.example/done"
        assert wire["status_ping_url"] == "https://school.example/ping?term=fall"

    def test_weekly_days_in_calendar_order_lower_case(self):
        wire = build(class_repeat_type="weekly", days_of_week="Friday, mon,WEDNESDAY").to_wire()
        assert wire["class_repeat_type"] == "4"
        assert wire["days_of_week"] == "monday,wednesday,friday"
        assert wire["specific_week"] == "1"

    def test_weekly_from_a_list_and_every_two_weeks(self):
        request = build(class_repeat_type=4, days_of_week=[Weekday.WEDNESDAY, "Monday"], specific_week="2")
        assert request.days_of_week == (Weekday.MONDAY, Weekday.WEDNESDAY)
        assert request.to_wire()["specific_week"] == "2"

    @pytest.mark.parametrize(
        ("given", "wire"),
        [
            (15, "15th"),
            ("1", "1st"),
            ("22nd", "22nd"),
            ("31st", "31st"),
            (3, "3rd"),
            (11, "11th"),
            (23, "23rd"),
        ],
    )
    def test_monthly_by_date_implies_rdo_by_date(self, given, wire):
        sent = build(class_repeat_type="monthly", monthly_date=given).to_wire()
        assert sent["monthly_date"] == wire
        assert sent["rdo_by_date"] == "true"
        assert "rdo_by_day" not in sent

    @pytest.mark.parametrize(("given", "wire"), [("last", "Last"), ("LAST", "Last"), (2, "2nd"), ("4th", "4th")])
    def test_monthly_by_weekday_implies_rdo_by_day(self, given, wire):
        sent = build(class_repeat_type=5, monthly_day=given, monthly_week_day="Friday").to_wire()
        assert sent["monthly_day"] == wire
        assert sent["monthly_week_day"] == "friday"
        assert sent["rdo_by_day"] == "true"
        assert "monthly_date" not in sent

    def test_end_date_bound(self):
        for given in ("2026-03-01", "03/01/2026", date(2026, 3, 1), datetime(2026, 3, 1, 8)):
            sent = build(class_occurrence=None, class_end_date=given).to_wire()
            assert sent["class_end_date"] == "03/01/2026"
            assert "class_occurrence" not in sent

    def test_room_based_presenter(self):
        sent = build(presenter_email=None, presenter_id="42", presenter_name="Ms Rivera").to_wire()
        assert sent["presenter_id"] == "42"
        assert sent["presenter_name"] == "Ms Rivera"
        assert "presenter_email" not in sent

    def test_blank_template_renderings_count_as_not_given(self):
        sent = build(duration="", time_zone=" ", language_culture_name="", monthly_date="").to_wire()
        assert sent["duration"] == "60"
        assert sent["time_zone"] == "GMT"
        assert "language_culture_name" not in sent


class TestStartTime:
    @pytest.mark.parametrize(
        "given",
        [
            "01/12/2026 09:30",
            "1/12/2026 9:30:00",
            "2026-01-12T09:30",
            "2026-01-12 09:30:00",
            datetime(2026, 1, 12, 9, 30),
            datetime(2026, 1, 12, 9, 30, 0, 123456),
        ],
    )
    def test_naive_values_are_wall_clock_in_time_zone(self, given):
        request = build(start_time=given, time_zone="America/New_York")
        assert request.to_wire()["start_time"] == "01/12/2026 09:30:00"
        assert request.start == datetime(2026, 1, 12, 9, 30, tzinfo=ZoneInfo("America/New_York"))

    @pytest.mark.parametrize(
        ("given", "wire"),
        [
            ("01/12/2026 08:45:29 AM", "01/12/2026 08:45:29"),  # WizIQ's Canvas plugin: %m/%d/%Y %H:%M:%S %p
            ("1/12/2026 1:40:59 PM", "01/12/2026 13:40:59"),  # WizIQ's own answers: 6/22/2011 1:40:59 AM
            ("01/12/2026 15:45:29 PM", "01/12/2026 15:45:29"),  # Canvas: a 24-hour hour with its designator
            ("01/12/2026 12:05:00 AM", "01/12/2026 00:05:00"),
            ("01/12/2026 12:05:00 PM", "01/12/2026 12:05:00"),
            ("1/12/2026 9:30 pm", "01/12/2026 21:30:00"),
            ("01/12/2026 11:00:00 a.m.", "01/12/2026 11:00:00"),
        ],
    )
    def test_an_am_pm_designator_and_single_digit_fields(self, given, wire):
        assert build(start_time=given).to_wire()["start_time"] == wire

    @pytest.mark.parametrize(
        "given", ["01/12/2026 13:45:29 AM", "01/12/2026 23:00 AM", "01/12/2026 0:30:00 AM", "01/12/2026 00:30:00 PM"]
    )
    def test_a_designator_that_does_not_fit_the_hour_is_1022(self, given):
        error = rejected(start_time=given)
        assert (error.code, error.parameter) == (1022, "start_time")
        assert "12-hour" in error.detail

    def test_aware_start_gives_its_zone_when_no_time_zone(self):
        start = datetime(2026, 7, 1, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
        sent = build(start_time=start).to_wire()
        assert (sent["time_zone"], sent["start_time"]) == ("Europe/Berlin", "07/01/2026 18:00:00")

    def test_pendulum_start(self):
        start = pendulum.datetime(2026, 7, 1, 18, 0, tz="Asia/Kolkata")
        sent = build(start_time=start).to_wire()
        assert (sent["time_zone"], sent["start_time"]) == ("Asia/Kolkata", "07/01/2026 18:00:00")

    def test_aware_start_is_converted_to_the_given_time_zone(self):
        sent = build(start_time="2026-07-01T16:00:00Z", time_zone="America/Chicago").to_wire()
        assert sent["start_time"] == "07/01/2026 11:00:00"

    def test_utc_and_whole_hour_offsets_map_to_iana_zones(self):
        assert build(start_time="2026-07-01T16:00:00+00:00").to_wire()["time_zone"] == "UTC"
        sent = build(start_time=datetime(2026, 7, 1, 9, tzinfo=timezone(timedelta(hours=-5)))).to_wire()
        assert (sent["time_zone"], sent["start_time"]) == ("Etc/GMT+5", "07/01/2026 09:00:00")

    def test_half_hour_fixed_offset_needs_a_time_zone(self):
        error = rejected(start_time="2026-07-01T16:00:00+05:30")
        assert (error.code, error.parameter) == (1003, "start_time")


class TestClientSideErrorCodes:
    """Every seed code a client can know before sending: the code and the parameter are named."""

    @pytest.mark.parametrize(
        ("changes", "code", "parameter"),
        [
            ({"time_zone": "Mars/Olympus_Mons"}, 1003, "time_zone"),
            ({"time_zone": "Zone/" + "x" * 300}, 1003, "time_zone"),
            ({"start_time": "01/05/2026 11:44:59"}, 1004, "start_time"),  # 15 min 1 s ago
            ({"start_time": "02/30/2026 10:00"}, 1005, "start_time"),
            ({"start_time": "01/12/2026 25:00"}, 1005, "start_time"),
            ({"start_time": 1736674200}, 1005, "start_time"),
            ({"start_time": date(2026, 1, 12)}, 1005, "start_time"),
            ({"title": ""}, 1014, "title"),
            ({"title": ...}, 1014, "title"),
            ({"title": "x" * 71}, 1052, "title"),
            ({"start_time": ...}, 1019, "start_time"),
            ({"start_time": "next tuesday"}, 1022, "start_time"),
            ({"start_time": "12.01.2026 09:30"}, 1022, "start_time"),
            ({"class_occurrence": None, "class_end_date": "1 March 2026"}, 1022, "class_end_date"),
            ({"presenter_email": None}, 1030, "presenter_email"),
            ({"presenter_email": "teacher.example.com"}, 1031, "presenter_email"),
            ({"presenter_email": "a@b@example.com"}, 1031, "presenter_email"),
            ({"language_culture_name": "english"}, 1043, "language_culture_name"),
            ({"class_repeat_type": 6}, 1081, "class_repeat_type"),
            ({"class_repeat_type": "fortnightly"}, 1081, "class_repeat_type"),
            ({"class_repeat_type": None}, 1081, "class_repeat_type"),
            ({"class_repeat_type": True}, 1081, "class_repeat_type"),
            ({"class_occurrence": None}, 1082, "class_occurrence"),
            ({"class_end_date": "2026-02-01"}, 1082, "class_occurrence"),
            ({"class_occurrence": 0}, 1082, "class_occurrence"),
            ({"class_occurrence": "four"}, 1082, "class_occurrence"),
            ({"class_occurrence": 61}, 1082, "class_occurrence"),
            ({"class_occurrence": None, "class_end_date": "2026-01-11"}, 1082, "class_end_date"),
            ({"class_occurrence": None, "class_end_date": "02/30/2026"}, 1082, "class_end_date"),
            ({"class_repeat_type": 4}, 1083, "days_of_week"),
            ({"class_repeat_type": 4, "days_of_week": "monday", "specific_week": 6}, 1083, "specific_week"),
            ({"class_repeat_type": 4, "days_of_week": "funday"}, 1083, "days_of_week"),
            ({"days_of_week": "monday"}, 1083, "days_of_week"),
            ({"class_repeat_type": 5, "monthly_date": 32}, 1084, "monthly_date"),
            ({"class_repeat_type": 5, "monthly_date": "15st"}, 1084, "monthly_date"),
            ({"class_repeat_type": 5, "rdo_by_date": True}, 1084, "monthly_date"),
            ({"monthly_date": 15}, 1084, "monthly_date"),
            (
                {"class_repeat_type": 5, "monthly_day": "5th", "monthly_week_day": "friday"},
                1085,
                "monthly_day",
            ),
            ({"class_repeat_type": 5, "monthly_day": "last"}, 1085, "monthly_week_day"),
            ({"class_repeat_type": 5, "monthly_week_day": "friday"}, 1085, "monthly_day"),
            (
                {"class_repeat_type": 5, "monthly_day": 1, "monthly_week_day": "caturday"},
                1085,
                "monthly_week_day",
            ),
            ({"class_repeat_type": 5}, 1087, "rdo_by_date"),
            (
                {"class_repeat_type": 5, "monthly_date": 3, "monthly_day": 1, "monthly_week_day": "monday"},
                1087,
                "rdo_by_date",
            ),
            ({"class_repeat_type": 5, "monthly_date": 3, "rdo_by_date": "false"}, 1087, "rdo_by_date"),
            ({"class_repeat_type": 5, "monthly_date": 3, "rdo_by_date": "maybe"}, 1087, "rdo_by_date"),
            ({"extend_duration": "ten"}, 1090, "extend_duration"),
            ({"extend_duration": -5}, 1090, "extend_duration"),
            ({"presenter_email": None, "presenter_name": "Ms Rivera"}, 1001, "presenter_id"),
            ({"presenter_email": None, "presenter_id": "42"}, 1002, "presenter_name"),
        ],
    )
    def test_code_and_parameter(self, changes, code, parameter):
        error = rejected(**changes)
        assert (error.code, error.parameter) == (code, parameter)
        assert error.method == "create_recurring"
        assert parameter in str(error)
        assert str(error).startswith(f"Not sent (WizIQ would answer {code}): ")  # the client found it, not WizIQ
        assert error.permanent

    @pytest.mark.parametrize(
        ("changes", "parameter"),
        [
            ({"duration": 0}, "duration"),
            ({"attendee_limit": "lots"}, "attendee_limit"),
            ({"presenter_default_controls": "audio, writing"}, "presenter_default_controls"),
            ({"create_recording": "perhaps"}, "create_recording"),
        ],
    )
    def test_errors_wiziq_has_no_code_for_still_name_the_parameter(self, changes, parameter):
        error = rejected(**changes)
        assert error.code is None
        assert error.parameter == parameter
        assert str(error).startswith(f"{parameter}: ")

    def test_plan_limits_fill_wiziqs_placeholders(self):
        limits = PlanLimits(max_class_minutes=90, max_user_per_class=10)
        with pytest.raises(WizIQValidationError) as caught:
            build(duration=120).validate(now=NOW, limits=limits)
        assert caught.value.code == 1010
        assert "cannot exceed 90 minutes" in str(caught.value)
        with pytest.raises(WizIQValidationError) as caught:
            build(attendee_limit=11).validate(now=NOW, limits=limits)
        assert caught.value.code == 1011
        assert "cannot exceed 10 attendees" in str(caught.value)
        build(duration=90, attendee_limit=10).validate(now=NOW, limits=limits)

    def test_plan_limits_unset_leave_the_check_to_the_server(self):
        assert len(build(duration=600, attendee_limit=5000).validate(now=NOW)) == 4

    def test_series_limit_is_configurable(self):
        with pytest.raises(WizIQValidationError) as caught:
            build(class_occurrence=5).validate(now=NOW, limits=PlanLimits(max_series_classes=4))
        assert caught.value.code == 1082

    def test_unknown_parameter_is_refused_not_dropped(self):
        with pytest.raises(WizIQValidationError) as caught:
            CreateRecurringRequest.from_params({**BASE, "presenter_emial": "x@example.com"})
        assert caught.value.parameter == "presenter_emial"

    def test_transport_fields_are_not_parameters(self):
        request = CreateRecurringRequest.from_params({**BASE, "access_key": "k", "signature": "s", "timestamp": "1"})
        assert "signature" not in request.to_wire()


class TestReadBack:
    def test_wire_form_reads_back_to_the_same_request(self):
        request = build(
            class_repeat_type=5,
            monthly_day="last",
            monthly_week_day="fri",
            time_zone="Australia/Sydney",
            class_occurrence=None,
            class_end_date="2026-12-31",
            attendee_limit=30,
            create_recording=False,
        )
        again = CreateRecurringRequest.from_params(request.to_wire())
        assert again == request
        assert again.monthly_day == LAST
        assert again.repeat_type is RepeatType.MONTHLY

    def test_validate_returns_the_series(self):
        classes = build(time_zone="America/New_York").validate(now=NOW)
        assert [c.local_start.day for c in classes] == [12, 13, 14, 15]
        assert classes[0].utc_start == datetime(2026, 1, 12, 14, 30, tzinfo=timezone.utc)

    def test_single_class_request(self):
        request = CreateClassRequest.from_params(
            {
                "title": "Office hours",
                "start_time": "2026-02-02T15:00",
                "presenter_email": "t@example.com",
                "time_zone": "Europe/London",
            }
        )
        assert request.to_wire()["start_time"] == "02/02/2026 15:00:00"
        assert request.validate(now=NOW).utc_start == datetime(2026, 2, 2, 15, tzinfo=timezone.utc)
        with pytest.raises(WizIQValidationError) as caught:
            CreateClassRequest.from_params(
                {
                    "title": "x",
                    "start_time": "2026-02-02T15:00",
                    "presenter_email": "t@example.com",
                    "class_repeat_type": 1,
                }
            )
        assert (caught.value.parameter, caught.value.method) == ("class_repeat_type", "create")
