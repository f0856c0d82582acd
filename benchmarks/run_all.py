"""Every performance figure of the project with its target and verdict, from one run of each benchmark script.

Each row's figure is read from what its script prints (its ``ratio:`` line, or the line named below). Every
row gets a verdict, met or MISSED: a script that is missing, fails or prints no such figure leaves its row
MISSED, with "no figure" and, below the table, why. The scripts run one after the other (each starts its
own emulator), in this virtualenv. No benchmark runs in CI.
Not run here (figures without a row, in docs/benchmarks.md and docs/ledger-stores.md): ``import_cost.py``,
``bulk_throughput.py``, ``ledger_stores.py``, and ``district_scale.py``, issue 21's district scale in a real
deployment (the e2e's stack, about 15 minutes on its own: more than this table's budget).
Run: .venv/bin/python benchmarks/run_all.py            (about 10 to 20 minutes on 2 busy cores)
     .venv/bin/python benchmarks/run_all.py call_instructions recurrence_expansion    (some scripts only)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
NUMBER = r"([0-9]+(?:\.[0-9]+)?)"


@dataclass(frozen=True)
class Row:
    """One figure of the table: where it comes from and what it must be."""

    figure: str
    script: str  # under benchmarks/, without .py
    pattern: str  # a regex over the script's output: group "value", and "bound" when the script states the target
    target: float | None = None  # the figure must be <= target (None: the script states it, group "bound")
    unit: str = "x"
    bound: str = ""  # how the script's bound is worked out, for the table (when target is None)


ROWS = (
    Row(
        "hook call vs a minimal hand-written client, instructions a call (callgrind)",
        "call_instructions",
        rf"^ratio: (?P<value>{NUMBER})",
        1.08,
    ),
    Row("hook call vs HttpHook.run + hand signing, CPU a call", "http_provider", rf"^ratio: (?P<value>{NUMBER})", 0.6),
    Row(
        "recurrence expansion vs rrule + zoneinfo, same UTC instants, instructions a class (callgrind)",
        "recurrence_expansion",
        rf"^ratio: (?P<value>{NUMBER}) provider / rrule \+ zoneinfo, UTC instants",
        1.25,
    ),
    Row(
        "recurrence expansion vs rrule + zoneinfo, same UTC instants and DST flags, instructions a class",
        "recurrence_expansion",
        rf"^ratio:.*?; (?P<value>{NUMBER}) with DST flags",
        1.25,
    ),
    Row(
        "peak memory of a whole get_data call over the answer's size, any answer under the cap",
        "parse_answers",
        rf"^ratio:.*?peak memory of a get_data call over the answer's size (?P<value>{NUMBER})",
        2.0,
    ),
    Row(
        "typed get_data parse vs fromstring + the same records by hand, every defence on",
        "parse_answers",
        rf"^ratio:.*?the same records by hand (?P<value>{NUMBER})",
        1.5,
    ),
    Row(
        "bulk create in dag.test() vs its bare execute(), 500 series, start-up excluded",
        "dag_test_overhead",
        rf"^ratio:.*?bulk (?P<value>{NUMBER})",
        1.3,
    ),
    Row(
        "term sync in dag.test() vs its bare execute(), 500 sections with holidays and 25-student rosters, first run",
        "dag_test_overhead",
        rf"^ratio:.*?term sync first run (?P<value>{NUMBER})",
        1.5,
    ),
    Row(
        "the same, unchanged re-run",
        "dag_test_overhead",
        rf"^ratio:.*?term sync re-run (?P<value>{NUMBER})",
        1.2,
    ),
    Row(
        "XCom written by an unchanged term-sync re-run, 500 sections",
        "dag_test_overhead",
        rf"^ratio:.*?re-run XCom KB (?P<value>{NUMBER})",
        100,
        unit=" KB",
    ),
    Row(
        "XCom writes per create task",
        "dag_test_overhead",
        rf"^ratio:.*?XCom writes a create task (?P<value>{NUMBER})",
        2,
        unit="",
    ),
    Row(
        "coalesced waits vs the dbt Cloud trigger's pattern (a client per wait), CPU a round, 1,000 waits",
        "trigger_waits",
        rf"^ratio:.*?CPU (?P<value>{NUMBER})",
        0.03,
    ),
    Row(
        "planning 500 sections of explicit dates vs the same as rules (dates -> classes -> pack), instructions",
        "schedule_packing",
        rf"^ratio: (?P<value>{NUMBER})",
        2.0,
    ),
    Row(
        "status pings vs polling only, WizIQ calls an hour of 1,000 deferred waits",
        "ping_waits",
        rf"^ratio: calls (?P<value>{NUMBER})",
        0.1,
    ),
    Row(
        "term sync unchanged re-run, 50 sections: store calls",
        "term_sync_plan",
        rf"^store calls, unchanged re-run, 50 sections: (?P<value>{NUMBER})",
        5,
        unit=" calls",
    ),
    Row(
        "term sync unchanged re-run, 500 sections: store calls",
        "term_sync_plan",
        rf"^store calls, unchanged re-run, 500 sections: (?P<value>{NUMBER})",
        12,
        unit=" calls",
    ),
    Row(
        "term sync unchanged re-run, 2,000 sections: store calls",
        "term_sync_plan",
        rf"^store calls, unchanged re-run, 2000 sections: (?P<value>{NUMBER})",
        40,
        unit=" calls",
    ),
    Row(
        "term sync first run, 500 sections with 25-student rosters: store calls",
        "term_sync_plan",
        rf"^store calls, first run, 500 sections with 25-student rosters: (?P<value>{NUMBER})",
        100,
        unit=" calls",
    ),
    Row(
        "term sync unchanged re-run, 2,000 sections: WizIQ calls (get_data only)",
        "term_sync_plan",
        rf"^WizIQ calls, unchanged re-run, 2000 sections: (?P<value>{NUMBER}) target (?P<bound>{NUMBER})",
        None,
        unit=" calls",
        bound="<= ceil(tracked future classes / 100)",
    ),
    Row(
        "the ledger's bytes a class, 500 sections with 25-student rosters (every stored value)",
        "term_sync_plan",
        rf"^ledger bytes a class, 500 sections with 25-student rosters: (?P<value>{NUMBER})",
        None,
        unit=" B",
        bound="no target",
    ),
    Row(
        "planning CPU a section, unchanged re-run of 500 sections, vs the old engine (same calls, all unchanged)",
        "term_sync_plan",
        rf"^planning CPU a section, unchanged re-run, 500 sections, vs the old engine: (?P<value>{NUMBER})",
        0.5,
    ),
)


def run(script: str) -> tuple[str | None, str]:
    """The script's output, or None and why it gave none."""
    path = os.path.join(HERE, f"{script}.py")
    if not os.path.exists(path):
        return None, f"benchmarks/{script}.py does not exist yet"
    print(f"running benchmarks/{script}.py ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, path], cwd=os.path.dirname(HERE), capture_output=True, text=True, timeout=3600
        )
    except subprocess.TimeoutExpired:
        return None, f"benchmarks/{script}.py ran over an hour"
    print(f"  done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"benchmarks/{script}.py failed: {last[:200]}"
    return done.stdout, ""


def verdict(row: Row, output: str | None, why: str) -> tuple[str, str, str]:
    """(measured, target, verdict) for the table. A row without its figure is MISSED: :func:`missing` says why."""
    if output is None or re.search(row.pattern, output, re.MULTILINE) is None:
        return "no figure", _target(row, None), "MISSED"
    found = re.search(row.pattern, output, re.MULTILINE)
    assert found is not None
    value = float(found.group("value"))
    shown = f"{value:g}{row.unit}"
    if row.target is None and "bound" not in found.groupdict():
        return shown, "no target", "-"  # a figure the table shows beside the others
    bound = float(found.group("bound")) if row.target is None else row.target
    return shown, _target(row, bound), "met" if value <= bound else "MISSED"


def missing(row: Row, output: str | None, why: str) -> str | None:
    """Why ``row`` has no figure, or None when it has one."""
    if output is None:
        return why
    if re.search(row.pattern, output, re.MULTILINE) is None:
        return f"benchmarks/{row.script}.py printed no such figure"
    return None


def _target(row: Row, bound: float | None) -> str:
    if row.target is not None:
        return f"<= {row.target:g}{row.unit}"
    return row.bound + (f" = {bound:g}{row.unit}" if bound is not None else "")


def main(only: list[str]) -> None:
    outputs: dict[str, tuple[str | None, str]] = {}
    for row in ROWS:
        if row.script not in outputs:
            outputs[row.script] = run(row.script) if not only or row.script in only else (None, "not run this time")
    table = [("figure", "measured", "target", "verdict", "script")]
    for row in ROWS:
        table.append((row.figure, *verdict(row, *outputs[row.script]), f"benchmarks/{row.script}.py"))
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for number, line in enumerate(table):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |")
        if number == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in ROWS:
        why = missing(row, *outputs[row.script])
        if why is not None:
            print(f"MISSED for want of a figure: {row.figure}: {why}")
    for script, (output, _) in outputs.items():
        if output:
            print(f"\n## benchmarks/{script}.py\n{output.rstrip()}")


if __name__ == "__main__":
    main(sys.argv[1:])
