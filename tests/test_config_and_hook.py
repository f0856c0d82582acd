"""The connection turned into a client: endpoint rules, extras, bad connection data, and the hook end to end."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_wiziq.api.protocol.config import DEFAULT_ENDPOINT, EXTRAS, config_from_connection
from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError, WizIQTransportError, WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.get_provider_info import get_provider_info
from tests.scripted_server import Answer, fail, ok
from tests.support import RECORD, SECRET, SERIES


def connection(monkeypatch, conn_id: str = "wiziq_default", **fields: object) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "wiziq", **fields}))


class TestConfig:
    def test_empty_host_means_wiziqs_endpoint(self):
        made = config_from_connection(host="", login="ak", password="sk")
        assert made.endpoint == DEFAULT_ENDPOINT

    def test_bare_host_gets_https_and_the_api_path(self):
        made = config_from_connection(host="classapi.example.com", login="ak", password="sk", port=8443)
        assert made.endpoint == "https://classapi.example.com:8443/apimanager.ashx"

    def test_extras_are_read_with_their_types_and_limits(self):
        made = config_from_connection(
            host="https://api.example.com/apimanager.ashx",
            login="ak",
            password="sk",
            extra={
                "read_timeout": "30",
                "max_retries": 2,
                "max_series_classes": "40",
                "max_class_minutes": 90,
                "allow_insecure_http": "false",
            },
        )
        assert (made.read_timeout, made.max_retries) == (30.0, 2)
        assert made.limits == PlanLimits(max_class_minutes=90, max_series_classes=40)

    def test_secret_key_is_not_in_repr(self):
        made = config_from_connection(host="", login="ak", password=SECRET)
        assert SECRET not in repr(made)

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"login": "ak", "password": ""}, "no secret key"),
            ({"login": "", "password": "sk"}, "no access key"),
            ({"login": "ak", "password": "sk", "host": "ftp://api.example.com/x"}, "is not an http"),
            ({"login": "ak", "password": "sk", "host": "http://"}, "is not an http"),
            (
                {"login": "ak", "password": "sk", "host": "http://api.example.com/apimanager.ashx"},
                "Refusing plain http",
            ),
            (
                {"login": "ak", "password": "sk", "extra": {"read_timeot": 3}},
                "Unknown WizIQ connection extra",
            ),
            ({"login": "ak", "password": "sk", "extra": {"read_timeout": "soon"}}, "must be a number"),
            ({"login": "ak", "password": "sk", "extra": {"read_timeout": 0}}, "must be a number greater than 0"),
        ],
    )
    def test_bad_connection_data(self, fields, message):
        with pytest.raises(WizIQConfigError, match=message) as caught:
            config_from_connection(
                host=fields.get("host"),
                login=fields.get("login"),
                password=fields.get("password"),
                extra=fields.get("extra"),
            )
        assert "sk" not in str(caught.value).replace("ask", "")

    @pytest.mark.parametrize(
        "host",
        [
            "http://127.0.0.1:8765/apimanager.ashx",
            "http://localhost/x",
            "http://[::1]:80/apimanager.ashx",
            "http://127.9.9.9/",
        ],
    )
    def test_plain_http_is_fine_on_loopback(self, host):
        assert config_from_connection(host=host, login="ak", password="sk").endpoint == host

    def test_plain_http_to_a_remote_host_needs_the_explicit_extra(self):
        made = config_from_connection(
            host="http://lab.example/apimanager.ashx",
            login="ak",
            password="sk",
            extra={"allow_insecure_http": True},
        )
        assert made.allow_insecure_http

    def test_every_extra_is_in_the_connection_form(self):
        (conn_type,) = get_provider_info()["connection-types"]
        assert set(conn_type["conn-fields"]) == set(EXTRAS)


class TestHook:
    def hook(self):
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        return WizIQHook()

    def test_create_recurring_by_parameter_names(self, scripted_server, monkeypatch):
        connection(monkeypatch, host=scripted_server.url, login="ak", password=SECRET)
        scripted_server.then(Answer(ok("create_recurring", SERIES)))
        start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
        series = self.hook().create_recurring(
            title="Biology",
            start_time=start,
            class_repeat_type="weekly",
            days_of_week="tuesday,thursday",
            class_occurrence=6,
            presenter_email="teacher@example.com",
            time_zone="America/Chicago",
        )
        assert series.class_master_id == 2345
        form = scripted_server.received[0].form
        assert form["days_of_week"] == "tuesday,thursday"
        assert form["time_zone"] == "America/Chicago"
        assert form["start_time"] == start.astimezone(ZoneInfo("America/Chicago")).strftime("%m/%d/%Y %H:%M:%S")

    def test_every_method_reaches_the_server(self, scripted_server, monkeypatch):
        connection(monkeypatch, host=scripted_server.url, login="ak", password=SECRET)
        scripted_server.then(
            Answer(ok("get_data", RECORD)),
            Answer(
                ok(
                    "view_schedule",
                    "<recurring_list><class_details><class_id>1</class_id></class_details></recurring_list>",
                )
            ),
            Answer(ok("cancel")),
            Answer(ok("modify")),
            Answer(
                ok(
                    "add_attendees",
                    "<class_id>1</class_id><attendee_list><attendee><attendee_id>"
                    "<![CDATA[101]]></attendee_id><attendee_url><![CDATA[https://j/101]]>"
                    "</attendee_url></attendee></attendee_list>",
                )
            ),
            Answer(ok("get_attendance_report", "<class_id>1</class_id><class_duration>60</class_duration>")),
            Answer(ok("get_account_info")),
        )
        hook = self.hook()
        assert hook.get_data(class_master_id=9)[0].class_id == 15716
        assert hook.view_schedule(9, page_size=60)[0].class_id == 1
        assert hook.cancel(1) is True
        assert hook.modify(1, title="Renamed", duration=90) is True
        joined = hook.add_attendees(1, [{"attendee_id": 101, "screen_name": "Ann <&> ]]> Lee"}])
        assert joined.attendees[0].attendee_url == "https://j/101"
        assert hook.get_attendance_report(1).class_duration == 60
        assert hook.get_account_info() is not None
        methods = [r.query["method"] for r in scripted_server.received]
        assert methods == [
            "get_data",
            "view_schedule",
            "cancel",
            "modify",
            "add_attendees",
            "get_attendance_report",
            "get_account_info",
        ]
        assert scripted_server.received[3].form["title"] == "Renamed"
        attendee_list = scripted_server.received[4].form["attendee_list"]
        assert "<attendee_id><![CDATA[101]]></attendee_id>" in attendee_list
        assert "<screen_name><![CDATA[Ann <&> ]]]]><![CDATA[> Lee]]></screen_name>" in attendee_list

    def test_test_connection(self, scripted_server, monkeypatch):
        connection(monkeypatch, host=scripted_server.url, login="ak", password=SECRET)
        scripted_server.then(
            Answer(ok("get_account_info")), Answer(fail(403, "Forbidden: The request is refused by the API."))
        )
        assert self.hook().test_connection()[0] is True
        good, message = self.hook().test_connection()
        assert good is False
        assert message.startswith("WizIQ error 403: Forbidden: The request is refused by the API. (get_account_info)")
        assert "access key (login) and secret key (password)" in message

    def test_bad_connection_fails_at_first_call_before_any_request(self, scripted_server, monkeypatch):
        connection(monkeypatch, host=scripted_server.url, login="ak", password="")
        with pytest.raises(WizIQConfigError, match="no secret key"):
            self.hook().get_account_info()
        connection(monkeypatch, host="http://wiziq.example.org/apimanager.ashx", login="ak", password=SECRET)
        with pytest.raises(WizIQConfigError, match="Refusing plain http"):
            self.hook().get_account_info()
        assert scripted_server.received == []

    def test_no_secret_or_signature_in_logs_or_errors(self, scripted_server, monkeypatch, caplog):
        connection(
            monkeypatch,
            host=scripted_server.url,
            login="ak",
            password=SECRET,
            extra={"backoff_initial": 0.01, "backoff_max": 0.02},
        )
        scripted_server.then(
            Answer(b"", status=503),
            Answer(action="reset"),
            Answer(b"<html>x</html>", status=500),
            Answer(b"", status=503),
            Answer(b"", status=503),
        )
        caplog.set_level(logging.DEBUG)
        hook = self.hook()
        with pytest.raises(WizIQTransportError) as caught:
            hook.get_data(class_id=1)
        signatures = [r.form["signature"] for r in scripted_server.received]
        assert len(signatures) == 5
        text = caplog.text + str(caught.value) + repr(caught.value) + repr(hook.config)
        for secret in [SECRET, *signatures]:
            assert secret not in text

    def test_validation_error_names_parameter_before_sending(self, scripted_server, monkeypatch):
        connection(monkeypatch, host=scripted_server.url, login="ak", password=SECRET)
        with pytest.raises(WizIQValidationError) as caught:
            self.hook().create_recurring(
                title="x",
                start_time="2030-01-01T10:00",
                class_repeat_type=4,
                class_occurrence=3,
                presenter_email="t@example.com",
            )
        assert (caught.value.code, caught.value.parameter) == (1083, "days_of_week")
        assert scripted_server.received == []


def test_connection_port_is_kept_when_the_host_is_a_url_without_one():
    made = config_from_connection(host="http://127.0.0.1/apimanager.ashx", login="ak", password="sk", port=8765)
    assert made.endpoint == "http://127.0.0.1:8765/apimanager.ashx"
    kept = config_from_connection(host="http://127.0.0.1:9000/apimanager.ashx", login="ak", password="sk", port=1)
    assert kept.endpoint == "http://127.0.0.1:9000/apimanager.ashx"


def test_endpoint_credentials_never_reach_the_error_text():
    with pytest.raises(WizIQConfigError) as caught:
        config_from_connection(host="ftp://user:hunter2@api.example.com/x", login="ak", password="sk")
    assert "hunter2" not in str(caught.value)
    assert "ftp://api.example.com/x" in str(caught.value)


def test_the_hook_downloads_a_recording_as_wiziq_documents_it(wiziq_emulator):
    """``download_recording``: class_id (and recording_format, zip by default) in; the recording's download
    status and the URL of its status document out."""
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    start = wiziq_emulator.clock.now() + timedelta(days=1)
    hook = WizIQHook()
    made = hook.create(
        title="Recorded", start_time=start, time_zone="UTC", presenter_email="t@example.com", create_recording=True
    )
    wiziq_emulator.configure(report_delay=0)
    wiziq_emulator.clock.advance(timedelta(days=1, hours=2))
    download = hook.download_recording(made.class_id)
    assert (download.status, download.download_status) == (True, True)
    assert download.status_xml_path.startswith(wiziq_emulator.base_url)
    sent = wiziq_emulator.requests("download_recording")[0]["fields"]
    assert (sent["class_id"], sent["recording_format"]) == (str(made.class_id), "zip")
    assert hook.download_recording(made.class_id, recording_format="exe").status is True


class TestCredentialsInTheEndpoint:
    """A connection host like ``https://user:password@host/...``: the password travels as HTTP basic auth,
    reaches no plain attribute, repr or traceback, and Airflow's secrets masker knows it."""

    HOST = "http://robin:hunter%32@127.0.0.1:{port}/apimanager.ashx"

    def test_it_reaches_the_server_as_basic_auth_from_both_clients(self, scripted_server, monkeypatch):
        import asyncio
        import base64

        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        host = scripted_server.url.replace("http://", "http://robin:hunter%32@")
        connection(monkeypatch, host=host, login="ak", password=SECRET)
        scripted_server.then(Answer(ok("get_account_info")), Answer(ok("get_account_info")))
        hook = WizIQHook()
        hook.get_account_info()

        async def from_a_trigger() -> None:
            client = await hook.get_async_client()
            try:
                await client.get_account_info()
            finally:
                await client.aclose()

        asyncio.run(from_a_trigger())
        expected = "Basic " + base64.b64encode(b"robin:hunter2").decode()
        assert [received.headers.get("Authorization") for received in scripted_server.received] == [expected] * 2
        assert all(received.path == "/apimanager.ashx" for received in scripted_server.received)

    def test_it_is_in_no_plain_attribute_repr_or_traceback_with_locals(self, monkeypatch):
        import asyncio
        import traceback

        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        # port 9 on loopback: nothing listens, the connection is refused, the call fails inside the client
        connection(monkeypatch, host=self.HOST.format(port=9), login="ak", password=SECRET, extra={"max_retries": 0})
        hook = WizIQHook()
        texts = [repr(vars(hook)), repr(vars(hook.config)), repr(hook.config), str(hook.config)]
        texts += [str(value) for value in vars(hook.config).values()]
        with pytest.raises(WizIQTransportError) as caught:
            hook.get_account_info()
        texts.append("".join(traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()))

        async def from_a_trigger() -> None:
            client = await hook.get_async_client()
            try:
                await client.get_account_info()
            finally:
                await client.aclose()

        with pytest.raises(WizIQTransportError) as caught_async:
            asyncio.run(from_a_trigger())
        texts.append(
            "".join(traceback.TracebackException.from_exception(caught_async.value, capture_locals=True).format())
        )
        for text in texts:
            assert "hunter" not in text
            assert SECRET not in text
        assert "127.0.0.1:9" in texts[-1]  # the locals were printed: the test would see a leak

    def test_the_hook_registers_it_with_airflows_secrets_masker(self, monkeypatch):
        import asyncio

        from airflow.providers.common.compat.sdk import redact

        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        host = "https://robin:w1zard%2Bpass@api.example.com/apimanager.ashx?token=t0k3n-8734"
        connection(monkeypatch, host=host, login="ak", password=SECRET)
        WizIQHook().config  # noqa: B018 - reading the connection is what registers it
        line = "calling https://robin:w1zard%2Bpass@api.example.com/apimanager.ashx?token=t0k3n-8734 as w1zard+pass"
        shown = redact(line)
        assert "w1zard" not in shown and "t0k3n-8734" not in shown
        assert "api.example.com" in shown

        async_host = "https://robin:tr1gger-pass@api.example.com/apimanager.ashx"
        connection(monkeypatch, conn_id="wiziq_async", host=async_host, login="ak", password=SECRET)

        async def from_a_trigger() -> None:
            client = await WizIQHook(wiziq_conn_id="wiziq_async").get_async_client()
            await client.aclose()

        asyncio.run(from_a_trigger())
        assert "tr1gger-pass" not in redact("password tr1gger-pass")
