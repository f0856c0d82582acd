"""Where the term ledger keeps its values: small JSON values by key, in memory or on any fsspec filesystem.

Every store has the ledger's ``get(key, default=None)``, ``set(key, value)`` and ``delete(key)`` and the same
rules, checked here in one place (:class:`JsonStore`) so that a test on :class:`MemoryStore` catches what would
break on a real store:

* a key is 1-128 characters of ``[A-Za-z0-9._/-]`` in ``/``-separated parts, none of them ``.`` or ``..``;
* a value is JSON (dict, list, str, int, float, bool; not None, not NaN) of at most :data:`VALUE_LIMIT` bytes
  encoded (Airflow's state store policy is 64 KiB; the ledger keeps under 60 KiB);
* a missing key reads as ``default``; deleting a missing key is no error;
* a stored value that is not strict JSON (hand-edited, truncated, not UTF-8, too big) raises
  :class:`UnreadableValueError` naming the key: the ledger treats it as missing, with a warning.

Airflow's own stores (Variables, object storage) are built on these in ``airflow_provider_wiziq.stores``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_wiziq.api.protocol.errors import WizIQError

#: The largest encoded value a store accepts, in bytes (60 KiB).
VALUE_LIMIT = 60 * 1024
#: The longest key: a Variable name (250 characters) must hold ``wiziq_term_<term>/`` (term: 100) and the key.
KEY_LIMIT = 128
_KEY = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_JSON_TYPES = (dict, list, str, int, float, bool)


class StoreError(WizIQError):
    """A ledger store cannot do what was asked: a bad key or value (permanent), or its storage failed (transient)."""


class StoreIOError(StoreError):
    """The storage behind a store failed (a filesystem, object store or Airflow's API): trying again may work."""

    transient = True


class UnreadableValueError(StoreError):
    """A stored value is not one this provider wrote: not UTF-8, not strict JSON, null, or too big.

    ``key`` names it; ``reason`` says what is wrong. Deleting the key (or object, or Variable) resets it.
    """

    def __init__(self, key: str, reason: str, *, where: str = "") -> None:
        self.key = key
        self.reason = reason
        place = f" ({where})" if where else ""
        super().__init__(f"The ledger value {key!r}{place} cannot be read: {reason}. Deleting it resets it.")


def term_folder(ledger_path: str, term: str) -> str:
    """Where one term's ledger lives under a ``ledger_path``: the folder named after the term (several terms, and
    ``wiziq-term plan --ledger-path``, may share one path)."""
    return f"{ledger_path.rstrip('/')}/{term}"


def check_key(key: object) -> str:
    """``key`` when it is a valid store key, else a :class:`StoreError` saying why."""
    if not isinstance(key, str) or not key:
        raise StoreError(f"A store key must be a non-empty string, not {key!r}")
    if len(key) > KEY_LIMIT or not _KEY.fullmatch(key) or any(part in (".", "..") for part in key.split("/")):
        raise StoreError(
            f"Invalid store key {key[: KEY_LIMIT + 2]!r}: 1-{KEY_LIMIT} characters of letters, digits, '.', '_', '-' "
            "in '/'-separated parts, none of them '.' or '..'"
        )
    return key


def encode(key: str, value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, refusing what is not a store value or is over :data:`VALUE_LIMIT`."""
    if value is None or not isinstance(value, _JSON_TYPES):
        raise StoreError(f"The value for store key {key!r} must be a JSON value, not {type(value).__name__}")
    try:
        data = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise StoreError(f"The value for store key {key!r} is not JSON: {error}") from None
    if len(data) > VALUE_LIMIT:
        raise StoreError(
            f"The value for store key {key!r} is {len(data)} bytes encoded; a store holds at most {VALUE_LIMIT}"
        )
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode(key: str, data: bytes | str, *, where: str = "") -> Any:
    """The value stored as ``data``, read strictly: anything that ``encode`` could not have written is unreadable."""
    if len(data) > VALUE_LIMIT:
        raise UnreadableValueError(key, f"it is over {VALUE_LIMIT} bytes", where=where)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableValueError(key, f"not JSON ({error})", where=where) from None
    if value is None:
        raise UnreadableValueError(key, "it is null", where=where)
    return value


class StateStore(Protocol):
    """What a ledger needs of a store: ``get``, ``set`` and ``delete`` of JSON values by key."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...


@dataclass
class StoreCalls:
    """Calls a store received, for tests and the benchmarks' "store calls" rows."""

    get: int = 0
    set: int = 0
    delete: int = 0
    bytes_set: int = 0  # encoded bytes of every value set (where counted)

    @property
    def total(self) -> int:
        return self.get + self.set + self.delete

    def __str__(self) -> str:
        return f"{self.get} / {self.set} / {self.delete} (get / set / delete)"


class JsonStore(ABC):
    """A store of encoded JSON values: checks keys and values, decodes strictly; subclasses move the bytes."""

    def get(self, key: str, default: Any = None) -> Any:
        data = self._read(check_key(key))
        return default if data is None else decode(key, data, where=self.where(key))

    def set(self, key: str, value: Any) -> None:
        self._write(check_key(key), encode(key, value))

    def delete(self, key: str) -> None:
        self._remove(check_key(key))

    def where(self, key: str) -> str:
        """Where ``key`` lives, for messages (a path, a Variable name); never a credential."""
        return ""

    @abstractmethod
    def _read(self, key: str) -> bytes | str | None:
        """The stored bytes of ``key`` (at most a little over :data:`VALUE_LIMIT`), or None when it is missing."""

    @abstractmethod
    def _write(self, key: str, data: bytes) -> None:
        """Store ``data`` as the whole value of ``key``."""

    @abstractmethod
    def _remove(self, key: str) -> None:
        """Remove ``key``; no error when it is missing."""


class MemoryStore(JsonStore):
    """A store in a dict, for tests and benchmarks; ``calls`` counts what it received.

    ``data`` maps each key to its encoded value: a test can put unreadable text there.
    """

    def __init__(self) -> None:
        self.data: dict[str, bytes | str] = {}
        self.calls = StoreCalls()
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            self.calls.get += 1
        return super().get(key, default)

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self.calls.set += 1
        super().set(key, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self.calls.delete += 1
        super().delete(key)

    def _read(self, key: str) -> bytes | str | None:
        return self.data.get(key)

    def _write(self, key: str, data: bytes) -> None:
        with self._lock:
            self.calls.bytes_set += len(data)
            self.data[key] = data

    def _remove(self, key: str) -> None:
        self.data.pop(key, None)


class FsspecStore(JsonStore):
    """One JSON object per key, ``<root>/<key>.json``, on any fsspec filesystem (local, memory, s3, gcs ...).

    A value is written whole: on a local filesystem into a temporary file in the same folder, flushed to disk and
    renamed over the old one; elsewhere with one ``pipe_file`` (one PUT on an object store, which replaces an
    object atomically). On a filesystem whose put is not atomic (sftp, say) a torn object reads as unreadable.
    There is no compare-and-set: two writers of one key each win in turn.
    """

    SUFFIX = ".json"

    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.root = str(fs._strip_protocol(root)).rstrip("/")
        self._local = bool(getattr(fs, "local_file", False))

    def path(self, key: str) -> str:
        """The object that holds ``key``."""
        return f"{self.root}/{key}{self.SUFFIX}"

    def where(self, key: str) -> str:
        return self.path(key)

    def _read(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            data: bytes = self.fs.cat_file(path, start=0, end=VALUE_LIMIT + 1)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise UnreadableValueError(key, "it is a folder", where=path) from None
        except Exception as error:
            raise self._failed("read", path, error) from error
        return data

    def _write(self, key: str, data: bytes) -> None:
        path = self.path(key)
        try:
            if self._local:
                _replace_local(path, data)
            else:
                self.fs.pipe_file(path, data)
        except Exception as error:
            raise self._failed("write", path, error) from error

    def _remove(self, key: str) -> None:
        path = self.path(key)
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass
        except Exception as error:
            raise self._failed("delete", path, error) from error

    @staticmethod
    def _failed(verb: str, path: str, error: Exception) -> StoreIOError:
        return StoreIOError(f"Could not {verb} the ledger object {path}: {type(error).__name__}: {error}")

    def __repr__(self) -> str:
        return f"FsspecStore({type(self.fs).__name__}, {self.root!r})"


def _replace_local(path: str, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, flushed, renamed over it."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    temporary = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class CountingStore:
    """Wraps any store and counts the calls it passes on (the benchmarks' "store calls" rows).

    With ``count_bytes`` it also sums the encoded size of every value set (one more JSON encoding a call).
    """

    def __init__(self, store: Any, *, count_bytes: bool = False) -> None:
        self.store = store
        self.calls = StoreCalls()
        self.count_bytes = count_bytes
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            self.calls.get += 1
        return self.store.get(key, default)

    def set(self, key: str, value: Any) -> None:
        size = len(encode(key, value)) if self.count_bytes else 0
        with self._lock:
            self.calls.set += 1
            self.calls.bytes_set += size
        self.store.set(key, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self.calls.delete += 1
        self.store.delete(key)

    def __repr__(self) -> str:
        return f"CountingStore({self.store!r}: {self.calls})"


__all__ = [
    "KEY_LIMIT",
    "VALUE_LIMIT",
    "CountingStore",
    "FsspecStore",
    "JsonStore",
    "MemoryStore",
    "StateStore",
    "StoreCalls",
    "StoreError",
    "StoreIOError",
    "UnreadableValueError",
    "check_key",
    "decode",
    "encode",
    "term_folder",
]
