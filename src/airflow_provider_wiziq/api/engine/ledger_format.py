"""The term ledger's stored format (docs/term-sync.md "The ledger"): every value it writes and how each is read.

Per account, ``<account>/head`` holds the format version, a generation, the number of shards, the marker and the
lease; ``<account>/s/<n>`` a shard of sections (at most :data:`SHARD_BYTES`): one string, ``zlib:`` and the base64
of the zlib-compressed JSON of its sections (:func:`encode_shard`; a shard that packs no smaller is stored as that
JSON object), each section one JSON string holding its classes in columns (:func:`encode_entry`). Every value is
decoded strictly: what this format does not write is :class:`Unreadable`, never a raw Python exception. The earlier
formats are read here too: the first (not scoped by account) and the second (plain shards, each section's columns
a JSON object).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import pairwise
from types import MappingProxyType
from typing import Any, TypeGuard

from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.api.rules.state import STATES, LedgerClass, Marker, PendingCreate, SectionEntry

#: 3: each shard one compressed string of its sections. Airflow's execution API validates a stored value element
#: by element, on the way in and on the way out, and every store call is a round trip: a shard of sections as JSON
#: objects (format 2) cost the api-server dozens of validations a section, and a term five times the calls.
FORMAT_VERSION = 3
#: The head versions this module reads; a shard written by format 2 holds objects, rewritten by the next write.
READ_VERSIONS = (2, 3)
#: The most bytes one stored value holds (Airflow's state store policy is 64 KiB per value; stores take 60 KiB).
SHARD_BYTES = 60 * 1024
#: The plain bytes of sections a shard is filled with: sections pack to about a fifth (zlib, then base64); a shard
#: whose packed form is still over :data:`SHARD_BYTES` is split.
PLAIN_SHARD_BYTES = 4 * SHARD_BYTES
#: The most bytes a packed shard may unpack to (a value that unpacks to more is :class:`Unreadable`, unread).
_UNPACKED_BYTES = 2 * PLAIN_SHARD_BYTES
PACKED = "zlib:"

_STATE_CODES = dict(zip(STATES, ("s", "h", "r", "p", "w", "x", "l"), strict=True))
_CODE_STATES = {code: state for state, code in _STATE_CODES.items()}


class LedgerError(WizIQError):
    """The ledger cannot be used as it stands (the message says how to reset it)."""


class Unreadable(Exception):
    """A stored value that is not what this format writes."""


@dataclass(frozen=True)
class Head:
    generation: int = 0
    shards: int = 0
    marker: Marker | None = None
    lease: Mapping[str, Any] | None = None


def entry_size(key: str, encoded: Any) -> int:
    """What an entry adds to its shard's stored size, at most, as ``json.dumps`` writes it by default (how
    Airflow's asset state store measures a value: a space after each separator, non-ASCII escaped); never less
    than its compact UTF-8 size, which the provider's own stores measure."""
    return len(json.dumps(key)) + 4 + len(json.dumps(encoded))


def encode_shard(entries: Mapping[str, Any]) -> str | dict[str, Any] | None:
    """A shard as stored: packed (``zlib:`` + base64 of the compressed JSON), or the JSON object when that is not
    bigger; None when neither fits in :data:`SHARD_BYTES` (the caller splits the shard)."""
    text = json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    packed = PACKED + base64.b64encode(zlib.compress(text, 6)).decode("ascii")
    plain = 2 + sum(entry_size(key, value) for key, value in entries.items())
    if len(packed) + 2 <= min(plain, SHARD_BYTES):
        return packed
    return dict(entries) if plain <= SHARD_BYTES else None


def decode_shard(value: Any) -> dict[str, Any]:
    """A stored shard's sections (key -> stored entry), packed or not, read strictly and in bounded memory."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.startswith(PACKED):
        raise Unreadable(f"not a shard but {type(value).__name__}")
    try:
        data = base64.b64decode(value[len(PACKED) :], validate=True)
        unpacker = zlib.decompressobj()
        text = unpacker.decompress(data, _UNPACKED_BYTES)
    except (ValueError, zlib.error) as error:
        raise Unreadable(f"a packed shard that does not unpack ({error})") from None
    if unpacker.unconsumed_tail or not unpacker.eof:
        raise Unreadable(f"a packed shard that unpacks to more than {_UNPACKED_BYTES} bytes, or is cut short")
    try:
        shard = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Unreadable(f"a packed shard that is not JSON ({error})") from None
    if not isinstance(shard, dict):
        raise Unreadable(f"a packed shard of {type(shard).__name__}, not of sections")
    return shard


def encode_head(head: Head, term: str) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "term": term,
        "gen": head.generation,
        "shards": head.shards,
        "marker": None if head.marker is None else {"run": head.marker.run, "at": head.marker.at},
        "lease": head.lease,
    }


def decode_head(value: Any) -> Head:
    if not isinstance(value, dict):
        raise Unreadable(f"not a dict but {type(value).__name__}")
    version = value.get("v")
    if version not in READ_VERSIONS:
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise LedgerError(
                f"The term's ledger has format {version}; this provider reads format {FORMAT_VERSION}. Upgrade the "
                "provider (or clear the term asset's state to start the ledger again)."
            ) from None
        raise Unreadable(f"format {version!r}")
    generation, shards = value.get("gen"), value.get("shards")
    if not is_int(generation) or not is_int(shards) or shards < 0:
        raise Unreadable("generation or shard count")
    return Head(
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


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def encode_entry(entry: SectionEntry) -> str:
    """One section's ledger as stored: a JSON string (compact, UTF-8) of :func:`entry_columns`."""
    return json.dumps(entry_columns(entry), separators=(",", ":"), ensure_ascii=False)


def entry_columns(entry: SectionEntry) -> dict[str, Any]:
    """One section's ledger, its classes in columns (about 14 bytes a class): ``i`` the class ids and
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
        _check(isinstance(column, list) and len(column) == count and all(is_int(at) for at in column), "columns")
        positions = column
    _check(all(0 <= at < len(values) or (none and at == -1) for at in positions), "class columns")
    return [None if at == -1 else values[at] for at in positions]


def _differences(numbers: list[int]) -> list[int]:
    return [numbers[0], *(b - a for a, b in pairwise(numbers))] if numbers else []


def _sums(differences: list[Any]) -> list[int]:
    total, numbers = 0, []
    for step in differences:
        _check(is_int(step), "a class column")
        total += step
        numbers.append(total)
    return numbers


def _by_use(fingerprints: Iterable[str]) -> list[str]:
    counts: dict[str, int] = {}
    for fingerprint in fingerprints:
        counts[fingerprint] = counts.get(fingerprint, 0) + 1
    return sorted(counts, key=lambda fp: (-counts[fp], fp)) or [""]


def is_current(value: Any) -> bool:
    """A stored section in this format's form (a string), not format 2's (an object)."""
    return isinstance(value, str)


def decode_entry(value: Any) -> SectionEntry:
    """A stored section read strictly (this format's string, or format 2's object): anything these formats do not
    write is :class:`Unreadable`."""
    try:
        return _decode_entry(json.loads(value) if isinstance(value, str) else value)
    except Unreadable:
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, AttributeError, RecursionError) as error:
        raise Unreadable(f"{type(error).__name__}: {error}") from None


def _decode_entry(value: Any) -> SectionEntry:
    if not isinstance(value, dict):
        raise Unreadable(f"not a dict but {type(value).__name__}")
    presenter, zone, spec = value["p"], value["z"], value.get("sp", {})
    series, rows, fields, rosters = value["ser"], value["c"], value["f"], value["r"]
    _check(isinstance(presenter, str) and isinstance(zone, str) and isinstance(spec, dict), "presenter, zone or spec")
    _check(all(isinstance(k, str) and isinstance(v, str) for k, v in spec.items()), "spec")
    _check(isinstance(series, list) and all(is_int(s) and s > 0 for s in series), "series")
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
        _check(isinstance(title, str) and isinstance(who, str) and isinstance(where, str) and is_int(epoch), "pending")
        _check(kind in ([], [0]), "pending")
        pending.append(PendingCreate(title, who, where, datetime.fromtimestamp(epoch, timezone.utc), not kind))
    roster_ids, left = value.get("ro", []), value.get("le", [])
    _check(isinstance(roster_ids, list) and all(isinstance(r, str) for r in roster_ids), "roster")
    _check(isinstance(left, list) and all(isinstance(r, str) for r in left), "roster")
    missing, removed, shown = value.get("mi", 0), value.get("rm", False), value.get("sh", {})
    _check(is_int(missing) and missing >= 0 and isinstance(removed, bool) and isinstance(shown, dict), "flags")
    _check(all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in shown.values()), "shown")
    news = value.get("nw", {})
    _check(isinstance(news, dict) and set(news) <= {"created", "cancelled", "modified"}, "news")
    _check(all(isinstance(v, list) and all(is_int(i) for i in v) for v in news.values()), "news")
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
        raise Unreadable(f"unreadable {what}")


_FIRST_CODES = {"s": "scheduled", "h": "cancelled_holiday", "r": "cancelled_removed", "w": "cancelled_on_wiziq"}


def decode_first_format(value: Any) -> SectionEntry:
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
        raise Unreadable(f"{type(error).__name__}: {error}") from None


__all__ = [
    "FORMAT_VERSION",
    "PLAIN_SHARD_BYTES",
    "READ_VERSIONS",
    "SHARD_BYTES",
    "Head",
    "LedgerError",
    "Unreadable",
    "decode_entry",
    "decode_first_format",
    "decode_head",
    "decode_shard",
    "encode_entry",
    "encode_head",
    "encode_shard",
    "entry_columns",
    "entry_size",
    "is_current",
    "is_int",
]
