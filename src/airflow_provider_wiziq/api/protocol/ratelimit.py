"""A client-side rate limit shared by many threads, which also honours WizIQ's ``429`` / ``Retry-After``.

:class:`TokenBucket` spaces calls at most ``rate`` a second for every thread that takes its tokens, and
``pause`` holds them all until a moment. :class:`RateLimitedSession` is the ``requests.Session`` a
:class:`~airflow_provider_wiziq.api.protocol.client.WizIQClient` sends through: every HTTP request, including the
client's own re-sends after a 429 and the ``get_data`` pages of a lookup, first takes a token, and a 429
answer pauses the bucket, so all workers wait out the server's ``Retry-After`` together, not only the one
that met it. The client still re-sends that call itself (``retry.may_resend``), after its own wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import requests

from airflow_provider_wiziq.api.protocol.retry import retry_after_seconds

log = logging.getLogger(__name__)

#: The longest pause one ``Retry-After`` imposes on everyone. A request is signed before it waits for its
#: token and WizIQ refuses a timestamp 900 s old (403), so a pause must stay well inside that window.
MAX_PAUSE = 300.0
#: The pause after a 429 with no readable ``Retry-After``.
DEFAULT_PAUSE = 1.0


class TokenBucket:
    """At most ``rate`` calls a second (``burst`` of them back to back) across all threads; None: no limit.

    It is the generic cell rate algorithm: one "theoretical arrival time" instead of a token count, so a
    call is either allowed now or told exactly how long to wait. ``clock`` and ``sleep`` are injectable
    so tests can run it on a fake clock.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_pause: float = MAX_PAUSE,
    ) -> None:
        if rate is not None and not rate > 0:
            raise ValueError("rate must be a positive number of calls a second, or None for no limit")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.max_pause = max_pause
        self._interval = 1.0 / rate if rate else 0.0
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = clock()  # when the next call is due at the steady rate
        self._paused_until = float("-inf")
        self.calls = 0  # tokens handed out
        self.pauses = 0  # pause() calls (429 answers seen)

    def delay(self) -> float:
        """Seconds until a token is free (0: now), without taking one."""
        with self._lock:
            return max(0.0, self._ready_at() - self._clock())

    def acquire(self) -> float:
        """Take a token, waiting as long as the rate and any pause require; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                ready = self._ready_at()
                if now >= ready:
                    self._next = max(self._next, now) + self._interval
                    self.calls += 1
                    return waited
            # Sleep outside the lock, then look again: a pause may have begun meanwhile.
            self._sleep(ready - now)
            waited += ready - now

    def pause(self, seconds: float) -> float:
        """Hand out no token for ``seconds`` (at most ``max_pause``), then resume at the steady rate, no burst.

        Returns the pause applied. A shorter pause never cuts a longer one short.
        """
        seconds = min(max(float(seconds), 0.0), self.max_pause)
        with self._lock:
            until = self._clock() + seconds
            if until > self._paused_until:
                self._paused_until = until
                self._next = max(self._next, until + self._tolerance)
            self.pauses += 1
        return seconds

    def _ready_at(self) -> float:
        return max(self._paused_until, self._next - self._tolerance)


class RateLimitedSession(requests.Session):
    """A keep-alive session whose every request first takes a token from ``bucket``; a 429 pauses the bucket.

    Set it up with ``client.configure_session`` and give it to ``WizIQClient(config, session=...)``.
    """

    def __init__(self, bucket: TokenBucket) -> None:
        super().__init__()
        self.bucket = bucket

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.bucket.acquire()
        response = super().send(request, **kwargs)
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            paused = self.bucket.pause(DEFAULT_PAUSE if asked is None else asked)
            log.warning("WizIQ answered 429 Too Many Requests: every worker pauses for %.1f s", paused)
        return response


__all__ = ["DEFAULT_PAUSE", "MAX_PAUSE", "RateLimitedSession", "TokenBucket"]
