"""Ledger stores that live in Airflow: its Variables, and object storage through ``ObjectStoragePath``.

Both keep the rules of :mod:`airflow_provider_wiziq.api.engine.stores` (keys, JSON values of at most 60 KiB,
strict reads) and are called from a running task through the Task SDK, on Airflow 3.1 and later. Neither has
a compare-and-set, so a lease kept in them is advisory (``docs/ledger-stores.md``).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_wiziq.api.engine.stores import (
    FsspecStore,
    JsonStore,
    StoreError,
    StoreIOError,
)
from airflow_provider_wiziq.api.rules.term import TERM_NAME

#: Every Variable of a term's ledger is named ``wiziq_term_<term>/<key>``.
VARIABLE_PREFIX = "wiziq_term_"


class VariableStore(JsonStore):
    """A term's ledger in Airflow Variables: the key ``k`` is the Variable ``wiziq_term_<term>/k``, JSON text.

    Reads walk the secrets backends (environment, any configured backend, then the metadata database), so a
    secret of the same name shadows the stored Variable.
    """

    DESCRIPTION = "WizIQ term ledger (airflow-provider-wiziq); edit or delete only to reset the term's sync"

    def __init__(self, term: str) -> None:
        if not isinstance(term, str) or not TERM_NAME.fullmatch(term):
            raise StoreError(f"term must be 1-100 letters, digits, '.', '_' or '-' (it names Variables), not {term!r}")
        self.term = term
        self.prefix = f"{VARIABLE_PREFIX}{term}/"

    def name(self, key: str) -> str:
        """The Variable that holds ``key`` (at most 11 + 100 + 1 + 128 characters: within Airflow's 250)."""
        return self.prefix + key

    def where(self, key: str) -> str:
        return f"Variable {self.name(key)}"

    def _read(self, key: str) -> bytes | str | None:
        from airflow.sdk import Variable

        name = self.name(key)
        try:
            found = Variable.get(name, default=None)
        except Exception as error:
            raise _failed("read", name, error) from error
        if found is None or isinstance(found, (str, bytes)):
            return found
        return str(found)

    def _write(self, key: str, data: bytes) -> None:
        name = self.name(key)
        try:
            _set_variable(name, data.decode("utf-8"), self.DESCRIPTION)
        except Exception as error:
            raise _failed("write", name, error) from error

    def _remove(self, key: str) -> None:
        name = self.name(key)
        try:
            _delete_variable(name)
        except Exception as error:
            raise _failed("delete", name, error) from error

    def __repr__(self) -> str:
        return f"VariableStore({self.term!r})"


def _failed(verb: str, name: str, error: Exception) -> StoreIOError:
    return StoreIOError(f"Could not {verb} the Variable {name}: {type(error).__name__}: {error}")


def _set_variable(name: str, text: str, description: str) -> None:
    """Set a Variable, raising when Airflow's API refuses (before 3.3 ``Variable.set`` only logs that)."""
    from airflow_provider_wiziq._compat import VARIABLE_WRITES_RAISE

    if VARIABLE_WRITES_RAISE:
        from airflow.sdk import Variable

        Variable.set(name, text, description=description)
    else:
        from airflow.sdk.execution_time.context import _set_variable as set_raising

        set_raising(name, text, description)


def _delete_variable(name: str) -> None:
    """Delete a Variable (no error when missing), raising when Airflow's API refuses."""
    from airflow_provider_wiziq._compat import VARIABLE_WRITES_RAISE

    if VARIABLE_WRITES_RAISE:
        from airflow.sdk import Variable

        Variable.delete(name)
    else:
        from airflow.sdk.execution_time.context import _delete_variable as delete_raising

        delete_raising(name)


def variable_store(term: str) -> VariableStore:
    """The ledger of ``term`` in Airflow Variables (``wiziq_term_<term>/<key>``), for a running task."""
    return VariableStore(term)


def object_store(path: Any, conn_id: str | None = None) -> FsspecStore:
    """The ledger under ``path``, an ``ObjectStoragePath`` or its URL (``file:///...``, ``s3://bucket/...``).

    ``conn_id`` names the Airflow connection that holds the storage's credentials (none for ``file://``; an
    ``ObjectStoragePath`` brings its own). One
    JSON object per key, ``<path>/<key>.json``; see :class:`~airflow_provider_wiziq.api.engine.stores.FsspecStore`.
    """
    from airflow.sdk import ObjectStoragePath

    if not isinstance(path, (str, ObjectStoragePath)) or not str(path).strip():
        raise StoreError(f"ledger_path must be an ObjectStoragePath URL such as file:///data/wiziq, not {path!r}")
    try:
        location = path if isinstance(path, ObjectStoragePath) else ObjectStoragePath(path.strip(), conn_id=conn_id)
        fs = location.fs
    except ValueError as error:
        # An unknown scheme: the provider that registers it (amazon for s3, google for gs ...) is not installed.
        raise StoreError(f"Cannot open the ledger path {_public(path)}: {error}") from None
    except Exception as error:
        raise StoreIOError(f"Cannot open the ledger path {_public(path)}: {type(error).__name__}: {error}") from error
    return FsspecStore(fs, location.path)


def _public(path: Any) -> str:
    """``path`` for a message, without any user or password in its URL."""
    from urllib.parse import urlsplit

    text = str(path)
    parts = urlsplit(text)
    if parts.password is None and parts.username is None:
        return text
    return parts._replace(netloc=parts.hostname or "").geturl()


__all__ = ["VARIABLE_PREFIX", "VariableStore", "object_store", "variable_store"]
