"""The WizIQ account a command talks to: a connection's, or an in-process emulator's; every call counted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from airflow_provider_wiziq.api.protocol.client import WizIQClient, configure_session
from airflow_provider_wiziq.api.protocol.config import ClientConfig, config_from_connection
from airflow_provider_wiziq.api.protocol.ratelimit import RateLimitedSession, TokenBucket
from airflow_provider_wiziq.emulator.server import WizIQEmulator

#: Calls in flight at once (SyncTermOperator's default max_concurrency), and so the keep-alive pool's size.
MAX_CONCURRENCY = 8


@contextmanager
def counted_client(
    config: ClientConfig, max_calls_per_second: float | None
) -> Iterator[tuple[WizIQClient, TokenBucket]]:
    """A client whose every request takes a token from the bucket it yields (``bucket.calls`` counts them)."""
    bucket = TokenBucket(max_calls_per_second)
    session = configure_session(RateLimitedSession(bucket), config, MAX_CONCURRENCY + 1)
    with WizIQClient(config, session=session) as client:
        yield client, bucket


@contextmanager
def emulator_account(start: datetime | None = None) -> Iterator[tuple[WizIQEmulator, WizIQClient, TokenBucket]]:
    """A new, empty emulator on loopback (its clock at ``start``, or the host's time), and a client for it."""
    with WizIQEmulator(clock_start=start) as emulator:
        config = config_from_connection(host=emulator.url, login=emulator.access_key, password=emulator.secret_key)
        with counted_client(config, None) as (client, bucket):
            yield emulator, client, bucket


__all__ = ["MAX_CONCURRENCY", "counted_client", "emulator_account"]
