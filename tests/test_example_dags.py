"""The example DAGs import cleanly and succeed in dag.test() against the emulator."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.dagtest import run_dag, task_instances

EXAMPLES = Path(__file__).resolve().parent.parent / "example_dags"


@pytest.fixture(scope="module")
def example_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=EXAMPLES)


def test_every_example_dag_imports_without_errors(example_bag):
    assert example_bag.import_errors == {}
    assert {"wiziq_term_provisioning"} <= set(example_bag.dag_ids)


def test_term_provisioning_creates_every_section_and_writes_the_report(example_bag, wiziq_emulator, tmp_path):
    dag = example_bag.dags["wiziq_term_provisioning"]
    dag_run = run_dag(dag, run_conf={"report_dir": str(tmp_path)})
    assert dag_run.state == "success"
    with open(EXAMPLES / "fall_term_sections.csv", newline="") as handle:
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
