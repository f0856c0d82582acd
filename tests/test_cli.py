"""``wiziq-term``: plan (reads only, exit 0/1/2, --json, a connection URI read as Airflow reads it, a ledger path)
and rehearse (day by day on a moving emulator clock, dated exports, refused days), called in process and once as
the installed console script, with Airflow made unimportable."""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import fsspec
import pytest

import airflow_provider_wiziq.cli as cli_package
from airflow_provider_wiziq.api.engine.stores import FsspecStore, term_folder
from airflow_provider_wiziq.api.protocol.config import config_from_airflow_connection
from airflow_provider_wiziq.cli import account, main
from airflow_provider_wiziq.cli.connection import connection_fields, read_connection
from airflow_provider_wiziq.emulator.server import WizIQEmulator
from airflow_provider_wiziq.example_dags import FALL_TERM_SECTIONS
from tests.support.term import EngineTerm

READS = {"get_data"}
#: The next fall term, so that every class of a plan against the real clock is ahead.
YEAR = date.today().year + 1
COLUMNS = ("key", "title", "presenter_email", "time_zone", "start_time", "class_repeat_type", "days_of_week",
           "class_end_date", "duration", "attendee_limit")  # fmt: skip


def section(key: str, year: int = YEAR, **changes: Any) -> dict[str, Any]:
    """A Monday-and-Wednesday section at 09:00 in New York, from September to mid-December."""
    return {
        "key": key,
        "title": f"Section {key}",
        "presenter_email": f"{key.lower()}@school.example",
        "time_zone": "America/New_York",
        "start_time": f"{year}-09-06T09:00",
        "class_repeat_type": "weekly",
        "days_of_week": "monday,wednesday",
        "class_end_date": f"{year}-12-17",
        "duration": 45,
        "attendee_limit": 30,
        **changes,
    }


def write_export(path: Path, sections: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(sections)
    return path


def wiziq_term(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the console script's function in process: its exit status, stdout and stderr."""
    status = main([str(item) for item in argv])
    out, err = capsys.readouterr()
    return status, out, err


def files(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def methods(emulator: WizIQEmulator) -> set[str]:
    return {item["method"] for item in emulator.requests()}


# plan -----------------------------------------------------------------------------------------------------


def test_plan_sends_only_reads_and_says_0_for_no_change_and_2_for_changes(wiziq_emulator, tmp_path, capsys):
    export = write_export(tmp_path / "export.csv", [section("A"), section("B")])
    uri = wiziq_emulator.connection_uri
    status, out, _ = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--conn-uri", uri)
    assert status == 2
    assert methods(wiziq_emulator) == READS
    assert re.search(r"^A +create ", out, re.MULTILINE) and "fingerprint" in out
    assert not wiziq_emulator.classes()

    EngineTerm(wiziq_emulator).run(str(export))  # a DAG run provisions the term (its ledger elsewhere)
    wiziq_emulator.clear_requests()
    status, out, _ = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--conn-uri", uri)
    assert status == 0, out  # what stands there is adopted: nothing to change
    assert methods(wiziq_emulator) == READS

    write_export(export, [section("A", start_time=f"{YEAR}-09-06T10:00"), section("B")])
    wiziq_emulator.clear_requests()
    status, out, _ = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--conn-uri", uri)
    assert status == 2  # without a ledger the moved A is a new section: what stands at 09:00 is not the term's
    assert re.search(r"^A +create ", out, re.MULTILINE) and re.search(r"^B +unchanged ", out, re.MULTILINE)
    assert methods(wiziq_emulator) == READS


def test_plan_reads_the_connection_from_airflows_variable_json_or_uri(wiziq_emulator, tmp_path, capsys, monkeypatch):
    export = write_export(tmp_path / "export.csv", [section("A")])
    for connection in (wiziq_emulator.connection_json, wiziq_emulator.connection_uri):
        monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", connection)
        assert wiziq_term(capsys, "plan", "--term", "fall", "--sections", export)[0] == 2
    monkeypatch.delenv("AIRFLOW_CONN_WIZIQ_DEFAULT")
    status, _, err = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export)
    assert status == 1 and "set AIRFLOW_CONN_WIZIQ_DEFAULT" in err


def test_plan_on_the_in_process_emulator_plans_every_create_sending_reads_only(tmp_path, capsys, monkeypatch):
    made: list[WizIQEmulator] = []

    class Recorded(WizIQEmulator):
        def start(self) -> WizIQEmulator:
            made.append(self)
            return super().start()

    monkeypatch.setattr(account, "WizIQEmulator", Recorded)
    export = write_export(tmp_path / "export.csv", [section("A"), section("B"), section("C")])
    status, out, err = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--emulator", "--json")
    assert status == 2
    result = json.loads(out)  # the whole of stdout is one JSON object
    assert {"plan", "fingerprint", "destructive", "summary", "changes", "sections"} <= set(result)
    assert [row["action"] for row in result["plan"]] == ["create"] * 3
    assert result["summary"]["dry_run"] is True and result["destructive"] is False
    assert result["summary"]["calls"] >= 1
    assert "INFO" in err and "reads only" in err  # logs on stderr
    (emulator,) = made
    assert {item["method"] for item in emulator.requests()} == READS
    assert not emulator.running


def test_the_fingerprint_is_the_one_a_run_of_the_same_export_at_the_same_time_has(tmp_path, capsys):
    export = write_export(tmp_path / "export.csv", [section("A")])
    status, out, _ = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--emulator", "--json")
    again = json.loads(wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--emulator", "--json")[1])
    assert status == 2 and json.loads(out)["fingerprint"] == again["fingerprint"]
    text = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--emulator")[1]
    assert again["fingerprint"] in text


def test_plan_reads_the_calendar_for_cycle_days_and_plans_dated_sections(tmp_path, capsys):
    days = [date(YEAR, 9, 6) + timedelta(days=n) for n in range(40)]
    school = [day for day in days if day.weekday() < 5]
    calendar = tmp_path / "calendar.csv"
    calendar.write_text("date,day\n" + "".join(f"{day},{'AB'[n % 2]}\n" for n, day in enumerate(school)))
    cycle = {**section("A"), "class_repeat_type": "", "days_of_week": "", "cycle_days": "A"}
    dated = {**section("D"), "class_repeat_type": "", "days_of_week": "", "class_end_date": "", "start_time": "08:00"}
    dated["class_dates"] = f"{YEAR}-09-07..{YEAR}-09-10"
    export = tmp_path / "export.csv"
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [*COLUMNS, "cycle_days", "class_dates"])
        writer.writeheader()
        writer.writerows([cycle, dated])
    argv = ("plan", "--term", "fall", "--sections", export, "--emulator", "--json")
    status, out, _ = wiziq_term(capsys, *argv, "--calendar", calendar)
    assert status == 2
    created = {row["key"]: row["created"] for row in json.loads(out)["plan"]}
    assert created == {"A": len(school[::2]), "D": 4}
    status, _, err = wiziq_term(capsys, *argv)
    assert status == 1 and "A: cycle_days: the term has no calendar" in err


def test_invalid_input_is_exit_1_with_every_problem_listed_and_nothing_sent(wiziq_emulator, tmp_path, capsys):
    export = write_export(
        tmp_path / "export.csv",
        [section("A", duration="forty"), section("B"), section("C", time_zone="Mars/Olympus")],
    )
    uri = "wiziq://:s3cr%2Fet-Key@class.example.org/custom.ashx?max_retries=many&colour=blue"
    status, out, err = wiziq_term(
        capsys, "plan", "--term", "fall term", "--sections", export, "--holidays", "2027-13-01",
        "--conn-uri", uri, "--max-change-fraction", "2",
    )  # fmt: skip
    assert status == 1 and out == ""
    assert "invalid input, nothing was sent" in err
    for expected in (
        "--term: 'fall term' is not a term name",
        "--holidays: '2027-13-01' is not a date",
        "--max-change-fraction: must be a fraction from 0 to 1",
        "--conn-uri: has no access key",
        "--conn-uri: has a path",
        "--conn-uri: The WizIQ connection extra max_retries must be an integer",
        "--conn-uri: Unknown WizIQ connection extra 'colour'",
        "--sections: 2 sections are invalid",
        "A: ",
        "C: ",
    ):
        assert expected in err, expected
    assert "s3cr" not in err and "et-Key" not in err
    assert wiziq_emulator.requests() == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan", "--term", "t", "--sections", "missing.csv", "--emulator"], "--sections: no such file"),
        (["plan", "--term", "t"], "the following arguments are required: --sections"),
        (["plan", "--term", "t", "--sections", "x.csv", "--emulator", "--conn-uri", "wiziq://k:s@"], "not allowed"),
        (["plan", "--term", "t", "--sections", "x.csv", "--conn-uri", "https://k:s@host"], "must be a wiziq"),
        (["plan", "--term", "t", "--sections", "x.csv", "--emulator", "--ledger-path", "file:///x"], "new, empty"),
        (["rehearse", "--term", "t", "--sections", "x.csv", "--from", "2027-09-02", "--to", "2027-09-01"], "before"),
        (["rehearse", "--term", "t", "--sections", "x.csv", "--from", "2027-09-01", "--to", "2030-01-01"], "at most"),
        (["rehearse", "--term", "t", "--sections", "x.csv", "--from", "x", "--to", "y", "--at", "25:00"], "--at"),
    ],
)
def test_usage_and_input_errors_are_exit_1(argv, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_export(tmp_path / "x.csv", [section("A")])
    status, out, err = wiziq_term(capsys, *argv)
    assert status == 1 and out == ""
    assert expected in err


def test_a_conflict_in_the_export_is_exit_1_naming_both_sections(tmp_path, capsys):
    clash = section("B", presenter_email="a@school.example")
    export = write_export(tmp_path / "export.csv", [section("A"), clash, section("C")])
    status, out, err = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--emulator")
    assert status == 1
    assert "failed" in out and "Section A cannot be provisioned" in err


def test_an_account_that_cannot_be_reached_is_exit_1_saying_why_without_the_secret(tmp_path, capsys):
    export = write_export(tmp_path / "export.csv", [section("A")])
    with WizIQEmulator() as emulator:
        uri = emulator.connection_uri + "?max_retries=0"
    status, out, err = wiziq_term(capsys, "plan", "--term", "fall", "--sections", export, "--conn-uri", uri)
    assert (status, out) == (1, "")
    assert "wiziq-term plan: " in err and "connection refused" in err
    assert emulator.secret_key not in err


def test_ledger_path_reads_a_ledger_a_run_wrote_and_writes_nothing(wiziq_emulator, tmp_path, capsys):
    folder = tmp_path / "ledger"
    export = write_export(tmp_path / "export.csv", [section(key) for key in "ABC"])
    term = FsspecStore(fsspec.filesystem("file"), term_folder(str(folder), "fall"))  # where the operator keeps it
    EngineTerm(wiziq_emulator, store=term).run(str(export))
    written = files(folder)
    assert written
    wiziq_emulator.clear_requests()
    argv = ["plan", "--term", "fall", "--sections", export, "--conn-uri", wiziq_emulator.connection_uri,
            "--ledger-path", folder.as_uri(), "--json"]  # fmt: skip
    status, out, err = wiziq_term(capsys, *argv)
    assert status == 0, err
    assert json.loads(out)["summary"]["unchanged"] == 3
    calls = wiziq_emulator.requests()
    assert {item["method"] for item in calls} == READS
    assert all("multiple_class_id" in item["fields"] for item in calls)  # the ledger's classes: no account scan
    assert files(folder) == written

    write_export(export, [section("A", start_time=f"{YEAR}-09-06T10:00"), section("B")])  # A moved, C dropped
    status, out, _ = wiziq_term(capsys, *argv)
    assert status == 2
    rows = {row["key"]: row for row in json.loads(out)["plan"]}
    assert (rows["A"]["action"], rows["A"]["reason"]) == ("reschedule", "start_time 09:00 -> 10:00")
    assert (rows["B"]["action"], rows["C"]["action"]) == ("unchanged", "cancel")
    assert json.loads(out)["destructive"] is True
    assert files(folder) == written

    argv[argv.index("--ledger-path") + 1] = (tmp_path / "elsewhere").as_uri()
    status, _, err = wiziq_term(capsys, *argv)
    assert status == 1 and "--ledger-path: no folder at" in err


# The connection URI, read as Airflow reads it ---------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "wiziq://key:s%2Fe%3Ac%40ret@https%3A%2F%2Fclass.api.wiziq.com%2Fapimanager.ashx",
        "wiziq://https://key:secret@class.api.wiziq.com%2Fapimanager.ashx/?__extra__=%7B%22max_retries%22%3A+2%7D",
        "wiziq://key:secret@class.example.org:8443?read_timeout=30&allow_insecure_http=true",
        "wiziq://key:secret@",
        "wiziq://key:secret@http%3A%2F%2F127.0.0.1%3A8765%2Fapimanager.ashx/",
    ],
)
def test_a_uri_reads_as_airflows_connection_of_it_reads(uri):
    from airflow.sdk import Connection

    airflow = Connection.from_uri(uri, conn_id="wiziq_default")
    fields, problems = connection_fields(uri)
    assert problems == []
    assert fields["host"] == airflow.host and fields["port"] == airflow.port
    assert (fields["login"], fields["password"]) == (airflow.login, airflow.password)
    assert (fields["extra"] or {}) == airflow.extra_dejson
    config, problems = read_connection(uri)
    assert problems == [] and config == config_from_airflow_connection(airflow)


def test_airflows_own_uri_of_a_connection_reads_back(wiziq_emulator):
    from airflow.sdk import Connection

    connection = Connection(conn_id="x", **json.loads(wiziq_emulator.connection_json))
    config, problems = read_connection(connection.get_uri())
    assert problems == [] and config == read_connection(wiziq_emulator.connection_uri)[0]
    assert config is not None and config.endpoint == wiziq_emulator.url


# rehearse ---------------------------------------------------------------------------------------------------

HOLIDAYS = ["--holidays", "2027-09-06", "2027-10-11", "2027-11-11", "2027-11-24..2027-11-26"]


def sample_rows() -> list[dict[str, str]]:
    with FALL_TERM_SECTIONS.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(sample_rows()[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def lines_by_day(out: str) -> dict[str, str]:
    lines = out.splitlines()
    days = {line[:10]: line[10:].strip() for line in lines}
    assert len(days) == len(lines)
    return days


def test_rehearse_runs_each_day_and_applies_a_dated_export_on_its_day(tmp_path, capsys):
    exports = tmp_path / "exports"
    exports.mkdir()
    rows = sample_rows()
    moved = [{**row, "start_time": row["start_time"].replace("T13:15", "T14:15")} if row["section_id"] == "F27-110"
             else row for row in rows if row["section_id"] != "F27-117"]  # fmt: skip
    write_rows(exports / "2027-09-03.csv", moved)
    write_rows(exports / "2027-12-01.csv", [])  # after --to: not read
    (exports / "notes.txt").write_text("not an export")
    status, out, err = wiziq_term(
        capsys, "rehearse", "--term", "fall-2027", "--sections", FALL_TERM_SECTIONS, *HOLIDAYS,
        "--from", "2027-09-01", "--to", "2027-09-05", "--exports", exports,
    )  # fmt: skip
    assert status == 0, err
    days = lines_by_day(out)
    assert list(days) == ["2027-09-01", "2027-09-02", "2027-09-03", "2027-09-04", "2027-09-05"]
    assert days["2027-09-01"].startswith("create 40; 78 writes")
    assert days["2027-09-01"].endswith("623 classes standing, 623 ahead; export fall_term_sections.csv")
    assert days["2027-09-02"].startswith("no change; 0 writes")
    third = days["2027-09-03"]
    assert third.startswith("reschedule 1 (F27-110), cancel 1 (F27-117); ")
    assert "620 classes standing" in third and third.endswith("export 2027-09-03.csv")
    assert days["2027-09-04"].startswith("no change; 0 writes") and "export" not in days["2027-09-04"]
    assert "Rehearsed 5 days" in err


def test_a_refused_day_says_so_and_the_rehearsal_goes_on(tmp_path, capsys):
    exports = tmp_path / "exports"
    exports.mkdir()
    first = write_export(tmp_path / "term.csv", [section(key, 2027) for key in "ABC"])
    write_export(exports / "2027-09-09.csv", [])  # the export came back empty
    (exports / "2027-09-10.json").write_text(json.dumps([section(key, 2027) for key in "ABC"]))
    status, out, err = wiziq_term(
        capsys, "rehearse", "--term", "fall", "--sections", first, "--from", "2027-09-07", "--to", "2027-09-11",
        "--exports", exports, "--at", "06:30",
    )  # fmt: skip
    assert status == 0, err
    days = lines_by_day(out)
    assert len(days) == 5
    assert days["2027-09-07"].startswith("create 3 (A, B, C); 3 writes")
    refused = days["2027-09-09"]
    assert refused.startswith("refused, nothing written: The export declares no section at all")
    assert "0 writes" in refused and "export 2027-09-09.csv" in refused
    assert days["2027-09-10"].startswith("no change; 0 writes") and "export 2027-09-10.json" in days["2027-09-10"]
    assert days["2027-09-11"].startswith("no change")


def test_rehearse_lists_every_bad_export_before_the_first_day(tmp_path, capsys):
    exports = tmp_path / "exports"
    exports.mkdir()
    first = write_export(tmp_path / "term.csv", [section("A", 2027)])
    write_export(exports / "2027-9-14.csv", [section("A", 2027)])
    write_export(exports / "2027-09-15.csv", [section("A", 2027, duration="long")])
    write_export(exports / "2027-09-15.json", [])
    write_export(exports / "2027-08-01.csv", [section("A", 2027, title="")])  # before --from, but the one in force
    write_export(exports / "2027-07-01.csv", [section("A", 2027, title="")])  # replaced by 08-01: never read
    status, out, err = wiziq_term(
        capsys, "rehearse", "--term", "fall", "--sections", first, "--from", "2027-09-07", "--to", "2027-09-20",
        "--exports", exports,
    )  # fmt: skip
    assert status == 1 and out == ""
    assert "--exports: 2027-9-14.csv is not named YYYY-MM-DD.csv" in err
    assert "--exports: 2027-09-15.csv and 2027-09-15.json are both the export of 2027-09-15" in err
    assert "--exports 2027-08-01.csv: 1 section is invalid" in err
    assert "2027-07-01" not in err


# The console script ------------------------------------------------------------------------------------------


def test_the_console_script_runs_without_airflow(tmp_path):
    blocked = tmp_path / "blocked" / "airflow"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('wiziq-term must not import Airflow')\n")
    export = write_export(tmp_path / "export.csv", [section("A"), section("B")])
    script = Path(sys.executable).with_name("wiziq-term")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW_CONN_")}
    env["PYTHONPATH"] = str(blocked.parent)
    done = subprocess.run(
        [script, "plan", "--term", "fall", "--sections", export, "--emulator", "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout)["summary"]["planned"]["created"] > 0
    assert "INFO" in done.stderr and "Traceback" not in done.stderr


def test_the_command_line_imports_no_airflow():
    folder = Path(cli_package.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            assert not any(name == "airflow" or name.startswith("airflow.") for name in names), path.name
            layers = ("operators", "hooks", "sensors", "triggers", "stores")
            assert not any(name.startswith(tuple(f"airflow_provider_wiziq.{x}" for x in layers)) for name in names)


def test_the_readme_shows_what_wiziq_term_prints(tmp_path):
    """The README's commands, run as written; the rehearsal it shows is what they print (it sets its own clock)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Check an export before the DAG runs: wiziq-term", 1)[1].split("\n## ", 1)[0]
    commands = "\n".join(re.findall(r"```bash\n(.*?)```", section, re.DOTALL))
    shown = re.findall(r"```text\n(.*?)```", section, re.DOTALL)[-1]
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW_CONN_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["bash", "-c", commands], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    printed = done.stdout.split("\ndry run: nothing applied.", 1)[1].split("\n", 1)[1]
    assert printed == shown
