"""WizIQ's request signature: the one place a secret key is used.

``signature = base64(HMAC-SHA1(key=quote_plus(secret_key), msg="access_key=..&timestamp=..&method=.."))``.
Only those three fields are signed, in that order; the payload is not signed, so only TLS protects it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus


def signature(*, secret_key: str, access_key: str, timestamp: int, method: str) -> str:
    """The ``signature`` field for one call."""
    message = f"access_key={access_key}&timestamp={timestamp}&method={method}"
    digest = hmac.new(quote_plus(secret_key).encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_fields(*, secret_key: str, access_key: str, timestamp: int, method: str) -> dict[str, str]:
    """The authentication fields every call's body carries."""
    return {
        "access_key": access_key,
        "timestamp": str(timestamp),
        "signature": signature(secret_key=secret_key, access_key=access_key, timestamp=timestamp, method=method),
    }


def verify(fields: dict[str, str], *, secret_key: str, method: str) -> bool:
    """Whether a received body's signature matches (constant-time compare); used by the emulator."""
    try:
        timestamp = int(fields.get("timestamp", ""))
    except ValueError:
        return False
    expected = signature(
        secret_key=secret_key, access_key=fields.get("access_key", ""), timestamp=timestamp, method=method
    )
    return hmac.compare_digest(expected.encode(), fields.get("signature", "").encode())
