"""The status-ping route, a FastAPI app mounted by :class:`~airflow_provider_wiziq.plugins.WizIQPingPlugin` at
``/wiziq`` in Airflow's api-server (Airflow does not authenticate plugin apps: the token does).

``POST /wiziq/ping?conn_id=<id>&k=<token>`` with WizIQ's form fields (``class_id``, ``class_status``). A good
token records ``class_id`` in the connection's inbox and answers 200 at once; ``class_status`` is never read (a
ping only says "ask WizIQ about this class"). A bad or missing token is 403 and records nothing; until
``[wiziq] ping_secret`` and ``[wiziq] ping_inbox`` are set every route answers 404.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError
from airflow_provider_wiziq.api.rules.wait import parse_class_id
from airflow_provider_wiziq.plugins.inbox import PingInbox, valid_conn_id
from airflow_provider_wiziq.plugins.settings import ping_inbox, ping_secrets
from airflow_provider_wiziq.plugins.signing import CONN_PARAM, TOKEN_PARAM, token_matches

log = logging.getLogger(__name__)

#: A ping is two short form fields; anything much bigger is not WizIQ's.
MAX_BODY_BYTES = 4096


class _TooLarge(Exception):
    pass


def _answer(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _body(request: Request) -> bytes:
    """The request body, refused past ``MAX_BODY_BYTES`` without reading the rest."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app() -> FastAPI:
    """The route's app: no docs, no OpenAPI schema (it is WizIQ's to call, not a user's API)."""
    app = FastAPI(title="WizIQ status pings", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/ping")
    async def ping(request: Request) -> JSONResponse:
        try:
            secrets, inbox_url = ping_secrets(), ping_inbox()
        except WizIQConfigError as error:
            log.error("WizIQ status pings are off: %s", error)
            return _answer(404, "Not Found")
        if not secrets or not inbox_url:
            return _answer(404, "Not Found")
        conn_id = request.query_params.get(CONN_PARAM, "")
        token = request.query_params.get(TOKEN_PARAM, "")
        if not valid_conn_id(conn_id) or not token_matches(token, conn_id, secrets):
            log.warning("Refused a WizIQ status ping for connection %r: bad or missing token", conn_id[:100])
            return _answer(403, "Forbidden")
        try:
            form = parse_qs((await _body(request)).decode("utf-8", "replace"))
        except _TooLarge:
            return _answer(413, f"A status ping is at most {MAX_BODY_BYTES} bytes")
        try:
            class_id = parse_class_id((form.get("class_id") or [""])[0])
        except ValueError:
            return _answer(400, "class_id must be a WizIQ class id")
        try:
            await run_in_threadpool(PingInbox(inbox_url, conn_id).record, class_id)
        except (OSError, ValueError) as error:
            log.error("Could not record a WizIQ status ping for class %s (%r): %s", class_id, conn_id, error)
            return _answer(503, "The ping inbox cannot be written; polling will catch up")
        log.info("WizIQ status ping for class %s (%r) recorded", class_id, conn_id)
        return _answer(200, "recorded")

    return app


__all__ = ["MAX_BODY_BYTES", "create_app"]
