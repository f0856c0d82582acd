"""The export's forms in real Airflow (dag.test()): a path is read on the worker as data, never looked up as a
template (no error at parse, no Jinja over its content); the documented ``{{ ti.xcom_pull(...) }}`` and the
XComArg both work; a template file is still there for whoever asks for it (``{% include %}``)."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

from tests.dagtest import dag_bag, run_dag, task_instances

HEADER = "key,title,presenter_email,time_zone,start_time,class_repeat_type,days_of_week,class_occurrence,attendee_limit"


def export_csv(key: str, presenter: str, title: str = "Algebra") -> str:
    return f"{HEADER}\n{key},{title},{presenter}@school.example,America/New_York,2027-09-06T09:00,weekly,monday,2,30\n"


def section(key: str, presenter: str) -> dict[str, str]:
    (row,) = [dict(zip(HEADER.split(","), export_csv(key, presenter).splitlines()[1].split(","), strict=True))]
    return row


def load(folder: Path, source: str, caplog) -> object:
    """The DAG of ``source`` written to ``folder`` and parsed as the DAG processor would parse it."""
    (folder / "term_dag.py").write_text(textwrap.dedent(source))
    with caplog.at_level(logging.INFO):
        bag = dag_bag(dag_folder=folder)
    assert bag.import_errors == {}
    (dag,) = bag.dags.values()
    return dag


def parse_errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_bulk_operator_reads_a_relative_and_an_absolute_file_as_data(wiziq_emulator, tmp_path, caplog):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "relative.csv").write_text(export_csv("R1", "rivera", title="{{ not rendered }}"))
    absolute = tmp_path / "elsewhere" / "absolute.json"
    absolute.parent.mkdir()
    absolute.write_text(json.dumps([section("A1", "okafor")]))
    dag = load(
        folder,
        f"""
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator

        with DAG("bulk_from_files", schedule=None, start_date=datetime(2026, 1, 1)):
            CreateRecurringClassesOperator(task_id="relative", series="relative.csv")
            CreateRecurringClassesOperator(task_id="absolute", series={str(absolute)!r})
        """,
        caplog,
    )
    assert parse_errors(caplog) == []  # no "Failed to resolve template field" at parse
    dag_run = run_dag(dag)
    assert dag_run.state == "success"
    tis = task_instances(dag_run)
    assert set(tis["relative"].xcom_pull(task_ids="relative")) == {"R1"}
    assert set(tis["absolute"].xcom_pull(task_ids="absolute")) == {"A1"}
    titles = {series["params"]["title"] for series in wiziq_emulator.series()}
    assert titles == {"{{ not rendered }}", "Algebra"}  # the file's text is data, not a template


def test_the_sync_takes_the_xcomarg_the_documented_xcom_pull_a_path_and_an_include(wiziq_emulator, tmp_path, caplog):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "included.csv").write_text(export_csv("I1", "haddad"))
    absolute = tmp_path / "exports" / "fall.csv"
    absolute.parent.mkdir()
    absolute.write_text(export_csv("P1", "nguyen"))
    dag = load(
        folder,
        f"""
        from datetime import datetime
        from airflow.sdk import DAG, task
        from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

        @task
        def export():
            return {[section("X1", "rivera")]!r}

        @task
        def export_b():
            return {[section("T1", "okafor")]!r}

        with DAG("sync_forms", schedule=None, start_date=datetime(2026, 1, 1)):
            SyncTermOperator(task_id="xcomarg", term="forms-xcomarg", sections=export())
            pulled = SyncTermOperator(
                task_id="xcom_pull", term="forms-pull", sections="{{{{ ti.xcom_pull(task_ids='export_b') }}}}"
            )
            export_b() >> pulled
            SyncTermOperator(task_id="path", term="forms-path", sections={str(absolute)!r})
            SyncTermOperator(task_id="include", term="forms-include", sections="{{% include 'included.csv' %}}")
        """,
        caplog,
    )
    assert parse_errors(caplog) == []
    dag_run = run_dag(dag)
    tis = task_instances(dag_run)
    assert dag_run.state == "success", {key: ti.state for key, ti in tis.items()}
    for task_id, key in (("xcomarg", "X1"), ("xcom_pull", "T1"), ("path", "P1"), ("include", "I1")):
        result = tis[task_id].xcom_pull(task_ids=task_id)
        assert list(result["sections"]) == [key], task_id
        assert result["summary"]["created"] == 2, task_id
    assert len(wiziq_emulator.series()) == 4
