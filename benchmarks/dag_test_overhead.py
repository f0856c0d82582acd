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
- **Term sync** (targets: first run <= 1.5x, unchanged re-run <= 1.2x): ``SyncTermOperator`` on
  :mod:`district_term`'s fall semester cut to six weeks (``SYNC_LAST``), 500 sections in six zones with two
  holidays and 25-student rosters (about 8,700 classes, each enrolled), the same way: a first run on a fresh
  account with an empty ledger, then an unchanged re-run of the same term. ``dag.test()`` keeps the ledger in the
  term asset's state store (each call a round trip through Airflow's execution API); the bare ``execute()`` in a
  dict. Beside it, the **XCom an unchanged re-run writes** (target: <= 100 KB): the bytes of every XCom value the
  re-run's task leaves in the metadata database (its return value and its summary), as JSON.
- **XCom writes per create task** (target: <= 2): the XCom values one ``CreateRecurringClassOperator``
  task leaves (its return value, its early pushes, the extra link Airflow stores), counted in the
  metadata database after a ``dag.test()`` run.

The figure is this process's CPU time (``dag.test()`` runs the task in this process; the emulator's CPU
is its own), which a busy machine moves less than wall time; wall times are printed beside it. Best of three
runs a side, the sides alternating.
Run: .venv/bin/python benchmarks/dag_test_overhead.py      (about 6 minutes on 2 busy cores)
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import datetime
from typing import Any

from district_term import HOLIDAYS, district_term
from emulator_process import EmulatorProcess, quiet_logs

SERIES = 500
RUNS = 3
SYNC_SECTIONS, SYNC_STUDENTS, SYNC_LAST = 500, 25, "2027-10-15"
#: First runs are the costly ones (every class enrolled): best of two a side.
SYNC_FIRST_RUNS = 2
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


def bare_execute(
    emulator: EmulatorProcess, make: Any, *, fresh: bool = True, assets: _AssetStores | None = None
) -> tuple[float, float]:
    """Wall and CPU seconds of ``make(task_id).execute(context)`` with a minimal context, on a fresh account
    (``fresh``; else the account as the last run left it), the term asset's store in ``assets`` (kept by the
    caller from one run to the next)."""
    if fresh:
        emulator.reset()
    operator = make("bare")
    started, cpu = time.perf_counter(), time.process_time()
    context = {"ti": _TI(), "run_id": "bare", "task_state_store": _Store()}
    context.update(asset_state_store=assets or _AssetStores(), outlet_events=_Outlets())
    operator.execute(context)
    return time.perf_counter() - started, time.process_time() - cpu


def in_dag_test(emulator: EmulatorProcess, make: Any, *, fresh: bool = True) -> tuple[float, float, float, float, Any]:
    """Wall and CPU seconds of the task's run inside ``dag.test()``, then of the whole ``dag.test()`` call.

    The task's run is Airflow's ``_run_task`` for it (render, store the rendered fields, execute, push XCom,
    store the links, record the state): what every try pays. The whole call adds what ``dag.test()`` does
    once a call before any task (serialize the DAG, sync the bundle, create the run). Last, the DagRun.
    """
    import airflow.sdk.definitions.dag as dag_module
    from airflow.sdk import DAG

    from airflow_provider_wiziq.emulator.dag_runs import failed_tasks

    if fresh:
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
    return task_run[0], task_run[1], whole[0], whole[1], dag_run


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
    tested: list[tuple[float, float, float, float, Any]] = []
    for _ in range(RUNS):
        bare.append(bare_execute(emulator, make))
        tested.append(in_dag_test(emulator, make))
    return _ratio(f"{name}, {SERIES} series, best of {RUNS}", bare, tested)


def _ratio(title: str, bare: list[tuple[float, float]], tested: list[tuple[float, float, float, float, Any]]) -> str:
    bare_wall, bare_cpu = min(bare, key=_cpu)
    task_wall, task_cpu, whole_wall, whole_cpu, _ = min(tested, key=_cpu)
    print(f"{title}, CPU (wall):")
    print(f"  execute() alone:                  {bare_cpu:5.2f} s ({bare_wall:5.2f} s)")
    print(f"  the task's run inside dag.test(): {task_cpu:5.2f} s ({task_wall:5.2f} s)  {task_cpu / bare_cpu:.2f}x")
    print(f"  the whole dag.test() call:        {whole_cpu:5.2f} s ({whole_wall:5.2f} s)  {whole_cpu / bare_cpu:.2f}x")
    return f"{task_cpu / bare_cpu:.3f}"


def _cpu(figures: tuple[Any, ...]) -> float:
    return float(figures[1])


def sync_ratios(emulator: EmulatorProcess) -> list[str]:
    """The term sync's first run and unchanged re-run, each in dag.test() against execute(), and the XCom the
    re-run writes. Each round syncs a new term on a fresh account: a first run, then two unchanged re-runs."""
    bare_first: list[tuple[float, float]] = []
    bare_again: list[tuple[float, float]] = []
    tested_first: list[tuple[float, float, float, float, Any]] = []
    tested_again: list[tuple[float, float, float, float, Any]] = []
    bare_file: list[tuple[float, float]] = []
    tested_file: list[tuple[float, float, float, float, Any]] = []
    written: list[int] = []
    path = os.path.join(tempfile.mkdtemp(prefix="wiziq-sections-"), "sections.json")
    with open(path, "w") as file:
        json.dump(district_term(SYNC_SECTIONS, students=SYNC_STUDENTS, last=SYNC_LAST), file)
    for _ in range(SYNC_FIRST_RUNS):
        term = f"overhead-{next(_RUN_NUMBERS)}"
        assets = _AssetStores()
        bare_first.append(bare_execute(emulator, _syncing(term), assets=assets))
        bare_again += [bare_execute(emulator, _syncing(term), fresh=False, assets=assets) for _ in range(2)]
        bare_file.append(bare_execute(emulator, _syncing(term, path), fresh=False, assets=assets))
        term = f"overhead-{next(_RUN_NUMBERS)}"
        tested_first.append(in_dag_test(emulator, _syncing(term)))
        for _ in range(2):
            tested_again.append(in_dag_test(emulator, _syncing(term), fresh=False))
            written.append(xcom_bytes(tested_again[-1][-1]))
        tested_file.append(in_dag_test(emulator, _syncing(term, path), fresh=False))
    what = f"{SYNC_SECTIONS} sections with holidays and {SYNC_STUDENTS}-student rosters"
    first = _ratio(f"term sync, first run, {what}, best of {SYNC_FIRST_RUNS}", bare_first, tested_first)
    again = _ratio(f"term sync, unchanged re-run, the same term, best of {len(bare_again)}", bare_again, tested_again)
    _ratio("the same re-run, the sections as the path of a JSON file (no 13,000-dict templated field)", bare_file,
           tested_file)  # fmt: skip
    print(f"XCom an unchanged re-run writes: {', '.join(f'{size / 1000:.1f} KB' for size in written)}")
    return [f"term sync first run {first}", f"term sync re-run {again}", f"re-run XCom KB {max(written) / 1000:.1f}"]


def xcom_bytes(dag_run: Any) -> int:
    """The bytes (as JSON) of every XCom value the run's ``task`` left in the metadata database."""
    import json

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(
            XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id, XComModel.task_id == "task"
        )
        return sum(len(json.dumps(row.value, separators=(",", ":"))) for row in rows)


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
        figures += sync_ratios(emulator)
        count, keys = xcom_writes(emulator)
        print(f"XCom values a create task leaves: {count} ({', '.join(keys)})")
        figures.append(f"XCom writes a create task {count}")
    print("ratio: " + "; ".join(figures))


def _syncing(term: str, path: str | None = None) -> Any:
    """Makes the term-sync operator of ``term`` on the district's six weeks (the same sections every time), handed
    over as a list (as an upstream task's output is), or as the ``path`` of a JSON file of them."""
    sections: Any = path or district_term(SYNC_SECTIONS, students=SYNC_STUDENTS, last=SYNC_LAST)

    def make(task_id: str) -> Any:
        from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

        return SyncTermOperator(
            task_id=task_id,
            term=term,
            sections=sections,
            holidays=HOLIDAYS,
            max_concurrency=8,
            max_calls_per_second=None,
        )

    return make


if __name__ == "__main__":
    main()
