"""WizIQ's small vocabularies: repeat types, day names, ordinals, and how each is written on the wire."""

from __future__ import annotations

import enum


class RepeatType(enum.IntEnum):
    """``class_repeat_type``: how a recurring series repeats."""

    DAILY = 1  # all 7 days
    MON_SAT = 2  # 6 days, Monday to Saturday
    MON_FRI = 3  # 5 days, Monday to Friday
    WEEKLY = 4  # the days in days_of_week, every specific_week weeks
    MONTHLY = 5  # a date (monthly_date) or a weekday (monthly_day + monthly_week_day) of each month

    @classmethod
    def aliases(cls) -> dict[str, RepeatType]:
        """Names accepted besides the numbers: ``daily``, ``mon_sat``, ``mon_fri``, ``weekly``, ``monthly``."""
        return {member.name.lower(): member for member in cls}


class Weekday(enum.IntEnum):
    """A day of the week, Monday first (as Python's ``date.weekday()`` and WizIQ's calendar order)."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6

    @property
    def wire(self) -> str:
        """WizIQ writes day names in lower case: ``monday``."""
        return self.name.lower()

    @property
    def title(self) -> str:
        return self.name.capitalize()


#: ``create``'s parameters as WizIQ names them (the seed's, §3's, and room presenters), in the order WizIQ checks.
CREATE_PARAMETERS = (
    "title",
    "start_time",
    "time_zone",
    "presenter_email",
    "presenter_id",
    "presenter_name",
    "duration",
    "extend_duration",
    "attendee_limit",
    "language_culture_name",
    "presenter_default_controls",
    "attendee_default_controls",
    "create_recording",
    "return_url",
    "status_ping_url",
)
#: What ``create_recurring`` adds: the repeat rule's parameters.
RECURRENCE_PARAMETERS = (
    "class_repeat_type",
    "class_occurrence",
    "class_end_date",
    "specific_week",
    "days_of_week",
    "monthly_date",
    "monthly_day",
    "monthly_week_day",
    "rdo_by_date",
    "rdo_by_day",
)

#: The weekday of the month ``monthly_day`` names: 1st..4th, or -1 for WizIQ's ``Last``.
LAST = -1


def ordinal(number: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``21st``... as WizIQ writes monthly dates."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def monthly_day_wire(monthly_day: int) -> str:
    """``monthly_day`` on the wire: ``1st``..``4th`` or ``Last``."""
    return "Last" if monthly_day == LAST else ordinal(monthly_day)
