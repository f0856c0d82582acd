"""The ping inbox: which classes WizIQ said changed, and when, for the triggerer to read. Never their status.

It lives under ``[wiziq] ping_inbox``, an ``ObjectStoragePath`` URL (``file:///shared/wiziq-pings``,
``s3://bucket/wiziq-pings``) that the api-server writes and every triggerer reads, on any Airflow 3.1 to 3.3:
nothing in it goes through Airflow's database or execution API. Per connection::

    <ping_inbox>/<conn_id>/<YYYYmmddHHMM>/<received_at_ms>-<class_id>-<random>   one empty entry per ping
    <ping_inbox>/<conn_id>/bell                                                 rewritten after each entry

Entries are written once and never changed, so api-server workers never race on one object. A reader looks at
the small ``bell`` every few seconds and lists only the minute folders around its last read when the bell has
changed. Minute folders older than ``KEEP_SECONDS`` are deleted by the writers.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)

#: How long entries are kept.
KEEP_SECONDS = 24 * 3600
#: How often one writer process looks for folders to delete.
PRUNE_EVERY = 600.0
#: Clock difference tolerated between the api-server that stamps an entry and the triggerer that reads it.
CLOCK_SKEW = 120.0
#: Furthest back a reader lists after it fell behind (a ping older than this is left to the idle poll).
MAX_LOOKBACK = 3600.0

_BELL = "bell"
_BUCKET = "%Y%m%d%H%M"
_ENTRY = re.compile(r"(?P<at>[0-9]{13})-(?P<class_id>[0-9]{1,18})-[0-9a-f]{8}")
_CONN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}")
_pruned: dict[str, float] = {}  # inbox folder -> when this process last pruned it
_prune_lock = threading.Lock()


def valid_conn_id(conn_id: str) -> bool:
    """Whether ``conn_id`` can name an inbox folder (Airflow's own connection ids always can)."""
    return bool(_CONN_ID.fullmatch(conn_id)) and conn_id not in (".", "..")


def _bucket(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime(_BUCKET)


class PingInbox:
    """One connection's entries under the inbox URL ``root`` (an ObjectStoragePath URL)."""

    def __init__(self, root: str, conn_id: str) -> None:
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        if not valid_conn_id(conn_id):
            raise ValueError(f"not a connection id an inbox can hold: {conn_id!r}")
        self.conn_id = conn_id
        where = ObjectStoragePath(root) / conn_id
        self.fs: Any = where.fs
        self.folder: str = where.path.rstrip("/")

    def record(self, class_id: int, received_at: float | None = None) -> str:
        """Note that a ping for ``class_id`` came at ``received_at`` (Unix seconds; now by default); returns the
        entry's name."""
        moment = time.time() if received_at is None else received_at
        bucket = f"{self.folder}/{_bucket(moment)}"
        name = f"{round(moment * 1000):013d}-{class_id}-{secrets.token_hex(4)}"
        self.fs.makedirs(bucket, exist_ok=True)
        self.fs.pipe_file(f"{bucket}/{name}", b"")
        self.fs.pipe_file(f"{self.folder}/{_BELL}", name.encode("ascii"))  # after the entry: see InboxReader
        self._prune_now_and_then(moment)
        return name

    def bell(self) -> str:
        """The bell's content: it changes with every entry ('' before the first)."""
        try:
            return bytes(self.fs.cat_file(f"{self.folder}/{_BELL}")).decode("ascii", "replace")
        except FileNotFoundError:
            return ""

    def entries(self, start: float, end: float) -> set[str]:
        """The names of the entries in the minute folders from ``start`` to ``end`` (Unix seconds)."""
        names: set[str] = set()
        minute = int(start // 60) * 60
        while minute <= end:
            try:
                listed = self.fs.ls(f"{self.folder}/{_bucket(minute)}", detail=False, refresh=True)
            except FileNotFoundError:
                listed = []
            names.update(str(path).rstrip("/").rsplit("/", 1)[-1] for path in listed)
            minute += 60
        return names

    def prune(self, now: float | None = None) -> int:
        """Delete the minute folders older than ``KEEP_SECONDS``; how many."""
        oldest = _bucket((time.time() if now is None else now) - KEEP_SECONDS)
        try:
            listed = self.fs.ls(self.folder, detail=False, refresh=True)
        except FileNotFoundError:
            return 0
        old = [path for path in listed if re.fullmatch(r"[0-9]{12}", str(path).rstrip("/").rsplit("/", 1)[-1])]
        old = [path for path in old if str(path).rstrip("/").rsplit("/", 1)[-1] < oldest]
        for path in old:
            self.fs.rm(path, recursive=True)
        return len(old)

    def _prune_now_and_then(self, now: float) -> None:
        key = f"{self.fs.protocol}:{self.folder}"
        with _prune_lock:
            if now - _pruned.get(key, 0.0) < PRUNE_EVERY:
                return
            _pruned[key] = now
        try:
            removed = self.prune(now)
        except OSError as error:  # pruning is housekeeping: a failure must not lose the ping just recorded
            log.warning("Could not prune the WizIQ ping inbox of %r: %s", self.conn_id, error)
            return
        if removed:
            log.info("Pruned %d minute folders over 24 h old from the WizIQ ping inbox of %r", removed, self.conn_id)

    def reader(self) -> InboxReader:
        return InboxReader(self)


def parse_entry(name: str) -> tuple[int, float] | None:
    """``(class_id, received_at)`` of an entry's name, or None for a name that is not an entry."""
    found = _ENTRY.fullmatch(name)
    if found is None or int(found["class_id"]) == 0:
        return None
    return int(found["class_id"]), int(found["at"]) / 1000


class InboxReader:
    """Reads one connection's inbox for a triggerer's poller: which classes rang since the last read.

    The first read only notes what is there (a new poller asks about every class it is given anyway). Each
    later read looks at the bell and, when it changed, lists the minute folders from the last read (less
    ``CLOCK_SKEW``) to now (plus it): the entries not seen before are the news. The bell is read before the
    folders and written after each entry, so an entry the listing missed changes the bell once more.
    """

    def __init__(self, inbox: PingInbox) -> None:
        self.inbox = inbox
        self._bell: str | None = None
        self._seen: set[str] = set()
        self._last_read = 0.0

    def read(self, now: float | None = None) -> dict[int, float]:
        """The classes rung since the last read, each with its newest ping's time (Unix seconds)."""
        now = time.time() if now is None else now
        bell = self.inbox.bell()
        first = self._bell is None
        if not first and bell == self._bell:
            self._last_read = now  # nothing was recorded before the bell was read: the next listing starts here
            return {}
        start = max(now if first else self._last_read, now - MAX_LOOKBACK) - CLOCK_SKEW
        names = self.inbox.entries(start, now + CLOCK_SKEW)
        new = names - self._seen
        self._seen, self._bell, self._last_read = names, bell, now
        rung: dict[int, float] = {}
        for name in () if first else new:
            entry = parse_entry(name)
            if entry is not None:
                class_id, received_at = entry
                rung[class_id] = max(received_at, rung.get(class_id, 0.0))
        return rung


__all__ = ["KEEP_SECONDS", "InboxReader", "PingInbox", "parse_entry", "valid_conn_id"]
