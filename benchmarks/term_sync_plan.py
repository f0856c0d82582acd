"""Planning 1,000 unchanged sections: WizIQ calls and time per section of a sync run that changes nothing.

A term of 1,000 sections (two classes a week for ten weeks each: 20,000 classes) is created once with the
term sync, then planned again with nothing changed. The plan reads the ledger's future classes with
``get_data``, 100 ids a call; the target is ``calls <= tracked future classes / 100 + 10``. The time is the
plan alone (ledger reads, WizIQ reads, planning) with the emulator in this process answering at once, so it
is the provider's own cost per section (the emulator runs in its own process, so its CPU is not counted);
``max_concurrency`` is 8. A second figure applies the unchanged plan
(a real run): it must send no write.
Run: .venv/bin/python benchmarks/term_sync_plan.py
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from emulator_process import EmulatorProcess, quiet_logs

SECTIONS = 1000
WRITES = {"create_recurring", "create", "modify", "cancel", "add_attendees"}
_RUNS = itertools.count()


def term() -> list[dict[str, Any]]:
    return [
        {
            "key": f"S{index:04d}",
            "title": f"Section {index}",
            "presenter_email": f"t{index}@bench.example",
            "time_zone": "America/Chicago",
            "start_time": f"2027-09-06T{8 + index % 8:02d}:{15 * (index % 4):02d}",
            "class_repeat_type": "weekly",
            "days_of_week": "monday,thursday" if index % 2 else "tuesday,friday",
            "class_occurrence": 20,
        }
        for index in range(SECTIONS)
    ]


def sync(emulator: Any, store: Any, *, dry_run: bool) -> tuple[Any, float]:
    from airflow_provider_wiziq.api.engine.sync import SyncOptions, TermSync, read_declared
    from airflow_provider_wiziq.api.protocol.client import WizIQClient
    from airflow_provider_wiziq.api.protocol.config import config_from_connection

    config = config_from_connection(**{k: v for k, v in emulator.connection.items() if k != "conn_type"})
    declared = read_declared(term(), ["2027-10-11"], config.limits)
    with WizIQClient(config) as client:
        engine = TermSync(client, store, term="bench", options=SyncOptions(max_concurrency=8))
        run = f"bench-{next(_RUNS)}"
        started = time.perf_counter()
        outcome = engine.run(declared, owner=run, run=run, dry_run=dry_run)
        elapsed = time.perf_counter() - started
    assert not outcome.errors, outcome.errors
    return outcome, elapsed


def requests_made(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    return emulator.control("GET", "requests")["requests"]


def main() -> None:
    quiet_logs()
    from airflow_provider_wiziq.api.engine.stores import MemoryStore

    store = MemoryStore()
    with EmulatorProcess() as emulator:
        started = time.perf_counter()
        outcome, _ = sync(emulator, store, dry_run=False)
        made = time.perf_counter() - started
        classes = emulator.control("GET", "classes")["classes"]
        tracked = sum(1 for cls in classes if cls["cancelled_at"] is None)
        counts = outcome.applied.counts
        print(f"Created the term: {SECTIONS} sections, {tracked} classes, {counts} in {made:.1f} s")
        emulator.control("DELETE", "requests")
        cpu = emulator.cpu_seconds()
        outcome, elapsed = sync(emulator, store, dry_run=True)
        plan = outcome.plan
        cpu = emulator.cpu_seconds() - cpu
        calls = requests_made(emulator)
        methods = sorted({call["method"] for call in calls})
        actions = {row["action"] for row in plan.rows()}
        target = tracked / 100 + 10
        print(
            f"Plan of the unchanged term: {len(calls)} calls ({', '.join(methods)}), target <= {target:.0f}: "
            f"{'met' if len(calls) <= target else 'NOT met'}; actions {sorted(actions)}"
        )
        per_section = elapsed / SECTIONS * 1000
        print(f"  {elapsed:.2f} s: {per_section:.2f} ms and {len(calls) / SECTIONS:.3f} calls a section")
        print(f"  (the emulator's own CPU meanwhile, in its own process: {cpu:.2f} s)")
        emulator.control("DELETE", "requests")
        _, applied = sync(emulator, store, dry_run=False)
        calls = requests_made(emulator)
        writes = [call for call in calls if call["method"] in WRITES]
        print(f"A real run of the unchanged term: {len(calls)} calls, {len(writes)} writes, {applied:.2f} s")


if __name__ == "__main__":
    main()
