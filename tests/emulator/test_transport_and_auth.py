"""How calls reach the emulator (paths, method, body encodings) and how it authenticates them (§1-2)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.emulator.server import WizIQEmulator
from tests.emulator.conftest import ACCESS_KEY, SECRET_KEY, T0, Api

FORBIDDEN = b'<error code="403" msg="Forbidden: The request is refused by the API."/>'


def test_wrong_secret_is_403_with_http_200(api):
    response = api.session.post(
        f"{api.emulator.url}?method=get_account_info",
        data=api.signed("get_account_info", secret_key="not-the-secret"),
    )
    assert response.status_code == 200
    assert FORBIDDEN in response.content
    assert b'status="fail"' in response.content and b"call_id=" in response.content


def test_an_hour_old_timestamp_is_403(api):
    old = api.emulator.clock.timestamp() - 3600
    response = api.session.post(
        f"{api.emulator.url}?method=get_account_info", data=api.signed("get_account_info", timestamp=old)
    )
    assert FORBIDDEN in response.content


def test_timestamp_window_edges(api):
    now = api.emulator.clock.timestamp()
    for offset, accepted in ((-890, True), (890, True), (-910, False), (910, False)):
        body = api.session.post(
            f"{api.emulator.url}?method=get_account_info",
            data=api.signed("get_account_info", timestamp=now + offset),
        ).content
        assert (FORBIDDEN not in body) is accepted, offset


def test_host_time_is_accepted_once_the_clock_moved(api):
    """A client signing with the host's clock keeps working while a test moves the emulator's clock."""
    host_now = int(time.time())
    body = api.session.post(
        f"{api.emulator.url}?method=get_account_info", data=api.signed("get_account_info", timestamp=host_now)
    ).content
    assert FORBIDDEN not in body
    api.emulator.configure(accept_host_time=False)
    body = api.session.post(
        f"{api.emulator.url}?method=get_account_info", data=api.signed("get_account_info", timestamp=host_now)
    ).content
    assert FORBIDDEN in body


@pytest.mark.parametrize(
    "tamper",
    [
        {"access_key": "someone-else"},
        {"signature": ""},
        {"timestamp": "yesterday"},
        {"method": "get_data"},  # signed for get_account_info, sent as get_data in the body only
    ],
)
def test_tampered_requests_are_403(api, tamper):
    data = {**api.signed("get_account_info"), **tamper}
    method = tamper.get("method", "get_account_info")
    body = api.session.post(api.emulator.url, data=data).content
    assert FORBIDDEN in body, method


def test_the_signature_is_never_recorded(api):
    api.call("get_account_info")
    recorded = api.emulator.requests()
    assert recorded[-1]["method"] == "get_account_info"
    assert "signature" not in recorded[-1]["fields"]
    assert recorded[-1]["fields"]["access_key"] == ACCESS_KEY


@pytest.mark.parametrize("path", ["/", "/apimanager.ashx", "/apimanager.ashx/"])
def test_every_endpoint_path(api, path):
    response = api.post("get_account_info", path=path)
    responses.parse_account_info(response.content)


def test_method_from_the_query_string_first(api):
    data = {**api.signed("get_account_info"), "method": "cancel"}
    response = api.session.post(f"{api.emulator.url}?method=get_account_info", data=data)
    responses.parse_account_info(response.content)


def test_method_from_the_body_without_query(api):
    response = api.session.post(api.emulator.url, data=api.signed("get_account_info"))
    responses.parse_account_info(response.content)


def test_multipart_body(api):
    fields = api.signed("get_account_info")
    files = {name: (None, value) for name, value in fields.items()}
    response = api.session.post(api.emulator.url, files=files)
    assert response.request.headers["Content-Type"].startswith("multipart/form-data")
    responses.parse_account_info(response.content)


def test_other_paths_and_verbs(api):
    assert api.session.post(f"{api.emulator.base_url}/nowhere").status_code == 404
    response = api.session.get(f"{api.emulator.url}?method=get_account_info")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_the_signing_key_is_the_quoted_secret():
    """The published test vector (docs/wiziq-api.md §2), checked by the emulator's own verification."""
    with (
        WizIQEmulator(access_key="G18pttjJhBM=", secret_key="HU1HDyP3QRB4eM6fIdPr5g==", timestamp_window=None) as emu,
        requests.Session() as session,
    ):
        data = {
            "access_key": "G18pttjJhBM=",
            "timestamp": "1447856244",
            "method": "add_attendees",
            "signature": "4Yz932bslqYTYCPNDonTGMDoP8E=",
        }
        body = session.post(f"{emu.url}?method=add_attendees", data=data).content
        assert b'code="1020"' in body  # past authentication: only the class_id is missing
        data["signature"] = "wisJvWCBr0Z/2DDvC00WLO991bY="  # signed with the raw secret
        assert FORBIDDEN in session.post(f"{emu.url}?method=add_attendees", data=data).content


def test_keep_alive_session_serves_many_calls(emulator):
    with requests.Session() as session:
        api = Api(emulator, session)
        for _ in range(20):
            responses.parse_account_info(api.call("get_account_info"))
    assert len(emulator.requests("get_account_info")) == 20


def test_clock_advance_moves_the_window(api):
    api.emulator.clock.advance(timedelta(hours=2))
    api.emulator.configure(accept_host_time=False)
    assert api.emulator.clock.now() >= T0 + timedelta(hours=2)
    responses.parse_account_info(api.call("get_account_info"))  # Api signs with the emulator's clock
    stale = api.session.post(
        f"{api.emulator.url}?method=get_account_info",
        data=api.signed("get_account_info", timestamp=int(T0.timestamp())),
    ).content
    assert FORBIDDEN in stale


def test_secret_key_in_connection(emulator):
    assert emulator.connection == {
        "conn_type": "wiziq",
        "host": emulator.url,
        "login": ACCESS_KEY,
        "password": SECRET_KEY,
    }
