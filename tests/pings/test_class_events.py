"""Class events: the sensor's optional asset event on ``wiziq://classes/<conn_id>``, only on a final status that
WizIQ answered, and the example DAGs that schedule attendance and recordings on it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from airflow_provider_wiziq.example_dags.wiziq_class_events import held_classes
from airflow_provider_wiziq.sensors.wiziq import class_events_asset
from tests.dagtest import dag_bag, run_dag, task_instances
from tests.support.classes import HOUR, schedule_class, use_emulator
from tests.test_sensor import MODES, run_sensor


def asset_events(uri: str) -> list[dict]:
    """The extras of the asset events recorded on ``uri``, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent).join(AssetModel, AssetModel.id == AssetEvent.asset_id).where(AssetModel.uri == uri)
        )
        return [dict(row.extra or {}) for row in rows]


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_a_wait_that_ends_on_a_final_status_emits_one_event_on_the_connections_asset(wiziq_emulator, monkeypatch, mode):
    use_emulator(monkeypatch, wiziq_emulator, conn_id=f"wiziq_events_{mode}")
    class_id = schedule_class(wiziq_emulator, starts_in=-2 * HOUR)  # already over
    before = datetime.now(timezone.utc)
    dag_run, _ = run_sensor(
        f"class_event_{mode}",
        class_id=class_id,
        wiziq_conn_id=f"wiziq_events_{mode}",
        emit_asset_event=True,
        **MODES[mode],
    )
    assert dag_run.state == "success"
    uri = class_events_asset(f"wiziq_events_{mode}").uri
    assert uri == f"wiziq://classes/wiziq_events_{mode}"
    (extra,) = asset_events(uri)
    assert extra["class_id"] == class_id and extra["status"] == "completed"
    assert before <= datetime.fromisoformat(extra["checked_at"]) <= datetime.now(timezone.utc)


def test_no_event_without_the_flag_or_on_a_status_that_is_not_final(wiziq_emulator, monkeypatch):
    use_emulator(monkeypatch, wiziq_emulator, conn_id="wiziq_quiet")
    over = schedule_class(wiziq_emulator, starts_in=-2 * HOUR, presenter="b")  # moves the clock: first
    live = schedule_class(wiziq_emulator, starts_in=-timedelta(minutes=5))
    common = {"wiziq_conn_id": "wiziq_quiet", "mode": "poke"}
    assert run_sensor("no_flag", class_id=over, **common)[0].state == "success"
    dag_run, _ = run_sensor("live_target", class_id=live, target_status="live", emit_asset_event=True, **common)
    assert dag_run.state == "success"
    assert asset_events(class_events_asset("wiziq_quiet").uri) == []


def test_the_after_class_dag_takes_each_held_class_once_from_its_events():
    def event(class_id: int, status: str) -> SimpleNamespace:
        return SimpleNamespace(extra={"class_id": class_id, "status": status, "checked_at": "2027-01-01T00:00:00"})

    events = [event(1, "completed"), event(2, "expired"), event(1, "completed"), event(3, "completed")]
    assert held_classes(events) == [1, 3]
    assert held_classes(None) == []


def test_the_example_wait_announces_its_class_on_the_default_connections_asset(wiziq_emulator):
    from airflow_provider_wiziq.example_dags import FOLDER

    bag = dag_bag(dag_folder=FOLDER)
    assert {"wiziq_wait_for_class", "wiziq_after_class"} <= set(bag.dag_ids)
    class_id = schedule_class(wiziq_emulator, starts_in=-2 * HOUR)
    dag_run = run_dag(bag.dags["wiziq_wait_for_class"], run_conf={"class_id": class_id})
    assert dag_run.state == "success", task_instances(dag_run)
    assert [extra["class_id"] for extra in asset_events("wiziq://classes/wiziq_default")] == [class_id]
    after = run_dag(bag.dags["wiziq_after_class"])  # by hand: no triggering events, nothing to fetch
    assert after.state == "success"
