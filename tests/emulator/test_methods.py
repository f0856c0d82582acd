"""Every API method over real HTTP, its answer read by the client's own parsers (api/protocol/responses.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import defusedxml.ElementTree as DefusedET
import pytest

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError
from airflow_provider_wiziq.api.protocol.xmlwrite import attendee_list_xml
from tests.emulator.conftest import Api, series_fields


def create_series(api: Api, **overrides: str) -> responses.RecurringSeries:
    return responses.parse_create_recurring(api.call("create_recurring", **series_fields(**overrides)))


def api_error(body: bytes, method: str) -> WizIQAPIError:
    with pytest.raises(WizIQAPIError) as caught:
        responses.parse_answer(body, method)
    return caught.value


def test_create_recurring_answer_has_the_documented_shape(api):
    body = api.call("create_recurring", **series_fields(create_recording="true"))
    root = DefusedET.fromstring(body)
    assert root.tag == "rsp" and root.get("status") == "ok" and len(root.get("call_id")) == 12
    assert root[0].tag == "method" and root[0].text == "create_recurring"
    assert root.find("create_recurring/recurring_class_details/class_master_id") is not None
    assert root.find("create_recurring/recurring_class_details/class_details/presenter_list/presenter") is not None
    assert root.find("create_recurring/is_recurring").get("value") == "1"
    assert b"<![CDATA[Your recurring series starts on 01/08/2030 at 10:00" in body

    series = responses.parse_create_recurring(body)
    assert series.is_recurring
    assert series.first_class.class_master_id == series.class_master_id
    assert (
        series.recurring_summary == "Your recurring series starts on 01/08/2030 at 10:00 and repeats daily (all 7 days)"
    )
    assert series.first_class.presenters[0].email == "teacher@example.com"
    assert series.first_class.presenter_url.startswith(api.emulator.base_url)
    assert series.first_class.recording_url.endswith(f"/recording/{series.first_class.class_id}")
    stored = api.emulator.classes(series.class_master_id)
    assert [c["class_id"] for c in stored] == [series.first_class.class_id + i for i in range(3)]


def test_create_answers_class_details(api):
    fields = series_fields()
    for name in ("class_repeat_type", "class_occurrence"):
        del fields[name]
    body = api.call("create", **fields)
    # class_master_id is there (WizIQ's clients read it), empty: a class made alone belongs to no series
    assert b"<class_master_id/>" in body
    assert DefusedET.fromstring(body).find("create/class_details/class_master_id") is not None
    details = responses.parse_create(body)
    assert details.class_master_id is None
    assert details.class_id > 0
    assert details.presenters[0].email == "teacher@example.com"
    record = responses.parse_get_data(api.call("get_data", class_id=str(details.class_id)))[0]
    assert record.fields["is_recurring"] == "False"  # WizIQ's WordPress plugin compares with True / False
    assert record.is_recurring is False
    assert record.fields["class_master_id"] == ""


def test_create_is_served_on_the_root_path_too(api):
    fields = {k: v for k, v in series_fields().items() if k not in ("class_repeat_type", "class_occurrence")}
    response = api.post("create", path="/", **fields)
    assert responses.parse_create(response.content).class_id > 0


def test_get_data_by_each_filter(api):
    series = create_series(api)
    first = series.first_class.class_id
    by_id = responses.parse_get_data(api.call("get_data", class_id=str(first)))
    assert [r.class_id for r in by_id] == [first]
    record = by_id[0]
    assert record.status == "upcoming"
    assert record.start_time == datetime(2030, 1, 8, 10, 0)
    assert record.fields["time_zone"] == "America/New_York"
    assert record.fields["is_recurring"] == "True"
    assert record.is_recurring is True
    assert record.fields["class_master_id"] == str(series.class_master_id)
    assert record.fields["attendee_limit"] == "30"
    # 2030-01-07 09:00 UTC to 2030-01-08 15:00 UTC (10:00 EST): 30 hours.
    assert record.time_to_start == 30 * 60

    by_series = responses.parse_get_data(api.call("get_data", class_master_id=str(series.class_master_id)))
    assert [r.class_id for r in by_series] == [first, first + 1, first + 2]
    assert [r.start_time.day for r in by_series] == [8, 9, 10]

    several = responses.parse_get_data(api.call("get_data", multiple_class_id=f"{first + 2},{first},999999"))
    assert [r.class_id for r in several] == [first + 2, first]


def test_get_data_columns_and_paging(api):
    create_series(api)
    create_series(api, presenter_email="other@example.com")
    page = responses.parse_get_data(api.call("get_data", columns="class_id,status,nonsense", page_size="4"))
    assert len(page) == 4
    assert set(page[0].fields) == {"class_id", "status"}
    second = responses.parse_get_data(api.call("get_data", columns="class_id", page_size="4", page_number="2"))
    assert [r.class_id for r in second] == [page[-1].class_id + 1, page[-1].class_id + 2]
    assert api_error(api.call("get_data", page_size="4", page_number="3"), "get_data").code == 1013
    assert api_error(api.call("get_data", page_size="101"), "get_data").code == 1025
    assert len(responses.parse_get_data(api.call("get_data", page_size="100"))) == 6


#: The columns WizIQ's WordPress plugin asks get_data for, spelled as it spells them (spaces, a line break).
WORDPRESS_COLUMNS = """presenter_id, presenter_name,presenter_url, start_time,
    time_zone, create_recording, status, language_culture_name,
    duration, recording_url,is_recurring,class_master_id,title,class_recording_status,attendance_report_status ,
    attendee_limit"""


def test_get_data_answers_every_column_wiziqs_own_clients_ask_for(api):
    recorded = create_series(api, create_recording="true", language_culture_name="fr-fr")
    plain = create_series(api, title="Plain", presenter_email="other@example.com")
    recorded_id, plain_id = str(recorded.first_class.class_id), str(plain.first_class.class_id)
    (record,) = responses.parse_get_data(api.call("get_data", class_id=recorded_id, columns=WORDPRESS_COLUMNS))
    asked = [name.strip() for name in WORDPRESS_COLUMNS.split(",")]
    assert set(record.fields) == set(asked), "a server returns what is asked"
    # asked for as fr-fr, answered as WizIQ stores it: its culture form
    assert (record.fields["create_recording"], record.fields["language_culture_name"]) == ("true", "fr-FR")
    assert record.fields["class_recording_status"] == "not_available"  # not held yet
    (other,) = responses.parse_get_data(
        api.call("get_data", class_id=plain_id, columns="create_recording,language_culture_name,class_recording_status")
    )
    assert other.fields == {
        "create_recording": "false",
        "language_culture_name": "en-US",
        "class_recording_status": "not_available",
    }
    api.emulator.clock.set(datetime.fromisoformat("2030-01-08T16:05:00+00:00"))  # ended at 16:00, delay 600 s
    ask = {"columns": "class_id,class_recording_status"}
    statuses = {
        r.class_id: r.fields["class_recording_status"]
        for r in responses.parse_get_data(api.call("get_data", multiple_class_id=f"{recorded_id},{plain_id}", **ask))
    }
    assert statuses == {int(recorded_id): "pending", int(plain_id): "not_available"}
    api.emulator.clock.advance(timedelta(minutes=10))
    (done,) = responses.parse_get_data(api.call("get_data", class_id=recorded_id, **ask))
    assert done.fields["class_recording_status"] == "available"


def test_get_data_answers_an_attendees_url_as_the_moodle_module_asks(api):
    series = create_series(api)
    class_id = str(series.first_class.class_id)
    added = responses.parse_add_attendees(
        api.call(
            "add_attendees",
            class_id=class_id,
            attendee_list=attendee_list_xml([{"attendee_id": "101", "screen_name": "Ann"}]),
        )
    )
    (record,) = responses.parse_get_data(
        api.call("get_data", class_id=class_id, attendee_id="101", columns="attendee_url")
    )
    assert record.fields == {"attendee_url": added.attendees[0].attendee_url}
    (stranger,) = responses.parse_get_data(
        api.call("get_data", class_id=class_id, attendee_id="999", columns="attendee_url")
    )
    # No link, no element: WizIQ's Canvas plugin hands any attendee_url text, even an empty one, to a student
    assert stranger.fields == {}  # not on the class's roster: no way in
    (unasked,) = responses.parse_get_data(api.call("get_data", class_id=class_id, columns="class_id,attendee_url"))
    assert unasked.fields == {"class_id": class_id}


def test_get_data_without_match_is_1013(api):
    assert api_error(api.call("get_data", class_id="424242"), "get_data").code == 1013
    assert api_error(api.call("get_data"), "get_data").code == 1013  # an empty account
    assert api_error(api.call("get_data", class_id="abc"), "get_data").code == 1009


def test_view_schedule_lists_a_series(api):
    series = create_series(api)
    entries = responses.parse_view_schedule(api.call("view_schedule", class_master_id=str(series.class_master_id)))
    assert [e.class_id for e in entries] == [series.first_class.class_id + i for i in range(3)]
    assert entries[0].class_title == "Algebra I"
    assert entries[0].class_status == "upcoming"
    assert entries[0].duration == 60
    assert entries[0].start_time == datetime(2030, 1, 8, 10, 0)
    assert entries[0].presenters[0].presenter_id == "teacher@example.com"
    paged = responses.parse_view_schedule(
        api.call("view_schedule", class_master_id=str(series.class_master_id), page_size="2", page_number="2")
    )
    assert len(paged) == 1
    assert api_error(api.call("view_schedule", class_master_id="77"), "view_schedule").code == 1088
    assert api_error(api.call("view_schedule"), "view_schedule").code == 1088


def test_cancel_and_its_refusals(api):
    series = create_series(api)
    class_id = str(series.first_class.class_id)
    assert responses.parse_cancel(api.call("cancel", class_id=class_id)) is True
    assert api_error(api.call("cancel", class_id=class_id), "cancel").code == 1033
    assert api_error(api.call("cancel"), "cancel").code == 1020
    assert api_error(api.call("cancel", class_id="31337"), "cancel").code == 1009
    record = responses.parse_get_data(api.call("get_data", class_id=class_id))[0]
    assert "status" not in record.fields
    assert record.status is None

    second = str(series.first_class.class_id + 1)
    api.emulator.clock.set(datetime.fromisoformat("2030-01-09T15:30:00+00:00"))  # during the second class
    assert api_error(api.call("cancel", class_id=second), "cancel").code == 1034
    api.emulator.clock.advance(timedelta(hours=1))
    assert api_error(api.call("cancel", class_id=second), "cancel").code == 1035
    api.emulator.set_outcome(int(second), "expired")
    assert api_error(api.call("cancel", class_id=second), "cancel").code == 1036


def test_modify_changes_a_class_and_refuses_by_state(api):
    series = create_series(api)
    class_id = str(series.first_class.class_id)
    assert responses.parse_modify(
        api.call(
            "modify",
            class_id=class_id,
            title="Algebra I (moved)",
            start_time="01/08/2030 11:30",
            duration="45",
        )
    )
    record = responses.parse_get_data(api.call("get_data", class_id=class_id))[0]
    assert record.fields["title"] == "Algebra I (moved)"
    assert record.start_time == datetime(2030, 1, 8, 11, 30)
    assert record.fields["duration"] == "45"
    assert record.fields["time_zone"] == "America/New_York"  # kept from the class
    assert record.fields["class_master_id"] == str(series.class_master_id)

    assert api_error(api.call("modify", class_id=class_id, duration="301"), "modify").code == 1010
    assert api_error(api.call("modify", class_id=class_id, start_time="01/01/2030 10:00"), "modify").code == 1004
    second = str(series.first_class.class_id + 1)
    assert api_error(api.call("modify", class_id=second, start_time="01/08/2030 11:30"), "modify").code == 1032

    api.emulator.clock.set(datetime.fromisoformat("2030-01-08T16:40:00+00:00"))  # 11:40 New York: live
    assert api_error(api.call("modify", class_id=class_id, title="x"), "modify").code == 1015
    api.emulator.clock.advance(timedelta(hours=1))
    assert api_error(api.call("modify", class_id=class_id, title="x"), "modify").code == 1016
    api.emulator.set_outcome(int(class_id), "expired")
    assert api_error(api.call("modify", class_id=class_id, title="x"), "modify").code == 1017
    api.call("cancel", class_id=second)
    assert api_error(api.call("modify", class_id=second, title="x"), "modify").code == 1018


def test_add_attendees_answers_a_url_per_attendee(api):
    series = create_series(api)
    class_id = str(series.first_class.class_id)
    attendees = [
        {"attendee_id": "101", "screen_name": "Ann"},
        {"attendee_id": "102", "screen_name": "Bo <&>"},
    ]
    result = responses.parse_add_attendees(
        api.call("add_attendees", class_id=class_id, attendee_list=attendee_list_xml(attendees))
    )
    assert result.class_id == int(class_id)
    assert [a.attendee_id for a in result.attendees] == ["101", "102"]
    assert all(a.attendee_url.startswith(api.emulator.base_url) for a in result.attendees)
    assert [a["screen_name"] for a in api.emulator.get_class(int(class_id))["attendees"]] == ["Ann", "Bo <&>"]


@pytest.mark.parametrize(
    ("attendee_list", "code"),
    [
        ("", 1021),
        ("<attendee_list></attendee_list>", 1021),
        ("<attendee_list><attendee>", 1021),
        ("<attendee_list><attendee><screen_name>A</screen_name></attendee></attendee_list>", 1024),
        ("<attendee_list><attendee><attendee_id>1</attendee_id></attendee></attendee_list>", 1023),
    ],
)
def test_add_attendees_refuses_a_bad_list(api, attendee_list, code):
    series = create_series(api)
    body = api.call("add_attendees", class_id=str(series.first_class.class_id), attendee_list=attendee_list)
    assert api_error(body, "add_attendees").code == code


def test_add_attendees_refuses_by_state(api):
    series = create_series(api)
    first, second = str(series.first_class.class_id), str(series.first_class.class_id + 1)
    attendees = attendee_list_xml([{"attendee_id": "1", "screen_name": "A"}])
    assert api_error(api.call("add_attendees", attendee_list=attendees), "add_attendees").code == 1020
    api.call("cancel", class_id=first)
    assert api_error(api.call("add_attendees", class_id=first, attendee_list=attendees), "add_attendees").code == 1008
    api.emulator.clock.set(datetime.fromisoformat("2030-01-09T17:00:00+00:00"))
    assert api_error(api.call("add_attendees", class_id=second, attendee_list=attendees), "add_attendees").code == 1007


def test_get_attendance_report_after_the_class(api):
    series = create_series(api, extend_duration="15")
    class_id = str(series.first_class.class_id)
    attendees = [{"attendee_id": "101", "screen_name": "Ann"}, {"attendee_id": "102", "screen_name": "Bo"}]
    api.call("add_attendees", class_id=class_id, attendee_list=attendee_list_xml(attendees))
    assert api_error(api.call("get_attendance_report", class_id=class_id), "get_attendance_report").code == 1026
    api.emulator.clock.set(datetime.fromisoformat("2030-01-08T15:30:00+00:00"))  # live
    assert api_error(api.call("get_attendance_report", class_id=class_id), "get_attendance_report").code == 1026
    api.emulator.clock.set(datetime.fromisoformat("2030-01-08T16:20:00+00:00"))  # ended at 16:15, delay 600 s
    assert api_error(api.call("get_attendance_report", class_id=class_id), "get_attendance_report").code == 1029
    api.emulator.clock.advance(timedelta(minutes=6))
    body = api.call("get_attendance_report", class_id=class_id)
    rows = DefusedET.fromstring(body).findall("get_attendance_report/attendee_list/attendee")
    # WizIQ marks the presenter's row (TutoraUK's client reads presenter_id only from a row marked so)
    assert [row.get("presenter") for row in rows] == ["true", None, None]
    report = responses.parse_attendance_report(body)
    assert report.class_id == int(class_id)
    assert report.class_duration == 75
    presenter, ann, bo = report.rows
    assert presenter.presenter_id == "teacher@example.com"
    assert presenter.entry_time == datetime(2030, 1, 8, 10, 0)
    assert presenter.exit_time == datetime(2030, 1, 8, 11, 15)
    assert presenter.attended_minutes == 75
    assert (ann.attendee_id, ann.screen_name, ann.attended_minutes) == ("101", "Ann", 75)
    assert (bo.attendee_id, bo.entry_time, bo.attended_minutes) == ("102", datetime(2030, 1, 8, 10, 2), 73)


def test_attendance_report_of_cancelled_and_expired_classes(api):
    series = create_series(api)
    first, second = str(series.first_class.class_id), str(series.first_class.class_id + 1)
    api.call("cancel", class_id=first)
    assert api_error(api.call("get_attendance_report", class_id=first), "get_attendance_report").code == 1028
    api.emulator.set_outcome(int(second), "expired")
    api.emulator.clock.set(datetime.fromisoformat("2030-01-10T00:00:00+00:00"))
    assert api_error(api.call("get_attendance_report", class_id=second), "get_attendance_report").code == 1027
    record = responses.parse_get_data(api.call("get_data", class_id=second))[0]
    assert record.status == "expired"


def test_get_account_info(api):
    info = responses.parse_account_info(api.call("get_account_info"))
    assert info.fields["max_class_minutes"] == "300"
    assert info.fields["max_series_classes"] == "60"


def test_unknown_and_missing_methods(api):
    assert api_error(api.call("no_such_method"), "no_such_method").code == 404
    response = api.session.post(api.emulator.url, data=api.signed("")).content
    assert b'code="400"' in response


def test_room_based_presenter(api):
    body = api.call(
        "create_recurring",
        **series_fields(presenter_email=None, presenter_id="room-7", presenter_name="Ms Smith"),
    )
    series = responses.parse_create_recurring(body)
    assert series.first_class.presenters[0].presenter_id == "room-7"
    clash = api.call(
        "create_recurring",
        **series_fields(
            presenter_email=None,
            presenter_id="room-7",
            presenter_name="Mr Jones",
            start_time="02/08/2030 10:00",
        ),
    )
    assert api_error(clash, "create_recurring").code == 1048


def test_download_recording(api):
    """download_recording (WizIQ's WordPress plugin and Moodle module call it): the answer says whether the class
    has a recording and where its status document is; that document says when the download is ready."""
    recorded = create_series(api, create_recording="true")  # 01/08, 01/09 and 01/10 at 10:00 New York
    plain = create_series(api, title="Plain", presenter_email="other@example.com")
    first, second, third = (recorded.first_class.class_id + day for day in range(3))

    def refused(code: int, **fields: str) -> None:
        assert api_error(api.call("download_recording", **fields), "download_recording").code == code

    refused(1020)
    refused(1009, class_id="999999")
    refused(1026, class_id=str(first))  # not held yet
    refused(400, class_id=str(first), recording_format="rar")
    api.call("cancel", class_id=str(second))
    refused(1028, class_id=str(second))
    api.emulator.set_outcome(third, "expired")

    api.emulator.clock.set(datetime.fromisoformat("2030-01-08T16:05:00+00:00"))  # ended at 16:00, delay 600 s
    body = api.call("download_recording", class_id=str(first), recording_format="zip")
    download = responses.parse_download_recording(body)
    assert (download.status, download.download_status) == (True, True)
    assert download.status_xml_path.startswith(api.emulator.base_url)

    def status() -> responses.RecordingStatus:
        answer = api.session.get(download.status_xml_path, timeout=10)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
        return responses.parse_recording_status(answer.content)

    assert status() == responses.RecordingStatus(download_status=False, recording_download_path=None)  # packing
    api.emulator.clock.advance(timedelta(minutes=6))
    ready = status()
    assert ready.download_status is True
    assert ready.recording_download_path.endswith(f"/recording/{first}/download.zip")
    package = api.session.get(ready.recording_download_path, timeout=10)
    assert package.status_code == 200 and package.content.startswith(b"PK")  # a zip file

    exe = responses.parse_download_recording(
        api.call("download_recording", class_id=str(first), recording_format="EXE")
    )
    assert api.session.get(exe.status_xml_path, timeout=10).content.count(b"download.exe") == 1

    not_recorded = responses.parse_download_recording(
        api.call("download_recording", class_id=str(plain.first_class.class_id))
    )
    assert (not_recorded.status, not_recorded.download_status, not_recorded.status_xml_path) == (False, False, None)
    api.emulator.clock.set(datetime.fromisoformat("2030-01-12T00:00:00+00:00"))
    refused(1027, class_id=str(third))
