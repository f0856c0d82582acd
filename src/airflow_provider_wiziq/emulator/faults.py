"""Faults a test injects into the next API calls, to see how a client copes with a bad network or server.

Which faults commit the call (the server did the work, the answer is what goes wrong):
``reset_after``, ``malformed``, ``truncated`` and ``delay`` commit; ``reset_before``, the ``http_*`` ones
and ``html`` answer before the call is processed, so nothing is stored; ``ignored`` answers as if it had done
the call (``<modify status="true"/>``) and does nothing.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

#: Every fault kind, with whether the call is processed (committed) before the fault.
KINDS: dict[str, bool] = {
    "reset_before": False,  # the connection is reset before any answer
    "reset_after": True,  # processed, then the connection is reset: the answer is lost
    "delay": True,  # processed, then the answer waits ``seconds``
    "http_500": False,
    "http_502": False,
    "http_503": False,
    "http_429": False,  # with Retry-After: ``retry_after`` seconds
    "malformed": True,  # HTTP 200 with XML cut in the middle (correct Content-Length)
    "truncated": True,  # Content-Length larger than what is sent, then the connection closes
    "html": False,  # an HTML error page (HTTP ``status``, 502 unless given)
    "ignored": False,  # answered with success, and nothing done (a server that drops a change it accepted)
    # Status pings (the emulator's own posts to a class's status_ping_url), ``count`` pings:
    "ping_drop": False,  # not sent, as when the receiver is down or the network loses it
    "ping_bad_token": False,  # sent with the URL's ``k`` query parameter changed, as a forger would send it
}
#: The fault kinds that apply to status pings rather than API calls.
PING_KINDS = frozenset(kind for kind in KINDS if kind.startswith("ping_"))
#: The faults that answer well-formed WizIQ XML: a server that lies, not a network or a server that breaks.
ANSWERED = frozenset({"ignored"})


@dataclass
class Fault:
    """A fault for the next ``count`` calls (of ``method`` only, when given)."""

    kind: str
    count: int = 1
    method: str | None = None
    seconds: float = 1.0  # delay
    retry_after: int = 1  # http_429
    status: int | None = None  # html: the HTTP status of the page

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; kinds: {', '.join(KINDS)}")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.seconds < 0 or self.retry_after < 0:
            raise ValueError("seconds and retry_after cannot be negative")

    @property
    def commits(self) -> bool:
        return KINDS[self.kind]

    @property
    def http_status(self) -> int:
        if self.kind.startswith("http_"):
            return int(self.kind[5:])
        if self.kind == "html":
            return self.status or 502
        return 200

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlan:
    """The pending faults, first injected first used; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str | None) -> Fault | None:
        """The fault for this call, if any; each use counts down its fault's ``count``."""
        with self._lock:
            for fault in self._faults:
                if fault.method is None or fault.method == method:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return Fault(fault.kind, 1, fault.method, fault.seconds, fault.retry_after, fault.status)
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(**f.as_dict()) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
