"""The guards: a plan that would destroy more than an ordinary export change can is refused before any write.

- **Empty export**: the export declares no section while the ledger holds future classes.
- **No future class**: the declared sections have no future class at all while the ledger holds some (the
  export's year is wrong).
- **Sections** (``max_cancel_fraction``): the sections removed from the export and cancelled by this run, as a
  share of the term's standing sections.
- **Classes** (``max_change_fraction``): the classes this run would cancel plus those it would replace (cancel
  and create again: new ids and join links; a replaced class counts once). Creates never count; moves and
  updates keep ids and do not count. The run is refused when that number exceeds both 10 classes and
  ``max_change_fraction`` of the term's tracked future classes.

``max_cancel_fraction=None`` lifts the first three; ``max_change_fraction=None`` the last. A dry run never
refuses: it reports what the guards say. An approved plan (its fingerprint approved by a person) lifts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from airflow_provider_wiziq.api.rules.plan import CANCEL, Cancel, Op, SectionPlan

#: The class guard never refuses this many cancelled or replaced classes, whatever the term's size.
SMALL_CHANGE = 10
#: How many sections a refusal names.
NAMED = 5


def refusals(
    *,
    declared: int,
    has_future: bool,
    tracked_future: int,
    standing_sections: int,
    rows: Sequence[SectionPlan],
    ops: Sequence[Op],
    max_cancel_fraction: float | None,
    max_change_fraction: float | None,
) -> tuple[str, ...]:
    """What the guards say about a plan (empty: they let it through)."""
    said: list[str] = []
    if max_cancel_fraction is not None and tracked_future:
        if not declared:
            said.append(
                f"The export declares no section at all, so this run would end the {tracked_future} future classes "
                "the ledger tracks. An empty export is far more often a failed export than the end of a term. "
                "Pass max_cancel_fraction=None to go on anyway."
            )
        elif not has_future:
            said.append(
                f"None of the {declared} declared sections has a class in the future, while the ledger tracks "
                f"{tracked_future} future classes: is the export's year right? Pass max_cancel_fraction=None to go on."
            )
    cancelling = [row.key for row in rows if row.action == CANCEL]
    if max_cancel_fraction is not None and cancelling and declared:
        share = len(cancelling) / max(standing_sections, 1)
        if share > max_cancel_fraction:
            said.append(
                f"This run would cancel {len(cancelling)} of the term's {standing_sections} sections ({share:.0%}), "
                f"more than max_cancel_fraction={max_cancel_fraction:g}: {_named(cancelling)}. A truncated export "
                "must not wipe a term: raise max_cancel_fraction (or pass None) if these sections really are gone."
            )
    if max_change_fraction is not None:
        lost = Counter(op.key for op in ops if isinstance(op, Cancel) and not op.drift)
        total = sum(lost.values())
        if total > SMALL_CHANGE and total > max_change_fraction * tracked_future:
            reasons = {row.key: row.reason for row in rows}
            largest = ", ".join(
                f"{key} ({count}: {reasons.get(key) or 'cancelled'})" for key, count in lost.most_common(NAMED)
            )
            more = f" and {len(lost) - NAMED} more sections" if len(lost) > NAMED else ""
            said.append(
                f"This run would cancel or replace {total} of the term's {tracked_future} future classes "
                f"({total / max(tracked_future, 1):.0%}), more than max_change_fraction={max_change_fraction:g}: "
                f"they would lose their ids and join links. Largest: {largest}{more}. If the export is right, "
                "approve the plan (approval_task_id), or raise max_change_fraction (None turns this guard off)."
            )
    return tuple(said)


def _named(keys: Sequence[str]) -> str:
    return ", ".join(keys[:10]) + (" ..." if len(keys) > 10 else "")


__all__ = ["SMALL_CHANGE", "refusals"]
