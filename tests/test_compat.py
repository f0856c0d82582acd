"""The compat module's choices match the Airflow installed: names resolve, flags match what a task really gets."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime
from importlib.metadata import version
from typing import Any

from packaging.version import Version

from airflow_provider_wiziq import _compat
from tests.dagtest import run_dag, task_instances

AIRFLOW = Version(version("apache-airflow"))


def test_state_store_flags_follow_the_airflow_minor():
    assert _compat.HAS_TASK_STATE_STORE is (AIRFLOW.release[:2] >= (3, 3))
    assert _compat.HAS_ASSET_STATE_STORE is (AIRFLOW.release[:2] >= (3, 3))


def test_names_are_airflows_own_classes():
    import airflow.sdk

    assert _compat.BaseHook is airflow.sdk.BaseHook
    assert _compat.BaseOperator is airflow.sdk.BaseOperator
    assert _compat.BaseSensorOperator is airflow.sdk.BaseSensorOperator
    assert _compat.PokeReturnValue is airflow.sdk.PokeReturnValue
    # Whether the task runner treats them as its own is shown by the DAG runs in test_sensor and test_bulk
    # (a permanent error fails the first try; soft_fail skips).
    assert issubclass(_compat.AirflowFailException, _compat.AirflowException)


def test_flags_match_what_a_task_gets_in_its_context():
    from airflow.sdk import DAG, Asset, get_current_context, task

    with DAG("compat_context", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:

        @task(task_id="look", inlets=[Asset("wiziq://compat/term")])
        def look() -> dict[str, Any]:
            context = get_current_context()
            return {"task": "task_state_store" in context, "asset": "asset_state_store" in context}

        look()
    dag_run = run_dag(dag)
    assert dag_run.state == "success"
    seen = task_instances(dag_run)["look"].xcom_pull(task_ids="look")
    assert seen == {"task": _compat.HAS_TASK_STATE_STORE, "asset": _compat.HAS_ASSET_STATE_STORE}


def test_importing_the_provider_warns_about_nothing_of_its_own():
    """In a fresh interpreter: no warning from the provider's code on any minor, and none at all on 3.3+."""
    script = textwrap.dedent(
        """
        import json, warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import airflow_provider_wiziq.hooks.wiziq
            import airflow_provider_wiziq.operators.bulk
            import airflow_provider_wiziq.operators.cancel
            import airflow_provider_wiziq.operators.enrollment
            import airflow_provider_wiziq.operators.series
            import airflow_provider_wiziq.sensors.wiziq
            import airflow_provider_wiziq.triggers.wiziq
        print(json.dumps([[w.category.__name__, w.filename, str(w.message)] for w in caught]))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    caught = json.loads(result.stdout.strip().splitlines()[-1])
    ours = [w for w in caught if "airflow_provider_wiziq" in w[1]]
    assert ours == []
    if AIRFLOW.release[:2] >= (3, 3):
        assert caught == []
