"""The main job's driver (run by scripts/demo.sh): emulator up, term DAG run, created series printed.

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

from airflow_provider_wiziq.emulator.server import WizIQEmulator

DAG_ID = "wiziq_term_provisioning"
ROOT = Path(__file__).resolve().parent.parent


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
        print(f"WizIQ emulator on {emulator.url}")
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(Path(work) / "airflow-home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "WIZIQ_REPORT_DIR": str(report_dir),
            "AIRFLOW_CONN_WIZIQ_DEFAULT": emulator.connection_json,
        }
        airflow("db", "migrate", env=env, log=log)
        print(f"Running the {DAG_ID} DAG with `airflow dags test` (log: {log}) ...")
        airflow("dags", "test", DAG_ID, env=env, log=log)
        report_path = report_dir / "wiziq_term_report.json"
        print_report(json.loads(report_path.read_text()), emulator)
    print(f"Report: {report_path} and {report_dir / 'wiziq_term_report.csv'}")
    print(f"Done in {time.monotonic() - started:.0f} s; the emulator is stopped and the Airflow home removed.")


if __name__ == "__main__":
    main()
