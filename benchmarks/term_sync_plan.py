"""The term sync's own costs, engine level: store calls, WizIQ calls, the ledger's bytes and planning CPU.

Every term is :mod:`district_term`'s fall semester (six kinds of sections in six zones, five holidays, about 42
classes a section), synced by ``TermSync`` on the emulator (its own process: its CPU is not counted), its ledger
on the ``MemoryStore``, which keeps each value as the JSON bytes a real store holds and counts the calls.

- **Store calls** (get + set + delete) of an unchanged re-run of 50, 500 and 2,000 sections (a real run, not a dry
  run: it reads the ledger's head and shards and writes nothing), and of a first run of 500 sections with
  25-student rosters (its writes are batched every few seconds, so a slower machine makes a few more).
- **WizIQ calls** of the 2,000-section unchanged re-run: ``get_data`` of the ledger's future classes, 100 ids a
  call, so the target is ``ceil(tracked future classes / 100)``; it must send no write.
- **The ledger's bytes a class**: every stored value's JSON bytes over the classes it holds, for each term.
- **Planning CPU a section**, unchanged re-run of 500 sections (no roster): the plan of the unchanged term (a dry
  run: the ledger read, the ``get_data`` reads, the plan) on this engine against the engine this project had
  before the rewrite (commit ``OLD_ENGINE``, taken from git history into a temp dir), each side in a fresh
  interpreter on the same term, the same machine and its own emulator, the sides alternating twice. Each side
  creates the term with its own first run, then plans it three times. A run's CPU is the process's
  (``time.process_time``: every thread); the CPU of its ``get_data`` calls (each call's ``time.thread_time`` in
  its worker thread: the request, the answer's parse into records) is measured apart, and **planning** is the rest
  (the ledger read, judging each record, the plan): the figure is each side's best planning CPU, this engine's
  over the old one's. The whole run's ratio is printed beside it. Both must make the same WizIQ calls
  (``get_data`` only) and find every section unchanged. The old engine's ledger lives in a store that keeps JSON
  text as this engine's does.

Run: .venv/bin/python benchmarks/term_sync_plan.py            (about 4 minutes on 2 busy cores)
     SIZES=50,500 .venv/bin/python benchmarks/term_sync_plan.py     (fewer unchanged re-runs, while developing)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from district_term import HOLIDAYS, district_term
from emulator_process import EmulatorProcess, quiet_logs

#: The last commit with the term-sync engine that issues 19 to 21 replaced.
OLD_ENGINE = "e2ceffdfa3232e233b3b2d53d20c3c916536284c"
UNCHANGED_SIZES = tuple(int(n) for n in os.environ.get("SIZES", "50,500,2000").split(","))
ROSTER_SECTIONS, STUDENTS = 500, 25
PLAN_SECTIONS, PLAN_RUNS, ROUNDS = 500, 3, 2
WRITES = {"create_recurring", "create", "modify", "cancel", "add_attendees"}
HERE = os.path.dirname(os.path.abspath(__file__))


def _config(emulator: EmulatorProcess) -> Any:
    from airflow_provider_wiziq.api.protocol.config import config_from_connection

    return config_from_connection(**{k: v for k, v in emulator.connection.items() if k != "conn_type"})


def _calls(emulator: EmulatorProcess) -> list[str]:
    return [call["method"] for call in emulator.control("GET", "requests")["requests"]]


class Term:
    """One term on one emulator account, synced by this engine, its ledger in a ``MemoryStore``."""

    def __init__(self, emulator: EmulatorProcess, sections: list[dict[str, Any]]) -> None:
        from airflow_provider_wiziq.api.engine.stores import MemoryStore
        from airflow_provider_wiziq.api.engine.sync import read_declared

        self.emulator = emulator
        self.config = _config(emulator)
        self.declared = read_declared(sections, HOLIDAYS, self.config.limits)
        self.store = MemoryStore()
        self.runs = 0

    def sync(self, *, dry_run: bool = False) -> tuple[Any, tuple[int, int, int], float]:
        """One run: its outcome, its store calls (get, set, delete) and its process CPU seconds."""
        from airflow_provider_wiziq.api.engine.sync import SyncOptions, TermSync
        from airflow_provider_wiziq.api.protocol.client import WizIQClient

        calls = self.store.calls
        before = (calls.get, calls.set, calls.delete)
        self.runs += 1
        run = f"bench-{self.runs}"
        with WizIQClient(self.config) as client:
            engine = TermSync(client, self.store, term="bench", options=SyncOptions(max_concurrency=8))
            cpu = time.process_time()
            outcome = engine.run(self.declared, owner=run, run=run, dry_run=dry_run)
            cpu = time.process_time() - cpu
        if outcome.errors:
            raise RuntimeError(f"the sync failed: {dict(list(outcome.errors.items())[:3])}")
        return outcome, (calls.get - before[0], calls.set - before[1], calls.delete - before[2]), cpu

    def bytes_a_class(self) -> tuple[float, int, int]:
        """The ledger's stored bytes over the classes it holds (cancelled ones too), its bytes and its classes."""
        from airflow_provider_wiziq.api.engine.ledger import decode_entry
        from airflow_provider_wiziq.api.engine.ledger_format import decode_shard

        stored = sum(len(value) for value in self.store.data.values())
        classes = 0
        for key, value in self.store.data.items():
            if "/s/" in key:
                shard = decode_shard(json.loads(value))
                classes += sum(len(decode_entry(entry).classes) for entry in shard.values())
        return stored / max(classes, 1), stored, classes


def _shown(calls: tuple[int, int, int]) -> str:
    return f"{sum(calls)} ({calls[0]} / {calls[1]} / {calls[2]} get / set / delete)"


def store_and_wiziq_calls(emulator: EmulatorProcess) -> None:
    for size in UNCHANGED_SIZES:
        emulator.reset()
        term = Term(emulator, district_term(size))
        started = time.perf_counter()
        first, first_calls, _ = term.sync()
        made = time.perf_counter() - started
        per_class, stored, classes = term.bytes_a_class()
        emulator.control("DELETE", "requests")
        outcome, calls, cpu = term.sync()
        methods = _calls(emulator)
        writes = [method for method in methods if method in WRITES]
        tracked = outcome.plan.tracked_future
        actions = sorted({row["action"] for row in outcome.plan.rows()})
        print(
            f"{size} sections: first run {first.applied.counts} in {made:.0f} s, store calls {_shown(first_calls)}; "
            f"ledger {stored} bytes in {len(term.store.data)} values, {classes} classes: {per_class:.1f} bytes a class"
        )
        print(f"store calls, unchanged re-run, {size} sections: {_shown(calls)}")
        print(
            f"  WizIQ calls: {len(methods)} ({', '.join(sorted(set(methods)))}), {len(writes)} writes; tracked future "
            f"classes {tracked}: target ceil({tracked} / 100) = {math.ceil(tracked / 100)}; actions {actions}; "
            f"CPU {cpu:.2f} s"
        )
        if size == UNCHANGED_SIZES[-1]:
            verdict = len(methods) if not writes else 10**9  # a write is a miss whatever the count
            print(f"WizIQ calls, unchanged re-run, {size} sections: {verdict} target {math.ceil(tracked / 100)}")
    emulator.reset()
    term = Term(emulator, district_term(ROSTER_SECTIONS, students=STUDENTS))
    started = time.perf_counter()
    first, calls, _ = term.sync()
    made = time.perf_counter() - started
    per_class, stored, classes = term.bytes_a_class()
    print(
        f"store calls, first run, {ROSTER_SECTIONS} sections with {STUDENTS}-student rosters: {_shown(calls)}; "
        f"{first.applied.counts} in {made:.0f} s ({term.store.calls.bytes_set} bytes written)"
    )
    print(f"  ledger {stored} bytes in {len(term.store.data)} values, {classes} classes")
    print(f"ledger bytes a class, {ROSTER_SECTIONS} sections with {STUDENTS}-student rosters: {per_class:.1f}")


# Planning CPU: this engine against the old one, each in its own interpreter ---------------------------------


class _ReadsCPU:
    """The CPU of every ``WizIQClient.get_data`` call (in whichever thread), summed: the reads apart from planning."""

    def __init__(self) -> None:
        import threading

        from airflow_provider_wiziq.api.protocol.client import WizIQClient

        self.seconds = 0.0
        lock = threading.Lock()
        get_data = WizIQClient.get_data

        def timed(client: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return get_data(client, *args, **kwargs)
            finally:
                with lock:
                    self.seconds += time.thread_time() - started

        WizIQClient.get_data = timed  # type: ignore[method-assign]

    def __call__(self, plan: Any) -> tuple[Any, float, float]:
        """``plan()``'s result, its whole CPU and its reads' CPU."""
        reads, cpu = self.seconds, time.process_time()
        result = plan()
        return result, time.process_time() - cpu, self.seconds - reads


def new_side(emulator: EmulatorProcess) -> dict[str, Any]:
    term = Term(emulator, district_term(PLAN_SECTIONS))
    term.sync()
    measured = _ReadsCPU()
    cpus, reads, calls, actions = [], [], [], set()
    for _ in range(PLAN_RUNS):
        emulator.control("DELETE", "requests")
        (outcome, _, _), cpu, read = measured(lambda: term.sync(dry_run=True))
        cpus.append(cpu)
        reads.append(read)
        calls.append(_calls(emulator))
        actions |= {row["action"] for row in outcome.plan.rows()}
    return {"cpu": cpus, "reads": reads, "calls": calls, "actions": sorted(actions), "writes": outcome.plan.writes}


class _JsonStore:
    """The old engine's store: JSON text by key, as the asset state store and this engine's stores keep it."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        found = self.data.get(key)
        return default if found is None else json.loads(found)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = json.dumps(value, separators=(",", ":"))

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def old_side(emulator: EmulatorProcess) -> dict[str, Any]:
    """The same, with the old engine's own API (``run_sync`` over a ``TermSync`` made per run)."""
    from datetime import datetime, timezone

    from airflow_provider_wiziq.api.engine.ledger import TermLedger  # type: ignore[attr-defined]
    from airflow_provider_wiziq.api.engine.sync import SyncOptions, TermSync, run_sync  # type: ignore[attr-defined]
    from airflow_provider_wiziq.api.protocol.client import WizIQClient
    from airflow_provider_wiziq.api.rules.term import check_term

    config = _config(emulator)
    sections, holidays, invalid = check_term(district_term(PLAN_SECTIONS), HOLIDAYS, config.limits)
    assert not invalid, invalid
    store = _JsonStore()

    def sync(run: str, dry_run: bool) -> Any:
        with WizIQClient(config) as client:
            engine = TermSync(
                client,
                TermLedger(store),
                term="bench",
                sections=sections,
                holidays=holidays,
                now=datetime.now(timezone.utc),
                max_series_classes=config.limits.max_series_classes,
                options=SyncOptions(max_concurrency=8),
            )
            plan, errors = run_sync(engine, owner=run, run=run, dry_run=dry_run)
        assert not errors, errors
        return plan

    sync("first", False)
    measured = _ReadsCPU()
    cpus, reads, calls, actions = [], [], [], set()
    for number in range(PLAN_RUNS):
        emulator.control("DELETE", "requests")
        plan, cpu, read = measured(lambda number=number: sync(f"plan-{number}", True))
        cpus.append(cpu)
        reads.append(read)
        calls.append(_calls(emulator))
        actions |= {row["action"] for row in plan.rows()}
    return {"cpu": cpus, "reads": reads, "calls": calls, "actions": sorted(actions), "writes": plan.writes}


def side(name: str, old_src: str) -> dict[str, Any]:
    """Run one side in a fresh interpreter (the old one with the old tree first on its path)."""
    env = dict(os.environ)
    if name == "old":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [old_src, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, os.path.join(HERE, "term_sync_plan.py"), "--side", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {name} side failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def planning_cpu() -> None:
    with tempfile.TemporaryDirectory(prefix="wiziq-old-engine-") as folder:
        archive = subprocess.run(
            ["git", "-C", os.path.dirname(HERE), "archive", OLD_ENGINE, "src"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        results: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for _ in range(ROUNDS):
            for name in ("old", "new"):
                results[name].append(side(name, os.path.join(folder, "src")))
    best = {name: min(cpu for result in runs for cpu in result["cpu"]) for name, runs in results.items()}
    planning = {
        name: min(cpu - read for result in runs for cpu, read in zip(result["cpu"], result["reads"], strict=True))
        for name, runs in results.items()
    }
    calls = {name: {tuple(sorted(c)) for result in runs for c in result["calls"]} for name, runs in results.items()}
    same_calls = calls["old"] == calls["new"] and len(calls["new"]) == 1
    unchanged = all(
        result["actions"] == ["unchanged"] and result["writes"] == 0 for runs in results.values() for result in runs
    )
    count = len(next(iter(calls["new"])))
    for name, label in (("old", f"old engine ({OLD_ENGINE[:7]})"), ("new", "this engine")):
        runs = [pair for result in results[name] for pair in zip(result["cpu"], result["reads"], strict=True)]
        every = ", ".join(f"{cpu:.2f} ({cpu - read:.2f})" for cpu, read in runs)
        print(
            f"  {label}: planning {planning[name]:.2f} s, {planning[name] / PLAN_SECTIONS * 1000:.2f} ms a section; "
            f"whole run {best[name]:.2f} s; every run, whole (planning): {every}"
        )
    print(f"  same WizIQ calls on both sides: {same_calls} ({count} get_data); every section unchanged: {unchanged}")
    print(f"  the whole unchanged run, reads included, vs the old engine: {best['new'] / best['old']:.3f}")
    ratio = planning["new"] / planning["old"] if same_calls and unchanged else float("inf")
    print(f"planning CPU a section, unchanged re-run, {PLAN_SECTIONS} sections, vs the old engine: {ratio:.3f}")


def main() -> None:
    cli = argparse.ArgumentParser()
    cli.add_argument("--side", choices=("old", "new"), help=argparse.SUPPRESS)
    args = cli.parse_args()
    quiet_logs()
    if args.side:
        with EmulatorProcess() as emulator:
            result = old_side(emulator) if args.side == "old" else new_side(emulator)
        print(json.dumps(result))
        return
    started = time.perf_counter()
    with EmulatorProcess() as emulator:
        store_and_wiziq_calls(emulator)
    planning_cpu()
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
