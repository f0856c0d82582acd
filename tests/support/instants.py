"""Instants computed independently of the provider: dateutil's own time zones and its RFC 5545 helpers.

The provider reads a wall clock with ``zoneinfo`` (``recurrence.localize``); these read it with ``dateutil.tz``,
so a test comparing the two checks the provider against a second implementation of the same rule: a wall clock
in a spring-forward gap moves forward by the gap, an ambiguous one is its first instant.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from dateutil import tz

UTC = timezone.utc


def instant(wall: datetime, zone: str) -> tuple[datetime, bool, bool]:
    """``(UTC instant, in_gap, in_fold)`` of a naive wall clock in the IANA zone ``zone``."""
    local = wall.replace(tzinfo=tz.gettz(zone))
    if not tz.datetime_exists(local):
        return tz.resolve_imaginary(local).astimezone(UTC), True, False
    if tz.datetime_ambiguous(local):
        return tz.enfold(local, fold=0).astimezone(UTC), False, True
    return local.astimezone(UTC), False, False


def instants(days: list[date], at: time, zone: str) -> list[datetime]:
    """The UTC instants of ``at`` on each of ``days`` in ``zone``."""
    return [instant(datetime.combine(day, at), zone)[0] for day in days]
