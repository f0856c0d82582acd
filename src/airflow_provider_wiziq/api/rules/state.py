"""What the term's ledger knows, as values: each section's classes as the sync made or adopted them.

These are the ledger's contents in memory, read by the planner (which does no I/O). How they are stored
(formats, versions, shards, stores) is :mod:`airflow_provider_wiziq.api.engine.ledger`'s business alone.
Every value here is frozen: the plan holds the state it was made from, and applying a plan builds new
values rather than editing these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

#: A class's state in the ledger, and the word the report uses for it.
SCHEDULED = "scheduled"
CANCELLED_HOLIDAY = "cancelled_holiday"  # on a holiday: a slot of a series the section does not hold
CANCELLED_REMOVED = "cancelled_removed"  # its section left the export, or its instant left the section
CANCELLED_REPLACED = "cancelled_replaced"  # replaced by a class of a new presenter or zone (new id)
CANCELLED_ON_WIZIQ = "cancelled_on_wiziq"  # cancelled by someone else; a new class replaces it if wanted
CANCELLED = "cancelled"  # an extra slot of a new series, not wanted for another reason
LOST = "lost"  # WizIQ shows another class under this id (another account, or not the ledger's any more)
STATES = (SCHEDULED, CANCELLED_HOLIDAY, CANCELLED_REMOVED, CANCELLED_REPLACED, CANCELLED_ON_WIZIQ, CANCELLED, LOST)


@dataclass(frozen=True)
class LedgerClass:
    """One class the sync made or adopted.

    ``fields`` and ``roster`` fingerprint what was last sent to it (or found on it); ``verified`` says WizIQ
    was seen holding what was last sent (a change sent and not seen applied on the next read is drift that
    cannot be repaired, and is not sent again).
    """

    class_id: int
    start: datetime  # aware UTC: the instant the ledger believes it stands at
    state: str = SCHEDULED
    class_master_id: int | None = None  # None: a single class (``create``)
    fields: str = ""  # "" unknown
    roster: str = ""
    verified: bool = True


@dataclass(frozen=True)
class PendingCreate:
    """A create sent whose answer was lost: the identity to look it up by before creating it again, and whether it
    was a series (``create_recurring``) or one class (``create``)."""

    title: str
    presenter: str
    time_zone: str
    first_start: datetime  # aware UTC
    series: bool = True


@dataclass(frozen=True)
class SectionEntry:
    """One section's ledger: who presents, in which zone, what was last applied, and its classes."""

    presenter: str = ""  # presenter key (``identity.presenter_key``); "" before the first write
    time_zone: str = ""
    #: The section's ``create_recurring`` wire fields as last applied (what reasons compare with).
    spec: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    series: tuple[int, ...] = ()
    classes: tuple[LedgerClass, ...] = ()
    pending: tuple[PendingCreate, ...] = ()
    roster_ids: tuple[str, ...] = ()  # the roster last enrolled in its future classes
    left: tuple[str, ...] = ()  # attendee ids removed from the roster who stay enrolled in future classes
    missing: int = 0  # consecutive successful runs the section was missing from the export
    removed: bool = False  # no longer declared, and its classes cancelled
    #: For each fields fingerprint its classes carry, the values get_data shows of it.
    shown: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: What runs changed in it that no asset event has announced yet: "created" / "cancelled" / "modified" ids.
    news: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def future(self, cutoff: datetime) -> list[LedgerClass]:
        """Its scheduled classes starting at or after ``cutoff``, in order."""
        found = [c for c in self.classes if c.state == SCHEDULED and c.start >= cutoff]
        found.sort(key=lambda c: (c.start, c.class_id))
        return found


@dataclass(frozen=True)
class Marker:
    """Written when a run has recorded every write it made: without it the ledger may not be whole."""

    run: str
    at: str


@dataclass(frozen=True)
class TermState:
    """The ledger of one term on one account, as read at the start of a run."""

    entries: Mapping[str, SectionEntry] = field(default_factory=lambda: MappingProxyType({}))
    marker: Marker | None = None
    generation: int = 0  # bumped by every run that wrote: a run plans against one generation
    #: Keys whose stored entry could not be read (treated as missing: their sections are adopted).
    unreadable: tuple[str, ...] = ()
    found: bool = False  # this account had a ledger at all

    @property
    def news(self) -> dict[str, Mapping[str, tuple[int, ...]]]:
        """What runs changed that no asset event has announced yet, by section."""
        return {key: entry.news for key, entry in self.entries.items() if entry.news}

    @property
    def whole(self) -> bool:
        """The ledger is known to hold every write: a marker, and no create whose answer was lost."""
        return self.marker is not None and not any(entry.pending for entry in self.entries.values())


def frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


__all__ = [
    "CANCELLED",
    "CANCELLED_HOLIDAY",
    "CANCELLED_ON_WIZIQ",
    "CANCELLED_REMOVED",
    "CANCELLED_REPLACED",
    "LOST",
    "SCHEDULED",
    "STATES",
    "LedgerClass",
    "Marker",
    "PendingCreate",
    "SectionEntry",
    "TermState",
    "frozen_mapping",
]
