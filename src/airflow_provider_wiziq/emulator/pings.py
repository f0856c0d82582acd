"""``status_ping_url``: tell a class's own URL each time its status changes (docs/wiziq-api.md §6).

A scan compares each watched class's status with the last one announced and queues a form POST of
``class_id`` and ``class_status`` for every change (the steps a clock jump skipped included, in order).
Scans run when the clock jumps, when a call changes a class, and every ``interval`` seconds as time
passes. One sender thread delivers the queue, so a slow receiver never holds up an API answer. The ``ping_*``
faults (``faults.py``) drop the next pings or send them with a wrong token.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

from airflow_provider_wiziq.api.protocol.status import ClassStatus
from airflow_provider_wiziq.emulator.faults import FaultPlan
from airflow_provider_wiziq.emulator.lifecycle import phase, steps
from airflow_provider_wiziq.emulator.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Ping:
    """One status change to announce, and how its delivery went (``delivered``/``error`` once sent)."""

    url: str
    class_id: int
    class_status: str
    at: datetime  # the emulator's time when the change was noticed
    delivered: bool | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "class_id": self.class_id,
            "class_status": self.class_status,
            "at": self.at.isoformat(),
            "delivered": self.delivered,
            "error": self.error,
        }


class StatusPinger:
    """Watches classes with a ``status_ping_url`` and posts their status changes from a background thread."""

    def __init__(
        self, store: Store, now: Callable[[], datetime], *, interval: float = 0.1, timeout: float = 2.0
    ) -> None:
        self._store = store
        self._now = now
        self._interval = interval
        self._timeout = timeout
        self._queue: deque[_Ping] = deque()
        self._sent: list[_Ping] = []
        self._pending = 0
        self._condition = threading.Condition()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.faults = FaultPlan()  # ping_drop, ping_bad_token

    def start(self) -> None:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._watch, name="wiziq-emulator-ping-watch", daemon=True),
            threading.Thread(target=self._send_loop, name="wiziq-emulator-ping-send", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._condition:
            self._condition.notify_all()
        for thread in self._threads:
            thread.join(timeout=self._timeout + 1)
        self._threads = []

    def poke(self) -> None:
        """Look for changes now (a clock jump or a call changed something)."""
        self.scan()

    def scan(self) -> int:
        """Queue a ping for every status change since the last scan; returns how many were queued."""
        now = self._now()
        found: list[_Ping] = []
        with self._store.atomic():
            for cls in self._store.watched():
                current = phase(cls, now)
                before = ClassStatus(cls.announced)
                if current is before:
                    continue
                assert cls.status_ping_url is not None
                found.extend(
                    _Ping(cls.status_ping_url, cls.class_id, step.value, now) for step in steps(before, current)
                )
                cls.announced = current.value
                self._store.save(cls)
        if found:
            with self._condition:
                self._queue.extend(found)
                self._pending += len(found)
                self._condition.notify_all()
        return len(found)

    def wait(self, timeout: float = 5.0) -> bool:
        """Scan, then wait until every queued ping has been delivered (or failed); False on timeout."""
        self.scan()
        with self._condition:
            return self._condition.wait_for(lambda: self._pending == 0, timeout=timeout)

    def sent(self) -> list[_Ping]:
        with self._condition:
            return list(self._sent)

    def clear(self) -> None:
        with self._condition:
            self._sent.clear()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.scan()
            except Exception:  # a scan must never kill the watcher
                log.exception("WizIQ emulator: status scan failed")

    def _send_loop(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._queue or self._stop.is_set())
                if self._stop.is_set():
                    return
                ping = self._queue.popleft()
            done = self._deliver(ping)
            with self._condition:
                self._sent.append(done)
                self._pending -= 1
                self._condition.notify_all()

    def _deliver(self, ping: _Ping) -> _Ping:
        body = urlencode({"class_id": ping.class_id, "class_status": ping.class_status}).encode()
        url = ping.url if "://" in ping.url else f"http://{ping.url}"  # the seed's own example has no scheme
        fault = self.faults.take(None)
        if fault is not None and fault.kind == "ping_drop":
            log.info("WizIQ emulator: fault ping_drop: the ping for class %s is not sent", ping.class_id)
            return _Ping(ping.url, ping.class_id, ping.class_status, ping.at, False, "dropped (fault ping_drop)")
        if fault is not None and fault.kind == "ping_bad_token":
            url = _wrong_token(url)
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        try:
            with _opener(url).open(request, timeout=self._timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as error:
            error.close()
            log.warning(
                "WizIQ emulator: status ping for class %s (%s) to %s answered HTTP %s",
                ping.class_id,
                ping.class_status,
                urlsplit(url).hostname,
                error.code,
            )
            return _Ping(ping.url, ping.class_id, ping.class_status, ping.at, False, f"HTTP {error.code}")
        except (OSError, ValueError) as error:
            # The URL is the user's and may hold a token: name only its host.
            log.warning(
                "WizIQ emulator: status ping for class %s (%s) to %s failed: %s",
                ping.class_id,
                ping.class_status,
                urlsplit(url).hostname,
                type(error).__name__,
            )
            return _Ping(ping.url, ping.class_id, ping.class_status, ping.at, False, type(error).__name__)
        log.debug("WizIQ emulator: status ping for class %s: %s", ping.class_id, ping.class_status)
        return _Ping(ping.url, ping.class_id, ping.class_status, ping.at, True)


def _wrong_token(url: str) -> str:
    """``url`` with its ``k`` query parameter (the provider's ping token) replaced by one no secret signed."""
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "k"]
    return parts._replace(query=urlencode([*query, ("k", "forged-" + "0" * 36)])).geturl()


def _opener(url: str) -> urllib.request.OpenerDirector:
    """A loopback receiver (a test's) is reached directly, whatever proxy the environment names."""
    host = urlsplit(url).hostname or ""
    if host in ("localhost", "::1") or host.startswith("127."):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()
