"""A client's configuration, read from an Airflow connection's fields (without importing Airflow)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, overload
from urllib.parse import SplitResult, unquote, urlsplit

from airflow_provider_wiziq.api.protocol.errors import WizIQConfigError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits

DEFAULT_ENDPOINT = "https://class.api.wiziq.com/apimanager.ashx"
_DEFAULT_PATH = "/apimanager.ashx"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Extra:
    """How one connection extra is read: its type and the closed range it must fall in."""

    kind: type  # int, float, bool or str (a URL)
    minimum: float = 0
    maximum: float = 0
    above_minimum: bool = False  # the minimum itself is excluded (a timeout of 0 is no timeout)

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the connection form's field."""
        if self.kind is bool:
            return {"type": ["boolean", "null"]}
        if self.kind is str:
            return {"type": ["string", "null"]}
        low = "exclusiveMinimum" if self.above_minimum else "minimum"
        name = "integer" if self.kind is int else "number"
        return {"type": [name, "null"], low: self.minimum, "maximum": self.maximum}


_HOUR, _DAY = 3600.0, 86400.0

#: Connection extras a user may set: the one place their types and ranges are decided (the connection form's
#: schema is made from it). The ranges keep every value usable as a socket timeout, a sleep or a count.
EXTRAS: dict[str, Extra] = {
    "connect_timeout": Extra(float, 0, _HOUR, above_minimum=True),
    "read_timeout": Extra(float, 0, _HOUR, above_minimum=True),
    "max_retries": Extra(int, 0, 100),
    "retry_budget": Extra(float, 0, _DAY, above_minimum=True),
    "backoff_initial": Extra(float, 0, _HOUR, above_minimum=True),
    "backoff_max": Extra(float, 0, _HOUR, above_minimum=True),
    "max_response_bytes": Extra(int, 1024, 1024**3),
    "allow_insecure_http": Extra(bool),
    "max_class_minutes": Extra(int, 1, 1_000_000),
    "max_user_per_class": Extra(int, 1, 1_000_000),
    "max_concurrent_class": Extra(int, 1, 1_000_000),
    "max_series_classes": Extra(int, 1, 10_000),
    # The public URL of the provider's status-ping route, without its token (plugins/: WizIQPingPlugin).
    "ping_base_url": Extra(str),
}
_LIMIT_EXTRAS = {f.name for f in fields(PlanLimits)}


class Concealed:
    """A secret kept out of ``repr``, ``str``, ``vars()`` and tracebacks that print locals: they show ``shown``;
    :meth:`reveal` gives the text itself."""

    __slots__ = ("_shown", "_text")

    def __init__(self, text: str, shown: str = "***") -> None:
        self._text = text
        self._shown = shown

    def reveal(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<concealed {self._shown}>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Concealed) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)


class _ConcealedField:
    """A string attribute kept as :class:`Concealed` in the instance (under ``_<name>``) and read back as its
    text: it works as a plain ``str`` attribute, yet ``vars()`` and what it lists hold no secret text."""

    def __init__(self, name: str, shown: Callable[[str], str]) -> None:
        self._slot = f"_{name}"
        self._shown = shown

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _ConcealedField: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> str: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> str | _ConcealedField:
        if instance is None:
            return self
        concealed: Concealed = instance.__dict__[self._slot]
        return concealed.reveal()

    def __set__(self, instance: object, value: str) -> None:
        instance.__dict__[self._slot] = Concealed(value, self._shown(value))


@dataclass(frozen=True)
class ClientConfig:
    """Where and how to call WizIQ. ``repr`` and ``vars()`` leave out the secret key and the endpoint's
    credentials (``user:password@`` and its query string): both are kept :class:`Concealed`, read as text."""

    endpoint: str  # concealed, see below the class
    access_key: str
    secret_key: str  # concealed
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 4  # re-sends after the first attempt, for calls that are safe to repeat
    retry_budget: float = 120.0  # seconds one call may spend across all its attempts
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    max_response_bytes: int = 5 * 1024 * 1024
    allow_insecure_http: bool = False
    ping_base_url: str | None = None  # where WizIQ posts status pings, the token left out
    limits: PlanLimits = field(default_factory=PlanLimits)

    def __post_init__(self) -> None:
        if not self.access_key:
            raise WizIQConfigError("The WizIQ connection has no access key (login).")
        if not self.secret_key:
            raise WizIQConfigError("The WizIQ connection has no secret key (password).")
        _refuse_unencodable(self.access_key, "access key (login)")
        _refuse_unencodable(self.secret_key, "secret key (password)")
        _refuse_unencodable(self.endpoint, "endpoint URL (host)")
        for name in EXTRAS:
            value = getattr(self.limits if name in _LIMIT_EXTRAS else self, name)
            if value is not None:
                _check_extra(name, value)
        hostname = _checked_url(self.endpoint).hostname or ""
        if urlsplit(self.endpoint).scheme == "http" and not _is_loopback(hostname) and not self.allow_insecure_http:
            raise WizIQConfigError(
                f"Refusing plain http to {hostname}: WizIQ does not sign the payload, so only TLS "
                "protects it. Use https, or set the extra allow_insecure_http to true."
            )
        if self.ping_base_url:
            _check_ping_base_url(self.ping_base_url, self.allow_insecure_http)

    def __repr__(self) -> str:
        shown = [f"endpoint={url_without_credentials(self.endpoint)!r}"]
        shown += [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name not in _CONCEALED]
        return f"{type(self).__name__}({', '.join(shown)})"

    @property
    def request_url(self) -> str:
        """The endpoint every request goes to: without ``user:password@``, which travels as HTTP basic auth
        (:meth:`endpoint_auth`), so no URL a client builds, logs or keeps in a local variable holds it."""
        parts = urlsplit(self.endpoint)
        if "@" not in parts.netloc:
            return self.endpoint
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()

    def endpoint_auth(self) -> tuple[str, str] | None:
        """The endpoint's ``user:password@`` as HTTP basic auth credentials (percent-decoded, as requests and
        httpx read them from a URL); None when it has none."""
        parts = urlsplit(self.endpoint)
        if "@" not in parts.netloc:
            return None
        return unquote(parts.username or ""), unquote(parts.password or "")

    def endpoint_secrets(self) -> tuple[str, ...]:
        """What a log masker should hide of the endpoint: its password, as written and decoded, and its
        query string (a token, often). The secret key is the connection's password: Airflow masks it."""
        parts = urlsplit(self.endpoint)
        found = [parts.password or "", unquote(parts.password or ""), parts.query]
        return tuple(dict.fromkeys(secret for secret in found if secret))


#: ClientConfig's fields kept concealed, with what their ``Concealed`` shows: set on the class once the dataclass is
#: made, so that its ``__init__`` stores them through :class:`_ConcealedField` while they stay required fields.
_CONCEALED: dict[str, Callable[[str], str]] = {
    "endpoint": lambda url: url_without_credentials(url),  # defined below
    "secret_key": lambda key: "***",
}
for _name, _shown in _CONCEALED.items():
    setattr(ClientConfig, _name, _ConcealedField(_name, _shown))


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
        endpoint=_endpoint_url(host, port),
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


def _endpoint_url(host: str | None, port: int | None = None) -> str:
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
        return f"https://{netloc}{'/' + path if path else _DEFAULT_PATH}"
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
        f"The WizIQ endpoint {url_without_credentials(url)!r} is not an http(s) URL with a host, "
        f"like {DEFAULT_ENDPOINT}{hint}."
    )


def url_without_credentials(url: str) -> str:
    """``url`` as it may be shown (reprs, errors, logs): no ``user:password@``, a query string as ``?***``."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    rest, question, _ = rest.partition("#")[0].partition("?")
    authority, slash, path = rest.partition("/")
    return f"{scheme}{separator}{authority.rpartition('@')[2]}{slash}{path}{'?***' if question else ''}"


def _refuse_unencodable(text: str, what: str) -> None:
    """A config error if ``text`` holds what UTF-8 cannot encode (a lone surrogate), without quoting it.

    The encoder's own error would quote the whole string, and this one may be the secret key.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        position = error.start
    else:
        return
    raise WizIQConfigError(
        f"The WizIQ connection's {what} holds a character UTF-8 cannot encode (at position {position}), "
        "as an undecodable byte in a connection URI gives; re-enter it as text."
    )


def _check_ping_base_url(url: str, allow_insecure_http: bool) -> None:
    """``ping_base_url`` is an http(s) URL with a host and no query or fragment (the token is added to it); plain
    http only to loopback or with ``allow_insecure_http``, since the URL carries the token."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        parts = parts._replace(scheme="")
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment or "@" in parts.netloc:
        raise WizIQConfigError(
            f"The WizIQ connection extra ping_base_url must be the http(s) URL of the status-ping route, with no "
            f"query string, credentials or fragment (the token is added to it), like "
            f"https://airflow.example.org/wiziq/ping; got {url_without_credentials(url)!r}."
        )
    if parts.scheme == "http" and not _is_loopback(host) and not allow_insecure_http:
        raise WizIQConfigError(
            f"Refusing a plain http ping_base_url to {host}: the URL carries the ping token, so only TLS protects "
            "it. Use https, or set the extra allow_insecure_http to true."
        )


def _read_extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The extras read as their types; empty ones dropped. Ranges are checked by :class:`ClientConfig`."""
    read: dict[str, Any] = {}
    for name, value in extra.items():
        empty = value is None or value == ""
        if name not in EXTRAS:
            if not empty:
                raise WizIQConfigError(
                    f"Unknown WizIQ connection extra {name!r}; known extras: {', '.join(sorted(EXTRAS))}."
                )
            # Left over when a connection's type is switched to WizIQ in the UI: the old type's fields stay, empty.
            log.info("Ignoring the empty connection extra %r, which is not a WizIQ extra.", name)
        elif not empty:
            read[name] = _parsed_extra(name, value)
    return read


def _parsed_extra(name: str, value: Any) -> Any:
    """``value`` of extra ``name`` as its type: JSON's or the form's text (``"30"``, ``"true"``)."""
    kind = EXTRAS[name].kind
    if kind is str:
        return value.strip() if isinstance(value, str) else value  # checked by _check_extra
    if kind is bool:
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return value  # checked by _check_extra
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _bad_extra(name, value) from None
        return int(number) if kind is int and number.is_integer() else number
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _check_extra(name: str, value: Any) -> None:
    """A config error naming extra ``name`` unless ``value`` has its type and lies in its range."""
    spec = EXTRAS[name]
    if spec.kind in (bool, str):
        if not isinstance(value, spec.kind):
            raise _bad_extra(name, value)
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (spec.kind is int and isinstance(value, float))
    ):
        raise _bad_extra(name, value)
    if not (spec.minimum < value if spec.above_minimum else spec.minimum <= value) or not value <= spec.maximum:
        raise _bad_extra(name, value)  # NaN fails every comparison, so it lands here too


def _bad_extra(name: str, value: Any) -> WizIQConfigError:
    spec = EXTRAS[name]
    if spec.kind is bool:
        wanted = "true or false"
    elif spec.kind is str:
        wanted = "text"
    else:
        low = "greater than" if spec.above_minimum else "at least"
        wanted = (
            f"{'an integer' if spec.kind is int else 'a number'} {low} {spec.minimum:g} and at most {spec.maximum:g}"
        )
    shown = repr(value)
    shown = shown if len(shown) <= 40 else f"{shown[:37]}..."
    return WizIQConfigError(f"The WizIQ connection extra {name} must be {wanted}, got {shown}.")


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
