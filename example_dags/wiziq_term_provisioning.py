"""``wiziq_term_provisioning`` and ``wiziq_term_provisioning_bulk``:
the example shipped in the package (``airflow_provider_wiziq/example_dags/wiziq_term_provisioning.py``), for a
DAG folder that points at this repository's example_dags/. Airflow finds the DAGs among this file's globals."""

from __future__ import annotations

from airflow_provider_wiziq.example_dags.wiziq_term_provisioning import provisioning_bulk_dag, provisioning_dag

__all__ = ["provisioning_bulk_dag", "provisioning_dag"]
