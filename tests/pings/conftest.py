"""The status-ping route served over real HTTP on 127.0.0.1 (uvicorn, as the api-server serves it), mounted at
``/wiziq`` as Airflow mounts a plugin's app."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest


class RouteServer:
    """``POST http://127.0.0.1:<port>/wiziq/ping`` in a background thread."""

    def __init__(self) -> None:
        import uvicorn
        from fastapi import FastAPI

        from airflow_provider_wiziq.plugins import WizIQPingPlugin

        app = FastAPI()
        (mounted,) = WizIQPingPlugin.fastapi_apps
        app.mount(mounted["url_prefix"], mounted["app"])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", http="h11", ws="none", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="ping-route", daemon=True)

    def __enter__(self) -> RouteServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the ping route did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    @property
    def url(self) -> str:
        """The route's URL, as the connection's ``ping_base_url`` takes it."""
        (server,) = self.server.servers
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/wiziq/ping"


@pytest.fixture
def ping_route() -> Iterator[RouteServer]:
    with RouteServer() as route:
        yield route
