"""How the semester runs the sync: the one place that knows the engine's API (switching engines changes only this file).

:func:`sync_day` runs one school's daily sync, either at engine level (no Airflow: fast) or through
``SyncTermOperator`` in ``dag.test()`` (the ledger then lives in the term asset's state store), and hands back
what the judge needs from the run itself: whether it refused, which sections failed, the asset event's
announcement and the per-section report. Everything else is judged from the emulator's own state.
The engine is driven through its public API (``read_declared``, ``TermSync(client, store, clock=...).run()``).
:func:`ledger_store` makes the term's ledger store that both schools' runs share (one term name, one asset).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

from tests.semester.term import Declared

_RUNS = itertools.count(1)


@dataclass
class Account:
    """One school's WizIQ account: its emulator, and the connection id its ``dag.test()`` days use."""

    name: str
    emulator: Any  # WizIQEmulator
    conn_id: str


@dataclass
class DayRun:
    """What one run said about itself; the judge reads WizIQ's state for everything else."""

    via: str
    seconds: float = 0.0
    refused: str | None = None  # the run stopped before or while applying, as a whole: why
    errors: dict[str, str] = field(default_factory=dict)  # failed sections: why
    announcement: dict[str, dict[str, list[int]]] | None = None  # the asset event's sections, if one was recorded
    report: dict[str, Any] = field(default_factory=dict)  # the per-section report (``left_enrolled`` is read here)

    @property
    def succeeded(self) -> bool:
        return self.refused is None and not self.errors

    def outcome(self) -> str:
        if self.refused is not None:
            return f"refused: {self.refused[:160]}"
        if self.errors:
            return f"{len(self.errors)} sections failed: " + "; ".join(
                f"{key}: {why[:100]}" for key, why in sorted(self.errors.items())[:3]
            )
        return "ok"


class AssetStateStore:
    """The term asset's state store read and written in the metadata database, as the operator's runs see it."""

    def __init__(self, term: str) -> None:
        self.asset_name = f"wiziq-term-{term}"

    def _asset_id(self, session: Any) -> int:
        from airflow.models.asset import AssetModel
        from sqlalchemy import select

        asset_id = session.scalar(select(AssetModel.id).where(AssetModel.name == self.asset_name))
        if asset_id is None:
            raise LookupError(f"no asset {self.asset_name}: run a dag.test() day first")
        return int(asset_id)

    def get(self, key: str, default: Any = None) -> Any:
        from airflow.models.asset_state_store import AssetStateStoreModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.get(AssetStateStoreModel, (self._asset_id(session), key))
            return default if row is None else json.loads(row.value)

    def set(self, key: str, value: Any) -> None:
        from airflow.models.asset_state_store import AssetStateStoreModel
        from airflow.utils.session import create_session

        with create_session() as session:
            session.merge(AssetStateStoreModel(asset_id=self._asset_id(session), key=key, value=json.dumps(value)))

    def delete(self, key: str) -> None:
        from airflow.models.asset_state_store import AssetStateStoreModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.get(AssetStateStoreModel, (self._asset_id(session), key))
            if row is not None:
                session.delete(row)


def variables_store(term: str) -> Any:
    """The term's ledger in Airflow Variables (Airflow before 3.3), named and encoded as the operator's runs keep
    it, read and written here in the metadata database: engine-level days run outside any task."""
    from airflow.models.variable import Variable

    from airflow_provider_wiziq.stores import VariableStore

    class InDatabase(VariableStore):
        def _read(self, key: str) -> str | None:
            found = Variable.get(self.name(key), default_var=None)
            return None if found is None else str(found)

        def _write(self, key: str, data: bytes) -> None:
            Variable.set(self.name(key), data.decode("utf-8"), description=self.DESCRIPTION)

        def _remove(self, key: str) -> None:
            Variable.delete(self.name(key))

    return InDatabase(term)


def ledger_store(term: str, *, in_airflow: bool) -> Any:
    """The term's ledger store for engine-level runs: in memory, or the operator's when some days run in Airflow
    (the term asset's state store on 3.3, Variables before).

    The asset's store needs the asset in the metadata database: a DAG syncing the term is registered (not run).
    """
    if not in_airflow:
        from airflow_provider_wiziq.api.engine.stores import MemoryStore

        return MemoryStore()
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.sdk import DAG

    from airflow_provider_wiziq._compat import dagbag_module
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator
    from tests.dagtest import dag_bag, migrate_once

    migrate_once()
    with DAG(f"semester_{term.replace('-', '_')}", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        SyncTermOperator(task_id="sync", term=term, sections=[])
    DagBundlesManager().sync_bundles_to_db()
    bag = dag_bag(dag_folder=Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]), collect_dags=False)
    bag.bag_dag(dag)
    dagbag_module().sync_bag_to_db(bag, "dags-folder", None)
    from airflow_provider_wiziq._compat import HAS_ASSET_STATE_STORE

    return AssetStateStore(term) if HAS_ASSET_STATE_STORE else variables_store(term)


def sync_day(account: Account, store: Any, *, term: str, declared: Declared, via: str = "engine") -> DayRun:
    """Run one school's daily sync of ``term`` with its export ``declared``, now by the school's emulator clock.

    ``via="engine"`` runs the engine on ``store``; ``via="dag"`` runs ``SyncTermOperator`` in ``dag.test()``
    (its ledger is the term asset's state store, which ``store`` must then be).
    """
    started = time.monotonic()
    run = _dag_day(account, term, declared) if via == "dag" else _engine_day(account, store, term, declared)
    run.seconds = time.monotonic() - started
    return run


def _engine_day(account: Account, store: Any, term: str, declared: Declared) -> DayRun:
    from airflow_provider_wiziq.api.engine.sync import SyncOptions, TermSync, read_declared
    from airflow_provider_wiziq.api.protocol.client import WizIQClient
    from airflow_provider_wiziq.api.protocol.config import config_from_connection
    from airflow_provider_wiziq.api.protocol.errors import WizIQError

    connection = account.emulator.connection
    config = config_from_connection(host=connection["host"], login=connection["login"], password=connection["password"])
    day = DayRun(via="engine")
    name = f"{account.name}-{next(_RUNS)}"
    try:
        term_declared = read_declared(
            list(declared.sections), list(declared.holidays), config.limits, calendar=list(declared.calendar)
        )
        with WizIQClient(config) as client:
            sync = TermSync(client, store, term=term, clock=account.emulator.clock, options=SyncOptions())
            outcome = sync.run(term_declared, owner=name, run=name)
    except WizIQError as error:  # invalid input, a guard, the ledger, the lease
        day.refused = f"{type(error).__name__}: {error}"
        return day
    except Exception as error:  # issue 19 finding 6: a raw Python exception must never end a run
        day.refused = f"raw {type(error).__name__}: {error}"
        return day
    errors = outcome.errors
    day.errors = {key: f"{type(error).__name__}: {error}" for key, error in errors.items()}
    day.report = outcome.report()["sections"]
    if not errors:  # Airflow records the operator's asset event only for a task that succeeded
        day.announcement = outcome.announcement
    return day


def _dag_day(account: Account, term: str, declared: Declared) -> DayRun:
    from airflow.sdk import DAG

    import airflow_provider_wiziq.operators.sync as sync_module
    from airflow_provider_wiziq.operators.wiziq import SyncTermOperator
    from tests.dagtest import migrate_once, run_dag, task_instances

    dag_id = f"semester_{account.name}_{next(_RUNS)}"
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        SyncTermOperator(
            task_id="sync",
            term=term,
            sections="{{ dag_run.conf['sections'] | tojson }}",
            holidays="{{ dag_run.conf['holidays'] | tojson }}",
            calendar="{{ dag_run.conf['calendar'] | tojson }}",
            max_calls_per_second=None,
            wiziq_conn_id=account.conn_id,
        )
    conf = {
        "sections": [dict(item) for item in declared.sections],
        "holidays": list(declared.holidays),
        "calendar": [dict(row) for row in declared.calendar],
    }
    variable = f"AIRFLOW_CONN_{account.conn_id.upper()}"
    migrate_once()
    events_before = len(_asset_events(term))
    # The operator plans by the school's emulator clock (the module's ``clock``).
    on_clock = mock.patch.object(sync_module, "clock", account.emulator.clock)
    with on_clock, mock.patch.dict(os.environ, {variable: account.emulator.connection_json}):
        dag_run = run_dag(dag, run_conf=conf)
    ti = task_instances(dag_run)["sync"]
    result = ti.xcom_pull(task_ids="sync") or ti.xcom_pull(task_ids="sync", key="sync_results")
    day = DayRun(via="dag")
    if result is None:
        day.refused = f"the task ended {ti.state} with no report (a guard, invalid input or a crash)"
    else:
        day.report = result["sections"]
        day.errors = {key: item["error"]["message"] for key, item in day.report.items() if item.get("error")}
    events = _asset_events(term)[events_before:]
    if events:
        day.announcement = _merged([event.get("sections") or {} for event in events])
    return day


def _asset_events(term: str) -> list[dict[str, Any]]:
    from tests.sync_support import asset_events

    return asset_events(term)


def _merged(parts: list[Mapping[str, Mapping[str, list[int]]]]) -> dict[str, dict[str, list[int]]]:
    merged: dict[str, dict[str, list[int]]] = {}
    for part in parts:
        for key, ids in part.items():
            entry = merged.setdefault(key, {"created": [], "cancelled": []})
            entry["created"] += list(ids.get("created", []))
            entry["cancelled"] += list(ids.get("cancelled", []))
    return merged
