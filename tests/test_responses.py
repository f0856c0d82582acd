"""Reading WizIQ's XML answers: every shape, every error code, and every way an answer can be unusable."""

from __future__ import annotations

import copy
import json
import pickle
import tracemalloc
from datetime import datetime

import pytest

from airflow_provider_wiziq.api.protocol.errors import ERROR_CODES, ErrorKind, WizIQAPIError, WizIQResponseError
from airflow_provider_wiziq.api.protocol.responses import (
    AccountInfo,
    AddAttendeesResult,
    AttendanceReport,
    AttendanceRow,
    Attendee,
    ClassDetails,
    ClassRecord,
    Presenter,
    RecurringSeries,
    ScheduleEntry,
    parse_account_info,
    parse_add_attendees,
    parse_answer,
    parse_attendance_report,
    parse_cancel,
    parse_create,
    parse_create_recurring,
    parse_get_data,
    parse_modify,
    parse_view_schedule,
    parse_wiziq_datetime,
)
from tests.support import answer

DAILY_SUMMARY = "Your recurring series starts on 10/23/2013 at 05:00 and repeats daily (all 7 days)"
WEEKDAY_SUMMARY = "Your recurring series starts on 11/04/2013 at 09:30 and repeats 5 days a week (Mon-Fri)"

# ---------------------------------------------------------------------------------------------------------
# Fixtures: answers as the emulator (docs/wiziq-api.md §4-5) and WizIQ write them
# ---------------------------------------------------------------------------------------------------------

CREATE_RECURRING = answer("create_recurring")

# The same answer nested the way the seed and WizIQ's Moodle module suggest, with unknown extras.
CREATE_RECURRING_OTHER_NESTING = answer("create_recurring_other_nesting")

CREATE = answer("create")

VIEW_SCHEDULE = answer("view_schedule")

GET_DATA = answer("get_data")

ADD_ATTENDEES = answer("add_attendees")

ATTENDANCE = answer("attendance")

ACCOUNT_INFO = answer("account_info")


def _fail(code: int, msg: str, method: str = "create_recurring") -> bytes:
    return (
        f'<rsp status="fail" call_id="f1"><method>{method}</method><error code="{code}" msg="{msg}"/></rsp>'
    ).encode()


def _response_error(body: bytes, method: str = "create_recurring") -> WizIQResponseError:
    with pytest.raises(WizIQResponseError) as info:
        parse_answer(body, method)
    return info.value


# ---------------------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------------------


def test_create_recurring_emulator_shape():
    series = parse_create_recurring(CREATE_RECURRING)
    assert series == RecurringSeries(
        class_master_id=2345,
        first_class=ClassDetails(
            class_id=15716,
            recording_url="https://class.api.wiziq.com/rec/15716",
            presenters=(
                Presenter(
                    email="teacher@example.com",
                    presenter_id=None,
                    url="https://class.api.wiziq.com/join?c=15716&p=abc",
                ),
            ),
            class_master_id=2345,  # the first class belongs to the series
        ),
        recurring_summary=DAILY_SUMMARY,
        is_recurring=True,
    )
    assert series.first_class.presenter_url == "https://class.api.wiziq.com/join?c=15716&p=abc"


def test_create_recurring_found_by_name_when_nested_differently():
    series = parse_create_recurring(CREATE_RECURRING_OTHER_NESTING)
    assert series.class_master_id == 2346
    assert series.first_class.class_id == 15800
    assert series.first_class.recording_url is None
    assert series.first_class.presenters == (
        Presenter(email=None, presenter_id="77", url="https://p/1"),
        Presenter(email="co@example.com", presenter_id=None, url=None),
    )
    assert series.first_class.presenter_url == "https://p/1"
    assert series.recurring_summary == WEEKDAY_SUMMARY
    assert series.is_recurring is True


def test_create_recurring_without_is_recurring_is_not_flagged():
    body = CREATE_RECURRING.replace(b'<is_recurring value="1">', b"<wrapper>").replace(
        b"</is_recurring>", b"</wrapper>"
    )
    series = parse_create_recurring(body)
    assert series.is_recurring is False
    assert series.recurring_summary is not None


def test_method_element_found_anywhere_under_the_root():
    body = b'<rsp status="ok"><result><cancel status="true"/></result></rsp>'
    assert parse_answer(body, "cancel").tag == "cancel"
    assert parse_cancel(body) is True


def test_method_element_direct_child_preferred():
    body = b'<rsp status="ok"><x><cancel status="false"/></x><cancel status="true"/></rsp>'
    assert parse_cancel(body) is True


def test_parse_answer_returns_the_method_element():
    element = parse_answer(CREATE_RECURRING, "create_recurring")
    assert element.tag == "create_recurring"
    assert element.get("status") == "true"


def test_create():
    details = parse_create(CREATE)
    assert details == ClassDetails(
        class_id=4242,
        recording_url="https://class.api.wiziq.com/rec/4242",
        presenters=(
            Presenter(email="teacher@example.com", presenter_id=None, url="https://class.api.wiziq.com/join?c=4242"),
        ),
    )
    assert details.presenter_url == "https://class.api.wiziq.com/join?c=4242"
    assert details.class_master_id is None  # WizIQ's answer has none


@pytest.mark.parametrize(
    ("element", "read"),
    [
        (b"<class_master_id/>", None),
        (b"<class_master_id><![CDATA[]]></class_master_id>", None),
        (b"<class_master_id>2001</class_master_id>", 2001),
        (b"<class_master_id>0</class_master_id>", None),  # odd, yet the class exists: never an error
        (b"<class_master_id>n/a</class_master_id>", None),
    ],
)
def test_create_with_a_class_master_id(element, read):
    body = CREATE.replace(b"<class_details>", b"<class_details>" + element)
    assert parse_create(body).class_master_id == read


def test_create_with_fields_straight_under_create():
    body = b"""<rsp status="ok"><method>create</method><create>
        <class_id>99</class_id><presenter_url><![CDATA[https://p/99]]></presenter_url></create></rsp>"""
    details = parse_create(body)
    assert details.class_id == 99
    assert details.presenters == (Presenter(email=None, presenter_id=None, url="https://p/99"),)
    assert details.presenter_url == "https://p/99"


def test_class_details_without_presenters():
    body = b'<rsp status="ok"><create><class_details><class_id>5</class_id></class_details></create></rsp>'
    details = parse_create(body)
    assert details.presenters == ()
    assert details.presenter_url is None


def test_view_schedule():
    entries = parse_view_schedule(VIEW_SCHEDULE)
    assert entries == (
        ScheduleEntry(
            class_id=15716,
            class_title="English Class",
            start_time=datetime(2013, 10, 23, 5, 0, 0),
            duration=45,
            class_status="completed",
            recording_url="https://rec/15716",
            attendance_report_status="available",
            presenters=(Presenter(email=None, presenter_id="77", url="https://p/15716"),),
        ),
        ScheduleEntry(
            class_id=15717,
            class_title="English Class",
            start_time=datetime(2013, 10, 24, 17, 0, 0),
            duration=45,
            class_status="upcoming",
            recording_url=None,
            attendance_report_status=None,
            presenters=(),
        ),
    )


def test_view_schedule_empty_page():
    body = b'<rsp status="ok"><view_schedule status="true"><recurring_list/></view_schedule></rsp>'
    assert parse_view_schedule(body) == ()


def test_view_schedule_bad_start_time_is_a_response_error():
    body = VIEW_SCHEDULE.replace(b"10/23/2013 05:00:00", b"yesterday-ish")
    with pytest.raises(WizIQResponseError, match=r"<start_time> is not a WizIQ date") as info:
        parse_view_schedule(body)
    assert "yesterday" not in str(info.value)


def test_get_data():
    records = parse_get_data(GET_DATA)
    assert len(records) == 2
    live, cancelled = records
    assert dict(live.fields) == {
        "class_id": "15716",
        "title": "English Class",
        "start_time": "6/22/2011 1:40:59 AM",
        "time_zone": "America/Chicago",
        "status": "upcoming",
        "time_to_start": "-1",
        "presenter_email": "teacher@example.com",
    }
    assert live.class_id == 15716
    assert live.status == "upcoming"
    assert live.time_to_start == -1
    assert live.start_time == datetime(2011, 6, 22, 1, 40, 59)
    # A cancelled class comes with no status element; an empty column is present but reads as None.
    assert "status" not in cancelled.fields
    assert cancelled.status is None
    assert cancelled.fields["time_to_start"] == ""
    assert cancelled.time_to_start is None
    assert cancelled.start_time == datetime(2011, 6, 23, 14, 0, 0)


def test_get_data_fields_are_read_only():
    record = parse_get_data(GET_DATA)[0]
    with pytest.raises(TypeError):
        record.fields["status"] = "completed"  # type: ignore[index]


@pytest.mark.parametrize(
    ("column", "value"),
    [("class_id", b"abc"), ("time_to_start", b"soon"), ("start_time", b"2011-06-22T01:40:59")],
)
def test_get_data_unreadable_typed_column(column, value):
    body = (
        f'<rsp status="ok"><get_data><record_list><record><{column}><![CDATA['.encode()
        + value
        + f"]]></{column}></record></record_list></get_data></rsp>".encode()
    )
    with pytest.raises(WizIQResponseError, match=f"<{column}>") as info:
        parse_get_data(body)
    assert value.decode() not in str(info.value)


def test_class_record_built_by_hand():
    record = ClassRecord(fields={"class_id": "7", "status": "completed"})
    assert record.class_id == 7
    assert record.status == "completed"
    assert record.time_to_start is None
    assert record.start_time is None
    assert record == ClassRecord(fields={"status": "completed", "class_id": "7"})
    assert hash(record) == hash(ClassRecord(fields={"status": "completed", "class_id": "7"}))


@pytest.mark.parametrize(
    ("spelled", "read"),
    [("True", True), ("False", False), ("true", True), ("false", False), ("1", True), ("0", False), ("", None)],
)
def test_class_record_is_recurring_in_each_spelling(spelled, read):
    assert ClassRecord(fields={"is_recurring": spelled}).is_recurring is read
    assert ClassRecord(fields={}).is_recurring is None


def test_a_record_read_from_an_answer_equals_one_built_by_hand():
    (record,) = parse_get_data(
        b'<rsp status="ok"><get_data><record_list><record><class_id>7</class_id><status>completed</status>'
        b"<status>twice</status></record></record_list></get_data></rsp>"
    )
    assert record == ClassRecord(fields={"class_id": "7", "status": "completed"})  # the first of a name wins
    assert hash(record) == hash(ClassRecord(fields={"class_id": "7", "status": "completed"}))
    fields = record.fields
    assert fields.get("status") == "completed" and fields.get("title") is None and fields.get("title", "-") == "-"
    assert "class_id" in fields and "title" not in fields and 7 not in fields
    assert dict(fields) == {"class_id": "7", "status": "completed"} and len(fields) == 2


def test_every_record_of_a_page_has_its_typed_columns_checked_even_when_they_repeat():
    """A column repeated from the record before is not read again, but a new text always is."""

    def page(*records: tuple[str, str, str]) -> bytes:
        rows = b"".join(
            b"<record><class_id>%s</class_id><class_master_id>%s</class_master_id><start_time>%s</start_time>"
            b"</record>" % tuple(value.encode() for value in record)
            for record in records
        )
        return b'<rsp status="ok"><get_data><record_list>' + rows + b"</record_list></get_data></rsp>"

    same = ("5", "03/02/2027 09:00:00")
    records = parse_get_data(page(("1", *same), ("2", *same), ("3", *same)))
    assert [record.class_id for record in records] == [1, 2, 3]
    assert records[0].fields["class_master_id"] is records[2].fields["class_master_id"]  # one string, kept once
    for bad in (("4", "05", "02/30/2027 09:00:00"), ("4", "0", same[1]), ("007", "+5", same[1]), ("-4", *same)):
        with pytest.raises(WizIQResponseError, match=r"<(class_id|class_master_id|start_time)>"):
            parse_get_data(page(("1", *same), ("2", *same), bad))
    assert parse_get_data(page(("007", "05", same[1])))[0].class_id == 7  # leading zeros: still the id 7


def test_cancel_and_modify():
    assert parse_cancel(b'<rsp status="ok"><method>cancel</method><cancel status="true"/></rsp>') is True
    assert parse_cancel(b'<rsp status="ok"><cancel status="false"/></rsp>') is False
    assert parse_cancel(b'<rsp status="ok"><cancel/></rsp>') is True
    assert parse_modify(b'<rsp status="ok"><method>modify</method><modify status="true"/></rsp>') is True
    assert parse_modify(b'<rsp status="ok"><modify status="false"/></rsp>') is False
    with pytest.raises(WizIQResponseError, match="neither 'true' nor 'false'"):
        parse_modify(b'<rsp status="ok"><modify status="perhaps"/></rsp>')


def test_add_attendees():
    result = parse_add_attendees(ADD_ATTENDEES)
    assert result == AddAttendeesResult(
        class_id=15716,
        attendees=(
            Attendee(attendee_id="101", attendee_url="https://class.api.wiziq.com/join?c=15716&a=101"),
            Attendee(attendee_id="102", attendee_url="https://class.api.wiziq.com/join?c=15716&a=102"),
        ),
    )


def test_add_attendees_without_attendee_id():
    body = b'<rsp status="ok"><add_attendees><attendee_list><attendee><attendee_url>u</attendee_url>'
    body += b"</attendee></attendee_list></add_attendees></rsp>"
    with pytest.raises(WizIQResponseError, match="<attendee_id>"):
        parse_add_attendees(body)


def test_attendance_report():
    report = parse_attendance_report(ATTENDANCE)
    assert report == AttendanceReport(
        class_id=15716,
        class_duration=45,
        rows=(
            AttendanceRow(
                attendee_id=None,
                presenter_id="77",
                screen_name="Teacher",
                entry_time=datetime(2013, 10, 23, 4, 58, 10),
                exit_time=datetime(2013, 10, 23, 5, 45, 0),
                attended_minutes=47,
            ),
            AttendanceRow(
                attendee_id="101",
                presenter_id=None,
                screen_name="Ann",
                entry_time=datetime(2013, 10, 23, 5, 2, 0),
                exit_time=datetime(2013, 10, 23, 5, 40, 30),
                attended_minutes=38,
            ),
        ),
    )


def test_attendance_report_bad_minutes():
    body = ATTENDANCE.replace(b"<attended_minutes>38<", b"<attended_minutes>lots<")
    with pytest.raises(WizIQResponseError, match="<attended_minutes> is not a whole number"):
        parse_attendance_report(body)


def test_account_info():
    info = parse_account_info(ACCOUNT_INFO)
    assert info == AccountInfo(fields={"account_name": "Example School", "max_class_minutes": "300", "plan": ""})


def test_unknown_elements_are_ignored():
    body = CREATE.replace(b"<class_id>", b"<shiny_new_thing>x</shiny_new_thing><class_id>")
    assert parse_create(body).class_id == 4242


def test_iso_8859_1_document_is_read():
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><rsp status="ok"><create><class_details>'
    body += "<class_id>1</class_id><presenter_email>jos\u00e9@example.com</presenter_email>"
    body += "</class_details></create></rsp>"
    details = parse_create(body.encode("iso-8859-1"))
    assert details.presenters[0].email == "jos\u00e9@example.com"


# ---------------------------------------------------------------------------------------------------------
# Missing required ids
# ---------------------------------------------------------------------------------------------------------


def test_create_recurring_without_class_master_id():
    body = CREATE_RECURRING.replace(b"<class_master_id>2345</class_master_id>", b"")
    with pytest.raises(WizIQResponseError, match="no <class_master_id> element") as info:
        parse_create_recurring(body)
    assert info.value.method == "create_recurring"
    assert info.value.hostile is False


def test_create_recurring_empty_class_master_id():
    body = CREATE_RECURRING.replace(b"<class_master_id>2345</class_master_id>", b"<class_master_id/>")
    with pytest.raises(WizIQResponseError, match="an empty <class_master_id> element"):
        parse_create_recurring(body)


def test_create_recurring_without_class_details_names_the_created_series():
    body = b"""<rsp status="ok"><create_recurring><class_master_id>2345</class_master_id>
        <is_recurring value="1"/></create_recurring></rsp>"""
    with pytest.raises(WizIQResponseError, match=r"no <class_details>.*class_master_id 2345"):
        parse_create_recurring(body)


def test_create_recurring_without_first_class_id():
    body = CREATE_RECURRING.replace(b"<class_id>15716</class_id>", b"")
    with pytest.raises(WizIQResponseError, match=r"no <class_id> element.*class_master_id 2345"):
        parse_create_recurring(body)


def test_create_without_class_id():
    body = CREATE.replace(b"<class_id><![CDATA[4242]]></class_id>", b"")
    with pytest.raises(WizIQResponseError, match="no <class_id> element") as info:
        parse_create(body)
    assert info.value.method == "create"


def test_class_id_not_a_number():
    body = CREATE.replace(b"<![CDATA[4242]]>", b"<![CDATA[42x]]>")
    with pytest.raises(WizIQResponseError, match=r"<class_id> is not a whole number \(3 characters\)"):
        parse_create(body)


# ---------------------------------------------------------------------------------------------------------
# Fail answers
# ---------------------------------------------------------------------------------------------------------

#: The error codes the seed lists for create_recurring.
SEED_CODES = [
    1003,
    1004,
    1005,
    1010,
    1011,
    1012,
    1014,
    1019,
    1022,
    1030,
    1031,
    1032,
    1043,
    1081,
    1082,
    1083,
    1084,
    1085,
    1087,
    1090,
]


@pytest.mark.parametrize(
    ("code", "transient"),
    [*((code, False) for code in SEED_CODES), (403, False), (1000, True)],
)
def test_fail_answer_raises_api_error(code, transient):
    message = ERROR_CODES[code].message
    with pytest.raises(WizIQAPIError) as info:
        parse_create_recurring(_fail(code, message))
    error = info.value
    assert error.code == code
    assert error.message == message
    assert error.method == "create_recurring"
    assert error.transient is transient
    assert error.permanent is not transient
    assert error.transient is (ERROR_CODES[code].kind is ErrorKind.TRANSIENT)
    assert str(code) in str(error)


def test_fail_answer_for_another_method_names_it():
    with pytest.raises(WizIQAPIError) as info:
        parse_get_data(_fail(1013, "No record found.", "get_data"))
    assert (info.value.code, info.value.method, info.value.kind) == (1013, "get_data", ErrorKind.NOT_FOUND)


def test_fail_answer_auth_kind():
    with pytest.raises(WizIQAPIError) as info:
        parse_account_info(_fail(403, "Forbidden: The request is refused by the API.", "get_account_info"))
    assert info.value.kind is ErrorKind.AUTH
    assert info.value.message == "Forbidden: The request is refused by the API."
    assert info.value.method == "get_account_info"


def test_fail_answer_without_msg_takes_the_catalogue_message():
    with pytest.raises(WizIQAPIError) as info:
        parse_cancel(b'<rsp status="fail"><error code="1033"/></rsp>')
    assert info.value.message == ERROR_CODES[1033].message


def test_fail_answer_with_filled_in_placeholder_keeps_wiziqs_words():
    with pytest.raises(WizIQAPIError) as info:
        parse_create_recurring(_fail(1010, "duration parameter cannot exceed 300 minutes."))
    assert info.value.message == "duration parameter cannot exceed 300 minutes."
    assert info.value.kind is ErrorKind.PLAN_LIMIT


@pytest.mark.parametrize(
    "body",
    [
        b'<rsp status="fail" call_id="x"><method>create_recurring</method></rsp>',
        b'<rsp status="fail"><error msg="Something went wrong."/></rsp>',
        b'<rsp status="fail"><error code="abc" msg="Something went wrong."/></rsp>',
    ],
    ids=["no-error-element", "no-code", "code-not-a-number"],
)
def test_fail_without_readable_error_element(body):
    error = _response_error(body)
    assert "fail answer without a readable <error" in error.reason
    assert error.hostile is False
    assert error.transient is True


# ---------------------------------------------------------------------------------------------------------
# Answers that are not WizIQ answers
# ---------------------------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rsp [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rsp status="ok"><create_recurring><class_master_id>&lol9;</class_master_id></create_recurring></rsp>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rsp [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rsp status="ok"><create_recurring><recurring_summary>&xxe;</recurring_summary></create_recurring></rsp>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE rsp SYSTEM "file:///etc/passwd">
<rsp status="ok"><create_recurring/></rsp>"""

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE rsp [<!ENTITY a "'
    + b"x" * 100_000
    + b'">]><rsp status="ok"><create_recurring><recurring_summary>'
    + b"&a;" * 20_000
    + b"</recurring_summary></create_recurring></rsp>"
)

HTML_DOCTYPE_WITH_ENTITIES = b"""<!DOCTYPE html [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<html><body>&e;</body></html>"""


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, QUADRATIC_BLOWUP, HTML_DOCTYPE_WITH_ENTITIES],
    ids=["billion-laughs", "external-entity", "external-dtd", "quadratic-blowup", "html-doctype-entities"],
)
def test_hostile_answers_are_refused_and_never_retried(body):
    error = _response_error(body)
    assert error.hostile is True
    assert error.transient is False
    assert "DTD" in error.reason
    assert "passwd" not in str(error)
    assert "lol" not in str(error)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, QUADRATIC_BLOWUP], ids=["billion-laughs", "quadratic"])
def test_hostile_answers_are_refused_fast_and_small(body):
    tracemalloc.start()
    try:
        with pytest.raises(WizIQResponseError):
            parse_answer(body, "create_recurring")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 1024 * 1024


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        b"  <html><body><h1>Service Unavailable</h1></body></html>",
        b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"/>',
        b"\xef\xbb\xbf<!-- error page --><HTML><BODY>Oops</BODY></HTML>",
    ],
    ids=["html5", "bare-html", "xhtml", "bom-comment-uppercase"],
)
def test_html_page(body):
    error = _response_error(body)
    assert error.reason.startswith("an HTML page, not XML")
    assert error.hostile is False
    assert error.transient is True


def test_empty_body():
    error = _response_error(b"")
    assert error.reason == "empty body"
    assert error.hostile is False
    assert error.transient is True
    assert error.method == "create_recurring"


def test_whitespace_body():
    error = _response_error(b" \r\n\t")
    assert error.reason == "empty body (4 bytes of whitespace)"
    assert error.transient is True


def test_truncated_body():
    error = _response_error(CREATE_RECURRING[:200])
    assert error.reason.startswith("truncated or malformed XML (")
    assert "line" in error.reason
    assert error.hostile is False
    assert error.transient is True


def test_truncated_body_at_a_line_end():
    error = _response_error(b'<rsp status="ok">\n<create_recurring>\n')
    assert error.reason == "truncated or malformed XML (no element found: line 3, column 0)"


def test_not_xml_at_all():
    error = _response_error(b"Service Temporarily Unavailable")
    assert error.reason.startswith("not XML: 31 bytes that do not start with '<'")
    assert error.hostile is False


def test_unknown_encoding():
    error = _response_error(b'<?xml version="1.0" encoding="x-secret-enc"?><rsp status="ok"/>')
    assert error.reason.startswith("XML in an unknown encoding")
    assert "secret" not in str(error)


def test_undefined_entity_without_dtd_is_malformed_not_hostile():
    error = _response_error(b'<rsp status="ok"><create_recurring>&secret;</create_recurring></rsp>')
    assert error.reason.startswith("truncated or malformed XML (undefined entity")
    assert error.hostile is False


@pytest.mark.parametrize(
    "body",
    [
        b'<rsp status="ok"><create_recurring><recurring_summary>caf\xe9</recurring_summary></create_recurring></rsp>',
        b'<?xml version="1.0" encoding="UTF-8"?><rsp status="ok"><x>\xff\xfe</x></rsp>',
    ],
    ids=["latin-1-byte", "declared-utf-8"],
)
def test_non_utf8_bytes_in_utf8_document(body):
    error = _response_error(body)
    assert error.reason.startswith("bytes that are not valid UTF-8 in a UTF-8 document (first at byte ")
    assert error.hostile is False
    assert error.transient is True


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b'<response status="ok"><create_recurring/></response>', "<response>"),
        (b"<error><code>500</code></error>", "<error>"),
        (b'<rsp:rsp xmlns:rsp="urn:x" status="ok"/>', "<{urn:x}rsp>"),
    ],
)
def test_wrong_root(body, found):
    error = _response_error(body)
    assert error.reason == f"the root element is {found}, not <rsp>"
    assert error.hostile is False


def test_long_root_tag_is_shortened():
    error = _response_error(b"<" + b"a" * 500 + b"/>")
    assert len(error.reason) < 100


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<rsp><create_recurring/></rsp>", "<rsp> has no status attribute"),
        (b'<rsp status="maybe"/>', "<rsp> has status 'maybe', neither 'ok' nor 'fail'"),
        (b'<rsp status="tok=SECRET123"/>', "<rsp> has a 13-character status, neither 'ok' nor 'fail'"),
    ],
)
def test_bad_status(body, reason):
    error = _response_error(body)
    assert error.reason == reason
    assert "SECRET" not in str(error)


def test_status_is_read_case_insensitively():
    assert parse_cancel(b'<rsp status=" OK "><cancel status="true"/></rsp>') is True


def test_ok_without_method_element():
    body = b'<rsp status="ok" call_id="1"><method>create_recurring</method><create/></rsp>'
    error = _response_error(body)
    assert error.reason == "no <create_recurring> element in the answer"
    assert error.hostile is False
    assert str(error) == "Not a WizIQ answer to create_recurring: no <create_recurring> element in the answer"


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>access_key=SECRETKEY&amp;signature=SIG</body></html>",
        b'<rsp status="ok"><create_recurring><x>SECRETKEY SIG',
        b"SECRETKEY SIG not xml",
        b'<rsp status="ok"><get_data><record_list><record><class_id>SECRETKEY SIG</class_id>'
        b"</record></record_list></get_data></rsp>",
        b'<?xml version="1.0"?><!DOCTYPE rsp SYSTEM "http://x/SECRETKEY/SIG"><rsp/>',
    ],
)
def test_errors_never_quote_the_body(body):
    with pytest.raises(WizIQResponseError) as info:
        parse_get_data(body)
    error = info.value
    for text in (str(error), error.reason, repr(error.__cause__ or "")):
        assert "SECRETKEY" not in text
        assert "SIG" not in text


# ---------------------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6/22/2011 1:40:59 AM", datetime(2011, 6, 22, 1, 40, 59)),
        ("6/22/2011 1:40:59 PM", datetime(2011, 6, 22, 13, 40, 59)),
        ("12/31/2013 12:05:00 AM", datetime(2013, 12, 31, 0, 5, 0)),
        ("12/31/2013 12:30:00 PM", datetime(2013, 12, 31, 12, 30, 0)),
        ("1/2/2014 9:15 pm", datetime(2014, 1, 2, 21, 15, 0)),
        ("10/23/2013 05:00:00", datetime(2013, 10, 23, 5, 0, 0)),
        ("10/23/2013 17:45:30", datetime(2013, 10, 23, 17, 45, 30)),
        ("12/12/2012 12:12", datetime(2012, 12, 12, 12, 12, 0)),
        ("10/23/2013 13:00 PM", datetime(2013, 10, 23, 13, 0, 0)),  # a 24-hour hour with PM stands (Canvas)
        ("  03/10/2024 02:30:00 \n", datetime(2024, 3, 10, 2, 30, 0)),
    ],
)
def test_parse_wiziq_datetime(text, expected):
    parsed = parse_wiziq_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "10/23/2013",
        "2013-10-23 05:00:00",
        "2013-10-23T05:00:00",
        "23.10.2013 05:00",
        "13/01/2013 05:00",
        "02/30/2013 05:00",
        "10/23/2013 24:00",
        "10/23/2013 13:00 AM",
        "10/23/2013 0:30 AM",
        "10/23/2013 0:30 PM",
        "10/23/2013 05:00:00.123",
        "10/23/13 05:00",
    ],
)
def test_parse_wiziq_datetime_rejects(text):
    with pytest.raises(ValueError):  # noqa: PT011 - the message differs by cause; the type is the contract
        parse_wiziq_datetime(text)


# ---------------------------------------------------------------------------------------------------------
# to_dict
# ---------------------------------------------------------------------------------------------------------


def test_to_dict_recurring_series():
    assert parse_create_recurring(CREATE_RECURRING).to_dict() == {
        "class_master_id": 2345,
        "first_class": {
            "class_id": 15716,
            "class_master_id": 2345,
            "recording_url": "https://class.api.wiziq.com/rec/15716",
            "presenters": [
                {
                    "email": "teacher@example.com",
                    "presenter_id": None,
                    "url": "https://class.api.wiziq.com/join?c=15716&p=abc",
                }
            ],
        },
        "recurring_summary": DAILY_SUMMARY,
        "is_recurring": True,
    }


def test_to_dict_datetimes_are_iso_strings():
    entry = parse_view_schedule(VIEW_SCHEDULE)[1]
    assert entry.to_dict()["start_time"] == "2013-10-24T17:00:00"
    row = parse_attendance_report(ATTENDANCE).rows[1].to_dict()
    assert row["entry_time"] == "2013-10-23T05:02:00"
    assert row["exit_time"] == "2013-10-23T05:40:30"


def test_to_dict_record_fields():
    record = parse_get_data(GET_DATA)[0]
    assert record.to_dict() == {"fields": dict(record.fields)}


@pytest.mark.parametrize(
    ("parse", "body"),
    [
        (parse_create_recurring, CREATE_RECURRING),
        (parse_create_recurring, CREATE_RECURRING_OTHER_NESTING),
        (parse_create, CREATE),
        (parse_add_attendees, ADD_ATTENDEES),
        (parse_attendance_report, ATTENDANCE),
        (parse_account_info, ACCOUNT_INFO),
    ],
)
def test_to_dict_is_json_serialisable(parse, body):
    result = parse(body)
    plain = result.to_dict()
    assert json.loads(json.dumps(plain)) == plain


@pytest.mark.parametrize(("parse", "body"), [(parse_view_schedule, VIEW_SCHEDULE), (parse_get_data, GET_DATA)])
def test_to_dict_of_lists_is_json_serialisable(parse, body):
    plain = [item.to_dict() for item in parse(body)]
    assert json.loads(json.dumps(plain)) == plain


def test_results_are_frozen_picklable_and_copyable():
    series = parse_create_recurring(CREATE_RECURRING)
    with pytest.raises(AttributeError):
        series.class_master_id = 1  # type: ignore[misc]
    for result in (series, parse_get_data(GET_DATA)[0], parse_account_info(ACCOUNT_INFO)):
        assert pickle.loads(pickle.dumps(result)) == result
        assert copy.deepcopy(result) == result
        assert hash(result) == hash(copy.deepcopy(result))


def test_the_records_of_a_page_share_their_column_names_and_keep_every_guarantee():
    """A page holds a tuple of texts a record; each record is still a frozen, hashable, picklable result."""
    row = "<record><class_id>{}</class_id><status>upcoming</status><title>T</title></record>"
    other_order = "<record><title>T</title><class_id>9</class_id><status>upcoming</status></record>"
    body = (
        '<rsp status="ok"><get_data><record_list>' + "".join(row.format(n) for n in (1, 2, 3)) + other_order
    ).encode() + b"</record_list></get_data></rsp>"
    first, second, third, fourth = parse_get_data(body)
    assert first.fields._index is second.fields._index is third.fields._index  # type: ignore[attr-defined]
    assert fourth.fields._index is not first.fields._index  # type: ignore[attr-defined]
    assert first.fields["title"] is third.fields["title"]  # equal texts: one string
    assert not hasattr(first, "__dict__")
    for record in (first, second, third, fourth):
        by_hand = ClassRecord(fields=dict(record.fields))
        assert record == by_hand == pickle.loads(pickle.dumps(record)) == copy.deepcopy(record)
        assert hash(record) == hash(by_hand) == hash(copy.deepcopy(record))
        assert repr(record) == repr(by_hand) and repr(record.fields) == repr(dict(record.fields))
        assert record.to_dict() == {"fields": dict(record.fields)}
        with pytest.raises(AttributeError):
            record.fields = {}  # type: ignore[misc]
    assert list(fourth.fields) == ["title", "class_id", "status"] and fourth.class_id == 9
