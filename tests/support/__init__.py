"""Helpers and data shared by test modules (a test module never imports another test module)."""

from __future__ import annotations

from pathlib import Path

ANSWERS = Path(__file__).resolve().parent / "answers"


def answer(name: str) -> bytes:
    """A real-shaped WizIQ answer kept as a data file: ``answers/<name>.xml``, byte for byte."""
    return (ANSWERS / f"{name}.xml").read_bytes()
