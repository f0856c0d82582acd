"""Requests shaped like those WizIQ's own clients send (docs/wiziq-api.md §10 and §12), and their answers read
the way those clients read them.

Raw signed form posts over HTTP, each field spelled as those clients spell it: the emulator must accept them.
The clients: WizIQ's WordPress plugin and Moodle module, WizIQ's Canvas plugin, and two public clients,
springboard (a Rails school portal) and TutoraUK's PHP library (mikemix/wiziq-integration).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as DefusedET
import pytest
import requests

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError
from airflow_provider_wiziq.api.protocol.request import START_GRACE
from airflow_provider_wiziq.api.protocol.signing import signed_fields
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
        "language_culture_name": "en-US",  # the keys of WizIQ's own language list
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


def post_form(
    api: Api, method: str, fields: Mapping[str, str], *, path: str = "/apimanager.ashx", method_in_body: bool = True
) -> bytes:
    """A signed form post exactly as a client builds it: ``method`` in the query string, in the body only
    when the client repeats it there (WizIQ's Canvas plugin does not)."""
    auth = signed_fields(
        secret_key=api.emulator.secret_key,
        access_key=api.emulator.access_key,
        timestamp=api.emulator.clock.timestamp(),
        method=method,
    )
    body = {**fields, **({"method": method} if method_in_body else {}), **auth}
    response = api.session.post(f"{api.emulator.base_url}{path}?method={method}", data=body, timeout=10)
    assert response.status_code == 200
    return response.content


def xml(body: bytes) -> Element:
    return DefusedET.fromstring(body)


def first_text(root: Element, name: str) -> str | None:
    """Ruby REXML's ``doc.elements["//name"].text`` (Canvas): the first element of that name anywhere; its
    text, None when it is empty; a missing element is an error there (``nil.text``), so it fails here."""
    found = root.find(f".//{name}")
    assert found is not None, f"no <{name}> in the answer: the client would fail here"
    return found.text or None


#: The columns WizIQ's WordPress plugin asks get_data for, spelled as it spells them (spaces, line breaks).
WORDPRESS_COLUMNS = """presenter_id, presenter_name,presenter_url, start_time,
                            time_zone, create_recording, status, language_culture_name,
                            duration, recording_url,is_recurring,class_master_id,title,class_recording_status,\
attendance_report_status , attendee_limit"""


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

    def test_get_data_is_recurring_is_what_it_compares_with(self, api):
        """Its class list compares ``is_recurring`` with the strings ``True`` and ``False``."""
        single = responses.parse_create(api.post("create", path="/", **wordpress_class()).content)
        fields = wordpress_class(class_repeat_type="1", class_occurrence="2", start_time="01/09/2030 10:00")
        series = responses.parse_create_recurring(api.call("create_recurring", **fields))
        for class_id, expected in ((single.class_id, "False"), (series.first_class.class_id, "True")):
            body = post_form(api, "get_data", {"class_id": str(class_id), "columns": WORDPRESS_COLUMNS})
            record = xml(body).find("get_data/record_list/record")
            assert record is not None
            assert record.findtext("is_recurring") == expected
            # it stores the answer's language and finds it again among its language list's keys (en-US)
            assert record.findtext("language_culture_name") == "en-US"


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

    def test_schedule_for_now_posted_minutes_after_the_form_was_opened(self, api):
        """Its "schedule for now" sends the form's hidden timenow: when the teacher opened the form."""
        opened = api.emulator.clock.now().astimezone(NEW_YORK) - timedelta(minutes=12)
        fields = {k: v for k, v in moodle_series().items() if not k.startswith("class_")}
        fields["start_time"] = opened.strftime("%Y-%m-%d %H:%M:%S")
        assert responses.parse_create(api.call("create", **fields)).class_id > 0

    def test_a_start_more_than_the_grace_ago_is_still_1004(self, api):
        past = api.emulator.clock.now().astimezone(NEW_YORK) - START_GRACE - timedelta(seconds=2)
        fields = {k: v for k, v in moodle_series().items() if not k.startswith("class_")}
        fields["start_time"] = past.strftime("%Y-%m-%d %H:%M:%S")
        with pytest.raises(WizIQAPIError) as caught:
            responses.parse_create(api.call("create", **fields))
        assert caught.value.code == 1004

    @pytest.mark.wiziq_emulator(start_grace=60)
    def test_the_grace_is_the_emulators_to_set(self, wiziq_emulator):
        with requests.Session() as session:
            api = Api(wiziq_emulator, session)
            opened = wiziq_emulator.clock.now().astimezone(NEW_YORK) - timedelta(minutes=2)
            fields = {k: v for k, v in moodle_series().items() if not k.startswith("class_")}
            fields["start_time"] = opened.strftime("%Y-%m-%d %H:%M:%S")
            with pytest.raises(WizIQAPIError) as caught:
                responses.parse_create(api.call("create", **fields))
            assert caught.value.code == 1004
            wiziq_emulator.configure(start_grace=300)
            assert responses.parse_create(api.call("create", **fields)).class_id > 0

    def test_a_room_presenter_without_a_name_is_1002(self, api):
        with pytest.raises(WizIQAPIError) as caught:
            responses.parse_create_recurring(api.call("create_recurring", **moodle_series(presenter_name="")))
        assert caught.value.code == 1002


class TestCanvasPlugin:
    """WizIQ's Canvas plugin (lib/wiziq/): a room presenter, ``start_time`` as ``%m/%d/%Y %H:%M:%S %p``, and
    ``method`` only in the query string."""

    @staticmethod
    def schedule(api: Api, clock: datetime) -> bytes:
        """Its ``create``: "now" in the user's zone, formatted with a 24-hour hour and a designator."""
        api.emulator.clock.set(clock)
        start = api.emulator.clock.now().astimezone(NEW_YORK).strftime("%m/%d/%Y %H:%M:%S %p")
        fields = {
            "title": "Week 3 office hours",
            "duration": "60",
            "start_time": start,
            "time_zone": "America/New_York",
            "course_id": "101",
            "presenter_id": "canvas-user-uuid-7",
            "presenter_name": "Ms Rivera",
        }
        return post_form(api, "create", fields, method_in_body=False)

    @pytest.mark.parametrize(
        ("clock", "local"),
        [
            (datetime(2030, 1, 7, 13, 45, 29, tzinfo=ZoneInfo("UTC")), "2030-01-07T08:45:29"),  # "08:45:29 AM"
            (datetime(2030, 1, 7, 20, 45, 29, tzinfo=ZoneInfo("UTC")), "2030-01-07T15:45:29"),  # "15:45:29 PM"
        ],
    )
    def test_create_now_with_its_am_pm_start(self, api, emulator, clock, local):
        body = self.schedule(api, clock)
        root = xml(body)
        assert root.get("status") == "ok", body
        class_id = first_text(root, "class_id")
        assert emulator.get_class(int(class_id))["wall_clock"] == local
        presenter = root.find(".//presenter")
        assert presenter is not None
        for _child in presenter:  # Canvas walks the presenter's children and reads both, absolute, each time
            assert first_text(root, "presenter_url")
            assert first_text(root, "presenter_id") == "canvas-user-uuid-7"

    def test_a_student_joins_through_add_attendees_when_get_data_has_no_link(self, api):
        """Its participant join: get_data(columns=attendee_url) without attendee_id; any attendee_url text there,
        even empty, would be handed to the student as the link. None there, so it adds the student."""
        class_id = first_text(xml(self.schedule(api, datetime(2030, 1, 7, 13, 0, tzinfo=ZoneInfo("UTC")))), "class_id")
        asked = post_form(api, "get_data", {"class_id": class_id, "columns": "attendee_url"}, method_in_body=False)
        assert xml(asked).get("status") == "ok"
        assert xml(asked).find(".//attendee_url") is None
        roster = (
            "<attendee_list><attendee><attendee_id><![CDATA[student-uuid-9]]></attendee_id>"
            "<screen_name><![CDATA[Ann]]></screen_name></attendee></attendee_list>"
        )
        added = xml(
            post_form(api, "add_attendees", {"class_id": class_id, "attendee_list": roster}, method_in_body=False)
        )
        assert (first_text(added, "class_id"), first_text(added, "attendee_id")) == (class_id, "student-uuid-9")
        assert first_text(added, "attendee_url").startswith(api.emulator.base_url)

    def test_presenter_link_and_status_as_it_reads_them(self, api, emulator):
        class_id = first_text(xml(self.schedule(api, datetime(2030, 1, 7, 13, 0, tzinfo=ZoneInfo("UTC")))), "class_id")
        link = xml(post_form(api, "get_data", {"class_id": class_id, "columns": "presenter_url"}, method_in_body=False))
        assert first_text(link, "presenter_url").startswith(api.emulator.base_url)

        def active() -> bool:  # its conference_status: time_to_start -1 and status upcoming
            answer = xml(
                post_form(
                    api, "get_data", {"class_id": class_id, "columns": "status,time_to_start"}, method_in_body=False
                )
            )
            return first_text(answer, "time_to_start") == "-1" and first_text(answer, "status") == "upcoming"

        assert active()  # scheduled "now": in progress at once
        emulator.clock.advance(timedelta(minutes=61))
        assert not active()
