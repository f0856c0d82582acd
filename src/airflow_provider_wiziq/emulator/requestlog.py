"""The API calls the emulator received, for tests to inspect: never the signature."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

#: The log keeps the latest calls only, so a long demo cannot grow it without bound.
_MAX_RECORDED = 100_000


@dataclass(frozen=True)
class RecordedRequest:
    """One call: its method, when it came (emulator clock), its fields without ``signature``, what it got."""

    method: str | None
    time: datetime
    fields: dict[str, str]
    path: str
    fault: str | None  # the injected fault it met, if any
    committed: bool  # whether the call was processed (a fault may answer before that)
    error_code: int | None  # WizIQ's error code when it was refused

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        return data


class RequestLog:
    """Thread-safe, bounded record of the calls received."""

    def __init__(self, limit: int = _MAX_RECORDED) -> None:
        self._lock = threading.Lock()
        self._items: deque[RecordedRequest] = deque(maxlen=limit)

    def record(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def list(self, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [item for item in self._items if method is None or item.method == method]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def without_signature(fields: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in fields.items() if name != "signature"}
