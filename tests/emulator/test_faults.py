"""Injected faults, observed from a plain ``requests`` client; and latency that does not serialise calls."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.errors import WizIQResponseError
from tests.emulator.conftest import Api, series_fields


def post_create(api: Api, **kwargs: object) -> requests.Response:
    return requests.post(
        f"{api.emulator.url}?method=create_recurring",
        data=api.signed("create_recurring", series_fields()),
        **kwargs,  # type: ignore[arg-type]
    )


def test_reset_before_loses_the_call(api):
    api.emulator.inject_fault("reset_before")
    with pytest.raises(requests.ConnectionError):
        post_create(api, timeout=30)
    assert api.emulator.series() == []
    assert api.emulator.requests()[-1]["fault"] == "reset_before"
    assert api.emulator.requests()[-1]["committed"] is False


def test_reset_after_commits_the_series_then_loses_the_answer(api):
    api.emulator.inject_fault("reset_after", method="create_recurring")
    with pytest.raises(requests.ConnectionError):
        post_create(api, timeout=30)
    (series,) = api.emulator.series()
    assert len(series["class_ids"]) == 3
    # A client that lost the answer can find its series by listing the account.
    records = responses.parse_get_data(api.call("get_data", columns="class_id,class_master_id,title"))
    assert {r.fields["class_master_id"] for r in records} == {str(series["class_master_id"])}


def test_delay_holds_the_answer(api):
    api.emulator.inject_fault("delay", seconds=0.3)
    started = time.monotonic()
    body = post_create(api, timeout=30).content
    assert time.monotonic() - started >= 0.3
    assert responses.parse_create_recurring(body).class_master_id > 0


def test_delay_longer_than_the_client_waits_is_a_timeout(api):
    api.emulator.inject_fault("delay", seconds=2)
    with pytest.raises(requests.ReadTimeout):
        post_create(api, timeout=0.3)
    # The server did the work: it stores the series before the delay (waited for: a loaded machine is slow).
    deadline = time.monotonic() + 30
    while not api.emulator.series() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(api.emulator.series()) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_errors(api, status):
    api.emulator.inject_fault(f"http_{status}")
    response = post_create(api, timeout=30)
    assert response.status_code == status
    assert api.emulator.series() == []


def test_http_429_says_when_to_retry(api):
    api.emulator.inject_fault("http_429", retry_after=7)
    response = post_create(api, timeout=30)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_malformed_xml(api):
    api.emulator.inject_fault("malformed")
    response = post_create(api, timeout=30)
    assert response.status_code == 200
    with pytest.raises(WizIQResponseError, match="truncated or malformed XML"):
        responses.parse_create_recurring(response.content)
    assert len(api.emulator.series()) == 1


def test_truncated_answer_is_an_error_reading(api):
    api.emulator.inject_fault("truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post_create(api, timeout=30)
    assert len(api.emulator.series()) == 1


def test_html_error_page(api):
    api.emulator.inject_fault("html")
    response = post_create(api, timeout=30)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(WizIQResponseError, match="HTML"):
        responses.parse_create_recurring(response.content)
    assert api.emulator.series() == []


def test_count_and_method_filter(api):
    api.emulator.inject_fault("http_503", count=2, method="get_data")
    assert api.post("get_account_info").status_code == 200
    assert api.post("get_data").status_code == 503
    assert [f.count for f in api.emulator.faults()] == [1]
    assert api.post("get_data").status_code == 503
    assert api.emulator.faults() == []
    assert api.post("get_data").status_code == 200


def test_faults_queue_in_order(api):
    api.emulator.inject_fault("http_500")
    api.emulator.inject_fault("http_502")
    assert [api.post("get_account_info").status_code for _ in range(3)] == [500, 502, 200]
    api.emulator.inject_fault("http_500", count=5)
    api.emulator.clear_faults()
    assert api.post("get_account_info").status_code == 200


def test_unknown_fault_kind_is_refused(emulator):
    with pytest.raises(ValueError, match="unknown fault kind"):
        emulator.inject_fault("gremlins")


def test_latency_does_not_serialise_calls(emulator):
    """200 calls at 500 ms each, 100 at a time: concurrent, so far under the 100 s they would take in turn."""
    emulator.set_latency(0.5)

    def one(_: int) -> int:
        with requests.Session() as session:
            return Api(emulator, session).post("get_account_info").status_code

    started = time.monotonic()
    with ThreadPoolExecutor(100) as pool:
        statuses = list(pool.map(one, range(200)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 200
    assert elapsed < 50, elapsed  # in turn they would take 100 s: only a serial server misses it, however busy
