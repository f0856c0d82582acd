"""Reviewed term plans: the plan as Markdown for a person, and which plans an Airflow approval task approved.

A sync DAG plans with ``dry_run=True``, asks a person through the standard provider's ``ApprovalOperator``
(``body`` = the plan as Markdown, from :func:`plan_markdown`), then applies with ``expect_fingerprint`` and
``approval_task_id``. At execute time the apply task calls :func:`read_approval`: what it can trust is what
the approval task recorded from the person's answer, its XCom, because a worker cannot read another task's
human-in-the-loop detail or rendered body on any Airflow (the execution API serves a task only its own).
So the plan's fingerprint travels in the approval form itself: :func:`plan_approval_arguments` gives the
approval task a ``wiziq_plan_fingerprint`` field, filled from the plan task's result before it asks, and the
person's answer carries it back. An approver who edits the field approves nothing (or, deliberately, the
plan whose fingerprint they typed).

The standard provider is not a requirement of this package: it is imported only when an approval is read,
and without it no plan counts as approved (the reason says so).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: The approval form's field that names the plan being approved.
FINGERPRINT_PARAM = "wiziq_plan_fingerprint"
#: What a fingerprint looks like: hex digits.
_FINGERPRINT = re.compile(r"[0-9a-f]{8,128}")
#: The option of an approval task that approves (``ApprovalOperator.APPROVE``).
APPROVE = "Approve"


@dataclass(frozen=True)
class Approval:
    """What an approval task recorded, read by a downstream task: the plans it approved, or why none."""

    task_id: str
    fingerprints: frozenset[str] = frozenset()
    responded_by: str | None = None
    responded_at: datetime | None = None
    refusal: str = ""  # why nothing is approved; "" when something is

    def approves(self, fingerprint: str) -> bool:
        """Whether this approval approved the plan with ``fingerprint``."""
        return _normal(fingerprint) in self.fingerprints

    def __bool__(self) -> bool:
        return bool(self.fingerprints)


def _normal(fingerprint: object) -> str | None:
    """``fingerprint`` as lowercase hex, or None when it is not one."""
    if not isinstance(fingerprint, str):
        return None
    text = fingerprint.strip().lower()
    return text if _FINGERPRINT.fullmatch(text) else None


def _hitl_operator() -> tuple[type | None, str]:
    """The standard provider's ``HITLOperator`` class, or None and why it cannot be imported."""
    try:
        from airflow.providers.standard.operators.hitl import HITLOperator
    except Exception as error:  # ImportError, or the provider's own "needs Airflow 3.1" refusal
        return None, f"the standard provider's HITLOperator cannot be imported ({type(error).__name__}: {error})"
    return HITLOperator, ""


def read_approval(context: Mapping[str, Any], approval_task_id: str) -> Approval:
    """What the approval task ``approval_task_id`` of this DAG run approved, for the task running in ``context``.

    Nothing is approved (``refusal`` says why) unless that task is a human-in-the-loop task (``ApprovalOperator``
    or another ``HITLOperator``) of this DAG, upstream of the running task, with a ``wiziq_plan_fingerprint``
    field, and its recorded answer chose ``Approve``, was given by a person (not the default Airflow applies
    when the response timeout passes) and names a fingerprint.
    """

    def refused(reason: str) -> Approval:
        return Approval(approval_task_id, refusal=reason)

    task = context["task"]
    dag = context.get("dag") or task.dag
    hitl, missing = _hitl_operator()
    if hitl is None:
        return refused(missing)
    approval = getattr(dag, "task_dict", {}).get(approval_task_id)
    if approval is None:
        return refused(f"this DAG has no task {approval_task_id!r}")
    if not isinstance(approval, hitl):
        return refused(f"task {approval_task_id!r} is a {type(approval).__name__}, not a human-in-the-loop approval")
    if approval_task_id not in task.get_flat_relative_ids(upstream=True):
        return refused(f"task {approval_task_id!r} is not upstream of {task.task_id!r}, so it may not have answered")
    if FINGERPRINT_PARAM not in getattr(approval, "params", {}):
        return refused(
            f"task {approval_task_id!r} has no {FINGERPRINT_PARAM!r} field, so its answer cannot name the plan it "
            "approved (give it plan_approval_arguments())"
        )
    answer = context["ti"].xcom_pull(task_ids=approval_task_id)
    if not isinstance(answer, Mapping) or not isinstance(answer.get("chosen_options"), (list, tuple)):
        # A Reject skips the downstream tasks by an exception, so it records no answer either.
        return refused(
            f"task {approval_task_id!r} recorded no approval in this DAG run (rejected, not answered, timed out "
            "without a default, or did not run)"
        )
    chosen = list(answer["chosen_options"])
    if chosen != [APPROVE]:
        return refused(f"task {approval_task_id!r} was answered {chosen!r}, not [{APPROVE!r}]")
    person = answer.get("responded_by_user")
    if not isinstance(person, Mapping):
        return refused(f"task {approval_task_id!r} timed out: Airflow chose its default option, no person answered")
    params = answer.get("params_input")
    given = params.get(FINGERPRINT_PARAM) if isinstance(params, Mapping) else None
    fingerprint = _normal(given)
    if fingerprint is None:
        return refused(f"the answer of task {approval_task_id!r} names no plan fingerprint (its field held {given!r})")
    responded_at = answer.get("responded_at")
    return Approval(
        approval_task_id,
        frozenset({fingerprint}),
        responded_by=str(person.get("name") or person.get("id") or "") or None,
        responded_at=responded_at if isinstance(responded_at, datetime) else None,
    )


def approved_fingerprints(context: Mapping[str, Any], approval_task_id: str) -> frozenset[str]:
    """The fingerprints of the plans ``approval_task_id`` approved in this DAG run (empty: none; see read_approval)."""
    return read_approval(context, approval_task_id).fingerprints


def plan_approval_arguments(plan_task_id: str, *, key: str = "fingerprint") -> dict[str, Any]:
    """Keyword arguments for an ``ApprovalOperator`` that approves the plan returned by ``plan_task_id``.

    ``params``: the ``wiziq_plan_fingerprint`` field; ``pre_execute``: fills it with the plan's fingerprint
    (``result[key]``) before the approval task asks, failing it when the plan task returned none.
    """
    from airflow.sdk import Param

    def fill(context: Mapping[str, Any]) -> None:
        result = context["ti"].xcom_pull(task_ids=plan_task_id)
        fingerprint = _normal(result.get(key) if isinstance(result, Mapping) else None)
        if fingerprint is None:
            raise ValueError(f"Task {plan_task_id!r} returned no plan fingerprint ({key!r}): nothing to approve")
        context["task"].params[FINGERPRINT_PARAM] = fingerprint

    field = Param(
        "",
        type="string",
        title="Plan fingerprint",
        description="The plan this approval applies to, filled in by the DAG. Leave it as it is.",
    )
    return {"params": {FINGERPRINT_PARAM: field}, "pre_execute": fill}


# The plan as Markdown ----------------------------------------------------------------------------------------

_COLUMNS = ("key", "action", "kept", "created", "modified", "cancelled", "enrolled", "first_affected", "reason")
_HEADERS = ("section", "action", "kept", "created", "modified", "cancelled", "enrolled", "first affected", "reason")
#: Rows first by what they cost students: cancels and replacements (new join links) lead.
_ORDER = ("cancel", "replace", "missing", "reschedule", "update", "create", "removed", "ended")
_ESCAPE = re.compile(r"([\\`*_\[\]<>|#])")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return _ESCAPE.sub(r"\\\1", " ".join(text.split()))


def _rank(row: Mapping[str, Any]) -> int:
    action = row.get("action")
    return _ORDER.index(action) if action in _ORDER else len(_ORDER)


def plan_markdown(result: Mapping[str, Any], *, max_rows: int = 200) -> str:
    """A sync's return value (``plan``, ``fingerprint``, ``destructive``, ``summary``) as Markdown for a reviewer.

    Sections that change are listed, cancels and replacements first (at most ``max_rows``); unchanged ones are
    counted. The fingerprint closes the text: it names exactly this plan.
    """
    rows = [row for row in result.get("plan") or [] if isinstance(row, Mapping)]
    changing = [row for row in rows if row.get("action") != "unchanged"]
    changing.sort(key=_rank)
    destructive = bool(result.get("destructive"))
    lines = [
        f"**{len(changing)} of {len(rows)} sections change.** "
        + (
            "**Destructive**: classes are cancelled or replaced (students lose join links), or a guard would refuse."
            if destructive
            else "Nothing is cancelled or replaced."
        ),
        "",
    ]
    if changing:
        lines += ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
        for row in changing[:max_rows]:
            lines.append("| " + " | ".join(_cell(row.get(column)) for column in _COLUMNS) + " |")
        if len(changing) > max_rows:
            lines += ["", f"... and {len(changing) - max_rows} more changing sections (the plan task's log lists all)."]
        lines.append("")
    unchanged = len(rows) - len(changing)
    if unchanged:
        lines += [f"{unchanged} sections are unchanged.", ""]
    summary = result.get("summary")
    if isinstance(summary, Mapping):
        figures = [
            f"{_cell(name)} {_cell(value)}" for name, value in summary.items() if not isinstance(value, (dict, list))
        ]
        if figures:
            lines += ["Summary: " + ", ".join(figures) + ".", ""]
    fingerprint = _normal(result.get("fingerprint"))
    if fingerprint is None:
        lines.append("This plan has no fingerprint: it cannot be approved.")
    else:
        lines.append(f"Plan fingerprint: `{fingerprint}`. Approving applies this plan and no other.")
    return "\n".join(lines)


__all__ = [
    "APPROVE",
    "FINGERPRINT_PARAM",
    "Approval",
    "approved_fingerprints",
    "plan_approval_arguments",
    "plan_markdown",
    "read_approval",
]
