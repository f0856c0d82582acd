"""Property: whatever terms, edits, clock moves and faults a sequence of sync runs meets, WizIQ converges.

After every run that ended without a section error, and after one more clean run at the end, the emulator's
uncancelled future classes are exactly the desired classes of the last declared term: one class per instant
and presenter, with the section's title. The engine (``api.sync``) runs against the emulator over HTTP; its
ledger is a plain dict store (the operator's asset-state-store path is covered by ``test_sync.py``).

``HYPOTHESIS_PROFILE=deep`` runs 200 examples instead of the CI profile's 12.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_wiziq.api.engine.sync import SAFETY_MARGIN, SyncOptions, TermSync, read_declared
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import config_from_connection
from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.api.rules.term import check_term, desired_schedule
from airflow_provider_wiziq.emulator import WizIQEmulator

EXAMPLES = {"ci": 12, "deep": 200}[os.environ.get("HYPOTHESIS_PROFILE", "ci")]
OPENS = datetime(2027, 8, 30, 12, 0, tzinfo=timezone.utc)
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata")
FAULTS = (
    None,
    ("reset_after", "create_recurring"),  # created, answer lost
    ("http_503", "create_recurring"),  # refused before processing
    ("reset_after", "modify"),
    ("reset_after", "cancel"),
    ("reset_before", "get_data"),
)
_RUNS = itertools.count()


class DictStore(dict):
    def set(self, key: str, value: Any) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)


@st.composite
def sections(draw: Any, key: str) -> dict[str, Any]:
    repeat = draw(st.sampled_from([1, 3, 4]))
    start = date(2027, 9, 1) + timedelta(days=draw(st.integers(0, 20)))
    spec: dict[str, Any] = {
        "key": key,
        "title": draw(st.sampled_from([f"Course {key}", f"Course {key} (new)"])),
        "presenter_email": f"{key.lower()}@school.example",
        "time_zone": draw(st.sampled_from(ZONES)),
        "start_time": f"{start.isoformat()}T{draw(st.integers(7, 18)):02d}:{draw(st.sampled_from([0, 30])):02d}",
        "class_repeat_type": repeat,
        "attendee_limit": draw(st.sampled_from([20, 30])),
    }
    if repeat == 4:
        days = draw(st.sets(st.sampled_from(["monday", "tuesday", "wednesday", "thursday", "friday"]), min_size=1))
        spec["days_of_week"] = ",".join(sorted(days))
        spec["specific_week"] = draw(st.integers(1, 2))
    if draw(st.booleans()):
        spec["class_occurrence"] = draw(st.integers(1, 70))
    else:
        spec["class_end_date"] = (start + timedelta(days=draw(st.integers(0, 80)))).isoformat()
    return spec


@st.composite
def terms(draw: Any) -> tuple[list[dict[str, Any]], list[str]]:
    keys = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=0, max_size=3, unique=True))
    declared = [draw(sections(key)) for key in sorted(keys)]
    holidays = [
        (date(2027, 9, 1) + timedelta(days=offset)).isoformat()
        for offset in draw(st.sets(st.integers(0, 100), max_size=6))
    ]
    return declared, holidays


runs = st.lists(
    st.tuples(terms(), st.integers(0, 20), st.sampled_from(FAULTS)),
    min_size=1,
    max_size=3,
)


def sync_once(emulator: WizIQEmulator, store: DictStore, declared: list[dict[str, Any]], holidays: list[str]) -> Any:
    config = config_from_connection(
        **{k: v for k, v in emulator.connection.items() if k != "conn_type"},
        extra={"max_retries": 2, "backoff_initial": 0.01, "backoff_max": 0.02},
    )
    valid, days, _ = check_term(declared, holidays, config.limits)
    # Only the valid sections are declared (an invalid one refuses the whole run: tested elsewhere).
    term = read_declared([spec for spec in declared if spec["key"] in valid], holidays, config.limits)
    options = SyncOptions(max_cancel_fraction=None, max_change_fraction=None, max_concurrency=3)
    with WizIQClient(config) as client:
        sync = TermSync(client, store, term="prop", clock=emulator.clock, options=options)
        run = f"run{next(_RUNS)}"
        try:
            outcome = sync.run(term, owner=run, run=run)
        except WizIQError as error:  # a read of the ledger's classes or of the account failed (a fault)
            return valid, days, {"*": error}
    return valid, days, outcome.errors


def check_converged(emulator: WizIQEmulator, valid: dict[str, Any], days: frozenset[date]) -> None:
    cutoff = emulator.clock.now() + SAFETY_MARGIN
    wanted: Counter[tuple[str, str]] = Counter()
    titles = {}
    for section in valid.values():
        email = section.request.presenter_email
        titles[email] = section.request.title
        for slot in desired_schedule(section, days).desired:
            if slot.utc_start >= cutoff:
                wanted[(email, slot.utc_start.isoformat())] += 1
    standing: Counter[tuple[str, str]] = Counter()
    for cls in emulator.classes():
        start = datetime.fromisoformat(cls["utc_start"])
        if cls["cancelled_at"] is None and start >= cutoff:
            standing[(cls["presenter_email"], start.isoformat())] += 1
            assert cls["title"] == titles.get(cls["presenter_email"], cls["title"])
    assert standing == wanted


@pytest.fixture(scope="module")
def emulator():
    with WizIQEmulator(clock_start=OPENS) as emu:
        yield emu


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
@given(sequence=runs)
def test_any_sequence_of_runs_converges_on_the_last_declared_term(emulator, sequence):
    emulator.reset()
    store = DictStore()
    valid: dict[str, Any] = {}
    days: frozenset[date] = frozenset()
    for (declared, holidays), advance_days, fault in sequence:
        emulator.clock.advance(timedelta(days=advance_days, hours=advance_days % 5))
        if fault is not None:
            emulator.inject_fault(fault[0], method=fault[1])
        valid, days, errors = sync_once(emulator, store, declared, holidays)
        emulator.clear_faults()
        if not errors:
            check_converged(emulator, valid, days)
    sync_once(emulator, store, *_last(sequence))
    check_converged(emulator, valid, days)


def _last(sequence: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    (declared, holidays), _, _ = sequence[-1]
    return declared, holidays
