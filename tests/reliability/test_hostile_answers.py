"""Hostile and broken answers over real HTTP, to the sync and the async client: a clear error, bounded in
time (a hang fails the test) and memory (tracemalloc), never quoting the answer."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_wiziq.api.protocol.async_client import AsyncWizIQClient
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import WizIQError, WizIQResponseError
from tests.reliability.support import Finished, bounded, series_params
from tests.reliability.tables import HOSTILE, SIZE_CAP, Hostile
from tests.scripted_server import Answer, ScriptedServer

#: Text inside every hostile body: an error message must never quote it.
CANARY = "CANARY-7f3a"
MAX_RETRIES = 2
#: Peak memory one refused answer may cost (tracemalloc, everything allocated during the call).
SMALL_ANSWER_PEAK = 8 * 1024 * 1024
CAPPED_ANSWER_PEAK = 3 * SIZE_CAP


def _billion_laughs() -> bytes:
    entities = [b'<!ENTITY lol0 "lol">'] + [
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)
    ]
    return (
        b'<?xml version="1.0"?><!DOCTYPE rsp [' + b"".join(entities) + b"]>"
        b'<rsp status="ok"><method>get_data</method><get_data>&lol9;' + CANARY.encode() + b"</get_data></rsp>"
    )


def _quadratic_blowup() -> bytes:
    entity = b"a" * 100_000
    return (
        b'<?xml version="1.0"?><!DOCTYPE rsp [<!ENTITY a "' + entity + b'">]>'
        b'<rsp status="ok"><method>get_data</method><get_data>' + b"&a;" * 50_000 + b"</get_data></rsp>"
    )


def _fifty_megabytes() -> bytes:
    record = b"<record><class_id>1</class_id><title>" + CANARY.encode() + b"</title></record>"
    padding = record * (50 * 1024 * 1024 // len(record) + 1)
    head = b'<rsp status="ok"><method>get_data</method><get_data><record_list>'
    return head + padding + b"</record_list></get_data></rsp>"


def _padded(filler: bytes, closing: bytes = b"", size: int = 4 * 1024 * 1024) -> bytes:
    head = b'<rsp status="ok"><method>get_data</method><get_data><title>' + CANARY.encode() + b"</title>"
    count = size // (len(filler) + len(closing))
    return head + filler * count + closing * count + b"</get_data></rsp>"


_CANARY_RECORD = f"<record_list><record><title>{CANARY}</title></record></record_list>"

BODIES: dict[str, Callable[[], Answer]] = {
    "external_entity": lambda: Answer(
        b'<?xml version="1.0"?><!DOCTYPE rsp [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rsp status="ok"><method>get_data</method><get_data>&x;' + CANARY.encode() + b"</get_data></rsp>"
    ),
    "external_dtd": lambda: Answer(
        b'<?xml version="1.0"?><!DOCTYPE rsp SYSTEM "http://127.0.0.1:9/evil.dtd">'
        b'<rsp status="ok"><method>get_data</method><get_data>' + CANARY.encode() + b"</get_data></rsp>"
    ),
    "billion_laughs": lambda: Answer(_billion_laughs()),
    "quadratic_blowup": lambda: Answer(_quadratic_blowup()),
    "fifty_megabytes": lambda: Answer(_fifty_megabytes()),
    "fifty_megabytes_chunked": lambda: Answer(_fifty_megabytes(), action="chunked"),
    "wrong_root": lambda: Answer(
        f'<?xml version="1.0"?><response status="ok"><get_data>{_CANARY_RECORD}</get_data></response>'.encode()
    ),
    "no_method_element": lambda: Answer(f'<rsp status="ok"><method>get_data</method>{CANARY}</rsp>'.encode()),
    "no_status": lambda: Answer(f"<rsp><get_data>{_CANARY_RECORD}</get_data></rsp>".encode()),
    "fail_without_code": lambda: Answer(f'<rsp status="fail"><error msg="{CANARY}"/></rsp>'.encode()),
    "missing_class_id": lambda: Answer(
        b'<rsp status="ok"><method>view_schedule</method><view_schedule><recurring_list><class_details>'
        b"<class_title>" + CANARY.encode() + b"</class_title></class_details></recurring_list></view_schedule></rsp>"
    ),
    "comment_run": lambda: Answer(b"<!---->" * 4000 + b'<rsp status="ok"><get_data>' + CANARY.encode()),
    "many_elements": lambda: Answer(_padded(b"<a/>")),
    "deep_nesting": lambda: Answer(_padded(b"<a>", b"</a>")),
    "unreadable_encoding": lambda: Answer(
        b'<?xml version="1.0" encoding="shift_jis"?><rsp status="ok"><get_data>'
        + CANARY.encode()
        + b"</get_data></rsp>"
    ),
    "id_zero": lambda: Answer(
        b'<rsp status="ok"><view_schedule><class_details><class_id>0</class_id><class_title>'
        + CANARY.encode()
        + b"</class_title></class_details></view_schedule></rsp>"
    ),
    "non_utf8": lambda: Answer(
        b'<rsp status="ok"><method>get_data</method><get_data><record_list><record><title>caf\xe9 \xff '
        + CANARY.encode()
        + b"</title></record></record_list></get_data></rsp>"
    ),
}


def config(url: str) -> ClientConfig:
    return ClientConfig(
        endpoint=url,
        access_key="ak",
        secret_key="sk",
        connect_timeout=1.0,
        read_timeout=5.0,
        max_retries=MAX_RETRIES,
        backoff_initial=0.01,
        backoff_max=0.05,
    )


def sync_call(url: str, method: str) -> Callable[[], Any]:
    def call() -> Any:
        with WizIQClient(config(url)) as client:
            return client.get_data(class_id=1) if method == "get_data" else client.view_schedule(2001)

    return call


def async_call(url: str, method: str) -> Callable[[], Any]:
    async def run() -> Any:
        async with AsyncWizIQClient(config(url)) as client:
            return await (client.get_data(class_id=1) if method == "get_data" else client.view_schedule(2001))

    return lambda: asyncio.run(run())


CLIENTS = {"sync": sync_call, "async": async_call}


def measured(call: Callable[[], Any]) -> tuple[Finished[Any], int]:
    """The bounded call's outcome and the peak memory traced while it ran."""
    tracemalloc.start()
    try:
        finished = bounded(call)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return finished, peak


def test_every_hostile_case_has_a_body():
    assert set(BODIES) == {case.name for case in HOSTILE}
    assert config("http://127.0.0.1/").max_response_bytes == SIZE_CAP


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
def test_hostile_answer_gives_a_clear_response_error(scripted_server: ScriptedServer, client: str, case: Hostile):
    scripted_server.default = BODIES[case.name]()
    finished, peak = measured(CLIENTS[client](scripted_server.url, case.method))
    error = finished.raised()
    assert isinstance(error, WizIQResponseError), f"{type(error).__name__}: {error}"
    assert case.says in error.reason, error.reason
    assert (error.hostile, error.too_large, error.transient) == (case.hostile, case.too_large, case.resent)
    assert error.method == case.method
    assert CANARY not in str(error) and "passwd" not in str(error)
    attempts = MAX_RETRIES + 1 if case.resent else 1
    assert len(scripted_server.received) == attempts
    bound = CAPPED_ANSWER_PEAK if case.too_large else SMALL_ANSWER_PEAK
    assert peak < bound, f"peak memory {peak / 1e6:.1f} MB for a refused answer (bound {bound / 1e6:.0f} MB)"


@pytest.mark.parametrize(
    ("inner", "says"),
    [
        (
            "<recurring_class_details><class_details><class_id>15001</class_id></class_details>"
            "</recurring_class_details>",
            "no <class_master_id> element under <create_recurring>",
        ),
        (
            "<recurring_class_details><class_master_id>2001</class_master_id></recurring_class_details>",
            "no <class_details> element under <create_recurring> (the series was created: class_master_id 2001)",
        ),
    ],
    ids=["no-class-master-id", "no-class-details"],
)
def test_create_recurring_answer_with_missing_fields_is_never_resent(scripted_server, inner, says):
    """A create answer that cannot be read may still mean the series exists: one attempt, an error saying so."""
    from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest

    scripted_server.default = Answer(
        f'<rsp status="ok"><method>create_recurring</method><create_recurring status="true">{inner}'
        "</create_recurring></rsp>".encode()
    )
    request = CreateRecurringRequest.from_params(series_params())

    def call() -> Any:
        with WizIQClient(config(scripted_server.url)) as client:
            return client.create_recurring(request)

    error = bounded(call).raised()
    assert isinstance(error, WizIQResponseError) and error.transient
    assert says in error.reason
    assert len(scripted_server.received) == 1


def test_create_recurring_answer_in_an_unreadable_encoding_is_a_broken_answer_sent_once(scripted_server):
    """The series may exist: a transient error (the operator's next try looks the series up), never a re-send."""
    from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest

    scripted_server.default = Answer(
        b'<?xml version="1.0" encoding="shift_jis"?><rsp status="ok"><create_recurring>'
        b"<class_master_id>2001</class_master_id><class_details><class_id>1</class_id></class_details>"
        b"</create_recurring></rsp>"
    )
    request = CreateRecurringRequest.from_params(series_params())

    def call() -> Any:
        with WizIQClient(config(scripted_server.url)) as client:
            return client.create_recurring(request)

    error = bounded(call).raised()
    assert isinstance(error, WizIQResponseError), f"{type(error).__name__}: {error}"
    assert error.transient and not error.hostile
    assert "an encoding expat cannot read (shift_jis)" in error.reason
    assert len(scripted_server.received) == 1


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize(
    "headers",
    [{"Retry-After": "\xb2"}, {"Retry-After": "9" * 5000}, {"Content-Length": "\xb2", "Connection": "close"}],
    ids=["retry-after-superscript-two", "retry-after-5000-digits", "content-length-superscript-two"],
)
def test_odd_headers_give_errors_of_the_family(scripted_server: ScriptedServer, client: str, headers):
    scripted_server.default = Answer(b"<html>busy</html>", status=503, headers=headers)
    error = bounded(CLIENTS[client](scripted_server.url, "get_data")).raised()
    assert isinstance(error, WizIQError), f"{type(error).__name__}: {error}"
