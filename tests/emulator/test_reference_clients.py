"""Requests shaped like those WizIQ's own clients send (docs/wiziq-api.md §10 and §12), and their answers read
the way those clients read them.

Raw signed form posts over HTTP, each field spelled as those clients spell it: the emulator must accept them.
The clients: WizIQ's WordPress plugin and Moodle module, WizIQ's Canvas plugin, and two public clients,
springboard (a Rails school portal) and TutoraUK's PHP library (mikemix/wiziq-integration).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
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
    """The WordPress plugin's create fields (its addLiveClass): presenter_email, presenter_id and presenter_name
    together, and the empty and extra fields it always adds."""
    fields = {
        "presenter_email": "teacher@example.com",
        "presenter_id": "7",
        "presenter_name": "Ms Rivera",
        "title": "Algebra I",
        "start_time": "01/08/2030 10:00",  # m/d/Y H:i, no seconds
        "duration": "60",
        "time_zone": "America/New_York",
        "attendee_limit": "30",
        "create_recording": "true",
        "language_culture_name": "en-US",  # the keys of WizIQ's own language list
        "control_category_id": "",
        "return_url": "",
        "status_ping_url": "",
        "app_version": "Wordpress 1.0",
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


def dom_items(root: Element, name: str) -> list[str]:
    """PHP's ``$dom->getElementsByTagName(name)->item(i)->nodeValue`` (WordPress): every element of that name in
    document order, as text ("" when empty)."""
    return [(element.text or "").strip() for element in root.iter(name)]


def simplexml(root: Element, path: str) -> str:
    """PHP's ``(string) $xml->a->b`` (WordPress, Moodle, TutoraUK): the first element down that path, as text;
    "" when the path is missing (SimpleXML does not fail there)."""
    found = root.find(path)
    return "" if found is None else (found.text or "").strip()


def multixml(element: Element) -> Any:
    """What Ruby's HTTParty hands springboard (MultiXml): attributes and children as a hash, a repeated child
    as a list, a leaf as its text (nil when empty)."""
    children = list(element)
    if not children and not element.attrib:
        return (element.text or "").strip() or None
    data: dict[str, Any] = dict(element.attrib)
    for child in children:
        value = multixml(child)
        if child.tag in data:
            data[child.tag] = (
                [*data[child.tag], value] if isinstance(data[child.tag], list) else [data[child.tag], value]
            )
        else:
            data[child.tag] = value
    return data


def rsp(body: bytes) -> Any:
    """springboard's ``response[:rsp]``."""
    return multixml(xml(body))


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

    def test_the_answers_it_reads_by_element_name(self, api):
        """addLiveClass reads item(0) of class_id, recording_url and presenter_url, and for a series also
        class_master_id and recurring_summary; a missing element would be a PHP error there."""
        single = xml(api.post("create", path="/", **wordpress_class()).content)
        assert dom_items(single, "method") == ["create"]
        assert all(dom_items(single, name)[0] for name in ("class_id", "recording_url", "presenter_url"))
        fields = wordpress_class(
            class_repeat_type="5",
            monthly_day="2nd",
            monthly_week_day="tuesday",
            rdo_by_day="true",
            class_occurrence="3",
            start_time="01/14/2030 09:00",
        )
        series = xml(api.call("create_recurring", **fields))
        assert dom_items(series, "method") == ["create_recurring"]
        for name in ("class_master_id", "class_id", "recording_url", "presenter_url"):
            assert dom_items(series, name)[0], name
        assert "monthly on the 2nd Tuesday" in dom_items(series, "recurring_summary")[0]

    def test_view_schedule_inserts_the_other_classes_of_a_series(self, api):
        fields = wordpress_class(
            class_repeat_type="4", specific_week="1", days_of_week="monday,wednesday", class_end_date="01/30/2030"
        )
        series = xml(api.call("create_recurring", **fields))
        master, first = dom_items(series, "class_master_id")[0], dom_items(series, "class_id")[0]
        body = post_form(api, "view_schedule", {"class_master_id": master, "page_number": "1", "page_size": "60"})
        listed = xml(body).findall("view_schedule/recurring_list/class_details")
        assert len(listed) == 7  # Mondays and Wednesdays from 01/08 (a Tuesday) to 01/30
        for entry in listed:
            for path in (
                "class_id",
                "class_title",
                "start_time",
                "duration",
                "class_status",
                "attendance_report_status",
                "presenter_list/presenter/presenter_url",
            ):
                assert simplexml(entry, path), path
            datetime.strptime(simplexml(entry, "start_time"), "%m/%d/%Y %H:%M:%S")  # it reads it with strtotime
        assert simplexml(listed[0], "class_id") == first

    def test_a_student_joins(self, api):
        """wiziq_addattendee: one attendee with its language, in an indented list; it reads class_id,
        add_attendees' status and each attendee_id and attendee_url, then sends the student to the URL."""
        class_id = dom_items(xml(api.post("create", path="/", **wordpress_class()).content), "class_id")[0]
        roster = (  # its own indentation: tabs
            "<attendee_list>\n\t\t\t<attendee>\n\t\t\t\t<attendee_id><![CDATA[42]]></attendee_id>\n"
            "\t\t\t\t<screen_name><![CDATA[Ann Lee]]></screen_name>\n"
            "\t\t\t\t<language_culture_name><![CDATA[en-US]]></language_culture_name>\n"
            "\t\t\t</attendee>\n\t\t  </attendee_list>"
        )
        answer = xml(post_form(api, "add_attendees", {"class_id": class_id, "attendee_list": roster}))
        assert answer.get("status") == "ok"
        assert dom_items(answer, "class_id") == [class_id]
        assert answer.find("add_attendees").get("status") == "true"
        assert dom_items(answer, "attendee_id") == ["42"]
        assert dom_items(answer, "attendee_url")[0].startswith(api.emulator.base_url)

    def test_cancel_and_what_it_takes_for_deleted(self, api):
        """wiziq_cancel: ok, or 1009 / 1036, both of which it takes as "the class is gone"."""
        class_id = dom_items(xml(api.post("create", path="/", **wordpress_class()).content), "class_id")[0]
        assert xml(post_form(api, "cancel", {"class_id": class_id})).get("status") == "ok"
        gone = xml(post_form(api, "cancel", {"class_id": "999999"}))
        assert (gone.get("status"), gone.find("error").get("code")) == ("fail", "1009")

    def test_attendance_report_and_recording_download(self, api, emulator):
        """getAttendance_report reads get_attendance_report[@status] and its attendee rows; getdownloadlink
        asks download_recording (zip, or exe for Windows browsers), loads status_xml_path and takes
        recording_download_path once download_status is 'true'."""
        class_id = dom_items(xml(api.post("create", path="/", **wordpress_class()).content), "class_id")[0]
        emulator.clock.set(datetime(2030, 1, 8, 16, 11, tzinfo=ZoneInfo("UTC")))  # ended 16:00, delay 600 s
        report = xml(post_form(api, "get_attendance_report", {"class_id": class_id}))
        assert report.get("status") == "ok" and report.find("get_attendance_report").get("status") == "true"
        assert len(report.findall("get_attendance_report/attendee_list/attendee")) == 1  # the presenter
        for recording_format in ("zip", "exe"):
            answer = xml(
                post_form(api, "download_recording", {"class_id": class_id, "recording_format": recording_format})
            )
            assert answer.get("status") == "ok"
            status_xml_path = simplexml(answer, "download_recording/status_xml_path")
            status = xml(api.session.get(status_xml_path, timeout=10).content)
            assert simplexml(status, "download_recording/download_status") == "true"
            link = simplexml(status, "download_recording/recording_download_path")
            assert link.endswith(f"download.{recording_format}")
            assert api.session.get(link, timeout=10).status_code == 200


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

    @staticmethod
    def schedule(api: Api, **overrides: str) -> str:
        """wiziq_scheduleclass: its create fields, ``start_time`` ``Y-m-d H:i:s``; the class id it reads."""
        fields = {
            "course_id": "12",
            "title": "Algebra I",
            "description": "<p>Week 1</p>",
            "presenter_id": "7",
            "presenter_name": "Ms Rivera",
            "start_time": "2030-01-08 10:00:00",
            "duration": "60",
            "time_zone": "America/New_York",
            "create_recording": "true",
            "return_url": "",
            "status_ping_url": "",
            "language_culture_name": "en-US",
            "app_version": "3.1.1+ (Build: 20160721)",
            **overrides,
        }
        answer = xml(post_form(api, "create", fields))
        assert answer.get("status") == "ok"
        for path in ("class_id", "recording_url", "presenter_list/presenter/presenter_url"):
            assert simplexml(answer, f"create/class_details/{path}"), path
        return simplexml(answer, "create/class_details/class_id")

    def test_its_recurring_form_and_the_schedule_it_reads_back(self, api):
        """wiziq_create_recuring: ``start_time`` ``m/d/Y H:i:s`` and ``class_end_date`` ``m-d-Y`` here; it reads
        the series id, then view_schedule (page_size 20) for each class's id and status."""
        fields = {
            "course_id": "12",
            "title": "Algebra I",
            "description": "",
            "presenter_id": "7",
            "presenter_name": "Ms Rivera",
            "start_time": "01/08/2030 10:00:00",
            "class_repeat_type": "4",
            "days_of_week": "tuesday,thursday",
            "specific_week": "1",
            "class_end_date": "01-24-2030",
            "app_version": "3.1.1+ (Build: 20160721)",
            "language_culture_name": "en-US",
            "create_recording": "false",
            "return_url": "",
            "status_ping_url": "",
            "time_zone": "America/New_York",
            "duration": "60",
        }
        answer = xml(post_form(api, "create_recurring", fields))
        master = simplexml(answer, "create_recurring/recurring_class_details/class_master_id")
        assert master
        schedule = xml(post_form(api, "view_schedule", {"page_size": "20", "class_master_id": master}))
        listed = schedule.findall("view_schedule/recurring_list/class_details")
        assert [simplexml(entry, "class_status") for entry in listed] == ["upcoming"] * 6
        assert all(simplexml(entry, "class_id") for entry in listed)

    def test_a_student_joins_by_its_own_link_or_is_added(self, api):
        """wiziq_get_data_attendee asks for the student's own link (attendee_id); with none, wiziq_addattendee."""
        class_id = self.schedule(api)
        ask = {"class_id": class_id, "attendee_id": "31", "columns": "attendee_url"}
        assert simplexml(xml(post_form(api, "get_data", ask)), "get_data/record_list/record/attendee_url") == ""
        roster = """<attendee_list>
    <attendee>
    <attendee_id><![CDATA[31]]></attendee_id>
    <screen_name><![CDATA[Ann Lee]]></screen_name>
    <language_culture_name><![CDATA[en-US]]></language_culture_name>
    </attendee>
    </attendee_list>"""
        added = xml(post_form(api, "add_attendees", {"class_id": class_id, "attendee_list": roster}))
        assert simplexml(added, "add_attendees/class_id") == class_id
        url = simplexml(added, "add_attendees/attendee_list/attendee/attendee_url")
        assert url.startswith(api.emulator.base_url)
        assert simplexml(xml(post_form(api, "get_data", ask)), "get_data/record_list/record/attendee_url") == url

    def test_its_class_list_and_the_recording_download(self, api, emulator):
        """Its list asks get_data by multiple_class_id with its columns; wiziq_downloadrecording needs the
        answer's download_status and status attribute to be 'true', then reads the status document."""
        first, second = self.schedule(api), self.schedule(api, start_time="2030-01-09 10:00:00")
        columns = "class_id ,presenter_id, presenter_name,presenter_url, status, recording_url , create_recording"
        listed = xml(
            post_form(
                api, "get_data", {"page_size": "20", "multiple_class_id": f"{first},{second}", "columns": columns}
            )
        )
        records = listed.findall("get_data/record_list/record")
        assert [simplexml(r, "class_id") for r in records] == [first, second]
        assert {simplexml(r, "create_recording") for r in records} == {"true"}
        emulator.clock.set(datetime(2030, 1, 8, 16, 5, tzinfo=ZoneInfo("UTC")))  # ended 16:00; packing till 16:10
        answer = xml(post_form(api, "download_recording", {"class_id": first, "recording_format": "zip"}))
        download = answer.find("download_recording")
        assert (simplexml(answer, "download_recording/download_status"), download.get("status")) == ("true", "true")
        status_xml_path = simplexml(answer, "download_recording/status_xml_path")
        pending = xml(api.session.get(status_xml_path, timeout=10).content)
        assert simplexml(pending, "download_recording/download_status") == "false"  # "not created yet"
        emulator.clock.advance(timedelta(minutes=5))
        ready = xml(api.session.get(status_xml_path, timeout=10).content)
        assert simplexml(ready, "download_recording/recording_download_path").endswith("download.zip")

    def test_cancel(self, api):
        class_id = self.schedule(api)
        assert xml(post_form(api, "cancel", {"class_id": class_id})).find("cancel").get("status") == "true"


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


class TestSpringboard:
    """springboard (a Rails school portal): its WiziqClass API over HTTParty, ``method`` in the query and the
    body, every method but ``create_recurring`` at the endpoint's root; answers read as MultiXml hashes."""

    SINGLE = {
        "title": "Physics 101",
        "start_time": "01/08/2030 10:00",  # strftime("%m/%d/%Y %H:%M")
        "create_recording": "true",
        "duration": "60",
        "return_url": "http://localhost:3000/admin/subjects/1/sections/2",
        "presenter_email": "royaltyclubvp@royalty-club.com",
        "time_zone": "America/New_York",
        "status_ping_url": "http://localhost:3000/api/class-status",
    }

    def create(self, api: Api, **overrides: str) -> Any:
        answer = rsp(post_form(api, "create", {**self.SINGLE, **overrides}, path="/"))
        assert answer.get("error") is None  # its test: response[:rsp].try(:[], :error).nil?
        return answer["create"]

    def test_create_and_the_details_it_keeps(self, api):
        details = self.create(api)["class_details"]
        presenter = details["presenter_list"]["presenter"]
        assert int(str(details["class_id"])) > 0
        assert str(presenter["presenter_url"]).startswith(api.emulator.base_url)
        assert presenter.get("co_presenter_url") is None  # it reads one; WizIQ's answer has none here either
        assert str(details["recording_url"]).startswith(api.emulator.base_url)

    @pytest.mark.parametrize(
        "repeat",
        [
            {"class_repeat_type": "1", "attendee_limit": "100", "class_occurrence": "5"},
            {
                "class_repeat_type": "4",
                "specific_week": "1",
                "days_of_week": "monday,wednesday",
                "attendee_limit": "100",
                "class_end_date": "01/31/2030",
            },
        ],
        ids=["create_daily", "create_weekly"],
    )
    def test_create_daily_and_weekly(self, api, repeat):
        answer = rsp(post_form(api, "create_recurring", {**self.SINGLE, **repeat}))
        assert answer.get("error") is None
        master = answer["create_recurring"]["recurring_class_details"]["class_master_id"]
        schedule = rsp(post_form(api, "view_schedule", {"class_master_id": str(master)}, path="/"))
        listed = schedule["view_schedule"]["recurring_list"]["class_details"]
        assert len(listed) == 5 if repeat["class_repeat_type"] == "1" else 7

    def test_cancel_add_attendees_and_download_recording(self, api, emulator):
        class_id = str(self.create(api)["class_details"]["class_id"])
        roster = (
            "<attendee_list><attendee><attendee_id>5</attendee_id><screen_name>Ann</screen_name></attendee>"
            "</attendee_list>"
        )
        added = rsp(post_form(api, "add_attendees", {"class_id": class_id, "attendee_list": roster}, path="/"))
        assert added["add_attendees"]["attendee_list"]["attendee"]["attendee_url"]
        emulator.clock.set(datetime(2030, 1, 8, 16, 11, tzinfo=ZoneInfo("UTC")))
        download = rsp(
            post_form(api, "download_recording", {"class_id": class_id, "recording_format": "zip"}, path="/")
        )
        assert download["download_recording"]["status_xml_path"]
        other = str(self.create(api, start_time="01/10/2030 10:00")["class_details"]["class_id"])
        assert rsp(post_form(api, "cancel", {"class_id": other}, path="/")).get("error") is None


class TestTutoraUK:
    """TutoraUK's PHP library (mikemix/wiziq-integration): every method at the endpoint's root, the signed fields
    first, booleans as 1/0; ``create`` leaves out empty values, ``modify`` sends them empty."""

    @staticmethod
    def call(api: Api, method: str, fields: Mapping[str, str]) -> Element:
        answer = xml(post_form(api, method, fields, path="/"))
        assert answer.get("status") != "fail", DefusedET.tostring(answer)  # its Response::isSuccess
        return answer

    def create(self, api: Api) -> str:
        fields = {
            "title": "GCSE Maths",
            "start_time": "01/08/2030 10:00:00",  # DateTime->format('m/d/Y H:i:s')
            "language_culture_name": "en-US",
            "duration": "60",
            "time_zone": "Europe/London",
            "attendee_limit": "10",
            "create_recording": "1",  # (int) true
            "presenter_id": "7",  # withPresenter(7, 'Ms Rivera'): a room presenter
            "presenter_name": "Ms Rivera",
        }
        details = self.call(api, "create", fields).find("create/class_details")
        assert details is not None
        assert int(simplexml(details, "class_id")) > 0
        assert simplexml(details, "presenter_list/presenter/presenter_url")
        return simplexml(details, "class_id")

    def test_create_modify_and_cancel(self, api, emulator):
        class_id = self.create(api)
        modified = {
            "class_id": class_id,
            "title": "GCSE Maths (moved)",
            "start_time": "01/09/2030 11:00:00",
            "language_culture_name": "",
            "duration": "45",
            "time_zone": "Europe/London",
            "attendee_limit": "",
            "presenter_default_controls": "",
            "attendee_default_controls": "",
            "create_recording": "0",
            "return_url": "",
            "status_ping_url": "",
            "presenter_id": "7",
            "presenter_name": "Ms Rivera",
        }
        assert self.call(api, "modify", modified).find("modify").get("status") == "true"
        stored = emulator.get_class(int(class_id))
        assert (stored["title"], stored["wall_clock"], stored["duration"]) == (
            "GCSE Maths (moved)",
            "2030-01-09T11:00:00",
            45,
        )
        assert self.call(api, "cancel", {"class_id": class_id}).find("cancel").get("status") == "true"

    def test_attendees_the_report_and_the_download(self, api, emulator):
        class_id = self.create(api)
        roster = (
            "<attendee_list><attendee><attendee_id><![CDATA[101]]></attendee_id><screen_name><![CDATA[Ann]]>"
            "</screen_name><language_culture_name><![CDATA[en-US]]></language_culture_name></attendee></attendee_list>"
        )
        added = self.call(api, "add_attendees", {"class_id": class_id, "attendee_list": roster})
        rows = [
            (int(simplexml(a, "attendee_id")), simplexml(a, "attendee_url"))
            for a in added.find("add_attendees/attendee_list")
        ]
        assert rows[0][0] == 101 and rows[0][1].startswith(api.emulator.base_url)
        emulator.clock.set(datetime(2030, 1, 8, 11, 11, tzinfo=ZoneInfo("UTC")))  # 10:00-11:00 London, delay 600 s
        report = self.call(api, "get_attendance_report", {"class_id": class_id}).find(
            "get_attendance_report/attendee_list"
        )
        read = []
        for attendee in report:  # its getAttendanceReport
            row = {name: simplexml(attendee, name) for name in ("entry_time", "exit_time", "attended_minutes")}
            if attendee.get("presenter") == "true":
                row["presenter_id"] = int(simplexml(attendee, "presenter_id"))
            else:
                row["attendee_id"] = int(simplexml(attendee, "attendee_id"))
            read.append(row)
        assert [row.get("presenter_id") for row in read] == [7, None]
        assert read[1]["attendee_id"] == 101
        download = self.call(api, "download_recording", {"class_id": class_id, "recording_format": "zip"})
        assert simplexml(download, "download_recording/status_xml_path")
