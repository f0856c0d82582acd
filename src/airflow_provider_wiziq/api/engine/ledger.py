"""Every ledger the provider keeps (docs/term-sync.md): the term ledger here, and every ledger name importable here.

**The term ledger** (``SyncTermOperator``), in any key-value store with ``get``, ``set`` and ``delete``
(:class:`.stores.StateStore`; the term asset's state store on Airflow 3.3). It is scoped by **account**: a digest of the
connection's endpoint URL and access key (never the key itself) prefixes every key, so a term name synced from
two connections keeps two ledgers that never meet. Per account:

- ``<account>/head``: the format version, a generation bumped by every run that writes, the number of shards,
  the **marker** (written when a run has recorded every write it made) and the **lease** (refusing a
  concurrent run);
- ``<account>/s/<n>``: the sections, packed into shards of at most 60 KiB (Airflow's state store policy is
  64 KiB), each section one JSON string; a run rewrites only the shards whose sections changed. Each section
  keeps what runs changed in it that no asset event has announced yet (a failed or stopped run's changes).

Every stored value is decoded strictly. An entry that cannot be read is treated as missing (its section is then
adopted from WizIQ, with a warning naming the key); a head, lease or marker that cannot be read is treated as
absent. The earlier formats are read and upgraded in place by the next run that writes: the first (``format``,
``marker``, ``lease``, ``index/<n>``, ``section/<key>``, not scoped) and the second (each section a JSON object in
its shard; the shards are packed again, a string taking a few more bytes).

The ledgers live in three modules: this one (the term ledger: reading, the lease, batches of writes), its stored
format in :mod:`.ledger_format`, and the series ledgers of ``CreateRecurringClassOperator`` (one key) and
``CreateRecurringClassesOperator`` (sharded dicts of key -> series id) in :mod:`.series_ledger`. Every name is
importable from here as before.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import timezone
from types import MappingProxyType
from typing import Any

from airflow_provider_wiziq.api.engine.ledger_format import (
    FORMAT_VERSION,
    PLAIN_SHARD_BYTES,
    SHARD_BYTES,
    Head,
    LedgerError,
    Unreadable,
    decode_entry,
    decode_first_format,
    decode_head,
    decode_shard,
    encode_entry,
    encode_head,
    encode_shard,
    entry_size,
    is_current,
)
from airflow_provider_wiziq.api.engine.series_ledger import (
    SERIES_KEY,
    SERIES_LEDGER_KEY,
    SeriesLedger,
    read_series_id,
    write_series_id,
)
from airflow_provider_wiziq.api.engine.stores import StateStore, UnreadableValueError
from airflow_provider_wiziq.api.protocol.config import url_without_credentials
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.clock import SYSTEM_CLOCK, Clock
from airflow_provider_wiziq.api.rules.state import Marker, SectionEntry, TermState

log = logging.getLogger(__name__)

#: A lease not renewed for this long belongs to a run that died: another run may take it over.
LEASE_SECONDS = 900
#: A run renews its lease at most this often.
RENEW_SECONDS = 60


class LeaseHeld(LedgerError):
    """Another run of the term holds its lease: retrying after it ends (or its lease expires) is safe."""

    transient = True


class _NoStore:
    """No ledger at all (``ledger_path="none"``): nothing is kept, nothing is read back, no lease is held."""

    def get(self, key: str, default: Any = None) -> Any:
        return default

    def set(self, key: str, value: Any) -> None:
        pass

    def delete(self, key: str) -> None:
        pass


#: What a value a store cannot decode reads as: no decoder here accepts it, so it is treated as missing.
_UNREADABLE = object()


def account_scope(endpoint: str, access_key: str) -> str:
    """The account a ledger belongs to: a digest of the endpoint URL without its credentials (``user:password@``
    and query string: they neither reach the ledger nor change the account) and the access key (not reversible)."""
    return hashlib.sha256(f"{url_without_credentials(endpoint)}\n{access_key}".encode()).hexdigest()[:16]


# The term ledger --------------------------------------------------------------------------------------------


class TermLedger:
    """A term's ledger on one account, in ``store``. Reads are whole; writes go shard by shard, in batches."""

    def __init__(self, store: StateStore | None, *, term: str, account: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store: StateStore = store if store is not None else _NoStore()
        self.durable = store is not None
        self.term = term
        self.account = account
        self._clock = clock
        self._lock = threading.RLock()
        self._head = Head()
        self._shard_of: dict[str, int] = {}
        self._shards: list[dict[str, Any]] = []  # encoded entries per shard, as stored
        self._sizes: list[int] = []  # each shard's encoded size (an upper bound), kept as entries come and go
        self._v1_keys: list[str] = []
        self._older = False  # a shard holds sections in format 2's form: the next write repacks every shard
        self._lease: dict[str, Any] | None = None
        self.calls = {"get": 0, "set": 0, "delete": 0}

    def _key(self, name: str) -> str:
        return f"{self.account}/{name}"

    # Reading ---------------------------------------------------------------------------------------------

    def read(self) -> TermState:
        """The whole ledger of this account (the head, then every shard)."""
        stored = self._get(self._key("head"))
        if stored is None:
            return self._read_first_format()
        try:
            head = decode_head(stored)
        except Unreadable as error:
            log.warning("The term ledger's head %r cannot be read (%s): treated as absent", self._key("head"), error)
            head = Head(shards=self._count_shards())
        self._head = head
        entries: dict[str, SectionEntry] = {}
        unreadable: list[str] = []
        self._shards = []
        for number in range(head.shards):
            shard = self._read_shard(number)
            self._shards.append(dict(shard))
            self._sizes.append(2 + sum(entry_size(key, value) for key, value in shard.items()))
            for key, value in shard.items():
                self._shard_of[key] = number
                try:
                    entries[key] = decode_entry(value)
                    if not is_current(value):  # format 2's object: in this format's string from now on
                        self._shards[number][key] = encode_entry(entries[key])
                        self._older = True
                except Unreadable as error:
                    unreadable.append(key)
                    log.warning(
                        "The ledger entry of section %r (in %r) cannot be read (%s): the section is adopted from "
                        "WizIQ as if it had no ledger",
                        key,
                        self._key(f"s/{number}"),
                        error,
                    )
        return TermState(
            entries=MappingProxyType(entries),
            marker=head.marker,
            generation=head.generation,
            unreadable=tuple(unreadable),
            found=True,
        )

    def _read_shard(self, number: int) -> dict[str, Any]:
        stored = self._get(self._key(f"s/{number}"))
        if stored is None:
            return {}
        try:
            return decode_shard(stored)
        except Unreadable as error:
            log.warning(
                "Ledger shard %r cannot be read (%s): its sections are adopted again", self._key(f"s/{number}"), error
            )
            return {}

    def _count_shards(self) -> int:
        number = 0
        while self._get(self._key(f"s/{number}")) is not None:
            number += 1
        return number

    def _read_first_format(self) -> TermState:
        """A ledger written by format 1 (not scoped by account), upgraded by the next run that writes."""
        version = self._get("format")
        if version is None:
            return TermState()
        if version != 1:
            raise LedgerError(
                f"The term's ledger has format {version!r}, which this provider does not read (it reads "
                f"{FORMAT_VERSION} and 1). Upgrade the provider, or clear the term asset's state to start again."
            ) from None
        keys: list[str] = []
        shard = 0
        while isinstance(found := self._get(f"index/{shard}"), list):
            keys.extend(str(item) for item in found)
            shard += 1
        self._v1_keys = ["format", "marker", *(f"index/{n}" for n in range(shard))]
        entries: dict[str, SectionEntry] = {}
        unreadable = []
        for key in keys:
            self._v1_keys.append(f"section/{key}")
            value = self._get(f"section/{key}")
            if value is None:
                continue
            try:
                entries[key] = decode_first_format(value)
            except Unreadable as error:
                unreadable.append(key)
                log.warning("The ledger entry %r cannot be read (%s): the section is adopted", f"section/{key}", error)
        marker = self._get("marker")
        log.info(
            "Read the term ledger in its first format (%s); the next run that writes upgrades it",
            counted(len(entries), "section"),
        )
        self._shard_of = {}
        self._shards = []
        self._sizes = []
        return TermState(
            entries=MappingProxyType(entries),
            marker=Marker(str(marker.get("run", "")), str(marker.get("at", ""))) if isinstance(marker, dict) else None,
            unreadable=tuple(unreadable),
            found=True,
        )

    @property
    def upgrading(self) -> bool:
        """The ledger was read in an earlier format: the next write upgrades it."""
        return bool(self._v1_keys) or self._older

    # The lease: refusing a concurrent run ------------------------------------------------------------------

    def acquire(self, owner: str, run: str, *, generation: int, clear_marker: bool) -> None:
        """Take the term for this run, refusing if another run holds a fresh lease or wrote since this run read.

        ``owner`` names this try (run and try number); a lease held by another try of the same ``run`` is taken
        over (Airflow runs one try of a task instance at a time). ``clear_marker``: the run is about to write
        to WizIQ, so until it ends the ledger may not hold every write.
        """
        with self._lock:
            stored = self._get(self._key("head"))
            try:
                head = decode_head(stored) if stored is not None else Head(generation=0)
            except Unreadable:
                head = replace(self._head, lease=None)
            now = self._now()
            held = head.lease
            if held is not None and held.get("owner") != owner and held.get("run") != run:
                age = now - float(held.get("at", 0))
                if 0 <= age < LEASE_SECONDS:
                    raise LeaseHeld(
                        f"Another run of this term ({held.get('run')!r}) is in progress (it renewed its lease "
                        f"{age:.0f} s ago): refusing to run at the same time, which could corrupt the ledger. Run "
                        f"the sync with max_active_runs=1; retries wait it out (a lease not renewed for "
                        f"{LEASE_SECONDS} s is taken over)."
                    )
            if head.generation != generation:
                raise LeaseHeld(
                    "Another run of this term wrote its ledger after this run read it: planning again is needed "
                    "(a retry does it)."
                )
            self._lease = {"owner": owner, "run": run, "at": now}
            if not self.durable:
                return
            marker = None if clear_marker else head.marker
            self._head = replace(head, lease=self._lease, marker=marker, shards=max(head.shards, len(self._shards)))
            self._write_head()
            confirmed = self._get(self._key("head"))
            if not isinstance(confirmed, dict) or (confirmed.get("lease") or {}).get("owner") != owner:
                self._lease = None
                raise LeaseHeld("Another run of this term took its lease at the same moment: a retry runs after it.")

    def renew(self) -> None:
        """Renew the lease (at most once a minute), refusing to go on if another run has taken it."""
        with self._lock:
            lease = self._lease
            if lease is None or not self.durable or self._now() - lease["at"] < RENEW_SECONDS:
                return
            stored = self._get(self._key("head"))
            held = stored.get("lease") if isinstance(stored, dict) else None
            if not isinstance(held, dict) or held.get("owner") != lease["owner"]:
                raise LedgerError(f"Another run of this term has taken its lease ({held!r}): stopping.")
            lease["at"] = self._now()
            self._head = replace(self._head, lease=lease)
            self._write_head()

    def finish(self, run: str) -> None:
        """End a run that recorded every write: the marker, a new generation, the lease released."""
        with self._lock:
            stamp = self._clock.now().astimezone(timezone.utc).isoformat(timespec="seconds")
            marker = Marker(run, stamp)
            self._head = replace(self._head, generation=self._head.generation + 1, marker=marker, lease=None)
            self._write_head()
            self._lease = None

    def release(self) -> None:
        """Give the lease back without a marker (a run that stopped before recording everything); a lease another
        run has taken meanwhile is left to it."""
        with self._lock:
            lease, self._lease = self._lease, None
            if lease is None or not self.durable:
                return
            stored = self._get(self._key("head"))
            held = stored.get("lease") if isinstance(stored, dict) else None
            if isinstance(held, dict) and held.get("owner") != lease["owner"]:
                return
            self._head = replace(self._head, lease=None, generation=self._head.generation + 1)
            self._write_head()

    # Writing sections --------------------------------------------------------------------------------------

    def record(self, entries: Mapping[str, SectionEntry | None]) -> None:
        """Write these sections (None deletes one), rewriting only the shards they are in."""
        with self._lock:
            dirty: set[int] = set()
            stale = self._repack() if self._older else range(0)
            if self._v1_keys or self._older:
                dirty.update(range(len(self._shards)))
            for key, entry in entries.items():
                number = self._shard_of.get(key)
                encoded = None if entry is None else encode_entry(entry)
                if number is not None:
                    if encoded is not None and self._shards[number].get(key) == encoded:
                        continue
                    self._take(number, key)
                    dirty.add(number)
                if encoded is None:
                    continue
                number = self._place(key, entry_size(key, encoded), prefer=number)
                self._put(number, key, encoded)
                dirty.add(number)
            self._write_shards(sorted(dirty))
            if len(self._shards) != self._head.shards or self._older:
                self._head = replace(self._head, shards=len(self._shards))
                self._write_head()
            for number in stale:
                if number >= len(self._shards):
                    self._delete(self._key(f"s/{number}"))
            for key in self._v1_keys:
                self._delete(key)
            if self.upgrading:
                log.info("Upgraded the term ledger to format %d (%d shards)", FORMAT_VERSION, len(self._shards))
                self._older, self._v1_keys = False, []

    def _write_shards(self, numbers: list[int]) -> None:
        """Write these shards, packed; one whose packed form does not fit is split in two (the second half a new
        shard) until each fits."""
        while numbers:
            number = numbers.pop(0)
            value = encode_shard(self._shards[number])
            if value is None:
                numbers[:0] = [number, self._split(number)]
                continue
            self._set(self._key(f"s/{number}"), value)

    def _split(self, number: int) -> int:
        """Move the second half of a shard's sections to a new shard; its number."""
        keys = list(self._shards[number])
        moved = self._new_shard()
        for key in keys[len(keys) // 2 :]:
            self._put(moved, key, self._take(number, key))
        return moved

    def _repack(self) -> range:
        """Place every section again (a section in this format's string takes more bytes than format 2's object
        did); the shard numbers that held sections before, to delete those no longer used."""
        held = [(key, value) for shard in self._shards for key, value in shard.items()]
        before = range(len(self._shards))
        self._shards, self._sizes, self._shard_of = [], [], {}
        for key, value in held:
            self._put(self._place(key, entry_size(key, value), prefer=None), key, value)
        return before

    def _put(self, number: int, key: str, value: Any) -> None:
        """Hold a section's stored entry in shard ``number``, its size counted."""
        self._shards[number][key] = value
        self._sizes[number] += entry_size(key, value)
        self._shard_of[key] = number

    def _take(self, number: int, key: str) -> Any:
        """Take a section's stored entry out of shard ``number``; the entry."""
        value = self._shards[number].pop(key)
        self._sizes[number] -= entry_size(key, value)
        del self._shard_of[key]
        return value

    def _new_shard(self) -> int:
        self._shards.append({})
        self._sizes.append(2)
        return len(self._shards) - 1

    def _place(self, key: str, size: int, *, prefer: int | None) -> int:
        """A shard with room for an entry of ``size`` bytes: the one it was in if it still fits, else the first."""
        if size + 2 > SHARD_BYTES:
            raise LedgerError(
                f"Section {key!r} holds too much for one ledger value ({size} bytes, at most {SHARD_BYTES}): "
                "split it into shorter sections."
            )
        if prefer is not None and self._sizes[prefer] + size <= PLAIN_SHARD_BYTES:
            return prefer
        for number, used in enumerate(self._sizes):
            if used + size <= PLAIN_SHARD_BYTES:
                return number
        return self._new_shard()

    def _write_head(self) -> None:
        self._set(self._key("head"), encode_head(self._head, self.term))

    # Every store call goes through one lock: worker threads record while the main thread renews the lease,
    # and a store's channel to Airflow may serve one call at a time (dag.test()'s in-process one does).

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _get(self, key: str) -> Any:
        """A stored value; one a store cannot decode reads as :data:`_UNREADABLE` (no decoder accepts it)."""
        with self._lock:
            self.calls["get"] += 1
            try:
                return self._store.get(key)
            except UnreadableValueError as error:
                log.warning("%s", error)
                return _UNREADABLE

    def _set(self, key: str, value: Any) -> None:
        with self._lock:
            self.calls["set"] += 1
            self._store.set(key, value)

    def _delete(self, key: str) -> None:
        with self._lock:
            self.calls["delete"] += 1
            self._store.delete(key)


__all__ = [
    "FORMAT_VERSION",
    "LEASE_SECONDS",
    "SERIES_KEY",
    "SERIES_LEDGER_KEY",
    "SHARD_BYTES",
    "LeaseHeld",
    "LedgerError",
    "SeriesLedger",
    "StateStore",
    "TermLedger",
    "account_scope",
    "decode_entry",
    "encode_entry",
    "read_series_id",
    "write_series_id",
]
