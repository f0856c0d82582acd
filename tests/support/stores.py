"""What every ledger store must do, as checks run on each store: in the test process, or inside an Airflow task.

A check takes the store and ``corrupt(key, raw)``, which puts bytes the provider did not write where the store
keeps ``key``. It raises (an ``AssertionError``, or the store's error) when the store breaks the contract.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_wiziq.api.engine.stores import VALUE_LIMIT, StoreError, UnreadableValueError

Corrupt = Callable[[str, bytes], None]


def missing_key(store: Any, corrupt: Corrupt) -> None:
    assert store.get("never/set") is None
    assert store.get("never/set", "fallback") == "fallback"
    default: dict[str, Any] = {}
    assert store.get("never/set", default) is default


def overwrite(store: Any, corrupt: Corrupt) -> None:
    store.set("3f9a1c2b7d4e5f60/head", {"v": 1, "shards": 2})
    store.set("3f9a1c2b7d4e5f60/head", {"v": 2})
    assert store.get("3f9a1c2b7d4e5f60/head") == {"v": 2}
    store.set("3f9a1c2b7d4e5f60/head", "now a string")
    assert store.get("3f9a1c2b7d4e5f60/head") == "now a string"


def delete(store: Any, corrupt: Corrupt) -> None:
    store.delete("never/set/either")  # no error
    store.set("lease", {"owner": "a"})
    store.delete("lease")
    assert store.get("lease", "gone") == "gone"
    store.delete("lease")  # again: no error


def json_round_trip(store: Any, corrupt: Corrupt) -> None:
    values = [
        {"classes": [[15716, 1788883200, "s", 2345, "f", "r"]], "nested": {"none": None, "t": True}},
        [1, 2.5, -3, 2**53 + 1, 1e-300, False, "", [], {}],
        'quotes " and \\ and é, 日本, 🙂, \u2028',
        0,
        -7.25,
        True,
        False,
        {},
        [],
        "",
    ]
    for number, value in enumerate(values):
        store.set(f"round/{number}", value)
    for number, value in enumerate(values):
        found = store.get(f"round/{number}")
        assert found == value and type(found) is type(value), (number, found)
    mutable = {"a": [1]}
    store.set("round/copy", mutable)
    mutable["a"].append(2)
    assert store.get("round/copy") == {"a": [1]}, "the store kept a reference, not the value"


def value_limits(store: Any, corrupt: Corrupt) -> None:
    largest = "x" * (VALUE_LIMIT - 2)  # with its two quotes: exactly the limit
    store.set("big", largest)
    assert store.get("big") == largest
    for bad in (
        None,
        "x" * (VALUE_LIMIT - 1),
        datetime.now(timezone.utc),
        {1, 2},
        (1, 2),
        float("nan"),
        {"a": object()},
    ):
        with pytest.raises(StoreError, match="'big'"):
            store.set("big", bad)
    assert store.get("big") == largest, "a refused value changed what was stored"


def unreadable(store: Any, corrupt: Corrupt) -> None:
    for raw in (
        b"{not json",
        b"\xff\xfe\x00",
        b"null",
        b"NaN",
        b'{"a": Infinity}',
        b'"' + b"x" * VALUE_LIMIT + b'"',
        b"",
    ):
        corrupt("3f9a1c2b7d4e5f60/s/0", raw)
        with pytest.raises(UnreadableValueError) as caught:
            store.get("3f9a1c2b7d4e5f60/s/0")
        assert caught.value.key == "3f9a1c2b7d4e5f60/s/0"
        assert "3f9a1c2b7d4e5f60/s/0" in str(caught.value)
    store.set("3f9a1c2b7d4e5f60/s/0", {"fixed": True})  # a write replaces it
    assert store.get("3f9a1c2b7d4e5f60/s/0") == {"fixed": True}
    corrupt("3f9a1c2b7d4e5f60/s/0", b"{")
    store.delete("3f9a1c2b7d4e5f60/s/0")  # and a delete resets it
    assert store.get("3f9a1c2b7d4e5f60/s/0") is None


GOOD_KEYS = ("a", "A.b_c-D/E/0", "a/a", "a/a/a", "3f9a1c2b7d4e5f60/s/12", "..a/b..", "x" * 128, "-/_/.x")
BAD_KEYS = ("", "/a", "a/", "a//b", ".", "..", "a/../b", "./a", "a b", "a\\b", "a:b", "ü", "a\nb", "x" * 129, 5, None)


def key_characters(store: Any, corrupt: Corrupt) -> None:
    for number, key in enumerate(GOOD_KEYS):
        store.set(key, number)
    for number, key in enumerate(GOOD_KEYS):  # "a", "a/a" and "a/a/a" live side by side
        assert store.get(key) == number, key
    for key in GOOD_KEYS:
        store.delete(key)
        assert store.get(key) is None
    for key in BAD_KEYS:
        for call in (lambda k: store.get(k), lambda k: store.set(k, 1), lambda k: store.delete(k)):
            with pytest.raises(StoreError, match="key"):
                call(key)


CHECKS: dict[str, Callable[[Any, Corrupt], None]] = {
    check.__name__: check
    for check in (missing_key, overwrite, delete, json_round_trip, value_limits, unreadable, key_characters)
}


def run_checks(store: Any, corrupt: Corrupt) -> dict[str, str]:
    """Every check's outcome: ``ok``, or what failed (for a check run inside a task, whose result is XCom)."""
    outcomes = {}
    for name, check in CHECKS.items():
        try:
            check(store, corrupt)
        except BaseException as error:  # pytest.fail raises an Exception subclass of BaseException
            outcomes[name] = "".join(traceback.format_exception_only(type(error), error)).strip()
        else:
            outcomes[name] = "ok"
    return outcomes
