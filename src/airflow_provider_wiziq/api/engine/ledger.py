"""Every ledger the provider keeps, and its stored format: the one module that writes them (docs/term-sync.md).

**The term ledger** (``SyncTermOperator``), in any key-value store with ``get``, ``set`` and ``delete``
(:mod:`.stores`; the term asset's state store on Airflow 3.3). It is scoped by **account**: a digest of the
connection's endpoint URL and access key (never the key itself) prefixes every key, so a term name synced from
two connections keeps two ledgers that never meet. Per account:

- ``<account>/head``: the format version, a generation bumped by every run that writes, the number of shards,
  the **marker** (written when a run has recorded every write it made) and the **lease** (refusing a
  concurrent run);
- ``<account>/s/<n>``: the sections, packed into shards of at most 60 KiB (Airflow's state store policy is
  64 KiB); a run rewrites only the shards whose sections changed. Each section keeps what runs changed in it
  that no asset event has announced yet (a failed or stopped run's changes).

Every stored value is decoded strictly. An entry that cannot be read is treated as missing (its section is then
adopted from WizIQ, with a warning naming the key); a head, lease or marker that cannot be read is treated as
absent. The first format (``format``, ``marker``, ``lease``, ``index/<n>``, ``section/<key>``, not scoped) is read
and upgraded in place by the next run that writes.

**The series ledgers** of ``CreateRecurringClassOperator`` (one key) and ``CreateRecurringClassesOperator``
(sharded dicts of key -> series id), in the task state store (Airflow 3.3), are here too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Protocol, TypeGuard

from airflow_provider_wiziq.api.engine.stores import UnreadableValueError
from airflow_provider_wiziq.api.protocol.config import url_without_credentials
from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.clock import SYSTEM_CLOCK, Clock
from airflow_provider_wiziq.api.rules.state import (
    STATES,
    LedgerClass,
    Marker,
    PendingCreate,
    SectionEntry,
    TermState,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
#: A lease not renewed for this long belongs to a run that died: another run may take it over.
LEASE_SECONDS = 900
#: A run renews its lease at most this often.
RENEW_SECONDS = 60
#: The most bytes one stored value holds (Airflow's state store policy is 64 KiB per value; stores take 60 KiB).
SHARD_BYTES = 60 * 1024

_STATE_CODES = dict(zip(STATES, ("s", "h", "r", "p", "w", "x", "l"), strict=True))
_CODE_STATES = {code: state for state, code in _STATE_CODES.items()}


class StateStore(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...


class LedgerError(WizIQError):
    """The ledger cannot be used as it stands (the message says how to reset it)."""


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


class _Unreadable(Exception):
    """A stored value that is not what this format writes."""


def account_scope(endpoint: str, access_key: str) -> str:
    """The account a ledger belongs to: a digest of the endpoint URL without its credentials (``user:password@``
    and query string: they neither reach the ledger nor change the account) and the access key (not reversible)."""
    return hashlib.sha256(f"{url_without_credentials(endpoint)}\n{access_key}".encode()).hexdigest()[:16]


def _entry_size(key: str, encoded: Any) -> int:
    """What an entry adds to its shard's stored size, at most (ASCII-escaped JSON is never shorter than UTF-8)."""
    return len(json.dumps(key)) + 2 + len(json.dumps(encoded, separators=(",", ":")))


# The term ledger --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Head:
    generation: int = 0
    shards: int = 0
    marker: Marker | None = None
    lease: Mapping[str, Any] | None = None


class TermLedger:
    """A term's ledger on one account, in ``store``. Reads are whole; writes go shard by shard, in batches."""

    def __init__(self, store: StateStore | None, *, term: str, account: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store: StateStore = store if store is not None else _NoStore()
        self.durable = store is not None
        self.term = term
        self.account = account
        self._clock = clock
        self._lock = threading.RLock()
        self._head = _Head()
        self._shard_of: dict[str, int] = {}
        self._shards: list[dict[str, Any]] = []  # encoded entries per shard, as stored
        self._sizes: list[int] = []  # each shard's encoded size (an upper bound), kept as entries come and go
        self._v1_keys: list[str] = []
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
            head = _decode_head(stored)
        except _Unreadable as error:
            log.warning("The term ledger's head %r cannot be read (%s): treated as absent", self._key("head"), error)
            head = _Head(shards=self._count_shards())
        self._head = head
        entries: dict[str, SectionEntry] = {}
        unreadable: list[str] = []
        self._shards = []
        for number in range(head.shards):
            shard = self._get(self._key(f"s/{number}"))
            if not isinstance(shard, dict):
                if shard is not None:
                    log.warning(
                        "Ledger shard %r is not a dict: its sections are adopted again", self._key(f"s/{number}")
                    )
                shard = {}
            self._shards.append(dict(shard))
            self._sizes.append(2 + sum(_entry_size(key, value) for key, value in shard.items()))
            for key, value in shard.items():
                self._shard_of[key] = number
                try:
                    entries[key] = decode_entry(value)
                except _Unreadable as error:
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
                entries[key] = _decode_first_format(value)
            except _Unreadable as error:
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
        """The ledger was read in the first format: the next write upgrades it."""
        return bool(self._v1_keys)

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
                head = _decode_head(stored) if stored is not None else _Head(generation=0)
            except _Unreadable:
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
            if self._v1_keys:
                dirty.update(range(len(self._shards)))
            for key, entry in entries.items():
                number = self._shard_of.get(key)
                if number is not None:
                    if entry is not None and self._shards[number].get(key) == (encoded := encode_entry(entry)):
                        continue
                    self._sizes[number] -= _entry_size(key, self._shards[number].pop(key))
                    del self._shard_of[key]
                    dirty.add(number)
                if entry is None:
                    continue
                encoded = encode_entry(entry)
                size = _entry_size(key, encoded)
                number = self._place(key, size, prefer=number)
                self._shards[number][key] = encoded
                self._sizes[number] += size
                self._shard_of[key] = number
                dirty.add(number)
            for number in sorted(dirty):
                self._set(self._key(f"s/{number}"), self._shards[number])
            if len(self._shards) != self._head.shards:
                self._head = replace(self._head, shards=len(self._shards))
                self._write_head()
            if self._v1_keys:
                for key in self._v1_keys:
                    self._delete(key)
                log.info("Upgraded the term ledger to format %d (%d shards)", FORMAT_VERSION, len(self._shards))
                self._v1_keys = []

    def _place(self, key: str, size: int, *, prefer: int | None) -> int:
        """A shard with room for an entry of ``size`` bytes: the one it was in if it still fits, else the first."""
        if size + 2 > SHARD_BYTES:
            raise LedgerError(
                f"Section {key!r} holds too much for one ledger value ({size} bytes, at most {SHARD_BYTES}): "
                "split it into shorter sections."
            )
        if prefer is not None and self._sizes[prefer] + size <= SHARD_BYTES:
            return prefer
        for number, used in enumerate(self._sizes):
            if used + size <= SHARD_BYTES:
                return number
        self._shards.append({})
        self._sizes.append(2)
        return len(self._shards) - 1

    def _write_head(self) -> None:
        head = self._head
        value = {
            "v": FORMAT_VERSION,
            "term": self.term,
            "gen": head.generation,
            "shards": head.shards,
            "marker": None if head.marker is None else {"run": head.marker.run, "at": head.marker.at},
            "lease": head.lease,
        }
        self._set(self._key("head"), value)

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


# Stored forms ---------------------------------------------------------------------------------------------


def _decode_head(value: Any) -> _Head:
    if not isinstance(value, dict):
        raise _Unreadable(f"not a dict but {type(value).__name__}")
    version = value.get("v")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise LedgerError(
                f"The term's ledger has format {version}; this provider reads format {FORMAT_VERSION}. Upgrade the "
                "provider (or clear the term asset's state to start the ledger again)."
            ) from None
        raise _Unreadable(f"format {version!r}")
    generation, shards = value.get("gen"), value.get("shards")
    if not _is_int(generation) or not _is_int(shards) or shards < 0:
        raise _Unreadable("generation or shard count")
    return _Head(
        generation=generation,
        shards=shards,
        marker=_decode_marker(value.get("marker")),
        lease=_decode_lease(value.get("lease")),
    )


def _decode_marker(value: Any) -> Marker | None:
    if isinstance(value, dict) and isinstance(value.get("run"), str) and isinstance(value.get("at"), str):
        return Marker(value["run"], value["at"])
    return None  # absent, or unreadable: treated as absent


def _decode_lease(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("owner"), str) and isinstance(value.get("at"), (int, float)):
        return dict(value)
    return None


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def encode_entry(entry: SectionEntry) -> dict[str, Any]:
    """One section's ledger as stored, its classes in columns (about 14 bytes a class): ``i`` the class ids and
    ``t`` the start minutes, each the first value then the differences; ``s`` one letter a state; ``m``, ``f``,
    ``r`` one digit a class (base 36): its series, fields and roster fingerprint by position (``.``: no series),
    or a list of positions (``-1``: no series) when the column has more than 36 values; ``v`` ``1``/``0``
    verified. A column of the default digit (``0``; ``1`` for ``v``) is left out."""
    fields = _by_use(item.fields for item in entry.classes)
    rosters = _by_use(item.roster for item in entry.classes)
    ordered = sorted(entry.classes, key=lambda c: (c.start, c.class_id))
    series = list(entry.series)
    for item in ordered:
        if item.class_master_id is not None and item.class_master_id not in series:
            series.append(item.class_master_id)
    ids = [item.class_id for item in ordered]
    minutes = [int(item.start.timestamp()) // 60 for item in ordered]
    columns: dict[str, Any] = {
        "i": _differences(ids),
        "t": _differences(minutes),
        "s": "".join(_STATE_CODES[item.state] for item in ordered),
    }
    positions = {
        "m": [-1 if c.class_master_id is None else series.index(c.class_master_id) for c in ordered],
        "f": [fields.index(item.fields) for item in ordered],
        "r": [rosters.index(item.roster) for item in ordered],
    }
    for name, column in positions.items():
        if any(column):
            columns[name] = _digit_column(column)
    verified = "".join("1" if item.verified else "0" for item in ordered)
    if verified.strip("1"):
        columns["v"] = verified
    used = set(fields)
    value: dict[str, Any] = {
        "p": entry.presenter,
        "z": entry.time_zone,
        "sp": dict(entry.spec),
        "ser": series,
        "c": columns,
        "f": fields,
        "r": rosters,
    }
    optional = {
        "pn": [
            [p.title, p.presenter, p.time_zone, int(p.first_start.timestamp()), *(() if p.series else (0,))]
            for p in entry.pending
        ],
        "ro": list(entry.roster_ids),
        "le": list(entry.left),
        "mi": entry.missing,
        "rm": entry.removed,
        "sh": {fp: list(shown) for fp, shown in entry.shown.items() if fp in used},
        "nw": {what: list(ids) for what, ids in entry.news.items() if ids},
    }
    value.update({name: item for name, item in optional.items() if item})
    return value


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _digit_column(positions: list[int]) -> str | list[int]:
    """Positions as one digit each (``.`` for -1), or as they are when one is past the last digit."""
    if max(positions) >= len(_DIGITS):
        return positions
    return "".join("." if at < 0 else _DIGITS[at] for at in positions)


def _read_positions(column: Any, count: int, values: list[Any], *, none: bool = False) -> list[Any]:
    """The values a digit column (or a list of positions) names, strictly: ``none`` allows ``.``/-1 (None)."""
    if isinstance(column, str):
        _check(len(column) == count, "class columns")
        positions = [-1 if none and digit == "." else _DIGITS.index(digit) for digit in column]
    else:
        _check(isinstance(column, list) and len(column) == count and all(_is_int(at) for at in column), "columns")
        positions = column
    _check(all(0 <= at < len(values) or (none and at == -1) for at in positions), "class columns")
    return [None if at == -1 else values[at] for at in positions]


def _differences(numbers: list[int]) -> list[int]:
    return [numbers[0], *(b - a for a, b in pairwise(numbers))] if numbers else []


def _sums(differences: list[Any]) -> list[int]:
    total, numbers = 0, []
    for step in differences:
        _check(_is_int(step), "a class column")
        total += step
        numbers.append(total)
    return numbers


def _by_use(fingerprints: Iterable[str]) -> list[str]:
    counts: dict[str, int] = {}
    for fingerprint in fingerprints:
        counts[fingerprint] = counts.get(fingerprint, 0) + 1
    return sorted(counts, key=lambda fp: (-counts[fp], fp)) or [""]


def decode_entry(value: Any) -> SectionEntry:
    """A stored section read strictly: anything this format does not write is :class:`_Unreadable`."""
    try:
        return _decode_entry(value)
    except _Unreadable:
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, AttributeError) as error:
        raise _Unreadable(f"{type(error).__name__}: {error}") from None


def _decode_entry(value: Any) -> SectionEntry:
    if not isinstance(value, dict):
        raise _Unreadable(f"not a dict but {type(value).__name__}")
    presenter, zone, spec = value["p"], value["z"], value.get("sp", {})
    series, rows, fields, rosters = value["ser"], value["c"], value["f"], value["r"]
    _check(isinstance(presenter, str) and isinstance(zone, str) and isinstance(spec, dict), "presenter, zone or spec")
    _check(all(isinstance(k, str) and isinstance(v, str) for k, v in spec.items()), "spec")
    _check(isinstance(series, list) and all(_is_int(s) and s > 0 for s in series), "series")
    _check(isinstance(fields, list) and all(isinstance(f, str) for f in fields) and bool(fields), "fields")
    _check(isinstance(rosters, list) and all(isinstance(r, str) for r in rosters) and bool(rosters), "rosters")
    _check(isinstance(rows, dict), "classes")
    ids, minutes, states = _sums(rows.get("i", [])), _sums(rows.get("t", [])), rows.get("s", "")
    count = len(ids)
    _check(isinstance(states, str) and len(minutes) == len(states) == count, "class columns")
    masters = _read_positions(rows.get("m", "0" * count), count, series, none=True)
    field_of = _read_positions(rows.get("f", "0" * count), count, fields)
    roster_of = _read_positions(rows.get("r", "0" * count), count, rosters)
    verified = rows.get("v", "1" * count)
    _check(isinstance(verified, str) and len(verified) == count, "class columns")
    classes = []
    for at in range(count):
        _check(ids[at] > 0 and states[at] in _CODE_STATES and verified[at] in "01", "a class")
        classes.append(
            LedgerClass(
                class_id=ids[at],
                start=datetime.fromtimestamp(minutes[at] * 60, timezone.utc),
                state=_CODE_STATES[states[at]],
                class_master_id=masters[at],
                fields=field_of[at],
                roster=roster_of[at],
                verified=verified[at] == "1",
            )
        )
    pending = []
    for item in value.get("pn", []):
        title, who, where, epoch, *kind = item  # a fifth value 0: one class (create), not a series
        _check(isinstance(title, str) and isinstance(who, str) and isinstance(where, str) and _is_int(epoch), "pending")
        _check(kind in ([], [0]), "pending")
        pending.append(PendingCreate(title, who, where, datetime.fromtimestamp(epoch, timezone.utc), not kind))
    roster_ids, left = value.get("ro", []), value.get("le", [])
    _check(isinstance(roster_ids, list) and all(isinstance(r, str) for r in roster_ids), "roster")
    _check(isinstance(left, list) and all(isinstance(r, str) for r in left), "roster")
    missing, removed, shown = value.get("mi", 0), value.get("rm", False), value.get("sh", {})
    _check(_is_int(missing) and missing >= 0 and isinstance(removed, bool) and isinstance(shown, dict), "flags")
    _check(all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in shown.values()), "shown")
    news = value.get("nw", {})
    _check(isinstance(news, dict) and set(news) <= {"created", "cancelled", "modified"}, "news")
    _check(all(isinstance(v, list) and all(_is_int(i) for i in v) for v in news.values()), "news")
    return SectionEntry(
        presenter=presenter,
        time_zone=zone,
        spec=MappingProxyType(dict(spec)),
        series=tuple(series),
        classes=tuple(classes),
        pending=tuple(pending),
        roster_ids=tuple(roster_ids),
        left=tuple(left),
        missing=missing,
        removed=removed,
        shown=MappingProxyType({fp: tuple(v) for fp, v in shown.items()}),
        news=MappingProxyType({what: tuple(ids) for what, ids in news.items()}),
    )


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise _Unreadable(f"unreadable {what}")


_FIRST_CODES = {"s": "scheduled", "h": "cancelled_holiday", "r": "cancelled_removed", "w": "cancelled_on_wiziq"}


def _decode_first_format(value: Any) -> SectionEntry:
    """A section entry of format 1 (``placement`` = presenter|zone; classes with their own fingerprints)."""
    try:
        _check(isinstance(value, dict), "entry")
        presenter, _, zone = str(value.get("placement", "")).rpartition("|")
        classes = []
        for class_id, epoch, code, master, fields, roster in value.get("classes", []):
            state = _FIRST_CODES.get(code, "cancelled")
            start = datetime.fromtimestamp(int(epoch), timezone.utc)
            master_id = None if master is None else int(master)
            classes.append(LedgerClass(int(class_id), start, state, master_id, str(fields), str(roster)))
        pending = [
            PendingCreate(str(t), str(p), str(z), datetime.fromtimestamp(int(e), timezone.utc))
            for t, p, z, e in value.get("pending", [])
        ]
        shown = {str(k): tuple(str(i) for i in v) for k, v in value.get("shown", {}).items()}
        return SectionEntry(
            presenter=presenter,
            time_zone=zone,
            series=tuple(int(s) for s in value.get("series", [])),
            classes=tuple(classes),
            pending=tuple(pending),
            removed=bool(value.get("removed", False)),
            shown=MappingProxyType(shown),
        )
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, AttributeError) as error:
        raise _Unreadable(f"{type(error).__name__}: {error}") from None


# The series ledgers of the create operators ---------------------------------------------------------------

#: ``CreateRecurringClassOperator``'s task state store key: the series its earlier try created.
SERIES_KEY = "wiziq_class_master_id"
#: ``CreateRecurringClassesOperator``'s task state store keys: ``<LEDGER_KEY>/<shard>`` -> {key: series id}.
SERIES_LEDGER_KEY = "wiziq_series_by_key"
#: Keys per shard of the bulk operator's series ledger.
SERIES_SHARD_SIZE = 1000


def read_series_id(store: StateStore | None) -> int | None:
    """The series an earlier try of a single create recorded, or None (also when the value is unreadable)."""
    stored = store.get(SERIES_KEY) if store is not None else None
    if _is_int(stored) and stored > 0:
        return int(stored)
    if isinstance(stored, str) and stored.isdigit() and int(stored) > 0:
        return int(stored)
    return None


def write_series_id(store: StateStore | None, class_master_id: int) -> None:
    if store is not None:
        store.set(SERIES_KEY, class_master_id)


class SeriesLedger:
    """Which key became which series, in the task state store: a few small dicts, rewritten only when changed.

    Writes are batched (``flush``), so a worker killed between two flushes may leave a created series
    unrecorded; the next try then finds it by lookup, which is why a retry looks up every key it lacks.
    """

    def __init__(self, store: StateStore | None, keys: int) -> None:
        self._store = store
        self._shards = max(1, math.ceil(keys / SERIES_SHARD_SIZE))
        self._ids: list[dict[str, int]] = [{} for _ in range(self._shards)]
        self._dirty: set[int] = set()

    def load(self) -> dict[str, int]:
        """Every series recorded by earlier tries, by key (an unreadable value is skipped)."""
        if self._store is None:
            return {}
        found: dict[str, int] = {}
        for shard in range(self._shards):
            stored = self._store.get(f"{SERIES_LEDGER_KEY}/{shard}")
            if isinstance(stored, dict):
                ids = {str(k): int(v) for k, v in stored.items() if _is_int(v) and v > 0}
                self._ids[shard].update(ids)
                found.update(ids)
        return found

    def record(self, key: str, class_master_id: int) -> None:
        shard = zlib.crc32(key.encode()) % self._shards
        if self._ids[shard].get(key) != class_master_id:
            self._ids[shard][key] = class_master_id
            self._dirty.add(shard)

    def flush(self) -> None:
        if self._store is None:
            return
        for shard in sorted(self._dirty):
            self._store.set(f"{SERIES_LEDGER_KEY}/{shard}", dict(self._ids[shard]))
        self._dirty.clear()


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
