"""What tests of Airflow operators share."""

from __future__ import annotations

from typing import Any


def running_copies(monkeypatch: Any, operator_class: type) -> list[Any]:
    """The operator instances that run ``execute``, as they start: ``dag.test()`` runs a copy of the DAG's task, so
    a test that must reach the running one (to call its ``on_kill`` from another thread) takes it from here."""
    running: list[Any] = []
    execute = operator_class.execute

    def remember(self: Any, context: Any) -> Any:
        running.append(self)
        return execute(self, context)

    monkeypatch.setattr(operator_class, "execute", remember)
    return running
