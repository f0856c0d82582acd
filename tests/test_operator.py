"""CreateRecurringClassOperator in real Airflow (dag.test) against the emulator over HTTP."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from airflow.sdk import DAG, task

from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.operators.series import preview_table
from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassOperator
from tests.dagtest import run_dag, task_instances
from tests.support.create import BASE, SERIES, YEAR, preview_starts, run_create


@pytest.mark.parametrize("shape", sorted(SERIES))
def test_each_repeat_type_creates_the_previewed_series(wiziq_emulator, shape):
    params = {**BASE, **SERIES[shape]}
    dag_run, ti = run_create(f"create_{shape}", **params)
    assert dag_run.state == "success"
    result = ti.xcom_pull(task_ids="create")
    json.dumps(result)
    assert [c["start_time"] for c in result["classes"]] == preview_starts(**params)
    stored = wiziq_emulator.get_series(result["class_master_id"])
    assert stored["class_ids"] == result["class_ids"]
    assert result["presenter_url"] and result["recurring_summary"].startswith("Your recurring series starts on")
    assert len(wiziq_emulator.requests("create_recurring")) == 1


def xcom_keys(dag_run: Any) -> set[str]:
    """The XCom keys the create task left in the metadata database."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel.key).filter(
            XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id, XComModel.task_id == "create"
        )
        return {key for (key,) in rows}


def test_a_create_task_writes_two_xcoms_its_result_and_its_link(wiziq_emulator):
    """The return value holds class_master_id and presenter_url; the link Airflow stores reads the latter."""
    dag_run, ti = run_create("two_xcoms", **{**BASE, **SERIES["daily"]})
    assert dag_run.state == "success"
    assert xcom_keys(dag_run) == {"return_value", "_link_WizIQClassLink"}
    result = ti.xcom_pull(task_ids="create")
    assert ti.xcom_pull(task_ids="create", key="_link_WizIQClassLink") == result["presenter_url"]


def test_a_try_that_fails_after_creating_pushes_the_series_id(wiziq_emulator, monkeypatch):
    """No return value, but the series exists: its id is in XCom under class_master_id (and the state store)."""
    monkeypatch.setattr("airflow_provider_wiziq.api.engine.reconcile.first_difference", lambda *_: "class 2 moved")
    dag_run, ti = run_create("fails_after_creating", **{**BASE, **SERIES["daily"]})
    assert dag_run.state == "failed"
    (stored,) = wiziq_emulator.series()
    assert ti.xcom_pull(task_ids="create", key="class_master_id") == stored["class_master_id"]
    assert xcom_keys(dag_run) == {"class_master_id", "_link_WizIQClassLink"}
    assert ti.xcom_pull(task_ids="create", key="_link_WizIQClassLink") == ""


def test_weekly_series_keeps_wall_clock_across_dst(wiziq_emulator):
    params = {
        **BASE,
        "class_repeat_type": 4,
        "days_of_week": "monday",
        "start_time": f"{YEAR}-03-01T09:30",
        "class_occurrence": 3,
    }
    _, ti = run_create("dst_weekly", **params)
    starts = [datetime.fromisoformat(c["start_time"]) for c in ti.xcom_pull(task_ids="create")["classes"]]
    assert {s.strftime("%H:%M") for s in starts} == {"09:30"}
    assert len({s.utcoffset() for s in starts}) == 2  # EST then EDT


def test_dry_run_creates_nothing_and_returns_the_preview(wiziq_emulator, caplog):
    params = {**BASE, **SERIES["weekly_every_2_weeks"]}
    dag_run, ti = run_create("dry_run", dry_run=True, **params)
    assert dag_run.state == "success"
    result = ti.xcom_pull(task_ids="create")
    assert result["class_master_id"] is None
    assert result["class_ids"] == [None] * 6
    assert [c["start_time"] for c in result["classes"]] == preview_starts(**params)
    assert wiziq_emulator.requests("create_recurring") == []
    assert wiziq_emulator.series() == []


def test_server_defaults_are_reported_warned_and_marked_in_the_preview(wiziq_emulator, capfd, caplog):
    params = {"title": "Algebra I", "presenter_email": "rivera@school.example", **SERIES["daily"]}
    request = CreateRecurringRequest.from_params(params)
    assert set(request.server_defaults()) == {"attendee_limit", "time_zone"}
    table = preview_table(request.validate(), request.server_defaults())
    assert "server default: attendee_limit not given: WizIQ's default of 2 attendees applies" in table
    assert "server default: time_zone not given and start_time has no zone" in table
    explicit = CreateRecurringRequest.from_params({**params, **BASE})
    assert explicit.server_defaults() == {}
    assert "server default" not in preview_table(explicit.validate(), explicit.server_defaults())

    capfd.readouterr()
    dag_run, _ = run_create("defaults", dry_run=True, **params)
    assert dag_run.state == "success"
    captured = capfd.readouterr()  # the task's log goes to stdout or to logging, as earlier tests set it up
    logged = captured.out + captured.err + caplog.text
    assert re.search(r"(\[warning *\]|WARNING) +(\S+ )*attendee_limit not given", logged), logged
    assert re.search(r"(\[warning *\]|WARNING) +(\S+ )*time_zone not given", logged), logged
    assert "* server default: attendee_limit" in logged


def test_an_aware_start_is_no_time_zone_default():
    request = CreateRecurringRequest.from_params(
        {
            "title": "T",
            "presenter_email": "t@x.org",
            "start_time": f"{YEAR}-03-12T09:30:00Z",
            "class_occurrence": 1,
            "class_repeat_type": 1,
            "attendee_limit": 5,
        }
    )
    assert request.server_defaults() == {}


def test_templating_from_ds_and_upstream_xcom(wiziq_emulator):
    with DAG("templated", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:

        @task
        def section_start() -> str:
            return f"{YEAR}-04-06T10:15:00-04:00"

        start = section_start()
        create = CreateRecurringClassOperator(
            task_id="create",
            title="Algebra {{ ds }}",
            start_time="{{ ti.xcom_pull(task_ids='section_start') }}",
            class_repeat_type="{{ 'daily' }}",
            class_occurrence="{{ 2 + 1 }}",
            presenter_email=BASE["presenter_email"],
            time_zone=BASE["time_zone"],
        )
        start >> create
    dag_run = run_dag(dag)
    assert dag_run.state == "success"
    ti = task_instances(dag_run)["create"]
    (stored,) = wiziq_emulator.series()
    assert re.fullmatch(r"Algebra \d{4}-\d{2}-\d{2}", stored["params"]["title"])
    assert stored["params"]["start_time"] == f"04/06/{YEAR} 10:15:00"
    assert ti.xcom_pull(task_ids="create")["classes"][0]["start_time"] == f"{YEAR}-04-06T10:15:00-04:00"


def test_lost_answer_with_retries_books_exactly_one_series(wiziq_emulator):
    wiziq_emulator.inject_fault("reset_after", method="create_recurring")
    params = {**BASE, **SERIES["daily"]}
    dag_run, ti = run_create("lost_answer", retries=2, **params)
    assert dag_run.state == "success"
    assert ti.try_number == 1  # the lost answer is settled in the same try: the series is found and adopted
    (stored,) = wiziq_emulator.series()
    assert ti.xcom_pull(task_ids="create")["class_master_id"] == stored["class_master_id"]
    assert len(wiziq_emulator.requests("create_recurring")) == 1


def test_transient_503_is_retried_by_airflow_and_succeeds(wiziq_emulator):
    wiziq_emulator.inject_fault("http_503", method="create_recurring")
    dag_run, ti = run_create("retry_503", retries=2, **{**BASE, **SERIES["daily"]})
    assert dag_run.state == "success"
    assert ti.try_number == 2
    assert len(wiziq_emulator.series()) == 1


@pytest.mark.parametrize(
    ("name", "changes", "code"),
    [
        ("validation", {"days_of_week": "monday"}, "1083"),
        ("auth", {}, "403"),
        ("plan_limit", {"duration": 500}, "1010"),
    ],
)
def test_permanent_errors_fail_on_the_first_try(wiziq_emulator, monkeypatch, name, changes, code):
    if name == "auth":
        connection = {**wiziq_emulator.connection, "password": "not-the-secret"}
        monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", json.dumps(connection))
    if name == "plan_limit":
        wiziq_emulator.limits = PlanLimits(max_class_minutes=300)
    dag_run, ti = run_create(f"permanent_{name}", retries=2, **{**BASE, **SERIES["daily"], **changes})
    assert dag_run.state == "failed"
    assert ti.state == "failed"
    assert ti.try_number == 1
    assert wiziq_emulator.series() == []


def test_existing_series_found_by_1032_is_adopted(wiziq_emulator):
    params = {**BASE, **SERIES["daily"]}
    first, _ = run_create("adopt_first", **params)
    assert first.state == "success"
    second, ti = run_create("adopt_again", **params)
    assert second.state == "success"
    (stored,) = wiziq_emulator.series()
    assert ti.xcom_pull(task_ids="create")["class_master_id"] == stored["class_master_id"]


def test_operator_takes_exactly_the_requests_parameters():
    import inspect

    from airflow_provider_wiziq.operators.series import CREATE_RECURRING_PARAMETERS

    assert CREATE_RECURRING_PARAMETERS == CreateRecurringRequest.PARAMETERS
    assert tuple(CreateRecurringClassOperator.template_fields) == (*CreateRecurringRequest.PARAMETERS, "wiziq_conn_id")
    arguments = inspect.signature(CreateRecurringClassOperator.__init__).parameters
    own = {"self", "kwargs", "wiziq_conn_id", "dry_run", "verify_schedule"}
    assert set(arguments) - own == set(CreateRecurringRequest.PARAMETERS)
    assert all(arguments[name].annotation != "Any" for name in CreateRecurringRequest.PARAMETERS)


def test_every_operator_templates_its_connection_id():
    from airflow_provider_wiziq.operators.wiziq import (
        CreateRecurringClassesOperator,
        WizIQAddAttendeesOperator,
        WizIQAttendanceReportOperator,
        WizIQCancelClassOperator,
    )

    for operator in (
        CreateRecurringClassOperator,
        CreateRecurringClassesOperator,
        WizIQAddAttendeesOperator,
        WizIQAttendanceReportOperator,
        WizIQCancelClassOperator,
    ):
        assert "wiziq_conn_id" in operator.template_fields, operator.__name__
