"""Reviewed plans: which plan an approval task approved, read by a downstream task, and the plan as Markdown.

The reading is checked branch by branch on real operators with the approval task's XCom given, then in
``dag.test()`` with the approval answered by a person from a helper thread (tests/support/hitl.py): approved,
rejected (which skips the apply task) and missing.
"""

from __future__ import annotations

import itertools
import sys
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_wiziq.approval import (
    APPROVE,
    FINGERPRINT_PARAM,
    approved_fingerprints,
    plan_approval_arguments,
    plan_markdown,
    read_approval,
)

FINGERPRINT = "3f9a1c2b7d4e5f60a1b2c3d4e5f60718"
RESULT: dict[str, Any] = {
    "plan": [
        {"key": "ALG-1", "action": "unchanged", "kept": 70, "created": 0, "modified": 0, "cancelled": 0},
        {
            "key": "BIO-2",
            "action": "update",
            "kept": 43,
            "created": 0,
            "modified": 27,
            "cancelled": 0,
            "enrolled": 0,
            "reason": "start_time 14:00 -> 15:00",
            "first_affected": "2027-09-06",
        },
        {
            "key": "CHEM|3",
            "action": "replace",
            "kept": 0,
            "created": 24,
            "modified": 0,
            "cancelled": 24,
            "enrolled": 24,
            "reason": "presenter a@x -> b@x: 24 classes get new ids and join links",
            "first_affected": date(2027, 9, 7),
        },
        {"key": "DRAMA", "action": "cancel", "cancelled": 12, "reason": "no longer in the export"},
    ],
    "fingerprint": FINGERPRINT,
    "destructive": True,
    "summary": {"sections": 4, "created": 24, "modified": 27, "cancelled": 36, "dry_run": True, "nested": {"x": 1}},
}
_DAGS = itertools.count()


class _TI:
    """A task instance whose XCom holds ``answer`` for the approval task and ``RESULT`` for the plan task."""

    def __init__(self, answer: Any, plan: Any = RESULT) -> None:
        self.answers = {"approve": answer, "plan": plan}

    def xcom_pull(self, task_ids: str) -> Any:
        return self.answers.get(task_ids)


def _answer(chosen: list[str], fingerprint: Any = FINGERPRINT, person: Any = None) -> dict[str, Any]:
    """What ApprovalOperator.execute_complete returns (its XCom) for an answer."""
    return {
        "chosen_options": chosen,
        "params_input": {FINGERPRINT_PARAM: fingerprint},
        "responded_at": datetime(2027, 9, 1, 12, tzinfo=timezone.utc),
        "responded_by_user": {"id": "rita", "name": "Rita Reviewer"} if person is None else person,
    }


def _dag(**approval: Any) -> Any:
    """plan >> approve >> apply, and a sibling task that is not downstream of approve."""
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.hitl import ApprovalOperator
    from airflow.sdk import DAG

    with DAG(f"approval_reading_{next(_DAGS)}", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        plan = EmptyOperator(task_id="plan")
        kwargs = plan_approval_arguments("plan") if approval.pop("with_field", True) else {}
        approve = ApprovalOperator(task_id="approve", subject="Apply?", **kwargs, **approval)
        plan >> approve >> EmptyOperator(task_id="apply")
        plan >> EmptyOperator(task_id="sibling")
    return dag


def _read(answer: Any, *, task: str = "apply", dag: Any = None, approval_task_id: str = "approve") -> Any:
    dag = dag or _dag()
    return read_approval({"task": dag.get_task(task), "dag": dag, "ti": _TI(answer)}, approval_task_id)


def test_an_approved_answer_approves_the_fingerprint_its_form_carried_back():
    approval = _read(_answer([APPROVE], fingerprint=f" {FINGERPRINT.upper()} "))
    assert approval.fingerprints == frozenset({FINGERPRINT}) and approval
    assert approval.approves(FINGERPRINT.upper()) and not approval.approves("0" * 32)
    assert (approval.responded_by, approval.refusal) == ("Rita Reviewer", "")
    assert approval.responded_at == datetime(2027, 9, 1, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (_answer(["Reject"]), "answered ['Reject'], not ['Approve']"),
        (_answer([APPROVE], person=False), "timed out: Airflow chose its default option"),
        (None, "recorded no approval"),
        ({"chosen_options": "Approve"}, "recorded no approval"),
        (_answer([APPROVE], fingerprint=""), "names no plan fingerprint (its field held '')"),
        (_answer([APPROVE], fingerprint="approve it all"), "names no plan fingerprint"),
        (_answer([APPROVE], fingerprint=None), "names no plan fingerprint"),
        ({**_answer([APPROVE]), "params_input": {}}, "names no plan fingerprint"),
    ],
    ids=["rejected", "timed out", "missing", "not an answer", "field emptied", "field edited", "null", "no params"],
)
def test_an_answer_that_is_not_a_persons_approval_of_a_plan_approves_nothing(answer, reason):
    dag = _dag()
    approval = _read(answer, dag=dag)
    assert not approval and approval.fingerprints == frozenset()
    assert reason in approval.refusal
    context = {"task": dag.get_task("apply"), "dag": dag, "ti": _TI(answer)}
    assert approved_fingerprints(context, "approve") == frozenset()


def test_only_an_upstream_human_in_the_loop_task_with_the_fingerprint_field_can_approve():
    answer = _answer([APPROVE])
    assert "has no task 'nope'" in _read(answer, approval_task_id="nope").refusal
    assert "is a EmptyOperator, not a human-in-the-loop approval" in _read(answer, approval_task_id="plan").refusal
    assert "is not upstream of 'sibling'" in _read(answer, task="sibling").refusal
    bare = _dag(with_field=False)
    assert "has no 'wiziq_plan_fingerprint' field" in _read(answer, dag=bare).refusal


def test_any_human_in_the_loop_task_answered_approve_counts():
    from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLOperator
    from airflow.sdk import DAG

    assert ApprovalOperator.APPROVE == APPROVE
    with DAG(f"approval_reading_{next(_DAGS)}", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        HITLOperator(task_id="approve", subject="?", options=[APPROVE, "Later"], **plan_approval_arguments("plan"))
        dag.get_task("approve") >> HITLOperator(task_id="apply", subject="next", options=["OK"])
    assert _read(_answer([APPROVE]), dag=dag).fingerprints == {FINGERPRINT}
    assert "answered ['Later']" in _read(_answer(["Later"]), dag=dag).refusal


def test_without_the_standard_provider_nothing_is_approved_and_the_reason_says_so(monkeypatch):
    dag = _dag()
    monkeypatch.setitem(sys.modules, "airflow.providers.standard.operators.hitl", None)
    approval = _read(_answer([APPROVE]), dag=dag)
    assert not approval
    assert "the standard provider's HITLOperator cannot be imported (ModuleNotFoundError" in approval.refusal


def test_the_approval_form_is_filled_with_the_plans_fingerprint_before_it_asks():
    task = _dag().get_task("approve")
    fill = task._pre_execute_hook
    assert task.params[FINGERPRINT_PARAM] == ""
    fill({"ti": _TI(None), "task": task})
    assert task.params[FINGERPRINT_PARAM] == FINGERPRINT
    for plan in ({"plan": []}, None, {"fingerprint": "not hex"}):
        with pytest.raises(ValueError, match="Task 'plan' returned no plan fingerprint"):
            fill({"ti": _TI(None, plan), "task": task})


# The plan as Markdown ---------------------------------------------------------------------------------------------


def test_the_plan_reads_as_a_table_of_what_changes_costliest_first_with_its_fingerprint():
    text = plan_markdown(RESULT)
    assert text.splitlines()[0].startswith("**3 of 4 sections change.** **Destructive**")
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[0] == (
        "| section | action | kept | created | modified | cancelled | enrolled | first affected | reason |"
    )
    assert [row.split(" | ")[1] for row in table[2:]] == ["cancel", "replace", "update"]
    assert table[3] == (
        "| CHEM\\|3 | replace | 0 | 24 | 0 | 24 | 24 | 2027-09-07 | presenter a@x -\\> b@x: 24 classes get new ids "
        "and join links |"
    )
    assert "1 sections are unchanged." in text
    assert "Summary: sections 4, created 24, modified 27, cancelled 36, dry\\_run True." in text
    assert text.endswith(f"Plan fingerprint: `{FINGERPRINT}`. Approving applies this plan and no other.")


def test_a_long_plan_is_cut_and_a_plan_without_changes_or_fingerprint_says_so():
    rows = [{"key": f"S{n}", "action": "create", "created": 5} for n in range(7)]
    text = plan_markdown({"plan": rows, "fingerprint": "ABCDEF12", "destructive": False}, max_rows=5)
    assert "Nothing is cancelled or replaced." in text
    assert "... and 2 more changing sections" in text
    assert text.endswith("`abcdef12`. Approving applies this plan and no other.")
    quiet = plan_markdown({"plan": [{"key": "A", "action": "unchanged"}], "fingerprint": None})
    assert "**0 of 1 sections change.**" in quiet and "|" not in quiet
    assert quiet.endswith("This plan has no fingerprint: it cannot be approved.")


# In dag.test(): a person answers from a helper thread ------------------------------------------------------------


def _reviewed_dag(dag_id: str) -> Any:
    """plan >> approve >> apply >> audit (all_done): apply and audit report what they read of the approval."""
    from airflow.providers.standard.operators.hitl import ApprovalOperator
    from airflow.sdk import DAG, task

    def report(context: Any) -> dict[str, Any]:
        approval = read_approval(context, "approve")
        return {"fingerprints": sorted(approval.fingerprints), "by": approval.responded_by, "why": approval.refusal}

    filters = {"wiziq_plan_markdown": plan_markdown}
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), user_defined_filters=filters) as dag:

        @task
        def plan() -> dict[str, Any]:
            return RESULT

        approve = ApprovalOperator(
            task_id="approve",
            subject="Apply the reviewed plan of term fall-2027?",
            body="{{ ti.xcom_pull(task_ids='plan') | wiziq_plan_markdown }}",
            response_timeout=timedelta(minutes=20),  # a bound for a helper thread that never answers
            **plan_approval_arguments("plan"),
        )

        @task
        def apply(**context: Any) -> dict[str, Any]:
            return report(context)

        @task(trigger_rule="all_done")
        def audit(**context: Any) -> dict[str, Any]:
            return report(context)

        plan() >> approve >> apply() >> audit()
    return dag


def _results(dag_run: Any) -> dict[str, Any]:
    from tests.dagtest import task_instances

    instances = task_instances(dag_run)
    return {name: (str(ti.state), ti.xcom_pull(task_ids=name)) for name, ti in instances.items()}


def test_an_approval_answered_in_dag_test_approves_the_plan_its_body_showed():
    from tests.dagtest import run_dag
    from tests.support.hitl import answering

    dag = _reviewed_dag("reviewed_plan_approved")
    with answering(dag.dag_id, "approve", [APPROVE]) as answer:
        dag_run = run_dag(dag)
    results = _results(dag_run)
    assert dag_run.state == "success", results
    expected = {"fingerprints": [FINGERPRINT], "by": "Rita Reviewer", "why": ""}
    assert results["apply"] == ("success", expected) and results["audit"] == ("success", expected)
    assert answer.request["body"] == plan_markdown(RESULT)  # the person read the plan, fingerprint included
    assert answer.request["params"][FINGERPRINT_PARAM]["value"] == FINGERPRINT


def test_a_rejected_approval_skips_the_apply_task_and_approves_nothing():
    from tests.dagtest import run_dag
    from tests.support.hitl import answering

    dag = _reviewed_dag("reviewed_plan_rejected")
    with answering(dag.dag_id, "approve", ["Reject"]):
        dag_run = run_dag(dag)
    results = _results(dag_run)
    assert results["apply"][0] == "skipped", results
    assert results["audit"] == ("success", {"fingerprints": [], "by": None, "why": results["audit"][1]["why"]})
    # A Reject skips the downstream tasks by raising, so the approval task pushes no answer: nothing to read.
    assert "recorded no approval in this DAG run (rejected" in results["audit"][1]["why"]


def test_an_answer_whose_resume_was_lost_still_ends_the_run(monkeypatch):
    """On SQLite an answer that lands while the task is still parking can lose Airflow 3.3's resume (no row locks):
    the task stayed awaiting_input with its answer recorded and dag.test() waited forever (once in CI). The
    helper resumes such a task after a grace; here the PATCH handler's resume is taken away to make it so."""
    import airflow.api_fastapi.core_api.routes.public.hitl as route

    from tests.dagtest import run_dag
    from tests.support.hitl import answering

    monkeypatch.setattr(route, "handle_event_submit", lambda *args, **kwargs: None, raising=False)
    dag = _reviewed_dag("reviewed_plan_resume_lost")
    with answering(dag.dag_id, "approve", ["Reject"]):
        dag_run = run_dag(dag)
    assert _results(dag_run)["apply"][0] == "skipped"


def test_an_approval_that_never_asked_approves_nothing():
    from airflow.providers.standard.operators.hitl import ApprovalOperator
    from airflow.sdk import DAG, task

    from tests.dagtest import run_dag

    with DAG("reviewed_plan_missing", schedule=None, start_date=datetime(2026, 1, 1)) as dag:

        @task
        def plan() -> dict[str, Any]:
            return RESULT

        @task.branch
        def destructive() -> str:
            return "apply"  # straight to apply: the approval task is skipped and records nothing

        approve = ApprovalOperator(task_id="approve", subject="Apply?", **plan_approval_arguments("plan"))

        @task(trigger_rule="none_failed_min_one_success")
        def apply(**context: Any) -> list[str]:
            return sorted(approved_fingerprints(context, "approve"))

        chosen = destructive()
        applying = apply()
        plan() >> chosen >> [approve, applying]
        approve >> applying
    dag_run = run_dag(dag)
    results = _results(dag_run)
    assert results["approve"][0] == "skipped" and results["apply"] == ("success", []), results
