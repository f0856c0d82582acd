"""The WizIQ emulator in its own process, for benchmarks: its CPU is not the measured client's, and is measured.

``python -m airflow_provider_wiziq.emulator --port 0`` prints its URL first; this reads it, steers the emulator
through its control API, and reads the process's CPU time (psutil), so a benchmark can show the emulator was
not the bottleneck it measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

import psutil
import requests

from airflow_provider_wiziq.emulator.config import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY


def quiet_airflow_home() -> None:
    """A throwaway AIRFLOW_HOME (a benchmark never writes into ~/airflow), and only Airflow's error logs.

    Call it before Airflow is first imported: Airflow reads both when it configures itself.
    """
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="wiziq-bench-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")


def quiet_logs() -> None:
    """Only errors from standard-library loggers too (the emulator's and the client's)."""
    import logging

    logging.disable(logging.WARNING)


class EmulatorProcess:
    """``with EmulatorProcess(latency=0.05) as emu:`` a running emulator; ``emu.connection`` is its connection."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "airflow_provider_wiziq.emulator", "--port", "0", "--log-level", "WARNING"]
        command += ["--latency", str(self.latency)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        first = self._process.stdout.readline().strip()
        if "listening on " not in first:
            self.__exit__()
            raise RuntimeError(f"the emulator did not start: {first!r}")
        self.url = first.split("listening on ", 1)[1]
        self._http = requests.Session()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # never leave it running
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    @property
    def control_url(self) -> str:
        return self.url.rsplit("/", 1)[0] + "/_emulator"

    @property
    def connection(self) -> dict[str, str]:
        """An Airflow connection (type ``wiziq``) to this emulator; it holds the (emulator's) secret key."""
        return {"conn_type": "wiziq", "host": self.url, "login": DEFAULT_ACCESS_KEY, "password": DEFAULT_SECRET_KEY}

    def use_as_default_connection(self) -> None:
        import json

        os.environ["AIRFLOW_CONN_WIZIQ_DEFAULT"] = json.dumps(self.connection)

    def cpu_seconds(self) -> float:
        """User + system CPU time the emulator process has used so far."""
        assert self._process is not None
        times = psutil.Process(self._process.pid).cpu_times()
        return times.user + times.system

    def control(self, verb: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(verb, f"{self.control_url}/{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def set_latency(self, seconds: float) -> None:
        self.control("POST", "latency", {"seconds": seconds})

    def reset(self) -> None:
        """No classes, faults or recorded calls; the latency is kept."""
        latency = self.control("GET", "latency")["seconds"]
        self.control("POST", "reset")
        self.set_latency(latency)

    def api_calls(self, method: str) -> int:
        """How many calls of ``method`` the emulator has received (since its start or last reset)."""
        return len(self.control("GET", f"requests?method={method}")["requests"])
