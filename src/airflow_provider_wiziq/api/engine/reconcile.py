"""Reading back what the server holds: paged listings, a series' schedule, and a series whose answer was lost.

``create_recurring`` has no idempotency key, so a caller that does not know whether its series was created
looks for it (:func:`find_series`, by the one "same series" rule of :mod:`.identity`) before creating it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from airflow_provider_wiziq.api.protocol.calls import MAX_PAGE_SIZE
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQResponseError, is_no_record
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.responses import ClassRecord, ScheduleEntry
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.api.rules.identity import LOOKUP_COLUMNS, AccountIndex, identity_of
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass

log = logging.getLogger(__name__)
T = TypeVar("T")


#: The most pages one listing of the account is read to (100 classes a page: 100,000 classes).
MAX_SCAN_PAGES = 1000


def paged(
    fetch: Callable[[int], Sequence[T]],
    *,
    none_is_empty: bool,
    max_pages: int = MAX_SCAN_PAGES,
    ident: Callable[[T], Hashable] | None = None,
    what: str = "listing",
) -> Iterator[T]:
    """Every item of a paged WizIQ listing read ``MAX_PAGE_SIZE`` at a time; a page past the end answers 1013.

    ``none_is_empty``: a 1013 on the first page means an empty listing (else it is raised: an unknown id).
    The listing stops with an error naming the page when it runs past ``max_pages`` or when a page holds only
    items of earlier pages (``ident`` names an item: a server that ignores ``page_number`` repeats its first).
    """
    page = 1
    seen: set[Hashable] = set()
    while True:
        if page > max_pages:
            raise _endless(f"the {what} goes on past {max_pages} pages (stopped at page {page})")
        try:
            batch = fetch(page)
        except WizIQAPIError as error:
            if is_no_record(error) and (none_is_empty or page > 1):
                return
            raise
        if ident is not None and batch:
            names = {ident(item) for item in batch}
            if names <= seen:
                raise _endless(f"page {page} of the {what} repeats items of earlier pages (is page_number ignored?)")
            seen |= names
        yield from batch
        if len(batch) < MAX_PAGE_SIZE:
            return
        page += 1


def _endless(reason: str) -> WizIQResponseError:
    error = WizIQResponseError(reason, method="get_data")
    error.transient = False
    return error


def paged_records(
    client: WizIQClient, columns: Iterable[str] = LOOKUP_COLUMNS, *, max_pages: int = MAX_SCAN_PAGES
) -> Iterator[ClassRecord]:
    """Every class of the account (``get_data`` with no filter, 100 a page; a page past the end is 1013)."""
    names = tuple(columns)
    return paged(
        lambda page: client.get_data(columns=names, page_size=MAX_PAGE_SIZE, page_number=page),
        none_is_empty=True,
        max_pages=max_pages,
        ident=lambda record: record.class_id,
        what="account's classes",
    )


def scan_account(client: WizIQClient, *, max_pages: int = MAX_SCAN_PAGES) -> AccountIndex:
    """The account's series by identity, from one read of every class of the account."""
    index = AccountIndex(paged_records(client, max_pages=max_pages))
    log.info(
        "Read %s (%s) of the WizIQ account",
        counted(index.classes, "class", "classes"),
        counted(index.series, "series", "series"),
    )
    return index


def find_series(client: WizIQClient, request: CreateRecurringRequest, first: ScheduledClass) -> int | None:
    """The ``class_master_id`` of the account's series that ``request`` describes (first class ``first``), or None.

    One scan of the account's classes; the match is :mod:`.identity`'s "same series" rule.
    """
    found = scan_account(client).find(identity_of(request, first.utc_start))
    if found is not None:
        log.info("Found series %s already on WizIQ for %r", found, request.title)
    return found


def read_schedule(client: WizIQClient, class_master_id: int) -> tuple[ScheduleEntry, ...]:
    """Every class of a series, in order, reading ``view_schedule`` page by page."""
    entries = paged(
        lambda page: client.view_schedule(class_master_id, page_size=MAX_PAGE_SIZE, page_number=page),
        none_is_empty=False,
    )
    return tuple(sorted(entries, key=lambda entry: (entry.start_time or datetime.min, entry.class_id)))


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
