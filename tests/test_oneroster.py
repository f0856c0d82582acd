"""Sections from a OneRoster 1.1/1.2 CSV bundle (airflow_provider_wiziq.oneroster), compared with the generated
school's own data (tests/support/oneroster.py), never with what the files say; its errors, each naming its file
and row; and the shipped sample, which the generator makes."""

from __future__ import annotations

import json
import logging
import zipfile
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wiziq.api.protocol.errors import WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.rules.calendar import cycle_dates, read_calendar
from airflow_provider_wiziq.api.rules.dates import classes_on
from airflow_provider_wiziq.api.rules.term import check_term, desired_schedule
from airflow_provider_wiziq.example_dags import (
    FOLDER,
    ONEROSTER_CALENDAR,
    ONEROSTER_MEETING_PATTERNS,
    ONEROSTER_SAMPLE,
)
from airflow_provider_wiziq.oneroster import OneRosterError, read_oneroster
from tests.support.instants import instants
from tests.support.oneroster import (
    ATTENDEE_LIMIT,
    PATTERNS,
    SESSIONS,
    TIME_ZONE,
    School,
    calendar_csv,
    files,
    patterns_csv,
    sample_files,
    school,
    write_bundle,
)

SPANS = {sid: (start, end) for sid, _, _, start, end, _ in SESSIONS}


def expected(made: School, term: str | None = None) -> list[dict[str, str]]:
    """The sections the school's data gives, worked out from the data (every value as text)."""
    patterns = {row["period"]: {"time_zone": TIME_ZONE, "attendee_limit": ATTENDEE_LIMIT, **row} for row in PATTERNS}
    sections = []
    for klass in made.classes:
        spans = [SPANS[session] for session in klass["terms"].split(",")]
        first, last = min(span[0] for span in spans), max(span[1] for span in spans)
        if term is not None:
            first, last = max(first, SPANS[term][0]), min(last, SPANS[term][1])
            if last < first:
                continue
        class_id, periods = klass["sourcedId"], klass["periods"].split(",")
        if class_id in patterns:
            meetings = [(class_id, patterns[class_id])]
        else:
            keys = [class_id] if len(periods) == 1 else [f"{class_id}:{period}" for period in periods]
            meetings = [
                (key, patterns[period]) for key, period in zip(keys, periods, strict=True) if period in patterns
            ]
        for key, pattern in meetings:
            fields = {name: str(value) for name, value in pattern.items() if name != "period"}
            if "cycle_days" not in fields:
                fields.setdefault("class_repeat_type", "4")
            fields.update(start_time=f"{first}T{fields['start_time']}", class_end_date=str(last))
            sections.append(
                {
                    "key": key,
                    "title": klass["title"],
                    "presenter_email": made.presenter(class_id),
                    "attendees": made.roster(class_id),
                    **fields,
                }
            )
    return sections


def as_text(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sections with their scalar values as text (patterns given as a dict hold numbers, from CSV text)."""
    return [
        {name: value if name == "attendees" else str(value) for name, value in section.items()} for section in sections
    ]


@pytest.fixture(scope="module")
def big() -> School:
    return school(students=1000, classes=40)


@pytest.fixture(scope="module")
def bundle(big, tmp_path_factory) -> Path:
    return write_bundle(tmp_path_factory.mktemp("oneroster") / "fall", big)


@pytest.fixture(scope="module")
def patterns_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("patterns") / "meeting_patterns.csv"
    path.write_text(patterns_csv(), encoding="utf-8")
    return path


def test_a_1000_student_bundle_gives_its_sections(big, bundle, patterns_file):
    sections = read_oneroster(bundle, patterns_file)
    assert as_text(sections) == expected(big)
    assert len(big.students) == 1000 and len(big.classes) == 40
    assert sum(len(section["attendees"]) for section in sections) > 1500
    assert {key for section in sections if ":" in (key := section["key"])} >= {"CLS-006:7", "CLS-006:2"}
    co_taught = next(section for section in sections if section["key"] == "CLS-004")
    assert co_taught["presenter_email"] == "ema.varga4@school.example"  # the primary teacher, listed after another


def test_a_zip_a_nested_zip_and_version_1_2_give_the_same_sections(big, bundle, patterns_file, tmp_path):
    by_folder = read_oneroster(bundle, patterns_file)
    assert read_oneroster(write_bundle(tmp_path / "flat", big, zipped=True), patterns_file) == by_folder
    nested = write_bundle(tmp_path / "nested", big, zipped=True, inner="export-2027-08-20")
    assert read_oneroster(str(nested), str(patterns_file)) == by_folder
    assert read_oneroster(write_bundle(tmp_path / "v12", big, version="1.2"), patterns_file) == by_folder


def test_meeting_patterns_come_as_a_dict_a_list_json_or_csv_text(big, bundle, patterns_file):
    by_file = as_text(read_oneroster(bundle, patterns_file))
    by_period = {row["period"]: {"time_zone": TIME_ZONE, "attendee_limit": ATTENDEE_LIMIT, **row} for row in PATTERNS}
    dict_form = {label: {k: v for k, v in row.items() if k != "period"} for label, row in by_period.items()}
    for form in (dict_form, list(by_period.values()), json.dumps(dict_form), patterns_csv()):
        assert as_text(read_oneroster(bundle, form)) == by_file


def test_a_term_keeps_the_classes_meeting_in_it_over_their_part_of_it(big, bundle, patterns_file):
    spring = read_oneroster(bundle, patterns_file, term="S2028")
    assert as_text(spring) == expected(big, "S2028")
    assert {section["key"] for section in spring} == {"CLS-009", "CLS-012", "CLS-019", "CLS-025", "CLS-029", "CLS-038"}
    year_long = next(section for section in spring if section["key"] == "CLS-009")
    assert (year_long["start_time"], year_long["class_end_date"]) == ("2028-01-10T08:00", "2028-05-26")
    fall = read_oneroster(bundle, patterns_file, term="F2027")
    assert as_text(fall) == expected(big, "F2027")
    assert as_text(read_oneroster(bundle, patterns_file, term="Y2027")) == expected(big)


def test_classes_with_no_pattern_are_left_out_with_a_warning_naming_each(bundle, patterns_file, caplog):
    with caplog.at_level(logging.WARNING, logger="airflow_provider_wiziq.oneroster"):
        sections = read_oneroster(bundle, patterns_file)
    (record,) = caplog.records
    message = record.getMessage()
    left_out = ["CLS-007", "CLS-015", "CLS-020", "CLS-023", "CLS-031", "CLS-039"]
    assert all(f"{class_id} (period 8)" in message for class_id in left_out)
    assert not {section["key"] for section in sections} & set(left_out)
    assert "CLS-020:5" in {section["key"] for section in sections}  # its other period has a pattern


def test_its_rule_sections_are_valid_term_sections_and_its_cycle_sections_meet_on_the_calendar(bundle, patterns_file):
    sections = read_oneroster(bundle, patterns_file, term="F2027")
    rules = [section for section in sections if "cycle_days" not in section]
    valid, _, invalid = check_term(rules, [], PlanLimits(max_user_per_class=100))
    assert invalid == {} and set(valid) == {section["key"] for section in rules}
    monday_wednesday_friday = desired_schedule(valid["CLS-000"], frozenset()).desired
    assert {c.local_start.weekday() for c in monday_wednesday_friday} == {0, 2, 4}
    assert monday_wednesday_friday[0].local_start.date() == date(2027, 9, 8)  # the first Wednesday of the term
    calendar = read_calendar(calendar_csv())
    for section in (section for section in sections if "cycle_days" in section):
        first = date.fromisoformat(section["start_time"][:10])
        days = cycle_dates(calendar, section["cycle_days"], first, end=date.fromisoformat(section["class_end_date"]))
        assert {calendar[day] for day in days} == {section["cycle_days"]}
        classes = classes_on(days, section["start_time"][11:], section["time_zone"])
        assert [c.utc_start for c in classes] == instants(list(days), time(9, 45), TIME_ZONE)


def test_only_the_files_present_are_read(tmp_path):
    texts = files(school(students=20, classes=4))
    folder = tmp_path / "bare"
    folder.mkdir()
    manifest = "propertyName,value\r\noneroster.version,1.1\r\n"  # no other manifest row is needed
    for name, text in {**texts, "manifest.csv": manifest}.items():
        if name in ("manifest.csv", "classes.csv", "academicSessions.csv"):
            (folder / name).write_text(text)
    pattern = {"time_zone": TIME_ZONE, "presenter_email": "office@school.example"}
    patterns = {str(n): {**row, **pattern} for n, row in enumerate(PATTERNS, start=1) if row["period"] != "CLS-005"}
    sections = read_oneroster(folder, patterns)
    assert [section["key"] for section in sections] == ["CLS-000", "CLS-001", "CLS-002", "CLS-003"]
    assert all(s["attendees"] == [] and s["presenter_email"] == "office@school.example" for s in sections)
    assert sections[0]["title"] == "Algebra I - A"


# Errors -----------------------------------------------------------------------------------------------------------


def edited(tmp_path: Path, **changes: Any) -> Path:
    """A small bundle whose files are changed: a name maps to new text, to a function of the text, or to None."""
    texts = files(school(students=30, classes=6))
    for name, change in changes.items():
        name = name.replace("_", ".", 1) if name.endswith("_csv") else name
        texts[name] = change(texts[name]) if callable(change) else change
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name, text in texts.items():
        if text is not None:
            (folder / name).write_text(text, newline="")
    return folder


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"manifest_csv": None}, "manifest.csv is not in the bundle bundle"),
        (
            {"manifest_csv": lambda t: t.replace("oneroster.version,1.1", "oneroster.version,1.0")},
            "oneroster.version is '1.0'",
        ),
        (
            {"manifest_csv": lambda t: t.replace("file.enrollments,bulk", "file.enrollments,delta")},
            "manifest.csv marks enrollments.csv as delta",
        ),
        ({"classes_csv": None}, "classes.csv is not in the bundle"),
        (
            {"classes_csv": lambda t: t.replace("termSourcedIds", "terms", 1)},
            "classes.csv line 1: no column termSourcedIds",
        ),
        (
            {"classes_csv": lambda t: t.replace(",F2027,", ",X2027,", 1)},
            "classes.csv line 2: class CLS-000's term X2027 is not in academicSessions.csv",
        ),
        ({"academicSessions_csv": None}, "class CLS-000's term F2027 is not in the bundle"),
        (
            {"academicSessions_csv": lambda t: t.replace("2027-12-17", "2027-12-32")},
            "academicSessions.csv line 3: '2027-12-32' is not a date",
        ),
        (
            {"academicSessions_csv": lambda t: t.replace("2027-12-17", "2027-08-01")},
            "academicSessions.csv line 3: endDate 2027-08-01 is before startDate",
        ),
        (
            {"enrollments_csv": lambda t: t.replace(",STU-0003,", ",STU-9999,")},
            "enrollments.csv line 15: student STU-9999 is not in users.csv",
        ),
        ({"users_csv": None}, "student STU-0003 is not in users.csv (users.csv not in the bundle)"),
        (
            {"users_csv": lambda t: t.replace("ada.ng0@school.example", "ada")},
            "users.csv line 2: teacher TCH-000 has no email",
        ),
        ({"enrollments_csv": None}, "class CLS-000 has no teacher with an email (enrollments.csv not in the bundle)"),
        (
            {"users_csv": lambda t: t.replace(",Ada,Ng,", ",,,")},
            "users.csv line 5: user STU-0000 has no givenName nor familyName",
        ),
    ],
)
def test_a_bad_bundle_is_an_error_naming_the_file_and_the_row(tmp_path, changes, says):
    with pytest.raises(OneRosterError) as raised:
        read_oneroster(edited(tmp_path, **changes), patterns_csv())
    assert says in str(raised.value)
    assert isinstance(raised.value, WizIQValidationError) and raised.value.parameter == "oneroster"


def test_every_problem_is_reported_at_once(tmp_path):
    bundle = edited(tmp_path, users_csv=lambda t: t.replace(",Ada,Ng,", ",,,").replace(",Ben,Silva,", ",,,"))
    with pytest.raises(OneRosterError, match="problems: ") as raised:
        read_oneroster(bundle, patterns_csv())
    assert len(raised.value.problems) > 2


@pytest.mark.parametrize(
    ("patterns", "says"),
    [
        (
            [{"period": "1", "days_of_week": "monday", "time_zone": "UTC", "duration": 50}],
            "meeting_patterns row 1 (1): needs start_time",
        ),
        ([{"period": "1", "start_time": "09:00", "duration": 50, "days_of_week": "monday"}], "needs time_zone"),
        (
            [{"period": "1", "start_time": "8am", "time_zone": "UTC", "duration": 50, "days_of_week": "monday"}],
            "start_time: '8am' is not a time of day",
        ),
        (
            [{"period": "1", "start_time": "09:00", "time_zone": "UTC", "duration": 50}],
            "needs days_of_week (a weekly pattern) or cycle_days",
        ),
        (
            [
                {
                    "period": "1",
                    "start_time": "09:00",
                    "time_zone": "UTC",
                    "duration": 50,
                    "cycle_days": "A",
                    "days_of_week": "monday",
                }
            ],
            "cycle_days and days_of_week together",
        ),
        (
            [{"period": "1", "start_time": "09:00", "time_zone": "UTC", "duration": 50, "class_dates": "2027-09-07"}],
            "class_dates has no place",
        ),
        ([{"start_time": "09:00"}], "meeting_patterns row 1: names no period"),
        (
            [{**PATTERNS[0], "time_zone": "UTC"}, {**PATTERNS[0], "time_zone": "UTC"}],
            "row 2 (1): the period 1 has a pattern already",
        ),
        (None, "meeting_patterns: is None"),
        ("no,such,file.csv", "meeting_patterns: no such file"),
    ],
)
def test_bad_meeting_patterns_are_an_error_naming_the_row(tmp_path, patterns, says):
    with pytest.raises(OneRosterError) as raised:
        read_oneroster(edited(tmp_path), patterns)
    assert says in str(raised.value)


def test_a_term_that_is_no_session_and_a_path_that_is_no_bundle_are_errors(tmp_path):
    with pytest.raises(OneRosterError, match=r"term 'W2027' is no academicSessions sourcedId \(they are: F2027, S"):
        read_oneroster(edited(tmp_path), patterns_csv(), term="W2027")
    (tmp_path / "notes.txt").write_text("hello")
    for path in (tmp_path / "notes.txt", tmp_path / "missing"):
        with pytest.raises(OneRosterError, match="is neither a folder nor a zip"):
            read_oneroster(path, patterns_csv())
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as empty:
        empty.writestr("readme.txt", "nothing")
    with pytest.raises(OneRosterError, match=r"manifest\.csv is not in the bundle empty\.zip"):
        read_oneroster(tmp_path / "empty.zip", patterns_csv())


# The shipped sample -----------------------------------------------------------------------------------------------


def test_the_shipped_sample_is_what_the_generator_makes():
    for relative, text in sample_files().items():
        with open(FOLDER / relative, encoding="utf-8", newline="") as shipped:
            assert shipped.read() == text, f"{relative} differs: python -m tests.support.oneroster regenerates it"
    assert {path.name for path in ONEROSTER_SAMPLE.iterdir()} == {
        relative.split("/")[1] for relative in sample_files() if relative.startswith("oneroster_sample/")
    }


def test_the_shipped_sample_reads_with_its_patterns_and_its_calendar():
    sections = read_oneroster(ONEROSTER_SAMPLE, ONEROSTER_MEETING_PATTERNS)
    assert as_text(sections) == expected(school(students=150, classes=12))
    calendar = read_calendar(ONEROSTER_CALENDAR)
    assert calendar.labels == {"A", "B"} and min(calendar) == date(2027, 9, 7)
    assert any("cycle_days" in section for section in sections)
