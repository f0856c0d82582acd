"""Issue 19's semester simulation: 20 days of a school's daily term sync, judged each day against an oracle.

Two schools sync a term of the same name on two WizIQ accounts (two emulators: the emulator serves one access
key); the first school's export is edited as a student information system edits it (tests/semester/term.py).
Each day's checks (tests/semester/checks.py) read the emulators' own state. ``engine`` runs the 20 days at
engine level; ``dag-days`` runs the first 7, days 2 (unchanged), 4 (a rename and zone aliases) and 7 (a swap and
a dropped section) through ``SyncTermOperator`` in ``dag.test()`` and the others at engine level on the same
ledger, the term asset's state store. Every finding of every day is collected, the
table of days is printed, and the test fails listing the findings.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

import pytest

from airflow_provider_wiziq.emulator import WizIQEmulator
from tests.semester import checks
from tests.semester.drive import Account, ledger_store, sync_day
from tests.semester.oracle import expect
from tests.semester.term import TERM, semester

DAG_DAYS = (2, 4, 7)
#: ``SEMESTER_SCHOOLS=1`` leaves the second school out, to tell its effects from the first school's own.
SCHOOLS = int(os.environ.get("SEMESTER_SCHOOLS", "2"))


def _day_table(rows: list[tuple[str, ...]]) -> str:
    header = ("day", "edits", "A via", "A writes", "A seconds", "A run", "B run", "findings")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    widths[1] = min(widths[1], 70)
    return "\n".join(
        "  ".join(str(cell)[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)) for row in [header, *rows]
    )


# The engine case imports no Airflow (its ledger is in memory): the same on every Airflow, so an integration test,
# run once by scripts/test.sh; the Airflow days (the asset's state store) run in every matrix cell.
@pytest.mark.parametrize(
    "dag_days", [pytest.param((), marks=pytest.mark.integration), DAG_DAYS], ids=["engine", "dag-days"]
)
def test_a_semester_of_daily_syncs_matches_the_oracle_every_day(dag_days, capsys):
    days = semester()
    if dag_days:  # the days after the last Airflow day run at engine level, as in the engine case
        days = days[: max(dag_days)]
    started = time.monotonic()
    findings: list[checks.Finding] = []
    rows: list[tuple[str, ...]] = []
    with (
        WizIQEmulator(access_key="school-a", secret_key="secret-a", clock_start=days[0].now) as emulator_a,
        WizIQEmulator(access_key="school-b", secret_key="secret-b", clock_start=days[0].now) as emulator_b,
    ):
        school_a = Account("a", emulator_a, "wiziq_school_a")
        school_b = Account("b", emulator_b, "wiziq_school_b")
        store = ledger_store(TERM, in_airflow=bool(dag_days))
        judge_a, judge_b = checks.Judge("A"), checks.Judge("B")
        last_b, other_ran = None, False
        for day in days:
            emulator_a.clock.set(day.now)
            emulator_b.clock.set(day.now)
            via = "dag" if day.number in dag_days else "engine"
            found, writes, run_a = _run(
                judge_a, school_a, store, day.number, day.a, via, day.quiet, day.tags, day.renamed, other_ran
            )
            other_ran, run_b = False, None
            if day.b is not None and SCHOOLS == 2:
                before_a = checks.snapshot(emulator_a)
                found_b, _, run_b = _run(judge_b, school_b, store, day.number, day.b, "engine", day.b == last_b)
                found += found_b
                changed = checks.untouched(before_a, checks.snapshot(emulator_a))
                if changed:
                    found.append(
                        checks.Finding(day.number, "B", "g", "*", f"{len(changed)} of A's classes: {changed[:8]}")
                    )
                last_b, other_ran = day.b, True
            findings += found
            counts = sorted({item.check for item in found})
            rows.append(
                (
                    str(day.number),
                    "; ".join(day.edits) or "unchanged",
                    via,
                    str(len(writes)),
                    f"{run_a.seconds:.1f}",
                    run_a.outcome()[:60],
                    "-" if run_b is None else run_b.outcome()[:40],
                    f"{len(found)} ({''.join(counts)})" if found else "0",
                )
            )
        findings += judge_a.finish(days[-1].number) + judge_b.finish(days[-1].number)
    elapsed = time.monotonic() - started
    report = _day_table(rows) + f"\n{len(days)} days in {elapsed:.0f} s; {len(findings)} findings"
    lines = [item.line() for item in findings]
    with capsys.disabled():
        print("\n" + report + "\n" + "\n".join(lines))
    assert not findings, f"{len(findings)} findings:\n" + "\n".join(lines[:80])


def _run(judge, account, store, number, declared, via, quiet, tags=None, renamed=None, other_ran=False):
    """One school's run on one day, judged: its findings, its write calls and what the run said."""
    emulator = account.emulator
    now: datetime = emulator.clock.now()
    before = checks.snapshot(emulator)
    emulator.clear_requests()
    run = sync_day(account, store, term=TERM, declared=declared, via=via)
    writes = [item["method"] for item in emulator.requests() if item["method"] in checks.WRITES]
    after = checks.snapshot(emulator)
    found = judge.judge(
        day=number,
        now=now,
        expected=expect(declared.sections, declared.holidays, declared.calendar),
        before=before,
        after=after,
        run=run,
        writes=writes,
        quiet=quiet,
        tags=tags,
        renamed=renamed,
        other_ran=other_ran,
    )
    return found, writes, run
