"""``wiziq-term rehearse``: the daily sync run day by day on an in-process emulator whose clock moves.

Each day from ``--from`` to ``--to`` (inclusive) the emulator's clock is set to that day at ``--at`` (UTC; by
default 00:00, when Airflow's ``@daily`` runs), and the sync runs once as a DAG's daily task would: the ledger
in memory, carried from day to day. The export of a day is the latest ``YYYY-MM-DD.csv`` (or ``.json``) of
``--exports`` dated on or before it, else ``--sections``. Every export is read and checked before the first day.
One line a day: the ISO date, what the run did (or what a guard refused), its calls, the classes standing.
"""

from __future__ import annotations

import argparse
import bisect
import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as time_of_day
from pathlib import Path
from typing import Any, TextIO

from airflow_provider_wiziq.api.engine.stores import MemoryStore
from airflow_provider_wiziq.api.engine.sync import WRITE_METHODS, GuardRefusal, SyncOutcome, TermSync
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.dates import iso_date, read_time_of_day
from airflow_provider_wiziq.api.rules.plan import ENDED, FAILED, UNCHANGED, TermPlan
from airflow_provider_wiziq.api.rules.planner import DeclaredTerm
from airflow_provider_wiziq.cli.account import emulator_account
from airflow_provider_wiziq.cli.inputs import (
    InvalidInput,
    TermInputs,
    add_term_arguments,
    read_export,
    read_term_inputs,
)
from airflow_provider_wiziq.emulator.server import WizIQEmulator

log = logging.getLogger(__name__)

#: The engine's log level unless -q or -v says otherwise (each day's line says what its run did).
LOG_LEVEL = logging.WARNING
#: The longest rehearsal, in days (two school years).
MAX_DAYS = 732
#: A dated export's file name: the day it applies from.
EXPORT_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.(csv|json)", re.ASCII | re.IGNORECASE)
#: Sections named on a day's line per action; more are counted only.
NAMED = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_term_arguments(parser)
    days = parser.add_argument_group("the days")
    days.add_argument("--from", dest="first", required=True, metavar="DATE", help="the first day (YYYY-MM-DD)")
    days.add_argument("--to", dest="last", required=True, metavar="DATE", help="the last day, inclusive")
    days.add_argument(
        "--at", default="00:00", metavar="HH:MM", help="when each day's run starts, UTC (default 00:00, as @daily)"
    )
    days.add_argument(
        "--exports",
        metavar="DIR",
        help="dated exports: YYYY-MM-DD.csv (or .json) is the export from that day on, until the next one",
    )


@dataclass(frozen=True)
class Export:
    name: str
    declared: DeclaredTerm


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    inputs, days, at, exports = _read(args)
    started = time.perf_counter()
    with emulator_account(_moment(days[0], at)) as (emulator, client, _calls_counted):
        rehearsal = Rehearsal(emulator, client, inputs)
        current: Export | None = None
        starts = [day for day, _ in exports]
        for day in days:
            export = exports[bisect.bisect_right(starts, day) - 1][1]
            notes = rehearsal.day(_moment(day, at), export.declared)
            if export is not current:
                notes.append(f"export {export.name}")
                current = export
            stdout.write(f"{day.isoformat()}  {'; '.join(notes)}\n")
            stdout.flush()
    took = time.perf_counter() - started
    log.info("Rehearsed %s in %.1f s (%.2f s a day)", counted(len(days), "day"), took, took / len(days))
    return 0


class Rehearsal:
    """One term's daily runs on one emulator, the ledger in memory from day to day."""

    def __init__(self, emulator: WizIQEmulator, client: WizIQClient, inputs: TermInputs) -> None:
        self.emulator = emulator
        self.client = client
        self.inputs = inputs
        self.store = MemoryStore()
        self.ended: set[str] = set()  # sections already said to have ended

    def day(self, moment: datetime, declared: DeclaredTerm) -> list[str]:
        """Run the sync at ``moment`` as that day's task would: what it did, its calls, the classes standing."""
        now = self.emulator.clock.set(moment)
        self.emulator.clear_requests()
        sync = TermSync(self.client, self.store, term=self.inputs.term, clock=self.emulator.clock,
                        options=self.inputs.options)  # fmt: skip
        shown: list[TermPlan] = []
        day = moment.date().isoformat()
        try:
            outcome = sync.run(declared, owner=f"rehearsal/{day}/1", run=f"rehearsal-{day}", show=shown.append)
        except GuardRefusal:
            what = "refused, nothing written: " + " / ".join(_sentence(text) for text in shown[-1].refusals)
        except WizIQError as error:
            what = f"failed: {error}".replace("\n", " ")
        else:
            what = _actions(outcome, self.ended)
        return [what, _calls(self.emulator.requests()), _standing(self.emulator, now)]


def _actions(outcome: SyncOutcome, ended: set[str]) -> str:
    """What the run did, per action (sections named when few); a section is said ``ended`` on its first day so."""
    keys: dict[str, list[str]] = {}
    for row in outcome.plan.sections:
        if row.action in (UNCHANGED, FAILED) or (row.action == ENDED and row.key in ended):
            continue  # a failed section is named with its error below
        if row.action == ENDED:
            ended.add(row.key)
        keys.setdefault(row.action, []).append(row.key)
    parts = [
        f"{action} {len(found)}" + (f" ({', '.join(found)})" if len(found) <= NAMED else "")
        for action, found in keys.items()
    ]
    parts += [f"failed {key}: {error}".replace("\n", " ") for key, error in outcome.errors.items()]
    return ", ".join(parts) or "no change"


def _sentence(text: str) -> str:
    """The first sentence of a refusal (``plan`` on that day's export shows all of it)."""
    return text.split(". ", 1)[0].rstrip(".")


def _calls(requests: Sequence[dict[str, Any]]) -> str:
    methods = Counter(item["method"] for item in requests)
    writes = sum(number for method, number in methods.items() if method in WRITE_METHODS)
    return f"{counted(writes, 'write')}, {counted(sum(methods.values()) - writes, 'read')}"


def _standing(emulator: WizIQEmulator, now: datetime) -> str:
    """The classes not cancelled on the account, and those of them still ahead (read from its store: cheaper than
    ``classes()``, which renders every class)."""
    with emulator.store.atomic():
        starts = [item.utc_start for item in emulator.store.all_classes() if item.cancelled_at is None]
    ahead = sum(1 for start in starts if start > now)
    return f"{counted(len(starts), 'class', 'classes')} standing, {ahead} ahead"


# The inputs -------------------------------------------------------------------------------------------------


def _read(args: argparse.Namespace) -> tuple[TermInputs, list[date], time_of_day, list[tuple[date, Export]]]:
    """The term, the days, the time of day, and the exports by the day they apply from; every problem listed."""
    problems: list[str] = []
    inputs = read_term_inputs(args, problems)
    days = _days(args, problems)
    at = _time(args.at, problems)
    limits = PlanLimits()  # the emulator's connection has no plan-limit extras
    exports = [(date.min, _export(args.sections, "--sections", inputs, limits, problems))]
    if args.exports is not None:
        for day, path in _dated(args.exports, days, problems):
            exports.append((day, _export(path, f"--exports {path.name}", inputs, limits, problems)))
    read = [(day, export) for day, export in exports if export is not None]
    if problems or not days or at is None or len(read) < len(exports):
        raise InvalidInput(problems)
    return inputs, days, at, read


def _days(args: argparse.Namespace, problems: list[str]) -> list[date]:
    try:
        first, last = iso_date("--from", args.first), iso_date("--to", args.last)
    except WizIQError as error:
        problems.append(str(error))
        return []
    if last < first:
        problems.append(f"--to: {last} is before --from {first}")
        return []
    if (last - first).days >= MAX_DAYS:
        problems.append(f"--to: a rehearsal covers at most {MAX_DAYS} days; {first}..{last} is longer")
        return []
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _time(text: str, problems: list[str]) -> time_of_day | None:
    try:
        return read_time_of_day(text, parameter="--at")
    except WizIQError as error:
        problems.append(str(error))
        return None


def _moment(day: date, at: time_of_day) -> datetime:
    return datetime.combine(day, at, timezone.utc)


def _dated(folder: str, days: Sequence[date], problems: list[str]) -> list[tuple[date, Path]]:
    """The dated exports the rehearsal uses: those in its days, and the latest one before its first day."""
    path = Path(folder)
    if not path.is_dir():
        problems.append(f"--exports: no folder {folder!r}")
        return []
    found: dict[date, Path] = {}
    for item in sorted(path.iterdir()):
        if item.suffix.lower() not in (".csv", ".json"):
            continue
        match = EXPORT_NAME.fullmatch(item.name)
        try:
            day = iso_date("--exports", match.group(1)) if match else None
        except WizIQError:
            day = None
        if day is None:
            problems.append(f"--exports: {item.name} is not named YYYY-MM-DD.csv or YYYY-MM-DD.json")
        elif day in found:
            problems.append(f"--exports: {found[day].name} and {item.name} are both the export of {day}")
        else:
            found[day] = item
    if not days:
        return []
    used = [(day, item) for day, item in sorted(found.items()) if day <= days[-1]]
    before = [pair for pair in used if pair[0] <= days[0]]
    return before[-1:] + [pair for pair in used if pair[0] > days[0]]


def _export(
    path: str | Path, option: str, inputs: TermInputs, limits: PlanLimits, problems: list[str]
) -> Export | None:
    declared = read_export(path, inputs.holidays, limits, option, problems, calendar=inputs.calendar)
    return None if declared is None else Export(Path(path).name, declared)


__all__ = ["EXPORT_NAME", "MAX_DAYS", "add_arguments", "run"]
