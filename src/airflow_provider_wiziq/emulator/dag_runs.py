"""Running a DAG in a test: a throwaway Airflow home, its SQLite database, the DAG serialized, ``dag.test()``.

Used by the pytest plugin's ``wiziq_dag_run`` fixture when a project opts in (``wiziq_airflow = true``).
Airflow reads ``AIRFLOW_HOME`` once, when it is first imported, so :func:`use_throwaway_airflow_home` must run
before that; nothing here imports Airflow at module level.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Task states that do not make a run a failure.
_FINE = {"success", "skipped"}

_migrated = False


class AirflowAlreadyImportedError(RuntimeError):
    """Airflow was imported before the throwaway home was set, so it would use the user's own home."""


def use_throwaway_airflow_home() -> Path:
    """Point Airflow at a new temporary home (removed at exit): no example DAGs, an empty dags folder."""
    if "airflow" in sys.modules:
        raise AirflowAlreadyImportedError(
            "Airflow was imported before the throwaway AIRFLOW_HOME could be set (by a plugin or an early "
            "conftest import), so it would run on your own Airflow home; the wiziq_airflow option refuses that."
        )
    home = Path(tempfile.mkdtemp(prefix="wiziq-airflow-home-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    (home / "dags").mkdir()
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(home / "dags")
    return home


def migrate_once() -> None:
    """Create the metadata database once per process (about a second on SQLite)."""
    global _migrated
    if not _migrated:
        from airflow.utils import db

        db.initdb()
        _migrated = True


def dag_bag(**kwargs: Any) -> Any:
    """A ``DagBag`` of the installed Airflow (``dag_folder=...`` and the like)."""
    from airflow_provider_wiziq._compat import dagbag_module

    return dagbag_module().DagBag(**kwargs)


def run_dag(dag: Any, **test_kwargs: Any) -> Any:
    """Register ``dag`` (``dag.test()`` runs only serialized DAGs) and run it; returns the DagRun.

    ``dag.test()`` does not raise when a task fails: see :func:`failed_tasks`.
    """
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    from airflow_provider_wiziq._compat import dagbag_module

    migrate_once()
    DagBundlesManager().sync_bundles_to_db()
    bag = dag_bag(dag_folder=Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]), collect_dags=False)
    bag.bag_dag(dag)
    dagbag_module().sync_bag_to_db(bag, "dags-folder", None)
    return dag.test(**test_kwargs)


def task_instances(dag_run: Any) -> dict[str, Any]:
    """The run's task instances by task id (mapped ones by ``task_id[map_index]``)."""
    result = {}
    for ti in dag_run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        result[key] = ti
    return result


def failed_tasks(dag_run: Any) -> dict[str, str]:
    """The state of every task that neither succeeded nor was skipped, by task id."""
    states = {key: str(getattr(ti.state, "value", ti.state)) for key, ti in task_instances(dag_run).items()}
    return {key: state for key, state in states.items() if state not in _FINE}
