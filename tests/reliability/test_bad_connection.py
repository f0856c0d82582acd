"""Bad connection data fails at the first call with a clear error, before any request leaves the machine.

For the hook (a network guard records every DNS lookup and connect), and for the create operator and the
status sensor in ``dag.test()`` (the task fails on try 1, its retries unused, naming the problem).
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError
from airflow_provider_wiziq.hooks.wiziq import WizIQHook
from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassOperator
from airflow_provider_wiziq.sensors.wiziq import WizIQClassStatusSensor
from tests.dagtest import run_dag, task_instances
from tests.reliability.support import FAST_EXTRAS, bounded, series_params
from tests.reliability.tables import BAD_CONNECTIONS, REMOTE
from tests.scripted_server import ScriptedServer

CONN_ID = "wiziq_bad_connection"
SECRET = "bad-connection-secret"


def bad_connection(name: str, url: str, port: int) -> dict[str, Any]:
    """The connection fields of case ``name`` (tables.BAD_CONNECTIONS); ``url``/``port``: a live loopback server."""
    keyed = {"login": "ak", "password": SECRET}
    return {
        "no_secret": {"host": url, "login": "ak", "password": ""},
        "no_secret_at_all": {"host": url, "login": "ak"},
        "not_http": {"host": f"ftp://127.0.0.1:{port}/apimanager.ashx", **keyed},
        "no_host": {"host": "http:///apimanager.ashx", **keyed},
        "plain_http_remote": {"host": f"http://{REMOTE}/apimanager.ashx", **keyed},
        "port_not_a_number": {"host": "http://127.0.0.1:port/apimanager.ashx", **keyed},
        "broken_ipv6": {"host": "http://[::1/apimanager.ashx", **keyed},
        "space_in_host": {"host": f"https://{REMOTE} /apimanager.ashx", **keyed},
        "scheme_without_colon": {"host": f"http//127.0.0.1:{port}/apimanager.ashx", **keyed},
    }[name]


#: The cases the operator and sensor runs cover (one of each kind of problem, plus the known gaps).
DAG_CASES = ["no_secret", "not_http", "plain_http_remote", "port_not_a_number", "broken_ipv6"]


def case_params(names: list[str]) -> list[Any]:
    params = []
    for name in names:
        gap = BAD_CONNECTIONS[name].gap
        params.append(pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=gap)] if gap else []))
    return params


class NetworkGuard:
    """Records every DNS lookup and outgoing connect; refuses any that is not to loopback."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.connects: list[Any] = []

    def leaving(self) -> list[Any]:
        return [host for host in self.lookups if not _loopback(host)] + [
            address for address in self.connects if not _loopback(address[0])
        ]


def _loopback(host: Any) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


@pytest.fixture
def network_guard(monkeypatch) -> NetworkGuard:
    guard = NetworkGuard()
    real_lookup, real_connect = socket.getaddrinfo, socket.socket.connect

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.lookups.append(host)
        if not _loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, "network guard: no lookups leave this test")
        return real_lookup(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        guard.connects.append(address)
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise OSError("network guard: no connection leaves this test")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return guard


def set_connection(monkeypatch, fields: dict[str, Any]) -> None:
    """The bad connection, failing fast where it is not refused (a known gap must not cost minutes)."""
    extra = {**FAST_EXTRAS, "max_retries": 0}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps({"conn_type": "wiziq", "extra": extra, **fields}))


HOOK_CALLS: dict[str, Callable[[WizIQHook], Any]] = {
    "get_account_info": lambda hook: hook.get_account_info(),
    "get_data": lambda hook: hook.get_data(class_id=15001),
    "create_recurring": lambda hook: hook.create_recurring(**series_params()),
}


@pytest.mark.parametrize("call", sorted(HOOK_CALLS))
@pytest.mark.parametrize("case", case_params(list(BAD_CONNECTIONS)))
def test_hook_refuses_bad_connection_data_before_any_request(
    scripted_server: ScriptedServer, network_guard: NetworkGuard, monkeypatch, case: str, call: str
):
    port = int(scripted_server.url.split(":")[2].split("/")[0])
    set_connection(monkeypatch, bad_connection(case, scripted_server.url, port))
    words = BAD_CONNECTIONS[case].says
    hook = WizIQHook(wiziq_conn_id=CONN_ID)
    try:
        error = bounded(lambda: HOOK_CALLS[call](hook)).raised()
    finally:
        hook.close()
    assert isinstance(error, WizIQConfigError), f"{type(error).__name__}: {error}"
    assert words in str(error)
    assert SECRET not in str(error)
    assert scripted_server.received == [], "a request reached the server"
    assert network_guard.leaving() == [], "a lookup or connection left the machine"


# ---------------------------------------------------------------------------------------------------------
# The same in dag.test(): the operator and the sensor
# ---------------------------------------------------------------------------------------------------------


def _run_failing_task(dag_id: str, task: Callable[[], Any], capfd, caplog) -> tuple[Any, Any, str]:
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        task()
    capfd.readouterr()
    dag_run = run_dag(dag)
    captured = capfd.readouterr()
    return dag_run, task_instances(dag_run)["step"], captured.out + captured.err + caplog.text


TASKS: dict[str, Callable[[], Any]] = {
    "operator": lambda: CreateRecurringClassOperator(
        task_id="step", wiziq_conn_id=CONN_ID, retries=2, retry_delay=timedelta(0), **series_params()
    ),
    "sensor": lambda: WizIQClassStatusSensor(
        task_id="step",
        class_id=15001,
        wiziq_conn_id=CONN_ID,
        retries=2,
        retry_delay=timedelta(0),
        poke_interval=0.05,
        timeout=20,
        max_consecutive_errors=1,
    ),
    "deferrable_sensor": lambda: WizIQClassStatusSensor(
        task_id="step",
        class_id=15001,
        wiziq_conn_id=CONN_ID,
        retries=2,
        retry_delay=timedelta(0),
        poke_interval=0.05,
        timeout=20,
        max_consecutive_errors=1,
        deferrable=True,
    ),
}


@pytest.mark.parametrize("kind", sorted(TASKS))
@pytest.mark.parametrize("case", case_params(DAG_CASES))
def test_task_with_bad_connection_fails_on_try_one_with_the_message(
    scripted_server: ScriptedServer, monkeypatch, capfd, caplog, case: str, kind: str
):
    port = int(scripted_server.url.split(":")[2].split("/")[0])
    set_connection(monkeypatch, bad_connection(case, scripted_server.url, port))
    words = BAD_CONNECTIONS[case].says
    dag_run, ti, output = _run_failing_task(f"bad_connection_{kind}_{case}", TASKS[kind], capfd, caplog)
    assert dag_run.state == "failed"
    assert (ti.state, ti.try_number) == ("failed", 1), "the task was retried: the error was not permanent"
    assert words in output, "the task log does not name the problem"
    assert scripted_server.received == []
