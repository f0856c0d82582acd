"""Signed status_ping_urls: the ping_base_url extra, the hook's status_ping_url(), ping_url(), and the create
operators giving them to new classes (never to a log, XCom or rendered field)."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from airflow.sdk import DAG

from airflow_provider_wiziq.api.protocol.config import config_from_connection
from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError
from airflow_provider_wiziq.hooks.wiziq import WizIQHook
from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator, CreateRecurringClassOperator
from airflow_provider_wiziq.plugins import ping_url
from airflow_provider_wiziq.plugins.signing import ping_token
from tests.dagtest import run_dag
from tests.pings.support import SECRET, pings_on
from tests.support.bulk import spec
from tests.support.classes import use_emulator
from tests.support.create import BASE, SERIES

BASE_URL = "https://airflow.example.org/wiziq/ping"


def config(**extra: object):
    return config_from_connection(host="https://h.example/apimanager.ashx", login="ak", password="sk", extra=extra)


@pytest.mark.parametrize(
    "url",
    ["https://airflow.example.org/wiziq/ping", "http://127.0.0.1:8080/wiziq/ping", "  https://a.example/p  "],
)
def test_ping_base_url_is_an_https_url_or_loopback(url):
    assert config(ping_base_url=url).ping_base_url == url.strip()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("airflow.example.org/wiziq/ping", "must be the http"),
        ("https://airflow.example.org/wiziq/ping?k=1", "no query string"),
        ("https://u:hunter2@airflow.example.org/p", "no query string"),
        ("ftp://airflow.example.org/p", "must be the http"),
        ("http://airflow.example.org/wiziq/ping", "Refusing a plain http ping_base_url"),
        (42, "must be text"),
    ],
)
def test_a_bad_ping_base_url_is_a_config_error_naming_it(url, message):
    with pytest.raises(WizIQConfigError, match=message) as caught:
        config(ping_base_url=url)
    assert "hunter2" not in str(caught.value)


def test_plain_http_to_a_remote_host_needs_allow_insecure_http():
    assert config(ping_base_url="http://lab.example/p", allow_insecure_http=True).ping_base_url


def test_no_extra_no_url_and_no_secret_no_url_with_a_warning(monkeypatch, tmp_path, caplog, capsys):
    bare = {"conn_type": "wiziq", "login": "access", "password": "secret-key"}
    monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", json.dumps(bare))
    assert WizIQHook().status_ping_url() is None
    with pytest.raises(WizIQConfigError, match="no ping_base_url extra"):
        ping_url()
    connection = {**bare, "extra": {"ping_base_url": BASE_URL}}
    monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", json.dumps(connection))
    with caplog.at_level(logging.WARNING):
        assert WizIQHook().status_ping_url() is None
    assert "[wiziq] ping_secret is not set" in caplog.text + capsys.readouterr().out  # Airflow's hook logger
    with pytest.raises(WizIQConfigError, match="ping_secret is not set"):
        ping_url()
    pings_on(monkeypatch, tmp_path)
    expected = f"{BASE_URL}?conn_id=wiziq_default&k={ping_token(SECRET, 'wiziq_default')}"
    assert WizIQHook().status_ping_url() == ping_url() == ping_url("wiziq_default") == expected


def created_ping_urls(emulator) -> list[str | None]:
    return [one["status_ping_url"] for one in emulator.classes()]


def stored_texts(dag_run) -> str:
    """XComs and rendered template fields of the run."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        xcoms = session.scalars(
            select(XComModel).where(XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id)
        )
        rendered = session.scalars(
            select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == dag_run.dag_id,
                RenderedTaskInstanceFields.run_id == dag_run.run_id,
            )
        )
        texts = [repr(x.value) for x in xcoms] + [json.dumps(r.rendered_fields, default=str) for r in rendered]
    assert texts
    return "\n".join(texts)


def test_the_create_operators_give_new_classes_the_signed_url_unless_the_spec_sets_one(
    wiziq_emulator, monkeypatch, tmp_path, caplog, capsys
):
    use_emulator(monkeypatch, wiziq_emulator, ping_base_url="http://127.0.0.1:9/wiziq/ping")
    pings_on(monkeypatch, tmp_path)
    token = ping_token(SECRET, "wiziq_default")
    own = "https://lms.example/ping?section=9"
    with DAG("ping_urls", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        CreateRecurringClassOperator(task_id="create", **BASE, **SERIES["daily"])
        CreateRecurringClassOperator(
            task_id="create_own",
            **{**BASE, "presenter_email": "b@school.example"},
            **SERIES["daily"],
            status_ping_url=own,
        )
        CreateRecurringClassesOperator(
            task_id="create_series", series=[spec(1), spec(2, status_ping_url=own)], max_calls_per_second=None
        )
    with caplog.at_level(logging.DEBUG):
        dag_run = run_dag(dag)
    assert dag_run.state == "success"
    urls = created_ping_urls(wiziq_emulator)
    signed = f"http://127.0.0.1:9/wiziq/ping?conn_id=wiziq_default&k={token}"
    assert urls.count(signed) == 5 + 2 and urls.count(own) == 5 + 2 and len(urls) == 14
    assert token not in stored_texts(dag_run)
    assert token not in caplog.text + capsys.readouterr().out


def test_the_term_sync_gives_new_and_moved_classes_the_signed_url_and_plans_no_change_for_it(
    wiziq_emulator, monkeypatch, tmp_path, caplog, capsys
):
    import airflow_provider_wiziq.operators.sync as sync_module
    from tests.sync_support import TERM_OPENS, TermRunner, section

    wiziq_emulator.clock.set(TERM_OPENS)
    monkeypatch.setattr(sync_module, "clock", wiziq_emulator.clock)
    term = TermRunner(wiziq_emulator, "pinged-term")
    own = "https://lms.example/wiziq/status"
    term.run([section("A"), section("C", status_ping_url=own)])  # provisioned before pings were configured
    changed = [
        section("A", start_time="2027-09-06T10:00"),
        section("B"),
        section("C", status_ping_url=own, start_time="2027-09-06T11:00"),
    ]
    without = term.run(changed, dry_run=True).result["fingerprint"]
    use_emulator(monkeypatch, wiziq_emulator, ping_base_url="http://127.0.0.1:9/wiziq/ping")
    pings_on(monkeypatch, tmp_path)
    token = ping_token(SECRET, "wiziq_default")
    signed = f"http://127.0.0.1:9/wiziq/ping?conn_id=wiziq_default&k={token}"

    unchanged = term.run([section("A"), section("C", status_ping_url=own)])
    assert unchanged.writes == []  # adding ping_base_url plans no change: existing classes keep theirs
    assert term.run(changed, dry_run=True).result["fingerprint"] == without  # nor does it change a plan
    with caplog.at_level(logging.DEBUG):
        later = term.run(changed)
    modified = [r for r in later.writes if r["method"] == "modify"]
    of_c = {str(c["class_id"]) for c in wiziq_emulator.classes() if c["title"] == "Section C"}
    urls = {r["fields"]["class_id"] in of_c: r["fields"].get("status_ping_url") for r in modified}
    assert urls == {False: signed, True: own}  # a section that gives its own URL keeps it when moved
    created = [r for r in later.writes if r["method"] == "create_recurring"]
    assert created and all(r["fields"].get("status_ping_url") == signed for r in created)
    assert token not in json.dumps(later.result)  # not in the plan, its changes or the report
    assert token not in caplog.text + capsys.readouterr().out
