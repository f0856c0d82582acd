"""The term ledger: what the sync made for each section, kept in a key-value state store.

The store is Airflow's asset state store of the term's asset (any object with ``get``, ``set`` and
``delete`` works). One small key per section (``section/<key>``), an index of the section keys
(``index/<n>``), a format version (``format``), a lease (``lease``) and a **marker** (``marker``) written
when a run has recorded every write it made; a run that creates series removes it first. Without the
marker the ledger may not be whole (it was deleted, never written, or a run stopped before its end): the
sync then adopts what stands on WizIQ before it creates anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from airflow_provider_wiziq.api.protocol.errors import WizIQError

FORMAT_VERSION = 1
FORMAT_KEY = "format"
MARKER_KEY = "marker"
LEASE_KEY = "lease"
INDEX_KEY = "index"
SECTION_KEY = "section"
#: Section keys per index value, so that each stays small.
INDEX_SHARD = 400
#: A lease not renewed for this long belongs to a run that died: another run may take it over.
LEASE_SECONDS = 900

#: A class's state in the ledger, and the word the report uses for it.
SCHEDULED = "scheduled"
CANCELLED_HOLIDAY = "cancelled_holiday"
CANCELLED_REMOVED = "cancelled_removed"
CANCELLED_ON_WIZIQ = "cancelled_on_wiziq"  # cancelled by someone else; a new class replaces it
CANCELLED = "cancelled"  # a class the sync no longer wants for another reason (an extra slot of a series)
_CODES = {SCHEDULED: "s", CANCELLED_HOLIDAY: "h", CANCELLED_REMOVED: "r", CANCELLED_ON_WIZIQ: "w", CANCELLED: "x"}
_STATES = {code: state for state, code in _CODES.items()}


class StateStore(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...


class LedgerError(WizIQError):
    """The ledger cannot be used: written by a newer format, or another run of the term holds it."""


@dataclass
class LedgerClass:
    """One class the sync made or adopted."""

    class_id: int
    start: datetime  # aware UTC
    state: str
    class_master_id: int | None
    fields: str = ""  # fingerprint of the update fields last written to it ("" unknown)
    roster: str = ""  # fingerprint of the roster last enrolled in it

    def encode(self) -> list[Any]:
        return [
            self.class_id,
            int(self.start.timestamp()),
            _CODES[self.state],
            self.class_master_id,
            self.fields,
            self.roster,
        ]

    @classmethod
    def decode(cls, item: list[Any]) -> LedgerClass:
        class_id, epoch, code, master, fields, roster = item
        start = datetime.fromtimestamp(int(epoch), timezone.utc)
        return cls(int(class_id), start, _STATES[code], None if master is None else int(master), fields, roster)


@dataclass
class SectionEntry:
    """One section's ledger: its placement (presenter and zone), its series and classes, creates in flight."""

    placement: str = ""
    spec: str = ""  # fingerprint of the whole section and holidays as last applied
    series: list[int] = field(default_factory=list)
    classes: list[LedgerClass] = field(default_factory=list)
    pending: list[list[Any]] = field(default_factory=list)  # [title, presenter, zone, epoch]: sent, unanswered
    removed: bool = False  # no longer declared
    #: For each fields fingerprint its classes carry, the values get_data shows of it (title, duration,
    #: attendee limit): a class showing new values had its modify applied, even if no record of it was kept.
    shown: dict[str, list[str]] = field(default_factory=dict)

    def encode(self) -> dict[str, Any]:
        used = {item.fields for item in self.classes}
        return {
            "placement": self.placement,
            "spec": self.spec,
            "series": list(self.series),
            "classes": [item.encode() for item in sorted(self.classes, key=lambda c: (c.start, c.class_id))],
            "pending": [list(item) for item in self.pending],
            "removed": self.removed,
            "shown": {fingerprint: list(values) for fingerprint, values in self.shown.items() if fingerprint in used},
        }

    @classmethod
    def decode(cls, value: Any) -> SectionEntry:
        if not isinstance(value, dict):
            raise LedgerError(f"a ledger section is not a dict but {type(value).__name__}")
        return cls(
            placement=str(value.get("placement", "")),
            spec=str(value.get("spec", "")),
            series=[int(item) for item in value.get("series", [])],
            classes=[LedgerClass.decode(item) for item in value.get("classes", [])],
            pending=[list(item) for item in value.get("pending", [])],
            removed=bool(value.get("removed", False)),
            shown={str(key): [str(item) for item in items] for key, items in value.get("shown", {}).items()},
        )

    def by_id(self) -> dict[int, LedgerClass]:
        return {item.class_id: item for item in self.classes}


class TermLedger:
    """Reads and writes a term's ledger in ``store``; every write goes straight to the store, one at a time."""

    def __init__(self, store: StateStore, *, clock: Any = time.time) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.RLock()
        self.writes = 0

    # The whole ledger -------------------------------------------------------------------------------------

    def check_format(self) -> None:
        found = self._get(FORMAT_KEY)
        if found is not None and found != FORMAT_VERSION:
            raise LedgerError(
                f"The term's ledger has format {found!r}; this provider reads format {FORMAT_VERSION}. "
                "Upgrade the provider (or clear the asset's state to start the ledger again)."
            )

    def marker(self) -> dict[str, Any] | None:
        found = self._get(MARKER_KEY)
        return found if isinstance(found, dict) else None

    def write_marker(self, term: str, sections: int, run: str) -> None:
        self._set(FORMAT_KEY, FORMAT_VERSION)
        stamp = datetime.fromtimestamp(self._clock(), timezone.utc).isoformat(timespec="seconds")
        self._set(MARKER_KEY, {"term": term, "sections": sections, "run": run, "at": stamp})

    def clear_marker(self) -> None:
        """Mark the ledger as possibly incomplete until ``write_marker`` (a run is about to create series)."""
        self._delete(MARKER_KEY)

    def keys(self) -> list[str]:
        """Every section key the ledger holds."""
        keys: list[str] = []
        shard = 0
        while True:
            found = self._get(f"{INDEX_KEY}/{shard}")
            if not isinstance(found, list):
                break
            keys.extend(str(item) for item in found)
            shard += 1
        return keys

    def write_keys(self, keys: Iterable[str]) -> None:
        ordered = list(dict.fromkeys(keys))
        shards = [ordered[i : i + INDEX_SHARD] for i in range(0, len(ordered), INDEX_SHARD)]
        for number, shard in enumerate(shards):
            self._set(f"{INDEX_KEY}/{number}", shard)
        number = len(shards)
        while self._get(f"{INDEX_KEY}/{number}") is not None:
            self._delete(f"{INDEX_KEY}/{number}")
            number += 1

    # Sections --------------------------------------------------------------------------------------------

    def section(self, key: str) -> SectionEntry | None:
        found = self._get(f"{SECTION_KEY}/{key}")
        return None if found is None else SectionEntry.decode(found)

    def save(self, key: str, entry: SectionEntry) -> None:
        self._set(f"{SECTION_KEY}/{key}", entry.encode())

    # The lease: refusing a concurrent run ------------------------------------------------------------------

    def acquire(self, owner: str, run: str) -> None:
        """Take the term for this run, refusing if another run holds a fresh lease.

        ``owner`` names this try (run and try number); a lease held by another try of the same ``run`` is
        taken over (that try is over: Airflow runs one try of a task instance at a time).
        """
        held = self._get(LEASE_KEY)
        now = self._clock()
        if isinstance(held, dict) and held.get("owner") != owner and held.get("run") != run:
            age = now - float(held.get("at", 0))
            if 0 <= age < LEASE_SECONDS:
                raise LedgerError(
                    f"Another run of this term ({held.get('run')!r}) is in progress (it renewed its lease "
                    f"{age:.0f} s ago): refusing to run at the same time, which could corrupt the ledger. Run the "
                    f"sync with max_active_runs=1. A lease not renewed for {LEASE_SECONDS} s is taken over."
                )
        self._lease: dict[str, Any] | None = {"owner": owner, "run": run, "at": now}
        self._set(LEASE_KEY, self._lease)
        confirmed = self._get(LEASE_KEY)
        if not isinstance(confirmed, dict) or confirmed.get("owner") != owner:
            raise LedgerError(f"Another run of this term took its lease at the same moment ({confirmed!r}).")

    def renew(self) -> None:
        """Renew the lease (at most once a minute), refusing to go on if another run has taken it."""
        lease = getattr(self, "_lease", None)
        if lease is None or self._clock() - lease["at"] < 60:
            return
        held = self._get(LEASE_KEY)
        if not isinstance(held, dict) or held.get("owner") != lease["owner"]:
            raise LedgerError(f"Another run of this term has taken its lease ({held!r}): stopping.")
        lease["at"] = self._clock()
        self._set(LEASE_KEY, lease)

    def release(self) -> None:
        lease = getattr(self, "_lease", None)
        if lease is None:
            return
        held = self._get(LEASE_KEY)
        if isinstance(held, dict) and held.get("owner") == lease["owner"]:
            self._delete(LEASE_KEY)
        self._lease = None

    # Every access goes through one lock: worker threads record sections while the main thread renews the
    # lease, and a store's channel to Airflow may serve one call at a time (dag.test()'s in-process one does).

    def _get(self, key: str) -> Any:
        with self._lock:
            return self._store.get(key)

    def _set(self, key: str, value: Any) -> None:
        with self._lock:
            self._store.set(key, value)
            self.writes += 1

    def _delete(self, key: str) -> None:
        with self._lock:
            self._store.delete(key)


__all__ = [
    "CANCELLED",
    "CANCELLED_HOLIDAY",
    "CANCELLED_ON_WIZIQ",
    "CANCELLED_REMOVED",
    "SCHEDULED",
    "LedgerClass",
    "LedgerError",
    "SectionEntry",
    "StateStore",
    "TermLedger",
]
