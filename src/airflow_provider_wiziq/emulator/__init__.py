"""A local WizIQ Class API server for tests, demos and users' own CI, the way moto serves AWS.

``WizIQEmulator`` runs it in process (a context manager); ``python -m airflow_provider_wiziq.emulator``
runs it from the command line; the ``wiziq_emulator`` pytest fixture hands one to a test. Names are
imported on first use, so importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_wiziq.emulator.clock import EmulatorClock
    from airflow_provider_wiziq.emulator.config import EmulatorConfig
    from airflow_provider_wiziq.emulator.faults import Fault
    from airflow_provider_wiziq.emulator.server import WizIQEmulator

_EXPORTS = {
    "WizIQEmulator": "airflow_provider_wiziq.emulator.server",
    "EmulatorClock": "airflow_provider_wiziq.emulator.clock",
    "EmulatorConfig": "airflow_provider_wiziq.emulator.config",
    "Fault": "airflow_provider_wiziq.emulator.faults",
}

__all__ = ["EmulatorClock", "EmulatorConfig", "Fault", "WizIQEmulator"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
