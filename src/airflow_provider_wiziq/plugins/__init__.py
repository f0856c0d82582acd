"""Status pushed into Airflow: WizIQ's ``status_ping_url`` as a doorbell for the waits, polling as the fallback.

:class:`WizIQPingPlugin` mounts the route (:mod:`.app`) in Airflow's api-server; :func:`ping_url` is the signed URL
the create operators give new classes; the triggerer's pollers read the inbox (:mod:`.inbox`) and ask WizIQ as
soon as a class rings. A ping is never believed: only WizIQ's ``get_data`` answer ends a wait. docs/sensor.md
and docs/deployment.md say how to turn it on.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowPlugin

#: Where the route's app is mounted in the api-server.
URL_PREFIX = "/wiziq"


class _PingApp:
    """The route's ASGI app, built on the first request: FastAPI takes about a second to import, and every Airflow
    process that loads plugins imports this module, most of them never to serve a request."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from airflow_provider_wiziq.plugins.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class WizIQPingPlugin(AirflowPlugin):
    """Mounts ``POST /wiziq/ping`` in the api-server (answering 404 until ``[wiziq] ping_secret`` and
    ``[wiziq] ping_inbox`` are set)."""

    name = "wiziq_status_pings"
    fastapi_apps = [{"app": _PingApp(), "url_prefix": URL_PREFIX, "name": "WizIQ status pings"}]


def ping_url(conn_id: str = "wiziq_default") -> str:
    """The signed ``status_ping_url`` for classes of connection ``conn_id``: its ``ping_base_url`` extra with the
    connection id and its token under ``[wiziq] ping_secret``. A missing extra or secret is a config error."""
    from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook
    from airflow_provider_wiziq.plugins.settings import ping_secrets

    hook = WizIQHook(wiziq_conn_id=conn_id)
    if not hook.ping_base_url:
        raise WizIQConfigError(f"The WizIQ connection {conn_id!r} has no ping_base_url extra.")
    if not ping_secrets():
        raise WizIQConfigError("The Airflow option [wiziq] ping_secret is not set.")
    url = hook.status_ping_url()
    assert url is not None
    return url


__all__ = ["URL_PREFIX", "WizIQPingPlugin", "ping_url"]
