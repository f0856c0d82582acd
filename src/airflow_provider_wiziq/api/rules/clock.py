"""One clock for everything that asks "now": the term sync's cutoff, the ledger's lease, past and future.

The engine and the ledger take a clock instead of reading the system time, so a test or a rehearsal moves
time by giving them another clock (the emulator's own clock has the same ``now()``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that stands still until moved (tests and rehearsals)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a ManualClock needs an aware start")
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


SYSTEM_CLOCK = SystemClock()

__all__ = ["SYSTEM_CLOCK", "Clock", "ManualClock", "SystemClock"]
