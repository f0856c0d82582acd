"""Reading answer bytes safely: linear time on hostile prologs, bounded depth, element count and memory,
encodings expat cannot read, and ids that are no ids. Every failure is a WizIQResponseError."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import tracemalloc

import pytest

from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQResponseError
from airflow_provider_wiziq.api.protocol.responses import (
    parse_add_attendees,
    parse_answer,
    parse_attendance_report,
    parse_create,
    parse_create_recurring,
    parse_get_data,
    parse_view_schedule,
)
from airflow_provider_wiziq.api.protocol.xmlread import MAX_DEPTH, MAX_ELEMENTS, Records

CAP = 5 * 1024 * 1024
HEAD = b'<rsp status="ok"><method>get_data</method><get_data><record_list>'
TAIL = b"</record_list></get_data></rsp>"
#: Seconds a child process may take to judge every hostile prolog; each takes milliseconds when linear
#: (the regular expression this replaced needed 12 s of CPU for 188 bytes of comments, and doubled per comment).
CHILD_SECONDS = 120

HOSTILE_PROLOGS = {
    "comment-run": b"<!---->" * (4096 // 7) + b"x",
    "comment-run-spaced": b"<!---->\n" * (4096 // 8) + b"<x",
    "comment-run-at-the-cap": b"<!---->" * (CAP // 7),
    "comments-then-doctype-html-unclosed": b"<!---->" * 500 + b"<!doctype html" + b" " * 4000,
    "declaration-without-end": b'<?xml version="1.0"' + b" encoding=" * 400,
    "unterminated-comments": b"<!--" + b"<!-- -" * 700,
    "open-html": b"<!-- -->" * 300 + b"<html" + b"a" * 4000,
}


def test_every_check_on_a_hostile_prolog_runs_in_linear_time():
    """Judged in a child process with a generous bound, so a busy machine cannot make it flake."""
    script = textwrap.dedent(
        """
        from airflow_provider_wiziq.api.protocol.errors import WizIQResponseError
        from airflow_provider_wiziq.api.protocol.responses import parse_get_data
        from tests.test_xmlread import HOSTILE_PROLOGS
        for name, body in HOSTILE_PROLOGS.items():
            try:
                parse_get_data(body)
            except WizIQResponseError:
                print(name, flush=True)
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=CHILD_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as expired:
        judged = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else expired.stdout or ""
        pytest.fail(f"still judging after {CHILD_SECONDS} s; judged only: {judged.split()}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == list(HOSTILE_PROLOGS)


@pytest.mark.parametrize(
    "body",
    [
        b'<!-- a --><?pi x?>\n<!DOCTYPE rsp [<!ENTITY e "x">]><rsp status="ok"/>',
        b'\xef\xbb\xbf<?xml version="1.0"?><!---->  <!doctype rsp SYSTEM "http://x/y"><rsp status="ok"/>',
        b'<!DOCTYPE html [<!ENTITY e SYSTEM "file:///etc/passwd">]><html/>',
    ],
    ids=["after-comment-and-pi", "bom-lower-case", "html-with-subset"],
)
def test_a_dtd_anywhere_in_the_prolog_is_refused_as_hostile(body):
    with pytest.raises(WizIQResponseError, match="declares a DTD") as info:
        parse_answer(body, "get_data")
    assert info.value.hostile and not info.value.transient


def _nested(depth: int) -> bytes:
    return HEAD + b"<record>" + b"<x>" * depth + b"</x>" * depth + b"</record>" + TAIL


def test_depth_up_to_the_limit_is_read():
    depth_of_x = MAX_DEPTH - 5  # rsp, get_data, record_list, record and the innermost x
    assert len(parse_get_data(_nested(depth_of_x))) == 1


@pytest.mark.parametrize("depth", [MAX_DEPTH - 3, CAP // 8])
def test_deeper_than_any_wiziq_answer_is_refused(depth):
    with pytest.raises(WizIQResponseError, match=f"nested deeper than {MAX_DEPTH} elements") as info:
        parse_get_data(_nested(depth))
    assert info.value.too_large and not info.value.transient


def test_more_elements_than_any_wiziq_answer_is_refused():
    body = HEAD + b"<record/>" * (MAX_ELEMENTS + 1) + TAIL
    with pytest.raises(WizIQResponseError, match=f"more than {MAX_ELEMENTS} elements") as info:
        parse_get_data(body)
    assert info.value.too_large and not info.value.transient


def test_elements_up_to_the_limit_are_read():
    records = (MAX_ELEMENTS - 4) // 2
    assert len(parse_get_data(HEAD + b"<record><class_id>7</class_id></record>" * records + TAIL)) == records


def _peak(body: bytes) -> int:
    tracemalloc.start()
    try:
        with contextlib.suppress(WizIQResponseError):
            parse_get_data(body)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "shape",
    [
        "flat",  # 1.3 million empty elements: 103 MiB through a whole tree
        "nested",  # 0.7 million levels: 191 MiB through a whole tree
        "flat-within-limits",  # the most elements allowed, each with text, filling the cap
    ],
)
def test_memory_for_an_answer_at_the_cap_stays_a_small_multiple_of_its_size(shape):
    filler = CAP - len(HEAD) - len(TAIL)
    if shape == "flat":
        body = HEAD + b"<a/>" * (filler // 4) + TAIL
    elif shape == "nested":
        body = HEAD + b"<a>" * (filler // 7) + b"</a>" * (filler // 7) + TAIL
    else:
        size = filler // (MAX_ELEMENTS - 10)
        body = HEAD + (b"<a>" + b"t" * (size - 7) + b"</a>") * (MAX_ELEMENTS - 10) + TAIL
    peak = _peak(body)
    assert peak < 3 * len(body), f"peak {peak / 2**20:.1f} MiB for a {len(body) / 2**20:.1f} MiB answer"


RECORD = (
    b"<record><class_id>%d</class_id><title>Algebra %d</title><presenter_email>rivera@school.example</presenter_email>"
    b"<start_time>03/02/2027 09:00:00</start_time><time_zone>America/New_York</time_zone><duration>60</duration>"
    b"<status>upcoming</status><class_master_id>2001</class_master_id><time_to_start>100</time_to_start></record>\n"
)


@pytest.mark.parametrize("records", [100, (MAX_ELEMENTS - 10) // 10], ids=["page-of-100", "most-within-limits"])
def test_memory_for_a_realistic_page_stays_under_3x_its_size(records):
    """Each record is built as it closes and its elements dropped, so no page stands as a whole tree."""
    body = HEAD + b"".join(RECORD % (i, i) for i in range(1, records + 1)) + TAIL
    parse_get_data(body)  # one-time costs (compiled patterns) are not the answer's
    peak = _peak(body)
    assert peak < 3 * len(body), f"peak {peak / 1024:.0f} KiB for a {len(body) / 1024:.0f} KiB answer"


def test_records_cut_anywhere_by_the_slices_are_each_read_whole():
    """Events come a slice at a time, after the slice's elements are built: every record is still whole."""
    body = (
        HEAD
        + b"".join(
            b"<record><class_id>%d</class_id><title>%s</title><status>upcoming</status></record>" % (i, b"t" * (i % 97))
            for i in range(1, 3001)
        )
        + TAIL
    )
    records = parse_get_data(body)
    assert [record.class_id for record in records] == list(range(1, 3001))
    assert all(record.fields["title"] == "t" * (i % 97) for i, record in enumerate(records, 1))
    assert {record.status for record in records} == {"upcoming"}


def test_records_are_built_and_taken_out_of_the_tree_the_rest_stays():
    built = []
    records = Records("record", "get_data", lambda element: built.append(element.findtext("class_id")) or None)
    body = HEAD + b"<record><class_id>1</class_id></record><record><class_id>2</class_id></record>"
    body += b"</record_list><page>1</page></get_data></rsp>"
    element = parse_answer(body, "get_data", records)
    assert built == ["1", "2"] and records.under(element) == [None, None]
    assert element.find("record_list") is not None and list(element.iter("record")) == []
    assert element.findtext("page") == "1"


def test_a_record_inside_a_record_is_read_with_it_in_document_order():
    body = HEAD + b"<record><class_id>1</class_id><record><class_id>2</class_id></record></record>" + TAIL
    assert [record.class_id for record in parse_get_data(body)] == [1, 2]


def test_records_outside_the_method_element_are_not_read():
    body = b'<rsp status="ok"><other><record><class_id>x</class_id></record></other><get_data/></rsp>'
    assert parse_get_data(body) == ()


def test_a_bad_record_is_reported_after_what_the_envelope_says():
    """A record is built as soon as it closes; its error waits, so a fail or a malformed answer says so first."""
    bad = b"<record><class_id>abc</class_id></record>"
    fail = b'<rsp status="fail"><error code="1012" msg="x"/><get_data><record_list>' + bad + TAIL
    with pytest.raises(WizIQAPIError):
        parse_get_data(fail)
    with pytest.raises(WizIQResponseError, match="truncated or malformed"):
        parse_get_data(HEAD + bad + b"<record>")
    with pytest.raises(WizIQResponseError, match="<class_id> is not a whole number"):
        parse_get_data(HEAD + bad + TAIL)


# ---------------------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------------------

ANSWER = b'<rsp status="ok"><create><class_details><class_id>42</class_id></class_details></create></rsp>'


@pytest.mark.parametrize(
    ("encoding", "says"),
    [
        ("shift_jis", "an encoding expat cannot read (shift_jis)"),
        ("euc-jp", "an encoding expat cannot read (euc_jp)"),
        ("big5", "an encoding expat cannot read (big5)"),
        ("gb18030", "an encoding expat cannot read (gb18030)"),
        ("utf-7", "an encoding expat cannot read (utf-7)"),
        ("idna", "an encoding expat cannot read (idna)"),
        ("punycode", "an encoding expat cannot read (punycode)"),
        ("utf-32", "an encoding expat cannot read (utf-32)"),
        ("UTF-16", "an encoding expat cannot read (utf-16)"),
        ("rot13", "an encoding expat cannot read (rot-13)"),
        ("base64", "an encoding expat cannot read (base64)"),
        ("undefined", "an encoding expat cannot read (undefined)"),
        ("cp037", "an encoding expat cannot read (cp037)"),
        ("x-no-such-codec", "an unknown encoding (15 characters)"),
    ],
)
def test_an_encoding_expat_cannot_read_is_a_broken_answer(encoding, says):
    body = f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + ANSWER
    with pytest.raises(WizIQResponseError) as info:
        parse_create(body)
    assert info.value.reason.startswith(f"XML in {says}"), info.value.reason
    assert info.value.transient and not info.value.hostile


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "latin-1", "windows-1252", "us-ascii", "UTF-8", "iso-8859-15"])
def test_encodings_expat_reads_byte_for_byte_are_read(encoding):
    body = f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + ANSWER
    assert parse_create(body).class_id == 42


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_utf16_answers_are_refused_clearly(bom):
    body = bom + ANSWER.decode().encode("utf-16-le" if bom == b"\xff\xfe" else "utf-16-be")
    with pytest.raises(WizIQResponseError, match="XML in UTF-16") as info:
        parse_create(body)
    assert info.value.transient


# ---------------------------------------------------------------------------------------------------------
# Ids
# ---------------------------------------------------------------------------------------------------------


def _ok(method: str, inner: str) -> bytes:
    return f'<rsp status="ok"><{method}>{inner}</{method}></rsp>'.encode()


@pytest.mark.parametrize("value", ["0", "-1", "-2001", "000", "+5", "1e3", "٣"])
@pytest.mark.parametrize(
    ("parse", "body"),
    [
        (
            parse_create_recurring,
            _ok(
                "create_recurring",
                "<class_master_id>{}</class_master_id><class_details><class_id>9</class_id></class_details>",
            ),
        ),
        (
            parse_create_recurring,
            _ok(
                "create_recurring",
                "<class_master_id>9</class_master_id><class_details><class_id>{}</class_id></class_details>",
            ),
        ),
        (parse_create, _ok("create", "<class_details><class_id>{}</class_id></class_details>")),
        (parse_view_schedule, _ok("view_schedule", "<class_details><class_id>{}</class_id></class_details>")),
        (parse_get_data, _ok("get_data", "<record><class_id>{}</class_id></record>")),
        (
            parse_get_data,
            _ok("get_data", "<record><class_id>9</class_id><class_master_id>{}</class_master_id></record>"),
        ),
        (parse_add_attendees, _ok("add_attendees", "<class_id>{}</class_id>")),
        (parse_attendance_report, _ok("get_attendance_report", "<class_id>{}</class_id>")),
    ],
    ids=[
        "series-id",
        "series-first-class",
        "create",
        "view_schedule",
        "get_data-class",
        "get_data-series",
        "add_attendees",
        "attendance",
    ],
)
def test_an_id_of_0_or_below_or_not_a_number_is_no_id(parse, body, value):
    body = body.replace(b"{}", value.encode())
    with pytest.raises(
        WizIQResponseError, match=r"<class(_master)?_id> is (0 or below: not a WizIQ id|not a whole number)"
    ):
        parse(body)
