"""``wiziq_term_sync_reviewed``: the example shipped in the package
(``airflow_provider_wiziq/example_dags/wiziq_term_sync_reviewed.py``), for a DAG folder that points at this
repository's example_dags/. Airflow finds the DAG among this file's globals."""

from __future__ import annotations

from airflow_provider_wiziq.example_dags.wiziq_term_sync_reviewed import reviewed_dag

__all__ = ["reviewed_dag"]
