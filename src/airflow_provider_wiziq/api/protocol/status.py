"""A class's status in this project's five-state model, read from a WizIQ ``get_data`` record (docs/wiziq-api.md §6).

WizIQ says ``upcoming``, ``completed`` or ``expired``; a class in progress still says ``upcoming`` with
``time_to_start`` -1, and a cancelled class comes back with no ``status`` at all. :func:`class_status` is the
one place that reads those signs: the sensor, the trigger and the operators all call it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from airflow_provider_wiziq.api.protocol.responses import ClassRecord

#: The get_data columns status interpretation needs; pollers ask for just these.
STATUS_COLUMNS = ("class_id", "status", "time_to_start")


class ClassStatus(str, enum.Enum):
    UPCOMING = "upcoming"
    LIVE = "live"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Completed, expired and cancelled classes never change again."""
        return self in (ClassStatus.COMPLETED, ClassStatus.EXPIRED, ClassStatus.CANCELLED)

    @classmethod
    def parse_many(cls, value: str | ClassStatus | Iterable[str | ClassStatus]) -> frozenset[ClassStatus]:
        """One status or several, by name in any case (``"completed"``, ``["live", "completed"]``)."""
        items = [value] if isinstance(value, (str, ClassStatus)) else list(value)
        if not items:
            raise ValueError("give at least one class status")
        statuses = set()
        for item in items:
            try:
                statuses.add(cls(str(item.value if isinstance(item, ClassStatus) else item).strip().lower()))
            except ValueError:
                names = ", ".join(s.value for s in cls)
                raise ValueError(f"{item!r} is not a class status; use one of {names}") from None
        return frozenset(statuses)


def wire_status(status: ClassStatus) -> str | None:
    """What ``get_data`` says for a status (the inverse of :func:`class_status`): live reads upcoming,
    cancelled has no status at all."""
    if status is ClassStatus.LIVE:
        return ClassStatus.UPCOMING.value
    return None if status is ClassStatus.CANCELLED else status.value


def class_status(record: ClassRecord) -> ClassStatus:
    """The status a ``get_data`` record says, in the five-state model."""
    status = (record.fields.get("status") or "").strip().lower()  # record.status, without its two calls
    if not status:
        return ClassStatus.CANCELLED
    if status == "upcoming":
        return ClassStatus.LIVE if record.time_to_start == -1 else ClassStatus.UPCOMING
    try:
        return ClassStatus(status)
    except ValueError:
        raise ValueError(f"WizIQ reported an unknown class status {status!r}") from None
