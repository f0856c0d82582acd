"""Reading a term's export (the ``sections`` argument) as users hand it over, into one list of section dicts.

An export is what a student information system, a spreadsheet or a dataframe gives: a list of dicts (what an
XComArg resolves to), JSON text, Python's repr of a list (a ``{{ ti.xcom_pull(...) }}`` template renders
that), CSV text (Excel's byte-order mark included), or the path of a ``.json`` / ``.csv`` file, read as data,
never as a template. A relative path is read from ``base`` (the operator passes the DAG file's folder).
Cells are read as a sheet shows them: a blank, ``None`` or NaN cell is left out, and a whole float
(``30.0``, as pandas writes an integer column with gaps) is the whole number. A column no section field is
named is refused once for the whole export, with the field it most likely meant.
"""

from __future__ import annotations

import ast
import csv
import difflib
import io
import json
import logging
import math
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_provider_wiziq.api.protocol import values
from airflow_provider_wiziq.api.protocol.errors import Code, WizIQValidationError
from airflow_provider_wiziq.api.protocol.vocabulary import CREATE_PARAMETERS, RECURRENCE_PARAMETERS

log = logging.getLogger(__name__)

#: What a section may hold besides ``create_recurring``'s parameters.
SECTION_OWN_FIELDS = ("key", "attendees", "class_dates", "cycle_days")
#: Every field a section may hold, as the export's column names.
SECTION_FIELDS = SECTION_OWN_FIELDS + CREATE_PARAMETERS + RECURRENCE_PARAMETERS
#: Another name an export may give ``key``: student information systems call it so (the sample export does).
KEY_ALIASES = ("section_id",)
#: A section key names a ledger entry and a line of the plan: printable text of at most this many characters.
MAX_KEY_LENGTH = 100
#: The file suffixes read as an export's file.
FILE_SUFFIXES = (".json", ".csv")
#: The fields of one attendee of a roster.
ATTENDEE_FIELDS = ("attendee_id", "screen_name", "language_culture_name")


def read_export(value: Any, *, name: str = "sections", base: str | os.PathLike[str] | None = None) -> list[Any]:
    """The export as a list of rows: dict rows with their cells read and ``section_id`` named ``key``.

    Anything that is no export (``None``, ``""``, ``"None"`` as a template renders an upstream task that
    returned nothing) is a :class:`WizIQValidationError` naming ``name``; so is an unknown column.
    """
    rows = read_rows(value, name=name, base=base)
    check_columns(rows, name=name)
    return [read_row(row) if isinstance(row, Mapping) else row for row in rows]


def read_rows(value: Any, *, name: str = "sections", base: str | os.PathLike[str] | None = None) -> list[Any]:
    """The rows of an export in any of its forms, as given (cells not read yet)."""
    if value is None:
        raise WizIQValidationError(name, "is None: the export is empty (did the task that makes it return nothing?)")
    if isinstance(value, os.PathLike):
        return _read_file(Path(value), name=name, base=base)
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise WizIQValidationError(name, f"is not UTF-8 text: {error}") from None
    if isinstance(value, str):
        return _read_text(value, name=name, base=base)
    return _as_rows(value, name=name)


def _read_text(value: str, *, name: str, base: str | os.PathLike[str] | None) -> list[Any]:
    text = value.lstrip("\ufeff").strip()
    if not text:
        raise WizIQValidationError(name, "is empty text (a template renders a missing XCom value as '')")
    if "\n" not in text and text.lower().endswith(FILE_SUFFIXES):
        return _read_file(Path(text), name=name, base=base)
    if text.startswith(("[", "{", "(")):
        return _as_rows(_structured(text, name=name), name=name)
    rows = _csv_rows(text)
    if not rows and not _names_a_key(text):
        raise WizIQValidationError(
            name,
            f"{values.quoted(text)} is no export: not JSON, not a Python list, not a .json or .csv file, and not CSV "
            "with a header and rows ('None' is what a template renders when the upstream task returned nothing)",
        )
    return rows


def _structured(text: str, *, name: str) -> Any:
    """JSON, or else Python's repr of a list or dict (read with ``ast.literal_eval``, which runs no code)."""
    try:
        return json.loads(text)
    except ValueError as error:
        json_error = error
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise WizIQValidationError(name, f"is not valid JSON (nor a Python list): {json_error}") from None
    log.info(
        "%s is Python's repr of a list, as a template renders an XCom value: it is read, but passing the upstream "
        "task's output itself (an XComArg: sections=export() or sections=task.output) keeps its values as they are",
        name,
    )
    return parsed


def _read_file(given: Path, *, name: str, base: str | os.PathLike[str] | None) -> list[Any]:
    """A .json or .csv file read as data (UTF-8, with or without a byte-order mark); relative to ``base``."""
    path = Path(base) / given if base is not None and not given.is_absolute() else given
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise WizIQValidationError(name, f"the file {path} is neither .json nor .csv")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        where = "" if given.is_absolute() else f" ({given} is read from {base or Path.cwd()})"
        raise WizIQValidationError(name, f"no such file: {path}{where}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise WizIQValidationError(name, f"cannot read {path}: {error}") from None
    if suffix == ".csv":
        return _csv_rows(text)
    try:
        return _as_rows(json.loads(text), name=name)
    except ValueError as error:
        raise WizIQValidationError(name, f"{path} is not valid JSON: {error}") from None


def _csv_rows(text: str) -> list[Any]:
    """CSV rows as dicts of their non-blank cells (a cell is text: an ``attendees`` cell holds JSON)."""
    rows: list[Any] = []
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        rows.append({key.strip(): cell for key, cell in row.items() if key and isinstance(cell, str) and cell.strip()})
    return rows


def _names_a_key(text: str) -> bool:
    """Whether the first line of CSV text is a header naming the key column (an export with no section yet)."""
    header = next(csv.reader(io.StringIO(text)), [])
    return any(column.strip() in ("key", *KEY_ALIASES) for column in header)


def _as_rows(value: Any, *, name: str) -> list[Any]:
    """A list or tuple of rows as they are; a dict maps each section's key to its fields."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, Mapping):
        return _rows_by_key(value, name=name)
    raise WizIQValidationError(
        name,
        f"must be a list of dicts, a dict of them by key, JSON or CSV text, or a .json/.csv file, "
        f"not {type(value).__name__}",
    )


def _rows_by_key(value: Mapping[Any, Any], *, name: str) -> list[Any]:
    """``{"F27-100": {"title": ...}, ...}`` as rows, each with its key."""
    rows = []
    for key, fields in value.items():
        if not isinstance(fields, Mapping):
            raise WizIQValidationError(
                name,
                f"a dict of {name} maps each key to its fields, but {values.quoted(key)} maps to a "
                f"{type(fields).__name__} (only one? put it in a list)",
            )
        given = _key_of(fields)
        if given is not None and str(given).strip() != str(key).strip():
            raise WizIQValidationError(
                name, f"the section under {values.quoted(key)} has the key {values.quoted(given)}"
            )
        rows.append({**{k: v for k, v in fields.items() if k not in ("key", *KEY_ALIASES)}, "key": key})
    return rows


def _key_of(row: Mapping[Any, Any]) -> Any:
    for column in ("key", *KEY_ALIASES):
        if column in row:
            return row[column]
    return None


def check_columns(rows: list[Any], *, name: str = "sections") -> None:
    """Refuse, once for the whole export, columns no section field is named, each with its likely meaning."""
    columns: dict[str, None] = {}
    for row in rows:
        if isinstance(row, Mapping):
            columns.update(dict.fromkeys(str(column) for column in row))
    unknown = [column for column in columns if column not in SECTION_FIELDS and column not in KEY_ALIASES]
    if unknown:
        named = ", ".join(f"{values.quoted(column)}{_did_you_mean(column)}" for column in unknown)
        raise WizIQValidationError(
            name,
            f"unknown {'column' if len(unknown) == 1 else 'columns'} {named}: a section has a key, optionally "
            "attendees, and create_recurring's parameters by WizIQ's names (title, start_time, time_zone, ...)",
        )
    aliased = [alias for alias in KEY_ALIASES if alias in columns]
    if aliased and "key" in columns:
        raise WizIQValidationError(name, f"has both key and {aliased[0]} columns ({aliased[0]} is key's other name)")


def _did_you_mean(column: str) -> str:
    close = difflib.get_close_matches(column.strip().lower(), SECTION_FIELDS, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row's cells as a sheet means them, ``section_id`` named ``key``."""
    read: dict[str, Any] = {}
    for column, cell in row.items():
        value = read_cell(cell)
        if value is not None:
            read["key" if column in KEY_ALIASES else str(column)] = value
    return read


def read_cell(cell: Any) -> Any:
    """A cell's value: None for a blank (None, NaN), a whole number for a whole float, else the cell itself."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, numbers.Integral):
        return int(cell)
    if isinstance(cell, numbers.Real):
        number = float(cell)
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() else cell
    return cell


def section_key(row: Mapping[str, Any]) -> str | None:
    """A section's key as text (a string or a whole number), checked like every text; None if it has none."""
    value = row.get("key")
    if isinstance(value, bool) or (value is not None and not isinstance(value, (str, int))):
        raise WizIQValidationError("key", f"must be text or a whole number, got {values.quoted(value)}")
    return values.text("key", value, max_length=MAX_KEY_LENGTH, whole_number_ok=True)


def read_roster(value: Any) -> tuple[tuple[str, str, str | None], ...]:
    """A section's ``attendees``: a list of dicts (or its JSON), as ``(attendee_id, screen_name, language)``
    sorted by id, one entry per id. An error names the attendee by position and ``attendee_id``."""
    if not values.is_given(value):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise WizIQValidationError("attendees", f"is not valid JSON: {error}") from None
    if not isinstance(value, (list, tuple)):
        raise WizIQValidationError("attendees", "must be a list of attendees (attendee_id, screen_name)")
    roster: dict[str, tuple[str, str, str | None]] = {}
    for position, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise WizIQValidationError("attendees", f"attendee #{position} is a {type(item).__name__}, not a dict")
        cells = {field: read_cell(cell) for field, cell in item.items()}
        try:
            attendee_id = values.text(
                "attendee_id", cells.get("attendee_id"), missing_code=Code.ATTENDEE_ID_MISSING, whole_number_ok=True
            )
            screen_name = values.text("screen_name", cells.get("screen_name"), missing_code=Code.SCREEN_NAME_MISSING)
            language = values.language("language_culture_name", cells.get("language_culture_name"))
        except WizIQValidationError as error:
            who = f" ({values.quoted(cells.get('attendee_id'))})" if values.is_given(cells.get("attendee_id")) else ""
            raise WizIQValidationError(
                "attendees", f"attendee #{position}{who}: {error.parameter}: {error.detail}", code=error.code
            ) from None
        assert attendee_id is not None and screen_name is not None
        roster[attendee_id] = (attendee_id, screen_name, language)
    return tuple(sorted(roster.values()))


__all__ = [
    "KEY_ALIASES",
    "MAX_KEY_LENGTH",
    "SECTION_FIELDS",
    "check_columns",
    "read_cell",
    "read_export",
    "read_roster",
    "read_row",
    "read_rows",
    "section_key",
]
