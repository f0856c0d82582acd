"""WizIQClassStatusSensor in real Airflow (dag.test) against the emulator over HTTP, in all three modes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from airflow.sdk import DAG, task

from airflow_provider_wiziq._compat import HAS_TASK_STATE_STORE, AirflowFailException, AirflowSkipException
from airflow_provider_wiziq.sensors.wiziq import WizIQClassStatusSensor, WizIQWaitErrors, WizIQWaitFailed
from airflow_provider_wiziq.triggers.wiziq import WizIQClassStatusTrigger
from tests.dagtest import run_dag, task_instances
from tests.support.classes import HOUR, cancel_class, schedule_class, use_emulator

MODES = {
    "poke": {"mode": "poke"},
    "reschedule": {"mode": "reschedule"},
    "deferrable": {"deferrable": True},
}


def sensor_dag(dag_id: str, **sensor_kwargs: Any) -> DAG:
    """A DAG whose first task hands the class id to the sensor by XCom, as the create operator would."""
    class_id = sensor_kwargs.pop("class_id")
    sensor_kwargs.setdefault("poke_interval", 0.05)
    sensor_kwargs.setdefault("timeout", 30)
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:

        @task(task_id="create")
        def create() -> Any:
            return class_id

        create() >> WizIQClassStatusSensor(  # type: ignore[operator]
            task_id="wait",
            class_id="{{ ti.xcom_pull(task_ids='create') }}",
            retry_delay=timedelta(seconds=0),
            **sensor_kwargs,
        )
    return dag


def run_sensor(dag_id: str, **sensor_kwargs: Any) -> tuple[Any, Any]:
    dag_run = run_dag(sensor_dag(dag_id, **sensor_kwargs))
    return dag_run, task_instances(dag_run)["wait"]


@contextmanager
def clock_steps(emulator: Any, *steps: timedelta) -> Iterator[list[int]]:
    """Move the emulator's clock one step each time it has answered one more get_data call.

    The call is recorded after its answer is made, so the n-th answer sees the clock before the n-th step:
    with steps (1 h + 1 min, 1 h) the sensor sees upcoming, then live, then completed.
    """
    done: list[int] = []
    stop = threading.Event()

    def drive() -> None:
        for step in steps:
            while len(emulator.requests("get_data")) <= len(done):
                if stop.wait(0.005):
                    return
            emulator.clock.advance(step)
            done.append(len(emulator.requests("get_data")))

    driver = threading.Thread(target=drive, name="clock-steps", daemon=True)
    driver.start()
    try:
        yield done
    finally:
        stop.set()
        driver.join()


@contextmanager
def after_first_poll(emulator: Any, action: Any, *args: Any) -> Iterator[None]:
    """Run ``action(*args)`` from a helper thread as soon as the emulator has answered one get_data call."""
    stop = threading.Event()

    def wait_then_act() -> None:
        while not emulator.requests("get_data"):
            if stop.wait(0.005):
                return
        action(*args)

    helper = threading.Thread(target=wait_then_act, name="after-first-poll", daemon=True)
    helper.start()
    try:
        yield
    finally:
        stop.set()
        helper.join()


@pytest.mark.parametrize("mode", sorted(MODES))
def test_sensor_waits_for_completed_in_each_mode(wiziq_emulator, monkeypatch, mode):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    with clock_steps(wiziq_emulator, HOUR + timedelta(minutes=1), HOUR) as steps:
        dag_run, ti = run_sensor(f"wait_{mode}", class_id=class_id, **MODES[mode])
    assert dag_run.state == "success"
    assert len(steps) == 2  # it saw upcoming and live before completed
    assert ti.xcom_pull(task_ids="wait") == {"class_id": str(class_id), "status": "completed", "time_to_start": "0"}
    calls = wiziq_emulator.requests("get_data")
    # At least one call per status. More are fine: the clock moves from another thread, and a poll may come
    # before it does (on a loaded machine, or when the trigger's first round, which opens the connection,
    # overran its interval and the next round came at once).
    assert len(calls) >= 3
    if mode == "deferrable":  # one check on the worker, then the trigger's shared polls
        assert "class_id" in calls[0]["fields"] and "multiple_class_id" in calls[1]["fields"]


def test_deferrable_returns_at_once_when_already_at_target(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator, starts_in=-timedelta(minutes=5))
    dag_run, ti = run_sensor("wait_live_now", class_id=class_id, target_status=["live"], deferrable=True)
    assert dag_run.state == "success"
    assert ti.xcom_pull(task_ids="wait")["status"] == "live"
    assert [sorted(call["fields"]) for call in wiziq_emulator.requests("get_data")] == [
        ["access_key", "class_id", "columns", "method", "timestamp"]
    ]


@pytest.mark.parametrize(("ending", "mode"), [("expired", "poke"), ("cancelled", "deferrable")])
def test_a_final_status_not_targeted_fails_the_first_try(wiziq_emulator, monkeypatch, ending, mode):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    if ending == "expired":
        wiziq_emulator.set_outcome(class_id, "expired")
        happens = clock_steps(wiziq_emulator, 3 * HOUR)
    else:  # cancelled once the sensor has checked and deferred: the trigger sees it
        happens = after_first_poll(wiziq_emulator, cancel_class, wiziq_emulator, class_id)
    with happens:
        dag_run, ti = run_sensor(f"wait_{ending}", class_id=class_id, retries=2, **MODES[mode])
    if mode == "deferrable":
        assert "multiple_class_id" in wiziq_emulator.requests("get_data")[-1]["fields"]
    assert dag_run.state == "failed"
    assert (ti.state, ti.try_number) == ("failed", 1)


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_soft_fail_skips_a_final_status_not_targeted(wiziq_emulator, monkeypatch, mode):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    if mode == "poke":
        cancel_class(wiziq_emulator, class_id)
        _, ti = run_sensor(f"skip_{mode}", class_id=class_id, soft_fail=True, retries=2, **MODES[mode])
    else:
        wiziq_emulator.set_outcome(class_id, "expired")
        with clock_steps(wiziq_emulator, 3 * HOUR):
            _, ti = run_sensor(f"skip_{mode}", class_id=class_id, soft_fail=True, retries=2, **MODES[mode])
    assert (ti.state, ti.try_number) == ("skipped", 1)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_an_unknown_class_fails_the_first_try_even_with_soft_fail(wiziq_emulator, monkeypatch, mode):
    use_emulator(monkeypatch, wiziq_emulator)
    dag_run, ti = run_sensor(f"unknown_{mode}", class_id=424242, soft_fail=True, retries=2, **MODES[mode])
    assert (dag_run.state, ti.state, ti.try_number) == ("failed", "failed", 1)


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
@pytest.mark.parametrize("soft_fail", [False, True])
def test_a_timeout_fails_without_retries_or_skips_with_soft_fail(wiziq_emulator, monkeypatch, mode, soft_fail):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    dag_id = f"timeout_{mode}_{soft_fail}"
    _, ti = run_sensor(dag_id, class_id=class_id, timeout=0.5, soft_fail=soft_fail, retries=2, **MODES[mode])
    assert (ti.state, ti.try_number) == ("skipped" if soft_fail else "failed", 1)


def test_the_sensor_keeps_to_airflows_public_sensor_methods():
    """poke / execute / execute_complete over the verdict: no private Airflow method, no resume_execution."""
    from airflow_provider_wiziq._compat import BaseSensorOperator

    airflow_names = {name for klass in BaseSensorOperator.__mro__ for name in vars(klass)}
    own = vars(WizIQClassStatusSensor)
    overridden = {name for name in own if name in airflow_names and callable(own[name])}
    assert overridden <= {"__init__", "execute", "poke"}


def test_poke_mode_waits_through_transient_errors(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator, starts_in=-2 * HOUR)
    wiziq_emulator.inject_fault("http_503", count=2, method="get_data")
    wiziq_emulator.inject_fault("reset_before", count=1, method="get_data")
    dag_run, ti = run_sensor("wait_through_errors", class_id=class_id, max_consecutive_errors=4)
    assert dag_run.state == "success"
    assert ti.xcom_pull(task_ids="wait")["status"] == "completed"
    assert len(wiziq_emulator.requests("get_data")) == 4


@pytest.mark.parametrize("mode", sorted(MODES))
def test_too_many_errors_in_a_row_fail_the_try(wiziq_emulator, monkeypatch, mode):
    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    wiziq_emulator.inject_fault("http_503", count=10, method="get_data")
    if mode == "reschedule" and not HAS_TASK_STATE_STORE:
        # Before Airflow 3.3 nothing keeps the count across reschedules: each poke starts again from zero,
        # so errors never add up and the wait ends at the sensor's timeout (docs/sensor.md).
        kwargs = {"max_consecutive_errors": 2, "timeout": 3, **MODES[mode]}
        dag_run, ti = run_sensor("errors_reschedule", class_id=class_id, **kwargs)
        assert (dag_run.state, ti.state) == ("failed", "failed")
        assert len(wiziq_emulator.requests("get_data")) >= 2
        return
    dag_run, ti = run_sensor(f"errors_{mode}", class_id=class_id, max_consecutive_errors=2, **MODES[mode])
    assert (dag_run.state, ti.state) == ("failed", "failed")
    # Deferrable: the worker's check before deferring, then the trigger's own run of errors.
    assert len(wiziq_emulator.requests("get_data")) == (3 if mode == "deferrable" else 2)


def test_a_bad_class_id_fails_without_retries(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator)
    _, ti = run_sensor("bad_id", class_id="not-a-class", retries=2)
    assert (ti.state, ti.try_number) == ("failed", 1)
    assert wiziq_emulator.requests("get_data") == []


# Without a DAG run -------------------------------------------------------------------------------------------


def test_target_status_is_checked_when_the_dag_is_parsed():
    with pytest.raises(ValueError, match="'finished' is not a class status"):
        WizIQClassStatusSensor(task_id="wait", class_id=1, target_status=["completed", "finished"])
    with pytest.raises(ValueError, match="max_consecutive_errors"):
        WizIQClassStatusSensor(task_id="wait", class_id=1, max_consecutive_errors=0)
    templated = WizIQClassStatusSensor(task_id="wait", class_id=1, target_status="{{ params.until }}")
    assert templated.target_status == "{{ params.until }}"
    assert WizIQClassStatusSensor(task_id="wait", class_id=1).deferrable is False
    assert WizIQClassStatusSensor.template_fields == ("class_id", "target_status")


def sensor(**kwargs: Any) -> WizIQClassStatusSensor:
    return WizIQClassStatusSensor(task_id="wait", class_id=15001, **kwargs)


def event(**payload: Any) -> dict[str, Any]:
    return {"class_id": 15001, "class_status": None, "record": None, "retryable": False, "message": "m", **payload}


def test_execute_complete_turns_each_event_into_the_right_result():
    record = {"class_id": "15001", "status": "completed", "time_to_start": "0"}
    done = event(status="success", reason="success", class_status="completed", record=record)
    assert sensor().execute_complete({}, done) == record
    wrong = event(status="failure", reason="wrong_status", class_status="cancelled", message="is cancelled")
    with pytest.raises(AirflowFailException, match="is cancelled"):
        sensor().execute_complete({}, wrong)
    with pytest.raises(AirflowSkipException, match="is cancelled"):
        sensor(soft_fail=True).execute_complete({}, wrong)
    with pytest.raises(WizIQWaitFailed, match="does not know"):
        sensor(soft_fail=True).execute_complete(
            {}, event(status="failure", reason="unknown_class", message="WizIQ does not know class 15001")
        )
    with pytest.raises(WizIQWaitErrors, match="in a row"):
        sensor().execute_complete({}, event(status="failure", reason="error", retryable=True, message="5 in a row"))


def test_soft_fail_does_not_hide_wiziq_failures_on_resume():
    unknown = event(status="failure", reason="unknown_class", message="WizIQ does not know class 15001")
    with pytest.raises(WizIQWaitFailed):
        sensor(soft_fail=True).resume_execution("execute_complete", {"event": unknown}, {})
    wrong = event(status="failure", reason="wrong_status", class_status="expired", message="is expired")
    with pytest.raises(AirflowSkipException, match="is expired"):
        sensor(soft_fail=True).resume_execution("execute_complete", {"event": wrong}, {})


def test_the_sensor_defers_with_its_own_end_time(wiziq_emulator, monkeypatch):
    from airflow_provider_wiziq._compat import TaskDeferred

    use_emulator(monkeypatch, wiziq_emulator)
    class_id = schedule_class(wiziq_emulator)
    made = sensor(deferrable=True, timeout=120, poke_interval=30, target_status=["live", "completed"])
    made.class_id = str(class_id)
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        made.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, WizIQClassStatusTrigger)
    _, kwargs = trigger.serialize()
    assert kwargs["class_id"] == class_id and kwargs["target_statuses"] == ["completed", "live"]
    assert kwargs["poll_interval"] == 30.0
    assert before + 120 <= trigger.end_time <= time.time() + 120
    assert deferred.value.method_name == "execute_complete"
