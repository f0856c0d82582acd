"""The sync engine's ledger under concurrency: one store call at a time, the lease renewed while sections apply."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from airflow_provider_wiziq.api.engine.ledger import LEASE_KEY, LedgerError, TermLedger
from airflow_provider_wiziq.api.engine.sync import SyncOptions, TermSync, run_sync
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import config_from_connection
from airflow_provider_wiziq.api.rules.term import check_term, desired_schedule
from tests.sync_support import TERM_OPENS, section

pytestmark = pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)


class OneAtATimeStore(dict):
    """A state store that counts calls made while another is in progress (Airflow's channel serves one)."""

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
        return self._call(lambda: dict.get(self, key, default))

    def set(self, key: str, value: Any) -> None:
        self._call(lambda: dict.__setitem__(self, key, value))

    def delete(self, key: str) -> None:
        self._call(lambda: dict.pop(self, key, None))


def engine(emulator: Any, store: Any, clock: Any, keys: str) -> TermSync:
    config = config_from_connection(**{k: v for k, v in emulator.connection.items() if k != "conn_type"})
    sections, holidays, _ = check_term([section(key) for key in keys], ["2027-09-06"], config.limits)
    return TermSync(
        WizIQClient(config),
        TermLedger(store, clock=clock),
        term="engine",
        sections=sections,
        holidays=holidays,
        now=emulator.clock.now(),
        max_series_classes=60,
        options=SyncOptions(max_concurrency=4),
    )


def test_the_lease_is_renewed_while_sections_apply_and_the_store_sees_one_call_at_a_time(wiziq_emulator):
    store = OneAtATimeStore()
    minutes = itertools.count(step=61)  # every reading of the ledger's clock is a minute later: renew each time
    sync = engine(wiziq_emulator, store, lambda: float(next(minutes)), "ABCDEFGH")
    _, errors = run_sync(sync, owner="run1/1", run="run1")
    assert errors == {}
    assert store.overlaps == 0
    assert LEASE_KEY not in store  # released at the end
    assert len([c for c in wiziq_emulator.classes() if c["cancelled_at"] is None]) == 8 * 74


def test_a_run_stops_when_another_run_has_taken_its_lease(wiziq_emulator):
    store = OneAtATimeStore()
    minutes = itertools.count(step=61)
    sync = engine(wiziq_emulator, store, lambda: float(next(minutes)), "A")
    sync.ledger.acquire("run1/1", run="run1")
    plan = sync.plan()
    dict.__setitem__(store, LEASE_KEY, {"owner": "run2/1", "run": "run2", "at": 0})  # another run took over
    with pytest.raises(LedgerError, match="taken its lease"):
        sync.apply(plan, run="run1", on_tick=sync.ledger.renew)


class WorkerLost(BaseException):
    """Stands for a worker killed mid-run (SIGKILL): nothing after it runs, no except clause catches it."""


def test_a_run_lost_after_sending_a_create_leaves_the_next_run_to_adopt_not_create(wiziq_emulator, monkeypatch):
    store = OneAtATimeStore()
    clock = time.time
    first = engine(wiziq_emulator, store, clock, "AB")
    run_sync(first, owner="run1/1", run="run1")  # a term that exists, with its marker
    assert "marker" in store

    def lost(*args: Any, **kwargs: Any) -> None:
        raise WorkerLost

    second = engine(wiziq_emulator, store, clock, "ABC")  # section C is new: its series will be created
    monkeypatch.setattr(TermSync, "_created", lost)  # the create was answered, but nothing after it happens
    with pytest.raises(WorkerLost):
        run_sync(second, owner="run2/1", run="run2")
    monkeypatch.undo()
    assert "marker" not in store  # the run that creates series removed it first
    made = len(wiziq_emulator.series())
    wiziq_emulator.clear_requests()

    store.pop(LEASE_KEY, None)  # the lost worker never released its lease (a retry of the same run would take it)
    third = engine(wiziq_emulator, store, clock, "ABC")
    _, errors = run_sync(third, owner="run3/1", run="run3")
    assert errors == {}
    # C's first series (60 classes) was created before the worker was lost: it is found and adopted. Its
    # second series (14 classes) was never sent: it is the one create of this run.
    creates = wiziq_emulator.requests("create_recurring")
    assert len(creates) == 1
    assert len(wiziq_emulator.series()) == made + 1
    standing = [(c["presenter_email"], c["utc_start"]) for c in wiziq_emulator.classes() if c["cancelled_at"] is None]
    assert len(standing) == len(set(standing)) == 3 * 74


def test_a_run_lost_after_a_modify_is_not_sent_again_when_wiziq_shows_it_applied(wiziq_emulator, monkeypatch):
    store = OneAtATimeStore()
    run_sync(engine(wiziq_emulator, store, time.time, "A"), owner="run1/1", run="run1")
    renamed = engine(wiziq_emulator, store, time.time, "A")
    renamed.sections["A"] = replace(renamed.sections["A"], request=replace(renamed.sections["A"].request, title="New"))
    renamed.schedules = {key: desired_schedule(item, renamed.holidays) for key, item in renamed.sections.items()}
    counted = TermSync._count

    def lost_after_third_modify(self: TermSync, plan: Any, what: str, *args: Any, **kwargs: Any) -> None:
        if what == "modified" and self.counts["modified"] == 2:
            raise WorkerLost  # the third modify was answered; its record is never written
        counted(self, plan, what, *args, **kwargs)

    monkeypatch.setattr(TermSync, "_count", lost_after_third_modify)
    with pytest.raises(WorkerLost):
        run_sync(renamed, owner="run2/1", run="run2")
    monkeypatch.undo()
    modified = [r["fields"]["class_id"] for r in wiziq_emulator.requests("modify")]
    assert len(modified) == 3
    wiziq_emulator.clear_requests()

    again = engine(wiziq_emulator, store, time.time, "A")
    again.sections, again.schedules = renamed.sections, renamed.schedules
    _, errors = run_sync(again, owner="run2/2", run="run2")  # Airflow's retry of the same run
    assert errors == {}
    resent = [r["fields"]["class_id"] for r in wiziq_emulator.requests("modify")]
    assert not set(resent) & set(modified)  # the three applied modifies are seen on WizIQ, not sent again
    assert len(resent) == 74 - 3
    assert {c["title"] for c in wiziq_emulator.classes() if c["cancelled_at"] is None} == {"New"}


def test_a_class_renamed_on_wiziqs_side_is_renamed_back(wiziq_emulator):
    from airflow_provider_wiziq.api.protocol.client import WizIQClient as Client

    store = OneAtATimeStore()
    first = engine(wiziq_emulator, store, time.time, "A")
    run_sync(first, owner="run1/1", run="run1")
    victim = next(c["class_id"] for c in wiziq_emulator.classes() if c["cancelled_at"] is None)
    with Client(first.client.config) as client:
        client.modify(victim, title="Renamed by hand")
    wiziq_emulator.clear_requests()
    run_sync(engine(wiziq_emulator, store, time.time, "A"), owner="run2/1", run="run2")
    assert [r["fields"]["class_id"] for r in wiziq_emulator.requests("modify")] == [str(victim)]
    assert wiziq_emulator.get_class(victim)["title"] == "Section A"
