"""Finding out what the server already holds: a series whose create answer was lost, and a read-back check.

``create_recurring`` has no idempotency key, so a caller that does not know whether its series was created
looks for it here (same presenter, title and first start) before creating it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from airflow_provider_wiziq.api.calls import MAX_PAGE_SIZE
from airflow_provider_wiziq.api.client import WizIQClient
from airflow_provider_wiziq.api.errors import WizIQAPIError, is_no_record
from airflow_provider_wiziq.api.recurrence import ScheduledClass
from airflow_provider_wiziq.api.request import CreateRecurringRequest
from airflow_provider_wiziq.api.responses import ClassRecord, ScheduleEntry

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The get_data columns a lookup reads.
LOOKUP_COLUMNS = ("class_id", "class_master_id", "title", "presenter_email", "start_time", "time_zone")


def paged(fetch: Callable[[int], Sequence[T]], *, none_is_empty: bool) -> Iterator[T]:
    """Every item of a paged WizIQ listing read ``MAX_PAGE_SIZE`` at a time; a page past the end answers 1013.

    ``none_is_empty``: a 1013 on the first page means an empty listing (else it is raised: an unknown id).
    """
    page = 1
    while True:
        try:
            batch = fetch(page)
        except WizIQAPIError as error:
            if is_no_record(error) and (none_is_empty or page > 1):
                return
            raise
        yield from batch
        if len(batch) < MAX_PAGE_SIZE:
            return
        page += 1


def account_classes(client: WizIQClient) -> Iterator[ClassRecord]:
    """Every class of the account (``get_data`` with no filter), with the columns a lookup reads."""
    return paged(
        lambda page: client.get_data(columns=LOOKUP_COLUMNS, page_size=MAX_PAGE_SIZE, page_number=page),
        none_is_empty=True,
    )


def find_series(client: WizIQClient, request: CreateRecurringRequest, first: ScheduledClass) -> int | None:
    """The ``class_master_id`` of the account's series that ``request`` describes, or None.

    Reads the account's classes page by page until one is the first class of that series: same title,
    presenter, time zone and first start.
    """
    for record in account_classes(client):
        master = record.fields.get("class_master_id", "").strip()
        if master.isdigit() and is_first_class_of(record, request, first):
            log.info("Found series %s already on WizIQ for %r", master, request.title)
            return int(master)
    return None


def read_schedule(client: WizIQClient, class_master_id: int) -> tuple[ScheduleEntry, ...]:
    """Every class of a series, in order, reading ``view_schedule`` page by page."""
    entries = paged(
        lambda page: client.view_schedule(class_master_id, page_size=MAX_PAGE_SIZE, page_number=page),
        none_is_empty=False,
    )
    return tuple(sorted(entries, key=lambda entry: (entry.start_time or datetime.min, entry.class_id)))


def is_first_class_of(record: ClassRecord, request: CreateRecurringRequest, first: ScheduledClass) -> bool:
    fields = record.fields
    presenter = request.presenter_email or ""
    return (
        fields.get("title", "").strip() == request.title
        and fields.get("presenter_email", "").strip().lower() == presenter.lower()
        and fields.get("time_zone", request.time_zone).strip() == request.time_zone
        and record.start_time in _local_readings(first)
    )


def _local_readings(scheduled: ScheduledClass) -> tuple[datetime, datetime]:
    """The local times a server may report for a class: its real local time, or the wall clock asked for."""
    return scheduled.local_start.replace(tzinfo=None), scheduled.wall_clock


def first_difference(preview: Sequence[ScheduledClass], entries: Sequence[ScheduleEntry]) -> str | None:
    """Where the server's schedule differs from the local preview, in words; None when they agree."""
    for index, (expected, entry) in enumerate(zip(preview, entries, strict=False)):
        if entry.start_time not in _local_readings(expected):
            return (
                f"class {index + 1} (class_id {entry.class_id}) starts at {entry.start_time} on WizIQ, "
                f"the preview says {expected.local_start.isoformat()}"
            )
    if len(preview) != len(entries):
        return f"WizIQ holds {len(entries)} classes, the preview has {len(preview)}"
    return None
