"""Looking up many series at once: one scan of the account's classes answers every lookup.

:func:`~airflow_provider_wiziq.api.reconcile.find_series` pages through the whole account to find one series.
A bulk retry that must look up hundreds reads those pages once into a :class:`SeriesIndex` and asks it; the
match is reconcile's own rule (same title, presenter, time zone and first start), so both agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from airflow_provider_wiziq.api.client import WizIQClient
from airflow_provider_wiziq.api.reconcile import account_classes, is_first_class_of
from airflow_provider_wiziq.api.recurrence import ScheduledClass
from airflow_provider_wiziq.api.request import CreateRecurringRequest
from airflow_provider_wiziq.api.responses import ClassRecord

log = logging.getLogger(__name__)


class SeriesIndex:
    """The account's classes grouped by title and presenter, for finding a series' ``class_master_id``."""

    def __init__(self, records: Iterable[ClassRecord]) -> None:
        self.classes = 0
        self._groups: dict[tuple[str, str], list[ClassRecord]] = {}
        for record in records:
            self.classes += 1
            fields = record.fields
            group = (fields.get("title", "").strip(), fields.get("presenter_email", "").strip().lower())
            self._groups.setdefault(group, []).append(record)

    @classmethod
    def scan(cls, client: WizIQClient) -> SeriesIndex:
        """Read every class of the account once (``get_data`` with no filter, 100 a page)."""
        index = cls(account_classes(client))
        log.info("Read %d classes of the WizIQ account", index.classes)
        return index

    def find(self, request: CreateRecurringRequest, first: ScheduledClass) -> int | None:
        """The ``class_master_id`` of the series ``request`` describes (``first`` is its first class), or None."""
        group = (request.title, (request.presenter_email or "").lower())
        for record in self._groups.get(group, ()):
            if is_first_class_of(record, request, first):
                master = record.fields.get("class_master_id", "").strip()
                if master.isdigit():
                    return int(master)
        return None


__all__ = ["SeriesIndex"]
