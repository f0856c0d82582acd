"""A client's configuration, read from an Airflow connection's fields (without importing Airflow)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import SplitResult, urlsplit

from airflow_provider_wiziq.api.errors import WizIQConfigError
from airflow_provider_wiziq.api.limits import PlanLimits

DEFAULT_ENDPOINT = "https://class.api.wiziq.com/apimanager.ashx"
DEFAULT_PATH = "/apimanager.ashx"


@dataclass(frozen=True)
class ClientConfig:
    """Where and how to call WizIQ. ``secret_key`` is kept out of ``repr`` and so out of logs."""

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 4  # re-sends after the first attempt, for calls that are safe to repeat
    retry_budget: float = 120.0  # seconds one call may spend across all its attempts
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    max_response_bytes: int = 5 * 1024 * 1024
    allow_insecure_http: bool = False
    limits: PlanLimits = field(default_factory=PlanLimits)

    def __post_init__(self) -> None:
        if not self.access_key:
            raise WizIQConfigError("The WizIQ connection has no access key (login).")
        if not self.secret_key:
            raise WizIQConfigError("The WizIQ connection has no secret key (password).")
        hostname = _checked_url(self.endpoint).hostname or ""
        if urlsplit(self.endpoint).scheme == "http" and not _is_loopback(hostname) and not self.allow_insecure_http:
            raise WizIQConfigError(
                f"Refusing plain http to {hostname}: WizIQ does not sign the payload, so only TLS "
                "protects it. Use https, or set the extra allow_insecure_http to true."
            )
        for name in ("connect_timeout", "read_timeout", "retry_budget", "max_response_bytes"):
            if getattr(self, name) <= 0:
                raise WizIQConfigError(f"The WizIQ connection extra {name} must be positive.")
        if self.max_retries < 0:
            raise WizIQConfigError("The WizIQ connection extra max_retries must be 0 or more.")


#: Connection extras a user may set, with the type each is read as.
EXTRAS: dict[str, type] = {
    "connect_timeout": float,
    "read_timeout": float,
    "max_retries": int,
    "retry_budget": float,
    "backoff_initial": float,
    "backoff_max": float,
    "max_response_bytes": int,
    "allow_insecure_http": bool,
    "max_class_minutes": int,
    "max_user_per_class": int,
    "max_concurrent_class": int,
    "max_series_classes": int,
}
_LIMIT_EXTRAS = {f.name for f in fields(PlanLimits)}


def config_from_connection(
    *,
    host: str | None,
    login: str | None,
    password: str | None,
    port: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ClientConfig:
    """Build a :class:`ClientConfig` from a connection's host, login, password and extras."""
    extras = _read_extras(extra or {})
    limits = PlanLimits(**{k: extras.pop(k) for k in list(extras) if k in _LIMIT_EXTRAS})
    return ClientConfig(
        endpoint=endpoint_url(host, port),
        access_key=(login or "").strip(),
        secret_key=password or "",
        limits=limits,
        **extras,
    )


def config_from_airflow_connection(connection: Any) -> ClientConfig:
    """:func:`config_from_connection` for an Airflow ``Connection`` object (read by duck typing, no import)."""
    return config_from_connection(
        host=connection.host,
        login=connection.login,
        password=connection.password,
        port=connection.port,
        extra=connection.extra_dejson,
    )


def endpoint_url(host: str | None, port: int | None = None) -> str:
    """The endpoint URL from a connection's host: empty means WizIQ's, a bare host name gets https."""
    host = (host or "").strip()
    if not host:
        return DEFAULT_ENDPOINT
    if "://" not in host:
        netloc, _, path = host.partition("/")
        if "//" in host or netloc.endswith(":"):
            raise _not_a_url(host, hint=" (is the ':' after the scheme missing?)")
        if port and ":" not in netloc:
            netloc = f"{netloc}:{port}"
        return f"https://{netloc}{'/' + path if path else DEFAULT_PATH}"
    parts = _checked_url(host)
    if port and parts.port is None:
        return parts._replace(netloc=f"{parts.netloc}:{port}").geturl()
    return host


def _checked_url(url: str) -> SplitResult:
    """``url`` split, if it is an http(s) URL with a well-formed host and port; else a config error."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise _not_a_url(url) from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or not host.isprintable() or any(c.isspace() for c in host):
        raise _not_a_url(url)
    return parts


def _not_a_url(url: str, hint: str = "") -> WizIQConfigError:
    return WizIQConfigError(
        f"The WizIQ endpoint {_without_credentials(url)!r} is not an http(s) URL with a host, "
        f"like {DEFAULT_ENDPOINT}{hint}."
    )


def _without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed, for error messages."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url.rpartition("@")[2]
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


def _read_extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(extra) - set(EXTRAS))
    if unknown:
        raise WizIQConfigError(
            f"Unknown WizIQ connection extra {unknown[0]!r}; known extras: {', '.join(sorted(EXTRAS))}."
        )
    read: dict[str, Any] = {}
    for name, value in extra.items():
        if value is None or value == "":
            continue
        kind = EXTRAS[name]
        try:
            if kind is bool:
                read[name] = value if isinstance(value, bool) else str(value).strip().lower() == "true"
            else:
                read[name] = kind(value)
        except (TypeError, ValueError):
            raise WizIQConfigError(
                f"The WizIQ connection extra {name} must be {kind.__name__}, got {value!r}."
            ) from None
    return read


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
