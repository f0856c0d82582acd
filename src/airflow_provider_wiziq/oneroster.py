"""A term's sections from a OneRoster 1.1 or 1.2 CSV bundle: what student information systems export.

OneRoster (1EdTech; what Microsoft School Data Sync, ClassLink, Clever and Google Classroom's SIS partners
speak) gives a term's classes, teachers and rosters, but no meeting times: a class's ``periods`` are only
labels. :func:`read_oneroster` joins the bundle with the school's ``meeting_patterns`` (what each period
means: its days or cycle days, time, length and zone) and returns the ``sections`` list
:class:`~airflow_provider_wiziq.operators.wiziq.SyncTermOperator` takes. It reads files, and sends nothing.

The bundle is a folder or a zip of OneRoster's CSV files; only the files present are read (``manifest.csv``,
``academicSessions.csv``, ``classes.csv``, ``courses.csv``, ``users.csv``, ``enrollments.csv``), and of the
manifest only ``oneroster.version`` is needed. Rows whose ``status`` is ``tobedeleted`` or ``inactive`` are
left out; a file the manifest marks ``delta`` is refused (a delta needs the bulk it changes).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import WizIQValidationError
from airflow_provider_wiziq.api.rules.dates import iso_date, read_time_of_day
from airflow_provider_wiziq.api.rules.export import read_cell, read_rows

log = logging.getLogger(__name__)

#: The OneRoster versions whose CSV binding this reads (``oneroster.version`` in ``manifest.csv``).
VERSIONS = ("1.1", "1.2")
#: The files read, and the columns each must have when present.
COLUMNS = {
    "manifest.csv": ("propertyName", "value"),
    "academicSessions.csv": ("sourcedId", "startDate", "endDate"),
    "classes.csv": ("sourcedId", "title", "termSourcedIds"),
    "courses.csv": ("sourcedId", "title"),
    "users.csv": ("sourcedId", "givenName", "familyName"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
}
#: Row statuses that take a row out of the bundle.
GONE = ("tobedeleted", "inactive")
#: The meeting-pattern fields that say when a section meets (besides ``start_time``, ``time_zone``, ``duration``).
RULE_FIELDS = ("class_repeat_type", "days_of_week", "specific_week")
#: The fields of a meeting pattern's row that name what it is for, and are not copied to its sections.
PATTERN_KEYS = ("period", "key")
#: How many problems one error lists before it counts the rest.
SHOWN_PROBLEMS = 20


class OneRosterError(WizIQValidationError):
    """A OneRoster bundle or its meeting patterns that cannot be read: every problem, each naming its file and row."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = f"; and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
        counted = f"{len(problems)} problems: " if len(problems) > 1 else ""
        super().__init__("oneroster", f"{counted}{shown}{more}")


@dataclass(frozen=True)
class _Row:
    """A data row of one of the bundle's files, with where it is (``classes.csv line 4``)."""

    where: str
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()

    def items(self, column: str) -> list[str]:
        """A list cell (``"T1,T2"``), its items stripped."""
        return [item.strip() for item in self.get(column).split(",") if item.strip()]


def read_oneroster(
    path: str | os.PathLike[str], meeting_patterns: Any, *, term: str | None = None
) -> list[dict[str, Any]]:
    """The term's sections from the OneRoster bundle at ``path`` (a folder or a ``.zip``), as plain dicts.

    A section is a class (its ``sourcedId`` the key; a class with several periods gives a section per period,
    keyed ``<sourcedId>:<period>``), titled as the class, presented by its primary teacher (role ``teacher``,
    ``primary`` true; else its first teacher) by email, with its enrolled students as attendees, over the
    dates of its academic sessions (several: from the first one's start to the last one's end). ``term`` names
    one academicSessions ``sourcedId``: only the classes meeting in it, each over its part of it.

    ``meeting_patterns`` maps a period label, or a class ``sourcedId`` (which wins), to the section's fields:
    ``start_time`` (``HH:MM``), ``time_zone``, ``duration`` and either ``days_of_week`` (with an optional
    ``class_repeat_type``, weekly by default) or ``cycle_days``; any other section field it holds
    (``attendee_limit``...) is copied to its sections. A dict of them, a list of rows with a ``period`` column,
    JSON, CSV text or a ``.csv``/``.json`` file. A class with no pattern is left out, with a warning naming it.
    """
    bundle = _Bundle(Path(path))
    patterns = _read_patterns(meeting_patterns)
    version = bundle.version()
    problems: list[str] = []
    sessions = {row.get("sourcedId"): row for row in bundle.rows("academicSessions.csv")}
    courses = {row.get("sourcedId"): row.get("title") for row in bundle.rows("courses.csv")}
    users = {row.get("sourcedId"): row for row in bundle.rows("users.csv")}
    teachers, students, roster_problems = _enrollments(bundle, users)
    window = _term_window(term, sessions, problems) if term is not None else None
    sections: list[dict[str, Any]] = []
    unmatched: list[str] = []
    for row in bundle.rows("classes.csv", required=True):
        class_id = row.get("sourcedId")
        periods = row.items("periods")
        if class_id in patterns:
            meetings = [(class_id, patterns[class_id])]
        else:
            meetings = [
                (class_id if len(periods) == 1 else f"{class_id}:{period}", patterns[period])
                for period in periods
                if period in patterns
            ]
            unmatched += [f"{class_id} (period {period})" for period in periods if period not in patterns]
            unmatched += [] if periods else [f"{class_id} (no period)"]
        span = _class_window(row, sessions, window, bundle, problems) if meetings else None
        if span is None:
            continue
        problems += roster_problems.get(class_id, [])
        common = {
            "title": row.get("title") or courses.get(row.get("courseSourcedId"), ""),
            "presenter_email": _presenter(row, teachers.get(class_id, []), users, bundle, problems),
            "attendees": students.get(class_id, []),
        }
        for key, pattern in meetings:
            section = {"key": key, **common, **_meetings(pattern, span)}
            if section["presenter_email"] is None:
                problems.append(f"{row.where}: class {class_id} has no teacher with an email{_missing(bundle)}")
                continue
            sections.append(section)
    if problems:
        raise OneRosterError(problems)
    if unmatched:
        log.warning(
            "OneRoster %s: %d class periods have no meeting pattern and are left out (never guessed): %s",
            version,
            len(unmatched),
            ", ".join(unmatched),
        )
    return sections


# The bundle ------------------------------------------------------------------------------------------------------


class _Bundle:
    """The CSV files of a bundle folder or zip (at its root, or in its one folder), read as they are asked for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.modes: dict[str, str] = {}  # file name -> the manifest's mode (bulk, delta, absent)
        self.texts: dict[str, str] = {}  # a zip's files, read at once
        self.files: dict[str, Path] = {}  # a folder's files
        if path.is_dir():
            self.files = {child.name: child for child in path.iterdir() if child.suffix.lower() == ".csv"}
        elif path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as bundle:
                members = [name for name in bundle.namelist() if name.lower().endswith(".csv")]
                folders = {name.rpartition("/")[0] for name in members if name.endswith("manifest.csv")}
                folder = folders.pop() if len(folders) == 1 else ""
                for name in members:
                    if name.rpartition("/")[0] == folder:
                        self.texts[name.rpartition("/")[2]] = self._decode(name, bundle.read(name))
        else:
            raise OneRosterError([f"{path} is neither a folder nor a zip of OneRoster CSV files"])

    @staticmethod
    def _decode(name: str, raw: bytes) -> str:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise OneRosterError([f"{name}: is not UTF-8 text ({error})"]) from None

    def has(self, name: str) -> bool:
        return name in self.files or name in self.texts

    def text(self, name: str) -> str | None:
        if name in self.texts:
            return self.texts[name]
        if name not in self.files:
            return None
        try:
            return self._decode(name, self.files[name].read_bytes())
        except OSError as error:
            raise OneRosterError([f"{name}: cannot be read ({error})"]) from None

    def rows(self, name: str, *, required: bool = False) -> Iterator[_Row]:
        """The file's data rows, gone rows left out; none if the file is absent (an error if it is required)."""
        text = self.text(name)
        if text is None:
            if required:
                raise OneRosterError([f"{name} is not in the bundle {self.path.name}"])
            return
        if self.modes.get(name) == "delta":
            raise OneRosterError([f"manifest.csv marks {name} as delta: read_oneroster reads a bulk bundle"])
        reader = csv.reader(io.StringIO(text))
        header = [column.strip() for column in next(reader, [])]
        missing = [column for column in COLUMNS[name] if column not in header]
        if missing:
            raise OneRosterError([f"{name} line 1: no column {', '.join(missing)} (OneRoster's CSV names it so)"])
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            row = _Row(f"{name} line {reader.line_num}", dict(zip(header, cells, strict=False)))
            if row.get("status").lower() not in GONE:
                yield row

    def version(self) -> str:
        """``oneroster.version`` from ``manifest.csv`` (1.1 or 1.2); the other rows are optional."""
        manifest = {row.get("propertyName"): row.get("value") for row in self.rows("manifest.csv", required=True)}
        self.modes = {
            f"{name.removeprefix('file.')}.csv": mode.lower()
            for name, mode in manifest.items()
            if name.startswith("file.")
        }
        version = manifest.get("oneroster.version", "")
        if version not in VERSIONS:
            found = f"is {version!r}" if version else "is missing"
            raise OneRosterError([f"manifest.csv: oneroster.version {found}; this reads {' and '.join(VERSIONS)}"])
        return version


def _missing(bundle: _Bundle) -> str:
    absent = [name for name in ("enrollments.csv", "users.csv") if not bundle.has(name)]
    return f" ({' and '.join(absent)} not in the bundle)" if absent else ""


# Classes, teachers, rosters, terms ---------------------------------------------------------------------------------


def _enrollments(
    bundle: _Bundle, users: dict[str, _Row]
) -> tuple[dict[str, list[tuple[bool, str]]], dict[str, list[dict[str, str]]], dict[str, list[str]]]:
    """Per class: its teachers as (primary, user sourcedId) in file order, its students as attendees (sorted by
    id), and the problems of its rows (reported only for the classes returned)."""
    teachers: dict[str, list[tuple[bool, str]]] = {}
    rosters: dict[str, dict[str, dict[str, str]]] = {}
    problems: dict[str, list[str]] = {}
    for row in bundle.rows("enrollments.csv"):
        role, class_id, user_id = row.get("role").lower(), row.get("classSourcedId"), row.get("userSourcedId")
        if role == "teacher":
            teachers.setdefault(class_id, []).append((row.get("primary").lower() == "true", user_id))
        elif role == "student":
            user = users.get(user_id)
            if user is None:
                problems.setdefault(class_id, []).append(
                    f"{row.where}: student {user_id} is not in users.csv{_missing(bundle)}"
                )
                continue
            name = " ".join(part for part in (user.get("givenName"), user.get("familyName")) if part)
            if not name:
                problems.setdefault(class_id, []).append(
                    f"{user.where}: user {user_id} has no givenName nor familyName (the screen name)"
                )
                continue
            rosters.setdefault(class_id, {})[user_id] = {"attendee_id": user_id, "screen_name": name}
    attendees = {class_id: [roster[key] for key in sorted(roster)] for class_id, roster in rosters.items()}
    return teachers, attendees, problems


def _presenter(
    row: _Row, teachers: list[tuple[bool, str]], users: dict[str, _Row], bundle: _Bundle, problems: list[str]
) -> str | None:
    """The email of the class's primary teacher (else its first): ``email``, or a ``username`` that is one."""
    if not teachers:
        return None
    primary = next((user_id for is_primary, user_id in teachers if is_primary), teachers[0][1])
    user = users.get(primary)
    if user is None:
        if bundle.has("users.csv"):
            problems.append(f"{row.where}: class {row.get('sourcedId')}'s teacher {primary} is not in users.csv")
        return None
    for column in ("email", "username"):
        address = user.get(column)
        if "@" in address:
            return address
    problems.append(f"{user.where}: teacher {primary} has no email (nor a username that is one)")
    return None


def _session_dates(session: _Row, problems: list[str]) -> tuple[date, date] | None:
    try:
        first = iso_date("startDate", session.get("startDate"))
        last = iso_date("endDate", session.get("endDate"))
    except WizIQValidationError as error:
        problems.append(f"{session.where}: {error.detail}")
        return None
    if last < first:
        problems.append(f"{session.where}: endDate {last} is before startDate {first}")
        return None
    return first, last


def _term_window(term: str, sessions: dict[str, _Row], problems: list[str]) -> tuple[date, date] | None:
    session = sessions.get(term)
    if session is None:
        known = ", ".join(sorted(sessions)) or "none: academicSessions.csv is not in the bundle"
        raise OneRosterError([f"term {term!r} is no academicSessions sourcedId (they are: {known})"])
    return _session_dates(session, problems)


def _class_window(
    row: _Row, sessions: dict[str, _Row], term: tuple[date, date] | None, bundle: _Bundle, problems: list[str]
) -> tuple[date, date] | None:
    """The dates a class meets on: from its first session's start to its last one's end, within ``term``."""
    spans = []
    for session_id in row.items("termSourcedIds"):
        session = sessions.get(session_id)
        if session is None:
            where = "academicSessions.csv" if bundle.has("academicSessions.csv") else "the bundle"
            problems.append(f"{row.where}: class {row.get('sourcedId')}'s term {session_id} is not in {where}")
            return None
        span = _session_dates(session, problems)
        if span is None:
            return None
        spans.append(span)
    if not spans:
        problems.append(f"{row.where}: class {row.get('sourcedId')} has no termSourcedIds")
        return None
    first, last = min(start for start, _ in spans), max(end for _, end in spans)
    if term is not None:
        first, last = max(first, term[0]), min(last, term[1])
        if last < first:
            return None  # the class does not meet in that term
    return first, last


# Meeting patterns --------------------------------------------------------------------------------------------------


def _read_patterns(value: Any) -> dict[str, dict[str, Any]]:
    """Each pattern's fields by period label or class sourcedId, checked (an error names its row)."""
    try:
        rows = read_rows(value, name="meeting_patterns")
    except WizIQValidationError as error:
        raise OneRosterError([f"{error.parameter}: {error.detail}"]) from None
    patterns: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for number, row in enumerate(rows, start=1):
        where = f"meeting_patterns row {number}"
        if not isinstance(row, Mapping):
            problems.append(f"{where}: is a {type(row).__name__}, not a dict of a pattern's fields")
            continue
        cells = {str(column).strip(): read_cell(cell) for column, cell in row.items()}
        cells = {column: cell for column, cell in cells.items() if values.is_given(cell)}
        label = next((str(cells[column]).strip() for column in PATTERN_KEYS if column in cells), "")
        if not label:
            problems.append(f"{where}: names no period (a period label or a class sourcedId)")
            continue
        where = f"{where} ({label})"
        if label in patterns:
            problems.append(f"{where}: the period {label} has a pattern already")
            continue
        fields = {column: cell for column, cell in cells.items() if column not in PATTERN_KEYS}
        problem = _pattern_problem(fields)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        patterns[label] = fields
    if problems:
        raise OneRosterError(problems)
    return patterns


def _pattern_problem(fields: dict[str, Any]) -> str | None:
    for needed in ("start_time", "time_zone", "duration"):
        if needed not in fields:
            return f"needs {needed}"
    try:
        read_time_of_day(fields["start_time"])
    except WizIQValidationError as error:
        return f"start_time: {error.detail}"
    if "class_dates" in fields:
        return "class_dates has no place in a meeting pattern: a period meets by days_of_week or cycle_days"
    if "cycle_days" in fields:
        mixed = [name for name in RULE_FIELDS if name in fields]
        return f"cycle_days and {mixed[0]} together: a period meets by one or the other" if mixed else None
    weekly = str(fields.get("class_repeat_type", "4")).strip().lower() in ("4", "weekly")
    if weekly and "days_of_week" not in fields:
        return "needs days_of_week (a weekly pattern) or cycle_days (a rotating cycle)"
    return None


def _meetings(pattern: dict[str, Any], span: tuple[date, date]) -> dict[str, Any]:
    """A section's schedule fields: the pattern's, its time of day on the window's first day, to its last."""
    first, last = span
    at = read_time_of_day(pattern["start_time"])
    fields = dict(pattern)
    if "cycle_days" not in fields:
        fields.setdefault("class_repeat_type", 4)
    fields["start_time"] = f"{first.isoformat()}T{at:%H:%M}"
    fields["class_end_date"] = last.isoformat()
    return fields


__all__ = ["VERSIONS", "OneRosterError", "read_oneroster"]
