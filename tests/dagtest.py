"""Running DAGs built in tests with ``dag.test()`` on the session's SQLite metadata database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_READY = False


def migrate_once() -> None:
    """Create the metadata database once per test session (about a second on SQLite)."""
    global _READY
    if not _READY:
        from airflow.utils import db

        db.initdb()
        _READY = True


def run_dag(dag: Any, **test_kwargs: Any) -> Any:
    """Register ``dag`` (dag.test() runs only serialized DAGs) and run it; returns the DagRun.

    ``dag.test()`` does not raise when a task fails: assert on the run's and the task instances' states.
    """
    import os

    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    migrate_once()
    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]), collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    return dag.test(**test_kwargs)


def task_instances(dag_run: Any) -> dict[str, Any]:
    """The run's task instances by task id (mapped ones by ``task_id[map_index]``)."""
    result = {}
    for ti in dag_run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        result[key] = ti
    return result
