"""The emulated WizIQ account: its settings, clock, classes and status pings, as the API methods see them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from airflow_provider_wiziq.api.protocol.status import ClassStatus
from airflow_provider_wiziq.emulator.clock import EmulatorClock
from airflow_provider_wiziq.emulator.config import EmulatorConfig
from airflow_provider_wiziq.emulator.lifecycle import phase
from airflow_provider_wiziq.emulator.pings import StatusPinger
from airflow_provider_wiziq.emulator.store import Store, StoredClass


class Account:
    """What every API method works on. ``config`` is replaced whole (one assignment), never mutated."""

    def __init__(
        self,
        config: EmulatorConfig,
        clock: EmulatorClock,
        store: Store,
        pinger: StatusPinger,
        base_url: Callable[[], str],
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.pinger = pinger
        self._base_url = base_url

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running emulator: links in answers point here."""
        return self._base_url()

    def now(self) -> datetime:
        return self.clock.now()

    def phase(self, cls: StoredClass) -> ClassStatus:
        return phase(cls, self.clock.now())
