"""How a WizIQ error becomes an Airflow task failure: the one place that decides retry or no retry.

Permanent errors (validation, auth, plan limits, class state, unknown ids, hostile answers) fail the task at
once with ``AirflowFailException``, leaving its retries unused: trying again cannot help. Transient ones
(timeouts, 5xx, 429, error 1000, unreadable answers) raise ``AirflowException`` so Airflow retries the try.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow_provider_wiziq._compat import AirflowException, AirflowFailException
from airflow_provider_wiziq.api.protocol.errors import WizIQError


def _task_failure(error: WizIQError) -> AirflowException:
    """The Airflow exception for ``error``; its text is the error's: ``WizIQ error 1032: ...`` when WizIQ answered,
    ``Not sent (WizIQ would answer 1014): ...`` when the client found it before sending."""
    if error.transient:
        return AirflowException(f"{error} (transient: the task may be retried)")
    return AirflowFailException(str(error))


@contextmanager
def wiziq_failures() -> Iterator[None]:
    """Turn any :class:`WizIQError` raised inside into the matching Airflow task failure."""
    try:
        yield
    except WizIQError as error:
        raise _task_failure(error) from error
