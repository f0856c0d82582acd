"""The WizIQ connection ``wiziq-term`` reads: an Airflow connection URI (or its JSON form), read as Airflow reads it.

``wiziq://<access key>:<secret key>@<host>[:<port>][?<extra>=<value>&...]``, each part percent-encoded:

* **host**: the endpoint URL percent-encoded (``https%3A%2F%2Fclass.api.wiziq.com%2Fapimanager.ashx``, as
  ``WizIQEmulator.connection_uri`` writes it), or a host name (``https://<host>/apimanager.ashx`` is called), or
  nothing (WizIQ's own endpoint). The form Airflow's ``Connection.get_uri()`` writes, with the endpoint's scheme
  first (``wiziq://https://KEY:SECRET@class.api.wiziq.com%2Fapimanager.ashx``), is read too;
* **login** the access key, **password** the secret key; **port** is added to a host name;
* **query**: the connection's extras (``?max_retries=2&read_timeout=30``), or all of them as JSON in ``__extra__``;
* a **path** is refused: Airflow keeps it as the connection's schema, which a ``wiziq`` connection does not use,
  so ``/custom.ashx`` would silently call ``/apimanager.ashx``. Percent-encode the endpoint's path into the host.

Every problem is listed at once; none of them quotes the secret key. Airflow itself is not imported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from airflow_provider_wiziq.api.protocol.config import ClientConfig, config_from_connection
from airflow_provider_wiziq.api.protocol.errors import WizIQError

#: The environment variable Airflow reads the ``wiziq_default`` connection from; ``wiziq-term`` reads it too.
CONNECTION_VARIABLE = "AIRFLOW_CONN_WIZIQ_DEFAULT"
#: The query parameter that holds every extra as JSON (Airflow's).
EXTRA_KEY = "__extra__"


def read_connection(text: str) -> tuple[ClientConfig | None, list[str]]:
    """The client configuration of a connection URI or JSON, or None and every problem found (none quote secrets)."""
    fields, problems = connection_fields(text)
    if fields:  # read: its values may still be wrong
        problems += _field_problems(fields)
    if problems:
        return None, problems
    return config_from_connection(**fields), []


def connection_fields(text: str) -> tuple[dict[str, Any], list[str]]:
    """``host``, ``login``, ``password``, ``port`` and ``extra`` of a URI or JSON connection, as Airflow reads them."""
    text = text.strip()
    if text.startswith("{"):
        return _json_fields(text)
    return _uri_fields(text)


def _uri_fields(uri: str) -> tuple[dict[str, Any], list[str]]:
    """Airflow's ``Connection.from_uri`` (3.1-3.3), without its import; a path or another type is a problem."""
    if not uri:
        return {}, ["is empty"]
    schemes = uri.count("://")
    conn_type = uri.partition("://")[0] if schemes else ""
    if conn_type != "wiziq":
        shown = f"{conn_type}://" if conn_type.isidentifier() else "no connection type"
        return {}, [f"must be a wiziq connection URI (wiziq://KEY:SECRET@host), not {shown}"]
    if schemes > 2:
        return {}, ["holds more than two '://': percent-encode the endpoint URL in the host (%3A%2F%2F)"]
    with_protocol = schemes == 2
    rest = uri.replace("wiziq://", "" if with_protocol else "//", 1)
    if with_protocol and any(mark in rest.split("://", 1)[0] for mark in "@:"):
        return {}, ["is not a connection URI Airflow reads: give the endpoint's scheme after the credentials, "
                    "percent-encoded (wiziq://KEY:SECRET@https%3A%2F%2Fhost%2Fapimanager.ashx)"]  # fmt: skip
    problems: list[str] = []
    try:
        parts = urlsplit(rest)
        port = parts.port
    except ValueError:
        return {}, ["has a port that is not a number from 0 to 65535, or a malformed host"]
    host = _hostname(parts)
    if with_protocol and host:
        host = f"{parts.scheme}://{host}"
    if parts.path.strip("/"):
        problems.append(
            "has a path, which Airflow keeps as the connection's schema and a wiziq connection does not use (the "
            "endpoint would be /apimanager.ashx): percent-encode the endpoint URL as the host "
            "(wiziq://KEY:SECRET@https%3A%2F%2Fhost%2Fpath)"
        )
    extra: Any = None
    if parts.query:
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        extra = _json_extra(query[EXTRA_KEY], problems) if EXTRA_KEY in query else query
    fields = {
        "host": host,
        "login": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "port": port,
        "extra": extra,
    }
    return fields, problems


def _hostname(parts: SplitResult) -> str:
    """Airflow's reading of the host: percent-decoded, and the whole netloc when it holds a path."""
    hostname = unquote(parts.hostname or "")
    if "/" in hostname:
        hostname = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        hostname = unquote(hostname)
    return hostname


def _json_fields(text: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON form (``{"conn_type": "wiziq", "host": ..., "login": ..., "password": ..., "extra": ...}``)."""
    try:
        loaded = json.loads(text)
    except ValueError as error:
        return {}, [f"is not valid JSON ({error.__class__.__name__} at position {getattr(error, 'pos', '?')})"]
    if not isinstance(loaded, dict):
        return {}, ["must be a JSON object"]
    problems: list[str] = []
    if loaded.get("conn_type", "wiziq") != "wiziq":
        problems.append(f"conn_type must be wiziq, not {str(loaded.get('conn_type'))[:40]!r}")
    if loaded.get("schema"):
        problems.append("schema: a wiziq connection has none (the endpoint URL is the host)")
    known = {"conn_type", "host", "login", "password", "port", "extra", "schema", "description"}
    problems += [f"unknown field {name!r}" for name in sorted(set(loaded) - known)]
    extra = loaded.get("extra")
    if isinstance(extra, str):
        extra = _json_extra(extra, problems) if extra.strip() else None
    port = loaded.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        problems.append("port must be a whole number")
    fields = {name: loaded.get(name) for name in ("host", "login", "password")}
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            problems.append(f"{name} must be text")
    return {**fields, "port": port, "extra": extra}, problems


def _json_extra(text: str, problems: list[str]) -> Any:
    try:
        extra = json.loads(text)
    except ValueError:
        problems.append("its extras are not valid JSON")
        return None
    if not isinstance(extra, dict):
        problems.append("its extras must be a JSON object")
        return None
    return extra


def _field_problems(fields: Mapping[str, Any]) -> list[str]:
    """Every problem of the fields, each found by the one check the hook's connection goes through."""
    problems = []
    if not fields.get("login"):
        problems.append("has no access key: it is the login (wiziq://KEY:SECRET@...)")
    if not fields.get("password"):
        problems.append("has no secret key: it is the password (wiziq://KEY:SECRET@...)")
    whole = _problem({**fields, "login": "-", "password": "-"})
    if whole is None:
        return problems
    # The endpoint and each extra alone (with allow_insecure_http, which changes what the others accept).
    extra = dict(fields.get("extra") or {})
    shared = {name: extra.pop(name) for name in ("allow_insecure_http",) if name in extra}
    checks = [{"host": fields.get("host"), "port": fields.get("port"), "extra": shared}]
    checks += [{"host": None, "extra": {**shared, name: value}} for name, value in extra.items()]
    found = [problem for check in checks if (problem := _problem({**check, "login": "-", "password": "-"}))]
    return problems + list(dict.fromkeys(found or [whole]))


def _problem(fields: Mapping[str, Any]) -> str | None:
    try:
        config_from_connection(**fields)
    except WizIQError as error:
        return str(error)
    return None


__all__ = ["CONNECTION_VARIABLE", "connection_fields", "read_connection"]
