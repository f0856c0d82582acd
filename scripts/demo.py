"""The main job's driver (run by scripts/demo.sh): emulator up, term DAG run, created series printed;
then the term kept in sync: its plan, the apply, a re-run that changes nothing, a changed export's plan.

Each step's heading is printed before the step runs, with how long it takes (``STEPS``, measured on two busy
cores), and after it what it did and how long it took.

Usage: .venv/bin/python scripts/demo.py   (the report goes to $WIZIQ_REPORT_DIR, default output/; Airflow runs
on a throwaway AIRFLOW_HOME that is removed at the end, whatever happens)
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.emulator.server import WizIQEmulator
from airflow_provider_wiziq.example_dags import FALL_TERM_SECTIONS

DAG_ID = "wiziq_term_provisioning"
SYNC_DAG, PLAN_DAG = "wiziq_term_sync", "wiziq_term_sync_plan"
WRITES = {"create_recurring", "create", "modify", "cancel", "add_attendees"}
ROOT = Path(__file__).resolve().parent.parent
#: Each step's heading and its expected seconds: between two runs measured on two cores busy with other work
#: (the whole demo took 113 s and 279 s; the README's "two commands" says so).
STEPS = {
    "migrate": ("Preparing a throwaway Airflow database (airflow db migrate)", 10),
    "provision": (f"Provisioning the term: the {DAG_ID} DAG, one mapped task per section (airflow dags test)", 40),
    "plan": ("1. the plan of a new term", 35),
    "apply": ("2. apply", 50),
    "again": ("3. the same export again", 35),
    "changed": ("4. the plan for a changed export", 35),
}


def step(name: str) -> float:
    """Say which step comes next and how long it takes, before it runs; the moment it starts."""
    title, seconds = STEPS[name]
    print(f"\n== {title} (about {seconds} s) ...", flush=True)
    return time.monotonic()


def took(started: float) -> str:
    return f"{time.monotonic() - started:.0f} s"


def airflow(*args: str, env: dict[str, str], log: Path) -> None:
    """Run an Airflow CLI command, its output to ``log``; show the log's end if it fails."""
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    with open(log, "a") as out:
        done = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        print(f"`airflow {' '.join(args)}` failed; the end of {log}:", file=sys.stderr)
        print("\n".join(log.read_text().splitlines()[-40:]), file=sys.stderr)
        raise SystemExit(done.returncode)


def print_report(report: list[dict], emulator: WizIQEmulator) -> None:
    print(f"\n{'section':9} {'series':>6} {'classes':>7}  {'first class (local)':25} {'time zone':20} {'DST':15} title")
    for entry in report:
        classes = entry["classes"]
        print(
            f"{entry['section_id']:9} {entry['class_master_id']:>6} {len(classes):>7}  "
            f"{classes[0]['local_start']:25} {entry['time_zone']:20} {dst_column(classes):15} {entry['title']}"
        )
    stored = emulator.series()
    total = sum(len(entry["classes"]) for entry in report)
    print(f"\n{len(report)} series with {total} classes created; the emulator holds {len(stored)} series.")
    print("DST: the UTC offsets a series' classes start at, in order; the wall-clock time stays the same.")


def dst_column(classes: list[dict]) -> str:
    """The UTC offsets of the classes' local starts, each change shown (``-04:00>-05:00``), or ``none``."""
    offsets: list[str] = []
    for one in classes:
        offset = one["local_start"][19:] or "+00:00"  # after YYYY-MM-DDTHH:MM:SS
        if not offsets or offsets[-1] != offset:
            offsets.append(offset)
    return ">".join(offsets) if len(offsets) > 1 else "none"


def last_result(dag_id: str) -> dict:
    """The sync task's return value from the latest run of ``dag_id`` (read from the metadata database)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel)
            .where(XComModel.dag_id == dag_id, XComModel.task_id == "sync", XComModel.key == "return_value")
            .order_by(XComModel.timestamp.desc())
            .limit(1)
        ).first()
        return XComModel.deserialize_value(row)


def show_sync(dag_id: str, emulator: WizIQEmulator, started: float, *, only_changes: bool = False) -> None:
    """The run's calls, its plan table (only the sections that change, if asked) and its summary."""
    from airflow_provider_wiziq.api.engine.sync import plan_table

    result = last_result(dag_id)
    rows = [row for row in result["plan"] if not (only_changes and row["action"] == "unchanged")]
    calls = emulator.requests()
    writes = sum(1 for call in calls if call["method"] in WRITES)
    print(f"{dag_id} took {took(started)}: {counted(len(calls), 'WizIQ call')}, {writes} of them writes")
    print(plan_table(rows))
    if only_changes:
        print(f"({len(result['plan']) - len(rows)} unchanged sections not shown)")
    summary = result["summary"]
    print("summary:", ", ".join(f"{k} {v}" for k, v in summary.items() if k != "dry_run"))


def changed_export(work: Path) -> Path:
    """The export a week later: one section renamed, one moved to 10:00, one dropped."""
    import csv

    with open(FALL_TERM_SECTIONS, newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["title"] = rows[0]["title"] + " (honors)"
    rows[1]["start_time"] = rows[1]["start_time"][:11] + "10:00"
    del rows[-1]
    path = work / "changed_sections.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def sync_demo(work: Path, env: dict[str, str], log: Path) -> None:
    """Keep the term in sync on a fresh emulator: plan, apply, re-run with no change, a changed export's plan."""
    # This process reads the runs' results from the same (throwaway) metadata database.
    os.environ.update(
        {name: value for name, value in env.items() if name.startswith("AIRFLOW__") or name == "AIRFLOW_HOME"}
    )
    with WizIQEmulator(access_key=secrets.token_hex(8), secret_key=secrets.token_urlsafe(24)) as emulator:
        env = {**env, "AIRFLOW_CONN_WIZIQ_DEFAULT": emulator.connection_json}
        print(f"\nKeeping the term in sync (SyncTermOperator) on a fresh WizIQ emulator, {emulator.url}")
        started = step("plan")
        airflow("dags", "test", PLAN_DAG, env=env, log=log)
        show_sync(PLAN_DAG, emulator, started)
        emulator.clear_requests()
        started = step("apply")
        airflow("dags", "test", SYNC_DAG, env=env, log=log)
        show_sync(SYNC_DAG, emulator, started)
        standing = sum(1 for cls in emulator.classes() if not cls["cancelled_at"])
        print(f"the emulator holds {len(emulator.series())} series, {standing} classes not cancelled")
        emulator.clear_requests()
        started = step("again")
        airflow("dags", "test", SYNC_DAG, env=env, log=log)
        show_sync(SYNC_DAG, emulator, started, only_changes=True)
        emulator.clear_requests()
        conf = json.dumps({"sections_csv": str(changed_export(work))})
        started = step("changed")
        airflow("dags", "test", PLAN_DAG, "--conf", conf, env=env, log=log)
        show_sync(PLAN_DAG, emulator, started, only_changes=True)


def main() -> None:
    report_dir = Path(os.environ.get("WIZIQ_REPORT_DIR") or ROOT / "output")
    report_dir.mkdir(parents=True, exist_ok=True)
    log = report_dir / "airflow-dags-test.log"
    log.unlink(missing_ok=True)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="wiziq-demo-") as work,
        WizIQEmulator(access_key=secrets.token_hex(8), secret_key=secrets.token_urlsafe(24)) as emulator,
    ):
        print(f"WizIQ emulator on {emulator.url}; Airflow's output goes to {log}", flush=True)
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(Path(work) / "airflow-home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "WIZIQ_REPORT_DIR": str(report_dir),
            "AIRFLOW_CONN_WIZIQ_DEFAULT": emulator.connection_json,
        }
        started = step("migrate")
        airflow("db", "migrate", env=env, log=log)
        print(f"done in {took(started)}")
        started = step("provision")
        airflow("dags", "test", DAG_ID, env=env, log=log)
        print(f"{DAG_ID} took {took(started)}")
        report_path = report_dir / "wiziq_term_report.json"
        print_report(json.loads(report_path.read_text()), emulator)
        print(f"Report: {report_path} and {report_dir / 'wiziq_term_report.csv'}")
        sync_demo(Path(work), {name: value for name, value in env.items() if name != "AIRFLOW_CONN_WIZIQ_DEFAULT"}, log)
    print(f"Done in {time.monotonic() - started:.0f} s; the emulator is stopped and the Airflow home removed.")


if __name__ == "__main__":
    main()
