"""``wiziq_wait_for_class`` and ``wiziq_after_class``:
the examples shipped in the package (``airflow_provider_wiziq/example_dags/wiziq_class_events.py``), for a DAG
folder that points at this repository's example_dags/. Airflow finds the DAGs among this file's globals."""

from __future__ import annotations

from airflow_provider_wiziq.example_dags.wiziq_class_events import after_class_dag, wait_dag

__all__ = ["after_class_dag", "wait_dag"]
