"""The contract is what ``__all__`` lists: every public module has one, and every name in it exists."""

from __future__ import annotations

import importlib

import pytest

#: Modules users import from (the hook, operators, sensor, triggers, emulator, errors, the request model).
CONTRACT = {
    "airflow_provider_wiziq.hooks.wiziq": {"WizIQHook"},
    "airflow_provider_wiziq.operators.wiziq": {
        "CreateRecurringClassOperator",
        "CreateRecurringClassesOperator",
        "SyncTermOperator",
    },
    "airflow_provider_wiziq.operators.series": {"CreateRecurringClassOperator"},
    "airflow_provider_wiziq.operators.bulk": {"CreateRecurringClassesOperator"},
    "airflow_provider_wiziq.operators.cancel": {"WizIQCancelClassOperator"},
    "airflow_provider_wiziq.operators.enrollment": {"WizIQAddAttendeesOperator", "WizIQAttendanceReportOperator"},
    "airflow_provider_wiziq.sensors.wiziq": {"WizIQClassStatusSensor"},
    "airflow_provider_wiziq.triggers.wiziq": {"WizIQClassStatusTrigger"},
    "airflow_provider_wiziq.emulator": {"WizIQEmulator"},
    "airflow_provider_wiziq.api.protocol.errors": {"WizIQError", "WizIQAPIError", "Code", "ERROR_CODES"},
    "airflow_provider_wiziq.api.protocol.request": {"CreateClassRequest", "CreateRecurringRequest"},
    "airflow_provider_wiziq.api.rules.recurrence": {"RecurrenceRule", "expand"},
    "airflow_provider_wiziq.api.protocol.responses": {"ClassRecord", "RecurringSeries"},
    "airflow_provider_wiziq.api.engine.stores": {"MemoryStore", "FsspecStore", "CountingStore", "UnreadableValueError"},
    "airflow_provider_wiziq.stores": {"variable_store", "object_store"},
    "airflow_provider_wiziq.oneroster": {"read_oneroster"},
    "airflow_provider_wiziq.cli": {"main"},
    "airflow_provider_wiziq.api.rules.packing": {"pack", "Series", "SingleClass"},
    "airflow_provider_wiziq.api.rules.calendar": {"read_calendar", "cycle_dates"},
    "airflow_provider_wiziq.api.rules.dates": {"read_class_dates", "classes_on"},
    "airflow_provider_wiziq.approval": {"approved_fingerprints", "read_approval", "plan_markdown"},
}


@pytest.mark.parametrize(("module", "required"), sorted(CONTRACT.items()))
def test_public_module_lists_its_contract(module: str, required: set[str]) -> None:
    loaded = importlib.import_module(module)
    listed = getattr(loaded, "__all__", None)
    assert listed is not None, f"{module} has no __all__"
    assert len(set(listed)) == len(listed)
    assert required <= set(listed), f"{module}.__all__ misses {sorted(required - set(listed))}"
    for name in listed:
        assert hasattr(loaded, name), f"{module}.__all__ lists {name}, which it does not define"
