"""What one ledger store call costs inside an Airflow task, per store: milliseconds of wall time and of CPU.

Inside one ``dag.test()`` task, for each store this Airflow has (Airflow Variables, an object store on
``file://``, and the term asset's state store on 3.3 and later) and each value (a 200-byte lease, a 50 KiB plain
shard of format 2's shape, a 60 KiB packed shard: one string): ``CALLS`` sets of distinct keys, then ``CALLS``
gets of them, then ``CALLS`` gets of missing keys. The CPU is this process's: ``dag.test()`` runs the task and
Airflow's execution API in this one process, so it counts both sides of each call (in a deployment the API's
half is spent in the api-server). No emulator: the store calls alone. A baseline row times the same calls on the
in-memory store.
Run: .venv/bin/python benchmarks/ledger_stores.py            (about a minute; prints one row per store and size)
"""

from __future__ import annotations

import base64
import os
import time
from datetime import datetime
from typing import Any

CALLS = 60
SIZES = {"200 B lease": 200, "50 KiB plain": 50 * 1024, "60 KiB packed": -60 * 1024}


def value_of(size: int) -> Any:
    """A ledger-like value of about ``abs(size)`` bytes encoded: a JSON object of 6,400 small elements for a plain
    shard (format 2's shape), one string for a packed shard (``size`` below 0, the ledger's format 3)."""
    if size < 0:
        return "zlib:" + base64.b64encode(os.urandom((-size - 16) * 3 // 4)).decode("ascii")
    return {"classes": [[15716 + n, 1788883200 + n, "s", 2345] for n in range(max(1, (size - 20) // 32))]}


def timed(call: Any, keys: list[str]) -> tuple[float, float]:
    """Mean wall and CPU milliseconds of ``call(key)`` over ``keys``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for key in keys:
        call(key)
    return (time.perf_counter() - wall) * 1000 / len(keys), (time.process_time() - cpu) * 1000 / len(keys)


def measure(store: Any, prefix: str) -> dict[str, list[float]]:
    """For each size: [set wall, set CPU, get wall, get CPU, missing-get wall, missing-get CPU] in ms a call."""
    rows = {}
    for label, size in SIZES.items():
        value = value_of(size)
        keys = [f"{prefix}/{abs(size)}/{n}" for n in range(CALLS)]
        missing = [f"{prefix}/{abs(size)}/missing/{n}" for n in range(CALLS)]
        set_ms = timed(lambda key, value=value: store.set(key, value), keys)
        get_ms = timed(store.get, keys)
        miss_ms = timed(store.get, missing)
        for key in keys:
            store.delete(key)
        rows[label] = [*set_ms, *get_ms, *miss_ms]
    return rows


class _AssetStore:
    """The asset state store accessor as a ledger store (Airflow encodes JSON itself)."""

    def __init__(self, accessor: Any) -> None:
        self.accessor = accessor

    def get(self, key: str, default: Any = None) -> Any:
        return self.accessor.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.accessor.set(key, value)

    def delete(self, key: str) -> None:
        self.accessor.delete(key)


def main() -> None:
    from airflow_provider_wiziq.emulator.dag_runs import use_throwaway_airflow_home

    home = use_throwaway_airflow_home()
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    import logging

    logging.disable(logging.WARNING)
    from importlib.metadata import version

    from airflow.sdk import DAG, Asset, task

    from airflow_provider_wiziq._compat import HAS_ASSET_STATE_STORE
    from airflow_provider_wiziq.api.engine.stores import MemoryStore
    from airflow_provider_wiziq.emulator.dag_runs import failed_tasks, run_dag, task_instances
    from airflow_provider_wiziq.stores import object_store, variable_store

    asset = Asset(name="wiziq-term-bench", uri="wiziq://term/bench")
    with DAG("ledger_store_costs", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:

        @task(inlets=[asset] if HAS_ASSET_STATE_STORE else [])
        def costs(**context: Any) -> dict[str, Any]:
            stores: dict[str, Any] = {
                "memory (baseline)": MemoryStore(),
                "Variables": variable_store("bench"),
                "object storage, file://": object_store(f"file://{home}/ledger"),
            }
            if HAS_ASSET_STATE_STORE:
                stores["asset state store"] = _AssetStore(context["asset_state_store"])
            return {name: measure(store, "bench") for name, store in stores.items()}

        costs()

    dag_run = run_dag(dag)
    if failed := failed_tasks(dag_run):
        raise RuntimeError(f"the measuring task failed: {failed}")
    figures = task_instances(dag_run)["costs"].xcom_pull(task_ids="costs")
    print(f"Airflow {version('apache-airflow')}, dag.test(), {CALLS} calls each; ms a call, wall / CPU")
    print(f"{'store':<26} {'value':<13} {'set':>13} {'get':>13} {'get missing':>13}")
    for name, rows in figures.items():
        for label, ms in rows.items():
            cells = [f"{ms[i]:6.2f} / {ms[i + 1]:5.2f}" for i in (0, 2, 4)]
            print(f"{name:<26} {label:<13} {cells[0]:>13} {cells[1]:>13} {cells[2]:>13}")


if __name__ == "__main__":
    main()
