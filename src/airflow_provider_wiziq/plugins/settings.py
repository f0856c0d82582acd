"""The ``[wiziq]`` Airflow options the status pings read, in every process that reads them: the api-server (the
route), the workers (the create operators sign URLs) and the triggerer (the waits read the inbox).

Read on every use (an environment lookup), so that a changed secret is taken at once and tests can set them.
"""

from __future__ import annotations

from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError

SECTION = "wiziq"
#: Shortest secret accepted: a shorter one could be guessed from the tokens it signs.
MIN_SECRET_LENGTH = 16


def _option(name: str) -> str:
    from airflow_provider_wiziq._compat import conf

    return (conf.get(SECTION, name, fallback="") or "").strip()


def ping_secrets() -> tuple[str, ...]:
    """``[wiziq] ping_secret``: comma-separated secrets, the first signs new URLs and every one is accepted
    (rotation); empty when pings are off. A secret shorter than ``MIN_SECRET_LENGTH`` is a configuration error."""
    secrets = tuple(part.strip() for part in _option("ping_secret").split(",") if part.strip())
    if any(len(secret) < MIN_SECRET_LENGTH for secret in secrets):
        raise WizIQConfigError(
            f"Each secret in the Airflow option [{SECTION}] ping_secret must be at least {MIN_SECRET_LENGTH} "
            "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    return secrets


def ping_inbox() -> str | None:
    """``[wiziq] ping_inbox``: where pings are recorded (an ObjectStoragePath URL every api-server and triggerer
    reaches), or None when pings are off."""
    return _option("ping_inbox") or None


def ping_idle_interval() -> float | None:
    """``[wiziq] ping_idle_interval``: seconds between a triggerer's full polls of a connection whose classes are
    pinged (None: the provider's default, ``triggers.poller.PING_IDLE_INTERVAL``)."""
    text = _option("ping_idle_interval")
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 10 <= seconds <= 86400:  # NaN fails too
        raise WizIQConfigError(
            f"The Airflow option [{SECTION}] ping_idle_interval must be a number of seconds from 10 to 86400, "
            f"got {text[:40]!r}."
        )
    return seconds


__all__ = ["MIN_SECRET_LENGTH", "SECTION", "ping_idle_interval", "ping_inbox", "ping_secrets"]
