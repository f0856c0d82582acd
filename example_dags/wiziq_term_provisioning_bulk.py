"""Provision a school term on WizIQ in one task: every section's recurring series, under a rate limit.

The bulk variant of ``wiziq_term_provisioning``: the same sections (``fall_term_sections.csv``), the same
params and the same report, but one ``CreateRecurringClassesOperator`` task creates every series, at most
``max_concurrency`` calls at a time and ``max_calls_per_second`` calls a second, pausing for WizIQ's 429s. A
retry creates only the sections still missing. See ``docs/scale.md`` for when to use which.

Reading the sections and writing the report are the single-series example's own task functions (loaded from
the file beside this one), so the two variants read and report identically.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator

SECTIONS_CSV = Path(__file__).with_name("fall_term_sections.csv")


@cache
def term_example() -> ModuleType:
    """The single-series example DAG file beside this one, loaded on first use (inside a task, not at parse)."""
    path = Path(__file__).with_name("wiziq_term_provisioning.py")
    spec = importlib.util.spec_from_file_location("wiziq_term_provisioning_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


with DAG(
    dag_id="wiziq_term_provisioning_bulk",
    description="Create every section's WizIQ recurring class series in one rate-limited task, then report them.",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["wiziq", "example"],
    params={
        "sections_csv": str(SECTIONS_CSV),
        "report_dir": os.environ.get("WIZIQ_REPORT_DIR", tempfile.gettempdir()),
        "term_year": None,
    },
) as dag:

    @task
    def read_sections(params: dict[str, Any]) -> list[dict[str, str]]:
        """The term's sections, with the sample term moved to a year that is still ahead."""
        return term_example().read_sections.function(params)

    @task
    def series_specs(sections: list[dict[str, str]]) -> list[dict[str, str]]:
        """One spec per section: its id as the key, then its create_recurring parameters."""
        arguments = term_example().series_arguments.function(sections)
        return [{"key": s["section_id"], **args} for s, args in zip(sections, arguments, strict=True)]

    sections = read_sections()
    created = CreateRecurringClassesOperator(
        task_id="create_series",
        series=series_specs(sections),
        max_concurrency=8,
        max_calls_per_second=20,
        retries=2,
    )

    @task
    def write_report(sections: list[dict[str, str]], created: dict[str, Any], params: dict[str, Any]) -> dict:
        """The same provisioning report as the single-series example: one row per class, one entry per section."""
        series = [created[section["section_id"]] for section in sections]
        return term_example().write_report.function(sections, series, params)

    write_report(sections, created.output)
