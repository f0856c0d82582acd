"""The emulated account's settings: keys, plan limits, and the knobs WizIQ never documented."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.protocol.request import START_GRACE
from airflow_provider_wiziq.api.protocol.values import culture_name

DEFAULT_ACCESS_KEY = "emulator-access-key"
DEFAULT_SECRET_KEY = "emulator-secret-key"  # a throwaway key for a local test server

#: How far a request's ``timestamp`` may be from the clock (docs/wiziq-api.md §2).
TIMESTAMP_WINDOW = 900

#: The plan an emulator has unless told otherwise (docs/emulator.md says why these figures): classes of up to
#: five hours and 100 attendees; no cap on classes at once, so a whole term can be scheduled side by side.
DEFAULT_PLAN = PlanLimits(max_class_minutes=300, max_user_per_class=100)

#: A class's classroom language when its request named none.
DEFAULT_LANGUAGE = "en-US"


def languages_of(names: Iterable[object]) -> frozenset[str]:
    """Language culture names in WizIQ's culture form (``en-US``), however they were spelled."""
    return frozenset(culture_name(str(name)) for name in names)


#: Languages the emulated account's virtual classroom supports (1043 for any other well-shaped one), in
#: WizIQ's culture form: a class stores and answers its language so, whatever case the request used.
DEFAULT_LANGUAGES = frozenset(
    {
        "ar-AE",
        "de-DE",
        "en-AU",
        "en-GB",
        "en-IN",
        "en-US",
        "es-ES",
        "es-MX",
        "fr-CA",
        "fr-FR",
        "hi-IN",
        "id-ID",
        "it-IT",
        "ja-JP",
        "ko-KR",
        "nl-NL",
        "pl-PL",
        "pt-BR",
        "pt-PT",
        "ru-RU",
        "th-TH",
        "tr-TR",
        "vi-VN",
        "zh-CN",
        "zh-TW",
    }
)

OUTCOMES = ("completed", "expired")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything about the account that tests may want to change; replaced whole, never mutated."""

    access_key: str = DEFAULT_ACCESS_KEY
    secret_key: str = field(default=DEFAULT_SECRET_KEY, repr=False)
    limits: PlanLimits = DEFAULT_PLAN
    timestamp_window: int | None = TIMESTAMP_WINDOW  # None switches the timestamp check off
    accept_host_time: bool = True  # a timestamp near the host's own time also passes once the clock moved
    report_delay: float = 300.0  # seconds after a class ends before its attendance report is ready (1029)
    start_grace: float = START_GRACE.total_seconds()  # a start up to this many seconds ago is "now" (no 1004)
    default_outcome: str = "completed"  # how a class that reaches its end finishes: completed or expired
    languages: frozenset[str] = DEFAULT_LANGUAGES
    account_name: str = "WizIQ emulator"

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", languages_of(self.languages))
        if self.default_outcome not in OUTCOMES:
            raise ValueError(f"default_outcome must be one of {', '.join(OUTCOMES)}, not {self.default_outcome!r}")
        if self.report_delay < 0:
            raise ValueError("report_delay cannot be negative")
        if not 0 <= self.start_grace <= 7 * 86400:  # NaN fails too
            raise ValueError("start_grace must be from 0 to 604800 seconds (a week)")

    def public(self) -> dict[str, Any]:
        """The settings as JSON-ready data, without the secret key."""
        data: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("secret_key", "limits", "languages")
        }
        data["languages"] = sorted(self.languages)
        data.update(_limits_dict(self.limits))
        return data

    def updated(self, changes: dict[str, Any]) -> EmulatorConfig:
        """A copy with ``changes`` applied; plan limits may be given by their own names."""
        changes = dict(changes)
        limit_names = {f.name for f in fields(PlanLimits)}
        limit_changes = {name: changes.pop(name) for name in list(changes) if name in limit_names}
        allowed = {
            "timestamp_window",
            "accept_host_time",
            "report_delay",
            "start_grace",
            "default_outcome",
            "languages",
            "account_name",
        }
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ValueError(f"unknown setting {unknown[0]!r}; settable: {', '.join(sorted(allowed | limit_names))}")
        if "languages" in changes:
            changes["languages"] = languages_of(changes["languages"])
        if limit_changes:
            changes["limits"] = replace(self.limits, **limit_changes)
        return replace(self, **changes)


def _limits_dict(limits: PlanLimits) -> dict[str, int | None]:
    return {f.name: getattr(limits, f.name) for f in fields(limits)}
