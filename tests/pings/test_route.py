"""The status-ping route (FastAPI's test client): the token, what is recorded, and what never is."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_provider_wiziq.plugins import URL_PREFIX, WizIQPingPlugin
from airflow_provider_wiziq.plugins.app import MAX_BODY_BYTES, create_app
from airflow_provider_wiziq.plugins.inbox import parse_entry
from airflow_provider_wiziq.plugins.signing import ping_token, signed_ping_url, token_matches
from tests.pings.support import OLD_SECRET, SECRET, entries, form, pings_on


@pytest.fixture
def client():
    with TestClient(create_app()) as made:
        yield made


def ping(client: TestClient, conn_id: str = "wiziq_default", token: str | None = None, **fields: str):
    token = ping_token(SECRET, conn_id) if token is None else token
    return client.post(f"/ping?conn_id={conn_id}&k={token}", data=fields or form(15001))


def test_a_good_token_is_200_and_the_class_is_recorded_without_its_status(client, monkeypatch, tmp_path):
    pings_on(monkeypatch, tmp_path)
    answer = ping(client, class_id="15001", class_status="completed")
    assert answer.status_code == 200
    (name,) = entries(tmp_path)
    class_id, _ = parse_entry(name)
    assert class_id == 15001
    stored = [path for path in (tmp_path / "wiziq_default").rglob("*") if path.is_file()]
    assert len(stored) == 2  # the entry (empty) and the bell (the entry's name): the status is kept nowhere
    assert all("completed" not in f"{path}{path.read_text()}" for path in stored)


@pytest.mark.parametrize(
    "token",
    [
        "",  # missing
        "not-a-token",
        ping_token(SECRET, "wiziq_other"),  # another connection's
        ping_token("a-different-secret-0123456789", "wiziq_default"),  # another secret's
        ping_token(SECRET, "wiziq_default")[:-1],  # cut short
    ],
    ids=["missing", "garbage", "other-connection", "other-secret", "truncated"],
)
def test_a_bad_or_missing_token_is_403_and_records_nothing(client, monkeypatch, tmp_path, token):
    pings_on(monkeypatch, tmp_path)
    assert ping(client, token=token).status_code == 403
    assert client.post("/ping", data=form(15001)).status_code == 403  # no query string at all
    assert entries(tmp_path) == [] and not (tmp_path / "wiziq_default").exists()


def test_another_connections_token_opens_only_its_own_inbox(client, monkeypatch, tmp_path):
    pings_on(monkeypatch, tmp_path)
    assert ping(client, "wiziq_other").status_code == 200
    assert entries(tmp_path, "wiziq_other") and not entries(tmp_path)


@pytest.mark.parametrize("missing", ["AIRFLOW__WIZIQ__PING_SECRET", "AIRFLOW__WIZIQ__PING_INBOX"])
def test_every_route_is_404_until_pings_are_configured(client, monkeypatch, tmp_path, missing):
    pings_on(monkeypatch, tmp_path)
    monkeypatch.delenv(missing)
    assert ping(client).status_code == 404
    assert client.get("/").status_code == 404 and client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404
    assert entries(tmp_path) == []


def test_a_short_secret_turns_pings_off_and_says_why(client, monkeypatch, tmp_path, caplog):
    pings_on(monkeypatch, tmp_path, secret="short")
    with caplog.at_level(logging.ERROR):
        assert client.post(f"/ping?conn_id=wiziq_default&k={ping_token('short', 'wiziq_default')}").status_code == 404
    assert "at least 16 characters" in caplog.text and "short" not in caplog.text.replace("shorter", "")


def test_rotation_the_first_secret_signs_and_every_one_is_accepted(client, monkeypatch, tmp_path):
    pings_on(monkeypatch, tmp_path, secret=f"{SECRET}, {OLD_SECRET}")
    assert ping(client, token=ping_token(OLD_SECRET, "wiziq_default")).status_code == 200
    assert ping(client, token=ping_token(SECRET, "wiziq_default")).status_code == 200
    assert len(entries(tmp_path)) == 2
    assert token_matches(ping_token(OLD_SECRET, "c"), "c", (SECRET, OLD_SECRET))
    assert not token_matches(ping_token(OLD_SECRET, "c"), "c", (SECRET,))


@pytest.mark.parametrize("bad", ["", "abc", "0", "-5", "1" * 19])
def test_a_class_id_that_is_not_one_is_400_and_records_nothing(client, monkeypatch, tmp_path, bad):
    pings_on(monkeypatch, tmp_path)
    assert ping(client, class_id=bad).status_code == 400
    assert entries(tmp_path) == []


def test_an_oversized_body_is_413(client, monkeypatch, tmp_path):
    pings_on(monkeypatch, tmp_path)
    token = ping_token(SECRET, "wiziq_default")
    body = b"class_id=15001&pad=" + b"x" * MAX_BODY_BYTES
    answer = client.post(f"/ping?conn_id=wiziq_default&k={token}", content=body)
    assert answer.status_code == 413 and entries(tmp_path) == []


def test_an_unwritable_inbox_is_503(client, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    pings_on(monkeypatch, blocker)
    assert ping(client).status_code == 503


def test_the_token_never_reaches_the_log(client, monkeypatch, tmp_path, caplog):
    pings_on(monkeypatch, tmp_path)
    with caplog.at_level(logging.DEBUG):
        ping(client)
        ping(client, token="wrong")
    assert ping_token(SECRET, "wiziq_default") not in caplog.text and SECRET not in caplog.text


def test_the_signed_url_is_the_base_with_the_connection_and_its_token():
    url = signed_ping_url("https://airflow.example.org/wiziq/ping", "wiziq term/a", SECRET)
    assert url == (
        f"https://airflow.example.org/wiziq/ping?conn_id=wiziq%20term%2Fa&k={ping_token(SECRET, 'wiziq term/a')}"
    )
    assert len(ping_token(SECRET, "x")) == 43 and ping_token(SECRET, "x") != ping_token(SECRET, "y")


def test_airflows_api_server_mounts_the_plugins_route(monkeypatch, tmp_path):
    """What the api-server does with every loaded plugin (``init_plugins``), on a bare app: the route answers."""
    from importlib.metadata import entry_points

    from airflow.api_fastapi.app import init_plugins

    assert WizIQPingPlugin.fastapi_apps[0]["url_prefix"] == URL_PREFIX == "/wiziq"
    declared = [e for e in entry_points(group="airflow.plugins") if e.value.startswith("airflow_provider_wiziq")]
    assert declared, "the provider's airflow.plugins entry point is not installed: reinstall it (scripts/_venv.sh)"
    app = FastAPI()
    init_plugins(app)
    pings_on(monkeypatch, tmp_path)
    with TestClient(app) as client:
        token = ping_token(SECRET, "wiziq_default")
        assert client.post(f"/wiziq/ping?conn_id=wiziq_default&k={token}", data=form(42)).status_code == 200
        assert client.post("/wiziq/ping?conn_id=wiziq_default&k=x", data=form(42)).status_code == 403
    assert [parse_entry(name)[0] for name in entries(tmp_path)] == [42]
