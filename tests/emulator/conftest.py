"""Shared set-up for the emulator's tests: an emulator on a fixed clock, a signing client, a receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.signing import signed_fields
from airflow_provider_wiziq.emulator.pytest_plugin import pytest_configure, wiziq_emulator
from airflow_provider_wiziq.emulator.server import WizIQEmulator

__all__ = ["pytest_configure", "wiziq_emulator"]

#: A Monday morning, so weekday arithmetic in tests is easy to read.
T0 = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)
LIMITS = PlanLimits(max_class_minutes=300, max_user_per_class=100, max_concurrent_class=5, max_series_classes=60)
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test/secret+key=="  # quote_plus changes it: the signature must use the quoted form


class Api:
    """Signed WizIQ calls over real HTTP, as a plain ``requests`` client would send them."""

    def __init__(self, emulator: WizIQEmulator, session: requests.Session) -> None:
        self.emulator = emulator
        self.session = session

    def signed(
        self,
        method: str,
        fields: Mapping[str, str] | None = None,
        *,
        secret_key: str | None = None,
        timestamp: int | None = None,
    ) -> dict[str, str]:
        auth = signed_fields(
            secret_key=secret_key or self.emulator.secret_key,
            access_key=self.emulator.access_key,
            timestamp=self.emulator.clock.timestamp() if timestamp is None else timestamp,
            method=method,
        )
        return {**(fields or {}), "method": method, **auth}

    def post(self, method: str, path: str = "/apimanager.ashx", **fields: str) -> requests.Response:
        return self.session.post(
            f"{self.emulator.base_url}{path}?method={method}", data=self.signed(method, fields), timeout=10
        )

    def call(self, method: str, **fields: str) -> bytes:
        response = self.post(method, **fields)
        assert response.status_code == 200
        return response.content


def series_fields(**overrides: str) -> dict[str, str]:
    """A valid create_recurring request: three daily classes from tomorrow 10:00 in New York."""
    fields = {
        "title": "Algebra I",
        "start_time": "01/08/2030 10:00",
        "time_zone": "America/New_York",
        "class_repeat_type": "1",
        "class_occurrence": "3",
        "presenter_email": "teacher@example.com",
        "duration": "60",
        "attendee_limit": "30",
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


@pytest.fixture
def emulator() -> Iterator[WizIQEmulator]:
    with WizIQEmulator(
        access_key=ACCESS_KEY, secret_key=SECRET_KEY, limits=LIMITS, clock_start=T0, report_delay=600
    ) as emu:
        yield emu


@pytest.fixture
def api(emulator: WizIQEmulator) -> Iterator[Api]:
    with requests.Session() as session:
        yield Api(emulator, session)


class Receiver:
    """A tiny HTTP server that records the form posts it gets (a class's status_ping_url)."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds each answer waits: a slow receiver
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                parts = urlsplit(self.path)
                with receiver.lock:
                    receiver.received.append(
                        {
                            "path": parts.path,
                            "query": dict(parse_qsl(parts.query)),
                            "form": dict(parse_qsl(body)),
                            "content_type": self.headers.get("Content-Type"),
                        }
                    )
                time.sleep(receiver.delay)
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def statuses(self, class_id: int) -> list[str]:
        with self.lock:
            return [
                str(item["form"]["class_status"])
                for item in self.received
                if item["form"].get("class_id") == str(class_id)
            ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        receiver.thread.join()
