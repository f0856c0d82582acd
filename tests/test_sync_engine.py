"""The sync engine's ledger under concurrency and loss: one store call at a time, the lease renewed while sections
apply, and a worker lost between two of its batches leaving the next run to find what it did on WizIQ."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from airflow_provider_wiziq.api.engine import apply, ledger
from airflow_provider_wiziq.api.engine.ledger import LedgerError
from airflow_provider_wiziq.api.engine.ledger_format import decode_shard
from tests.support.term import EngineTerm, MemoryStore, client_for, head, ledger_keys, put, standing, stored
from tests.sync_support import TERM_OPENS, section

pytestmark = pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)
HOLIDAYS = ["2027-09-06"]


class OneAtATimeStore(MemoryStore):
    """A store that counts calls made while another is in progress (Airflow's channel serves one at a time)."""

    def __init__(self) -> None:
        super().__init__()
        self._busy = threading.Lock()
        self.overlaps = 0

    def _call(self, action: Any) -> Any:
        mine = self._busy.acquire(blocking=False)
        if not mine:
            self.overlaps += 1
        try:
            time.sleep(0.0005)
            return action()
        finally:
            if mine:
                self._busy.release()

    def get(self, key: str, default: Any = None) -> Any:
        return self._call(lambda: MemoryStore.get(self, key, default))

    def set(self, key: str, value: Any) -> None:
        self._call(lambda: MemoryStore.set(self, key, value))

    def delete(self, key: str) -> None:
        self._call(lambda: MemoryStore.delete(self, key))


def test_the_lease_is_renewed_while_sections_apply_and_the_store_sees_one_call_at_a_time(wiziq_emulator, monkeypatch):
    monkeypatch.setattr(ledger, "RENEW_SECONDS", 0)  # renew at every tick
    monkeypatch.setattr(apply, "BATCH_SECONDS", 0)  # and record at every tick
    store = OneAtATimeStore()
    term = EngineTerm(wiziq_emulator, store=store)
    run = term.run([section(key) for key in "ABCDEFGH"], HOLIDAYS)
    assert run.outcome.errors == {}
    assert store.overlaps == 0
    assert head(store)["lease"] is None and head(store)["marker"]  # released, and whole
    assert len(standing(wiziq_emulator)) == 8 * 74


def test_a_run_stops_when_another_run_has_taken_its_lease(wiziq_emulator, monkeypatch):
    monkeypatch.setattr(ledger, "RENEW_SECONDS", 0)
    store = MemoryStore()
    term = EngineTerm(wiziq_emulator, store=store)
    term.run([section("A")], HOLIDAYS)
    taken = False
    real = apply.Applier._record

    def take_the_lease_midway(self: Any, done: Any) -> Any:
        nonlocal taken
        if not taken:  # in the thread that renews the lease: another run takes it between two renewals
            taken = True
            (key,) = ledger_keys(store, "/head")
            lease = {"owner": "another/run/sync/1", "run": "another", "at": time.time()}
            put(store, key, {**stored(store, key), "lease": lease})
        return real(self, done)

    monkeypatch.setattr(apply.Applier, "_record", take_the_lease_midway)
    with pytest.raises(LedgerError, match="taken its lease"):
        term.run([section("A", title="Changed")], HOLIDAYS, max_concurrency=1)
    assert head(store)["lease"]["owner"] == "another/run/sync/1"  # left to the run that took it


class WorkerLost(BaseException):
    """Stands for a worker killed mid-run (SIGKILL): nothing after it runs, no except clause catches it."""


def test_a_run_lost_after_a_create_was_answered_leaves_the_next_run_to_adopt_not_create(wiziq_emulator, monkeypatch):
    term = EngineTerm(wiziq_emulator)
    term.run([section("A"), section("B")], HOLIDAYS)
    assert head(term.store)["marker"]

    def lost(*args: Any, **kwargs: Any) -> None:
        raise WorkerLost

    monkeypatch.setattr(apply.Applier, "_after_create", lost)  # the create was answered, nothing after it happens
    with pytest.raises(WorkerLost):
        term.run([section("A"), section("B"), section("C")], HOLIDAYS, max_concurrency=1)
    monkeypatch.undo()
    assert head(term.store)["marker"] is None  # the run that writes removed it first
    made = len(wiziq_emulator.series())

    run = term.run([section("A"), section("B"), section("C")], HOLIDAYS)
    assert run.outcome.errors == {}
    # C's first series (60 classes) was created before the worker was lost: it is found and adopted. Its
    # second series (14 classes) was never sent: it is the one create of this run.
    assert len(run.calls("create_recurring")) == 1
    assert len(wiziq_emulator.series()) == made + 1
    assert run.result["sections"]["C"]["adopted"]
    placed = [(c["presenter_email"], c["utc_start"]) for c in standing(wiziq_emulator)]
    assert len(placed) == len(set(placed)) == 3 * 74
    created = run.outcome.announcement["C"]["created"]
    assert len(created) == 74  # what the lost run made is announced by this one


def test_a_run_lost_after_a_modify_is_not_sent_again_when_wiziq_shows_it_applied(wiziq_emulator, monkeypatch):
    term = EngineTerm(wiziq_emulator)
    term.run([section("A")], HOLIDAYS)
    recorded = apply.Applier._record
    done = 0

    def lost_after_third_modify(self: Any, result: Any) -> None:
        nonlocal done
        recorded(self, result)
        done += 1
        if done == 3:
            raise WorkerLost  # three modifies answered; none of them reached the ledger (batched)

    monkeypatch.setattr(apply.Applier, "_record", lost_after_third_modify)
    with pytest.raises(WorkerLost):
        term.run([section("A", title="New")], HOLIDAYS, max_concurrency=1)
    monkeypatch.undo()
    modified = [r["fields"]["class_id"] for r in wiziq_emulator.requests("modify")]
    assert len(modified) >= 3

    retry = term.run([section("A", title="New")], HOLIDAYS)
    resent = [r["fields"]["class_id"] for r in retry.calls("modify")]
    assert not set(resent) & set(modified)  # the applied modifies are seen on WizIQ, not sent again
    assert len(resent) == 74 - len(modified)
    assert {c["title"] for c in standing(wiziq_emulator)} == {"New"}


def test_a_class_renamed_on_wiziqs_side_is_renamed_back(wiziq_emulator):
    term = EngineTerm(wiziq_emulator)
    term.run([section("A")], HOLIDAYS)
    victim = standing(wiziq_emulator)[3]["class_id"]
    with client_for(wiziq_emulator) as client:
        client.modify(victim, title="Renamed by hand")
    run = term.run([section("A")], HOLIDAYS)
    assert [r["fields"]["class_id"] for r in run.calls("modify")] == [str(victim)]
    assert wiziq_emulator.get_class(victim)["title"] == "Section A"
    assert [change["class_id"] for change in run.result["drift"]] == [victim]


def test_the_report_gives_a_presenter_url_read_from_wiziq_when_this_run_created_nothing(wiziq_emulator):
    term = EngineTerm(wiziq_emulator)
    short = {"class_occurrence": 4, "class_end_date": None}
    made = term.run([section("A", **short)]).result["sections"]["A"]["presenter_url"]

    run = term.run([section("A", title="Algebra", **short)])  # an update: the report lists A, nothing is created

    assert run.calls("create_recurring") == [] and run.row("A")["action"] == "update"
    assert made and run.result["sections"]["A"]["presenter_url"] == made  # the first class's, as WizIQ gives it
    term.close()


def test_an_unchanged_run_on_a_second_format_ledger_upgrades_it_and_sends_nothing(wiziq_emulator):
    """A ledger written by format 2 (each section's columns as JSON objects) is read as it is; the next run writes
    it again in this format even when nothing changed on WizIQ, and the run after reads it and writes nothing."""
    term = EngineTerm(wiziq_emulator)
    sections = [section(key) for key in "ABC"]
    term.run(sections, HOLIDAYS)
    for key in ledger_keys(term.store, ""):
        value = stored(term.store, key)
        if "/s/" in key:
            put(term.store, key, {name: json.loads(entry) for name, entry in decode_shard(value).items()})
        else:
            put(term.store, key, {**value, "v": 2})

    upgraded = term.run(sections, HOLIDAYS)
    assert upgraded.writes == []
    assert head(term.store)["v"] == 3
    shards = [stored(term.store, key) for key in ledger_keys(term.store, "") if "/s/" in key]
    assert shards and all(isinstance(shard, str) and shard.startswith("zlib:") for shard in shards)
    assert all(isinstance(entry, str) for shard in shards for entry in decode_shard(shard).values())

    term.store.calls.set = 0
    after = term.run(sections, HOLIDAYS)
    assert after.writes == [] and term.store.calls.set == 0
