"""WizIQ itself, with no Airflow import, in three layers (docs/architecture.md):

- :mod:`.protocol`: WizIQ's Class API as a protocol: errors, values, requests, answers, signing, the
  sync and async clients, retries and the rate limit;
- :mod:`.rules`: rules that do no I/O: recurrence, what "the same series" is, a declared term and its plan;
- :mod:`.engine`: what reads WizIQ and applies a plan: reconcile, create once, the ledger, the term sync.

The modules lived in this package itself before; their old import paths
(``airflow_provider_wiziq.api.errors`` ...) still import the same module objects.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence

#: Where each module that lived directly in ``api/`` lives now.
_MOVED = {
    **dict.fromkeys(
        (
            "async_client", "calls", "client", "config", "errors", "limits", "ratelimit", "request",
            "responses", "retry", "signing", "status", "values", "vocabulary", "xmlread", "xmlwrite",
        ),
        "protocol",
    ),
    **dict.fromkeys(("identity", "recurrence", "term", "wait"), "rules"),
    **dict.fromkeys(("ledger", "provision", "reconcile", "sync"), "engine"),
}  # fmt: skip


class _OldPath(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``api.<old name>`` as the module it moved to (the same object, so isinstance checks agree)."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != __name__ or name not in _MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        name = spec.name.rpartition(".")[2]
        module = importlib.import_module(f"{__name__}.{_MOVED[name]}.{name}")
        self._specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system has set this alias' spec on the module: it keeps its own.
        module.__spec__ = self._specs[module.__name__]


if not any(isinstance(finder, _OldPath) for finder in sys.meta_path):
    sys.meta_path.append(_OldPath())
