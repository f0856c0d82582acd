"""Fixtures for the reliability tests: one emulator per module, its connection, and hypothesis profiles."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from airflow_provider_wiziq.emulator import WizIQEmulator
from tests.reliability.support import FAST_EXTRAS, wiziq_connection

#: The connection id the reliability tests use (never wiziq_default, which other tests set per test).
CONN_ID = "wiziq_reliability"

# "ci": what the default test run uses; "deep": HYPOTHESIS_PROFILE=deep for a long search before a release.
settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "deep", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)


def hypothesis_profile() -> settings:
    """The profile the property tests run under: ``HYPOTHESIS_PROFILE`` (``ci`` unless set)."""
    return settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def emulator() -> Iterator[WizIQEmulator]:
    """One emulator for the whole module (tests reset it); ``wiziq_reliability`` points at it, failing fast."""
    with WizIQEmulator() as emu, wiziq_connection(CONN_ID, {**emu.connection, "extra": FAST_EXTRAS}):
        yield emu


@pytest.fixture
def fresh(emulator: WizIQEmulator) -> WizIQEmulator:
    """The module's emulator with no classes, faults or recorded calls."""
    emulator.reset()
    return emulator
