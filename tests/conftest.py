"""Test set-up: no developer connection, and shared fixtures."""

from __future__ import annotations

import os

# The throwaway AIRFLOW_HOME is set by the provider's own pytest plugin (``wiziq_airflow = true`` in
# pyproject.toml) before this file is loaded; a developer's own connection must not leak into the tests.
os.environ.pop("AIRFLOW_CONN_WIZIQ_DEFAULT", None)

import pytest

from tests.scripted_server import ScriptedServer

pytest_plugins = ["pytester"]  # the pytest plugin's own tests run sessions of a throwaway project


@pytest.fixture
def scripted_server():
    """A real HTTP server on 127.0.0.1 that answers from a script and records what it received."""
    with ScriptedServer() as server:
        yield server
