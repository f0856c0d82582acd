"""Running SyncTermOperator DAGs in tests: several DAG runs sharing one term's asset ledger, on the emulator's clock."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from tests.dagtest import run_dag, task_instances

#: The emulator's clock at the start of every sync test: the Monday before the term's first week.
TERM_OPENS = datetime(2027, 8, 30, 12, 0, tzinfo=timezone.utc)
WRITES = ("create_recurring", "create", "modify", "cancel", "add_attendees")
_RUNS = itertools.count()


def section(key: str, **changes: Any) -> dict[str, Any]:
    """A Monday-to-Friday section, 09:00 in New York, from the first day of term to mid-December."""
    return {
        "key": key,
        "title": f"Section {key}",
        "presenter_email": f"{key.lower()}@school.example",
        "time_zone": "America/New_York",
        "start_time": "2027-09-06T09:00",
        "class_repeat_type": 3,
        "class_end_date": "2027-12-17",
        "attendee_limit": 30,
        **changes,
    }


class TermRunner:
    """Builds and runs one DAG per call, all syncing the same term; returns what each run did."""

    def __init__(self, emulator: Any, term: str) -> None:
        self.emulator = emulator
        self.term = term

    def run(self, sections: Any, *, holidays: Any = None, expect: str = "success", **options: Any) -> SyncRun:
        from airflow.sdk import DAG

        from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

        self.emulator.clear_requests()
        dag_id = f"sync_{self.term.replace('-', '_')}_{next(_RUNS)}"
        options.setdefault("max_calls_per_second", None)
        with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
            SyncTermOperator(
                task_id="sync",
                term=self.term,
                sections="{{ dag_run.conf['sections'] | tojson }}",
                holidays="{{ dag_run.conf['holidays'] | tojson }}",
                **options,
            )
        dag_run = run_dag(dag, run_conf={"sections": sections, "holidays": holidays or []})
        result = SyncRun(self.emulator, dag_run, dag_id)
        assert dag_run.state == expect, result.log_hint()
        return result


class SyncRun:
    def __init__(self, emulator: Any, dag_run: Any, dag_id: str) -> None:
        self.dag_run = dag_run
        self.dag_id = dag_id
        self.ti = task_instances(dag_run)["sync"]
        self.requests = emulator.requests()
        self.result = self.ti.xcom_pull(task_ids="sync")
        if self.result is None:
            self.result = self.ti.xcom_pull(task_ids="sync", key="sync_results")

    def log_hint(self) -> str:
        return f"run of {self.dag_id} ended {self.dag_run.state}"

    @property
    def writes(self) -> list[dict[str, Any]]:
        return [item for item in self.requests if item["method"] in WRITES]

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [item for item in self.requests if item["method"] == method]

    @property
    def sections(self) -> dict[str, Any]:
        return self.result["sections"]

    @property
    def summary(self) -> dict[str, Any]:
        return self.result["summary"]

    def plan(self, key: str) -> dict[str, Any]:
        return next(row for row in self.result["plan"] if row["key"] == key)

    def scheduled(self, key: str) -> dict[str, int]:
        """The section's scheduled classes in the report: ISO local start -> class_id."""
        return {c["start_time"]: c["class_id"] for c in self.sections[key]["classes"] if c["state"] == "scheduled"}


def instants(classes: Iterable[dict[str, Any]]) -> list[str]:
    return sorted(datetime.fromisoformat(cls["utc_start"]).isoformat() for cls in classes)


def asset_events(term: str) -> list[dict[str, Any]]:
    """The term asset's events, oldest first, with their extra."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.name == f"wiziq-term-{term}")
            .order_by(AssetEvent.id)
        ).all()
    return [json.loads(json.dumps(row[0])) for row in rows]


def wipe_ledger(term: str) -> None:
    """Delete the term's ledger: every key of the asset's state store (as Airflow does when no DAG references the
    asset), or every Variable of the term before Airflow 3.3."""
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    from airflow_provider_wiziq._compat import HAS_ASSET_STATE_STORE

    if not HAS_ASSET_STATE_STORE:
        from airflow.models.variable import Variable

        with create_session() as session:
            session.execute(delete(Variable).where(Variable.key.like(f"wiziq\\_term\\_{term}%", escape="\\")))
        return
    from airflow.models.asset import AssetModel
    from airflow.models.asset_state_store import AssetStateStoreModel

    with create_session() as session:
        asset_id = session.scalar(select(AssetModel.id).where(AssetModel.name == f"wiziq-term-{term}"))
        session.execute(delete(AssetStateStoreModel).where(AssetStateStoreModel.asset_id == asset_id))


def account_of(emulator: Any) -> str:
    """The account digest the term ledger is scoped by, for the emulator's connection."""
    from airflow_provider_wiziq.api.engine.ledger import account_scope
    from airflow_provider_wiziq.api.protocol.config import config_from_connection

    config = config_from_connection(**{k: v for k, v in emulator.connection.items() if k != "conn_type"})
    return account_scope(config.endpoint, config.access_key)


def ledger_key(term: str, key: str) -> Any:
    """One key of the term's ledger as stored (the asset state store on 3.3, Airflow Variables before)."""
    from airflow_provider_wiziq._compat import HAS_ASSET_STATE_STORE

    if not HAS_ASSET_STATE_STORE:
        from airflow.models.variable import Variable

        return Variable.get(f"wiziq_term_{term}/{key}", default_var=None, deserialize_json=True)
    from airflow.models.asset import AssetModel
    from airflow.models.asset_state_store import AssetStateStoreModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        asset_id = session.scalar(select(AssetModel.id).where(AssetModel.name == f"wiziq-term-{term}"))
        value = session.scalar(
            select(AssetStateStoreModel.value).where(
                AssetStateStoreModel.asset_id == asset_id, AssetStateStoreModel.key == key
            )
        )
    return None if value is None else json.loads(value)


def set_ledger_key(term: str, key: str, value: Any) -> None:
    """Write one key of the term's ledger, as another run of the term would."""
    from airflow_provider_wiziq._compat import HAS_ASSET_STATE_STORE

    if not HAS_ASSET_STATE_STORE:
        from airflow.models.variable import Variable

        Variable.set(f"wiziq_term_{term}/{key}", json.dumps(value))
        return
    from airflow.models.asset import AssetModel
    from airflow.models.asset_state_store import AssetStateStoreModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        asset_id = session.scalar(select(AssetModel.id).where(AssetModel.name == f"wiziq-term-{term}"))
        session.merge(AssetStateStoreModel(asset_id=asset_id, key=key, value=json.dumps(value)))
