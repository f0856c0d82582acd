"""``WizIQHook``: an Airflow connection of type ``wiziq`` turned into a configured WizIQ client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_wiziq._compat import BaseHook

if TYPE_CHECKING:
    from airflow_provider_wiziq.api.engine.provision import SeriesMaker
    from airflow_provider_wiziq.api.protocol import responses
    from airflow_provider_wiziq.api.protocol.async_client import AsyncWizIQClient
    from airflow_provider_wiziq.api.protocol.client import WizIQClient
    from airflow_provider_wiziq.api.protocol.config import ClientConfig
    from airflow_provider_wiziq.api.protocol.limits import PlanLimits
    from airflow_provider_wiziq.api.protocol.ratelimit import TokenBucket
    from airflow_provider_wiziq.api.protocol.request import CreateClassRequest, CreateRecurringRequest

# The client stack (requests, dateutil, defusedxml) is imported on first use, not with this module, so that
# parsing a DAG file that names the hook or its operators stays cheap.


class WizIQHook(BaseHook):
    """Signed calls to the WizIQ Class API, one method per API method, from connection ``wiziq_conn_id``.

    The connection's host is the endpoint URL (empty means WizIQ's own), its login the access key and its
    password the secret key; extras tune timeouts, retries and the plan's limits (see the README).
    Nothing the hook logs, returns or raises holds the secret key or a signature.
    """

    conn_name_attr = "wiziq_conn_id"
    default_conn_name = "wiziq_default"
    conn_type = "wiziq"
    hook_name = "WizIQ"

    def __init__(self, wiziq_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wiziq_conn_id = wiziq_conn_id

    @cached_property
    def config(self) -> ClientConfig:
        """The connection read and checked; a bad one raises :class:`WizIQConfigError` before any request.

        Airflow masks the connection's password (the secret key) in logs; a password or a token in the host
        URL (``https://user:password@host/...``) is registered with the masker here too.
        """
        from airflow_provider_wiziq._compat import mask_secret
        from airflow_provider_wiziq.api.protocol.config import config_from_airflow_connection

        config = config_from_airflow_connection(self.get_connection(self.wiziq_conn_id))
        for secret in config.endpoint_secrets():
            mask_secret(secret)
        return config

    @cached_property
    def client(self) -> WizIQClient:
        from airflow_provider_wiziq.api.protocol.client import WizIQClient

        return WizIQClient(self.config)

    @property
    def limits(self) -> PlanLimits:
        """The plan's limits from the connection's extras, for checking requests before anything is sent."""
        return self.config.limits

    def get_conn(self) -> WizIQClient:
        return self.client

    def rate_limited_client(self, bucket: TokenBucket, *, pool_size: int) -> WizIQClient:
        """A new client whose every request first takes a token from ``bucket`` (shared by the caller's
        threads; a 429 pauses them all), with ``pool_size`` keep-alive connections. The caller closes it."""
        from airflow_provider_wiziq.api.protocol.client import WizIQClient, configure_session
        from airflow_provider_wiziq.api.protocol.ratelimit import RateLimitedSession

        session = configure_session(RateLimitedSession(bucket), self.config, pool_size)
        return WizIQClient(self.config, session=session)

    async def get_async_client(self) -> AsyncWizIQClient:
        """A new async client for triggers, the connection read without blocking the event loop (and without
        the supervisor deadlock Airflow before 3.3.2 risks there). The caller closes it (``aclose``)."""
        from airflow_provider_wiziq._compat import amask_secret, get_async_connection
        from airflow_provider_wiziq.api.protocol.async_client import AsyncWizIQClient
        from airflow_provider_wiziq.api.protocol.config import config_from_airflow_connection

        connection = await get_async_connection(self.wiziq_conn_id, hook=self)
        config = config_from_airflow_connection(connection)
        for secret in config.endpoint_secrets():
            await amask_secret(secret)
        return AsyncWizIQClient(config)

    @property
    def ping_base_url(self) -> str | None:
        """The connection's ``ping_base_url`` extra: the public URL of the status-ping route (no token)."""
        return self.config.ping_base_url

    def status_ping_url(self) -> str | None:
        """The ``status_ping_url`` to give the classes made through this connection: the connection's
        ``ping_base_url`` extra signed for it under ``[wiziq] ping_secret`` (the provider's status-ping route,
        :mod:`airflow_provider_wiziq.plugins`); None when the extra or the secret is not set.

        The URL holds a token: it is registered with Airflow's secrets masker, and is for WizIQ's request only
        (never for a log line, XCom or rendered field).
        """
        base_url = self.ping_base_url
        if not base_url:
            return None
        from airflow_provider_wiziq.plugins.settings import ping_secrets
        from airflow_provider_wiziq.plugins.signing import ping_token, signed_ping_url

        secrets = ping_secrets()
        if not secrets:
            self.log.warning(
                "The WizIQ connection %r has a ping_base_url, but the Airflow option [wiziq] ping_secret is not "
                "set here: its classes get no status_ping_url (their waits poll)",
                self.wiziq_conn_id,
            )
            return None
        _mask(ping_token(secrets[0], self.wiziq_conn_id))
        return signed_ping_url(base_url, self.wiziq_conn_id, secrets[0])

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    def create_recurring(
        self, request: CreateRecurringRequest | None = None, /, **params: Any
    ) -> responses.RecurringSeries:
        """Schedule a recurring series, from a request or from ``create_recurring``'s parameters by name."""
        from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest

        return self.client.create_recurring(request or CreateRecurringRequest.from_params(params))

    def create(self, request: CreateClassRequest | None = None, /, **params: Any) -> responses.ClassDetails:
        """Schedule one class."""
        from airflow_provider_wiziq.api.protocol.request import CreateClassRequest

        return self.client.create(request or CreateClassRequest.from_params(params))

    def get_data(self, **filters: Any) -> tuple[responses.ClassRecord, ...]:
        """Class records by ``class_id``, ``class_master_id`` or ``multiple_class_id`` (or all, paged)."""
        return self.client.get_data(**filters)

    def view_schedule(self, class_master_id: int | str, **paging: Any) -> tuple[responses.ScheduleEntry, ...]:
        """Every class of a recurring series."""
        return self.client.view_schedule(class_master_id, **paging)

    def read_schedule(self, class_master_id: int) -> tuple[responses.ScheduleEntry, ...]:
        """Every class of a recurring series, in order (``view_schedule`` read page by page)."""
        from airflow_provider_wiziq.api.engine.reconcile import read_schedule

        return read_schedule(self.client, class_master_id)

    def series_maker(self) -> SeriesMaker:
        """Series lookup and create-once (:class:`~airflow_provider_wiziq.api.engine.provision.SeriesMaker`) over this
        hook's client: how a retried create finds the series its lost answer made before sending again."""
        from airflow_provider_wiziq.api.engine.provision import SeriesMaker

        return SeriesMaker(self.client)

    def cancel(self, class_id: int | str) -> bool:
        return self.client.cancel(class_id)

    def modify(self, class_id: int | str, **fields: Any) -> bool:
        return self.client.modify(class_id, **fields)

    def add_attendees(
        self, class_id: int | str, attendees: Iterable[Mapping[str, Any]]
    ) -> responses.AddAttendeesResult:
        """Enroll attendees (``attendee_id``, ``screen_name``, optional ``language_culture_name``)."""
        return self.client.add_attendees(class_id, attendees)

    def get_attendance_report(self, class_id: int | str) -> responses.AttendanceReport:
        return self.client.get_attendance_report(class_id)

    def download_recording(self, class_id: int | str, *, recording_format: str = "zip") -> responses.RecordingDownload:
        """Ask for a held class's recording as a download (``zip``, or ``exe``: WizIQ's Windows player with it).

        The answer says whether the class has a recording (``status``) and gives ``status_xml_path``, a document
        that says when the package is ready and where it is (``responses.parse_recording_status`` reads it).
        """
        return self.client.download_recording(class_id, recording_format=recording_format)

    def get_account_info(self) -> responses.AccountInfo:
        return self.client.get_account_info()

    def test_connection(self) -> tuple[bool, str]:
        """Check the keys with ``get_account_info``, as the connection form's Test button does."""
        from airflow_provider_wiziq.api.protocol.errors import WizIQError

        try:
            self.get_account_info()
        except WizIQError as error:
            return False, str(error)
        return True, "Connection to WizIQ succeeded: the access key and secret key were accepted."


def _mask(secret: str) -> None:
    """Register ``secret`` with Airflow's secrets masker, where this Airflow has it."""
    try:
        from airflow.providers.common.compat.sdk import mask_secret
    except ImportError:  # pragma: no cover - an older common-compat
        return
    mask_secret(secret)


__all__ = [
    "WizIQHook",
]
