"""The deployment test's term-sync scenarios: ``SyncTermOperator`` in the real deployment, its ledger in the term
asset's state store (the default on Airflow 3.3) or in a ``file://`` folder (``ledger_path``).

What they hold the sync to is judged apart from the engine: the emulator's request log (writes sent), its
classes against an expansion of the export computed without the provider (``tests/semester/oracle.py``), the
ledger as stored (read through Airflow's REST API or from its files), and the asset events Airflow recorded.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from tests.e2e.clients import AirflowAPI, Emulator, writes
from tests.e2e.deployment import say
from tests.e2e.scenarios import SECTIONS_CSV, Context, check, section_titles

SYNC_DAG = "wiziq_term_sync"
#: The same term with its ledger in a folder (tests/e2e/dags/e2e_term_sync.py).
PATH_DAG = "e2e_term_sync_path"
#: Every WizIQ call takes this long while a sync is to be killed: its writes then spread over several 5 s ledger
#: batches (the DAG allows 20 calls a second; 8 in flight at 1 s each make about 8).
KILL_LATENCY = 1.0
#: ``class_repeat_type`` as the export spells it, as the oracle reads it (WizIQ's numbers).
REPEAT_TYPES = {"daily": 1, "mon_sat": 2, "mon_fri": 3, "weekly": 4, "monthly": 5}


# What the emulator saw ------------------------------------------------------------------------------------------


def duplicated_series(emulator: Emulator) -> list[tuple[str, str]]:
    """Series that are the same series twice: same title, presenter and first class."""
    seen = Counter(
        (s["params"].get("title", ""), s["params"].get("presenter_email", ""), s["params"].get("start_time", ""))
        for s in emulator.series()
    )
    return [(title, start) for (title, _, start), n in seen.items() if n > 1]


#: Request fields that differ between two sendings of one write (the signature is not recorded).
_PER_SENDING = frozenset({"access_key", "timestamp", "method"})


def repeated_writes(log: list[dict[str, Any]]) -> list[str]:
    """Writes that succeeded twice: a series created twice, a class cancelled twice, one modify sent twice."""
    done = [e for e in log if e["error_code"] is None and e["committed"]]
    creates = Counter(
        (e["fields"].get("title"), e["fields"].get("start_time")) for e in done if e["method"] == "create_recurring"
    )
    cancels = Counter(e["fields"].get("class_id") for e in done if e["method"] == "cancel")
    modifies = Counter(
        tuple(sorted((k, v) for k, v in e["fields"].items() if k not in _PER_SENDING))
        for e in done
        if e["method"] == "modify"
    )
    return (
        [f"create_recurring {key}" for key, n in creates.items() if n > 1]
        + [f"cancel {key}" for key, n in cancels.items() if n > 1]
        + [f"modify {dict(key).get('class_id')}" for key, n in modifies.items() if n > 1]
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def declared(params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The sections and holidays the example DAG's export task hands the sync for these params."""
    from airflow_provider_wiziq.example_dags.wiziq_term_sync import declared_term

    term = declared_term({"sections_csv": str(SECTIONS_CSV), "term_year": None, **params})
    return term["sections"], term["holidays"]


def against_the_export(emulator: Emulator, params: dict[str, Any]) -> tuple[int, list[str]]:
    """The classes standing on the account compared with the export, expanded apart from the provider: how many
    future classes the export declares, and every class lost (declared, not standing) or extra (standing, not
    declared), by section."""
    from tests.semester.oracle import MARGIN, expect

    sections, holidays = declared(params)
    spelled = [
        {**s, "class_repeat_type": REPEAT_TYPES.get(str(s.get("class_repeat_type")), s.get("class_repeat_type"))}
        for s in sections
    ]
    expected = expect(spelled, holidays)
    now = emulator.now()
    standing: dict[tuple[str, str], set[datetime]] = defaultdict(set)
    for item in emulator.classes():
        start = _instant(item["utc_start"])
        if item["cancelled_at"] is None and start >= now + MARGIN:
            standing[(str(item["presenter_email"] or "").casefold(), item["title"].strip())].add(start)
    problems: list[str] = []
    total = 0
    for key, section in expected.items():
        wanted = set(section.future(now))
        total += len(wanted)
        have = standing.pop(section.identity, set())
        if wanted - have:
            problems.append(f"{key}: {len(wanted - have)} classes lost, e.g. {min(wanted - have).isoformat()}")
        if have - wanted:
            problems.append(f"{key}: {len(have - wanted)} classes extra, e.g. {min(have - wanted).isoformat()}")
    problems.extend(f"{len(extra)} classes of no section: {identity}" for identity, extra in standing.items())
    return total, problems


# The ledger as stored -------------------------------------------------------------------------------------------


class StoredLedger(Protocol):
    def values(self) -> dict[str, Any]:
        """Every stored key of the term's ledger with its value."""
        ...


@dataclass
class AssetLedger:
    """A term's ledger in its asset's state store (the default on Airflow 3.3), read through the REST API."""

    api: AirflowAPI
    term: str

    def values(self) -> dict[str, Any]:
        asset = self.api.asset_id(f"wiziq://term/{self.term}")
        return self.api.asset_state(asset) if asset is not None else {}


@dataclass
class FileLedger:
    """A term's ledger in a ``file://`` folder (``ledger_path``): one JSON file per key."""

    folder: Path

    def values(self) -> dict[str, Any]:
        found = {}
        for path in self.folder.rglob("*.json"):
            found[path.relative_to(self.folder).as_posix().removesuffix(".json")] = json.loads(path.read_text())
        return found


@dataclass(frozen=True)
class LedgerView:
    """What a ledger records: whether it has a head and a marker, its series, its classes (start and state)."""

    head: bool
    marker: Any
    series: frozenset[int]
    classes: dict[int, tuple[datetime, str]]
    sections: frozenset[str]


def read_ledger(stored: StoredLedger) -> LedgerView:
    """The ledger's head and sections, decoded by the provider's own reader (the e2e has one account)."""
    from airflow_provider_wiziq.api.engine.ledger import decode_entry
    from airflow_provider_wiziq.api.engine.ledger_format import decode_shard

    values = stored.values()
    head = next((value for key, value in values.items() if key.endswith("/head")), None)
    series: set[int] = set()
    classes: dict[int, tuple[datetime, str]] = {}
    sections: set[str] = set()
    for key, shard in values.items():
        if "/s/" not in key:
            continue
        for section, value in decode_shard(shard).items():
            entry = decode_entry(value)
            sections.add(section)
            series.update(entry.series)
            classes.update((item.class_id, (item.start, item.state)) for item in entry.classes)
    marker = head.get("marker") if isinstance(head, dict) else None
    return LedgerView(head is not None, marker, frozenset(series), classes, frozenset(sections))


@dataclass(frozen=True)
class Sent:
    """A run's committed writes that tell whether the ledger recorded them: creates, cancels and moves."""

    recorded: int
    unrecorded: list[str]
    creates: int


def sent_and_recorded(ledger: LedgerView, emulator: Emulator, log: list[dict[str, Any]]) -> Sent:
    """The writes in ``log`` that WizIQ took, split by whether the ledger shows them."""
    made = emulator.series()
    series = {(s["params"].get("title"), s["params"].get("start_time")): s["class_master_id"] for s in made}
    classes = {item["class_id"]: item for item in emulator.classes()}
    recorded, unrecorded, creates = 0, [], 0
    for entry in writes(log):
        if not entry["committed"] or entry["error_code"] is not None:
            continue
        fields, method = entry["fields"], entry["method"]
        if method == "create_recurring":
            creates += 1
            shown = series.get((fields.get("title"), fields.get("start_time"))) in ledger.series
        elif method == "cancel":
            shown = ledger.classes.get(int(fields["class_id"]), (None, "scheduled"))[1] != "scheduled"
        elif method == "modify" and "start_time" in fields:
            class_id = int(fields["class_id"])
            known = ledger.classes.get(class_id)
            shown = known is not None and known[0] == _instant(classes[class_id]["utc_start"])
        else:
            continue
        if shown:
            recorded += 1
        else:
            unrecorded.append(f"{method} {fields.get('class_id') or fields.get('title')}")
    return Sent(recorded, unrecorded, creates)


# Scenarios ------------------------------------------------------------------------------------------------------


def term_sync_adopts_then_idles(ctx: Context) -> str:
    """The term provisioned by the bulk DAG is adopted by wiziq_term_sync's first run (adoption across DAGs,
    tested once on purpose): no section is booked again; a second run with the same export sends no write."""
    ctx.run("wiziq_term_provisioning_bulk", timeout=600)
    provisioned = len(ctx.emulator.series())
    before = len(ctx.emulator.requests())
    ctx.run(SYNC_DAG, timeout=600)
    first = ctx.emulator.requests()[before:]
    sections = set(section_titles())
    again = sorted({e["fields"]["title"] for e in first if e["method"] == "create_recurring"} & sections)
    check(not again, f"the sync booked provisioned sections again: {again[:3]}")
    check(not duplicated_series(ctx.emulator), f"series booked twice: {duplicated_series(ctx.emulator)[:3]}")
    check(not repeated_writes(first), f"writes sent twice: {repeated_writes(first)[:3]}")
    titles = {s["params"].get("title") for s in ctx.emulator.series()}
    check(sections <= titles, f"sections without a series: {sorted(sections - titles)[:3]}")
    before = len(ctx.emulator.requests())
    ctx.run(SYNC_DAG, timeout=600)
    second = ctx.emulator.requests()[before:]
    check(not writes(second), f"the unchanged re-run sent {len(writes(second))} writes, e.g. {writes(second)[:1]}")
    counts = Counter(e["method"] for e in writes(first))
    return f"adopted {provisioned} series; run 1: {dict(counts)}; run 2: {len(second)} reads, 0 writes"


def write_export(ctx: Context, name: str, rows: list[dict[str, str]]) -> str:
    """An export in the sample's columns, in the deployment's temp dir (every component reads it); its path."""
    with open(SECTIONS_CSV, newline="") as handle:
        columns = list(csv.DictReader(handle).fieldnames or [])
    path = ctx.deployment.work / name
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def sample_rows() -> list[dict[str, str]]:
    with open(SECTIONS_CSV, newline="") as handle:
        return list(csv.DictReader(handle))


#: The section the rename scenario gives a new key (an index into the sample export).
RENAMED = 20


def term_sync_rename_and_alias(ctx: Context) -> str:
    """On the provisioned term (the previous scenario's), an export that renames one section's key and spells
    every America/New_York section US/Eastern sends no write: the rename moves the ledger entry, the alias is
    the same zone. Continues the previous scenario's account and ledger."""
    rows = sample_rows()
    old = rows[RENAMED]["section_id"]
    rows[RENAMED]["section_id"] = new = f"{old}-R"
    aliased = 0
    for row in rows:
        if row["time_zone"] == "America/New_York":
            row["time_zone"], aliased = "US/Eastern", aliased + 1
    check(aliased, "the sample export has no America/New_York section to alias")
    export = write_export(ctx, "renamed_sections.csv", rows)
    before = len(ctx.emulator.requests())
    run_id = ctx.run(SYNC_DAG, {"sections_csv": export}, timeout=600)
    sent = ctx.emulator.requests()[before:]
    check(not writes(sent), f"the rename and alias sent {len(writes(sent))} writes, e.g. {writes(sent)[:1]}")
    plan = {row["key"]: row for row in ctx.api.xcom(SYNC_DAG, run_id, "sync")["plan"]}
    check(new in plan and old not in plan, f"the plan does not show {old} as {new}: {sorted(plan)[:5]}")
    check(f"renamed from {old}" in plan[new]["reason"], f"{new}'s plan row: {plan[new]}")
    moved = [key for key, row in plan.items() if row["action"] != "unchanged"]
    check(not moved, f"sections not unchanged: {moved[:3]}")
    ledger = read_ledger(AssetLedger(ctx.api, "fall"))
    check(new in ledger.sections and old not in ledger.sections, f"the ledger still keys the section as {old}")
    return f"{old} -> {new} and {aliased} sections in US/Eastern: {len(sent)} reads, 0 writes"


def changed_export(ctx: Context) -> str:
    """The sample export with what a registrar changes mid-term: five sections moved a week, five retitled, two
    dropped, three added. Written to the deployment's temp dir; returns its path."""
    rows = sample_rows()
    for row in rows[:5]:
        row["start_time"] = (datetime.fromisoformat(row["start_time"]) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    for row in rows[5:10]:
        row["title"] = f"{row['title']} (room 2)"
    kept = rows[:-2]
    for number, row in enumerate(rows[10:13]):
        kept.append(
            {
                **row,
                "section_id": f"NEW-{number}",
                "title": f"Elective {number}",
                "presenter_email": f"elective{number}@school.example",
            }
        )
    return write_export(ctx, "changed_sections.csv", kept)


def kill_between_batches(ctx: Context, dag_id: str, run_id: str, ledger: StoredLedger, since: int) -> Sent:
    """SIGKILL the sync's task process between two ledger batches: once it has sent a create, the ledger's
    marker is cleared, a batch has recorded some of its writes and others were answered since. To look, the
    process is stopped (SIGSTOP), so no batch can land between the look and the kill; when the moment has not
    come yet it goes on (SIGCONT) and is looked at again a second later."""
    looks = 0
    while True:

        def started() -> int | None:
            (ti,) = ctx.tis(dag_id, run_id, "sync")
            sent = writes(ctx.emulator.requests()[since:])
            return ti["pid"] if ti["state"] == "running" and ti.get("pid") and sent else None

        pid = ctx.until(started, 600, "the sync to be applying its plan", (dag_id, run_id))
        os.kill(pid, signal.SIGSTOP)
        looks += 1
        try:
            view = read_ledger(ledger)
            sent = sent_and_recorded(view, ctx.emulator, ctx.emulator.requests()[since:])
        except BaseException:
            os.kill(pid, signal.SIGCONT)
            raise
        if view.head and view.marker is None and sent.recorded and sent.unrecorded and sent.creates:
            say(
                f"SIGKILL the sync task pid {pid}: {sent.recorded} writes in the ledger, {len(sent.unrecorded)} "
                f"sent since its last batch (look {looks})"
            )
            os.kill(pid, signal.SIGKILL)
            return sent
        os.kill(pid, signal.SIGCONT)
        time.sleep(1)


def killed_and_converged(
    ctx: Context, dag_id: str, params: dict[str, Any], ledger: StoredLedger, asset_uri: str
) -> str:
    """Run ``dag_id`` with ``params``, SIGKILL its sync between two ledger batches, and hold its retry to: the
    term converged (every class the export declares stands, once; nothing else), no series twice, no write
    done twice, its asset event announcing what the killed try created; and a further run sends no write."""
    before = len(ctx.emulator.requests())
    series_before = {s["class_master_id"] for s in ctx.emulator.series()}
    ctx.emulator.set_latency(KILL_LATENCY)
    run_id = ctx.trigger(dag_id, params)
    killed = kill_between_batches(ctx, dag_id, run_id, ledger, before)
    killed_at = time.monotonic()
    time.sleep(KILL_LATENCY + 1)  # the calls in flight land; their answers go nowhere
    ctx.emulator.set_latency(0)
    made = {s["class_master_id"] for s in ctx.emulator.series()} - series_before
    retry_from = len(ctx.emulator.requests())
    ctx.expect_success(dag_id, run_id, 600)
    recovered = time.monotonic() - killed_at
    (ti,) = ctx.tis(dag_id, run_id, "sync")
    check(ti["try_number"] >= 2, f"the sync succeeded in try {ti['try_number']}: the kill did not count")
    applied = ctx.emulator.requests()[before:]
    retry = ctx.emulator.requests()[retry_from:]
    pages = sum(e["method"] == "get_data" and "page_number" in e["fields"] for e in retry)
    check(not repeated_writes(applied), f"writes sent twice: {repeated_writes(applied)[:3]}")
    check(not duplicated_series(ctx.emulator), f"series booked twice: {duplicated_series(ctx.emulator)[:3]}")
    declared_classes, problems = against_the_export(ctx.emulator, params)
    check(not problems, f"the term did not converge: {'; '.join(problems[:4])}")
    check(read_ledger(ledger).marker is not None, "the converging run left no marker")
    said = [str(line.get("event", "")) for line in ctx.api.log_events(ti)]
    check(any("the ledger has no marker" in line for line in said), "the retry did not read the account to adopt")

    asset = ctx.api.asset_id(asset_uri)
    check(asset is not None, f"no asset {asset_uri}")
    events = ctx.api.asset_events(asset, run_id) if asset is not None else []
    check(len(events) == 1, f"{len(events)} asset events from the run, not 1")
    announced = {i for news in events[0]["extra"]["sections"].values() for i in news["created"]}
    standing = {c["class_id"] for c in ctx.emulator.classes() if c["class_master_id"] in made and not c["cancelled_at"]}
    check(made and standing, "the killed try created no series")
    check(standing <= announced, f"{len(standing - announced)} classes the killed try created are not announced")

    before = len(ctx.emulator.requests())
    ctx.run(dag_id, params, timeout=600)
    after = ctx.emulator.requests()[before:]
    check(not writes(after), f"the next run sent {len(writes(after))} writes, e.g. {writes(after)[:1]}")
    return (
        f"killed with {killed.recorded} writes in the ledger, {len(killed.unrecorded)} not, {len(made)} "
        f"series made; try {ti['try_number']} converged {recovered:.0f} s after the kill with {len(retry)} calls "
        f"({len(writes(retry))} writes, {pages} account pages): {declared_classes} classes as declared, the "
        f"killed try's {len(standing)} announced; next run 0 writes"
    )


def term_sync_killed_between_batches(ctx: Context) -> str:
    """A changed export's sync (moves, retitles, drops, adds), its ledger in the term asset's state store, is
    SIGKILLed between two ledger batches and retried by Airflow (see :func:`killed_and_converged`). Continues
    the previous scenarios' account and ledger."""
    export = changed_export(ctx)
    return killed_and_converged(
        ctx, SYNC_DAG, {"sections_csv": export}, AssetLedger(ctx.api, "fall"), "wiziq://term/fall"
    )


def term_sync_path_killed_between_batches(ctx: Context) -> str:
    """The sample term's first sync on a fresh account, its ledger in a ``file://`` folder shared by the
    components (``ledger_path``), is SIGKILLed between two ledger batches and retried by Airflow (see
    :func:`killed_and_converged`)."""
    folder = ctx.deployment.work / "ledgers" / f"path-{int(time.time())}"
    folder.mkdir(parents=True)
    return killed_and_converged(
        ctx,
        PATH_DAG,
        {"ledger_path": folder.as_uri()},
        FileLedger(folder),
        "wiziq://term/e2e-path",
    )
