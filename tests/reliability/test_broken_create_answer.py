"""A create_recurring answer in a codec expat cannot read, served after the series was stored: the series is
found in the same try (one scan of the account) and never booked twice, by the single-series operator (in
dag.test) and the bulk one.

A proxy in front of the emulator rewrites the XML declaration of the first create_recurring answer(s)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.bulk import FakeStore, bulk, execute, series_identities, spec
from tests.support.create import BASE, SERIES, run_create

SHIFT_JIS = b'<?xml version="1.0" encoding="shift_jis"?>'


class SpoilingProxy:
    """Forwards every call to the emulator; the first ``spoil`` create_recurring answers get a shift_jis declaration."""

    def __init__(self, upstream: str, spoil: int) -> None:
        self.spoil = spoil
        self.spoiled = 0
        parts = urlsplit(upstream)
        base = f"{parts.scheme}://{parts.netloc}"
        proxy = self
        session = requests.Session()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                sent = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                answer = session.post(
                    base + self.path, data=sent, headers={"Content-Type": self.headers["Content-Type"]}, timeout=30
                )
                body = answer.content
                if "method=create_recurring" in self.path and proxy.spoiled < proxy.spoil:
                    proxy.spoiled += 1
                    body = SHIFT_JIS + body.split(b"?>", 1)[1] if body.startswith(b"<?xml") else SHIFT_JIS + body
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}{parts.path}"

    def __enter__(self) -> SpoilingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


@pytest.fixture
def spoiling(wiziq_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def start(spoil: int) -> SpoilingProxy:
        proxy = SpoilingProxy(wiziq_emulator.url, spoil).__enter__()
        started.append(proxy)
        monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", json.dumps({**wiziq_emulator.connection, "host": proxy.url}))
        return proxy

    started: list[SpoilingProxy] = []
    try:
        yield start
    finally:
        for proxy in started:
            proxy.__exit__()


def test_single_series_operator_adopts_the_series_in_the_same_try(wiziq_emulator, spoiling):
    proxy = spoiling(1)
    dag_run, ti = run_create("unreadable_codec", retries=2, **{**BASE, **SERIES["daily"]})
    assert proxy.spoiled == 1
    assert dag_run.state == "success"
    assert ti.try_number == 1
    (stored,) = wiziq_emulator.series()
    assert ti.xcom_pull(task_ids="create")["class_master_id"] == stored["class_master_id"]
    assert len(wiziq_emulator.requests("create_recurring")) == 1


def test_bulk_operator_adopts_the_series_in_the_same_try_and_books_nothing_twice(wiziq_emulator, spoiling):
    proxy = spoiling(2)
    specs = [spec(i) for i in range(4)]
    store = FakeStore()
    result, _ = execute(bulk(specs, max_concurrency=1), store=store)
    assert proxy.spoiled == 2
    assert all("error" not in entry for entry in result.values())
    identities = series_identities(wiziq_emulator)
    assert len(identities) == len(set(identities)) == 4
    assert len(wiziq_emulator.requests("create_recurring")) == 4
    execute(bulk(specs, max_concurrency=1), try_number=2, store=store)  # a retry finds every key recorded
    assert len(wiziq_emulator.requests("create_recurring")) == 4
