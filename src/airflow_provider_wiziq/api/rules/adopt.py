"""Adopting what stands on WizIQ (no I/O): the series, and the classes made alone, that are the same as those a
section would make (:mod:`.identity`'s rule), taken into the term's ledger instead of being created again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from airflow_provider_wiziq.api.rules.identity import AccountIndex, identity_of
from airflow_provider_wiziq.api.rules.observe import Look, look, shown_fields
from airflow_provider_wiziq.api.rules.state import CANCELLED, SCHEDULED, LedgerClass, SectionEntry
from airflow_provider_wiziq.api.rules.term import Schedule, Section


@dataclass
class Adopted:
    """What a scan of the account gave the term: per section the series and the classes made alone adopted, and
    how many future classes that adds to the ones the ledger tracks."""

    series: dict[str, tuple[int, ...]] = field(default_factory=dict)
    classes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    tracked_future: int = 0


def adopt(
    account: AccountIndex,
    sections: Mapping[str, Section],
    schedules: Mapping[str, Schedule],
    entries: dict[str, SectionEntry],
    looks: dict[int, Look],
    cutoff: datetime,
) -> Adopted:
    """Take into ``entries`` every series on WizIQ that is the same series as one a section would make, and for a
    section that gives its days (packed into single classes too), every class made alone that is the same class.

    Each adopted future class is put in ``looks``; a series or class the ledger already holds is never taken twice.
    """
    found = Adopted()
    claimed = {master for entry in entries.values() for master in entry.series}
    taken = {item.class_id for entry in entries.values() for item in entry.classes}
    for key, section in sections.items():
        schedule = schedules[key]
        entry = entries.get(key, SectionEntry())
        starts = {slot.utc_start for slot in (*schedule.desired, *schedule.holiday)}
        starts.update(item.first_start for item in entry.pending)
        by_id = {item.class_id: item for item in entry.classes}
        adopted = []
        alone = []
        for start in sorted(starts):
            identity = identity_of(section.request, start)
            record = account.find_class(identity) if section.rule is None else None
            if record is not None and record.class_id is not None and record.class_id not in taken:
                taken.add(record.class_id)
                alone.append(record.class_id)
                fields = section.fields_hash if shown_fields(record, section.shown) == section.shown else ""
                by_id[record.class_id] = LedgerClass(record.class_id, start, SCHEDULED, None, fields)
                if start >= cutoff:
                    looks[record.class_id] = look(record, start)
                    found.tracked_future += 1
            master = account.find(identity)
            if master is None or master in claimed:
                continue
            claimed.add(master)
            adopted.append(master)
            for instant, record in account.classes_of(master):
                class_id = record.class_id
                if class_id is None or class_id in by_id:
                    continue
                taken.add(class_id)
                fields = section.fields_hash if shown_fields(record, section.shown) == section.shown else ""
                state = SCHEDULED if record.status is not None else CANCELLED
                by_id[class_id] = LedgerClass(class_id, instant, state, master, fields)
                if state == SCHEDULED and instant >= cutoff:
                    looks[class_id] = look(record, instant)
                    found.tracked_future += 1
        if adopted:
            found.series[key] = tuple(adopted)
        if alone:
            found.classes[key] = tuple(alone)
        if adopted or alone or entry.pending:
            entries[key] = replace(
                entry,
                presenter=entry.presenter or section.presenter,
                time_zone=entry.time_zone or section.time_zone,
                series=(*entry.series, *adopted),
                classes=tuple(sorted(by_id.values(), key=lambda c: (c.start, c.class_id))),
                pending=(),
            )
    return found


__all__ = ["Adopted", "adopt"]
