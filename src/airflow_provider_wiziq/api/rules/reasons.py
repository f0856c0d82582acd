"""Why a section's row says what it says, in a few words people read before they approve a plan.

Reasons compare the section's ``create_recurring`` fields as last applied (kept in its ledger entry) with
the export's (and a section's days when it gives them: ``class_dates`` in a few words, ``cycle_days``, its days on the
calendar as a digest): ``start_time 14:00 -> 15:00``, ``days monday,wednesday -> tuesday,thursday``,
``presenter a@x -> b@x: 27 classes get new ids and join links``, ``roster +2 -1 (1 left enrolled)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: Fields whose change is said by a reason of its own (start_time as a time of day, then its date).
_OWN_WORDS = ("start_time", "days_of_week", "presenter_email", "presenter_id", "time_zone", "title")
#: Fields that only shape the classes' dates (said as the bound of the section).
_BOUND = ("class_end_date", "class_occurrence")
#: Zones the export falls back to when its time_zone column is blank.
_DEFAULT_ZONES = frozenset({"GMT", "UTC", "Etc/GMT", "Etc/UTC"})


def spec_changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """What changed between two sets of wire fields, in the order people look for it."""
    if not before:
        return []
    said: list[str] = []
    old_start, new_start = before.get("start_time", ""), after.get("start_time", "")
    if old_start != new_start:
        old_day, _, old_time = old_start.partition(" ")
        new_day, _, new_time = new_start.partition(" ")
        if old_time != new_time:
            said.append(f"start_time {old_time[:5]} -> {new_time[:5]}")
        if old_day != new_day:
            said.append(f"first day {old_day} -> {new_day}")
    if before.get("days_of_week", "") != after.get("days_of_week", ""):
        said.append(f"days {before.get('days_of_week') or '-'} -> {after.get('days_of_week') or '-'}")
    if before.get("class_repeat_type") != after.get("class_repeat_type"):
        said.append(f"class_repeat_type {before.get('class_repeat_type')} -> {after.get('class_repeat_type')}")
    for name in _BOUND:
        if before.get(name) != after.get(name):
            said.append(f"{name} {before.get(name) or '-'} -> {after.get(name) or '-'}")
    if before.get("title") != after.get("title"):
        said.append(f"title {before.get('title')!r} -> {after.get('title')!r}")
    if before.get("calendar") and after.get("calendar") and before["calendar"] != after["calendar"]:
        said.append("calendar changed")  # the digest of a cycle section's days on the term calendar
    skip = {*_OWN_WORDS, *_BOUND, "class_repeat_type", "presenter_name", "calendar"}
    for name in sorted(set(before) | set(after)):
        if name not in skip and before.get(name) != after.get(name):
            said.append(f"{name} {before.get(name) or '-'} -> {after.get(name) or '-'}")
    return said


def presenter_change(before: str, after: str, classes: int) -> str:
    return f"presenter {_who(before)} -> {_who(after)}: {classes} classes get new ids and join links"


def zone_change(before: str, after: str, classes: int, *, defaulted: bool) -> str:
    hint = ": column missing?" if defaulted and after in _DEFAULT_ZONES else ""
    return f"time_zone {before} -> {after}{hint}: {classes} classes get new ids and join links"


def roster_change(added: Sequence[str], left: Sequence[str]) -> str:
    text = f"roster +{len(added)} -{len(left)}"
    return f"{text} ({len(left)} left enrolled)" if left else text


def _who(presenter: str) -> str:
    return presenter.partition(":")[2] or presenter


def join(parts: Sequence[str]) -> str:
    return "; ".join(part for part in parts if part)


__all__ = ["join", "presenter_change", "roster_change", "spec_changes", "zone_change"]
