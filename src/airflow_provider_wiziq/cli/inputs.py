"""What both commands read: the term, its export, holidays and calendar, and the guard options; every problem listed.

Each input is read by the engine's own reader (``read_declared``, ``read_holidays``, ``read_calendar``), so the
command line accepts and refuses exactly what ``SyncTermOperator`` does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from airflow_provider_wiziq.api.engine.sync import SyncOptions, read_declared
from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.rules.calendar import Calendar, read_calendar
from airflow_provider_wiziq.api.rules.planner import DeclaredTerm
from airflow_provider_wiziq.api.rules.term import TERM_NAME, read_holidays


class InvalidInput(WizIQError):
    """The command's input is not usable: ``problems`` lists every one found (nothing was sent)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class TermInputs:
    term: str
    holidays: frozenset[date]
    options: SyncOptions
    calendar: Calendar


def problem(option: str, error: BaseException | str) -> str:
    """``option: message``, the message's own ``parameter:`` prefix dropped when it repeats the option, and
    its further lines indented under it."""
    text = str(error)
    name = option.lstrip("-").replace("-", "_")
    text = text.removeprefix(f"{name}: ")
    return f"{option}: " + text.replace("\n", "\n    ")


def read_term_inputs(args: argparse.Namespace, problems: list[str]) -> TermInputs:
    """The term's name, holidays, calendar and guard options; what is wrong is added to ``problems``."""
    if not TERM_NAME.fullmatch(args.term):
        problems.append(
            f"--term: {args.term[:120]!r} is not a term name: 1-100 letters, digits, '.', '_' or '-' (it names the "
            "term's asset in Airflow)"
        )
    holidays: frozenset[date] = frozenset()
    try:
        holidays = read_holidays(args.holidays)
    except WizIQError as error:
        problems.append(problem("--holidays", error))
    calendar = Calendar()
    if args.calendar is not None:
        try:
            calendar = read_calendar(Path(args.calendar))
        except (WizIQError, OSError, UnicodeDecodeError) as error:
            problems.append(problem("--calendar", error))
    options = SyncOptions(
        cancel_removed=not args.keep_removed,
        removal_grace=_whole(args.removal_grace, "--removal-grace", problems),
        max_cancel_fraction=_fraction(args.max_cancel_fraction, "--max-cancel-fraction", problems),
        max_change_fraction=_fraction(args.max_change_fraction, "--max-change-fraction", problems),
    )
    return TermInputs(args.term, holidays, options, calendar)


def read_export(
    path: str | Path,
    holidays: frozenset[date],
    limits: PlanLimits,
    option: str,
    problems: list[str],
    *,
    calendar: Calendar | None = None,
) -> DeclaredTerm | None:
    """An export file read and checked as a run would (every invalid section named, ``cycle_days`` sections on
    ``calendar``), or None with the problem."""
    try:
        return read_declared(Path(path), holidays, limits, calendar=calendar)
    except (WizIQError, OSError, UnicodeDecodeError) as error:
        problems.append(problem(option, error))
        return None


def _whole(text: str, option: str, problems: list[str]) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        problems.append(f"{option}: must be a whole number of runs, at least 1, not {text!r}")
        return 1
    return number


def _fraction(text: str, option: str, problems: list[str]) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        fraction = float(text)
    except ValueError:
        fraction = -1.0
    if not 0 <= fraction <= 1:
        problems.append(f"{option}: must be a fraction from 0 to 1, or none to turn the guard off; not {text!r}")
        return 0.2
    return fraction


def add_term_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments both commands take (the term as ``SyncTermOperator`` takes it)."""
    term = parser.add_argument_group("the term (as SyncTermOperator takes it)")
    term.add_argument("--term", required=True, metavar="T", help="the term's name (letters, digits, '.', '_', '-')")
    term.add_argument("--sections", required=True, metavar="FILE", help="the export: a .csv or .json file of sections")
    term.add_argument(
        "--holidays",
        nargs="+",
        action="extend",
        default=[],
        metavar="DATE",
        help="dates and inclusive ranges with no class: 2027-11-11 2027-11-24..2027-11-26",
    )
    term.add_argument("--calendar", metavar="FILE", help="the term's instructional days (.csv date,day or .ics)")
    guards = parser.add_argument_group("the guards (SyncTermOperator's arguments of the same names)")
    guards.add_argument(
        "--keep-removed", action="store_true", help="keep the classes of removed sections (cancel_removed=False)"
    )
    guards.add_argument("--removal-grace", default="1", metavar="N", help="runs a section may be missing (default 1)")
    for name in ("cancel", "change"):
        guards.add_argument(f"--max-{name}-fraction", default="0.2", metavar="F", help="0 to 1, or none (default 0.2)")
    logs = parser.add_mutually_exclusive_group()
    logs.add_argument("-q", "--quiet", action="store_true", help="log warnings only (logs go to stderr)")
    logs.add_argument("-v", "--verbose", action="store_true", help="log what the engine does, from INFO")


__all__ = ["InvalidInput", "TermInputs", "add_term_arguments", "problem", "read_export", "read_term_inputs"]
