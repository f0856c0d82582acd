"""The secret key and the request signatures appear nowhere: not in task logs, XComs, rendered template
fields, exception texts, or anywhere in the metadata database.

Both example DAGs run with Airflow's production logging (``airflow.sdk.log.configure_logging()``, which
masks registered secrets), once with faults that the provider recovers from, and once with a wrong secret
key, which fails. The secret is distinctive and changes under URL quoting, so the quoted form (the signing
key) is looked for too. Signatures are computed from what the emulator recorded (access key, timestamp,
method), with the right and the wrong key.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import pytest

from airflow_provider_wiziq._compat import AirflowException
from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.api.protocol.signing import signature
from airflow_provider_wiziq.emulator import WizIQEmulator
from tests.dagtest import dag_bag, run_dag
from tests.reliability.support import wiziq_connection

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
ACCESS_KEY = "hygiene-access-key"
SECRET = "Hy9+gIeNe/s3cr3t=K3y&x%2F"
WRONG_SECRET = "Wr0ng+Hy9/s3cr3t=K3y&"
EXTRAS = {"read_timeout": 5, "max_retries": 2, "backoff_initial": 0.01, "backoff_max": 0.05}
#: A signature is base64 of a 20-byte HMAC-SHA1: 27 characters and one '='; or the same URL-quoted.
_SIGNATURE_LIKE = re.compile(r"[A-Za-z0-9+/]{27}=")
_QUOTED_SIGNATURE_LIKE = re.compile(r"(?:[A-Za-z0-9]|%2[BbFf]){27,81}%3[Dd]")


@pytest.fixture(scope="module")
def example_bag() -> Any:
    return dag_bag(dag_folder=EXAMPLES)


@pytest.fixture(scope="module")
def production_logging() -> None:
    """Airflow's own logging set-up, secret masking included, as a task runner has it."""
    from airflow.sdk.log import configure_logging

    # Written to the process's real stdout (fd 1), which capfd captures, rather than to a capture object
    # that is closed after this module.
    configure_logging(output=sys.__stdout__)


class Evidence:
    """Everything the runs produced that someone could read: log text, exceptions, and recorded requests."""

    def __init__(self) -> None:
        self.exceptions: list[BaseException] = []
        self.log_lines: list[str] = []

    def texts(self) -> Iterator[tuple[str, str]]:
        for error in self.exceptions:
            yield (
                f"exception {type(error).__name__}",
                str(error) + repr(error) + "".join(traceback.format_exception(error)),
            )
        yield "log records (DEBUG, unmasked)", "\n".join(self.log_lines)


class _Collect(logging.Handler):
    def __init__(self, evidence: Evidence) -> None:
        super().__init__(logging.DEBUG)
        self.evidence = evidence

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        self.evidence.log_lines.append(text)


@pytest.fixture
def evidence(monkeypatch) -> Iterator[Evidence]:
    """Records every WizIQ and Airflow exception created, and every log record at DEBUG, before masking."""
    found = Evidence()
    for kind in (WizIQError, AirflowException):
        original = kind.__init__

        def recording(self: BaseException, *args: Any, _original: Any = original, **kwargs: Any) -> None:
            _original(self, *args, **kwargs)
            found.exceptions.append(self)

        monkeypatch.setattr(kind, "__init__", recording)
    handler = _Collect(found)
    loggers = [logging.getLogger(name) for name in ("", "airflow.task", "airflow_provider_wiziq")]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.addHandler(handler)
    logging.getLogger("airflow_provider_wiziq").setLevel(logging.DEBUG)
    try:
        yield found
    finally:
        for logger, level in levels.items():
            logger.removeHandler(handler)
            logger.setLevel(level)


def forbidden(emulator: WizIQEmulator, secrets: list[str]) -> tuple[dict[str, str], set[str]]:
    """The secrets in every spelling a leak could take, and every signature any request carried."""
    spelled = {}
    for number, secret in enumerate(secrets):
        for how, text in (("raw", secret), ("quote_plus", quote_plus(secret)), ("quote", quote(secret, safe=""))):
            spelled[f"secret {number} ({how})"] = text
    signatures = set()
    for request in emulator.requests():
        fields = request["fields"]
        assert "signature" not in fields
        for secret in secrets:
            signatures.add(
                signature(
                    secret_key=secret,
                    access_key=fields["access_key"],
                    timestamp=int(fields["timestamp"]),
                    method=request["method"],
                )
            )
    accepted = [r for r in emulator.requests() if r["error_code"] != 403]
    assert all(r["fields"]["access_key"] == ACCESS_KEY for r in accepted)
    return spelled, signatures


def leaks(where: str, text: str, spelled: dict[str, str], signatures: set[str]) -> list[str]:
    found = [f"{name} in {where}" for name, secret in spelled.items() if secret in text]
    tokens = set(_SIGNATURE_LIKE.findall(text))
    tokens |= {unquote_plus(token) for token in _QUOTED_SIGNATURE_LIKE.findall(text)}
    found += [f"a request signature in {where}" for _ in tokens & signatures]
    return found


def stored_texts(dag_id: str, run_id: str) -> Iterator[tuple[str, str]]:
    """Every XCom, rendered template field and task instance row of the run, and the database file itself."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        xcoms = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run_id))
        xcom_texts = [f"{x.task_id}[{x.map_index}].{x.key}={x.value!r}" for x in xcoms]
        rendered = session.scalars(
            select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == dag_id, RenderedTaskInstanceFields.run_id == run_id
            )
        )
        rendered_texts = [f"{r.task_id}[{r.map_index}]={json.dumps(r.rendered_fields, default=str)}" for r in rendered]
        instances = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        )
        instance_texts = [f"{ti.task_id}: {ti.next_kwargs!r} {ti.rendered_map_index!r}" for ti in instances]
    assert xcom_texts, "no XCom was stored: the scan would prove nothing"
    assert any("create_series" in text for text in rendered_texts), "no rendered fields were stored"
    yield "XCom values", "\n".join(xcom_texts)
    yield "rendered template fields", "\n".join(rendered_texts)
    yield "task instances", "\n".join(instance_texts)
    from airflow.configuration import conf

    database = conf.get("database", "sql_alchemy_conn").removeprefix("sqlite:///")
    if Path(database).is_file():
        yield "the metadata database file", Path(database).read_bytes().decode("latin-1")
    logs = Path(conf.get("logging", "base_log_folder"))
    if logs.is_dir():
        for path in logs.rglob("*"):
            if path.is_file():
                yield f"log file {path.name}", path.read_bytes().decode("utf-8", "replace")


def fast_retries(dag: Any) -> None:
    """The create task retries at once (dag.test() would otherwise wait out the five-minute retry delay)."""
    task = dag.get_task("create_series")
    if hasattr(task, "partial_kwargs"):
        task.partial_kwargs["retry_delay"] = timedelta(0)
    else:
        task.retry_delay = timedelta(0)


def drive_enrollment(emulator: WizIQEmulator, faults: bool, stop: threading.Event) -> None:
    """Once the roster is enrolled (for real, not a faulted attempt), break get_data for a moment and move
    the clock past the first class and its report delay, as test_example_dags does."""
    while not stop.is_set():
        done = [r for r in emulator.requests("add_attendees") if r["fault"] is None and r["error_code"] is None]
        if done:
            break
        time.sleep(0.02)
    if stop.is_set():
        return
    if faults:
        emulator.inject_fault("http_503", count=3, method="get_data")
    first = min(emulator.classes(), key=lambda cls: cls["utc_start"])
    emulator.clock.set(datetime.fromisoformat(first["utc_end"]) + timedelta(seconds=emulator.config.report_delay + 1))


FAULTS = {
    "wiziq_term_provisioning": [
        ("reset_after", 1, "create_recurring"),
        ("html", 1, "create_recurring"),
        ("http_500", 3, "view_schedule"),
    ],
    # A lost create answer is settled in its own try (the series is found and adopted); a 503 makes Airflow retry.
    "wiziq_enrollment_pipeline": [("http_503", 1, "create_recurring"), ("malformed", 1, "add_attendees")],
}
SERIES = {"wiziq_term_provisioning": 40, "wiziq_enrollment_pipeline": 1}


@pytest.mark.parametrize("scenario", ["faults", "wrong_secret"])
@pytest.mark.parametrize("dag_id", ["wiziq_term_provisioning", "wiziq_enrollment_pipeline"])
def test_no_secret_or_signature_anywhere(
    example_bag, production_logging, evidence, capfd, caplog, tmp_path, dag_id, scenario
):
    dag = example_bag.dags[dag_id]
    fast_retries(dag)
    if dag_id == "wiziq_enrollment_pipeline":
        dag.get_task("wait_for_first_class").poke_interval = 0.1
    password = SECRET if scenario == "faults" else WRONG_SECRET
    with (
        WizIQEmulator(access_key=ACCESS_KEY, secret_key=SECRET) as emu,
        wiziq_connection(
            "wiziq_default", {"host": emu.url, "login": ACCESS_KEY, "password": password, "extra": EXTRAS}
        ),
    ):
        if scenario == "faults":
            for kind, count, method in FAULTS[dag_id]:
                emu.inject_fault(kind, count=count, method=method)
        stop = threading.Event()
        mover = threading.Thread(target=drive_enrollment, args=(emu, scenario == "faults", stop), daemon=True)
        if dag_id == "wiziq_enrollment_pipeline":
            mover.start()
        capfd.readouterr()
        try:
            conf = {"report_dir": str(tmp_path)} if dag_id == "wiziq_term_provisioning" else {}
            dag_run = run_dag(dag, run_conf=conf)
        finally:
            stop.set()
            if mover.ident is not None:
                mover.join()
        sys.__stdout__.flush()
        captured = capfd.readouterr()
        spelled, signatures = forbidden(emu, [SECRET, WRONG_SECRET])
        series = emu.series()
        pending = emu.faults()
        calls = emu.requests()

    output = captured.out + captured.err + caplog.text
    if scenario == "faults":
        assert dag_run.state == "success"
        assert len(series) == SERIES[dag_id], "a series was lost or booked twice"
        assert pending == [], "not every fault was met"
        assert any(ti.try_number > 1 for ti in dag_run.get_task_instances()), "no task was retried"
    else:
        assert dag_run.state == "failed"
        assert series == []
        assert "WizIQ error 403" in output
        assert {call["error_code"] for call in calls} == {403}
    # One signature per (timestamp, method) and key: calls in the same second share one.
    assert calls and len(signatures) == 2 * len({(c["fields"]["timestamp"], c["method"]) for c in calls})
    assert "create_series" in output, "the task logs were not captured"

    found: list[str] = []
    for where, text in [
        ("task logs and console output", output),
        *evidence.texts(),
        *stored_texts(dag_id, dag_run.run_id),
    ]:
        found += leaks(where, text, spelled, signatures)
    assert found == [], f"secrets leaked: {sorted(set(found))}"
