"""What "the same series" is (docs/wiziq-api.md §11): the one rule every operator and the term sync use.

Two series are the same when they have the same title, the same presenter (the email in any case when
given, else the room's ``presenter_id``), the same first-class instant and the same time zone, zones being
compared by the local times they give the series' classes (:func:`zones_agree`: an alias such as ``US/Eastern``
for ``America/New_York`` is the same zone; its spelling never is a difference). A series
whose create answer was lost, a term whose ledger was lost, or a term made by another operator is found
on WizIQ by this rule and adopted instead of being booked a second time. A class made alone (``create``: it
belongs to no series) is found by the same four, its own instant being its first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_wiziq.api.protocol.request import CreateClassRequest
from airflow_provider_wiziq.api.protocol.responses import ClassRecord
from airflow_provider_wiziq.api.rules.recurrence import localize

#: The get_data columns a lookup and a sync read.
LOOKUP_COLUMNS = (
    "class_id",
    "class_master_id",
    "title",
    "presenter_email",
    "presenter_id",
    "start_time",
    "time_zone",
    "status",
    "duration",
    "attendee_limit",
)


@dataclass(frozen=True)
class SeriesIdentity:
    """Title, presenter, time zone and first-class instant (aware UTC) of a series (:meth:`same_series`)."""

    title: str
    presenter: str
    time_zone: str
    first_start: datetime

    @property
    def meeting(self) -> tuple[str, str, datetime]:
        """Title, presenter and first instant: what must be equal, whatever the zone is called."""
        return self.title, self.presenter, self.first_start

    def same_series(self, other: SeriesIdentity, instants: Iterable[datetime]) -> bool:
        """Whether ``other`` is the same series: the same meeting, in zones that agree at ``instants`` (aware)."""
        return self.meeting == other.meeting and zones_agree(self.time_zone, other.time_zone, instants)


def presenter_key(presenter_email: str | None, presenter_id: str | None) -> str:
    """Who presents: the email (any case) when given, else the room's presenter_id."""
    email = (presenter_email or "").strip().lower()
    return f"email:{email}" if email else f"id:{(presenter_id or '').strip()}"


def zones_agree(first: str, second: str, instants: Iterable[datetime]) -> bool:
    """Whether two zone names give the same local time at every one of ``instants`` (aware).

    Aliases (``US/Eastern`` and ``America/New_York``, ``Asia/Calcutta`` and ``Asia/Kolkata``, ``Etc/UTC`` and
    ``UTC``) always agree; two zones whose rules differ agree where their offsets happen to match. The sync
    compares a section's zones this way, at its classes' instants: a spelling is never a change.
    """
    if first == second:
        return True
    try:
        one, other = ZoneInfo(first), ZoneInfo(second)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return all(moment.astimezone(one).utcoffset() == moment.astimezone(other).utcoffset() for moment in instants)


def identity_of(request: CreateClassRequest, first_start: datetime) -> SeriesIdentity:
    """The identity of the series ``request`` creates when its first class starts at ``first_start``."""
    return SeriesIdentity(
        request.title.strip(),
        presenter_key(request.presenter_email, request.presenter_id),
        request.time_zone,
        first_start.astimezone(timezone.utc),
    )


def record_instant(record: ClassRecord) -> datetime | None:
    """When a ``get_data`` record's class starts (aware UTC): its wall clock read in its own time zone."""
    wall = record.start_time
    zone_name = record.fields.get("time_zone", "").strip() or "GMT"
    if wall is None:
        return None
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    naive = wall if wall.tzinfo is None else wall.replace(tzinfo=None)  # a parsed wall clock is naive already
    return localize(naive, zone)[0].astimezone(timezone.utc)


def record_identity(record: ClassRecord, first_start: datetime) -> SeriesIdentity:
    """The identity of the series a record belongs to, given that series' first-class instant."""
    fields = record.fields
    return SeriesIdentity(
        fields.get("title", "").strip(),
        presenter_key(fields.get("presenter_email"), fields.get("presenter_id")),
        fields.get("time_zone", "").strip() or "GMT",
        first_start,
    )


def master_id(record: ClassRecord) -> int | None:
    text = record.fields.get("class_master_id", "").strip()
    return int(text) if text.isdigit() else None


class AccountIndex:
    """The account's recurring series, and its classes made alone, by identity, from one scan of its classes.

    A series' first class is its earliest class as WizIQ lists it, cancelled or not (a cancelled class is
    still listed), so a series keeps its identity when a class of it is cancelled. A class made alone is
    indexed while it stands (a cancelled one is no class to adopt). Look-ups go by title, presenter and first
    instant, then by :meth:`SeriesIdentity.same_series` over the found series' own instants.
    """

    def __init__(self, records: Iterable[ClassRecord]) -> None:
        self.classes = 0
        self._members: dict[int, list[tuple[datetime, ClassRecord]]] = {}
        self._alone: dict[tuple[str, str, datetime], list[tuple[SeriesIdentity, ClassRecord]]] = {}
        for record in records:
            self.classes += 1
            master, instant = master_id(record), record_instant(record)
            if instant is None:
                continue
            if master is None:
                if record.class_id is not None and record.status is not None:
                    identity = record_identity(record, instant)
                    self._alone.setdefault(identity.meeting, []).append((identity, record))
                continue
            self._members.setdefault(master, []).append((instant, record))
        for alike in self._alone.values():
            alike.sort(key=lambda item: item[1].class_id or 0)  # two alike: the first made
        self._series: dict[tuple[str, str, datetime], list[tuple[SeriesIdentity, int]]] = {}
        for master, members in self._members.items():
            members.sort(key=lambda item: (item[0], item[1].class_id or 0))
            first_instant, first = members[0]
            identity = record_identity(first, first_instant)
            self._series.setdefault(identity.meeting, []).append((identity, master))

    @property
    def series(self) -> int:
        """How many series the account holds."""
        return len(self._members)

    def find(self, identity: SeriesIdentity) -> int | None:
        """The ``class_master_id`` of the series that is the same series as ``identity``, or None."""
        for found, master in self._series.get(identity.meeting, ()):
            if identity.same_series(found, (instant for instant, _ in self._members[master])):
                return master
        return None

    def classes_of(self, class_master_id: int) -> list[tuple[datetime, ClassRecord]]:
        """A series' classes as read: (start instant in UTC, record), in order."""
        return list(self._members.get(class_master_id, ()))

    def find_class(self, identity: SeriesIdentity) -> ClassRecord | None:
        """The standing class made alone (no series) that is the same class as ``identity``, or None."""
        for found, record in self._alone.get(identity.meeting, ()):
            if identity.same_series(found, (found.first_start,)):
                return record
        return None


__all__ = [
    "LOOKUP_COLUMNS",
    "AccountIndex",
    "SeriesIdentity",
    "identity_of",
    "presenter_key",
    "record_instant",
]
