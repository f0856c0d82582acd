"""The example DAGs import cleanly and succeed in dag.test() against the emulator."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest

from airflow_provider_wiziq.example_dags import FALL_TERM_SECTIONS, ROSTER
from tests.dagtest import dag_bag, run_dag, task_instances
from tests.semester.oracle import expect
from tests.support.oneroster import calendar_csv, patterns_csv, school, write_bundle
from tests.sync_support import TERM_OPENS

EXAMPLES = Path(__file__).resolve().parent.parent / "example_dags"


@pytest.fixture(scope="module")
def example_bag():
    return dag_bag(dag_folder=EXAMPLES)


def test_every_example_dag_imports_without_errors(example_bag):
    assert example_bag.import_errors == {}
    assert {"wiziq_term_provisioning", "wiziq_term_provisioning_bulk", "wiziq_enrollment_pipeline"} <= set(
        example_bag.dag_ids
    )


def test_the_repositorys_example_dags_are_the_packaged_ones(example_bag):
    """From a pip install the examples are in the package; the repository's example_dags/ only imports them."""
    import ast

    import airflow_provider_wiziq.example_dags as packaged

    packaged_bag = dag_bag(dag_folder=packaged.FOLDER)
    assert packaged_bag.import_errors == {}
    assert (
        set(packaged_bag.dag_ids)
        == set(example_bag.dag_ids)
        == {
            "wiziq_enrollment_pipeline",
            "wiziq_term_provisioning",
            "wiziq_term_provisioning_bulk",
            "wiziq_term_sync",
            "wiziq_term_sync_oneroster",
            "wiziq_term_sync_plan",
            "wiziq_term_sync_reviewed",
            "wiziq_wait_for_class",
            "wiziq_after_class",
        }
    )
    assert {path.name for path in EXAMPLES.iterdir() if path.suffix == ".py"} == {
        path.name for path in packaged.FOLDER.glob("wiziq_*.py")
    }
    for path in EXAMPLES.glob("*.py"):  # no second copy of the code: a docstring, imports and __all__
        body = ast.parse(path.read_text(encoding="utf-8")).body
        kinds = {type(node).__name__ for node in body[1:]}
        assert kinds <= {"ImportFrom", "Assign"}, path.name
        imported = {node.module for node in body if isinstance(node, ast.ImportFrom)}
        assert imported == {"__future__", f"airflow_provider_wiziq.example_dags.{path.stem}"}, path.name
    assert packaged.FALL_TERM_SECTIONS.is_file() and packaged.ROSTER.is_file()


def test_term_provisioning_creates_every_section_and_writes_the_report(example_bag, wiziq_emulator, tmp_path):
    dag = example_bag.dags["wiziq_term_provisioning"]
    dag_run = run_dag(dag, run_conf={"report_dir": str(tmp_path)})
    assert dag_run.state == "success"
    with open(FALL_TERM_SECTIONS, newline="") as handle:
        sections = list(csv.DictReader(handle))
    report = json.loads((tmp_path / "wiziq_term_report.json").read_text())
    assert [entry["section_id"] for entry in report] == [s["section_id"] for s in sections]
    stored = {series["class_master_id"]: series for series in wiziq_emulator.series()}
    assert len(stored) == len(sections) == 40
    for entry in report:
        assert stored[entry["class_master_id"]]["class_ids"] == [c["class_id"] for c in entry["classes"]]
    with open(tmp_path / "wiziq_term_report.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(len(entry["classes"]) for entry in report)
    summary = task_instances(dag_run)["write_report"].xcom_pull(task_ids="write_report")
    assert summary["sections"] == 40
    zones = {entry["time_zone"] for entry in report}
    assert {"America/New_York", "Europe/London", "Australia/Sydney"} <= zones


def complete_first_class_once_enrolled(emulator, stop: threading.Event) -> None:
    """Play the part of time: once the roster is enrolled, move the clock past the class and its report delay."""
    while not stop.is_set() and not emulator.requests("add_attendees"):
        time.sleep(0.02)
    if stop.is_set():
        return
    first = min(emulator.classes(), key=lambda cls: cls["utc_start"])
    emulator.clock.set(datetime.fromisoformat(first["utc_end"]) + timedelta(seconds=emulator.config.report_delay + 1))


def test_enrollment_pipeline_returns_the_rosters_attendance(example_bag, wiziq_emulator):
    dag = example_bag.dags["wiziq_enrollment_pipeline"]
    dag.get_task("wait_for_first_class").poke_interval = 0.1
    stop = threading.Event()
    mover = threading.Thread(target=complete_first_class_once_enrolled, args=(wiziq_emulator, stop))
    mover.start()
    try:
        dag_run = run_dag(dag)
    finally:
        stop.set()
        mover.join()
    assert dag_run.state == "success"
    tis = task_instances(dag_run)
    with open(ROSTER, newline="") as handle:
        roster = {row["attendee_id"] for row in csv.DictReader(handle)}
    enrolled = tis["enroll_roster"].xcom_pull(task_ids="enroll_roster")
    assert {attendee["attendee_id"] for attendee in enrolled} == roster
    assert tis["wait_for_first_class"].xcom_pull(task_ids="wait_for_first_class")["status"] == "completed"
    rows = tis["attendance_report"].xcom_pull(task_ids="attendance_report")
    assert {row["attendee_id"] for row in rows if row["attendee_id"]} == roster


def test_term_sync_creates_the_term_then_changes_nothing_and_the_plan_dag_only_reads(example_bag, wiziq_emulator):
    sync_dag = example_bag.dags["wiziq_term_sync"]
    assert sync_dag.max_active_runs == 1
    first = run_dag(sync_dag)
    assert first.state == "success"
    result = task_instances(first)["sync"].xcom_pull(task_ids="sync")
    homeroom = next(key for key in result["sections"] if key.endswith("-HR"))
    assert len(result["sections"]) == 41
    assert len(result["sections"][homeroom]["series"]) == 2  # more classes than one series may hold
    assert result["summary"]["created"] == sum(1 for cls in wiziq_emulator.classes() if cls["cancelled_at"] is None)
    wiziq_emulator.clear_requests()
    second = run_dag(sync_dag)
    assert second.state == "success"
    methods = {call["method"] for call in wiziq_emulator.requests()}
    assert methods == {"get_data"}
    wiziq_emulator.clear_requests()
    plan = run_dag(example_bag.dags["wiziq_term_sync_plan"])
    assert plan.state == "success"
    assert {call["method"] for call in wiziq_emulator.requests()} == {"get_data"}
    rows = task_instances(plan)["sync"].xcom_pull(task_ids="sync")["plan"]
    assert {row["action"] for row in rows} == {"unchanged"}


@pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)
def test_term_sync_oneroster_provisions_a_1000_student_bundle_and_its_rerun_sends_no_write(
    example_bag, wiziq_emulator, tmp_path
):
    import airflow_provider_wiziq.operators.sync as sync_module
    from airflow_provider_wiziq.example_dags.wiziq_term_sync_oneroster import HOLIDAYS
    from airflow_provider_wiziq.oneroster import read_oneroster

    made = school(students=1000, classes=40)
    bundle = write_bundle(tmp_path / "bundle", made)
    (tmp_path / "patterns.csv").write_text(patterns_csv(), encoding="utf-8")
    (tmp_path / "calendar.csv").write_text(calendar_csv(), encoding="utf-8")
    conf = {"bundle": str(bundle), "meeting_patterns": str(tmp_path / "patterns.csv")}
    conf["calendar"] = str(tmp_path / "calendar.csv")
    dag = example_bag.dags["wiziq_term_sync_oneroster"]
    dag.get_task("sync").max_calls_per_second = None  # the emulator needs no pacing
    with mock.patch.object(sync_module, "clock", wiziq_emulator.clock):
        first = run_dag(dag, run_conf=conf)
        assert first.state == "success"
        made_by = Counter(call["method"] for call in wiziq_emulator.requests() if call["method"].startswith("create"))
        wiziq_emulator.clear_requests()
        second = run_dag(dag, run_conf=conf)
    assert second.state == "success"
    assert {call["method"] for call in wiziq_emulator.requests()} == {"get_data"}  # 0 writes
    result = task_instances(first)["sync"].xcom_pull(task_ids="sync")
    sections = read_oneroster(bundle, tmp_path / "patterns.csv", term="F2027")
    assert len(made.students) == 1000 and len(made.classes) == 40
    assert set(result["sections"]) == {section["key"] for section in sections}
    calendar = [dict(zip(("date", "day"), line.split(","), strict=True)) for line in calendar_csv().split()[1:]]
    expected = expect(sections, HOLIDAYS, calendar)
    standing = [cls for cls in wiziq_emulator.classes() if cls["cancelled_at"] is None]
    held: dict[tuple[str, str], list[dict]] = {}
    for cls in standing:
        held.setdefault((cls["presenter_email"].casefold(), cls["title"]), []).append(cls)
    wanted: dict[tuple[str, str], list[datetime]] = {}  # a class's periods are sections of one title and teacher
    for section in expected.values():
        wanted.setdefault(section.identity, []).extend(section.instants)
    rosters = {section.identity: section.roster for section in expected.values()}
    for identity, instants in wanted.items():
        classes = held.pop(identity)
        assert sorted(datetime.fromisoformat(cls["utc_start"]) for cls in classes) == sorted(instants), identity
        assert all({a["attendee_id"] for a in cls["attendees"]} == rosters[identity] for cls in classes), identity
    assert held == {}
    assert result["summary"]["created"] == len(standing)
    print(f"{len(sections)} sections, {len(standing)} classes in {dict(made_by)} calls")


def test_reviewed_term_sync_applies_a_harmless_plan_and_a_destructive_one_only_once_a_person_approves_it(
    example_bag, wiziq_emulator, tmp_path
):
    from airflow_provider_wiziq.approval import FINGERPRINT_PARAM
    from tests.support.hitl import answering

    dag = example_bag.dags["wiziq_term_sync_reviewed"]
    assert dag.max_active_runs == 1
    first = run_dag(dag)  # a new term: creates only, nothing to review
    states = {name: str(ti.state) for name, ti in task_instances(first).items()}
    assert first.state == "success", states
    assert (states["apply"], states["approve"], states["apply_approved"]) == ("success", "skipped", "skipped")
    assert not task_instances(first)["plan"].xcom_pull(task_ids="plan")["destructive"]

    with open(FALL_TERM_SECTIONS, newline="") as handle:
        rows = list(csv.DictReader(handle))
    export = tmp_path / "ten_sections_dropped.csv"  # 10 of 41 sections: past max_cancel_fraction's 20%
    with open(export, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[10:])
    conf = {"sections_csv": str(export)}

    wiziq_emulator.clear_requests()
    with answering(dag.dag_id, "approve", ["Reject"]):
        rejected = run_dag(dag, run_conf=conf)
    states = {name: str(ti.state) for name, ti in task_instances(rejected).items()}
    assert (states["apply"], states["approve"], states["apply_approved"]) == ("skipped", "success", "skipped")
    assert {call["method"] for call in wiziq_emulator.requests()} == {"get_data"}  # nothing written

    wiziq_emulator.clear_requests()
    with answering(dag.dag_id, "approve", ["Approve"]) as answer:
        approved = run_dag(dag, run_conf=conf)
    instances = task_instances(approved)
    plan = instances["plan"].xcom_pull(task_ids="plan")
    assert approved.state == "success", {name: str(ti.state) for name, ti in instances.items()}
    assert plan["destructive"] and plan["fingerprint"] in answer.request["body"]
    assert answer.request["params"][FINGERPRINT_PARAM]["value"] == plan["fingerprint"]
    applied = instances["apply_approved"].xcom_pull(task_ids="apply_approved")
    assert applied["fingerprint"] == plan["fingerprint"]
    assert "cancel" in {call["method"] for call in wiziq_emulator.requests()}


def test_reviewed_term_sync_parses_without_the_standard_provider_and_applies_no_destructive_plan(monkeypatch):
    import importlib
    import sys

    name = "airflow_provider_wiziq.example_dags.wiziq_term_sync_reviewed"
    monkeypatch.setitem(sys.modules, "airflow.providers.standard.operators.hitl", None)
    monkeypatch.delitem(sys.modules, name, raising=False)
    module = importlib.import_module(name)
    assert {"approve", "apply_approved"}.isdisjoint(module.reviewed_dag.task_dict)
    assert module.destructive_or_not({"destructive": True}) == "cannot_approve"
    assert module.destructive_or_not({"destructive": False}) == "apply"
    with pytest.raises(RuntimeError, match="needs a person's approval, but ApprovalOperator cannot be imported"):
        module.cannot_approve()
