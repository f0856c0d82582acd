"""Counts in messages read right: ``1 section``, ``2 sections``, ``1 class``, ``2 classes``."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, the noun plural unless the number is one (``plural`` for irregular ones)."""
    return f"{number} {noun if number == 1 else plural or _plural(noun)}"


def _plural(noun: str) -> str:
    return noun + "es" if noun.endswith(("s", "x", "ch", "sh")) else noun + "s"


__all__ = ["counted"]
