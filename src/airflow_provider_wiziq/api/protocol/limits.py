"""The account plan's limits, as a connection (or the emulator's configuration) sets them."""

from __future__ import annotations

from dataclasses import dataclass

#: WizIQ's own WordPress plugin caps a series at 60 classes; this project adopts that as the default.
DEFAULT_MAX_SERIES_CLASSES = 60


@dataclass(frozen=True)
class PlanLimits:
    """Plan limits; ``None`` means not configured, so the client leaves that check to the server."""

    max_class_minutes: int | None = None  # MaxClassMinutes (error 1010)
    max_user_per_class: int | None = None  # MaxUserPerClass (error 1011)
    max_concurrent_class: int | None = None  # MaxConcurrentClass (error 1012, server-side only)
    max_series_classes: int = DEFAULT_MAX_SERIES_CLASSES  # classes in one series (error 1082)

    def placeholders(self) -> dict[str, int | None]:
        """Values for WizIQ's ``#MaxClassMinutes#``-style message placeholders."""
        return {
            "MaxClassMinutes": self.max_class_minutes,
            "MaxUserPerClass": self.max_user_per_class,
            "MaxConcurrentClass": self.max_concurrent_class,
        }
