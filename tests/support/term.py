"""The term sync's engine against an emulator, with no Airflow: what most term-sync tests need (fast, real HTTP).

``EngineTerm(emulator).run(sections, holidays=..., calendar=...)`` is one daily run: it plans on the emulator's
clock, applies, and returns what the run did with the emulator's request log of that run.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from airflow_provider_wiziq.api.engine.stores import MemoryStore
from airflow_provider_wiziq.api.engine.sync import SyncOptions, SyncOutcome, TermSync, read_declared
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import config_from_connection

WRITES = ("create_recurring", "create", "modify", "cancel", "add_attendees")
_RUNS = itertools.count()


def client_for(emulator: Any, **extra: Any) -> WizIQClient:
    fields = {key: value for key, value in emulator.connection.items() if key != "conn_type"}
    fields["extra"] = {"max_retries": 2, "backoff_initial": 0.01, "backoff_max": 0.05, **extra}
    return WizIQClient(config_from_connection(**fields))


def stored(store: MemoryStore, key: str) -> Any:
    """A value as the store holds it (decoded), for tests to look at the ledger."""
    return json.loads(store.data[key])


def put(store: MemoryStore, key: str, value: Any) -> None:
    """Write a value as another run (or a broken one) would: whatever JSON is given, unchecked."""
    store.data[key] = json.dumps(value).encode()


def ledger_keys(store: MemoryStore, suffix: str) -> list[str]:
    return [key for key in store.data if key.endswith(suffix)]


def head(store: MemoryStore) -> dict[str, Any]:
    """The ledger's head (one account)."""
    (key,) = ledger_keys(store, "/head")
    value: dict[str, Any] = stored(store, key)
    return value


class EngineTerm:
    """One term on one emulator account, its ledger in ``store`` (a fresh memory store unless given)."""

    def __init__(self, emulator: Any, term: str = "term", store: Any = None, **extra: Any) -> None:
        self.emulator = emulator
        self.term = term
        self.store = store if store is not None else MemoryStore()
        self.client = client_for(emulator, **extra)
        self.sync: TermSync | None = None

    def run(
        self,
        sections: Any,
        holidays: Any = None,
        *,
        calendar: Any = None,
        dry_run: bool = False,
        approved: Iterable[str] = (),
        expect_fingerprint: str | None = None,
        **options: Any,
    ) -> Ran:
        options.setdefault("max_concurrency", 4)
        self.emulator.clear_requests()
        self.sync = TermSync(self.client, self.store, term=self.term, clock=self.emulator.clock,
                             options=SyncOptions(**options))  # fmt: skip
        declared = read_declared(sections, holidays or [], self.client.config.limits, calendar=calendar)
        run = f"run{next(_RUNS)}"
        outcome = self.sync.run(
            declared, owner=f"{run}/1", run=run, dry_run=dry_run, approved=tuple(approved),
            expect_fingerprint=expect_fingerprint,
        )  # fmt: skip
        return Ran(outcome, self.emulator.requests())

    def close(self) -> None:
        self.client.close()


class Ran:
    """One run: its outcome, its report, and the calls it sent."""

    def __init__(self, outcome: SyncOutcome, requests: Sequence[dict[str, Any]]) -> None:
        self.outcome = outcome
        self.result = outcome.report()
        self.requests = list(requests)

    @property
    def plan(self) -> Any:
        return self.outcome.plan

    @property
    def writes(self) -> list[dict[str, Any]]:
        return [item for item in self.requests if item["method"] in WRITES]

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [item for item in self.requests if item["method"] == method]

    def row(self, key: str) -> dict[str, Any]:
        return next(row for row in self.result["plan"] if row["key"] == key)


def standing(emulator: Any, *, after: datetime | None = None) -> list[dict[str, Any]]:
    """The emulator's classes that are not cancelled (and start after ``after``)."""
    found = []
    for cls in emulator.classes():
        if cls["cancelled_at"] is not None:
            continue
        if after is not None and datetime.fromisoformat(cls["utc_start"]) < after:
            continue
        found.append(cls)
    return found


def ids_by_instant(classes: Iterable[dict[str, Any]]) -> dict[str, int]:
    return {datetime.fromisoformat(c["utc_start"]).isoformat(): c["class_id"] for c in classes}


__all__ = [
    "WRITES",
    "EngineTerm",
    "MemoryStore",
    "Ran",
    "client_for",
    "head",
    "ids_by_instant",
    "ledger_keys",
    "put",
    "standing",
    "stored",
]
