"""The two ways to run the emulator: ``python -m`` and the ``wiziq_emulator`` pytest fixture."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.request import START_GRACE
from airflow_provider_wiziq.api.protocol.signing import signed_fields
from airflow_provider_wiziq.emulator.server import WizIQEmulator
from tests.emulator.conftest import T0, Api, series_fields

SRC = str(Path(__file__).resolve().parents[2] / "src")


def start_cli(*args: str, ignoring: tuple[int, ...] = ()) -> subprocess.Popen[str]:
    """The emulator command, started as a shell's background job would be when ``ignoring`` holds signals the
    child inherits as ignored (a non-interactive shell starts ``cmd &`` with SIGINT ignored)."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def inherit_ignored() -> None:
        for signum in ignoring:
            signal.signal(signum, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_wiziq.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=inherit_ignored if ignoring else None,
    )


def first_lines(process: subprocess.Popen[str], count: int = 3) -> list[str]:
    assert process.stdout is not None
    return [process.stdout.readline() for _ in range(count)]


def stop_cli(process: subprocess.Popen[str], signum: int) -> tuple[int | None, str, str]:
    """Send ``signum`` and collect the output; a process still running after a generous wait is killed (never
    leaked), and its return code is then None."""
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return None, out, err
    return process.returncode, out, err


@pytest.mark.parametrize("inherited_ignored", [False, True], ids=["plain", "background-job"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_command_line_server(signum, inherited_ignored, tmp_path):
    process = start_cli(
        "--access-key",
        "K",
        "--secret-key",
        "S",
        "--max-class-minutes",
        "90",
        "--db",
        str(tmp_path / "demo.sqlite"),
        "--log-level",
        "WARNING",
        ignoring=(signal.SIGINT, signal.SIGTERM) if inherited_ignored else (),
    )
    returncode, out = None, ""
    try:
        lines = first_lines(process)
        assert lines[0].startswith("WizIQ emulator listening on http://127.0.0.1:")
        url = lines[0].split()[-1]
        assert url.endswith("/apimanager.ashx")
        assert lines[1].strip() == f"Control API: {url.rsplit('/', 1)[0]}/_emulator/"
        exported = lines[2].strip()
        assert exported.startswith("export AIRFLOW_CONN_WIZIQ_DEFAULT='")
        connection = json.loads(exported.split("=", 1)[1].strip("'"))
        assert connection == {"conn_type": "wiziq", "host": url, "login": "K", "password": "S"}
        fields = {
            "method": "get_account_info",
            **signed_fields(secret_key="S", access_key="K", timestamp=int(time.time()), method="get_account_info"),
        }
        info = responses.parse_account_info(
            requests.post(f"{url}?method=get_account_info", data=fields, timeout=30).content
        )
        assert info.fields["max_class_minutes"] == "90"
    finally:
        returncode, out, err = stop_cli(process, signum)
    assert returncode == 0, f"the emulator did not stop on {signal.Signals(signum).name}: {err}"
    assert "WizIQ emulator stopping" in out
    assert (tmp_path / "demo.sqlite").exists()


def test_fixture_sets_the_airflow_connection(wiziq_emulator):
    assert wiziq_emulator.running
    connection = json.loads(os.environ["AIRFLOW_CONN_WIZIQ_DEFAULT"])
    assert connection == {
        "conn_type": "wiziq",
        "host": wiziq_emulator.url,
        "login": wiziq_emulator.access_key,
        "password": wiziq_emulator.secret_key,
    }


def test_connection_uri_reads_back_in_airflow(wiziq_emulator):
    sdk = pytest.importorskip("airflow.sdk")
    connection = sdk.Connection.from_uri(wiziq_emulator.connection_uri, conn_id="wiziq_default")
    assert (connection.conn_type, connection.host) == ("wiziq", wiziq_emulator.url)
    assert (connection.login, connection.password) == (wiziq_emulator.access_key, wiziq_emulator.secret_key)


def test_port_in_use_is_a_clear_error(wiziq_emulator):
    env = {**os.environ, "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "airflow_provider_wiziq.emulator", "--port", str(wiziq_emulator.port)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=20)
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1" in done.stderr


@pytest.mark.wiziq_emulator(limits=PlanLimits(max_class_minutes=30), access_key="ak", secret_key="sk")
def test_fixture_takes_options_from_its_marker(wiziq_emulator):
    assert wiziq_emulator.access_key == "ak"
    with requests.Session() as session:
        api = Api(wiziq_emulator, session)
        body = api.call("create_recurring", **series_fields(start_time="01/08/2099 10:00", duration="45"))
    assert b'code="1010"' in body and b"cannot exceed 30 minutes" in body


def test_the_hook_client_works_against_it(wiziq_emulator):
    """The provider's own client, configured the way the hook configures it from the connection."""
    from airflow_provider_wiziq.api.protocol.client import WizIQClient
    from airflow_provider_wiziq.api.protocol.config import config_from_connection
    from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest

    connection = json.loads(os.environ["AIRFLOW_CONN_WIZIQ_DEFAULT"])
    config = config_from_connection(host=connection["host"], login=connection["login"], password=connection["password"])
    with WizIQClient(config) as client:
        assert client.get_account_info().fields["plan"] == "emulator"
        series = client.create_recurring(
            CreateRecurringRequest.from_params(series_fields(start_time="01/08/2099 10:00"))
        )
        records = client.get_data(class_master_id=series.class_master_id)
    assert len(records) == 3


def test_module_import_is_light():
    """Importing the package or the plugin starts nothing and imports no server code."""
    code = (
        "import sys, threading\n"
        "import airflow_provider_wiziq.emulator, airflow_provider_wiziq.emulator.pytest_plugin\n"
        "print(threading.active_count(), 'airflow_provider_wiziq.emulator.server' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["1", "False"]


def test_not_running_has_no_url():
    emulator = WizIQEmulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.url
    emulator.stop()


def test_the_airflow_hook_reads_the_fixtures_connection(wiziq_emulator):
    """The docs' example: WizIQHook() with no arguments talks to the emulator."""
    pytest.importorskip("airflow.sdk")
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    hook = WizIQHook()
    try:
        series = hook.create_recurring(
            title="Algebra I",
            start_time="2099-01-08T10:00",
            time_zone="America/New_York",
            class_repeat_type=1,
            class_occurrence=3,
            presenter_email="teacher@example.com",
        )
    finally:
        hook.close()
    assert len(wiziq_emulator.classes(series.class_master_id)) == 3
    assert wiziq_emulator.requests("create_recurring")[0]["fields"]["title"] == "Algebra I"


def test_out_of_the_box_the_plan_is_a_realistic_one():
    """No limits given: 300-minute classes of up to 100 attendees, any number at once (docs/emulator.md)."""
    with WizIQEmulator(clock_start=T0) as emulator, requests.Session() as session:
        api = Api(emulator, session)
        info = responses.parse_account_info(api.call("get_account_info"))
        assert (info.fields["max_class_minutes"], info.fields["max_user_per_class"]) == ("300", "100")
        for overrides, code, message in [
            ({"duration": "100000"}, 1010, "duration parameter cannot exceed 300 minutes."),
            ({"attendee_limit": "100000000"}, 1011, "attendee_limit parameter cannot exceed 100 attendees."),
        ]:
            with pytest.raises(WizIQAPIError) as caught:
                responses.parse_create_recurring(api.call("create_recurring", **series_fields(**overrides)))
            assert (caught.value.code, caught.value.message) == (code, message)
        # The most the plan allows, and many classes at once (MaxConcurrentClass is not set).
        for number in range(3):
            api.call(
                "create_recurring",
                **series_fields(duration="300", attendee_limit="100", presenter_email=f"t{number}@example.com"),
            )
        assert len(emulator.classes()) == 9
    with WizIQEmulator(limits=PlanLimits()) as unlimited:  # still overridable: no limits at all
        assert unlimited.limits.max_class_minutes is None and unlimited.limits.max_user_per_class is None


def test_the_command_line_server_has_the_default_plan_and_can_lift_it():
    for args, expected, grace in [
        ((), ("300", "100"), START_GRACE.total_seconds()),
        (("--max-class-minutes", "none", "--max-user-per-class", "500", "--start-grace", "60"), ("", "500"), 60),
    ]:
        process = start_cli("--log-level", "WARNING", *args)
        try:
            url, control = (line.split()[-1] for line in first_lines(process)[:2])
            assert requests.get(f"{control}config", timeout=30).json()["start_grace"] == grace
            fields = {
                "method": "get_account_info",
                **signed_fields(
                    secret_key=WizIQEmulator().secret_key,
                    access_key=WizIQEmulator().access_key,
                    timestamp=int(time.time()),
                    method="get_account_info",
                ),
            }
            info = responses.parse_account_info(
                requests.post(f"{url}?method=get_account_info", data=fields, timeout=30).content
            )
        finally:
            returncode, _, err = stop_cli(process, signal.SIGTERM)
        assert returncode == 0, err
        assert (info.fields["max_class_minutes"], info.fields["max_user_per_class"]) == expected
