"""The five-state class status model read from get_data records (docs/wiziq-api.md §6)."""

from __future__ import annotations

import pytest

from airflow_provider_wiziq.api.protocol.responses import ClassRecord
from airflow_provider_wiziq.api.protocol.status import ClassStatus, class_status


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"class_id": "1", "status": "upcoming", "time_to_start": "30"}, ClassStatus.UPCOMING),
        ({"class_id": "1", "status": "upcoming", "time_to_start": "-1"}, ClassStatus.LIVE),
        ({"class_id": "1", "status": "Completed", "time_to_start": "0"}, ClassStatus.COMPLETED),
        ({"class_id": "1", "status": "expired"}, ClassStatus.EXPIRED),
        ({"class_id": "1", "time_to_start": "0"}, ClassStatus.CANCELLED),
        ({"class_id": "1", "status": ""}, ClassStatus.CANCELLED),
    ],
)
def test_record_to_status(fields, expected):
    assert class_status(ClassRecord(fields)) is expected


def test_unknown_status_is_an_error():
    with pytest.raises(ValueError, match="unknown class status 'paused'"):
        class_status(ClassRecord({"class_id": "1", "status": "paused"}))


def test_terminal_statuses():
    assert {s for s in ClassStatus if s.is_terminal} == {
        ClassStatus.COMPLETED,
        ClassStatus.EXPIRED,
        ClassStatus.CANCELLED,
    }


def test_parse_many():
    assert ClassStatus.parse_many("Completed") == {ClassStatus.COMPLETED}
    assert ClassStatus.parse_many(["live", ClassStatus.COMPLETED]) == {ClassStatus.LIVE, ClassStatus.COMPLETED}
    with pytest.raises(ValueError, match="'done' is not a class status"):
        ClassStatus.parse_many(["done"])
    with pytest.raises(ValueError, match="at least one"):
        ClassStatus.parse_many([])
