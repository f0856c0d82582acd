"""The synchronous WizIQ client: one keep-alive ``requests.Session``, signed calls, bounded retries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tenacity import Retrying
from urllib3.exceptions import IncompleteRead, NewConnectionError, ReadTimeoutError

from airflow_provider_wiziq import __version__
from airflow_provider_wiziq.api.protocol import calls, responses
from airflow_provider_wiziq.api.protocol.calls import Call, CappedBody, interpret, refuse_redirect, settle_resend
from airflow_provider_wiziq.api.protocol.config import ClientConfig
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQError, WizIQTransportError
from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.retry import may_resend, replaying, retry_arguments

T = TypeVar("T")
log = logging.getLogger(__name__)
USER_AGENT = f"airflow-provider-wiziq/{__version__}"
#: Bytes read from the connection at a time: small beside an answer, which stands whole in one buffer.
_READ_SIZE = 16 * 1024


class WizIQClient:
    """Calls the WizIQ Class API. Thread-safe enough for a pool of worker threads sharing one instance."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 32,
    ) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self.calls = 0  # requests sent, retries included (read for progress; += under the GIL is enough here)
        self._session = session or configure_session(requests.Session(), config, pool_size)
        self._templates: dict[str, requests.PreparedRequest] = {}
        # What requests would otherwise work out again on every call: the session's settings, read once.
        # Redirects are never followed: a signed request goes to the configured endpoint only.
        self._send_options: dict[str, Any] = {
            "timeout": (config.connect_timeout, config.read_timeout),
            "stream": True,
            "allow_redirects": False,
            "verify": self._session.verify,
            "cert": self._session.cert,
            "proxies": self._session.proxies,
        }

    def __enter__(self) -> WizIQClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def execute(self, call: Call[T]) -> T:
        """Send ``call``, sending it again on failures the retry policy allows, and read its answer."""
        started = time.monotonic()
        try:
            return self._attempt(call)
        except WizIQError as error:
            if not may_resend(call.method, error):
                raise
            first = error
        arguments = retry_arguments(self.config, call.method, spent=time.monotonic() - started)

        def attempt(number: int) -> T:
            try:
                return self._attempt(call)
            except WizIQAPIError as error:
                return settle_resend(call, error, number)

        return Retrying(sleep=self._sleep, **arguments)(replaying(first, attempt))

    def _attempt(self, call: Call[T]) -> T:
        started = time.monotonic()
        self.calls += 1
        request = self._prepared(call.method, call.body(self.config, int(self._clock())))
        failure: WizIQTransportError | None = None
        try:
            with self._session.send(request, **self._send_options) as response:
                refuse_redirect(call, response.status_code, response.headers, str(request.url))
                body = CappedBody(call, self.config, response.headers, time.monotonic)
                # read1 hands over bytes as they arrive, so the cap and the deadline are checked as they come
                while chunk := response.raw.read1(_READ_SIZE, decode_content=True):
                    body.feed(chunk)
                status, headers = response.status_code, response.headers
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            failure = _transport_error(call, error, self.config)
        if failure is not None:
            # Raised outside the except block so the library's exception, which holds the signed request,
            # is not kept as this one's __context__.
            raise failure
        if log.isEnabledFor(logging.DEBUG):
            log.debug("WizIQ %s answered HTTP %s in %.3f s", call.method, status, time.monotonic() - started)
        return interpret(call, status, headers, body.value())

    def _prepared(self, method: str, form: dict[str, str]) -> requests.PreparedRequest:
        """The request for one attempt: URL and headers prepared once per method, only the signed body is new."""
        template = self._templates.get(method)
        if template is None:
            url = calls.method_url(self.config, method)
            template = self._templates[method] = self._session.prepare_request(requests.Request("POST", url))
        request = requests.PreparedRequest()
        request.method, request.url, request.hooks = template.method, template.url, template.hooks
        request.headers = template.headers.copy()
        request.prepare_body(form, None)
        return request

    # One method per WizIQ method, named as WizIQ names them.

    def create_recurring(self, request: CreateRecurringRequest) -> responses.RecurringSeries:
        request.validate(limits=self.config.limits)
        return self.execute(calls.create_recurring(request))

    def create(self, request: CreateClassRequest) -> responses.ClassDetails:
        request.validate(limits=self.config.limits)
        return self.execute(calls.create(request))

    def get_data(self, **filters: Any) -> tuple[responses.ClassRecord, ...]:
        return self.execute(calls.get_data(**filters))

    def view_schedule(self, class_master_id: int | str, **paging: Any) -> tuple[responses.ScheduleEntry, ...]:
        return self.execute(calls.view_schedule(class_master_id, **paging))

    def cancel(self, class_id: int | str) -> bool:
        return self.execute(calls.cancel(class_id))

    def modify(self, class_id: int | str, **fields: Any) -> bool:
        return self.execute(calls.modify(class_id, fields))

    def add_attendees(
        self, class_id: int | str, attendees: Iterable[Mapping[str, Any]]
    ) -> responses.AddAttendeesResult:
        return self.execute(calls.add_attendees(class_id, attendees))

    def get_attendance_report(self, class_id: int | str) -> responses.AttendanceReport:
        return self.execute(calls.get_attendance_report(class_id))

    def download_recording(self, class_id: int | str, *, recording_format: str = "zip") -> responses.RecordingDownload:
        return self.execute(calls.download_recording(class_id, recording_format=recording_format))

    def get_account_info(self) -> responses.AccountInfo:
        return self.execute(calls.get_account_info())


def configure_session(session: requests.Session, config: ClientConfig, pool_size: int) -> requests.Session:
    """Set ``session`` up for calling ``config``'s endpoint: a keep-alive pool, no hidden retries, our agent."""
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.auth = config.endpoint_auth()  # the endpoint's user:password@, as requests would send them itself
    # requests reads proxy and CA-bundle settings from the environment on every request, a scan of os.environ
    # that costs more than the rest of a call: read them once, for this client's one endpoint.
    settings = session.merge_environment_settings(config.request_url, {}, None, None, None)
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.cert = settings["cert"]
    session.trust_env = False
    # Redirects are refused (calls.refuse_redirect), never followed or even resolved: requests would parse
    # the Location of a 3xx before handing it over, and raise outside the WizIQError family on a bad one.
    session.resolve_redirects = _no_redirects  # type: ignore[method-assign, assignment]
    return session


def _no_redirects(*args: Any, **kwargs: Any) -> Iterator[requests.Response]:
    return iter(())


def _transport_error(call: Call[Any], error: Exception, config: ClientConfig) -> WizIQTransportError:
    """Name what went wrong without quoting the request (its body holds the signature)."""
    if isinstance(error, requests.ConnectTimeout):
        return WizIQTransportError(f"no connection within {config.connect_timeout:g} s", method=call.method, sent=False)
    if isinstance(error, requests.ReadTimeout) or _caused_by(error, ReadTimeoutError):
        return WizIQTransportError(f"no answer within {config.read_timeout:g} s", method=call.method)
    if isinstance(error, requests.ConnectionError) and _caused_by(error, NewConnectionError):
        return WizIQTransportError("connection refused or host unreachable", method=call.method, sent=False)
    if isinstance(error, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError)) and _caused_by(
        error, IncompleteRead
    ):
        return WizIQTransportError("the answer was cut off before its end", method=call.method)
    return WizIQTransportError(f"connection lost ({type(error).__name__})", method=call.method)


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is among the reasons urllib3 and requests wrapped around each other."""
    seen: list[object] = [error]
    while seen:
        item = seen.pop()
        if isinstance(item, kind):
            return True
        if isinstance(item, BaseException):
            seen.extend(arg for arg in item.args if isinstance(arg, BaseException))
            seen.extend(x for x in (getattr(item, "reason", None), item.__cause__) if x is not None)
    return False
