"""Test set-up: no developer connection, and shared fixtures."""

from __future__ import annotations

import os

# The throwaway AIRFLOW_HOME is set by the provider's own pytest plugin (``wiziq_airflow = true`` in
# pyproject.toml) before this file is loaded; a developer's own connection must not leak into the tests.
os.environ.pop("AIRFLOW_CONN_WIZIQ_DEFAULT", None)

import pytest

from tests.scripted_server import ScriptedServer

pytest_plugins = ["pytester"]  # the pytest plugin's own tests run sessions of a throwaway project


def pytest_configure(config):
    """Before Airflow 3.3, Airflow and the dependencies it pins raise deprecation warnings in their own code
    (the standard provider importing through deprecated paths, an older starlette using an anyio alias): not
    the provider's. There, only warnings attributed to the provider's or the tests' code are errors; on 3.3
    and later every warning is."""
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_3_PLUS

    if not AIRFLOW_V_3_3_PLUS:
        for category in ("DeprecationWarning", "PendingDeprecationWarning", "FutureWarning"):
            config.addinivalue_line("filterwarnings", rf"ignore::{category}:(?!airflow_provider_wiziq\b|tests\b)")


@pytest.fixture
def scripted_server():
    """A real HTTP server on 127.0.0.1 that answers from a script and records what it received."""
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def term(wiziq_emulator):
    """A term synced by the engine alone (no Airflow) against the emulator, its ledger in memory: a module that
    means something else by ``term`` defines its own fixture of that name."""
    from tests.support.term import EngineTerm

    engine = EngineTerm(wiziq_emulator)
    yield engine
    engine.close()
