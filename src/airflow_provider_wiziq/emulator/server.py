"""``WizIQEmulator``: a WizIQ Class API server on loopback, run in process or from the command line.

    with WizIQEmulator(access_key="K", secret_key="S", limits=PlanLimits(max_class_minutes=300)) as emu:
        emu.url              # the endpoint, http://127.0.0.1:<port>/apimanager.ashx
        emu.connection_json  # what AIRFLOW_CONN_WIZIQ_DEFAULT takes
        emu.clock.advance(timedelta(hours=2))
        emu.inject_fault("reset_after", method="create_recurring")

Every control-API endpoint is a method here, so tests need no HTTP to steer it.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.request import START_GRACE
from airflow_provider_wiziq.api.protocol.status import wire_status
from airflow_provider_wiziq.emulator import answers, control, methods
from airflow_provider_wiziq.emulator.account import Account
from airflow_provider_wiziq.emulator.clock import EmulatorClock
from airflow_provider_wiziq.emulator.config import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_LANGUAGES,
    DEFAULT_PLAN,
    DEFAULT_SECRET_KEY,
    OUTCOMES,
    TIMESTAMP_WINDOW,
    EmulatorConfig,
)
from airflow_provider_wiziq.emulator.faults import PING_KINDS, Fault, FaultPlan
from airflow_provider_wiziq.emulator.handler import EmulatorHTTPServer, Reply
from airflow_provider_wiziq.emulator.lifecycle import Report, phase, recording
from airflow_provider_wiziq.emulator.pings import StatusPinger
from airflow_provider_wiziq.emulator.requestlog import RecordedRequest, RequestLog, without_signature
from airflow_provider_wiziq.emulator.store import Store, StoredClass, as_dict
from airflow_provider_wiziq.emulator.xmlwriter import element

log = logging.getLogger(__name__)

_HTML_ERROR = (
    "<!DOCTYPE html>\n<html><head><title>{status} Error</title></head>"
    "<body><h1>{status} Error</h1><p>The proxy server received an invalid response.</p></body></html>\n"
)
_TEXT_ERRORS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    429: "Too Many Requests",
}


class WizIQEmulator:
    """A WizIQ server with a controllable clock, fault injection and a request log."""

    def __init__(
        self,
        *,
        access_key: str = DEFAULT_ACCESS_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        limits: PlanLimits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        db_path: str | Path | None = None,
        clock_start: datetime | None = None,
        report_delay: float = 300.0,
        start_grace: float = START_GRACE.total_seconds(),
        default_outcome: str = "completed",
        timestamp_window: int | None = TIMESTAMP_WINDOW,
        accept_host_time: bool = True,
        languages: frozenset[str] | set[str] | None = None,
        latency: float = 0.0,
        ping_interval: float = 0.1,
    ) -> None:
        self._initial_config = EmulatorConfig(
            access_key=access_key,
            secret_key=secret_key,
            limits=DEFAULT_PLAN if limits is None else limits,
            timestamp_window=timestamp_window,
            accept_host_time=accept_host_time,
            report_delay=report_delay,
            start_grace=start_grace,
            default_outcome=default_outcome,
            languages=frozenset(languages) if languages is not None else DEFAULT_LANGUAGES,
        )
        self._address = (host, port)
        self._initial_latency = latency
        self._clock_start = clock_start
        self._latency = latency
        self.stopping = threading.Event()
        self.store = Store(db_path)
        saved_offset = self.store.get_meta("clock_offset")
        if clock_start is None and saved_offset is not None:
            self.clock = EmulatorClock(offset=float(saved_offset))
        else:
            self.clock = EmulatorClock(clock_start)
        self.pinger = StatusPinger(self.store, self.clock.now, interval=ping_interval)
        self.account = Account(self._initial_config, self.clock, self.store, self.pinger, lambda: self.base_url)
        self._faults = FaultPlan()
        self._log = RequestLog()
        self._httpd: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.clock.subscribe(self._clock_moved)

    # Running --------------------------------------------------------------------------------------------

    def start(self) -> WizIQEmulator:
        """Bind the port (the same one as before, on a restart) and serve from a background thread."""
        if self._httpd is not None:
            return self
        self.stopping.clear()
        self.store.open()
        self._httpd = EmulatorHTTPServer(self._address, self)
        self._address = (self._address[0], self._httpd.server_address[1])  # a restart keeps the port
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="wiziq-emulator",
            daemon=True,
        )
        self._thread.start()
        self.pinger.start()
        log.info("WizIQ emulator serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, end open connections, stop the ping threads, close the database.

        The classes stay in memory: ``start()`` serves them again, on the same port.
        """
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            self.stopping.set()
            httpd.close_connections()
            httpd.server_close()
            assert self._thread is not None
            self._thread.join()
            self.pinger.stop()
            log.info("WizIQ emulator stopped")
        self.store.close()

    def __enter__(self) -> WizIQEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # Where it is ----------------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._bound()[0])

    @property
    def port(self) -> int:
        return int(self._bound()[1])

    def _bound(self) -> tuple[Any, ...]:
        if self._httpd is None:
            raise RuntimeError("the WizIQ emulator is not running: use it as a context manager or call start()")
        return tuple(self._httpd.server_address)

    @property
    def base_url(self) -> str:
        host = self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The API endpoint, as a WizIQ connection's host takes it."""
        return f"{self.base_url}/apimanager.ashx"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_emulator"

    @property
    def access_key(self) -> str:
        return self.config.access_key

    @property
    def secret_key(self) -> str:
        return self.config.secret_key

    @property
    def connection(self) -> dict[str, str]:
        """An Airflow connection for this emulator (type ``wiziq``), as a dict."""
        return {"conn_type": "wiziq", "host": self.url, "login": self.access_key, "password": self.secret_key}

    @property
    def connection_uri(self) -> str:
        """The same connection as an Airflow URI (the host percent-encoded: it holds a scheme and a path)."""
        login, password, host = (quote(item, safe="") for item in (self.access_key, self.secret_key, self.url))
        return f"wiziq://{login}:{password}@{host}"

    @property
    def connection_json(self) -> str:
        """What ``AIRFLOW_CONN_WIZIQ_DEFAULT`` takes (it holds the secret key: do not log it)."""
        return json.dumps(self.connection)

    # Settings -------------------------------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        return self.account.config

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Change settings while running: plan limits by name (``max_class_minutes``), ``report_delay``..."""
        self.account.config = self.account.config.updated(changes)
        return self.account.config

    @property
    def limits(self) -> PlanLimits:
        return self.account.config.limits

    @limits.setter
    def limits(self, limits: PlanLimits) -> None:
        self.account.config = self.account.config.updated(
            {name: getattr(limits, name) for name in PlanLimits.__dataclass_fields__}
        )

    @property
    def latency(self) -> float:
        return self._latency

    def set_latency(self, seconds: float) -> None:
        """Wait this long before handling each API call (no lock is held: calls still run side by side)."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        self._latency = float(seconds)

    # Faults ---------------------------------------------------------------------------------------------

    def inject_fault(
        self,
        kind: str,
        count: int = 1,
        method: str | None = None,
        seconds: float = 1.0,
        retry_after: int = 1,
        status: int | None = None,
    ) -> Fault:
        """Make the next ``count`` API calls (of ``method`` only, if given) meet the fault ``kind``; a ``ping_*``
        kind applies to the next ``count`` status pings instead."""
        fault = Fault(kind, int(count), method, float(seconds), int(retry_after), status)
        return (self.pinger.faults if kind in PING_KINDS else self._faults).add(fault)

    def faults(self) -> list[Fault]:
        return self._faults.pending() + self.pinger.faults.pending()

    def clear_faults(self) -> None:
        self._faults.clear()
        self.pinger.faults.clear()

    # What happened --------------------------------------------------------------------------------------

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """The calls received, oldest first: method, time, fields (no signature), fault, error_code."""
        return [item.as_dict() for item in self._log.list(method)]

    def clear_requests(self) -> None:
        self._log.clear()

    def classes(self, class_master_id: int | None = None) -> list[dict[str, Any]]:
        """Every stored class (or a series' classes) with its status now."""
        with self.store.atomic():
            found = self.store.all_classes() if class_master_id is None else self.store.classes_of(class_master_id)
            return [self._class_dict(cls) for cls in found]

    def get_class(self, class_id: int) -> dict[str, Any]:
        with self.store.atomic():
            cls = self.store.get(class_id)
            if cls is None:
                raise LookupError(f"no class {class_id}")
            return self._class_dict(cls)

    def recording_status(self, class_id: int, recording_format: str) -> bytes:
        """The status document of class ``class_id``'s recording download (``download_recording`` links to it)."""
        with self.store.atomic():
            cls = self.store.get(class_id)
            if cls is None:
                raise LookupError(f"no class {class_id}")
            links = answers.Links(self.base_url)
            return answers.recording_status(cls, links, self.clock.now(), self.config.report_delay, recording_format)

    def recording_package(self, class_id: int, recording_format: str) -> bytes:
        """A stand-in for the recording's package (a small zip, or bytes for ``exe``), once it is ready."""
        with self.store.atomic():
            cls = self.store.get(class_id)
            ready = cls is not None and recording(cls, self.clock.now(), self.config.report_delay) is Report.AVAILABLE
            title = cls.title if cls is not None else ""
        if not ready:
            raise LookupError(f"no recording of class {class_id} is ready")
        note = f"Recording of class {class_id} ({title}): a stand-in served by the local WizIQ emulator.\n"
        if recording_format != "zip":
            return note.encode()
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("README.txt", note)
        return package.getvalue()

    def series(self) -> list[dict[str, Any]]:
        return [self.get_series(item.class_master_id) for item in self.store.all_series()]

    def get_series(self, class_master_id: int) -> dict[str, Any]:
        found = self.store.get_series(class_master_id)
        if found is None:
            raise LookupError(f"no series {class_master_id}")
        return {
            "class_master_id": found.class_master_id,
            "class_ids": list(found.class_ids),
            "recurring_summary": found.recurring_summary,
            "params": dict(found.params),
            "created_at": found.created_at.isoformat(),
        }

    def _class_dict(self, cls: StoredClass) -> dict[str, Any]:
        data = as_dict(cls)
        current = phase(cls, self.clock.now())
        data.update(status=current.value, wire_status=wire_status(current), utc_end=cls.utc_end.isoformat())
        return data

    def set_outcome(self, class_id: int, outcome: str) -> dict[str, Any]:
        """How the class ends: ``completed`` (held) or ``expired`` (never held)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with self.store.atomic():
            cls = self.store.get(class_id)
            if cls is None:
                raise LookupError(f"no class {class_id}")
            cls.outcome = outcome
            self.store.save(cls)
        self.pinger.poke()
        return self.get_class(class_id)

    def pings(self) -> list[dict[str, Any]]:
        """The status pings sent so far, with whether each was delivered."""
        return [ping.as_dict() for ping in self.pinger.sent()]

    def wait_for_pings(self, timeout: float = 5.0) -> bool:
        """Look for status changes now and wait until their pings are delivered; False on timeout."""
        return self.pinger.wait(timeout)

    def reset(self) -> None:
        """Back to a fresh start: no classes, faults or recorded calls; clock and settings as at creation."""
        self.clear_faults()
        self.clear_requests()
        self._latency = self._initial_latency
        self.account.config = self._initial_config
        self.store.clear()
        self.pinger.clear()
        if self._clock_start is not None:
            self.clock.set(self._clock_start)
        else:
            self.clock.reset()

    def describe(self) -> dict[str, Any]:
        """An overview for the control API's root."""
        return {
            "url": self.url,
            "control_url": self.control_url,
            "now": self.clock.now().isoformat(),
            "clock_offset_seconds": self.clock.offset,
            "classes": len(self.store),
            "series": len(self.store.all_series()),
            "latency": self._latency,
            "faults": [fault.as_dict() for fault in self.faults()],
            "persistent": self.store.persistent,
            "config": self.config.public(),
        }

    # Serving (called by the HTTP handler) -----------------------------------------------------------------

    def api_call(self, path: str, method: str | None, fields: dict[str, str]) -> Reply:
        """One WizIQ call: latency, then the next matching fault, then the method itself (unless the fault
        answers first); the call is recorded either way."""
        if self._latency > 0:
            self.stopping.wait(self._latency)
        fault = self._faults.take(method)
        error_code = None
        committed = fault is None or fault.commits
        if committed:
            outcome = methods.handle(self.account, method, fields)
            error_code = outcome.error_code
            reply = Reply(body=outcome.body)
        else:
            reply = Reply()
        if fault is not None:
            reply = _faulty(fault, reply.body, method or "")
            log.info("WizIQ emulator: fault %s on %s", fault.kind, method)
        self._log.record(
            RecordedRequest(
                method,
                self.clock.now(),
                without_signature(fields),
                path,
                fault.kind if fault else None,
                committed,
                error_code,
            )
        )
        return reply

    def control(self, verb: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        return control.handle(self, verb, path, query, body)

    def _clock_moved(self) -> None:
        self.store.set_meta("clock_offset", repr(self.clock.offset))
        self.pinger.poke()


def _faulty(fault: Fault, body: bytes, method: str) -> Reply:
    """The broken answer a fault asks for (``body`` is the real answer when the fault commits)."""
    kind = fault.kind
    if kind == "ignored":
        return Reply(body=answers.success(method, element(method, status="true")))
    if kind in ("reset_before", "reset_after"):
        return Reply(action="reset")
    if kind == "delay":
        return Reply(body=body, delay=fault.seconds)
    if kind == "malformed":
        return Reply(body=body[: len(body) // 2])
    if kind == "truncated":
        return Reply(body=body, action="truncate")
    status = fault.http_status
    if kind == "html":
        return Reply(status, _HTML_ERROR.format(status=status).encode(), "text/html; charset=utf-8")
    headers = {"Retry-After": str(fault.retry_after)} if status == 429 else {}
    text = f"{status} {_TEXT_ERRORS.get(status, 'Error')}\n".encode()
    return Reply(status, text, "text/plain; charset=utf-8", headers)


__all__ = ["WizIQEmulator"]
