"""Test set-up: a throwaway AIRFLOW_HOME before Airflow is first imported, and shared fixtures."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_HOME = tempfile.mkdtemp(prefix="wiziq-airflow-home-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(_HOME) / "dags")
(Path(_HOME) / "dags").mkdir()
os.environ.pop("AIRFLOW_CONN_WIZIQ_DEFAULT", None)

import pytest  # noqa: E402

from tests.scripted_server import ScriptedServer  # noqa: E402


@pytest.fixture
def scripted_server():
    """A real HTTP server on 127.0.0.1 that answers from a script and records what it received."""
    with ScriptedServer() as server:
        yield server
