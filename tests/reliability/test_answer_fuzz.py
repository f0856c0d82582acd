"""Mutated real answers, fed to every reader: whatever the bytes, a reader returns a result or raises an error
of the WizIQError family, never anything else (a ValueError from a codec, a UnicodeError, an OverflowError)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.api.protocol.responses import ClassRecord
from tests.reliability.conftest import hypothesis_profile
from tests.support import answer

REAL_ANSWERS = (
    answer("create_recurring"),
    answer("create_recurring_other_nesting"),
    answer("create"),
    answer("view_schedule"),
    answer("get_data"),
    answer("add_attendees"),
    answer("attendance"),
    answer("account_info"),
)
#: Pieces a hostile or broken server might put anywhere: markup, declarations, odd codecs, odd numbers.
PIECES = (
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"<!---->",
    b"<![CDATA[",
    b"]]>",
    b"<!DOCTYPE rsp>",
    b'<!DOCTYPE html [<!ENTITY e "x">]>',
    b"<html>",
    b"<?xml version='1.0' encoding='shift_jis'?>",
    b'<?xml version="1.0" encoding="utf-7"?>',
    b'<?xml version="1.0" encoding="idna"?>',
    b'<?xml version="1.0" encoding="x-nope"?>',
    b'<?xml version="1.0" encoding="cp037"?>',
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"0",
    b"-1",
    b"99999999999999999999999",
    b"9999",
    b"12/31/9999 11:59:59 PM",
    b"02/30/2013 25:61",
    b"\xd9\xa3",
    b' status="fail"',
    b'<error code="1033"/>',
    b'<error code="99999999999999"/>',
    b"<record><class_id>1</class_id><time_to_start>x</time_to_start></record>",
    b"<a>" * 40,
)


@st.composite
def mutated(draw: Any) -> bytes:
    body = bytearray(draw(st.sampled_from(REAL_ANSWERS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        kind = draw(st.sampled_from(("prefix", "insert", "replace", "delete", "truncate", "byte")))
        if kind == "prefix":  # where an XML declaration, a BOM or a DTD counts
            body[0:0] = draw(st.sampled_from(PIECES))
        elif kind == "insert":
            body[at:at] = draw(st.sampled_from(PIECES))
        elif kind == "replace":
            piece = draw(st.sampled_from(PIECES))
            body[at : at + len(piece)] = piece
        elif kind == "delete":
            del body[at : at + draw(st.integers(1, 40))]
        elif kind == "truncate":
            del body[at:]
        else:
            body[at:at] = bytes([draw(st.integers(0, 255))])
    return bytes(body)


#: Every reader of an answer, by the method whose answer it reads.
PARSERS = {
    "create_recurring": responses.parse_create_recurring,
    "create": responses.parse_create,
    "view_schedule": responses.parse_view_schedule,
    "get_data": responses.parse_get_data,
    "cancel": responses.parse_cancel,
    "modify": responses.parse_modify,
    "add_attendees": responses.parse_add_attendees,
    "get_attendance_report": responses.parse_attendance_report,
    "get_account_info": responses.parse_account_info,
}


@hypothesis_profile()
@given(body=mutated())
def test_every_reader_raises_only_wiziq_errors_on_any_mutation(body: bytes):
    for method, parse in PARSERS.items():
        try:
            result = parse(body)
        except WizIQError:
            continue
        except Exception as error:  # the property under test: nothing outside the family escapes
            raise AssertionError(f"{method} raised {type(error).__name__}: {error}") from error
        for item in result if isinstance(result, tuple) else (result,):
            if hasattr(item, "to_dict"):
                item.to_dict()
            if isinstance(item, ClassRecord):
                assert (item.class_id, item.time_to_start, item.start_time, item.status) is not None
