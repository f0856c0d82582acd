"""Every create_recurring error code of the seed a server decides, provoked over HTTP (§3, §7, §8)."""

from __future__ import annotations

import pytest

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.errors import ERROR_CODES, WizIQAPIError
from tests.emulator.conftest import Api, series_fields

MONTHLY = {"class_repeat_type": "5"}
WEEKLY = {"class_repeat_type": "4"}

#: code -> fields that provoke it (added to a valid request; None removes a field).
CASES: list[tuple[int, dict[str, str | None]]] = [
    (1003, {"time_zone": "Mars/Olympus_Mons"}),
    (1004, {"start_time": "01/07/2030 03:44:59"}),  # 08:44:59 UTC, just over the grace (15 min) before its clock
    (1005, {"start_time": "02/30/2030 10:00"}),
    (1010, {"duration": "301"}),
    (1011, {"attendee_limit": "101"}),
    (1014, {"title": None}),
    (1014, {"title": "   "}),
    (1019, {"start_time": None}),
    (1022, {"start_time": "tomorrow at ten"}),
    (1030, {"presenter_email": None}),
    (1031, {"presenter_email": "teacher.example.com"}),
    (1043, {"language_culture_name": "english"}),
    (1043, {"language_culture_name": "xx-yy"}),  # well shaped, not one of the account's languages
    (1081, {"class_repeat_type": None}),
    (1081, {"class_repeat_type": "6"}),
    (1082, {"class_occurrence": None}),
    (1082, {"class_end_date": "01/20/2030"}),  # both bounds
    (1082, {"class_occurrence": "0"}),
    (1082, {"class_occurrence": "61"}),  # over the series maximum
    (1082, {"class_occurrence": None, "class_end_date": "01/05/2030"}),  # no class at all
    (1082, {"class_occurrence": None, "class_end_date": "06/30/2030"}),  # 174 daily classes
    (1083, {**WEEKLY}),  # weekly without days_of_week
    (1083, {**WEEKLY, "days_of_week": "monday,someday"}),
    (1083, {**WEEKLY, "days_of_week": "monday", "specific_week": "6"}),
    (1083, {"days_of_week": "monday"}),  # only for type 4
    (1084, {**MONTHLY, "monthly_date": "32nd"}),
    (1084, {**MONTHLY, "monthly_date": "3th"}),
    (1085, {**MONTHLY, "monthly_day": "5th", "monthly_week_day": "monday"}),
    (1085, {**MONTHLY, "monthly_day": "2nd", "monthly_week_day": "funday"}),
    (1085, {**MONTHLY, "monthly_week_day": "monday"}),  # no monthly_day
    (1087, {**MONTHLY}),  # neither rule
    (1087, {**MONTHLY, "monthly_date": "15th", "monthly_day": "1st", "monthly_week_day": "monday"}),
    (1087, {**MONTHLY, "monthly_date": "15th", "rdo_by_date": "false"}),
    (1090, {"extend_duration": "-5"}),
    (1090, {"extend_duration": "ten"}),
    (1052, {"title": "x" * 71}),
    (1001, {"presenter_email": None, "presenter_name": "Ms Smith"}),
    (1002, {"presenter_email": None, "presenter_id": "room-7"}),
]


def refusal(api: Api, **fields: str | None) -> WizIQAPIError:
    body = api.call("create_recurring", **series_fields(**fields))
    with pytest.raises(WizIQAPIError) as caught:
        responses.parse_create_recurring(body)
    return caught.value


@pytest.mark.parametrize(("code", "fields"), CASES, ids=[f"{code}-{i}" for i, (code, _) in enumerate(CASES)])
def test_create_recurring_error_code(api, code, fields):
    error = refusal(api, **fields)
    assert error.code == code
    assert api.emulator.classes() == []  # nothing stored


def test_messages_are_wiziqs_own_with_the_plan_filled_in(api):
    assert refusal(api, title=None).message == "title parameter is missing."
    assert refusal(api, duration="301").message == "duration parameter cannot exceed 300 minutes."
    assert refusal(api, attendee_limit="500").message == "attendee_limit parameter cannot exceed 100 attendees."
    assert refusal(api, time_zone="Nowhere/Land").message == ERROR_CODES[1003].message


def test_1032_same_presenter_same_instant(api):
    responses.parse_create_recurring(api.call("create_recurring", **series_fields()))
    # The same instant written in another zone is the same instant.
    error = refusal(api, title="Other", start_time="01/08/2030 15:00", time_zone="UTC", class_occurrence="1")
    assert error.code == 1032
    # The same presenter an hour later, or another presenter at the same time, is fine.
    responses.parse_create_recurring(api.call("create_recurring", **series_fields(start_time="01/08/2030 11:00")))
    responses.parse_create_recurring(
        api.call("create_recurring", **series_fields(presenter_email="Second@Example.com"))
    )
    assert refusal(api, presenter_email="second@example.com", class_occurrence="1").code == 1032


def test_1012_over_the_concurrent_class_limit(api):
    for teacher in range(5):  # the limit is 5
        api.call("create_recurring", **series_fields(presenter_email=f"t{teacher}@example.com"))
    # Overlapping the first class (10:00-11:00) by half an hour: a sixth concurrent class.
    error = refusal(api, presenter_email="t5@example.com", start_time="01/08/2030 10:30", class_occurrence="1")
    assert (error.code, error.message) == (1012, "Only 5 simultaneous classes are allowed.")
    # Starting when the others end is no overlap.
    ok = api.call("create_recurring", **series_fields(presenter_email="t5@example.com", start_time="01/08/2030 11:00"))
    assert responses.parse_create_recurring(ok).class_master_id > 0
    # Cancelled classes free their slot.
    first = api.emulator.classes()[0]["class_id"]
    api.call("cancel", class_id=str(first))
    ok = api.call("create_recurring", **series_fields(presenter_email="t6@example.com", class_occurrence="1"))
    assert responses.parse_create_recurring(ok).class_master_id > 0


def test_limits_changed_at_run_time(api):
    api.emulator.configure(max_class_minutes=30)
    assert refusal(api, duration="45").message == "duration parameter cannot exceed 30 minutes."
    api.emulator.configure(max_series_classes=2)
    assert refusal(api, duration="30", class_occurrence="3").code == 1082
