"""Requests shaped like those WizIQ's own WordPress plugin and Moodle module send (docs/wiziq-api.md §10).

Raw signed form posts over HTTP, each field spelled as those clients spell it: the emulator must accept them.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError
from tests.emulator.conftest import Api

NEW_YORK = ZoneInfo("America/New_York")


def wordpress_class(**overrides: str) -> dict[str, str]:
    """The WordPress plugin's create fields: presenter_email, presenter_id and presenter_name together."""
    fields = {
        "title": "Algebra I",
        "start_time": "01/08/2030 10:00",  # m/d/Y H:i, no seconds
        "time_zone": "America/New_York",
        "presenter_email": "teacher@example.com",
        "presenter_id": "7",
        "presenter_name": "Ms Rivera",
        "language_culture_name": "en-us",
        "duration": "60",
        "attendee_limit": "30",
        "create_recording": "true",
        "return_url": "https://school.example/wp-admin/admin.php?page=wiziq_class",
    }
    fields.update(overrides)
    return fields


def moodle_series(**overrides: str) -> dict[str, str]:
    """The Moodle module's create_recurring fields: a room presenter, ISO-like start, MM-DD-YYYY end date."""
    fields = {
        "title": "Algebra I",
        "start_time": "2030-01-08 10:00:00",  # Y-m-d H:i:s
        "time_zone": "America/New_York",
        "presenter_id": "7",
        "presenter_name": "Ms Rivera",
        "class_repeat_type": "1",
        "class_end_date": "01-10-2030",  # m-d-Y
        "duration": "60",
        "attendee_limit": "30",
        "language_culture_name": "en-us",
    }
    fields.update(overrides)
    return fields


def now_in_new_york(api: Api) -> str:
    """The "schedule now" start both clients send: the class zone's wall clock now, in whole seconds."""
    return api.emulator.clock.now().astimezone(NEW_YORK).strftime("%m/%d/%Y %H:%M:%S")


class TestWordPressPlugin:
    def test_create_with_email_id_and_name_at_the_root_path(self, api, emulator):
        body = api.post("create", path="/", **wordpress_class()).content
        details = responses.parse_create(body)
        stored = emulator.get_class(details.class_id)
        assert (stored["presenter_email"], stored["presenter_id"], stored["presenter_name"]) == (
            "teacher@example.com",
            "7",
            "Ms Rivera",
        )
        assert details.presenters[0].email == "teacher@example.com"

    def test_create_recurring_with_email_id_and_name(self, api, emulator):
        fields = wordpress_class(class_repeat_type="4", days_of_week="monday,wednesday", class_occurrence="4")
        series = responses.parse_create_recurring(api.call("create_recurring", **fields))
        assert len(emulator.classes(series.class_master_id)) == 4

    def test_modify_with_email_id_and_name(self, api, emulator):
        details = responses.parse_create(api.post("create", path="/", **wordpress_class()).content)
        changed = {
            "class_id": str(details.class_id),
            "title": "Algebra I (moved)",
            "start_time": "01/09/2030 11:00",
            "presenter_email": "teacher@example.com",
            "presenter_id": "7",
            "presenter_name": "Ms Rivera",
        }
        assert responses.parse_modify(api.call("modify", **changed))
        assert emulator.get_class(details.class_id)["title"] == "Algebra I (moved)"

    def test_the_email_identifies_the_presenter_so_a_clash_is_1032(self, api):
        api.post("create", path="/", **wordpress_class())
        other_room = wordpress_class(presenter_id="8", presenter_name="Someone else")
        with pytest.raises(WizIQAPIError) as caught:
            responses.parse_create(api.post("create", path="/", **other_room).content)
        assert caught.value.code == 1032

    def test_an_id_carried_beside_an_email_is_not_a_room_presenter_so_no_1048(self, api):
        api.post("create", path="/", **wordpress_class())
        other = wordpress_class(presenter_email="other@example.com", presenter_name="Someone else")
        assert responses.parse_create(api.post("create", path="/", **other).content).class_id > 0

    def test_schedule_now(self, api):
        body = api.post("create", path="/", **wordpress_class(start_time=now_in_new_york(api))).content
        assert responses.parse_create(body).class_id > 0


class TestMoodleModule:
    def test_create_recurring_with_its_date_forms(self, api, emulator):
        series = responses.parse_create_recurring(api.call("create_recurring", **moodle_series()))
        stored = emulator.classes(series.class_master_id)
        assert [c["wall_clock"] for c in stored] == [f"2030-01-{day:02d}T10:00:00" for day in (8, 9, 10)]
        assert {c["presenter_id"] for c in stored} == {"7"}

    def test_schedule_now(self, api):
        now = api.emulator.clock.now().astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S")
        fields = {k: v for k, v in moodle_series(start_time=now).items() if not k.startswith("class_")}
        assert responses.parse_create(api.call("create", **fields)).class_id > 0

    def test_a_start_more_than_a_minute_ago_is_still_1004(self, api):
        past = api.emulator.clock.now().astimezone(NEW_YORK) - timedelta(seconds=62)
        fields = {k: v for k, v in moodle_series().items() if not k.startswith("class_")}
        fields["start_time"] = past.strftime("%Y-%m-%d %H:%M:%S")
        with pytest.raises(WizIQAPIError) as caught:
            responses.parse_create(api.call("create", **fields))
        assert caught.value.code == 1004

    def test_a_room_presenter_without_a_name_is_1002(self, api):
        with pytest.raises(WizIQAPIError) as caught:
            responses.parse_create_recurring(api.call("create_recurring", **moodle_series(presenter_name="")))
        assert caught.value.code == 1002
