"""The example term sync with its ledger in object storage (``ledger_path``): the deployment test kills it between
two ledger batches. Same export task and options as ``wiziq_term_sync``; its own term (so its own asset and
events); the ledger under ``params.ledger_path``, a ``file://`` folder that every component of the deployment
can read."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_wiziq.example_dags.wiziq_term_sync import SECTIONS_CSV, declared_term
from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

#: The term this DAG syncs (its asset is ``wiziq://term/e2e-path``).
TERM = "e2e-path"

with DAG(
    dag_id="e2e_term_sync_path",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={"sections_csv": str(SECTIONS_CSV), "term_year": None, "ledger_path": ""},
    tags=["wiziq", "e2e"],
) as dag:
    term = task(multiple_outputs=True)(declared_term)()
    SyncTermOperator(
        task_id="sync",
        term=TERM,
        sections=term["sections"],
        holidays=term["holidays"],
        ledger_path="{{ params.ledger_path }}",
        max_concurrency=8,
        max_calls_per_second=20,
        retries=2,
    )
