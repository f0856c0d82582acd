"""The sync and async clients over real HTTP on 127.0.0.1: signing on the wire, retries, hostile answers."""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_wiziq.api.protocol import calls
from airflow_provider_wiziq.api.protocol.async_client import AsyncWizIQClient
from airflow_provider_wiziq.api.protocol.calls import CappedBody
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import (
    WizIQAPIError,
    WizIQResponseError,
    WizIQTransportError,
    WizIQValidationError,
)
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.signing import verify
from tests.scripted_server import Answer, fail, ok
from tests.support import RECORD, SECRET, SERIES

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10) for i in range(1, 10)
    )
    + b']><rsp status="ok"><get_data>&lol9;</get_data></rsp>'
)


def config(url: str, **changes: object) -> ClientConfig:
    settings = {
        "endpoint": url,
        "access_key": "ak",
        "secret_key": SECRET,
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "max_retries": 3,
    }
    return ClientConfig(**{**settings, **changes})


def series_request() -> CreateRecurringRequest:
    start = datetime.now(timezone.utc) + timedelta(days=7)
    return CreateRecurringRequest.from_params(
        {
            "title": "Algebra I",
            "start_time": start.replace(tzinfo=None),
            "time_zone": "UTC",
            "class_repeat_type": 1,
            "class_occurrence": 3,
            "presenter_email": "teacher@example.com",
        }
    )


@pytest.fixture
def client(scripted_server):
    with WizIQClient(config(scripted_server.url)) as made:
        yield made


class TestOnTheWire:
    def test_signed_post_with_method_in_query_and_body(self, scripted_server, client):
        scripted_server.then(Answer(ok("create_recurring", SERIES)))
        series = client.create_recurring(series_request())
        assert series.class_master_id == 2345
        assert series.first_class.class_id == 15716
        received = scripted_server.received[0]
        assert received.path == "/apimanager.ashx"
        assert received.query == {"method": "create_recurring"}
        assert received.form["method"] == "create_recurring"
        assert received.form["time_zone"] == "UTC"
        assert received.form["attendee_limit"] == "2"
        assert abs(int(received.form["timestamp"]) - time.time()) < 5
        assert verify(received.form, secret_key=SECRET, method="create_recurring")
        assert not verify(received.form, secret_key="wrong", method="create_recurring")

    def test_keep_alive_reuses_one_connection(self, scripted_server, client):
        scripted_server.default = Answer(ok("get_data", RECORD))
        for _ in range(5):
            client.get_data(class_id=15716)
        assert len(scripted_server.received) == 5
        assert len({r.client_port for r in scripted_server.received}) == 1

    def test_invalid_request_never_leaves(self, scripted_server, client):
        bad = CreateRecurringRequest.from_params(
            {
                "title": "Past",
                "start_time": "01/01/2020 10:00",
                "class_repeat_type": 1,
                "class_occurrence": 2,
                "presenter_email": "t@example.com",
            }
        )
        with pytest.raises(WizIQValidationError) as caught:
            client.create_recurring(bad)
        assert caught.value.code == 1004
        assert scripted_server.received == []


class TestServerDecidedCodes:
    @pytest.mark.parametrize(
        ("code", "msg"),
        [
            (1012, "Only 5 simultaneous classes are allowed."),
            (1032, "You have already scheduled a class for the current time."),
            (1043, "The language is invalid or unsupported in the VC."),
            (403, "Forbidden: The request is refused by the API."),
        ],
    )
    def test_fail_answer_raises_with_code_and_is_not_resent(self, scripted_server, client, code, msg):
        scripted_server.default = Answer(fail(code, msg))
        with pytest.raises(WizIQAPIError) as caught:
            client.create_recurring(series_request())
        assert (caught.value.code, caught.value.message, caught.value.method) == (
            code,
            msg,
            "create_recurring",
        )
        assert caught.value.permanent
        assert len(scripted_server.received) == 1

    def test_generic_error_1000_is_resent_for_safe_methods(self, scripted_server, client):
        scripted_server.then(Answer(fail(1000, "An error occurred.")), Answer(ok("get_data", RECORD)))
        assert client.get_data(class_id=15716)[0].status == "upcoming"
        assert len(scripted_server.received) == 2


def test_a_refused_signature_tells_the_user_what_to_check(wiziq_emulator):
    """WizIQ's 403 says only "Forbidden"; the error names the connection's keys (and the clock), never a key."""
    wrong = ClientConfig(
        endpoint=wiziq_emulator.url, access_key=wiziq_emulator.access_key, secret_key="not-the-key", max_retries=0
    )
    with WizIQClient(wrong) as client, pytest.raises(WizIQAPIError) as caught:
        client.get_account_info()
    error = caught.value
    assert (error.code, error.message) == (403, "Forbidden: The request is refused by the API.")
    text = str(error)
    assert text.startswith("WizIQ error 403: Forbidden: The request is refused by the API. (get_account_info)")
    assert "access key" in text and "secret key" in text and "clock" in text
    assert "not-the-key" not in text and wiziq_emulator.access_key not in text


class TestRetries:
    @pytest.mark.parametrize(
        "answer",
        [
            Answer(b"<html><body>Bad gateway</body></html>", status=502, headers={"Content-Type": "text/html"}),
            Answer(b"", status=503),
            Answer(b"Service Unavailable", status=500, headers={"Content-Type": "text/plain"}),
            Answer(b"<html><body>Oops</body></html>", status=200, headers={"Content-Type": "text/html"}),
            Answer(ok("get_data", RECORD)[:40]),
            Answer(ok("get_data", RECORD), action="truncate"),
            Answer(action="reset"),
        ],
        ids=["502-html", "503-empty", "500-text", "200-html", "cut-xml", "short-body", "reset"],
    )
    def test_safe_method_is_resent_after_transient_failure(self, scripted_server, client, answer):
        scripted_server.then(answer, Answer(ok("get_data", RECORD)))
        assert client.get_data(class_id=15716)[0].class_id == 15716
        assert len(scripted_server.received) == 2

    def test_gives_up_after_max_retries_with_the_last_error(self, scripted_server, client):
        scripted_server.default = Answer(b"", status=503)
        with pytest.raises(WizIQTransportError) as caught:
            client.get_data(class_id=1)
        assert caught.value.status_code == 503
        assert "HTTP 503" in str(caught.value)
        assert len(scripted_server.received) == 4

    def test_retry_after_is_honoured(self, scripted_server):
        sleeps: list[float] = []
        scripted_server.then(Answer(b"", status=429, headers={"Retry-After": "3"}), Answer(ok("get_data", RECORD)))
        with WizIQClient(config(scripted_server.url), sleep=sleeps.append) as client:
            client.get_data(class_id=15716)
        assert sleeps and sleeps[0] >= 3

    def test_retry_budget_stops_a_long_retry_after(self, scripted_server):
        scripted_server.default = Answer(b"", status=429, headers={"Retry-After": "600"})
        with (
            WizIQClient(config(scripted_server.url, retry_budget=5), sleep=pytest.fail) as client,
            pytest.raises(WizIQTransportError),
        ):
            client.get_data(class_id=1)
        assert len(scripted_server.received) == 1

    def test_requests_share_at_most_pool_size_kept_alive_connections(self, scripted_server):
        """Each connection carries one request at a time; more requests than connections wait for one."""
        scripted_server.default = Answer(ok("get_data", RECORD), action="delay", seconds=0.05)

        async def run() -> list[int]:
            async with AsyncWizIQClient(config(scripted_server.url), pool_size=2) as client:
                answered = []
                for _ in range(2):
                    pages = await asyncio.gather(*(client.get_data(class_id=15716) for _ in range(6)))
                    answered += [records[0].class_id for records in pages]
                return answered

        assert asyncio.run(run()) == [15716] * 12
        assert len(scripted_server.received) == 12
        assert len({request.client_port for request in scripted_server.received}) == 2

    def test_the_first_attempt_counts_against_the_retry_budget(self, scripted_server):
        """The first attempt is sent before any retry machinery exists; its time still counts in the budget."""
        scripted_server.default = Answer(b"", status=503, action="delay", seconds=1.0)
        with (
            WizIQClient(config(scripted_server.url, retry_budget=0.5), sleep=pytest.fail) as client,
            pytest.raises(WizIQTransportError),
        ):
            client.get_data(class_id=1)
        assert len(scripted_server.received) == 1

    def test_a_successful_call_builds_no_retry_machinery(self, scripted_server, client, monkeypatch):
        def no_retrying(**_arguments: object) -> None:
            pytest.fail("a call that succeeded on its first attempt built a tenacity.Retrying")

        monkeypatch.setattr("airflow_provider_wiziq.api.protocol.client.Retrying", no_retrying)
        scripted_server.default = Answer(ok("get_data", RECORD))
        for _ in range(3):
            assert client.get_data(class_id=15716)[0].class_id == 15716

    def test_each_attempt_is_signed_afresh(self, scripted_server):
        """The request is prepared once a method; each attempt carries its own timestamp and signature."""
        clock = iter([1_900_000_000, 1_900_000_007, 1_900_000_011])
        scripted_server.then(Answer(b"", status=503), Answer(b"", status=503), Answer(ok("get_data", RECORD)))
        with WizIQClient(config(scripted_server.url), clock=lambda: next(clock), sleep=lambda _: None) as client:
            assert client.get_data(class_id=15716)[0].class_id == 15716
        forms = [received.form for received in scripted_server.received]
        assert [form["timestamp"] for form in forms] == ["1900000000", "1900000007", "1900000011"]
        assert len({form["signature"] for form in forms}) == 3
        assert all(verify(form, secret_key=SECRET, method="get_data") for form in forms)
        assert all(form["class_id"] == "15716" for form in forms)
        assert {received.query["method"] for received in scripted_server.received} == {"get_data"}

    @pytest.mark.parametrize(
        "answer",
        [
            Answer(action="reset"),
            Answer(b"", status=503),
            Answer(b"<html>Oops</html>", status=500),
            Answer(ok("create_recurring", SERIES)[:60]),
        ],
        ids=["reset", "503", "500-html", "cut-xml"],
    )
    def test_create_recurring_is_never_resent_once_it_may_have_arrived(self, scripted_server, client, answer):
        scripted_server.then(answer, Answer(ok("create_recurring", SERIES)))
        with pytest.raises((WizIQTransportError, WizIQResponseError)) as caught:
            client.create_recurring(series_request())
        assert caught.value.transient
        assert len(scripted_server.received) == 1

    def test_create_recurring_is_resent_after_429(self, scripted_server, client):
        scripted_server.then(
            Answer(b"", status=429, headers={"Retry-After": "0"}), Answer(ok("create_recurring", SERIES))
        )
        assert client.create_recurring(series_request()).class_master_id == 2345
        assert len(scripted_server.received) == 2

    def test_refused_connection_is_safe_to_resend_even_for_create(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        attempts: list[float] = []
        with (
            WizIQClient(config(f"http://127.0.0.1:{port}/", max_retries=2), sleep=attempts.append) as client,
            pytest.raises(WizIQTransportError) as caught,
        ):
            client.create_recurring(series_request())
        assert caught.value.sent is False
        assert "refused" in str(caught.value)
        assert len(attempts) == 2

    def test_read_timeout(self, scripted_server):
        scripted_server.then(Answer(ok("get_data", RECORD), action="delay", seconds=1.0))
        with (
            WizIQClient(config(scripted_server.url, read_timeout=0.2, max_retries=0)) as client,
            pytest.raises(WizIQTransportError) as caught,
        ):
            client.get_data(class_id=1)
        assert "no answer within 0.2 s" in str(caught.value)

    def test_trickling_answer_is_cut_at_the_deadline(self, scripted_server):
        scripted_server.then(Answer(ok("get_data", RECORD), action="trickle", seconds=0.05))
        with (
            WizIQClient(config(scripted_server.url, connect_timeout=0.2, read_timeout=0.3, max_retries=0)) as c,
            pytest.raises(WizIQTransportError) as caught,
        ):
            c.get_data(class_id=1)
        assert "still arriving" in str(caught.value)


def response_error_and_peak_memory(call: Callable[[], object]) -> tuple[WizIQResponseError, int]:
    """The WizIQResponseError ``call`` raises, and the peak of memory allocated while it ran."""
    tracemalloc.start()
    try:
        with pytest.raises(WizIQResponseError) as caught:
            call()
        return caught.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class TestHostileAnswers:
    def test_billion_laughs_is_refused_unexpanded_and_not_resent(self, scripted_server, client):
        scripted_server.default = Answer(BILLION_LAUGHS)
        error, peak = response_error_and_peak_memory(lambda: client.get_data(class_id=1))
        assert error.hostile and not error.transient
        assert peak < 5_000_000
        assert len(scripted_server.received) == 1

    def test_external_entity_is_refused(self, scripted_server, client):
        scripted_server.default = Answer(
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<rsp status="ok"><get_data>&x;</get_data></rsp>'
        )
        with pytest.raises(WizIQResponseError) as caught:
            client.get_data(class_id=1)
        assert caught.value.hostile
        assert "passwd" not in str(caught.value)

    @pytest.mark.parametrize("streaming", [None, "chunked"], ids=["declared-length", "chunked"])
    def test_fifty_megabyte_answer_is_refused_at_the_cap_in_bounded_memory(self, scripted_server, client, streaming):
        padding = b"<x>" + b"a" * (50 * 1024 * 1024) + b"</x>"
        scripted_server.default = Answer(
            b'<rsp status="ok"><get_data>' + padding + b"</get_data></rsp>", action=streaming
        )
        error, peak = response_error_and_peak_memory(lambda: client.get_data(class_id=1))
        assert error.too_large and not error.transient
        assert "5242880-byte cap" in str(error)
        assert len(scripted_server.received) == 1
        assert peak < 3 * 5 * 1024 * 1024

    def test_streamed_answer_without_length_is_cut_at_the_cap(self, scripted_server):
        body = b'<rsp status="ok"><get_data>' + b"a" * 200_000 + b"</get_data></rsp>"
        scripted_server.default = Answer(body, action="chunked")
        with (
            WizIQClient(config(scripted_server.url, max_response_bytes=50_000)) as client,
            pytest.raises(WizIQResponseError) as caught,
        ):
            client.get_data(class_id=1)
        assert caught.value.too_large


class TestAsyncClient:
    def test_same_calls_and_retries_over_httpx(self, scripted_server):
        scripted_server.then(Answer(b"", status=503), Answer(ok("get_data", RECORD)))

        async def run() -> object:
            async with AsyncWizIQClient(config(scripted_server.url)) as client:
                return await client.get_data(multiple_class_id=[15716, 15717])

        records = asyncio.run(run())
        assert records[0].class_id == 15716
        assert [r.form["multiple_class_id"] for r in scripted_server.received] == ["15716,15717"] * 2
        assert verify(scripted_server.received[1].form, secret_key=SECRET, method="get_data")

    def test_the_first_attempt_counts_against_the_retry_budget(self, scripted_server):
        scripted_server.default = Answer(b"", status=503, action="delay", seconds=1.0)

        async def never(_seconds: float) -> None:
            pytest.fail("the budget was spent by the first attempt: no wait, no re-send")

        async def run() -> None:
            async with AsyncWizIQClient(config(scripted_server.url, retry_budget=0.5), sleep=never) as client:
                await client.get_data(class_id=1)

        with pytest.raises(WizIQTransportError):
            asyncio.run(run())
        assert len(scripted_server.received) == 1

    def test_hostile_and_oversized_answers(self, scripted_server):
        scripted_server.then(Answer(BILLION_LAUGHS), Answer(b"<rsp>" + b"a" * 100_000 + b"</rsp>"))

        async def run() -> list[BaseException]:
            errors = []
            async with AsyncWizIQClient(config(scripted_server.url, max_response_bytes=10_000)) as client:
                for _ in range(2):
                    try:
                        await client.get_data(class_id=1)
                    except WizIQResponseError as error:
                        errors.append(error)
            return errors

        hostile, too_big = asyncio.run(run())
        assert hostile.hostile and too_big.too_large

    def test_read_timeout(self, scripted_server):
        scripted_server.then(Answer(ok("get_data", RECORD), action="delay", seconds=1.0))

        async def run() -> None:
            async with AsyncWizIQClient(config(scripted_server.url, read_timeout=0.2, max_retries=0)) as client:
                await client.get_data(class_id=1)

        with pytest.raises(WizIQTransportError, match=r"no answer within 0\.2 s"):
            asyncio.run(run())


#: A get_data record of every column, as a page of classes has them.
PAGE_RECORD = (
    "<record><class_id>{n}</class_id><title>Algebra {series}</title><presenter_email>rivera@school.example"
    "</presenter_email><presenter_url>https://class.api.wiziq.com/join?c={n}&amp;p=abc</presenter_url>"
    "<start_time>03/{day:02d}/2027 09:00:00</start_time><time_zone>America/New_York</time_zone>"
    "<duration>60</duration><status>upcoming</status><recording_url>https://class.api.wiziq.com/rec/1"
    "</recording_url><is_recurring>True</is_recurring><class_master_id>{series}</class_master_id>"
    "<attendee_limit>30</attendee_limit><time_to_start>{minutes}</time_to_start>"
    "<attendance_report_status>na</attendance_report_status></record>"
)


class TestAnswerMemory:
    def test_a_page_is_held_once_while_it_is_read(self, scripted_server, client):
        """The answer goes into one buffer, which the parse reads: never a copy of it beside it."""
        rows = "".join(
            PAGE_RECORD.format(n=n, series=2000 + n // 10, day=1 + n % 28, minutes=100 * n) for n in range(1, 101)
        )
        page = ok("get_data", f"<record_list>{rows}</record_list>")
        scripted_server.default = Answer(page)
        client.get_data(class_id=1)  # one-time costs: the connection, compiled patterns
        tracemalloc.start()
        try:
            records = client.get_data(class_id=1)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert [record.class_id for record in records] == list(range(1, 101))
        assert peak < 2.6 * len(page), f"peak {peak} bytes for a {len(page)}-byte answer"

    @pytest.mark.parametrize("declared", [None, "4", "10", "2"], ids=["none", "exact", "more", "less"])
    def test_an_answer_is_collected_whole_whatever_length_it_declares(self, declared):
        headers = {} if declared is None else {"Content-Length": declared}
        body = CappedBody(calls.get_data(class_id=1), config("http://127.0.0.1:1/"), headers, time.monotonic)
        for chunk in (b"ab", b"cd"):
            body.feed(chunk)
        assert body.value() == b"abcd"

    def test_a_chunk_past_the_cap_is_refused_before_it_is_kept(self):
        body = CappedBody(
            calls.get_data(class_id=1), config("http://127.0.0.1:1/", max_response_bytes=1024), {}, time.monotonic
        )
        body.feed(b"a" * 1000)
        with pytest.raises(WizIQResponseError) as caught:
            body.feed(b"a" * 100)
        assert caught.value.too_large
        assert body.value() == b"a" * 1000


CAP = 4096
#: A get_data answer of exactly CAP bytes (blanks after the root are allowed XML).
EXACT = ok("get_data", RECORD).ljust(CAP)


def outcome(url: str, answer_async: bool) -> object:
    """What one get_data call with no re-send gives: the class ids, or the error (its class and words)."""
    settings = config(url, max_response_bytes=CAP, max_retries=0, read_timeout=1.0)

    async def run_async() -> object:
        async with AsyncWizIQClient(settings) as client:
            return await client.get_data(class_id=1)

    try:
        if answer_async:
            records = asyncio.run(run_async())
        else:
            with WizIQClient(settings) as client:
                records = client.get_data(class_id=1)
    except (WizIQResponseError, WizIQTransportError) as error:
        return type(error).__name__, getattr(error, "too_large", False), str(error)
    return [record.class_id for record in records]  # type: ignore[attr-defined]


class TestHostileContentLength:
    """A Content-Length that lies is bounded by the cap and the deadline, and gives the error it always gave."""

    @pytest.mark.parametrize("answer_async", [False, True], ids=["sync", "async"])
    @pytest.mark.parametrize(
        ("declared", "body", "expected"),
        [
            (str(CAP), EXACT, [15716]),
            (str(CAP + 1), EXACT + b" ", ("WizIQResponseError", True, "larger than the 4096-byte cap")),
            (str(CAP), EXACT[:100], ("WizIQTransportError", False, "")),  # declared more than arrives
            (str(10**18), EXACT[:100], ("WizIQResponseError", True, "larger than the 4096-byte cap")),
            ("40", EXACT, ("WizIQResponseError", False, "truncated or malformed XML")),  # less than arrives
            ("0", EXACT, ("WizIQResponseError", False, "empty body")),
            (" 4096 ", EXACT, [15716]),
        ],
        ids=["exactly-the-cap", "one-past-the-cap", "more-than-arrives", "huge", "less-than-arrives", "zero", "blanks"],
    )
    def test_a_lying_length_is_refused_as_before(self, scripted_server, declared, body, expected, answer_async):
        scripted_server.default = Answer(body, headers={"Content-Length": declared}, action="truncate")
        got = outcome(scripted_server.url, answer_async)
        if isinstance(expected, tuple):
            assert isinstance(got, tuple) and got[:2] == expected[:2] and expected[2] in got[2], got
        else:
            assert got == expected
        assert len(scripted_server.received) == 1

    @pytest.mark.parametrize("answer_async", [False, True], ids=["sync", "async"])
    @pytest.mark.parametrize("declared", ["abc", "-1", "1e3", "\u0665", "40, 40", ""])
    def test_a_length_that_is_no_number_is_left_to_the_http_library(self, scripted_server, declared, answer_async):
        """Not a size to the cap check (the buffer grows as bytes come): urllib3 and h11 decide as they did."""
        scripted_server.default = Answer(EXACT, headers={"Content-Length": declared}, action="truncate")
        got = outcome(scripted_server.url, answer_async)
        sync_reads = declared in ("abc", "-1", "1e3", "")  # http.client reads to the close; h11 refuses
        if declared == "40, 40":  # h11 reads one 40; http.client finds no number and reads on
            expected = "WizIQResponseError" if answer_async else "WizIQTransportError"
            assert isinstance(got, tuple) and got[0] == expected, got
        elif sync_reads and not answer_async:
            assert got == [15716]
        else:
            assert isinstance(got, tuple) and got[0] == "WizIQTransportError", got

    def test_a_length_declared_but_never_sent_costs_at_most_the_cap(self, scripted_server):
        """The buffer is sized from Content-Length, which is checked against the cap first: a server that
        declares the cap and sends a hundred bytes costs the cap once, and the call fails as a short answer."""
        cap = 5 * 1024 * 1024
        scripted_server.default = Answer(EXACT[:100], headers={"Content-Length": str(cap)}, action="truncate")
        with WizIQClient(config(scripted_server.url, max_retries=0)) as client:
            with pytest.raises(WizIQTransportError):
                client.get_data(class_id=1)  # one-time costs
            tracemalloc.start()
            try:
                with pytest.raises(WizIQTransportError, match="cut off"):
                    client.get_data(class_id=1)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        assert peak < 1.2 * cap
