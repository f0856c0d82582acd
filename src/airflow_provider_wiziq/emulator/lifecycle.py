"""Where a class is in its life at a given moment, and how WizIQ reports that (docs/wiziq-api.md §6).

A class is upcoming until it starts, live from its start to start + duration + extend_duration, then
completed or expired (its ``outcome``); a cancelled class stays cancelled. WizIQ's ``get_data`` says
``upcoming`` for a live class too, with ``time_to_start`` -1, and gives a cancelled class no status.
"""

from __future__ import annotations

import enum
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from airflow_provider_wiziq.api.protocol.status import ClassStatus

if TYPE_CHECKING:
    from airflow_provider_wiziq.emulator.store import StoredClass


def phase(cls: StoredClass, now: datetime) -> ClassStatus:
    if cls.cancelled_at is not None:
        return ClassStatus.CANCELLED
    if now < cls.utc_start:
        return ClassStatus.UPCOMING
    if now < cls.utc_end:
        return ClassStatus.LIVE
    return ClassStatus(cls.outcome)


def time_to_start(cls: StoredClass, now: datetime) -> int:
    """Whole minutes until the start, rounded up (so 0 never means "not yet"); -1 while live; 0 after."""
    current = phase(cls, now)
    if current is ClassStatus.UPCOMING:
        return max(1, math.ceil((cls.utc_start - now) / timedelta(minutes=1)))
    return -1 if current is ClassStatus.LIVE else 0


class Report(enum.Enum):
    """Whether ``get_attendance_report`` can answer, and with which error if not."""

    NOT_HELD = 1026  # upcoming or live
    EXPIRED = 1027
    CANCELLED = 1028
    SOON = 1029  # ended less than report_delay ago
    AVAILABLE = 0

    @property
    def wire(self) -> str:
        """The ``attendance_report_status`` column."""
        return {Report.AVAILABLE: "available", Report.SOON: "pending"}.get(self, "not_available")


def report(cls: StoredClass, now: datetime, delay: float) -> Report:
    current = phase(cls, now)
    if current is ClassStatus.CANCELLED:
        return Report.CANCELLED
    if current is ClassStatus.EXPIRED:
        return Report.EXPIRED
    if current is not ClassStatus.COMPLETED:
        return Report.NOT_HELD
    return Report.SOON if now < cls.utc_end + timedelta(seconds=delay) else Report.AVAILABLE


def recording(cls: StoredClass, now: datetime, delay: float) -> Report:
    """Whether a class's recording is ready (the ``class_recording_status`` column): like its attendance
    report, ready ``delay`` after a held class ends; a class without ``create_recording`` has none."""
    return report(cls, now, delay) if cls.create_recording else Report.NOT_HELD


#: The order a class goes through without jumps; a ping announces each step a clock jump skipped.
_FORWARD = (ClassStatus.UPCOMING, ClassStatus.LIVE)


def steps(before: ClassStatus, after: ClassStatus) -> list[ClassStatus]:
    """The changes to announce from ``before`` to ``after``: the skipped ones in order, then ``after``."""
    if before == after:
        return []
    if after.is_terminal and after is not ClassStatus.CANCELLED and before in _FORWARD:
        return [*_FORWARD[_FORWARD.index(before) + 1 :], after]
    return [after]
