"""Answering a human-in-the-loop task while ``dag.test()`` runs it, as a person in the UI would.

``dag.test()`` cannot answer such a task itself. A helper thread waits for the task's request (its HITL detail
row in the metadata database), then records the answer with the function the api-server runs for
``PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails``, as a person.
Airflow 3.3 resumes the task from ``awaiting_input`` there and then. Before 3.3 the task defers to ``HITLTrigger``,
which ``dag.test()`` runs inline; but its in-process supervisor does not answer the trigger's request for the HITL
detail (a deployment's triggerer does), so the trigger fails at its first poll (``'NoneType' object has no
attribute 'response_received'``) and the task with it. While an answer is pending this module gives that
supervisor the triggerer's two handlers; the trigger then finds the answer at its next poll (every 5 s).
"""

from __future__ import annotations

import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reviewer:
    """The person answering: what the api-server's auth manager hands the PATCH handler."""

    id: str = "rita"
    name: str = "Rita Reviewer"

    def get_id(self) -> str:
        return self.id

    def get_name(self) -> str:
        return self.name


@dataclass
class Answer:
    """A helper thread's answer to one task; ``request`` is the task's HITL detail as the person saw it."""

    dag_id: str
    task_id: str
    chosen_options: list[str]
    params_input: dict[str, Any] | None  # None: send back the form as shown (every field's value)
    request: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(timeout=60)
        if self.error is not None:
            raise self.error


@contextmanager
def _triggers_read_hitl_details() -> Iterator[None]:
    """Before 3.3: let dag.test()'s inline HITLTrigger read and update its HITL detail, as the triggerer lets it."""
    from airflow_provider_wiziq._compat import HAS_ASSET_STATE_STORE  # the 3.3 flag: HITL parks, no trigger

    if HAS_ASSET_STATE_STORE:
        yield
        return
    from airflow.sdk.execution_time.comms import GetHITLDetailResponse, UpdateHITLDetail
    from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor

    handle = InProcessTestSupervisor._handle_request

    def with_hitl(self: Any, msg: Any, log: Any, req_id: int) -> None:
        if isinstance(msg, GetHITLDetailResponse):
            return self.send_msg(self.client.hitl.get_detail_response(ti_id=msg.ti_id), request_id=req_id)
        if isinstance(msg, UpdateHITLDetail):
            answer = self.client.hitl.update_response(
                ti_id=msg.ti_id, chosen_options=msg.chosen_options, params_input=msg.params_input
            )
            return self.send_msg(answer, request_id=req_id)
        return handle(self, msg, log, req_id)

    InProcessTestSupervisor._handle_request = with_hitl
    try:
        yield
    finally:
        InProcessTestSupervisor._handle_request = handle


#: States of a task that waits for its answer: parked (3.3), deferred to HITLTrigger (before 3.3), or queued while
#: dag.test() runs that trigger inline (before 3.3). Each comes after the task wrote its request.
_WAITING = ("awaiting_input", "deferred", "queued")


def _pending(dag_id: str, task_id: str) -> tuple[str, dict[str, Any]] | None:
    """The run id and the request of the task's unanswered HITL detail, once the task waits for it.

    Answering between the request and the wait, as a person in the UI cannot, races the task's park on SQLite.
    """
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        found = session.execute(
            select(TaskInstance.run_id, HITLDetail)
            .join(HITLDetail, HITLDetail.ti_id == TaskInstance.id)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id, HITLDetail.responded_at.is_(None))
            .where(TaskInstance.state.in_(_WAITING))
        ).first()
        if found is None:
            return None
        run_id, detail = found
        return run_id, {
            "subject": detail.subject,
            "body": detail.body,
            "options": list(detail.options or []),
            "params": dict(detail.params or {}),
        }


#: Seconds an answered task may stay parked before the helper resumes it itself.
RESUME_GRACE = 3.0


def _resume_if_still_parked(dag_id: str, run_id: str, task_id: str) -> None:
    """Airflow 3.3: the answer resumes a parked task there and then, but on SQLite (no row locks) an answer that
    lands while the task is still parking loses that resume, and the task stays ``awaiting_input`` with its
    answer recorded: ``dag.test()`` would wait forever (seen once in CI, at load). After a grace, resume it as
    the PATCH handler does, which is what Postgres's row locks give a deployment."""
    from airflow_provider_wiziq._compat import HAS_ASSET_STATE_STORE  # the 3.3 flag: HITL parks

    if not HAS_ASSET_STATE_STORE:
        return  # before 3.3 the task's HITLTrigger polls for the answer and finds it
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    parked = (TaskInstanceState.AWAITING_INPUT, TaskInstanceState.DEFERRED)
    stop = time.monotonic() + RESUME_GRACE
    while True:
        with create_session() as session:
            ti = session.scalars(
                select(TaskInstance).where(
                    TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id
                )
            ).one()
            detail = session.scalars(select(HITLDetail).where(HITLDetail.ti_id == ti.id)).one_or_none()
            if ti.state not in parked or detail is None or not detail.response_received:
                return  # resumed (or ended): nothing to do
            if time.monotonic() > stop:
                handle_event_submit(TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session)
                return
        time.sleep(0.2)


def _fail_waiting_task(dag_id: str, task_id: str) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import update

    with create_session() as session:
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id)
            .values(state=TaskInstanceState.FAILED)
        )


@contextmanager
def answering(
    dag_id: str,
    task_id: str,
    chosen_options: list[str],
    params_input: dict[str, Any] | None = None,
    *,
    reviewer: Reviewer | None = None,
) -> Iterator[Answer]:
    """``with answering(dag.dag_id, "approve", ["Approve"]) as answer: run_dag(dag)``: a person answers meanwhile.

    On leaving, the helper thread is joined and its error, if any, raised.
    """
    with _triggers_read_hitl_details():
        answer = answer_when_asked(dag_id, task_id, chosen_options, params_input, reviewer=reviewer)
        yield answer
    answer.join()


def answer_when_asked(
    dag_id: str,
    task_id: str,
    chosen_options: list[str],
    params_input: dict[str, Any] | None = None,
    *,
    reviewer: Reviewer | None = None,
    deadline: float = 600.0,
) -> Answer:
    """Start a thread that answers ``task_id`` of ``dag_id`` once it asks; ``join()`` it after ``dag.test()``."""
    from sqlalchemy.orm import configure_mappers

    from airflow_provider_wiziq.emulator.dag_runs import migrate_once

    answer = Answer(dag_id, task_id, chosen_options, params_input)
    # Airflow's models are imported and mapped here, before dag.test() starts: a thread whose first query maps
    # them while the main thread imports them deadlocks on the import lock.
    migrate_once()
    configure_mappers()
    with warnings.catch_warnings():
        # Importing the api-server's routes builds every public route, and pydantic warns about Airflow's own models.
        warnings.simplefilter("ignore")
        from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
        from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.utils.session import create_session

    def run() -> None:
        try:
            stop = time.monotonic() + deadline
            while (pending := _pending(dag_id, task_id)) is None:
                if time.monotonic() > stop:
                    raise TimeoutError(f"{dag_id}.{task_id} did not ask within {deadline} s")
                time.sleep(0.2)
            run_id, answer.request = pending
            shown = {
                name: value["value"] if isinstance(value, dict) and "value" in value else value
                for name, value in answer.request["params"].items()
            }
            payload = UpdateHITLDetailPayload(
                chosen_options=chosen_options,
                params_input=shown if params_input is None else params_input,
            )
            with create_session() as session:
                update_hitl_detail(
                    dag_id=dag_id,
                    dag_run_id=run_id,
                    task_id=task_id,
                    update_hitl_detail_payload=payload,
                    user=reviewer or Reviewer(),
                    session=session,
                    map_index=-1,
                )
            _resume_if_still_parked(dag_id, run_id, task_id)
        except BaseException as error:
            answer.error = error
            traceback.print_exc()
            _fail_waiting_task(dag_id, task_id)  # else dag.test() would wait for an answer forever

    answer.thread = threading.Thread(target=run, name=f"answer-{task_id}", daemon=True)
    answer.thread.start()
    return answer
