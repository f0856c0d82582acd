"""The series ledgers of the create operators, in the task state store (Airflow 3.3): which series an earlier
try created, so that a retry never creates it twice (``CreateRecurringClassOperator``: one key;
``CreateRecurringClassesOperator``: sharded dicts of key -> series id)."""

from __future__ import annotations

import math
import zlib

from airflow_provider_wiziq.api.engine.ledger_format import is_int
from airflow_provider_wiziq.api.engine.stores import StateStore

#: ``CreateRecurringClassOperator``'s task state store key: the series its earlier try created.
SERIES_KEY = "wiziq_class_master_id"
#: ``CreateRecurringClassesOperator``'s task state store keys: ``<LEDGER_KEY>/<shard>`` -> {key: series id}.
SERIES_LEDGER_KEY = "wiziq_series_by_key"
#: Keys per shard of the bulk operator's series ledger.
SERIES_SHARD_SIZE = 1000


def read_series_id(store: StateStore | None) -> int | None:
    """The series an earlier try of a single create recorded, or None (also when the value is unreadable)."""
    stored = store.get(SERIES_KEY) if store is not None else None
    if is_int(stored) and stored > 0:
        return int(stored)
    if isinstance(stored, str) and stored.isdigit() and int(stored) > 0:
        return int(stored)
    return None


def write_series_id(store: StateStore | None, class_master_id: int) -> None:
    if store is not None:
        store.set(SERIES_KEY, class_master_id)


class SeriesLedger:
    """Which key became which series, in the task state store: a few small dicts, rewritten only when changed.

    Writes are batched (``flush``), so a worker killed between two flushes may leave a created series
    unrecorded; the next try then finds it by lookup, which is why a retry looks up every key it lacks.
    """

    def __init__(self, store: StateStore | None, keys: int) -> None:
        self._store = store
        self._shards = max(1, math.ceil(keys / SERIES_SHARD_SIZE))
        self._ids: list[dict[str, int]] = [{} for _ in range(self._shards)]
        self._dirty: set[int] = set()

    def load(self) -> dict[str, int]:
        """Every series recorded by earlier tries, by key (an unreadable value is skipped)."""
        if self._store is None:
            return {}
        found: dict[str, int] = {}
        for shard in range(self._shards):
            stored = self._store.get(f"{SERIES_LEDGER_KEY}/{shard}")
            if isinstance(stored, dict):
                ids = {str(k): int(v) for k, v in stored.items() if is_int(v) and v > 0}
                self._ids[shard].update(ids)
                found.update(ids)
        return found

    def record(self, key: str, class_master_id: int) -> None:
        shard = zlib.crc32(key.encode()) % self._shards
        if self._ids[shard].get(key) != class_master_id:
            self._ids[shard][key] = class_master_id
            self._dirty.add(shard)

    def flush(self) -> None:
        if self._store is None:
            return
        for shard in sorted(self._dirty):
            self._store.set(f"{SERIES_LEDGER_KEY}/{shard}", dict(self._ids[shard]))
        self._dirty.clear()


__all__ = ["SERIES_KEY", "SERIES_LEDGER_KEY", "SERIES_SHARD_SIZE", "SeriesLedger", "read_series_id", "write_series_id"]
