"""The order of a plan's writes, across sections: a presenter's slot is freed before another class takes it.

WizIQ refuses a class that starts at the instant its presenter already holds (1032). So an operation that
takes a (presenter, instant) slot waits for the operation that frees it: a cancel, or a move away. Two
classes that take each other's slot (two sections of one teacher swapping hours) would wait for each other;
one of them is first moved through a free instant (a minute later than its own, or the next free minute),
so the swap converges in one run with moves, never with a cancel and a create.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from airflow_provider_wiziq.api.rules.plan import Cancel, Create, Modify, Move, Op
from airflow_provider_wiziq.api.rules.recurrence import ScheduledClass
from airflow_provider_wiziq.api.rules.state import CANCELLED_REPLACED

Slot = tuple[str, datetime]  # (presenter, instant in UTC)
_STEP = timedelta(minutes=1)


def takes(op: Op) -> list[Slot]:
    if isinstance(op, Move) and op.to is not None:
        return [(op.presenter, op.to.utc_start)]
    if isinstance(op, Create):
        return [(op.presenter, slot.utc_start) for slot in op.slots]
    if isinstance(op, Modify) and op.presenter:
        return [(op.presenter, op.start)]
    return []


def frees(op: Op) -> list[Slot]:
    if isinstance(op, (Cancel, Move)):
        return [(op.presenter, op.start)]
    return []


def order(ops: Sequence[Op], occupied: Mapping[str, set[datetime]], zones: Mapping[str, str]) -> tuple[Op, ...]:
    """``ops`` numbered in order, each with the operations it waits for; cycles untied through free instants.

    ``occupied``: every instant each presenter holds before or after the run (a temporary instant avoids them);
    ``zones``: each section's time zone (a temporary move is written in it).
    """
    current = [replace(op, id=number) for number, op in enumerate(ops)]
    temporary: set[Slot] = set()
    early: set[int] = set()  # class ids of replaced classes cancelled before their replacements exist
    busy = {presenter: set(instants) for presenter, instants in occupied.items()}
    while True:
        waits = _waits(current, temporary, early)
        cycle = _first_cycle(len(current), waits)
        if cycle is None:
            return tuple(replace(op, after=tuple(sorted(waits[op.id]))) for op in current)
        members = sorted((current[i] for i in cycle), key=lambda op: op.id)
        move = next((op for op in members if isinstance(op, Move)), None)
        if move is None:
            # No move in the cycle: replaced classes wait for creates that wait for other replaced classes.
            early.update(op.class_id for op in members if isinstance(op, Cancel))
            continue
        assert move.to is not None
        step = _free_instant(move, busy.setdefault(move.presenter, set()))
        busy[move.presenter].add(step)
        temporary.add((move.presenter, step))
        zone = ZoneInfo(zones[move.key])
        local = step.astimezone(zone)
        through = ScheduledClass(0, local.replace(tzinfo=None), local, step, False, False)
        first = replace(move, to=through, temporary=True, reason=f"{move.reason} (through a free instant)".strip())
        second = replace(move, start=step)
        current[move.id] = first
        current = [replace(op, id=number) for number, op in enumerate([*current, second])]


def _waits(ops: Sequence[Op], temporary: set[Slot], early: set[int]) -> dict[int, set[int]]:
    """For each operation, the operations it must wait for."""
    freers: dict[Slot, list[int]] = defaultdict(list)
    for op in ops:
        for slot in frees(op):
            if slot not in temporary:  # a temporary instant was free before the run: nothing waits for its freeing
                freers[slot].append(op.id)
    waits: dict[int, set[int]] = {op.id: set() for op in ops}
    steps: dict[int, int] = {}
    for op in ops:
        if isinstance(op, Move) and op.temporary:
            steps[op.class_id] = op.id
    for op in ops:
        for slot in takes(op):
            waits[op.id].update(freer for freer in freers.get(slot, ()) if freer != op.id)
        if isinstance(op, Move) and not op.temporary and op.class_id in steps:
            waits[op.id].add(steps[op.class_id])
    # A replaced class is cancelled once its replacements exist (if creating them fails, the class stays),
    # unless a replacement needs its very slot.
    creates: dict[str, list[Create]] = defaultdict(list)
    for op in ops:
        if isinstance(op, Create):
            creates[op.key].append(op)
    for op in ops:
        if isinstance(op, Cancel) and op.state == CANCELLED_REPLACED and op.class_id not in early:
            for create in creates.get(op.key, ()):
                if op.id not in waits[create.id]:
                    waits[op.id].add(create.id)
    return waits


def _first_cycle(count: int, waits: Mapping[int, Iterable[int]]) -> list[int] | None:
    """The nodes of one cycle of the wait graph (Tarjan's strongly connected components, iteratively)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    counter = 0
    for root in range(count):
        if root in index:
            continue
        work = [(root, iter(sorted(waits[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(waits[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    return component
    return None


def _free_instant(move: Move, busy: set[datetime]) -> datetime:
    """A minute the presenter holds nothing at, after the class's own start (WizIQ refuses only the same start)."""
    candidate = move.start.astimezone(timezone.utc) + _STEP
    while candidate in busy:
        candidate += _STEP
    return candidate


__all__ = ["frees", "order", "takes"]
