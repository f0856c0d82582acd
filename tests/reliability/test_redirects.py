"""A redirect is never followed, by either client: the host it points to receives nothing, and the call ends
in a permanent error naming the status and that host, never its path, query string or credentials."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wiziq.api.protocol.async_client import AsyncWizIQClient
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from tests.reliability.support import bounded, series_params
from tests.scripted_server import Answer, ScriptedServer

STATUSES = (301, 302, 303, 307, 308)


class Listener:
    """A loopback port that counts every connection made to it (the host a redirect points to)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def elsewhere() -> Iterator[Listener]:
    with Listener() as listener:
        yield listener


def config(url: str) -> ClientConfig:
    return ClientConfig(
        endpoint=url, access_key="ak", secret_key="sk", connect_timeout=1.0, read_timeout=5.0, max_retries=2
    )


def location(port: int) -> str:
    return f"http://user:hunter2@127.0.0.1:{port}/apimanager.ashx?method=create_recurring&signature=SIG"


def sync_create(url: str) -> Any:
    with WizIQClient(config(url)) as client:
        return client.create_recurring(CreateRecurringRequest.from_params(series_params()))


def sync_get_data(url: str) -> Any:
    with WizIQClient(config(url)) as client:
        return client.get_data(class_id=1)


def async_get_data(url: str) -> Any:
    async def run() -> Any:
        async with AsyncWizIQClient(config(url)) as client:
            return await client.get_data(class_id=1)

    return asyncio.run(run())


CALLS = {"sync-create_recurring": sync_create, "sync-get_data": sync_get_data, "async-get_data": async_get_data}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("status", STATUSES)
def test_a_redirect_is_never_followed(scripted_server: ScriptedServer, elsewhere: Listener, call: str, status: int):
    scripted_server.default = Answer(b"", status=status, headers={"Location": location(elsewhere.port)})
    error = bounded(lambda: CALLS[call](scripted_server.url)).raised()
    assert isinstance(error, WizIQConfigError), f"{type(error).__name__}: {error}"
    assert error.transient is False
    assert f"HTTP {status}" in str(error)
    assert f"http://127.0.0.1:{elsewhere.port}" in str(error)
    for hidden in ("hunter2", "user", "SIG", "apimanager", "method="):
        assert hidden not in str(error)
    assert elsewhere.connections == 0
    assert len(scripted_server.received) == 1  # permanent: never sent again


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ({}, "a redirect to nowhere (no Location header)"),
        ({"Location": "/elsewhere?signature=SIG"}, "a redirect to http://127.0.0.1:"),
        ({"Location": "http://[::1/x"}, "a redirect to an unreadable location"),
        ({"Location": "ftp://files.example/x"}, "a redirect to another scheme://files.example"),
    ],
    ids=["no-location", "relative", "unreadable", "other-scheme"],
)
def test_redirect_error_says_where_without_quoting_the_path(scripted_server: ScriptedServer, header, says):
    scripted_server.default = Answer(b"", status=302, headers=header)
    error = bounded(lambda: sync_get_data(scripted_server.url)).raised()
    assert isinstance(error, WizIQConfigError)
    assert says in str(error)
    assert "SIG" not in str(error)
