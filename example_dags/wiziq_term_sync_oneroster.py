"""``wiziq_term_sync_oneroster``:
the example shipped in the package (``airflow_provider_wiziq/example_dags/wiziq_term_sync_oneroster.py``), for a
DAG folder that points at this repository's example_dags/. Airflow finds the DAGs among this file's globals."""

from __future__ import annotations

from airflow_provider_wiziq.example_dags.wiziq_term_sync_oneroster import oneroster_dag

__all__ = ["oneroster_dag"]
