"""A term's export read as users hand it over (api.rules.export): lists, JSON, Python's repr, CSV from Excel,
files, pandas records; what is no export, unknown columns, keys and rosters refused clearly. No Airflow here."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_wiziq.api.protocol.errors import WizIQValidationError
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.rules.export import SECTION_FIELDS, read_export
from airflow_provider_wiziq.api.rules.term import check_term
from airflow_provider_wiziq.example_dags import FALL_TERM_SECTIONS

HEADER = "key,title,presenter_email,time_zone,start_time,class_repeat_type,class_occurrence,duration"


def spec(**changes):
    return {
        "key": "S1",
        "title": "Algebra",
        "presenter_email": "t@school.example",
        "time_zone": "America/New_York",
        "start_time": "2027-09-06T09:00",
        "class_repeat_type": "weekly",
        "days_of_week": "monday",
        "class_occurrence": 4,
        **changes,
    }


def term(value, **kwargs):
    sections, _, invalid = check_term(value, [], PlanLimits(), **kwargs)
    return sections, invalid


def refused(value, **kwargs) -> str:
    with pytest.raises(WizIQValidationError) as caught:
        read_export(value, **kwargs)
    assert caught.value.parameter == kwargs.get("name", "sections")
    return str(caught.value)


# The forms ----------------------------------------------------------------------------------------------------


def test_a_list_or_tuple_of_dicts_is_read_as_it_is():
    rows = [spec(), spec(key="S2")]
    assert read_export(rows) == rows
    assert read_export(tuple(rows)) == rows
    assert read_export(json.dumps(rows)) == rows


def test_pythons_repr_of_a_list_is_read_and_the_xcomarg_is_named_as_the_better_form(caplog):
    rows = [spec(duration=None, create_recording=True)]  # what a template renders: single quotes, None, True
    with caplog.at_level(logging.INFO, logger="airflow_provider_wiziq"):
        read = read_export(str(rows))
    assert read == [{k: v for k, v in rows[0].items() if v is not None}]
    said = [record.getMessage() for record in caplog.records if "repr" in record.getMessage()]
    assert len(said) == 1 and "XComArg" in said[0]


def test_a_repr_is_read_as_a_literal_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    code = f"[__import__('pathlib').Path({str(marker)!r}).touch()]"
    assert "not valid JSON (nor a Python list)" in refused(code)
    assert not marker.exists()


def test_a_dict_maps_each_key_to_its_section():
    read = read_export({"S1": {k: v for k, v in spec().items() if k != "key"}, "S2": spec(key="S2")})
    assert [row["key"] for row in read] == ["S1", "S2"]
    assert "put it in a list" in refused(spec())  # one section's dict is no dict of sections
    assert "has the key 'S9'" in refused({"S1": spec(key="S9")})


def test_csv_text_leaves_blank_cells_out():
    text = f"{HEADER},days_of_week\nS1,Algebra,t@school.example,America/New_York,2027-09-06T09:00,3,4,,\n"
    (row,) = read_export(text)
    assert row["key"] == "S1" and "duration" not in row and "days_of_week" not in row


def test_csv_saved_by_excel_with_a_byte_order_mark_reads_its_first_column(tmp_path):
    text = f"{HEADER}\nS1,Algebra,t@school.example,America/New_York,2027-09-06T09:00,3,4,45\n"
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("utf-8-sig"))  # Excel's "CSV UTF-8"
    assert read_export(str(path))[0]["key"] == "S1"
    assert read_export("\ufeff" + text)[0]["key"] == "S1"  # the same text handed over as a string
    assert read_export(path.read_bytes())[0]["key"] == "S1"
    sections, invalid = term(str(path))
    assert invalid == {} and list(sections) == ["S1"]


def test_a_file_is_read_as_data_absolute_or_from_the_base_folder(tmp_path):
    (tmp_path / "export.json").write_text(json.dumps([spec(title="{{ not a template }}")]))
    (tmp_path / "export.csv").write_text(
        f"{HEADER}\nS1,{{{{ ds }}}},t@school.example,America/New_York,2027-09-06T09:00,3,4,45\n"
    )
    assert read_export(str(tmp_path / "export.json"))[0]["title"] == "{{ not a template }}"
    assert read_export(tmp_path / "export.json")[0]["key"] == "S1"  # a Path too
    assert read_export("export.csv", base=tmp_path)[0]["title"] == "{{ ds }}"
    message = refused("export.csv", base=tmp_path / "dags")
    assert "no such file" in message and str(tmp_path / "dags") in message
    assert "no such file" in refused(str(tmp_path / "missing.csv"))


def test_cells_from_pandas_records_read_as_the_sheet_shows_them():
    nan = float("nan")
    rows = [spec(class_occurrence=4.0, duration=45.0, attendee_limit=nan, return_url=None, key=101.0)]
    (row,) = read_export(rows)
    assert row["class_occurrence"] == 4 and type(row["class_occurrence"]) is int
    assert row["key"] == 101 and "attendee_limit" not in row and "return_url" not in row
    sections, invalid = term(rows)
    assert invalid == {} and sections["101"].request.duration == 45


def test_a_float_that_is_no_whole_number_is_still_an_error_naming_its_column():
    _, invalid = term([spec(duration=45.5)])
    assert "duration" in str(invalid["S1"]) and "whole number" in str(invalid["S1"])


@pytest.mark.parametrize("nothing", [None, "", "   ", "None", "null", "none", "\ufeff"])
def test_what_is_no_export_is_a_clear_error_naming_sections(nothing):
    message = refused(nothing)
    assert message.startswith("sections: ")


def test_an_empty_list_and_a_header_only_csv_are_empty_exports():
    assert read_export("[]") == []
    assert read_export("key,title\n") == []  # a header naming the key, and no section yet


def test_the_bulk_operators_name_is_used_in_its_errors():
    assert refused("None", name="series").startswith("series: ")


# Columns, keys, rosters ----------------------------------------------------------------------------------------


def test_an_unknown_column_is_reported_once_for_the_whole_export_with_its_likely_meaning():
    rows = [{**spec(key=f"S{n}"), "titel": "x", "room": "12"} for n in range(40)]
    with pytest.raises(WizIQValidationError) as caught:
        term(rows)
    message = str(caught.value)
    assert message.count("titel") == 1 and "(did you mean 'title'?)" in message
    assert "'room'" in message and message.count("did you mean") == 1
    assert caught.value.parameter == "sections"


def test_the_known_fields_are_the_sections_own_and_create_recurrings():
    assert {"key", "attendees", "class_dates", "cycle_days", "title", "class_repeat_type", "days_of_week"} <= set(
        SECTION_FIELDS
    )


def test_section_id_is_another_name_for_key_and_the_sample_export_loads():
    (row,) = read_export([{**{k: v for k, v in spec().items() if k != "key"}, "section_id": "F-1"}])
    assert row["key"] == "F-1" and "section_id" not in row
    sections, invalid = term(str(FALL_TERM_SECTIONS))
    assert invalid == {} and len(sections) == 40 and "F27-100" in sections
    assert "both key and section_id" in refused([{**spec(), "section_id": "F-1"}])


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("S\x001", "control character U+0000"),
        ("S\ud8001", "lone surrogate"),
        ("S" * 101, "101 characters, at most 100"),
        (1.5, "must be text or a whole number"),
        (["S1"], "must be text or a whole number"),
    ],
)
def test_a_section_key_is_checked_like_every_text(key, says):
    _, invalid = term([spec(key=key), spec(key="ok")])
    assert says in str(invalid["#0"])
    assert invalid["#0"].parameter == "key"


def test_a_roster_error_names_the_attendee_by_position_and_id():
    roster = [{"attendee_id": "s-1", "screen_name": "Ana"}, {"attendee_id": "s-2", "screen_name": ""}]
    _, invalid = term([spec(attendees=roster)])
    message = str(invalid["S1"])
    assert "attendee #1 ('s-2'): screen_name" in message and invalid["S1"].code == 1023
    _, invalid = term([spec(attendees=[{"screen_name": "Ana"}])])
    assert "attendee #0: attendee_id" in str(invalid["S1"]) and invalid["S1"].code == 1024
    _, invalid = term(
        [spec(attendees=json.dumps([{"attendee_id": "s-1", "screen_name": "A", "language_culture_name": "xx"}]))]
    )
    assert "attendee #0 ('s-1'): language_culture_name" in str(invalid["S1"])


def test_a_roster_from_a_dataframe_reads_whole_number_ids_and_blank_languages():
    roster = [{"attendee_id": 1001.0, "screen_name": "Ana", "language_culture_name": float("nan")}]
    sections, invalid = term([spec(attendees=roster)])
    assert invalid == {}
    assert sections["S1"].attendees == (("1001", "Ana", None),)
