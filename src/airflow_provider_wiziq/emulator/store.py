"""The emulated account's classes and series: thread-safe, optionally persisted to a SQLite file.

Everything lives in memory behind one re-entrant lock; with a database file every change is also
written through, so a stopped emulator resumes where it was. The checks that must be atomic with the
insert (1032 same presenter and instant, 1012 too many concurrent classes, 1048 presenter_id taken)
are made here, under the same lock, so concurrent creates cannot both pass them.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError
from airflow_provider_wiziq.api.protocol.status import ClassStatus

_FIRST_CLASS_ID = 15001
_FIRST_CLASS_MASTER_ID = 2001

_DATETIMES = ("wall_clock", "utc_start", "created_at", "cancelled_at")


@dataclass
class StoredAttendee:
    attendee_id: str
    screen_name: str
    language_culture_name: str | None = None


@dataclass
class StoredClass:
    """One class; mutated only under the store's lock."""

    class_id: int
    class_master_id: int | None
    index: int  # position in its series (0 for a single class)
    title: str
    wall_clock: datetime  # naive wall clock the request asked for, in time_zone
    utc_start: datetime  # aware UTC: the instant it starts (a wall clock in a DST gap moved, see recurrence)
    time_zone: str
    duration: int
    extend_duration: int | None
    attendee_limit: int
    presenter_email: str | None
    presenter_id: str | None
    presenter_name: str | None
    language_culture_name: str | None
    create_recording: bool
    return_url: str | None
    status_ping_url: str | None
    in_gap: bool
    in_fold: bool
    created_at: datetime
    params: dict[str, str]  # the class's create parameters as wire strings: what modify starts from
    outcome: str = "completed"  # how it ends: completed (held) or expired (never held)
    cancelled_at: datetime | None = None
    announced: str = "upcoming"  # the last status announced to status_ping_url
    attendees: list[StoredAttendee] = field(default_factory=list)

    @property
    def local_start(self) -> datetime:
        return self.utc_start.astimezone(ZoneInfo(self.time_zone))

    @property
    def length(self) -> timedelta:
        return timedelta(minutes=self.duration + (self.extend_duration or 0))

    @property
    def utc_end(self) -> datetime:
        return self.utc_start + self.length

    @property
    def presenter_key(self) -> str:
        """Who presents, as 1032 compares presenters: the email (any case) or the room's presenter_id."""
        return f"email:{self.presenter_email.lower()}" if self.presenter_email else f"id:{self.presenter_id}"

    def to_json(self) -> str:
        data = asdict(self)
        for name in _DATETIMES:
            data[name] = None if data[name] is None else data[name].isoformat()
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StoredClass:
        data = json.loads(text)
        for name in _DATETIMES:
            if data[name] is not None:
                data[name] = datetime.fromisoformat(data[name])
        data["attendees"] = [StoredAttendee(**item) for item in data["attendees"]]
        return cls(**data)


@dataclass
class _StoredSeries:
    """A recurring series: its classes in order, WizIQ's summary, and the request that made it."""

    class_master_id: int
    class_ids: list[int]
    recurring_summary: str
    params: dict[str, str]
    created_at: datetime

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "created_at": self.created_at.isoformat()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> _StoredSeries:
        data = json.loads(text)
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        return cls(**data)


class Store:
    """Classes and series by id, with the indexes the conflict checks need."""

    def __init__(self, db_path: str | Path | None = None) -> None:
        self._lock = threading.RLock()
        self._db_path = None if db_path is None else str(db_path)
        self._db: sqlite3.Connection | None = None
        self._reset_memory()
        if self._db_path is not None:
            self.open()
            self._load()

    def open(self) -> None:
        """Connect to the database file (again, after :meth:`close`); memory stays the source of truth."""
        with self._lock:
            if self._db_path is None or self._db is not None:
                return
            self._db = sqlite3.connect(self._db_path, check_same_thread=False)
            self._db.executescript(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                "CREATE TABLE IF NOT EXISTS classes (class_id INTEGER PRIMARY KEY, data TEXT NOT NULL);"
                "CREATE TABLE IF NOT EXISTS series (class_master_id INTEGER PRIMARY KEY, data TEXT NOT NULL);"
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            )

    def _reset_memory(self) -> None:
        self._classes: dict[int, StoredClass] = {}
        self._series: dict[int, _StoredSeries] = {}
        self._next_class_id = _FIRST_CLASS_ID
        self._next_master_id = _FIRST_CLASS_MASTER_ID
        self._by_slot: dict[tuple[str, datetime], int] = {}  # (presenter, start instant) -> class_id
        self._starts: list[tuple[float, int]] = []  # (start timestamp, class_id), sorted; not cancelled
        self._longest = 0.0  # seconds: the longest class ever stored, bounds the overlap search
        self._presenter_names: dict[str, str] = {}  # presenter_id -> presenter_name (1048)
        self._watched: set[int] = set()  # classes with a status_ping_url whose end is not yet announced

    def _load(self) -> None:
        assert self._db is not None
        for (text,) in self._db.execute("SELECT data FROM classes ORDER BY class_id"):
            self._index(StoredClass.from_json(text))
        for (text,) in self._db.execute("SELECT data FROM series ORDER BY class_master_id"):
            series = _StoredSeries.from_json(text)
            self._series[series.class_master_id] = series
        self._next_class_id = max([_FIRST_CLASS_ID - 1, *self._classes]) + 1
        self._next_master_id = max([_FIRST_CLASS_MASTER_ID - 1, *self._series]) + 1

    @property
    def persistent(self) -> bool:
        return self._db_path is not None

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold the store's lock: read a class's state and change it without another call in between."""
        with self._lock:
            yield

    # Reading ------------------------------------------------------------------------------------------

    def get(self, class_id: int) -> StoredClass | None:
        with self._lock:
            return self._classes.get(class_id)

    def get_series(self, class_master_id: int) -> _StoredSeries | None:
        with self._lock:
            return self._series.get(class_master_id)

    def classes_of(self, class_master_id: int) -> list[StoredClass]:
        with self._lock:
            series = self._series.get(class_master_id)
            return [] if series is None else [self._classes[i] for i in series.class_ids]

    def all_classes(self) -> list[StoredClass]:
        with self._lock:
            return [self._classes[i] for i in sorted(self._classes)]

    def all_series(self) -> list[_StoredSeries]:
        with self._lock:
            return [self._series[i] for i in sorted(self._series)]

    def watched(self) -> list[StoredClass]:
        with self._lock:
            return [self._classes[i] for i in sorted(self._watched)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._classes)

    # Writing ------------------------------------------------------------------------------------------

    def add(
        self,
        drafts: list[StoredClass],
        *,
        summary: str | None = None,
        params: dict[str, str] | None = None,
        max_concurrent: int | None = None,
    ) -> tuple[_StoredSeries | None, list[StoredClass]]:
        """Give the drafts ids and store them, as one series when ``summary`` is given; all or nothing."""
        with self._lock:
            self._check(drafts, max_concurrent=max_concurrent)
            series = None
            if summary is not None:
                series = _StoredSeries(self._next_master_id, [], summary, dict(params or {}), drafts[0].created_at)
                self._next_master_id += 1
            stored = []
            for draft in drafts:
                draft.class_id = self._next_class_id
                self._next_class_id += 1
                if series is not None:
                    draft.class_master_id = series.class_master_id
                    series.class_ids.append(draft.class_id)
                self._index(draft)
                stored.append(draft)
            if series is not None:
                self._series[series.class_master_id] = series
            self._write(stored, series)
            return series, stored

    def replace(self, updated: StoredClass, *, max_concurrent: int | None = None) -> None:
        """Store a modified class in place of the one with its id, after the same conflict checks."""
        with self._lock:
            self._check([updated], max_concurrent=max_concurrent, ignore=updated.class_id)
            self._unindex(self._classes[updated.class_id])
            self._index(updated)
            self._write([updated])

    def cancel(self, cls: StoredClass, at: datetime) -> None:
        with self._lock:
            cls.cancelled_at = at
            self._unindex(cls)
            self._classes[cls.class_id] = cls
            self._write([cls])

    def save(self, cls: StoredClass) -> None:
        """Persist a change made in place (attendees, outcome, announced status)."""
        with self._lock:
            self._track(cls)
            self._write([cls])

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            if self._db is None:
                return None
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            if self._db is not None:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
                self._db.commit()

    def clear(self) -> None:
        """Forget every class and series (also in the database file); ids start again."""
        with self._lock:
            self._reset_memory()
            if self._db is not None:
                self._db.executescript("DELETE FROM classes; DELETE FROM series; DELETE FROM meta;")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # Indexes and checks --------------------------------------------------------------------------------

    def _track(self, cls: StoredClass) -> None:
        """Watch a class for status pings while it has a ping URL and has not announced a final status."""
        if cls.status_ping_url and not ClassStatus(cls.announced).is_terminal:
            self._watched.add(cls.class_id)
        else:
            self._watched.discard(cls.class_id)

    def _index(self, cls: StoredClass) -> None:
        self._classes[cls.class_id] = cls
        # presenter_id names a room's presenter only without an email; beside one it is carried along (1048 skips it)
        if cls.presenter_email is None and cls.presenter_id is not None and cls.presenter_name is not None:
            self._presenter_names.setdefault(cls.presenter_id, cls.presenter_name)
        self._track(cls)
        if cls.cancelled_at is not None:
            return
        self._by_slot[(cls.presenter_key, cls.utc_start)] = cls.class_id
        bisect.insort(self._starts, (cls.utc_start.timestamp(), cls.class_id))
        self._longest = max(self._longest, cls.length.total_seconds())

    def _unindex(self, cls: StoredClass) -> None:
        if self._by_slot.get((cls.presenter_key, cls.utc_start)) == cls.class_id:
            del self._by_slot[(cls.presenter_key, cls.utc_start)]
        key = (cls.utc_start.timestamp(), cls.class_id)
        position = bisect.bisect_left(self._starts, key)
        if position < len(self._starts) and self._starts[position] == key:
            del self._starts[position]

    def _check(self, drafts: list[StoredClass], *, max_concurrent: int | None, ignore: int | None = None) -> None:
        """1048, 1032 and 1012 for classes about to be stored (``ignore``: the class being modified)."""
        for draft in drafts:
            if draft.presenter_email is None and draft.presenter_id is not None and draft.presenter_name is not None:
                known = self._presenter_names.get(draft.presenter_id)
                if known is not None and known.casefold() != draft.presenter_name.casefold():
                    raise WizIQAPIError.from_code(1048)
        slots: set[tuple[str, datetime]] = set()
        for draft in drafts:
            slot = (draft.presenter_key, draft.utc_start)
            holder = self._by_slot.get(slot)
            if (holder is not None and holder != ignore) or slot in slots:
                raise WizIQAPIError.from_code(1032)
            slots.add(slot)
        if max_concurrent is None:
            return
        accepted: list[StoredClass] = []
        for draft in drafts:
            overlapping = self._overlapping(draft, ignore) + sum(1 for other in accepted if _overlap(draft, other))
            if overlapping + 1 > max_concurrent:
                raise WizIQAPIError.from_code(1012)
            accepted.append(draft)

    def _overlapping(self, draft: StoredClass, ignore: int | None) -> int:
        """Stored, not cancelled classes whose time overlaps the draft's."""
        start = draft.utc_start.timestamp()
        low = bisect.bisect_left(self._starts, (start - self._longest,))
        high = bisect.bisect_left(self._starts, (draft.utc_end.timestamp(),))
        return sum(
            1
            for _, class_id in self._starts[low:high]
            if class_id != ignore and _overlap(draft, self._classes[class_id])
        )

    def _write(self, classes: list[StoredClass], series: _StoredSeries | None = None) -> None:
        if self._db is None:
            return
        self._db.executemany(
            "INSERT OR REPLACE INTO classes VALUES (?, ?)", [(cls.class_id, cls.to_json()) for cls in classes]
        )
        if series is not None:
            self._db.execute("INSERT OR REPLACE INTO series VALUES (?, ?)", (series.class_master_id, series.to_json()))
        self._db.commit()


def _overlap(one: StoredClass, other: StoredClass) -> bool:
    return one.utc_start < other.utc_end and other.utc_start < one.utc_end


def as_dict(cls: StoredClass) -> dict[str, Any]:
    """A class as JSON-ready data (datetimes in ISO 8601)."""
    data: dict[str, Any] = json.loads(cls.to_json())
    data["params"] = dict(cls.params)
    return data
