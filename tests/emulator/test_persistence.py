"""The SQLite-backed store: a stopped emulator resumes with its classes, ids and clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from airflow_provider_wiziq.api.protocol import responses
from airflow_provider_wiziq.api.protocol.xmlwrite import attendee_list_xml
from airflow_provider_wiziq.emulator.server import WizIQEmulator
from tests.emulator.conftest import T0, Api, series_fields


def test_stop_and_resume(tmp_path):
    db = tmp_path / "wiziq.sqlite"
    with WizIQEmulator(db_path=db, clock_start=T0) as first, requests.Session() as session:
        api = Api(first, session)
        series = responses.parse_create_recurring(api.call("create_recurring", **series_fields()))
        class_id = str(series.first_class.class_id)
        api.call(
            "add_attendees",
            class_id=class_id,
            attendee_list=attendee_list_xml([{"attendee_id": "7", "screen_name": "Ann"}]),
        )
        api.call("cancel", class_id=str(series.first_class.class_id + 2))
        first.clock.advance(timedelta(days=1, hours=8))  # past the first class
        before = first.classes()

    with WizIQEmulator(db_path=db) as second, requests.Session() as session:
        api = Api(second, session)
        assert abs((second.clock.now() - (T0 + timedelta(days=1, hours=8))).total_seconds()) < 5
        after = second.classes()
        assert [(c["class_id"], c["status"], c["attendees"]) for c in after] == [
            (c["class_id"], c["status"], c["attendees"]) for c in before
        ]
        assert [c["status"] for c in after] == ["completed", "upcoming", "cancelled"]
        assert second.series()[0]["recurring_summary"] == series.recurring_summary
        # The stored classes still count for 1032; ids go on from where they were.
        clash = api.call("create_recurring", **series_fields(start_time="01/09/2030 10:00", class_occurrence="1"))
        assert b'code="1032"' in clash
        other = responses.parse_create_recurring(
            api.call("create_recurring", **series_fields(start_time="02/01/2030 10:00"))
        )
        assert other.class_master_id == series.class_master_id + 1
        assert other.first_class.class_id > max(c["class_id"] for c in before)


def test_reset_empties_the_file(tmp_path):
    db = tmp_path / "wiziq.sqlite"
    with WizIQEmulator(db_path=db, clock_start=T0) as emu, requests.Session() as session:
        Api(emu, session).call("create_recurring", **series_fields())
        emu.reset()
    with WizIQEmulator(db_path=db) as emu:
        assert emu.classes() == []


def test_stop_and_start_again_keeps_the_url_and_the_classes(tmp_path):
    emulator = WizIQEmulator(clock_start=T0, db_path=tmp_path / "wiziq.sqlite")
    with emulator, requests.Session() as session:
        url = emulator.url
        Api(emulator, session).call("create_recurring", **series_fields())
    with pytest.raises(requests.ConnectionError):
        requests.post(url, timeout=2)
    with emulator, requests.Session() as session:
        assert emulator.url == url
        records = responses.parse_get_data(Api(emulator, session).call("get_data"))
        assert len(records) == 3
        Api(emulator, session).call("cancel", class_id=str(records[0].class_id))
    with WizIQEmulator(db_path=tmp_path / "wiziq.sqlite") as again:  # written through after the restart
        assert [c["status"] for c in again.classes()] == ["cancelled", "upcoming", "upcoming"]
