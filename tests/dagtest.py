"""Running DAGs built in tests with ``dag.test()`` on the session's SQLite metadata database.

The shipped plugin's helpers (``wiziq_airflow = true`` in pyproject.toml sets the throwaway home), so the
suite runs DAGs exactly as a user's project does with the ``wiziq_dag_run`` fixture.
"""

from __future__ import annotations

from airflow_provider_wiziq.emulator.dag_runs import dag_bag, migrate_once, run_dag, task_instances

__all__ = ["dag_bag", "migrate_once", "run_dag", "task_instances"]
