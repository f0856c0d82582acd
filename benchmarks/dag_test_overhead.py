"""The create operators inside Airflow: ``dag.test()`` vs the bare ``execute()``, and XCom writes of a create task.

- **Bulk** (target: <= 1.3x): ``CreateRecurringClassesOperator`` with 500 two-class series (one
  ``create_recurring`` and one ``view_schedule`` each, ``max_concurrency=8``, no rate limit), run by
  ``dag.test()`` in a DAG of that one task, against the same operator's ``execute()`` called directly with
  a minimal context. The figure is the task's run inside ``dag.test()`` (Airflow's ``_run_task``: render,
  store the rendered fields, execute, push XCom, store the links, record the state), what every try pays.
  ``dag.test()``'s start-up is left out: the one-time part (imports, the metadata database) by a warm-up
  run of another DAG, and the part it repeats on each call before any task runs (serialize the DAG, sync
  its bundle, create the run), which is printed beside the figure as the whole call. Registering the DAG
  (the DAG processor's work) is not timed. Each run starts on a fresh emulator account (its own process,
  latency 0), so both sides make the same calls.
- **Term sync** (target: <= 1.3x): ``SyncTermOperator`` with the same 500 series as a term, the same way;
  measured only where the operator exists.
- **XCom writes per create task** (target: <= 2): the XCom values one ``CreateRecurringClassOperator``
  task leaves (its return value, its early pushes, the extra link Airflow stores), counted in the
  metadata database after a ``dag.test()`` run.

The figure is this process's CPU time (``dag.test()`` runs the task in this process; the emulator's CPU
is its own), which a busy machine moves less than wall time; wall times are printed beside it. Best of three
runs a side, the sides alternating.
Run: .venv/bin/python benchmarks/dag_test_overhead.py
"""

from __future__ import annotations

import importlib.util
import os
import time
from datetime import datetime
from typing import Any

from emulator_process import EmulatorProcess, quiet_logs

SERIES = 500
RUNS = 3
YEAR = datetime.now().year + 1
_RUN_NUMBERS = iter(range(10**6))


def specs() -> list[dict[str, Any]]:
    """``SERIES`` two-class weekly series, each with its own presenter; plain strings and numbers, no template."""
    return [
        {
            "key": f"S{index:04d}",
            "title": f"Section {index}",
            "presenter_email": f"t{index}@overhead.bench.example",
            "time_zone": "America/Chicago",
            "start_time": f"{YEAR}-02-01T{8 + index % 8:02d}:{15 * (index % 4):02d}",
            "class_repeat_type": "weekly",
            "days_of_week": "monday",
            "class_occurrence": 2,
            "attendee_limit": 30,
        }
        for index in range(SERIES)
    ]


class _TI:
    try_number = 1
    map_index = -1
    dag_id = run_id = task_id = "bare"

    def xcom_push(self, key: str, value: Any) -> None:
        pass


class _AssetStores:
    """``context["asset_state_store"]``: one store for the term's asset."""

    def __init__(self) -> None:
        self.store = _Store()

    def __getitem__(self, asset: Any) -> Any:
        return self.store


class _Outlets:
    """``context["outlet_events"]``: events added to it are dropped."""

    def __getitem__(self, key: Any) -> Any:
        return self

    def add(self, asset: Any, extra: Any = None) -> None:
        pass


class _Store(dict):
    """The task state store as the operators use it."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)


def bulk_operator(task_id: str) -> Any:
    from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator

    return CreateRecurringClassesOperator(
        task_id=task_id, series=specs(), max_concurrency=8, max_calls_per_second=None, progress_interval=60
    )


def bare_execute(emulator: EmulatorProcess, make: Any) -> tuple[float, float]:
    """Wall and CPU seconds of ``make(task_id).execute(context)`` with a minimal context, on a fresh account."""
    emulator.reset()
    operator = make("bare")
    started, cpu = time.perf_counter(), time.process_time()
    context = {"ti": _TI(), "run_id": "bare", "task_state_store": _Store()}
    context.update(asset_state_store=_AssetStores(), outlet_events=_Outlets())
    operator.execute(context)
    return time.perf_counter() - started, time.process_time() - cpu


def in_dag_test(emulator: EmulatorProcess, make: Any) -> tuple[float, float, float, float]:
    """Wall and CPU seconds of the task's run inside ``dag.test()``, then of the whole ``dag.test()`` call.

    The task's run is Airflow's ``_run_task`` for it (render, store the rendered fields, execute, push XCom,
    store the links, record the state): what every try pays. The whole call adds what ``dag.test()`` does
    once a call before any task (serialize the DAG, sync the bundle, create the run).
    """
    import airflow.sdk.definitions.dag as dag_module
    from airflow.sdk import DAG

    from airflow_provider_wiziq.emulator.dag_runs import failed_tasks

    emulator.reset()
    with DAG(f"overhead_{next(_RUN_NUMBERS)}", schedule=None, start_date=datetime(2025, 1, 1)) as dag:
        make("task")
    _register(dag)
    task_run: list[float] = []
    run_task = dag_module._run_task

    def timed_run_task(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return run_task(*args, **kwargs)
        finally:
            task_run[:] = [time.perf_counter() - started, time.process_time() - cpu]

    dag_module._run_task = timed_run_task
    try:
        started, cpu = time.perf_counter(), time.process_time()
        dag_run = dag.test()
        whole = [time.perf_counter() - started, time.process_time() - cpu]
    finally:
        dag_module._run_task = run_task
    if failed := failed_tasks(dag_run):
        raise RuntimeError(f"the DAG run failed: {failed}")
    return task_run[0], task_run[1], whole[0], whole[1]


def _register(dag: Any) -> None:
    """Serialize ``dag`` into the metadata database, as the DAG processor would (``dag.test()`` needs it)."""
    from pathlib import Path

    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]), collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)


def ratio_of(emulator: EmulatorProcess, make: Any, name: str) -> str:
    """The CPU ratio of the task's run in dag.test() to execute() (best of ``RUNS`` a side); details printed."""
    bare: list[tuple[float, float]] = []
    tested: list[tuple[float, float, float, float]] = []
    for _ in range(RUNS):
        bare.append(bare_execute(emulator, make))
        tested.append(in_dag_test(emulator, make))
    bare_wall, bare_cpu = min(bare, key=_cpu)
    task_wall, task_cpu, whole_wall, whole_cpu = min(tested, key=_cpu)
    print(f"{name}, {SERIES} series, best of {RUNS}, CPU (wall):")
    print(f"  execute() alone:                  {bare_cpu:5.2f} s ({bare_wall:5.2f} s)")
    print(f"  the task's run inside dag.test(): {task_cpu:5.2f} s ({task_wall:5.2f} s)  {task_cpu / bare_cpu:.2f}x")
    print(f"  the whole dag.test() call:        {whole_cpu:5.2f} s ({whole_wall:5.2f} s)  {whole_cpu / bare_cpu:.2f}x")
    return f"{task_cpu / bare_cpu:.3f}"


def _cpu(figures: tuple[float, ...]) -> float:
    return figures[1]


def xcom_writes(emulator: EmulatorProcess) -> tuple[int, list[str]]:
    """The XCom values a one-series create task leaves in the metadata database, and their keys."""
    from airflow.models.xcom import XComModel
    from airflow.sdk import DAG
    from airflow.utils.session import create_session

    from airflow_provider_wiziq.emulator.dag_runs import failed_tasks, run_dag
    from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassOperator

    emulator.reset()
    spec = {k: v for k, v in specs()[0].items() if k != "key"}
    with DAG("overhead_xcom", schedule=None, start_date=datetime(2025, 1, 1)) as dag:
        CreateRecurringClassOperator(task_id="create", **spec)
    dag_run = run_dag(dag)
    if failed := failed_tasks(dag_run):
        raise RuntimeError(f"the create task failed: {failed}")
    with create_session() as session:
        keys = [
            row.key
            for row in session.query(XComModel).filter(
                XComModel.dag_id == dag.dag_id, XComModel.run_id == dag_run.run_id, XComModel.task_id == "create"
            )
        ]
    return len(keys), sorted(keys)


def main() -> None:
    from airflow_provider_wiziq.emulator.dag_runs import use_throwaway_airflow_home

    use_throwaway_airflow_home()
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    quiet_logs()
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG

    from airflow_provider_wiziq.emulator.dag_runs import run_dag

    with EmulatorProcess() as emulator:
        emulator.use_as_default_connection()
        with DAG("overhead_warm_up", schedule=None, start_date=datetime(2025, 1, 1)) as warm_up:
            EmptyOperator(task_id="nothing")
        run_dag(warm_up)  # dag.test()'s one-time start-up, not counted
        figures = [f"bulk {ratio_of(emulator, bulk_operator, 'bulk')}"]
        if importlib.util.find_spec("airflow_provider_wiziq.operators.sync") is not None:
            figures.append(f"term sync {ratio_of(emulator, sync_operator, 'term sync')}")
        count, keys = xcom_writes(emulator)
        print(f"XCom values a create task leaves: {count} ({', '.join(keys)})")
        figures.append(f"XCom writes a create task {count}")
    print("ratio: " + "; ".join(figures))


def sync_operator(task_id: str) -> Any:
    """The term-sync operator on the same 500 series as a term (a new term each time: its ledger starts empty)."""
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

    return SyncTermOperator(
        task_id=task_id,
        term=f"overhead-{next(_RUN_NUMBERS)}",
        sections=specs(),
        max_concurrency=8,
        max_calls_per_second=None,
    )


if __name__ == "__main__":
    main()
