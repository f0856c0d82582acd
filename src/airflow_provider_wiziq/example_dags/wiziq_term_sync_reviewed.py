"""Keep the fall term in sync, but let a person approve any plan that cancels or replaces classes first.

``wiziq_term_sync_reviewed`` runs daily, one run at a time (``max_active_runs=1``: a plan waiting for its
approval holds the next day's run back):

1. ``plan``: ``SyncTermOperator(dry_run=True)`` plans the term against the ledger and WizIQ, sending reads only.
   Its result carries the plan's ``fingerprint`` and whether it is ``destructive`` (it cancels or replaces
   classes, so students lose join links, or a guard would refuse it).
2. ``review``: a branch. A plan that is not destructive goes straight to ``apply``; a destructive one to
   ``approve``.
3. ``approve``: Airflow's ``ApprovalOperator`` (standard provider) shows the plan as a Markdown table
   (``plan_markdown``) and carries the plan's fingerprint in its form field ``wiziq_plan_fingerprint``. Approve
   runs ``apply_approved``. Reject skips it (ApprovalOperator skips its direct downstream tasks), so nothing is
   applied; so does a response timeout (the approval fails, the apply is ``upstream_failed``).
4. ``apply`` / ``apply_approved``: the same sync, ``expect_fingerprint`` set to the plan's: if the term, the
   export or the time (a class crossing the one-hour margin) changed since the plan, the task fails before any
   write and the next run plans again. ``apply_approved`` also names ``approval_task_id="approve"``: the guards
   are lifted only for the plan whose fingerprint the person's answer carried.

Without the standard provider's ``ApprovalOperator`` (not installed, or older than human-in-the-loop) the DAG
still parses: a destructive plan then goes to ``cannot_approve``, which fails saying so, and nothing is applied.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_wiziq.approval import plan_approval_arguments, plan_markdown
from airflow_provider_wiziq.example_dags.wiziq_term_sync import SECTIONS_CSV, TERM, declared_term
from airflow_provider_wiziq.operators.wiziq import SyncTermOperator


def approval_operator() -> tuple[Any, str]:
    """The standard provider's ``ApprovalOperator``, or None and why it cannot be imported."""
    try:
        from airflow.providers.standard.operators.hitl import ApprovalOperator
    except Exception as error:  # the standard provider is missing, or has no human-in-the-loop operators
        return None, f"ApprovalOperator cannot be imported ({type(error).__name__}: {error})"
    return ApprovalOperator, ""


ApprovalOperator, NO_APPROVAL = approval_operator()

FINGERPRINT = "{{ ti.xcom_pull(task_ids='plan')['fingerprint'] }}"


def destructive_or_not(plan: dict[str, Any]) -> str:
    """The branch a plan takes: a person approves a destructive plan; any other is applied at once."""
    if not plan.get("destructive"):
        return "apply"
    return "approve" if ApprovalOperator is not None else "cannot_approve"


def cannot_approve() -> None:
    """Where a destructive plan ends when no approval task can be made: it is not applied."""
    raise RuntimeError(
        f"The plan is destructive and needs a person's approval, but {NO_APPROVAL}. Install "
        "apache-airflow-providers-standard with human-in-the-loop operators (Airflow 3.1+), or apply the plan "
        "with wiziq_term_sync."
    )


with DAG(
    dag_id="wiziq_term_sync_reviewed",
    description="Keep the fall term on WizIQ in sync; a person approves plans that cancel or replace classes.",
    doc_md=__doc__,
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["wiziq", "example"],
    params={"sections_csv": str(SECTIONS_CSV), "term_year": None},
    user_defined_filters={"wiziq_plan_markdown": plan_markdown},
) as reviewed_dag:
    term = task(multiple_outputs=True)(declared_term)()
    sync = {"term": TERM, "sections": term["sections"], "holidays": term["holidays"], "max_calls_per_second": 20}
    plan = SyncTermOperator(task_id="plan", dry_run=True, **sync)
    review = task.branch(task_id="review")(destructive_or_not)(plan.output)
    apply = SyncTermOperator(task_id="apply", expect_fingerprint=FINGERPRINT, **sync)
    review >> apply
    if ApprovalOperator is not None:
        approve = ApprovalOperator(
            task_id="approve",
            subject=f"Apply the plan of term {TERM}? It cancels or replaces classes.",
            body="{{ ti.xcom_pull(task_ids='plan') | wiziq_plan_markdown }}",
            response_timeout=timedelta(hours=20),  # before the next daily run; no default: a timeout applies nothing
            **plan_approval_arguments("plan"),
        )
        apply_approved = SyncTermOperator(
            task_id="apply_approved", expect_fingerprint=FINGERPRINT, approval_task_id="approve", **sync
        )
        review >> approve >> apply_approved
    else:
        review >> task(task_id="cannot_approve")(cannot_approve)()
