"""The emulator's controllable clock: real time plus an offset that tests set or advance.

Time keeps passing at the real rate; ``set`` and ``advance`` jump it. Listeners run after every jump
(outside the clock's lock) so that class status changes are noticed at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone


class EmulatorClock:
    """What the emulator believes "now" is; thread-safe."""

    def __init__(self, start: datetime | None = None, *, offset: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._offset = offset
        self._listeners: list[Callable[[], None]] = []
        if start is not None:
            self._offset = _aware(start).timestamp() - time.time()

    def now(self) -> datetime:
        """The emulator's current time, aware, in UTC."""
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def time(self) -> float:
        """The emulator's current Unix time."""
        with self._lock:
            return time.time() + self._offset

    def timestamp(self) -> int:
        """Whole Unix seconds, as a WizIQ client would sign them."""
        return int(self.time())

    @property
    def offset(self) -> float:
        """Seconds between the emulator's clock and the host's."""
        with self._lock:
            return self._offset

    def set(self, moment: datetime) -> datetime:
        """Jump to ``moment`` (naive means UTC); time goes on from there."""
        with self._lock:
            self._offset = _aware(moment).timestamp() - time.time()
        self._notify()
        return self.now()

    def advance(self, by: float | timedelta) -> datetime:
        """Jump forward (or back, with a negative amount) by seconds or a timedelta."""
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        with self._lock:
            self._offset += seconds
        self._notify()
        return self.now()

    def reset(self) -> datetime:
        """Back to the host's time."""
        with self._lock:
            self._offset = 0.0
        self._notify()
        return self.now()

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after each jump."""
        with self._lock:
            self._listeners.append(listener)

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
