"""``wiziq_term_sync`` and ``wiziq_term_sync_plan``:
the example shipped in the package (``airflow_provider_wiziq/example_dags/wiziq_term_sync.py``), for a
DAG folder that points at this repository's example_dags/. Airflow finds the DAGs among this file's globals."""

from __future__ import annotations

from airflow_provider_wiziq.example_dags.wiziq_term_sync import plan_dag, sync_dag

__all__ = ["plan_dag", "sync_dag"]
