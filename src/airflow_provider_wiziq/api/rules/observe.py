"""What WizIQ showed of a term, read against its ledger (no I/O): each tracked class as WizIQ shows it, whether a
record still is the ledger's class, and whether WizIQ holds what was sent last."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from airflow_provider_wiziq.api.protocol.responses import ClassRecord
from airflow_provider_wiziq.api.rules.identity import AccountIndex, master_id, presenter_key, record_instant
from airflow_provider_wiziq.api.rules.state import CANCELLED_ON_WIZIQ, LOST, SCHEDULED, LedgerClass, SectionEntry
from airflow_provider_wiziq.api.rules.term import SHOWN_FIELDS


@dataclass(frozen=True)
class Seen:
    """What WizIQ showed: the records of the ledger's future classes, and the whole account when it was read."""

    records: Mapping[int, ClassRecord] = field(default_factory=lambda: MappingProxyType({}))
    account: AccountIndex | None = None


@dataclass(frozen=True)
class Look:
    """One tracked class as WizIQ shows it."""

    instant: datetime
    shown: tuple[str, ...]
    presenter: str


def observe(
    key: str,
    entry: SectionEntry,
    records: Mapping[int, ClassRecord],
    cutoff: datetime,
    looks: dict[int, Look],
    unrepairable: list[str],
) -> SectionEntry:
    """The entry with its future classes as WizIQ shows them: cancelled there, not the ledger's, or moved.

    Each class still the section's is put in ``looks``; one that is not is named in ``unrepairable``.
    """
    changed = False
    classes = []
    for item in entry.classes:
        if item.state != SCHEDULED or item.start < cutoff:
            classes.append(item)
            continue
        record = records.get(item.class_id)
        if record is None or record.status is None:
            classes.append(replace(item, state=CANCELLED_ON_WIZIQ))
            changed = True
        elif not is_ours(record, item, entry, (seen := look(record, item.start)).presenter):
            unrepairable.append(f"{key}: class {item.class_id} is no longer this section's class on WizIQ; left alone")
            classes.append(replace(item, state=LOST))
            changed = True
        else:
            looks[item.class_id] = seen
            if not item.verified and holds(seen, item, entry):
                item = replace(item, verified=True)  # what was sent last is what WizIQ shows
                changed = True
            classes.append(item)
    return replace(entry, classes=tuple(classes)) if changed else entry


def is_ours(record: ClassRecord, item: LedgerClass, entry: SectionEntry, presenter: str) -> bool:
    """Whether the record WizIQ gives for a ledger class id still is that class (same series, or still alone, and
    its presenter, ``presenter``, or its title): an id read on another account, or reused, is not."""
    recorded = master_id(record)
    if item.class_master_id is not None and recorded != item.class_master_id:
        return False
    if item.class_master_id is None and recorded is not None:
        return False  # a class made alone never joins a series
    if not entry.presenter or presenter == entry.presenter:
        return True
    title = record.fields.get("title", "").strip()
    return bool(title) and title == entry.spec.get("title", "").strip()


def holds(look: Look, item: LedgerClass, entry: SectionEntry) -> bool:
    """Whether WizIQ shows the class as the ledger recorded it (instant, presenter, shown fields)."""
    shown = entry.shown.get(item.fields)
    return (
        look.instant == item.start
        and (not entry.presenter or look.presenter == entry.presenter)
        and (shown is None or look.shown == tuple(shown))
    )


def look(record: ClassRecord, default: datetime) -> Look:
    """How WizIQ shows a record's class (``default``: its instant when the record gives none)."""
    fields = record.fields
    return Look(
        instant=record_instant(record) or default,
        shown=tuple(fields.get(name, "").strip() for name in SHOWN_FIELDS),
        presenter=presenter_key(fields.get("presenter_email"), fields.get("presenter_id")),
    )


def shown_fields(record: ClassRecord, expected: tuple[str, ...]) -> tuple[str, ...]:
    """The shown fields of a record; a column WizIQ left out reads as expected."""
    pairs = zip(SHOWN_FIELDS, expected, strict=True)
    return tuple((record.fields.get(name) or wanted).strip() for name, wanted in pairs)


def difference(seen: Iterable[str], expected: Iterable[str]) -> str:
    """The shown fields that differ, in words: ``title 'Algebra'``."""
    pairs = zip(SHOWN_FIELDS, seen, expected, strict=True)
    return ", ".join(f"{name} {shown!r}" for name, shown, wanted in pairs if shown != wanted)


__all__ = ["Look", "Seen", "difference", "holds", "is_ours", "look", "observe", "shown_fields"]
