"""The ``wiziq_emulator`` pytest fixture: a running emulator, ``AIRFLOW_CONN_WIZIQ_DEFAULT`` set to it.

Published through the ``pytest11`` entry point, so any project with the provider installed can use it.
Options come from a marker: ``@pytest.mark.wiziq_emulator(limits=PlanLimits(max_class_minutes=60))``
passes its keyword arguments to :class:`~airflow_provider_wiziq.emulator.server.WizIQEmulator`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_wiziq.emulator.server import WizIQEmulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wiziq_emulator(**options): keyword arguments for the wiziq_emulator fixture's WizIQEmulator",
    )


@pytest.fixture
def wiziq_emulator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WizIQEmulator]:
    """A WizIQ emulator on 127.0.0.1 for one test; the ``wiziq_default`` connection points at it."""
    from airflow_provider_wiziq.emulator.server import WizIQEmulator

    marker = request.node.get_closest_marker("wiziq_emulator")
    options = dict(marker.kwargs) if marker is not None else {}
    with WizIQEmulator(**options) as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", emulator.connection_json)
        yield emulator
