"""Status pings on for a test: the ``[wiziq]`` options in the environment, an inbox in a temp dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SECRET = "doorbell-secret-0123456789abcdef"
OLD_SECRET = "retired-secret-0123456789abcdef"


def pings_on(monkeypatch: pytest.MonkeyPatch, inbox: Path, secret: str = SECRET) -> str:
    """Set ``[wiziq] ping_secret`` and ``[wiziq] ping_inbox`` (a ``file://`` URL of ``inbox``); the inbox URL."""
    url = inbox.as_uri()
    monkeypatch.setenv("AIRFLOW__WIZIQ__PING_SECRET", secret)
    monkeypatch.setenv("AIRFLOW__WIZIQ__PING_INBOX", url)
    return url


def entries(inbox: Path, conn_id: str = "wiziq_default") -> list[str]:
    """Every entry recorded for ``conn_id`` (names), oldest first."""
    folder = inbox / conn_id
    return sorted(path.name for path in folder.glob("*/*")) if folder.exists() else []


def form(class_id: Any, class_status: str = "completed") -> dict[str, str]:
    return {"class_id": str(class_id), "class_status": class_status}
