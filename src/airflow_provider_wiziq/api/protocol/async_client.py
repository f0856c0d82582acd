"""The asynchronous WizIQ client for triggers: ``httpx.AsyncClient``, the same calls and retry policy."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying

from airflow_provider_wiziq.api.protocol import calls, responses
from airflow_provider_wiziq.api.protocol.calls import Call, CappedBody, interpret, refuse_redirect, settle_resend
from airflow_provider_wiziq.api.protocol.client import USER_AGENT
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQError, WizIQTransportError
from airflow_provider_wiziq.api.protocol.retry import may_resend, replaying, retry_arguments

T = TypeVar("T")
log = logging.getLogger(__name__)

#: httpx errors raised before a request could reach the server: safe to send again whatever the method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class AsyncWizIQClient:
    """Calls the WizIQ Class API from an event loop. Create it inside the loop that uses it.

    Its ``pool_size`` keep-alive connections are each an ``httpx.AsyncClient`` of one connection, lent to
    one request at a time and made when first needed: httpx's own pool checks every idle connection (a
    socket poll through anyio) whenever a request starts or ends, which with ten requests in flight cost
    more than sending them. A request finding every connection busy waits for one to come back (each
    request's own deadlines bound that wait). A ``client`` given is used for every request instead.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pool_size: int = 32,
    ) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._shared = client
        self._connections: list[httpx.AsyncClient] = []  # every one made, to close them all
        self._idle: list[httpx.AsyncClient] = []
        self._free = asyncio.Semaphore(pool_size)
        self._tls: ssl.SSLContext | None = None  # httpx's default context, made once for every connection

    async def __aenter__(self) -> AsyncWizIQClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._shared is not None:
            await self._shared.aclose()
        connections, self._connections, self._idle = self._connections, [], []
        for connection in connections:
            await connection.aclose()

    def _connection(self) -> httpx.AsyncClient:
        """An idle connection, or a new one (the caller holds one of the ``pool_size`` places)."""
        if self._idle:
            return self._idle.pop()
        if self._tls is None:  # each client would otherwise load the CA bundle again
            self._tls = httpx.create_ssl_context()
        connection = httpx.AsyncClient(
            verify=self._tls,
            timeout=httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"User-Agent": USER_AGENT},
            auth=self.config.endpoint_auth(),  # the endpoint's user:password@, as httpx would send them itself
        )
        self._connections.append(connection)
        return connection

    async def execute(self, call: Call[T]) -> T:
        """Send ``call``, sending it again on failures the retry policy allows, and read its answer."""
        started = time.monotonic()
        try:
            return await self._attempt(call)
        except WizIQError as error:
            if not may_resend(call.method, error):
                raise
            first = error
        arguments = retry_arguments(self.config, call.method, spent=time.monotonic() - started)

        async def attempt(number: int) -> T:
            try:
                return await self._attempt(call)
            except WizIQAPIError as error:
                return settle_resend(call, error, number)

        again = replaying(first, attempt)

        async def resend() -> T:  # tenacity awaits only what is a coroutine function
            return await again()

        return await AsyncRetrying(sleep=self._sleep, **arguments)(resend)

    async def _attempt(self, call: Call[T]) -> T:
        if self._shared is not None:
            return await self._send(self._shared, call)
        async with self._free:
            connection = self._connection()
            try:
                return await self._send(connection, call)
            finally:
                if connection in self._connections:  # not closed meanwhile
                    self._idle.append(connection)

    async def _send(self, connection: httpx.AsyncClient, call: Call[T]) -> T:
        form = call.body(self.config, int(self._clock()))
        failure: WizIQTransportError | None = None
        url = call.url(self.config)
        try:
            async with connection.stream("POST", url, data=form, follow_redirects=False) as response:
                refuse_redirect(call, response.status_code, response.headers, url)
                body = CappedBody(call, self.config, response.headers, time.monotonic)
                async for chunk in response.aiter_bytes():
                    body.feed(chunk)
                status, headers = response.status_code, response.headers
        except httpx.HTTPError as error:
            failure = _transport_error(call, error, self.config)
        if failure is not None:
            raise failure  # outside the except block: httpx's exception holds the signed request
        return interpret(call, status, headers, body.value())

    async def get_data(self, **filters: Any) -> tuple[responses.ClassRecord, ...]:
        return await self.execute(calls.get_data(**filters))

    async def view_schedule(self, class_master_id: int | str, **paging: Any) -> tuple[responses.ScheduleEntry, ...]:
        return await self.execute(calls.view_schedule(class_master_id, **paging))

    async def get_account_info(self) -> responses.AccountInfo:
        return await self.execute(calls.get_account_info())

    async def get_attendance_report(self, class_id: int | str) -> responses.AttendanceReport:
        return await self.execute(calls.get_attendance_report(class_id))


def _transport_error(call: Call[Any], error: httpx.HTTPError, config: ClientConfig) -> WizIQTransportError:
    """Name what went wrong without quoting the request (its body holds the signature)."""
    if isinstance(error, httpx.ConnectTimeout):
        return WizIQTransportError(f"no connection within {config.connect_timeout:g} s", method=call.method, sent=False)
    if isinstance(error, _NOT_SENT):
        return WizIQTransportError("connection refused or host unreachable", method=call.method, sent=False)
    if isinstance(error, httpx.ReadTimeout):
        return WizIQTransportError(f"no answer within {config.read_timeout:g} s", method=call.method)
    if isinstance(error, httpx.RemoteProtocolError):
        return WizIQTransportError("the connection closed before the answer ended", method=call.method)
    return WizIQTransportError(f"connection lost ({type(error).__name__})", method=call.method)
