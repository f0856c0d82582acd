"""The term ledger's stored format: entries round-trip exactly, shards stay under the store's limit, the first
and second formats are read and upgraded in place, and what one account writes is invisible to another."""

from __future__ import annotations

import base64
import json
import os
import time
import zlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_wiziq.api.engine.ledger import SHARD_BYTES, TermLedger, decode_entry, encode_entry
from airflow_provider_wiziq.api.engine.ledger_format import Unreadable, decode_shard
from airflow_provider_wiziq.api.engine.stores import MemoryStore
from airflow_provider_wiziq.api.rules.clock import ManualClock
from airflow_provider_wiziq.api.rules.state import STATES, LedgerClass, PendingCreate, SectionEntry

T0 = datetime(2027, 9, 6, 13, 0, tzinfo=timezone.utc)
CLOCK = ManualClock(datetime(2027, 8, 30, tzinfo=timezone.utc))

classes = st.builds(
    LedgerClass,
    class_id=st.integers(1, 10**9),
    start=st.integers(0, 400 * 24 * 60).map(lambda minutes: T0 + timedelta(minutes=minutes)),
    state=st.sampled_from(STATES),
    class_master_id=st.one_of(st.none(), st.sampled_from([1001, 1002, 1003])),
    fields=st.sampled_from(["", "abc123abc123", "def456def456"]),
    roster=st.sampled_from(["", "r1r1r1r1r1r1"]),
    verified=st.booleans(),
)
entries = st.builds(
    SectionEntry,
    presenter=st.sampled_from(["", "email:a@school.example", "id:42"]),
    time_zone=st.sampled_from(["", "America/New_York", "Asia/Kolkata"]),
    spec=st.dictionaries(st.sampled_from(["title", "start_time", "duration"]), st.text(max_size=20)),
    series=st.lists(st.sampled_from([1001, 1002]), unique=True).map(tuple),
    classes=st.lists(classes, max_size=80, unique_by=lambda c: c.class_id).map(tuple),
    pending=st.lists(
        st.builds(PendingCreate, st.text(max_size=10), st.just("email:a@x"), st.just("UTC"), st.just(T0)), max_size=2
    ).map(tuple),
    roster_ids=st.lists(st.text(min_size=1, max_size=8), max_size=5, unique=True).map(tuple),
    left=st.lists(st.text(min_size=1, max_size=8), max_size=2, unique=True).map(tuple),
    missing=st.integers(0, 5),
    removed=st.booleans(),
    shown=st.just({"abc123abc123": ("Title", "60", "30")}),
    news=st.dictionaries(
        st.sampled_from(["created", "cancelled", "modified"]), st.lists(st.integers(1, 99)).map(tuple)
    ),
)


def canonical(entry: SectionEntry) -> SectionEntry:
    """What a stored entry reads back as: classes in order, shown kept for the fingerprints in use, no empty news."""
    from dataclasses import replace

    used = {item.fields for item in entry.classes}
    ordered = tuple(sorted(entry.classes, key=lambda c: (c.start, c.class_id)))
    series = list(entry.series)
    for item in ordered:
        if item.class_master_id is not None and item.class_master_id not in series:
            series.append(item.class_master_id)
    return replace(
        entry,
        classes=ordered,
        series=tuple(series),
        shown={fp: shown for fp, shown in entry.shown.items() if fp in used},
        news={what: ids for what, ids in entry.news.items() if ids},
    )


@settings(max_examples=200, deadline=None)
@given(entry=entries)
def test_an_entry_reads_back_exactly_as_it_was_written(entry):
    assert decode_entry(encode_entry(entry)) == canonical(entry)


def section(n: int, count: int = 70) -> SectionEntry:
    made = tuple(
        LedgerClass(15000 + n * 100 + k, T0 + timedelta(days=k), "scheduled", 900 + n, "abc123abc123")
        for k in range(count)
    )
    return SectionEntry(presenter=f"email:t{n}@x", time_zone="America/Chicago", series=(900 + n,), classes=made)


def test_shards_stay_under_the_stores_limit_and_a_changed_entry_keeps_its_shard():
    store = MemoryStore()  # refuses any value over 60 KiB, as the stores do
    ledger = TermLedger(store, term="t", account="acct", clock=CLOCK)
    ledger.read()
    ledger.record({f"S{n}": section(n) for n in range(300)})
    shards = [key for key in store.data if "/s/" in key]
    assert all(len(json.dumps(json.loads(store.data[key]))) <= SHARD_BYTES for key in shards)
    assert len(shards) <= 2  # about 20 bytes a class plain, a fifth of it packed: 300 x 70 classes in two shards
    store.calls.set = 0
    ledger.record({"S7": section(7, count=71)})
    assert store.calls.set == 1  # one shard rewritten
    again = TermLedger(store, term="t", account="acct", clock=CLOCK).read()
    assert again.entries["S7"] == section(7, count=71)
    assert len(again.entries) == 300


def test_shards_stay_under_the_limit_as_airflow_measures_a_value():
    """Airflow's asset state store measures a value as ``json.dumps`` writes it (a space after each separator,
    non-ASCII escaped): a shard full by compact UTF-8 was 70 KB by that count, over its 64 KiB."""
    store = MemoryStore()
    ledger = TermLedger(store, term="t", account="acct", clock=CLOCK)
    ledger.read()
    titled = {
        f"S{n}": replace(section(n), shown={"abc123abc123": (f"Théorie musicale — {n}", "60", "30")})
        for n in range(300)
    }
    ledger.record(titled)
    shards = [json.loads(store.data[key]) for key in store.data if "/s/" in key]
    assert max(len(json.dumps(shard)) for shard in shards) <= SHARD_BYTES
    assert TermLedger(store, term="t", account="acct", clock=CLOCK).read().entries == titled


def test_the_first_format_is_read_and_upgraded_by_the_next_write():
    store = MemoryStore()
    store.set("format", 1)
    store.set("index/0", ["A"])
    store.set("marker", {"term": "t", "sections": 1, "run": "r1", "at": "2027-08-01T00:00:00+00:00"})
    store.set(
        "section/A",
        {
            "placement": "email:a@school.example|America/New_York",
            "series": [900],
            "classes": [[15001, int(T0.timestamp()), "s", 900, "abc123abc123", ""]],
            "pending": [],
            "removed": False,
            "shown": {"abc123abc123": ["Section A", "60", "30"]},
        },
    )
    ledger = TermLedger(store, term="t", account="acct", clock=CLOCK)
    state = ledger.read()
    assert ledger.upgrading
    entry = state.entries["A"]
    assert (entry.presenter, entry.time_zone, entry.series) == ("email:a@school.example", "America/New_York", (900,))
    assert entry.classes == (LedgerClass(15001, T0, "scheduled", 900, "abc123abc123"),)
    assert state.marker is not None and state.marker.run == "r1"

    ledger.record(dict(state.entries))
    assert not ledger.upgrading
    assert not {"format", "marker", "index/0", "section/A"} & set(store.data)
    assert TermLedger(store, term="t", account="acct", clock=CLOCK).read().entries == state.entries


def test_one_store_holds_two_accounts_apart():
    store = MemoryStore()
    first = TermLedger(store, term="t", account="one", clock=CLOCK)
    first.read()
    first.record({"A": section(1)})
    other = TermLedger(store, term="t", account="two", clock=CLOCK).read()
    assert not other.found and not other.entries


def test_an_entry_with_more_series_and_fingerprints_than_digits_reads_back_exactly():
    """A column of more than 36 distinct values (series, fields, rosters) is stored as numbers, not digits."""
    made = tuple(
        LedgerClass(20000 + k, T0 + timedelta(days=k), "scheduled", 5000 + k, f"fields{k:02d}", f"roster{k % 45:02d}")
        for k in range(50)
    )
    entry = SectionEntry(presenter="email:t@x", time_zone="America/Chicago", series=(5000,), classes=made)
    assert decode_entry(encode_entry(entry)) == canonical(entry)
    few = replace_classes(entry, made[:30])
    assert isinstance(json.loads(encode_entry(few))["c"]["m"], str)  # up to 36 values: one digit a class, as before


def replace_classes(entry: SectionEntry, made: tuple[LedgerClass, ...]) -> SectionEntry:
    from dataclasses import replace

    return replace(entry, classes=made)


def stored_shards(store: MemoryStore) -> dict[str, dict[str, object]]:
    """Every shard as the ledger reads it (a packed one unpacked)."""
    return {key: decode_shard(json.loads(value)) for key, value in store.data.items() if "/s/" in key}


def test_a_shard_is_one_compressed_string_of_sections():
    """Airflow's execution API validates a stored value element by element, on the way in and out, and each store
    call is a round trip: a shard is one string (zlib, base64) of its sections, each one JSON string, about a fifth
    of their plain size, so a term takes few shards and each costs one validation."""
    store = MemoryStore()
    ledger = TermLedger(store, term="t", account="acct", clock=CLOCK)
    ledger.read()
    ledger.record({f"S{n}": section(n) for n in range(40)})
    (value,) = [json.loads(store.data[key]) for key in store.data if "/s/" in key]
    assert isinstance(value, str) and value.startswith("zlib:")
    (shard,) = stored_shards(store).values()
    assert sorted(shard) == sorted(f"S{n}" for n in range(40)) and all(isinstance(v, str) for v in shard.values())
    assert len(value) * 4 < len(json.dumps(shard))
    assert json.loads(store.data["acct/head"])["v"] == 3


def test_sections_that_do_not_compress_are_split_into_shards_that_fit():
    """A shard is filled by its sections' plain size (four times what a value holds); one whose packed form is still
    too big (random text compresses badly) is split until every value fits."""
    noisy = {
        f"S{n}": replace(section(n, count=5), spec={"title": base64.b64encode(os.urandom(3000)).decode()})
        for n in range(120)
    }
    store = MemoryStore()
    ledger = TermLedger(store, term="t", account="acct", clock=CLOCK)
    ledger.read()
    ledger.record(noisy)
    values = [json.loads(store.data[key]) for key in store.data if "/s/" in key]
    assert len(values) >= 7  # 120 x 4 KB of random text: at least 7 values of 60 KiB
    assert max(len(json.dumps(value)) for value in values) <= SHARD_BYTES
    assert TermLedger(store, term="t", account="acct", clock=CLOCK).read().entries == noisy


@pytest.mark.parametrize(
    "value",
    [
        "zlib:" + base64.b64encode(zlib.compress(b"\0" * (64 * 1024 * 1024))).decode(),  # 64 MiB of zeros, 64 KB
        "zlib:not base64!",
        "zlib:" + base64.b64encode(b"not zlib").decode(),
        "zlib:" + base64.b64encode(zlib.compress(b"[1, 2]")).decode(),
        "plain text",
    ],
    ids=["bomb", "not base64", "not zlib", "not a dict", "no prefix"],
)
def test_a_shard_that_does_not_unpack_is_a_warning_and_its_sections_are_adopted(value, caplog):
    store = MemoryStore()
    ledger = TermLedger(store, term="t", account="acct", clock=CLOCK)
    ledger.read()
    ledger.record({"A": section(1), "B": section(2)})
    store.data["acct/s/0"] = json.dumps(value).encode()
    started = time.process_time()
    state = TermLedger(store, term="t", account="acct", clock=CLOCK).read()
    assert time.process_time() - started < 5  # a bomb is refused after its first megabyte, not unpacked
    assert state.entries == {} and "acct/s/0" in caplog.text and "adopted again" in caplog.text
    with pytest.raises(Unreadable):
        decode_shard(value)


def second_format(store: MemoryStore, sections: dict[str, SectionEntry]) -> None:
    """A ledger as format 2 wrote it: each section's columns as a JSON object, full shards (50 KiB by compact
    UTF-8, about 60 KiB as Airflow counts it, the most format 2 packed)."""
    shards: list[dict[str, object]] = [{}]
    for key, entry in sections.items():
        if len(json.dumps(shards[-1])) > 50 * 1024:
            shards.append({})
        shards[-1][key] = json.loads(encode_entry(entry))
    for number, shard in enumerate(shards):
        store.data[f"acct/s/{number}"] = json.dumps(shard, separators=(",", ":")).encode()
    head = {"v": 2, "term": "t", "gen": 4, "shards": len(shards), "marker": {"run": "r4", "at": "x"}, "lease": None}
    store.data["acct/head"] = json.dumps(head).encode()


def test_the_second_format_is_read_and_upgraded_by_the_next_write():
    store = MemoryStore()
    sections = {f"S{n}": section(n) for n in range(300)}
    second_format(store, sections)
    ledger = TermLedger(store, term="t", account="acct", clock=CLOCK)
    state = ledger.read()
    assert state.entries == sections and state.generation == 4 and state.marker is not None
    assert ledger.upgrading

    ledger.record({})  # nothing changed: every shard is written again in this format, repacked to fit
    assert not ledger.upgrading
    shards = stored_shards(store)
    assert all(isinstance(value, str) for shard in shards.values() for value in shard.values())
    assert max(len(json.dumps(json.loads(store.data[key]))) for key in shards) <= SHARD_BYTES
    assert len(shards) <= 2  # format 2 took six shards of 50 KiB
    head = json.loads(store.data["acct/head"])
    assert head["v"] == 3 and head["shards"] == len(shards)
    assert sorted(shards) == [f"acct/s/{n}" for n in range(len(shards))]  # no shard left over from format 2
    again = TermLedger(store, term="t", account="acct", clock=CLOCK)
    assert again.read().entries == sections and not again.upgrading
