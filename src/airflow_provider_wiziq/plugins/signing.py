"""The status-ping token: an HMAC of the connection id under ``[wiziq] ping_secret``, checked in constant time.

A class's ``status_ping_url`` is ``<ping_base_url>?conn_id=<id>&k=<token>``. The token proves only that the URL
was made by someone who holds the secret, for that connection: it makes a ping worth reading, never worth
believing (a ping is a doorbell; WizIQ's ``get_data`` answer decides every wait). No Airflow here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

#: What the HMAC signs besides the connection id, so that the secret signs nothing else by accident.
_CONTEXT = b"airflow-provider-wiziq status ping\x00"
#: Query parameters of a status-ping URL.
CONN_PARAM = "conn_id"
TOKEN_PARAM = "k"


def ping_token(secret: str, conn_id: str) -> str:
    """The token of connection ``conn_id`` under ``secret``: 43 URL-safe characters (HMAC-SHA256)."""
    digest = hmac.new(secret.encode("utf-8"), _CONTEXT + conn_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_matches(token: str, conn_id: str, secrets: tuple[str, ...]) -> bool:
    """Whether ``token`` is ``conn_id``'s under any of ``secrets`` (the current one and those being retired).

    Every secret is tried, and each comparison takes the same time whatever the token holds.
    """
    given = token.encode("utf-8", "replace")
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(given, ping_token(secret, conn_id).encode("ascii"))
    return matched


def signed_ping_url(base_url: str, conn_id: str, secret: str) -> str:
    """``base_url`` with the connection id and its token as query parameters."""
    return f"{base_url}?{CONN_PARAM}={quote(conn_id, safe='')}&{TOKEN_PARAM}={ping_token(secret, conn_id)}"


__all__ = ["CONN_PARAM", "TOKEN_PARAM", "ping_token", "signed_ping_url", "token_matches"]
