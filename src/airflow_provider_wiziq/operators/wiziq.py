"""The provider's operators, under the import path DAGs use: ``airflow_provider_wiziq.operators.wiziq``."""

from __future__ import annotations

from airflow_provider_wiziq.operators.bulk import CreateRecurringClassesOperator
from airflow_provider_wiziq.operators.cancel import WizIQCancelClassOperator
from airflow_provider_wiziq.operators.enrollment import WizIQAddAttendeesOperator, WizIQAttendanceReportOperator
from airflow_provider_wiziq.operators.series import CreateRecurringClassOperator, WizIQClassLink
from airflow_provider_wiziq.operators.sync import SyncTermOperator

__all__ = [
    "CreateRecurringClassOperator",
    "CreateRecurringClassesOperator",
    "SyncTermOperator",
    "WizIQAddAttendeesOperator",
    "WizIQAttendanceReportOperator",
    "WizIQCancelClassOperator",
    "WizIQClassLink",
]
