"""WizIQ's signature against the published test vectors (docs/wiziq-api.md §2)."""

from __future__ import annotations

import pytest

from airflow_provider_wiziq.api.protocol.signing import signature, signed_fields, verify

SECRET, ACCESS_KEY, TIMESTAMP = "HU1HDyP3QRB4eM6fIdPr5g==", "G18pttjJhBM=", 1447856244


@pytest.mark.parametrize(
    ("method", "expected"),
    [("add_attendees", "4Yz932bslqYTYCPNDonTGMDoP8E="), ("create_recurring", "lT+w+dgfw7HhOQVyifBIzREwfdQ=")],
)
def test_published_vectors(method, expected):
    assert signature(secret_key=SECRET, access_key=ACCESS_KEY, timestamp=TIMESTAMP, method=method) == expected


def test_the_key_is_the_quote_plus_of_the_secret_not_the_raw_secret():
    raw_key_signature = "wisJvWCBr0Z/2DDvC00WLO991bY="
    made = signature(secret_key=SECRET, access_key=ACCESS_KEY, timestamp=TIMESTAMP, method="add_attendees")
    assert made != raw_key_signature


def test_signed_fields_and_verify_round_trip():
    fields = signed_fields(secret_key=SECRET, access_key=ACCESS_KEY, timestamp=TIMESTAMP, method="get_data")
    assert fields["access_key"] == ACCESS_KEY
    assert fields["timestamp"] == str(TIMESTAMP)
    assert verify(fields, secret_key=SECRET, method="get_data")
    assert not verify(fields, secret_key=SECRET, method="cancel")
    assert not verify({**fields, "timestamp": "x"}, secret_key=SECRET, method="get_data")
    assert not verify({**fields, "signature": ""}, secret_key=SECRET, method="get_data")
