"""Every fault the emulator can inject, against every method that matters, through WizIQHook over real HTTP.

The expected outcome of each cell is the table in ``tables.py``; a test checks that table against the
project's own rules (``retry.may_resend`` and which faults commit), and ``docs/reliability.md`` is rendered
from it. After each cell the emulator's store is checked: no series twice, none missing.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wiziq.api.engine.reconcile import find_series
from airflow_provider_wiziq.api.protocol.async_client import AsyncWizIQClient
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.emulator import WizIQEmulator
from airflow_provider_wiziq.hooks.wiziq import WizIQHook
from tests.reliability import tables
from tests.reliability.conftest import CONN_ID
from tests.reliability.support import FAST_EXTRAS, bounded, series_params
from tests.reliability.tables import DELAY_SECONDS, FAULTS, METHODS, RETRY_AFTER, SYMPTOMS, Outcome

ROOT = Path(__file__).resolve().parents[2]
ATTENDEE = {"attendee_id": "s-1", "screen_name": "Ann Lee"}


def test_the_matrix_covers_every_fault_the_issue_names_and_the_emulator_knows():
    named = {"reset_before", "reset_after", "delay", "http_500", "http_502", "http_503", "http_429"}
    named |= {"malformed", "truncated", "html"}
    assert set(FAULTS) == named
    assert set(tables.MATRIX) == set(FAULTS) == set(SYMPTOMS)
    assert all(len(row) == len(METHODS) for row in tables.MATRIX.values())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fault", FAULTS)
def test_the_written_matrix_follows_the_projects_rules(fault, method):
    assert tables.expected(fault, method) is tables.derive(fault, method)


def test_docs_are_generated_from_the_matrix():
    """``WIZIQ_WRITE_DOCS=1`` writes docs/reliability.md; otherwise the committed page must be what we would write."""
    path = ROOT / tables.DOCS_PATH
    page = tables.render_docs()
    if os.environ.get("WIZIQ_WRITE_DOCS") == "1":
        path.write_text(page, encoding="utf-8")
    assert path.is_file(), f"{tables.DOCS_PATH} is missing: run with WIZIQ_WRITE_DOCS=1 to write it"
    assert path.read_text(encoding="utf-8") == page, (
        f"{tables.DOCS_PATH} differs from the tested matrix: run with WIZIQ_WRITE_DOCS=1 to regenerate it"
    )


# ---------------------------------------------------------------------------------------------------------
# The cells
# ---------------------------------------------------------------------------------------------------------


class Cell:
    """One fault x method run: a hook on the matrix connection, a series to act on, the call itself."""

    def __init__(self, emulator: WizIQEmulator, method: str) -> None:
        self.emulator = emulator
        self.method = method
        self.hook = WizIQHook(wiziq_conn_id=CONN_ID)
        self.sleeps: list[float] = []
        # The hook's own client, built from its connection, with its waits recorded (and kept short).
        self.hook.__dict__["client"] = WizIQClient(self.hook.config, sleep=self._sleep)
        self.params = series_params(title=f"Matrix {method}")
        self.master_id: int | None = None
        self.class_id: int | None = None
        if method != "create_recurring":
            series = self.hook.create_recurring(**self.params)
            self.master_id, self.class_id = series.class_master_id, series.first_class.class_id
        self.before = emulator.classes()
        emulator.clear_requests()

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        time.sleep(min(seconds, 0.05))

    def call(self) -> Callable[[], Any]:
        hook = self.hook
        return {
            "create_recurring": lambda: hook.create_recurring(**self.params),
            "get_data": lambda: hook.get_data(class_id=self.class_id),
            "view_schedule": lambda: hook.view_schedule(self.master_id),
            "cancel": lambda: hook.cancel(self.class_id),
            "add_attendees": lambda: hook.add_attendees(self.class_id, [ATTENDEE]),
        }[self.method]

    def check_result(self, result: Any) -> None:
        if self.method == "create_recurring":
            assert [s["class_master_id"] for s in self.emulator.series()] == [result.class_master_id]
        elif self.method == "get_data":
            assert [record.class_id for record in result] == [self.class_id]
        elif self.method == "view_schedule":
            assert [entry.class_id for entry in result] == [c["class_id"] for c in self.before]
        elif self.method == "cancel":
            assert result is True
        else:
            assert [attendee.attendee_id for attendee in result.attendees] == [ATTENDEE["attendee_id"]]

    def check_store(self, outcome: Outcome) -> None:
        """No duplicate and no missing series; the method changed exactly what it should."""
        series = self.emulator.series()
        classes = self.emulator.classes()
        if self.method == "create_recurring":
            stored = 1 if outcome in (Outcome.RECONCILE, Outcome.RESENT, Outcome.WAITED) else 0
            assert len(series) == stored, f"expected {stored} series, the emulator holds {len(series)}"
            assert len(classes) == stored * self.params["class_occurrence"]
            return
        assert [s["class_master_id"] for s in series] == [self.master_id]
        assert [c["class_id"] for c in classes] == [c["class_id"] for c in self.before]
        for was, now in zip(self.before, classes, strict=True):
            if now["class_id"] != self.class_id or self.method in ("get_data", "view_schedule"):
                assert now == was, f"class {now['class_id']} changed"
            elif self.method == "cancel":
                assert now["status"] == "cancelled"
            else:
                assert [a["attendee_id"] for a in now["attendees"]] == [ATTENDEE["attendee_id"]]

    def close(self) -> None:
        self.hook.close()


def _cells() -> list[Any]:
    cells = []
    for fault in FAULTS:
        for method in METHODS:
            gap = tables.KNOWN_GAPS.get((fault, method))
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            cells.append(pytest.param(fault, method, marks=marks, id=f"{fault}-{method}"))
    return cells


@pytest.mark.parametrize(("fault", "method"), _cells())
def test_fault_matrix_cell(fresh, fault, method):
    outcome = tables.expected(fault, method)
    symptom = SYMPTOMS[fault]
    cell = Cell(fresh, method)
    try:
        fresh.inject_fault(fault, method=method, seconds=DELAY_SECONDS, retry_after=RETRY_AFTER)
        finished = bounded(cell.call())
        received = fresh.requests(method)
        assert received[0]["fault"] == fault
        if outcome.succeeds:
            cell.check_result(finished.returned())
            assert [r["fault"] for r in received] == [fault, None], "expected exactly one re-send"
            if outcome is Outcome.WAITED:
                assert cell.sleeps and cell.sleeps[0] >= RETRY_AFTER, "the re-send did not wait for Retry-After"
        else:
            error = finished.raised()
            assert type(error) is symptom.error, f"{type(error).__name__}: {error}"
            assert isinstance(error, WizIQError)
            assert error.transient and error.method == method
            assert re.search(symptom.words, str(error)), str(error)
            # The attributes may_resend reads are those the table's example has (so derive() is grounded).
            example = symptom.example(method)
            for name in ("sent", "status_code"):
                assert getattr(error, name, None) == getattr(example, name, None), name
            assert len(received) == 1, "create_recurring was re-sent after it may have reached the server"
        cell.check_store(outcome)
        if outcome is Outcome.RECONCILE:
            # What the caller does next: the lookup finds the one series the lost answer created.
            request = CreateRecurringRequest.from_params(cell.params)
            found = find_series(cell.hook.client, request, request.validate()[0])
            assert found == fresh.series()[0]["class_master_id"]
    finally:
        cell.close()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("method", ["get_data", "create_recurring"])
def test_a_fault_that_outlasts_the_retries_ends_in_the_last_error_and_changes_nothing(fresh, fault, method):
    attempts = FAST_EXTRAS["max_retries"] + 1
    cell = Cell(fresh, method)
    try:
        fresh.inject_fault(fault, count=attempts, method=method, seconds=DELAY_SECONDS, retry_after=RETRY_AFTER)
        error = bounded(cell.call()).raised()
        assert type(error) is SYMPTOMS[fault].error and error.transient, f"{type(error).__name__}: {error}"
        assert re.search(SYMPTOMS[fault].words, str(error)), str(error)
        received = fresh.requests(method)
        sent = attempts if tables.derive(fault, method).succeeds else 1
        assert [r["fault"] for r in received] == [fault] * sent
        cell.check_store(Outcome.RECONCILE if tables.FAULT_COMMITS[fault] else Outcome.CLEAN)
    finally:
        fresh.clear_faults()
        cell.close()


@pytest.mark.parametrize("method", ["get_data", "view_schedule"])
@pytest.mark.parametrize("fault", FAULTS)
def test_the_async_client_recovers_from_every_fault_like_the_hook(fresh, fault, method):
    """The triggers' client (httpx) on the matrix's read methods: the same outcome as the hook's."""
    config = WizIQHook(wiziq_conn_id=CONN_ID).config
    with WizIQClient(config) as setup:
        series = setup.create_recurring(CreateRecurringRequest.from_params(series_params()))
    fresh.clear_requests()
    fresh.inject_fault(fault, method=method, seconds=DELAY_SECONDS, retry_after=RETRY_AFTER)
    sleeps: list[float] = []

    async def pause(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(min(seconds, 0.05))

    async def call() -> Any:
        async with AsyncWizIQClient(config, sleep=pause) as client:
            if method == "get_data":
                return await client.get_data(class_id=series.first_class.class_id)
            return await client.view_schedule(series.class_master_id)

    result = bounded(lambda: asyncio.run(call())).returned()
    assert len(result) == (1 if method == "get_data" else 3)
    assert [r["fault"] for r in fresh.requests(method)] == [fault, None]
    assert tables.expected(fault, method).succeeds
    if tables.expected(fault, method) is Outcome.WAITED:
        assert sleeps and sleeps[0] >= RETRY_AFTER
