"""Provider discovery: the metadata validates against Airflow's own schema and the CLI lists the provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from airflow_provider_wiziq.get_provider_info import get_provider_info


def airflow_schema() -> dict:
    import airflow

    return json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())


def test_provider_info_validates_against_airflows_schema():
    jsonschema.validate(get_provider_info(), airflow_schema())


def test_package_name_is_the_distribution_name():
    from importlib.metadata import distribution

    assert get_provider_info()["package-name"] == distribution("airflow-provider-wiziq").metadata["Name"]


def test_connection_form_metadata():
    (conn_type,) = get_provider_info()["connection-types"]
    assert conn_type["connection-type"] == "wiziq"
    assert conn_type["hook-class-name"] == "airflow_provider_wiziq.hooks.wiziq.WizIQHook"
    behaviour = conn_type["ui-field-behaviour"]
    assert behaviour["hidden-fields"] == ["schema", "port"]
    assert behaviour["relabeling"] == {
        "host": "API endpoint URL",
        "login": "Access key",
        "password": "Secret key",
    }
    assert behaviour["placeholders"]["host"] == "https://class.api.wiziq.com/apimanager.ashx"


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__CORE__UNIT_TEST_MODE"}
    return {**env, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["providers", "list", "-o", "json"], "airflow-provider-wiziq"),
        (["providers", "hooks", "-o", "json"], "wiziq"),
    ],
)
def test_airflow_cli_discovers_the_provider(cli_env, command, expected):
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), *command], env=cli_env, capture_output=True, text=True, timeout=120, check=True
    )
    entries = json.loads(result.stdout[result.stdout.index("[") :])
    assert any(expected in json.dumps(entry) for entry in entries)
    if command[1] == "hooks":
        (ours,) = [e for e in entries if e.get("connection_type") == "wiziq"]
        assert ours["class"] == "airflow_provider_wiziq.hooks.wiziq.WizIQHook"
